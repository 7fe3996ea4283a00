//! The large-object functions on the wire: each call is the unnamed statement prepared with
//! its parameter types — Parse, Bind (parameters and results in binary), Execute and Sync in
//! one request — so `bytea` travels raw both ways and nothing is spliced into SQL.

use bytes::Bytes;
use fallible_iterator::FallibleIterator;
use pg_exceptions::{ColumnError, Error, OperationError};
use postgres_protocol::message::backend::Message;
use postgres_types::{ToSql, Type};

use crate::link::Link;
use crate::wire::task::protocol;

/// The server's `INV_WRITE` flag of `lo_open`.
pub(super) const INV_WRITE: i32 = 0x0002_0000;
/// The server's `INV_READ` flag of `lo_open`.
pub(super) const INV_READ: i32 = 0x0004_0000;

pub(super) const CREATE: &str = "SELECT pg_catalog.lo_create($1)";
pub(super) const CREATE_OPEN: &str =
    "SELECT o, pg_catalog.lo_open(o, $2) FROM pg_catalog.lo_create($1) AS o";
pub(super) const OPEN: &str = "SELECT pg_catalog.lo_open($1, $2)";
pub(super) const READ: &str = "SELECT pg_catalog.loread($1, $2)";
pub(super) const WRITE: &str = "SELECT pg_catalog.lowrite($1, $2)";
pub(super) const SEEK: &str = "SELECT pg_catalog.lo_lseek64($1, $2, $3)";
pub(super) const TELL: &str = "SELECT pg_catalog.lo_tell64($1)";
pub(super) const TRUNCATE: &str = "SELECT pg_catalog.lo_truncate64($1, $2)";
pub(super) const CLOSE: &str = "SELECT pg_catalog.lo_close($1)";
pub(super) const UNLINK: &str = "SELECT pg_catalog.lo_unlink($1)";

/// A value of the first row, raw (binary format), None for NULL.
pub(super) type Values = Vec<Option<Bytes>>;

/// Parse, Bind, Execute and Sync of the unnamed statement, parameters and results binary.
pub(super) fn encode(sql: &str, params: &[(Type, &(dyn ToSql + Sync))]) -> Result<Bytes, Error> {
    crate::oneshot::encode(sql, params, 1)
}

/// Runs one function call and returns the values of its first row.
pub(super) async fn call(
    link: &Link,
    sql: &str,
    params: &[(Type, &(dyn ToSql + Sync))],
) -> Result<Values, Error> {
    let mut responses = link.request(encode(sql, params)?, 1, None)?;
    let mut values = None;
    let mut error = None;
    loop {
        match responses.next(&link.shared).await {
            Ok(Message::DataRow(body)) if values.is_none() => {
                let buffer = body.buffer_bytes();
                let row = body
                    .ranges()
                    .map(|r| Ok(r.map(|r| buffer.slice(r))))
                    .collect()
                    .map_err(protocol)?;
                values = Some(row);
            }
            Ok(Message::ErrorResponse(body)) => {
                error.get_or_insert(crate::wire::error::from_error_body(&body)?);
            }
            Ok(Message::ReadyForQuery(_)) => break,
            Ok(_) => {}
            Err(e) => return Err(error.unwrap_or(e).with_statement(sql)),
        }
    }
    match error {
        Some(error) => Err(error.with_statement(sql)),
        None => Ok(values.unwrap_or_default()),
    }
}

fn column(values: &Values, index: usize, size: usize) -> Result<&[u8], Error> {
    match values.get(index) {
        Some(Some(value)) if value.len() == size => Ok(value),
        _ => Err(Error::client(
            &ColumnError,
            "unexpected answer from a large-object function",
        )),
    }
}

/// An `int4` (or `oid`) result column.
pub(super) fn int4(values: &Values, index: usize) -> Result<i32, Error> {
    let bytes = column(values, index, 4)?;
    Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// An `oid` result column.
pub(super) fn oid(values: &Values, index: usize) -> Result<u32, Error> {
    int4(values, index).map(|v| v as u32)
}

/// An `int8` result column.
pub(super) fn int8(values: &Values, index: usize) -> Result<i64, Error> {
    let bytes = column(values, index, 8)?;
    let mut be = [0u8; 8];
    be.copy_from_slice(bytes);
    Ok(i64::from_be_bytes(be))
}

/// A `bytea` result column.
pub(super) fn bytea(values: Values) -> Result<Bytes, Error> {
    match values.into_iter().next() {
        Some(Some(value)) => Ok(value),
        _ => Err(Error::client(
            &ColumnError,
            "unexpected answer from a large-object function",
        )),
    }
}

/// A large object's mode as psycopg2 reads it: `r`, `w`, `rw` or `n` (not opened), then
/// optionally `b`; empty is `r`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Mode {
    pub(super) read: bool,
    pub(super) write: bool,
}

impl Mode {
    pub(super) fn parse(text: &str) -> Result<Mode, Error> {
        let rest = text.strip_suffix('b').unwrap_or(text);
        let (read, write) = match rest {
            "" | "r" => (true, false),
            "w" => (false, true),
            "rw" => (true, true),
            "n" => (false, false),
            _ => {
                return Err(Error::client(
                    &OperationError,
                    format!(
                        "bad mode for a large object: {text:?}: expected r, w, rw or n, \
                         optionally followed by b (text mode, t, is not supported: reads give bytes)"
                    ),
                ));
            }
        };
        Ok(Mode { read, write })
    }

    /// Whether the object is opened at all (mode `n` is not).
    pub(super) fn opens(self) -> bool {
        self.read || self.write
    }

    /// The flags of `lo_open`.
    pub(super) fn flags(self) -> i32 {
        (if self.read { INV_READ } else { 0 }) | (if self.write { INV_WRITE } else { 0 })
    }

    /// The mode as psycopg2 shows it: `rb`, `wb`, `rwb`, `nb`.
    pub(super) fn as_str(self) -> &'static str {
        match (self.read, self.write) {
            (true, false) => "rb",
            (false, true) => "wb",
            (true, true) => "rwb",
            (false, false) => "nb",
        }
    }
}
