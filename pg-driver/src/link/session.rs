//! The per-session state behind psycopg2's connection extras: autocommit and the lazy BEGIN,
//! the characteristics `set_session` gave, and how many requests are in flight.
//!
//! Autocommit is on by default, and then the only cost on every request is one relaxed load.
//! When it is off, a request that runs statements (its maker says so: `Link::request` and its
//! streamed and body forms, never `Link::request_protocol`) while the session is idle and no
//! transaction of the driver's is open gets a `BEGIN` queued just before it: the connection
//! task writes requests in order, so the statement runs inside the block. The block's
//! characteristics are the session's defaults (`default_transaction_isolation` …), which is
//! where `set_session` puts them.
//!
//! A request of the extended protocol carries its BEGIN: Parse, Bind and Execute of `BEGIN`
//! go in front of its own messages, under its Sync, and its reader passes over their three
//! answers ([`Responses::skip_prefix`]). The server then runs the BEGIN and the statement
//! in one cycle with one ReadyForQuery, and the request may still be read by its own
//! handle. Anything else (a simple Query) gets a BEGIN request of its own before it. The
//! block counts as on its way from the moment the BEGIN is decided until the answer that
//! carries it ends (the carrier's responder holds a token of [`SessionState::carriers`]), or
//! until the separate BEGIN's answer is read; [`Connection::open_block`] only promises one
//! (`owed`), which the next request of statements keeps.
//!
//! [`Connection::open_block`]: crate::Connection::open_block

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::{Bytes, BytesMut};
use pg_exceptions::Error;
use postgres_protocol::IsNull;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use super::Link;
use crate::wire::responses::Responses;
use crate::wire::shared::TransactionStatus;
use crate::wire::task::InFlight;
use crate::xact_mode::Characteristics;

/// The psycopg2 state of one server session.
pub(crate) struct SessionState {
    /// psycopg2's autocommit: on (each statement its own transaction) until turned off.
    autocommit: AtomicBool,
    /// What `set_session` last gave; None for the server's default.
    characteristics: Mutex<Characteristics>,
    /// The answer to the BEGIN queued lazily as a request of its own, kept until it has been
    /// read. The lock also keeps the decision to begin and the queueing of what carries the
    /// BEGIN together, so no request of another caller can come between them.
    begin: Mutex<Option<Responses>>,
    /// Requests carrying a BEGIN in front of their own messages whose answer has not ended.
    carriers: Arc<AtomicUsize>,
    /// `open_block` promised a block that no request has begun yet.
    owed: AtomicBool,
    /// Requests queued whose answer has not been handed over in full.
    in_flight: Arc<AtomicUsize>,
}

impl Default for SessionState {
    fn default() -> SessionState {
        SessionState {
            autocommit: AtomicBool::new(true),
            characteristics: Mutex::default(),
            begin: Mutex::default(),
            carriers: Arc::default(),
            owed: AtomicBool::new(false),
            in_flight: Arc::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a queued request's answer has come to its end (or will never come).
fn answered(responses: &mut Responses) -> bool {
    loop {
        match responses.next_buffered() {
            Ok(Some(Message::ReadyForQuery(_))) | Err(_) => return true,
            Ok(Some(_)) => {}
            Ok(None) => return false,
        }
    }
}

impl SessionState {
    /// A token counting one more request in flight.
    pub(crate) fn in_flight(&self) -> InFlight {
        InFlight::count(&self.in_flight)
    }

    /// Whether a request is in flight (psycopg2's ACTIVE).
    pub(crate) fn active(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    pub(crate) fn autocommit(&self) -> bool {
        self.autocommit.load(Ordering::Relaxed)
    }

    pub(crate) fn set_autocommit(&self, on: bool) {
        self.autocommit.store(on, Ordering::Relaxed);
    }

    pub(crate) fn characteristics(&self) -> Characteristics {
        *lock(&self.characteristics)
    }

    pub(crate) fn set_characteristics(&self, characteristics: Characteristics) {
        *lock(&self.characteristics) = characteristics;
    }

    /// Whether a lazily decided BEGIN has not been answered yet (or is only promised).
    pub(crate) fn begin_pending(&self) -> bool {
        if self.owed.load(Ordering::Acquire) || self.carriers.load(Ordering::Acquire) > 0 {
            return true;
        }
        let mut begin = lock(&self.begin);
        if begin.as_mut().is_some_and(|r| !answered(r)) {
            return true;
        }
        *begin = None;
        false
    }

    /// Promises the block `open_block` opens: the next request of statements begins it.
    pub(crate) fn owe_block(&self) {
        self.owed.store(true, Ordering::Release);
    }

    /// Forgets a promised block no request has begun yet (the block is being ended, or the
    /// session reset): afterwards the session is in a block only if one was begun.
    pub(crate) fn forget_owed(&self) {
        self.owed.store(false, Ordering::Release);
    }

    /// Decides psycopg2's BEGIN for a request that runs statements when autocommit is off
    /// and no block is open or on its way: see [`Begin`]. `carriable` says whether the
    /// request's bytes may carry it ([`crate::wire::responses::carries_prefix`]). Returns
    /// None when autocommit is on: one relaxed load.
    #[inline]
    pub(crate) fn begin_if_needed<'a>(
        &'a self,
        link: &Link,
        carriable: impl FnOnce() -> bool,
    ) -> Result<Option<Begin<'a>>, Error> {
        if self.autocommit() {
            return Ok(None);
        }
        self.begin_lazily(link, carriable).map(Some)
    }

    #[cold]
    fn begin_lazily<'a>(
        &'a self,
        link: &Link,
        carriable: impl FnOnce() -> bool,
    ) -> Result<Begin<'a>, Error> {
        let mut guard = lock(&self.begin);
        let nothing = |guard| Begin {
            _guard: guard,
            carry: None,
        };
        // A block open_block promised is begun by this request, whatever else holds: a
        // transaction of the driver's started since is a savepoint in it.
        if !self.owed.load(Ordering::Acquire) {
            if link.xacts.depth() > 0 || self.carriers.load(Ordering::Acquire) > 0 {
                // A block of the driver's is open, or one is on its way in a request queued
                // before this one.
                return Ok(nothing(guard));
            }
            if guard.as_mut().is_some_and(|r| !answered(r)) {
                // The block is on its way: it will be open when these bytes run.
                return Ok(nothing(guard));
            }
            *guard = None;
            if link.shared.status() != TransactionStatus::Idle {
                return Ok(nothing(guard));
            }
        }
        if carriable() {
            // Counted before the promise is let go, so the block never looks gone.
            let token = InFlight::count(&self.carriers);
            self.owed.store(false, Ordering::Release);
            return Ok(Begin {
                _guard: guard,
                carry: Some((begin_prefix()?, token)),
            });
        }
        let mut buf = BytesMut::new();
        frontend::query("BEGIN", &mut buf).map_err(crate::wire::task::protocol)?;
        *guard = Some(link.request_unbegun(buf.freeze())?);
        self.owed.store(false, Ordering::Release);
        Ok(nothing(guard))
    }
}

/// Parse, Bind and Execute of `BEGIN`, unnamed, to go in front of a request's own messages.
fn begin_prefix() -> Result<Bytes, Error> {
    static PREFIX: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    if let Some(prefix) = PREFIX.get() {
        return Ok(prefix.clone());
    }
    let mut buf = BytesMut::new();
    let protocol = crate::wire::task::protocol;
    frontend::parse("", "BEGIN", std::iter::empty(), &mut buf).map_err(protocol)?;
    let no_values = std::iter::empty::<()>();
    frontend::bind("", "", [], no_values, |(), _| Ok(IsNull::No), [], &mut buf)
        .map_err(|_| protocol(std::io::ErrorKind::InvalidInput.into()))?;
    frontend::execute("", 0, &mut buf).map_err(protocol)?;
    Ok(PREFIX.get_or_init(|| buf.freeze()).clone())
}

/// What a request of statements does about autocommit off's BEGIN; held until the request is
/// queued, so that no other caller's request comes between the decision and the request.
pub(crate) struct Begin<'a> {
    _guard: MutexGuard<'a, Option<Responses>>,
    /// The BEGIN's messages to put in front of the request's own, and the token that counts
    /// the request as carrying a BEGIN until its answer ends (its responder holds it).
    pub(crate) carry: Option<(Bytes, InFlight)>,
}

/// Whether the session is inside a transaction block, or one is on its way.
pub(crate) fn in_block(link: &Link) -> bool {
    // A BEGIN on its way is looked at first: its answer sets the status before it stops
    // counting as on its way, so a block is never missed between the two looks.
    link.xacts.depth() > 0
        || link.session.begin_pending()
        || link.shared.status() != TransactionStatus::Idle
}
