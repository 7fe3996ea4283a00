//! Executing a prepared statement: Bind and Execute, and reading what comes back.

use std::cell::Cell;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use pg_exceptions::{Error, ParameterError};
use pg_types::{Columns, Row};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use crate::statement::Statement;
use crate::trace::{Protocol, QueryTrace};
use crate::wire::responses::{Frame, Responses};
use crate::wire::task::protocol;
use pg_api::Params;

/// The outcome of running a statement to its end: its rows, and the command tag.
#[derive(Debug, Default)]
pub struct Results {
    /// The rows, in order; empty for statements that return none.
    pub rows: Vec<Row>,
    /// The command of the tag: `SELECT`, `INSERT`, `CREATE TABLE`…
    pub command: String,
    /// The row count of the tag, for commands that report one.
    pub count: Option<u64>,
}

/// Splits a command tag (`INSERT 0 5`, `UPDATE 3`, `CREATE TABLE`) into command and count.
pub(crate) fn parse_tag(tag: &str) -> (String, Option<u64>) {
    let (command, count) = tag_parts(tag);
    (command.to_owned(), count)
}

/// [`parse_tag`] of a tag already owned: the command is the tag cut short, no new string.
pub(crate) fn split_tag(mut tag: String) -> (String, Option<u64>) {
    let (command, count) = tag_parts(&tag);
    let command = command.len();
    tag.truncate(command);
    (tag, count)
}

/// [`parse_tag`] without allocating: the command and the count, borrowed from the tag.
pub(crate) fn tag_parts(tag: &str) -> (&str, Option<u64>) {
    let Some((rest, last)) = tag.rsplit_once(' ') else {
        return (tag, None);
    };
    let Ok(count) = last.parse::<u64>() else {
        return (tag, None);
    };
    // INSERT's tag carries an OID (always 0 now) before the count.
    let command = match rest.split_once(' ') {
        Some(("INSERT", oid)) if !oid.contains(' ') => "INSERT",
        _ => rest,
    };
    (command, Some(count))
}

impl Statement {
    /// Appends Bind for these parameters to `buf`, checking count and types first, and that
    /// the server has the statement (see [`Statement::current`]).
    pub(crate) fn encode_bind<P: Params + ?Sized>(
        &self,
        portal: &str,
        params: &P,
        buf: &mut BytesMut,
    ) -> Result<(), Error> {
        self.current()?;
        let rows = std::slice::from_ref(&params);
        self.encode_bind_rows(portal, &self.inner.name, rows, None, buf)
    }

    /// Appends one Bind of `statement` whose parameters are those of every set in `rows`, one
    /// after the other (set `r`'s value `i` is parameter `r × n + i + 1`, `n` this statement's
    /// parameter count): the Bind of a statement that repeats this one's parameters, as the
    /// batched INSERTs of `load_rows` do. Each set is checked as [`Statement::encode_bind`]
    /// checks its one. With `first_row`, the sets are a load's rows from that one on, and an
    /// error names the row of the set it is about ([`ROW`](crate::ROW)).
    pub(crate) fn encode_bind_rows<R: Params>(
        &self,
        portal: &str,
        statement: &str,
        rows: &[R],
        first_row: Option<usize>,
        buf: &mut BytesMut,
    ) -> Result<(), Error> {
        let at_row = |error: Error, index: usize| match first_row {
            Some(first) => crate::load_error::at_row(error, first + index),
            None => error,
        };
        for (index, params) in rows.iter().enumerate() {
            self.check_params(params).map_err(|e| at_row(e, index))?;
        }
        let types = &self.inner.parameters;
        let n = types.len();
        let failed_at = Cell::new(0usize);
        let columns = &self.inner.columns;
        // One code for all when every column (parameter) is binary, else one code each; the
        // lists are made only then.
        const BINARY: &[i16] = &[1];
        let result_formats: Vec<i16>;
        let result_formats = if columns.iter().all(|c| c.format == 1) {
            BINARY
        } else {
            result_formats = columns.iter().map(|c| c.format).collect();
            &result_formats
        };
        let format = |index: usize| rows[index / n].format(index % n, &types[index % n]);
        let count = n * rows.len();
        let formats: Vec<i16>;
        let formats = if (0..count).all(|i| format(i) == 1) {
            BINARY
        } else {
            formats = (0..count).map(format).collect();
            &formats
        };
        let result = frontend::bind(
            portal,
            statement,
            formats.iter().copied(),
            0..count,
            |index, buf| {
                failed_at.set(index);
                let (params, index) = (&rows[index / n], index % n);
                let start = buf.len();
                match params.encode(index, &types[index], buf)? {
                    postgres_types::IsNull::Yes => Ok(postgres_protocol::IsNull::Yes),
                    // PostgreSQL text cannot hold NUL: say so here, naming the parameter, rather
                    // than let the server refuse the whole message.
                    postgres_types::IsNull::No
                        if textual(&types[index]) && buf[start..].contains(&0) =>
                    {
                        Err("text cannot contain NUL bytes (\\0)".into())
                    }
                    postgres_types::IsNull::No => Ok(postgres_protocol::IsNull::No),
                }
            },
            result_formats.iter().copied(),
            buf,
        );
        match result {
            Ok(()) => Ok(()),
            Err(frontend::BindError::Conversion(cause)) => {
                let (row, index) = (failed_at.get() / n.max(1), failed_at.get() % n.max(1));
                let error = Error::client(
                    &ParameterError,
                    format!(
                        "parameter ${} cannot be encoded as {}: {cause}",
                        index + 1,
                        types[index].name()
                    ),
                )
                .with_statement(&*self.inner.sql);
                Err(at_row(error, row))
            }
            Err(frontend::BindError::Serialization(e)) => Err(protocol(e)),
        }
    }

    /// Bind + Execute(max_rows) + Sync for one execution (after Parse, for the unnamed
    /// statement of `statement_cache=off`).
    fn execution<P: Params>(&self, params: P, max_rows: i32) -> Result<Bytes, Error> {
        // Room for Bind's header, a word per parameter and its value, Execute and Sync: a
        // short execution is encoded without growing the buffer.
        let mut buf = BytesMut::with_capacity(128 + 24 * params.count());
        if self.inner.reparse {
            self.encode_parse(&mut buf)?;
        }
        // Whether the server has the statement is asked when the request is made.
        let name = &self.inner.name;
        self.encode_bind_rows("", name, std::slice::from_ref(&params), None, &mut buf)?;
        frontend::execute("", max_rows, &mut buf).map_err(protocol)?;
        frontend::sync(&mut buf);
        Ok(buf.freeze())
    }

    fn fail(&self, error: Error) -> Error {
        self.inner
            .conn
            .context(error.with_statement(&*self.inner.sql))
    }

    /// Runs the statement to its end and returns every row and the command tag
    /// (py-postgresql's calling a statement).
    pub async fn call<P: Params>(&self, params: P) -> Result<Results, Error> {
        self.ready().await?;
        let trace = self.trace(&params);
        let bytes = self.execution(params, 0)?;
        let responses = self.request(bytes, false)?;
        let mut reader = Reader::traced(self, responses, trace);
        let mut results = Results::default();
        while let Some(item) = reader.next().await {
            match item {
                Item::Tag(tag) => (results.command, results.count) = split_tag(tag),
                item => results.rows.extend(item.into_row()),
            }
        }
        reader.finish().map(|()| results)
    }

    /// Runs the statement with a row limit and returns the rows and the tag, if it completed.
    pub(crate) async fn call_limited<P: Params>(
        &self,
        params: P,
        max_rows: i32,
    ) -> Result<(Vec<Row>, Option<String>), Error> {
        self.ready().await?;
        let trace = self.trace(&params);
        let bytes = self.execution(params, max_rows)?;
        let responses = self.request(bytes, false)?;
        let mut reader = Reader::traced(self, responses, trace);
        let (mut rows, mut tag) = (Vec::new(), None);
        while let Some(item) = reader.next().await {
            match item {
                Item::Tag(t) => tag = Some(t),
                item => rows.extend(item.into_row()),
            }
        }
        reader.finish().map(|()| (rows, tag))
    }

    /// Starts a streamed execution: the answer is read as the consumer pulls it. The
    /// execution is queued now, unless a reset deallocated the statement: then it is
    /// prepared again first, and the execution queued after, when the stream is first pulled.
    pub(crate) fn stream<P: Params>(&self, params: P) -> Result<Start, Error> {
        let trace = self.trace(&params);
        let bytes = self.execution(params, 0)?;
        if self.is_ready() {
            let responses = self.request(bytes, true)?;
            return Ok(Start::Now(Reader::traced(self, responses, trace)));
        }
        let statement = self.clone();
        Ok(Start::Later(Box::pin(async move {
            statement.ready().await?;
            let responses = statement.request(bytes, true)?;
            Ok(Reader::traced(&statement, responses, trace))
        })))
    }

    /// The trace of an execution with these parameters (see [`QueryTrace::start`]).
    #[inline]
    fn trace(&self, params: &dyn Params) -> Option<Box<QueryTrace>> {
        let observe = &self.inner.link.observe;
        QueryTrace::start(observe, Protocol::Extended, &self.inner.sql, Some(params))
    }

    /// Queues an execution of the statement (streamed or not). A COPY FROM STDIN executed
    /// this way has no data to feed it: the server's request for the data is refused.
    fn request(
        &self,
        bytes: Bytes,
        stream: bool,
    ) -> Result<crate::wire::responses::Responses, Error> {
        self.current()?;
        let link = &self.inner.link;
        // Only a COPY's text is looked at past its first bytes.
        let copy = self
            .inner
            .sql
            .trim_start()
            .as_bytes()
            .get(..4)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"copy"));
        let refusal = (copy && crate::copy_in::may_copy_in(&self.inner.sql))
            .then(|| crate::copy_in::copy_in_refusal(true));
        // A stream's pace is its consumer's: the connection's timeout bounds whole answers.
        let timeout = match stream {
            true => None,
            false => self.inner.conn.query_timeout(),
        };
        link.request_execution(bytes, stream, self.hook(), refusal, timeout)
    }
}

/// Whether values of the type travel as text, where PostgreSQL refuses NUL bytes.
fn textual(ty: &postgres_types::Type) -> bool {
    use postgres_types::{Kind, Type};
    match ty.kind() {
        Kind::Domain(base) => textual(base),
        _ => {
            matches!(
                *ty,
                Type::TEXT
                    | Type::VARCHAR
                    | Type::BPCHAR
                    | Type::NAME
                    | Type::UNKNOWN
                    | Type::JSON
                    | Type::XML
            ) || ty.name() == "citext"
        }
    }
}

/// A streamed execution's answer (see [`Statement::stream`]).
#[allow(
    clippy::large_enum_variant,
    reason = "the reader is the common case: boxing it would cost an allocation per execution"
)]
pub(crate) enum Start {
    /// The execution is queued.
    Now(Reader),
    /// The statement is prepared again first: the reader once the execution is queued.
    Later(futures::future::BoxFuture<'static, Result<Reader, Error>>),
}

/// One thing an execution yields.
pub(crate) enum Item {
    Row(Row),
    /// A line (text, CSV) or piece (binary) of COPY … TO STDOUT output.
    Copy(Bytes),
    Tag(String),
    /// The statement was empty (EmptyQueryResponse): it ends without a tag.
    Empty,
}

/// The descriptor of the rows COPY output is given as: one `bytea` column named `copy`.
pub(crate) fn copy_columns() -> Arc<Columns> {
    static COLUMNS: std::sync::OnceLock<Arc<Columns>> = std::sync::OnceLock::new();
    COLUMNS
        .get_or_init(|| {
            Columns::new(vec![pg_types::Column::new(
                "copy",
                postgres_types::Type::BYTEA,
            )])
        })
        .clone()
}

/// COPY output as a row of one `bytea` column, sharing the message's bytes.
pub(crate) fn copy_row(data: Bytes) -> Row {
    let len = data.len();
    Row::from_raw(copy_columns(), data, vec![Some(0..len)])
}

impl Item {
    /// The item as a row: COPY output becomes a one-column `bytea` row.
    #[inline]
    pub(crate) fn into_row(self) -> Option<Row> {
        match self {
            Item::Row(row) => Some(row),
            Item::Copy(data) => Some(copy_row(data)),
            Item::Tag(_) | Item::Empty => None,
        }
    }
}

/// Reads an execution's answer: rows as they come, the tag, and the first error.
pub(crate) struct Reader {
    responses: Responses,
    statement: Statement,
    columns: Arc<Columns>,
    error: Option<Error>,
    done: bool,
    /// A row whose anonymous records name types the session has not read yet: held back
    /// until [`Reader::next`] has read them from the catalog, so its records decode them.
    pending: Option<Box<Row>>,
    /// The execution's span and clock, when anyone looks (see [`QueryTrace::start`]).
    trace: Option<Box<QueryTrace>>,
}

impl Reader {
    /// The reader of an execution without parameters (a cursor's FETCH, a description).
    pub(crate) fn new(statement: &Statement, responses: Responses) -> Reader {
        let observe = &statement.inner.link.observe;
        let trace = QueryTrace::start(observe, Protocol::Extended, &statement.inner.sql, None);
        Reader::traced(statement, responses, trace)
    }

    pub(crate) fn traced(
        statement: &Statement,
        responses: Responses,
        trace: Option<Box<QueryTrace>>,
    ) -> Reader {
        Reader {
            responses,
            columns: statement.inner.columns.clone(),
            statement: statement.clone(),
            error: None,
            done: false,
            pending: None,
            trace,
        }
    }

    /// The next row or tag; None at the end (then [`Reader::finish`] says how it ended).
    ///
    /// A row held back for its records' types is handed over once they are read; a failed
    /// look-up (the block failed meanwhile, the session was lost) leaves them unknown, so
    /// those attributes decode as `Value::Unknown`, and the execution's own outcome stands.
    /// Dropped during the look-up, the row stays held and the query is finished by the
    /// engine: it creates nothing on the server.
    pub(crate) async fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(row) = &self.pending {
                let missing = row.unknown_record_types();
                let _unknown_stays_unknown =
                    crate::typecache::learn(&self.statement.inner.link, &missing).await;
                return self.pending.take().map(|row| Item::Row(*row));
            }
            if self.done {
                return None;
            }
            let frame = match self
                .responses
                .next_frame(&self.statement.inner.link.shared)
                .await
            {
                Ok(frame) => frame,
                Err(e) => {
                    self.error.get_or_insert(e);
                    self.done = true;
                    return None;
                }
            };
            if let Some(item) = self.handle(frame) {
                return Some(item);
            }
        }
    }

    /// The next row or tag if it is already buffered, without waiting.
    pub(crate) fn next_buffered(&mut self) -> Option<Item> {
        while !self.done && self.pending.is_none() {
            match self.responses.next_frame_buffered() {
                Ok(Some(frame)) => {
                    if let Some(item) = self.handle(frame) {
                        return Some(item);
                    }
                }
                Ok(None) => return None,
                Err(e) => {
                    self.error.get_or_insert(e);
                    self.done = true;
                }
            }
        }
        None
    }

    /// Moves the rows already buffered into `rows` (COPY output as one-column rows, tags
    /// skipped) until it holds `limit`, without waiting.
    pub(crate) fn buffered_rows(&mut self, rows: &mut Vec<Row>, limit: usize) {
        while !self.done && self.pending.is_none() && rows.len() < limit {
            // The DataRows in a row go straight from the buffer into rows.
            while rows.len() < limit
                && self.pending.is_none()
                && let Some(body) = self.responses.buffered_data_row()
            {
                rows.extend(self.row(body).and_then(Item::into_row));
            }
            if rows.len() >= limit || self.pending.is_some() {
                return;
            }
            match self.responses.next_frame_buffered() {
                Ok(Some(frame)) => rows.extend(self.handle(frame).and_then(Item::into_row)),
                Ok(None) => return,
                Err(e) => {
                    self.error.get_or_insert(e);
                    self.done = true;
                }
            }
        }
    }

    /// Whether the answer has ended (ReadyForQuery, or the connection failed) and no row
    /// is held back.
    pub(crate) fn is_done(&self) -> bool {
        self.done && self.pending.is_none()
    }

    /// A row of the DataRow `body`: the row takes the body as it came, no copy, no
    /// allocation for a narrow row.
    #[inline]
    fn row(&mut self, body: bytes::Bytes) -> Option<Item> {
        if let Some(trace) = &mut self.trace {
            trace.row();
        }
        match Row::from_data_row_message(self.columns.clone(), body) {
            // One look at the descriptor for rows without records.
            Ok(row)
                if !self.columns.record_columns().is_empty()
                    && !row.unknown_record_types().is_empty() =>
            {
                self.pending = Some(Box::new(row));
            }
            Ok(row) => return Some(Item::Row(row)),
            Err(e) => {
                self.error.get_or_insert(protocol(e));
            }
        }
        None
    }

    fn handle(&mut self, frame: Frame) -> Option<Item> {
        let message = match frame {
            Frame::Message(message) => message,
            Frame::Ack => return None,
            Frame::Tag(tag) => {
                if let Some(trace) = &mut self.trace {
                    trace.tag(&tag);
                }
                return Some(Item::Tag(tag));
            }
            Frame::Copy(data) => return Some(Item::Copy(data)),
            Frame::DataRow(body) => return self.row(body),
            Frame::Ready => {
                self.done = true;
                return None;
            }
        };
        match message {
            Message::CopyData(body) => return Some(Item::Copy(body.into_bytes())),
            Message::CommandComplete(body) => match body.tag() {
                Ok(tag) => {
                    if let Some(trace) = &mut self.trace {
                        trace.tag(tag);
                    }
                    return Some(Item::Tag(tag.to_owned()));
                }
                Err(e) => {
                    self.error.get_or_insert(protocol(e));
                }
            },
            Message::ErrorResponse(body) => {
                let error = crate::wire::error::from_error_body(&body).unwrap_or_else(|e| e);
                self.error.get_or_insert(error);
            }
            Message::ReadyForQuery(_) => self.done = true,
            Message::EmptyQueryResponse => return Some(Item::Empty),
            _ => {}
        }
        None
    }

    /// Moves on to the next statement of a batch ([`crate::batch`]): the rows that follow are
    /// decoded by its columns, and an error is its. The trace of the statement whose tag was
    /// just read ends as it succeeded.
    pub(crate) fn next_statement(&mut self, statement: &Statement, trace: Option<Box<QueryTrace>>) {
        if let Some(trace) = &mut self.trace {
            trace.finish(Ok(()));
        }
        self.trace = trace;
        self.columns = statement.inner.columns.clone();
        self.statement = statement.clone();
    }

    /// How the execution ended: the first error, with the statement's context.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        let outcome = match self.error.take() {
            Some(error) => Err(self.statement.fail(error)),
            None => Ok(()),
        };
        if let Some(trace) = &mut self.trace {
            trace.finish(outcome.as_ref().map(drop));
        }
        outcome
    }
}

impl crate::Connection {
    /// Runs SQL text without parameters as an unnamed statement whose result columns are known
    /// beforehand (a FETCH from a cursor whose query was described), in one round trip:
    /// Parse, Bind with binary result formats, Execute and Sync travel together, so nothing a
    /// concurrent user sends can come between them.
    pub(crate) async fn run_described(
        &self,
        sql: &str,
        columns: Arc<Columns>,
        hook: Option<crate::wire::hooks::MessageHook>,
    ) -> Result<(Vec<Row>, Option<String>), Error> {
        let link = self.link();
        let statement = Statement::unnamed(self.clone(), link.clone(), sql, columns);
        let mut buf = BytesMut::new();
        frontend::parse("", sql, std::iter::empty(), &mut buf).map_err(protocol)?;
        statement.encode_bind("", &(), &mut buf)?;
        frontend::execute("", 0, &mut buf).map_err(protocol)?;
        frontend::sync(&mut buf);
        let responses = link.request(buf.freeze(), 1, hook)?;
        let mut reader = Reader::new(&statement, responses);
        let (mut rows, mut tag) = (Vec::new(), None);
        while let Some(item) = reader.next().await {
            match item {
                Item::Tag(t) => tag = Some(t),
                item => rows.extend(item.into_row()),
            }
        }
        reader.finish().map(|()| (rows, tag))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_tag, split_tag, tag_parts};

    #[test]
    fn command_tags_split_into_command_and_count() {
        assert_eq!(tag_parts("INSERT 0 5"), ("INSERT", Some(5)));
        assert_eq!(tag_parts("SELECT 12"), ("SELECT", Some(12)));
        assert_eq!(tag_parts("UPDATE 0"), ("UPDATE", Some(0)));
        assert_eq!(tag_parts("CREATE TABLE"), ("CREATE TABLE", None));
        assert_eq!(tag_parts("DECLARE CURSOR"), ("DECLARE CURSOR", None));
        assert_eq!(tag_parts("SET"), ("SET", None));
        assert_eq!(tag_parts("COPY 1000000"), ("COPY", Some(1_000_000)));
        assert_eq!(tag_parts(""), ("", None));
        assert_eq!(parse_tag("MERGE 3"), ("MERGE".to_owned(), Some(3)));
        assert_eq!(
            split_tag("INSERT 0 7".into()),
            ("INSERT".to_owned(), Some(7))
        );
        assert_eq!(
            split_tag("CREATE INDEX".into()),
            ("CREATE INDEX".to_owned(), None)
        );
    }
}
