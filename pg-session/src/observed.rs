//! What an async session saw of the connections it used: the last backend and encoding,
//! the notices, and whether it was closed. Shared by the session's clones.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use pg_driver::Connection;
use pg_exceptions::Message;

/// How many notices a session keeps, as psycopg2's `connection.notices` (and so `queries`).
pub(crate) const NOTICES_KEPT: usize = 50;

#[derive(Debug, Default)]
pub(crate) struct Observed {
    closed: AtomicBool,
    /// Whether `set_encoding` was called: read on every query, the lock only when it was.
    wants_encoding: AtomicBool,
    /// The last connection's backend pid; 0 before any (no backend has pid 0).
    backend_pid: AtomicI32,
    /// The last connection's client encoding, and the one `set_encoding` asked for.
    encoding: Mutex<Encoding>,
    notices: Mutex<VecDeque<Message>>,
}

#[derive(Debug, Default)]
struct Encoding {
    last: Option<String>,
    wanted: Option<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Observed {
    /// Takes what `conn` shows (its backend, its encoding, the notices it kept) as the
    /// session's latest.
    pub(crate) fn observe(&self, conn: &Connection) {
        if let Some(pid) = conn.backend_id() {
            self.backend_pid.store(pid, Ordering::Relaxed);
        }
        let encoding = conn.parameter_status("client_encoding");
        {
            let mut kept = lock(&self.encoding);
            if kept.last != encoding {
                kept.last = encoding;
            }
        }
        let notices = conn.take_notices();
        if !notices.is_empty() {
            let mut kept = lock(&self.notices);
            kept.extend(notices);
            let surplus = kept.len().saturating_sub(NOTICES_KEPT);
            kept.drain(..surplus);
        }
    }

    pub(crate) fn backend_pid(&self) -> Option<i32> {
        match self.backend_pid.load(Ordering::Relaxed) {
            0 => None,
            pid => Some(pid),
        }
    }

    pub(crate) fn encoding(&self) -> Option<String> {
        lock(&self.encoding).last.clone()
    }

    pub(crate) fn encoding_wanted(&self) -> Option<String> {
        if !self.wants_encoding.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.encoding).wanted.clone()
    }

    pub(crate) fn want_encoding(&self, encoding: &str) {
        let mut kept = lock(&self.encoding);
        kept.wanted = Some(encoding.to_owned());
        kept.last = Some(encoding.to_owned());
        self.wants_encoding.store(true, Ordering::Release);
    }

    pub(crate) fn notices(&self) -> Vec<Message> {
        lock(&self.notices).iter().cloned().collect()
    }

    /// Marks the session closed; whether this call did.
    pub(crate) fn close(&self) -> bool {
        !self.closed.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
