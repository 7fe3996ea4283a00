//! `load_rows` and `load_chunks`: one statement executed for many parameter sets, pipelined.

use bytes::{Bytes, BytesMut};
use pg_exceptions::Error;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;
use postgres_types::Type;

use crate::insert_batch::InsertShape;
use crate::statement::Statement;
use crate::wire::task::protocol;
use pg_api::Params;

/// How many bytes of Bind/Execute messages are written at a time.
const BATCH_BYTES: usize = 64 * 1024;

/// A portal that never exists: executing it makes the server abort the implicit transaction.
const ABORT_PORTAL: &str = "pg_api load aborted";

/// Rows per batched INSERT, at most (fewer when the statement has many parameters: a Bind
/// carries at most 65,535).
const BATCH_ROWS: usize = 250;

/// Loads of fewer rows go row by row: the catalog query that allows batching would cost more
/// than batching saves.
const MIN_BATCHED: usize = 32;

impl Statement {
    /// Executes the statement once for every parameter set, pipelined: Bind/Execute pairs
    /// stream to the server while its answers are read, with a single Sync at the end, so
    /// outside a transaction block the whole load is one transaction — all or nothing.
    /// Returns the total row count the executions reported.
    ///
    /// A plain `INSERT INTO t (…) VALUES ($1, …)` into an ordinary table without triggers,
    /// rules or row-level security runs as INSERTs of up to 250 rows each, where the
    /// server's work per row is far less; the rows and the outcome are the same (the
    /// conditions, and the little that differs, are in the crate's `insert_batch` notes;
    /// `batch_inserts=off` turns it off).
    ///
    /// A parameter set that cannot be encoded stops the load and rolls it back (outside a
    /// transaction block; inside one, the block is failed).
    pub async fn load_rows<I>(&self, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: Params,
    {
        self.ready().await?;
        let mut rows = rows.into_iter();
        let n = self.inner.parameters.len();
        let shape = match self.inner.conn.connector().params().batch_inserts() {
            true if n > 0 => InsertShape::parse(&self.inner.sql),
            _ => None,
        };
        let Some(shape) = shape else {
            return self.load_each(rows).await;
        };
        let per = BATCH_ROWS.min(usize::from(u16::MAX) / n);
        let first: Vec<I::Item> = rows.by_ref().take(per).collect();
        if first.len() < MIN_BATCHED || !self.batchable(&shape).await {
            return self.load_each(first.into_iter().chain(rows)).await;
        }
        // The batch statement is the unnamed one, parsed again only when the batch's size
        // changes (for the last, short one).
        let full = shape.render(per, n);
        let mut pending = first;
        let mut parsed = 0;
        self.pipeline(|buf| {
            if pending.is_empty() {
                return Ok(false);
            }
            let k = pending.len();
            if parsed != k {
                let sql = if k == per {
                    full.clone()
                } else {
                    shape.render(k, n)
                };
                let types = self.inner.parameters.iter().cycle().take(k * n);
                frontend::parse("", &sql, types.map(|t| t.oid()), buf).map_err(protocol)?;
                parsed = k;
            }
            self.encode_bind_rows("", "", &pending, buf)?;
            frontend::execute("", 0, buf).map_err(protocol)?;
            pending.clear();
            pending.extend(rows.by_ref().take(per));
            Ok(true)
        })
        .await
    }

    /// Whether the target of `shape` is a table whose INSERTs can be batched: an ordinary
    /// table that has never had triggers, rules or row-level security (servers before 9.6,
    /// without `to_regclass(text)`, are not asked). Any failure answers no: the row-by-row
    /// load that follows reports it.
    async fn batchable(&self, shape: &InsertShape) -> bool {
        const SQL: &str = "SELECT c.relkind = 'r' AND NOT c.relhastriggers \
            AND NOT c.relhasrules AND NOT c.relrowsecurity \
            FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)";
        if self.inner.conn.server_version().unwrap_or(0) < 90600 {
            return false;
        }
        let target = shape.target();
        let rows = crate::oneshot::run(&self.inner.link, SQL, &[(Type::TEXT, &target)]).await;
        matches!(rows.as_deref(), Ok([row]) if row.first() == Some(&Some("t".to_owned())))
    }

    /// Each parameter set's own Bind/Execute (after Parse at the head of each batch written,
    /// for the unnamed statement of `statement_cache=off`).
    async fn load_each<I: Iterator<Item: Params>>(&self, mut rows: I) -> Result<u64, Error> {
        self.pipeline(|buf| {
            let Some(params) = rows.next() else {
                return Ok(false);
            };
            // The unnamed statement is parsed again at the head of every batch, so each one
            // written stands on its own.
            if self.inner.reparse && buf.is_empty() {
                self.encode_parse(buf)?;
            }
            self.encode_bind("", &params, buf)?;
            frontend::execute("", 0, buf)
                .map_err(protocol)
                .map(|()| true)
        })
        .await
    }

    /// Streams what `encode_next` appends (until it answers `false`) while reading the
    /// answers, then Sync; sums the row counts of the command tags. An error of `encode_next`,
    /// or the future dropped before the end, makes the server fail the batch before its Sync
    /// (outside a block nothing of it commits; inside one, the block is failed); the error of
    /// `encode_next` is the one returned.
    async fn pipeline<F>(&self, mut encode_next: F) -> Result<u64, Error>
    where
        F: FnMut(&mut BytesMut) -> Result<bool, Error>,
    {
        let link = &self.inner.link;
        // Should the load stop before its Sync (an encoding failure, or its caller gave up),
        // the task writes this instead: the server fails the batch, so nothing of it commits.
        let mut abort = BytesMut::new();
        frontend::execute(ABORT_PORTAL, 0, &mut abort).map_err(protocol)?;
        frontend::sync(&mut abort);
        let (mut responses, body) =
            link.request_body(Bytes::new(), abort.freeze(), false, 1, self.hook())?;
        let producer = async move {
            let mut buf = BytesMut::with_capacity(BATCH_BYTES + 1024);
            loop {
                if !encode_next(&mut buf)? {
                    break;
                }
                if buf.len() >= BATCH_BYTES && body.send(buf.split().freeze()).await.is_err() {
                    return Ok(()); // the connection is gone; the reader reports it
                }
            }
            frontend::sync(&mut buf);
            let _ = body.finish(buf.freeze()).await;
            Ok::<(), Error>(())
        };
        let consumer = async {
            let mut count = 0u64;
            let mut error = None;
            loop {
                match responses.next(&link.shared).await {
                    Ok(Message::CommandComplete(body)) => {
                        let tag = body.tag().map_err(protocol)?;
                        count += crate::execute::tag_parts(tag).1.unwrap_or(0);
                    }
                    Ok(Message::ErrorResponse(body)) => {
                        error.get_or_insert(crate::wire::error::from_error_body(&body)?);
                    }
                    Ok(Message::ReadyForQuery(_)) => break,
                    Ok(_) => {}
                    Err(e) => {
                        error.get_or_insert(e);
                        break;
                    }
                }
            }
            match error {
                Some(error) => Err(error),
                None => Ok(count),
            }
        };
        // An encoding failure drops the body, which aborts the batch.
        let (produced, consumed) = futures::join!(producer, consumer);
        // The producer's own failure explains the server's abort better than the abort does.
        produced?;
        consumed.map_err(|e| self.inner.conn.context(e.with_statement(&*self.inner.sql)))
    }

    /// Like [`Statement::load_rows`], taking the parameter sets in batches.
    pub async fn load_chunks<I>(&self, chunks: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: IntoIterator,
        <I::Item as IntoIterator>::Item: Params,
    {
        self.load_rows(chunks.into_iter().flatten()).await
    }
}
