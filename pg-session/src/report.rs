//! Pools as users see them: a handle by pool id, its report, shutdown.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::registry::{self, PoolOps};

/// A snapshot of one pool (`queries`' `Pool.report()`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolReport {
    /// The pool id.
    pub id: String,
    /// Connections in use by sessions or results, being opened, or being reset on their
    /// way back.
    pub busy: usize,
    /// Connections waiting in the pool.
    pub idle: usize,
    /// Async callers standing in line for a connection.
    pub waiting: usize,
    /// Queries running now.
    pub executing: usize,
    /// Queries run through the pool, ever.
    pub executions: u64,
    /// Of those, how many failed.
    pub exceptions: u64,
    /// Connections cleaned on their way back, ever ([`Connection::clean`]: after work that
    /// may have left state in the session, or after any use with `reset_always`).
    ///
    /// [`Connection::clean`]: pg_driver::Connection::clean
    pub cleanings: u64,
    /// Whether the pool holds its maximum number of connections.
    pub full: bool,
    /// The most connections the pool holds at once.
    pub max_size: usize,
    /// How long a connection may stay idle before it is closed.
    pub idle_ttl: Duration,
    /// How long no connection has been busy; `None` while one is.
    pub idle_duration: Option<Duration>,
    /// Whether [`Pool::shutdown`] was called (new sessions then make a new pool).
    pub shut_down: bool,
}

/// A handle on one process-wide pool of connections.
///
/// Sessions with the same [pool id](crate::pool_id) share a pool, created by the first of
/// them with its settings (`pool_max_size`, `pool_idle_ttl`); later sessions that set neither
/// use it as it is, one that sets another value fails with
/// [`SessionError::PoolSettingConflict`](crate::SessionError::PoolSettingConflict) (where
/// `queries` silently kept the first), and [`Pool::set_max_size`] and [`Pool::set_idle_ttl`]
/// change it.
#[derive(Clone)]
pub struct Pool {
    ops: Arc<dyn PoolOps>,
}

impl Pool {
    pub(crate) fn new(ops: Arc<dyn PoolOps>) -> Pool {
        Pool { ops }
    }

    /// The pool with this id, if one exists.
    pub fn get(id: &str) -> Option<Pool> {
        registry::lookup(id).map(Pool::new)
    }

    /// Every pool of the process.
    pub fn all() -> Vec<Pool> {
        registry::all().into_iter().map(Pool::new).collect()
    }

    /// The pool id.
    pub fn id(&self) -> &str {
        self.ops.id()
    }

    /// The pool's state and counters.
    pub fn report(&self) -> PoolReport {
        self.ops.report()
    }

    /// Changes the most connections the pool holds; surplus idle ones are closed at once,
    /// surplus busy ones when they come back.
    pub fn set_max_size(&self, max_size: usize) {
        self.ops.set_max_size(max_size)
    }

    /// Changes how long connections may stay idle, for those idle now too.
    pub fn set_idle_ttl(&self, ttl: Duration) {
        self.ops.set_idle_ttl(ttl)
    }

    /// Closes the idle connections and retires the pool: busy connections are closed when
    /// their sessions let them go, and new sessions with this id start a new pool.
    pub fn shutdown(&self) {
        registry::remove(&self.ops);
        self.ops.shutdown();
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pool").field(&self.id()).finish()
    }
}

/// Shuts every pool of the process down (`queries`' `PoolManager.shutdown()`).
pub fn shutdown() {
    Pool::all().iter().for_each(Pool::shutdown);
}
