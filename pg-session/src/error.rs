//! The session layer's own failures, worded as `queries` words them.

use std::fmt;

use pg_exceptions::{ClientCannotConnectError, Error, OperationError};

/// A failure of the session layer itself (the pool, the configuration, a result's shape).
///
/// Every public function returns [`pg_exceptions::Error`](struct@pg_exceptions::Error); these convert into it as a client
/// error whose message is this Display and whose [`cause`](Error::cause) is this value, so
/// [`SessionError::of`] finds it again:
///
/// ```
/// use pg_session::SessionError;
///
/// let error: pg_exceptions::Error = SessionError::PoolFull { pool_id: "2362f2fe".into() }.into();
/// assert_eq!(error.message(), "Pool 2362f2fe is at its maximum capacity");
/// assert!(matches!(SessionError::of(&error), Some(SessionError::PoolFull { .. })));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// Every connection of the pool stayed busy for the whole acquire timeout, and the pool
    /// could not grow (a blocking [`Session`](crate::Session) waited; `queries`'
    /// `NoIdleConnectionsError`).
    NoIdleConnections {
        /// The pool's id ([`Session::pid`](crate::Session::pid)).
        pool_id: String,
    },
    /// The pool stayed at its maximum size for the whole acquire timeout (an
    /// [`AsyncSession`](crate::AsyncSession) waited; `queries`' `PoolFullError`).
    PoolFull {
        /// The pool's id.
        pool_id: String,
    },
    /// The environment variable a session was configured by is not set.
    MissingVariable {
        /// The variable's name, `PGSQL_<NAME>` or `PGSQL`.
        name: String,
    },
    /// [`Results::as_dict`](crate::Results::as_dict) was asked of more than one row.
    MoreThanOneRow {
        /// How many rows there are.
        rows: usize,
    },
    /// The session was [closed](crate::Session::close) (`queries`' `InterfaceError`
    /// "Connection not open").
    Closed {
        /// The session's pool id.
        pool_id: String,
    },
    /// A builder set a pool setting explicitly (`pool_max_size`, `pool_idle_ttl`) that the
    /// existing pool of its URI does not have: sessions on one URI share one pool, so the
    /// session would silently have had the other size (`queries` kept the first pool's).
    PoolSettingConflict {
        /// The pool's id.
        pool_id: String,
        /// The builder's setter: `pool_max_size` or `pool_idle_ttl`.
        setting: &'static str,
        /// What the builder asked for.
        asked: String,
        /// What the pool has.
        existing: String,
    },
}

impl SessionError {
    /// The session error an [`Error`](struct@Error) was made from, if it was.
    pub fn of(error: &Error) -> Option<&SessionError> {
        error.cause()?.downcast_ref::<SessionError>()
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::NoIdleConnections { pool_id } => {
                write!(f, "Pool {pool_id} has no idle connections")
            }
            SessionError::PoolFull { pool_id } => {
                write!(f, "Pool {pool_id} is at its maximum capacity")
            }
            SessionError::MissingVariable { name } => {
                write!(f, "the environment variable {name} is not set")
            }
            SessionError::MoreThanOneRow { rows } => {
                write!(f, "More than one row ({rows} rows)")
            }
            SessionError::Closed { pool_id } => {
                write!(f, "the session (pool {pool_id}) is closed")
            }
            SessionError::PoolSettingConflict {
                pool_id,
                setting,
                asked,
                existing,
            } => write!(
                f,
                "Pool {pool_id} exists with {setting} {existing}, and this session asks for \
                 {asked}: sessions on one URI share its pool; leave {setting} unset to accept \
                 the pool as it is, change it with Pool::set_* first, or make the URI differ \
                 (an application_name parameter, say)"
            ),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<SessionError> for Error {
    fn from(error: SessionError) -> Error {
        let class = match error {
            SessionError::MissingVariable { .. } => &ClientCannotConnectError,
            _ => &OperationError,
        };
        Error::client(class, error.to_string()).with_cause(error)
    }
}
