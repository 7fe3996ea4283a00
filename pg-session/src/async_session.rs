//! `queries.TornadoSession`: an async session that takes a connection per query.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use pg_driver::{Connection, Connector, NamedParams, NamedQuery, Params, TransactionStatus};
use pg_exceptions::Error;

use crate::cursor::SessionCursor;
use crate::error::SessionError;
use crate::lanes::{Lanes, Place, Seat};
use crate::observed::Observed;
use crate::options::{DEFAULT_ASYNC_MAX_SIZE, Options, pool_setters};
use crate::pool::{Core, Execution, Pooled, Slot, deadline_after};
use crate::registry;
use crate::report::Pool;
use crate::results::{Mapping, Results, RowForm, Tuple, rows_into};
use crate::routing::Route;
use crate::session::{CHECK_TIMEOUT, callproc_sql};

/// An async session on tokio: each query takes a connection from the process-wide pool of
/// its URI, and gives it back as soon as the rows are read: [`Results`] are in memory and
/// hold no connection (`queries`' `TornadoSession` results hold theirs until freed). A
/// connection is held only where the caller asks for one: [`acquire`](AsyncSession::acquire),
/// a [`cursor`](AsyncSession::cursor), an [`xact`](AsyncSession::xact).
///
/// A connection goes back cleaned ([`Connection::clean`]: rolled back, cursors closed,
/// settings reset, listens ended, advisory locks released, temporary tables dropped, in one
/// round trip; its prepared statements, and so its statement cache, stay) when it may carry
/// state into the next use: one from [`AsyncSession::acquire`] always; after a query or an
/// [`xact`](AsyncSession::xact), when it failed, left a transaction open, changed a setting
/// the server reports (`ParameterStatus`), or ran a command that may leave state by the
/// driver's [`SessionMarks`](pg_driver::SessionMarks): anything but `SELECT`, `INSERT`,
/// `UPDATE`, `DELETE`, `MERGE`, `COPY`, `FETCH`, `MOVE`, `SHOW`, `NOTIFY`, `LOCK TABLE` and
/// the transaction commands (a `SELECT` that made a table counts as other). Otherwise it goes
/// back as it is, at no cost. What no tag shows is a function with session side effects
/// called from a `SELECT` (`set_config` of an unreported setting, a session advisory lock):
/// use [`reset_always`](AsyncSessionBuilder::reset_always) for such work, or `acquire`. Other
/// pools (deadpool-postgres by default, sqlx) never reset; deadpool's `Clean` runs its
/// cleaning every time (its `Clean` also keeps the statements).
///
/// Statements are kept per connection ([`Connection::query_cached`]), and an idle connection
/// is checked with a round trip only when it sat idle longer than
/// [`check_idle_after`](AsyncSessionBuilder::check_idle_after): a query the pool has seen
/// costs one round trip.
///
/// Every statement commits by itself (as in `TornadoSession`); for a transaction, use
/// [`AsyncSession::xact`], which runs a closure on one connection in one block (its `BEGIN`
/// pipelined with the first statement), or take a connection with
/// [`AsyncSession::acquire`] and use the driver's transactions on it. Connections run on the
/// runtime that opened them, so a pool serves one runtime.
///
/// When every connection is busy and the pool is full, a query waits its turn up to the
/// acquire timeout ([`DEFAULT_ACQUIRE_TIMEOUT`](crate::DEFAULT_ACQUIRE_TIMEOUT), 30 s, by
/// default; `queries` fails at once) and then fails with [`SessionError::PoolFull`].
///
/// With a [pipeline depth](AsyncSessionBuilder::pipeline_depth) above one, a statement the
/// session saw leave no state (run on a connection of its own, it needed no reset by the rules
/// above) runs on a shared connection next time, pipelined behind up to `depth - 1` others of
/// the session's: their results hold no connection. Each still commits by itself, and a failure
/// is its own. A slow statement delays those queued behind it on its connection; callers
/// waiting for a connection of their own go first (shared connections take no one new while
/// anyone waits).
///
/// Clones are the same session: they share its pool, what it [observed](AsyncSession::notices)
/// and its [closing](AsyncSession::close).
#[derive(Clone, Debug)]
pub struct AsyncSession<F: RowForm = Mapping> {
    pid: String,
    options: Arc<Options>,
    connector: Connector,
    reads: Option<Route>,
    /// The session's pool once looked up (the registry is a process-wide map behind a lock;
    /// looking it up on every query cost more than the pool's own work).
    core: CoreCache,
    /// The shared connections of pipelined statements (with a pipeline depth above one).
    lanes: Option<Arc<Lanes>>,
    /// What the session's connections showed (backend, encoding, notices), and whether it
    /// was closed; shared by its clones.
    observed: Arc<Observed>,
    _form: PhantomData<fn() -> F>,
}

/// The session's pool, looked up once and shared by the session's clones.
#[derive(Clone)]
struct CoreCache(Arc<std::sync::OnceLock<Arc<Core<Connection>>>>);

impl std::fmt::Debug for CoreCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "looked up"
        } else {
            "not yet looked up"
        })
    }
}

/// A builder for [`AsyncSession`].
#[derive(Clone, Debug)]
pub struct AsyncSessionBuilder<F: RowForm = Mapping> {
    options: Options,
    _form: PhantomData<fn() -> F>,
}

impl AsyncSessionBuilder<Mapping> {
    /// A builder for a session on `uri` with `queries`' defaults for `TornadoSession`.
    pub fn new(uri: impl Into<String>) -> AsyncSessionBuilder<Mapping> {
        let mut options = Options::new(uri.into(), DEFAULT_ASYNC_MAX_SIZE);
        options.acquire_timeout = crate::options::DEFAULT_ACQUIRE_TIMEOUT;
        AsyncSessionBuilder {
            options,
            _form: PhantomData,
        }
    }

    /// A builder for a session on the URI in `PGSQL_<NAME>` (`PGSQL` for the empty name),
    /// read when the session is built, with `sprockets.clients.postgresql`'s options in the
    /// same chain: `pool_max_size`, `pool_idle_ttl`, and [`db_url`](Self::db_url) to use
    /// instead of the variable. A variable that is not set fails `build` with
    /// [`SessionError::MissingVariable`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), pg_exceptions::Error> {
    /// let session = pg_session::AsyncSessionBuilder::from_env("billing")
    ///     .pool_max_size(10)
    ///     .pool_idle_ttl(std::time::Duration::from_secs(300))
    ///     .db_url(std::env::var("BILLING_URL").ok().as_deref())
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn from_env(name: &str) -> AsyncSessionBuilder<Mapping> {
        let mut options = Options::from_env(name, DEFAULT_ASYNC_MAX_SIZE);
        options.acquire_timeout = crate::options::DEFAULT_ACQUIRE_TIMEOUT;
        AsyncSessionBuilder {
            options,
            _form: PhantomData,
        }
    }
}

impl<F: RowForm> AsyncSessionBuilder<F> {
    pool_setters!();
    crate::routing::routing_setters!();

    /// Whether every connection coming back is cleaned ([`Connection::clean`]), not only
    /// those a query may have left changed (see [`AsyncSession`]); off by default.
    pub fn reset_always(mut self, on: bool) -> Self {
        self.options.reset_always = on;
        self
    }

    /// How long a connection may sit idle in the pool before it is checked with an empty
    /// query when taken (default [`DEFAULT_CHECK_IDLE_AFTER`](crate::DEFAULT_CHECK_IDLE_AFTER));
    /// `Duration::ZERO` checks every time. A connection whose server closed it is known
    /// dead without a check.
    pub fn check_idle_after(mut self, after: std::time::Duration) -> Self {
        self.options.check_idle_after = after;
        self
    }

    /// How many statements may be in flight on one connection (default 1, off): above one,
    /// statements the session saw leave no state are pipelined on shared connections (see
    /// [`AsyncSession`]). Off with [`reset_always`](Self::reset_always).
    pub fn pipeline_depth(mut self, depth: usize) -> Self {
        self.options.pipeline_depth = depth.max(1);
        self
    }

    /// Rows in another form: `.row_form::<Tuple>()`.
    pub fn row_form<G: RowForm>(self) -> AsyncSessionBuilder<G> {
        AsyncSessionBuilder {
            options: self.options,
            _form: PhantomData,
        }
    }

    /// The session, and its pool if there is none yet (as `TornadoSession` makes it); nothing
    /// connects until the session is used. A pool of the same id with another size or idle
    /// TTL than this builder set is a [`SessionError::PoolSettingConflict`].
    pub fn build(self) -> Result<AsyncSession<F>, Error> {
        let mut options = self.options;
        options.resolve()?;
        // queries and sprockets name the pool of a TornadoSession, the async session, so.
        let (write, reads) = crate::routing::routes("TornadoSession", &options)?;
        let request = options.pool_request();
        let core = registry::get_or_create::<Connection>(&write.pid, request)?;
        if let Some(route) = &reads {
            registry::get_or_create::<Connection>(&route.pid, request)?;
        }
        let depth = options.pipeline_depth;
        let lanes = (depth > 1 && !options.reset_always).then(|| Arc::new(Lanes::new(depth)));
        Ok(AsyncSession {
            pid: write.pid,
            options: Arc::new(options),
            connector: write.connector,
            reads,
            core: CoreCache(Arc::new(core.into())),
            lanes,
            observed: Arc::default(),
            _form: PhantomData,
        })
    }
}

impl AsyncSession<Mapping> {
    /// A session on `uri` with `queries`' defaults (a pool of 25, mapping rows).
    pub fn new(uri: &str) -> Result<AsyncSession<Mapping>, Error> {
        AsyncSessionBuilder::new(uri).build()
    }

    /// A builder for a session on `uri`.
    pub fn builder(uri: impl Into<String>) -> AsyncSessionBuilder<Mapping> {
        AsyncSessionBuilder::new(uri)
    }

    /// A session on the URI in `PGSQL_<NAME>` (`PGSQL` for the empty name); see
    /// [`env_uri`](crate::env_uri), and [`AsyncSessionBuilder::from_env`] for its options.
    pub fn from_env(name: &str) -> Result<AsyncSession<Mapping>, Error> {
        AsyncSessionBuilder::from_env(name).build()
    }
}

impl<F: RowForm> AsyncSession<F> {
    /// The session's pool: the one it was built with, or, once that was shut down, the pool
    /// that took its id (made with the session's settings if there is none, and held to the
    /// settings it set explicitly).
    fn core(&self) -> Result<Arc<Core<Connection>>, Error> {
        match self.core.0.get() {
            Some(core) if !core.is_retired() => Ok(core.clone()),
            _ => self.core_of(&self.pid, true),
        }
    }

    /// The pool `pid`: the session's own (cached), or its read pool.
    fn core_for(&self, pid: &str) -> Result<Arc<Core<Connection>>, Error> {
        match pid == self.pid {
            true => self.core(),
            false => self.core_of(pid, true),
        }
    }

    /// The pool `pid`, made if there is none; `strict`, an existing pool must have the
    /// settings the builder set, else it is taken as it is.
    fn core_of(&self, pid: &str, strict: bool) -> Result<Arc<Core<Connection>>, Error> {
        let mut request = self.options.pool_request();
        if !strict {
            request.explicit = Default::default();
        }
        registry::get_or_create(pid, request)
    }

    /// Fails once the session was closed.
    fn open(&self) -> Result<(), Error> {
        match self.observed.is_closed() {
            true => Err(SessionError::Closed {
                pool_id: self.pid.clone(),
            }
            .into()),
            false => Ok(()),
        }
    }

    /// Runs `sql` with `params`. The connection goes back to the pool (cleaned first when
    /// the query may have left state, see [`AsyncSession`]) before the results are returned:
    /// they hold every row in memory, and no connection.
    ///
    /// The statement is prepared once per connection and kept in the connection's statement
    /// cache ([`Connection::query_cached`]), so a query the pool has seen before costs one
    /// round trip. With a [pipeline depth](AsyncSessionBuilder::pipeline_depth), a statement
    /// the session saw leave no state runs on a shared connection.
    pub async fn query<P: Params>(&self, sql: &str, params: P) -> Result<Results<F>, Error> {
        self.query_in(&self.pid, &self.connector, sql, params).await
    }

    /// Runs `sql` with `params` as [`AsyncSession::query`] does (the connection back in the
    /// pool before the rows are read) and reads every row as a `T`
    /// ([`FromRow`](pg_driver::FromRow), usually `#[derive(FromRow)]`), whatever the
    /// session's row form. A row that does not fit the type is a
    /// [`ColumnError`](pg_exceptions::ColumnError) naming the field and the column.
    ///
    /// ```no_run
    /// # async fn example(session: &pg_session::AsyncSession) -> Result<(), pg_exceptions::Error> {
    /// use pg_session::FromRow;
    ///
    /// #[derive(FromRow)]
    /// struct Database {
    ///     datname: String,
    ///     datallowconn: bool,
    /// }
    ///
    /// let databases: Vec<Database> = session.query_as("SELECT * FROM pg_database", ()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn query_as<T: pg_driver::FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>, Error> {
        let results = self
            .query_in::<Tuple, P>(&self.pid, &self.connector, sql, params)
            .await?;
        rows_into(results, sql)
    }

    /// Runs `sql` with named placeholders as [`AsyncSession::query_named`] does and reads
    /// every row as a `T` (see [`AsyncSession::query_as`]).
    pub async fn query_named_as<T: pg_driver::FromRow, N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Vec<T>, Error> {
        self.open()?;
        if sql.contains('\\') {
            let conn = self.acquire_in(&self.pid, &self.connector).await?;
            let query = conn.named_query(sql, values)?;
            let results = self.run::<Tuple, _>(conn, query.sql(), &query).await?;
            return rows_into(results, query.sql());
        }
        let query = NamedQuery::new(sql, values)?;
        self.query_as(query.sql(), &query).await
    }

    /// Runs `sql`, written with named placeholders (`%(name)s` or `:name`), with `values` by
    /// name: see [`Session::query_named`](crate::Session::query_named) for the rules. The
    /// rewritten statement runs as [`AsyncSession::query`] runs any, cached and pipelined
    /// alike.
    pub async fn query_named<N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Results<F>, Error> {
        self.open()?;
        if sql.contains('\\') {
            // How a backslash in '…' reads depends on the session's
            // standard_conforming_strings: rewrite on the connection the statement runs on.
            let conn = self.acquire_in(&self.pid, &self.connector).await?;
            let query = conn.named_query(sql, values)?;
            return self.run(conn, query.sql(), &query).await;
        }
        // Without one, every session reads the text alike.
        let query = NamedQuery::new(sql, values)?;
        self.query(query.sql(), &query).await
    }

    /// Runs `sql` on the pool `pid`: pipelined when the session pipelines and knows it leaves
    /// no state, else on a connection of its own.
    async fn query_in<G: RowForm, P: Params>(
        &self,
        pid: &str,
        connector: &Connector,
        sql: &str,
        params: P,
    ) -> Result<Results<G>, Error> {
        self.open()?;
        if let Some(lanes) = &self.lanes
            && lanes.knows(sql)
            && self.observed.encoding_wanted().is_none()
        {
            let seat = self.seat(lanes, self.core_for(pid)?, connector).await?;
            return run_seated(seat, sql, params, &self.observed).await;
        }
        let conn = self.acquire_in(pid, connector).await?;
        self.run(conn, sql, params).await
    }

    /// A seat on a shared connection: on a new one when the pool has a connection free, else
    /// on the least busy one with room (once those being opened are), else on a new one once
    /// the pool hands one out.
    async fn seat(
        &self,
        lanes: &Arc<Lanes>,
        mut core: Arc<Core<Connection>>,
        connector: &Connector,
    ) -> Result<Seat, Error> {
        loop {
            match lanes.place(&core) {
                Place::Open(slot, opening) => match self.ready(core, connector, slot).await? {
                    Ok(lease) => return Ok(opening.open(lease)),
                    // Found dead and discarded: look again.
                    Err(back) => core = back,
                },
                Place::Seat(seat) => return Ok(seat),
                Place::Wait(opened) => opened.await,
                Place::Line => break,
            }
        }
        let deadline = deadline_after(self.options.acquire_timeout);
        match self.lease(core, connector, deadline).await? {
            Ok(lease) => Ok(lanes.open(lease)),
            Err(core) => Err(pool_full(&core)),
        }
    }

    /// Runs read-only work with `params` on a connection of the read pool when the session
    /// routes reads ([`readonly_uri`](AsyncSessionBuilder::readonly_uri),
    /// [`standby_reads`](AsyncSessionBuilder::standby_reads)); otherwise the same as
    /// [`AsyncSession::query`]. As there, the results hold no connection.
    pub async fn query_readonly<P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Results<F>, Error> {
        match &self.reads {
            Some(route) => {
                self.query_in(&route.pid, &route.connector, sql, params)
                    .await
            }
            None => self.query(sql, params).await,
        }
    }

    /// Runs one query on a connection just taken, and decides whether it must be reset when
    /// it goes back.
    async fn run<G: RowForm, P: Params>(
        &self,
        mut conn: PooledConnection,
        sql: &str,
        params: P,
    ) -> Result<Results<G>, Error> {
        let before = conn.session_marks();
        let results = {
            let execution = Execution::start(&conn.core.stats);
            // On an error the lease keeps `reset` set: it is cleaned on its way back.
            execution.done(conn.query_cached(sql, params).await)
        };
        if results.is_ok() && !self.options.reset_always {
            // The same decision as when results held the connection until dropped: nothing
            // else can run on it between the query's end and its return.
            conn.reset = conn.must_clean || !leaves_no_state(&conn, &before, Some(&[sql])).await;
            if !conn.reset
                && let Some(lanes) = &self.lanes
            {
                lanes.learn(sql);
            }
        }
        self.observed.observe(&conn);
        let backend = conn.backend_id();
        // Back now (cleaned in a task of its own when it must be): the rows are in memory.
        drop(conn);
        Results::new(results?, sql, backend)
    }

    /// A batch of statements to run together on one connection of the pool: one round trip
    /// for all of them, and one implicit transaction (all of it commits, or none). See
    /// [`AsyncSessionBatch`].
    pub fn batch(&self) -> AsyncSessionBatch<'_, F> {
        AsyncSessionBatch {
            session: self,
            statements: pg_driver::BatchStatements::new(),
        }
    }

    async fn run_batch(
        &self,
        statements: pg_driver::BatchStatements<'_>,
    ) -> Result<Vec<Results<F>>, Error> {
        self.open()?;
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        let sqls: Vec<&str> = statements.sql().collect();
        let mut conn = self.acquire_in(&self.pid, &self.connector).await?;
        let before = conn.session_marks();
        let results = {
            let execution = Execution::start(&conn.core.stats);
            let batch = conn.batch_of(statements);
            // On an error the lease keeps `reset` set: it is cleaned on its way back.
            execution.done(batch.run().await)
        };
        if let Ok(results) = &results
            && !self.options.reset_always
        {
            // Only the statements whose SELECT tag came without rows need a look.
            let empty: Vec<&str> = sqls
                .iter()
                .zip(results)
                .filter(|(_, r)| r.command == "SELECT" && r.rows.is_empty())
                .map(|(sql, _)| *sql)
                .collect();
            conn.reset = conn.must_clean || !leaves_no_state(&conn, &before, Some(&empty)).await;
        }
        self.observed.observe(&conn);
        let backend = conn.backend_id();
        drop(conn);
        results?
            .into_iter()
            .zip(sqls)
            .map(|(results, sql)| Results::new(results, sql, backend))
            .collect()
    }

    /// Takes a connection of the read pool (of the session's own pool when reads are not
    /// routed) for read-only work of your own.
    pub async fn acquire_readonly(&self) -> Result<PooledConnection, Error> {
        match &self.reads {
            Some(route) => {
                let mut conn = self.acquire_in(&route.pid, &route.connector).await?;
                conn.observed = Some(self.observed.clone());
                Ok(conn)
            }
            None => self.acquire().await,
        }
    }

    /// The read pool, when the session routes reads (created if it does not exist yet).
    pub fn readonly_pool(&self) -> Option<Pool> {
        let route = self.reads.as_ref()?;
        let core = self.core_of(&route.pid, false);
        Some(Pool::new(
            core.expect("a lenient request always gets a pool"),
        ))
    }

    /// Calls the function `name` with `args`, as `SELECT * FROM name($1, …)`.
    pub async fn callproc<P: Params>(&self, name: &str, args: P) -> Result<Results<F>, Error> {
        let sql = callproc_sql(name, args.count())?;
        self.query(&sql, args).await
    }

    /// Takes a connection of the pool for work of your own (a transaction, a cursor); it
    /// goes back, cleaned, when dropped or [released](PooledConnection::release). The notices
    /// it received by then are the session's ([`AsyncSession::notices`]).
    pub async fn acquire(&self) -> Result<PooledConnection, Error> {
        let mut conn = self.acquire_in(&self.pid, &self.connector).await?;
        conn.observed = Some(self.observed.clone());
        Ok(conn)
    }

    /// Declares a server-side cursor named `name` over `sql` with `params` on a connection
    /// of the pool (psycopg2's `cursor(name=…)` as `queries` makes it: scrollable and
    /// `WITH HOLD`), and pages through it with the driver's cursor
    /// ([`pg_driver::Cursor`]: `read`, `next`, `seek`, `stream`…) or in the session's row
    /// form ([`SessionCursor::fetch`]). The cursor holds its connection while it lives;
    /// dropped (or [closed](SessionCursor::close)), it closes on the server and its
    /// connection goes back to the pool cleaned. A future of this call dropped half-way leaves
    /// nothing behind either: a cursor already declared is closed, and the connection is
    /// cleaned on its way back.
    ///
    /// ```no_run
    /// # async fn example(session: &pg_session::AsyncSession) -> Result<(), pg_exceptions::Error> {
    /// let cursor = session
    ///     .cursor("big_report", "SELECT * FROM generate_series(1, $1) AS n", (10_000,))
    ///     .await?;
    /// loop {
    ///     let page = cursor.fetch(500).await?;
    ///     if page.is_empty() {
    ///         break;
    ///     }
    ///     // …
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn cursor<P: Params>(
        &self,
        name: &str,
        sql: &str,
        params: P,
    ) -> Result<SessionCursor<F>, Error> {
        let conn = self.acquire().await?;
        let cursor = {
            let execution = Execution::start(&conn.core.stats);
            // Dropped or failed, the lease (reset set) is cleaned on its way back, and the
            // driver closes a cursor it declared.
            execution.done(conn.query_declare_named(name, sql, params).await)?
        };
        Ok(SessionCursor::new(cursor, conn))
    }

    /// Runs `work` as one transaction on a connection of the pool, and gives the connection
    /// back: committed when `work` returns `Ok`, rolled back when it returns `Err` (whose
    /// error is returned; a failed commit's error is returned through `E`).
    ///
    /// The `BEGIN` goes out with the first statement `work` runs, in the same round trip
    /// (psycopg2's lazy block), so a transaction costs one round trip more than its
    /// statements: its `COMMIT`. Statements come from the connection's statement cache as
    /// the session's own queries do ([`Connection::query_cached`]). A transaction that ended
    /// cleanly goes back to the pool as it is when nothing that ran may have left state in the
    /// session, by the rules of [`AsyncSession`]: no extra round trip, and the statements stay
    /// prepared. Otherwise (a `SET`, a `LISTEN`, a failed commit, a future dropped half-way…)
    /// the connection is cleaned on its way back ([`Connection::clean`]), which keeps its
    /// statements too. `work` may nest the driver's transactions ([`Connection::xact`]),
    /// which are savepoints inside this block.
    ///
    /// ```no_run
    /// # async fn example(session: &pg_session::AsyncSession) -> Result<(), pg_exceptions::Error> {
    /// let debit = "UPDATE accounts SET balance = balance - $2 WHERE id = $1";
    /// let audit = "INSERT INTO audit (account, amount) VALUES ($1, $2)";
    /// let moved = session
    ///     .xact(async |conn| {
    ///         let updated = conn.query_cached(debit, (7i64, 10i64)).await?;
    ///         conn.query_cached(audit, (7i64, -10i64)).await?;
    ///         Ok::<_, pg_exceptions::Error>(updated.count == Some(1))
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn xact<T, E>(
        &self,
        work: impl AsyncFnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<Error>,
    {
        let mut conn = self.acquire_in(&self.pid, &self.connector).await?;
        let before = conn.session_marks();
        // Dropped before the end, the lease keeps `reset` set: the block is rolled back and
        // the session cleaned on its way back.
        conn.set_autocommit(false)?;
        // The BEGIN is queued now, to go out with the first statement: transactions of the
        // driver's that `work` starts are savepoints in the block.
        conn.open_block()?;
        let outcome = {
            let execution = Execution::start(&conn.core.stats);
            execution.done(work(&conn).await)
        };
        let ended = match &outcome {
            Ok(_) => conn.commit().await,
            Err(_) => conn.rollback().await,
        };
        if ended.is_ok() && conn.set_autocommit(true).is_ok() {
            conn.reset = conn.must_clean || !leaves_no_state(&conn, &before, None).await;
        }
        self.observed.observe(&conn);
        // Back at once when it needs no cleaning; cleaned in a task of its own otherwise.
        drop(conn);
        ended?;
        outcome
    }

    async fn acquire_in(
        &self,
        pid: &str,
        connector: &Connector,
    ) -> Result<PooledConnection, Error> {
        self.open()?;
        let deadline = deadline_after(self.options.acquire_timeout);
        let mut lease = match self.lease(self.core_for(pid)?, connector, deadline).await? {
            Ok(lease) => lease,
            Err(core) => return Err(pool_full(&core)),
        };
        if let Some(wanted) = self.observed.encoding_wanted()
            && lease.parameter_status("client_encoding").as_deref() != Some(wanted.as_str())
        {
            // Set before the SET goes out: whatever happens next, it is cleaned on its way
            // back, which gives the next user the connection's own encoding.
            lease.must_clean = true;
            lease.settings().set("client_encoding", &wanted).await?;
        }
        Ok(lease)
    }

    /// Takes a working connection of `core`, waiting for one until `deadline`;
    /// `Ok(Err(core))` when the pool had none by then.
    async fn lease(
        &self,
        mut core: Arc<Core<Connection>>,
        connector: &Connector,
        deadline: Instant,
    ) -> Result<Result<PooledConnection, Arc<Core<Connection>>>, Error> {
        loop {
            let Some(slot) = core.acquire(deadline).await else {
                return Ok(Err(core));
            };
            match self.ready(core, connector, slot).await? {
                Ok(lease) => return Ok(Ok(lease)),
                // Found dead and discarded: try again.
                Err(back) => core = back,
            }
        }
    }

    /// The connection of a slot taken from `core`: an idle one checked (`Ok(Err(core))`
    /// when found dead, and discarded), or a new one.
    async fn ready(
        &self,
        core: Arc<Core<Connection>>,
        connector: &Connector,
        slot: Slot<Connection>,
    ) -> Result<Result<PooledConnection, Arc<Core<Connection>>>, Error> {
        match slot {
            Slot::Idle(conn, idle_for) => {
                let lease = PooledConnection::new(core, conn);
                match lease
                    .healthy(idle_for >= self.options.check_idle_after)
                    .await
                {
                    true => Ok(Ok(lease)),
                    false => Ok(Err(lease.discard())),
                }
            }
            Slot::Open => {
                // Gives the slot back if this future is dropped while connecting.
                let slot = OpenSlot(Some(core));
                let conn = connector.connect().await?;
                Ok(Ok(PooledConnection::new(slot.defuse(), conn)))
            }
        }
    }

    /// Checks that the session can get a working connection (`TornadoSession.validate`).
    pub async fn validate(&self) -> Result<(), Error> {
        let mut conn = self.acquire().await?;
        // Nothing ran on it (but the session's encoding, maybe).
        conn.reset = conn.must_clean;
        conn.release().await;
        Ok(())
    }

    /// The server process of the connection the session used last (a query, a cursor, a
    /// transaction, a connection acquired); `None` before any. An async session takes a
    /// connection per query, so this changes from query to query.
    pub fn backend_pid(&self) -> Option<i32> {
        self.observed.backend_pid()
    }

    /// The client encoding (`UTF8`) of the connection the session used last, as the server
    /// reported it; `None` before any.
    pub fn encoding(&self) -> Option<String> {
        self.observed.encoding()
    }

    /// Sets the client encoding of the session's connections when it differs (the blocking
    /// [`Session::set_encoding`](crate::Session::set_encoding)): it is checked at once on a
    /// connection of the pool, and from then on every connection the session takes (for a
    /// query, a cursor, a transaction or `acquire`) is switched to it first when it has
    /// another, and cleaned on its way back, so that the pool's other users keep their own.
    /// That costs a round trip and a cleaning per query, and turns pipelining off for the
    /// session: set it only when needed. The driver reads text as UTF-8, so other encodings
    /// only suit ASCII text.
    pub async fn set_encoding(&self, encoding: &str) -> Result<(), Error> {
        let conn = self.acquire().await?;
        if conn.parameter_status("client_encoding").as_deref() != Some(encoding) {
            conn.settings().set("client_encoding", encoding).await?;
        }
        self.observed.want_encoding(encoding);
        // Cleaned on its way back, as every acquired connection is.
        drop(conn);
        Ok(())
    }

    /// The notices the server sent on the connections the session used (its queries,
    /// cursors, transactions and acquired connections), oldest first: the last 50, as
    /// psycopg2 keeps them. Notices of pipelined statements are the shared connection's, so
    /// all the session's own.
    pub fn notices(&self) -> Vec<pg_exceptions::Message> {
        self.observed.notices()
    }

    /// Closes the session: from now on its queries, cursors, transactions, `acquire` and
    /// the like, on this handle and on every clone, fail with [`SessionError::Closed`], and
    /// closing it again too. Work already under way runs to its end, and connections held
    /// (results hold none; cursors, acquired connections) go back to the pool as usual when
    /// dropped. The pool stays, shared with other sessions on the URI: [`Pool::shutdown`]
    /// closes it. (`queries`' `TornadoSession` inherits a `close` that fails, having no
    /// connection of its own.)
    pub fn close(&self) -> Result<(), Error> {
        match self.observed.close() {
            true => Ok(()),
            false => self.open(),
        }
    }

    /// Whether the session was [closed](AsyncSession::close).
    pub fn is_closed(&self) -> bool {
        self.observed.is_closed()
    }

    /// The pool id: the MD5 of `"TornadoSession:<uri>"`, as `queries` and
    /// `sprockets.clients.postgresql` compute a `TornadoSession`'s, so both languages name a
    /// pool alike (followed by `+category-…` for a session with a
    /// [category](AsyncSessionBuilder::category)).
    pub fn pid(&self) -> &str {
        &self.pid
    }

    /// The URI the session was made with.
    pub fn uri(&self) -> &str {
        self.options.uri.as_str()
    }

    /// The session's pool (created if it does not exist yet).
    pub fn pool(&self) -> Pool {
        let core = match self.core.0.get() {
            Some(core) if !core.is_retired() => Ok(core.clone()),
            _ => self.core_of(&self.pid, false),
        };
        Pool::new(core.expect("a lenient request always gets a pool"))
    }
}

/// Runs one statement on a shared connection.
async fn run_seated<F: RowForm, P: Params>(
    seat: Seat,
    sql: &str,
    params: P,
    observed: &Observed,
) -> Result<Results<F>, Error> {
    let conn = seat.conn();
    let results = {
        let execution = Execution::start(&seat.core().stats);
        execution.done(conn.query_cached(sql, params).await)
    };
    observed.observe(conn);
    let backend = conn.backend_id();
    seat.finish(results.is_ok());
    Results::new(results?, sql, backend)
}

/// The pool-full error of `core`.
fn pool_full(core: &Core<Connection>) -> Error {
    SessionError::PoolFull {
        pool_id: core.id.clone(),
    }
    .into()
}

/// A slot taken to open a connection in; given back unless defused.
struct OpenSlot(Option<Arc<Core<Connection>>>);

impl OpenSlot {
    fn defuse(mut self) -> Arc<Core<Connection>> {
        self.0.take().expect("defused once")
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        if let Some(core) = self.0.take() {
            core.release(None, false);
        }
    }
}

/// A connection taken from an [`AsyncSession`]'s pool; it dereferences to the driver's
/// [`Connection`] and goes back to the pool, reset, when dropped.
pub struct PooledConnection {
    core: Arc<Core<Connection>>,
    conn: Option<Connection>,
    /// Whether it must be reset on its way back: always for connections handed out by
    /// [`AsyncSession::acquire`], whose use the pool cannot see.
    pub(crate) reset: bool,
    /// Whether it must be reset whatever the query that ran on it did: the session changed
    /// its encoding.
    pub(crate) must_clean: bool,
    /// The session that acquired it for its user, which takes its notices when it goes back.
    observed: Option<Arc<Observed>>,
}

impl PooledConnection {
    fn new(core: Arc<Core<Connection>>, conn: Connection) -> PooledConnection {
        PooledConnection {
            core,
            conn: Some(conn),
            reset: true,
            must_clean: false,
            observed: None,
        }
    }

    /// Hands the connection to `give_back`, after the session that acquired it took what it
    /// showed.
    fn take_back(&mut self) -> Option<Connection> {
        let conn = self.conn.take()?;
        if let Some(observed) = &self.observed {
            observed.observe(&conn);
        }
        Some(conn)
    }

    /// The pool the connection belongs to.
    pub(crate) fn core(&self) -> &Arc<Core<Connection>> {
        &self.core
    }

    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a pooled connection is held until dropped")
    }

    /// Whether an idle connection can be handed out: open, outside a transaction, and, when
    /// `round_trip` (it sat idle a while), answering an empty query. A connection whose
    /// server went away is known closed without a round trip: its task reads the socket all
    /// the time and sees the server's goodbye.
    async fn healthy(&self, round_trip: bool) -> bool {
        let conn = self.conn();
        if conn.closed() || conn.transaction_status() != TransactionStatus::Idle {
            return false;
        }
        if !round_trip {
            return true;
        }
        let check = tokio::time::timeout(CHECK_TIMEOUT, conn.execute(""));
        matches!(check.await, Ok(Ok(()))) && conn.transaction_status() == TransactionStatus::Idle
    }

    /// Closes the connection and frees its slot; the pool, to try again.
    fn discard(mut self) -> Arc<Core<Connection>> {
        if let Some(conn) = self.conn.take() {
            crate::trace::evicted(&self.core.id, 1, crate::trace::DEAD);
            conn.close();
            self.core.release(None, false);
        }
        self.core.clone()
    }

    /// The id of the pool the connection belongs to.
    pub fn pool_id(&self) -> &str {
        &self.core.id
    }

    /// Resets the connection and returns it to the pool, waiting for both (dropping it
    /// does the same in a task of its own). The work is a task of its own here too: this
    /// future dropped half-way, the connection still comes back.
    pub async fn release(mut self) {
        if let Some(returning) = self
            .take_back()
            .and_then(|c| give_back(&self.core, c, self.reset))
        {
            // A join error is the task's panic or the runtime's shutdown: either way the
            // task's `Returning` was dropped, which closed the connection and freed its slot.
            let _ = tokio::spawn(returning.finish()).await;
        }
    }
}

/// Starts giving `conn` back to the pool: a closed connection frees its slot at once, one
/// that needs no `reset` goes back idle at once; any other is marked as on its way back,
/// and the returned guard's [`Returning::finish`] resets it and puts it back.
fn give_back(core: &Arc<Core<Connection>>, conn: Connection, reset: bool) -> Option<Returning> {
    if conn.closed() {
        conn.close();
        core.release(None, false);
        return None;
    }
    if !reset && conn.transaction_status() == TransactionStatus::Idle {
        // Only a query of the session's own ran on it (the user never held it: no message
        // hook), and nothing it did listens: notices are all it can have left.
        conn.clear_notices();
        core.release(Some(conn), false);
        return None;
    }
    core.returning();
    Some(Returning {
        core: core.clone(),
        conn: Some(conn),
    })
}

/// Drops what the last user left in the connection's side channel: its message hook,
/// notices and notifications.
pub(crate) fn forget_side_channel(conn: &Connection) {
    conn.set_message_hook(None);
    conn.clear_notices();
    drop(conn.take_notifications());
}

/// Whether what ran on `conn` since `before` left no state in the session, by the driver's
/// [`SessionMarks`](pg_driver::SessionMarks): the connection is idle with autocommit on, no
/// command that may leave state ran and no reported setting changed. A `SELECT` that sent no
/// row may have made a table (`SELECT … INTO`, `CREATE TABLE … AS`): when it was `sql`, whose
/// statement is cached, its result columns tell (a table-making one has none); otherwise it
/// counts as leaving state.
async fn leaves_no_state(
    conn: &Connection,
    before: &pg_driver::SessionMarks,
    sql: Option<&[&str]>,
) -> bool {
    let after = conn.session_marks();
    if conn.transaction_status() != TransactionStatus::Idle
        || !conn.autocommit()
        || after.changed_since(before)
    {
        return false;
    }
    if !after.bare_selects_since(before) {
        return true;
    }
    // A `SELECT` tag without rows: a table made by `CREATE TABLE … AS` or `SELECT … INTO`
    // has the same. Only statements with result columns are known to make none.
    let Some(sqls) = sql else { return false };
    for sql in sqls {
        match conn.prepare_cached(sql).await {
            Ok(statement) if !statement.columns().is_empty() => {}
            _ => return false,
        }
    }
    true
}

/// A connection on its way back; one that never gets there (its task was dropped with the
/// runtime) is closed and frees its slot.
struct Returning {
    core: Arc<Core<Connection>>,
    conn: Option<Connection>,
}

impl Returning {
    async fn finish(mut self) {
        // Kept in `self` while the cleaning runs: dropped half-way, the guard closes the
        // connection and frees its slot (taken out first, nothing would).
        let Some(conn) = &self.conn else { return };
        conn.set_message_hook(None);
        let clean = matches!(
            tokio::time::timeout(CHECK_TIMEOUT, conn.clean()).await,
            Ok(Ok(()))
        );
        forget_side_channel(conn);
        let Some(conn) = self.conn.take() else { return };
        if clean {
            self.core.release(Some(conn), true);
        } else {
            crate::trace::evicted(&self.core.id, 1, crate::trace::UNCLEAN);
            conn.close();
            self.core.release(None, true);
        }
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.close();
            self.core.release(None, true);
        }
    }
}

impl Deref for PooledConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn()
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let Some(conn) = self.take_back() else { return };
        if let Some(returning) = give_back(&self.core, conn, self.reset) {
            // Reset in a task of its own; with no runtime to reset it on, it cannot be
            // returned clean: dropping `returning` closes it and frees its slot.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                drop(runtime.spawn(returning.finish()));
            }
        }
    }
}

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledConnection")
            .field("pool_id", &self.core.id)
            .field("connection", &self.conn)
            .finish()
    }
}

/// Statements to run together on one connection of a session's pool, made by
/// [`AsyncSession::batch`]: sent under one Sync, so they cost one round trip and one server
/// cycle, and run as one implicit transaction: all of the batch commits, or none of it. The
/// first statement that fails stops the batch, and its error is returned. Statements come
/// from the connection's statement cache, as the session's queries do; the connection goes
/// back to the pool as [`AsyncSession::query`]'s does. Inside a transaction of the session's
/// ([`AsyncSession::xact`]), use the connection's own [`Connection::batch`].
///
/// ```no_run
/// # async fn example(session: &pg_session::AsyncSession) -> Result<(), pg_exceptions::Error> {
/// let [user, orders] = <[_; 2]>::try_from(
///     session
///         .batch()
///         .query("SELECT name FROM users WHERE id = $1", (7i64,))
///         .query("SELECT id FROM orders WHERE user_id = $1", (7i64,))
///         .run()
///         .await?,
/// )
/// .expect("one result a statement");
/// # Ok(()) }
/// ```
#[must_use = "a batch does nothing until it is run"]
pub struct AsyncSessionBatch<'a, F: RowForm> {
    session: &'a AsyncSession<F>,
    statements: pg_driver::BatchStatements<'a>,
}

impl<F: RowForm> std::fmt::Debug for AsyncSessionBatch<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AsyncSessionBatch")
            .field(&self.statements)
            .finish()
    }
}

impl<'a, F: RowForm> AsyncSessionBatch<'a, F> {
    /// Adds `sql` with `params`; the statements run in the order they were added.
    pub fn query<P: Params + Send + Sync + 'a>(mut self, sql: &'a str, params: P) -> Self {
        self.statements.push(sql, params);
        self
    }

    /// The statements so far.
    pub fn statements(&self) -> &pg_driver::BatchStatements<'a> {
        &self.statements
    }

    /// Runs the statements and returns their results, in order (see [`Connection::batch`]'s
    /// [`run`](pg_driver::Batch::run)). An empty batch takes no connection.
    pub async fn run(self) -> Result<Vec<Results<F>>, Error> {
        self.session.run_batch(self.statements).await
    }
}
