//! The values checked by `tests/types.rs`: for every type pg-types supports, the SQL type,
//! an SQL expression of the same value, the `Value` sent as a parameter and the `Value`
//! the server gives back (the same, except where the server normalises: padding, range
//! canonicalisation, jsonb key order, box corners, negative zero).

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use indexmap::IndexMap;
use pg_types::{
    Array, BitString, Circle, Column, Columns, Date, Dim, GeoBox, Interval, Lseg, Numeric, Point,
    Range, RangeBound, Row, Timestamp, TimestampTz, Type, Value,
};
use rust_decimal::Decimal;

/// The types the round trips need, created in the sandbox (hstore is created apart, so a
/// failure to create it has a message of its own).
pub const SETUP: &str = "
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy ☺');
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN pct AS posint CHECK (VALUE <= 100);
CREATE TYPE inner_t AS (x int4, label text);
CREATE TYPE outer_t AS (id int8, inner_v inner_t, tags text[], at timestamptz, m mood);
CREATE TYPE pair AS (a int4, b text);
CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE TABLE reg_target (id int4);
";

/// The reg* values, as `(type, expression)`: their OIDs differ between servers, so they
/// are read from the server (`SELECT (expression)::type::oid`) into [`Env`].
pub const REG_EXPRESSIONS: &[(&str, &str)] = &[
    ("regclass", "'reg_target'"),
    ("regtype", "'integer'"),
    ("regtype", "'mood'"),
    ("regproc", "'now'"),
    ("regprocedure", "'abs(integer)'"),
    ("regoper", "'||/'"),
    ("regoperator", "'+(integer,integer)'"),
    ("regnamespace", "'pg_catalog'"),
    ("regrole", "current_user::text"),
    ("regconfig", "'simple'"),
    ("regdictionary", "'simple'"),
    ("regcollation", "'\"C\"'"),
];

/// What the cases need from the server: the OIDs of the reg* expressions.
pub struct Env {
    pub reg_oids: HashMap<(String, String), u32>,
}

/// The SQL reading the OID of a reg* expression.
pub fn reg_oid_sql(ty: &str, expr: &str) -> String {
    format!("SELECT (({expr})::{ty})::oid")
}

/// One value of one type.
#[derive(Debug, Clone)]
pub struct Case {
    /// The SQL type (`int4`, `char(5)`, `outer_t`, …).
    pub ty: String,
    /// An SQL expression of the value, cast to `ty` where it is used.
    pub expr: String,
    /// The value sent as a parameter.
    pub sent: Value,
    /// The value the server gives back.
    pub expected: Value,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({})::{}", self.expr, self.ty)
    }
}

/// A case whose value comes back as sent, given as an expression.
fn same(ty: &str, expr: &str, v: Value) -> Case {
    changed(ty, expr, v.clone(), v)
}

/// A case whose value comes back as sent, given as a string literal.
fn lit(ty: &str, literal: &str, v: Value) -> Case {
    same(ty, &quote(literal), v)
}

/// A case the server normalises: `sent` comes back as `expected`.
fn changed(ty: &str, expr: &str, sent: Value, expected: Value) -> Case {
    Case {
        ty: ty.to_owned(),
        expr: expr.to_owned(),
        sent,
        expected,
    }
}

pub fn quote(literal: &str) -> String {
    format!("'{}'", literal.replace('\'', "''"))
}

pub fn num(s: &str) -> Value {
    Value::Numeric(Numeric::parse(s).unwrap())
}

pub fn text(s: &str) -> Value {
    Value::from(s)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> NaiveDateTime {
    date(y, mo, d).and_hms_micro_opt(h, mi, s, us).unwrap()
}

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> DateTime<Utc> {
    ts(y, mo, d, h, mi, s, us).and_utc()
}

fn time(h: u32, m: u32, s: u32, us: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, us).unwrap()
}

/// PostgreSQL's `24:00:00`: chrono's leap second after `23:59:59`.
fn midnight_end() -> NaiveTime {
    NaiveTime::from_hms_nano_opt(23, 59, 59, 1_000_000_000).unwrap()
}

pub fn inc(v: Value) -> RangeBound {
    RangeBound::Inclusive(Box::new(v))
}

pub fn exc(v: Value) -> RangeBound {
    RangeBound::Exclusive(Box::new(v))
}

pub fn range(lower: RangeBound, upper: RangeBound) -> Value {
    Value::Range(Range::new(lower, upper))
}

pub fn unbounded() -> RangeBound {
    RangeBound::Unbounded
}

fn ranges(items: Vec<Value>) -> Value {
    Value::Multirange(
        items
            .into_iter()
            .map(|v| match v {
                Value::Range(r) => r,
                other => panic!("not a range: {other:?}"),
            })
            .collect(),
    )
}

/// An array of `dims` (`(length, lower bound)` each) of `elements`.
pub fn array(element_type: Type, dims: &[(i32, i32)], elements: Vec<Value>) -> Value {
    let dims = dims
        .iter()
        .map(|&(len, lower_bound)| Dim { len, lower_bound })
        .collect();
    Value::Array(Array::new(element_type, dims, elements).unwrap())
}

/// A composite value (or record) of `values`, its attributes named `f1`, `f2`, …
pub fn composite(values: Vec<Value>) -> Value {
    let columns = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Column::new(
                format!("f{}", i + 1),
                v.natural_type().unwrap_or(Type::UNKNOWN),
            )
        })
        .collect();
    Value::Composite(Row::from_values(Columns::new(columns), values))
}

fn inet(addr: &str, prefix: u8, cidr: bool) -> Value {
    Value::Inet {
        addr: addr.parse().unwrap(),
        prefix,
        cidr,
    }
}

fn bits(s: &str) -> Value {
    Value::Bit(BitString::from_bits(s.chars().map(|c| c == '1')))
}

fn p(x: f64, y: f64) -> Point {
    Point::new(x, y)
}

fn mood(label: &str) -> Value {
    Value::Enum {
        type_name: "mood".into(),
        label: label.into(),
    }
}

fn uuid(s: &str) -> Value {
    let hex: String = s.chars().filter(|&c| c != '-').collect();
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap();
    }
    Value::Uuid(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every case, type by type.
pub fn cases(env: &Env) -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(numbers());
    all.extend(strings());
    all.extend(date_times());
    all.extend(identifiers(env));
    all.extend(network_and_bits());
    all.extend(geometry());
    all.extend(user_types());
    all.extend(arrays());
    all.extend(composites());
    all.extend(range_cases());
    all
}

fn numbers() -> Vec<Case> {
    let neg_zero = Decimal::from_str("-0.00000000000000").unwrap();
    vec![
        lit("bool", "true", Value::Bool(true)),
        lit("bool", "false", Value::Bool(false)),
        same("int2", "-32768", Value::Int2(i16::MIN)),
        same("int2", "32767", Value::Int2(i16::MAX)),
        same("int4", "-2147483648", Value::Int4(i32::MIN)),
        same("int4", "2147483647", Value::Int4(i32::MAX)),
        same("int4", "0", Value::Int4(0)),
        same("int8", "-9223372036854775808", Value::Int8(i64::MIN)),
        same("int8", "9223372036854775807", Value::Int8(i64::MAX)),
        // A narrower integer widens losslessly into a wider column.
        changed("int8", "-5", Value::Int2(-5), Value::Int8(-5)),
        changed("int2", "7", Value::Int8(7), Value::Int2(7)),
        lit("float4", "NaN", Value::Float4(f32::NAN)),
        lit("float4", "Infinity", Value::Float4(f32::INFINITY)),
        lit("float4", "-Infinity", Value::Float4(f32::NEG_INFINITY)),
        lit("float4", "3.4028235e+38", Value::Float4(f32::MAX)),
        lit("float4", "1.17549435e-38", Value::Float4(f32::MIN_POSITIVE)),
        lit("float4", "-0", Value::Float4(-0.0)),
        lit("float8", "NaN", Value::Float8(f64::NAN)),
        lit("float8", "Infinity", Value::Float8(f64::INFINITY)),
        lit("float8", "-Infinity", Value::Float8(f64::NEG_INFINITY)),
        lit("float8", "1e308", Value::Float8(1e308)),
        lit("float8", "5e-324", Value::Float8(5e-324)),
        lit("float8", "0.1", Value::Float8(0.1)),
        lit("float8", "-0", Value::Float8(-0.0)),
        lit(
            "numeric",
            "340282366920938463463374607431768211456",
            num("340282366920938463463374607431768211456"),
        ),
        lit(
            "numeric",
            "-340282366920938463463374607431768211456",
            num("-340282366920938463463374607431768211456"),
        ),
        // PostgreSQL has no negative zero: it keeps the scale and drops the sign.
        changed(
            "numeric",
            "'-0.00000000000000'",
            Value::from(neg_zero),
            num("0.00000000000000"),
        ),
        changed(
            "numeric",
            "'-0.00000000000000'",
            Value::Numeric(Numeric::Text("-0.00000000000000".into())),
            num("0.00000000000000"),
        ),
        lit("numeric", "1e-27", num("0.000000000000000000000000001")),
        lit(
            "numeric",
            "-1e-40",
            num("-0.0000000000000000000000000000000000000001"),
        ),
        lit("numeric", "NaN", Value::Numeric(Numeric::NaN)),
        lit(
            "numeric",
            "Infinity",
            Value::Numeric(Numeric::PositiveInfinity),
        ),
        lit(
            "numeric",
            "-Infinity",
            Value::Numeric(Numeric::NegativeInfinity),
        ),
        lit("numeric", "123.4500", num("123.4500")),
        lit(
            "numeric",
            "79228162514264337593543950335",
            Value::from(Decimal::MAX),
        ),
        lit(
            "numeric",
            "-79228162514264337593543950335",
            Value::from(Decimal::MIN),
        ),
        lit("numeric", "1e100", num("1e100")),
        lit("numeric", "0.0001", num("0.0001")),
        // The column's scale rounds: the server's doing.
        changed("numeric(10,2)", "'1.005'", num("1.005"), num("1.01")),
        changed("numeric", "42", Value::Int8(42), num("42")),
        same("money", "'12.34'::numeric", Value::Money(1234)),
        same(
            "money",
            "'-92233720368547758.08'::numeric",
            Value::Money(i64::MIN),
        ),
        same(
            "money",
            "'92233720368547758.07'::numeric",
            Value::Money(i64::MAX),
        ),
    ]
}

fn strings() -> Vec<Case> {
    let all_bytes: Vec<u8> = (0..=255).collect();
    vec![
        lit("text", "héllo wörld ☺", text("héllo wörld ☺")),
        lit("text", "", text("")),
        lit(
            "text",
            "it's \"quoted\" \\ back\nslash\ttab",
            text("it's \"quoted\" \\ back\nslash\ttab"),
        ),
        lit("varchar", "variable", text("variable")),
        lit("varchar(5)", "abc", text("abc")),
        // bpchar pads to its length.
        changed("char(5)", "'abc'", text("abc"), text("abc  ")),
        lit("bpchar", "no length ", text("no length ")),
        lit("name", "pg_catalog", text("pg_catalog")),
        lit("\"char\"", "x", Value::Char(b'x')),
        lit("\"char\"", "", Value::Char(0)),
        lit("\"char\"", "\\310", Value::Char(0o310)),
        changed("\"char\"", "'y'", text("y"), Value::Char(b'y')),
        same("bytea", "'\\x'::bytea", Value::Bytea(Vec::new())),
        same(
            "bytea",
            &format!("'\\x{}'::bytea", hex(&all_bytes)),
            Value::Bytea(all_bytes),
        ),
        lit(
            "json",
            r#"{"a": [1, 2.50, null],  "ü": "\u00fc"}"#,
            Value::Json(r#"{"a": [1, 2.50, null],  "ü": "\u00fc"}"#.into()),
        ),
        lit("json", " [] ", Value::Json(" [] ".into())),
        changed(
            "json",
            "'{\"k\": 1}'",
            text("{\"k\": 1}"),
            Value::Json("{\"k\": 1}".into()),
        ),
        changed(
            "jsonb",
            r#"'{"b":1,"a":[1,2.50,null]}'"#,
            Value::Jsonb(r#"{"b":1,"a":[1,2.50,null]}"#.into()),
            Value::Jsonb(r#"{"a": [1, 2.50, null], "b": 1}"#.into()),
        ),
        changed(
            "jsonb",
            r#"'"\u00fc"'"#,
            Value::Jsonb(r#""\u00fc""#.into()),
            Value::Jsonb("\"ü\"".into()),
        ),
        lit("jsonb", "null", Value::Jsonb("null".into())),
        lit(
            "xml",
            "<a href=\"x\">t&amp;ü</a>",
            Value::Xml("<a href=\"x\">t&amp;ü</a>".into()),
        ),
        lit(
            "xml",
            "text <b>bold</b>",
            Value::Xml("text <b>bold</b>".into()),
        ),
        lit(
            "uuid",
            "00000000-0000-0000-0000-000000000000",
            uuid("00000000-0000-0000-0000-000000000000"),
        ),
        lit(
            "uuid",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"),
        ),
        lit(
            "uuid",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ),
    ]
}

fn date_times() -> Vec<Case> {
    let d = |v: NaiveDate| Value::Date(Date::Value(v));
    let t = |v: NaiveDateTime| Value::Timestamp(Timestamp::Value(v));
    let tz = |v: DateTime<Utc>| Value::TimestampTz(TimestampTz::Value(v));
    let timetz = |time: NaiveTime, offset_seconds: i32| Value::TimeTz {
        time,
        offset_seconds,
    };
    vec![
        lit("date", "infinity", Value::Date(Date::Infinity)),
        lit("date", "-infinity", Value::Date(Date::NegInfinity)),
        lit("date", "0001-01-01", d(date(1, 1, 1))),
        // Year 1 BC is chrono's (proleptic) year 0.
        lit("date", "0001-01-01 BC", d(date(0, 1, 1))),
        lit("date", "0001-12-31 BC", d(date(0, 12, 31))),
        lit("date", "4713-01-01 BC", d(date(-4712, 1, 1))),
        lit("date", "1999-12-31", d(date(1999, 12, 31))),
        lit("date", "2000-01-01", d(date(2000, 1, 1))),
        lit("date", "2024-02-29", d(date(2024, 2, 29))),
        lit("time", "00:00:00", Value::Time(time(0, 0, 0, 0))),
        lit(
            "time",
            "23:59:59.999999",
            Value::Time(time(23, 59, 59, 999_999)),
        ),
        lit("time", "24:00:00", Value::Time(midnight_end())),
        lit(
            "timetz",
            "12:34:56.789+05:30",
            timetz(time(12, 34, 56, 789_000), 5 * 3600 + 30 * 60),
        ),
        lit(
            "timetz",
            "00:00:00-15:59",
            timetz(time(0, 0, 0, 0), -(15 * 3600 + 59 * 60)),
        ),
        lit(
            "timetz",
            "24:00:00+15:59",
            timetz(midnight_end(), 15 * 3600 + 59 * 60),
        ),
        lit(
            "timestamp",
            "infinity",
            Value::Timestamp(Timestamp::Infinity),
        ),
        lit(
            "timestamp",
            "-infinity",
            Value::Timestamp(Timestamp::NegInfinity),
        ),
        lit(
            "timestamp",
            "0001-01-01 00:00:00",
            t(ts(1, 1, 1, 0, 0, 0, 0)),
        ),
        lit(
            "timestamp",
            "0001-12-31 23:59:59.999999 BC",
            t(ts(0, 12, 31, 23, 59, 59, 999_999)),
        ),
        lit(
            "timestamp",
            "4713-01-01 00:00:00 BC",
            t(ts(-4712, 1, 1, 0, 0, 0, 0)),
        ),
        lit(
            "timestamp",
            "1999-12-31 23:59:59.999999",
            t(ts(1999, 12, 31, 23, 59, 59, 999_999)),
        ),
        lit(
            "timestamp",
            "2024-02-29 12:34:56.123456",
            t(ts(2024, 2, 29, 12, 34, 56, 123_456)),
        ),
        lit(
            "timestamptz",
            "infinity",
            Value::TimestampTz(TimestampTz::Infinity),
        ),
        lit(
            "timestamptz",
            "-infinity",
            Value::TimestampTz(TimestampTz::NegInfinity),
        ),
        lit(
            "timestamptz",
            "2000-01-01 00:00:00+00",
            tz(utc(2000, 1, 1, 0, 0, 0, 0)),
        ),
        lit(
            "timestamptz",
            "1969-12-31 23:59:59.999999+00",
            tz(utc(1969, 12, 31, 23, 59, 59, 999_999)),
        ),
        lit(
            "timestamptz",
            "2024-06-01 12:00:00+05:30",
            tz(utc(2024, 6, 1, 6, 30, 0, 0)),
        ),
        lit(
            "timestamptz",
            "0001-01-01 00:00:00+00 BC",
            tz(utc(0, 1, 1, 0, 0, 0, 0)),
        ),
        lit(
            "interval",
            "-1 years -2 mons -3 days -04:05:06.789",
            Value::Interval(Interval::new(-14, -3, -14_706_789_000)),
        ),
        lit(
            "interval",
            "1 mon -1 days +01:00:00",
            Value::Interval(Interval::new(1, -1, 3_600_000_000)),
        ),
        lit(
            "interval",
            "-178000000 years",
            Value::Interval(Interval::new(-2_136_000_000, 0, 0)),
        ),
        lit("interval", "00:00:00", Value::Interval(Interval::default())),
        lit(
            "interval",
            "-00:00:00.000001",
            Value::Interval(Interval::new(0, 0, -1)),
        ),
    ]
}

fn identifiers(env: &Env) -> Vec<Case> {
    let mut cases = vec![
        lit("oid", "0", Value::Oid(0)),
        lit("oid", "4294967295", Value::Oid(u32::MAX)),
        changed("oid", "23", Value::Int4(23), Value::Oid(23)),
    ];
    for (ty, expr) in REG_EXPRESSIONS {
        let oid = env.reg_oids[&((*ty).to_owned(), (*expr).to_owned())];
        cases.push(same(ty, expr, Value::Oid(oid)));
    }
    cases
}

fn network_and_bits() -> Vec<Case> {
    vec![
        lit("inet", "192.168.0.1", inet("192.168.0.1", 32, false)),
        lit("inet", "10.1.2.3/8", inet("10.1.2.3", 8, false)),
        lit("inet", "::1", inet("::1", 128, false)),
        lit("inet", "2001:db8::1/64", inet("2001:db8::1", 64, false)),
        lit("inet", "::ffff:1.2.3.4", inet("::ffff:1.2.3.4", 128, false)),
        lit("cidr", "10.0.0.0/8", inet("10.0.0.0", 8, true)),
        lit("cidr", "0.0.0.0/0", inet("0.0.0.0", 0, true)),
        lit("cidr", "2001:db8::/32", inet("2001:db8::", 32, true)),
        // The type decides: an address sent for a cidr parameter is a network.
        changed("cidr", "'::/0'", inet("::", 0, false), inet("::", 0, true)),
        lit(
            "macaddr",
            "08:00:2b:01:02:03",
            Value::MacAddr([8, 0, 0x2b, 1, 2, 3]),
        ),
        lit(
            "macaddr8",
            "08:00:2b:01:02:03:04:05",
            Value::MacAddr8([8, 0, 0x2b, 1, 2, 3, 4, 5]),
        ),
        same("bit(3)", "B'101'", bits("101")),
        same("bit(1)", "B'0'", bits("0")),
        same("varbit", "B''", bits("")),
        same("varbit", "B'1'", bits("1")),
        same("varbit", "B'1010101'", bits("1010101")),
        same("varbit", "B'101010101'", bits("101010101")),
        same("varbit", "B'10000000000000001'", bits("10000000000000001")),
    ]
}

fn geometry() -> Vec<Case> {
    let path = |closed, points| Value::Path { closed, points };
    vec![
        lit("point", "(1.5,-2)", Value::Point(p(1.5, -2.0))),
        lit(
            "point",
            "(NaN,-Infinity)",
            Value::Point(p(f64::NAN, f64::NEG_INFINITY)),
        ),
        lit(
            "lseg",
            "[(0,0),(1.5,-1)]",
            Value::Lseg(Lseg {
                start: p(0.0, 0.0),
                end: p(1.5, -1.0),
            }),
        ),
        lit(
            "box",
            "(1,2),(-3,-4)",
            Value::Box(GeoBox {
                high: p(1.0, 2.0),
                low: p(-3.0, -4.0),
            }),
        ),
        // The server puts the upper right corner first.
        changed(
            "box",
            "'(-3,2),(1,-4)'",
            Value::Box(GeoBox {
                high: p(-3.0, -4.0),
                low: p(1.0, 2.0),
            }),
            Value::Box(GeoBox {
                high: p(1.0, 2.0),
                low: p(-3.0, -4.0),
            }),
        ),
        lit(
            "path",
            "[(0,0),(1,1),(2,0)]",
            path(false, vec![p(0.0, 0.0), p(1.0, 1.0), p(2.0, 0.0)]),
        ),
        lit(
            "path",
            "((0,0),(1,1),(2,0))",
            path(true, vec![p(0.0, 0.0), p(1.0, 1.0), p(2.0, 0.0)]),
        ),
        lit("path", "[(1,1)]", path(false, vec![p(1.0, 1.0)])),
        lit(
            "polygon",
            "((0,0),(1,1),(2,0))",
            Value::Polygon(vec![p(0.0, 0.0), p(1.0, 1.0), p(2.0, 0.0)]),
        ),
        lit(
            "line",
            "{1,-1,0}",
            Value::Line {
                a: 1.0,
                b: -1.0,
                c: 0.0,
            },
        ),
        lit(
            "line",
            "{0,1,-2.5}",
            Value::Line {
                a: 0.0,
                b: 1.0,
                c: -2.5,
            },
        ),
        lit(
            "circle",
            "<(1,2),3>",
            Value::Circle(Circle {
                center: p(1.0, 2.0),
                radius: 3.0,
            }),
        ),
    ]
}

fn user_types() -> Vec<Case> {
    let mut hstore = IndexMap::new();
    hstore.insert("a".to_owned(), Some("1".to_owned()));
    hstore.insert("n".to_owned(), None);
    hstore.insert("k\"ey".to_owned(), Some("v\\al=>".to_owned()));
    hstore.insert(String::new(), Some(String::new()));
    vec![
        same(
            "hstore",
            r#"hstore(ARRAY['a', 'n', 'k"ey', ''], ARRAY['1', NULL, 'v\al=>', ''])"#,
            Value::Hstore(hstore),
        ),
        same("hstore", "''", Value::Hstore(IndexMap::new())),
        lit("mood", "happy ☺", mood("happy ☺")),
        changed("mood", "'ok'", text("ok"), mood("ok")),
        // A domain over a domain over int4.
        same("pct", "42", Value::Int4(42)),
        changed("pct", "7", Value::Int8(7), Value::Int4(7)),
        same(
            "pct[]",
            "'{1,NULL,100}'",
            array(
                Type::INT4,
                &[(3, 1)],
                vec![Value::Int4(1), Value::Null, Value::Int4(100)],
            ),
        ),
    ]
}

fn arrays() -> Vec<Case> {
    let i4 = Value::Int4;
    vec![
        same("int4[]", "'{}'", array(Type::INT4, &[], vec![])),
        changed(
            "int4[]",
            "'{}'",
            Value::from(Vec::<i32>::new()),
            array(Type::INT4, &[], vec![]),
        ),
        same(
            "int4[]",
            "'[0:1][-1:0]={{1,NULL},{3,4}}'",
            array(
                Type::INT4,
                &[(2, 0), (2, -1)],
                vec![i4(1), Value::Null, i4(3), i4(4)],
            ),
        ),
        // Built from Rust values: one dimension from 1.
        same(
            "int4[]",
            "'{1,NULL,3}'",
            Value::from(vec![Some(1), None, Some(3)]),
        ),
        same(
            "int8[]",
            "'{{{1,2}},{{3,NULL}}}'",
            array(
                Type::INT8,
                &[(2, 1), (1, 1), (2, 1)],
                vec![Value::Int8(1), Value::Int8(2), Value::Int8(3), Value::Null],
            ),
        ),
        same(
            "bool[]",
            "'[5:6]={t,f}'",
            array(
                Type::BOOL,
                &[(2, 5)],
                vec![Value::Bool(true), Value::Bool(false)],
            ),
        ),
        same(
            "text[]",
            r#"'{"a b","","NULL",NULL,"q\"uote","back\\slash"}'"#,
            array(
                Type::TEXT,
                &[(6, 1)],
                vec![
                    text("a b"),
                    text(""),
                    text("NULL"),
                    Value::Null,
                    text("q\"uote"),
                    text("back\\slash"),
                ],
            ),
        ),
        same(
            "numeric[]",
            "'{NaN,1.50,-Infinity,-1e-40}'",
            array(
                Type::NUMERIC,
                &[(4, 1)],
                vec![
                    Value::Numeric(Numeric::NaN),
                    num("1.50"),
                    Value::Numeric(Numeric::NegativeInfinity),
                    num("-1e-40"),
                ],
            ),
        ),
        same(
            "float8[]",
            "'{NaN,-Infinity,1.5}'",
            array(
                Type::FLOAT8,
                &[(3, 1)],
                vec![
                    Value::Float8(f64::NAN),
                    Value::Float8(f64::NEG_INFINITY),
                    Value::Float8(1.5),
                ],
            ),
        ),
        same(
            "date[]",
            "'{infinity,-infinity,0001-01-01 BC}'",
            array(
                Type::DATE,
                &[(3, 1)],
                vec![
                    Value::Date(Date::Infinity),
                    Value::Date(Date::NegInfinity),
                    Value::Date(Date::Value(date(0, 1, 1))),
                ],
            ),
        ),
        same(
            "bytea[]",
            r"'{NULL,\\x00ff}'",
            array(
                Type::BYTEA,
                &[(2, 1)],
                vec![Value::Null, Value::Bytea(vec![0, 255])],
            ),
        ),
        same(
            "mood[]",
            "'{sad,NULL,\"happy ☺\"}'",
            array(
                Type::UNKNOWN,
                &[(3, 1)],
                vec![mood("sad"), Value::Null, mood("happy ☺")],
            ),
        ),
        same(
            "int4range[]",
            "'{\"[1,3)\",empty}'",
            array(
                Type::INT4_RANGE,
                &[(2, 1)],
                vec![
                    range(inc(Value::Int4(1)), exc(Value::Int4(3))),
                    Value::Range(Range::empty()),
                ],
            ),
        ),
    ]
}

fn composites() -> Vec<Case> {
    let inner = |x: Value, label: Value| composite(vec![x, label]);
    vec![
        same(
            "outer_t",
            "ROW(1, ROW(2, 'two')::inner_t, ARRAY['a', NULL], 'infinity', 'ok')",
            composite(vec![
                Value::Int8(1),
                inner(Value::Int4(2), text("two")),
                array(Type::TEXT, &[(2, 1)], vec![text("a"), Value::Null]),
                Value::TimestampTz(TimestampTz::Infinity),
                mood("ok"),
            ]),
        ),
        same(
            "outer_t",
            "ROW(NULL, NULL, '{}', NULL, NULL)",
            composite(vec![
                Value::Null,
                Value::Null,
                array(Type::TEXT, &[], vec![]),
                Value::Null,
                Value::Null,
            ]),
        ),
        // A composite of NULLs is not a NULL composite.
        same(
            "inner_t",
            "ROW(NULL, NULL)",
            inner(Value::Null, Value::Null),
        ),
        same(
            "inner_t[]",
            r#"'{"(1,a)",NULL,"(,)"}'"#,
            array(
                Type::UNKNOWN,
                &[(3, 1)],
                vec![
                    inner(Value::Int4(1), text("a")),
                    Value::Null,
                    inner(Value::Null, Value::Null),
                ],
            ),
        ),
    ]
}

fn range_cases() -> Vec<Case> {
    let i4 = Value::Int4;
    let i8 = Value::Int8;
    let empty = || Value::Range(Range::empty());
    let tsv = |v| Value::Timestamp(v);
    let datev = |v| Value::Date(v);
    vec![
        lit("int4range", "[1,10)", range(inc(i4(1)), exc(i4(10)))),
        // Discrete ranges are canonicalised to [lower, upper).
        changed(
            "int4range",
            "'(1,5]'",
            range(exc(i4(1)), inc(i4(5))),
            range(inc(i4(2)), exc(i4(6))),
        ),
        lit("int4range", "(,5)", range(unbounded(), exc(i4(5)))),
        lit("int4range", "[3,)", range(inc(i4(3)), unbounded())),
        lit("int4range", "(,)", range(unbounded(), unbounded())),
        lit("int4range", "empty", empty()),
        changed(
            "int4range",
            "'[5,5)'",
            range(inc(i4(5)), exc(i4(5))),
            empty(),
        ),
        lit(
            "int8range",
            "[-9223372036854775808,9223372036854775807)",
            range(inc(i8(i64::MIN)), exc(i8(i64::MAX))),
        ),
        lit(
            "numrange",
            "[1.5,2.5]",
            range(inc(num("1.5")), inc(num("2.5"))),
        ),
        lit(
            "numrange",
            "(-1e-40,340282366920938463463374607431768211456]",
            range(
                exc(num("-1e-40")),
                inc(num("340282366920938463463374607431768211456")),
            ),
        ),
        // Infinite bounds are values, not missing bounds.
        lit(
            "tsrange",
            "[-infinity,infinity)",
            range(
                inc(tsv(Timestamp::NegInfinity)),
                exc(tsv(Timestamp::Infinity)),
            ),
        ),
        lit(
            "tsrange",
            "[2000-01-01 00:00:00,)",
            range(
                inc(tsv(Timestamp::Value(ts(2000, 1, 1, 0, 0, 0, 0)))),
                unbounded(),
            ),
        ),
        lit(
            "tstzrange",
            "[2000-01-01 00:00:00+00,infinity]",
            range(
                inc(Value::TimestampTz(TimestampTz::Value(utc(
                    2000, 1, 1, 0, 0, 0, 0,
                )))),
                inc(Value::TimestampTz(TimestampTz::Infinity)),
            ),
        ),
        lit("tstzrange", "empty", empty()),
        changed(
            "daterange",
            "'[0001-01-01 BC,2000-01-01]'",
            range(
                inc(datev(Date::Value(date(0, 1, 1)))),
                inc(datev(Date::Value(date(2000, 1, 1)))),
            ),
            range(
                inc(datev(Date::Value(date(0, 1, 1)))),
                exc(datev(Date::Value(date(2000, 1, 2)))),
            ),
        ),
        lit(
            "daterange",
            "[-infinity,infinity]",
            range(inc(datev(Date::NegInfinity)), inc(datev(Date::Infinity))),
        ),
        lit(
            "floatrange",
            "[1.5,Infinity)",
            range(inc(Value::Float8(1.5)), exc(Value::Float8(f64::INFINITY))),
        ),
        lit(
            "int4multirange",
            "{[1,3), [5,7)}",
            ranges(vec![
                range(inc(i4(1)), exc(i4(3))),
                range(inc(i4(5)), exc(i4(7))),
            ]),
        ),
        lit("int4multirange", "{}", ranges(vec![])),
        // Overlapping ranges merge.
        changed(
            "int4multirange",
            "'{[1,6)}'",
            ranges(vec![
                range(inc(i4(1)), exc(i4(4))),
                range(inc(i4(3)), exc(i4(6))),
            ]),
            ranges(vec![range(inc(i4(1)), exc(i4(6)))]),
        ),
        lit(
            "int8multirange",
            "{(,0), [10,)}",
            ranges(vec![
                range(unbounded(), exc(i8(0))),
                range(inc(i8(10)), unbounded()),
            ]),
        ),
        lit(
            "nummultirange",
            "{(,0), [1.5,2.5]}",
            ranges(vec![
                range(unbounded(), exc(num("0"))),
                range(inc(num("1.5")), inc(num("2.5"))),
            ]),
        ),
        lit(
            "datemultirange",
            "{[2000-01-01,2000-01-03), [2000-02-01,infinity)}",
            ranges(vec![
                range(
                    inc(datev(Date::Value(date(2000, 1, 1)))),
                    exc(datev(Date::Value(date(2000, 1, 3)))),
                ),
                range(
                    inc(datev(Date::Value(date(2000, 2, 1)))),
                    exc(datev(Date::Infinity)),
                ),
            ]),
        ),
        lit(
            "tsmultirange",
            "{[-infinity,2000-01-01 00:00:00)}",
            ranges(vec![range(
                inc(tsv(Timestamp::NegInfinity)),
                exc(tsv(Timestamp::Value(ts(2000, 1, 1, 0, 0, 0, 0)))),
            )]),
        ),
        lit(
            "tstzmultirange",
            "{(,)}",
            ranges(vec![range(unbounded(), unbounded())]),
        ),
        lit(
            "floatmultirange",
            "{[1.5,2.5), [3,4]}",
            ranges(vec![
                range(inc(Value::Float8(1.5)), exc(Value::Float8(2.5))),
                range(inc(Value::Float8(3.0)), inc(Value::Float8(4.0))),
            ]),
        ),
    ]
}
