//! PG-API contracts: the traits every PostgreSQL object of the project implements.
//!
//! These are the documented interface (py-postgresql's `api.py`); `pg-driver` and `pg-cluster`
//! hold the one implementation. Methods that talk to the server return futures that are `Send`,
//! so the traits work in multi-threaded runtimes and behind `dyn`-free generics.
//!
//! The contracts: connections, connectors and what a session offers ([`Database`]:
//! statements with their parameters, [`Params`] by position or [`NamedParams`] by name
//! through [`NamedQuery`], cursors, transactions, settings, stored
//! procedures, LISTEN / NOTIFY), and installations and clusters ([`Installation`],
//! [`Cluster`]).
//!
//! pg-driver implements them twice: on its async `Connection` and on its blocking facade,
//! whose futures do their work when first polled (drive them with a plain executor such as
//! `futures::executor::block_on`, outside any tokio runtime, as the blocking facade wants).
//! pg-cluster implements [`Installation`] and [`Cluster`]. Code written against the traits
//! works with either:
//!
//! ```no_run
//! use pg_api::{Database, Statement};
//!
//! async fn total<D: Database>(db: &D) -> Result<i64, pg_api::Error> {
//!     let ps = db.prepare("SELECT sum(i)::int8 FROM generate_series(1, 10) i").await?;
//!     Ok(ps.rows_of(()).await?[0].get::<i64>(0))
//! }
//! ```
#![warn(missing_docs)]

use std::future::Future;
use std::time::Duration;

pub use pg_exceptions::{Error, Message};

mod cluster;
mod named;
mod notify;
mod objects;
mod params;
mod scroll;
mod statement;
mod status;
mod version;

pub use cluster::{Cluster, Installation};
pub use named::{NamedParams, NamedQuery};
pub use notify::{Notification, Notifications, NotifyEvent};
pub use objects::{Settings, StoredProcedure, Transaction};
pub use params::{Params, ShowParams};
pub use scroll::{Direction, Whence};
pub use statement::{Cursor, Statement};
pub use status::TransactionStatus;
pub use version::{ReleaseState, VersionError, VersionInfo};

/// Something that describes a server and makes connections to it.
///
/// A connector is immutable: the parameters it was made with are the ones every connection it
/// makes uses.
pub trait Connector: Clone + Send + Sync + std::fmt::Debug {
    /// The connections it makes.
    type Connection: Connection<Connector = Self>;

    /// Opens a new connection.
    fn connect(&self) -> impl Future<Output = Result<Self::Connection, Error>> + Send;

    /// The connector written back as an IRI, the password obscured.
    fn iri(&self) -> String;
}

/// What every database session offers, whatever it is connected through
/// (py-postgresql's `Database`).
pub trait Database: Send + Sync {
    /// The prepared statements it makes.
    type Statement: Statement<Cursor = Self::Cursor>;
    /// The cursors it opens.
    type Cursor: Cursor;
    /// Its transactions.
    type Transaction: Transaction;
    /// Its settings.
    type Settings: Settings;
    /// Its stored procedures.
    type StoredProcedure: StoredProcedure;
    /// Its notifications as they arrive.
    type Notifications: Notifications;

    /// Prepares a statement; it is closed on the server when its last handle goes.
    fn prepare(&self, sql: &str) -> impl Future<Output = Result<Self::Statement, Error>> + Send;

    /// A statement prepared in SQL (`PREPARE name AS …`), by its name; never closed
    /// implicitly.
    fn statement_from_id(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Self::Statement, Error>> + Send;

    /// A cursor declared in SQL, by its name; never closed implicitly.
    fn cursor_from_id(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Self::Cursor, Error>> + Send;

    /// A function or procedure by its `regprocedure` text (`"abs(integer)"`), or its name
    /// when it is not overloaded.
    fn proc(&self, id: &str) -> impl Future<Output = Result<Self::StoredProcedure, Error>> + Send;

    /// A transaction (a savepoint when a block is open) of the isolation level and mode
    /// given, PostgreSQL's words (`"serializable"`, `"read only"`); not started.
    fn xact(&self, isolation: Option<&str>, mode: Option<&str>) -> Self::Transaction;

    /// The session's settings.
    fn settings(&self) -> Self::Settings;

    /// Starts listening on the channels (`LISTEN`, names quoted as given).
    fn listen(&self, channels: &[&str]) -> impl Future<Output = Result<(), Error>> + Send;

    /// Stops listening on the channels.
    fn unlisten(&self, channels: &[&str]) -> impl Future<Output = Result<(), Error>> + Send;

    /// Sends `(channel, payload)` notifications in order, in one statement.
    fn notify(
        &self,
        notifications: &[(&str, &str)],
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The session's notifications as they arrive, with the timeout rules of
    /// [`Notifications`].
    fn iternotifies(&self, timeout: Option<Duration>) -> Result<Self::Notifications, Error>;

    /// Runs SQL through the simple query protocol; several statements may be given and the
    /// first error stops them.
    fn execute(&self, sql: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Runs an anonymous code block (`DO`) in a procedural language; both are quoted.
    fn do_(&self, language: &str, source: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Returns the session to its state just after connecting. Objects made before outlive it
    /// as the implementation documents: statements the driver prepared are prepared again on
    /// their next use (or fail clearly when their shape changed), cursors are closed, advisory
    /// locks are released (and their handles know it).
    fn reset(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Cancels the query running in the session; it fails with QueryCanceledError.
    fn interrupt(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// The server process id serving the session.
    fn backend_id(&self) -> Option<i32>;

    /// The server's version string, as `SELECT version()` gives it.
    fn version(&self) -> impl Future<Output = Result<String, Error>> + Send;

    /// The server's version, parsed from the `server_version` it reports.
    fn version_info(&self) -> Result<VersionInfo, Error>;

    /// A parameter the server reported through ParameterStatus, kept current.
    fn parameter_status(&self, name: &str) -> Option<String>;

    /// The transaction status of the last ReadyForQuery.
    fn transaction_status(&self) -> TransactionStatus;

    /// The most recent NOTICE / WARNING / INFO messages.
    fn notices(&self) -> Vec<Message>;
}

/// A database session made by a [`Connector`].
///
/// `Clone` gives another handle on the same session; [`Connection::clone_connection`] opens a
/// new session from the same connector.
pub trait Connection: Database + Clone {
    /// The connector type that makes this connection.
    type Connector: Connector<Connection = Self>;

    /// The connector that made the connection.
    fn connector(&self) -> &Self::Connector;

    /// Reconnects a closed connection; does nothing to an open one.
    fn connect(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Opens a new, separate session from the same connector.
    fn clone_connection(&self) -> impl Future<Output = Result<Self, Error>> + Send;

    /// Closes the session; closing twice does nothing.
    fn close(&self);

    /// Whether the session is closed, by [`Connection::close`] or because it was lost.
    fn closed(&self) -> bool;
}
