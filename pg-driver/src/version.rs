//! Server version numbers, parsed (re-exported from pg-api).
pub use pg_api::{ReleaseState, VersionError, VersionInfo};
