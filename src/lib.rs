// The README is the crate's page; its examples use the `cluster` and `session` features, so it
// is the page (and its examples run as doctests) when both are on, as with `--all-features`
// and on docs.rs.
#![cfg_attr(
    all(feature = "cluster", feature = "session"),
    doc = include_str!("../README.md")
)]
#![cfg_attr(
    not(all(feature = "cluster", feature = "session")),
    doc = "A PostgreSQL client after py-postgresql's PG-API (see the README; build with the \
           `cluster` and `session` features for the full page and its examples)."
)]
//!
//! ---
//!
//! This facade re-exports the workspace's crates under short names. Features: `tls` (on by
//! default: encrypted connections), `session` (`postgresql::session`, pooled sessions),
//! `cluster` (`postgresql::cluster`, initdb and the throwaway test cluster; Unix only).

/// The contracts of the object model (pg-api).
pub use pg_api as api;
/// Installations, clusters and the throwaway test cluster (pg-cluster; the `cluster`
/// feature).
#[cfg(feature = "cluster")]
pub use pg_cluster as cluster;
/// The PQ v3 driver and its blocking facade (pg-driver).
pub use pg_driver as driver;
/// The SQLSTATE table, the error classes, `Error` and `Message` (pg-exceptions).
pub use pg_exceptions as exceptions;
/// Pooled sessions by URI or `PGSQL_<NAME>` environment variable (pg-session; the `session`
/// feature).
#[cfg(feature = "session")]
pub use pg_session as session;
/// Quoting and splitting of SQL text (pg-string).
pub use pg_string as string;
/// Values, rows and type I/O (pg-types).
pub use pg_types as types;

/// Rows into Rust types: the trait, and `#[derive(FromRow)]` (fields by column name; see
/// the `pg-derive` crate for the attributes). The driver's `query_as`, `first_as`,
/// `rows_as`, … read rows into it.
pub use pg_driver::FromRow;
