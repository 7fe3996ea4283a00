//! Blocking scrollable cursors.

use pg_exceptions::Error;
use pg_types::{Columns, Row};
use postgres_types::Type;
use std::sync::Arc;

use super::{Connection, Statement};
use crate::{Direction, Params, Whence};

/// The blocking form of [`crate::Cursor`]; an [`Iterator`] over its rows in its direction, one
/// `FETCH` of one row per item (scrollable cursors never prefetch).
///
/// `Clone` gives another handle on the same server-side cursor; [`Cursor::clone_cursor`]
/// declares a new one.
#[derive(Clone, Debug)]
pub struct Cursor {
    cursor: crate::Cursor,
    conn: Connection,
}

impl Connection {
    /// Opens a cursor declared in SQL by its name; never closed implicitly.
    pub fn cursor_from_id(&self, name: &str) -> Result<Cursor, Error> {
        let cursor = self.block_on(self.as_async().cursor_from_id(name))??;
        Ok(self.wrap(cursor))
    }

    /// Declares a scrollable cursor over `sql` with `params` (a single-use statement).
    pub fn query_declare<P: Params>(&self, sql: &str, params: P) -> Result<Cursor, Error> {
        self.prepare(sql)?.declare(params)
    }

    /// Declares a scrollable cursor named `name` over `sql` with `params`; see
    /// [`crate::Statement::declare_named`].
    pub fn query_declare_named<P: Params>(
        &self,
        name: &str,
        sql: &str,
        params: P,
    ) -> Result<Cursor, Error> {
        self.prepare(sql)?.declare_named(name, params)
    }

    fn wrap(&self, cursor: crate::Cursor) -> Cursor {
        Cursor {
            cursor,
            conn: self.clone(),
        }
    }
}

impl Statement {
    /// Declares a scrollable cursor `WITH HOLD` over the statement's rows; it is closed when
    /// its last handle drops.
    pub fn declare<P: Params>(&self, params: P) -> Result<Cursor, Error> {
        let conn = self.connection();
        let cursor = conn.block_on(self.as_async().declare(params))??;
        Ok(conn.wrap(cursor))
    }

    /// [`Statement::declare`] under the name `name`; see [`crate::Statement::declare_named`].
    pub fn declare_named<P: Params>(&self, name: &str, params: P) -> Result<Cursor, Error> {
        let conn = self.connection();
        let cursor = conn.block_on(self.as_async().declare_named(name, params))??;
        Ok(conn.wrap(cursor))
    }
}

impl Cursor {
    /// The async cursor underneath.
    pub fn as_async(&self) -> &crate::Cursor {
        &self.cursor
    }

    /// Reads up to `quantity` rows (all when None, none for 0); see [`crate::Cursor::read`].
    pub fn read(
        &self,
        quantity: Option<u64>,
        direction: Option<Direction>,
    ) -> Result<Vec<Row>, Error> {
        self.conn.block_on(self.cursor.read(quantity, direction))?
    }

    /// The next row in the cursor's direction, or None at the end.
    pub fn next_row(&self) -> Result<Option<Row>, Error> {
        self.conn.block_on(self.cursor.next())?
    }

    /// Moves the cursor and returns the server's count; see [`crate::Cursor::seek`].
    pub fn seek(&self, offset: i64, whence: Whence) -> Result<u64, Error> {
        self.conn.block_on(self.cursor.seek(offset, whence))?
    }

    /// Moves to one end of the cursor; see [`crate::Cursor::seek_all`].
    pub fn seek_all(&self, whence: Whence) -> Result<u64, Error> {
        self.conn.block_on(self.cursor.seek_all(whence))?
    }

    /// Sets (or removes) the cursor's message hook; see [`crate::Cursor::set_message_hook`].
    pub fn set_message_hook(&self, hook: Option<crate::MessageHook>) {
        self.cursor.set_message_hook(hook);
    }

    /// The direction reads go in and seeks are seen from.
    pub fn direction(&self) -> Direction {
        self.cursor.direction()
    }

    /// Sets the direction (shared by every handle on this cursor).
    pub fn set_direction(&self, direction: Direction) {
        self.cursor.set_direction(direction)
    }

    /// Closes the cursor on the server now; closing it again, after a reset closed it, or once
    /// its connection is closed, does nothing (see [`crate::Cursor::close`]).
    pub fn close(&self) -> Result<(), Error> {
        self.conn.block_on(self.cursor.close())?
    }

    /// Declares a new cursor of the same query and parameters.
    pub fn clone_cursor(&self) -> Result<Cursor, Error> {
        let cursor = self.conn.block_on(self.cursor.clone_cursor())??;
        Ok(self.conn.wrap(cursor))
    }

    /// The cursor's name on the server.
    pub fn cursor_id(&self) -> &str {
        self.cursor.cursor_id()
    }

    /// The statement the cursor was declared from; None for a cursor from `cursor_from_id`.
    pub fn statement(&self) -> Option<super::Statement> {
        let statement = self.cursor.statement()?.clone();
        Some(super::Statement::wrap(statement, self.conn.clone()))
    }

    /// The query the cursor was declared for; None for a cursor from `cursor_from_id`.
    pub fn string(&self) -> Option<&str> {
        self.cursor.string()
    }

    /// Whether the cursor was closed through one of its handles, or by a reset.
    pub fn closed(&self) -> bool {
        self.cursor.closed()
    }

    /// The result columns' descriptor.
    pub fn columns(&self) -> &Arc<Columns> {
        self.cursor.columns()
    }

    /// The column names.
    pub fn column_names(&self) -> Vec<String> {
        self.cursor.column_names()
    }

    /// The column types.
    pub fn column_types(&self) -> Vec<Type> {
        self.cursor.column_types()
    }

    /// The column type OIDs.
    pub fn pg_column_types(&self) -> Vec<u32> {
        self.cursor.pg_column_types()
    }

    /// The column types by SQL name.
    pub fn sql_column_types(&self) -> Vec<String> {
        self.cursor.sql_column_types()
    }
}

impl Iterator for Cursor {
    type Item = Result<Row, Error>;

    /// One `FETCH` of one row; an error is yielded as an item (and again on the next call if
    /// it persists, as for a closed cursor).
    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}
