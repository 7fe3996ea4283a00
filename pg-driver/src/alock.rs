//! Advisory locks: py-postgresql's `alock` (`ShareLock`, `ExclusiveLock`).
//!
//! An [`ALock`] holds a set of session-level advisory locks on one connection. It is re-entrant:
//! every [`ALock::acquire`] needs a [`ALock::release`], and only the outermost pair talks to the
//! server. Identifiers are bound parameters of `pg_advisory_lock` and its kin.
//!
//! Session-level locks go with their session: closing or losing the connection, reconnecting
//! it, or [`Connection::reset`] (whose `DISCARD ALL` releases every advisory lock) leaves an
//! `ALock` holding nothing. It notices: [`ALock::locked`] is false, the acquisitions that were
//! held are *lost*, and each is settled by a release that sends nothing (a release beyond them
//! is the usual OperationError). Acquiring again takes the locks anew. A guard belongs to the
//! acquisition that made it: dropped after the locks were lost and taken again, it settles its
//! lost acquisition and leaves the new one held.

mod request;

use std::sync::{Arc, Mutex, PoisonError};

use pg_exceptions::{Error, OperationError, ParameterError};

use crate::link::Link;
use crate::wire::responses::Responses;
use crate::{Connection, oneshot};
use request::{InFlight, Undo, flags, send, unlock};
pub use request::{LockId, LockMode};

/// A set of advisory locks on one connection: py-postgresql's `ALock`.
///
/// `Clone` gives another handle on the same lock (and the same count).
///
/// ```no_run
/// # async fn f(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
/// use pg_driver::ALock;
/// let lock = ALock::exclusive(db, [42i64]);
/// {
///     let _guard = lock.guard().await?; // waits for other sessions to release 42
///     // … work under the lock …
/// } // released here
/// assert!(lock.acquire(false).await?); // does not wait: false when held elsewhere
/// lock.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ALock {
    inner: Arc<LockInner>,
}

#[derive(Debug)]
struct LockInner {
    conn: Connection,
    mode: LockMode,
    ids: Vec<LockId>,
    held: Mutex<Held>,
    /// Serialises acquisitions, so that only one goes to the server at a time.
    op: Arc<tokio::sync::Mutex<()>>,
}

/// The server's part of a last release, queued: its answer is still to be read.
struct Releasing {
    link: Arc<Link>,
    responses: Responses,
    ids: Vec<LockId>,
}

#[derive(Default)]
struct Held {
    /// Acquisitions not released yet whose locks the session holds.
    count: usize,
    /// The session the locks were taken in, and its count of resets before they were: when the
    /// session is gone, or reset since, so are the locks.
    session: Option<(Arc<Link>, u64)>,
    /// Acquisitions whose locks went with their session (closed, reconnected, reset): each is
    /// owed a release, which has nothing to release on the server.
    lost: usize,
    /// Counts the times the locks were taken from nothing: a guard releases only what the
    /// taking it came from holds.
    taking: u64,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("count", &self.count)
            .field("lost", &self.lost)
            .finish()
    }
}

impl Held {
    /// Whether the session the locks were taken in still holds them.
    fn live(&self, conn: &Connection) -> bool {
        self.session.as_ref().is_some_and(|(link, resets)| {
            !link.shared.is_closed()
                && link.session_resets() == *resets
                && Arc::ptr_eq(link, &conn.current())
        })
    }

    /// Counts as lost the acquisitions whose session let go of the locks.
    fn settle(&mut self, conn: &Connection) {
        if self.count > 0 && !self.live(conn) {
            self.lost += self.count;
            self.count = 0;
            self.session = None;
        }
    }
}
impl ALock {
    /// A lock of the given mode over these identifiers (`[1i64, 2]`, `[(1, 2)]`), on `conn`.
    pub fn new<I>(conn: &Connection, mode: LockMode, ids: I) -> ALock
    where
        I: IntoIterator,
        I::Item: Into<LockId>,
    {
        ALock {
            inner: Arc::new(LockInner {
                conn: conn.clone(),
                mode,
                ids: ids.into_iter().map(Into::into).collect(),
                held: Mutex::new(Held::default()),
                op: Arc::default(),
            }),
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

    /// The lock's mode.
    pub fn mode(&self) -> LockMode {
        self.inner.mode
    }

    /// The identifiers, in the order they are taken.
    pub fn identifiers(&self) -> &[LockId] {
        &self.inner.ids
    }

    /// The connection the lock is taken on.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.inner
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the locks are held: acquired more times than released, on a session that is
    /// still open and was not reset since (a closed, reconnected or reset connection holds
    /// none).
    pub fn locked(&self) -> bool {
        let held = self.held();
        held.count > 0 && held.live(&self.inner.conn)
    }

    /// Takes every lock. Blocking, it waits until other sessions let go; not blocking, it
    /// returns false at once when any lock is held elsewhere, having released those it took.
    /// When already held it only counts (re-entrance); when the locks were lost (see the
    /// module's notes) it takes them anew. Dropping the future mid-wait releases whatever the
    /// request goes on to take.
    pub async fn acquire(&self, blocking: bool) -> Result<bool, Error> {
        self.take(blocking).await.map(|taking| taking.is_some())
    }

    /// [`ALock::acquire`], answering which taking of the locks the acquisition belongs to
    /// (None: not acquired).
    pub(crate) async fn take(&self, blocking: bool) -> Result<Option<u64>, Error> {
        let inner = &self.inner;
        if inner.ids.is_empty() {
            return Err(Error::client(
                &ParameterError,
                "an advisory lock needs at least one identifier",
            ));
        }
        let op = inner.op.clone().lock_owned().await;
        {
            let mut held = self.held();
            held.settle(&inner.conn);
            if held.count > 0 {
                held.count += 1;
                return Ok(Some(held.taking));
            }
        }
        let link = inner.conn.link();
        // Counted before the locks are asked for: a reset queued after releases them.
        let resets = link.session_resets();
        let [lock_fn, try_fn, unlock_fn] = inner.mode.functions();
        let mut undo = Undo {
            link: link.clone(),
            unlock: unlock_fn,
            taken: Vec::new(),
            in_flight: None,
            op: Some(op),
        };
        let context = |e: Error| inner.conn.context(e);
        if blocking {
            // One statement per identifier: when one fails, exactly the earlier ones are held.
            for id in &inner.ids {
                let responses = send(&link, lock_fn, &[*id]).map_err(context)?;
                let request = undo.in_flight.insert(InFlight {
                    ids: vec![*id],
                    responses,
                    try_: false,
                });
                let outcome = oneshot::read(&link, &mut request.responses).await;
                undo.in_flight = None;
                if let Err(e) = outcome {
                    let taken = std::mem::take(&mut undo.taken);
                    let _ = unlock(&link, unlock_fn, &taken).await;
                    return Err(context(e));
                }
                undo.taken.push(*id);
            }
        } else {
            let responses = send(&link, try_fn, &inner.ids).map_err(context)?;
            let request = undo.in_flight.insert(InFlight {
                ids: inner.ids.clone(),
                responses,
                try_: true,
            });
            let rows = oneshot::read(&link, &mut request.responses).await;
            undo.in_flight = None;
            let taken: Vec<LockId> = inner
                .ids
                .iter()
                .zip(flags(rows.map_err(context)?))
                .filter(|f| f.1)
                .map(|f| *f.0)
                .collect();
            if taken.len() < inner.ids.len() {
                unlock(&link, unlock_fn, &taken).await.map_err(context)?;
                return Ok(None);
            }
            undo.taken = taken;
        }
        undo.taken.clear();
        let mut held = self.held();
        held.count = 1;
        held.session = Some((link, resets));
        held.taking += 1;
        Ok(Some(held.taking))
    }

    /// Counts one release; the last one releases the locks on the server (last first).
    /// Releasing a lock that is not held is an OperationError — except for acquisitions whose
    /// locks went with their session (a closed, lost or reconnected connection, or
    /// [`Connection::reset`]): each of those is settled by a release that sends nothing.
    /// When the locks were taken anew since, a release counts down the new acquisitions
    /// first (the latest acquisition is released first).
    pub async fn release(&self) -> Result<(), Error> {
        self.release_taking(None).await
    }

    /// [`ALock::release`] of an acquisition of the given taking (a guard's), or of the latest.
    pub(crate) async fn release_taking(&self, taking: Option<u64>) -> Result<(), Error> {
        let Some(Releasing {
            link,
            mut responses,
            ids,
        }) = self.begin_release(taking)?
        else {
            return Ok(());
        };
        let context = |e: Error| self.inner.conn.context(e);
        let released = flags(
            oneshot::read(&link, &mut responses)
                .await
                .map_err(context)?,
        );
        let missing: Vec<String> = ids
            .iter()
            .zip(released)
            .filter(|f| !f.1)
            .map(|f| f.0.to_string())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(context(Error::client(
            &OperationError,
            format!(
                "advisory lock {} was not held by the session",
                missing.join(", ")
            ),
        )))
    }

    /// Counts a release and queues the server's part when it is the last: the answer is left
    /// to the caller, or to the connection task when the caller drops it.
    fn begin_release(&self, taking: Option<u64>) -> Result<Option<Releasing>, Error> {
        let mut held = self.held();
        held.settle(&self.inner.conn);
        if taking.is_some_and(|t| t != held.taking) || held.count == 0 {
            // A guard of an earlier taking, or a release after the locks were lost: one lost
            // acquisition is settled, and nothing goes to the server.
            if held.lost > 0 {
                held.lost -= 1;
                return Ok(None);
            }
            if taking.is_some() {
                return Ok(None);
            }
            return Err(Error::client(
                &OperationError,
                "cannot release an advisory lock that is not held",
            ));
        }
        held.count -= 1;
        if held.count > 0 {
            return Ok(None);
        }
        let Some((link, _)) = held.session.take() else {
            return Ok(None);
        };
        let ids: Vec<LockId> = self.inner.ids.iter().rev().copied().collect();
        let [_, _, unlock_fn] = self.inner.mode.functions();
        let responses = send(&link, unlock_fn, &ids)?;
        Ok(Some(Releasing {
            link,
            responses,
            ids,
        }))
    }

    /// Counts a release of an acquisition of the given taking without waiting for the server
    /// (fire-and-forget, as guards do).
    pub(crate) fn release_detached(&self, taking: Option<u64>) {
        let _ = self.begin_release(taking);
    }

    /// Acquires the locks (waiting) and returns a guard that releases them when dropped. The
    /// guard releases its own acquisition: if the locks were lost meanwhile (see the module's
    /// notes), it settles that one, whatever was acquired since.
    pub async fn guard(&self) -> Result<ALockGuard, Error> {
        let taking = self.take(true).await?;
        Ok(ALockGuard {
            lock: Some(self.clone()),
            taking: taking.unwrap_or_default(),
        })
    }

    /// Acquires the locks without waiting: a guard, or None when any is held elsewhere.
    pub async fn try_guard(&self) -> Result<Option<ALockGuard>, Error> {
        Ok(self.take(false).await?.map(|taking| ALockGuard {
            lock: Some(self.clone()),
            taking,
        }))
    }

    /// Runs `f` under the locks (waiting for them), releasing them afterwards.
    pub async fn with<F, Fut, R>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = R>,
    {
        let guard = self.guard().await?;
        let result = f().await;
        guard.release().await?;
        Ok(result)
    }
}

/// Holds an [`ALock`] acquired by [`ALock::guard`]; dropping it releases one count without
/// waiting (the connection task reads the server's answer).
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
    pub async fn release(mut self) -> Result<(), Error> {
        match self.lock.take() {
            Some(lock) => lock.release_taking(Some(self.taking)).await,
            None => Ok(()),
        }
    }
}

impl Drop for ALockGuard {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            lock.release_detached(Some(self.taking));
        }
    }
}
