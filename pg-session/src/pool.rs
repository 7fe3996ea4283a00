//! One pool's bookkeeping: idle connections, slots, waiters, counters.
//!
//! A slot is counted from the moment a caller is allowed to open a connection (or takes an
//! idle one) until the connection is back in the idle list or gone, so opening, resetting and
//! checking connections never lets the pool exceed its maximum size. A connection found dead
//! gives its slot back at once: it never counts against the size. Blocking callers wait on a
//! condition variable; async ones stand in line, first come first served: as many at the
//! head of the line may take as there are connections available, each connection given back
//! wakes one of them, and a newcomer (or the task that gave a connection back and asks again
//! at once) queues behind. The reaper thread wakes async waiters whose deadline came.

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

/// `timeout` from now, as the deadline of an acquire; one too long to add to the clock
/// (`Duration::MAX`) waits a century, as good as for ever.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

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
    /// behind them, and only as many at the head as there are connections available may take.
    line: VecDeque<Waiter>,
    /// The ticket the next async caller to get in line gets.
    next_ticket: u64,
    max_size: usize,
    idle_ttl: Duration,
    /// Since when no connection has been busy.
    idle_start: Option<Instant>,
    /// When the reaper sweeps next, or earlier, as far as this pool asked it to.
    sweep_at: Option<Instant>,
}

impl<C: Pooled> State<C> {
    /// Moves idle connections idle for the TTL into `out`, and closed ones too when `closed`
    /// (the sweep; a take finds a closed connection when it checks the one it took).
    fn expire(&mut self, now: Instant, closed: bool, out: &mut Vec<C>) {
        if self.idle.is_empty() {
            return;
        }
        // Idle since this or earlier: expired (none when the TTL reaches back before boot).
        let cutoff = now.checked_sub(self.idle_ttl);
        let stale = |idle: &Idle<C>| cutoff.is_some_and(|cutoff| idle.since <= cutoff);
        if !closed {
            // Looked over on every acquire. Oldest first (connections come back at the end
            // and are taken from it): the expired ones lead.
            let expired = self.idle.iter().take_while(|idle| stale(idle)).count();
            if expired > 0 {
                out.extend(self.idle.drain(..expired).map(|idle| idle.conn));
            }
            return;
        }
        let gone = |idle: &Idle<C>| stale(idle) || idle.conn.is_closed();
        if !self.idle.iter().any(gone) {
            return;
        }
        let (keep, drop): (Vec<_>, Vec<_>) = std::mem::take(&mut self.idle)
            .into_iter()
            .partition(|idle| !gone(idle));
        self.idle = keep;
        out.extend(drop.into_iter().map(|idle| idle.conn));
    }

    /// Asks the reaper to sweep the pool at `at`, unless a sweep is due by then already.
    fn sweep_by(&mut self, now: Instant, at: Instant) {
        if self.sweep_at.is_none_or(|due| due <= now || due > at) {
            self.sweep_at = Some(at);
            reaper::schedule(at);
        }
    }

    fn size(&self) -> usize {
        self.busy + self.idle.len()
    }

    /// How many takes would get something now: idle connections and room for new ones.
    fn available(&self) -> usize {
        self.idle.len() + self.max_size.saturating_sub(self.size())
    }

    /// Where `ticket` stands in line, if it is in line.
    fn place(&self, ticket: u64) -> Option<usize> {
        self.line.iter().position(|w| w.ticket == ticket)
    }

    /// Where `ticket` stands in line; a newcomer (`None`) would stand last.
    fn position(&self, ticket: Option<u64>) -> usize {
        ticket
            .and_then(|ticket| self.place(ticket))
            .unwrap_or(self.line.len())
    }

    /// The waker, taken (it registers again when it polls), of the first in line who may take
    /// now and was not woken yet: as many at the head of the line may take as there are
    /// connections available, so each connection given back wakes a waiter of its own at
    /// once, as a semaphore hands out permits.
    fn next_to_wake(&mut self) -> Option<Waker> {
        let available = self.available();
        self.line
            .iter_mut()
            .take(available)
            .find_map(|w| w.waker.take())
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
    pub(crate) cleanings: AtomicU64,
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

/// An async caller in line: its ticket, how to wake it (set when it last polled), and when
/// it gives up.
struct Waiter {
    ticket: u64,
    waker: Option<Waker>,
    deadline: Instant,
}

/// Keeps an async caller's place in line until it leaves: served (its place is gone already,
/// and `ticket` is `None`), or timed out or dropped (then its place goes, and one behind it
/// that may now take is woken).
struct InLine<'a, C: Pooled> {
    core: &'a Core<C>,
    ticket: Option<u64>,
}

impl<C: Pooled> Drop for InLine<'_, C> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket else { return };
        let next = {
            let mut state = self.core.lock();
            match state.place(ticket) {
                Some(at) => {
                    state.line.remove(at);
                    // Those behind move up: one of them may take what it was woken for.
                    state.next_to_wake()
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
                sweep_at: None,
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

    /// One async attempt. As many at the head of the line may take as there are connections
    /// available; a caller not yet in line (`ticket` is `None`) takes only when more are
    /// available than stand in line, else gets in line. Either way one that has to wait
    /// leaves `waker` to be woken by.
    fn attempt(
        &self,
        deadline: Instant,
        ticket: Option<u64>,
        waker: &Waker,
    ) -> Result<Slot<C>, Wait> {
        let mut expired = Vec::new();
        let mut next = None;
        let outcome = {
            let mut state = self.lock();
            let now = Instant::now();
            state.expire(now, false, &mut expired);
            let position = state.position(ticket);
            let may_take = position < state.available();
            match may_take.then(|| state.take(now)).flatten() {
                Some(slot) => {
                    if position < state.line.len() {
                        state.line.remove(position);
                    }
                    next = state.next_to_wake();
                    Ok(slot)
                }
                None if state.returning > 0 || now < deadline => match ticket {
                    Some(ticket) => {
                        if let Some(w) = state.line.get_mut(position) {
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
                            waker: Some(waker.clone()),
                            deadline,
                        });
                        // The reaper wakes it when its deadline comes.
                        state.sweep_by(now, deadline);
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
            crate::trace::evicted(&self.id, expired.len(), crate::trace::IDLE);
            expired.into_iter().for_each(C::close);
            self.wake();
        }
        outcome
    }

    /// Takes an idle connection or a slot if one is free now and nobody stands in line for
    /// one; never waits. Without one, `Err` says whether async callers stand in line.
    pub(crate) fn try_take(&self) -> Result<Slot<C>, bool> {
        let taken = self.try_take_untraced();
        if let Ok(slot) = &taken {
            crate::trace::acquired(&self.id, None, matches!(slot, Slot::Open));
        }
        taken
    }

    fn try_take_untraced(&self) -> Result<Slot<C>, bool> {
        let mut expired = Vec::new();
        let taken = {
            let mut state = self.lock();
            let now = Instant::now();
            state.expire(now, false, &mut expired);
            match state.line.len() < state.available() {
                true => state.take(now).ok_or(!state.line.is_empty()),
                false => Err(!state.line.is_empty()),
            }
        };
        if !expired.is_empty() {
            crate::trace::evicted(&self.id, expired.len(), crate::trace::IDLE);
            expired.into_iter().for_each(C::close);
            self.wake();
        }
        taken
    }

    /// Takes an idle connection or a slot, waiting (blocking the thread) until `deadline`;
    /// `None` when the deadline passed first.
    pub(crate) fn acquire_blocking(&self, deadline: Instant) -> Option<Slot<C>> {
        let since = crate::trace::clock();
        let slot = self.acquire_blocking_untraced(deadline);
        self.traced(slot, since)
    }

    /// Reports how an acquire ended.
    fn traced(&self, slot: Option<Slot<C>>, since: Option<Instant>) -> Option<Slot<C>> {
        match &slot {
            Some(slot) => crate::trace::acquired(&self.id, since, matches!(slot, Slot::Open)),
            None => {
                let (size, max_size) = {
                    let state = self.lock();
                    (state.size(), state.max_size)
                };
                crate::trace::timed_out(&self.id, since, size, max_size);
            }
        }
        slot
    }

    fn acquire_blocking_untraced(&self, deadline: Instant) -> Option<Slot<C>> {
        let mut state = self.lock();
        loop {
            let mut expired = Vec::new();
            let now = Instant::now();
            state.expire(now, false, &mut expired);
            if !expired.is_empty() {
                drop(state);
                crate::trace::evicted(&self.id, expired.len(), crate::trace::IDLE);
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
    /// has to wait gets in line, and each connection given back wakes one at the head of the
    /// line that may take it.
    pub(crate) async fn acquire(&self, deadline: Instant) -> Option<Slot<C>> {
        let since = crate::trace::clock();
        let slot = self.acquire_untraced(deadline).await;
        self.traced(slot, since)
    }

    async fn acquire_untraced(&self, deadline: Instant) -> Option<Slot<C>> {
        let mut place = InLine {
            core: self,
            ticket: None,
        };
        // The reaper wakes a waiter of a registered pool when its deadline comes (and steps
        // past it while connections return). A pool shut down has left the registry, and
        // without a reaper thread there is no sweep: then a timer of the waiter's own does.
        let mut timer = std::pin::pin!(None::<tokio::time::Sleep>);
        std::future::poll_fn(
            |cx| match self.attempt(deadline, place.ticket, cx.waker()) {
                Ok(slot) => {
                    // Served: the place in line is gone.
                    place.ticket = None;
                    Poll::Ready(Some(slot))
                }
                Err(Wait::Expired) => Poll::Ready(None),
                Err(Wait::InLine(ticket)) => {
                    place.ticket = Some(ticket);
                    if self.is_retired() || !reaper::running() {
                        if timer.is_none() {
                            timer.set(Some(tokio::time::sleep_until(deadline.into())));
                        }
                        if let Some(mut sleep) = timer.as_mut().as_pin_mut()
                            && sleep.as_mut().poll(cx).is_ready()
                        {
                            // Look again at once (the look fails the wait unless a connection is
                            // on its way back), and again a step later.
                            sleep.reset((Instant::now() + RETURN_STEP).into());
                            cx.waker().wake_by_ref();
                        }
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

    /// Marks a busy connection as on its way back (being cleaned), and counts the cleaning.
    pub(crate) fn returning(&self) {
        self.lock().returning += 1;
        self.stats.cleanings.fetch_add(1, Ordering::Relaxed);
    }

    /// Gives a slot back: with the connection to keep idle, or without (it failed to open,
    /// or was found dead, or could not be reset: it is closed). `returning` says whether
    /// [`Core::returning`] was called for it.
    pub(crate) fn release(&self, conn: Option<C>, returning: bool) {
        let (surplus, next, kept, idle, busy) = {
            let mut state = self.lock();
            state.busy -= 1;
            if returning {
                state.returning -= 1;
            }
            let now = Instant::now();
            let had = conn.is_some();
            let surplus = match conn {
                Some(conn)
                    if !self.is_retired() && !conn.is_closed() && state.size() < state.max_size =>
                {
                    // With other connections idle, a sweep is already due no later than this
                    // one expires (and each sweep schedules the next).
                    if state.idle.is_empty()
                        && let Some(due) = now.checked_add(state.idle_ttl)
                    {
                        state.sweep_by(now, due);
                    }
                    state.idle.push(Idle { conn, since: now });
                    None
                }
                other => other,
            };
            if state.busy == 0 {
                state.idle_start = Some(now);
            }
            let kept = had && surplus.is_none();
            let (idle, busy) = (state.idle.len(), state.busy);
            (surplus, state.next_to_wake(), kept, idle, busy)
        };
        crate::trace::released(&self.id, kept, returning, idle, busy);
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

    /// Closes idle connections that are dead or past the TTL, and wakes async waiters whose
    /// deadline came (they fail, or look again a step later while connections are on their
    /// way back); when the pool wants the next sweep, if ever.
    pub(crate) fn sweep(&self) -> Option<Instant> {
        let mut expired = Vec::new();
        let mut due = Vec::new();
        let next = {
            let mut state = self.lock();
            let now = Instant::now();
            state.expire(now, true, &mut expired);
            let ttl = state.idle_ttl;
            let idle = state
                .idle
                .iter()
                .filter_map(|idle| idle.since.checked_add(ttl));
            let mut next = idle.min();
            for waiter in state.line.iter_mut() {
                let at = match waiter.deadline <= now {
                    true => {
                        due.extend(waiter.waker.take());
                        now + RETURN_STEP
                    }
                    false => waiter.deadline,
                };
                next = Some(next.map_or(at, |next| next.min(at)));
            }
            state.sweep_at = next;
            next
        };
        due.into_iter().for_each(Waker::wake);
        if !expired.is_empty() {
            crate::trace::evicted(&self.id, expired.len(), crate::trace::IDLE);
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

    /// The maximum size and idle TTL the pool has now.
    pub(crate) fn settings(&self) -> (usize, Duration) {
        let state = self.lock();
        (state.max_size, state.idle_ttl)
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
            waiting: state.line.len(),
            executing,
            executions: self.stats.executions.load(Ordering::Relaxed),
            exceptions: self.stats.exceptions.load(Ordering::Relaxed),
            cleanings: self.stats.cleanings.load(Ordering::Relaxed),
            full: state.size() >= state.max_size,
            max_size: state.max_size,
            idle_ttl: state.idle_ttl,
            idle_duration: state.idle_start.map(|start| start.elapsed()),
            shut_down: self.is_retired(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A stand-in for a connection: the pool's bookkeeping is all these tests look at.
    struct Item;

    impl Pooled for Item {
        fn is_closed(&self) -> bool {
            false
        }
        fn close(self) {}
    }

    fn pool(id: &str) -> Arc<Core<Item>> {
        sized(id, 1)
    }

    fn sized(id: &str, max_size: usize) -> Arc<Core<Item>> {
        let request = crate::options::PoolRequest {
            max_size,
            idle_ttl: Duration::from_secs(600),
            explicit: Default::default(),
        };
        crate::registry::get_or_create::<Item>(id, request).unwrap()
    }

    /// Takes the pool's one slot.
    async fn fill(core: &Core<Item>) {
        let far = Instant::now() + Duration::from_secs(60);
        assert!(matches!(core.acquire(far).await, Some(Slot::Open)));
    }

    /// Counts its wake-ups.
    struct Wakes(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn each_connection_given_back_wakes_a_waiter_of_its_own() {
        let core = sized("pool-test-two-wakes", 2);
        fill(&core).await;
        fill(&core).await;
        let far = Instant::now() + Duration::from_secs(60);
        let mut waiters = [Box::pin(core.acquire(far)), Box::pin(core.acquire(far))];
        let wakes = [0, 1].map(|_| Arc::new(Wakes(Default::default())));
        let wakers = wakes.clone().map(std::task::Waker::from);
        for (waiter, waker) in waiters.iter_mut().zip(&wakers) {
            let mut cx = std::task::Context::from_waker(waker);
            assert!(
                waiter.as_mut().poll(&mut cx).is_pending(),
                "the pool is full"
            );
        }
        // Two connections come back before the first waiter runs: each wakes a waiter.
        core.release(Some(Item), false);
        core.release(Some(Item), false);
        let woken = wakes.each_ref().map(|w| w.0.load(Ordering::SeqCst));
        assert_eq!(woken, [1, 1]);
        // The second takes without waiting for the first, and the first still gets one.
        for at in [1, 0] {
            let mut cx = std::task::Context::from_waker(&wakers[at]);
            let taken = waiters[at].as_mut().poll(&mut cx);
            assert!(matches!(taken, Poll::Ready(Some(Slot::Idle(Item, _)))));
        }
        assert!(core.lock().line.is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_waiter_gives_up_at_its_deadline_woken_by_the_reaper() {
        let core = pool("pool-test-deadline");
        fill(&core).await;
        let started = Instant::now();
        let deadline = started + Duration::from_millis(150);
        // Nothing else runs on this runtime to wake the waiter: the reaper thread must.
        let waited = tokio::time::timeout(Duration::from_secs(10), core.acquire(deadline)).await;
        // (A timeout polls its future once more when it runs out: the bound tells.)
        assert!(matches!(waited, Ok(None)));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(150) && waited < Duration::from_secs(5));
        assert!(core.lock().line.is_empty(), "its place in line is gone");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_waiter_past_its_deadline_gets_a_connection_on_its_way_back() {
        let core = pool("pool-test-returning");
        fill(&core).await;
        core.returning();
        let deadline = Instant::now() + Duration::from_millis(50);
        let giver = {
            let core = core.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                core.release(Some(Item), true);
            })
        };
        let waited = tokio::time::timeout(Duration::from_secs(10), core.acquire(deadline)).await;
        assert!(matches!(waited, Ok(Some(Slot::Idle(Item, _)))));
        giver.join().unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_waiter_of_a_pool_shut_down_still_gives_up_at_its_deadline() {
        let core = pool("pool-test-retired");
        fill(&core).await;
        core.shutdown();
        let ops: Arc<dyn crate::registry::PoolOps> = core.clone();
        crate::registry::remove(&ops);
        let started = Instant::now();
        let deadline = started + Duration::from_millis(100);
        let waited = tokio::time::timeout(Duration::from_secs(10), core.acquire(deadline)).await;
        assert!(matches!(waited, Ok(None)));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(5));
    }
}
