//! The process's one reaper thread: it closes idle connections when their pool's idle TTL
//! runs out, in every pool, whether or not any session comes by again, and wakes async
//! callers waiting for a connection when their acquire timeout runs out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, Once, PoisonError};
use std::time::Instant;

use crate::registry;

struct Reaper {
    /// When the reaper is to sweep next; `None` when nothing is idle.
    next: Mutex<Option<Instant>>,
    wake: Condvar,
}

static REAPER: Reaper = Reaper {
    next: Mutex::new(None),
    wake: Condvar::new(),
};

static STARTED: Once = Once::new();

/// Whether the reaper thread runs (it is started by the first [`schedule`]).
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Whether the reaper thread runs: only then do async waiters rely on it for their deadlines.
pub(crate) fn running() -> bool {
    RUNNING.load(Ordering::Acquire)
}

/// Asks for a sweep of every pool at `at` (or earlier, if one is already due earlier).
pub(crate) fn schedule(at: Instant) {
    STARTED.call_once(|| {
        // Without the thread, pools still drop expired connections whenever they are used.
        let started = std::thread::Builder::new()
            .name("pg-session-reaper".into())
            .spawn(run);
        RUNNING.store(started.is_ok(), Ordering::Release);
    });
    let mut next = REAPER.next.lock().unwrap_or_else(PoisonError::into_inner);
    if next.is_none_or(|next| at < next) {
        *next = Some(at);
        REAPER.wake.notify_one();
    }
}

fn run() {
    loop {
        let mut next = REAPER.next.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            next = match *next {
                Some(at) if at <= now => break,
                Some(at) => {
                    let waited = REAPER.wake.wait_timeout(next, at - now);
                    waited.unwrap_or_else(PoisonError::into_inner).0
                }
                None => REAPER
                    .wake
                    .wait(next)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
        *next = None;
        drop(next);
        let soonest = registry::all().iter().filter_map(|pool| pool.sweep()).min();
        if let Some(at) = soonest {
            schedule(at);
        }
    }
}
