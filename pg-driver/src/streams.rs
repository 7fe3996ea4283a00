//! The streaming execution methods: `rows`, `chunks` and `column`, and `first`.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use pg_exceptions::Error;
use pg_types::{Row, Value};
use postgres_types::{FromSqlOwned, Type};

use crate::execute::{Item, Reader, Start, parse_tag};
use crate::statement::Statement;
use pg_api::Params;

/// How many rows a chunk holds at most.
pub const CHUNK_ROWS: usize = 4096;

macro_rules! boxed_stream {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        pub struct $name(BoxStream<'static, Result<$item, Error>>);

        impl Stream for $name {
            type Item = Result<$item, Error>;

            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                self.0.as_mut().poll_next(cx)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

/// An execution's answer for a stream: what is already buffered is taken synchronously, and
/// only waiting for more goes through a future (the reader moves into it, and back when the
/// wait is over), so a row costs no future of its own.
#[allow(
    clippy::large_enum_variant,
    reason = "the reader is the common case: boxing it would cost an allocation per stream"
)]
pub(crate) enum Pump {
    /// The statement is being prepared again after a reset; the execution follows.
    Starting(BoxFuture<'static, Result<Reader, Error>>),
    /// It could not be: the error, until handed over.
    Failed(Option<Error>),
    /// Between waits.
    Idle(Reader),
    /// Waiting for the next thing the server sends.
    Waiting(BoxFuture<'static, (Reader, Option<Item>)>),
    /// Only while the reader moves from one state to the other.
    Moving,
}

impl Pump {
    pub(crate) fn new(start: Start) -> Pump {
        match start {
            Start::Now(reader) => Pump::Idle(reader),
            Start::Later(starting) => Pump::Starting(starting),
        }
    }

    /// The next row, COPY piece or tag; None at the end (then [`Pump::finish`]).
    pub(crate) fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        loop {
            match self {
                Pump::Starting(starting) => match starting.as_mut().poll(cx) {
                    Poll::Ready(Ok(reader)) => *self = Pump::Idle(reader),
                    Poll::Ready(Err(error)) => {
                        *self = Pump::Failed(Some(error));
                        return Poll::Ready(None);
                    }
                    Poll::Pending => return Poll::Pending,
                },
                Pump::Failed(_) => return Poll::Ready(None),
                Pump::Idle(reader) => {
                    if let Some(item) = reader.next_buffered() {
                        return Poll::Ready(Some(item));
                    }
                    if reader.is_done() {
                        return Poll::Ready(None);
                    }
                    let Pump::Idle(mut reader) = std::mem::replace(self, Pump::Moving) else {
                        unreachable!("matched Idle")
                    };
                    *self = Pump::Waiting(Box::pin(async move {
                        let item = reader.next().await;
                        (reader, item)
                    }));
                }
                Pump::Waiting(wait) => {
                    let Poll::Ready((reader, item)) = wait.as_mut().poll(cx) else {
                        return Poll::Pending;
                    };
                    *self = Pump::Idle(reader);
                    return Poll::Ready(item);
                }
                Pump::Moving => return Poll::Ready(None),
            }
        }
    }

    /// The next row (COPY pieces as rows, tags skipped); at the end, how the execution
    /// ended: the first error, once, or None.
    fn poll_row(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Row, Error>>> {
        loop {
            let Poll::Ready(item) = self.poll_item(cx) else {
                return Poll::Pending;
            };
            match item {
                Some(Item::Tag(_) | Item::Empty) => {}
                Some(item) => return Poll::Ready(item.into_row().map(Ok)),
                None => return Poll::Ready(self.finish().map(Err)),
            }
        }
    }

    /// The reader, between waits.
    fn reader(&mut self) -> Option<&mut Reader> {
        match self {
            Pump::Idle(reader) => Some(reader),
            _ => None,
        }
    }

    /// How the execution ended, once [`Pump::poll_item`] gave None: the first error, once.
    pub(crate) fn finish(&mut self) -> Option<Error> {
        match self {
            Pump::Failed(error) => error.take(),
            _ => self.reader().and_then(|reader| reader.finish().err()),
        }
    }
}

/// The rows of an execution, read from the socket as they are pulled.
pub struct RowStream(Pump);

impl Stream for RowStream {
    type Item = Result<Row, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_row(cx)
    }
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RowStream")
    }
}

/// The rows of an execution in batches: the fast path.
pub struct ChunkStream {
    pump: Pump,
    /// Room for as many rows as the last chunk got (a power of two, at most [`CHUNK_ROWS`]),
    /// so a stream of full chunks allocates each once instead of growing it twelve times.
    capacity: usize,
}

impl Stream for ChunkStream {
    type Item = Result<Vec<Row>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        // A chunk is what has arrived: it waits only for its first row.
        let first = match this.pump.poll_row(cx) {
            Poll::Ready(Some(Ok(row))) => row,
            Poll::Ready(other) => return Poll::Ready(other.map(|end| end.map(|row| vec![row]))),
            Poll::Pending => return Poll::Pending,
        };
        let mut chunk = Vec::with_capacity(this.capacity.max(1));
        chunk.push(first);
        if let Some(reader) = this.pump.reader() {
            reader.buffered_rows(&mut chunk, CHUNK_ROWS);
        }
        this.capacity = chunk.len().next_power_of_two().min(CHUNK_ROWS);
        // A chunk handed over holds at most four times the room its rows take.
        if chunk.len() < chunk.capacity() / 4 {
            chunk.shrink_to_fit();
        }
        Poll::Ready(Some(Ok(chunk)))
    }
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChunkStream")
    }
}

boxed_stream!(
    /// The first column of each row of an execution.
    ColumnStream,
    Value
);

/// What `first` gives, by py-postgresql's rules.
#[derive(Debug)]
pub enum First {
    /// The single column of the first row.
    Value(Value),
    /// The first row, when there are several columns.
    Row(Row),
    /// The row count of a command that reports one (INSERT, UPDATE, DELETE…).
    Count(u64),
    /// The command of a statement that reports no count (CREATE TABLE…).
    Command(String),
    /// No row came back.
    None,
}

/// A type `first` can produce: [`First`] (py-postgresql's rules), or any `FromSql` type read
/// from the first column of the first row (no row counts as NULL, so `Option<T>` gives None; a
/// statement without columns gives its row count).
pub trait FromFirst: Sized {
    /// Builds the value from the statement's first result.
    fn from_first(first: FirstResult) -> Result<Self, Error>;
}

/// The raw material of `first`: the first row (if any) and the tag.
#[derive(Debug)]
pub struct FirstResult {
    /// The first row, if any.
    pub row: Option<Row>,
    /// Whether the statement returns columns.
    pub has_columns: bool,
    /// The command tag, when the statement completed.
    pub tag: Option<String>,
}

impl FromFirst for First {
    fn from_first(first: FirstResult) -> Result<First, Error> {
        if !first.has_columns {
            let (command, count) = parse_tag(first.tag.as_deref().unwrap_or_default());
            return Ok(match count {
                Some(count) => First::Count(count),
                None => First::Command(command),
            });
        }
        match first.row {
            None => Ok(First::None),
            Some(row) if row.len() == 1 => Ok(First::Value(row.value(0)?)),
            Some(row) => Ok(First::Row(row)),
        }
    }
}

impl<T: FromSqlOwned> FromFirst for T {
    fn from_first(first: FirstResult) -> Result<T, Error> {
        let io = |e: Box<dyn std::error::Error + Sync + Send>| {
            Error::client(
                &pg_exceptions::ColumnError,
                format!("cannot read the first value: {e}"),
            )
        };
        if !first.has_columns {
            let (_, count) = parse_tag(first.tag.as_deref().unwrap_or_default());
            return match count {
                Some(count) => T::from_sql(&Type::INT8, &(count as i64).to_be_bytes()).map_err(io),
                None => T::from_sql_null(&Type::INT8).map_err(io),
            };
        }
        match first.row {
            Some(row) => row.try_get::<T>(0),
            None => {
                let ty = Type::TEXT;
                T::from_sql_null(&ty).map_err(|_| {
                    Error::client(
                        &pg_exceptions::OperationError,
                        "the statement returned no rows: ask for an Option to accept none",
                    )
                })
            }
        }
    }
}

impl Statement {
    /// The first result by py-postgresql's rules ([`First`]), or typed: `first::<i64>()`.
    pub async fn first<T: FromFirst, P: Params>(&self, params: P) -> Result<T, Error> {
        let has_columns = !self.columns().is_empty();
        let (rows, tag) = self
            .call_limited(params, if has_columns { 1 } else { 0 })
            .await?;
        T::from_first(FirstResult {
            row: rows.into_iter().next(),
            has_columns,
            tag,
        })
    }

    /// The rows, read from the socket as they are pulled: memory stays bounded.
    ///
    /// The execution is queued at once, or, for a statement a [`Connection::reset`]
    /// deallocated, when the stream is first pulled, after the statement is prepared again
    /// (see [`Statement`]).
    ///
    /// [`Connection::reset`]: crate::Connection::reset
    pub fn rows<P: Params>(&self, params: P) -> Result<RowStream, Error> {
        Ok(RowStream(Pump::new(self.stream(params)?)))
    }

    /// The rows in batches of what has arrived (at most [`CHUNK_ROWS`] each); queued as
    /// [`Statement::rows`] says.
    pub fn chunks<P: Params>(&self, params: P) -> Result<ChunkStream, Error> {
        Ok(ChunkStream {
            pump: Pump::new(self.stream(params)?),
            capacity: 0,
        })
    }

    /// The first column of each row, as it is pulled.
    pub fn column<P: Params>(&self, params: P) -> Result<ColumnStream, Error> {
        use futures::StreamExt;
        let rows = self.rows(params)?;
        Ok(ColumnStream(Box::pin(
            rows.map(|row| row.and_then(|row| row.value(0))),
        )))
    }
}
