//! psycopg2's connection extras: session characteristics and autocommit (`set_session`,
//! `set_isolation_level`, `commit`, `rollback`), the transaction status in psycopg2's terms,
//! and reading pending notifications.
//!
//! Characteristics live where the server keeps them: `set_session` sets the session defaults
//! `default_transaction_isolation`, `default_transaction_read_only` and
//! `default_transaction_deferrable`, so they govern every following transaction — the blocks
//! psycopg2's mode opens, [`Connection::xact`] blocks without characteristics of their own,
//! and single statements. With autocommit off, the driver queues a `BEGIN` before the next
//! statement when the session is idle (see `extras/session.rs`); with autocommit on (the
//! default) nothing changes on the request path but one relaxed load.
//!
//! ```no_run
//! # async fn example(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
//! use pg_driver::{PqTransactionStatus, SessionChange};
//! db.set_session(SessionChange::new().isolation_level("SERIALIZABLE").autocommit(false))
//!     .await?;
//! db.execute("INSERT INTO t VALUES (1)").await?; // runs inside a block begun for it
//! assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
//! db.commit().await?;
//! # Ok(()) }
//! ```

use pg_exceptions::{Error, InFailedTransactionError, OperationError};
use postgres_types::Type;

use crate::connection::Connection;
use crate::link::Link;
use crate::simple::simple_query;
use crate::wire::shared::{NotificationBatch, TransactionStatus};
use crate::xact_mode::{AccessMode, Isolation};

pub(crate) use crate::link::session::in_block;

/// psycopg2's `ISOLATION_LEVEL_AUTOCOMMIT`: [`Connection::set_isolation_level`] turns
/// autocommit on and leaves the isolation level as it is.
pub const ISOLATION_LEVEL_AUTOCOMMIT: i32 = 0;
/// psycopg2's `ISOLATION_LEVEL_READ_COMMITTED`.
pub const ISOLATION_LEVEL_READ_COMMITTED: i32 = 1;
/// psycopg2's `ISOLATION_LEVEL_REPEATABLE_READ`.
pub const ISOLATION_LEVEL_REPEATABLE_READ: i32 = 2;
/// psycopg2's `ISOLATION_LEVEL_SERIALIZABLE`.
pub const ISOLATION_LEVEL_SERIALIZABLE: i32 = 3;
/// psycopg2's `ISOLATION_LEVEL_READ_UNCOMMITTED`.
pub const ISOLATION_LEVEL_READ_UNCOMMITTED: i32 = 4;
/// psycopg2's `ISOLATION_LEVEL_DEFAULT` (None in Python): the server's default level.
pub const ISOLATION_LEVEL_DEFAULT: i32 = 5;

/// The transaction status in psycopg2's (and libpq's) terms: `get_transaction_status()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PqTransactionStatus {
    /// No transaction block, nothing in flight.
    Idle,
    /// A request is in flight (the driver's own housekeeping, such as closing a dropped
    /// statement, counts too).
    Active,
    /// Inside a transaction block, nothing in flight.
    InTrans,
    /// Inside a failed transaction block, nothing in flight.
    InError,
    /// The connection is closed.
    Unknown,
}

impl PqTransactionStatus {
    /// psycopg2's `TRANSACTION_STATUS_*` value: 0 IDLE, 1 ACTIVE, 2 INTRANS, 3 INERROR,
    /// 4 UNKNOWN.
    pub fn code(self) -> i32 {
        match self {
            PqTransactionStatus::Idle => 0,
            PqTransactionStatus::Active => 1,
            PqTransactionStatus::InTrans => 2,
            PqTransactionStatus::InError => 3,
            PqTransactionStatus::Unknown => 4,
        }
    }
}

/// What [`Connection::set_session`] changes (psycopg2's `set_session` arguments): what is not
/// given stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionChange {
    isolation: Option<String>,
    readonly: Option<Option<bool>>,
    deferrable: Option<Option<bool>>,
    autocommit: Option<bool>,
}

impl SessionChange {
    /// A change that changes nothing yet.
    pub fn new() -> SessionChange {
        SessionChange::default()
    }

    /// The isolation level of the following transactions: PostgreSQL's words in any case
    /// (`"SERIALIZABLE"`, `"repeatable read"`, an [`Isolation`]) or `"DEFAULT"` for the
    /// server's default. Checked by `set_session` before anything is sent.
    pub fn isolation_level(mut self, level: impl AsRef<str>) -> SessionChange {
        self.isolation = Some(level.as_ref().to_owned());
        self
    }

    /// Whether the following transactions are READ ONLY; None returns to the server's default.
    pub fn readonly(mut self, readonly: Option<bool>) -> SessionChange {
        self.readonly = Some(readonly);
        self
    }

    /// Whether the following transactions are DEFERRABLE; None returns to the server's default.
    pub fn deferrable(mut self, deferrable: Option<bool>) -> SessionChange {
        self.deferrable = Some(deferrable);
        self
    }

    /// Whether each statement is its own transaction (on) or the driver opens a block before
    /// the next statement, to be ended by [`Connection::commit`] or [`Connection::rollback`].
    pub fn autocommit(mut self, on: bool) -> SessionChange {
        self.autocommit = Some(on);
        self
    }
}

fn operation(message: impl Into<String>) -> Error {
    Error::client(&OperationError, message)
}

/// A level's text, or DEFAULT (None).
fn parse_level(text: &str) -> Result<Option<Isolation>, Error> {
    if text.trim().eq_ignore_ascii_case("DEFAULT") {
        return Ok(None);
    }
    text.parse::<Isolation>().map(Some).map_err(|_| {
        operation(format!(
            "unknown transaction isolation level {text:?}: expected SERIALIZABLE, REPEATABLE \
             READ, READ COMMITTED, READ UNCOMMITTED or DEFAULT"
        ))
    })
}

fn on_off(value: bool) -> &'static str {
    if value { "on" } else { "off" }
}

const INSIDE: &str = "the session's characteristics cannot change inside a transaction: commit \
                      or roll back first";

impl Connection {
    /// The transaction status in psycopg2's terms: ACTIVE while a request is in flight,
    /// UNKNOWN once the connection is closed, else from the last ReadyForQuery.
    pub fn get_transaction_status(&self) -> PqTransactionStatus {
        let link = self.link();
        if link.shared.is_closed() {
            return PqTransactionStatus::Unknown;
        }
        if link.session.active() {
            return PqTransactionStatus::Active;
        }
        match link.shared.status() {
            TransactionStatus::Idle => PqTransactionStatus::Idle,
            TransactionStatus::InTransaction => PqTransactionStatus::InTrans,
            TransactionStatus::Failed => PqTransactionStatus::InError,
        }
    }

    /// Whether each statement is its own transaction (the default). When off, the driver
    /// opens a block before the next statement (psycopg2's default mode).
    pub fn autocommit(&self) -> bool {
        self.link().session.autocommit()
    }

    /// Turns autocommit on or off; refused inside a transaction (OperationError).
    pub fn set_autocommit(&self, on: bool) -> Result<(), Error> {
        let link = self.link();
        if link.session.autocommit() != on && in_block(&link) {
            return Err(operation(INSIDE));
        }
        link.session.set_autocommit(on);
        Ok(())
    }

    /// With autocommit off, opens the block now rather than at the next statement: the
    /// connection counts as in a block at once (transactions started meanwhile,
    /// [`Connection::xact`], are savepoints in it), and its `BEGIN` goes out with the next
    /// request, with no round trip of its own (in front of its messages, under its Sync,
    /// when it is a request of the extended protocol). A block ended before any request
    /// began it (`commit`, `rollback`, `clean`, `reset`) costs nothing. Does nothing when a
    /// block is open or on its way; refused with autocommit on (OperationError), where there
    /// is no block to open lazily.
    pub fn open_block(&self) -> Result<(), Error> {
        let link = self.link();
        if link.session.autocommit() {
            return Err(operation(
                "open_block opens autocommit off's block: turn autocommit off first",
            ));
        }
        if !in_block(&link) {
            link.session.owe_block();
        }
        Ok(())
    }

    /// The isolation level `set_session` gave the following transactions; None for the
    /// server's default (psycopg2's `isolation_level`; `SHOW default_transaction_isolation`
    /// tells what that is).
    pub fn isolation_level(&self) -> Option<Isolation> {
        self.link().session.characteristics().isolation
    }

    /// Whether `set_session` made the following transactions READ ONLY; None for the
    /// server's default (psycopg2's `readonly`).
    pub fn readonly(&self) -> Option<bool> {
        let access = self.link().session.characteristics().access;
        access.map(|a| a == AccessMode::ReadOnly)
    }

    /// Whether `set_session` made the following transactions DEFERRABLE; None for the
    /// server's default (psycopg2's `deferrable`).
    pub fn deferrable(&self) -> Option<bool> {
        self.link().session.characteristics().deferrable
    }

    /// psycopg2's `set_session`: sets the characteristics of the following transactions (as
    /// the session defaults `default_transaction_*`, in one round trip) and autocommit. An
    /// unknown isolation level is refused before anything is sent, and so is any change inside
    /// a transaction (OperationError).
    pub async fn set_session(&self, change: SessionChange) -> Result<(), Error> {
        let isolation = change.isolation.as_deref().map(parse_level).transpose()?;
        let link = self.link();
        if in_block(&link) {
            return Err(operation(INSIDE));
        }
        self.apply_session(&link, isolation, change.readonly, change.deferrable)
            .await?;
        if let Some(on) = change.autocommit {
            link.session.set_autocommit(on);
        }
        Ok(())
    }

    /// psycopg2's `set_isolation_level`: rolls back the current transaction, then
    /// [`ISOLATION_LEVEL_AUTOCOMMIT`] turns autocommit on, and any other level turns it off
    /// and sets the level of the following transactions ([`ISOLATION_LEVEL_DEFAULT`]: the
    /// server's). A level that is not one of the `ISOLATION_LEVEL_*` constants is refused
    /// before anything is sent (OperationError).
    pub async fn set_isolation_level(&self, level: i32) -> Result<(), Error> {
        let isolation = match level {
            ISOLATION_LEVEL_AUTOCOMMIT => None,
            ISOLATION_LEVEL_READ_COMMITTED => Some(Some(Isolation::ReadCommitted)),
            ISOLATION_LEVEL_REPEATABLE_READ => Some(Some(Isolation::RepeatableRead)),
            ISOLATION_LEVEL_SERIALIZABLE => Some(Some(Isolation::Serializable)),
            ISOLATION_LEVEL_READ_UNCOMMITTED => Some(Some(Isolation::ReadUncommitted)),
            ISOLATION_LEVEL_DEFAULT => Some(None),
            _ => {
                return Err(operation(format!(
                    "unknown isolation level {level}: expected one of psycopg2's \
                     ISOLATION_LEVEL_* constants, 0 to 5"
                )));
            }
        };
        self.rollback().await?;
        let link = self.link();
        self.apply_session(&link, isolation, None, None).await?;
        link.session
            .set_autocommit(level == ISOLATION_LEVEL_AUTOCOMMIT);
        Ok(())
    }

    async fn apply_session(
        &self,
        link: &Link,
        isolation: Option<Option<Isolation>>,
        readonly: Option<Option<bool>>,
        deferrable: Option<Option<bool>>,
    ) -> Result<(), Error> {
        let mut names: Vec<&str> = Vec::new();
        let mut values: Vec<Option<&str>> = Vec::new();
        let mut kept = link.session.characteristics();
        if let Some(level) = isolation {
            names.push("default_transaction_isolation");
            values.push(level.map(Isolation::as_setting));
            kept.isolation = level;
        }
        if let Some(readonly) = readonly {
            names.push("default_transaction_read_only");
            values.push(readonly.map(on_off));
            kept.access = readonly.map(|r| match r {
                true => AccessMode::ReadOnly,
                false => AccessMode::ReadWrite,
            });
        }
        if let Some(deferrable) = deferrable {
            names.push("default_transaction_deferrable");
            values.push(deferrable.map(on_off));
            kept.deferrable = deferrable;
        }
        if names.is_empty() {
            return Ok(());
        }
        run_unbegun(
            link,
            crate::settings::SET_MANY,
            &[(&names, Type::TEXT_ARRAY), (&values, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(|e| self.context(e))?;
        link.session.set_characteristics(kept);
        Ok(())
    }

    /// Commits the current transaction block (psycopg2's `commit`); does nothing outside one.
    /// A block in which an error occurred is rolled back by the server instead:
    /// InFailedTransactionError. Transactions the driver opened in the block end with it.
    pub async fn commit(&self) -> Result<(), Error> {
        let results = self.end_block("COMMIT").await?;
        if results.first().is_some_and(|r| r.tag == "ROLLBACK") {
            return Err(self.context(Error::client(
                &InFailedTransactionError,
                "the transaction failed (an error occurred inside it) and was rolled back \
                 instead of committed",
            )));
        }
        Ok(())
    }

    /// Rolls back the current transaction block (psycopg2's `rollback`); does nothing outside
    /// one. Transactions the driver opened in the block end with it.
    pub async fn rollback(&self) -> Result<(), Error> {
        self.end_block("ROLLBACK").await.map(drop)
    }

    async fn end_block(&self, sql: &str) -> Result<Vec<crate::SimpleResult>, Error> {
        let link = self.link();
        if link.shared.is_closed() {
            return Err(self.context(link.shared.closed_error()));
        }
        // A block promised that no request began has nothing to end on the server.
        link.session.forget_owed();
        if !in_block(&link) {
            return Ok(Vec::new());
        }
        link.xacts.clear();
        simple_query(&link, sql).await.map_err(|e| self.context(e))
    }

    /// Reads what the server holds for this session (a bare Sync, no statement), then takes
    /// the notifications received so far: psycopg2's `conn.poll()` and `conn.notifies`, with
    /// how many a full queue dropped before them ([`NotificationBatch::dropped`]).
    pub async fn notifies(&self) -> Result<NotificationBatch, Error> {
        let link = self.link();
        crate::oneshot::sync(&link)
            .await
            .map_err(|e| self.context(e))?;
        Ok(link.shared.take_notifications())
    }

    /// `DISCARD ALL` outside any block even when autocommit is off; it also returns the
    /// characteristics `set_session` gave to the server's defaults, so they are forgotten.
    ///
    /// What it discards is forgotten as soon as it is queued, before its answer: the
    /// connection task runs it whatever becomes of this future, and every request queued
    /// after it runs after it. Statements prepared before are prepared again on their next
    /// use, cursors declared before are closed, advisory locks taken before are released
    /// (see the `resets` count of the link).
    pub(crate) async fn discard_all(&self) -> Result<(), Error> {
        const SQL: &str = "DISCARD ALL";
        let link = self.link();
        link.session.forget_owed();
        let mut responses = send_unbegun(&link, SQL, &[]).map_err(|e| self.context(e))?;
        link.resets
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        // DISCARD ALL deallocates every statement.
        self.clear_statement_cache();
        link.session.set_characteristics(Default::default());
        // The state after connect autocommits.
        link.session.set_autocommit(true);
        read_unbegun(&link, SQL, &mut responses)
            .await
            .map(drop)
            .map_err(|e| self.context(e))
    }
}

/// Queues a one-round-trip statement with bound parameters outside the lazy BEGIN; its
/// answer is for [`read_unbegun`].
pub(crate) fn send_unbegun(
    link: &Link,
    sql: &str,
    params: &[(&(dyn postgres_types::ToSql + Sync), postgres_types::Type)],
) -> Result<crate::wire::responses::Responses, Error> {
    let bytes = crate::settings::encode_one_shot(sql, params).map_err(|e| e.with_statement(sql))?;
    link.request_unbegun(bytes)
}

/// Reads the answer of [`send_unbegun`]: text rows.
pub(crate) async fn read_unbegun(
    link: &Link,
    sql: &str,
    responses: &mut crate::wire::responses::Responses,
) -> Result<crate::oneshot::TextRows, Error> {
    crate::oneshot::read(link, responses)
        .await
        .map_err(|e| e.with_statement(sql))
}

/// Runs a one-round-trip statement with bound parameters outside the lazy BEGIN; text rows.
pub(crate) async fn run_unbegun(
    link: &Link,
    sql: &str,
    params: &[(&(dyn postgres_types::ToSql + Sync), postgres_types::Type)],
) -> Result<crate::oneshot::TextRows, Error> {
    let mut responses = send_unbegun(link, sql, params)?;
    read_unbegun(link, sql, &mut responses).await
}
