//! Blocking statements and their row iterators.

use std::sync::Arc;

use futures::StreamExt;
use pg_exceptions::Error;
use pg_types::{Row, Value};
use postgres_types::Type;

use super::{Connection, Host};
use crate::{First, FromFirst, Params, Results};

/// The blocking form of [`crate::Statement`].
#[derive(Clone, Debug)]
pub struct Statement {
    ps: crate::Statement,
    pub(super) conn: Connection,
}

impl Connection {
    /// Prepares a statement on the server.
    pub fn prepare(&self, sql: &str) -> Result<Statement, Error> {
        let ps = self.block_on(self.as_async().prepare(sql))??;
        Ok(Statement {
            ps,
            conn: self.clone(),
        })
    }

    /// A statement for one execution of the query interface (see
    /// [`crate::Connection::query`]).
    fn prepare_once(&self, sql: &str) -> Result<Statement, Error> {
        let ps = self.block_on(self.as_async().prepare_once(sql))??;
        Ok(Statement {
            ps,
            conn: self.clone(),
        })
    }

    /// A statement from the session's statement cache: see
    /// [`crate::Connection::prepare_cached`].
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement, Error> {
        let ps = self.block_on(self.as_async().prepare_cached(sql))??;
        Ok(Statement {
            ps,
            conn: self.clone(),
        })
    }

    /// Runs `sql` through the statement cache: see [`crate::Connection::query_cached`].
    pub fn query_cached<P: Params>(&self, sql: &str, params: P) -> Result<Results, Error> {
        self.block_on(self.as_async().query_cached(sql, params))?
    }

    /// Drops `sql` from the statement cache: see [`crate::Connection::uncache`].
    pub fn uncache(&self, sql: &str) {
        self.as_async().uncache(sql)
    }

    /// How many statements the statement cache holds.
    pub fn cached_statements(&self) -> usize {
        self.as_async().cached_statements()
    }

    /// Runs `sql` once with `params` (a single-use statement).
    pub fn query<P: Params>(&self, sql: &str, params: P) -> Result<Results, Error> {
        self.prepare_once(sql)?.call(params)
    }

    /// The first result of `sql`, by py-postgresql's rules or typed.
    pub fn query_first<T: FromFirst, P: Params>(&self, sql: &str, params: P) -> Result<T, Error> {
        self.prepare_once(sql)?.first::<T, P>(params)
    }

    /// The rows of `sql`, read as the iterator is pulled.
    pub fn query_rows<P: Params>(&self, sql: &str, params: P) -> Result<Rows, Error> {
        self.prepare_once(sql)?.rows(params)
    }

    /// The rows of `sql` in batches.
    pub fn query_chunks<P: Params>(&self, sql: &str, params: P) -> Result<Chunks, Error> {
        self.prepare_once(sql)?.chunks(params)
    }

    /// The first column of the rows of `sql`.
    pub fn query_column<P: Params>(&self, sql: &str, params: P) -> Result<Column, Error> {
        self.prepare_once(sql)?.column(params)
    }

    /// Runs `sql` for every parameter set, pipelined.
    pub fn query_load_rows<I>(&self, sql: &str, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: Params,
    {
        self.prepare(sql)?.load_rows(rows)
    }

    /// Loads rows of values into a table through binary COPY (see
    /// [`crate::Connection::copy_in_values`]).
    pub fn copy_in_values<I>(&self, table: &str, columns: &[&str], rows: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: Params,
    {
        self.block_on(self.as_async().copy_in_values(table, columns, rows))?
    }

    /// Opens a statement prepared in SQL by its name; never closed implicitly.
    pub fn statement_from_id(&self, name: &str) -> Result<Statement, Error> {
        let ps = self.block_on(self.as_async().statement_from_id(name))??;
        Ok(Statement {
            ps,
            conn: self.clone(),
        })
    }
}

impl Statement {
    /// The blocking handle on `ps`, a statement of `conn`'s session.
    pub(crate) fn wrap(ps: crate::Statement, conn: Connection) -> Statement {
        Statement { ps, conn }
    }

    /// The async statement underneath.
    pub fn as_async(&self) -> &crate::Statement {
        &self.ps
    }

    /// The connection the statement belongs to.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Sets (or removes) the statement's message hook; see [`crate::Statement::set_message_hook`].
    pub fn set_message_hook(&self, hook: Option<crate::MessageHook>) {
        self.as_async().set_message_hook(hook);
    }

    /// Runs the statement to its end: every row and the command tag.
    pub fn call<P: Params>(&self, params: P) -> Result<Results, Error> {
        self.conn.block_on(self.ps.call(params))?
    }

    /// The first result by py-postgresql's rules ([`First`]), or typed: `first::<i64>()`.
    pub fn first<T: FromFirst, P: Params>(&self, params: P) -> Result<T, Error> {
        self.conn.block_on(self.ps.first::<T, P>(params))?
    }

    /// The first result by py-postgresql's rules.
    pub fn first_value<P: Params>(&self, params: P) -> Result<First, Error> {
        self.first::<First, P>(params)
    }

    /// The rows, read as the iterator is pulled.
    pub fn rows<P: Params>(&self, params: P) -> Result<Rows, Error> {
        Ok(Rows {
            stream: self.ps.rows(params)?,
            host: self.conn.host.clone(),
        })
    }

    /// The rows in batches.
    pub fn chunks<P: Params>(&self, params: P) -> Result<Chunks, Error> {
        Ok(Chunks {
            stream: self.ps.chunks(params)?,
            host: self.conn.host.clone(),
        })
    }

    /// The first column of each row.
    pub fn column<P: Params>(&self, params: P) -> Result<Column, Error> {
        Ok(Column {
            stream: self.ps.column(params)?,
            host: self.conn.host.clone(),
        })
    }

    /// Executes the statement for every parameter set, pipelined; all or nothing outside a
    /// transaction block. An error names the row it happened at (see
    /// [`crate::Statement::load_rows`] and [`crate::failed_row`]).
    pub fn load_rows<I>(&self, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: Params,
    {
        // The rows are taken on this thread, outside the runtime: they may be another blocking
        // connection's.
        let rows = rows.into_iter().map(Ok);
        super::feed::pump(&self.conn, rows, |feed| self.ps.load_stream(feed))?
    }

    /// Like [`Statement::load_rows`], from parameter sets that may fail, as another
    /// connection's [`Statement::rows`] gives them (`dst.load_stream(src.rows(())?)`, a
    /// [`Row`] being a parameter set): the first error stops the load, nothing of it
    /// commits (outside a transaction block), and that error is returned. See
    /// [`crate::Statement::load_stream`].
    pub fn load_stream<I, P>(&self, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator<Item = Result<P, Error>>,
        P: Params,
    {
        super::feed::pump(&self.conn, rows, |feed| self.ps.load_stream(feed))?
    }

    /// Like [`Statement::load_stream`], in batches, as another connection's
    /// [`Statement::chunks`] gives them (`dst.load_chunk_stream(src.chunks(())?)`).
    pub fn load_chunk_stream<I, C>(&self, chunks: I) -> Result<u64, Error>
    where
        I: IntoIterator<Item = Result<C, Error>>,
        C: IntoIterator,
        C::Item: Params,
    {
        let rows = chunks.into_iter().flat_map(|chunk| {
            let rows: Box<dyn Iterator<Item = Result<C::Item, Error>>> = match chunk {
                Ok(chunk) => Box::new(chunk.into_iter().map(Ok)),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            rows
        });
        self.load_stream(rows)
    }

    /// Like [`Statement::load_rows`], in batches.
    pub fn load_chunks<I>(&self, chunks: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: IntoIterator,
        <I::Item as IntoIterator>::Item: Params,
    {
        self.load_rows(chunks.into_iter().flatten())
    }

    /// The output of a `COPY … TO STDOUT` statement, piece by piece.
    pub fn copy_rows<P: Params>(&self, params: P) -> Result<CopyRows, Error> {
        Ok(CopyRows {
            stream: self.ps.copy_rows(params)?,
            host: self.conn.host.clone(),
        })
    }

    /// Feeds a `COPY … FROM STDIN` statement from pieces that may fail: a failure sends
    /// CopyFail and the COPY is undone.
    pub fn copy_in<P, I, B, E>(&self, params: P, source: I) -> Result<u64, Error>
    where
        P: Params,
        I: IntoIterator<Item = Result<B, E>>,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        self.conn
            .block_on(self.ps.copy_in(params, futures::stream::iter(source)))?
    }

    /// Feeds a `COPY … FROM STDIN` statement from byte lines.
    pub fn copy_in_rows<I>(&self, lines: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.conn.block_on(self.ps.copy_in_rows(lines))?
    }

    /// Feeds a `COPY … FROM STDIN` statement from batches of byte lines.
    pub fn copy_in_chunks<I>(&self, chunks: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: IntoIterator,
        <I::Item as IntoIterator>::Item: AsRef<[u8]>,
    {
        self.conn.block_on(self.ps.copy_in_chunks(chunks))?
    }

    /// Closes the statement on the server now; later use is a StatementNameError. Closing it
    /// again, or once its connection is closed, does nothing (see [`crate::Statement::close`]).
    pub fn close(&self) -> Result<(), Error> {
        self.conn.block_on(self.ps.close())?
    }

    /// Prepares the same SQL again as a new statement.
    pub fn clone_statement(&self) -> Result<Statement, Error> {
        self.conn.prepare(self.ps.string())
    }

    /// The statement's server-side name.
    pub fn statement_id(&self) -> &str {
        self.ps.statement_id()
    }

    /// The SQL text.
    pub fn string(&self) -> &str {
        self.ps.string()
    }

    /// The result column names.
    pub fn column_names(&self) -> Vec<String> {
        self.ps.column_names()
    }

    /// The result column types.
    pub fn column_types(&self) -> Vec<Type> {
        self.ps.column_types()
    }

    /// The result column type OIDs.
    pub fn pg_column_types(&self) -> Vec<u32> {
        self.ps.pg_column_types()
    }

    /// The result column types by SQL name.
    pub fn sql_column_types(&self) -> Vec<String> {
        self.ps.sql_column_types()
    }

    /// The parameter types.
    pub fn parameter_types(&self) -> Vec<Type> {
        self.ps.parameter_types()
    }

    /// The parameter type OIDs.
    pub fn pg_parameter_types(&self) -> Vec<u32> {
        self.ps.pg_parameter_types()
    }

    /// The parameter types by SQL name.
    pub fn sql_parameter_types(&self) -> Vec<String> {
        self.ps.sql_parameter_types()
    }
}

macro_rules! blocking_iter {
    ($(#[$doc:meta])* $name:ident, $stream:ty, $item:ty) => {
        $(#[$doc])*
        pub struct $name {
            stream: $stream,
            host: Arc<Host>,
        }

        impl Iterator for $name {
            type Item = Result<$item, Error>;

            fn next(&mut self) -> Option<Self::Item> {
                match &self.host.rt {
                    Some(rt) => match super::run(rt, self.stream.next()) {
                        Ok(item) => item,
                        Err(refused) => Some(Err(refused)),
                    },
                    None => None,
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

blocking_iter!(
    /// The rows of an execution, read as the iterator is pulled.
    Rows,
    crate::RowStream,
    Row
);
blocking_iter!(
    /// The rows of an execution in batches.
    Chunks,
    crate::ChunkStream,
    Vec<Row>
);
blocking_iter!(
    /// The output of a COPY … TO STDOUT, piece by piece.
    CopyRows,
    crate::CopyStream,
    bytes::Bytes
);
blocking_iter!(
    /// The first column of each row of an execution.
    Column,
    crate::ColumnStream,
    Value
);
