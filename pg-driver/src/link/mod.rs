//! The live link to one server session: the request channel to its task and the shared state.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use pg_exceptions::Error;
use postgres_protocol::message::frontend;
use tokio::sync::mpsc;

pub(crate) mod session;
pub(crate) mod statements;

use crate::wire::hooks::MessageHook;
use crate::wire::responses::{Responses, carries_prefix};
use crate::wire::shared::Shared;
use crate::wire::startup::AuthMethod;
use crate::wire::task::{Body, BodyStream, Request, Responder, Throttle};
use crate::wire::transport::PeerAddr;

/// How many chunks of a streamed request body may wait for the task.
const BODY_QUEUE: usize = 8;

/// One established server session.
pub(crate) struct Link {
    pub(crate) tx: crate::wire::task::Requests,
    pub(crate) shared: Arc<Shared>,
    pub(crate) backend_key: Option<(i32, i32)>,
    pub(crate) peer: PeerAddr,
    pub(crate) tls: bool,
    pub(crate) auth_method: AuthMethod,
    pub(crate) client_addr: Option<std::net::SocketAddr>,
    /// Types read from this session's catalog, by OID (builtins are never stored); shared
    /// with the column descriptors of the session's statements, whose records decode them.
    pub(crate) types: pg_types::TypeRegistry,
    /// `SELECT version()`'s text, once asked.
    pub(crate) version: std::sync::OnceLock<String>,
    /// Numbers the statements this session prepares.
    pub(crate) next_id: std::sync::atomic::AtomicU64,
    /// Statements prepared by [`Connection::prepare_cached`](crate::Connection::prepare_cached).
    pub(crate) statements: std::sync::Mutex<statements::StatementCache>,
    /// The transaction blocks and savepoints the driver opened, innermost last.
    pub(crate) xacts: crate::xact::stack::XactStack,
    /// psycopg2's session characteristics and autocommit, and the requests in flight.
    pub(crate) session: session::SessionState,
    /// How many `DISCARD ALL`s [`Connection::reset`](crate::Connection::reset) has queued:
    /// statements, cursors and advisory locks made before the last one are gone from the
    /// server. Moved as soon as the DISCARD ALL is queued (the connection task runs it
    /// whatever becomes of the caller), before any request queued after it is made.
    pub(crate) resets: std::sync::atomic::AtomicU64,
    /// How many cleanings [`Connection::clean`](crate::Connection::clean) has queued: they
    /// keep the statements, but close cursors and release advisory locks, as a reset does.
    /// Moved when queued, as `resets`.
    pub(crate) cleans: std::sync::atomic::AtomicU64,
    /// What the connection's parameters ask its statements' traces to do.
    pub(crate) observe: crate::params::Observe,
}

impl Link {
    /// A name for a new server-side object of this session (statements, cursors).
    pub(crate) fn unique_name(&self, prefix: &str) -> String {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}{n}")
    }

    /// How many resets discarded the session's statements so far (the `resets` field).
    pub(crate) fn resets(&self) -> u64 {
        self.resets.load(std::sync::atomic::Ordering::Acquire)
    }

    /// How many resets and cleanings closed the session's cursors and released its advisory
    /// locks so far.
    pub(crate) fn session_resets(&self) -> u64 {
        self.resets() + self.cleans.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Queues `bytes`, which run statements, and returns the reader of their answers, which
    /// end after `syncs` ReadyForQuery messages. With autocommit off, a BEGIN goes first when
    /// no block is open (psycopg2's lazy block).
    pub(crate) fn request(
        &self,
        bytes: Bytes,
        syncs: usize,
        hook: Option<MessageHook>,
    ) -> Result<Responses, Error> {
        self.request_full(Ask::statements(bytes, syncs, hook))
    }

    /// Like [`Link::request`], for protocol messages that run no statement (Close, a bare
    /// Sync): they never open autocommit off's lazy block.
    pub(crate) fn request_protocol(&self, bytes: Bytes, syncs: usize) -> Result<Responses, Error> {
        let mut ask = Ask::statements(bytes, syncs, None);
        ask.statements = false;
        self.request_full(ask)
    }

    /// Like [`Link::request`] (or [`Link::request_stream`] with `stream`), for a request that
    /// may run COPY FROM STDIN with no data to give it: when the server asks for the data,
    /// the task answers with `refusal` (CopyFail, and Sync for an extended-protocol request),
    /// and nothing after the request is written until its answer ends.
    pub(crate) fn request_refusing_copy(
        &self,
        bytes: Bytes,
        hook: Option<MessageHook>,
        stream: bool,
        refusal: Bytes,
    ) -> Result<Responses, Error> {
        let mut ask = Ask::statements(bytes, 1, hook);
        if stream {
            ask.throttle = Some(Arc::default());
        }
        ask.copy_in = Some(refusal);
        self.request_full(ask)
    }

    /// Queues a request ending in one Sync that never gets a lazy BEGIN (the BEGIN itself, and
    /// statements that must run outside any block: `set_config` of session defaults, DISCARD
    /// ALL). Its answer is read through the task, never by its handle: the lazy BEGIN's
    /// answer is kept unread for a while, and a lent reading end would wait for it.
    pub(crate) fn request_unbegun(&self, bytes: Bytes) -> Result<Responses, Error> {
        let mut ask = Ask::statements(bytes, 1, None);
        ask.statements = false;
        ask.lend = false;
        self.request_full(ask)
    }

    /// Queues an execution of statements a caller awaits (a statement's call or stream, a
    /// simple query the application sent): like [`Link::request`] (streamed with `stream`;
    /// refusing a COPY FROM STDIN with `refusal`), and given up while the server runs it (the
    /// reader dropped before the answer ended), the server is told to cancel it when that
    /// can touch no other request's work (see [`crate::wire::abandon`]). With `timeout`, the
    /// reader gives up by itself once that much time has passed since the request was
    /// queued: its wait fails with a QueryTimeoutError.
    pub(crate) fn request_execution(
        &self,
        bytes: Bytes,
        stream: bool,
        hook: Option<MessageHook>,
        refusal: Option<Bytes>,
        timeout: Option<std::time::Duration>,
    ) -> Result<Responses, Error> {
        let mut ask = Ask::statements(bytes, 1, hook);
        if stream {
            ask.throttle = Some(Arc::default());
        }
        ask.copy_in = refusal;
        ask.cancel = true;
        let mut responses = self.request_full(ask)?;
        responses.cancel_on_drop(self.tx.nudge());
        if let Some(timeout) = timeout {
            responses.set_timeout(timeout);
        }
        Ok(responses)
    }

    /// Queues a request whose bytes a producer streams through the returned [`Body`]; nothing
    /// else is written on the connection until the body ends. The request is sent whole only
    /// by [`Body::finish`]: should the body be dropped before, the task writes `abort` instead
    /// of the rest (see [`crate::wire::task::BodyStream::abort`]), so nothing half-sent takes
    /// effect and the answer still ends after `syncs` ReadyForQuery messages. With
    /// `interruptible`, a request made meanwhile cuts the body short the same way.
    pub(crate) fn request_body(
        &self,
        bytes: Bytes,
        abort: Bytes,
        interruptible: bool,
        syncs: usize,
        hook: Option<MessageHook>,
    ) -> Result<(Responses, Body), Error> {
        let (tx, parts) = mpsc::channel(BODY_QUEUE);
        let mut ask = Ask::statements(bytes, syncs, hook);
        ask.body = Some(BodyStream {
            parts,
            abort,
            interruptible,
        });
        Ok((self.request_full(ask)?, Body { tx }))
    }

    fn request_full(&self, mut ask: Ask) -> Result<Responses, Error> {
        if self.shared.is_closed() {
            return Err(self.shared.closed_error());
        }
        // psycopg2's lazy BEGIN when autocommit is off; one relaxed load when it is on. The
        // decision is held until the request is queued.
        let mut begin = match ask.statements {
            true => self.session.begin_if_needed(self, || {
                ask.body.is_none() && ask.copy_in.is_none() && carries_prefix(&ask.bytes)
            })?,
            false => None,
        };
        let (mut carrying, mut prefix) = (None, 0);
        if let Some((front, token)) = begin.as_mut().and_then(|b| b.carry.take()) {
            let mut bytes = BytesMut::with_capacity(front.len() + ask.bytes.len());
            bytes.extend_from_slice(&front);
            bytes.extend_from_slice(&ask.bytes);
            ask.bytes = bytes.freeze();
            carrying = Some(token);
            // ParseComplete, BindComplete and the BEGIN's CommandComplete.
            prefix = 3;
        }
        let (tx, rx) = crate::wire::answers::channel();
        // A plain request (no body, not streamed, no copy-in to refuse) may have its answer
        // read by its handle.
        let own = ask.lend && ask.body.is_none() && ask.throttle.is_none() && ask.copy_in.is_none();
        let responder = Responder {
            tx,
            remaining: ask.syncs,
            terminators: b"Z",
            hook: ask.hook,
            throttle: ask.throttle.clone(),
            active: Some(self.session.in_flight()),
            carrying,
            copy_in: ask.copy_in,
            cancel: ask.cancel,
        };
        let request = Request {
            bytes: ask.bytes,
            body: ask.body,
            responder: Some(responder),
            terminate: false,
        };
        let closed = |_| self.shared.closed_error();
        let mut responses = if !own {
            self.tx.submit(request).map_err(closed)?;
            Responses::new(rx, ask.throttle)
        } else {
            match self.tx.submit_reading(request).map_err(closed)? {
                Some(own) => Responses::own(rx, own, self.shared.clone()),
                None => Responses::new(rx, ask.throttle),
            }
        };
        responses.skip_prefix(prefix);
        // Only now may another caller's request follow: the BEGIN went out first.
        drop(begin);
        Ok(responses)
    }

    /// Queues a Terminate; the task closes the socket once it is written.
    pub(crate) fn terminate(&self) {
        let mut buf = BytesMut::new();
        frontend::terminate(&mut buf);
        let bytes = buf.freeze();
        let _ = self.tx.submit(Request {
            bytes,
            body: None,
            responder: None,
            terminate: true,
        });
    }
}

/// What a request is, for [`Link::request_full`].
struct Ask {
    bytes: Bytes,
    syncs: usize,
    hook: Option<MessageHook>,
    throttle: Option<Arc<Throttle>>,
    body: Option<BodyStream>,
    /// What refuses a COPY FROM STDIN the request may run (see [`Link::request_refusing_copy`]).
    copy_in: Option<Bytes>,
    /// It runs statements: with autocommit off, they open the lazy block.
    statements: bool,
    /// Its handle may read its answer itself (see [`crate::wire::task::Parked`]).
    lend: bool,
    /// Given up while it runs, it may be cancelled on the server (see
    /// [`crate::wire::task::Responder::cancel`]).
    cancel: bool,
}

impl Ask {
    fn statements(bytes: Bytes, syncs: usize, hook: Option<MessageHook>) -> Ask {
        Ask {
            bytes,
            syncs,
            hook,
            throttle: None,
            body: None,
            copy_in: None,
            statements: true,
            lend: true,
            cancel: false,
        }
    }
}

/// A server object (a prepared statement, a cursor) or a setting that a request is making,
/// until a handle takes charge of it: dropped unclaimed — its creator's future was given up
/// after the request went out — it queues `undo` (a Close, a restore), so nothing of an
/// abandoned creation outlives it. Made before the request is queued.
pub(crate) struct Unclaimed {
    link: Arc<Link>,
    undo: Option<Bytes>,
}

impl Unclaimed {
    /// Registers `undo` (a request ending in one Sync; it never opens autocommit off's lazy
    /// block) for what the next request on `link` makes.
    pub(crate) fn new(link: Arc<Link>, undo: Bytes) -> Unclaimed {
        Unclaimed {
            link,
            undo: Some(undo),
        }
    }

    /// A handle has taken charge: nothing to undo.
    pub(crate) fn claim(mut self) {
        self.undo = None;
    }
}

impl Drop for Unclaimed {
    fn drop(&mut self) {
        if let Some(undo) = self.undo.take()
            && !self.link.shared.is_closed()
        {
            // Nobody waits for the answer: the task reads and drops it.
            let _ = self.link.request_protocol(undo, 1);
        }
    }
}

impl Link {
    /// Queues Close + Sync for the prepared statement `name`, unless the session is gone;
    /// nobody waits for the answer (the task reads and drops it).
    pub(crate) fn queue_close(&self, name: &str) {
        if self.shared.is_closed() {
            return;
        }
        let _ = self.request_protocol(close_statement(name), 1);
    }
}

/// Close (statement) + Sync. Closing a statement that does not exist is no error.
pub(crate) fn close_statement(name: &str) -> Bytes {
    let mut buf = BytesMut::new();
    // A name the driver made, without NUL bytes: encoding cannot fail.
    let _ = frontend::close(b'S', name, &mut buf);
    frontend::sync(&mut buf);
    buf.freeze()
}
