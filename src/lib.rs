//! `postgresql`: a PostgreSQL client after py-postgresql's PG-API.
//!
//! This facade re-exports the workspace's crates under short names; see the
//! README for the crate map.

pub use pg_api as api;
pub use pg_cluster as cluster;
pub use pg_driver as driver;
pub use pg_exceptions as exceptions;
pub use pg_string as string;
pub use pg_types as types;
