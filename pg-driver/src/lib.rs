#![doc = include_str!("../GUIDE.md")]
#![warn(missing_docs)]

mod alock;
mod api_impl;
mod batch;
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
mod timeout;
mod trace;
mod typecache;
mod typed;
mod unnamed;
pub mod version;
mod wire;
mod xact;
mod xact_mode;

pub use alock::{ALock, ALockGuard, LockId, LockMode};
pub use batch::{Batch, BatchStatements};
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
/// Rows into Rust types: the trait, and `#[derive(FromRow)]` (see the crate docs).
pub use pg_types::FromRow;

/// The derive's way to pg-types for crates that depend on this one only.
#[doc(hidden)]
pub use pg_types as __pg_types;
pub use proc::{ProcId, ProcResult, StoredProcedure};
pub use settings::Settings;
pub use settings_scope::SettingsScope;
pub use simple::SimpleResult;
pub use statement::Statement;
pub use statement_cache::STATEMENT_CACHE_CAPACITY;
pub use streams::{
    CHUNK_ROWS, ChunkStream, ColumnStream, First, FirstResult, FromFirst, RowStream,
};
pub use timeout::{Timeout, WithTimeout};
pub use typed::TypedRowStream;
pub use version::VersionInfo;
pub use wire::cancel::CancelHandle;
pub use wire::hooks::{Driver, MessageHook, set_process_message_hook};
pub use wire::shared::{
    DEFAULT_NOTICE_CAPACITY, DEFAULT_NOTIFICATION_CAPACITY, Notification, NotificationBatch,
    TransactionStatus,
};
pub use wire::startup::AuthMethod;
pub use wire::transport::PeerAddr;
pub use xact::{RETRY_FIRST_DELAY, RETRY_MAX_DELAY, Retry, Retryable, Transaction, XactState};
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
