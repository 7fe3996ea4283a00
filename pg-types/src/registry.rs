//! The types a session has read from its catalog, shared with the column descriptors of
//! its results so that anonymous records can decode the named types inside them.
//!
//! An anonymous `record` carries each attribute's type as an OID in its binary body, so
//! the types inside one are known only once a row has arrived. A reader of rows finds the
//! OIDs it does not know with [`Row::unknown_record_types`](crate::Row::unknown_record_types)
//! (or [`unknown_record_types`] for one value), reads them from the catalog
//! ([`type_catalog_query`](crate::type_catalog_query)), adds them to the registry, and the
//! row's record values then decode them as composites, enums, arrays, ranges, …

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use fallible_iterator::FallibleIterator;
use postgres_protocol::types as pt;
use postgres_types::Type;

use crate::codec::{Codec, codec};
use crate::decode::MAX_DEPTH;

/// A shared, thread-safe map of type OIDs to [`Type`]s beyond the builtins. Clones are
/// handles on the same map.
#[derive(Clone, Default)]
pub struct TypeRegistry(Arc<RwLock<HashMap<u32, Type>>>);

impl TypeRegistry {
    /// An empty registry.
    pub fn new() -> TypeRegistry {
        TypeRegistry::default()
    }

    /// The type of `oid`: a builtin, or one added here.
    pub fn get(&self, oid: u32) -> Option<Type> {
        Type::from_oid(oid).or_else(|| {
            self.0
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&oid)
                .cloned()
        })
    }

    /// Whether `oid` is a builtin or was added here.
    pub fn contains(&self, oid: u32) -> bool {
        Type::from_oid(oid).is_some()
            || (self.0.read().unwrap_or_else(PoisonError::into_inner)).contains_key(&oid)
    }

    /// Adds types (replacing any of the same OID).
    pub fn extend(&self, types: impl IntoIterator<Item = Type>) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        for ty in types {
            map.insert(ty.oid(), ty);
        }
    }

    /// How many types were added.
    pub fn len(&self) -> usize {
        self.0.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no type was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for TypeRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypeRegistry({} types)", self.len())
    }
}

/// Whether values of `ty` can hold anonymous records (whose attribute types travel as OIDs):
/// `record`, arrays of it, domains over those. Only their values need
/// [`unknown_record_types`].
pub fn holds_records(ty: &Type) -> bool {
    holds(ty, 0)
}

fn holds(ty: &Type, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match codec(ty) {
        Codec::Record => true,
        Codec::Array(elem) => holds(elem, depth + 1),
        Codec::Composite(fields) => fields.iter().any(|f| holds(f.type_(), depth + 1)),
        _ => false,
    }
}

/// The OIDs named inside a binary value of `ty` that are neither builtins nor in `known`:
/// the attribute types of its anonymous records, at any depth (records in records, arrays
/// of records). Appended to `out` once each. Malformed input ends the scan quietly, as
/// decoding reports it.
pub fn unknown_record_types(ty: &Type, raw: &[u8], known: &TypeRegistry, out: &mut Vec<u32>) {
    // The scan stops at the first malformed part; decoding says what is wrong.
    let _ = scan(ty, raw, known, out, 0);
}

fn scan(
    ty: &Type,
    raw: &[u8],
    known: &TypeRegistry,
    out: &mut Vec<u32>,
    depth: usize,
) -> Option<()> {
    if depth > MAX_DEPTH || !holds(ty, 0) {
        return Some(());
    }
    match codec(ty) {
        Codec::Record => scan_record(raw, known, out, depth),
        Codec::Array(elem) => {
            let array = pt::array_from_sql(raw).ok()?;
            let mut values = array.values();
            while let Some(v) = values.next().ok()? {
                if let Some(v) = v {
                    scan(elem, v, known, out, depth + 1)?;
                }
            }
            Some(())
        }
        Codec::Composite(fields) => {
            let mut buf = raw;
            let count = take_i32(&mut buf)?;
            for i in 0..usize::try_from(count).ok()? {
                let (_, value) = take_attribute(&mut buf)?;
                if let (Some(field), Some(value)) = (fields.get(i), value) {
                    scan(field.type_(), value, known, out, depth + 1)?;
                }
            }
            Some(())
        }
        _ => Some(()),
    }
}

fn scan_record(raw: &[u8], known: &TypeRegistry, out: &mut Vec<u32>, depth: usize) -> Option<()> {
    let mut buf = raw;
    let count = take_i32(&mut buf)?;
    for _ in 0..usize::try_from(count).ok()? {
        let (oid, value) = take_attribute(&mut buf)?;
        match known.get(oid) {
            Some(ty) => {
                if let Some(value) = value {
                    scan(&ty, value, known, out, depth + 1)?;
                }
            }
            None if !out.contains(&oid) => out.push(oid),
            None => {}
        }
    }
    Some(())
}

fn take_i32(buf: &mut &[u8]) -> Option<i32> {
    let (head, rest) = buf.split_first_chunk::<4>()?;
    *buf = rest;
    Some(i32::from_be_bytes(*head))
}

/// A record attribute: its type OID and its value (`None`: NULL).
fn take_attribute<'a>(buf: &mut &'a [u8]) -> Option<(u32, Option<&'a [u8]>)> {
    let oid = take_i32(buf)? as u32;
    let len = take_i32(buf)?;
    if len < 0 {
        return Some((oid, None));
    }
    let (value, rest) = buf.split_at_checked(usize::try_from(len).ok()?)?;
    *buf = rest;
    Some((oid, Some(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Value, encode};
    use bytes::BytesMut;
    use postgres_types::{Field, Kind};

    /// A record of (int4 1, a value of type `oid` given as raw bytes).
    fn record_with(oid: u32, inner: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(2i32.to_be_bytes());
        b.extend(23u32.to_be_bytes());
        b.extend(4i32.to_be_bytes());
        b.extend(1i32.to_be_bytes());
        b.extend(oid.to_be_bytes());
        b.extend((inner.len() as i32).to_be_bytes());
        b.extend(inner);
        b
    }

    fn pair_type() -> Type {
        Type::new(
            "pair".into(),
            90_001,
            Kind::Composite(vec![
                Field::new("a".into(), Type::INT4),
                Field::new("b".into(), Type::TEXT),
            ]),
            "public".into(),
        )
    }

    fn pair_body() -> Vec<u8> {
        let mut buf = BytesMut::new();
        let value = crate::Value::Composite(crate::Row::from_values(
            crate::Columns::new(vec![
                crate::Column::new("a", Type::INT4),
                crate::Column::new("b", Type::TEXT),
            ]),
            vec![Value::Int4(2), Value::from("x")],
        ));
        encode(&pair_type(), &value, &mut buf).unwrap();
        buf.to_vec()
    }

    #[test]
    fn finds_named_types_inside_records_and_arrays_of_records() {
        let known = TypeRegistry::new();
        let inner = pair_body();
        let record = record_with(90_001, &inner);
        let mut out = Vec::new();
        unknown_record_types(&Type::RECORD, &record, &known, &mut out);
        assert_eq!(out, [90_001]);
        // A record inside a record.
        let outer = record_with(2249, &record);
        out.clear();
        unknown_record_types(&Type::RECORD, &outer, &known, &mut out);
        assert_eq!(out, [90_001]);
        // Known: nothing to find, and the record decodes it as a composite.
        known.extend([pair_type()]);
        out.clear();
        unknown_record_types(&Type::RECORD, &outer, &known, &mut out);
        assert!(out.is_empty());
        let value = crate::decode_with(&Type::RECORD, &outer, Some(&known)).unwrap();
        let Value::Composite(row) = value else {
            panic!("{value:?}")
        };
        let Value::Composite(nested) = row.value(1).unwrap() else {
            panic!()
        };
        let Value::Composite(pair) = nested.value(1).unwrap() else {
            panic!()
        };
        assert_eq!(pair.column_names(), ["a", "b"]);
        // Without the registry it stays unknown.
        let plain = crate::decode(&Type::RECORD, &record).unwrap();
        assert!(matches!(
            plain.as_row().unwrap().value(1).unwrap(),
            Value::Unknown { .. }
        ));
    }

    #[test]
    fn malformed_records_end_the_scan_quietly() {
        let known = TypeRegistry::new();
        let record = record_with(90_001, &pair_body());
        let mut out = Vec::new();
        for cut in 0..record.len() {
            unknown_record_types(&Type::RECORD, &record[..cut], &known, &mut out);
        }
        unknown_record_types(&Type::RECORD, &[0xff; 12], &known, &mut out);
        assert!(out.iter().all(|&o| o == 90_001));
        assert!(holds_records(&Type::RECORD_ARRAY));
        assert!(!holds_records(&Type::INT4_ARRAY));
    }
}
