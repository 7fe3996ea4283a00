//! Transactions (py-postgresql's `Transaction`): a block, or a savepoint inside one, with a
//! guard that rolls back what was started and not finished.
//!
//! Whether a transaction is a block or a savepoint is decided when it starts: inside a block
//! (one this driver opened, or one begun with SQL) it is a savepoint under a unique name. The
//! session keeps the stack of the transactions the driver opened, so a savepoint whose
//! enclosing block already ended is never rolled back into a later block by its guard.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::BytesMut;
use pg_exceptions::{Error, OperationError};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use crate::connection::Connection;
use crate::link::Link;
use crate::simple::simple_query;
use crate::wire::shared::TransactionStatus;
use crate::xact_mode::{AccessMode, Characteristics, Isolation};

mod end;
mod retry;
pub(crate) mod stack;

pub use retry::{RETRY_FIRST_DELAY, RETRY_MAX_DELAY, Retry, Retryable};

/// Where a transaction is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XactState {
    /// Made, not started.
    Initialized,
    /// Started, not yet committed or rolled back.
    Open,
    /// Committed (a savepoint: released).
    Committed,
    /// Rolled back, or failed at its end.
    Aborted,
}

/// A started transaction: the session it runs in and, for a savepoint, its name.
#[derive(Clone)]
struct Started {
    link: Arc<Link>,
    id: u64,
    savepoint: Option<String>,
}

struct Progress {
    state: XactState,
    isolation: Option<String>,
    modes: Vec<String>,
    started: Option<Started>,
}

struct XactInner {
    conn: Connection,
    progress: Mutex<Progress>,
    /// Serialises start, commit and rollback of this transaction.
    busy: tokio::sync::Mutex<()>,
}

/// A transaction: py-postgresql's `Transaction`, made by [`Connection::xact`].
///
/// [`Transaction::start`] opens a block (`START TRANSACTION` with the isolation level and modes
/// given) or, inside a block, a savepoint. [`Transaction::commit`] and
/// [`Transaction::rollback`] end it; doing either twice does nothing. `Clone` gives another
/// handle; when the last handle of a started, unfinished transaction is dropped, its rollback
/// is queued, so the connection is clean before its next use. The transaction dereferences to
/// its [`Connection`].
///
/// Committing a transaction in which an error occurred (and was caught) rolls it back and
/// returns InFailedTransactionError, where the server would silently roll back a block.
///
/// ```no_run
/// # async fn example(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
/// let x = db.xact().isolation("SERIALIZABLE").read_only();
/// x.start().await?;
/// let n: i64 = x.query_first("SELECT count(*) FROM pg_class", ()).await?;
/// x.commit().await?;
///
/// db.xact()
///     .run(|x| async move {
///         x.execute("INSERT INTO t VALUES (1)").await?;
///         x.xact().run(|sp| async move { sp.execute("INSERT INTO t VALUES (2)").await }).await
///     })
///     .await?;
/// # let _ = n; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transaction {
    inner: Arc<XactInner>,
}

impl Connection {
    /// A transaction on this connection, not yet started.
    pub fn xact(&self) -> Transaction {
        Transaction {
            inner: Arc::new(XactInner {
                conn: self.clone(),
                progress: Mutex::new(Progress {
                    state: XactState::Initialized,
                    isolation: None,
                    modes: Vec::new(),
                    started: None,
                }),
                busy: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// py-postgresql's `db.xact(isolation = …, mode = …)`: a transaction with an isolation level
    /// (`"SERIALIZABLE"`, `"repeatable read"`…) and a mode (`"READ ONLY"`, `"read write,
    /// deferrable"`…), checked against PostgreSQL's words when it starts.
    pub fn xact_with(&self, isolation: Option<&str>, mode: Option<&str>) -> Transaction {
        let mut x = self.xact();
        if let Some(isolation) = isolation {
            x = x.isolation(isolation);
        }
        if let Some(mode) = mode {
            x = x.mode(mode);
        }
        x
    }
}

impl std::ops::Deref for Transaction {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.inner.conn
    }
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.progress();
        f.debug_struct("Transaction")
            .field("state", &p.state)
            .field("isolation", &p.isolation)
            .field("modes", &p.modes)
            .field(
                "savepoint",
                &p.started.as_ref().and_then(|s| s.savepoint.clone()),
            )
            .finish()
    }
}

fn operation(message: &str) -> Error {
    Error::client(&OperationError, message)
}

fn savepoint_rollback_sql(name: &str) -> String {
    let name = pg_string::quote_ident(name);
    format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
}

/// Waits for a ReadyForQuery of its own, so the status reflects everything queued before.
async fn refresh_status(link: &Link) -> Result<TransactionStatus, Error> {
    let mut buf = BytesMut::new();
    frontend::sync(&mut buf);
    let mut responses = link.request_protocol(buf.freeze(), 1)?;
    while !matches!(
        responses.next(&link.shared).await?,
        Message::ReadyForQuery(_)
    ) {}
    Ok(link.shared.status())
}

impl Transaction {
    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.inner
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn set_state(&self, state: XactState) {
        self.progress().state = state;
    }

    /// Sets the isolation level (`SERIALIZABLE`, `REPEATABLE READ`, `READ COMMITTED`,
    /// `READ UNCOMMITTED`, in any case, or an [`Isolation`]); checked when the transaction
    /// starts. Characteristics given after the start are ignored.
    pub fn isolation(self, level: impl AsRef<str>) -> Transaction {
        self.progress().isolation = Some(level.as_ref().to_owned());
        self
    }

    /// Adds modes in PostgreSQL's words (`READ ONLY`, `READ WRITE`, `DEFERRABLE`,
    /// `NOT DEFERRABLE`, `ISOLATION LEVEL …`, separated by spaces or commas); checked when the
    /// transaction starts. A later mode overrides an earlier one.
    pub fn mode(self, mode: impl AsRef<str>) -> Transaction {
        self.progress().modes.push(mode.as_ref().to_owned());
        self
    }

    /// Makes the block READ ONLY.
    pub fn read_only(self) -> Transaction {
        self.mode(AccessMode::ReadOnly.as_sql())
    }

    /// Makes the block READ WRITE.
    pub fn read_write(self) -> Transaction {
        self.mode(AccessMode::ReadWrite.as_sql())
    }

    /// Makes the block DEFERRABLE (it matters for SERIALIZABLE READ ONLY blocks).
    pub fn deferrable(self) -> Transaction {
        self.mode("DEFERRABLE")
    }

    /// Makes the block NOT DEFERRABLE.
    pub fn not_deferrable(self) -> Transaction {
        self.mode("NOT DEFERRABLE")
    }

    /// The connection the transaction runs on.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// Where the transaction is in its life.
    pub fn state(&self) -> XactState {
        self.progress().state
    }

    /// The isolation level as given, if any.
    pub fn isolation_level(&self) -> Option<String> {
        self.progress().isolation.clone()
    }

    /// The modes as given, joined with `, `, if any.
    pub fn modes(&self) -> Option<String> {
        let p = self.progress();
        (!p.modes.is_empty()).then(|| p.modes.join(", "))
    }

    /// Whether the transaction is a savepoint inside a block; None before it starts.
    pub fn is_savepoint(&self) -> Option<bool> {
        let p = self.progress();
        p.started.as_ref().map(|s| s.savepoint.is_some())
    }

    /// The savepoint's name, for a transaction started inside a block.
    pub fn savepoint_name(&self) -> Option<String> {
        let p = self.progress();
        p.started.as_ref().and_then(|s| s.savepoint.clone())
    }

    /// The characteristics asked for, checked against PostgreSQL's words.
    fn characteristics(&self) -> Result<Characteristics, Error> {
        let (isolation, modes) = {
            let p = self.progress();
            (p.isolation.clone(), p.modes.clone())
        };
        let mut found = Characteristics::default();
        for mode in &modes {
            found = found.overlaid(Characteristics::parse_mode(mode)?);
        }
        if let Some(level) = isolation {
            found.isolation = Some(level.parse::<Isolation>()?);
        }
        Ok(found)
    }

    /// Starts the transaction: a block, or a savepoint when the connection is in one. Starting
    /// an open transaction does nothing; a committed or rolled back one cannot be started
    /// again (OperationError), nor can a savepoint have an isolation level or modes.
    pub async fn start(&self) -> Result<(), Error> {
        let _busy = self.inner.busy.lock().await;
        match self.state() {
            XactState::Open => return Ok(()),
            XactState::Committed | XactState::Aborted => {
                return Err(operation(
                    "a transaction that ended cannot be started again",
                ));
            }
            XactState::Initialized => {}
        }
        let characteristics = self.characteristics()?;
        let conn = &self.inner.conn;
        let link = conn.link();
        // The stack knows the driver's blocks; a block begun with SQL shows in the status.
        // When the two disagree the status may be stale (a dropped guard's rollback, or a
        // start whose caller went away, still on its way): it is refreshed.
        let mut status = link.shared.status();
        if (link.xacts.depth() == 0) != (status == TransactionStatus::Idle) {
            status = refresh_status(&link).await.map_err(|e| conn.context(e))?;
        }
        if status == TransactionStatus::Idle {
            // Blocks the driver opened can only be gone this way if SQL (COMMIT, ROLLBACK)
            // or Connection::reset ended them.
            link.xacts.clear();
        }
        // A block begun lazily (autocommit off) that is on its way counts as open.
        let nested = status != TransactionStatus::Idle || link.session.begin_pending();
        let (sql, savepoint) = if nested {
            if !characteristics.is_empty() {
                return Err(operation(
                    "a transaction inside a block is a savepoint, which takes no isolation \
                     level or mode: give them to the outermost transaction",
                ));
            }
            let name = link.unique_name("pg_api_xact");
            (
                format!("SAVEPOINT {}", pg_string::quote_ident(&name)),
                Some(name),
            )
        } else {
            (characteristics.start_sql(), None)
        };
        // Open before the answer: if this future is dropped mid-way, the guard rolls back.
        let id = link.xacts.push();
        {
            let mut p = self.progress();
            p.state = XactState::Open;
            p.started = Some(Started {
                link: link.clone(),
                id,
                savepoint,
            });
        }
        if let Err(error) = simple_query(&link, &sql).await {
            link.xacts.end(id);
            let mut p = self.progress();
            p.state = XactState::Initialized;
            p.started = None;
            return Err(conn.context(error));
        }
        Ok(())
    }

    /// [`Transaction::start`] under py-postgresql's other name.
    pub async fn begin(&self) -> Result<(), Error> {
        self.start().await
    }
}

impl Drop for XactInner {
    fn drop(&mut self) {
        let progress = self
            .progress
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(started) = &progress.started else {
            return;
        };
        if progress.state != XactState::Open
            || started.link.shared.is_closed()
            || !started.link.xacts.end(started.id)
        {
            return;
        }
        let sql = match &started.savepoint {
            None => "ROLLBACK".to_owned(),
            Some(name) => savepoint_rollback_sql(name),
        };
        let mut buf = BytesMut::new();
        if frontend::query(&sql, &mut buf).is_ok() {
            // Nobody waits for the answer: the task reads and drops it before the next request.
            let _ = started.link.request(buf.freeze(), 1, None);
        }
    }
}
