//! The per-session state behind psycopg2's connection extras: autocommit and the lazy BEGIN,
//! the characteristics `set_session` gave, and how many requests are in flight.
//!
//! Autocommit is on by default, and then the only cost on every request is one relaxed load.
//! When it is off, a request that runs statements (its maker says so: `Link::request` and its
//! streamed and body forms, never `Link::request_protocol`) while the session is idle and no
//! transaction of the driver's is open gets a `BEGIN` queued just before it: the connection
//! task writes requests in order, so the statement runs inside the block. The block's characteristics are the session's
//! defaults (`default_transaction_isolation` …), which is where `set_session` puts them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::BytesMut;
use pg_exceptions::Error;
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
    /// The answer to the BEGIN queued lazily, kept until it has been read.
    begin: Mutex<Option<Responses>>,
    /// Requests queued whose answer has not been handed over in full.
    in_flight: Arc<AtomicUsize>,
}

impl Default for SessionState {
    fn default() -> SessionState {
        SessionState {
            autocommit: AtomicBool::new(true),
            characteristics: Mutex::default(),
            begin: Mutex::default(),
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

    /// Whether a lazily queued BEGIN has not been answered yet.
    pub(crate) fn begin_pending(&self) -> bool {
        let mut begin = lock(&self.begin);
        if begin.as_mut().is_some_and(|r| !answered(r)) {
            return true;
        }
        *begin = None;
        false
    }

    /// Queues psycopg2's BEGIN before a request that runs statements when autocommit is off
    /// and no block is open or on its way.
    #[inline]
    pub(crate) fn begin_if_needed(&self, link: &Link) -> Result<(), Error> {
        if self.autocommit() {
            return Ok(());
        }
        self.begin_lazily(link)
    }

    #[cold]
    fn begin_lazily(&self, link: &Link) -> Result<(), Error> {
        if link.xacts.depth() > 0 {
            return Ok(());
        }
        let mut begin = lock(&self.begin);
        if begin.as_mut().is_some_and(|r| !answered(r)) {
            // The block is on its way: it will be open when these bytes run.
            return Ok(());
        }
        *begin = None;
        if link.shared.status() != TransactionStatus::Idle {
            return Ok(());
        }
        let mut buf = BytesMut::new();
        frontend::query("BEGIN", &mut buf).map_err(crate::wire::task::protocol)?;
        *begin = Some(link.request_unbegun(buf.freeze())?);
        Ok(())
    }
}

/// Whether the session is inside a transaction block, or one is on its way.
pub(crate) fn in_block(link: &Link) -> bool {
    link.shared.status() != TransactionStatus::Idle
        || link.xacts.depth() > 0
        || link.session.begin_pending()
}
