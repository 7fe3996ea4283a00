//! Batches on a blocking connection: [`crate::Batch`] run to its end.

use pg_api::Params;
use pg_exceptions::Error;

use super::Connection;
use crate::Results;

/// Statements to run together under one Sync, made by [`Connection::batch`]: see
/// [`crate::Batch`].
///
/// ```no_run
/// # fn example(db: &pg_driver::blocking::Connection) -> Result<(), pg_exceptions::Error> {
/// let results = db
///     .batch()
///     .query("UPDATE counters SET n = n + 1 WHERE id = $1", (1i32,))
///     .query("SELECT n FROM counters WHERE id = $1", (1i32,))
///     .run()?;
/// let n: i32 = results[1].rows[0].get(0);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a batch does nothing until it is run"]
pub struct Batch<'a> {
    conn: &'a Connection,
    inner: crate::Batch<'a>,
}

impl Connection {
    /// A batch of statements to run together in one round trip: see
    /// [`crate::Connection::batch`].
    pub fn batch(&self) -> Batch<'_> {
        self.batch_of(crate::BatchStatements::new())
    }

    /// A batch of `statements` gathered beforehand: see [`crate::Connection::batch_of`].
    pub fn batch_of<'a>(&'a self, statements: crate::BatchStatements<'a>) -> Batch<'a> {
        Batch {
            conn: self,
            inner: self.as_async().batch_of(statements),
        }
    }
}

impl<'a> Batch<'a> {
    /// Adds `sql` with `params`; the statements run in the order they were added.
    pub fn query<P: Params + Send + Sync + 'a>(self, sql: &'a str, params: P) -> Self {
        Batch {
            conn: self.conn,
            inner: self.inner.query(sql, params),
        }
    }

    /// The statements so far.
    pub fn statements(&self) -> &crate::BatchStatements<'a> {
        self.inner.statements()
    }

    /// Runs the statements and returns their results, in order: see
    /// [`crate::Batch::run`].
    pub fn run(self) -> Result<Vec<Results>, Error> {
        self.conn.block_on(self.inner.run())?
    }
}
