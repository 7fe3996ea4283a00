//! Scrollable cursors: SQL cursors declared `SCROLL … WITH HOLD`, read with `FETCH`.
//!
//! Protocol portals cannot scroll, so a cursor is an SQL cursor (decision 6): `declare` runs
//! `DECLARE <name> SCROLL CURSOR WITH HOLD FOR <statement>` with the statement's parameters, and
//! every read is a `FETCH` run as the unnamed statement with the cursor's column descriptor, in
//! one round trip. Scrollable cursors never prefetch (as in py-postgresql), so the server's
//! position is always the one the caller sees: each `next` fetches exactly one row.

pub(crate) mod declare;
pub(crate) mod seek;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use pg_exceptions::{CursorNameError, Error, OperationError};
use pg_types::{Columns, Row};
use postgres_protocol::message::frontend;
use postgres_types::Type;

use crate::connection::Connection;
use crate::cursor::declare::Origin;
use crate::cursor::seek::Direction;
use crate::link::Link;
use crate::statement::described;
use crate::wire::hooks::{HookSlot, MessageHook};
use crate::wire::task::protocol;

/// A scrollable cursor: py-postgresql's `Cursor`.
///
/// `Clone` gives another handle on the same server-side cursor (same position, same
/// direction); [`Cursor::clone_cursor`] declares a new one. A cursor made by
/// [`Statement::declare`](crate::Statement::declare) is closed on the server when its last handle is dropped; one from
/// [`Connection::cursor_from_id`] is never closed implicitly.
///
/// [`Connection::reset`] closes every cursor (`DISCARD ALL`, `WITH HOLD` ones included). A
/// cursor is not declared again behind its user's back — that would silently restart it
/// from its first row — so once the reset is queued its handles are [closed](Cursor::closed)
/// and reading or seeking is a CursorNameError that names the reset; [`Cursor::close`] does
/// nothing harmful, and [`Cursor::clone_cursor`] declares the query again, from its first row.
#[derive(Clone)]
pub struct Cursor {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Connection,
    link: Arc<Link>,
    name: String,
    quoted: String,
    columns: Arc<Columns>,
    /// The query and parameters it was declared with; None for `cursor_from_id`.
    origin: Option<Origin>,
    owned: bool,
    closed: AtomicBool,
    backward: AtomicBool,
    /// The link's count of resets before the cursor was declared: once it moves, a reset
    /// closed the cursor.
    made_in: u64,
    /// Whether its name was the user's (`declare_named`), not one unique in the session.
    named: bool,
    /// The cursor's own message hook, first for what its reads and moves raise; the
    /// statement's (in `origin`) comes next.
    hook: HookSlot,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // After a reset, a Close still goes out for a cursor declared in a race with it, which
        // finds nothing otherwise; but not for a name the user chose: the reset closed it, and
        // a Close could close a namesake declared since (the connection's next user's, on a
        // pool).
        let namesake_risk = self.named && self.link.session_resets() != self.made_in;
        let open = !self.closed.load(Ordering::Relaxed) && !self.link.shared.is_closed();
        if self.owned
            && open
            && !namesake_risk
            && let Ok(bytes) = close_portal(&self.name)
        {
            // Nobody waits for the answer: the task reads and drops it.
            let _ = self.link.request_protocol(bytes, 1);
        }
    }
}

/// Close (portal) + Sync: an SQL cursor is a portal, and closing one that is gone is no error.
pub(crate) fn close_portal(name: &str) -> Result<Bytes, Error> {
    let mut buf = BytesMut::new();
    frontend::close(b'P', name, &mut buf).map_err(protocol)?;
    frontend::sync(&mut buf);
    Ok(buf.freeze())
}

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("cursor_id", &self.inner.name)
            .field("string", &self.string())
            .field("columns", &self.column_names())
            .field("direction", &self.direction())
            .field("closed", &self.closed())
            .field("hook", &self.inner.hook)
            .finish()
    }
}

impl Cursor {
    pub(crate) fn new(
        conn: &Connection,
        link: Arc<Link>,
        name: String,
        columns: Arc<Columns>,
        origin: Option<Origin>,
        owned: bool,
        made_in: u64,
    ) -> Cursor {
        Cursor {
            inner: Arc::new(Inner {
                conn: conn.clone(),
                link,
                quoted: pg_string::quote_ident(&name),
                name,
                columns,
                origin,
                owned,
                closed: AtomicBool::new(false),
                backward: AtomicBool::new(false),
                made_in,
                named: false,
                hook: HookSlot::default(),
            }),
        }
    }

    /// Marks a cursor just made as named by its user.
    pub(crate) fn named(mut self) -> Cursor {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.named = true;
        }
        self
    }

    /// The connection the cursor belongs to.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// The cursor's name on the server.
    pub fn cursor_id(&self) -> &str {
        &self.inner.name
    }

    pub(crate) fn quoted_id(&self) -> &str {
        &self.inner.quoted
    }

    /// The query the cursor was declared for; None for a cursor from `cursor_from_id`.
    pub fn string(&self) -> Option<&str> {
        self.inner.origin.as_ref().map(|o| o.sql.as_str())
    }

    /// The statement the cursor was declared from (py-postgresql's `statement`); None for a
    /// cursor from [`Connection::cursor_from_id`]. The cursor holds the statement, so it
    /// stays prepared while the cursor lives.
    pub fn statement(&self) -> Option<&crate::Statement> {
        self.inner.origin.as_ref().map(|o| &o.statement)
    }

    /// Whether the cursor is closed on the server when its last handle is dropped.
    pub fn is_owned(&self) -> bool {
        self.inner.owned
    }

    /// Whether the cursor was closed through one of its handles, or by a
    /// [`Connection::reset`] queued since it was declared.
    pub fn closed(&self) -> bool {
        self.inner.closed.load(Ordering::Relaxed) || self.discarded()
    }

    /// Whether a reset was queued since the cursor was declared (it closed the cursor).
    fn discarded(&self) -> bool {
        self.inner.link.session_resets() != self.inner.made_in
    }

    /// The direction reads go in and seeks are seen from.
    pub fn direction(&self) -> Direction {
        Direction::from(!self.inner.backward.load(Ordering::Relaxed))
    }

    /// Sets the direction (shared by every handle on this cursor). [`Direction::Backward`]
    /// makes the cursor act as if its rows were reversed: reads fetch backward and seeks are
    /// inverted (see [`Cursor::seek`]).
    pub fn set_direction(&self, direction: Direction) {
        let backward = direction == Direction::Backward;
        self.inner.backward.store(backward, Ordering::Relaxed);
    }

    /// The result columns' descriptor, shared by every row.
    pub fn columns(&self) -> &Arc<Columns> {
        &self.inner.columns
    }

    /// The column names.
    pub fn column_names(&self) -> Vec<String> {
        described::names(&self.inner.columns)
    }

    /// The column types.
    pub fn column_types(&self) -> Vec<Type> {
        described::types(&self.inner.columns)
    }

    /// The column type OIDs.
    pub fn pg_column_types(&self) -> Vec<u32> {
        described::oids(&self.inner.columns)
    }

    /// The column types by their SQL names, as [`crate::Statement::sql_column_types`] gives them.
    pub fn sql_column_types(&self) -> Vec<String> {
        described::sql_names(&self.inner.columns)
    }

    /// Sets (or removes) the cursor's message hook: first in the chain for the messages raised
    /// while the cursor is read or moved, before the hook of the statement it was declared
    /// from (py-postgresql's `Output → Statement → Connection → …`). Shared by every handle
    /// on this cursor; a clone made by [`Cursor::clone_cursor`] starts without one.
    pub fn set_message_hook(&self, hook: Option<MessageHook>) {
        self.inner.hook.set(hook);
    }

    /// The hook the cursor's requests start at: its own, then its statement's.
    pub(crate) fn hook(&self) -> Option<MessageHook> {
        let statement = self.inner.origin.as_ref().and_then(|o| o.hook.get());
        crate::wire::hooks::chain(self.inner.hook.get(), statement)
    }

    /// Fails with CursorNameError when the cursor was closed through a handle or by a reset,
    /// or belongs to a session since replaced by a reconnect (whose cursor of the same name is
    /// another one).
    pub(crate) fn usable(&self) -> Result<(), Error> {
        let gone = if self.inner.closed.load(Ordering::Relaxed) {
            "was closed"
        } else if self.discarded() && self.inner.origin.is_some() {
            "was closed by Connection::reset() (DISCARD ALL); clone_cursor declares its query \
             again, from the first row"
        } else if self.discarded() {
            "was closed by Connection::reset() (DISCARD ALL); declare it again in SQL and open \
             it with cursor_from_id"
        } else if !Arc::ptr_eq(&self.inner.link, &self.inner.conn.link()) {
            "belongs to a session since replaced by a reconnect"
        } else {
            return Ok(());
        };
        let message = format!("cursor {:?} {gone}", self.inner.name);
        Err(self.fail(Error::client(&CursorNameError, message)))
    }

    pub(crate) fn fail(&self, error: Error) -> Error {
        error.with_context("cursor", &self.inner.name)
    }

    /// Reads up to `quantity` rows (all the remaining rows when None, none for 0) in the
    /// cursor's direction, or against it when `direction` is the opposite of the cursor's
    /// (py-postgresql's `read(quantity, direction)`: `Backward` on a backward cursor fetches
    /// forward). Fewer rows than asked for means the cursor is exhausted in that direction.
    pub async fn read(
        &self,
        quantity: Option<u64>,
        direction: Option<Direction>,
    ) -> Result<Vec<Row>, Error> {
        self.usable()?;
        let way = match direction {
            Some(given) if given != self.direction() => Direction::Backward,
            Some(_) => Direction::Forward,
            None => self.direction(),
        };
        let count = match quantity {
            Some(0) => return Ok(Vec::new()),
            Some(n) => n.to_string(),
            None => "ALL".to_owned(),
        };
        self.fetch(&format!("FETCH {way} {count} FROM {}", self.inner.quoted))
            .await
    }

    /// The next row in the cursor's direction, or None at the end: one `FETCH` of one row.
    pub async fn next(&self) -> Result<Option<Row>, Error> {
        self.usable()?;
        let way = self.direction();
        let rows = self
            .fetch(&format!("FETCH {way} 1 FROM {}", self.inner.quoted))
            .await?;
        Ok(rows.into_iter().next())
    }

    /// The rows from the current position on, in the cursor's direction, as a stream: each
    /// item is one [`Cursor::next`]. The stream ends after the last row or the first error.
    pub fn stream(&self) -> CursorStream {
        let stream = futures::stream::try_unfold(self.clone(), |cursor| async move {
            Ok(cursor.next().await?.map(|row| (row, cursor)))
        });
        CursorStream(stream.boxed())
    }

    async fn fetch(&self, sql: &str) -> Result<Vec<Row>, Error> {
        let run = self
            .inner
            .conn
            .run_described(sql, self.inner.columns.clone(), self.hook());
        run.await.map(|(rows, _)| rows).map_err(|e| self.fail(e))
    }

    /// Closes the cursor on the server now. Reading it afterwards gives a CursorNameError;
    /// closing it again does nothing, and so does closing it once its connection is closed
    /// or lost (the server closed it with the session). After a [`Connection::reset`], which
    /// closed it, the Close sent finds nothing, which is no error.
    pub async fn close(&self) -> Result<(), Error> {
        let link = &self.inner.link;
        if self.inner.closed.swap(true, Ordering::Relaxed) || link.shared.is_closed() {
            return Ok(());
        }
        // Gone with the session when the connection closes meanwhile.
        let gone = |error: Error| match link.shared.is_closed() {
            true => Ok(()),
            false => Err(error),
        };
        let mut responses = match link.request_protocol(close_portal(&self.inner.name)?, 1) {
            Ok(responses) => responses,
            Err(error) => return gone(error),
        };
        let mut first_error = None;
        loop {
            use postgres_protocol::message::backend::Message;
            match responses.next(&link.shared).await {
                Ok(Message::ReadyForQuery(_)) => break,
                Ok(Message::ErrorResponse(body)) if first_error.is_none() => {
                    first_error = Some(crate::wire::error::from_error_body(&body)?);
                }
                Ok(_) => {}
                Err(error) => return gone(error),
            }
        }
        first_error.map_or(Ok(()), |e| Err(self.fail(e)))
    }

    /// Declares a new cursor of the same query and parameters, positioned before its first
    /// row (py-postgresql's `clone()`); it closes when its last handle drops. A cursor from
    /// `cursor_from_id` has no known query: cloning it is an OperationError.
    pub async fn clone_cursor(&self) -> Result<Cursor, Error> {
        let Some(origin) = self.inner.origin.clone() else {
            let message = "a cursor opened by cursor_from_id has no query to declare again";
            return Err(self.fail(Error::client(&OperationError, message)));
        };
        let columns = self.inner.columns.clone();
        crate::cursor::declare::declare(&self.inner.conn, origin, columns, None).await
    }
}

/// The rows of a cursor, one `FETCH` each (see [`Cursor::stream`]).
pub struct CursorStream(BoxStream<'static, Result<Row, Error>>);

impl futures::Stream for CursorStream {
    type Item = Result<Row, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for CursorStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorStream")
    }
}
