//! `queries.Results`: the rows of one query, held in memory, with the command tag.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use indexmap::IndexMap;
use pg_exceptions::Error;
use pg_types::{Row, Value};

use crate::error::SessionError;

/// A row as a mapping of column name to value (`queries`' `RealDictCursor` rows). A name
/// that appears twice keeps the last column's value, as a dict would.
pub type Record = IndexMap<String, Value>;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Mapping {}
    impl Sealed for super::Tuple {}
}

/// How a session hands out rows: [`Mapping`] (the default) or [`Tuple`].
pub trait RowForm: sealed::Sealed + Send + Sync + 'static {
    /// One row in this form.
    type Item: fmt::Debug + Send + Sync + 'static;
    /// Converts a row the driver read, decoding every value.
    fn from_row(row: Row) -> Result<Self::Item, Error>;
    /// Converts the rows of one query.
    fn from_rows(rows: Vec<Row>) -> Result<Vec<Self::Item>, Error> {
        rows.into_iter().map(Self::from_row).collect()
    }
    /// The row as a mapping.
    fn to_record(item: &Self::Item) -> Result<Record, Error>;
}

/// Rows as [`Record`]s, `IndexMap<String, Value>` (like `queries`' default `RealDictCursor`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Mapping;

/// Rows as the driver's [`Row`]s: sequences (`row[0]`, compared with tuples) that are also
/// mappings (`row.get::<T>("name")`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tuple;

impl RowForm for Mapping {
    type Item = Record;
    fn from_row(row: Row) -> Result<Record, Error> {
        row_record(&row)
    }
    fn to_record(item: &Record) -> Result<Record, Error> {
        Ok(item.clone())
    }
}

impl RowForm for Tuple {
    type Item = Row;
    fn from_row(row: Row) -> Result<Row, Error> {
        Ok(row)
    }
    fn from_rows(rows: Vec<Row>) -> Result<Vec<Row>, Error> {
        Ok(rows)
    }
    fn to_record(item: &Row) -> Result<Record, Error> {
        row_record(item)
    }
}

/// Every row of `results` read as a `T`; a failure in `sql`'s context.
pub(crate) fn rows_into<T: pg_driver::FromRow>(
    results: Results<Tuple>,
    sql: &str,
) -> Result<Vec<T>, Error> {
    results
        .items
        .iter()
        .map(|row| T::from_row(row).map_err(|e| e.with_statement(sql)))
        .collect()
}

fn row_record(row: &Row) -> Result<Record, Error> {
    row.items()
        .map(|item| item.map(|(name, value)| (name.to_owned(), value)))
        .collect()
}

/// The full command tag from the driver's split form: `INSERT 0 1`, `SELECT 3`, `CREATE TABLE`.
fn command_tag(command: &str, count: Option<u64>) -> String {
    match count {
        Some(count) if command == "INSERT" => format!("INSERT 0 {count}"),
        Some(count) => format!("{command} {count}"),
        None => command.to_owned(),
    }
}

/// The outcome of [`Session::query`](crate::Session::query) or `callproc`: every row, in
/// the session's [`RowForm`], and the command tag.
///
/// Unlike `queries`, the length is the number of rows returned (an `UPDATE` of five rows
/// has none: its [`count`](Results::count) is 5), and iterating rows that are not there
/// gives nothing rather than an error. Iteration restarts from the first row each time.
///
/// Results hold every row in memory and no connection: an
/// [`AsyncSession`](crate::AsyncSession)'s connection went back to the pool before its
/// results were returned (`queries`' `TornadoSession` results hold theirs until `free()`d,
/// which a forgotten `free()` turns into a pool that runs dry).
pub struct Results<F: RowForm = Mapping> {
    items: Vec<F::Item>,
    query: String,
    command: String,
    /// The count as the tag gave it (`None` for tags without one).
    tagged: Option<u64>,
    /// The full tag, made on first ask.
    status: std::sync::OnceLock<String>,
    count: u64,
    backend_pid: Option<i32>,
    rownumber: AtomicUsize,
}

impl<F: RowForm> Results<F> {
    pub(crate) fn new(
        results: pg_driver::Results,
        query: &str,
        backend_pid: Option<i32>,
    ) -> Result<Results<F>, Error> {
        let pg_driver::Results {
            rows,
            command,
            count,
        } = results;
        let returned = rows.len() as u64;
        let items = F::from_rows(rows)?;
        Ok(Results {
            items,
            query: query.to_owned(),
            command,
            tagged: count,
            status: std::sync::OnceLock::new(),
            count: count.unwrap_or(returned),
            backend_pid,
            rownumber: AtomicUsize::new(0),
        })
    }

    /// How many rows the query returned.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the query returned no rows.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The rows affected or returned, from the command tag (`UPDATE 5` gives 5); for
    /// commands whose tag has no count, the number of rows returned.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Row `index`, or `None` past the end; reading it moves [`rownumber`](Results::rownumber)
    /// after it.
    pub fn get(&self, index: usize) -> Option<&F::Item> {
        let item = self.items.get(index)?;
        self.rownumber.store(index + 1, Ordering::Relaxed);
        Some(item)
    }

    /// Iterates the rows from the first, every time it is called.
    pub fn iter(&self) -> Iter<'_, F> {
        self.rownumber.store(0, Ordering::Relaxed);
        Iter {
            items: self.items.iter(),
            rownumber: &self.rownumber,
        }
    }

    /// Every row.
    pub fn items(&self) -> &[F::Item] {
        self.rownumber.store(self.items.len(), Ordering::Relaxed);
        &self.items
    }

    /// The rows, taken out.
    pub fn into_items(mut self) -> Vec<F::Item> {
        std::mem::take(&mut self.items)
    }

    /// The only row as a mapping: empty when there is none, a
    /// [`SessionError::MoreThanOneRow`] when there are several.
    pub fn as_dict(&self) -> Result<Record, Error> {
        match self.items.as_slice() {
            [] => Ok(Record::new()),
            [item] => {
                self.rownumber.store(1, Ordering::Relaxed);
                F::to_record(item)
            }
            items => Err(SessionError::MoreThanOneRow { rows: items.len() }.into()),
        }
    }

    /// The position after the row read last (0 before any), as a DB-API cursor counts it.
    pub fn rownumber(&self) -> usize {
        self.rownumber.load(Ordering::Relaxed)
    }

    /// The SQL that was sent (parameters travel apart from it).
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The full command tag: `SELECT 1`, `INSERT 0 1`, `CREATE TABLE`.
    pub fn status(&self) -> &str {
        self.status
            .get_or_init(|| command_tag(&self.command, self.tagged))
    }

    /// The server process that ran the query.
    pub fn backend_pid(&self) -> Option<i32> {
        self.backend_pid
    }

    /// Does nothing: results hold no connection (`queries`' `Results.free()` gave back the
    /// connection a `TornadoSession`'s results held until then; here it went back before the
    /// results were returned). Kept so that code written for `queries` reads the same.
    #[deprecated(note = "results hold no connection: there is nothing to free")]
    pub fn free(&mut self) {}

    /// Always `false`: results hold no connection (an async session's goes back to its pool
    /// before the results are returned). Connections are held only where asked for:
    /// [`AsyncSession::acquire`](crate::AsyncSession::acquire), a
    /// [`SessionCursor`](crate::SessionCursor), an [`xact`](crate::AsyncSession::xact).
    #[deprecated(note = "results hold no connection: this is always false")]
    pub fn holds_connection(&self) -> bool {
        false
    }
}

impl<F: RowForm> std::ops::Index<usize> for Results<F> {
    type Output = F::Item;

    /// Row `index`; panics past the end (use [`Results::get`] to ask).
    #[track_caller]
    fn index(&self, index: usize) -> &F::Item {
        match self.get(index) {
            Some(item) => item,
            None => panic!("row {index} of results with {} rows", self.len()),
        }
    }
}

impl<F: RowForm> fmt::Debug for Results<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Results")
            .field("status", &self.status())
            .field("rows", &self.items.len())
            .finish()
    }
}

/// The rows of [`Results`], in order; advances [`Results::rownumber`] as it goes.
pub struct Iter<'a, F: RowForm> {
    items: std::slice::Iter<'a, F::Item>,
    rownumber: &'a AtomicUsize,
}

impl<'a, F: RowForm> Iterator for Iter<'a, F> {
    type Item = &'a F::Item;

    fn next(&mut self) -> Option<&'a F::Item> {
        let item = self.items.next()?;
        self.rownumber.fetch_add(1, Ordering::Relaxed);
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

impl<F: RowForm> ExactSizeIterator for Iter<'_, F> {}

impl<'a, F: RowForm> IntoIterator for &'a Results<F> {
    type Item = &'a F::Item;
    type IntoIter = Iter<'a, F>;

    fn into_iter(self) -> Iter<'a, F> {
        self.iter()
    }
}

impl<F: RowForm> IntoIterator for Results<F> {
    type Item = F::Item;
    type IntoIter = std::vec::IntoIter<F::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_items().into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::command_tag;

    #[test]
    fn rebuilds_command_tags() {
        assert_eq!(command_tag("INSERT", Some(1)), "INSERT 0 1");
        assert_eq!(command_tag("SELECT", Some(0)), "SELECT 0");
        assert_eq!(command_tag("CREATE TABLE", None), "CREATE TABLE");
    }
}
