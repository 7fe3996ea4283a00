//! The types of a session: builtins by OID, the rest read from the catalog once and kept in
//! the session's [`TypeRegistry`](pg_types::TypeRegistry).

use pg_exceptions::Error;
use postgres_types::Type;

use crate::link::Link;
use crate::simple::simple_query;

/// The types for these OIDs, reading any the session has not seen from the catalog in one query.
pub(crate) async fn resolve(link: &Link, oids: &[u32]) -> Result<Vec<Type>, Error> {
    learn(link, oids).await?;
    Ok(oids.iter().map(|oid| lookup(link, *oid)).collect())
}

/// Reads the types of `oids` the session has not seen (and the types they depend on) from
/// the catalog into its registry, in one simple query; nothing is sent when all are known.
/// Cancel-safe: the query creates nothing, and a dropped one is finished by the engine.
pub(crate) async fn learn(link: &Link, oids: &[u32]) -> Result<(), Error> {
    let mut missing: Vec<u32> = oids
        .iter()
        .copied()
        .filter(|oid| !link.types.contains(*oid))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        let sql = pg_types::type_catalog_query(&missing);
        let results = simple_query(link, &sql).await?;
        let rows: Vec<Vec<Option<String>>> = results.into_iter().flat_map(|r| r.rows).collect();
        link.types.extend(pg_types::types_from_catalog(&rows)?);
    }
    Ok(())
}

fn lookup(link: &Link, oid: u32) -> Type {
    link.types
        .get(oid)
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
