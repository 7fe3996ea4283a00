//! The connection: a cheap, cloneable handle on one server session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use pg_exceptions::{Error, Message};

use crate::connector::Connector;
use crate::link::Link;
use crate::simple::SimpleResult;
use crate::version::VersionInfo;
use crate::wire::cancel::CancelHandle;
use crate::wire::hooks::MessageHook;
use crate::wire::shared::{NotificationBatch, TransactionStatus};
use crate::wire::startup::AuthMethod;
use crate::wire::transport::PeerAddr;

impl Connector {
    /// Opens a new connection: each host in turn, each of its addresses, as the sslmode says,
    /// until a server suits `target_session_attrs` (see [`crate::params::TargetSessionAttrs`];
    /// `load_balance_hosts=random` shuffles hosts and addresses first); then the connector's
    /// category, if any, initialises it. A category that fails fails the connect, and the
    /// session is closed.
    pub async fn connect(&self) -> Result<Connection, Error> {
        let link = self.establish().await?;
        let connection = Connection::from_link(self.clone(), link);
        self.initialize(&connection).await?;
        Ok(connection)
    }

    /// Runs the category on a connection just made (or reset); closes it when that fails.
    /// Given up, it leaves the connection to its caller, who has not handed it out.
    pub(crate) async fn initialize(&self, connection: &Connection) -> Result<(), Error> {
        let Some(category) = self.category() else {
            return Ok(());
        };
        let initialized = crate::category::initialize(category.as_ref(), connection).await;
        if initialized.is_err() {
            connection.close();
        }
        initialized
    }
}

/// A timeout in microseconds, 0 for none (a timeout under a microsecond is one).
fn micros(timeout: Option<Duration>) -> u64 {
    match timeout {
        None => 0,
        Some(t) if t.is_zero() => 0,
        Some(t) => u64::try_from(t.as_micros()).unwrap_or(u64::MAX).max(1),
    }
}

/// A connection to a PostgreSQL server.
///
/// `Connection` is a handle: `Clone` gives another handle on the same server session, and
/// statements, cursors and transactions hold one. [`Connection::clone_connection`] opens a
/// new session from the same connector (py-postgresql's `clone()`).
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    connector: Connector,
    link: RwLock<Arc<Link>>,
    /// The statement timeout in microseconds (0: none); see [`Connection::set_query_timeout`].
    query_timeout: AtomicU64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("connector", &self.inner.connector)
            .field("backend_id", &self.backend_id())
            .field("closed", &self.closed())
            .finish()
    }
}

impl Connection {
    pub(crate) fn from_link(connector: Connector, link: Link) -> Connection {
        let query_timeout = AtomicU64::new(micros(connector.params().query_timeout()));
        Connection {
            inner: Arc::new(Inner {
                connector,
                link: RwLock::new(Arc::new(link)),
                query_timeout,
            }),
        }
    }

    /// How long each statement may take before the client gives it up (see
    /// [`Connection::set_query_timeout`]); `query_timeout` of the connection parameters
    /// until set.
    pub fn query_timeout(&self) -> Option<Duration> {
        match self.inner.query_timeout.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Sets how long each statement of this connection (every handle on it, and every
    /// statement and cursor made from it) may take before the client gives it up: the
    /// call fails with a [`QueryTimeoutError`](pg_exceptions::QueryTimeoutError) (a
    /// QueryCanceledError), and the server is told to cancel the statement, unless other
    /// requests were written after it (see the crate's "Timeouts and cancellation"). The
    /// time counts from when the statement is queued, so it includes waiting for requests
    /// ahead of it on the connection. It bounds the calls that read their whole answer
    /// (`execute`, `simple`, `query*`, a statement's `call`, `first`, …), not streams
    /// (`rows`, `chunks`, `column`), whose pace is their consumer's. `None` (or a zero
    /// duration) removes it. Kept across reconnects.
    pub fn set_query_timeout(&self, timeout: Option<Duration>) {
        self.inner
            .query_timeout
            .store(micros(timeout), Ordering::Relaxed);
    }

    /// The live link, borrowed under the read lock: for a field or two, without the
    /// reference count traffic of [`Connection::link`].
    pub(crate) fn current(&self) -> std::sync::RwLockReadGuard<'_, Arc<Link>> {
        self.inner
            .link
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn link(&self) -> Arc<Link> {
        self.inner
            .link
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The connector that made this connection.
    pub fn connector(&self) -> &Connector {
        &self.inner.connector
    }

    /// Opens a new, separate connection from the same connector.
    pub async fn clone_connection(&self) -> Result<Connection, Error> {
        self.inner.connector.connect().await
    }

    /// Reconnects when the connection is closed; does nothing when it is open. The
    /// connector's category initialises the new session before this handle takes it.
    pub async fn connect(&self) -> Result<(), Error> {
        if !self.closed() {
            return Ok(());
        }
        crate::trace::reconnect(&self.inner.connector, "the connection was closed");
        let link = self.inner.connector.establish().await?;
        // Initialised under a handle of its own, so that a reconnect given up mid-way leaves
        // this one closed rather than on a session half initialised.
        let fresh = Connection::from_link(self.inner.connector.clone(), link);
        self.inner.connector.initialize(&fresh).await?;
        *self
            .inner
            .link
            .write()
            .unwrap_or_else(PoisonError::into_inner) = fresh.link();
        Ok(())
    }

    /// Whether the connection is closed (by [`Connection::close`] or because it was lost).
    pub fn closed(&self) -> bool {
        self.current().shared.is_closed()
    }

    /// Closes the connection with a Terminate message. Closing twice does nothing.
    pub fn close(&self) {
        let link = self.link();
        if !link.shared.is_closed() {
            link.terminate();
            link.shared.mark_closed(None);
        }
    }

    /// Runs SQL through the simple query protocol: several statements may be given, and the
    /// first error stops them and is returned.
    pub async fn execute(&self, sql: &str) -> Result<(), Error> {
        self.simple(sql).await.map(drop)
    }

    /// Runs SQL through the simple query protocol and returns every statement's rows as text.
    pub async fn simple(&self, sql: &str) -> Result<Vec<SimpleResult>, Error> {
        let link = self.link();
        crate::simple::simple_query_awaited(&link, sql, self.query_timeout())
            .await
            .map_err(|e| self.context(e))
    }

    /// Runs an anonymous code block (`DO`) in the given procedural language.
    pub async fn do_(&self, language: &str, source: &str) -> Result<(), Error> {
        let sql = format!(
            "DO LANGUAGE {} {}",
            pg_string::quote_ident(language),
            pg_string::quote_literal_portable(source)
        );
        self.execute(&sql).await
    }

    /// Returns the session to its state just after connecting: any transaction is rolled
    /// back, then `DISCARD ALL` drops prepared statements, cursors, temporary tables, listens,
    /// advisory locks and settings made with SET (settings given at connect time are the
    /// session's defaults and stay). The statement cache is emptied, autocommit turned back on
    /// and `set_session`'s characteristics forgotten; then the connector's category, if any,
    /// initialises the session again (a category that fails closes the connection).
    ///
    /// The driver's objects made before outlive it:
    ///
    /// * a [`Statement`](crate::Statement) from [`prepare`](Connection::prepare) or
    ///   [`prepare_cached`](Connection::prepare_cached) is prepared again, under its own name,
    ///   on its next use; when its parameter types or result columns are no longer what they
    ///   were, that use is a FeatureError saying so, before anything runs. One from
    ///   [`statement_from_id`](Connection::statement_from_id) (prepared in SQL) fails with a
    ///   StatementNameError naming the reset;
    /// * a [`Cursor`](crate::Cursor) is closed: its reads and seeks are a CursorNameError
    ///   naming the reset, [`Cursor::close`](crate::Cursor::close) does nothing harmful and
    ///   [`Cursor::clone_cursor`](crate::Cursor::clone_cursor) declares its query again from
    ///   the first row (a cursor declared again silently would restart where the caller
    ///   expects it to go on);
    /// * an [`ALock`](crate::ALock) holds nothing: [`ALock::locked`](crate::ALock::locked) is
    ///   false, each acquisition the reset released is settled by a release that sends
    ///   nothing, and acquiring takes the locks anew.
    ///
    /// They learn of the reset when its `DISCARD ALL` is queued, before its answer: a reset
    /// given up after that has still happened. Uses of these objects from other tasks that
    /// race the reset may still meet the server's own errors.
    pub async fn reset(&self) -> Result<(), Error> {
        if self.transaction_status() != TransactionStatus::Idle {
            self.execute("ROLLBACK").await?;
        }
        // Outside any block even with autocommit off; forgets set_session's characteristics and
        // turns autocommit back on, as after connect.
        self.discard_all().await?;
        self.initialize_again().await
    }

    /// Runs the connector's category on the session again, after a reset or a cleaning.
    pub(crate) async fn initialize_again(&self) -> Result<(), Error> {
        self.inner.connector.initialize(self).await
    }

    /// Adds the connection's context to an error.
    pub(crate) fn context(&self, error: Error) -> Error {
        error.with_context("connection", self.inner.connector.iri())
    }

    /// The server process id serving this connection.
    pub fn backend_id(&self) -> Option<i32> {
        self.current().backend_key.map(|(pid, _)| pid)
    }

    /// How many ParameterStatus messages the server sent since the connection was
    /// established: it sends one whenever a setting it reports changes (`SET TimeZone`,
    /// `SET application_name`, `SET SESSION AUTHORIZATION`…), so a change of this count says
    /// the session's settings moved.
    pub fn parameter_changes(&self) -> u64 {
        self.current().shared.parameter_changes()
    }

    /// The server's version string, as `SELECT version()` gives it
    /// (`PostgreSQL 16.4 (Debian 16.4-1) on x86_64-pc-linux-gnu, …`), as py-postgresql's
    /// `version`. Asked once per session (it cannot change) and kept; the short version the
    /// server reports is [`parameter_status("server_version")`](Connection::parameter_status),
    /// parsed by [`version_info`](Connection::version_info).
    pub async fn version(&self) -> Result<String, Error> {
        let link = self.link();
        if let Some(version) = link.version.get() {
            return Ok(version.clone());
        }
        let version = self
            .scalar("SELECT pg_catalog.version()")
            .await?
            .unwrap_or_default();
        Ok(link.version.get_or_init(|| version).clone())
    }

    /// The product the server says it is: the first word of [`version`](Connection::version)
    /// (`PostgreSQL`), as py-postgresql's `type`.
    pub async fn product_type(&self) -> Result<String, Error> {
        let version = self.version().await?;
        Ok(version
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned())
    }

    /// The server's version, parsed from the `server_version` it reports.
    pub fn version_info(&self) -> Result<VersionInfo, Error> {
        let version = self.parameter_status("server_version").unwrap_or_default();
        VersionInfo::parse(&version).map_err(|e| {
            Error::client(
                &pg_exceptions::DriverError,
                format!("unparsable server version {version:?}"),
            )
            .with_cause(e)
        })
    }

    /// The server's version as libpq's integer: 15.18 is 150018, 9.6.24 is 90624.
    pub fn server_version(&self) -> Result<i32, Error> {
        Ok(self.version_info()?.libpq_number() as i32)
    }

    /// The protocol version in use: (3, 0).
    pub fn protocol_version(&self) -> (u16, u16) {
        (3, 0)
    }

    /// A parameter the server reported (server_version, TimeZone, application_name…), kept
    /// current from ParameterStatus messages.
    pub fn parameter_status(&self, name: &str) -> Option<String> {
        self.current().shared.parameter(name)
    }

    /// Every parameter the server reported.
    pub fn parameters(&self) -> HashMap<String, String> {
        self.current().shared.parameters()
    }

    /// The transaction status from the last ReadyForQuery.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.current().shared.status()
    }

    /// Whether the connection is encrypted with TLS, and so its security.
    pub fn security(&self) -> Option<&'static str> {
        self.current().tls.then_some("tls")
    }

    /// How the server authenticated this connection.
    pub fn auth_method(&self) -> AuthMethod {
        self.current().auth_method
    }

    /// Where the connection's bytes go.
    pub fn peer(&self) -> PeerAddr {
        self.current().peer.clone()
    }

    /// The client side's address and port, for TCP connections.
    pub fn client_addr(&self) -> Option<std::net::SocketAddr> {
        self.current().client_addr
    }

    /// The client address as the server sees it (`inet_client_addr()`), None on unix sockets.
    pub async fn client_address(&self) -> Result<Option<String>, Error> {
        self.scalar("SELECT host(inet_client_addr())").await
    }

    /// The client port as the server sees it (`inet_client_port()`), None on unix sockets.
    pub async fn client_port(&self) -> Result<Option<u16>, Error> {
        Ok(self
            .scalar("SELECT inet_client_port()")
            .await?
            .and_then(|p| p.parse().ok()))
    }

    /// When the server process serving this session started, from `pg_stat_activity`
    /// (None when the statistics collector shows no row for it).
    pub async fn backend_start(&self) -> Result<Option<DateTime<Utc>>, Error> {
        // Microseconds since the Unix epoch: the same whatever DateStyle and TimeZone say.
        let micros = self
            .scalar(
                "SELECT (extract(epoch FROM backend_start) * 1000000)::pg_catalog.int8 \
                 FROM pg_catalog.pg_stat_activity WHERE pid = pg_catalog.pg_backend_pid()",
            )
            .await?;
        let Some(micros) = micros else {
            return Ok(None);
        };
        micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .map(Some)
            .ok_or_else(|| {
                Error::client(
                    &pg_exceptions::DriverError,
                    format!("unreadable backend_start {micros:?}"),
                )
            })
    }

    async fn scalar(&self, sql: &str) -> Result<Option<String>, Error> {
        let results = self.simple(sql).await?;
        Ok(results
            .into_iter()
            .next()
            .and_then(|r| r.rows.into_iter().next())
            .and_then(|row| row.into_iter().next())
            .flatten())
    }

    /// A handle that cancels this connection's running query from any task or thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        let link = self.link();
        CancelHandle::new(link.peer.clone(), link.backend_key)
    }

    /// Cancels the query running on this connection (a CancelRequest on a new socket); the
    /// query fails with QueryCanceledError and the connection stays usable.
    pub async fn interrupt(&self) -> Result<(), Error> {
        self.cancel_handle().cancel().await
    }

    /// Sets (or removes) the connection's message hook, second in the chain after a statement's.
    pub fn set_message_hook(&self, hook: Option<MessageHook>) {
        self.current().shared.hooks.connection.set(hook);
    }

    /// The most recent notices (50 unless changed with [`Connection::set_notice_capacity`]).
    pub fn notices(&self) -> Vec<Message> {
        self.current().shared.notices()
    }

    /// The kept notices, oldest first, taken out: a notice arriving meanwhile is either
    /// taken or kept for the next take, never lost.
    pub fn take_notices(&self) -> Vec<Message> {
        self.current().shared.take_notices()
    }

    /// Forgets the kept notices.
    pub fn clear_notices(&self) {
        self.current().shared.clear_notices();
    }

    /// How many notices the connection keeps.
    pub fn set_notice_capacity(&self, capacity: usize) {
        self.current().shared.set_notice_capacity(capacity);
    }

    /// Notifications received so far and not yet taken, oldest first, with how many were
    /// dropped before them since the last take because the queue was full (see
    /// [`Connection::set_notification_capacity`]).
    pub fn take_notifications(&self) -> NotificationBatch {
        self.current().shared.take_notifications()
    }

    /// How many notifications wait to be taken; never more than
    /// [`notification_capacity`](Connection::notification_capacity).
    pub fn queued_notifications(&self) -> usize {
        self.current().shared.queued_notifications()
    }

    /// How many untaken notifications the connection queues: the `notification_capacity`
    /// connection keyword, else [`DEFAULT_NOTIFICATION_CAPACITY`](crate::DEFAULT_NOTIFICATION_CAPACITY),
    /// unless changed with [`Connection::set_notification_capacity`].
    pub fn notification_capacity(&self) -> usize {
        self.current().shared.notification_capacity()
    }

    /// Changes how many untaken notifications the connection queues. When the queue is full,
    /// each new notification drops the oldest; the next taker learns how many were dropped
    /// ([`NotificationBatch::dropped`], [`NotifyEvent::Dropped`](crate::NotifyEvent::Dropped),
    /// [`ManagerEvent::Dropped`](crate::ManagerEvent::Dropped)). A capacity below what is
    /// queued drops the surplus, oldest first, at once; zero keeps none (every notification
    /// is counted as dropped).
    pub fn set_notification_capacity(&self, capacity: usize) {
        self.current().shared.set_notification_capacity(capacity);
    }
}
