//! Blocking advisory locks.

use pg_exceptions::Error;

use super::Connection;
use crate::{LockId, LockMode};

/// The blocking form of [`crate::ALock`]: a re-entrant set of advisory locks on one connection.
///
/// ```no_run
/// # fn f(db: &pg_driver::blocking::Connection) -> Result<(), pg_exceptions::Error> {
/// use pg_driver::blocking::ALock;
/// let lock = ALock::share(db, [(1, 2)]);
/// let total = lock.with(|| 40 + 2)?; // taken (waiting), then released
/// assert_eq!(total, 42);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ALock {
    lock: crate::ALock,
    conn: Connection,
}

impl ALock {
    /// A lock of the given mode over these identifiers, on `conn`.
    pub fn new<I>(conn: &Connection, mode: LockMode, ids: I) -> ALock
    where
        I: IntoIterator,
        I::Item: Into<LockId>,
    {
        ALock {
            lock: crate::ALock::new(conn.as_async(), mode, ids),
            conn: conn.clone(),
        }
    }

    /// A shared lock: py-postgresql's `ShareLock`.
    pub fn share<I>(conn: &Connection, ids: I) -> ALock
    where
        I: IntoIterator,
        I::Item: Into<LockId>,
    {
        ALock::new(conn, LockMode::Share, ids)
    }

    /// An exclusive lock: py-postgresql's `ExclusiveLock`.
    pub fn exclusive<I>(conn: &Connection, ids: I) -> ALock
    where
        I: IntoIterator,
        I::Item: Into<LockId>,
    {
        ALock::new(conn, LockMode::Exclusive, ids)
    }

    /// The async lock underneath.
    pub fn as_async(&self) -> &crate::ALock {
        &self.lock
    }

    /// The lock's mode.
    pub fn mode(&self) -> LockMode {
        self.lock.mode()
    }

    /// The identifiers, in the order they are taken.
    pub fn identifiers(&self) -> &[LockId] {
        self.lock.identifiers()
    }

    /// The connection the lock is taken on.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Whether the locks are held (never on a closed, reconnected or reset connection: see
    /// [`crate::ALock`]'s notes on lost locks).
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Takes every lock, waiting for other sessions when `blocking`; not blocking, false when
    /// any is held elsewhere (see [`crate::ALock::acquire`]).
    pub fn acquire(&self, blocking: bool) -> Result<bool, Error> {
        self.conn.block_on(self.lock.acquire(blocking))?
    }

    /// Counts one release; the last one releases the locks on the server. Releasing a lock that
    /// is not held is an OperationError, except for acquisitions whose locks went with their
    /// session (closed, reconnected, reset): see [`crate::ALock::release`].
    pub fn release(&self) -> Result<(), Error> {
        self.conn.block_on(self.lock.release())?
    }

    /// Acquires the locks (waiting) and returns a guard that releases them when dropped; the
    /// guard releases its own acquisition (see [`crate::ALock::guard`]).
    pub fn guard(&self) -> Result<ALockGuard, Error> {
        let taking = self.conn.block_on(self.lock.take(true))??;
        Ok(ALockGuard {
            lock: Some(self.clone()),
            taking: taking.unwrap_or_default(),
        })
    }

    /// Acquires the locks without waiting: a guard, or None when any is held elsewhere.
    pub fn try_guard(&self) -> Result<Option<ALockGuard>, Error> {
        let taking = self.conn.block_on(self.lock.take(false))??;
        Ok(taking.map(|taking| ALockGuard {
            lock: Some(self.clone()),
            taking,
        }))
    }

    /// Runs `f` under the locks (waiting for them), releasing them afterwards, even when `f`
    /// panics.
    pub fn with<R>(&self, f: impl FnOnce() -> R) -> Result<R, Error> {
        let guard = self.guard()?;
        let result = f();
        guard.release()?;
        Ok(result)
    }
}

/// Holds a blocking [`ALock`]; dropping it releases one count, waiting for the server's answer.
#[derive(Debug)]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ALockGuard {
    lock: Option<ALock>,
    /// The taking of the locks its acquisition belongs to.
    taking: u64,
}

impl ALockGuard {
    /// The lock held.
    pub fn lock(&self) -> &ALock {
        self.lock
            .as_ref()
            .expect("a guard holds its lock until dropped")
    }

    /// Releases now and reports how it went.
    pub fn release(mut self) -> Result<(), Error> {
        match self.lock.take() {
            Some(lock) => lock
                .conn
                .block_on(lock.lock.release_taking(Some(self.taking)))?,
            None => Ok(()),
        }
    }
}

impl Drop for ALockGuard {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            // Inside an async runtime the facade cannot block: the release is only queued.
            let taking = Some(self.taking);
            if lock
                .conn
                .block_on(lock.lock.release_taking(taking))
                .is_err()
            {
                lock.lock.release_detached(taking);
            }
        }
    }
}
