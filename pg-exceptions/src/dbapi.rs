//! DB-API 2.0's exception categories (PEP 249), as psycopg2 — and so `queries` — raises them.

use std::fmt;

use crate::class::{ErrorClass, Source};
use crate::error::Error;
use crate::table;

/// One of the exception classes of Python's DB-API 2.0 (PEP 249), which psycopg2 raises and
/// `queries` documents: what a program ported from them catches.
///
/// The hierarchy is DB-API's: [`InterfaceError`](DbApiCategory::InterfaceError) and
/// [`DatabaseError`](DbApiCategory::DatabaseError) under `Error`, and the other six under
/// `DatabaseError` ([`is_database_error`](DbApiCategory::is_database_error)). psycopg2's
/// `QueryCanceledError` (57014) and `TransactionRollbackError` (class 40) are
/// `OperationalError`s, and are that here.
///
/// Server errors take theirs from the SQLSTATE ([`dbapi_category`]); the client's own
/// from their class ([`Error::dbapi_category`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DbApiCategory {
    /// An error of the interface rather than of the database: here, using a closed
    /// connection, cursor or statement, and misusing an object on the client side.
    InterfaceError,
    /// An error of the database with no more specific category.
    DatabaseError,
    /// A problem with the data: division by zero, a value out of range, invalid input
    /// (class 22), or a value the driver could not decode.
    DataError,
    /// An error of the database's operation, not necessarily under the program's control: a
    /// lost or failed connection, an authentication failure, a cancelled statement, a
    /// serialization failure or deadlock, lacking resources.
    OperationalError,
    /// A violated constraint: unique, foreign key, not null, check, exclusion (class 23).
    IntegrityError,
    /// The database is in a state it should not be in: an invalid cursor or transaction
    /// state, an internal error.
    InternalError,
    /// A mistake of the program: a syntax error, an undefined table or column, a missing
    /// privilege (class 42), a parameter that cannot be sent.
    ProgrammingError,
    /// A feature the database does not support (class 0A).
    NotSupportedError,
}

impl DbApiCategory {
    /// Every category, `InterfaceError` first.
    pub const ALL: [DbApiCategory; 8] = [
        DbApiCategory::InterfaceError,
        DbApiCategory::DatabaseError,
        DbApiCategory::DataError,
        DbApiCategory::OperationalError,
        DbApiCategory::IntegrityError,
        DbApiCategory::InternalError,
        DbApiCategory::ProgrammingError,
        DbApiCategory::NotSupportedError,
    ];

    /// The Python exception's name, such as `"IntegrityError"`.
    pub fn name(self) -> &'static str {
        match self {
            DbApiCategory::InterfaceError => "InterfaceError",
            DbApiCategory::DatabaseError => "DatabaseError",
            DbApiCategory::DataError => "DataError",
            DbApiCategory::OperationalError => "OperationalError",
            DbApiCategory::IntegrityError => "IntegrityError",
            DbApiCategory::InternalError => "InternalError",
            DbApiCategory::ProgrammingError => "ProgrammingError",
            DbApiCategory::NotSupportedError => "NotSupportedError",
        }
    }

    /// Whether the category is `DatabaseError` or one of its subclasses: every one but
    /// `InterfaceError`.
    pub fn is_database_error(self) -> bool {
        self != DbApiCategory::InterfaceError
    }
}

impl fmt::Display for DbApiCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The DB-API category psycopg2 gives a server error of SQLSTATE `sqlstate`, by its class
/// (the first two characters):
///
/// | class | category |
/// |---|---|
/// | 08 connection exception | `OperationalError` |
/// | 0A feature not supported | `NotSupportedError` |
/// | 20 case not found, 21 cardinality violation | `ProgrammingError` |
/// | 22 data exception | `DataError` |
/// | 23 integrity constraint violation | `IntegrityError` |
/// | 24 invalid cursor state, 25 invalid transaction state | `InternalError` |
/// | 26 invalid statement name, 27 triggered data change, 28 invalid authorization | `OperationalError` |
/// | 2B, 2D, 2F (privileges, transaction termination, SQL routine) | `InternalError` |
/// | 34 invalid cursor name | `OperationalError` |
/// | 38, 39 (external routines), 3B savepoint | `InternalError` |
/// | 3D invalid catalog name, 3F invalid schema name | `ProgrammingError` |
/// | 40 transaction rollback | `OperationalError` (psycopg2's `TransactionRollbackError`) |
/// | 42 syntax error or access rule violation, 44 WITH CHECK OPTION | `ProgrammingError` |
/// | 5x (53, 54, 55, 57, 58) | `OperationalError` (57014: psycopg2's `QueryCanceledError`) |
/// | Fx (F0 configuration file) | `InternalError` |
/// | Hx (HV foreign data wrapper) | `OperationalError` |
/// | Px (P0 PL/pgSQL) | `InternalError` |
/// | Xx (XX internal error) | `InternalError` |
/// | any other (03, 09, 0B, 0F, 0L, 0P, 0Z, 10, 72, …) | `DatabaseError` |
///
/// This is psycopg2's `base_exception_from_sqlstate` (psycopg/error_type.c), which also gives
/// the base class of each of its `psycopg2.errors` classes.
///
/// ```
/// use pg_exceptions::{DbApiCategory, dbapi_category};
///
/// assert_eq!(dbapi_category("23505"), DbApiCategory::IntegrityError);
/// assert_eq!(dbapi_category("42601"), DbApiCategory::ProgrammingError);
/// assert_eq!(dbapi_category("57014"), DbApiCategory::OperationalError);
/// assert_eq!(dbapi_category("72000"), DbApiCategory::DatabaseError);
/// ```
pub fn dbapi_category(sqlstate: &str) -> DbApiCategory {
    use DbApiCategory::*;
    let mut chars = sqlstate.bytes();
    match (chars.next(), chars.next()) {
        (Some(b'0'), Some(b'8')) => OperationalError,
        (Some(b'0'), Some(b'A')) => NotSupportedError,
        (Some(b'2'), Some(b'0' | b'1')) => ProgrammingError,
        (Some(b'2'), Some(b'2')) => DataError,
        (Some(b'2'), Some(b'3')) => IntegrityError,
        (Some(b'2'), Some(b'4' | b'5')) => InternalError,
        (Some(b'2'), Some(b'6' | b'7' | b'8')) => OperationalError,
        (Some(b'2'), Some(b'B' | b'D' | b'F')) => InternalError,
        (Some(b'3'), Some(b'4')) => OperationalError,
        (Some(b'3'), Some(b'8' | b'9' | b'B')) => InternalError,
        (Some(b'3'), Some(b'D' | b'F')) => ProgrammingError,
        (Some(b'4'), Some(b'0')) => OperationalError,
        (Some(b'4'), Some(b'2' | b'4')) => ProgrammingError,
        (Some(b'5'), _) => OperationalError,
        (Some(b'F' | b'P' | b'X'), _) => InternalError,
        (Some(b'H'), _) => OperationalError,
        _ => DatabaseError,
    }
}

/// The category of an error the client raised, by its class: `None` for a class that means
/// what the server's SQLSTATE would (the driver raises some server classes itself).
fn client_category(class: &ErrorClass) -> Option<DbApiCategory> {
    use DbApiCategory::*;
    let category = if class.is_a(&table::ConnectionDoesNotExistError)
        || class.is_a(&table::CursorNameError)
        || class.is_a(&table::StatementNameError)
    {
        // Using a closed connection, cursor or statement: psycopg2's "connection already
        // closed", "cursor already closed".
        InterfaceError
    } else if class.is_a(&table::ParameterError) {
        // A value that cannot be sent, or named placeholders that cannot be bound: psycopg2's
        // "can't adapt type", "argument formats can't be mixed".
        ProgrammingError
    } else if class.is_a(&table::TypeIOError) {
        DataError
    } else if class.is_a(&table::DriverError) {
        match class.is_disconnection() {
            // Authentication the driver refuses, no secure channel, a connect timeout.
            true => OperationalError,
            // A misused object, the driver's own failures.
            false => InterfaceError,
        }
    } else if class.is_a(&table::ClusterError) {
        OperationalError
    } else {
        return None;
    };
    Some(category)
}

impl Error {
    /// The DB-API category psycopg2 would raise this error as.
    ///
    /// A server error's is [`dbapi_category`] of its SQLSTATE. The client's own errors go by
    /// their class:
    ///
    /// - using a closed connection, cursor or statement (`ConnectionDoesNotExistError`, and
    ///   the client's `CursorNameError` and `StatementNameError`): `InterfaceError`, as
    ///   psycopg2's "connection already closed";
    /// - a connection lost or not made (`ConnectionFailureError`, `ClientCannotConnectError`,
    ///   a protocol error — class 08 — or the server's shutdown, the first error a use of the
    ///   lost connection gets), an authentication method refused, no secure channel, a connect
    ///   timeout, a cluster that cannot be managed: `OperationalError`;
    /// - a parameter that cannot be encoded, named placeholders that cannot be bound
    ///   (`ParameterError`): `ProgrammingError`;
    /// - a value that cannot be decoded (`TypeIOError`, `ColumnError`, `CompositeError`):
    ///   `DataError`;
    /// - any other misuse on the client side (`OperationError`, `DriverError`):
    ///   `InterfaceError`;
    /// - other classes the client raises as the server would (a client-side
    ///   `QueryCanceledError`, `InFailedTransactionError`, …): by their SQLSTATE.
    ///
    /// ```
    /// use pg_exceptions::{ConnectionDoesNotExistError, DbApiCategory, Error};
    ///
    /// let unique = Error::from_fields([(b'C', "23505".to_string())]);
    /// assert_eq!(unique.dbapi_category(), DbApiCategory::IntegrityError);
    /// let closed = Error::client(&ConnectionDoesNotExistError, "the connection is closed");
    /// assert_eq!(closed.dbapi_category(), DbApiCategory::InterfaceError);
    /// ```
    pub fn dbapi_category(&self) -> DbApiCategory {
        match self.source_kind() {
            Source::Server => dbapi_category(self.code()),
            Source::Client => {
                client_category(self.class()).unwrap_or_else(|| dbapi_category(self.code()))
            }
        }
    }
}
