//! Batches: statements known up front, sent together and run under one Sync
//! ([`Connection::batch`]).
//!
//! A batch is one request of the engine: Bind and Execute for each statement, then one Sync.
//! The server runs the statements one after the other and answers them in a single cycle, so
//! a batch costs one round trip, and one server wake-up, however many statements it holds.
//! Outside a transaction block the messages before a Sync are one implicit transaction: the
//! batch commits whole or not at all. Inside a block the statements run in it, and a failure
//! fails the block. Being one request, a batch given up (its future dropped) is either not
//! sent at all or sent whole; a batch sent whole runs whole on the server, or is cancelled
//! there as any execution a caller gave up ([`crate::wire::abandon`]), and outside a block it
//! still commits all or nothing.

use bytes::BytesMut;
use pg_api::Params;
use pg_exceptions::Error;
use postgres_protocol::message::frontend;

use crate::connection::Connection;
use crate::execute::{Item, Reader, split_tag};
use crate::statement::Statement;
use crate::trace::{Protocol, QueryTrace};
use crate::wire::task::protocol;
use crate::{Results, TransactionStatus};

/// Statements to run together under one Sync, in order, made by [`Connection::batch`]: one
/// round trip for all of them. Each statement comes from the connection's statement cache
/// ([`Connection::prepare_cached`]); a text the cache does not hold yet is prepared first,
/// in round trips of its own.
///
/// ```no_run
/// # async fn example(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
/// let results = db
///     .batch()
///     .query("UPDATE accounts SET balance = balance - $2 WHERE id = $1", (7i64, 10i64))
///     .query("INSERT INTO audit (account, amount) VALUES ($1, $2)", (7i64, -10i64))
///     .run()
///     .await?;
/// assert_eq!(results[0].count, Some(1));
/// # Ok(()) }
/// ```
#[must_use = "a batch does nothing until it is run"]
#[derive(Debug)]
pub struct Batch<'a> {
    conn: &'a Connection,
    statements: BatchStatements<'a>,
}

/// The statements of a batch with their parameters, in order: what a [`Batch`] holds, and
/// pg-session's batches before they take a connection. Its `Debug` lists the statements,
/// never their parameters (which may hold secrets).
#[derive(Default)]
pub struct BatchStatements<'a> {
    items: Vec<(&'a str, Box<dyn Params + Send + Sync + 'a>)>,
}

impl std::fmt::Debug for BatchStatements<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.sql()).finish()
    }
}

impl<'a> BatchStatements<'a> {
    /// No statement yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `sql` with `params` after the statements already there.
    pub fn push<P: Params + Send + Sync + 'a>(&mut self, sql: &'a str, params: P) {
        self.items.push((sql, Box::new(params)));
    }

    /// How many statements there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no statement.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The statements' texts, in order.
    pub fn sql(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.items.iter().map(|(sql, _)| *sql)
    }
}

impl Connection {
    /// A batch of statements to run together: one round trip for all, their answers in one
    /// server cycle. Outside a transaction block the batch is one implicit transaction (all
    /// of it commits, or none); inside one its statements run in the block. The first
    /// statement that fails stops the batch: the server skips the rest, and its error is
    /// returned. See [`Batch`].
    ///
    /// Transaction commands inside a batch (`BEGIN`, `COMMIT`, `SAVEPOINT`…) act on that
    /// transaction as PostgreSQL defines for a pipeline (a `BEGIN` leaves a block open after
    /// the batch, a `COMMIT` ends the implicit transaction where it stands); the all-or-nothing
    /// guarantee is for batches without them. Use [`Connection::xact`] around a batch instead.
    pub fn batch(&self) -> Batch<'_> {
        self.batch_of(BatchStatements::new())
    }

    /// A batch of `statements` gathered beforehand (see [`Connection::batch`]).
    pub fn batch_of<'a>(&'a self, statements: BatchStatements<'a>) -> Batch<'a> {
        Batch {
            conn: self,
            statements,
        }
    }
}

impl<'a> Batch<'a> {
    /// Adds `sql` with `params`; the statements run in the order they were added.
    pub fn query<P: Params + Send + Sync + 'a>(mut self, sql: &'a str, params: P) -> Self {
        self.statements.push(sql, params);
        self
    }

    /// The statements so far.
    pub fn statements(&self) -> &BatchStatements<'a> {
        &self.statements
    }

    /// Runs the statements and returns their results, in order. An empty batch sends
    /// nothing.
    ///
    /// A parameter that cannot be encoded fails the batch before anything is sent. A
    /// statement that fails on the server fails the batch with its error (which names that
    /// statement); the statements after it were not run, and those before it were undone
    /// (outside a block) or are part of the now failed block. As with
    /// [`Connection::query_cached`], a cached statement found stale (deallocated by SQL, or a
    /// table it reads changed its columns) is prepared again and the batch run once more,
    /// when nothing can have run: outside a transaction block.
    pub async fn run(self) -> Result<Vec<Results>, Error> {
        if self.statements.is_empty() {
            return Ok(Vec::new());
        }
        match self.run_once().await {
            Err((_, Some(stale))) if self.conn.transaction_status() == TransactionStatus::Idle => {
                self.conn.uncache(stale);
                self.run_once().await.map_err(|(error, _)| error)
            }
            other => other.map_err(|(error, _)| error),
        }
    }

    /// One attempt; a failure says which statement's text was found stale, if that is why.
    async fn run_once(&self) -> Result<Vec<Results>, (Error, Option<&'a str>)> {
        let conn = self.conn;
        let mut statements = Vec::with_capacity(self.statements.len());
        for sql in self.statements.sql() {
            let statement = conn.prepare_cached(sql).await.map_err(|e| (e, None))?;
            statement.ready().await.map_err(|e| (e, None))?;
            statements.push(statement);
        }
        let bytes = self.encode(&statements).map_err(|e| (e, None))?;
        let link = conn.link();
        let refusal = statements
            .iter()
            .any(|s| crate::copy_in::may_copy_in(s.string()))
            .then(|| crate::copy_in::copy_in_refusal(true));
        let responses = link
            .request_execution(bytes, false, None, refusal, conn.query_timeout())
            .map_err(|e| (e, None))?;

        let trace = |k: usize| {
            QueryTrace::start(
                &link.observe,
                Protocol::Extended,
                statements[k].string(),
                Some(&*self.statements.items[k].1),
            )
        };
        let mut reader = Reader::traced(&statements[0], responses, trace(0));
        let mut results = Vec::with_capacity(statements.len());
        let mut current = Results::default();
        while let Some(item) = reader.next().await {
            match item {
                end @ (Item::Tag(_) | Item::Empty) => {
                    if let Item::Tag(tag) = end {
                        (current.command, current.count) = split_tag(tag);
                    }
                    results.push(std::mem::take(&mut current));
                    let next = results.len();
                    if next < statements.len() {
                        reader.next_statement(&statements[next], trace(next));
                    }
                }
                item => current.rows.extend(item.into_row()),
            }
        }
        match reader.finish() {
            Ok(()) if results.len() == statements.len() => Ok(results),
            Ok(()) => Err((
                Error::client(
                    &pg_exceptions::ProtocolError,
                    format!(
                        "the server answered {} of a batch's {} statements",
                        results.len(),
                        statements.len()
                    ),
                ),
                None,
            )),
            Err(error) => {
                let failed = results.len().min(statements.len() - 1);
                let stale = crate::statement_cache::stale(&error)
                    .then_some(self.statements.items[failed].0);
                Err((error, stale))
            }
        }
    }

    /// Bind + Execute for each statement, then one Sync.
    fn encode(&self, statements: &[Statement]) -> Result<bytes::Bytes, Error> {
        let mut buf = BytesMut::with_capacity(64 + 128 * statements.len());
        for (statement, (_, params)) in statements.iter().zip(&self.statements.items) {
            if statement.inner.reparse {
                statement.encode_parse(&mut buf)?;
            }
            // Its errors name the statement.
            statement.encode_bind("", &**params, &mut buf)?;
            frontend::execute("", 0, &mut buf).map_err(protocol)?;
        }
        frontend::sync(&mut buf);
        Ok(buf.freeze())
    }
}
