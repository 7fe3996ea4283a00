//! Type information from the server's catalog, for types `postgres_types::Type` does not
//! know (enums, composites, domains, ranges, extension types, and arrays of them).

use std::collections::{HashMap, HashSet};

use pg_exceptions::Error;
use postgres_types::{Field, Kind, Type};

use crate::error::type_io_error;

/// The SQL that describes the types of the OIDs in `$1` (an `oid[]`) and, recursively,
/// every type they depend on: array elements, domain bases, range and multirange subtypes,
/// composite attribute types. A multirange's `Kind::Multirange` names its subtype, as
/// postgres-types' builtin multiranges do (`INT4MULTI_RANGE` is `Multirange(INT4)`); its
/// range type is not needed to decode it.
///
/// Run it prepared with the OIDs as its parameter, or through the simple query protocol
/// as [`type_catalog_query`] gives it. Its rows (in text) go to [`types_from_catalog`].
/// Each row is `(entry, oid, typname, nspname, typtype, dependency, position, item)`:
/// entry `t` describes a type (`dependency` being its element, base or subtype),
/// `e` is one enum label (`item`, in `position` order), `a` one composite attribute
/// (`item` its name, `dependency` its type, `position` its number).
pub const TYPE_CATALOG_QUERY: &str = "\
WITH RECURSIVE wanted(oid) AS (
    SELECT unnest($1::pg_catalog.oid[])
  UNION
    SELECT dep.oid
    FROM wanted w
    JOIN pg_catalog.pg_type t ON t.oid = w.oid
    CROSS JOIN LATERAL (
        SELECT t.typelem WHERE t.typelem <> 0 AND t.typlen = -1
        UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'
        UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r
            WHERE t.typtype = 'r' AND r.rngtypid = t.oid
        UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r
            WHERE t.typtype = 'm' AND (pg_catalog.to_jsonb(r) ->> 'rngmultitypid')::pg_catalog.oid = t.oid
        UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
            WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
    ) AS dep(oid)
)
SELECT 't', t.oid, t.typname::text, n.nspname::text, t.typtype::text,
    CASE
        WHEN t.typtype = 'd' THEN t.typbasetype
        WHEN t.typtype = 'r' THEN (SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid)
        WHEN t.typtype = 'm' THEN (SELECT r.rngsubtype FROM pg_catalog.pg_range r
            WHERE (pg_catalog.to_jsonb(r) ->> 'rngmultitypid')::pg_catalog.oid = t.oid)
        WHEN t.typelem <> 0 AND t.typlen = -1 THEN t.typelem
    END,
    NULL::pg_catalog.int4, NULL::pg_catalog.text
FROM wanted w
JOIN pg_catalog.pg_type t ON t.oid = w.oid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
UNION ALL
SELECT 'e', e.enumtypid, NULL, NULL, NULL, NULL,
    pg_catalog.row_number() OVER (PARTITION BY e.enumtypid ORDER BY e.enumsortorder)::pg_catalog.int4,
    e.enumlabel::pg_catalog.text
FROM wanted w
JOIN pg_catalog.pg_enum e ON e.enumtypid = w.oid
UNION ALL
SELECT 'a', t.oid, NULL, NULL, NULL, a.atttypid, a.attnum::pg_catalog.int4, a.attname::pg_catalog.text
FROM wanted w
JOIN pg_catalog.pg_type t ON t.oid = w.oid AND t.typtype = 'c'
JOIN pg_catalog.pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped";

/// [`TYPE_CATALOG_QUERY`] with `oids` in place of its parameter, for the simple query
/// protocol.
pub fn type_catalog_query(oids: &[u32]) -> String {
    let list: Vec<String> = oids.iter().map(u32::to_string).collect();
    TYPE_CATALOG_QUERY.replacen("$1", &format!("'{{{}}}'", list.join(",")), 1)
}

/// One type's rows.
#[derive(Default)]
struct Entry {
    name: String,
    schema: String,
    typtype: String,
    dependency: Option<u32>,
    labels: Vec<(i32, String)>,
    attributes: Vec<(i32, String, u32)>,
}

fn malformed(row: &[Option<String>], why: &str) -> Error {
    type_io_error(format!("malformed type catalog row {row:?}: {why}"))
}

fn parse<T: std::str::FromStr>(row: &[Option<String>], i: usize) -> Result<Option<T>, Error> {
    match row.get(i) {
        Some(Some(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| malformed(row, "not a number")),
        _ => Ok(None),
    }
}

fn text(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

/// The `Type`s described by the rows of [`TYPE_CATALOG_QUERY`], in the order of their `t`
/// rows, each with its dependencies resolved among the rows and the builtin types
/// (builtins are always `postgres_types`' own constants). A dependency found nowhere is
/// an error.
pub fn types_from_catalog(rows: &[Vec<Option<String>>]) -> Result<Vec<Type>, Error> {
    let mut entries: HashMap<u32, Entry> = HashMap::new();
    let mut order = Vec::new();
    for row in rows {
        let oid: u32 = parse(row, 1)?.ok_or_else(|| malformed(row, "no OID"))?;
        match row.first().and_then(|e| e.as_deref()) {
            Some("t") => {
                let entry = entries.entry(oid).or_default();
                entry.name = text(row, 2).ok_or_else(|| malformed(row, "no name"))?;
                entry.schema = text(row, 3).unwrap_or_default();
                entry.typtype = text(row, 4).ok_or_else(|| malformed(row, "no typtype"))?;
                entry.dependency = parse(row, 5)?;
                order.push(oid);
            }
            Some("e") => {
                let position = parse(row, 6)?.unwrap_or_default();
                let label = text(row, 7).ok_or_else(|| malformed(row, "no label"))?;
                entries
                    .entry(oid)
                    .or_default()
                    .labels
                    .push((position, label));
            }
            Some("a") => {
                let position = parse(row, 6)?.unwrap_or_default();
                let name = text(row, 7).ok_or_else(|| malformed(row, "no attribute name"))?;
                let ty = parse(row, 5)?.ok_or_else(|| malformed(row, "no attribute type"))?;
                entries
                    .entry(oid)
                    .or_default()
                    .attributes
                    .push((position, name, ty));
            }
            _ => return Err(malformed(row, "unknown entry kind")),
        }
    }
    let mut builder = Builder {
        entries,
        built: HashMap::new(),
        visiting: HashSet::new(),
    };
    order.iter().map(|&oid| builder.resolve(oid)).collect()
}

struct Builder {
    entries: HashMap<u32, Entry>,
    built: HashMap<u32, Type>,
    visiting: HashSet<u32>,
}

impl Builder {
    fn resolve(&mut self, oid: u32) -> Result<Type, Error> {
        if let Some(t) = Type::from_oid(oid).or_else(|| self.built.get(&oid).cloned()) {
            return Ok(t);
        }
        if !self.visiting.insert(oid) {
            return Err(type_io_error(format!("type {oid} depends on itself")));
        }
        let ty = self.build(oid);
        self.visiting.remove(&oid);
        let ty = ty?;
        self.built.insert(oid, ty.clone());
        Ok(ty)
    }

    fn build(&mut self, oid: u32) -> Result<Type, Error> {
        let Some(entry) = self.entries.get(&oid) else {
            return Err(type_io_error(format!(
                "type {oid} is not in the type catalog rows"
            )));
        };
        let (name, schema, typtype, dependency) = (
            entry.name.clone(),
            entry.schema.clone(),
            entry.typtype.clone(),
            entry.dependency,
        );
        let mut labels = entry.labels.clone();
        let mut attributes = entry.attributes.clone();
        let dep = |builder: &mut Builder| match dependency {
            Some(d) => builder.resolve(d),
            None => Err(type_io_error(format!(
                "type {name} ({oid}) lacks its dependency"
            ))),
        };
        let kind = match typtype.as_str() {
            "e" => {
                labels.sort_by_key(|(p, _)| *p);
                Kind::Enum(labels.into_iter().map(|(_, l)| l).collect())
            }
            "p" => Kind::Pseudo,
            "d" => Kind::Domain(dep(self)?),
            "r" => Kind::Range(dep(self)?),
            "m" => Kind::Multirange(dep(self)?),
            "c" => {
                attributes.sort_by_key(|(p, _, _)| *p);
                let mut fields = Vec::with_capacity(attributes.len());
                for (_, field, ty) in attributes {
                    fields.push(Field::new(field, self.resolve(ty)?));
                }
                Kind::Composite(fields)
            }
            _ if dependency.is_some() => Kind::Array(dep(self)?),
            _ => Kind::Simple,
        };
        Ok(Type::new(name, oid, kind, schema))
    }
}
