//! Ending a transaction: commit, rollback, the failed-transaction safeguard, and the closure
//! form.

use std::future::Future;
use std::sync::Arc;

use pg_exceptions::{ConnectionDoesNotExistError, Error, InFailedTransactionError};

use super::{Started, Transaction, XactState, operation, savepoint_rollback_sql};
use crate::link::Link;
use crate::simple::simple_query;
use crate::wire::shared::TransactionStatus;

/// The error for a transaction whose session went away before it ended.
fn lost(link: &Link) -> Error {
    let reason = link.shared.closed_error();
    if reason.is_a(&ConnectionDoesNotExistError) {
        return reason;
    }
    Error::client(
        &ConnectionDoesNotExistError,
        "the connection closed before the transaction ended",
    )
    .with_context("closed by", reason.to_string())
}

impl Transaction {
    /// The started transaction, if its session is still the connection's and alive.
    fn open_session(&self, ending: &str) -> Result<Started, Error> {
        let started = self
            .progress()
            .started
            .clone()
            .ok_or_else(|| operation(ending))?;
        let current = self.inner.conn.link();
        if started.link.shared.is_closed() || !Arc::ptr_eq(&started.link, &current) {
            self.set_state(XactState::Aborted);
            return Err(lost(&started.link));
        }
        if !started.link.xacts.contains(started.id) {
            return Err(operation(match started.savepoint {
                Some(_) => {
                    "the block enclosing this savepoint ended while it was open; its work went \
                     with the block"
                }
                None => "the transaction block was ended by other means (SQL, or a reset)",
            }));
        }
        Ok(started)
    }

    /// An error at the end of a transaction, as ConnectionDoesNotExistError when the session
    /// went away meanwhile.
    fn end_error(&self, link: &Link, error: Error) -> Error {
        if link.shared.is_closed() && !error.is_a(&ConnectionDoesNotExistError) {
            return lost(link);
        }
        self.inner.conn.context(error)
    }

    /// Commits the transaction (a savepoint: releases it). Committing twice does nothing.
    ///
    /// When an error occurred inside the transaction, it is rolled back instead and
    /// InFailedTransactionError (source client) is returned; for a savepoint the enclosing
    /// block goes on. When the connection closed inside the transaction, the error is
    /// ConnectionDoesNotExistError.
    pub async fn commit(&self) -> Result<(), Error> {
        let _busy = self.inner.busy.lock().await;
        match self.state() {
            XactState::Committed => return Ok(()),
            XactState::Initialized => {
                return Err(operation(
                    "a transaction that was not started cannot commit",
                ));
            }
            XactState::Aborted => {
                return Err(operation(
                    "a transaction that was rolled back cannot commit",
                ));
            }
            XactState::Open => {}
        }
        let started = self.open_session("a transaction that was not started cannot commit")?;
        let link = &started.link;
        link.xacts.end(started.id);
        match &started.savepoint {
            None => match simple_query(link, "COMMIT").await {
                // The server's answer to COMMIT of a failed block: it rolled back.
                Ok(results) if results.first().is_some_and(|r| r.tag == "ROLLBACK") => {
                    self.set_state(XactState::Aborted);
                    Err(self.inner.conn.context(Error::client(
                        &InFailedTransactionError,
                        "the transaction failed (an error occurred inside it) and was rolled \
                         back instead of committed",
                    )))
                }
                Ok(_) => {
                    self.set_state(XactState::Committed);
                    Ok(())
                }
                Err(error) => {
                    self.set_state(XactState::Aborted);
                    if !link.shared.is_closed() && link.shared.status() != TransactionStatus::Idle {
                        let _ = simple_query(link, "ROLLBACK").await;
                    }
                    Err(self.end_error(link, error))
                }
            },
            Some(name) => {
                let release = format!("RELEASE SAVEPOINT {}", pg_string::quote_ident(name));
                match simple_query(link, &release).await {
                    Ok(_) => {
                        self.set_state(XactState::Committed);
                        Ok(())
                    }
                    Err(error) => {
                        self.set_state(XactState::Aborted);
                        if link.shared.is_closed() {
                            return Err(self.end_error(link, error));
                        }
                        let rollback = simple_query(link, &savepoint_rollback_sql(name)).await;
                        if let Err(second) = rollback {
                            return Err(self.end_error(link, second));
                        }
                        if error.is_a(&InFailedTransactionError) {
                            return Err(self.inner.conn.context(
                                Error::client(
                                    &InFailedTransactionError,
                                    "the savepoint failed (an error occurred inside it) and was \
                                     rolled back instead of released; the enclosing block goes on",
                                )
                                .with_cause(error),
                            ));
                        }
                        Err(self.end_error(link, error))
                    }
                }
            }
        }
    }

    /// Rolls the transaction back (a savepoint: `ROLLBACK TO` and `RELEASE`). Rolling back
    /// twice does nothing; a committed transaction cannot be rolled back.
    pub async fn rollback(&self) -> Result<(), Error> {
        let _busy = self.inner.busy.lock().await;
        match self.state() {
            XactState::Aborted => return Ok(()),
            XactState::Initialized => {
                return Err(operation(
                    "a transaction that was not started cannot roll back",
                ));
            }
            XactState::Committed => {
                return Err(operation("a committed transaction cannot roll back"));
            }
            XactState::Open => {}
        }
        let started = self.open_session("a transaction that was not started cannot roll back")?;
        let link = &started.link;
        link.xacts.end(started.id);
        self.set_state(XactState::Aborted);
        let sql = match &started.savepoint {
            None => "ROLLBACK".to_owned(),
            Some(name) => savepoint_rollback_sql(name),
        };
        match simple_query(link, &sql).await {
            Ok(_) => Ok(()),
            Err(error) => Err(self.end_error(link, error)),
        }
    }

    /// [`Transaction::rollback`] under py-postgresql's other name.
    pub async fn abort(&self) -> Result<(), Error> {
        self.rollback().await
    }

    /// Starts the transaction, runs `f` with a handle on it, and commits when `f` returns Ok
    /// or rolls back when it returns Err (whose error is then returned). A transaction `f`
    /// ended itself is left as it is. A failed commit's error is returned through `E`.
    pub async fn run<F, Fut, T, E>(self, f: F) -> Result<T, E>
    where
        F: FnOnce(Transaction) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        self.start().await?;
        let result = f(self.clone()).await;
        let open = self.state() == XactState::Open;
        match result {
            Ok(value) => {
                if open {
                    self.commit().await?;
                }
                Ok(value)
            }
            Err(error) => {
                if open {
                    let _ = self.rollback().await;
                }
                Err(error)
            }
        }
    }
}
