//! [`Row`]: a sequence of values and a mapping of column names to them.

mod columns;
mod compare;
mod from_row;
mod index;
mod layout;
mod transform;
mod typed;

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use pg_exceptions::{ColumnError, Error};
use postgres_protocol::message::backend::DataRowBody;

pub use columns::{Column, Columns};
pub use from_row::{FromRow, derive_support};
pub use index::RowIndex;
pub use transform::ValueFn;

use crate::error::column_error;
use crate::{Value, decode_opt_with, decode_text};
use layout::Positions;

/// A result row: the shared column descriptor and the row's values.
///
/// A row is both a sequence (by position, [`iter`](Row::iter), equality with tuples) and a
/// mapping (by name: [`keys`](Row::keys), [`items`](Row::items), [`get_or`](Row::get_or)),
/// as py-postgresql's `Row` is. Values are read two ways:
///
/// - typed, through postgres-types' `FromSql` (so users' own types work):
///   [`try_get`](Row::try_get) / [`get`](Row::get), zero-copy for borrowed types;
/// - dynamic, as [`Value`]s: [`value`](Row::value), [`values`](Row::values), iteration.
///
/// A row from the driver keeps the DataRow body as received and decodes a column when it
/// is read ([`Row::from_data_row_message`]); a composite value or a transformed row holds values
/// ([`Row::from_values`]). Rows are cheap to clone (the body and the columns are shared).
///
/// ```
/// use pg_types::{Column, Columns, Row, Value};
/// use postgres_types::Type;
///
/// let columns = Columns::new(vec![Column::new("id", Type::INT4), Column::new("name", Type::TEXT)]);
/// let row = Row::from_values(columns, vec![Value::Int4(1), Value::from("one")]);
/// assert_eq!(row.get::<i32>("id"), 1);
/// assert_eq!(row.get::<&str>(1), "one");
/// assert!(row == (1, "one"));
/// assert_eq!(row.to_string(), "(1, 'one')");
/// ```
#[derive(Clone)]
pub struct Row {
    columns: Arc<Columns>,
    storage: Storage,
    /// Binary forms made for typed reads of values not held in binary (text columns,
    /// held values), one cell per column, made on first use.
    typed: OnceLock<Box<[OnceLock<typed::Source>]>>,
}

#[derive(Clone)]
enum Storage {
    /// The values of a DataRow message body (after its count), exactly one per column, and
    /// where each value's length word is in them ([`layout`]; checked when the row was made).
    DataRow { body: Bytes, at: Positions },
    /// A body and each column's byte range in it (`None`: NULL): [`Row::from_raw`]'s, and a
    /// DataRow of another number of values than columns.
    Raw {
        body: Bytes,
        ranges: Vec<Option<Range<usize>>>,
    },
    /// Decoded values.
    Values(Vec<Value>),
}

impl Row {
    /// A row over a DataRow body: `ranges[i]` is column `i`'s bytes in `body` (`None` for
    /// NULL). Nothing is decoded until read; a range outside the body, or a missing one,
    /// is a [`ColumnError`] when that column is read.
    pub fn from_raw(columns: Arc<Columns>, body: Bytes, ranges: Vec<Option<Range<usize>>>) -> Row {
        Row::new(columns, Storage::Raw { body, ranges })
    }

    /// A row over a parsed DataRow message body; an error when the body is malformed or
    /// has a different number of values than `columns`.
    pub fn from_data_row(columns: Arc<Columns>, body: &DataRowBody) -> Result<Row, Error> {
        let count = layout::count(body);
        let at = layout::positions(body.buffer(), count)
            .map_err(|e| Error::client(&ColumnError, format!("malformed DataRow: {e}")))?;
        if count != columns.len() {
            return Err(Error::client(
                &ColumnError,
                format!("DataRow of {count} values for {} columns", columns.len()),
            ));
        }
        let body = body.buffer_bytes().clone();
        Ok(Row::new(columns, Storage::DataRow { body, at }))
    }

    /// A row over a DataRow message body as postgres-protocol parsed it, taking the body
    /// (its bytes are shared, never copied): as [`from_data_row_message`] does.
    ///
    /// [`from_data_row_message`]: Row::from_data_row_message
    pub fn from_data_row_body(
        columns: Arc<Columns>,
        body: DataRowBody,
    ) -> Result<Row, std::io::Error> {
        Row::over_values(columns, layout::count(&body), body.buffer_bytes().clone())
    }

    /// A row over the body of a DataRow message as it came (after its length word: the
    /// 16-bit count of values, then each value's length and bytes), sharing its bytes, never
    /// copying them — the driver's way of making rows, one per DataRow.
    ///
    /// The body is checked as [`from_data_row`](Row::from_data_row) checks it (every length
    /// word and value inside it, nothing left over): a malformed body is the I/O error
    /// postgres-protocol reports for it. A body of another number of values than `columns`
    /// still makes a row, as [`from_raw`](Row::from_raw) does: a column without a value
    /// reads as a [`ColumnError`], values beyond the columns are ignored.
    ///
    /// ```
    /// use pg_types::{Column, Columns, Row};
    /// use postgres_types::Type;
    ///
    /// let columns = Columns::new(vec![Column::new("n", Type::INT4), Column::new("s", Type::TEXT)]);
    /// // Two values: 7 as a binary int4, and NULL.
    /// let body = bytes::Bytes::from_static(&[0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff]);
    /// let row = Row::from_data_row_message(columns.clone(), body)?;
    /// assert_eq!(row.get::<i32>("n"), 7);
    /// assert_eq!(row.get::<Option<&str>>("s"), None);
    /// // A value running past the end of the body.
    /// let cut = bytes::Bytes::from_static(&[0, 1, 0, 0, 0, 4, 0, 0]);
    /// assert!(Row::from_data_row_message(columns, cut).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn from_data_row_message(
        columns: Arc<Columns>,
        mut body: Bytes,
    ) -> Result<Row, std::io::Error> {
        let Some(&[a, b]) = body.first_chunk::<2>() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "failed to fill whole buffer",
            ));
        };
        bytes::Buf::advance(&mut body, 2);
        Row::over_values(columns, usize::from(u16::from_be_bytes([a, b])), body)
    }

    /// A row over `count` values laid out in `body` as a DataRow lays them out.
    #[inline]
    fn over_values(
        columns: Arc<Columns>,
        count: usize,
        body: Bytes,
    ) -> Result<Row, std::io::Error> {
        let storage = if count == columns.len() {
            let at = layout::positions(&body, count)?;
            Storage::DataRow { body, at }
        } else {
            Storage::Raw {
                ranges: layout::ranges(&body, count)?,
                body,
            }
        };
        Ok(Row::new(columns, storage))
    }

    #[inline]
    fn new(columns: Arc<Columns>, storage: Storage) -> Row {
        Row {
            columns,
            storage,
            typed: OnceLock::new(),
        }
    }

    /// A row of already decoded values (a composite, a transformed row). Missing values
    /// read as a [`ColumnError`]; extra ones are ignored.
    pub fn from_values(columns: Arc<Columns>, values: Vec<Value>) -> Row {
        Row::new(columns, Storage::Values(values))
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The column descriptor, shared with the other rows of the result.
    pub fn columns(&self) -> &Arc<Columns> {
        &self.columns
    }

    /// The column at `idx`.
    pub fn column<I: RowIndex>(&self, idx: I) -> Option<&Column> {
        idx.__position(&self.columns)
            .and_then(|i| self.columns.get(i))
    }

    /// The position of the first column named `key`.
    pub fn index_from_key(&self, key: &str) -> Option<usize> {
        self.columns.position(key)
    }

    /// The name of the column at `index`.
    pub fn key_from_index(&self, index: usize) -> Option<&str> {
        self.columns.get(index).map(|c| c.name.as_str())
    }

    /// Whether a column is named `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.columns.position(key).is_some()
    }

    /// The column names, in order (duplicates included).
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.columns.names()
    }

    /// The column names as a vector.
    pub fn column_names(&self) -> Vec<&str> {
        self.keys().collect()
    }

    /// The position of `idx`, or a [`ColumnError`] naming it.
    #[inline]
    pub(crate) fn position<I: RowIndex>(&self, idx: &I) -> Result<usize, Error> {
        match idx.__position(&self.columns) {
            Some(i) => Ok(i),
            None => Err(self.no_column(idx)),
        }
    }

    #[cold]
    #[inline(never)]
    fn no_column(&self, idx: &dyn std::fmt::Display) -> Error {
        Error::client(
            &ColumnError,
            format!("no column {idx} in a row of {} columns", self.len()),
        )
    }

    /// The bytes of column `i` of a DataRow (`Some(None)` for NULL); `None` for held values
    /// and when the row has no value for the column.
    #[inline]
    fn raw_cell(&self, i: usize) -> Option<Option<&[u8]>> {
        match &self.storage {
            Storage::DataRow { body, at } => layout::value(body, at.get(i)?),
            Storage::Raw { body, ranges } => match ranges.get(i)? {
                None => Some(None),
                Some(r) => body.get(r.clone()).map(Some),
            },
            Storage::Values(_) => None,
        }
    }

    /// The bytes of raw column `i` (`None` for NULL), or the held value.
    fn cell(&self, i: usize) -> Result<Cell<'_>, Error> {
        let cell = match &self.storage {
            Storage::Values(values) => values.get(i).map(Cell::Held),
            _ => self.raw_cell(i).map(Cell::Raw),
        };
        cell.ok_or_else(|| self.missing(i))
    }

    #[cold]
    #[inline(never)]
    fn missing(&self, i: usize) -> Error {
        let c = &self.columns[i];
        column_error(
            &c.name,
            i,
            &c.type_,
            crate::error::type_io_error("the row has no value for it"),
        )
    }

    /// The value of column `i` as a [`Value`].
    fn value_at(&self, i: usize) -> Result<Value, Error> {
        let column = &self.columns[i];
        let result = match self.cell(i)? {
            Cell::Held(v) => return Ok(v.clone()),
            Cell::Raw(None) => Ok(Value::Null),
            Cell::Raw(Some(raw)) if column.is_text() => std::str::from_utf8(raw)
                .map_err(|e| crate::error::type_io_error(format!("invalid UTF-8 text: {e}")))
                .and_then(|text| decode_text(&column.type_, text)),
            Cell::Raw(raw) => decode_opt_with(&column.type_, raw, self.columns.types_registry()),
        };
        result.map_err(|e| column_error(&column.name, i, &column.type_, e))
    }

    /// The type OIDs that the anonymous records of this row name and its columns' registry
    /// ([`Columns::with_types`]) lacks, each once: what a reader of rows looks up in the
    /// catalog before handing the row over. Empty when the columns hold no records (one
    /// look at the descriptor) or carry no registry.
    pub fn unknown_record_types(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let Some(types) = self.columns.types_registry() else {
            return out;
        };
        for &i in self.columns.record_columns() {
            if let Ok(Cell::Raw(Some(raw))) = self.cell(i) {
                crate::unknown_record_types(&self.columns[i].type_, raw, types, &mut out);
            }
        }
        out
    }

    /// The value of the column at `idx` (a position or a name), decoded dynamically.
    pub fn value<I: RowIndex>(&self, idx: I) -> Result<Value, Error> {
        let i = self.position(&idx)?;
        self.value_at(i)
    }

    /// The value at `idx`, or `default` when there is no such column (a decoding error is
    /// still an error): py-postgresql's `row.get(key, default)`.
    pub fn get_or<I: RowIndex>(&self, idx: I, default: Value) -> Result<Value, Error> {
        match idx.__position(&self.columns) {
            Some(i) => self.value_at(i),
            None => Ok(default),
        }
    }

    /// All values, in order.
    pub fn values(&self) -> Result<Vec<Value>, Error> {
        self.iter().collect()
    }

    /// The values in order, each decoded as it is reached. `for v in &row` is the same.
    pub fn iter(&self) -> Values<'_> {
        Values { row: self, next: 0 }
    }

    /// The `(name, value)` pairs, in column order.
    pub fn items(&self) -> impl Iterator<Item = Result<(&str, Value), Error>> + '_ {
        (0..self.len()).map(|i| Ok((self.columns[i].name.as_str(), self.value_at(i)?)))
    }

    /// The raw binary bytes of the column at `idx` in a row over a DataRow body (`None`
    /// for NULL); an error for held values or a missing column.
    pub fn raw<I: RowIndex>(&self, idx: I) -> Result<Option<&[u8]>, Error> {
        let i = self.position(&idx)?;
        match self.cell(i)? {
            Cell::Raw(raw) => Ok(raw),
            Cell::Held(_) => Err(crate::error::type_io_error(
                "the row holds decoded values, not raw bytes",
            )),
        }
    }
}

/// A column's content: raw bytes of the DataRow, or a held value.
enum Cell<'a> {
    Raw(Option<&'a [u8]>),
    Held(&'a Value),
}

/// The values of a [`Row`], decoded one at a time: an iterator of `Result<Value, Error>`.
pub struct Values<'a> {
    row: &'a Row,
    next: usize,
}

impl Iterator for Values<'_> {
    type Item = Result<Value, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        (self.next < self.row.len()).then(|| {
            self.next += 1;
            self.row.value_at(self.next - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.row.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Values<'_> {}

impl<'a> IntoIterator for &'a Row {
    type Item = Result<Value, Error>;
    type IntoIter = Values<'a>;

    fn into_iter(self) -> Values<'a> {
        self.iter()
    }
}
