//! The reading end of a request: backend messages as the task routes them.

use bytes::BytesMut;
use pg_exceptions::Error;
use postgres_protocol::message::backend::Message;

use std::sync::Arc;

use crate::answers::AnswerReceiver;
use crate::shared::Shared;
use crate::task::{Throttle, protocol};

/// The answers to one request, parsed on demand.
pub(crate) struct Responses {
    rx: AnswerReceiver,
    buf: BytesMut,
    throttle: Option<Arc<Throttle>>,
}

impl Responses {
    pub(crate) fn new(rx: AnswerReceiver, throttle: Option<Arc<Throttle>>) -> Responses {
        Responses {
            rx,
            buf: BytesMut::new(),
            throttle,
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
        if self.buf.is_empty() {
            self.buf = chunk;
        } else {
            self.buf.extend_from_slice(&chunk);
        }
    }

    fn buffered_with<T>(&mut self, parse: Parser<T>) -> Result<Option<T>, Error> {
        if let Some(item) = parse(&mut self.buf)? {
            return Ok(Some(item));
        }
        match self.rx.try_recv() {
            Ok(Ok(chunk)) => {
                self.take(chunk);
                parse(&mut self.buf)
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Ok(None),
        }
    }

    async fn next_with<T>(&mut self, shared: &Shared, parse: Parser<T>) -> Result<T, Error> {
        loop {
            if let Some(item) = parse(&mut self.buf)? {
                return Ok(item);
            }
            match self.rx.recv().await {
                Some(Ok(chunk)) => self.take(chunk),
                Some(Err(error)) => return Err(error),
                None => return Err(shared.closed_error()),
            }
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
}

fn parse_frame(buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
    let Some(header) = buf.get(..5) else {
        return Ok(None);
    };
    let tag = header[0];
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if buf.len() <= len || len < 4 {
        // Incomplete, or malformed: postgres-protocol waits or says what is wrong.
        return parse_message(buf).map(|m| m.map(Frame::Message));
    }
    let frame = match (tag, len) {
        (b'1' | b'2' | b'3' | b'n', 4) => Frame::Ack,
        (b'Z', 5) => Frame::Ready,
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
        buf.extend_from_slice(&frame(b'D', &[0, 1, 0, 0, 0, 1, b'x']));
        assert!(matches!(parse_frame(&mut buf), Ok(Some(Frame::Ack))));
        assert!(matches!(parse_frame(&mut buf), Ok(Some(Frame::Tag(t))) if t == "INSERT 0 1"));
        assert!(matches!(parse_frame(&mut buf), Ok(Some(Frame::Ready))));
        assert!(matches!(
            parse_frame(&mut buf),
            Ok(Some(Frame::Message(
                postgres_protocol::message::backend::Message::DataRow(_)
            )))
        ));
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
        let mut short = BytesMut::from(&[b'2', 0, 0, 0, 3][..]);
        assert!(parse_frame(&mut short).is_err());
    }
}
