//! Rows into Rust types: the [`FromRow`] forms of the execution methods (`query_as`,
//! `call_as`, `first_as`, `rows_as`, …) and of a cursor's reads (`read_as`, `next_as`).
//!
//! Each runs as its untyped sibling does and reads every row with `T::from_row`; the first
//! row that cannot be read fails the call with its [`ColumnError`](pg_exceptions::ColumnError)
//! (naming the field, the column and the types), in the statement's context.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use pg_exceptions::Error;
use pg_types::{FromRow, Row};

use crate::{Connection, Cursor, Direction, NamedParams, Params, RowStream, Statement};

/// Every row read as a `T`; a failure in `statement`'s context.
pub(crate) fn rows_into<T: FromRow>(rows: &[Row], statement: &str) -> Result<Vec<T>, Error> {
    rows.iter()
        .map(|row| T::from_row(row).map_err(|e| e.with_statement(statement)))
        .collect()
}

impl Connection {
    /// Runs `sql` once with `params` and reads every row as a `T` ([`Connection::query`]'s
    /// typed sibling): `db.query_as::<User, _>("SELECT * FROM users", ())`.
    pub async fn query_as<T: FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>, Error> {
        self.prepare_once(sql).await?.call_as(params).await
    }

    /// The first row of `sql` as a `T`, or `None` when it returns no row (only that row is
    /// fetched).
    pub async fn query_first_as<T: FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Option<T>, Error> {
        self.prepare_once(sql).await?.first_as(params).await
    }

    /// The rows of `sql`, streamed, each read as a `T` as it is pulled.
    pub async fn query_rows_as<T: FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<TypedRowStream<T>, Error> {
        self.prepare_once(sql).await?.rows_as(params)
    }

    /// Runs `sql` through the statement cache ([`Connection::query_cached`]) and reads every
    /// row as a `T`.
    pub async fn query_cached_as<T: FromRow, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>, Error> {
        let results = self.query_cached(sql, params).await?;
        rows_into(&results.rows, sql)
    }

    /// Runs `sql`, written with named placeholders (`%(name)s` or `:name`), once with
    /// `values` by name ([`Connection::query_named`]) and reads every row as a `T`.
    pub async fn query_named_as<T: FromRow, N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Vec<T>, Error> {
        let query = self.named_query(sql, values)?;
        self.query_as(query.sql(), &query).await
    }
}

impl Statement {
    /// Runs the statement to its end and reads every row as a `T` ([`Statement::call`]'s
    /// typed sibling).
    pub async fn call_as<T: FromRow, P: Params>(&self, params: P) -> Result<Vec<T>, Error> {
        let results = self.call(params).await?;
        rows_into(&results.rows, self.string())
    }

    /// The first row as a `T`, or `None` when there is none; only that row is fetched.
    pub async fn first_as<T: FromRow, P: Params>(&self, params: P) -> Result<Option<T>, Error> {
        let (rows, _) = self.call_limited(params, 1).await?;
        match rows.first() {
            Some(row) => T::from_row(row)
                .map(Some)
                .map_err(|e| e.with_statement(self.string())),
            None => Ok(None),
        }
    }

    /// The rows, read from the socket as they are pulled and each read as a `T`; queued as
    /// [`Statement::rows`] says. A row that cannot be read is an error item; the stream goes
    /// on to the next.
    pub fn rows_as<T: FromRow, P: Params>(&self, params: P) -> Result<TypedRowStream<T>, Error> {
        Ok(TypedRowStream {
            rows: self.rows(params)?,
            statement: self.string().into(),
            _rows: PhantomData,
        })
    }
}

impl Cursor {
    /// Reads up to `quantity` rows as [`Cursor::read`] does, each as a `T`. A row that does
    /// not fit fails the call, in the cursor's context; the cursor has moved past the rows
    /// read all the same.
    pub async fn read_as<T: FromRow>(
        &self,
        quantity: Option<u64>,
        direction: Option<Direction>,
    ) -> Result<Vec<T>, Error> {
        let rows = self.read(quantity, direction).await?;
        rows.iter()
            .map(|row| T::from_row(row).map_err(|e| self.fail(e)))
            .collect()
    }

    /// The next row in the cursor's direction as a `T`, or None at the end.
    pub async fn next_as<T: FromRow>(&self) -> Result<Option<T>, Error> {
        match self.next().await? {
            Some(row) => T::from_row(&row).map(Some).map_err(|e| self.fail(e)),
            None => Ok(None),
        }
    }
}

/// The rows of an execution, each read as a `T` ([`FromRow`]) as it is pulled.
pub struct TypedRowStream<T> {
    rows: RowStream,
    statement: std::sync::Arc<str>,
    /// `fn() -> T`: the stream makes `T`s, it holds none (so it is `Send` and `Unpin`
    /// whatever `T` is).
    _rows: PhantomData<fn() -> T>,
}

impl<T: FromRow> Stream for TypedRowStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match Pin::new(&mut this.rows).poll_next(cx) {
            Poll::Ready(Some(Ok(row))) => Poll::Ready(Some(
                T::from_row(&row).map_err(|e| e.with_statement(&*this.statement)),
            )),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> std::fmt::Debug for TypedRowStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedRowStream")
    }
}
