//! The process's one reaper thread: it closes idle connections when their pool's idle TTL
//! runs out, in every pool, whether or not any session comes by again.

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

/// Asks for a sweep of every pool at `at` (or earlier, if one is already due earlier).
pub(crate) fn schedule(at: Instant) {
    STARTED.call_once(|| {
        // Without the thread, pools still drop expired connections whenever they are used.
        let _ = std::thread::Builder::new()
            .name("pg-session-reaper".into())
            .spawn(run);
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
