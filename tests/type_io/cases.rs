//! The expressions checked against the server, with the values they must decode to.

use chrono::{NaiveDate, NaiveTime};
use indexmap::IndexMap;
use pg_types::{
    BitString, Circle, Date, Dim, GeoBox, Interval, Kind, Lseg, Numeric, Point, Range, RangeBound,
    Timestamp, TimestampTz, Type, Value,
};

use crate::simple;

pub fn num(s: &str) -> Value {
    Value::Numeric(Numeric::parse(s).unwrap())
}

fn text(s: &str) -> Value {
    Value::from(s)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> chrono::NaiveDateTime {
    date(y, mo, d).and_hms_micro_opt(h, mi, s, us).unwrap()
}

fn inc(v: Value) -> RangeBound {
    RangeBound::Inclusive(Box::new(v))
}

fn exc(v: Value) -> RangeBound {
    RangeBound::Exclusive(Box::new(v))
}

fn int4_array(dims: Vec<Dim>, elements: Vec<Value>) -> Value {
    Value::Array(pg_types::Array::new(Type::INT4, dims, elements).unwrap())
}

fn extension_type(name: &str) -> Type {
    simple(&format!("CREATE EXTENSION IF NOT EXISTS {name}"));
    let rows = simple(&format!("SELECT '{name}'::regtype::oid"));
    let oid = rows[0].rows[0][0].as_deref().unwrap().parse().unwrap();
    Type::new(name.into(), oid, Kind::Simple, "public".into())
}

/// `(expression, type, expected value)` for every builtin kind of value.
pub fn cases() -> Vec<(&'static str, Type, Value)> {
    let p = Point::new;
    let mut hstore = IndexMap::new();
    hstore.insert("a".to_owned(), Some("1".to_owned()));
    hstore.insert("n".to_owned(), None);
    let ip = |s: &str, prefix, cidr| Value::Inet {
        addr: s.parse().unwrap(),
        prefix,
        cidr,
    };
    vec![
        ("true", Type::BOOL, Value::Bool(true)),
        ("(-32768)::int2", Type::INT2, Value::Int2(i16::MIN)),
        ("2147483647::int4", Type::INT4, Value::Int4(i32::MAX)),
        (
            "(-9223372036854775808)::int8",
            Type::INT8,
            Value::Int8(i64::MIN),
        ),
        ("1.5::float4", Type::FLOAT4, Value::Float4(1.5)),
        ("'NaN'::float8", Type::FLOAT8, Value::Float8(f64::NAN)),
        (
            "'-Infinity'::float8",
            Type::FLOAT8,
            Value::Float8(f64::NEG_INFINITY),
        ),
        ("1e308::float8", Type::FLOAT8, Value::Float8(1e308)),
        (
            "'-0.00000000000000'::numeric",
            Type::NUMERIC,
            num("0.00000000000000"),
        ),
        (
            "'340282366920938463463374607431768211456'::numeric",
            Type::NUMERIC,
            num("340282366920938463463374607431768211456"),
        ),
        (
            "'-1e-40'::numeric",
            Type::NUMERIC,
            num("-0.0000000000000000000000000000000000000001"),
        ),
        (
            "'1e-27'::numeric",
            Type::NUMERIC,
            num("0.000000000000000000000000001"),
        ),
        (
            "'NaN'::numeric",
            Type::NUMERIC,
            Value::Numeric(Numeric::NaN),
        ),
        (
            "'Infinity'::numeric",
            Type::NUMERIC,
            Value::Numeric(Numeric::PositiveInfinity),
        ),
        (
            "'-Infinity'::numeric",
            Type::NUMERIC,
            Value::Numeric(Numeric::NegativeInfinity),
        ),
        ("'123.4500'::numeric", Type::NUMERIC, num("123.4500")),
        (
            "'-99999999.99'::numeric",
            Type::NUMERIC,
            num("-99999999.99"),
        ),
        ("'10000'::numeric", Type::NUMERIC, num("10000")),
        ("'0.0001'::numeric", Type::NUMERIC, num("0.0001")),
        ("'1e100'::numeric", Type::NUMERIC, num("1e100")),
        ("'héllo'::text", Type::TEXT, text("héllo")),
        ("'abc'::char(5)", Type::BPCHAR, text("abc  ")),
        ("'nm'::name", Type::NAME, text("nm")),
        ("'v'::varchar", Type::VARCHAR, text("v")),
        ("'x'::\"char\"", Type::CHAR, Value::Char(b'x')),
        (
            "'\\xdeadbeef'::bytea",
            Type::BYTEA,
            Value::Bytea(vec![0xde, 0xad, 0xbe, 0xef]),
        ),
        ("'infinity'::date", Type::DATE, Value::Date(Date::Infinity)),
        (
            "'-infinity'::date",
            Type::DATE,
            Value::Date(Date::NegInfinity),
        ),
        ("'0001-01-01'::date", Type::DATE, Value::from(date(1, 1, 1))),
        (
            "'0044-03-15 BC'::date",
            Type::DATE,
            Value::from(date(-43, 3, 15)),
        ),
        (
            "'2024-02-29'::date",
            Type::DATE,
            Value::from(date(2024, 2, 29)),
        ),
        (
            "'infinity'::timestamp",
            Type::TIMESTAMP,
            Value::Timestamp(Timestamp::Infinity),
        ),
        (
            "'2024-02-29 12:34:56.789012'::timestamp",
            Type::TIMESTAMP,
            Value::from(ts(2024, 2, 29, 12, 34, 56, 789_012)),
        ),
        (
            "'0001-01-01 00:00:00 BC'::timestamp",
            Type::TIMESTAMP,
            Value::from(ts(0, 1, 1, 0, 0, 0, 0)),
        ),
        (
            "'2024-02-29 12:34:56+05'::timestamptz",
            Type::TIMESTAMPTZ,
            Value::from(ts(2024, 2, 29, 7, 34, 56, 0).and_utc()),
        ),
        (
            "'-infinity'::timestamptz",
            Type::TIMESTAMPTZ,
            Value::TimestampTz(TimestampTz::NegInfinity),
        ),
        (
            "'24:00:00'::time",
            Type::TIME,
            Value::Time(NaiveTime::from_hms_nano_opt(23, 59, 59, 1_000_000_000).unwrap()),
        ),
        (
            "'13:14:15.5'::time",
            Type::TIME,
            Value::Time(NaiveTime::from_hms_milli_opt(13, 14, 15, 500).unwrap()),
        ),
        (
            "'13:14:15.5+05:30'::timetz",
            Type::TIMETZ,
            Value::TimeTz {
                time: NaiveTime::from_hms_milli_opt(13, 14, 15, 500).unwrap(),
                offset_seconds: 19_800,
            },
        ),
        (
            "interval '-1 year -2 mons -3 days -04:05:06.789'",
            Type::INTERVAL,
            Value::Interval(Interval::new(-14, -3, -14_706_789_000)),
        ),
        (
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
            Type::UUID,
            Value::Uuid([
                0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38,
                0x0a, 0x11,
            ]),
        ),
        (
            "'{\"a\": [1, null]}'::json",
            Type::JSON,
            Value::Json("{\"a\": [1, null]}".into()),
        ),
        (
            "'{\"a\":[1,null]}'::jsonb",
            Type::JSONB,
            Value::Jsonb("{\"a\": [1, null]}".into()),
        ),
        ("'<a>b</a>'::xml", Type::XML, Value::Xml("<a>b</a>".into())),
        ("'pg_class'::regclass", Type::REGCLASS, Value::Oid(1259)),
        ("'int4'::regtype", Type::REGTYPE, Value::Oid(23)),
        ("42::oid", Type::OID, Value::Oid(42)),
        (
            "'192.168.0.1/24'::inet",
            Type::INET,
            ip("192.168.0.1", 24, false),
        ),
        ("'::1'::inet", Type::INET, ip("::1", 128, false)),
        ("'10.0.0.0/8'::cidr", Type::CIDR, ip("10.0.0.0", 8, true)),
        (
            "'2001:db8::/32'::cidr",
            Type::CIDR,
            ip("2001:db8::", 32, true),
        ),
        (
            "'08:00:2b:01:02:03'::macaddr",
            Type::MACADDR,
            Value::MacAddr([8, 0, 0x2b, 1, 2, 3]),
        ),
        (
            "'08:00:2b:01:02:03:04:05'::macaddr8",
            Type::MACADDR8,
            Value::MacAddr8([8, 0, 0x2b, 1, 2, 3, 4, 5]),
        ),
        (
            "B'101'::bit(3)",
            Type::BIT,
            Value::Bit(BitString::from_bits([true, false, true])),
        ),
        (
            "B'1010101011'::varbit",
            Type::VARBIT,
            Value::Bit(BitString::new(10, vec![0xAA, 0xC0]).unwrap()),
        ),
        ("'(1.5,-2)'::point", Type::POINT, Value::Point(p(1.5, -2.0))),
        (
            "'[(0,0),(1,1)]'::lseg",
            Type::LSEG,
            Value::Lseg(Lseg {
                start: p(0.0, 0.0),
                end: p(1.0, 1.0),
            }),
        ),
        (
            "'(0,0),(2,2)'::box",
            Type::BOX,
            Value::Box(GeoBox {
                high: p(2.0, 2.0),
                low: p(0.0, 0.0),
            }),
        ),
        (
            "'((0,0),(1,1),(2,0))'::path",
            Type::PATH,
            Value::Path {
                closed: true,
                points: vec![p(0.0, 0.0), p(1.0, 1.0), p(2.0, 0.0)],
            },
        ),
        (
            "'[(0,0),(1,1)]'::path",
            Type::PATH,
            Value::Path {
                closed: false,
                points: vec![p(0.0, 0.0), p(1.0, 1.0)],
            },
        ),
        (
            "'((0,0),(1,1),(2,0))'::polygon",
            Type::POLYGON,
            Value::Polygon(vec![p(0.0, 0.0), p(1.0, 1.0), p(2.0, 0.0)]),
        ),
        (
            "'{1,-1,0.5}'::line",
            Type::LINE,
            Value::Line {
                a: 1.0,
                b: -1.0,
                c: 0.5,
            },
        ),
        (
            "'<(1,2),3>'::circle",
            Type::CIRCLE,
            Value::Circle(Circle {
                center: p(1.0, 2.0),
                radius: 3.0,
            }),
        ),
        ("'12.34'::money", Type::MONEY, Value::Money(1234)),
        (
            "'a=>1, n=>NULL'::hstore",
            extension_type("hstore"),
            Value::Hstore(hstore),
        ),
        ("'MiXeD'::citext", extension_type("citext"), text("MiXeD")),
        (
            "ARRAY[[1,NULL],[3,4]]::int4[]",
            Type::INT4_ARRAY,
            int4_array(
                vec![Dim::new(2), Dim::new(2)],
                vec![Value::Int4(1), Value::Null, Value::Int4(3), Value::Int4(4)],
            ),
        ),
        (
            "'[0:1]={7,8}'::int4[]",
            Type::INT4_ARRAY,
            int4_array(
                vec![Dim {
                    len: 2,
                    lower_bound: 0,
                }],
                vec![Value::Int4(7), Value::Int4(8)],
            ),
        ),
        ("'{}'::int4[]", Type::INT4_ARRAY, int4_array(vec![], vec![])),
        (
            "ARRAY['a,b', NULL, 'NULL']::text[]",
            Type::TEXT_ARRAY,
            Value::from(vec![Some("a,b"), None, Some("NULL")]),
        ),
        (
            "int4range(1, 10)",
            Type::INT4_RANGE,
            Value::Range(Range::half_open(1, 10)),
        ),
        (
            "'(,5]'::int4range",
            Type::INT4_RANGE,
            Value::Range(Range::new(RangeBound::Unbounded, exc(Value::Int4(6)))),
        ),
        (
            "'empty'::int4range",
            Type::INT4_RANGE,
            Value::Range(Range::empty()),
        ),
        (
            "'[1.5,2.5]'::numrange",
            Type::NUM_RANGE,
            Value::Range(Range::new(inc(num("1.5")), inc(num("2.5")))),
        ),
        (
            "'[-infinity,infinity)'::tsrange",
            Type::TS_RANGE,
            Value::Range(Range::new(
                inc(Value::Timestamp(Timestamp::NegInfinity)),
                exc(Value::Timestamp(Timestamp::Infinity)),
            )),
        ),
        (
            "'{[1,3), [5,8)}'::int4multirange",
            Type::INT4MULTI_RANGE,
            Value::Multirange(vec![Range::half_open(1, 3), Range::half_open(5, 8)]),
        ),
        (
            "'{}'::int4multirange",
            Type::INT4MULTI_RANGE,
            Value::Multirange(vec![]),
        ),
    ]
}
