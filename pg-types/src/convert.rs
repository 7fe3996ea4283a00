//! Conversions between Rust values and [`Value`].

use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use indexmap::IndexMap;
use pg_exceptions::Error;
use postgres_types::Type;
use rust_decimal::Decimal;

use crate::error::type_io_error;
use crate::{Array, BitString, Date, Interval, Numeric, Range, Row, Timestamp, TimestampTz, Value};

macro_rules! from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from($v: $t) -> Value {
                $e
            }
        })*
    };
}

from! {
    bool => |v| Value::Bool(v),
    i16 => |v| Value::Int2(v),
    i32 => |v| Value::Int4(v),
    i64 => |v| Value::Int8(v),
    u32 => |v| Value::Oid(v),
    f32 => |v| Value::Float4(v),
    f64 => |v| Value::Float8(v),
    Decimal => |v| Value::Numeric(Numeric::Decimal(v)),
    Numeric => |v| Value::Numeric(v),
    String => |v| Value::Text(v),
    &str => |v| Value::Text(v.to_owned()),
    &String => |v| Value::Text(v.clone()),
    Vec<u8> => |v| Value::Bytea(v),
    &[u8] => |v| Value::Bytea(v.to_vec()),
    NaiveDate => |v| Value::Date(Date::Value(v)),
    Date => |v| Value::Date(v),
    NaiveTime => |v| Value::Time(v),
    NaiveDateTime => |v| Value::Timestamp(Timestamp::Value(v)),
    Timestamp => |v| Value::Timestamp(v),
    DateTime<Utc> => |v| Value::TimestampTz(TimestampTz::Value(v)),
    DateTime<FixedOffset> => |v| Value::TimestampTz(TimestampTz::Value(v.to_utc())),
    TimestampTz => |v| Value::TimestampTz(v),
    Interval => |v| Value::Interval(v),
    IpAddr => |v| Value::Inet { addr: v, prefix: if v.is_ipv4() { 32 } else { 128 }, cidr: false },
    BitString => |v| Value::Bit(v),
    Array => |v| Value::Array(v),
    Range => |v| Value::Range(v),
    Row => |v| Value::Composite(v),
    IndexMap<String, Option<String>> => |v| Value::Hstore(v),
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` is NULL.
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    /// An array of the items, element type guessed from the first non-NULL one. A vector
    /// of equally shaped arrays (`Vec<Vec<i32>>`) is one array of one more dimension
    /// (see [`Array::from_nested`]); ragged ones stay a one-dimensional array of arrays,
    /// which encoding then refuses.
    fn from(items: Vec<T>) -> Value {
        let items: Vec<Value> = items.into_iter().map(Into::into).collect();
        if !items.iter().any(|v| matches!(v, Value::Array(_))) {
            let ty = crate::array::guess_element_type(&items);
            return Value::Array(Array::from_values(ty, items));
        }
        match Array::from_nested(None, items.clone()) {
            Ok(a) => Value::Array(a),
            Err(_) => Value::Array(Array::from_values(Type::UNKNOWN, items)),
        }
    }
}

fn mismatch(value: &Value, rust: &str) -> Error {
    type_io_error(format!(
        "cannot convert a {} value to {rust}",
        value.kind_name()
    ))
}

macro_rules! try_from {
    ($($t:ty => $rust:literal |$v:ident| $e:expr),* $(,)?) => {
        $(impl TryFrom<Value> for $t {
            type Error = Error;

            fn try_from($v: Value) -> Result<$t, Error> {
                let out: Option<$t> = $e;
                out.ok_or_else(|| mismatch(&$v, $rust))
            }
        })*
    };
}

try_from! {
    bool => "bool" |v| v.as_bool(),
    i16 => "i16" |v| v.as_i64().and_then(|i| i16::try_from(i).ok()),
    i32 => "i32" |v| v.as_i32(),
    i64 => "i64" |v| v.as_i64(),
    f64 => "f64" |v| v.as_f64(),
    Decimal => "Decimal" |v| v.as_decimal(),
    String => "String" |v| v.as_str().map(str::to_owned),
    Vec<u8> => "Vec<u8>" |v| v.as_bytes().map(<[u8]>::to_vec),
    NaiveDate => "NaiveDate" |v| match v { Value::Date(Date::Value(d)) => Some(d), _ => None },
    NaiveDateTime => "NaiveDateTime" |v| match v { Value::Timestamp(Timestamp::Value(d)) => Some(d), _ => None },
    DateTime<Utc> => "DateTime<Utc>" |v| match v { Value::TimestampTz(TimestampTz::Value(d)) => Some(d), _ => None },
    Interval => "Interval" |v| match v { Value::Interval(i) => Some(i), _ => None },
    Array => "Array" |v| v.as_array().cloned(),
    Row => "Row" |v| v.as_row().cloned(),
}

/// A map of attribute names to values, as a composite value: encoded into a composite type
/// by name, attributes it lacks being NULL.
impl From<IndexMap<String, Value>> for Value {
    fn from(map: IndexMap<String, Value>) -> Value {
        let columns = map
            .iter()
            .map(|(name, value)| {
                crate::Column::new(
                    name.clone(),
                    value.natural_type().unwrap_or(postgres_types::Type::TEXT),
                )
            })
            .collect();
        Value::Composite(crate::Row::from_values(
            crate::Columns::new(columns),
            map.into_values().collect(),
        ))
    }
}
