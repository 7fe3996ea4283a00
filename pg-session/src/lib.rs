//! Pooled sessions by URI or `PGSQL_<NAME>` environment variable: the Python `queries` and
//! `sprockets.clients.postgresql` libraries over this project's driver.
//!
//! A [`Session`] (blocking) holds one connection from the process-wide pool of its URI and
//! gives it back, reset, when dropped ([`Session::close`] closes it instead); an
//! [`AsyncSession`] (tokio) takes a connection per query and gives it back before returning
//! the rows: [`Results`] are in memory and hold no connection. Pools are keyed by
//! [`pool_id`] (`queries`' MD5 of `"Session:<uri>"`), grow up to their maximum size, close
//! connections idle longer than their TTL, and evict connections found dead without counting
//! them. Rows come as [`Record`] mappings (`IndexMap<String, Value>`) by default.
//! [`SessionBuilder::from_env`] and [`AsyncSessionBuilder::from_env`] read the URI from
//! `PGSQL_<NAME>` with `sprockets.clients.postgresql`'s options in the same chain (pool size,
//! idle TTL, `db_url`).
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
//! assert_eq!(results[0], (42,)); // the connection went back before the rows came
//!
//! // A named server-side cursor holds a connection while it lives.
//! let cursor = session.cursor("numbers", "SELECT generate_series(1, 1000)", ()).await?;
//! let page = cursor.fetch(100).await?;
//! drop(cursor); // closed on the server; the connection goes back cleaned
//! # Ok(()) }
//! ```
//!
//! # queries and psycopg2 parity
//!
//! Code written for `queries` passes psycopg2's named parameters: [`Session::query_named`]
//! and [`AsyncSession::query_named`] take `%(name)s` placeholders (or `:name`) with values
//! by name — `(&str, &dyn ToSql)` pairs, a map such as a [`Record`], a row. The statement is
//! rewritten to `$1`, `$2`, … outside quotes, dollar quotes and comments (`%%` is a `%`, as in
//! psycopg2; a repeated name is one parameter) and the values go as its parameters, never
//! into the SQL text; a name without a value is an error naming it, before anything is sent.
//!
//! ```no_run
//! # fn main() -> Result<(), pg_exceptions::Error> {
//! use pg_types::ToSql;
//!
//! let session = pg_session::Session::new("postgresql://app@localhost/app")?;
//! let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &7i32), ("pattern", &"a%")];
//! let rows = session.query_named(
//!     "SELECT * FROM t WHERE id = %(id)s OR name LIKE %(pattern)s OR id %% 2 = 0",
//!     values,
//! )?;
//! # Ok(()) }
//! ```
//!
//! And it catches DB-API's exceptions: every error's
//! [`dbapi_category`](pg_exceptions::Error::dbapi_category) is the
//! [`DbApiCategory`](pg_exceptions::DbApiCategory) psycopg2 would raise it as —
//! `IntegrityError` for a unique violation, `ProgrammingError` for a syntax error or an
//! unbound parameter, `DataError` for a division by zero, `OperationalError` for a lost
//! connection, `InterfaceError` for a closed one.
//!
//! ```no_run
//! # fn example(session: &pg_session::Session) {
//! use pg_exceptions::DbApiCategory;
//!
//! match session.query("INSERT INTO t VALUES (1)", ()) {
//!     Err(e) if e.dbapi_category() == DbApiCategory::IntegrityError => { /* already there */ }
//!     other => { other.unwrap(); }
//! }
//! # }
//! ```
//!
//! # Departures from `queries`
//!
//! Where this crate behaves differently from `queries` (and `sprockets.clients.postgresql`),
//! and why:
//!
//! - **An async session's query waits for a connection**, up to
//!   [`DEFAULT_ACQUIRE_TIMEOUT`] (30 s) by default, when every connection of a full pool is
//!   busy; `queries` fails at once with `PoolFullError`. A service with more tasks than
//!   connections expects them to take turns (as deadpool and sqlx make them);
//!   `acquire_timeout(Duration::ZERO)` gives `queries`' behaviour back. A blocking session
//!   still fails at once: it holds its connection for its life, so waiting is mostly a hang.
//! - **Results hold no connection.** `queries`' `TornadoSession` results hold theirs until
//!   `free()` (a forgotten `free()` drains the pool); here the connection goes back, cleaned
//!   when the query may have left state, before the rows are returned, on the same decision
//!   as before (see [`AsyncSession`]). A connection is held only where asked for:
//!   [`AsyncSession::acquire`], [`AsyncSession::cursor`], [`AsyncSession::xact`].
//!   [`Results::free`] and [`Results::holds_connection`] are kept, deprecated, as a no-op
//!   and `false`.
//! - **A builder that contradicts an existing pool is told so.** Sessions on one URI share
//!   its pool; `queries` silently gives a later session the first pool's size. Here a
//!   builder that *sets* `pool_max_size` or `pool_idle_ttl` to something else than the pool
//!   has fails with [`SessionError::PoolSettingConflict`]; one that leaves them unset takes
//!   the pool as it is. The acquire timeout is each session's own and never conflicts.
//! - **Closing.** [`Session::close`] closes the connection and removes it from the pool, as
//!   `queries` documents; it takes `&self` (a session may be shared through an `Arc`), and
//!   afterwards everything that would talk to the server fails with
//!   [`SessionError::Closed`], closing again too (`queries` raises `InterfaceError`).
//!   Dropping a session gives its connection back, cleaned. [`AsyncSession::close`] closes
//!   the session for it and its clones (its pool, shared with other sessions, stays;
//!   [`Pool::shutdown`] closes that); `queries`' `TornadoSession` inherits a `close` that
//!   fails, having no connection of its own.
//! - **An async session's `backend_pid`, `encoding`, `notices`** are those of the connections
//!   it used: the last one's backend and encoding, and the last 50 notices of all of them
//!   (as psycopg2 keeps 50). `TornadoSession` inherits these from `Session`, where they read a
//!   connection it never has. [`AsyncSession::set_encoding`] switches every connection the
//!   session takes, which is cleaned on its way back.
//! - **Cleaning, not `DISCARD ALL`**, on a connection's way back, and only when it may carry
//!   state: see [`AsyncSession`].
//!
//! # Observability
//!
//! The pools report through `tracing` (target `pg_session::pool`), beside the driver's
//! statement spans and connection events (see `pg_driver`'s "Observability"); with no
//! subscriber each costs a level check:
//!
//! | event | level | fields |
//! |---|---|---|
//! | `pool_acquire` | DEBUG | `pool` (the pool id), `waited_ms`, `new` (a slot to open a connection in, rather than an idle one) |
//! | `pool_release` | DEBUG | `pool`, `cleaned` (cleaned on its way back), `kept` (idle again, rather than closed), `idle`, `busy` |
//! | `pool_evict` | DEBUG (idle past its TTL, or closed), INFO (failed its check, or could not be cleaned) | `pool`, `count`, `reason` |
//! | `pool_timeout` | WARN | `pool`, `waited_ms`, `size`, `max_size`: the pool stayed full until the acquire timeout ([`SessionError::PoolFull`], [`SessionError::NoIdleConnections`]) |
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
mod trace;

pub use async_session::{AsyncSession, AsyncSessionBatch, AsyncSessionBuilder, PooledConnection};
pub use config::{DEFAULT_URI, env_uri, env_variable, pool_id, uri};
pub use cursor::SessionCursor;
pub use error::SessionError;
pub use options::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_ASYNC_MAX_SIZE, DEFAULT_CHECK_IDLE_AFTER, DEFAULT_IDLE_TTL,
    DEFAULT_MAX_SIZE, MAX_POOL_SIZE_VARIABLE,
};
pub use report::{Pool, PoolReport, shutdown};
pub use results::{Iter, Mapping, Record, Results, RowForm, Tuple};
pub use session::{Session, SessionBatch, SessionBuilder};

/// Rows into Rust types: the trait, and `#[derive(FromRow)]` ([`Session::query_as`],
/// [`AsyncSession::query_as`]).
pub use pg_driver::FromRow;

/// The derive's way to pg-types for crates that depend on this one only.
#[doc(hidden)]
pub use pg_types as __pg_types;

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
