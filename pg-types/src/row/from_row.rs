//! [`FromRow`]: Rust values made from a whole row — structs by `#[derive(FromRow)]`, tuples
//! by position, and [`Row`] itself.

use std::fmt::Display;

use pg_exceptions::{ColumnError, Error, field};
use postgres_types::FromSqlOwned;

use super::{Row, RowIndex};

/// A Rust value made from one result row.
///
/// Derive it for a struct with `#[derive(FromRow)]` (re-exported here, by pg-driver and by
/// the `postgresql` facade; see the `pg-derive` crate for the attributes): each field is read
/// by its column's name through [`Row::try_get`], so any postgres-types
/// [`FromSql`](postgres_types::FromSql) type — `Option<T>` for a nullable column, a user's
/// own type — can be a field. Tuples of up to twelve `FromSql` values read columns by
/// position, and [`Row`] is itself a `FromRow` (a clone of the row).
///
/// Values are owned: a field cannot borrow from the row (read `&str` columns into `String`).
///
/// Errors are [`ColumnError`]s: a column the row lacks, a column whose SQL type the field
/// cannot take, an unexpected NULL, a failed `try_from` conversion. A derived struct's
/// errors name the struct, the field and its Rust type, and carry the column's name as
/// their [`column`](Error::column) and its SQL type as their [`datatype`](Error::datatype);
/// the error [`Row::try_get`] gave is their cause.
///
/// ```
/// use pg_types::{Column, Columns, FromRow, Row, Value};
/// use postgres_types::Type;
///
/// #[derive(FromRow, Debug, PartialEq)]
/// struct Item {
///     id: i32,
///     #[pg(rename = "label")]
///     name: String,
///     note: Option<String>,
/// }
///
/// let columns = Columns::new(vec![
///     Column::new("id", Type::INT4),
///     Column::new("label", Type::TEXT),
///     Column::new("note", Type::TEXT),
/// ]);
/// let row = Row::from_values(columns, vec![Value::Int4(7), Value::from("seven"), Value::Null]);
/// let item = Item::from_row(&row).unwrap();
/// assert_eq!(item, Item { id: 7, name: "seven".into(), note: None });
/// assert_eq!(<(i32, String)>::from_row(&row).unwrap(), (7, "seven".to_string()));
/// ```
pub trait FromRow: Sized {
    /// Reads `row` into a new value.
    fn from_row(row: &Row) -> Result<Self, Error>;
}

impl FromRow for Row {
    /// The row itself (rows are cheap to clone: the body and the columns are shared).
    fn from_row(row: &Row) -> Result<Row, Error> {
        Ok(row.clone())
    }
}

macro_rules! tuple_from_row {
    ($($name:ident $index:tt),+) => {
        impl<$($name: FromSqlOwned),+> FromRow for ($($name,)+) {
            /// The row's first columns, by position (more columns than the tuple's are
            /// left unread; fewer are an error naming the missing position).
            fn from_row(row: &Row) -> Result<Self, Error> {
                Ok(($(row.try_get::<$name>($index)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// What the code `#[derive(FromRow)]` generates calls: not a public interface.
#[doc(hidden)]
pub mod derive_support {
    use super::*;

    pub use pg_exceptions::Error;
    pub use postgres_types::FromSqlOwned;

    /// Field `field` (of Rust type `rust_type`) of struct `target`, read from `column`.
    pub fn field<T: FromSqlOwned, I: RowIndex>(
        row: &Row,
        target: &str,
        field: &str,
        rust_type: &str,
        column: I,
    ) -> Result<T, Error> {
        row.try_get::<T>(&column)
            .map_err(|cause| field_error(row, target, field, rust_type, &column, cause))
    }

    /// [`field`], or `T::default()` when the row has no such column (`#[pg(default)]`).
    pub fn field_or_default<T: FromSqlOwned + Default, I: RowIndex>(
        row: &Row,
        target: &str,
        field_name: &str,
        rust_type: &str,
        column: I,
    ) -> Result<T, Error> {
        match row.column(&column) {
            None => Ok(T::default()),
            Some(_) => field(row, target, field_name, rust_type, column),
        }
    }

    /// Field `field`, read from `column` as an `S` and converted with `T::try_from`
    /// (`#[pg(try_from = "S")]`); `default`, a missing column gives `T::default()`.
    pub fn field_try_from<S, T, I>(
        row: &Row,
        target: &str,
        field_name: &str,
        rust_type: &str,
        source_type: &str,
        column: I,
    ) -> Result<T, Error>
    where
        S: FromSqlOwned,
        T: TryFrom<S>,
        T::Error: Display,
        I: RowIndex,
    {
        let source: S = row.try_get::<S>(&column).map_err(|cause| {
            field_error(
                row,
                target,
                field_name,
                &format!("{rust_type} from {source_type}"),
                &column,
                cause,
            )
        })?;
        T::try_from(source).map_err(|e| {
            let (name, sql_type) = column.describe(row);
            let sql_type = sql_type.unwrap_or_default();
            let cause = Error::client(
                &ColumnError,
                format!(
                    "column {name:?} of type {sql_type}: the {source_type} value cannot be \
                     converted to {rust_type}: {e}"
                ),
            );
            field_error(row, target, field_name, rust_type, &column, cause)
        })
    }

    /// [`field_try_from`], or `T::default()` when the row has no such column.
    pub fn field_try_from_or_default<S, T, I>(
        row: &Row,
        target: &str,
        field_name: &str,
        rust_type: &str,
        source_type: &str,
        column: I,
    ) -> Result<T, Error>
    where
        S: FromSqlOwned,
        T: TryFrom<S> + Default,
        T::Error: Display,
        I: RowIndex,
    {
        match row.column(&column) {
            None => Ok(T::default()),
            Some(_) => {
                field_try_from::<S, T, I>(row, target, field_name, rust_type, source_type, column)
            }
        }
    }

    /// A `#[pg(flatten)]` field: a `T` read from the same row; its error names the outer
    /// field too.
    pub fn flatten<T: FromRow>(
        row: &Row,
        target: &str,
        field_name: &str,
        rust_type: &str,
    ) -> Result<T, Error> {
        T::from_row(row).map_err(|cause| {
            let mut error = Error::client(
                &ColumnError,
                format!(
                    "{target}.{field_name} ({rust_type}, flattened): {}",
                    cause.message()
                ),
            );
            for kind in [field::COLUMN, field::DATATYPE] {
                if let Some(value) = cause.field(kind) {
                    error = error.with_field(kind, value);
                }
            }
            error.with_cause(cause)
        })
    }

    /// The error of field `field` of `target`, read from `column`: the cause's message
    /// after the field's name and type; the column's name and SQL type as fields.
    #[cold]
    #[inline(never)]
    fn field_error(
        row: &Row,
        target: &str,
        field: &str,
        rust_type: &str,
        column: &dyn ColumnName,
        cause: Error,
    ) -> Error {
        let message = format!("{target}.{field} ({rust_type}): {}", cause.message());
        let mut error = Error::client(&ColumnError, message);
        let described = column.describe(row);
        error = error.with_field(field::COLUMN, described.0);
        if let Some(ty) = described.1 {
            error = error.with_field(field::DATATYPE, ty);
        }
        error.with_cause(cause)
    }

    /// A column index the error can name.
    trait ColumnName {
        /// The column's name (as asked for, when the row lacks it) and its SQL type's.
        fn describe(&self, row: &Row) -> (String, Option<String>);
    }

    impl<I: RowIndex> ColumnName for I {
        fn describe(&self, row: &Row) -> (String, Option<String>) {
            match row.column(self) {
                Some(column) => (
                    column.name.to_string(),
                    Some(column.type_.name().to_owned()),
                ),
                None => (self.to_string(), None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The derive inside pg-types itself (`extern crate self as pg_types`), on held rows.

    use postgres_types::Type;

    use crate::{Column, Columns, FromRow, Row, Value};

    fn row(columns: &[(&str, Type)], values: Vec<Value>) -> Row {
        let columns = columns
            .iter()
            .map(|(name, ty)| Column::new(*name, ty.clone()))
            .collect();
        Row::from_values(Columns::new(columns), values)
    }

    #[derive(FromRow, Debug, PartialEq)]
    struct Counted {
        #[pg(rename = "n", default, try_from = "i64")]
        count: u32,
    }

    #[derive(FromRow, Debug, PartialEq)]
    struct Page<T> {
        total: i64,
        #[pg(flatten)]
        first: T,
    }

    #[test]
    fn default_and_try_from_together() {
        let empty = row(&[("other", Type::INT4)], vec![Value::Int4(1)]);
        assert_eq!(Counted::from_row(&empty).unwrap(), Counted { count: 0 });
        let five = row(&[("n", Type::INT8)], vec![Value::Int8(5)]);
        assert_eq!(Counted::from_row(&five).unwrap(), Counted { count: 5 });
        // There, but NULL: not a missing column.
        let null = row(&[("n", Type::INT8)], vec![Value::Null]);
        let error = Counted::from_row(&null).unwrap_err();
        assert!(
            error
                .message()
                .starts_with("Counted.count (u32 from i64): "),
            "{error}"
        );
        let negative = row(&[("n", Type::INT8)], vec![Value::Int8(-1)]);
        let error = Counted::from_row(&negative).unwrap_err();
        assert!(
            error.message().starts_with(
                "Counted.count (u32): column \"n\" of type int8: the i64 value cannot be \
                 converted to u32"
            ),
            "{error}"
        );
        assert_eq!(error.column(), Some("n"));
        assert_eq!(error.datatype(), Some("int8"));
        assert!(error.cause().is_some());
    }

    #[test]
    fn a_generic_struct_flattens_its_parameter() {
        let both = row(
            &[("total", Type::INT8), ("n", Type::INT8)],
            vec![Value::Int8(10), Value::Int8(3)],
        );
        let page = Page::<Counted>::from_row(&both).unwrap();
        assert_eq!(
            page,
            Page {
                total: 10,
                first: Counted { count: 3 }
            }
        );
        let page = Page::<(i64, i64)>::from_row(&both).unwrap();
        assert_eq!(page.first, (10, 3));
    }

    #[test]
    fn tuples_read_by_position() {
        let pair = row(
            &[("a", Type::INT4), ("b", Type::TEXT)],
            vec![Value::Int4(1), Value::from("x")],
        );
        assert_eq!(<(i32,)>::from_row(&pair).unwrap(), (1,));
        assert_eq!(
            <(i32, String)>::from_row(&pair).unwrap(),
            (1, "x".to_string())
        );
        let error = <(i32, String, bool)>::from_row(&pair).unwrap_err();
        assert!(error.is_a(&pg_exceptions::ColumnError), "{error}");
        assert!(error.message().contains("no column 2"), "{error}");
        assert_eq!(Row::from_row(&pair).unwrap(), pair);
    }
}
