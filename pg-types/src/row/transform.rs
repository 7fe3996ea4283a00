//! `Row::transform`: a new row with some values replaced through functions.

use pg_exceptions::{ColumnError, Error};

use super::Row;
use crate::Value;

/// A boxed value transformation, for building [`Row::transform`]'s argument:
/// `vec![None, Some(Box::new(f) as ValueFn)]`.
pub type ValueFn = Box<dyn Fn(Value) -> Value + Send + Sync>;

impl Row {
    /// A new row whose value at position `i` is `fns[i]` applied to this row's value
    /// (`None`: unchanged), with the same columns: py-postgresql's
    /// `row.transform(f1, None, f3)`. More functions than columns is an error.
    ///
    /// ```
    /// use pg_types::{Column, Columns, Row, Value};
    /// use postgres_types::Type;
    ///
    /// let columns = Columns::new(vec![Column::new("a", Type::INT4), Column::new("b", Type::TEXT)]);
    /// let row = Row::from_values(columns, vec![Value::Int4(2), Value::from("x")]);
    /// let double = |v: Value| Value::Int4(v.as_i32().unwrap_or(0) * 2);
    /// let row = row.transform(&[Some(&double as &dyn Fn(Value) -> Value), None]).unwrap();
    /// assert!(row == (4, "x"));
    /// ```
    pub fn transform<F: Fn(Value) -> Value>(&self, fns: &[Option<F>]) -> Result<Row, Error> {
        if fns.len() > self.len() {
            return Err(Error::client(
                &ColumnError,
                format!(
                    "{} transformations for a row of {} columns",
                    fns.len(),
                    self.len()
                ),
            ));
        }
        let mut values = self.values()?;
        for (value, f) in values.iter_mut().zip(fns) {
            if let Some(f) = f {
                *value = f(std::mem::replace(value, Value::Null));
            }
        }
        Ok(Row::from_values(self.columns.clone(), values))
    }

    /// A new row with the values of the named columns passed through their functions
    /// (py-postgresql's `row.transform(name=f)`); an unknown name is an error. A name
    /// denotes its first column.
    pub fn transform_named<F: Fn(Value) -> Value>(&self, fns: &[(&str, F)]) -> Result<Row, Error> {
        let mut values = self.values()?;
        for (name, f) in fns {
            let i = self.position(name)?;
            values[i] = f(std::mem::replace(&mut values[i], Value::Null));
        }
        Ok(Row::from_values(self.columns.clone(), values))
    }
}
