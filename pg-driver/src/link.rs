//! The live link to one server session: the request channel to its task and the shared state.

use std::sync::Arc;

use bytes::Bytes;
use pg_exceptions::Error;
use tokio::sync::mpsc;

use crate::hooks::MessageHook;
use crate::responses::Responses;
use crate::shared::Shared;
use crate::startup::AuthMethod;
use crate::task::{Request, Responder, Throttle};
use crate::transport::PeerAddr;

/// How many chunks of a streamed request body may wait for the task.
const BODY_QUEUE: usize = 8;

/// One established server session.
pub(crate) struct Link {
    pub(crate) tx: crate::task::Requests,
    pub(crate) shared: Arc<Shared>,
    pub(crate) backend_key: Option<(i32, i32)>,
    pub(crate) peer: PeerAddr,
    pub(crate) tls: bool,
    pub(crate) auth_method: AuthMethod,
    pub(crate) client_addr: Option<std::net::SocketAddr>,
    /// Types read from this session's catalog, by OID (builtins are never stored).
    pub(crate) types: std::sync::Mutex<std::collections::HashMap<u32, postgres_types::Type>>,
    /// Numbers the statements this session prepares.
    pub(crate) next_id: std::sync::atomic::AtomicU64,
    /// Statements prepared by [`Connection::prepare_cached`](crate::Connection::prepare_cached).
    pub(crate) statements: std::sync::Mutex<crate::statement_cache::StatementCache>,
    /// The transaction blocks and savepoints the driver opened, innermost last.
    pub(crate) xacts: crate::xact::XactStack,
    /// psycopg2's session characteristics and autocommit, and the requests in flight.
    pub(crate) session: crate::extras::SessionState,
}

impl Link {
    /// A name for a new server-side object of this session (statements, cursors).
    pub(crate) fn unique_name(&self, prefix: &str) -> String {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}{n}")
    }

    /// Queues `bytes` and returns the reader of their answers, which end after `syncs`
    /// ReadyForQuery messages.
    pub(crate) fn request(
        &self,
        bytes: Bytes,
        syncs: usize,
        hook: Option<MessageHook>,
    ) -> Result<Responses, Error> {
        self.request_until(bytes, syncs, b"Z", hook)
    }

    /// Like [`Link::request`], with the answer ending after `count` messages of the given tags.
    pub(crate) fn request_until(
        &self,
        bytes: Bytes,
        count: usize,
        terminators: &'static [u8],
        hook: Option<MessageHook>,
    ) -> Result<Responses, Error> {
        self.request_with(bytes, count, terminators, hook, None)
    }

    /// Queues a request whose answer is streamed: the task stops reading while the consumer
    /// holds more than a bounded amount it has not taken.
    pub(crate) fn request_stream(
        &self,
        bytes: Bytes,
        syncs: usize,
        hook: Option<MessageHook>,
    ) -> Result<Responses, Error> {
        self.request_with(bytes, syncs, b"Z", hook, Some(Arc::default()))
    }

    /// Queues a request whose bytes a producer streams through the returned sender; nothing
    /// else is written on the connection until the sender is dropped.
    pub(crate) fn request_body(
        &self,
        bytes: Bytes,
        syncs: usize,
        hook: Option<MessageHook>,
    ) -> Result<(Responses, mpsc::Sender<Bytes>), Error> {
        let (body_tx, body_rx) = mpsc::channel(BODY_QUEUE);
        let responses = self.request_full(bytes, Some(body_rx), None, syncs, b"Z", hook, None)?;
        Ok((responses, body_tx))
    }

    /// Like [`Link::request_body`], for a body another request may cut short: `interrupt` is
    /// written instead of the rest when one arrives (COPY FROM STDIN fails, as in py-postgresql).
    pub(crate) fn request_interruptible_body(
        &self,
        bytes: Bytes,
        interrupt: Bytes,
        syncs: usize,
        hook: Option<MessageHook>,
    ) -> Result<(Responses, mpsc::Sender<Bytes>), Error> {
        let (body_tx, body_rx) = mpsc::channel(BODY_QUEUE);
        let responses = self.request_full(
            bytes,
            Some(body_rx),
            Some(interrupt),
            syncs,
            b"Z",
            hook,
            None,
        )?;
        Ok((responses, body_tx))
    }

    fn request_with(
        &self,
        bytes: Bytes,
        count: usize,
        terminators: &'static [u8],
        hook: Option<MessageHook>,
        throttle: Option<Arc<Throttle>>,
    ) -> Result<Responses, Error> {
        self.request_full(bytes, None, None, count, terminators, hook, throttle)
    }

    #[allow(clippy::too_many_arguments)]
    fn request_full(
        &self,
        bytes: Bytes,
        body: Option<mpsc::Receiver<Bytes>>,
        interrupt: Option<Bytes>,
        count: usize,
        terminators: &'static [u8],
        hook: Option<MessageHook>,
        throttle: Option<Arc<Throttle>>,
    ) -> Result<Responses, Error> {
        if self.shared.is_closed() {
            return Err(self.shared.closed_error());
        }
        // psycopg2's lazy BEGIN when autocommit is off; one relaxed load when it is on.
        self.session.begin_if_needed(self, &bytes)?;
        let (tx, rx) = crate::answers::channel();
        // A plain request (no body, not streamed) may have its answer read by its handle.
        let own = body.is_none() && throttle.is_none() && terminators == b"Z";
        let responder = Responder {
            tx,
            remaining: count,
            terminators,
            hook,
            throttle: throttle.clone(),
            active: Some(self.session.in_flight()),
        };
        let request = Request {
            bytes,
            body,
            interrupt,
            responder: Some(responder),
            terminate: false,
        };
        let closed = |_| self.shared.closed_error();
        if !own {
            self.tx.submit(request).map_err(closed)?;
        } else if let Some(own) = self.tx.submit_reading(request).map_err(closed)? {
            return Ok(Responses::own(rx, own, self.shared.clone()));
        }
        Ok(Responses::new(rx, throttle))
    }

    /// Queues bytes that get no answer of their own.
    pub(crate) fn send(&self, bytes: Bytes) -> Result<(), Error> {
        self.tx
            .submit(Request {
                bytes,
                body: None,
                interrupt: None,
                responder: None,
                terminate: false,
            })
            .map_err(|_| self.shared.closed_error())
    }

    /// Queues a Terminate; the task closes the socket once it is written.
    pub(crate) fn terminate(&self) {
        let bytes = crate::simple::encode_terminate();
        let _ = self.tx.submit(Request {
            bytes,
            body: None,
            interrupt: None,
            responder: None,
            terminate: true,
        });
    }
}
