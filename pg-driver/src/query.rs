//! The query interface: single-use statements (py-postgresql's `db.query`).
//!
//! Each call prepares a statement under a unique name, runs it, and closes it when the last
//! handle (the call, or the stream it returned) is done; the Close travels with the next
//! request, so it costs no round trip of its own. Unique names keep concurrent users of one
//! connection from binding each other's statements, which the unnamed statement would risk.

use pg_exceptions::Error;

use crate::{
    ChunkStream, ColumnStream, Connection, FromFirst, Params, Results, RowStream, Statement,
};

impl Connection {
    /// Runs `sql` once with `params` and returns its rows and command tag.
    pub async fn query<P: Params>(&self, sql: &str, params: P) -> Result<Results, Error> {
        self.prepare_once(sql).await?.call(params).await
    }

    /// The first result of `sql` by py-postgresql's rules, or typed (`query_first::<i64, _>`).
    pub async fn query_first<T: FromFirst, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<T, Error> {
        self.prepare_once(sql).await?.first::<T, P>(params).await
    }

    /// The rows of `sql`, streamed.
    pub async fn query_rows<P: Params>(&self, sql: &str, params: P) -> Result<RowStream, Error> {
        self.prepare_once(sql).await?.rows(params)
    }

    /// The rows of `sql`, in batches.
    pub async fn query_chunks<P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<ChunkStream, Error> {
        self.prepare_once(sql).await?.chunks(params)
    }

    /// The first column of the rows of `sql`, streamed.
    pub async fn query_column<P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<ColumnStream, Error> {
        self.prepare_once(sql).await?.column(params)
    }

    /// Runs `sql` for every parameter set, pipelined; all or nothing outside a transaction.
    pub async fn query_load_rows<I>(&self, sql: &str, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: Params,
    {
        self.prepare(sql).await?.load_rows(rows).await
    }

    /// Like [`Connection::query_load_rows`], in batches.
    pub async fn query_load_chunks<I>(&self, sql: &str, chunks: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: IntoIterator,
        <I::Item as IntoIterator>::Item: Params,
    {
        self.prepare(sql).await?.load_chunks(chunks).await
    }
}

impl Statement {
    /// Whether the statement is closed on the server when its last handle is dropped.
    pub fn is_owned(&self) -> bool {
        self.inner.owned
    }

    /// Whether the statement came from the session's statement cache
    /// ([`Connection::prepare_cached`]).
    pub fn is_cached(&self) -> bool {
        self.inner.cached.is_some()
    }
}
