//! `load_rows` and `load_chunks`: one statement executed for many parameter sets, pipelined.

use bytes::BytesMut;
use pg_exceptions::Error;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use crate::statement::Statement;
use crate::task::protocol;
use pg_api::Params;

/// How many bytes of Bind/Execute messages are written at a time.
const BATCH_BYTES: usize = 64 * 1024;

/// A portal that never exists: executing it makes the server abort the implicit transaction.
const ABORT_PORTAL: &str = "pg_api load aborted";

impl Statement {
    /// Executes the statement once for every parameter set, pipelined: Bind/Execute pairs
    /// stream to the server while its answers are read, with a single Sync at the end, so
    /// outside a transaction block the whole load is one transaction — all or nothing.
    /// Returns the total row count the executions reported.
    ///
    /// A parameter set that cannot be encoded stops the load and rolls it back (outside a
    /// transaction block; inside one, the block is failed).
    pub async fn load_rows<I>(&self, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: Params,
    {
        let link = &self.inner.link;
        let (mut responses, body) = link.request_body(bytes::Bytes::new(), 1, self.hook())?;
        let producer = async move {
            let mut buf = BytesMut::with_capacity(BATCH_BYTES + 1024);
            let mut outcome = Ok(());
            for params in rows {
                // The unnamed statement (statement_cache=off) is parsed again at the head of
                // every batch, so each one written stands on its own.
                if self.inner.reparse && buf.is_empty() {
                    self.encode_parse(&mut buf)?;
                }
                if let Err(e) = self.encode_bind("", &params, &mut buf) {
                    outcome = Err(e);
                    break;
                }
                frontend::execute("", 0, &mut buf).map_err(protocol)?;
                if buf.len() >= BATCH_BYTES && body.send(buf.split().freeze()).await.is_err() {
                    break; // the connection is gone; the reader reports it
                }
            }
            if outcome.is_err() {
                buf.clear();
                frontend::execute(ABORT_PORTAL, 0, &mut buf).map_err(protocol)?;
            }
            frontend::sync(&mut buf);
            let _ = body.send(buf.freeze()).await;
            outcome
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
                        error.get_or_insert(crate::error::from_error_body(&body)?);
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
