//! Named parameters: values by name for statements written with psycopg2's `%(name)s` or with
//! `:name`, sent as the server's positional parameters.
//!
//! [`NamedQuery`] is the one mechanism every layer uses: it rewrites the statement with
//! [`pg_string::named_to_positional_with`], checks that every name has a value, and is itself
//! the [`Params`] of the rewritten statement, picking each `$n`'s value by its name. The values
//! never enter the SQL text.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use bytes::BytesMut;
use indexmap::IndexMap;
use pg_exceptions::{Error, ParameterError, field};
use pg_string::{PlaceholderError, PlaceholderStyle, Positional, named_to_positional_with};
use pg_types::Row;
use postgres_types::{IsNull, ToSql, Type};

use crate::Params;
use crate::params::{BoxError, format, to_sql};

/// Values by name, for a statement written with named placeholders (see [`NamedQuery`]).
///
/// Implemented for slices, arrays and `Vec`s of `(&str, &(dyn ToSql + Sync))` pairs (the first
/// pair of a name counts), for `HashMap`, `BTreeMap` and `IndexMap` from names (`String`,
/// `&str`, …) to any `ToSql` value — pg-session's `Record`, `IndexMap<String, Value>`,
/// included — and for a [`Row`], by column name.
///
/// ```
/// use pg_api::NamedParams;
/// use pg_types::Value;
/// use postgres_types::ToSql;
///
/// let pairs: &[(&str, &(dyn ToSql + Sync))] = &[("id", &7i32), ("note", &"it's")];
/// assert!(pairs.contains_name("note") && !pairs.contains_name("other"));
///
/// let mut map = std::collections::HashMap::new();
/// map.insert("id".to_string(), Value::Int4(7));
/// assert!(map.contains_name("id"));
/// ```
pub trait NamedParams {
    /// Whether there is a value named `name`.
    fn contains_name(&self, name: &str) -> bool;
    /// Encodes the value named `name` for the server type `ty`.
    fn encode(&self, name: &str, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError>;
    /// The format code (0 text, 1 binary) the value named `name` is encoded in for `ty`: as
    /// for [`Params::format`].
    fn format(&self, name: &str, ty: &Type) -> i16 {
        let _ = (name, ty);
        1
    }
    /// Writes the value named `name` as a log would show it: as for [`Params::fmt_value`].
    fn fmt_value(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let _ = name;
        f.write_str("?")
    }
}

fn no_value(name: &str) -> BoxError {
    format!("no value for the named parameter {name:?}").into()
}

impl<N: NamedParams + ?Sized> NamedParams for &N {
    fn contains_name(&self, name: &str) -> bool {
        (**self).contains_name(name)
    }
    fn encode(&self, name: &str, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        (**self).encode(name, ty, buf)
    }
    fn format(&self, name: &str, ty: &Type) -> i16 {
        (**self).format(name, ty)
    }
    fn fmt_value(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt_value(name, f)
    }
}

/// The value of the first pair named `name`.
fn pair<'a>(
    pairs: &[(&str, &'a (dyn ToSql + Sync))],
    name: &str,
) -> Option<&'a (dyn ToSql + Sync)> {
    pairs
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| *value)
}

impl NamedParams for [(&str, &(dyn ToSql + Sync))] {
    fn contains_name(&self, name: &str) -> bool {
        pair(self, name).is_some()
    }
    fn encode(&self, name: &str, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        to_sql(pair(self, name).ok_or_else(|| no_value(name))?, ty, buf)
    }
    fn format(&self, name: &str, ty: &Type) -> i16 {
        pair(self, name).map_or(1, |value| format(value, ty))
    }
    fn fmt_value(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match pair(self, name) {
            Some(value) => std::fmt::Debug::fmt(value, f),
            None => f.write_str("?"),
        }
    }
}

impl<const N: usize> NamedParams for [(&str, &(dyn ToSql + Sync)); N] {
    fn contains_name(&self, name: &str) -> bool {
        self.as_slice().contains_name(name)
    }
    fn encode(&self, name: &str, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.as_slice().encode(name, ty, buf)
    }
    fn format(&self, name: &str, ty: &Type) -> i16 {
        self.as_slice().format(name, ty)
    }
    fn fmt_value(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt_value(name, f)
    }
}

impl NamedParams for Vec<(&str, &(dyn ToSql + Sync))> {
    fn contains_name(&self, name: &str) -> bool {
        self.as_slice().contains_name(name)
    }
    fn encode(&self, name: &str, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.as_slice().encode(name, ty, buf)
    }
    fn format(&self, name: &str, ty: &Type) -> i16 {
        self.as_slice().format(name, ty)
    }
    fn fmt_value(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt_value(name, f)
    }
}

/// The `NamedParams` of a map from names to `ToSql` values, given its `get`.
macro_rules! map_params {
    ($map:ty, $($bounds:tt)*) => {
        impl<$($bounds)*> NamedParams for $map {
            fn contains_name(&self, name: &str) -> bool {
                self.get(name).is_some()
            }
            fn encode(&self, name: &str, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
                to_sql(self.get(name).ok_or_else(|| no_value(name))?, ty, buf)
            }
            fn format(&self, name: &str, ty: &Type) -> i16 {
                self.get(name).map_or(1, |value| format(value, ty))
            }
            fn fmt_value(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.get(name) {
                    Some(value) => std::fmt::Debug::fmt(value, f),
                    None => f.write_str("?"),
                }
            }
        }
    };
}

map_params!(HashMap<K, V, S>, K: Borrow<str> + Hash + Eq, V: ToSql, S: BuildHasher);
map_params!(BTreeMap<K, V>, K: Borrow<str> + Ord, V: ToSql);
map_params!(IndexMap<K, V, S>, K: Borrow<str> + Hash + Eq, V: ToSql, S: BuildHasher);

impl NamedParams for Row {
    fn contains_name(&self, name: &str) -> bool {
        self.index_from_key(name).is_some()
    }
    fn encode(&self, name: &str, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        let index = self.index_from_key(name).ok_or_else(|| no_value(name))?;
        Params::encode(self, index, ty, buf)
    }
    fn format(&self, name: &str, ty: &Type) -> i16 {
        self.index_from_key(name)
            .map_or(1, |index| Params::format(self, index, ty))
    }
    fn fmt_value(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index_from_key(name) {
            Some(index) => Params::fmt_value(self, index, f),
            None => f.write_str("?"),
        }
    }
}

/// A statement written with named placeholders, rewritten for the server, with its values: the
/// [`Params`] of [`sql`](NamedQuery::sql), `$n` taking the value of the `n`th name.
///
/// The rules of the rewriting (pyformat's `%(name)s` with `%%`, or `:name`; quotes and comments
/// left alone; a repeated name's one `$n`; no `$n` of the caller's) are
/// [`pg_string::named_to_positional`]'s. A name the statement uses and the values lack is an
/// error naming it; values the statement does not use are ignored, as psycopg2 ignores them.
/// Errors are [`ParameterError`]s (`--PIO`, a DB-API `ProgrammingError`) whose
/// [`cause`](Error::cause) is the [`PlaceholderError`], with the statement as written and the
/// error's position in it, so the report points at the placeholder.
///
/// ```
/// use pg_api::{NamedQuery, Params};
/// use pg_string::{PlaceholderError, PlaceholderErrorKind};
/// use postgres_types::ToSql;
///
/// let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &7i32), ("unused", &0i32)];
/// let query = NamedQuery::new("SELECT * FROM t WHERE id = %(id)s OR parent = %(id)s", values)?;
/// assert_eq!(query.sql(), "SELECT * FROM t WHERE id = $1 OR parent = $1");
/// assert_eq!(query.count(), 1);
///
/// let error = NamedQuery::new("SELECT :id, :name", values).err().unwrap();
/// let cause = error.cause().unwrap().downcast_ref::<PlaceholderError>().unwrap();
/// assert_eq!(cause.kind(), &PlaceholderErrorKind::MissingValue("name".into()));
/// assert!(format!("{error:#}").contains("SELECT :id, :name\n              ^"));
/// # Ok::<(), pg_api::Error>(())
/// ```
pub struct NamedQuery<'a, N: ?Sized> {
    positional: Positional,
    values: &'a N,
}

impl<'a, N: NamedParams + ?Sized> NamedQuery<'a, N> {
    /// Rewrites `sql` as a session with `standard_conforming_strings` on reads it (the server's
    /// default), and checks that `values` has a value for every name.
    pub fn new(sql: &str, values: &'a N) -> Result<NamedQuery<'a, N>, Error> {
        NamedQuery::with_strings(sql, values, true)
    }

    /// [`NamedQuery::new`] for a session whose `standard_conforming_strings` is
    /// `standard_conforming_strings` (off, a backslash escapes in `'…'` too).
    pub fn with_strings(
        sql: &str,
        values: &'a N,
        standard_conforming_strings: bool,
    ) -> Result<NamedQuery<'a, N>, Error> {
        let positional = named_to_positional_with(sql, standard_conforming_strings)
            .map_err(|e| placeholder_error(sql, e))?;
        positional
            .check_values(|name| values.contains_name(name))
            .map_err(|e| placeholder_error(sql, e))?;
        Ok(NamedQuery { positional, values })
    }

    /// The statement for the server, with `$1`, `$2`, … in place of the placeholders.
    pub fn sql(&self) -> &str {
        self.positional.sql()
    }

    /// The names, `$1`'s first.
    pub fn names(&self) -> &[String] {
        self.positional.names()
    }

    /// The style the placeholders were written in (`None` when there are none).
    pub fn style(&self) -> Option<PlaceholderStyle> {
        self.positional.style()
    }
}

impl<N: NamedParams + ?Sized> Params for NamedQuery<'_, N> {
    fn count(&self) -> usize {
        self.names().len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        let name = self
            .names()
            .get(index)
            .ok_or("parameter index out of range")?;
        self.values.encode(name, ty, buf)
    }
    fn format(&self, index: usize, ty: &Type) -> i16 {
        self.names()
            .get(index)
            .map_or(1, |name| self.values.format(name, ty))
    }
    fn fmt_value(&self, index: usize, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.names().get(index) {
            Some(name) => self.values.fmt_value(name, f),
            None => f.write_str("?"),
        }
    }
}

impl<N: ?Sized> std::fmt::Debug for NamedQuery<'_, N> {
    /// The rewritten statement and the names; never the values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedQuery")
            .field("sql", &self.positional.sql())
            .field("names", &self.positional.names())
            .finish_non_exhaustive()
    }
}

/// The project's error for a placeholder error in `sql`: the statement as written, and the
/// position (in characters, 1-based, as the server counts) of what the error is about.
fn placeholder_error(sql: &str, error: PlaceholderError) -> Error {
    let position = sql
        .get(..error.position())
        .map_or(0, |before| before.chars().count())
        + 1;
    Error::client(&ParameterError, error.to_string())
        .with_field(field::POSITION, position.to_string())
        .with_statement(sql)
        .with_cause(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pg_types::Value;
    use postgres_types::Type;

    fn encoded<P: Params>(params: &P, index: usize, ty: &Type) -> Vec<u8> {
        let mut buf = BytesMut::new();
        params.encode(index, ty, &mut buf).unwrap();
        buf.to_vec()
    }

    #[test]
    fn values_follow_the_names_order() {
        let values: &[(&str, &(dyn ToSql + Sync))] = &[("b", &2i32), ("a", &1i32), ("a", &9i32)];
        let query = NamedQuery::new("SELECT :a, :b, :a", values).unwrap();
        assert_eq!(query.count(), 2);
        assert_eq!(encoded(&query, 0, &Type::INT4), 1i32.to_be_bytes());
        assert_eq!(encoded(&query, 1, &Type::INT4), 2i32.to_be_bytes());
        assert!(query.encode(2, &Type::INT4, &mut BytesMut::new()).is_err());
    }

    #[test]
    fn every_kind_of_mapping() {
        let mut hash = HashMap::new();
        hash.insert("x", 5i64);
        let mut btree = BTreeMap::new();
        btree.insert("x".to_string(), Value::Int8(5));
        let mut index: IndexMap<String, Value> = IndexMap::new();
        index.insert("x".into(), Value::Int8(5));
        let array: [(&str, &(dyn ToSql + Sync)); 1] = [("x", &5i64)];
        let vec: Vec<(&str, &(dyn ToSql + Sync))> = vec![("x", &5i64)];
        let columns = pg_types::Columns::new(vec![pg_types::Column::new("x", Type::INT8)]);
        let row = Row::from_values(columns, vec![Value::Int8(5)]);
        let want = 5i64.to_be_bytes();
        // A row of held values, by position too (it has no bytes to pass on as they came).
        assert_eq!(encoded(&row, 0, &Type::INT8), want);
        let sql = "SELECT %(x)s";
        assert_eq!(
            encoded(&NamedQuery::new(sql, &hash).unwrap(), 0, &Type::INT8),
            want
        );
        assert_eq!(
            encoded(&NamedQuery::new(sql, &btree).unwrap(), 0, &Type::INT8),
            want
        );
        assert_eq!(
            encoded(&NamedQuery::new(sql, &index).unwrap(), 0, &Type::INT8),
            want
        );
        assert_eq!(
            encoded(&NamedQuery::new(sql, &array).unwrap(), 0, &Type::INT8),
            want
        );
        assert_eq!(
            encoded(&NamedQuery::new(sql, &vec).unwrap(), 0, &Type::INT8),
            want
        );
        assert_eq!(
            encoded(&NamedQuery::new(sql, &row).unwrap(), 0, &Type::INT8),
            want
        );
        for missing in [
            NamedQuery::new("SELECT :y", &hash).err(),
            NamedQuery::new("SELECT :y", &row).err(),
            NamedQuery::new("SELECT :y", &vec).err(),
        ] {
            let error = missing.expect("y is missing");
            assert!(error.is_a(&ParameterError));
            assert_eq!(
                error.message(),
                "no value for the named parameter \"y\" at byte 7"
            );
            assert_eq!(error.position(), Some(8));
            assert_eq!(error.statement(), Some("SELECT :y"));
        }
    }

    #[test]
    fn errors_point_at_characters() {
        let values: &[(&str, &(dyn ToSql + Sync))] = &[];
        let error = NamedQuery::new("SELECT 'é', %(a)s, :b", values).unwrap_err();
        // `:b` is byte 20 and character 20: the server's positions count characters from 1.
        assert_eq!(error.position(), Some(20));
        let cause = error.cause().unwrap().downcast_ref::<PlaceholderError>();
        assert_eq!(cause.unwrap().position(), 20);
    }

    #[test]
    fn debug_shows_no_values() {
        let values: &[(&str, &(dyn ToSql + Sync))] = &[("secret", &"hunter2")];
        let query = NamedQuery::new("SELECT :secret", values).unwrap();
        let shown = format!("{query:?}");
        assert!(
            shown.contains("SELECT $1") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
