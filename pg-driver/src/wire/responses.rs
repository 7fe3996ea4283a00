//! The reading end of a request: backend messages as the task routes them.

use bytes::BytesMut;
use pg_exceptions::Error;
use postgres_protocol::message::backend::Message;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::wire::answers::AnswerReceiver;
use crate::wire::gather::{self, Gather};
use crate::wire::shared::Shared;
use crate::wire::task::{OwnAnswer, TaskNudge, Throttle, protocol, reserve_read};

/// The answers to one request, parsed on demand.
pub(crate) struct Responses {
    rx: AnswerReceiver,
    buf: BytesMut,
    throttle: Option<Arc<Throttle>>,
    /// Set while the request's own handle reads the answer from the socket (see
    /// [`crate::wire::task::Parked`]); the answers come through `rx` before and after.
    direct: Option<Direct>,
    /// How many answers to messages put in front of the request's own (see
    /// [`Responses::skip_prefix`]) are still to be passed over.
    prefix: u8,
    /// Wakes the task when the reader gives up before the answer ended, so that it can
    /// cancel the request on the server (see [`crate::wire::abandon`]).
    nudge: Option<TaskNudge>,
    /// When the reader gives up waiting, and the timeout that set it.
    deadline: Option<(tokio::time::Instant, Duration)>,
}

/// Whether a request of these bytes may carry other messages of the extended protocol in
/// front of its own, under its Sync: it begins with a Parse, or with a Bind of a named
/// statement (a Bind of the unnamed statement would find the one the messages in front
/// parsed).
pub(crate) fn carries_prefix(bytes: &[u8]) -> bool {
    match bytes.first() {
        Some(b'P') => true,
        Some(b'B') => {
            // 'B', length, the portal's name and its NUL, then the statement's name.
            let body = bytes.get(5..).unwrap_or_default();
            let statement = body
                .iter()
                .position(|&b| b == 0)
                .map(|end| &body[end + 1..]);
            statement.is_some_and(|name| name.first().is_some_and(|&b| b != 0))
        }
        _ => false,
    }
}

/// Reading one's own answer with the task's lent reading end.
struct Direct {
    /// Taken when reading ends; a reader dropped before (its caller gave up) leaves the rest
    /// of its answer to the task to read and drop.
    own: Option<OwnAnswer>,
    shared: Arc<Shared>,
    /// How many bytes at the front of the lent buffer are whole frames of this answer, looked
    /// at (terminators counted, transaction status recorded) and not yet handed over.
    scanned: usize,
    /// Fewer wake-ups while a long answer streams in (lowered before the loan ends).
    gather: Gather,
}

/// What a look at the lent buffer found.
enum Scan {
    /// The answer goes on past what is buffered.
    More,
    /// The answer ends at `scanned`.
    Done,
    /// Something the task deals with: a message of the side channel (a notice, a
    /// notification, a parameter change) or a malformed header.
    TaskWork,
}

impl Direct {
    /// Looks at the whole frames after `scanned`, as the task's routing would.
    fn scan(&mut self) -> Scan {
        let Some((loan, responder)) = &mut self.own else {
            return Scan::TaskWork;
        };
        let buf = &loan.get().buf;
        loop {
            let rest = &buf[self.scanned..];
            let Some(header) = rest.get(..5) else {
                return Scan::More;
            };
            let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
            // The length is a signed 32-bit number: below 4, or 2^31 and over (negative), no
            // frame follows. The task's parser fails the connection with a ProtocolError;
            // waiting here for 2 GiB that never come would hang the caller instead.
            if !(4..=i32::MAX as usize).contains(&len) {
                return Scan::TaskWork;
            }
            if rest.len() <= len {
                return Scan::More;
            }
            let tag = header[0];
            match tag {
                b'N' | b'A' | b'S' => return Scan::TaskWork,
                b'Z' if len < 5 => return Scan::TaskWork,
                b'Z' => self.shared.set_status(rest[5]),
                _ => {}
            }
            self.shared.marks.frame(tag, &rest[5..=len]);
            self.scanned += len + 1;
            if responder.terminators.contains(&tag) {
                responder.remaining = responder.remaining.saturating_sub(1);
                if responder.remaining == 0 {
                    return Scan::Done;
                }
            }
        }
    }
}

impl Drop for Direct {
    fn drop(&mut self) {
        if let Some((mut loan, responder)) = self.own.take() {
            let parked = loan.get();
            self.gather.lower(gather::half_tcp(&parked.half));
            // The frames looked at were counted: nobody reads them now.
            bytes::Buf::advance(&mut parked.buf, self.scanned);
            parked.front = Some(responder);
            loan.give_back(false);
        }
    }
}

impl Responses {
    pub(crate) fn new(rx: AnswerReceiver, throttle: Option<Arc<Throttle>>) -> Responses {
        Responses {
            rx,
            buf: BytesMut::new(),
            throttle,
            direct: None,
            prefix: 0,
            nudge: None,
            deadline: None,
        }
    }

    /// Given up before its answer ended, the reader tells the task (see
    /// [`crate::wire::abandon`]).
    pub(crate) fn cancel_on_drop(&mut self, nudge: TaskNudge) {
        self.nudge = Some(nudge);
    }

    /// Waits for the answer at most `timeout` from now: then the wait fails with a
    /// QueryTimeoutError (and the reader, dropped, has the request cancelled).
    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.deadline = Some((tokio::time::Instant::now() + timeout, timeout));
    }

    /// Passes over the answers to `n` messages put in front of the request's own: each
    /// ParseComplete, BindComplete or CommandComplete; an ErrorResponse among them ends the
    /// passing over and is read as the request's (the server skipped the rest up to the
    /// Sync).
    pub(crate) fn skip_prefix(&mut self, n: u8) {
        self.prefix = n;
    }

    /// The answers to a request whose handle reads them itself, with the task's reading end.
    pub(crate) fn own(rx: AnswerReceiver, own: OwnAnswer, shared: Arc<Shared>) -> Responses {
        Responses {
            rx,
            buf: BytesMut::new(),
            throttle: None,
            direct: Some(Direct {
                own: Some(own),
                shared,
                scanned: 0,
                gather: Gather::new(),
            }),
            prefix: 0,
            nudge: None,
            deadline: None,
        }
    }

    /// Hands the frames looked at over to the parser.
    fn take_scanned(&mut self) {
        let Some(direct) = &mut self.direct else {
            return;
        };
        if let Some((loan, _)) = &mut direct.own
            && direct.scanned > 0
        {
            let chunk = loan.get().buf.split_to(direct.scanned);
            direct.scanned = 0;
            self.take(chunk);
        }
    }

    /// Ends reading with the lent reading end: `done` when the answer is all here; otherwise
    /// the task answers the rest, through `rx`.
    fn end_direct(&mut self, done: bool) {
        self.take_scanned();
        let Some(mut direct) = self.direct.take() else {
            return;
        };
        let Some((mut loan, mut responder)) = direct.own.take() else {
            return;
        };
        let parked = loan.get();
        // The task waits on the socket as tokio reports it: woken by every byte again.
        direct.gather.lower(gather::half_tcp(&parked.half));
        if done {
            // Not in flight once the caller can see its last message.
            responder.active = None;
            drop(responder);
            // The task reads what comes later (a notification, the server's goodbye): its
            // waker, not this reader's, waits on the socket again. Something there already,
            // or left in the buffer, is the task's to read now.
            let mut cx = Context::from_waker(&parked.waker);
            let quiet = parked.buf.is_empty() && parked.half.poll_read_ready(&mut cx).is_pending();
            loan.give_back(quiet);
        } else {
            parked.front = Some(responder);
            loan.give_back(false);
        }
    }

    /// Acts on what the lent buffer holds: hands the frames looked at over, and ends the loan
    /// when the answer ended or the task must take over. Returns whether it did any of that.
    fn look(&mut self) -> bool {
        let Some(direct) = &mut self.direct else {
            return true;
        };
        match direct.scan() {
            Scan::Done => self.end_direct(true),
            Scan::TaskWork => self.end_direct(false),
            Scan::More if direct.scanned > 0 => self.take_scanned(),
            Scan::More => return false,
        }
        true
    }

    /// Reads with the lent reading end until frames of the answer are handed over, or the
    /// answer ended, or the task must take over.
    fn poll_direct(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.look() {
                return Poll::Ready(());
            }
            let Some(direct) = &mut self.direct else {
                return Poll::Ready(());
            };
            let Some((loan, _)) = &mut direct.own else {
                return Poll::Ready(());
            };
            let parked = loan.get();
            // What was looked at has been handed over: at most an incomplete frame is left.
            reserve_read(&mut parked.buf);
            let read = match tokio_util::io::poll_read_buf(
                Pin::new(&mut parked.half),
                cx,
                &mut parked.buf,
            ) {
                Poll::Pending => {
                    let tcp = gather::half_tcp(&parked.half);
                    direct.gather.poll_gather(tcp, cx, &mut parked.buf)
                }
                read => read,
            };
            match read {
                Poll::Ready(Ok(n)) if n > 0 => direct.gather.count(n),
                // The end, or a failure: the task meets it too when it reads, and fails the
                // connection as it always does.
                Poll::Ready(_) => {
                    self.end_direct(false);
                    return Poll::Ready(());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The next message if it is already buffered, without waiting.
    pub(crate) fn next_buffered(&mut self) -> Result<Option<Message>, Error> {
        self.buffered_with(parse_message)
    }

    /// The next message; an error when the connection failed or closed before the answer ended.
    pub(crate) async fn next(&mut self, shared: &Shared) -> Result<Message, Error> {
        self.next_with(shared, parse_message).await
    }

    /// [`Responses::next_buffered`] for an execution's reader: see [`Frame`].
    pub(crate) fn next_frame_buffered(&mut self) -> Result<Option<Frame>, Error> {
        self.buffered_with(parse_frame)
    }

    /// [`Responses::next`] for an execution's reader: see [`Frame`].
    pub(crate) async fn next_frame(&mut self, shared: &Shared) -> Result<Frame, Error> {
        self.next_with(shared, parse_frame).await
    }

    /// Takes a chunk the task handed over into the buffer.
    fn take(&mut self, chunk: BytesMut) {
        if let Some(throttle) = &self.throttle {
            throttle.consumed(chunk.len());
        }
        // Chunks are split off one read buffer in order: what is left of the last one and
        // the next are usually adjacent in it, and join without a copy.
        self.buf.unsplit(chunk);
    }

    /// The next item parsed from the buffer. A buffer left empty lets go of the read
    /// buffer it was split from: the items handed out share that allocation (a big value
    /// is one), and an empty remnant would keep it alive until the next chunk came.
    #[inline]
    fn parse<T>(&mut self, parse: Parser<T>) -> Result<Option<T>, Error> {
        if self.prefix > 0 && !self.pass_prefix() {
            return Ok(None);
        }
        let item = parse(&mut self.buf)?;
        if item.is_some() {
            self.let_go_if_empty();
        }
        Ok(item)
    }

    /// The body of the DataRow at the front of the buffer when a whole one is there (and no
    /// answer of a prefix is left to pass over): the rows of a stream taken in a tight loop,
    /// as [`parse_frame`] would take each.
    #[inline]
    pub(crate) fn buffered_data_row(&mut self) -> Option<bytes::Bytes> {
        if self.prefix > 0 {
            return None;
        }
        let (b'D', len @ 6..) = whole_frame(&self.buf)? else {
            return None;
        };
        let body = take_body(&mut self.buf, len);
        self.let_go_if_empty();
        Some(body)
    }

    /// Lets go of the read buffer a parsed-out buffer was split from (see [`Responses::parse`]).
    #[inline]
    fn let_go_if_empty(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
    }

    /// Passes over the prefix's answers in the buffer; false when more must be read first.
    #[cold]
    fn pass_prefix(&mut self) -> bool {
        while self.prefix > 0 {
            let Some(header) = self.buf.get(..5) else {
                return false;
            };
            let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
            match header[0] {
                b'1' | b'2' | b'C' if self.buf.len() > len => {
                    bytes::Buf::advance(&mut self.buf, len + 1);
                    self.prefix -= 1;
                }
                b'1' | b'2' | b'C' if (4..=i32::MAX as usize).contains(&len) => return false,
                // An error, or something malformed: the request's parser reads it.
                _ => self.prefix = 0,
            }
        }
        true
    }

    fn buffered_with<T>(&mut self, parse: Parser<T>) -> Result<Option<T>, Error> {
        if let Some(item) = self.parse(parse)? {
            return Ok(Some(item));
        }
        if self.direct.is_some() {
            // Only what was read already: no waiting, and no waker to leave with the socket.
            self.look();
            if self.direct.is_some() {
                return self.parse(parse);
            }
        }
        match self.rx.try_recv() {
            Ok(Ok(chunk)) => {
                self.take(chunk);
                self.parse(parse)
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Ok(None),
        }
    }

    async fn next_with<T>(&mut self, shared: &Shared, parse: Parser<T>) -> Result<T, Error> {
        loop {
            if let Some(item) = self.parse(parse)? {
                return Ok(item);
            }
            if let Some((at, timeout)) = self.deadline {
                return self.next_within(shared, parse, at, timeout).await;
            }
            if self.direct.is_some() {
                std::future::poll_fn(|cx| self.poll_direct(cx)).await;
                continue;
            }
            match self.rx.recv().await {
                Some(Ok(chunk)) => self.take(chunk),
                Some(Err(error)) => return Err(error),
                None => return Err(shared.closed_error()),
            }
        }
    }
}

impl Responses {
    /// [`Responses::next_with`] under a deadline.
    #[cold]
    async fn next_within<T>(
        &mut self,
        shared: &Shared,
        parse: Parser<T>,
        at: tokio::time::Instant,
        timeout: Duration,
    ) -> Result<T, Error> {
        let late = || crate::wire::error::timed_out(timeout);
        loop {
            if let Some(item) = self.parse(parse)? {
                return Ok(item);
            }
            if self.direct.is_some() {
                let read = std::future::poll_fn(|cx| self.poll_direct(cx));
                tokio::time::timeout_at(at, read)
                    .await
                    .map_err(|_| late())?;
                continue;
            }
            match tokio::time::timeout_at(at, self.rx.recv())
                .await
                .map_err(|_| late())?
            {
                Some(Ok(chunk)) => self.take(chunk),
                Some(Err(error)) => return Err(error),
                None => return Err(shared.closed_error()),
            }
        }
    }
}

impl Drop for Responses {
    fn drop(&mut self) {
        // Given up before the answer ended: the task may cancel the request (a reader with
        // the task's reading end gives it back as it drops, which wakes the task too).
        if let Some(nudge) = &self.nudge
            && !self.rx.is_finished()
        {
            self.rx.close();
            nudge.wake();
        }
    }
}

type Parser<T> = fn(&mut BytesMut) -> Result<Option<T>, Error>;

fn parse_message(buf: &mut BytesMut) -> Result<Option<Message>, Error> {
    Message::parse(buf).map_err(protocol)
}

/// A backend message as an execution's reader needs it: the messages every execution ends
/// with are read here in a few instructions each, rather than through postgres-protocol's
/// parser (about 290 each: a quarter of a pooled query's parsing).
pub(crate) enum Frame {
    /// Anything else, parsed.
    Message(Message),
    /// ParseComplete, BindComplete, CloseComplete or NoData: nothing to act on.
    Ack,
    /// CommandComplete's tag.
    Tag(String),
    /// ReadyForQuery (the task has already recorded the transaction status).
    Ready,
    /// CopyData's bytes, taken from the buffer without a copy.
    Copy(bytes::Bytes),
    /// A DataRow's body (its count word, then its values), taken without a copy.
    DataRow(bytes::Bytes),
}

/// The tag and length word of the frame at the front of `buf` when all of it is there (and
/// its length is one: 4 or more).
#[inline]
fn whole_frame(buf: &[u8]) -> Option<(u8, usize)> {
    let header = buf.get(..5)?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    (buf.len() > len && len >= 4).then_some((header[0], len))
}

/// Takes the body of the whole frame of length word `len` at the front of `buf`, no copy.
#[inline]
fn take_body(buf: &mut BytesMut, len: usize) -> bytes::Bytes {
    bytes::Buf::advance(buf, 5);
    buf.split_to(len - 4).freeze()
}

fn parse_frame(buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let Some((tag, len)) = whole_frame(buf) else {
        // Incomplete, or malformed: postgres-protocol waits or says what is wrong.
        return parse_message(buf).map(|m| m.map(Frame::Message));
    };
    let frame = match (tag, len) {
        (b'1' | b'2' | b'3' | b'n', 4) => Frame::Ack,
        (b'Z', 5) => Frame::Ready,
        (b'd', _) => return Ok(Some(Frame::Copy(take_body(buf, len)))),
        // A DataRow with its count word (shorter ones are postgres-protocol's to refuse).
        (b'D', 6..) => return Ok(Some(Frame::DataRow(take_body(buf, len)))),
        (b'C', _) => {
            let body = &buf[5..=len];
            // A C string: the tag, then its NUL, which is the body's last byte.
            let Some((&0, tag)) = body.split_last() else {
                return Err(protocol(std::io::ErrorKind::InvalidData.into()));
            };
            if tag.contains(&0) {
                return Err(protocol(std::io::ErrorKind::InvalidData.into()));
            }
            match std::str::from_utf8(tag) {
                Ok(tag) => Frame::Tag(tag.to_owned()),
                Err(e) => {
                    return Err(protocol(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        e,
                    )));
                }
            }
        }
        _ => return parse_message(buf).map(|m| m.map(Frame::Message)),
    };
    bytes::Buf::advance(buf, len + 1);
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use super::{Frame, parse_frame};
    use bytes::{BufMut, BytesMut};

    fn frame(tag: u8, body: &[u8]) -> BytesMut {
        let mut buf = BytesMut::new();
        buf.put_u8(tag);
        buf.put_u32(body.len() as u32 + 4);
        buf.put_slice(body);
        buf
    }

    #[test]
    fn the_messages_that_end_an_execution_are_read_by_hand() {
        let mut buf = frame(b'2', b"");
        buf.extend_from_slice(&frame(b'C', b"INSERT 0 1\0"));
        buf.extend_from_slice(&frame(b'Z', b"I"));
        buf.extend_from_slice(&frame(b'd', b"1\tone\n"));
        buf.extend_from_slice(&frame(b'd', b""));
        buf.extend_from_slice(&frame(b'D', &[0, 1, 0, 0, 0, 1, b'x']));
        assert!(matches!(parse_frame(&mut buf), Ok(Some(Frame::Ack))));
        assert!(matches!(parse_frame(&mut buf), Ok(Some(Frame::Tag(t))) if t == "INSERT 0 1"));
        assert!(matches!(parse_frame(&mut buf), Ok(Some(Frame::Ready))));
        assert!(matches!(parse_frame(&mut buf), Ok(Some(Frame::Copy(d))) if d == "1\tone\n"));
        assert!(matches!(parse_frame(&mut buf), Ok(Some(Frame::Copy(d))) if d.is_empty()));
        assert!(
            matches!(parse_frame(&mut buf), Ok(Some(Frame::DataRow(d))) if d[..] == [0, 1, 0, 0, 0, 1, b'x'])
        );
        assert!(matches!(parse_frame(&mut buf), Ok(None)));
    }

    #[test]
    fn partial_and_malformed_frames_are_not_taken() {
        let whole = frame(b'C', b"SELECT 1\0");
        let mut partial = BytesMut::from(&whole[..whole.len() - 1]);
        assert!(matches!(parse_frame(&mut partial), Ok(None)));
        assert_eq!(partial.len(), whole.len() - 1);
        for bad in [&b"SELECT 1"[..], b"SEL\0ECT\0", b"\xff\0", b""] {
            let mut buf = frame(b'C', bad);
            assert!(parse_frame(&mut buf).is_err(), "{bad:?}");
        }
        // A DataRow without its count word.
        for bad in [&b""[..], b"\0"] {
            assert!(parse_frame(&mut frame(b'D', bad)).is_err(), "{bad:?}");
        }
        let mut short = BytesMut::from(&[b'2', 0, 0, 0, 3][..]);
        assert!(parse_frame(&mut short).is_err());
    }
}
