//! Blocking transactions.

use pg_exceptions::Error;

use super::Connection;
use crate::XactState;

/// The blocking form of [`crate::Transaction`]: a block or savepoint with a guard that rolls
/// back a started, unfinished transaction when its last handle is dropped. It dereferences to
/// its [`Connection`].
///
/// ```no_run
/// # fn example(db: &pg_driver::blocking::Connection) -> Result<(), pg_exceptions::Error> {
/// db.xact().isolation("REPEATABLE READ").run(|x| {
///     x.execute("INSERT INTO t VALUES (1)")?;
///     x.xact().run(|sp| sp.execute("INSERT INTO t VALUES (2)"))
/// })?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Transaction {
    xact: crate::Transaction,
    conn: Connection,
}

impl Connection {
    /// A transaction on this connection, not yet started.
    pub fn xact(&self) -> Transaction {
        Transaction {
            xact: self.as_async().xact(),
            conn: self.clone(),
        }
    }

    /// A transaction with py-postgresql's isolation and mode texts, checked when it starts.
    pub fn xact_with(&self, isolation: Option<&str>, mode: Option<&str>) -> Transaction {
        Transaction {
            xact: self.as_async().xact_with(isolation, mode),
            conn: self.clone(),
        }
    }
}

impl std::ops::Deref for Transaction {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Transaction {
    fn with(self, f: impl FnOnce(crate::Transaction) -> crate::Transaction) -> Transaction {
        Transaction {
            xact: f(self.xact),
            conn: self.conn,
        }
    }

    /// The async transaction underneath.
    pub fn as_async(&self) -> &crate::Transaction {
        &self.xact
    }

    /// The connection the transaction runs on.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Sets the isolation level, checked when the transaction starts.
    pub fn isolation(self, level: impl AsRef<str>) -> Transaction {
        self.with(|x| x.isolation(level))
    }

    /// Adds modes in PostgreSQL's words, checked when the transaction starts.
    pub fn mode(self, mode: impl AsRef<str>) -> Transaction {
        self.with(|x| x.mode(mode))
    }

    /// Makes the block READ ONLY.
    pub fn read_only(self) -> Transaction {
        self.with(crate::Transaction::read_only)
    }

    /// Makes the block READ WRITE.
    pub fn read_write(self) -> Transaction {
        self.with(crate::Transaction::read_write)
    }

    /// Makes the block DEFERRABLE.
    pub fn deferrable(self) -> Transaction {
        self.with(crate::Transaction::deferrable)
    }

    /// Makes the block NOT DEFERRABLE.
    pub fn not_deferrable(self) -> Transaction {
        self.with(crate::Transaction::not_deferrable)
    }

    /// Where the transaction is in its life.
    pub fn state(&self) -> XactState {
        self.xact.state()
    }

    /// Whether the transaction is a savepoint; None before it starts.
    pub fn is_savepoint(&self) -> Option<bool> {
        self.xact.is_savepoint()
    }

    /// The savepoint's name, for a transaction started inside a block.
    pub fn savepoint_name(&self) -> Option<String> {
        self.xact.savepoint_name()
    }

    /// Starts the transaction: a block, or a savepoint inside one.
    pub fn start(&self) -> Result<(), Error> {
        self.conn.block_on(self.xact.start())?
    }

    /// [`Transaction::start`] under py-postgresql's other name.
    pub fn begin(&self) -> Result<(), Error> {
        self.start()
    }

    /// Commits (a savepoint: releases); a failed transaction is rolled back and gives
    /// InFailedTransactionError. Committing twice does nothing.
    pub fn commit(&self) -> Result<(), Error> {
        self.conn.block_on(self.xact.commit())?
    }

    /// Rolls back (a savepoint: ROLLBACK TO and RELEASE). Rolling back twice does nothing.
    pub fn rollback(&self) -> Result<(), Error> {
        self.conn.block_on(self.xact.rollback())?
    }

    /// [`Transaction::rollback`] under py-postgresql's other name.
    pub fn abort(&self) -> Result<(), Error> {
        self.rollback()
    }

    /// Starts the transaction, runs `f`, and commits when it returns Ok or rolls back when it
    /// returns Err (whose error is then returned). A transaction `f` ended itself is left as
    /// it is.
    pub fn run<F, T, E>(self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction) -> Result<T, E>,
        E: From<Error>,
    {
        self.start()?;
        let result = f(&self);
        let open = self.state() == XactState::Open;
        match result {
            Ok(value) => {
                if open {
                    self.commit()?;
                }
                Ok(value)
            }
            Err(error) => {
                if open {
                    let _ = self.rollback();
                }
                Err(error)
            }
        }
    }
}

/// The blocking form of [`crate::Retry`]: a transaction run up to a number of times, made
/// by [`Transaction::retry`].
#[derive(Clone, Debug)]
pub struct Retry {
    template: Transaction,
    retry: crate::Retry,
}

impl Transaction {
    /// Runs this transaction (not yet started) up to `attempts` times with [`Retry::run`]
    /// (see [`crate::Transaction::retry`]).
    pub fn retry(self, attempts: u32) -> Retry {
        Retry {
            retry: self.xact.clone().retry(attempts),
            template: self,
        }
    }
}

impl Retry {
    /// The wait before the first retry and the longest wait (see [`crate::Retry::backoff`]).
    pub fn backoff(mut self, first: std::time::Duration, max: std::time::Duration) -> Retry {
        self.retry = self.retry.backoff(first, max);
        self
    }

    /// Runs `f` in a transaction, and again in a new one after a serialization failure or
    /// a deadlock, up to the number of tries (see [`crate::Retry::run`]); the waits between
    /// tries block the calling thread.
    pub fn run<F, T, E>(self, mut f: F) -> Result<T, E>
    where
        F: FnMut(&Transaction) -> Result<T, E>,
        E: crate::Retryable,
    {
        let mut attempt = 1;
        loop {
            let x = Transaction {
                xact: self.template.xact.fresh(),
                conn: self.template.conn.clone(),
            };
            let savepoint = x.clone();
            match x.run(&mut f) {
                Err(error)
                    if attempt < self.retry.attempts()
                        && error.is_retryable()
                        && savepoint.is_savepoint() == Some(false) =>
                {
                    std::thread::sleep(self.retry.delay(attempt));
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }
}
