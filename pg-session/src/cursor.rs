//! A session's named server-side cursor: the driver's scrollable cursor on a connection the
//! cursor holds for its life.

use std::marker::PhantomData;
use std::ops::Deref;

use pg_driver::Cursor;
use pg_exceptions::Error;

use crate::async_session::PooledConnection;
use crate::results::{Mapping, RowForm};

/// A named server-side cursor of an [`AsyncSession`](crate::AsyncSession) (made by
/// [`AsyncSession::cursor`](crate::AsyncSession::cursor)): `DECLARE name SCROLL CURSOR WITH
/// HOLD`, as `queries` makes psycopg2's named cursors. It dereferences to the driver's
/// [`Cursor`] (`read`, `next`, `seek`, `stream`, …, rows as [`pg_types::Row`]s);
/// [`fetch`](SessionCursor::fetch) pages in the session's row form.
///
/// It holds a connection of the pool while it lives. Dropped, the cursor is closed on the
/// server and the connection goes back to the pool cleaned (in a task of its own, as a
/// dropped [`PooledConnection`] does); [`close`](SessionCursor::close) does the same and waits
/// for it. A handle on the driver's cursor or connection kept past that (a `clone()` through
/// the dereference) finds the cursor closed: reading it is a `CursorNameError`.
pub struct SessionCursor<F: RowForm = Mapping> {
    // Dropped before the connection: its Close goes out ahead of the cleaning.
    cursor: Cursor,
    conn: PooledConnection,
    _form: PhantomData<fn() -> F>,
}

impl<F: RowForm> SessionCursor<F> {
    pub(crate) fn new(cursor: Cursor, conn: PooledConnection) -> SessionCursor<F> {
        SessionCursor {
            cursor,
            conn,
            _form: PhantomData,
        }
    }

    /// The cursor's name on the server, as given.
    pub fn name(&self) -> &str {
        self.cursor.cursor_id()
    }

    /// Up to `count` rows from the current position on, in the session's row form (the
    /// driver's [`Cursor::read`]): fewer (none at the end) when the cursor runs out.
    pub async fn fetch(&self, count: u64) -> Result<Vec<F::Item>, Error> {
        F::from_rows(self.cursor.read(Some(count), None).await?)
    }

    /// Every remaining row, in the session's row form.
    pub async fn fetch_all(&self) -> Result<Vec<F::Item>, Error> {
        F::from_rows(self.cursor.read(None, None).await?)
    }

    /// The next row in the session's row form, or `None` at the end.
    pub async fn fetch_one(&self) -> Result<Option<F::Item>, Error> {
        self.cursor.next().await?.map(F::from_row).transpose()
    }

    /// The id of the pool whose connection the cursor holds.
    pub fn pool_id(&self) -> &str {
        self.conn.pool_id()
    }

    /// Closes the cursor on the server and gives the connection back to the pool cleaned,
    /// waiting for both. Dropped half-way, the rest happens as when the cursor is dropped.
    pub async fn close(self) -> Result<(), Error> {
        let SessionCursor { cursor, conn, .. } = self;
        let closed = cursor.close().await;
        drop(cursor);
        conn.release().await;
        closed
    }
}

impl<F: RowForm> Deref for SessionCursor<F> {
    type Target = Cursor;

    fn deref(&self) -> &Cursor {
        &self.cursor
    }
}

impl<F: RowForm> std::fmt::Debug for SessionCursor<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCursor")
            .field("name", &self.name())
            .field("pool_id", &self.pool_id())
            .finish()
    }
}
