//! Rows into Rust types in the blocking facade (see [`crate::Connection::query_as`] and
//! [`crate::Cursor::read_as`]).

use std::marker::PhantomData;
use std::sync::Arc;

use pg_api::NamedParams;
use pg_exceptions::Error;
use pg_types::FromRow;

use super::Connection;
use super::cursor::Cursor;
use super::statement::{Rows, Statement};
use crate::{Direction, Params};

impl Connection {
    /// Runs `sql` once with `params` and reads every row as a `T` (see
    /// [`crate::Connection::query_as`]).
    pub fn query_as<T: FromRow, P: Params>(&self, sql: &str, params: P) -> Result<Vec<T>, Error> {
        self.block_on(self.as_async().query_as::<T, P>(sql, params))?
    }

    /// The first row of `sql` as a `T`, or `None` when it returns no row.
    pub fn query_first_as<T: FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Option<T>, Error> {
        self.block_on(self.as_async().query_first_as::<T, P>(sql, params))?
    }

    /// The rows of `sql`, each read as a `T` as the iterator is pulled.
    pub fn query_rows_as<T: FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<TypedRows<T>, Error> {
        Ok(TypedRows::new(self.query_rows(sql, params)?, sql))
    }

    /// Runs `sql` through the statement cache and reads every row as a `T` (see
    /// [`crate::Connection::query_cached_as`]).
    pub fn query_cached_as<T: FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>, Error> {
        self.block_on(self.as_async().query_cached_as::<T, P>(sql, params))?
    }

    /// Runs `sql` with named placeholders once with `values` by name and reads every row as
    /// a `T` (see [`crate::Connection::query_named_as`]).
    pub fn query_named_as<T: FromRow, N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Vec<T>, Error> {
        let query = self.named_query(sql, values)?;
        self.query_as(query.sql(), &query)
    }
}

impl Statement {
    /// Runs the statement to its end and reads every row as a `T`.
    pub fn call_as<T: FromRow, P: Params>(&self, params: P) -> Result<Vec<T>, Error> {
        self.connection()
            .block_on(self.as_async().call_as::<T, P>(params))?
    }

    /// The first row as a `T`, or `None` when there is none; only that row is fetched.
    pub fn first_as<T: FromRow, P: Params>(&self, params: P) -> Result<Option<T>, Error> {
        self.connection()
            .block_on(self.as_async().first_as::<T, P>(params))?
    }

    /// The rows, each read as a `T` as the iterator is pulled.
    pub fn rows_as<T: FromRow, P: Params>(&self, params: P) -> Result<TypedRows<T>, Error> {
        Ok(TypedRows::new(self.rows(params)?, self.string()))
    }
}

impl Cursor {
    /// Reads up to `quantity` rows, each as a `T`; see [`crate::Cursor::read_as`].
    pub fn read_as<T: FromRow>(
        &self,
        quantity: Option<u64>,
        direction: Option<Direction>,
    ) -> Result<Vec<T>, Error> {
        let rows = self.read(quantity, direction)?;
        rows.iter()
            .map(|row| T::from_row(row).map_err(|e| self.as_async().fail(e)))
            .collect()
    }

    /// The next row in the cursor's direction as a `T`, or None at the end.
    pub fn next_as<T: FromRow>(&self) -> Result<Option<T>, Error> {
        match self.next_row()? {
            Some(row) => T::from_row(&row)
                .map(Some)
                .map_err(|e| self.as_async().fail(e)),
            None => Ok(None),
        }
    }
}

/// The rows of an execution, each read as a `T` ([`FromRow`]) as the iterator is pulled; a
/// row that cannot be read is an error item, and the iterator goes on to the next.
pub struct TypedRows<T> {
    rows: Rows,
    statement: Arc<str>,
    _rows: PhantomData<fn() -> T>,
}

impl<T> TypedRows<T> {
    fn new(rows: Rows, statement: &str) -> TypedRows<T> {
        TypedRows {
            rows,
            statement: statement.into(),
            _rows: PhantomData,
        }
    }
}

impl<T: FromRow> Iterator for TypedRows<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let row = self.rows.next()?;
        Some(row.and_then(|row| T::from_row(&row).map_err(|e| e.with_statement(&*self.statement))))
    }
}

impl<T> std::fmt::Debug for TypedRows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedRows")
    }
}
