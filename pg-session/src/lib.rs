//! Pooled sessions by URI or `PGSQL_<NAME>` environment variable: the Python `queries` and
//! `sprockets.clients.postgresql` libraries over this project's driver.
//!
//! A [`Session`] (blocking) holds one connection from the process-wide pool of its URI and
//! gives it back, reset, when closed or dropped; an [`AsyncSession`] (tokio) takes a
//! connection per query and its [`Results`] give it back when dropped. Pools are keyed by
//! [`pool_id`] (`queries`' MD5 of `"Session:<uri>"`), grow up to their maximum size, close
//! connections idle longer than their TTL, and evict connections found dead without counting
//! them. Rows come as [`Record`] mappings (`IndexMap<String, Value>`) by default.
//!
//! ```no_run
//! use pg_session::Session;
//!
//! # fn main() -> Result<(), pg_exceptions::Error> {
//! // Or Session::from_env("billing"), which reads PGSQL_BILLING.
//! let session = Session::new("postgresql://app@localhost:5432/app")?;
//! let results = session.query("SELECT 1 AS one, 'a' AS letter", ())?;
//! assert_eq!(results.status(), "SELECT 1");
//! assert_eq!(results.as_dict()?["letter"], pg_types::Value::Text("a".into()));
//! for row in &results {
//!     println!("{row:?}");
//! }
//! println!("{:?}", session.pool().report());
//! drop(session); // the connection goes back to the pool (close() would close it)
//! # Ok(()) }
//! ```
//!
//! The async form:
//!
//! ```no_run
//! # async fn example() -> Result<(), pg_exceptions::Error> {
//! use std::time::Duration;
//!
//! let session = pg_session::AsyncSession::builder("postgresql://app@localhost/app")
//!     .pool_max_size(10)
//!     .acquire_timeout(Duration::from_secs(5))
//!     .row_form::<pg_session::Tuple>()
//!     .build()?;
//! let results = session.query("SELECT $1::int + 1", (41,)).await?;
//! assert_eq!(results[0], (42,));
//! drop(results); // the connection goes back to the pool
//! # Ok(()) }
//! ```
//!
//! # Pipelining
//!
//! With [`pipeline_depth(n)`](AsyncSessionBuilder::pipeline_depth), an async session runs a
//! statement it has seen leave no state (its first run, on a connection of its own, needed
//! no reset) on a connection shared with up to `n - 1` others of its statements in flight,
//! as a shared tokio-postgres client pipelines: fewer connections and far fewer round trips'
//! worth of wake-ups under load (pg-bench's `concurrent`: 1.6–1.7× deadpool-postgres with
//! four connections for 32 tasks). Each statement still commits by itself and fails alone;
//! its results hold no connection; a slow statement delays the ones behind it on its
//! connection; and a caller waiting for a connection of its own (`acquire`, a statement not
//! known to leave no state) is served before the shared connections take anyone new.
//!
//! # Read-only routing
//!
//! With a host list and standbys, a session can send read-only work to a standby and writes
//! to the primary. A session routes nothing by default; either builder option gives it a
//! second, *read* pool:
//!
//! - [`readonly_uri(uri)`](SessionBuilder::readonly_uri): read-only work goes to a pool on
//!   `uri` (standby hosts, say), whose connections ask for
//!   `target_session_attrs=prefer-standby` unless the URI (or `PGTARGETSESSIONATTRS`) names
//!   another; writes stay on the session's URI as it is.
//! - [`standby_reads(true)`](SessionBuilder::standby_reads): the session's URI lists the
//!   primary and its standbys (`postgresql://a,b,c/db`); writes go to a pool whose
//!   connections need `target_session_attrs=read-write`, reads to one with `prefer-standby`.
//!
//! Read-only work is [`Session::query_readonly`], [`Session::readonly_connection`],
//! [`AsyncSession::query_readonly`] and [`AsyncSession::acquire_readonly`]. It runs with
//! autocommit, outside the session's own transaction block; without a read pool these are
//! the session's own `query` and connection. Read pool connections are read-only sessions
//! (`default_transaction_read_only=on` in their startup packet): a read that
//! `prefer-standby` sent to the primary, because no standby was up, cannot write there either.
//! A blocking session takes its read connection on first use and holds it until it ends.
//!
//! Pool ids: the write pool's is [`pool_id`] of the kind and URI as usual, except under
//! `standby_reads`, where the kind is `Session[read-write]` (`TornadoSession[read-write]`); the
//! read pool's kind is `Session[read-only]` (`TornadoSession[read-only]`), with the read URI.
//! Both pools take the session's size, idle TTL and acquire timeout.
//!
//! ```no_run
//! # fn main() -> Result<(), pg_exceptions::Error> {
//! let session = pg_session::Session::builder("postgresql://app@db1,db2,db3/app")
//!     .standby_reads(true)
//!     .connect()?;
//! session.query("INSERT INTO log (line) VALUES ($1)", ("on the primary",))?;
//! let recent = session.query_readonly("SELECT * FROM log ORDER BY id DESC LIMIT 10", ())?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod async_session;
mod config;
mod cursor;
mod error;
mod lanes;
mod observed;
mod options;
mod pool;
mod reaper;
mod registry;
mod report;
mod results;
mod routing;
mod session;

pub use async_session::{AsyncSession, AsyncSessionBuilder, PooledConnection};
pub use config::{DEFAULT_URI, env_uri, env_variable, pool_id, uri};
pub use cursor::SessionCursor;
pub use error::SessionError;
pub use options::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_ASYNC_MAX_SIZE, DEFAULT_CHECK_IDLE_AFTER, DEFAULT_IDLE_TTL,
    DEFAULT_MAX_SIZE, MAX_POOL_SIZE_VARIABLE,
};
pub use report::{Pool, PoolReport, shutdown};
pub use results::{Iter, Mapping, Record, Results, RowForm, Tuple};
pub use session::{Session, SessionBuilder};

#[cfg(test)]
mod tests {
    /// Sessions, results and pooled connections move between threads and tasks.
    #[test]
    fn public_types_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<crate::Session>();
        send_sync::<crate::Session<crate::Tuple>>();
        send_sync::<crate::AsyncSession>();
        send_sync::<crate::Results>();
        send_sync::<crate::Results<crate::Tuple>>();
        send_sync::<crate::PooledConnection>();
        send_sync::<crate::SessionCursor>();
        send_sync::<crate::Pool>();
    }
}
