//! Binary round trips (encode, then decode) of scalar values, with edge values.

mod common;

use std::net::IpAddr;
use std::str::FromStr;

use bytes::BytesMut;
use chrono::{NaiveDate, NaiveTime};
use common::{num, rt};
use pg_types::{
    BitString, Circle, Date, GeoBox, Interval, Lseg, Numeric, Point, Timestamp, TimestampTz, Type,
    Value, decode, encode,
};
use rust_decimal::Decimal;

#[test]
fn integers_and_bools() {
    for b in [true, false] {
        rt(&Type::BOOL, Value::Bool(b));
    }
    for v in [i16::MIN, -1, 0, i16::MAX] {
        rt(&Type::INT2, Value::Int2(v));
    }
    for v in [i32::MIN, 0, i32::MAX] {
        rt(&Type::INT4, Value::Int4(v));
    }
    for v in [i64::MIN, 0, i64::MAX] {
        rt(&Type::INT8, Value::Int8(v));
    }
    for v in [0, u32::MAX] {
        rt(&Type::OID, Value::Oid(v));
        rt(&Type::REGCLASS, Value::Oid(v));
    }
    rt(&Type::MONEY, Value::Money(i64::MIN));
}

#[test]
fn integer_widening_and_narrowing() {
    let mut buf = BytesMut::new();
    encode(&Type::INT2, &Value::Int8(-5), &mut buf).unwrap();
    assert_eq!(decode(&Type::INT2, &buf).unwrap(), Value::Int2(-5));
    let err = encode(
        &Type::INT4,
        &Value::Int8(5_000_000_000),
        &mut BytesMut::new(),
    )
    .err()
    .unwrap();
    assert!(err.message().contains("out of range"), "{err}");
    let err = encode(&Type::INT4, &Value::from("1"), &mut BytesMut::new())
        .err()
        .unwrap();
    assert!(err.is_a(&pg_exceptions::TypeIOError), "{err}");
    let err = pg_types::encode_parameter(2, &Type::INT4, &Value::from("1"), &mut BytesMut::new())
        .err()
        .unwrap();
    assert!(err.is_a(&pg_exceptions::ParameterError));
    assert!(
        err.message().contains("$2") && err.message().contains("int4"),
        "{err}"
    );
}

#[test]
fn floats() {
    for v in [
        0.0,
        -0.0,
        1.5,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ] {
        rt(&Type::FLOAT8, Value::Float8(v));
    }
    for v in [0.0f32, 1.25, f32::MAX, f32::INFINITY, f32::NAN] {
        rt(&Type::FLOAT4, Value::Float4(v));
    }
    assert_eq!(Value::Float8(f64::NAN).to_string(), "nan");
}

/// The server's text of floats (`float8out`, `float4out` with extra_float_digits 1): the
/// shortest digits, in exponent form below 1e-4 and from 1e15 (float4: 1e6).
#[test]
fn floats_as_the_server_prints_them() {
    for (v, text) in [
        (0.0, "0"),
        (-0.0, "-0"),
        (1e-10, "1e-10"),
        (1.5e-5, "1.5e-05"),
        (0.0001, "0.0001"),
        (123456789012345.0, "123456789012345"),
        (1e15, "1e+15"),
        (1.2345e100, "1.2345e+100"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::NEG_INFINITY, "-Infinity"),
        (f64::NAN, "NaN"),
    ] {
        assert_eq!(Value::Float8(v).to_pg_text().unwrap(), text, "{v}");
    }
    for (v, text) in [
        (0.1f32, "0.1"),
        (123456.7, "123456.7"),
        (1e6, "1e+06"),
        (1.5e-7, "1.5e-07"),
        (f32::MAX, "3.4028235e+38"),
    ] {
        assert_eq!(Value::Float4(v).to_pg_text().unwrap(), text, "{v}");
    }
    assert_eq!(
        Value::Point(Point { x: 1e-7, y: 2.0 })
            .to_pg_text()
            .unwrap(),
        "(1e-07,2)"
    );
}

#[test]
fn numerics() {
    let two_128 = "340282366920938463463374607431768211456";
    for s in [
        "0",
        "1.50",
        "-12345.678900",
        "0.000000000000000000000000001",
        "79228162514264337593543950335",
        two_128,
        "-340282366920938463463374607431768211456",
        "0.0000000000000000000000000000000000000001",
        "123456789012345678901234567890.123456789012345678901234567890",
        "10000",
        "0.0001",
        "NaN",
        "Infinity",
        "-Infinity",
    ] {
        rt(&Type::NUMERIC, num(s));
    }
    assert!(matches!(num(two_128), Value::Numeric(Numeric::Text(_))));
    assert!(
        matches!(num("1e-40"), Value::Numeric(Numeric::Text(ref t)) if t == "0.0000000000000000000000000000000000000001")
    );
    assert!(matches!(num("1e-27"), Value::Numeric(Numeric::Decimal(_))));
    assert_eq!(
        num("1e-27").to_string(),
        "Decimal('0.000000000000000000000000001')"
    );

    // Negative zero keeps its scale; PostgreSQL has no negative zero, so the sign goes.
    let neg_zero = Decimal::from_str("-0.00000000000000").unwrap();
    let mut buf = BytesMut::new();
    encode(&Type::NUMERIC, &Value::from(neg_zero), &mut buf).unwrap();
    let back = decode(&Type::NUMERIC, &buf).unwrap();
    assert_eq!(back, Value::from(neg_zero));
    assert_eq!(back.to_pg_text().unwrap(), "0.00000000000000");
    assert_eq!(back.as_decimal().unwrap().scale(), 14);
    rt(
        &Type::NUMERIC,
        Value::from(Decimal::from_str("-0.5").unwrap()),
    );
    rt(&Type::NUMERIC, Value::from(Decimal::MAX));
    rt(&Type::NUMERIC, Value::from(Decimal::MIN));
}

#[test]
fn strings_and_bytes() {
    for ty in [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::UNKNOWN,
    ] {
        rt(&ty, Value::from("it's \"quoted\" ünïcode\n"));
        rt(&ty, Value::from(""));
    }
    rt(&Type::CHAR, Value::Char(b'x'));
    rt(&Type::CHAR, Value::Char(0xE9));
    rt(&Type::BYTEA, Value::Bytea(vec![0, 1, 0xFF, b'\'']));
    rt(&Type::BYTEA, Value::Bytea(vec![]));
    rt(&Type::JSON, Value::Json(r#"{"a": [1, null]}"#.into()));
    rt(&Type::JSONB, Value::Jsonb(r#"{"a": [1, null]}"#.into()));
    rt(&Type::XML, Value::Xml("<a>b</a>".into()));
    rt(&Type::UUID, Value::Uuid(*b"0123456789abcdef"));
    assert_eq!(Value::from("it's").to_string(), "\"it's\"");
    assert_eq!(Value::Bytea(vec![0, b'a']).to_string(), "b'\\x00a'");
}

#[test]
fn dates_and_times() {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    for d in [
        Date::Infinity,
        Date::NegInfinity,
        Date::Value(date(1, 1, 1)),
        Date::Value(date(0, 12, 31)),
        Date::Value(date(-4712, 1, 1)),
        Date::Value(date(2000, 1, 1)),
        Date::Value(date(262_142, 12, 31)),
    ] {
        rt(&Type::DATE, Value::Date(d));
    }
    assert_eq!(
        Value::Date(Date::Value(date(0, 12, 31)))
            .to_pg_text()
            .unwrap(),
        "0001-12-31 BC"
    );
    let ts = date(1999, 12, 31)
        .and_hms_micro_opt(23, 59, 59, 999_999)
        .unwrap();
    for t in [
        Timestamp::Infinity,
        Timestamp::NegInfinity,
        Timestamp::Value(ts),
    ] {
        rt(&Type::TIMESTAMP, Value::Timestamp(t));
    }
    let bc = date(-44, 3, 15).and_hms_opt(12, 0, 0).unwrap();
    rt(&Type::TIMESTAMP, Value::Timestamp(Timestamp::Value(bc)));
    for t in [
        TimestampTz::Infinity,
        TimestampTz::NegInfinity,
        TimestampTz::Value(ts.and_utc()),
    ] {
        rt(&Type::TIMESTAMPTZ, Value::TimestampTz(t));
    }
    assert_eq!(
        Value::Timestamp(Timestamp::Value(ts)).to_pg_text().unwrap(),
        "1999-12-31 23:59:59.999999"
    );
    let time = NaiveTime::from_hms_micro_opt(13, 14, 15, 500_000).unwrap();
    rt(&Type::TIME, Value::Time(time));
    rt(&Type::TIME, Value::Time(NaiveTime::MIN));
    // 24:00:00 is the leap second after 23:59:59.
    let midnight_end = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_000_000_000).unwrap();
    rt(&Type::TIME, Value::Time(midnight_end));
    assert_eq!(Value::Time(midnight_end).to_pg_text().unwrap(), "24:00:00");
    rt(
        &Type::TIMETZ,
        Value::TimeTz {
            time,
            offset_seconds: 19_800,
        },
    );
    rt(
        &Type::TIMETZ,
        Value::TimeTz {
            time,
            offset_seconds: -(14 * 3600 + 59),
        },
    );
    assert_eq!(
        Value::TimeTz {
            time,
            offset_seconds: 19_800
        }
        .to_pg_text()
        .unwrap(),
        "13:14:15.5+05:30"
    );
}

#[test]
fn chrono_out_of_range_dates_are_errors() {
    // 5874897 AD, beyond chrono's range: an error, not a panic.
    let raw = (i32::MAX - 1).to_be_bytes();
    let err = decode(&Type::DATE, &raw).err().unwrap();
    assert!(err.message().contains("out of chrono's range"), "{err}");
    let raw = (i64::MAX - 1).to_be_bytes();
    assert!(decode(&Type::TIMESTAMP, &raw).is_err());
}

#[test]
fn intervals() {
    for i in [
        Interval::new(-14, -3, -4_000_000),
        Interval::new(1, 2, 3),
        Interval::new(i32::MIN, i32::MAX, i64::MIN),
        Interval::default(),
    ] {
        rt(&Type::INTERVAL, Value::Interval(i));
    }
    let text = |m, d, us| {
        Value::Interval(Interval::new(m, d, us))
            .to_pg_text()
            .unwrap()
    };
    assert_eq!(
        text(14, 3, 4_005_006_000),
        "1 year 2 mons 3 days 01:06:45.006"
    );
    assert_eq!(
        text(-14, -3, -4_000_000),
        "-1 years -2 mons -3 days -00:00:04"
    );
    assert_eq!(text(0, -1, 3_600_000_000), "-1 days +01:00:00");
    assert_eq!(text(0, 0, 0), "00:00:00");
}

#[test]
fn network_and_bits() {
    let v4: IpAddr = "192.168.0.1".parse().unwrap();
    let v6: IpAddr = "2001:db8::1".parse().unwrap();
    rt(
        &Type::INET,
        Value::Inet {
            addr: v4,
            prefix: 32,
            cidr: false,
        },
    );
    rt(
        &Type::INET,
        Value::Inet {
            addr: v6,
            prefix: 64,
            cidr: false,
        },
    );
    rt(
        &Type::CIDR,
        Value::Inet {
            addr: "10.0.0.0".parse().unwrap(),
            prefix: 8,
            cidr: true,
        },
    );
    rt(
        &Type::CIDR,
        Value::Inet {
            addr: "2001:db8::".parse().unwrap(),
            prefix: 32,
            cidr: true,
        },
    );
    rt(&Type::MACADDR, Value::MacAddr([8, 0, 0x2b, 1, 2, 3]));
    rt(
        &Type::MACADDR8,
        Value::MacAddr8([8, 0, 0x2b, 1, 2, 3, 4, 5]),
    );
    for n in [0, 1, 7, 8, 9, 13] {
        let bits = BitString::from_bits((0..n).map(|i| i % 3 == 0));
        rt(&Type::VARBIT, Value::Bit(bits.clone()));
        rt(&Type::BIT, Value::Bit(bits));
    }
    assert_eq!(BitString::from_bits([true, false, true]).to_string(), "101");
}

#[test]
fn geometry() {
    let p = Point::new(1.5, -2.0);
    let q = Point::new(f64::INFINITY, 0.0);
    rt(&Type::POINT, Value::Point(p));
    rt(&Type::LSEG, Value::Lseg(Lseg { start: p, end: q }));
    rt(
        &Type::BOX,
        Value::Box(GeoBox {
            high: Point::new(2.0, 2.0),
            low: p,
        }),
    );
    rt(
        &Type::PATH,
        Value::Path {
            closed: true,
            points: vec![p, q, p],
        },
    );
    rt(
        &Type::PATH,
        Value::Path {
            closed: false,
            points: vec![],
        },
    );
    rt(
        &Type::POLYGON,
        Value::Polygon(vec![p, q, Point::new(0.0, 0.0)]),
    );
    rt(
        &Type::LINE,
        Value::Line {
            a: 1.0,
            b: -1.0,
            c: 0.5,
        },
    );
    rt(
        &Type::CIRCLE,
        Value::Circle(Circle {
            center: p,
            radius: 3.0,
        }),
    );
    assert_eq!(Value::Point(p).to_string(), "'(1.5,-2)'");
}
