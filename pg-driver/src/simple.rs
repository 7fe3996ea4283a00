//! The simple query protocol: text results, several statements in one string.

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use pg_exceptions::{Error, ParameterError};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use crate::link::Link;
use crate::trace::{Protocol, QueryTrace};
use crate::wire::hooks::MessageHook;
use crate::wire::task::protocol;

/// One statement's result in text form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimpleResult {
    /// The column names, empty for statements that return no rows.
    pub columns: Vec<String>,
    /// The rows, each value in the server's text form (None for NULL).
    pub rows: Vec<Vec<Option<String>>>,
    /// The command tag, e.g. `SELECT 2` or `CREATE TABLE`.
    pub tag: String,
}

/// Runs `sql` (one or more statements) and collects every result; the first error stops it.
pub(crate) async fn simple_query(link: &Link, sql: &str) -> Result<Vec<SimpleResult>, Error> {
    simple_query_hooked(link, sql, None).await
}

/// [`simple_query`] for SQL the application sent and awaits: given up while it runs, it is
/// cancelled on the server when that touches no other request's work, and `timeout` gives
/// it up by itself (see [`crate::wire::abandon`]).
pub(crate) async fn simple_query_awaited(
    link: &Link,
    sql: &str,
    timeout: Option<std::time::Duration>,
) -> Result<Vec<SimpleResult>, Error> {
    let bytes = encode(sql)?;
    let refusal = crate::copy_in::may_copy_in(sql).then(|| crate::copy_in::copy_in_refusal(false));
    let mut responses = link.request_execution(bytes, false, None, refusal, timeout)?;
    read_results(link, sql, &mut responses).await
}

fn encode(sql: &str) -> Result<bytes::Bytes, Error> {
    let mut buf = BytesMut::new();
    frontend::query(sql, &mut buf).map_err(|e| {
        Error::client(&ParameterError, "the SQL text holds a NUL byte").with_cause(e)
    })?;
    Ok(buf.freeze())
}

/// [`simple_query`] whose messages start at `hook` (a cursor's moves).
pub(crate) async fn simple_query_hooked(
    link: &Link,
    sql: &str,
    hook: Option<MessageHook>,
) -> Result<Vec<SimpleResult>, Error> {
    let bytes = encode(sql)?;
    let mut responses = match crate::copy_in::may_copy_in(sql) {
        // No data to give a COPY FROM STDIN here: the task refuses the server's request.
        true => {
            link.request_refusing_copy(bytes, hook, false, crate::copy_in::copy_in_refusal(false))?
        }
        false => link.request(bytes, 1, hook)?,
    };
    read_results(link, sql, &mut responses).await
}

/// Reads the answer of a simple query: every statement's result; the first error stops it.
pub(crate) async fn read_results(
    link: &Link,
    sql: &str,
    responses: &mut crate::wire::responses::Responses,
) -> Result<Vec<SimpleResult>, Error> {
    let mut trace = QueryTrace::start(&link.observe, Protocol::Simple, sql, None);
    let outcome = read_traced(link, sql, responses, trace.as_deref_mut()).await;
    if let Some(trace) = &mut trace {
        trace.finish(outcome.as_ref().map(drop));
    }
    outcome
}

async fn read_traced(
    link: &Link,
    sql: &str,
    responses: &mut crate::wire::responses::Responses,
    mut trace: Option<&mut QueryTrace>,
) -> Result<Vec<SimpleResult>, Error> {
    let mut results = Vec::new();
    let mut current = SimpleResult::default();
    let mut first_error: Option<Error> = None;
    loop {
        match responses.next(&link.shared).await {
            Ok(message) => match message {
                Message::RowDescription(body) => {
                    current.columns = body
                        .fields()
                        .map(|f| Ok(f.name().to_owned()))
                        .collect()
                        .map_err(protocol)?;
                }
                Message::DataRow(body) => {
                    let buffer = body.buffer();
                    let row = body
                        .ranges()
                        .map(|r| Ok(r.map(|r| String::from_utf8_lossy(&buffer[r]).into_owned())))
                        .collect()
                        .map_err(protocol)?;
                    current.rows.push(row);
                    if let Some(trace) = trace.as_deref_mut() {
                        trace.row();
                    }
                }
                Message::CommandComplete(body) => {
                    current.tag = body.tag().map_err(protocol)?.to_owned();
                    if let Some(trace) = trace.as_deref_mut() {
                        trace.tag(&current.tag);
                    }
                    results.push(std::mem::take(&mut current));
                }
                Message::EmptyQueryResponse => results.push(std::mem::take(&mut current)),
                Message::ErrorResponse(body) if first_error.is_none() => {
                    first_error = Some(crate::wire::error::from_error_body(&body)?);
                }
                Message::ReadyForQuery(_) => break,
                _ => {}
            },
            Err(error) => {
                return Err(first_error.unwrap_or(error).with_statement(sql));
            }
        }
    }
    match first_error {
        Some(error) => Err(error.with_statement(sql)),
        None => Ok(results),
    }
}
