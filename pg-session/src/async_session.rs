//! `queries.TornadoSession`: an async session whose results hold their connection.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use pg_driver::{Connection, Connector, Params, TransactionStatus};
use pg_exceptions::Error;

use crate::config::env_uri;
use crate::error::SessionError;
use crate::options::{DEFAULT_ASYNC_MAX_SIZE, Options, pool_setters};
use crate::pool::{Core, Execution, Pooled, Slot};
use crate::registry;
use crate::report::Pool;
use crate::results::{Mapping, Results, RowForm};
use crate::routing::Route;
use crate::session::{CHECK_TIMEOUT, callproc_sql};

/// An async session on tokio: each query takes a connection from the process-wide pool of
/// its URI, and the [`Results`] keep it until they are [freed](Results::free) or dropped,
/// when it is reset (rolled back, `DISCARD ALL`) and returned.
///
/// Every statement commits by itself (as in `TornadoSession`); for a transaction, take a
/// connection with [`AsyncSession::acquire`] and use the driver's transactions on it.
/// Connections run on the runtime that opened them, so a pool serves one runtime.
///
/// When every connection is busy and the pool is full, a query waits up to the acquire
/// timeout (zero by default) and then fails with [`SessionError::PoolFull`].
#[derive(Clone, Debug)]
pub struct AsyncSession<F: RowForm = Mapping> {
    pid: String,
    options: Arc<Options>,
    connector: Connector,
    reads: Option<Route>,
    _form: PhantomData<fn() -> F>,
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
        AsyncSessionBuilder {
            options: Options::new(uri.into(), DEFAULT_ASYNC_MAX_SIZE),
            _form: PhantomData,
        }
    }
}

impl<F: RowForm> AsyncSessionBuilder<F> {
    pool_setters!();
    crate::routing::routing_setters!();

    /// Rows in another form: `.row_form::<Tuple>()`.
    pub fn row_form<G: RowForm>(self) -> AsyncSessionBuilder<G> {
        AsyncSessionBuilder {
            options: self.options,
            _form: PhantomData,
        }
    }

    /// The session; nothing connects until it is used.
    pub fn build(self) -> Result<AsyncSession<F>, Error> {
        let (write, reads) = crate::routing::routes("AsyncSession", &self.options)?;
        Ok(AsyncSession {
            pid: write.pid,
            options: Arc::new(self.options),
            connector: write.connector,
            reads,
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
    /// [`env_uri`](crate::env_uri).
    pub fn from_env(name: &str) -> Result<AsyncSession<Mapping>, Error> {
        AsyncSession::new(&env_uri(name, None)?)
    }
}

impl<F: RowForm> AsyncSession<F> {
    fn core(&self) -> Arc<Core<Connection>> {
        self.core_of(&self.pid)
    }

    fn core_of(&self, pid: &str) -> Arc<Core<Connection>> {
        let Options {
            max_size, idle_ttl, ..
        } = *self.options;
        registry::get_or_create(pid, max_size, idle_ttl)
    }

    /// Runs `sql` with `params`; the results hold the connection until freed or dropped.
    pub async fn query<P: Params>(&self, sql: &str, params: P) -> Result<Results<F>, Error> {
        let conn = self.acquire().await?;
        let results = {
            let execution = Execution::start(&conn.core.stats);
            execution.done(conn.query(sql, params).await)?
        };
        let results = Results::new(results, sql, conn.backend_id())?;
        Ok(results.holding(Box::new(conn)))
    }

    /// Runs read-only work with `params` on a connection of the read pool when the session
    /// routes reads ([`readonly_uri`](AsyncSessionBuilder::readonly_uri),
    /// [`standby_reads`](AsyncSessionBuilder::standby_reads)); otherwise the same as
    /// [`AsyncSession::query`]. The results hold the connection until freed or dropped.
    pub async fn query_readonly<P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Results<F>, Error> {
        let conn = self.acquire_readonly().await?;
        let results = {
            let execution = Execution::start(&conn.core.stats);
            execution.done(conn.query(sql, params).await)?
        };
        let results = Results::new(results, sql, conn.backend_id())?;
        Ok(results.holding(Box::new(conn)))
    }

    /// Takes a connection of the read pool (of the session's own pool when reads are not
    /// routed) for read-only work of your own.
    pub async fn acquire_readonly(&self) -> Result<PooledConnection, Error> {
        match &self.reads {
            Some(route) => self.acquire_in(&route.pid, &route.connector).await,
            None => self.acquire().await,
        }
    }

    /// The read pool, when the session routes reads (created if it does not exist yet).
    pub fn readonly_pool(&self) -> Option<Pool> {
        self.reads
            .as_ref()
            .map(|route| Pool::new(self.core_of(&route.pid)))
    }

    /// Calls the function `name` with `args`, as `SELECT * FROM name($1, …)`.
    pub async fn callproc<P: Params>(&self, name: &str, args: P) -> Result<Results<F>, Error> {
        let sql = callproc_sql(name, args.count())?;
        self.query(&sql, args).await
    }

    /// Takes a connection of the pool for work of your own (a transaction, a cursor); it
    /// goes back when dropped or [released](PooledConnection::release).
    pub async fn acquire(&self) -> Result<PooledConnection, Error> {
        self.acquire_in(&self.pid, &self.connector).await
    }

    async fn acquire_in(
        &self,
        pid: &str,
        connector: &Connector,
    ) -> Result<PooledConnection, Error> {
        let core = self.core_of(pid);
        let deadline = Instant::now() + self.options.acquire_timeout;
        loop {
            match core.acquire(deadline).await {
                None => {
                    let pool_id = core.id.clone();
                    return Err(SessionError::PoolFull { pool_id }.into());
                }
                Some(Slot::Idle(conn)) => {
                    let lease = PooledConnection {
                        core: core.clone(),
                        conn: Some(conn),
                    };
                    if lease.healthy().await {
                        return Ok(lease);
                    }
                    lease.discard();
                }
                Some(Slot::Open) => {
                    // Gives the slot back if this future is dropped while connecting.
                    let slot = OpenSlot(Some(core.clone()));
                    let conn = connector.connect().await?;
                    return Ok(PooledConnection {
                        core: slot.defuse(),
                        conn: Some(conn),
                    });
                }
            }
        }
    }

    /// Checks that the session can get a working connection (`TornadoSession.validate`).
    pub async fn validate(&self) -> Result<(), Error> {
        self.acquire().await?.release().await;
        Ok(())
    }

    /// The pool id: the MD5 of `"AsyncSession:<uri>"`.
    pub fn pid(&self) -> &str {
        &self.pid
    }

    /// The URI the session was made with.
    pub fn uri(&self) -> &str {
        &self.options.uri
    }

    /// The session's pool (created if it does not exist yet).
    pub fn pool(&self) -> Pool {
        Pool::new(self.core())
    }
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
}

impl PooledConnection {
    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a pooled connection is held until dropped")
    }

    async fn healthy(&self) -> bool {
        let check = tokio::time::timeout(CHECK_TIMEOUT, self.conn().execute(""));
        matches!(check.await, Ok(Ok(())))
            && self.conn().transaction_status() == TransactionStatus::Idle
    }

    /// Closes the connection and frees its slot.
    fn discard(mut self) {
        if let Some(conn) = self.conn.take() {
            conn.close();
            self.core.release(None, false);
        }
    }

    /// The id of the pool the connection belongs to.
    pub fn pool_id(&self) -> &str {
        &self.core.id
    }

    /// Resets the connection and returns it to the pool, waiting for both (dropping it
    /// does the same in a task of its own).
    pub async fn release(mut self) {
        if let Some(returning) = self
            .conn
            .take()
            .and_then(|c| give_back(self.core.clone(), c))
        {
            returning.finish().await;
        }
    }
}

/// Starts giving `conn` back to the pool: a closed connection frees its slot at once; any
/// other is marked as on its way back, and the returned guard's [`Returning::finish`]
/// resets it and puts it back.
fn give_back(core: Arc<Core<Connection>>, conn: Connection) -> Option<Returning> {
    if conn.closed() {
        conn.close();
        core.release(None, false);
        return None;
    }
    core.returning();
    Some(Returning {
        core,
        conn: Some(conn),
    })
}

/// A connection on its way back; one that never gets there (its task was dropped with the
/// runtime) is closed and frees its slot.
struct Returning {
    core: Arc<Core<Connection>>,
    conn: Option<Connection>,
}

impl Returning {
    async fn finish(mut self) {
        let Some(conn) = self.conn.take() else { return };
        conn.set_message_hook(None);
        let clean = matches!(
            tokio::time::timeout(CHECK_TIMEOUT, conn.reset()).await,
            Ok(Ok(()))
        );
        conn.clear_notices();
        drop(conn.take_notifications());
        if clean {
            self.core.release(Some(conn), true);
        } else {
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
        let Some(conn) = self.conn.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                if let Some(returning) = give_back(self.core.clone(), conn) {
                    drop(runtime.spawn(returning.finish()));
                }
            }
            // No runtime to reset it on: it cannot be returned clean.
            Err(_) => {
                Pooled::close(conn);
                self.core.release(None, false);
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
