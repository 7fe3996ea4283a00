//! Pipelined statements: an [`AsyncSession`](crate::AsyncSession) with a pipeline depth above
//! one runs the statements it has seen leave no state on shared connections, "lanes", several
//! in flight on each, rather than one connection per statement.
//!
//! A lane is an ordinary lease of the pool: the pool counts it as one busy connection, and it
//! goes back when its last statement is done. A statement opens a new lane when the pool has
//! a connection free, joins the least busy lane with room when it has not, waits for a lane
//! being opened when one is, and otherwise stands in the pool's line like any caller. Lanes take no one new while callers stand in
//! line, so they drain and their connections go to the line in turn: a caller that wants a
//! connection of its own (a transaction, a statement not known to leave no state) is never
//! starved by a steady stream of pipelined ones.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pg_driver::{Connection, TransactionStatus};

use crate::async_session::PooledConnection;
use crate::pool::{Core, Slot};

/// At most this many statement texts are remembered as leaving no state; past it, statements
/// not remembered run on connections of their own.
const REMEMBERED: usize = 1024;

/// The lanes of one session (and its clones), and the statements it knows leave no state.
pub(crate) struct Lanes {
    depth: usize,
    state: Mutex<State>,
    /// Told when a lane being opened opens, or fails to.
    opened: tokio::sync::Notify,
}

#[derive(Default)]
struct State {
    /// Lanes with statements in flight, each with how many.
    open: Vec<(Arc<Lane>, usize)>,
    /// Lanes being opened, by the address of their pool: a connection taken from the pool
    /// that is being checked or connected. A statement that finds no lane with room waits
    /// for those of its pool rather than for the pool, which they emptied.
    opening: Vec<usize>,
    /// Statements seen to leave no state behind (see [`AsyncSession`](crate::AsyncSession)).
    stateless: HashSet<Box<str>>,
}

/// A connection taken from the pool and shared by the statements in flight on it.
struct Lane {
    /// The pool's lease, given back by the last seat to leave, under the lanes' lock: a
    /// statement that finds no lane then finds the connection in the pool (or on its way
    /// back), never neither.
    lease: Mutex<Option<PooledConnection>>,
    /// A handle on the lease's connection, for the seats.
    conn: Connection,
    core: Arc<Core<Connection>>,
    /// The connection's session marks when the lane opened.
    marks: pg_driver::SessionMarks,
    /// Set when a statement failed, was given up, or left the connection in a transaction:
    /// the connection goes back reset.
    spoiled: AtomicBool,
}

impl Lane {
    /// Gives the lease back to the pool, reset when anything may have left state.
    fn give_back(&self) {
        let lease = self
            .lease
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut lease) = lease {
            lease.reset = self.spoiled.load(Ordering::Relaxed)
                || self.conn.session_marks().changed_since(&self.marks);
            drop(lease);
        }
    }
}

/// Where a pipelined statement can go now.
pub(crate) enum Place<'a> {
    /// Open a lane on this slot of the pool (an idle connection to check, or room to open
    /// one).
    Open(Slot<Connection>, Opening),
    /// Take this seat on an open lane.
    Seat(Seat),
    /// Wait for a lane being opened, then look again.
    Wait(tokio::sync::futures::Notified<'a>),
    /// Stand in the pool's line.
    Line,
}

/// A lane being opened, counted until it [opens](Opening::open) or is dropped.
pub(crate) struct Opening {
    lanes: Arc<Lanes>,
    /// Its pool, held so that its address names no other while counted.
    core: Arc<Core<Connection>>,
    open: bool,
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
            opened: tokio::sync::Notify::new(),
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

    /// Where a pipelined statement on `core` goes now: a connection free in the pool opens a
    /// new lane; else a seat on the least busy open lane with room, unless callers stand in
    /// line for a connection (the lanes drain for them); else a wait for a lane being opened
    /// (it took the pool's last connection); else the line.
    pub(crate) fn place(self: &Arc<Self>, core: &Arc<Core<Connection>>) -> Place<'_> {
        let lane = {
            let mut state = self.lock();
            match core.try_take() {
                Ok(slot) => {
                    // Counted under the lock that the slot was taken under: anyone who finds
                    // the pool empty finds the opening.
                    state.opening.push(address(core));
                    let opening = Opening {
                        lanes: self.clone(),
                        core: core.clone(),
                        open: false,
                    };
                    return Place::Open(slot, opening);
                }
                Err(true) => return Place::Line,
                Err(false) => {}
            }
            let room = state
                .open
                .iter_mut()
                .filter(|(lane, count)| {
                    *count < self.depth
                        && Arc::ptr_eq(&lane.core, core)
                        && !lane.conn.closed()
                        && !lane.spoiled.load(Ordering::Relaxed)
                })
                .min_by_key(|(_, count)| *count)
                .map(|(lane, count)| {
                    *count += 1;
                    lane.clone()
                });
            match room {
                Some(lane) => lane,
                // Made under the lock: an opening that ends after it is not missed.
                None if state.opening.contains(&address(core)) => {
                    return Place::Wait(self.opened.notified());
                }
                None => return Place::Line,
            }
        };
        Place::Seat(Seat {
            lanes: self.clone(),
            lane,
            finished: false,
        })
    }

    /// Opens a lane on `lease`, a connection the pool's line handed out, with a seat on it.
    pub(crate) fn open(self: &Arc<Self>, lease: PooledConnection) -> Seat {
        let core = lease.core().clone();
        self.lock().opening.push(address(&core));
        let opening = Opening {
            lanes: self.clone(),
            core,
            open: false,
        };
        opening.open(lease)
    }
}

/// A pool's address, to tell pools apart.
fn address(core: &Arc<Core<Connection>>) -> usize {
    Arc::as_ptr(core) as usize
}

impl State {
    /// Stops counting one lane of `core` as being opened.
    fn opened(&mut self, core: &Arc<Core<Connection>>) {
        if let Some(at) = self.opening.iter().position(|&a| a == address(core)) {
            self.opening.swap_remove(at);
        }
    }
}

impl Opening {
    /// Opens the lane on `lease`, with a seat on it.
    pub(crate) fn open(mut self, lease: PooledConnection) -> Seat {
        let lane = Arc::new(Lane {
            conn: Connection::clone(&lease),
            core: lease.core().clone(),
            marks: lease.session_marks(),
            lease: Mutex::new(Some(lease)),
            spoiled: AtomicBool::new(false),
        });
        {
            let mut state = self.lanes.lock();
            state.open.push((lane.clone(), 1));
            state.opened(&self.core);
        }
        self.open = true;
        self.lanes.opened.notify_waiters();
        Seat {
            lanes: self.lanes.clone(),
            lane,
            finished: false,
        }
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        if !self.open {
            self.lanes.lock().opened(&self.core);
            self.lanes.opened.notify_waiters();
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
    pub(crate) fn conn(&self) -> &Connection {
        &self.lane.conn
    }

    /// The pool of the lane's connection.
    pub(crate) fn core(&self) -> &Core<Connection> {
        &self.lane.core
    }

    /// Leaves the seat once the statement ran, `ok` when it succeeded (a seat left otherwise,
    /// or with the connection in a transaction, has the connection reset on its way back).
    pub(crate) fn finish(mut self, ok: bool) {
        self.finished = ok;
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        if !self.finished || self.lane.conn.transaction_status() != TransactionStatus::Idle {
            self.lane.spoiled.store(true, Ordering::Relaxed);
        }
        let mut state = self.lanes.lock();
        let at = state
            .open
            .iter()
            .position(|(lane, _)| Arc::ptr_eq(lane, &self.lane));
        if let Some(at) = at {
            state.open[at].1 -= 1;
            if state.open[at].1 == 0 {
                // The last seat: the lane closes and its connection goes back, both under
                // the lock (the lanes' lock is taken before the pool's, never after).
                state.open.swap_remove(at);
                self.lane.give_back();
            }
        }
    }
}
