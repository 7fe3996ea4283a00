//! The contracts of statements and cursors.

use std::future::Future;

use pg_exceptions::Error;
use pg_types::Row;
use postgres_types::Type;

use crate::{Direction, Params, Whence};

/// A prepared statement (py-postgresql's `PreparedStatement`): metadata and the execution
/// methods that return whole results. Streaming methods (`rows`, `chunks`, `column`) belong to
/// the implementation, whose stream types differ.
pub trait Statement: Clone + Send + Sync {
    /// The cursor `declare` makes.
    type Cursor: Cursor;

    /// The server-side name.
    fn statement_id(&self) -> &str;
    /// The SQL text.
    fn string(&self) -> &str;
    /// The result column names.
    fn column_names(&self) -> Vec<String>;
    /// The result column types.
    fn column_types(&self) -> Vec<Type>;
    /// The result column type OIDs.
    fn pg_column_types(&self) -> Vec<u32>;
    /// The result column types by SQL name (`INTEGER`, `CHARACTER VARYING`, `pg_catalog.text`).
    fn sql_column_types(&self) -> Vec<String>;
    /// The parameter types.
    fn parameter_types(&self) -> Vec<Type>;
    /// The parameter type OIDs.
    fn pg_parameter_types(&self) -> Vec<u32>;
    /// The parameter types by SQL name.
    fn sql_parameter_types(&self) -> Vec<String>;

    /// Runs the statement to its end: every row (COPY output as one-column `bytea` rows).
    fn rows_of<P: Params + Send>(
        &self,
        params: P,
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;
    /// Executes the statement for every parameter set, pipelined; returns the row count.
    fn load_rows<I>(&self, rows: I) -> impl Future<Output = Result<u64, Error>> + Send
    where
        I: IntoIterator + Send,
        I::IntoIter: Send,
        I::Item: Params + Send;
    /// Declares a scrollable cursor WITH HOLD over the statement.
    fn declare<P: Params + Send>(
        &self,
        params: P,
    ) -> impl Future<Output = Result<Self::Cursor, Error>> + Send;
    /// Closes the statement on the server; closing it again, or once its session is closed,
    /// does nothing.
    fn close(&self) -> impl Future<Output = Result<(), Error>> + Send;
}

/// A scrollable cursor (py-postgresql's `Cursor`): reads and seeks in either direction.
pub trait Cursor: Clone + Send + Sync {
    /// The cursor's server-side name.
    fn cursor_id(&self) -> &str;
    /// The result column names.
    fn column_names(&self) -> Vec<String>;
    /// The direction reads and seeks are taken in.
    fn direction(&self) -> Direction;
    /// Sets the direction; [`Direction::Backward`] inverts reads and seeks.
    fn set_direction(&self, direction: Direction);
    /// Reads `quantity` rows (all remaining when None) in `direction` (the cursor's when None);
    /// fewer than asked means the cursor is exhausted that way.
    fn read(
        &self,
        quantity: Option<u64>,
        direction: Option<Direction>,
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;
    /// Moves the cursor and returns the count py-postgresql's `seek` returns.
    fn seek(&self, offset: i64, whence: Whence) -> impl Future<Output = Result<u64, Error>> + Send;
    /// Closes the cursor; reading it afterwards gives CursorNameError. Closing it again, or
    /// once its session is closed, does nothing.
    fn close(&self) -> impl Future<Output = Result<(), Error>> + Send;
}
