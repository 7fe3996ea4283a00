//! Categories: what initialises every new connection for a purpose (py-postgresql's
//! `Category`; sqlx's `after_connect`, deadpool's post-create hook).
//!
//! A [`Connector`](crate::Connector) given a category
//! ([`Connector::with_category`](crate::Connector::with_category)) runs it on each
//! connection it makes, after the session is established and before the connection is
//! handed out: [`Connector::connect`](crate::Connector::connect),
//! [`Connection::clone_connection`](crate::Connection::clone_connection), a reconnect
//! ([`Connection::connect`](crate::Connection::connect)), and
//! [`Connection::reset`](crate::Connection::reset), which returns the session to its state
//! just after connecting (its `DISCARD ALL` undoes what the category set). An error from
//! the category fails the connect, and the session is closed. pg-session's pools take a
//! category too, so every pooled connection is initialised when it is made (and again
//! after a reset).
//!
//! A category is anything that implements [`Category`]; an async closure taking the
//! connection (a cheap handle) does:
//!
//! ```no_run
//! # async fn example(connector: pg_driver::Connector) -> Result<(), pg_exceptions::Error> {
//! use std::sync::Arc;
//! use pg_driver::{Category, Connection};
//!
//! let reporting: Arc<dyn Category> = Arc::new(|db: Connection| async move {
//!     db.execute("SET search_path = reporting, public; SET statement_timeout = '30s'")
//!         .await
//! });
//! let db = connector.with_category(reporting).connect().await?;
//! # Ok(()) }
//! ```
//!
//! A connect given up while its category runs drops the half-initialised connection with
//! it: the session is closed, never handed out.

use std::future::Future;

use futures::future::BoxFuture;
use pg_exceptions::Error;

use crate::connection::Connection;

/// What initialises each new connection for a purpose: run by a connector on every
/// connection it makes, before the connection is handed out. See the
/// [module documentation](crate::category).
///
/// Implemented for every `Fn(Connection) -> impl Future<Output = Result<(), Error>>` that is
/// `Send + Sync + 'static` (with a `Send + 'static` future).
pub trait Category: Send + Sync + 'static {
    /// Initialises `connection` (a handle on the new session); an error fails the connect.
    fn initialize(&self, connection: Connection) -> BoxFuture<'static, Result<(), Error>>;
}

impl<F, Fut> Category for F
where
    F: Fn(Connection) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    fn initialize(&self, connection: Connection) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(self(connection))
    }
}

/// Runs `category` on `connection`, the error marked as the category's.
pub(crate) async fn initialize(
    category: &dyn Category,
    connection: &Connection,
) -> Result<(), Error> {
    category
        .initialize(connection.clone())
        .await
        .map_err(|error| error.with_context("category", "initialising a new connection"))
}
