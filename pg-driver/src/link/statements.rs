//! The session's cache of prepared statements, as data: entries by SQL text, least recently
//! used evicted. What uses it (`prepare_cached`, `query_cached`) is in `statement_cache.rs`;
//! an entry closes its server-side statement when it has left the cache and its last handle
//! is gone.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use pg_types::Columns;
use postgres_types::Type;

use super::Link;

/// How many statements a session's cache keeps before it evicts the least recently used.
pub const STATEMENT_CACHE_CAPACITY: usize = 256;

/// One cached statement.
pub(crate) struct CacheEntry {
    pub(crate) name: Arc<str>,
    pub(crate) sql: Arc<str>,
    pub(crate) parameters: Arc<[Type]>,
    pub(crate) columns: Arc<Columns>,
    pub(crate) reparse: bool,
    /// The OID of an INSERT's table when it was prepared (`insert_target.rs`).
    pub(crate) target: Option<u32>,
    /// The link's count of resets when the statement was last made, shared by every handle.
    pub(crate) made_in: Option<Arc<std::sync::atomic::AtomicU64>>,
    pub(crate) link: Weak<Link>,
}

impl Drop for CacheEntry {
    fn drop(&mut self) {
        if let Some(link) = self.link.upgrade().filter(|_| !self.reparse) {
            link.queue_close(&self.name);
        }
    }
}

/// The entries of one session, with their last use for eviction.
#[derive(Default)]
pub(crate) struct StatementCache {
    // Keys are the application's SQL, hashed on every cached query: foldhash, not SipHash.
    entries: HashMap<String, (Arc<CacheEntry>, u64), foldhash::fast::RandomState>,
    clock: u64,
}

impl StatementCache {
    pub(crate) fn get(&mut self, sql: &str) -> Option<Arc<CacheEntry>> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(sql).map(|(entry, used)| {
            *used = clock;
            entry.clone()
        })
    }

    /// Keeps `entry` for `sql`; returns what left the cache, to be dropped outside its lock
    /// (dropping an entry queues its Close).
    pub(crate) fn insert(&mut self, sql: &str, entry: Arc<CacheEntry>) -> Vec<Arc<CacheEntry>> {
        let mut gone = Vec::new();
        if !self.entries.contains_key(sql) && self.entries.len() >= STATEMENT_CACHE_CAPACITY {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(sql, _)| sql.clone());
            gone.extend(
                oldest
                    .and_then(|sql| self.entries.remove(&sql))
                    .map(|(e, _)| e),
            );
        }
        self.clock += 1;
        gone.extend(
            self.entries
                .insert(sql.to_owned(), (entry, self.clock))
                .map(|(e, _)| e),
        );
        gone
    }

    pub(crate) fn remove(&mut self, sql: &str) -> Option<Arc<CacheEntry>> {
        self.entries.remove(sql).map(|(e, _)| e)
    }

    pub(crate) fn take_all(&mut self) -> Vec<Arc<CacheEntry>> {
        self.entries.drain().map(|(_, (e, _))| e).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl Link {
    pub(crate) fn cache(&self) -> std::sync::MutexGuard<'_, StatementCache> {
        self.statements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
