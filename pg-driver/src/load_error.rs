//! Which row of a load an error happened at, and which of the statement's own parameters it
//! names.
//!
//! A load's error carries a context layer labelled [`ROW`] whose text is the failing row's
//! 0-based index among the rows given to `load_rows` (across all chunks, for
//! `load_chunks`); [`failed_row`] reads it. A batched INSERT (`insert_batch.rs`) runs many
//! rows as one statement whose parameter `$k` is row `(k - 1) / n`'s parameter
//! `(k - 1) % n + 1` (`n` the statement's parameter count), so what the server says of
//! `$k` (a value its input function refuses, a binary value of the wrong form) is said
//! again of the statement's own parameter, and the row found from it; a position in the
//! batch's text becomes one in the statement's. An error the server reports for the batch
//! as a whole (a constraint, a value too long for its column) cannot say which of the
//! batch's rows it was: it gets a [`ROWS`] layer naming the batch's rows instead.

use std::sync::atomic::{AtomicUsize, Ordering};

use pg_exceptions::{Error, field};

use crate::insert_batch::InsertShape;

/// The label of the context layer naming the row of a load an error happened at: its
/// 0-based index among the rows loaded.
pub const ROW: &str = "row";

/// The label of the context layer naming the rows of the batched INSERT an error happened
/// in, when the server's error does not say which of them (`first to last`, 0-based).
pub const ROWS: &str = "rows";

/// The 0-based index, among the rows given to
/// [`Statement::load_rows`](crate::Statement::load_rows) (or all the chunks'
/// rows, for `load_chunks`), of the row whose execution failed with `error`, when the error
/// came from a load and the row is known.
///
/// ```
/// use pg_exceptions::{Error, ParameterError};
///
/// let error = Error::client(&ParameterError, "…").with_context(pg_driver::ROW, "57");
/// assert_eq!(pg_driver::failed_row(&error), Some(57));
/// ```
pub fn failed_row(error: &Error) -> Option<usize> {
    error
        .contexts()
        .iter()
        .find(|layer| layer.label() == ROW)
        .and_then(|layer| layer.text().parse().ok())
}

/// Adds the [`ROW`] layer.
pub(crate) fn at_row(error: Error, row: usize) -> Error {
    error.with_context(ROW, row.to_string())
}

/// How a load's executions stand for its rows, and how many rows were written so far.
pub(crate) struct LoadRows<'a> {
    layout: Layout<'a>,
    /// Rows encoded so far (the producer counts, the consumer reads).
    written: AtomicUsize,
}

/// One execution a row, or batches.
enum Layout<'a> {
    Each,
    /// Batched INSERTs of `per` rows each (the last one may have fewer) of `shape`, into
    /// `table`, each row with `parameters` parameters.
    Batched {
        shape: &'a InsertShape,
        table: &'a str,
        per: usize,
        parameters: usize,
    },
}

impl<'a> LoadRows<'a> {
    /// A load of one execution a row.
    pub(crate) fn each() -> LoadRows<'static> {
        LoadRows {
            layout: Layout::Each,
            written: AtomicUsize::new(0),
        }
    }

    /// A load of batches of `per` rows, `shape` rendered with `table`.
    pub(crate) fn batched(
        shape: &'a InsertShape,
        table: &'a str,
        per: usize,
        parameters: usize,
    ) -> LoadRows<'a> {
        LoadRows {
            layout: Layout::Batched {
                shape,
                table,
                per,
                parameters,
            },
            written: AtomicUsize::new(0),
        }
    }

    /// How many rows were written.
    pub(crate) fn written(&self) -> usize {
        self.written.load(Ordering::Relaxed)
    }

    /// Counts `rows` more rows written.
    pub(crate) fn wrote(&self, rows: usize) {
        self.written.fetch_add(rows, Ordering::Relaxed);
    }

    /// Names the row in `error`, which the server sent for the execution that followed
    /// `done` complete ones (and the statement's own parameter, for a batch).
    pub(crate) fn locate(&self, error: Error, done: u64) -> Error {
        let done = usize::try_from(done).unwrap_or(usize::MAX);
        let Layout::Batched {
            shape,
            table,
            per,
            parameters: n,
        } = self.layout
        else {
            return at_row(error, done);
        };
        let start = done.saturating_mul(per);
        let rows = self.written().saturating_sub(start).min(per);
        if rows == 0 || n == 0 {
            return error;
        }
        if let Some(k) = bind_parameter(&error).filter(|k| (1..=rows * n).contains(k)) {
            let own = (k - 1) % n + 1;
            return at_row(renumber(error, k, own), start + (k - 1) / n);
        }
        let origin = error
            .position()
            .and_then(|position| shape.origin(table, rows, n, position));
        let error = match origin {
            Some(origin) => {
                let error = error.with_field(field::POSITION, origin.position.to_string());
                if let Some(row) = origin.row {
                    return at_row(error, start + row);
                }
                error
            }
            None => error,
        };
        if rows == 1 {
            return at_row(error, start);
        }
        error.with_context(ROWS, format!("{start} to {}", start + rows - 1))
    }
}

/// The number of the parameter the server's error is about, as the server numbers them:
/// "incorrect binary data format in bind parameter k", or the context line "unnamed portal
/// parameter $k" a value refused by its type's input function gets.
fn bind_parameter(error: &Error) -> Option<usize> {
    if let Some(k) = error.message().strip_prefix(BINARY_FORMAT) {
        return k.parse().ok();
    }
    error.context()?.lines().find_map(|line| {
        let rest = line.strip_prefix(PORTAL_PARAMETER)?;
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        rest[..digits].parse().ok()
    })
}

/// The server's message for a binary value it cannot read, up to the parameter's number.
const BINARY_FORMAT: &str = "incorrect binary data format in bind parameter ";

/// The server's context line for a parameter of the unnamed portal, up to its number.
const PORTAL_PARAMETER: &str = "unnamed portal parameter $";

/// `error` with its words of parameter `k` said of parameter `own`.
fn renumber(error: Error, k: usize, own: usize) -> Error {
    let mut error = error;
    if error.message().starts_with(BINARY_FORMAT) {
        let message = format!("{BINARY_FORMAT}{own}");
        error = error.with_field(field::MESSAGE, message);
    }
    if let Some(context) = error.context() {
        let old = format!("{PORTAL_PARAMETER}{k}");
        let new = format!("{PORTAL_PARAMETER}{own}");
        let lines: Vec<String> = context
            .lines()
            .map(|line| match line.strip_prefix(&old) {
                Some(rest) if !rest.starts_with(|c: char| c.is_ascii_digit()) => {
                    format!("{new}{rest}")
                }
                _ => line.to_owned(),
            })
            .collect();
        error = error.with_field(field::WHERE, lines.join("\n"));
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(fields: &[(u8, &str)]) -> Error {
        Error::from_fields(fields.iter().map(|(t, v)| (*t, (*v).to_owned())))
    }

    #[test]
    fn a_batch_parameter_becomes_the_row_and_the_statements_parameter() {
        let shape = InsertShape::parse("INSERT INTO t (a, b) VALUES ($1, $2)").unwrap();
        let load = LoadRows::batched(&shape, "\"s\".\"t\"", 250, 2);
        load.wrote(400);
        // The second batch (rows 250…399); its $116 is row 57's $2 there: row 307.
        let error = server(&[
            (b'C', "22003"),
            (
                b'M',
                "value \"99999999999\" is out of range for type integer",
            ),
            (b'W', "unnamed portal parameter $116 = '99999999999'"),
        ]);
        let error = load.locate(error, 1);
        assert_eq!(failed_row(&error), Some(307));
        assert_eq!(
            error.context(),
            Some("unnamed portal parameter $2 = '99999999999'")
        );
        let error = load.locate(
            server(&[
                (b'C', "22P03"),
                (b'M', "incorrect binary data format in bind parameter 115"),
                (b'W', "unnamed portal parameter $115\nmore"),
            ]),
            0,
        );
        assert_eq!(failed_row(&error), Some(57));
        assert_eq!(
            error.message(),
            "incorrect binary data format in bind parameter 1"
        );
        assert_eq!(error.context(), Some("unnamed portal parameter $1\nmore"));
        // A constraint: the batch, not the row.
        let error = load.locate(server(&[(b'C', "23514"), (b'M', "check")]), 1);
        assert_eq!(failed_row(&error), None);
        let rows = error.contexts().iter().find(|c| c.label() == ROWS).unwrap();
        assert_eq!(rows.text(), "250 to 399");
        // A position in the batch's text: in the statement's, and its row.
        let batch = shape.render("\"s\".\"t\"", 150, 2);
        let at = batch.find("$9,").unwrap() + 1;
        let error = load.locate(server(&[(b'C', "42000"), (b'P', &at.to_string())]), 1);
        assert_eq!(error.position(), Some(30));
        assert_eq!(failed_row(&error), Some(254));
    }

    #[test]
    fn row_by_row_the_execution_is_the_row() {
        let load = LoadRows::each();
        let error = load.locate(server(&[(b'C', "23505")]), 17);
        assert_eq!(failed_row(&error), Some(17));
    }
}
