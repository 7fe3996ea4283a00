//! `Serialize` for [`Value`] and [`Row`] (the `serde` feature): see the crate docs'
//! "Serde" section for the mapping.
//!
//! Two forms share one walk. The *portable* form asks nothing of the serializer that every
//! format lacks: numerics are their digits in a string, `json`/`jsonb` their text. The
//! *JSON* form (the `serde_json` feature) hands numerics and `json`/`jsonb` to serde_json as
//! [`RawValue`](serde_json::value::RawValue)s, which its serializers write verbatim: a
//! numeric is a JSON number digit for digit (no `f64` on the way) and a document is
//! embedded as itself — its key order, repeated keys and long numbers kept, which parsing
//! it into a `serde_json::Value` would lose (`Map` sorts its keys and keeps one of a
//! repeated key, `Number` holds an `f64`). `RawValue` reaches other serializers as a
//! private one-field struct, so the JSON form is for serde_json; [`Portable`] asks for the
//! portable form whatever the features.

use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::{Dim, Row, Value};

/// A [`Value`] or [`Row`] serialized in the portable form whatever this crate's features:
/// finite numerics as strings of their digits (`"12.50"`), `json`/`jsonb` as strings of
/// their text, everything else as `Value`'s own `Serialize` has it. For formats other
/// than JSON when the `serde_json` feature is on (perhaps turned on by another crate of the
/// build).
///
/// ```
/// use pg_types::{Numeric, Portable, Value};
///
/// let price = Value::Numeric(Numeric::parse("12.50").unwrap());
/// assert_eq!(serde_json::to_string(&Portable(&price)).unwrap(), r#""12.50""#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Portable<'a, T: ?Sized>(pub &'a T);

/// Which of the two forms a walk writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Portable,
    #[cfg(feature = "serde_json")]
    Json,
}

/// The form of `Value`'s and `Row`'s own `Serialize`.
#[cfg(feature = "serde_json")]
const DEFAULT: Form = Form::Json;
#[cfg(not(feature = "serde_json"))]
const DEFAULT: Form = Form::Portable;

/// NULL is `None` (JSON's `null`); booleans, integers and finite floats are themselves;
/// finite numerics, `json` and `jsonb` as the crate docs' "Serde" section says; arrays are
/// sequences (nested by dimension, lower bounds dropped); composites are maps like
/// [`Row`]'s; hstore is a map of strings (NULL values `None`); anything else is the string
/// of its PostgreSQL text form ([`Value::to_pg_text`]: dates, intervals, `\x…` bytea,
/// `NaN` and `Infinity`).
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        In(self, DEFAULT).serialize(serializer)
    }
}

/// A map of column name to value in column order. A repeated column name is suffixed so
/// that no value is lost: the keys are [`Columns::unique_names`](crate::Columns::unique_names)
/// (`?column?`, `?column?_2`). A value that cannot be decoded fails the serialization with
/// the decoding error's message.
impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        In(self, DEFAULT).serialize(serializer)
    }
}

impl Serialize for Portable<'_, Value> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        In(self.0, Form::Portable).serialize(serializer)
    }
}

impl Serialize for Portable<'_, Row> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        In(self.0, Form::Portable).serialize(serializer)
    }
}

/// A value, row or array slice to write in a form.
struct In<'a, T: ?Sized>(&'a T, Form);

impl Serialize for In<'_, Value> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let In(value, form) = *self;
        match value {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int2(v) => s.serialize_i16(*v),
            Value::Int4(v) => s.serialize_i32(*v),
            Value::Int8(v) => s.serialize_i64(*v),
            Value::Oid(v) => s.serialize_u32(*v),
            Value::Float4(v) if v.is_finite() => s.serialize_f32(*v),
            Value::Float8(v) if v.is_finite() => s.serialize_f64(*v),
            Value::Numeric(n) if n.is_finite() => match form {
                Form::Portable => s.collect_str(n),
                #[cfg(feature = "serde_json")]
                Form::Json => raw(n.to_string(), s),
            },
            Value::Json(text) | Value::Jsonb(text) => match form {
                Form::Portable => s.serialize_str(text),
                #[cfg(feature = "serde_json")]
                Form::Json => raw(minified(text), s),
            },
            Value::Array(array) => In(&Dims(&array.dims, &array.elements), form).serialize(s),
            Value::Composite(row) => In(row, form).serialize(s),
            Value::Hstore(map) => s.collect_map(map),
            other => match other.to_pg_text() {
                Some(text) => s.serialize_str(&text),
                None => s.serialize_none(),
            },
        }
    }
}

impl Serialize for In<'_, Row> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let In(row, form) = *self;
        let mut map = s.serialize_map(Some(row.len()))?;
        for (index, key) in row.columns().unique_names().iter().enumerate() {
            let value = row.value(index).map_err(S::Error::custom)?;
            map.serialize_entry(key, &In(&value, form))?;
        }
        map.end()
    }
}

/// An array's elements under its dimensions (the outermost first).
struct Dims<'a>(&'a [Dim], &'a [Value]);

impl Serialize for In<'_, Dims<'_>> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let In(Dims(dims, elements), form) = *self;
        let inner = dims.get(1..).unwrap_or_default();
        if inner.is_empty() {
            return s.collect_seq(elements.iter().map(|v| In(v, form)));
        }
        let step = inner
            .iter()
            .map(|d| usize::try_from(d.len).unwrap_or(0))
            .product::<usize>()
            .max(1);
        let mut seq = s.serialize_seq(Some(elements.len() / step))?;
        for chunk in elements.chunks(step) {
            seq.serialize_element(&In(&Dims(inner, chunk), form))?;
        }
        seq.end()
    }
}

/// `text` (JSON) handed to serde_json to write verbatim; an error if it is not JSON.
#[cfg(feature = "serde_json")]
fn raw<S: Serializer>(text: String, s: S) -> Result<S::Ok, S::Error> {
    serde_json::value::RawValue::from_string(text)
        .map_err(|e| S::Error::custom(format!("a json value that is not JSON: {e}")))?
        .serialize(s)
}

/// JSON text without the white space between its tokens (strings untouched), so that a
/// `json` value spanning lines stays on its row's line in JSON Lines output (and `jsonb`'s
/// space after every `:` and `,` goes).
#[cfg(feature = "serde_json")]
fn minified(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
    use indexmap::IndexMap;
    use proptest::prelude::*;
    use serde_json::Value as J;

    use super::*;
    use crate::{
        Array, BitString, Circle, Column, Columns, Date, GeoBox, Interval, Lseg, Numeric, Point,
        Range, RangeBound, Timestamp, TimestampTz, Type,
    };

    fn row(columns: &[&str], values: Vec<Value>) -> Row {
        let columns = columns
            .iter()
            .map(|name| Column::new(*name, Type::UNKNOWN))
            .collect();
        Row::from_values(Columns::new(columns), values)
    }

    fn numeric(text: &str) -> Value {
        Value::Numeric(Numeric::parse(text).unwrap())
    }

    fn int4_range(lower: i32, upper: i32) -> Range {
        Range::new(
            RangeBound::Inclusive(Box::new(Value::Int4(lower))),
            RangeBound::Exclusive(Box::new(Value::Int4(upper))),
        )
    }

    /// Every variant, with what the JSON form writes for it and what the portable form
    /// writes where it differs.
    fn every_variant() -> Vec<(Value, &'static str, Option<&'static str>)> {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let noon = NaiveTime::from_hms_milli_opt(12, 34, 56, 789).unwrap();
        let moment = day.and_time(noon);
        let p = Point::new;
        vec![
            (Value::Null, "null", None),
            (Value::Bool(true), "true", None),
            (Value::Int2(i16::MIN), "-32768", None),
            (Value::Int4(i32::MAX), "2147483647", None),
            (Value::Int8(i64::MIN), "-9223372036854775808", None),
            (Value::Oid(u32::MAX), "4294967295", None),
            (Value::Float4(0.1), "0.1", None),
            (Value::Float4(f32::NEG_INFINITY), r#""-Infinity""#, None),
            (Value::Float8(-2.5e-300), "-2.5e-300", None),
            (Value::Float8(f64::NAN), r#""NaN""#, None),
            (Value::Float8(f64::INFINITY), r#""Infinity""#, None),
            (numeric("12.50"), "12.50", Some(r#""12.50""#)),
            (numeric("-0.000"), "0.000", Some(r#""0.000""#)),
            // Beyond Decimal (Numeric::Text) and beyond f64: every digit kept.
            (
                numeric("123456789012345678901234567890.123456789012345678901"),
                "123456789012345678901234567890.123456789012345678901",
                Some(r#""123456789012345678901234567890.123456789012345678901""#),
            ),
            (Value::Numeric(Numeric::NaN), r#""NaN""#, None),
            (
                Value::Numeric(Numeric::NegativeInfinity),
                r#""-Infinity""#,
                None,
            ),
            (
                Value::Text("quote \" \\ \n ☺".into()),
                r#""quote \" \\ \n ☺""#,
                None,
            ),
            (Value::Char(b'a'), r#""a""#, None),
            (Value::Bytea(vec![0xde, 0xad]), r#""\\xdead""#, None),
            (Value::Date(Date::Value(day)), r#""2024-02-29""#, None),
            (Value::Date(Date::Infinity), r#""infinity""#, None),
            (Value::Time(noon), r#""12:34:56.789""#, None),
            (
                Value::TimeTz {
                    time: noon,
                    offset_seconds: 19800,
                },
                r#""12:34:56.789+05:30""#,
                None,
            ),
            (
                Value::Timestamp(Timestamp::Value(moment)),
                r#""2024-02-29 12:34:56.789""#,
                None,
            ),
            (
                Value::TimestampTz(TimestampTz::Value(Utc.from_utc_datetime(&moment))),
                r#""2024-02-29 12:34:56.789+00""#,
                None,
            ),
            (
                Value::Timestamp(Timestamp::NegInfinity),
                r#""-infinity""#,
                None,
            ),
            (
                Value::Interval(Interval::new(14, 3, 4_000_000)),
                r#""1 year 2 mons 3 days 00:00:04""#,
                None,
            ),
            (
                Value::Uuid(*b"\x12\x34\x56\x78\x9a\xbc\xde\xf0\x12\x34\x56\x78\x9a\xbc\xde\xf0"),
                r#""12345678-9abc-def0-1234-56789abcdef0""#,
                None,
            ),
            // json keeps its key order, its repeated key and its long number; white space
            // between tokens goes, inside strings stays.
            (
                Value::Json(
                    "{\"b\": 1, \"a\": [true, \"x y\"],\n \"b\": 12345678901234567890123}".into(),
                ),
                r#"{"b":1,"a":[true,"x y"],"b":12345678901234567890123}"#,
                Some(r#""{\"b\": 1, \"a\": [true, \"x y\"],\n \"b\": 12345678901234567890123}""#),
            ),
            (
                Value::Jsonb("\"just a string\"".into()),
                r#""just a string""#,
                Some(r#""\"just a string\"""#),
            ),
            (Value::Xml("<a>b</a>".into()), r#""<a>b</a>""#, None),
            (
                Value::Inet {
                    addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
                    prefix: 32,
                    cidr: false,
                },
                r#""127.0.0.1""#,
                None,
            ),
            (
                Value::Inet {
                    addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)),
                    prefix: 8,
                    cidr: true,
                },
                r#""10.0.0.0/8""#,
                None,
            ),
            (
                Value::MacAddr([8, 0, 0x2b, 1, 2, 3]),
                r#""08:00:2b:01:02:03""#,
                None,
            ),
            (
                Value::MacAddr8([8, 0, 0x2b, 1, 2, 3, 4, 5]),
                r#""08:00:2b:01:02:03:04:05""#,
                None,
            ),
            (
                Value::Bit(BitString::from_bits([true, false, true])),
                r#""101""#,
                None,
            ),
            (Value::Point(p(1.0, 2.5)), r#""(1,2.5)""#, None),
            (
                Value::Lseg(Lseg {
                    start: p(1.0, 2.0),
                    end: p(3.0, 4.0),
                }),
                r#""[(1,2),(3,4)]""#,
                None,
            ),
            (
                Value::Box(GeoBox {
                    high: p(3.0, 4.0),
                    low: p(1.0, 2.0),
                }),
                r#""(3,4),(1,2)""#,
                None,
            ),
            (
                Value::Path {
                    closed: false,
                    points: vec![p(1.0, 2.0), p(3.0, 4.0)],
                },
                r#""[(1,2),(3,4)]""#,
                None,
            ),
            (
                Value::Polygon(vec![p(0.0, 0.0), p(1.0, 1.0)]),
                r#""((0,0),(1,1))""#,
                None,
            ),
            (
                Value::Line {
                    a: 1.0,
                    b: -1.0,
                    c: 0.0,
                },
                r#""{1,-1,0}""#,
                None,
            ),
            (
                Value::Circle(Circle {
                    center: p(0.0, 0.0),
                    radius: 2.0,
                }),
                r#""<(0,0),2>""#,
                None,
            ),
            (Value::Money(-12345), r#""-123.45""#, None),
            (
                Value::Hstore(IndexMap::from([
                    ("z".to_owned(), Some("1".to_owned())),
                    ("a".to_owned(), None),
                ])),
                r#"{"z":"1","a":null}"#,
                None,
            ),
            (
                Value::Enum {
                    type_name: "mood".into(),
                    label: "happy".into(),
                },
                r#""happy""#,
                None,
            ),
            (Value::Range(int4_range(1, 10)), r#""[1,10)""#, None),
            (
                Value::Multirange(vec![int4_range(1, 3), int4_range(5, 7)]),
                r#""{[1,3),[5,7)}""#,
                None,
            ),
            (
                Value::Array(Array::from_values(
                    Type::NUMERIC,
                    vec![numeric("1.10"), Value::Null],
                )),
                "[1.10,null]",
                Some(r#"["1.10",null]"#),
            ),
            (
                Value::Composite(row(
                    &["x", "j"],
                    vec![Value::Int4(7), Value::Jsonb("[1, 2]".into())],
                )),
                r#"{"x":7,"j":[1,2]}"#,
                Some(r#"{"x":7,"j":"[1, 2]"}"#),
            ),
            (
                Value::Unknown {
                    type_oid: 99999,
                    text: Some("(some text)".into()),
                    binary: None,
                },
                r#""(some text)""#,
                None,
            ),
            (
                Value::Unknown {
                    type_oid: 99999,
                    text: None,
                    binary: Some(vec![1, 2]),
                },
                r#""\\x0102""#,
                None,
            ),
        ]
    }

    #[cfg(feature = "serde_json")]
    #[test]
    fn every_variant_in_serde_json_form() {
        for (value, json, _) in every_variant() {
            assert_eq!(serde_json::to_string(&value).unwrap(), json, "{value:?}");
        }
    }

    #[test]
    fn every_variant_in_the_portable_form() {
        for (value, json, portable) in every_variant() {
            let expected = portable.unwrap_or(json);
            let written = serde_json::to_string(&Portable(&value)).unwrap();
            assert_eq!(written, expected, "{value:?}");
            #[cfg(not(feature = "serde_json"))]
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                expected,
                "{value:?}"
            );
        }
    }

    #[test]
    fn rows_are_maps_in_column_order_with_repeated_names_suffixed() {
        let r = row(
            &["?column?", "b", "?column?", "?column?_2", "a"],
            vec![
                Value::Int4(1),
                Value::Null,
                Value::Bool(false),
                Value::Text("t".into()),
                Value::Int8(5),
            ],
        );
        assert_eq!(
            r.columns().unique_names(),
            ["?column?", "b", "?column?_2", "?column?_2_2", "a"]
        );
        let expected = r#"{"?column?":1,"b":null,"?column?_2":false,"?column?_2_2":"t","a":5}"#;
        assert_eq!(serde_json::to_string(&r).unwrap(), expected);
        assert_eq!(serde_json::to_string(&Portable(&r)).unwrap(), expected);
        // A row over a DataRow body whose value cannot be decoded: the error, not a guess.
        let columns = Columns::new(vec![Column::new("n", Type::INT4)]);
        let bad = Row::from_raw(
            columns,
            bytes::Bytes::from_static(b"\x01\x02"),
            vec![Some(0..2)],
        );
        let err = serde_json::to_string(&bad).unwrap_err().to_string();
        assert!(err.contains("\"n\""), "{err}");
    }

    #[test]
    fn arrays_nest_by_dimension_and_drop_lower_bounds() {
        let dims = vec![
            crate::Dim {
                len: 2,
                lower_bound: 0,
            },
            crate::Dim {
                len: 3,
                lower_bound: -5,
            },
        ];
        let matrix = Array::new(Type::INT4, dims, (1..=6).map(Value::Int4).collect()).unwrap();
        let json = serde_json::to_string(&Value::Array(matrix)).unwrap();
        assert_eq!(json, "[[1,2,3],[4,5,6]]");
        let empty = Array::from_values(Type::INT4, vec![]);
        assert_eq!(serde_json::to_string(&Value::Array(empty)).unwrap(), "[]");
        let strings = Array::from_values(Type::TEXT, vec![Value::Text("a".into())]);
        let nested = Array::from_values(Type::TEXT_ARRAY, vec![Value::Array(strings)]);
        assert_eq!(
            serde_json::to_string(&Value::Array(nested)).unwrap(),
            r#"[["a"]]"#
        );
    }

    #[cfg(feature = "serde_json")]
    #[test]
    fn json_that_is_not_json_is_an_error() {
        let err = serde_json::to_string(&Value::Json("{oops".into())).unwrap_err();
        assert!(err.to_string().contains("not JSON"), "{err}");
    }

    /// Whether `json` (parsed back) says what `value` is.
    fn agrees(value: &Value, json: &J) -> bool {
        match value {
            Value::Null => json.is_null(),
            Value::Bool(b) => json.as_bool() == Some(*b),
            Value::Int4(v) => json.as_i64() == Some((*v).into()),
            Value::Int8(v) => json.as_i64() == Some(*v),
            Value::Float8(v) if v.is_finite() => json.as_f64() == Some(*v),
            Value::Numeric(n) if n.is_finite() && cfg!(feature = "serde_json") => {
                // A number (its digits are `numerics_keep_every_digit`'s to check: serde_json
                // parses it into an f64 here, rounded)
                json.is_number()
            }
            Value::Json(text) if cfg!(feature = "serde_json") => {
                *json == serde_json::from_str::<J>(text).unwrap()
            }
            Value::Array(a) => json.as_array().is_some_and(|items| {
                items.len() == a.elements.len()
                    && a.elements.iter().zip(items).all(|(v, j)| agrees(v, j))
            }),
            Value::Composite(r) => json.as_object().is_some_and(|object| {
                object.len() == r.len()
                    && (r.columns().unique_names().iter())
                        .zip(r.values().unwrap())
                        .all(|(k, v)| object.get(k.as_ref()).is_some_and(|j| agrees(&v, j)))
            }),
            Value::Hstore(map) => json.as_object().is_some_and(|object| {
                object.len() == map.len()
                    && map
                        .iter()
                        .all(|(k, v)| object.get(k).is_some_and(|j| j.as_str() == v.as_deref()))
            }),
            other => json.as_str() == other.to_pg_text().as_deref(),
        }
    }

    fn numeric_text() -> impl Strategy<Value = String> {
        "-?[0-9]{1,40}(\\.[0-9]{1,40})?"
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::Int4),
            any::<i64>().prop_map(Value::Int8),
            any::<f64>().prop_map(Value::Float8),
            numeric_text().prop_map(|t| numeric(&t)),
            any::<String>().prop_map(Value::Text),
            (any::<String>(), any::<i64>(), any::<bool>()).prop_map(|(s, n, b)| {
                let s = serde_json::to_string(&s).unwrap();
                Value::Json(format!(
                    "{{\"s\" : {s},\n \"n\": [{n}, {b}, null], \"s\": {{}}}}"
                ))
            }),
            any::<Vec<u8>>().prop_map(Value::Bytea),
            (any::<i32>(), any::<i32>(), any::<i64>())
                .prop_map(|(m, d, us)| Value::Interval(Interval::new(m, d, us))),
        ]
    }

    /// Column names drawn from few letters, so that names repeat and collide with suffixes.
    fn name() -> impl Strategy<Value = String> {
        "[ab](_2)?"
    }

    fn composite(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Row> {
        prop::collection::vec((name(), inner), 0..5).prop_map(|columns| {
            let (names, values): (Vec<String>, Vec<Value>) = columns.into_iter().unzip();
            let columns = names
                .into_iter()
                .map(|n| Column::new(n, Type::UNKNOWN))
                .collect();
            Row::from_values(Columns::new(columns), values)
        })
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| Value::Array(Array::from_values(Type::UNKNOWN, v))),
                composite(inner).prop_map(Value::Composite),
                prop::collection::vec((any::<String>(), any::<Option<String>>()), 0..4)
                    .prop_map(|pairs| Value::Hstore(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any row's JSON parses back, as what the row holds, in either form.
        #[test]
        fn json_output_parses_back(r in composite(value())) {
            let line = serde_json::to_string(&r).unwrap();
            prop_assert!(!line.contains('\n'), "one line: {line}");
            let parsed: J = serde_json::from_str(&line).unwrap();
            prop_assert!(agrees(&Value::Composite(r.clone()), &parsed), "{line}");
            let portable: J = serde_json::from_str(&serde_json::to_string(&Portable(&r)).unwrap()).unwrap();
            prop_assert_eq!(portable.as_object().map(|o| o.len()), Some(r.len()));
        }

        /// A numeric is written digit for digit (its canonical text), never through `f64`.
        #[test]
        fn numerics_keep_every_digit(text in numeric_text()) {
            let n = Numeric::parse(&text).unwrap();
            let digits = n.to_string();
            let portable = serde_json::to_string(&Portable(&Value::Numeric(n.clone()))).unwrap();
            prop_assert_eq!(portable, format!("\"{digits}\""));
            #[cfg(feature = "serde_json")]
            {
                let json = serde_json::to_string(&Value::Numeric(n)).unwrap();
                prop_assert!(serde_json::from_str::<J>(&json).unwrap().is_number());
                prop_assert_eq!(json, digits);
            }
        }
    }
}
