//! One-round-trip statements with bound parameters, for the driver's own SQL (NOTIFY, advisory
//! locks): Parse (with the parameter types), Bind, Execute and Sync travel together, so nothing
//! a concurrent user of the connection sends can come between them, and the answer is read in
//! text form. Names and payloads are always bound, never spliced into the SQL.

use std::cell::Cell;

use bytes::{Bytes, BytesMut};
use pg_exceptions::{Error, ParameterError};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;
use postgres_types::{ToSql, Type};

use crate::link::Link;
use crate::wire::responses::Responses;
use crate::wire::task::protocol;

/// The rows of a one-shot statement, each value in the server's text form.
pub(crate) type TextRows = Vec<Vec<Option<String>>>;

/// Parse (with the parameter types), Bind (parameters binary; results in `result_format`: 0 text,
/// 1 binary), Execute and Sync of the unnamed statement, as one request's bytes.
pub(crate) fn encode(
    sql: &str,
    params: &[(Type, &(dyn ToSql + Sync))],
    result_format: i16,
) -> Result<Bytes, Error> {
    let mut buf = BytesMut::new();
    frontend::parse("", sql, params.iter().map(|(ty, _)| ty.oid()), &mut buf).map_err(protocol)?;
    let failed_at = Cell::new(0usize);
    let bound = frontend::bind(
        "",
        "",
        [1i16],
        0..params.len(),
        |index, buf| {
            failed_at.set(index);
            let (ty, value) = &params[index];
            match value.to_sql_checked(ty, buf)? {
                postgres_types::IsNull::Yes => Ok(postgres_protocol::IsNull::Yes),
                postgres_types::IsNull::No => Ok(postgres_protocol::IsNull::No),
            }
        },
        [result_format],
        &mut buf,
    );
    match bound {
        Ok(()) => {}
        Err(frontend::BindError::Conversion(cause)) => {
            let index = failed_at.get();
            return Err(Error::client(
                &ParameterError,
                format!(
                    "parameter ${} cannot be encoded as {}: {cause}",
                    index + 1,
                    params[index].0.name()
                ),
            )
            .with_statement(sql));
        }
        Err(frontend::BindError::Serialization(e)) => return Err(protocol(e)),
    }
    frontend::execute("", 0, &mut buf).map_err(protocol)?;
    frontend::sync(&mut buf);
    Ok(buf.freeze())
}

/// Queues `sql` with its parameters (each with the type it is declared as) and returns the
/// reader of its answer, in text form, without waiting for it.
pub(crate) fn send(
    link: &Link,
    sql: &str,
    params: &[(Type, &(dyn ToSql + Sync))],
) -> Result<Responses, Error> {
    link.request(encode(sql, params, 0)?, 1, None)
}

/// Reads the answer of [`send`]: its rows, or the first error. It takes the reader by
/// reference so that a caller dropped mid-read keeps it, to finish reading elsewhere.
pub(crate) async fn read(link: &Link, responses: &mut Responses) -> Result<TextRows, Error> {
    use fallible_iterator::FallibleIterator;
    let mut rows = Vec::new();
    let mut error = None;
    loop {
        match responses.next(&link.shared).await {
            Ok(Message::DataRow(body)) => {
                let buffer = body.buffer();
                let row = body
                    .ranges()
                    .map(|r| Ok(r.map(|r| String::from_utf8_lossy(&buffer[r]).into_owned())))
                    .collect()
                    .map_err(protocol)?;
                rows.push(row);
            }
            Ok(Message::ErrorResponse(body)) => {
                error.get_or_insert(crate::wire::error::from_error_body(&body)?);
            }
            Ok(Message::ReadyForQuery(_)) => break,
            Ok(_) => {}
            Err(e) => return Err(error.unwrap_or(e)),
        }
    }
    match error {
        Some(error) => Err(error),
        None => Ok(rows),
    }
}

/// Runs `sql` once with its parameters and returns its rows in text form.
pub(crate) async fn run(
    link: &Link,
    sql: &str,
    params: &[(Type, &(dyn ToSql + Sync))],
) -> Result<TextRows, Error> {
    let mut responses = send(link, sql, params)?;
    read(link, &mut responses)
        .await
        .map_err(|e| e.with_statement(sql))
}

/// A bare Sync and its ReadyForQuery: once it is back, every notification the server had for
/// this session when it read the Sync has been routed to the shared state.
pub(crate) async fn sync(link: &Link) -> Result<(), Error> {
    let mut buf = BytesMut::new();
    frontend::sync(&mut buf);
    let mut responses = link.request(buf.freeze(), 1, None)?;
    loop {
        if let Message::ReadyForQuery(_) = responses.next(&link.shared).await? {
            return Ok(());
        }
    }
}
