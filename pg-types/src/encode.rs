//! Binary encoding of values for a target type (Bind parameters, `ToSql`).
//!
//! A value is accepted for a type when it converts without loss: integers of any width
//! into any integer type when they fit, integers into floats when exactly representable,
//! `Float4` into `float8` (and `Float8` into `float4` when exact), integers into numeric,
//! string-like values (`Text`, `Json`, `Jsonb`, `Xml`, `Enum`) into the string-like types
//! (text, varchar, name, json, jsonb, xml, enums, citext), `Text` of one byte into
//! `"char"`. Anything else — a `Text` for an `int4`, say — is an error: the value is not
//! parsed. NULL encodes for every type; an `Unknown` value's bytes are passed through.

use bytes::{BufMut, BytesMut};
use pg_exceptions::Error;
use postgres_protocol::types as pt;
use postgres_types::{IsNull, Type};

use crate::Value;
use crate::codec::{Codec, codec};
use crate::datetime::time_to_pg;
use crate::encode_container as container;
use crate::error::{encode_error, parameter_error};

pub(crate) type Result<T> = std::result::Result<T, String>;

/// Encodes `value` in the binary format of type `ty` into `buf`; `IsNull::Yes` (nothing
/// written) for NULL. See the module docs for which values each type accepts. A
/// [`Value::Unknown`] with only text writes that text: send it in text format (see
/// [`encode_format`]).
pub fn encode(ty: &Type, value: &Value, buf: &mut BytesMut) -> std::result::Result<IsNull, Error> {
    let start = buf.len();
    encode_at(ty, value, buf).map_err(|m| {
        buf.truncate(start);
        encode_error(ty, value, m)
    })
}

/// [`encode`] of statement parameter number `position` (1-based, `$1`): errors are
/// [`ParameterError`](pg_exceptions::ParameterError)s naming the position and both types.
pub fn encode_parameter(
    position: usize,
    ty: &Type,
    value: &Value,
    buf: &mut BytesMut,
) -> std::result::Result<IsNull, Error> {
    encode(ty, value, buf).map_err(|e| parameter_error(position, ty, value, e))
}

/// The format code (0 text, 1 binary) [`encode`] writes `value` in: text for an
/// [`Value::Unknown`] known only by its text, binary for everything else.
pub fn encode_format(value: &Value) -> i16 {
    match value {
        Value::Unknown {
            text: Some(_),
            binary: None,
            ..
        } => 0,
        _ => 1,
    }
}

/// Writes a length-prefixed value (`-1` for NULL), as arrays, records and ranges hold
/// them.
pub(crate) fn write_nullable(
    buf: &mut BytesMut,
    f: impl FnOnce(&mut BytesMut) -> Result<IsNull>,
) -> Result<()> {
    let at = buf.len();
    buf.put_i32(0);
    let len = match f(buf)? {
        IsNull::Yes => -1,
        IsNull::No => i32::try_from(buf.len() - at - 4).map_err(|_| "value too large")?,
    };
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) | Value::Oid(_) => value.as_i64(),
        _ => None,
    }
}

fn string_like(value: &Value) -> Option<&str> {
    match value {
        Value::Text(s) | Value::Json(s) | Value::Jsonb(s) | Value::Xml(s) => Some(s),
        Value::Enum { label, .. } => Some(label),
        _ => None,
    }
}

fn out_of_range(v: impl std::fmt::Display) -> String {
    format!("{v} is out of range")
}

/// An `f64` from an integer or float value, when exact.
fn float(value: &Value, mantissa_bits: u32) -> Option<f64> {
    match value {
        Value::Float4(v) => Some(f64::from(*v)),
        Value::Float8(v) => Some(*v),
        _ => int(value)
            .filter(|i| i.unsigned_abs() <= 1 << mantissa_bits)
            .map(|i| i as f64),
    }
}

pub(crate) fn encode_at(ty: &Type, value: &Value, buf: &mut BytesMut) -> Result<IsNull> {
    match value {
        Value::Null => return Ok(IsNull::Yes),
        Value::Unknown {
            binary: Some(b), ..
        } => {
            buf.put_slice(b);
            return Ok(IsNull::No);
        }
        Value::Unknown { text: Some(t), .. } => {
            buf.put_slice(t.as_bytes());
            return Ok(IsNull::No);
        }
        _ => {}
    }
    let mismatch = || Err("the value is not of this type".to_string());
    match (codec(ty), value) {
        (Codec::Bool, Value::Bool(b)) => pt::bool_to_sql(*b, buf),
        (Codec::Int2, v) if int(v).is_some() => {
            let i = int(v).unwrap_or_default();
            pt::int2_to_sql(i16::try_from(i).map_err(|_| out_of_range(i))?, buf)
        }
        (Codec::Int4, v) if int(v).is_some() => {
            let i = int(v).unwrap_or_default();
            pt::int4_to_sql(i32::try_from(i).map_err(|_| out_of_range(i))?, buf)
        }
        (Codec::Int8, v) if int(v).is_some() => pt::int8_to_sql(int(v).unwrap_or_default(), buf),
        (Codec::Float8, v) if float(v, 53).is_some() => {
            pt::float8_to_sql(float(v, 53).unwrap_or_default(), buf)
        }
        (Codec::Float4, Value::Float4(f)) => pt::float4_to_sql(*f, buf),
        (Codec::Float4, v) if float(v, 24).is_some() => {
            let f = float(v, 24).unwrap_or_default();
            let narrow = f as f32;
            if f64::from(narrow) != f && !f.is_nan() {
                return Err(format!("{f} is not exactly representable as float4"));
            }
            pt::float4_to_sql(narrow, buf)
        }
        (Codec::Numeric, Value::Numeric(n)) => n.encode(buf)?,
        (Codec::Numeric, v) if int(v).is_some() => {
            let d = rust_decimal::Decimal::from(int(v).unwrap_or_default());
            crate::Numeric::Decimal(d).encode(buf)?
        }
        (Codec::Text | Codec::Json | Codec::Xml | Codec::Enum(_), v)
            if string_like(v).is_some() =>
        {
            buf.put_slice(string_like(v).unwrap_or_default().as_bytes())
        }
        (Codec::Jsonb, v) if string_like(v).is_some() => {
            buf.put_u8(1);
            buf.put_slice(string_like(v).unwrap_or_default().as_bytes())
        }
        (Codec::Char, Value::Char(c)) => buf.put_u8(*c),
        (Codec::Char, Value::Text(s)) if s.len() <= 1 => buf.put_u8(s.bytes().next().unwrap_or(0)),
        (Codec::Bytea, Value::Bytea(b)) => buf.put_slice(b),
        (Codec::Date, Value::Date(d)) => pt::date_to_sql(d.to_pg(), buf),
        (Codec::Time, Value::Time(t)) => pt::time_to_sql(time_to_pg(t), buf),
        (
            Codec::TimeTz,
            Value::TimeTz {
                time,
                offset_seconds,
            },
        ) => {
            buf.put_i64(time_to_pg(time));
            buf.put_i32(
                offset_seconds
                    .checked_neg()
                    .ok_or_else(|| out_of_range(offset_seconds))?,
            );
        }
        (Codec::Timestamp, Value::Timestamp(t)) => pt::timestamp_to_sql(t.to_pg()?, buf),
        (Codec::TimestampTz, Value::TimestampTz(t)) => pt::timestamp_to_sql(t.to_pg()?, buf),
        (Codec::Interval, Value::Interval(i)) => {
            buf.put_i64(i.microseconds);
            buf.put_i32(i.days);
            buf.put_i32(i.months);
        }
        (Codec::Uuid, Value::Uuid(u)) => pt::uuid_to_sql(*u, buf),
        (Codec::Oid, v) if int(v).is_some() => {
            let i = int(v).unwrap_or_default();
            pt::oid_to_sql(u32::try_from(i).map_err(|_| out_of_range(i))?, buf)
        }
        (Codec::Inet, Value::Inet { addr, prefix, .. }) => {
            let (family, max, octets) = match addr {
                std::net::IpAddr::V4(a) => (2u8, 32u8, a.octets().to_vec()),
                std::net::IpAddr::V6(a) => (3u8, 128u8, a.octets().to_vec()),
            };
            if *prefix > max {
                return Err(format!("prefix length {prefix} is out of range"));
            }
            buf.put_slice(&[
                family,
                *prefix,
                u8::from(ty_is_cidr(ty)),
                octets.len() as u8,
            ]);
            buf.put_slice(&octets);
        }
        (Codec::MacAddr, Value::MacAddr(m)) => pt::macaddr_to_sql(*m, buf),
        (Codec::MacAddr8, Value::MacAddr8(m)) => buf.put_slice(m),
        (Codec::Bit, Value::Bit(b)) => {
            if b.bytes.len() != b.len_bits.div_ceil(8) {
                return Err(format!("{} bytes for {} bits", b.bytes.len(), b.len_bits));
            }
            pt::varbit_to_sql(b.len_bits, b.bytes.iter().copied(), buf)
                .map_err(|e| e.to_string())?
        }
        (Codec::Point, Value::Point(p)) => pt::point_to_sql(p.x, p.y, buf),
        (Codec::Lseg, Value::Lseg(l)) => {
            pt::box_to_sql(l.start.x, l.start.y, l.end.x, l.end.y, buf)
        }
        (Codec::Box, Value::Box(b)) => pt::box_to_sql(b.high.x, b.high.y, b.low.x, b.low.y, buf),
        (Codec::Path, Value::Path { closed, points }) => {
            pt::path_to_sql(*closed, points.iter().map(|p| (p.x, p.y)), buf)
                .map_err(|e| e.to_string())?
        }
        (Codec::Polygon, Value::Polygon(points)) => {
            buf.put_i32(i32::try_from(points.len()).map_err(|_| "too many points")?);
            for p in points {
                pt::point_to_sql(p.x, p.y, buf);
            }
        }
        (Codec::Line, Value::Line { a, b, c }) => {
            buf.put_f64(*a);
            buf.put_f64(*b);
            buf.put_f64(*c);
        }
        (Codec::Circle, Value::Circle(c)) => {
            pt::point_to_sql(c.center.x, c.center.y, buf);
            buf.put_f64(c.radius);
        }
        (Codec::Money, Value::Money(m)) => pt::int8_to_sql(*m, buf),
        (Codec::Hstore, Value::Hstore(map)) => {
            pt::hstore_to_sql(map.iter().map(|(k, v)| (k.as_str(), v.as_deref())), buf)
                .map_err(|e| e.to_string())?
        }
        (Codec::Array(elem), Value::Array(a)) => container::array(elem, a, buf)?,
        (Codec::Range(sub), Value::Range(r)) => container::range(sub, r, buf)?,
        (Codec::Multirange(range), Value::Multirange(rs)) => container::multirange(range, rs, buf)?,
        (Codec::Composite(fields), Value::Composite(row)) => {
            container::composite(Some(fields), row, buf)?
        }
        (Codec::Record, Value::Composite(row)) => container::composite(None, row, buf)?,
        (Codec::None, _) => {
            return Err(
                "the type has no binary codec; send its text form as a Value::Unknown".into(),
            );
        }
        _ => return mismatch(),
    }
    Ok(IsNull::No)
}

/// Whether `ty` (or the base of a domain over it) is `cidr`.
pub(crate) fn ty_is_cidr(ty: &Type) -> bool {
    let mut t = ty;
    while let postgres_types::Kind::Domain(base) = t.kind() {
        t = base;
    }
    t.oid() == 650
}
