//! `load_rows` and `load_chunks`: one statement executed for many parameter sets, pipelined.

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use pg_exceptions::{Error, ParameterError};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use crate::insert_batch::InsertShape;
use crate::load_error::LoadRows;
use crate::statement::Statement;
use crate::trace::{Protocol, QueryTrace};
use crate::wire::task::{Body, protocol};
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
    /// server's work per row is far less; the rows, the table they go to and the outcome
    /// are the same (the conditions, and the little that differs, are in the crate's
    /// `insert_batch` notes; `batch_inserts=off` turns it off).
    ///
    /// A parameter set that cannot be encoded stops the load and rolls it back (outside a
    /// transaction block; inside one, the block is failed).
    ///
    /// An error names the row it happened at, by its 0-based index among `rows`
    /// ([`failed_row`](crate::failed_row)), and the statement's own parameters (`$1`…), also
    /// when the rows went in batches. An error the server reports for a batch as a whole (a
    /// constraint violated) names the batch's rows instead ([`ROWS`](crate::ROWS)).
    pub async fn load_rows<I>(&self, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: Params,
    {
        self.load_stream(futures::stream::iter(rows.into_iter().map(Ok)))
            .await
    }

    /// Like [`Statement::load_rows`], with the parameter sets from a stream, as they come
    /// (rows of another connection: `dst.load_stream(src.rows(())?)`, a [`Row`] being a
    /// parameter set). The whole load is still one request ending in one Sync: an error of
    /// the stream stops it, nothing of it commits (outside a transaction block), and that
    /// error is returned.
    ///
    /// [`Row`]: pg_types::Row
    pub async fn load_stream<S, P>(&self, rows: S) -> Result<u64, Error>
    where
        S: Stream<Item = Result<P, Error>>,
        P: Params,
    {
        if crate::copy_in::may_copy_in(&self.inner.sql) {
            return self.copy_lines(rows).await;
        }
        self.ready().await?;
        let mut rows = std::pin::pin!(rows);
        let n = self.inner.parameters.len();
        let shape = match self.inner.conn.connector().params().batch_inserts() {
            true if n > 0 => InsertShape::parse(&self.inner.sql),
            _ => None,
        };
        let Some(shape) = shape else {
            return self.load_each(Vec::new(), rows).await;
        };
        let per = BATCH_ROWS.min(usize::from(u16::MAX) / n);
        let first = take(&mut rows, per).await?;
        let table = match first.len() < MIN_BATCHED {
            true => None,
            false => self.batch_target(&shape).await,
        };
        let Some(table) = table else {
            return self.load_each(first, rows).await;
        };
        // The batch statement is the unnamed one, parsed again only when the batch's size
        // changes (for the last, short one).
        let full = shape.render(&table, per, n);
        let load = LoadRows::batched(&shape, &table, per, n);
        let (shape, table, load) = (&shape, &table, &load);
        self.pipeline_from(load, |body| async move {
            let mut buf = BytesMut::with_capacity(BATCH_BYTES + 1024);
            let mut pending = first;
            let mut parsed = 0;
            while !pending.is_empty() {
                let k = pending.len();
                if parsed != k {
                    let sql = if k == per {
                        full.clone()
                    } else {
                        shape.render(table, k, n)
                    };
                    let types = self.inner.parameters.iter().cycle().take(k * n);
                    frontend::parse("", &sql, types.map(|t| t.oid()), &mut buf)
                        .map_err(protocol)?;
                    parsed = k;
                }
                self.encode_bind_rows("", "", &pending, Some(load.written()), &mut buf)?;
                frontend::execute("", 0, &mut buf).map_err(protocol)?;
                load.wrote(k);
                if buf.len() >= BATCH_BYTES && body.send(buf.split().freeze()).await.is_err() {
                    return Ok(()); // the connection is gone; the reader reports it
                }
                pending = take(&mut rows, per).await?;
            }
            frontend::sync(&mut buf);
            let _ = body.finish(buf.freeze()).await;
            Ok(())
        })
        .await
    }

    /// Each parameter set's own Bind/Execute (after Parse at the head of each batch written,
    /// for the unnamed statement of `statement_cache=off`): those of `first`, then the
    /// stream's.
    async fn load_each<S, P>(
        &self,
        first: Vec<P>,
        mut rows: std::pin::Pin<&mut S>,
    ) -> Result<u64, Error>
    where
        S: Stream<Item = Result<P, Error>>,
        P: Params,
    {
        let load = &LoadRows::each();
        self.pipeline_from(load, |body| async move {
            let mut buf = BytesMut::with_capacity(BATCH_BYTES + 1024);
            let mut first = first.into_iter();
            loop {
                let params = match first.next() {
                    Some(params) => params,
                    None => match rows.next().await {
                        Some(params) => params?,
                        None => break,
                    },
                };
                // The unnamed statement is parsed again at the head of every batch, so each
                // one written stands on its own.
                if self.inner.reparse && buf.is_empty() {
                    self.encode_parse(&mut buf)?;
                }
                let row = Some(load.written());
                let statement = &*self.inner.name;
                self.encode_bind_rows("", statement, std::slice::from_ref(&params), row, &mut buf)?;
                load.wrote(1);
                frontend::execute("", 0, &mut buf).map_err(protocol)?;
                if buf.len() >= BATCH_BYTES && body.send(buf.split().freeze()).await.is_err() {
                    return Ok(()); // the connection is gone; the reader reports it
                }
            }
            frontend::sync(&mut buf);
            let _ = body.finish(buf.freeze()).await;
            Ok(())
        })
        .await
    }

    /// Streams what `produce` writes into the request's body while reading the answers; sums
    /// the row counts of the command tags. `produce` ends the body with [`Body::finish`] (the
    /// Sync); returning before, with an error (an encoding failure, the source's) or not, or
    /// the future dropped before the end, drops the body, and the task writes its abort: the
    /// server fails the batch before its Sync (outside a block nothing of it commits; inside
    /// one, the block is failed). The error of `produce` is the one returned.
    ///
    /// The server's first error is the one returned, with the row it happened at (`load`
    /// says how executions stand for rows).
    async fn pipeline_from<F, Fut>(&self, load: &LoadRows<'_>, produce: F) -> Result<u64, Error>
    where
        F: FnOnce(Body) -> Fut,
        Fut: std::future::Future<Output = Result<(), Error>>,
    {
        let link = &self.inner.link;
        // Should the load stop before its Sync (an encoding failure, or its caller gave up),
        // the task writes this instead: the server fails the batch, so nothing of it commits.
        let mut abort = BytesMut::new();
        frontend::execute(ABORT_PORTAL, 0, &mut abort).map_err(protocol)?;
        frontend::sync(&mut abort);
        let (mut responses, body) =
            link.request_body(Bytes::new(), abort.freeze(), false, 1, self.hook())?;
        let mut trace = QueryTrace::start(&link.observe, Protocol::Extended, &self.inner.sql, None);
        let traced = trace.as_deref_mut();
        let producer = produce(body);
        let consumer = async {
            let mut traced = traced;
            let mut count = 0u64;
            // Executions complete: the next one's error is about the row (or batch) after.
            let mut done = 0u64;
            let mut error = None;
            loop {
                match responses.next(&link.shared).await {
                    Ok(Message::CommandComplete(body)) => {
                        let tag = body.tag().map_err(protocol)?;
                        count += crate::execute::tag_parts(tag).1.unwrap_or(0);
                        if let Some(trace) = traced.as_deref_mut() {
                            trace.tag(tag);
                        }
                        done += 1;
                    }
                    Ok(Message::EmptyQueryResponse) => done += 1,
                    Ok(Message::ErrorResponse(body)) if error.is_none() => {
                        let e = crate::wire::error::from_error_body(&body)?;
                        error = Some(load.locate(e.with_statement(&*self.inner.sql), done));
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
        if let Some(trace) = &mut trace {
            let failed = produced.as_ref().err().or(consumed.as_ref().err());
            trace.finish(failed.map_or(Ok(()), Err));
        }
        // The producer's own failure explains the server's abort better than the abort does.
        produced?;
        consumed.map_err(|e| match e.statement() {
            Some(_) => self.inner.conn.context(e),
            None => self.inner.conn.context(e.with_statement(&*self.inner.sql)),
        })
    }

    /// `load_rows` on a COPY … FROM STDIN statement (py-postgresql's): each parameter set is
    /// one value, a line of COPY data (text or bytes, in the statement's format).
    async fn copy_lines<S, P>(&self, rows: S) -> Result<u64, Error>
    where
        S: Stream<Item = Result<P, Error>>,
        P: Params,
    {
        let failure = std::sync::Mutex::new(None);
        let lines = rows.map(|row| {
            row.and_then(|row| copy_line(&row)).map_err(|e| {
                let message = e.message().to_owned();
                *failure
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                message
            })
        });
        let result = self.copy_in((), lines).await;
        let failure = failure
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (result, failure) {
            // The source's own error explains the CopyFail better than the server's answer.
            (Err(_), Some(error)) => Err(error),
            (result, _) => result,
        }
    }

    /// Like [`Statement::load_stream`], taking the parameter sets in batches, as another
    /// connection's [`Statement::chunks`] gives them (`dst.load_chunk_stream(src.chunks(())?)`).
    pub async fn load_chunk_stream<S, C>(&self, chunks: S) -> Result<u64, Error>
    where
        S: Stream<Item = Result<C, Error>>,
        C: IntoIterator,
        C::Item: Params,
    {
        let rows = chunks.flat_map(|chunk| {
            let rows: Box<dyn Iterator<Item = Result<C::Item, Error>>> = match chunk {
                Ok(chunk) => Box::new(chunk.into_iter().map(Ok)),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            futures::stream::iter(rows)
        });
        self.load_stream(rows).await
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

/// The COPY data line a parameter set of one value holds: its bytes (`bytea`) or its text.
fn copy_line<P: Params>(row: &P) -> Result<Bytes, Error> {
    let refused = |why: &str| {
        Error::client(
            &ParameterError,
            format!("load_rows on a COPY … FROM STDIN statement takes one line a row: {why}"),
        )
    };
    if row.count() != 1 {
        return Err(refused(&format!("a row of {} values", row.count())));
    }
    let mut buf = BytesMut::new();
    let encoded = match row.encode(0, &postgres_types::Type::BYTEA, &mut buf) {
        Ok(encoded) => Ok(encoded),
        Err(_) => {
            buf.clear();
            row.encode(0, &postgres_types::Type::TEXT, &mut buf)
        }
    };
    match encoded {
        Ok(postgres_types::IsNull::No) => Ok(buf.freeze()),
        Ok(postgres_types::IsNull::Yes) => Err(refused("a NULL line")),
        Err(e) => Err(refused(&format!(
            "a value that is neither bytes nor text ({e})"
        ))),
    }
}

/// Up to `n` parameter sets from the stream (fewer at its end); its error stops the load.
async fn take<S, P>(rows: &mut std::pin::Pin<&mut S>, n: usize) -> Result<Vec<P>, Error>
where
    S: Stream<Item = Result<P, Error>>,
{
    let mut taken = Vec::with_capacity(n);
    while taken.len() < n {
        match rows.next().await {
            Some(params) => taken.push(params?),
            None => break,
        }
    }
    Ok(taken)
}

impl Statement {
    /// The table this INSERT's batches may write to, by its schema and name (quoted, for
    /// the batch's SQL), or `None` when they may not: it is not
    /// an ordinary table that has never had triggers, rules or row-level security (servers
    /// before 9.6 are not asked), or it is not (or no longer) the table the statement means
    /// (see the module notes). Any failure answers `None`: the row-by-row load that follows
    /// reports it.
    pub(crate) async fn batch_target(&self, shape: &InsertShape) -> Option<String> {
        const SQL: &str = "SELECT c.relkind = 'r' AND NOT c.relhastriggers \
            AND NOT c.relhasrules AND NOT c.relrowsecurity, n.nspname, c.relname \
            FROM pg_catalog.pg_class c \
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
            WHERE c.oid = pg_catalog.to_regclass($1) AND ($2::pg_catalog.oid IS NULL OR c.oid = $2)";
        if self.inner.conn.server_version().unwrap_or(0) < crate::insert_target::TO_REGCLASS {
            return None;
        }
        let prepared = match (self.inner.reparse, self.inner.target) {
            (true, _) => None,
            (false, Some(oid)) => Some(oid),
            (false, None) => return None,
        };
        let target = shape.target();
        let params: [(postgres_types::Type, &(dyn postgres_types::ToSql + Sync)); 2] = [
            (postgres_types::Type::TEXT, &target),
            (postgres_types::Type::OID, &prepared),
        ];
        let rows = crate::oneshot::run(&self.inner.link, SQL, &params)
            .await
            .ok()?;
        match rows.as_slice() {
            [row] => match row.as_slice() {
                [Some(ok), Some(schema), Some(table)] if ok == "t" => Some(format!(
                    "{}.{}",
                    pg_string::quote_ident(schema),
                    pg_string::quote_ident(table)
                )),
                _ => None,
            },
            _ => None,
        }
    }
}
