//! Binary decoding of containers: arrays, ranges, multiranges, composites and records.
//!
//! Every count read from the input is checked against the bytes that remain before
//! anything is sized by it.

use std::sync::Arc;

use fallible_iterator::FallibleIterator;
use postgres_protocol::types as pt;
use postgres_types::{Field, Kind, Type};

use crate::codec::{Codec, codec};
use crate::decode::{Cx, Result, decode_at};
use crate::registry::TypeRegistry;
use crate::{Array, Column, Columns, Dim, Range, RangeBound, Row, Value};

/// PostgreSQL's limit on array dimensions (`MAXDIM`).
pub(crate) const MAX_DIMS: usize = 6;

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;

/// Splits a big-endian `i32` off the front.
fn take_i32(buf: &mut &[u8]) -> Result<i32> {
    let Some((head, rest)) = buf.split_first_chunk::<4>() else {
        return Err("value ends before a length field".into());
    };
    *buf = rest;
    Ok(i32::from_be_bytes(*head))
}

/// Splits a length-prefixed value (`-1`: NULL) off the front.
fn take_value<'a>(buf: &mut &'a [u8]) -> Result<Option<&'a [u8]>> {
    let len = take_i32(buf)?;
    if len < 0 {
        return Ok(None);
    }
    let Some((value, rest)) = buf.split_at_checked(len as usize) else {
        return Err(format!("a value of {len} bytes runs past the end"));
    };
    *buf = rest;
    Ok(Some(value))
}

fn nullable(ty: &Type, raw: Option<&[u8]>, cx: Cx<'_>) -> Result<Value> {
    raw.map_or(Ok(Value::Null), |raw| decode_at(ty, raw, cx))
}

pub(crate) fn array(elem: &Type, raw: &[u8], cx: Cx<'_>) -> Result<Value> {
    let array = pt::array_from_sql(raw).map_err(|e| e.to_string())?;
    let dims: Vec<Dim> = array
        .dimensions()
        .map(|d| {
            Ok(Dim {
                len: d.len,
                lower_bound: d.lower_bound,
            })
        })
        .collect()
        .map_err(|e| e.to_string())?;
    if dims.len() > MAX_DIMS {
        return Err(format!(
            "{} dimensions (PostgreSQL allows {MAX_DIMS})",
            dims.len()
        ));
    }
    // The declared element type decides, whatever OID the header carries (as the encoder
    // writes the declared one), so that a decoded array encodes back to itself.
    let mut values = array.values();
    // Every element takes at least its 4-byte length.
    let mut elements = Vec::with_capacity(values.size_hint().0.min(raw.len() / 4));
    let mut index = 0usize;
    while let Some(v) = values.next().map_err(|e| e.to_string())? {
        index += 1;
        elements.push(nullable(elem, v, cx).map_err(|m| format!("element {index}: {m}"))?);
    }
    Ok(Value::Array(Array {
        element_type: elem.clone(),
        dims,
        elements,
    }))
}

fn bound(sub: &Type, buf: &mut &[u8], inclusive: bool, cx: Cx<'_>) -> Result<RangeBound> {
    let value = Box::new(nullable(sub, take_value(buf)?, cx)?);
    Ok(if inclusive {
        RangeBound::Inclusive(value)
    } else {
        RangeBound::Exclusive(value)
    })
}

pub(crate) fn range(sub: &Type, raw: &[u8], cx: Cx<'_>) -> Result<Value> {
    decode_range(sub, raw, cx).map(Value::Range)
}

fn decode_range(sub: &Type, raw: &[u8], cx: Cx<'_>) -> Result<Range> {
    let Some((&flags, mut buf)) = raw.split_first() else {
        return Err("empty range value".into());
    };
    if flags & RANGE_EMPTY != 0 {
        return if buf.is_empty() {
            Ok(Range::empty())
        } else {
            Err("trailing bytes after an empty range".into())
        };
    }
    let lower = if flags & RANGE_LB_INF != 0 {
        RangeBound::Unbounded
    } else {
        bound(sub, &mut buf, flags & RANGE_LB_INC != 0, cx)?
    };
    let upper = if flags & RANGE_UB_INF != 0 {
        RangeBound::Unbounded
    } else {
        bound(sub, &mut buf, flags & RANGE_UB_INC != 0, cx)?
    };
    if !buf.is_empty() {
        return Err("trailing bytes after a range's bounds".into());
    }
    Ok(Range::new(lower, upper))
}

pub(crate) fn multirange(of: &Type, raw: &[u8], cx: Cx<'_>) -> Result<Value> {
    let sub = multirange_subtype(of);
    let mut buf = raw;
    let count = take_i32(&mut buf)?;
    let count = usize::try_from(count).map_err(|_| "negative range count")?;
    let mut ranges = Vec::with_capacity(count.min(buf.len() / 5));
    for i in 0..count {
        let item = take_value(&mut buf)?.ok_or_else(|| format!("range {} is NULL", i + 1))?;
        ranges.push(
            decode_range(sub, item, cx.deeper()).map_err(|m| format!("range {}: {m}", i + 1))?,
        );
    }
    if !buf.is_empty() {
        return Err("trailing bytes after a multirange's ranges".into());
    }
    Ok(Value::Multirange(ranges))
}

/// The subtype of a multirange whose `Kind::Multirange` names `of`: postgres-types'
/// builtins (and the catalog here) name the subtype; a range type is accepted too.
pub(crate) fn multirange_subtype(of: &Type) -> &Type {
    match codec(of) {
        Codec::Range(sub) => sub,
        _ => of,
    }
}

/// A type for an attribute OID of an anonymous record: the builtin, one of the session's
/// types, or a stand-in that decodes to `Value::Unknown`.
fn type_for_oid(oid: u32, types: Option<&TypeRegistry>) -> Type {
    types
        .and_then(|t| t.get(oid))
        .or_else(|| Type::from_oid(oid))
        .unwrap_or_else(|| Type::new(oid.to_string(), oid, Kind::Pseudo, String::new()))
}

/// A composite value (`fields` given) or an anonymous record (attribute names `f1`, `f2`,
/// … and types by the OIDs the value carries).
pub(crate) fn composite(fields: Option<&[Field]>, raw: &[u8], cx: Cx<'_>) -> Result<Value> {
    let mut buf = raw;
    let count = take_i32(&mut buf)?;
    let count = usize::try_from(count).map_err(|_| "negative attribute count")?;
    if let Some(fields) = fields
        && fields.len() != count
    {
        return Err(format!("{count} attributes for a type of {}", fields.len()));
    }
    // Every attribute takes at least 8 bytes (OID and length).
    let capacity = count.min(buf.len() / 8);
    let mut columns = Vec::with_capacity(capacity);
    let mut values = Vec::with_capacity(capacity);
    for i in 0..count {
        let Some((oid, rest)) = buf.split_first_chunk::<4>() else {
            return Err("record ends before an attribute's OID".into());
        };
        let oid = u32::from_be_bytes(*oid);
        buf = rest;
        let raw = take_value(&mut buf)?;
        let (name, ty) = match fields.and_then(|f| f.get(i)) {
            Some(f) => (f.name().to_owned(), f.type_().clone()),
            None => (format!("f{}", i + 1), type_for_oid(oid, cx.types)),
        };
        let value = nullable(&ty, raw, cx).map_err(|m| format!("attribute {name:?}: {m}"))?;
        columns.push(Column::new(name, ty));
        values.push(value);
    }
    if !buf.is_empty() {
        return Err("trailing bytes after a record's attributes".into());
    }
    let columns: Arc<Columns> = Columns::new(columns);
    Ok(Value::Composite(Row::from_values(columns, values)))
}
