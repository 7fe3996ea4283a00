//! A session's cache of prepared statements, by SQL text: [`Connection::prepare_cached`]
//! and [`Connection::query_cached`].
//!
//! The cache belongs to the server session (the [`Link`]), so a reconnect starts empty. An
//! entry is the server-side statement and what Describe said of it; the statements handed
//! out share the entry, and the server-side statement is closed when the entry has left the
//! cache (evicted, or the cache cleared) and its last handle is gone. Entries point back at
//! the link only weakly: the cache lives in the link, and a strong pointer would keep a
//! dropped connection's task alive.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use pg_exceptions::Error;
use pg_types::Columns;
use postgres_types::Type;

use crate::connection::Connection;
use crate::link::Link;
use crate::statement::{Statement, StatementInner};
use crate::{Params, Results, TransactionStatus};

/// How many statements a session's cache keeps before it evicts the least recently used.
pub const STATEMENT_CACHE_CAPACITY: usize = 256;

/// One cached statement.
pub(crate) struct CacheEntry {
    name: Arc<str>,
    sql: Arc<str>,
    parameters: Arc<[Type]>,
    columns: Arc<Columns>,
    reparse: bool,
    link: Weak<Link>,
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
    fn get(&mut self, sql: &str) -> Option<Arc<CacheEntry>> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(sql).map(|(entry, used)| {
            *used = clock;
            entry.clone()
        })
    }

    /// Keeps `entry` for `sql`; returns what left the cache, to be dropped outside its lock
    /// (dropping an entry queues its Close).
    fn insert(&mut self, sql: &str, entry: Arc<CacheEntry>) -> Vec<Arc<CacheEntry>> {
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
    fn cache(&self) -> std::sync::MutexGuard<'_, StatementCache> {
        self.statements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether `error`, from executing a cached statement, says the cache is stale: the
/// statement is gone (`DEALLOCATE`, `DISCARD ALL` run as SQL) or a table it reads changed
/// its row type. Neither ran anything.
fn stale(error: &Error) -> bool {
    match error.code() {
        "26000" => true,
        "0A000" => error
            .message()
            .contains("cached plan must not change result type"),
        _ => false,
    }
}

impl Connection {
    /// Prepares `sql` once per server session and hands out the same server-side statement
    /// on later calls (tokio-postgres' `prepare_cached`).
    ///
    /// The cache keeps up to [`STATEMENT_CACHE_CAPACITY`] statements and evicts the least
    /// recently used; an evicted statement is closed on the server once its last handle is
    /// dropped. [`Connection::reset`] empties it. For a statement run again and again through a
    /// pool, this saves the Parse/Describe round trip [`Connection::query`] makes every time.
    pub async fn prepare_cached(&self, sql: &str) -> Result<Statement, Error> {
        let link = self.link();
        let hit = link.cache().get(sql);
        if let Some(entry) = hit {
            return Ok(self.cached_statement(link, entry));
        }
        let fresh = self.prepare_unowned(sql).await?;
        let entry = Arc::new(CacheEntry {
            name: fresh.inner.name.clone(),
            sql: fresh.inner.sql.clone(),
            parameters: fresh.inner.parameters.clone(),
            columns: fresh.inner.columns.clone(),
            reparse: fresh.inner.reparse,
            link: Arc::downgrade(&link),
        });
        let gone = link.cache().insert(sql, entry.clone());
        drop(gone);
        Ok(self.cached_statement(link, entry))
    }

    /// Runs `sql` with `params` through the statement cache ([`Connection::prepare_cached`]):
    /// one round trip once the statement is cached.
    ///
    /// A cached statement that turns out stale (deallocated by SQL, or a table it reads
    /// changed its columns) is prepared again and run once more, when nothing can have run:
    /// outside a transaction block. Inside one, the error is returned (the block is failed).
    pub async fn query_cached<P: Params>(&self, sql: &str, params: P) -> Result<Results, Error> {
        let statement = self.prepare_cached(sql).await?;
        match statement.call(&params).await {
            Err(error) if stale(&error) && self.transaction_status() == TransactionStatus::Idle => {
                self.uncache(sql);
                self.prepare_cached(sql).await?.call(&params).await
            }
            other => other,
        }
    }

    /// Drops `sql` from the statement cache (its statement is closed on the server once no
    /// handle holds it).
    pub fn uncache(&self, sql: &str) {
        let gone = self.link().cache().remove(sql);
        drop(gone);
    }

    /// How many statements the cache holds.
    pub fn cached_statements(&self) -> usize {
        self.link().cache().len()
    }

    /// Empties the statement cache, closing its statements on the server once no handle
    /// holds them (or forgetting them, when the session already dropped them).
    pub(crate) fn clear_statement_cache(&self) {
        let gone = self.link().cache().take_all();
        drop(gone);
    }

    fn cached_statement(&self, link: Arc<Link>, entry: Arc<CacheEntry>) -> Statement {
        Statement {
            inner: Arc::new(StatementInner {
                conn: self.clone(),
                link,
                name: entry.name.clone(),
                sql: entry.sql.clone(),
                parameters: entry.parameters.clone(),
                columns: entry.columns.clone(),
                owned: false,
                reparse: entry.reparse,
                hook: std::sync::Arc::default(),
                cached: Some(entry),
            }),
        }
    }
}
