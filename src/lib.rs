#![doc = include_str!("../README.md")]
//!
//! ---
//!
//! This facade re-exports the workspace's crates under short names.

/// The contracts of the object model (pg-api).
pub use pg_api as api;
/// Installations, clusters and the throwaway test cluster (pg-cluster).
pub use pg_cluster as cluster;
/// The PQ v3 driver and its blocking facade (pg-driver).
pub use pg_driver as driver;
/// The SQLSTATE table, the error classes, `Error` and `Message` (pg-exceptions).
pub use pg_exceptions as exceptions;
/// Quoting and splitting of SQL text (pg-string).
pub use pg_string as string;
/// Values, rows and type I/O (pg-types).
pub use pg_types as types;

/// Rows into Rust types: the trait, and `#[derive(FromRow)]` (fields by column name; see
/// the `pg-derive` crate for the attributes). The driver's `query_as`, `first_as`,
/// `rows_as`, … read rows into it.
pub use pg_driver::FromRow;
