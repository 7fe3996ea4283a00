//! The types of a session: builtins by OID, the rest read from the catalog once and cached.

use std::collections::HashMap;
use std::sync::PoisonError;

use pg_exceptions::Error;
use postgres_types::Type;

use crate::link::Link;
use crate::simple::simple_query;

/// The types for these OIDs, reading any the session has not seen from the catalog in one query.
pub(crate) async fn resolve(link: &Link, oids: &[u32]) -> Result<Vec<Type>, Error> {
    let missing: Vec<u32> = {
        let known = link.types.lock().unwrap_or_else(PoisonError::into_inner);
        let mut missing: Vec<u32> = oids
            .iter()
            .copied()
            .filter(|oid| Type::from_oid(*oid).is_none() && !known.contains_key(oid))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    };
    if !missing.is_empty() {
        let sql = pg_types::type_catalog_query(&missing);
        let results = simple_query(link, &sql).await?;
        let rows: Vec<Vec<Option<String>>> = results.into_iter().flat_map(|r| r.rows).collect();
        let found = pg_types::types_from_catalog(&rows)?;
        let mut known = link.types.lock().unwrap_or_else(PoisonError::into_inner);
        for ty in found {
            known.insert(ty.oid(), ty);
        }
    }
    let known = link.types.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(oids.iter().map(|oid| lookup(&known, *oid)).collect())
}

fn lookup(known: &HashMap<u32, Type>, oid: u32) -> Type {
    Type::from_oid(oid)
        .or_else(|| known.get(&oid).cloned())
        // A type the catalog did not describe (dropped meanwhile): text, decoded as unknown.
        .unwrap_or_else(|| {
            Type::new(
                format!("oid{oid}"),
                oid,
                postgres_types::Kind::Simple,
                String::new(),
            )
        })
}
