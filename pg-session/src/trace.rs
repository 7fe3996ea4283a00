//! `tracing` events of the pools (target `pg_session::pool`; see the crate's "Observability"
//! section): a connection acquired (and how long its caller waited), given back (cleaned or
//! not, kept or closed), evicted or replaced, and a caller that gave up because the pool
//! stayed full.
//!
//! With no subscriber each costs a level check; the clock is read only when one listens.

use std::time::Instant;

/// The target of every pool event.
pub(crate) const POOL: &str = "pg_session::pool";

/// When a wait started, if anyone will hear how long it was.
#[inline]
pub(crate) fn clock() -> Option<Instant> {
    tracing::enabled!(target: POOL, tracing::Level::WARN).then(Instant::now)
}

fn millis(since: Option<Instant>) -> f64 {
    since.map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3)
}

/// `pool_acquire` (DEBUG): a caller got a connection (`new`: a slot to open one in).
pub(crate) fn acquired(pool: &str, since: Option<Instant>, new: bool) {
    tracing::debug!(
        name: "pool_acquire",
        target: POOL,
        pool,
        waited_ms = millis(since),
        new,
        "connection acquired"
    );
}

/// `pool_timeout` (WARN): the pool stayed full until the caller's deadline.
pub(crate) fn timed_out(pool: &str, since: Option<Instant>, size: usize, max_size: usize) {
    tracing::warn!(
        name: "pool_timeout",
        target: POOL,
        pool,
        waited_ms = millis(since),
        size,
        max_size,
        "pool full: no connection within the acquire timeout"
    );
}

/// `pool_release` (DEBUG): a connection came back: `cleaned` when it was cleaned on its way,
/// `kept` when it went idle (else it was closed, or it never opened).
pub(crate) fn released(pool: &str, kept: bool, cleaned: bool, idle: usize, busy: usize) {
    tracing::debug!(
        name: "pool_release",
        target: POOL,
        pool,
        kept,
        cleaned,
        idle,
        busy,
        "connection returned"
    );
}

/// `pool_evict` (DEBUG, INFO when the connection failed): connections closed and dropped
/// from the pool, and why; the next caller opens a new one in their place.
pub(crate) fn evicted(pool: &str, count: usize, reason: &'static str) {
    match reason {
        IDLE => tracing::debug!(name: "pool_evict", target: POOL, pool, count, reason, "{reason}"),
        _ => tracing::info!(name: "pool_evict", target: POOL, pool, count, reason, "{reason}"),
    }
}

/// Reasons for [`evicted`].
pub(crate) const IDLE: &str = "idle past its TTL, or closed";
pub(crate) const DEAD: &str = "failed its check: replaced";
pub(crate) const UNCLEAN: &str = "could not be cleaned: closed";
