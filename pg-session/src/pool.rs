//! One pool's bookkeeping: idle connections, slots, waiters, counters.
//!
//! A slot is counted from the moment a caller is allowed to open a connection (or takes an
//! idle one) until the connection is back in the idle list or gone, so opening, resetting and
//! checking connections never lets the pool exceed its maximum size. A connection found dead
//! gives its slot back at once: it never counts against the size. Blocking callers wait on a
//! condition variable; async ones stand in line, first come first served: a connection given
//! back wakes the first in line, and only the first in line may take it (a newcomer, or the
//! task that gave it back and asks again at once, queues behind).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::reaper;
use crate::report::PoolReport;

/// How long a caller whose deadline passed keeps waiting, step by step, while a connection
/// is on its way back (being reset): it is about to be idle, so failing would be spurious.
const RETURN_STEP: Duration = Duration::from_millis(20);

/// A connection the pool can keep.
pub(crate) trait Pooled: Send + Sync + 'static {
    /// Whether the driver knows the connection is gone.
    fn is_closed(&self) -> bool;
    /// Closes the connection (it is being dropped from the pool).
    fn close(self);
}

impl Pooled for pg_driver::Connection {
    fn is_closed(&self) -> bool {
        self.closed()
    }
    fn close(self) {
        pg_driver::Connection::close(&self);
    }
}

impl Pooled for pg_driver::blocking::Connection {
    fn is_closed(&self) -> bool {
        self.closed()
    }
    fn close(self) {
        // The last handle's drop says goodbye on the connection's own runtime.
        pg_driver::blocking::Connection::close(&self);
    }
}

/// What an acquiring caller got: an idle connection to check (with how long it was idle),
/// or a slot to open one in.
pub(crate) enum Slot<C> {
    Idle(C, Duration),
    Open,
}

struct Idle<C> {
    conn: C,
    since: Instant,
}

struct State<C> {
    idle: Vec<Idle<C>>,
    /// Slots taken: connections in use, being opened, or on their way back.
    busy: usize,
    /// Of `busy`, connections being reset on their way back.
    returning: usize,
    /// Async callers waiting, in order of arrival: while there are some, a newcomer queues
    /// behind them, and only the first may take what comes free.
    line: VecDeque<Waiter>,
    /// The ticket the next async caller to get in line gets.
    next_ticket: u64,
    max_size: usize,
    idle_ttl: Duration,
    /// Since when no connection has been busy.
    idle_start: Option<Instant>,
}

impl<C: Pooled> State<C> {
    /// Moves idle connections idle for the TTL into `out`, and closed ones too when `closed`
    /// (the sweep; a take finds a closed connection when it checks the one it took).
    fn expire(&mut self, now: Instant, closed: bool, out: &mut Vec<C>) {
        let ttl = self.idle_ttl;
        let gone = |idle: &Idle<C>| {
            now.duration_since(idle.since) >= ttl || (closed && idle.conn.is_closed())
        };
        // Looked over on every acquire: nothing is allocated unless something expired.
        if !self.idle.iter().any(gone) {
            return;
        }
        let (keep, drop): (Vec<_>, Vec<_>) = std::mem::take(&mut self.idle)
            .into_iter()
            .partition(|idle| !gone(idle));
        self.idle = keep;
        out.extend(drop.into_iter().map(|idle| idle.conn));
    }

    fn size(&self) -> usize {
        self.busy + self.idle.len()
    }

    /// Whether a take would get something: an idle connection or room for a new one.
    fn available(&self) -> bool {
        !self.idle.is_empty() || self.size() < self.max_size
    }

    /// The waker of the first in line, taken (it registers again when it polls), when
    /// something is available for it.
    fn head_to_wake(&mut self) -> Option<Waker> {
        match self.available() {
            true => self.line.front_mut().and_then(|w| w.waker.take()),
            false => None,
        }
    }

    fn take(&mut self, now: Instant) -> Option<Slot<C>> {
        let slot = if let Some(idle) = self.idle.pop() {
            Slot::Idle(idle.conn, now.saturating_duration_since(idle.since))
        } else if self.size() < self.max_size {
            Slot::Open
        } else {
            return None;
        };
        self.busy += 1;
        self.idle_start = None;
        Some(slot)
    }
}

/// Counters for the pool report.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) executing: AtomicUsize,
    pub(crate) executions: AtomicU64,
    pub(crate) exceptions: AtomicU64,
}

/// Counts one execution while it runs; [`Execution::done`] records how it ended.
pub(crate) struct Execution<'a>(&'a Stats);

impl<'a> Execution<'a> {
    pub(crate) fn start(stats: &'a Stats) -> Execution<'a> {
        stats.executing.fetch_add(1, Ordering::Relaxed);
        stats.executions.fetch_add(1, Ordering::Relaxed);
        Execution(stats)
    }

    pub(crate) fn done<T, E>(self, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() {
            self.0.exceptions.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

impl Drop for Execution<'_> {
    fn drop(&mut self) {
        self.0.executing.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An async caller in line: its ticket, and how to wake it (set when it last polled).
struct Waiter {
    ticket: u64,
    waker: Option<Waker>,
}

/// Keeps an async caller's place in line until it leaves: served (its place is gone already),
/// or timed out or dropped (then its place goes, and when it was first, the next is woken if
/// something is free).
struct InLine<'a, C: Pooled> {
    core: &'a Core<C>,
    ticket: u64,
}

impl<C: Pooled> Drop for InLine<'_, C> {
    fn drop(&mut self) {
        let next = {
            let mut state = self.core.lock();
            match state.line.iter().position(|w| w.ticket == self.ticket) {
                Some(at) => {
                    state.line.remove(at);
                    if at == 0 { state.head_to_wake() } else { None }
                }
                None => None,
            }
        };
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

/// What one async attempt came to when it got nothing.
enum Wait {
    /// In line with this ticket.
    InLine(u64),
    /// The deadline passed.
    Expired,
}

/// A pool of connections of type `C`.
pub(crate) struct Core<C> {
    pub(crate) id: String,
    state: Mutex<State<C>>,
    /// Set once the pool is shut down (and retired from the registry): connections coming
    /// back are closed, and holders of the pool look it up again. Read without the lock.
    shut_down: std::sync::atomic::AtomicBool,
    changed: Condvar,
    /// Threads waiting on `changed` (blocking acquires). Counted under the state's lock before
    /// they wait, so a change made under the lock and then notified is never missed; with none,
    /// nobody is notified (a condvar's notify is a system call even when nobody waits).
    sleepers: std::sync::atomic::AtomicUsize,
    pub(crate) stats: Stats,
}

impl<C: Pooled> Core<C> {
    pub(crate) fn new(id: String, max_size: usize, idle_ttl: Duration) -> Core<C> {
        Core {
            id,
            state: Mutex::new(State {
                idle: Vec::new(),
                busy: 0,
                returning: 0,
                line: VecDeque::new(),
                next_ticket: 0,
                max_size: max_size.max(1),
                idle_ttl,
                idle_start: Some(Instant::now()),
            }),
            shut_down: Default::default(),
            changed: Condvar::new(),
            sleepers: Default::default(),
            stats: Stats::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<C>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes every waiter (connections closed, the size changed, the pool shut down).
    fn wake(&self) {
        if self.has_sleepers() {
            self.changed.notify_all();
        }
        let wakers: Vec<Waker> = {
            let mut state = self.lock();
            state
                .line
                .iter_mut()
                .filter_map(|w| w.waker.take())
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    fn has_sleepers(&self) -> bool {
        self.sleepers.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    /// One async attempt. A caller not yet in line (`me` is `None`) takes only when nobody is
    /// in line, else gets in line; one in line takes only when first, and otherwise leaves
    /// `waker` to be woken by. Whoever takes while more is free wakes the next in line.
    fn attempt(&self, deadline: Instant, me: Option<(u64, &Waker)>) -> Result<Slot<C>, Wait> {
        let mut expired = Vec::new();
        let mut next = None;
        let outcome = {
            let mut state = self.lock();
            let now = Instant::now();
            state.expire(now, false, &mut expired);
            let first = match me {
                None => state.line.is_empty(),
                Some((ticket, _)) => state.line.front().map(|w| w.ticket) == Some(ticket),
            };
            match first.then(|| state.take(now)).flatten() {
                Some(slot) => {
                    if me.is_some() {
                        state.line.pop_front();
                    }
                    next = state.head_to_wake();
                    Ok(slot)
                }
                None if state.returning > 0 || now < deadline => match me {
                    Some((ticket, waker)) => {
                        if let Some(w) = state.line.iter_mut().find(|w| w.ticket == ticket) {
                            match &w.waker {
                                Some(old) if old.will_wake(waker) => {}
                                _ => w.waker = Some(waker.clone()),
                            }
                        }
                        Err(Wait::InLine(ticket))
                    }
                    None => {
                        let ticket = state.next_ticket;
                        state.next_ticket += 1;
                        state.line.push_back(Waiter {
                            ticket,
                            waker: None,
                        });
                        Err(Wait::InLine(ticket))
                    }
                },
                None => Err(Wait::Expired),
            }
        };
        if let Some(waker) = next {
            waker.wake();
        }
        if !expired.is_empty() {
            expired.into_iter().for_each(C::close);
            self.wake();
        }
        outcome
    }

    /// Takes an idle connection or a slot, waiting (blocking the thread) until `deadline`;
    /// `None` when the deadline passed first.
    pub(crate) fn acquire_blocking(&self, deadline: Instant) -> Option<Slot<C>> {
        let mut state = self.lock();
        loop {
            let mut expired = Vec::new();
            let now = Instant::now();
            state.expire(now, false, &mut expired);
            if !expired.is_empty() {
                drop(state);
                expired.into_iter().for_each(C::close);
                self.wake();
                state = self.lock();
                continue;
            }
            if let Some(slot) = state.take(now) {
                return Some(slot);
            }
            if now >= deadline && state.returning == 0 {
                return None;
            }
            // The lock is held from the look to the wait: no change goes unseen.
            let wait = deadline.saturating_duration_since(now).max(RETURN_STEP);
            self.sleepers
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            state = self
                .changed
                .wait_timeout(state, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            self.sleepers
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// [`Core::acquire_blocking`] for async callers, first come first served: a caller that
    /// has to wait gets in line, and a connection given back wakes the first in line, which
    /// alone may take it.
    pub(crate) async fn acquire(&self, deadline: Instant) -> Option<Slot<C>> {
        let ticket = match self.attempt(deadline, None) {
            Ok(slot) => return Some(slot),
            Err(Wait::Expired) => return None,
            Err(Wait::InLine(ticket)) => ticket,
        };
        // From getting in line to the first poll below nothing awaits, so a release meanwhile
        // (which finds no waker yet) is seen by that poll.
        let _in_line = InLine { core: self, ticket };
        // One timer for the whole wait; past the deadline, steps while connections return.
        let mut timer = std::pin::pin!(tokio::time::sleep_until(deadline.into()));
        std::future::poll_fn(
            |cx| match self.attempt(deadline, Some((ticket, cx.waker()))) {
                Ok(slot) => Poll::Ready(Some(slot)),
                Err(Wait::Expired) => Poll::Ready(None),
                Err(Wait::InLine(_)) => {
                    if timer.as_mut().poll(cx).is_ready() {
                        // The deadline (or a step past it) has come: look again at once (the
                        // look fails the wait unless a connection is on its way back), and
                        // again a step later.
                        let step = Instant::now() + RETURN_STEP;
                        timer.as_mut().reset(step.into());
                        cx.waker().wake_by_ref();
                    }
                    Poll::Pending
                }
            },
        )
        .await
    }

    /// Whether the pool was shut down.
    pub(crate) fn is_retired(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Marks a busy connection as on its way back (being reset).
    pub(crate) fn returning(&self) {
        self.lock().returning += 1;
    }

    /// Gives a slot back: with the connection to keep idle, or without (it failed to open,
    /// or was found dead, or could not be reset: it is closed). `returning` says whether
    /// [`Core::returning`] was called for it.
    pub(crate) fn release(&self, conn: Option<C>, returning: bool) {
        let (surplus, next) = {
            let mut state = self.lock();
            state.busy -= 1;
            if returning {
                state.returning -= 1;
            }
            let now = Instant::now();
            let surplus = match conn {
                Some(conn)
                    if !self.is_retired() && !conn.is_closed() && state.size() < state.max_size =>
                {
                    // With other connections idle, a sweep is already due no later than this
                    // one expires (and each sweep schedules the next).
                    if state.idle.is_empty() {
                        reaper::schedule(now + state.idle_ttl);
                    }
                    state.idle.push(Idle { conn, since: now });
                    None
                }
                other => other,
            };
            if state.busy == 0 {
                state.idle_start = Some(now);
            }
            (surplus, state.head_to_wake())
        };
        if let Some(conn) = surplus {
            conn.close();
        }
        if self.has_sleepers() {
            self.changed.notify_one();
        }
        if let Some(waker) = next {
            waker.wake();
        }
    }

    /// Closes idle connections that are dead or past the TTL; the next expiry, if any.
    pub(crate) fn sweep(&self) -> Option<Instant> {
        let mut expired = Vec::new();
        let next = {
            let mut state = self.lock();
            state.expire(Instant::now(), true, &mut expired);
            let ttl = state.idle_ttl;
            state.idle.iter().map(|idle| idle.since + ttl).min()
        };
        if !expired.is_empty() {
            expired.into_iter().for_each(C::close);
            self.wake();
        }
        next
    }

    /// Closes every idle connection; busy ones are closed when they come back.
    pub(crate) fn shutdown(&self) {
        self.shut_down.store(true, Ordering::Release);
        let idle = {
            let mut state = self.lock();
            std::mem::take(&mut state.idle)
        };
        idle.into_iter().for_each(|idle| idle.conn.close());
        self.wake();
    }

    /// Changes the maximum size; surplus idle connections are closed at once, surplus busy
    /// ones when they come back.
    pub(crate) fn set_max_size(&self, max_size: usize) {
        let surplus = {
            let mut state = self.lock();
            state.max_size = max_size.max(1);
            let keep = state
                .max_size
                .saturating_sub(state.busy)
                .min(state.idle.len());
            // The oldest idle connections (at the front) go first.
            let excess = state.idle.len() - keep;
            state.idle.drain(..excess).collect::<Vec<_>>()
        };
        surplus.into_iter().for_each(|idle| idle.conn.close());
        self.wake();
    }

    /// Changes the idle TTL, for connections idle now as well.
    pub(crate) fn set_idle_ttl(&self, ttl: Duration) {
        self.lock().idle_ttl = ttl;
        reaper::schedule(Instant::now());
    }

    pub(crate) fn report(&self) -> PoolReport {
        let state = self.lock();
        let executing = self.stats.executing.load(Ordering::Relaxed);
        PoolReport {
            id: self.id.clone(),
            busy: state.busy,
            idle: state.idle.len(),
            executing,
            executions: self.stats.executions.load(Ordering::Relaxed),
            exceptions: self.stats.exceptions.load(Ordering::Relaxed),
            full: state.size() >= state.max_size,
            max_size: state.max_size,
            idle_ttl: state.idle_ttl,
            idle_duration: state.idle_start.map(|start| start.elapsed()),
            shut_down: self.is_retired(),
        }
    }
}
