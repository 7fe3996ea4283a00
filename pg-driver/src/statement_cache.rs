//! A session's cache of prepared statements, by SQL text: [`Connection::prepare_cached`]
//! and [`Connection::query_cached`].
//!
//! The cache belongs to the server session (the [`Link`]), so a reconnect starts empty. An
//! entry is the server-side statement and what Describe said of it; the statements handed
//! out share the entry, and the server-side statement is closed when the entry has left the
//! cache (evicted, or the cache cleared) and its last handle is gone. Entries point back at
//! the link only weakly: the cache lives in the link, and a strong pointer would keep a
//! dropped connection's task alive.

use std::sync::Arc;

use pg_exceptions::Error;

use crate::connection::Connection;
use crate::link::Link;
use crate::link::statements::CacheEntry;
pub use crate::link::statements::STATEMENT_CACHE_CAPACITY;
use crate::statement::{Statement, StatementInner};
use crate::{Params, Results, TransactionStatus};

/// Whether `error`, from executing a cached statement, says the cache is stale: the
/// statement is gone (`DEALLOCATE`, `DISCARD ALL` run as SQL) or a table it reads changed
/// its row type. Neither ran anything.
pub(crate) fn stale(error: &Error) -> bool {
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
            target: fresh.inner.target,
            made_in: fresh.inner.made_in.clone(),
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
                target: entry.target,
                hook: std::sync::Arc::default(),
                made_in: entry.made_in.clone(),
                closed: Default::default(),
                cached: Some(entry),
            }),
        }
    }
}
