//! Pipelined statements: an [`AsyncSession`](crate::AsyncSession) with a pipeline depth above
//! one runs the statements it has seen leave no state on shared connections, "lanes", several
//! in flight on each, rather than one connection per statement.
//!
//! A lane is an ordinary lease of the pool: the pool counts it as one busy connection, and it
//! goes back when its last statement is done. A statement opens a new lane when the pool has
//! a connection free, joins the least busy lane with room when it has not, and otherwise
//! stands in the pool's line like any caller. Lanes take no one new while callers stand in
//! line, so they drain and their connections go to the line in turn: a caller that wants a
//! connection of its own (a transaction, a statement not known to leave no state) is never
//! starved by a steady stream of pipelined ones.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pg_driver::{Connection, TransactionStatus};

use crate::async_session::PooledConnection;
use crate::pool::Core;

/// At most this many statement texts are remembered as leaving no state; past it, statements
/// not remembered run on connections of their own.
const REMEMBERED: usize = 1024;

/// The lanes of one session (and its clones), and the statements it knows leave no state.
pub(crate) struct Lanes {
    depth: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Lanes with statements in flight, each with how many.
    open: Vec<(Arc<Lane>, usize)>,
    /// Statements seen to leave no state behind (see [`AsyncSession`](crate::AsyncSession)).
    stateless: HashSet<Box<str>>,
}

/// A connection taken from the pool and shared by the statements in flight on it.
struct Lane {
    lease: PooledConnection,
    /// The connection's count of reported setting changes when the lane opened.
    settings: u64,
    /// Set when a statement failed, was given up, or left the connection in a transaction:
    /// the connection goes back reset.
    spoiled: AtomicBool,
}

impl Drop for Lane {
    fn drop(&mut self) {
        // The lease goes back right after this, reset when anything may have left state.
        self.lease.reset =
            self.spoiled.load(Ordering::Relaxed) || self.lease.parameter_changes() != self.settings;
    }
}

/// One statement's place on a lane; leaving it gives the lane's connection back to the pool
/// when it was the last.
pub(crate) struct Seat {
    lanes: Arc<Lanes>,
    lane: Arc<Lane>,
    finished: bool,
}

impl Lanes {
    pub(crate) fn new(depth: usize) -> Lanes {
        Lanes {
            depth,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `sql` was seen to leave no state.
    pub(crate) fn knows(&self, sql: &str) -> bool {
        self.lock().stateless.contains(sql)
    }

    /// Remembers that `sql` left no state when it ran on a connection of its own.
    pub(crate) fn learn(&self, sql: &str) {
        let mut state = self.lock();
        if state.stateless.len() < REMEMBERED && !state.stateless.contains(sql) {
            state.stateless.insert(sql.into());
        }
    }

    /// A seat on the least busy open lane of `core` with room, unless callers stand in line
    /// for a connection (the lanes drain for them).
    pub(crate) fn join(self: &Arc<Self>, core: &Arc<Core<Connection>>) -> Option<Seat> {
        let lane = {
            let mut state = self.lock();
            if state.open.is_empty() || core.has_line() {
                return None;
            }
            let (lane, count) = state
                .open
                .iter_mut()
                .filter(|(lane, count)| {
                    *count < self.depth
                        && Arc::ptr_eq(lane.lease.core(), core)
                        && !lane.lease.closed()
                        && !lane.spoiled.load(Ordering::Relaxed)
                })
                .min_by_key(|(_, count)| *count)?;
            *count += 1;
            lane.clone()
        };
        Some(Seat {
            lanes: self.clone(),
            lane,
            finished: false,
        })
    }

    /// Opens a lane on `lease`, with a seat on it.
    pub(crate) fn open(self: &Arc<Self>, lease: PooledConnection) -> Seat {
        let lane = Arc::new(Lane {
            settings: lease.parameter_changes(),
            lease,
            spoiled: AtomicBool::new(false),
        });
        self.lock().open.push((lane.clone(), 1));
        Seat {
            lanes: self.clone(),
            lane,
            finished: false,
        }
    }
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Lanes")
            .field("depth", &self.depth)
            .field("open", &state.open.len())
            .field("stateless", &state.stateless.len())
            .finish()
    }
}

impl Seat {
    /// The lane's connection.
    pub(crate) fn conn(&self) -> &PooledConnection {
        &self.lane.lease
    }

    /// Leaves the seat once the statement ran, `ok` when it succeeded (a seat left otherwise,
    /// or with the connection in a transaction, has the connection reset on its way back).
    pub(crate) fn finish(mut self, ok: bool) {
        self.finished = ok;
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        if !self.finished || self.lane.lease.transaction_status() != TransactionStatus::Idle {
            self.lane.spoiled.store(true, Ordering::Relaxed);
        }
        let emptied = {
            let mut state = self.lanes.lock();
            let at = state
                .open
                .iter()
                .position(|(lane, _)| Arc::ptr_eq(lane, &self.lane));
            match at {
                Some(at) => {
                    state.open[at].1 -= 1;
                    (state.open[at].1 == 0).then(|| state.open.swap_remove(at).0)
                }
                None => None,
            }
        };
        // Outside the lock: when this was the last seat, dropping the lane (with this seat's
        // own handle, right after) gives its connection back to the pool.
        drop(emptied);
    }
}
