//! The connection task: it owns the socket, writes requests in the order they were made, and
//! routes each backend message to the request it answers.
//!
//! Requests are pipelined: a handle queues its encoded messages and a responder, and the task
//! writes them as soon as the socket takes them, without waiting for earlier answers. Answers
//! arrive in request order, so the responders form a FIFO. A responder whose receiver is gone
//! (its future was dropped) has its answers read and discarded, which leaves the connection
//! clean for the next request. NOTICE, NOTIFY and ParameterStatus messages are handled here,
//! whichever request is in flight.
//!
//! While the task is idle, a handle writes its request to a TCP or unix socket itself
//! ([`Requests::submit`]) and the task only reads the answer. An idle task parks its read
//! half and buffer ([`Parked`]); a handle that wrote its request borrows them and reads its
//! own answer too ([`Requests::submit_reading`]), so a round trip neither wakes the task nor
//! passes the answer through it. The task still takes and writes requests made meanwhile; it
//! reads again once the loan ends.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker, ready};

use bytes::{Buf, Bytes, BytesMut};
use futures::task::AtomicWaker;
use pg_exceptions::{ConnectionFailureError, Error, Message};
use postgres_protocol::message::backend;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use crate::wire::abandon::Canceller;
use crate::wire::answers::{Loan, Sent};
use crate::wire::cancel::CancelHandle;
use crate::wire::gather::{self, Gather};
use crate::wire::hooks::MessageHook;
use crate::wire::shared::{Notification, Shared};
use crate::wire::socket::{DirectWriter, ReadHalf, Socket, TaskSocket};

pub(crate) use crate::wire::error::protocol;

/// Where a request's answers go and when they end.
pub(crate) struct Responder {
    pub(crate) tx: crate::wire::answers::AnswerSender,
    /// How many terminating messages end the answer.
    pub(crate) remaining: usize,
    /// Which message tags terminate: `Z` (ReadyForQuery) for requests ending in Sync or Query.
    pub(crate) terminators: &'static [u8],
    /// The hook of the statement that made the request, first in the message chain.
    pub(crate) hook: Option<MessageHook>,
    /// For streams: how much the consumer has yet to take, so the task can stop reading.
    pub(crate) throttle: Option<Arc<Throttle>>,
    /// Counts the request as in flight (psycopg2's ACTIVE) until its answer is handed over.
    pub(crate) active: Option<InFlight>,
    /// Counts a request that carries another's messages in front of its own (autocommit
    /// off's BEGIN) until its answer ends: the responder is dropped there, after the answer's
    /// ReadyForQuery set the transaction status.
    #[allow(dead_code, reason = "held for its Drop")]
    pub(crate) carrying: Option<InFlight>,
    /// For a request that may run COPY FROM STDIN without a body to feed it (a COPY statement
    /// called, or SQL text that may hold one): what to write when the server asks for the
    /// data (CopyFail, and Sync for an extended-protocol request, whose own Sync the server
    /// ignored in copy-in mode). Such a request is a barrier: nothing after it is written
    /// until its answer ends, since in copy-in mode the server would take the next request's
    /// messages for a protocol violation.
    pub(crate) copy_in: Option<Bytes>,
    /// Given up while it runs (its reader dropped before the answer ended), the request is
    /// cancelled on the server when that can touch no other request's work (see
    /// [`crate::wire::abandon`]). Set for executions a caller awaits; never for
    /// fire-and-forget requests (a queued ROLLBACK or Close, a lazy BEGIN), whose readers are
    /// dropped at once by design.
    pub(crate) cancel: bool,
}

/// Counts one request as in flight while it lives (psycopg2's ACTIVE, kept by the object
/// model); the task drops it with the request's last message.
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Counts one more request in `counter` until the token is dropped.
    pub(crate) fn count(counter: &Arc<AtomicUsize>) -> InFlight {
        counter.fetch_add(1, Ordering::AcqRel);
        InFlight(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Backpressure between a streaming consumer and the task.
///
/// The task stops reading the socket while a stream's consumer holds more than [`STREAM_LIMIT`]
/// bytes it has not taken, so TCP flow control holds the rest at the server and memory stays
/// bounded. When another request waits behind the stream the task reads on regardless and the
/// stream buffers: correctness before memory when one connection interleaves work.
#[derive(Default)]
pub(crate) struct Throttle {
    outstanding: AtomicUsize,
    waker: AtomicWaker,
}

/// How many unconsumed bytes a stream may hold before the task stops reading.
pub(crate) const STREAM_LIMIT: usize = 1 << 20;

impl Throttle {
    /// Called by the consumer when it takes `n` bytes.
    pub(crate) fn consumed(&self, n: usize) {
        let before = self.outstanding.fetch_sub(n, Ordering::AcqRel);
        if before > STREAM_LIMIT && before - n <= STREAM_LIMIT {
            self.waker.wake();
        }
    }

    fn produced(&self, n: usize) {
        self.outstanding.fetch_add(n, Ordering::AcqRel);
    }

    fn saturated(&self, cx: &mut Context<'_>) -> bool {
        if self.outstanding.load(Ordering::Acquire) <= STREAM_LIMIT {
            return false;
        }
        self.waker.register(cx.waker());
        // Re-check: the consumer may have caught up between the load and the registration.
        self.outstanding.load(Ordering::Acquire) > STREAM_LIMIT
    }
}

/// A piece of a streamed request body, whole messages only.
pub(crate) enum Part {
    /// More of the body.
    More(Bytes),
    /// The end of the body (its Sync, CopyDone…): only after it has the request been sent
    /// whole.
    Last(Bytes),
}

/// A request's streamed body: its parts, and how to finish the request when the body cannot
/// be (see [`Request::body`]).
pub(crate) struct BodyStream {
    pub(crate) parts: mpsc::Receiver<Part>,
    /// Written instead of the rest when the producer goes away before its [`Part::Last`]
    /// (its caller gave up, or it failed): whatever makes the server undo what the body began
    /// and answer with the terminators the request's responder counts (for a batch of
    /// Bind/Execute, an Execute the server fails and Sync; for COPY FROM, CopyFail and Sync).
    pub(crate) abort: Bytes,
    /// Another request cuts the body short, with `abort` (COPY FROM STDIN, as py-postgresql
    /// has it); otherwise requests wait for the body's end.
    pub(crate) interruptible: bool,
}

/// The producer's end of a request body (see [`BodyStream`]).
pub(crate) struct Body {
    pub(crate) tx: mpsc::Sender<Part>,
}

/// The request a [`Body`] belongs to is over: the connection is gone, or another request cut
/// the body short.
#[derive(Debug)]
pub(crate) struct BodyClosed;

impl Body {
    /// Queues more of the body: whole messages.
    pub(crate) async fn send(&self, bytes: Bytes) -> Result<(), BodyClosed> {
        self.tx
            .send(Part::More(bytes))
            .await
            .map_err(|_| BodyClosed)
    }

    /// Queues the body's last part (its CopyDone and Sync, its Sync): the request is whole.
    pub(crate) async fn finish(self, bytes: Bytes) -> Result<(), BodyClosed> {
        self.tx
            .send(Part::Last(bytes))
            .await
            .map_err(|_| BodyClosed)
    }
}

/// One unit of work for the task.
pub(crate) struct Request {
    pub(crate) bytes: Bytes,
    /// More bytes of the same request, streamed by a producer; no other request is written
    /// until it ends, so nothing interleaves with a bulk load or a COPY. The task finishes the
    /// request whatever becomes of the producer: the body's last part, or its abort.
    pub(crate) body: Option<BodyStream>,
    pub(crate) responder: Option<Responder>,
    /// Close the connection once these bytes are written.
    pub(crate) terminate: bool,
}

/// What an idle task leaves for a handle to read its own answer with: the socket's read half
/// and the read buffer (empty when parked), and the task's waker, which the handle registers
/// with the socket again when it is done so that the task sees what comes later
/// (notifications, the server's goodbye).
pub(crate) struct Parked {
    pub(crate) half: ReadHalf,
    pub(crate) buf: BytesMut,
    pub(crate) waker: Waker,
    /// A handle that gives up reading its answer (a notice came, or the socket failed) leaves
    /// its responder here: the task answers it first, with what is left in `buf` and after.
    pub(crate) front: Option<Responder>,
}

/// A request's answer, to be read by the handle that wrote the request: the loan of the
/// task's reading end, and the request's responder.
pub(crate) type OwnAnswer = (Loan<Request, Box<Parked>>, Responder);

/// The handles' end of a connection task: where requests go, and the socket a request may be
/// written to directly while the task is idle.
pub(crate) struct Requests {
    tx: crate::wire::answers::Sender<Request, Box<Parked>>,
    direct: DirectWriter,
}

impl Requests {
    /// Hands `request` over. While the task has no request in flight and nothing to write,
    /// the caller writes the request's bytes itself (requests sent meanwhile queue behind
    /// it, and the task takes nothing until it is queued) and the task, left asleep, takes
    /// the responder when the answer wakes it: a round trip without a hop to the task. What
    /// the socket does not take at once is left for the task. Fails when the task is gone.
    pub(crate) fn submit(&self, request: Request) -> Result<(), TaskGone> {
        self.send(request, false).map(|_| ())
    }

    /// [`Requests::submit`], and when the request was written directly and the task had
    /// parked its reading end, the loan of it and the responder: the caller reads the answer
    /// itself (see [`Parked`]).
    pub(crate) fn submit_reading(&self, request: Request) -> Result<Option<OwnAnswer>, TaskGone> {
        self.send(request, true)
    }

    /// What wakes the task when a reader gives up (see [`crate::wire::abandon`]).
    pub(crate) fn nudge(&self) -> TaskNudge {
        self.tx.nudge()
    }

    /// Whether a reader gave up since the last look (see [`Requests::settle_cancels`]).
    pub(crate) fn take_nudged(&self) -> bool {
        self.tx.take_nudged()
    }

    /// After a reader gave up ([`Requests::take_nudged`]): lets the task act on it, and
    /// waits for a CancelRequest it then owes to be delivered (bounded). For a connection
    /// whose runtime runs only during calls (the blocking facade): the cancel goes out
    /// before the call that gave the request up returns.
    pub(crate) async fn settle_cancels(&self, shared: &Shared) {
        // The task, woken by the nudge, runs first and decides.
        tokio::task::yield_now().await;
        shared
            .cancel_settled(crate::wire::abandon::CANCEL_WAIT)
            .await;
    }

    fn send(&self, request: Request, read: bool) -> Result<Option<OwnAnswer>, TaskGone> {
        let barrier = request
            .responder
            .as_ref()
            .is_some_and(|r| r.copy_in.is_some());
        if request.body.is_some() || request.terminate || barrier || !self.direct.is_some() {
            return self.tx.send(request).map(|()| None).map_err(|_| TaskGone);
        }
        let sent = self.tx.send_or_write(request, read, |request| {
            let written = self.direct.try_write(&request.bytes);
            request.bytes.advance(written);
            request.bytes.is_empty()
        });
        match sent {
            Ok(Sent::Queued) => Ok(None),
            Ok(Sent::Lent(loan, request)) => match request.responder {
                Some(responder) => Ok(Some((loan, responder))),
                // Nothing to read: the loan goes back at once.
                None => Ok(None),
            },
            Err(_) => Err(TaskGone),
        }
    }
}

/// Wakes the connection task (see [`Requests::nudge`]).
pub(crate) type TaskNudge = crate::wire::answers::Nudge<Request, Box<Parked>>;

/// The connection's task has ended: nothing more can be sent.
pub(crate) struct TaskGone;

/// Starts the task of an established session on the current runtime. `cancel` reaches the
/// session's backend: with it, requests given up while they run are cancelled on the server
/// (see [`crate::wire::abandon`]).
pub(crate) fn spawn(
    socket: Socket,
    read_buf: BytesMut,
    shared: Arc<Shared>,
    cancel: Option<CancelHandle>,
) -> Requests {
    let (tx, rx) = crate::wire::answers::channel::<Request, Box<Parked>>();
    let (socket, direct) = socket.split();
    let canceller = Canceller::new(cancel, shared.clone());
    tokio::spawn(Task::new(socket, read_buf, rx, shared, canceller));
    Requests { tx, direct }
}

/// How much the read buffer grows by when it runs short between messages.
const READ_CHUNK: usize = 64 * 1024;
/// The least room a read is offered: below it, the buffer grows by [`READ_CHUNK`]. Growing
/// only then (not before every read) keeps small answers from costing an allocation each:
/// the frames handed out still share the buffer, so growing it means a new one.
pub(crate) const READ_MIN: usize = 16 * 1024;
/// The most room reserved at once for the rest of a message whose header has arrived. The
/// length word is the server's (up to 2 GiB): a bigger message still arrives whole, the
/// buffer growing by doubling beyond this.
const READ_AHEAD_MAX: usize = 64 << 20;

/// Makes room in `buf` for the next read from the socket. `buf` holds nothing, or the start
/// of an incomplete frame: once that frame's header is in, room for the whole frame (up to
/// [`READ_AHEAD_MAX`] more) is reserved at once, so a big message (a 1 MiB value) is read into one allocation, where
/// growing [`READ_CHUNK`] at a time copied what was read so far at each growth (into a new
/// buffer while earlier frames still shared the old one) and left the freed buffers behind.
/// A frame that has its room already is read to its end, however little room that leaves.
/// Otherwise (small frames, no header yet) the buffer grows by [`READ_CHUNK`] when it has
/// under [`READ_MIN`] free.
pub(crate) fn reserve_read(buf: &mut BytesMut) {
    let free = buf.capacity() - buf.len();
    let frame = match buf.get(1..5) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]) as usize + 1,
        _ => 0,
    };
    let missing = frame.saturating_sub(buf.len());
    if missing > free {
        let room = missing.min(READ_AHEAD_MAX);
        if buf.len() <= READ_CHUNK {
            // The frame's first read: one allocation of its size, what came so far copied.
            // (Growing the small buffer in place instead left glibc's per-thread arenas
            // holding more of the freed frames: a higher peak on a multi-threaded runtime.)
            let mut fresh = BytesMut::with_capacity(buf.len() + room);
            fresh.extend_from_slice(buf);
            *buf = fresh;
        } else {
            // A frame past READ_AHEAD_MAX: the buffer doubles, copies amortised.
            buf.reserve(room);
        }
    } else if free < READ_MIN && frame < READ_MIN {
        buf.reserve(READ_CHUNK);
    }
}

const WRITE_HIGH_WATER: usize = 256 * 1024;

pub(crate) struct Task {
    socket: TaskSocket,
    read_buf: BytesMut,
    write_buf: BytesMut,
    requests: crate::wire::answers::Receiver<Request, Box<Parked>>,
    requests_closed: bool,
    body: Option<BodyStream>,
    pending: VecDeque<Responder>,
    shared: Arc<Shared>,
    terminating: bool,
    needs_flush: bool,
    /// The request queue was told the task is idle (handles may write to the socket).
    idle_published: bool,
    /// Read frames answer a request a handle is still writing (see [`Task::route`]).
    stalled: bool,
    /// The last request taken may enter copy-in mode ([`Responder::copy_in`]): no other is
    /// taken until its answer ends.
    barrier: bool,
    /// Cancels requests given up while they run, holding back what follows meanwhile.
    canceller: Canceller,
    /// Fewer wake-ups while a long answer streams in.
    gather: Gather,
}

impl Task {
    fn new(
        socket: TaskSocket,
        read_buf: BytesMut,
        requests: crate::wire::answers::Receiver<Request, Box<Parked>>,
        shared: Arc<Shared>,
        canceller: Canceller,
    ) -> Task {
        Task {
            socket,
            read_buf,
            write_buf: BytesMut::with_capacity(8 * 1024),
            requests,
            requests_closed: false,
            body: None,
            pending: VecDeque::new(),
            shared,
            terminating: false,
            needs_flush: false,
            idle_published: false,
            stalled: false,
            barrier: false,
            canceller,
            gather: Gather::new(),
        }
    }

    /// Takes queued requests (and the body a request streams) into the write buffer.
    /// Returns whether anything was taken.
    fn poll_requests(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        // Looked at whatever else stops the taking below (a full write buffer, a barrier):
        // a cancel owed goes out, and one delivered is said to be.
        self.held(cx);
        while self.write_buf.len() < WRITE_HIGH_WATER {
            if self.body.as_ref().is_some_and(|b| b.interruptible) && !self.requests_closed {
                // Another request cuts an interruptible body short.
                if let Poll::Ready(Some(request)) = self.requests.poll_recv(cx) {
                    self.abort_body();
                    self.take(request);
                    progressed = true;
                    continue;
                }
            }
            if let Some(body) = &mut self.body {
                match body.parts.poll_recv(cx) {
                    Poll::Ready(Some(Part::More(bytes))) => {
                        self.write_buf.extend_from_slice(&bytes)
                    }
                    Poll::Ready(Some(Part::Last(bytes))) => {
                        self.write_buf.extend_from_slice(&bytes);
                        self.body = None;
                    }
                    // The producer went away mid-body: the request still ends as the server
                    // and its responder expect, and nothing of it takes effect.
                    Poll::Ready(None) => self.abort_body(),
                    Poll::Pending => break,
                }
                progressed = true;
                continue;
            }
            if self.terminating || self.requests_closed || self.barrier || self.held(cx) {
                break;
            }
            match self.requests.poll_recv(cx) {
                Poll::Ready(Some(request)) => {
                    progressed = true;
                    self.take(request);
                }
                Poll::Ready(None) => {
                    // Every handle is gone: say goodbye once the answers still owed are read.
                    self.requests_closed = true;
                    progressed = true;
                }
                Poll::Pending => break,
            }
        }
        if self.requests_closed && !self.terminating && self.pending.is_empty() {
            let mut buf = BytesMut::new();
            postgres_protocol::message::frontend::terminate(&mut buf);
            self.write_buf.extend_from_slice(&buf);
            self.terminating = true;
        }
        progressed
    }

    /// Whether the last request written was given up while it runs and what follows waits
    /// for its cancel (see [`crate::wire::abandon`]).
    fn held(&mut self, cx: &mut Context<'_>) -> bool {
        let lent = self.socket.is_lent();
        let body = self.body.is_some();
        self.canceller.hold(&mut self.pending, lent, body, cx)
    }

    fn take(&mut self, request: Request) {
        self.idle_published = false;
        self.write_buf.extend_from_slice(&request.bytes);
        if let Some(responder) = request.responder {
            self.barrier = responder.copy_in.is_some();
            self.pending.push_back(responder);
        }
        self.terminating = request.terminate;
        self.body = request.body;
    }

    /// Ends the body being written with its abort instead of the rest.
    fn abort_body(&mut self) {
        if let Some(body) = self.body.take() {
            self.write_buf.extend_from_slice(&body.abort);
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        let mut progressed = false;
        while !self.write_buf.is_empty() {
            match Pin::new(&mut self.socket).poll_write(cx, &self.write_buf) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    self.write_buf.advance(n);
                    self.needs_flush = true;
                    progressed = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Ready(Ok(progressed)),
            }
        }
        if self.needs_flush {
            match Pin::new(&mut self.socket).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        Poll::Ready(Ok(progressed))
    }

    /// Whether the stream at the front wants the task to stop reading for now.
    fn throttled(&self, cx: &mut Context<'_>) -> bool {
        match self.pending.front() {
            Some(front) if self.pending.len() == 1 && !front.tx.is_closed() => {
                front.throttle.as_ref().is_some_and(|t| t.saturated(cx))
            }
            _ => false,
        }
    }

    /// Reads what the socket has; `Ready(Err)` on a failure or end of stream.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, Error>> {
        let mut progressed = false;
        if self.socket.is_lent() {
            match self.take_back(cx) {
                Ok(true) => progressed = true,
                Ok(false) => return Poll::Ready(Ok(false)),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        if self.stalled {
            // Frames read earlier wait for the request a handle was writing.
            self.route(cx)?;
            if self.stalled {
                return Poll::Ready(Ok(false));
            }
            progressed = true;
        }
        loop {
            if self.throttled(cx) {
                return Poll::Ready(Ok(progressed));
            }
            // Routing left at most an incomplete frame at the front.
            reserve_read(&mut self.read_buf);
            let read = match tokio_util::io::poll_read_buf(
                Pin::new(&mut self.socket),
                cx,
                &mut self.read_buf,
            ) {
                Poll::Pending => {
                    self.gather
                        .poll_gather(gather::task_tcp(&self.socket), cx, &mut self.read_buf)
                }
                read => read,
            };
            match read {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::client(
                        &ConnectionFailureError,
                        "the server closed the connection",
                    )));
                }
                Poll::Ready(Ok(_)) => {
                    progressed = true;
                    self.route(cx)?;
                    if self.stalled {
                        // Woken when the request is queued; reading on would only buffer.
                        return Poll::Ready(Ok(true));
                    }
                }
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(Err(Error::client(
                        &ConnectionFailureError,
                        "the connection to the server failed",
                    )
                    .with_cause(e)));
                }
                Poll::Pending => return Poll::Ready(Ok(progressed)),
            }
        }
    }

    /// Takes the lent reading end back when its borrower is done with it; false while a
    /// handle still reads its answer (the task is woken when the loan ends).
    fn take_back(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        match self.requests.unpark(cx) {
            Ok(Some(parked)) => {
                self.unpark(*parked);
                Ok(true)
            }
            // Given back after the task closed the queue: it is failing already.
            Ok(None) => Err(Error::client(
                &ConnectionFailureError,
                "the connection's socket was lost",
            )),
            Err(crate::wire::answers::Lent) => Ok(false),
        }
    }

    /// Takes the reading end back from where it was parked (or lent).
    fn unpark(&mut self, parked: Parked) {
        let Parked {
            half, buf, front, ..
        } = parked;
        self.socket.restore(half);
        self.read_buf = buf;
        if let Some(responder) = front {
            // Its answer comes before those of requests taken while the reading end was lent.
            self.pending.push_front(responder);
        }
        // What the handle left unread is routed before the task reads more.
        self.stalled = !self.read_buf.is_empty();
        // Parked again once idle.
        self.idle_published = false;
    }

    /// Parks the reading end for a handle to borrow, when it can be: split socket, nothing
    /// buffered.
    fn park(&mut self, cx: &Context<'_>) -> Option<Box<Parked>> {
        if !self.read_buf.is_empty() || self.stalled {
            return None;
        }
        // The borrower waits on the socket as tokio reports it: woken by every byte.
        self.gather.lower(gather::task_tcp(&self.socket));
        let half = self.socket.lend()?;
        // Boxed once here, so that lending and giving it back moves a pointer.
        Some(Box::new(Parked {
            half,
            buf: std::mem::take(&mut self.read_buf),
            waker: cx.waker().clone(),
            front: None,
        }))
    }

    /// Hands the complete frames in the read buffer to their responders; stops at an answer
    /// whose request a handle is still writing, setting `stalled`.
    fn route(&mut self, cx: &mut Context<'_>) -> Result<(), Error> {
        self.stalled = false;
        let mut batch = 0usize;
        loop {
            let Some(header) = backend::Header::parse(&self.read_buf[batch..]).map_err(protocol)?
            else {
                break;
            };
            let len = header.len() as usize + 1;
            if self.read_buf.len() - batch < len {
                break;
            }
            match header.tag() {
                b'N' | b'A' | b'S' => {
                    self.send_batch(batch);
                    batch = 0;
                    let frame = self.read_buf.split_to(len);
                    self.side_channel(frame)?;
                }
                tag => {
                    if self.pending.is_empty() {
                        // The answer to a request a handle wrote itself while the task was
                        // idle: its responder waits at the head of the queue, or comes
                        // there once the handle is done writing.
                        match self.requests.poll_recv_if(cx, |r| r.bytes.is_empty()) {
                            Poll::Ready(Some(request)) => self.take(request),
                            Poll::Ready(None) => {}
                            Poll::Pending => {
                                // Nothing is batched: a finished answer sent its batch.
                                debug_assert_eq!(batch, 0);
                                self.stalled = true;
                                return Ok(());
                            }
                        }
                    }
                    if tag == b'G'
                        && let Some(fail) = self.pending.front_mut().and_then(|r| r.copy_in.take())
                    {
                        // Asked for COPY data the request does not have: refused at once.
                        self.write_buf.extend_from_slice(&fail);
                    }
                    if tag == b'Z' {
                        if len < 6 {
                            return Err(protocol(std::io::ErrorKind::InvalidData.into()));
                        }
                        self.shared.set_status(self.read_buf[batch + 5]);
                    }
                    self.shared
                        .marks
                        .frame(tag, &self.read_buf[batch + 5..batch + len]);
                    batch += len;
                    let Some(front) = self.pending.front_mut() else {
                        // An answer nobody asked for: a FATAL error before the server hangs up.
                        let frame = self.read_buf.split_to(batch);
                        batch = 0;
                        self.unsolicited(frame)?;
                        continue;
                    };
                    if front.terminators.contains(&tag) {
                        front.remaining = front.remaining.saturating_sub(1);
                        if front.remaining == 0 {
                            // Not in flight once the caller can see its last message.
                            front.active = None;
                            self.send_batch(batch);
                            batch = 0;
                            self.pending.pop_front();
                            self.gather.answered(gather::task_tcp(&self.socket));
                            self.canceller.answered();
                            // A barrier is the last request taken: its end lets others in.
                            self.barrier &= !self.pending.is_empty();
                        }
                    }
                }
            }
        }
        self.send_batch(batch);
        Ok(())
    }

    fn send_batch(&mut self, len: usize) {
        if len == 0 {
            return;
        }
        let chunk = self.read_buf.split_to(len);
        self.gather.count(len);
        if let Some(front) = self.pending.front() {
            if let Some(throttle) = &front.throttle {
                throttle.produced(len);
            }
            // A closed receiver means the caller gave up: its answers are dropped here.
            if front.tx.send(Ok(chunk)).is_err()
                && let Some(throttle) = &front.throttle
            {
                throttle.consumed(len);
            }
        }
    }

    fn side_channel(&mut self, mut frame: BytesMut) -> Result<(), Error> {
        let message = backend::Message::parse(&mut frame).map_err(protocol)?;
        match message {
            Some(backend::Message::NoticeResponse(body)) => {
                let fields = body.fields();
                let message = message_from_fields(fields)?;
                let hook = self.pending.front().and_then(|r| r.hook.as_ref());
                self.shared.hooks.dispatch(hook, &message);
                self.shared.push_notice(message);
            }
            Some(backend::Message::NotificationResponse(body)) => {
                self.shared.push_notification(Notification {
                    channel: body.channel().map_err(protocol)?.to_owned(),
                    payload: body.message().map_err(protocol)?.to_owned(),
                    pid: body.process_id(),
                });
            }
            Some(backend::Message::ParameterStatus(body)) => {
                self.shared.set_parameter(
                    body.name().map_err(protocol)?,
                    body.value().map_err(protocol)?,
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn unsolicited(&mut self, mut frame: BytesMut) -> Result<(), Error> {
        while let Some(message) = backend::Message::parse(&mut frame).map_err(protocol)? {
            if let backend::Message::ErrorResponse(body) = message {
                let error = crate::wire::error::from_error_body(&body)?;
                self.shared.mark_closed(Some(error));
            }
        }
        Ok(())
    }

    /// Nothing in flight, nothing to write: a handle may write the next request itself.
    fn is_idle(&self) -> bool {
        self.pending.is_empty()
            && self.write_buf.is_empty()
            && !self.needs_flush
            && self.body.is_none()
            && !self.terminating
            && !self.requests_closed
            && !self.canceller.busy()
    }

    fn fail(&mut self, error: Error) {
        self.shared.mark_closed(Some(error));
        self.shared.mark_finished();
        for responder in self.pending.drain(..) {
            let _ = responder.tx.send(Err(self.shared.closed_error()));
        }
        self.requests.close();
        while let Ok(request) = self.requests.try_recv() {
            if let Some(responder) = request.responder {
                let _ = responder.tx.send(Err(self.shared.closed_error()));
            }
        }
    }
}

/// Builds a Message from NoticeResponse fields.
pub(crate) fn message_from_fields(
    mut fields: postgres_protocol::message::backend::ErrorFields<'_>,
) -> Result<Message, Error> {
    use fallible_iterator::FallibleIterator;
    let mut collected = Vec::new();
    while let Some(field) = fields.next().map_err(protocol)? {
        collected.push((
            field.type_(),
            String::from_utf8_lossy(field.value_bytes()).into_owned(),
        ));
    }
    Ok(Message::from_fields(collected))
}

impl Future for Task {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            // A reader that gave its answer up hands its responder back with the reading
            // end: it goes first in the queue before any request is taken, so that the task
            // sees whether the given-up request was the last one written.
            if this.socket.is_lent()
                && let Err(e) = this.take_back(cx)
            {
                this.fail(e);
                return Poll::Ready(());
            }
            let mut progressed = this.poll_requests(cx);
            match this.poll_write(cx) {
                Poll::Ready(Ok(p)) => progressed |= p,
                Poll::Ready(Err(e)) => {
                    this.fail(
                        Error::client(&ConnectionFailureError, "cannot write to the server")
                            .with_cause(e),
                    );
                    return Poll::Ready(());
                }
                Poll::Pending => {}
            }
            if this.terminating && this.write_buf.is_empty() && !this.needs_flush {
                let _ = ready!(Pin::new(&mut this.socket).poll_shutdown(cx));
                this.shared.mark_closed(None);
                this.fail(this.shared.closed_error());
                return Poll::Ready(());
            }
            match this.poll_read(cx) {
                Poll::Ready(Ok(p)) => progressed |= p,
                Poll::Ready(Err(e)) => {
                    this.fail(e);
                    return Poll::Ready(());
                }
                Poll::Pending => {}
            }
            if !progressed {
                if !this.idle_published && this.is_idle() {
                    let mut parked = this.park(cx);
                    this.idle_published = this.requests.publish_idle(&mut parked);
                    // Not taken (not idle after all): the reading end comes back.
                    if let Some(parked) = parked {
                        let Parked { half, buf, .. } = *parked;
                        this.socket.restore(half);
                        this.read_buf = buf;
                    }
                }
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{READ_AHEAD_MAX, READ_CHUNK, READ_MIN, reserve_read};
    use bytes::{BufMut, BytesMut};

    /// The first `have` bytes of a frame whose length word says `len`.
    fn partial(len: u32, have: usize) -> BytesMut {
        let mut buf = BytesMut::new();
        buf.put_u8(b'D');
        buf.put_u32(len);
        buf.resize(have.max(5), b'x');
        buf
    }

    #[test]
    fn a_frame_whose_header_is_in_gets_room_for_all_of_it_at_once() {
        let mut buf = partial(1 << 20, 10_000);
        reserve_read(&mut buf);
        assert!(buf.capacity() > 1 << 20, "{}", buf.capacity());
        // Not twice over: one allocation of about the frame's size.
        assert!(
            buf.capacity() < (1 << 20) + READ_CHUNK,
            "{}",
            buf.capacity()
        );
        // Room enough already: nothing moves.
        let before = buf.capacity();
        buf.resize((1 << 20) - 100, b'x');
        reserve_read(&mut buf);
        assert_eq!(buf.capacity(), before);
    }

    #[test]
    fn a_claimed_length_reserves_no_more_than_the_bound() {
        let mut buf = partial(0x7fff_fff0, 5);
        reserve_read(&mut buf);
        assert!(buf.capacity() >= READ_AHEAD_MAX);
        assert!(buf.capacity() < 2 * READ_AHEAD_MAX, "{}", buf.capacity());
    }

    #[test]
    fn small_answers_grow_the_buffer_by_chunks_only_when_short() {
        let mut buf = BytesMut::new();
        reserve_read(&mut buf);
        assert!(buf.capacity() >= READ_CHUNK);
        let room = buf.capacity();
        // A header cut short, and a small frame with room to spare: no growth.
        buf.put_slice(&[b'D', 0, 0]);
        reserve_read(&mut buf);
        let mut small = partial(100, 20);
        small.reserve(READ_CHUNK);
        let small_room = small.capacity();
        reserve_read(&mut small);
        assert_eq!((buf.capacity(), small.capacity()), (room, small_room));
        // Under READ_MIN free: another chunk.
        let mut full = BytesMut::with_capacity(READ_CHUNK);
        full.resize(READ_CHUNK - READ_MIN + 1, 0);
        full[1..5].copy_from_slice(&100u32.to_be_bytes());
        reserve_read(&mut full);
        assert!(full.capacity() - full.len() >= READ_CHUNK);
    }
}
