//! `queries.Session`: a blocking session on one pooled connection.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use pg_driver::blocking::{Connection, Connector};
use pg_driver::{NamedParams, Params, TransactionStatus};
use pg_exceptions::{Error, Message};

use crate::error::SessionError;
use crate::options::{Options, pool_setters};
use crate::pool::{Core, Execution, Pooled, Slot, deadline_after};
use crate::registry;
use crate::report::Pool;
use crate::results::{Mapping, Results, RowForm, Tuple, rows_into};

/// How long checking an idle connection or resetting a returned one may take.
pub(crate) const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// A blocking session: one connection from the process-wide pool of its URI, held for the
/// session's life. Dropped, the session gives it back cleaned
/// ([`Connection::clean`](pg_driver::Connection::clean): rolled back and its session state
/// undone, its prepared statements kept); [closed](Session::close), the session closes it and
/// removes it from the pool, as `queries` does.
///
/// Rows come as [`Record`](crate::Record) mappings unless the builder asks for
/// [`Tuple`](crate::Tuple)s. With autocommit off, the session opens a transaction block
/// before its first statement and after each [`commit`](Session::commit) or
/// [`rollback`](Session::rollback), as psycopg2 does.
///
/// Do not use it inside an async runtime (the driver's blocking facade refuses to run
/// there): use [`AsyncSession`](crate::AsyncSession).
pub struct Session<F: RowForm = Mapping> {
    pid: String,
    uri: crate::options::SecretUri,
    autocommit: bool,
    lease: Lease,
    reads: Option<ReadSide>,
    _form: PhantomData<fn() -> F>,
}

/// A builder for [`Session`].
#[derive(Clone, Debug)]
pub struct SessionBuilder<F: RowForm = Mapping> {
    options: Options,
    _form: PhantomData<fn() -> F>,
}

impl SessionBuilder<Mapping> {
    /// A builder for a session on `uri` with `queries`' defaults.
    pub fn new(uri: impl Into<String>) -> SessionBuilder<Mapping> {
        SessionBuilder {
            options: Options::new(uri.into(), Options::default_max_size()),
            _form: PhantomData,
        }
    }

    /// A builder for a session on the URI in `PGSQL_<NAME>` (`PGSQL` for the empty name),
    /// read when the session connects, with `sprockets.clients.postgresql`'s options in
    /// the same chain: `pool_max_size`, `pool_idle_ttl`, and [`db_url`](Self::db_url) to
    /// use instead of the variable. A variable that is not set fails `connect` with
    /// [`SessionError::MissingVariable`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), pg_exceptions::Error> {
    /// let session = pg_session::SessionBuilder::from_env("billing")
    ///     .pool_max_size(4)
    ///     .pool_idle_ttl(std::time::Duration::from_secs(300))
    ///     .db_url(std::env::args().nth(1).as_deref())
    ///     .connect()?;
    /// # Ok(()) }
    /// ```
    pub fn from_env(name: &str) -> SessionBuilder<Mapping> {
        SessionBuilder {
            options: Options::from_env(name, Options::default_max_size()),
            _form: PhantomData,
        }
    }
}

impl<F: RowForm> SessionBuilder<F> {
    pool_setters!();
    crate::routing::routing_setters!();

    /// Whether each statement commits by itself (the default); when off, the session runs
    /// in a transaction block that [`Session::commit`] or [`Session::rollback`] ends.
    pub fn autocommit(mut self, on: bool) -> Self {
        self.options.autocommit = on;
        self
    }

    /// Rows in another form: `.row_form::<Tuple>()`.
    pub fn row_form<G: RowForm>(self) -> SessionBuilder<G> {
        SessionBuilder {
            options: self.options,
            _form: PhantomData,
        }
    }

    /// Takes a connection from the pool (creating the pool, or opening a connection, as
    /// needed) and starts the session.
    pub fn connect(self) -> Result<Session<F>, Error> {
        // Checked first: inside a runtime, the idle connections' health checks would fail
        // and healthy connections be evicted.
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::client(
                &pg_exceptions::OperationError,
                "a blocking Session was started inside an async runtime; use AsyncSession there",
            ));
        }
        let mut options = self.options;
        options.resolve()?;
        let (write, read) = crate::routing::routes("Session", &options)?;
        let request = options.pool_request();
        let Options {
            uri,
            acquire_timeout,
            autocommit,
            ..
        } = options;
        let connector = Connector::from(write.connector);
        let pid = write.pid;
        let core = registry::get_or_create::<Connection>(&pid, request)?;
        let reads = match read {
            Some(route) => Some(ReadSide {
                core: registry::get_or_create(&route.pid, request)?,
                connector: Connector::from(route.connector),
                acquire_timeout,
                lease: OnceLock::new(),
                init: Mutex::new(()),
            }),
            None => None,
        };
        let lease = Lease::acquire(core, &connector, deadline_after(acquire_timeout))?;
        Ok(Session {
            pid,
            uri,
            autocommit,
            lease,
            reads,
            _form: PhantomData,
        })
    }
}

impl Session<Mapping> {
    /// A session on `uri` with `queries`' defaults (a pool of one, mapping rows, autocommit).
    pub fn new(uri: &str) -> Result<Session<Mapping>, Error> {
        SessionBuilder::new(uri).connect()
    }

    /// A builder for a session on `uri`.
    pub fn builder(uri: impl Into<String>) -> SessionBuilder<Mapping> {
        SessionBuilder::new(uri)
    }

    /// A session on the URI in `PGSQL_<NAME>` (`PGSQL` for the empty name), as
    /// `sprockets.clients.postgresql` finds it; see [`env_uri`](crate::env_uri), and
    /// [`SessionBuilder::from_env`] for its options.
    pub fn from_env(name: &str) -> Result<Session<Mapping>, Error> {
        SessionBuilder::from_env(name).connect()
    }
}

impl<F: RowForm> Session<F> {
    fn conn(&self) -> &Connection {
        self.lease.conn()
    }

    /// The connection, unless the session was closed.
    fn open(&self) -> Result<&Connection, Error> {
        match self.lease.removed() {
            true => Err(SessionError::Closed {
                pool_id: self.pid.clone(),
            }
            .into()),
            false => Ok(self.lease.conn()),
        }
    }

    fn begin_if_needed(&self) -> Result<(), Error> {
        let conn = self.open()?;
        if !self.autocommit && conn.transaction_status() == TransactionStatus::Idle {
            conn.execute("BEGIN")?;
        }
        Ok(())
    }

    /// Runs `sql` with `params` (`$1`, `$2`, … in the SQL) and returns every row.
    pub fn query<P: Params>(&self, sql: &str, params: P) -> Result<Results<F>, Error> {
        self.query_in_form(sql, params)
    }

    /// [`Session::query`], with the rows in form `G`.
    fn query_in_form<G: RowForm, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Results<G>, Error> {
        self.begin_if_needed()?;
        let results = {
            let execution = Execution::start(&self.lease.core.stats);
            execution.done(self.conn().query_cached(sql, params))?
        };
        Results::new(results, sql, self.backend_pid())
    }

    /// A batch of statements to run together in one round trip on the session's connection
    /// (see [`SessionBatch`]).
    pub fn batch(&self) -> SessionBatch<'_, F> {
        SessionBatch {
            session: self,
            statements: pg_driver::BatchStatements::new(),
        }
    }

    /// Runs `sql` with `params` as [`Session::query`] does and reads every row as a `T`
    /// ([`FromRow`](pg_driver::FromRow), usually `#[derive(FromRow)]`), whatever the
    /// session's row form. A row that does not fit the type is a
    /// [`ColumnError`](pg_exceptions::ColumnError) naming the field and the column.
    ///
    /// ```no_run
    /// # fn example(session: &pg_session::Session) -> Result<(), pg_exceptions::Error> {
    /// use pg_session::FromRow;
    ///
    /// #[derive(FromRow)]
    /// struct Setting {
    ///     name: String,
    ///     setting: Option<String>,
    /// }
    ///
    /// let settings: Vec<Setting> = session.query_as("SELECT * FROM pg_settings", ())?;
    /// # Ok(()) }
    /// ```
    pub fn query_as<T: pg_driver::FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>, Error> {
        rows_into(self.query_in_form::<Tuple, P>(sql, params)?, sql)
    }

    /// Runs `sql` with named placeholders as [`Session::query_named`] does and reads every
    /// row as a `T` (see [`Session::query_as`]).
    pub fn query_named_as<T: pg_driver::FromRow, N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Vec<T>, Error> {
        let query = self.open()?.named_query(sql, values)?;
        self.query_as(query.sql(), &query)
    }

    /// Runs `sql`, written with named placeholders — psycopg2's and `queries`' `%(name)s`, or
    /// `:name` — with `values` by name (a slice of `(&str, &dyn ToSql)` pairs, a map such as a
    /// [`Record`](crate::Record), a row), and returns every row.
    ///
    /// The statement is rewritten to `$1`, `$2`, … (by [`pg_driver::NamedQuery`], reading
    /// strings as the session does) and the values are sent as its parameters, never as text;
    /// the rules (quotes and comments left alone, `%%` in pyformat mode, casts and slices) are
    /// [`pg_string::named_to_positional`]'s. A name without a value is a
    /// [`ParameterError`](pg_exceptions::ParameterError) naming it, raised before anything is
    /// sent; values no placeholder uses are ignored, as psycopg2 ignores them. The results'
    /// [`query`](Results::query) is the statement as the server ran it.
    ///
    /// ```no_run
    /// # fn example(session: &pg_session::Session) -> Result<(), pg_exceptions::Error> {
    /// use pg_types::ToSql;
    ///
    /// let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &7i32), ("note", &"it's")];
    /// session.query_named("UPDATE t SET note = %(note)s WHERE id = %(id)s", values)?;
    /// # Ok(()) }
    /// ```
    pub fn query_named<N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Results<F>, Error> {
        let query = self.open()?.named_query(sql, values)?;
        self.query(query.sql(), &query)
    }

    /// Declares a server-side cursor named `name` over `sql` with `params` (psycopg2's
    /// `cursor(name=…)`, as `queries` makes it: scrollable, `WITH HOLD`, so it outlives the
    /// statement's transaction) on the session's connection, in the session's transaction
    /// block when autocommit is off. It pages as the driver's cursors do
    /// ([`read`](pg_driver::blocking::Cursor::read), [`seek`](pg_driver::blocking::Cursor::seek),
    /// …) and is closed on the server when dropped (or [closed](pg_driver::blocking::Cursor::close)).
    /// A name already declared on the connection is a `DuplicateCursorError`.
    pub fn cursor<P: Params>(
        &self,
        name: &str,
        sql: &str,
        params: P,
    ) -> Result<pg_driver::blocking::Cursor, Error> {
        self.begin_if_needed()?;
        let execution = Execution::start(&self.lease.core.stats);
        execution.done(self.conn().query_declare_named(name, sql, params))
    }

    /// Runs read-only work: on the read pool's connection (taken on first use and held until
    /// the session ends) when the session routes reads
    /// ([`readonly_uri`](SessionBuilder::readonly_uri),
    /// [`standby_reads`](SessionBuilder::standby_reads)), with autocommit, outside the
    /// session's transaction block; otherwise the same as [`Session::query`].
    pub fn query_readonly<P: Params>(&self, sql: &str, params: P) -> Result<Results<F>, Error> {
        let Some(reads) = &self.reads else {
            return self.query(sql, params);
        };
        self.open()?;
        let lease = reads.lease()?;
        let results = {
            let execution = Execution::start(&lease.core.stats);
            execution.done(lease.conn().query_cached(sql, params))?
        };
        Results::new(results, sql, lease.conn().backend_id())
    }

    /// The connection read-only work runs on (see [`Session::query_readonly`]): the read
    /// pool's, taken on first use, or the session's own when reads are not routed.
    pub fn readonly_connection(&self) -> Result<&Connection, Error> {
        let own = self.open()?;
        match &self.reads {
            Some(reads) => Ok(reads.lease()?.conn()),
            None => Ok(own),
        }
    }

    /// The read pool, when the session routes reads.
    pub fn readonly_pool(&self) -> Option<Pool> {
        self.reads
            .as_ref()
            .map(|reads| Pool::new(reads.core.clone()))
    }

    /// Calls the function `name` (a qualified name as written in SQL: `schema.name`,
    /// `"Quoted"`) with `args`, as `SELECT * FROM name($1, …)`.
    pub fn callproc<P: Params>(&self, name: &str, args: P) -> Result<Results<F>, Error> {
        let sql = callproc_sql(name, args.count())?;
        self.query(&sql, args)
    }

    /// Commits the transaction block, if one is open.
    pub fn commit(&self) -> Result<(), Error> {
        self.end_block("COMMIT")
    }

    /// Rolls the transaction block back, if one is open.
    pub fn rollback(&self) -> Result<(), Error> {
        self.end_block("ROLLBACK")
    }

    fn end_block(&self, sql: &str) -> Result<(), Error> {
        let conn = self.open()?;
        if conn.transaction_status() == TransactionStatus::Idle {
            return Ok(());
        }
        conn.execute(sql)
    }

    /// Whether statements commit by themselves.
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// The transaction status the server last reported.
    pub fn tx_status(&self) -> TransactionStatus {
        self.conn().transaction_status()
    }

    /// The server process serving this session; `None` once it is closed.
    pub fn backend_pid(&self) -> Option<i32> {
        self.open().ok()?.backend_id()
    }

    /// The client encoding the server reports (`UTF8`); `None` once the session is closed.
    pub fn encoding(&self) -> Option<String> {
        self.open().ok()?.parameter_status("client_encoding")
    }

    /// Sets the client encoding when it differs. The driver reads text as UTF-8, so other
    /// encodings only suit ASCII text; the connection's next user gets UTF-8 back.
    pub fn set_encoding(&self, encoding: &str) -> Result<(), Error> {
        let conn = self.open()?;
        if self.encoding().as_deref() == Some(encoding) {
            return Ok(());
        }
        conn.settings().set("client_encoding", encoding)
    }

    /// The notices the server sent this session, oldest first: the last 50, as psycopg2
    /// keeps them. A closed session has none.
    pub fn notices(&self) -> Vec<Message> {
        match self.open() {
            Ok(conn) => conn.notices(),
            Err(_) => Vec::new(),
        }
    }

    /// Whether the session was [closed](Session::close).
    pub fn is_closed(&self) -> bool {
        self.lease.removed()
    }

    /// The pool id: the MD5 of `"Session:<uri>"`, as `queries` computes it (followed by
    /// `+category-…` for a session with a [category](SessionBuilder::category)).
    pub fn pid(&self) -> &str {
        &self.pid
    }

    /// The URI the session was made with.
    pub fn uri(&self) -> &str {
        self.uri.as_str()
    }

    /// The driver connection underneath (once the session is closed, a closed connection:
    /// using it, or a clone of it, fails as the driver fails on a closed connection).
    pub fn connection(&self) -> &Connection {
        self.conn()
    }

    /// The session's pool.
    pub fn pool(&self) -> Pool {
        Pool::new(self.lease.core.clone())
    }

    /// Closes the session's connection (and its read connection, if it took one) and
    /// removes it from the pool, as `queries`' `Session.close` does: an open transaction
    /// block is rolled back by the server, and the pool's slot is free at once for a new
    /// connection. Dropping the session instead gives the connection back, cleaned, for
    /// reuse.
    ///
    /// The session stays, closed: everything that would talk to the server (`query`,
    /// `callproc`, `cursor`, `commit`, `set_encoding`, closing again…) fails with
    /// [`SessionError::Closed`]; [`backend_pid`](Session::backend_pid) and
    /// [`encoding`](Session::encoding) are `None` and [`notices`](Session::notices) empty. It
    /// takes `&self` because a session may be shared (`Arc<Session>`): a thread that closes
    /// it ends it for every holder, and they are told so.
    pub fn close(&self) -> Result<(), Error> {
        if !self.lease.remove() {
            return Err(SessionError::Closed {
                pool_id: self.pid.clone(),
            }
            .into());
        }
        if let Some(lease) = self.reads.as_ref().and_then(|reads| reads.lease.get()) {
            lease.remove();
        }
        Ok(())
    }
}

impl<F: RowForm> std::fmt::Debug for Session<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("pid", &self.pid)
            .field("backend_pid", &self.backend_pid())
            .field("autocommit", &self.autocommit)
            .finish()
    }
}

/// `SELECT * FROM "schema"."name"($1, …, $count)`.
pub(crate) fn callproc_sql(name: &str, count: usize) -> Result<String, Error> {
    let parts = pg_string::split_qname(name).map_err(|e| {
        Error::client(
            &pg_exceptions::OperationError,
            format!("function name {name:?}: {e}"),
        )
    })?;
    let args: Vec<String> = (1..=count).map(|i| format!("${i}")).collect();
    Ok(format!(
        "SELECT * FROM {}({})",
        pg_string::qname(parts),
        args.join(", ")
    ))
}

/// The read pool of a session that routes reads, and its connection once taken.
struct ReadSide {
    core: Arc<Core<Connection>>,
    connector: Connector,
    acquire_timeout: Duration,
    lease: OnceLock<Lease>,
    init: Mutex<()>,
}

impl ReadSide {
    /// The read connection's lease, taken from the pool on first use.
    fn lease(&self) -> Result<&Lease, Error> {
        if let Some(lease) = self.lease.get() {
            return Ok(lease);
        }
        let _taking = self.init.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lease) = self.lease.get() {
            return Ok(lease);
        }
        let deadline = deadline_after(self.acquire_timeout);
        let lease = Lease::acquire(self.core.clone(), &self.connector, deadline)?;
        Ok(self.lease.get_or_init(|| lease))
    }
}

/// A blocking connection taken from a pool, given back when dropped unless
/// [removed](Lease::remove) first.
struct Lease {
    core: Arc<Core<Connection>>,
    conn: Option<Connection>,
    /// Set once the connection was closed and its slot freed.
    removed: std::sync::atomic::AtomicBool,
}

impl Lease {
    fn acquire(
        core: Arc<Core<Connection>>,
        connector: &Connector,
        deadline: Instant,
    ) -> Result<Lease, Error> {
        loop {
            match core.acquire_blocking(deadline) {
                None => {
                    let pool_id = core.id.clone();
                    return Err(SessionError::NoIdleConnections { pool_id }.into());
                }
                Some(Slot::Idle(conn, _)) => {
                    if healthy(&conn) {
                        return Ok(Lease {
                            core,
                            conn: Some(conn),
                            removed: Default::default(),
                        });
                    }
                    // Dead (a restart, a terminated backend): its slot is free again.
                    crate::trace::evicted(&core.id, 1, crate::trace::DEAD);
                    conn.close();
                    core.release(None, false);
                }
                Some(Slot::Open) => {
                    return match connector.connect() {
                        Ok(conn) => Ok(Lease {
                            core,
                            conn: Some(conn),
                            removed: Default::default(),
                        }),
                        Err(error) => {
                            core.release(None, false);
                            Err(error)
                        }
                    };
                }
            }
        }
    }

    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }

    /// Closes the connection and frees its slot, once; whether this call did.
    fn remove(&self) -> bool {
        use std::sync::atomic::Ordering;
        if self.removed.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.conn().close();
        self.core.release(None, false);
        true
    }

    fn removed(&self) -> bool {
        self.removed.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Whether an idle connection still answers: one empty query, a round trip.
fn healthy(conn: &Connection) -> bool {
    // The timer is made inside the connection's runtime, which it needs.
    let check = async { tokio::time::timeout(CHECK_TIMEOUT, conn.as_async().execute("")).await };
    matches!(conn.block_on(check), Ok(Ok(Ok(()))))
        && conn.transaction_status() == TransactionStatus::Idle
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.removed() {
            return;
        }
        if conn.closed() {
            conn.close();
            self.core.release(None, false);
            return;
        }
        self.core.returning();
        let inner = conn.as_async();
        inner.set_message_hook(None);
        let reset = async { tokio::time::timeout(CHECK_TIMEOUT, inner.clean()).await };
        let clean = matches!(conn.block_on(reset), Ok(Ok(Ok(()))));
        crate::async_session::forget_side_channel(inner);
        if clean {
            self.core.release(Some(conn), true);
        } else {
            crate::trace::evicted(&self.core.id, 1, crate::trace::UNCLEAN);
            conn.close();
            self.core.release(None, true);
        }
    }
}

/// Statements to run together under one Sync on a [`Session`]'s connection, made by
/// [`Session::batch`]: one round trip for all of them. With autocommit on, the batch is one
/// implicit transaction (all of it commits, or none); with it off, it runs in the session's
/// block, which it opens if none is open. The first statement that fails stops the batch,
/// and its error is returned. See [`pg_driver::Batch`].
///
/// ```no_run
/// # fn example(session: &pg_session::Session) -> Result<(), pg_exceptions::Error> {
/// let results = session
///     .batch()
///     .query("INSERT INTO visits (page) VALUES ($1)", ("/",))
///     .query("SELECT count(*) FROM visits", ())
///     .run()?;
/// assert_eq!(results.len(), 2);
/// # Ok(()) }
/// ```
#[must_use = "a batch does nothing until it is run"]
pub struct SessionBatch<'a, F: RowForm> {
    session: &'a Session<F>,
    statements: pg_driver::BatchStatements<'a>,
}

impl<F: RowForm> std::fmt::Debug for SessionBatch<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SessionBatch")
            .field(&self.statements)
            .finish()
    }
}

impl<'a, F: RowForm> SessionBatch<'a, F> {
    /// Adds `sql` with `params`; the statements run in the order they were added.
    pub fn query<P: Params + Send + Sync + 'a>(mut self, sql: &'a str, params: P) -> Self {
        self.statements.push(sql, params);
        self
    }

    /// The statements so far.
    pub fn statements(&self) -> &pg_driver::BatchStatements<'a> {
        &self.statements
    }

    /// Runs the statements and returns their results, in order. An empty batch sends
    /// nothing.
    pub fn run(self) -> Result<Vec<Results<F>>, Error> {
        let session = self.session;
        if self.statements.is_empty() {
            session.open()?;
            return Ok(Vec::new());
        }
        session.begin_if_needed()?;
        let sqls: Vec<&str> = self.statements.sql().collect();
        let batch = session.conn().batch_of(self.statements);
        let results = {
            let execution = Execution::start(&session.lease.core.stats);
            execution.done(batch.run())?
        };
        let backend = session.backend_pid();
        results
            .into_iter()
            .zip(sqls)
            .map(|(results, sql)| Results::new(results, sql, backend))
            .collect()
    }
}
