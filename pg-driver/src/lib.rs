//! The PQ v3 implementation of PG-API on tokio, with a [`blocking`] facade.
//!
//! A [`Connector`] describes a server and how to reach it; [`Connector::connect`] makes a
//! [`Connection`]. Each connection runs a task that owns the socket and pipelines requests:
//! handles queue their messages and read their answers in order, so concurrent users of one
//! connection never wait for round trips they do not need.
//!
//! ```no_run
//! # async fn example() -> Result<(), pg_exceptions::Error> {
//! let db = pg_driver::open("pq://user@localhost:5432/postgres").await?;
//! db.execute("CREATE TEMP TABLE t (i int); INSERT INTO t VALUES (1)").await?;
//! assert_eq!(db.transaction_status(), pg_driver::TransactionStatus::Idle);
//! db.close();
//! # Ok(()) }
//! ```
//!
//! The query interface also takes named parameters, psycopg2's `%(name)s` or `:name`, with
//! values by name ([`NamedParams`]): [`Connection::query_named`] and its siblings rewrite the
//! statement to `$n` placeholders (never putting a value into the text); see [`NamedQuery`].
//!
//! # Observability
//!
//! The driver reports through [`tracing`](https://docs.rs/tracing): install a subscriber
//! (`tracing-subscriber`'s `fmt`, an OpenTelemetry layer, …) and filter by target. With none
//! installed, or one that wants none of it, instrumentation costs a level check per statement:
//! nothing is formatted, allocated or timed. Parameter values are never recorded unless the
//! connection says `trace_parameters=on`; passwords never are.
//!
//! Spans (one per statement executed; created where statements are known, in the object
//! model, never in the wire engine):
//!
//! | span | target | level | fields |
//! |---|---|---|---|
//! | `query` | `pg_driver::query` | DEBUG | `sql` (the statement's text), `protocol` (`extended`: prepared statements, the query interface, cursors' reads; `simple`: `execute`, `simple`), `command` (the last command tag's command: `SELECT`, `INSERT`…), `rows` (the sum of the tags' counts — rows returned by SELECT/FETCH, affected by INSERT/UPDATE/DELETE/MERGE/COPY — or the rows received when no tag came), `elapsed_ms` (from the request to the end of its answer; for a stream, to its end or until it was dropped), `error` (the SQLSTATE, when it failed), `params` (only with `trace_parameters=on`) |
//!
//! Events:
//!
//! | event | target | level | fields |
//! |---|---|---|---|
//! | `slow_statement` | `pg_driver::slow` | WARN | `sql`, `elapsed_ms`, `threshold_ms`, `rows`, `params` (only with `trace_parameters=on`); inside the statement's `query` span. Only with `slow_statement_threshold` set (a connection keyword: `100`, `100ms`, `1.5s`; [`params::Keywords::slow_statement_threshold`]) |
//! | `connect` | `pg_driver::connect` | INFO | `host` (name, address or socket path), `port`, `database`, `user`, `auth` ([`AuthMethod`]), `tls` (whether the session is encrypted), `backend_pid`, `elapsed_ms` |
//! | `connect_failed` | `pg_driver::connect` | INFO | `database`, `user`, `code`, `error` |
//! | `host_failed` | `pg_driver::connect` | DEBUG | `host`, `code`, `error`: one host of the list gave no (suitable) session; the next is tried |
//! | `reconnect` | `pg_driver::connect` | INFO | `database`, `user`, `reason`: [`Connection::connect`] of a closed connection, or a second attempt without `client_min_messages` for a server that refused it |
//! | `cancel` | `pg_driver::cancel` | INFO | `server`, `backend_pid` (never the secret key): a CancelRequest sent ([`CancelHandle`]) |
//! | `notice` | `pg_driver::notice` | WARNING: WARN; NOTICE, INFO, LOG: INFO; DEBUG*n*: DEBUG | `severity`, `code`, `detail`, `hint`, the text as the message: a server notice (or a driver warning) that no [message hook](MessageHook) stopped |
//!
//! Server notices used to be printed to standard error when no hook took them, as
//! py-postgresql does; a library writes nothing to a service's standard error, so they are
//! `notice` events now. A program that wants psql's behaviour sets a hook that prints
//! ([`set_process_message_hook`]; `pgapi` does). pg-session's pools add `pool_acquire`,
//! `pool_release`, `pool_evict` and `pool_timeout` (target `pg_session::pool`; see its docs).
//!
//! ```no_run
//! # async fn example() -> Result<(), pg_exceptions::Error> {
//! // Warn about statements over 250 ms, with their text (never their values).
//! let db = pg_driver::open("pq://user@localhost/postgres?[slow_statement_threshold]=250ms").await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod alock;
mod api_impl;
pub mod blocking;
mod bulk;
pub mod category;
mod clean;
mod connection;
mod connector;
mod copy;
mod copy_in;
mod copyman;
mod cursor;
mod execute;
mod extras;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod insert_batch;
mod insert_target;
mod link;
mod load_error;
mod lobject;
mod named;
mod notify;
mod notifyman;
mod oneshot;
pub mod params;
mod proc;
mod query;
mod routing;
mod settings;
mod settings_scope;
mod simple;
mod statement;
mod statement_cache;
mod statement_reset;
mod streams;
mod trace;
mod typecache;
mod unnamed;
pub mod version;
mod wire;
mod xact;
mod xact_mode;

pub use alock::{ALock, ALockGuard, LockId, LockMode};
pub use category::Category;
pub use clean::SessionMarks;
pub use connection::Connection;
pub use connector::Connector;
pub use copy::CopyStream;
pub use copyman::{
    CallReceiver, CopyFault, CopyManager, CopyProducer, CopyReceiver, CopyReport, NullProducer,
    Progress, ReceiverFn, ReceiverOutcome, ReceiverReport, transfer,
};
pub use cursor::seek::{Direction, Whence};
pub use cursor::{Cursor, CursorStream};
pub use execute::Results;
pub use extras::{
    ISOLATION_LEVEL_AUTOCOMMIT, ISOLATION_LEVEL_DEFAULT, ISOLATION_LEVEL_READ_COMMITTED,
    ISOLATION_LEVEL_READ_UNCOMMITTED, ISOLATION_LEVEL_REPEATABLE_READ,
    ISOLATION_LEVEL_SERIALIZABLE, PqTransactionStatus, SessionChange,
};
pub use load_error::{ROW, ROWS, failed_row};
pub use lobject::{LO_CHUNK, LargeObject};
pub use notify::{NotificationStream, NotifyEvent, NotifyItem};
pub use notifyman::{ManagerEvent, ManagerStream, NotificationManager};
pub use params::ConnectParams;
pub use pg_api::{NamedParams, NamedQuery, Params};
pub use proc::{ProcId, ProcResult, StoredProcedure};
pub use settings::Settings;
pub use settings_scope::SettingsScope;
pub use simple::SimpleResult;
pub use statement::Statement;
pub use statement_cache::STATEMENT_CACHE_CAPACITY;
pub use streams::{
    CHUNK_ROWS, ChunkStream, ColumnStream, First, FirstResult, FromFirst, RowStream,
};
pub use version::VersionInfo;
pub use wire::cancel::CancelHandle;
pub use wire::hooks::{Driver, MessageHook, set_process_message_hook};
pub use wire::shared::{
    DEFAULT_NOTICE_CAPACITY, DEFAULT_NOTIFICATION_CAPACITY, Notification, NotificationBatch,
    TransactionStatus,
};
pub use wire::startup::AuthMethod;
pub use wire::transport::PeerAddr;
pub use xact::{Transaction, XactState};
pub use xact_mode::{AccessMode, Isolation};

use pg_exceptions::Error;

/// The connector for an IRI, with libpq's environment (PGHOST, PGUSER, …) filling the gaps.
pub(crate) fn connector_from_iri_with_env(iri: &str) -> Result<Connector, Error> {
    Ok(Connector::new(params::Keywords::parse(iri)?.resolve()?))
}

impl From<params::ParamsError> for Error {
    fn from(error: params::ParamsError) -> Error {
        Error::client(&pg_exceptions::ClientCannotConnectError, error.to_string())
    }
}

/// Opens a connection from an IRI (`pq://`, `postgresql://` or `postgres://`), a scheme-less
/// `pq://` locator as py-postgresql's `open()` takes it (`localhost/postgres`,
/// `user@host:5433/db`) or a `key=value` connection string, inheriting libpq's environment
/// for what it leaves out.
pub async fn open(iri: &str) -> Result<Connection, Error> {
    connector_from_iri_with_env(iri)?.connect().await
}

/// Opens a connection from explicit keyword parameters only: the environment is not consulted
/// (defaults still apply: the operating-system user, the unix socket directory, port 5432).
pub async fn connect(keywords: params::Keywords) -> Result<Connection, Error> {
    Connector::new(keywords.build()?).connect().await
}
