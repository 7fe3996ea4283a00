//! PG-API contracts: the traits every PostgreSQL object of the project implements.
//!
//! These are the documented interface (py-postgresql's `api.py`); `pg-driver` and `pg-cluster`
//! hold the one implementation. Methods that talk to the server return futures that are `Send`,
//! so the traits work in multi-threaded runtimes and behind `dyn`-free generics.
//!
//! The contracts: connections, connectors, statements (with their parameters, [`Params`]),
//! cursors, transactions, settings and stored procedures.
#![warn(missing_docs)]

use std::future::Future;

pub use pg_exceptions::{Error, Message};

mod objects;
mod params;
mod scroll;
mod statement;
mod status;
mod version;

pub use objects::{Settings, StoredProcedure, Transaction};
pub use params::Params;
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

/// What every database session offers, whatever it is connected through.
pub trait Database: Send + Sync {
    /// Runs SQL through the simple query protocol; several statements may be given and the
    /// first error stops them.
    fn execute(&self, sql: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Runs an anonymous code block (`DO`) in a procedural language; both are quoted.
    fn do_(&self, language: &str, source: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Returns the session to its state just after connecting.
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
