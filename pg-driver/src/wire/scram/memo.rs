//! Salted passwords kept from one exchange for the next (RFC 5802, 5.1: a client may keep
//! them, "as it is likely that the server is going to advertise the same salt value upon
//! reauthentication"). PostgreSQL keeps a role's salt and iteration count until its password
//! is set again, so a connector that connects again skips PBKDF2, the bulk of its CPU per
//! connect.
//!
//! `Hi(password, salt, count)` is a function of its inputs: an entry found by them can never be
//! stale. An entry is found by the exchange's first PBKDF2 round, HMAC(password, salt ‖ 1) —
//! which differs for another password or salt — and the count, so no other copy or hash of the
//! password is kept. Only a server that proved it knows the salted password (its signature
//! verified) adds one. The salted password lets a client log in to servers holding that
//! salt and password as the password itself would; a connector holds the password anyway.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// The most entries a connector keeps: one per user, password and server (salt) it reaches.
const CAPACITY: usize = 8;

/// One salted password and what finds it.
#[derive(Clone)]
pub(super) struct Entry {
    /// `Hi`'s first round.
    pub(super) first_round: [u8; 32],
    pub(super) iterations: u32,
    pub(super) salted: [u8; 32],
}

/// A connector's salted passwords, the most recently used first.
#[derive(Default)]
pub(crate) struct SaltedPasswords {
    entries: Mutex<VecDeque<Entry>>,
}

impl std::fmt::Debug for SaltedPasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaltedPasswords")
            .field("entries", &self.lock().len())
            .finish()
    }
}

impl SaltedPasswords {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The salted password kept for this first round and count, if any.
    pub(super) fn find(&self, first_round: &[u8; 32], iterations: u32) -> Option<[u8; 32]> {
        let mut entries = self.lock();
        let at = entries
            .iter()
            .position(|e| e.first_round == *first_round && e.iterations == iterations)?;
        let entry = entries.remove(at)?;
        let salted = entry.salted;
        entries.push_front(entry);
        Some(salted)
    }

    /// Keeps an entry (first), dropping the least recently used beyond [`CAPACITY`].
    pub(super) fn keep(&self, entry: Entry) {
        let mut entries = self.lock();
        entries
            .retain(|e| !(e.first_round == entry.first_round && e.iterations == entry.iterations));
        entries.push_front(entry);
        entries.truncate(CAPACITY);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}
