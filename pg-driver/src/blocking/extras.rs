//! Blocking psycopg2 connection extras: session characteristics, autocommit, commit and
//! rollback, the transaction status in psycopg2's terms, pending notifications.

use pg_exceptions::Error;

use super::Connection;
use crate::{Isolation, PqTransactionStatus, SessionChange};

impl Connection {
    /// The transaction status in psycopg2's terms (ACTIVE while a request is in flight,
    /// UNKNOWN once closed).
    pub fn get_transaction_status(&self) -> PqTransactionStatus {
        self.as_async().get_transaction_status()
    }

    /// Whether each statement is its own transaction (the default).
    pub fn autocommit(&self) -> bool {
        self.as_async().autocommit()
    }

    /// Turns autocommit on or off; refused inside a transaction (OperationError).
    pub fn set_autocommit(&self, on: bool) -> Result<(), Error> {
        self.as_async().set_autocommit(on)
    }

    /// With autocommit off, opens the block now, its BEGIN travelling with the next request:
    /// see [`crate::Connection::open_block`].
    pub fn open_block(&self) -> Result<(), Error> {
        self.as_async().open_block()
    }

    /// The isolation level `set_session` gave the following transactions; None for the
    /// server's default.
    pub fn isolation_level(&self) -> Option<Isolation> {
        self.as_async().isolation_level()
    }

    /// Whether `set_session` made the following transactions READ ONLY; None for the default.
    pub fn readonly(&self) -> Option<bool> {
        self.as_async().readonly()
    }

    /// Whether `set_session` made the following transactions DEFERRABLE; None for the default.
    pub fn deferrable(&self) -> Option<bool> {
        self.as_async().deferrable()
    }

    /// psycopg2's `set_session`: the characteristics of the following transactions and
    /// autocommit; refused inside a transaction, and for unknown levels, before anything is
    /// sent (OperationError).
    pub fn set_session(&self, change: SessionChange) -> Result<(), Error> {
        self.block_on(self.as_async().set_session(change))?
    }

    /// psycopg2's `set_isolation_level`: rolls back the current transaction, then sets the
    /// level (one of the `ISOLATION_LEVEL_*` constants; 0 turns autocommit on).
    pub fn set_isolation_level(&self, level: i32) -> Result<(), Error> {
        self.block_on(self.as_async().set_isolation_level(level))?
    }

    /// Commits the current transaction block; does nothing outside one.
    pub fn commit(&self) -> Result<(), Error> {
        self.block_on(self.as_async().commit())?
    }

    /// Rolls back the current transaction block; does nothing outside one.
    pub fn rollback(&self) -> Result<(), Error> {
        self.block_on(self.as_async().rollback())?
    }

    /// Reads what the server holds for this session, then takes the notifications received
    /// so far (psycopg2's `poll()` and `notifies`), with how many a full queue dropped
    /// before them.
    pub fn notifies(&self) -> Result<crate::NotificationBatch, Error> {
        self.block_on(self.as_async().notifies())?
    }
}
