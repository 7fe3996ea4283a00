//! The session's record of the transactions the driver opened.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The transactions the driver opened on one session, innermost last.
#[derive(Debug, Default)]
pub(crate) struct XactStack {
    open: Mutex<Vec<u64>>,
    next: AtomicU64,
}

impl XactStack {
    fn open(&self) -> MutexGuard<'_, Vec<u64>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn depth(&self) -> usize {
        self.open().len()
    }

    pub(super) fn push(&self) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.open().push(id);
        id
    }

    /// Ends `id` and every transaction opened inside it; false when it had already ended.
    pub(super) fn end(&self, id: u64) -> bool {
        let mut open = self.open();
        match open.iter().position(|&x| x == id) {
            Some(at) => {
                open.truncate(at);
                true
            }
            None => false,
        }
    }

    pub(super) fn contains(&self, id: u64) -> bool {
        self.open().contains(&id)
    }

    /// Forgets every transaction: SQL or a reset ended them outside the driver.
    pub(crate) fn clear(&self) {
        self.open().clear();
    }
}
