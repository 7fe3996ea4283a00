//! COPY: streaming `COPY … TO STDOUT` out, feeding `COPY … FROM STDIN`, and typed binary loads.
//!
//! COPY output also comes through `call`, `rows` and `chunks` as rows of one `bytea` column
//! named `copy` (a line each for text and CSV); `copy_rows` and `copy_chunks` give the bytes
//! themselves. Feeding a COPY FROM STDIN streams CopyData while nothing else is written on the
//! connection; a request made meanwhile makes the COPY fail (CopyFail), as py-postgresql has it.

use std::fmt::Display;
use std::pin::pin;

use bytes::{BufMut, Bytes, BytesMut};
use futures::{Stream, StreamExt};
use pg_exceptions::{Error, OperationError, ParameterError};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;
use postgres_types::IsNull;

use crate::Connection;
use crate::execute::{Item, parse_tag};
use crate::statement::Statement;
use crate::wire::task::protocol;
use pg_api::Params;

/// How many bytes of CopyData are written at a time.
const COPY_BATCH: usize = 64 * 1024;

/// The signature, flags and header extension length that open a binary COPY stream.
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The COPY output of an execution, piece by piece (a line each for text and CSV).
///
/// Pieces already read are handed over without a wait or an allocation each: the stream
/// waits only when its buffer runs dry.
pub struct CopyStream {
    pump: crate::streams::Pump,
    /// The command tag, once the COPY has ended (`COPY 3`).
    tag: Option<String>,
}

impl CopyStream {
    /// The row count of the command tag (`COPY 3` gives 3), once the stream has ended
    /// without an error; `None` before.
    pub fn rows_copied(&self) -> Option<u64> {
        self.tag.as_deref().and_then(|tag| parse_tag(tag).1)
    }
}

impl Stream for CopyStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let std::task::Poll::Ready(item) = this.pump.poll_item(cx) else {
                return std::task::Poll::Pending;
            };
            match item {
                Some(Item::Copy(data)) => return std::task::Poll::Ready(Some(Ok(data))),
                // The tag ends the COPY: kept for its count.
                Some(Item::Tag(tag)) => this.tag = Some(tag),
                // Rows cannot come from a COPY.
                Some(_) => continue,
                None => return std::task::Poll::Ready(this.pump.finish().map(Err)),
            }
        }
    }
}

impl std::fmt::Debug for CopyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CopyStream")
    }
}

fn failure(message: impl Display) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::client(&OperationError, format!("{message}")).with_cause(e)
}

impl Statement {
    /// The output of a `COPY … TO STDOUT` statement, read from the socket as it is pulled;
    /// queued as [`Statement::rows`] says.
    pub fn copy_rows<P: Params>(&self, params: P) -> Result<CopyStream, Error> {
        Ok(CopyStream {
            pump: crate::streams::Pump::new(self.stream(params)?),
            tag: None,
        })
    }

    /// Feeds a `COPY … FROM STDIN` statement from a stream of byte pieces (lines for text and
    /// CSV, any split for binary) and returns the row count. A source error sends CopyFail: the
    /// COPY is undone, the server's error (QueryCanceledError, carrying the source's message)
    /// is returned and the connection stays usable.
    pub async fn copy_in<P, S, B, E>(&self, params: P, source: S) -> Result<u64, Error>
    where
        P: Params,
        S: Stream<Item = Result<B, E>>,
        B: AsRef<[u8]>,
        E: Display,
    {
        self.ready().await?;
        let link = &self.inner.link;
        let mut first = BytesMut::new();
        self.encode_bind("", &params, &mut first)?;
        frontend::execute("", 0, &mut first).map_err(protocol)?;
        frontend::flush(&mut first);
        // Written instead of the rest when another request is made meanwhile (as in
        // py-postgresql) or the caller gives up: the COPY is undone, and the Sync ends the
        // request whether the server was in copy-in mode or had failed already.
        let mut abort = BytesMut::new();
        frontend::copy_fail(
            "the COPY was interrupted: another request was made on the connection, or its \
             caller went away",
            &mut abort,
        )
        .map_err(protocol)?;
        frontend::sync(&mut abort);
        let (mut responses, body) =
            link.request_body(first.freeze(), abort.freeze(), true, 1, self.hook())?;

        // The data goes only once the server is in copy-in mode: sent to anything else, CopyData
        // would be a protocol violation that ends the session.
        let mut early = None;
        loop {
            match responses.next(&link.shared).await {
                Ok(Message::CopyInResponse(_)) => break,
                Ok(Message::BindComplete) => {}
                Ok(Message::ErrorResponse(body)) => {
                    early = Some(crate::wire::error::from_error_body(&body)?);
                    break;
                }
                Ok(_) => {
                    early = Some(Error::client(
                        &OperationError,
                        "the statement is not a COPY … FROM STDIN",
                    ));
                    break;
                }
                Err(e) => return Err(self.fail_with(e)),
            }
        }
        // A server that fails the COPY mid-way ignores the rest of the data: stop sending it.
        let server_failed = tokio::sync::Notify::new();
        let producer = async {
            let mut buf = BytesMut::with_capacity(COPY_BATCH + 1024);
            let mut source_failure = None;
            if early.is_none() {
                let mut source = pin!(source);
                loop {
                    let piece = tokio::select! {
                        biased;
                        _ = server_failed.notified() => break,
                        piece = source.next() => piece,
                    };
                    let Some(piece) = piece else { break };
                    match piece {
                        Ok(data) => {
                            frontend::CopyData::new(data.as_ref())
                                .map_err(failure("a COPY piece is too large"))?
                                .write(&mut buf);
                            if buf.len() >= COPY_BATCH
                                && body.send(buf.split().freeze()).await.is_err()
                            {
                                // Interrupted or lost: the reader says which.
                                return Ok(early);
                            }
                        }
                        Err(e) => {
                            source_failure = Some(e.to_string());
                            break;
                        }
                    }
                }
                match &source_failure {
                    None => frontend::copy_done(&mut buf),
                    Some(message) => frontend::copy_fail(message, &mut buf).map_err(protocol)?,
                }
            }
            frontend::sync(&mut buf);
            let _ = body.finish(buf.freeze()).await;
            Ok::<_, Error>(early)
        };
        let consumer = async {
            let mut count = 0;
            let mut error = None;
            loop {
                match responses.next(&link.shared).await {
                    Ok(Message::CommandComplete(body)) => {
                        count = parse_tag(body.tag().map_err(protocol)?).1.unwrap_or(0);
                    }
                    Ok(Message::ErrorResponse(body)) => {
                        error.get_or_insert(crate::wire::error::from_error_body(&body)?);
                        server_failed.notify_one();
                    }
                    Ok(Message::ReadyForQuery(_)) => break,
                    Ok(_) => {}
                    Err(e) => {
                        error.get_or_insert(e);
                        server_failed.notify_one();
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
        if let Some(early) = produced? {
            return Err(self.fail_with(early));
        }
        consumed.map_err(|e| self.fail_with(e))
    }

    /// Feeds a `COPY … FROM STDIN` statement from byte lines (py-postgresql's `load_rows` on a
    /// COPY statement).
    pub async fn copy_in_rows<I>(&self, lines: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let source =
            futures::stream::iter(lines.into_iter().map(Ok::<_, std::convert::Infallible>));
        self.copy_in((), source).await
    }

    /// Feeds a `COPY … FROM STDIN` statement from batches of byte lines.
    pub async fn copy_in_chunks<I>(&self, chunks: I) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: IntoIterator,
        <I::Item as IntoIterator>::Item: AsRef<[u8]>,
    {
        self.copy_in_rows(chunks.into_iter().flatten()).await
    }

    fn fail_with(&self, error: Error) -> Error {
        self.inner.conn.context(error.with_statement(self.string()))
    }
}

impl Connection {
    /// Loads rows of values into a table through `COPY … FROM STDIN (FORMAT binary)`, encoded
    /// for the target columns' types: the fastest way in. `table` may be qualified
    /// (`schema.table`, read as SQL reads names); `columns` empty means every column. The names
    /// are quoted. A row that cannot be encoded stops the load, which is undone, and its
    /// ParameterError is returned.
    pub async fn copy_in_values<I>(
        &self,
        table: &str,
        columns: &[&str],
        rows: I,
    ) -> Result<u64, Error>
    where
        I: IntoIterator,
        I::Item: Params,
    {
        let parts = pg_string::split_qname(table)
            .map_err(|e| Error::client(&ParameterError, format!("table name {table:?}: {e}")))?;
        let table = pg_string::qname(&parts);
        let list = if columns.is_empty() {
            "*".to_owned()
        } else {
            columns
                .iter()
                .map(|c| pg_string::quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let probe = self
            .prepare(&format!("SELECT {list} FROM {table} LIMIT 0"))
            .await?;
        let types = probe.column_types();
        let names: Vec<String> = probe
            .column_names()
            .iter()
            .map(|c| pg_string::quote_ident(c))
            .collect();
        let copy = self
            .prepare(&format!(
                "COPY {table} ({}) FROM STDIN (FORMAT binary)",
                names.join(", ")
            ))
            .await?;
        let mut encode_error = None;
        let mut rows = rows.into_iter();
        let mut header = true;
        let mut finished = false;
        let chunks = std::iter::from_fn(|| {
            if finished {
                return None;
            }
            let mut buf = BytesMut::with_capacity(COPY_BATCH + 1024);
            if std::mem::take(&mut header) {
                buf.put_slice(BINARY_HEADER);
            }
            while buf.len() < COPY_BATCH {
                let Some(row) = rows.next() else {
                    buf.put_i16(-1);
                    finished = true;
                    break;
                };
                if let Err(e) = encode_binary_row(&row, &types, &mut buf) {
                    encode_error = Some(e.to_string());
                    finished = true;
                    return Some(Err(e));
                }
            }
            Some(Ok(buf.freeze()))
        });
        let result = copy.copy_in((), futures::stream::iter(chunks)).await;
        match (result, encode_error) {
            (Err(_), Some(message)) => Err(Error::client(&ParameterError, message)),
            (result, _) => result,
        }
    }
}

/// Appends one row of a binary COPY stream.
fn encode_binary_row<P: Params>(
    row: &P,
    types: &[postgres_types::Type],
    buf: &mut BytesMut,
) -> Result<(), Error> {
    if row.count() != types.len() {
        return Err(Error::client(
            &ParameterError,
            format!(
                "a row of {} values for {} columns",
                row.count(),
                types.len()
            ),
        ));
    }
    buf.put_i16(types.len() as i16);
    for (index, ty) in types.iter().enumerate() {
        if row.format(index, ty) != 1 {
            return Err(Error::client(
                &ParameterError,
                format!("value {} has no binary form for {}", index + 1, ty.name()),
            ));
        }
        let at = buf.len();
        buf.put_i32(0);
        let written = row.encode(index, ty, buf).map_err(|e| {
            Error::client(
                &ParameterError,
                format!(
                    "value {} cannot be encoded as {}: {e}",
                    index + 1,
                    ty.name()
                ),
            )
        })?;
        let len = match written {
            IsNull::Yes => -1,
            IsNull::No => i32::try_from(buf.len() - at - 4).map_err(|_| {
                Error::client(&ParameterError, format!("value {} is too large", index + 1))
            })?,
        };
        buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}
