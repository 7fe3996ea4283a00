//! Binary encoding of containers: arrays, ranges, multiranges, composites and records.

use crate::Value;
use bytes::{BufMut, BytesMut};
use postgres_types::{Field, IsNull, Type};

use crate::array::element_count;
use crate::decode_container::MAX_DIMS;
use crate::encode::{Result, encode_at, write_nullable};
use crate::{Array, Range, RangeBound, Row};

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;

pub(crate) fn array(elem: &Type, a: &Array, buf: &mut BytesMut) -> Result<()> {
    if a.dims.len() > MAX_DIMS {
        return Err(format!("{} dimensions (at most {MAX_DIMS})", a.dims.len()));
    }
    match element_count(&a.dims) {
        Some(n) if n == a.elements.len() => {}
        _ => {
            return Err(format!(
                "dimensions {:?} do not hold {} elements",
                a.dims,
                a.elements.len()
            ));
        }
    }
    buf.put_i32(a.dims.len() as i32);
    buf.put_i32(i32::from(a.elements.iter().any(|v| v.is_null())));
    buf.put_u32(elem.oid());
    for d in &a.dims {
        buf.put_i32(d.len);
        buf.put_i32(d.lower_bound);
    }
    for (i, v) in a.elements.iter().enumerate() {
        write_nullable(buf, |buf| encode_at(elem, v, buf))
            .map_err(|m| format!("element {}: {m}", i + 1))?;
    }
    Ok(())
}

fn bound(sub: &Type, b: &RangeBound, buf: &mut BytesMut, which: &str) -> Result<()> {
    if let Some(v) = b.value() {
        if v.is_null() {
            return Err(format!(
                "the {which} bound is NULL (use RangeBound::Unbounded)"
            ));
        }
        write_nullable(buf, |buf| encode_at(sub, v, buf))
            .map_err(|m| format!("{which} bound: {m}"))?;
    }
    Ok(())
}

fn range_body(sub: &Type, r: &Range, buf: &mut BytesMut) -> Result<()> {
    if r.empty {
        buf.put_u8(RANGE_EMPTY);
        return Ok(());
    }
    let flags = match r.lower {
        RangeBound::Inclusive(_) => RANGE_LB_INC,
        RangeBound::Exclusive(_) => 0,
        RangeBound::Unbounded => RANGE_LB_INF,
    } | match r.upper {
        RangeBound::Inclusive(_) => RANGE_UB_INC,
        RangeBound::Exclusive(_) => 0,
        RangeBound::Unbounded => RANGE_UB_INF,
    };
    buf.put_u8(flags);
    bound(sub, &r.lower, buf, "lower")?;
    bound(sub, &r.upper, buf, "upper")
}

pub(crate) fn range(sub: &Type, r: &Range, buf: &mut BytesMut) -> Result<()> {
    range_body(sub, r, buf)
}

pub(crate) fn multirange(of: &Type, ranges: &[Range], buf: &mut BytesMut) -> Result<()> {
    let sub = crate::decode_container::multirange_subtype(of);
    buf.put_i32(i32::try_from(ranges.len()).map_err(|_| "too many ranges")?);
    for (i, r) in ranges.iter().enumerate() {
        write_nullable(buf, |buf| range_body(sub, r, buf).map(|()| IsNull::No))
            .map_err(|m| format!("range {}: {m}", i + 1))?;
    }
    Ok(())
}

/// A composite of the attribute types `fields`, or (`None`) an anonymous record typed
/// by the row's own columns.
/// Encodes a composite from a row. With the type's fields known, a row whose column names are
/// all attribute names is matched by name, attributes it lacks being NULL (a row or a map as
/// the composite's value); otherwise values go by position and their count must match.
pub(crate) fn composite(fields: Option<&[Field]>, row: &Row, buf: &mut BytesMut) -> Result<()> {
    let Some(fields) = fields else {
        buf.put_i32(i32::try_from(row.len()).map_err(|_| "too many attributes")?);
        for i in 0..row.len() {
            let column = &row.columns()[i];
            let value = row.value(i).map_err(|e| e.message().to_owned())?;
            buf.put_u32(column.type_.oid());
            write_nullable(buf, |buf| encode_at(&column.type_, &value, buf))
                .map_err(|m| format!("attribute {:?}: {m}", column.name))?;
        }
        return Ok(());
    };
    let by_name = row.len() <= fields.len()
        && row
            .columns()
            .iter()
            .all(|c| fields.iter().any(|f| f.name() == c.name));
    if !by_name && fields.len() != row.len() {
        return Err(format!(
            "{} values for a composite of {} attributes",
            row.len(),
            fields.len()
        ));
    }
    buf.put_i32(i32::try_from(fields.len()).map_err(|_| "too many attributes")?);
    for (i, field) in fields.iter().enumerate() {
        let index = if by_name {
            row.index_from_key(field.name())
        } else {
            Some(i)
        };
        let value = match index {
            Some(index) => row.value(index).map_err(|e| e.message().to_owned())?,
            None => Value::Null,
        };
        buf.put_u32(field.type_().oid());
        write_nullable(buf, |buf| encode_at(field.type_(), &value, buf))
            .map_err(|m| format!("attribute {:?}: {m}", field.name()))?;
    }
    Ok(())
}
