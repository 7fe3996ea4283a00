//! The streaming execution methods: `rows`, `chunks` and `column`, and `first`.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use pg_exceptions::Error;
use pg_types::{Row, Value};
use postgres_types::{FromSqlOwned, Type};

use crate::execute::{Item, parse_tag};
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

boxed_stream!(
    /// The rows of an execution, read from the socket as they are pulled.
    RowStream,
    Row
);
boxed_stream!(
    /// The rows of an execution in batches: the fast path.
    ChunkStream,
    Vec<Row>
);
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
    pub fn rows<P: Params>(&self, params: P) -> Result<RowStream, Error> {
        let reader = self.stream(params)?;
        Ok(RowStream(Box::pin(futures::stream::unfold(
            reader,
            |mut reader| async move {
                loop {
                    match reader.next().await {
                        Some(Item::Tag(_)) => continue,
                        Some(item) => return item.into_row().map(|row| (Ok(row), reader)),
                        None => return reader.finish().err().map(|e| (Err(e), reader)),
                    }
                }
            },
        ))))
    }

    /// The rows in batches of what has arrived (at most [`CHUNK_ROWS`] each).
    pub fn chunks<P: Params>(&self, params: P) -> Result<ChunkStream, Error> {
        let reader = self.stream(params)?;
        Ok(ChunkStream(Box::pin(futures::stream::unfold(
            reader,
            |mut reader| async move {
                let mut chunk = Vec::new();
                loop {
                    let item = match reader.next_buffered() {
                        Some(item) => Some(item),
                        None if chunk.is_empty() => reader.next().await,
                        None => break,
                    };
                    match item {
                        Some(Item::Tag(_)) => {}
                        Some(item) => {
                            chunk.extend(item.into_row());
                            if chunk.len() >= CHUNK_ROWS {
                                break;
                            }
                        }
                        None if chunk.is_empty() => {
                            return reader.finish().err().map(|e| (Err(e), reader));
                        }
                        None => break,
                    }
                }
                Some((Ok(chunk), reader))
            },
        ))))
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
