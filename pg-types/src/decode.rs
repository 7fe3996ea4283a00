//! Binary decoding of scalar values; containers are in `decode_container`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use indexmap::IndexMap;
use pg_exceptions::Error;
use postgres_protocol::types as pt;
use postgres_types::Type;

use crate::codec::{Codec, codec};
use crate::datetime::{Date, Interval, Timestamp, TimestampTz, time_from_pg};
use crate::decode_container as container;
use crate::error::decode_error;
use crate::registry::TypeRegistry;
use crate::{BitString, Circle, GeoBox, Lseg, Numeric, Point, Value};

/// The deepest nesting of containers (arrays, records, ranges) decoded; deeper input is
/// an error, so that hostile input cannot exhaust the stack through anonymous records.
pub(crate) const MAX_DEPTH: usize = 32;

pub(crate) type Result<T> = std::result::Result<T, String>;

/// Decodes the binary form of a value of type `ty` (the value of a non-NULL column or
/// parameter). Domains decode as their base type. A type without a binary codec gives
/// [`Value::Unknown`] with the bytes; no input makes this panic.
pub fn decode(ty: &Type, raw: &[u8]) -> std::result::Result<Value, Error> {
    decode_with(ty, raw, None)
}

/// [`decode`], with the types of `types` for the attributes of anonymous records: an
/// attribute whose type OID is there (a named composite, an enum, an array of either, …)
/// decodes as that type; one whose OID is neither a builtin nor there is
/// [`Value::Unknown`].
pub fn decode_with(
    ty: &Type,
    raw: &[u8],
    types: Option<&TypeRegistry>,
) -> std::result::Result<Value, Error> {
    decode_at(ty, raw, Cx { depth: 0, types }).map_err(|m| decode_error(ty, m))
}

/// [`decode`] of a value that may be NULL (`None`), which is [`Value::Null`].
pub fn decode_opt(ty: &Type, raw: Option<&[u8]>) -> std::result::Result<Value, Error> {
    decode_opt_with(ty, raw, None)
}

/// [`decode_with`] of a value that may be NULL (`None`), which is [`Value::Null`].
pub fn decode_opt_with(
    ty: &Type,
    raw: Option<&[u8]>,
    types: Option<&TypeRegistry>,
) -> std::result::Result<Value, Error> {
    match raw {
        None => Ok(Value::Null),
        Some(raw) => decode_with(ty, raw, types),
    }
}

/// Where a decoder is: its container depth, and the types records' attributes may name.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'a> {
    pub(crate) depth: usize,
    pub(crate) types: Option<&'a TypeRegistry>,
}

impl Cx<'_> {
    /// One container deeper.
    pub(crate) fn deeper(self) -> Self {
        Cx {
            depth: self.depth + 1,
            ..self
        }
    }
}

/// Decodes at container depth `depth`, errors as plain messages.
pub(crate) fn decode_at(ty: &Type, raw: &[u8], cx: Cx<'_>) -> Result<Value> {
    if cx.depth > MAX_DEPTH {
        return Err(format!("values nested deeper than {MAX_DEPTH} levels"));
    }
    match codec(ty) {
        Codec::Array(elem) => container::array(elem, raw, cx.deeper()),
        Codec::Range(sub) => container::range(sub, raw, cx.deeper()),
        Codec::Multirange(range) => container::multirange(range, raw, cx.deeper()),
        Codec::Composite(fields) => container::composite(Some(fields), raw, cx.deeper()),
        Codec::Record => container::composite(None, raw, cx.deeper()),
        Codec::Enum(enum_ty) => Ok(Value::Enum {
            type_name: enum_ty.name().to_owned(),
            label: utf8(raw)?,
        }),
        Codec::None => Ok(Value::Unknown {
            type_oid: ty.oid(),
            text: None,
            binary: Some(raw.to_vec()),
        }),
        // PostgreSQL's inet/cidr receive ignores the header's cidr flag: the type decides.
        Codec::Inet => inet(raw, crate::encode::ty_is_cidr(ty)),
        scalar => decode_scalar(scalar, raw),
    }
}

fn utf8(raw: &[u8]) -> Result<String> {
    pt::text_from_sql(raw)
        .map(str::to_owned)
        .map_err(|e| e.to_string())
}

/// Exactly `N` big-endian `f64`s.
fn floats<const N: usize>(raw: &[u8]) -> Result<[f64; N]> {
    if raw.len() != N * 8 {
        return Err(format!("expected {} bytes, got {}", N * 8, raw.len()));
    }
    let mut out = [0.0; N];
    for (o, c) in out.iter_mut().zip(raw.chunks_exact(8)) {
        *o = f64::from_be_bytes(c.try_into().unwrap_or_default());
    }
    Ok(out)
}

/// A list of points after a header of `header` bytes whose last four are the count.
fn points(raw: &[u8], header: usize) -> Result<Vec<Point>> {
    let count = raw
        .get(header - 4..header)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or("value shorter than its header")?;
    let body = &raw[header..];
    let count = usize::try_from(count).map_err(|_| "negative point count")?;
    if body.len() / 16 != count || !body.len().is_multiple_of(16) {
        return Err(format!("{count} points in {} bytes", body.len()));
    }
    Ok(body
        .chunks_exact(16)
        .map(|c| {
            let [x, y] = floats::<2>(c).unwrap_or_default();
            Point { x, y }
        })
        .collect())
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N]> {
    raw.try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", raw.len()))
}

fn decode_scalar(codec: Codec<'_>, raw: &[u8]) -> Result<Value> {
    let e = |e: Box<dyn std::error::Error + Sync + Send>| e.to_string();
    Ok(match codec {
        Codec::Bool => Value::Bool(pt::bool_from_sql(raw).map_err(e)?),
        Codec::Int2 => Value::Int2(pt::int2_from_sql(raw).map_err(e)?),
        Codec::Int4 => Value::Int4(pt::int4_from_sql(raw).map_err(e)?),
        Codec::Int8 => Value::Int8(pt::int8_from_sql(raw).map_err(e)?),
        Codec::Float4 => Value::Float4(pt::float4_from_sql(raw).map_err(e)?),
        Codec::Float8 => Value::Float8(pt::float8_from_sql(raw).map_err(e)?),
        Codec::Numeric => Value::Numeric(Numeric::decode(raw)?),
        Codec::Text => Value::Text(utf8(raw)?),
        Codec::Char => Value::Char(pt::char_from_sql(raw).map_err(e)? as u8),
        Codec::Bytea => Value::Bytea(raw.to_vec()),
        Codec::Date => Value::Date(Date::from_pg(pt::date_from_sql(raw).map_err(e)?)?),
        Codec::Time => Value::Time(time_from_pg(pt::time_from_sql(raw).map_err(e)?)?),
        Codec::TimeTz => {
            let [a, b, c, d, f, g, h, i, z0, z1, z2, z3] = fixed::<12>(raw)?;
            let time = time_from_pg(i64::from_be_bytes([a, b, c, d, f, g, h, i]))?;
            let west = i32::from_be_bytes([z0, z1, z2, z3]);
            let offset_seconds = west
                .checked_neg()
                .ok_or_else(|| format!("invalid time zone offset {west}"))?;
            Value::TimeTz {
                time,
                offset_seconds,
            }
        }
        Codec::Timestamp => {
            Value::Timestamp(Timestamp::from_pg(pt::timestamp_from_sql(raw).map_err(e)?)?)
        }
        Codec::TimestampTz => Value::TimestampTz(TimestampTz::from_pg(
            pt::timestamp_from_sql(raw).map_err(e)?,
        )?),
        Codec::Interval => {
            let [a, b, c, d, f, g, h, i, d0, d1, d2, d3, m0, m1, m2, m3] = fixed::<16>(raw)?;
            Value::Interval(Interval {
                microseconds: i64::from_be_bytes([a, b, c, d, f, g, h, i]),
                days: i32::from_be_bytes([d0, d1, d2, d3]),
                months: i32::from_be_bytes([m0, m1, m2, m3]),
            })
        }
        Codec::Uuid => Value::Uuid(pt::uuid_from_sql(raw).map_err(e)?),
        Codec::Json => Value::Json(utf8(raw)?),
        Codec::Jsonb => match raw.split_first() {
            Some((1, text)) => Value::Jsonb(utf8(text)?),
            Some((v, _)) => return Err(format!("unsupported jsonb version {v}")),
            None => return Err("empty jsonb value".into()),
        },
        Codec::Xml => Value::Xml(utf8(raw)?),
        Codec::Oid => Value::Oid(pt::oid_from_sql(raw).map_err(e)?),
        // Not reached: `decode_at` decodes inet with its type's cidr flag.
        Codec::Inet => inet(raw, false)?,
        Codec::MacAddr => Value::MacAddr(pt::macaddr_from_sql(raw).map_err(e)?),
        Codec::MacAddr8 => Value::MacAddr8(fixed::<8>(raw)?),
        Codec::Bit => {
            let v = pt::varbit_from_sql(raw).map_err(e)?;
            Value::Bit(BitString {
                len_bits: v.len(),
                bytes: v.bytes().to_vec(),
            })
        }
        Codec::Point => {
            let [x, y] = floats::<2>(raw)?;
            Value::Point(Point { x, y })
        }
        Codec::Lseg => {
            let [x1, y1, x2, y2] = floats::<4>(raw)?;
            Value::Lseg(Lseg {
                start: Point::new(x1, y1),
                end: Point::new(x2, y2),
            })
        }
        Codec::Box => {
            let [x1, y1, x2, y2] = floats::<4>(raw)?;
            Value::Box(GeoBox {
                high: Point::new(x1, y1),
                low: Point::new(x2, y2),
            })
        }
        Codec::Path => Value::Path {
            closed: *raw.first().ok_or("empty path value")? != 0,
            points: points(raw, 5)?,
        },
        Codec::Polygon => Value::Polygon(points(raw, 4)?),
        Codec::Line => {
            let [a, b, c] = floats::<3>(raw)?;
            Value::Line { a, b, c }
        }
        Codec::Circle => {
            let [x, y, radius] = floats::<3>(raw)?;
            Value::Circle(Circle {
                center: Point::new(x, y),
                radius,
            })
        }
        Codec::Money => Value::Money(pt::int8_from_sql(raw).map_err(e)?),
        Codec::Hstore => hstore(raw)?,
        // Containers are handled by `decode_at`.
        _ => return Err("no scalar codec".into()),
    })
}

fn inet(raw: &[u8], cidr: bool) -> Result<Value> {
    let [family, prefix, _, len, addr @ ..] = raw else {
        return Err("inet value shorter than its header".into());
    };
    let (addr, max_prefix) = match (family, len, addr.len()) {
        (2, 4, 4) => (IpAddr::V4(Ipv4Addr::from(fixed::<4>(addr)?)), 32),
        (3, 16, 16) => (IpAddr::V6(Ipv6Addr::from(fixed::<16>(addr)?)), 128),
        _ => return Err(format!("invalid inet family {family} or length {len}")),
    };
    if *prefix > max_prefix {
        return Err(format!("invalid inet prefix length {prefix}"));
    }
    Ok(Value::Inet {
        addr,
        prefix: *prefix,
        cidr,
    })
}

fn hstore(raw: &[u8]) -> Result<Value> {
    use fallible_iterator::FallibleIterator;
    let mut entries = pt::hstore_from_sql(raw).map_err(|e| e.to_string())?;
    // Each entry takes at least 8 bytes: cap the preallocation by what is there.
    let mut map = IndexMap::with_capacity(raw.len() / 8);
    while let Some((k, v)) = entries.next().map_err(|e| e.to_string())? {
        map.insert(k.to_owned(), v.map(str::to_owned));
    }
    Ok(Value::Hstore(map))
}
