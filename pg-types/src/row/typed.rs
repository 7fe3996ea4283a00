//! Typed reads of a [`Row`] through postgres-types' `FromSql`.
//!
//! A binary column of a DataRow is handed to `FromSql` as it is (zero-copy). A column
//! received as text, and a held value, are first made binary: a text column is parsed
//! ([`decode_text`]) and encoded for its type; a held value is encoded for its column's
//! type, or for its own natural type when that fails (a transformed value). A value with
//! no binary form (an unknown type's text) is offered as `text`, so it can always be read
//! as a `String`. These binary forms are made once per column and kept with the row.

use std::any::type_name;
use std::sync::OnceLock;

use bytes::BytesMut;
use pg_exceptions::Error;
use postgres_types::{FromSql, Kind, Type};

use super::{Cell, Row, RowIndex};
use crate::error::{column_error, type_io_error};
use crate::{Value, decode_text, encode};

/// The binary form of a column made for typed reads: the type to read it as and its
/// bytes (`None`: NULL).
pub(super) type Source = Result<(Type, Option<Vec<u8>>), Error>;

static TEXT: Type = Type::TEXT;

fn encoded(ty: &Type, value: &Value) -> Result<Option<Vec<u8>>, Error> {
    let mut buf = BytesMut::new();
    match encode(ty, value, &mut buf)? {
        postgres_types::IsNull::Yes => Ok(None),
        postgres_types::IsNull::No => Ok(Some(buf.to_vec())),
    }
}

/// The binary source of a held value, for column type `ty`.
fn held_source(ty: &Type, value: &Value) -> Source {
    match value {
        Value::Null => Ok((ty.clone(), None)),
        Value::Unknown {
            binary: Some(b), ..
        } => Ok((ty.clone(), Some(b.clone()))),
        Value::Unknown { text: Some(t), .. } => Ok((TEXT.clone(), Some(t.as_bytes().to_vec()))),
        _ => encoded(ty, value)
            .map(|b| (ty.clone(), b))
            .or_else(|first| match value.natural_type() {
                Some(natural) => encoded(&natural, value)
                    .map(|b| (natural, b))
                    .map_err(|_| first),
                None => Err(first),
            }),
    }
}

/// The binary source of a text column's `text`.
fn text_source(ty: &Type, text: &[u8]) -> Source {
    let as_text = || Ok((TEXT.clone(), Some(text.to_vec())));
    let Ok(s) = std::str::from_utf8(text) else {
        return Err(type_io_error("invalid UTF-8 text"));
    };
    match decode_text(ty, s) {
        Ok(Value::Unknown { .. }) | Err(_) => as_text(),
        Ok(value) => encoded(ty, &value)
            .map(|b| (ty.clone(), b))
            .or_else(|_| as_text()),
    }
}

/// The first OID PostgreSQL gives to objects made after initdb (extensions, users' types).
const FIRST_NORMAL_OBJECT_ID: u32 = 16384;

/// Whether [`plausible_counts`] has anything to check in values of `ty`: arrays, and hstore
/// (an extension's type, so never of a builtin OID). Binary columns of other types skip the
/// check (`Columns::plain`).
pub(super) fn claims_counts(ty: &Type) -> bool {
    matches!(ty.kind(), Kind::Array(_))
        || (ty.oid() >= FIRST_NORMAL_OBJECT_ID && ty.name() == "hstore")
}

/// Checks the item counts postgres-types' decoders preallocate by — an array's element
/// count (the product of its dimensions), an hstore's entry count — against the bytes that
/// follow: every element takes at least its 4-byte length, every entry its two. Without
/// this, a few bytes claiming a billion items make `Vec<T>` or `HashMap` reserve for them.
fn plausible_counts(ty: &Type, raw: &[u8]) -> Result<(), String> {
    let int = |at: usize| {
        raw.get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (count, min_size, body) = match ty.kind() {
        Kind::Array(_) => {
            let Some(ndim) = int(0).and_then(|n| usize::try_from(n).ok()) else {
                return Ok(());
            };
            let body = 12 + 8 * ndim.min(raw.len());
            let count = (0..ndim).try_fold(1u64, |acc, d| {
                let len = u64::try_from(int(12 + 8 * d)?).ok()?;
                acc.checked_mul(len)
            });
            (count.filter(|_| ndim > 0), 4, body)
        }
        // hstore is an extension's type, so its OID is never a builtin's: the name is looked at
        // only for such types, keeping this off the path of every builtin column.
        _ if ty.oid() >= FIRST_NORMAL_OBJECT_ID && ty.name() == "hstore" => {
            (int(0).and_then(|n| u64::try_from(n).ok()), 8, 4)
        }
        _ => return Ok(()),
    };
    // Malformed headers are left to the decoder to report.
    let (Some(count), Some(rest)) = (count, raw.len().checked_sub(body)) else {
        return Ok(());
    };
    if count.saturating_mul(min_size) > rest as u64 {
        return Err(format!(
            "a header claiming {count} items in {rest} bytes cannot be read as a Rust value"
        ));
    }
    // An hstore[]'s elements are read into maps one by one.
    if let Kind::Array(element) = ty.kind()
        && element.name() == "hstore"
        && let Ok(array) = postgres_protocol::types::array_from_sql(raw)
    {
        let mut values = array.values();
        while let Ok(Some(value)) = fallible_iterator::FallibleIterator::next(&mut values) {
            value.map_or(Ok(()), |v| plausible_counts(element, v))?;
        }
    }
    Ok(())
}

impl Row {
    fn typed_source(&self, i: usize) -> Result<(&Type, Option<&[u8]>), Error> {
        let column = &self.columns[i];
        let held = match self.cell(i)? {
            Cell::Raw(raw) if !column.is_text() => return Ok((&column.type_, raw)),
            Cell::Raw(None) => return Ok((&column.type_, None)),
            Cell::Raw(Some(text)) => Err(text),
            Cell::Held(value) => Ok(value),
        };
        let cells = self
            .typed
            .get_or_init(|| (0..self.len()).map(|_| OnceLock::new()).collect());
        let source = cells[i].get_or_init(|| match held {
            Ok(value) => held_source(&column.type_, value),
            Err(text) => text_source(&column.type_, text),
        });
        match source {
            Ok((ty, bytes)) => Ok((ty, bytes.as_deref())),
            Err(e) => Err(e.clone()),
        }
    }

    /// The value of the column at `idx` (a position or a name) as a `T`, through
    /// postgres-types' [`FromSql`]: `i32`, `String`, `&str` (borrowed from the row),
    /// `Option<T>` for nullable columns, chrono types, [`Value`], users' own types, …
    ///
    /// Errors ([`ColumnError`](pg_exceptions::ColumnError), naming the column and its type): no such column, `T` does
    /// not accept the column's type, a NULL read as a non-`Option` type, a malformed value.
    #[inline]
    pub fn try_get<'a, T: FromSql<'a>>(&'a self, idx: impl RowIndex) -> Result<T, Error> {
        let i = self.position(&idx)?;
        // A binary value of a column whose type claims no counts goes to `FromSql` as it is;
        // anything else through its binary source, counts checked.
        let (ty, raw, check) = match self.plain_cell(i) {
            Some(raw) => (&self.columns[i].type_, raw, false),
            None => match self.typed_source(i) {
                Ok((ty, raw)) => (ty, raw, true),
                Err(e) => return Err(self.column_failed(i, e)),
            },
        };
        if !T::accepts(ty) {
            return Err(self.unreadable(i, type_name::<T>(), None));
        }
        if check
            && let Some(raw) = raw
            && let Err(message) = plausible_counts(ty, raw)
        {
            return Err(self.column_failed(i, type_io_error(message)));
        }
        // rust_decimal and chrono values from decoders of our own (a fraction of the work).
        if let Some(decoded) = crate::fast_decode::try_decode::<T>(ty, raw) {
            return decoded.map_err(|e| self.unreadable(i, type_name::<T>(), Some(&*e)));
        }
        match T::from_sql_nullable(ty, raw) {
            Ok(value) => Ok(value),
            Err(e) => Err(self.unreadable(i, type_name::<T>(), Some(&*e))),
        }
    }

    /// The bytes of column `i` when it is plain (`Columns::plain`) and the row holds bytes,
    /// not values: `Some(None)` for NULL; `None` otherwise.
    #[inline]
    fn plain_cell(&self, i: usize) -> Option<Option<&[u8]>> {
        if self.columns.plain(i) {
            self.raw_cell(i)
        } else {
            None
        }
    }

    /// Column `i`'s error for `cause`.
    #[cold]
    #[inline(never)]
    fn column_failed(&self, i: usize, cause: Error) -> Error {
        let column = &self.columns[i];
        column_error(&column.name, i, &column.type_, cause)
    }

    /// Column `i` cannot be read as `rust_type` (because of `cause`, if given).
    #[cold]
    #[inline(never)]
    fn unreadable(
        &self,
        i: usize,
        rust_type: &str,
        cause: Option<&(dyn std::error::Error + Sync + Send)>,
    ) -> Error {
        let message = match cause {
            None => format!("cannot be read as the Rust type {rust_type}"),
            Some(e) => format!("cannot be read as the Rust type {rust_type}: {e}"),
        };
        self.column_failed(i, type_io_error(message))
    }

    /// [`try_get`](Row::try_get) for when failure is a bug: the value of the column at
    /// `idx` as a `T`.
    ///
    /// # Panics
    ///
    /// When `try_get` fails: no such column, a type mismatch, an unexpected NULL, a
    /// malformed value. The message is the error's report, and the location is
    /// the caller's.
    #[track_caller]
    pub fn get<'a, T: FromSql<'a>>(&'a self, idx: impl RowIndex) -> T {
        match self.try_get(idx) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }
}
