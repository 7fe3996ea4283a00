//! The SQLSTATE table, the error class hierarchy, and the one `Error` type of the project.
//!
//! Every code of PostgreSQL's `errcodes.txt` has a class here, a `static` named as
//! py-postgresql names it ([`UniqueError`], [`ICVError`], [`InFailedTransactionError`], …) or,
//! for codes py-postgresql lacks, after the code's condition name
//! ([`ExclusionViolationError`] for `exclusion_violation`). Classes link to their parents, so
//! an error can be tested at any level of the hierarchy. The driver's own errors have
//! pseudo-codes (`--000` [`DriverError`], `--TIO` [`TypeIOError`], …), and warnings (classes
//! 01 and 02) form their own family under [`Warning`].
//!
//! [`Error`](struct@Error) carries the class, every field of the server's ErrorResponse, where
//! the error came from, the context it happened in (statement, connection, connector — never
//! a password), and an optional cause. Its `Display` is one line, class, message and
//! SQLSTATE, as errors print in logs and `source()` chains; the alternate form (`{:#}`) is
//! the layered report:
//!
//! ```
//! use pg_exceptions::{Error, SEARVError, SyntaxError};
//!
//! let err = Error::from_fields([
//!     (b'S', "ERROR".to_string()),
//!     (b'C', "42601".to_string()),
//!     (b'M', "syntax error at end of input".to_string()),
//!     (b'P', "11".to_string()),
//! ])
//! .with_statement("SELECT 1 +")
//! .with_connector("pq://alice:s3cret@db.example/app");
//!
//! assert!(err.is_a(&SyntaxError) && err.is_a(&SEARVError));
//! assert_eq!(
//!     err.to_string(),
//!     "SyntaxError: syntax error at end of input (SQLSTATE 42601)"
//! );
//! assert_eq!(
//!     format!("{err:#}"),
//!     "SyntaxError: syntax error at end of input
//!   CODE: 42601
//!   SEVERITY: ERROR
//!   LOCATION: SERVER
//! STATEMENT:
//!   SELECT 1 +
//!             ^
//! CONNECTOR: pq://alice:***@db.example/app"
//! );
//! ```
//!
//! The root class is also named `Error`: in type position `Error` is the error type, in
//! value position (`err.is_a(&Error)`, `lookup(code) == &Error`) it is the root class.
//!
//! Programs ported from psycopg2 or `queries` catch DB-API 2.0's exception classes:
//! [`Error::dbapi_category`] gives the one psycopg2 would raise ([`DbApiCategory`]:
//! `IntegrityError` for a unique violation, `ProgrammingError` for a syntax error,
//! `InterfaceError` for a closed connection, …), and [`dbapi_category`] maps a SQLSTATE as
//! psycopg2 does.
//!
//! NOTICE, WARNING and INFO messages are [`Message`]s. [`describe`] gives the one-line
//! account of a code that the `pg-exceptions` command prints.

mod class;
mod context;
mod dbapi;
mod describe;
mod error;
mod fields;
mod location;
mod message;
mod report;
// Generated; its layout is the generator's (see the file's header).
#[rustfmt::skip]
mod table;

pub use class::{
    Ancestors, ErrorClass, Source, classes, is_valid_code, is_warning_code, lookup, lookup_any,
    lookup_name, lookup_warning,
};
pub use context::{Context, SECRET_KEYWORDS, obscure_password};
pub use dbapi::{DbApiCategory, dbapi_category};
pub use describe::{describe, describe_class};
pub use error::{Cause, Error};
pub use fields::{Fields, field, field_label};
pub use location::Location;
pub use message::Message;
pub use table::*;
