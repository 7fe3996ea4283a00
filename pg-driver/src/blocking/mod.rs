//! The blocking facade: every async method, run to completion on a private runtime.
//!
//! Each blocking connection owns a single-threaded tokio runtime, which drives the connection's
//! task while a call is in progress (as the `postgres` crate wraps `tokio-postgres`). Do not call
//! these methods from inside an async runtime: they return an OperationError there.

mod alock;
mod api_impl;
mod batch;
mod copyman;
mod cursor;
mod extras;
mod feed;
mod lobject;
mod named;
mod notify;
mod proc;
mod settings;
mod statement;
mod typed;
mod xact;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use pg_exceptions::{Error, Message, OperationError};
use tokio::runtime::Runtime;

use crate::params::ConnectParams;
use crate::simple::SimpleResult;
use crate::version::VersionInfo;
use crate::wire::cancel::CancelHandle;
use crate::wire::hooks::MessageHook;
use crate::wire::shared::{NotificationBatch, TransactionStatus};
use crate::wire::startup::AuthMethod;

pub use alock::{ALock, ALockGuard};
pub use batch::Batch;
pub use copyman::{CopyManager, CopyProducer, CopyReceiver, transfer};
pub use cursor::Cursor;
pub use lobject::LargeObject;
pub use notify::{ManagerEvent, NotificationManager, Notifications};
pub use proc::{ProcResult, ProcRows, ProcValues, StoredProcedure};
pub use settings::{Settings, SettingsScope};
pub use statement::{Chunks, Column, CopyRows, Rows, Statement};
pub use typed::TypedRows;
pub use xact::{Retry, Transaction};

fn runtime() -> Result<Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::client(&OperationError, "cannot start a runtime").with_cause(e))
}

/// The private runtime of a blocking connection; when the last handle goes, it says goodbye
/// to the server (where it can block) and shuts the runtime down without blocking.
#[derive(Debug)]
struct Host {
    rt: Option<Runtime>,
    conn: crate::Connection,
}

impl Drop for Host {
    fn drop(&mut self) {
        self.conn.close();
        let Some(rt) = self.rt.take() else { return };
        if tokio::runtime::Handle::try_current().is_err() {
            let link = self.conn.link();
            rt.block_on(async {
                let _ =
                    tokio::time::timeout(Duration::from_millis(250), link.shared.finished()).await;
            });
        }
        rt.shutdown_background();
    }
}

/// Refuses to block a thread that drives an async runtime.
fn outside_runtime() -> Result<(), Error> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::client(
            &OperationError,
            "the blocking facade was called inside an async runtime; use the async API there",
        ));
    }
    Ok(())
}

fn run<F: Future>(rt: &Runtime, future: F) -> Result<F::Output, Error> {
    outside_runtime()?;
    Ok(rt.block_on(future))
}

/// The blocking form of [`crate::Connector`].
#[derive(Clone, Debug)]
pub struct Connector {
    inner: crate::Connector,
}

impl Connector {
    /// A blocking connector for these parameters.
    pub fn new(params: ConnectParams) -> Connector {
        Connector {
            inner: crate::Connector::new(params),
        }
    }

    /// The async connector underneath.
    pub fn as_async(&self) -> &crate::Connector {
        &self.inner
    }

    /// The same connector with a category: every connection it makes is initialised by it,
    /// on the connection's runtime, before it is handed out (see [`crate::category`]).
    pub fn with_category(&self, category: Arc<dyn crate::Category>) -> Connector {
        Connector {
            inner: self.inner.with_category(category),
        }
    }

    /// The connector as a `pq://` IRI, password obscured.
    pub fn iri(&self) -> String {
        self.inner.iri()
    }

    /// Opens a new connection.
    pub fn connect(&self) -> Result<Connection, Error> {
        // Checked before the runtime exists: dropping one inside another runtime panics.
        outside_runtime()?;
        let rt = runtime()?;
        let conn = run(&rt, self.inner.connect())??;
        Ok(Connection {
            conn: conn.clone(),
            host: Arc::new(Host { rt: Some(rt), conn }),
        })
    }
}

impl From<crate::Connector> for Connector {
    fn from(inner: crate::Connector) -> Connector {
        Connector { inner }
    }
}

/// The blocking form of [`crate::Connection`]; `Clone` gives another handle on the same session.
#[derive(Clone, Debug)]
pub struct Connection {
    conn: crate::Connection,
    host: Arc<Host>,
}

impl Connection {
    /// The async connection underneath (its futures must run on this connection's runtime,
    /// through [`Connection::block_on`]).
    pub fn as_async(&self) -> &crate::Connection {
        &self.conn
    }

    /// Runs a future on this connection's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, Error> {
        match &self.host.rt {
            Some(rt) => {
                let output = run(rt, future)?;
                // The runtime runs only during calls: a statement the call gave up (a
                // timeout) has its cancel sent before the call returns, not with the next.
                let current = self.conn.current();
                if current.tx.take_nudged() {
                    let link = current.clone();
                    drop(current);
                    rt.block_on(link.tx.settle_cancels(&link.shared));
                }
                Ok(output)
            }
            None => Err(self.conn.link().shared.closed_error()),
        }
    }

    /// The connector that made this connection.
    pub fn connector(&self) -> Connector {
        Connector {
            inner: self.conn.connector().clone(),
        }
    }

    /// Opens a new, separate connection from the same connector.
    pub fn clone_connection(&self) -> Result<Connection, Error> {
        self.connector().connect()
    }

    /// Reconnects when closed; does nothing when open.
    pub fn connect(&self) -> Result<(), Error> {
        self.block_on(self.conn.connect())?
    }

    /// Whether the connection is closed.
    pub fn closed(&self) -> bool {
        self.conn.closed()
    }

    /// Closes the connection; closing twice does nothing.
    pub fn close(&self) {
        self.conn.close();
        let _ = self.block_on(tokio::task::yield_now());
    }

    /// Runs SQL through the simple query protocol; the first error stops it.
    pub fn execute(&self, sql: &str) -> Result<(), Error> {
        self.block_on(self.conn.execute(sql))?
    }

    /// Runs SQL through the simple query protocol and returns the rows as text.
    pub fn simple(&self, sql: &str) -> Result<Vec<SimpleResult>, Error> {
        self.block_on(self.conn.simple(sql))?
    }

    /// Runs an anonymous code block in the given language.
    pub fn do_(&self, language: &str, source: &str) -> Result<(), Error> {
        self.block_on(self.conn.do_(language, source))?
    }

    /// Returns the session to its state just after connecting; statements are prepared again
    /// on their next use, cursors are closed, advisory locks released: see
    /// [`crate::Connection::reset`].
    pub fn reset(&self) -> Result<(), Error> {
        self.block_on(self.conn.reset())?
    }

    /// Makes the session as a pool hands it to its next user, keeping its prepared
    /// statements: see [`crate::Connection::clean`].
    pub fn clean(&self) -> Result<(), Error> {
        self.block_on(self.conn.clean())?
    }

    /// What the commands that ran so far may have left in the session: see
    /// [`crate::Connection::session_marks`].
    pub fn session_marks(&self) -> crate::SessionMarks {
        self.conn.session_marks()
    }

    /// The server process id.
    pub fn backend_id(&self) -> Option<i32> {
        self.conn.backend_id()
    }

    /// The server's version string, as `SELECT version()` gives it (asked once).
    pub fn version(&self) -> Result<String, Error> {
        self.block_on(self.conn.version())?
    }

    /// The product the server says it is (`PostgreSQL`): the first word of its version.
    pub fn product_type(&self) -> Result<String, Error> {
        self.block_on(self.conn.product_type())?
    }

    /// The server's version, parsed.
    pub fn version_info(&self) -> Result<VersionInfo, Error> {
        self.conn.version_info()
    }

    /// The server's version as libpq's integer.
    pub fn server_version(&self) -> Result<i32, Error> {
        self.conn.server_version()
    }

    /// The protocol version in use.
    pub fn protocol_version(&self) -> (u16, u16) {
        self.conn.protocol_version()
    }

    /// A parameter the server reported.
    pub fn parameter_status(&self, name: &str) -> Option<String> {
        self.conn.parameter_status(name)
    }

    /// Every parameter the server reported.
    pub fn parameters(&self) -> HashMap<String, String> {
        self.conn.parameters()
    }

    /// The transaction status from the last ReadyForQuery.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.conn.transaction_status()
    }

    /// Whether the connection is encrypted.
    pub fn security(&self) -> Option<&'static str> {
        self.conn.security()
    }

    /// How the server authenticated this connection.
    pub fn auth_method(&self) -> AuthMethod {
        self.conn.auth_method()
    }

    /// The client address as the server sees it.
    pub fn client_address(&self) -> Result<Option<String>, Error> {
        self.block_on(self.conn.client_address())?
    }

    /// The client port as the server sees it.
    pub fn client_port(&self) -> Result<Option<u16>, Error> {
        self.block_on(self.conn.client_port())?
    }

    /// When the server process started.
    pub fn backend_start(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
        self.block_on(self.conn.backend_start())?
    }

    /// A handle that cancels this connection's running query from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.conn.cancel_handle()
    }

    /// Cancels the running query.
    pub fn interrupt(&self) -> Result<(), Error> {
        self.cancel_handle().cancel_blocking()
    }

    /// How long each statement may take before the client gives it up (see
    /// [`crate::Connection::set_query_timeout`]).
    pub fn query_timeout(&self) -> Option<std::time::Duration> {
        self.conn.query_timeout()
    }

    /// Sets how long each statement may take before the client gives it up, fails it with a
    /// QueryTimeoutError and has the server cancel it (see
    /// [`crate::Connection::set_query_timeout`]); `None` for no limit. For one call, set it
    /// around the call. The cancel is delivered before the call that timed out returns.
    pub fn set_query_timeout(&self, timeout: Option<std::time::Duration>) {
        self.conn.set_query_timeout(timeout)
    }

    /// Sets (or removes) the connection's message hook.
    pub fn set_message_hook(&self, hook: Option<MessageHook>) {
        self.conn.set_message_hook(hook)
    }

    /// The most recent notices.
    pub fn notices(&self) -> Vec<Message> {
        self.conn.notices()
    }

    /// How many notices the connection keeps.
    pub fn set_notice_capacity(&self, capacity: usize) {
        self.conn.set_notice_capacity(capacity)
    }

    /// Notifications received so far and not yet taken, with how many were dropped before
    /// them (see [`crate::Connection::take_notifications`]). Only what the connection's task
    /// read while its runtime was driven is there: [`Connection::notifies`] reads first.
    pub fn take_notifications(&self) -> NotificationBatch {
        self.conn.take_notifications()
    }

    /// How many notifications wait to be taken; never more than the capacity.
    pub fn queued_notifications(&self) -> usize {
        self.conn.queued_notifications()
    }

    /// How many untaken notifications the connection queues (see
    /// [`crate::Connection::notification_capacity`]).
    pub fn notification_capacity(&self) -> usize {
        self.conn.notification_capacity()
    }

    /// Changes how many untaken notifications the connection queues (see
    /// [`crate::Connection::set_notification_capacity`]).
    pub fn set_notification_capacity(&self, capacity: usize) {
        self.conn.set_notification_capacity(capacity)
    }
}

/// Opens a connection from an IRI or a scheme-less locator (see [`crate::open`]), with libpq's
/// environment filling what it leaves out.
pub fn open(iri: &str) -> Result<Connection, Error> {
    Connector::from(crate::connector_from_iri_with_env(iri)?).connect()
}
