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
        if let Some(message) = Message::parse(&mut self.buf).map_err(protocol)? {
            return Ok(Some(message));
        }
        match self.rx.try_recv() {
            Ok(Ok(chunk)) => {
                if let Some(throttle) = &self.throttle {
                    throttle.consumed(chunk.len());
                }
                if self.buf.is_empty() {
                    self.buf = chunk;
                } else {
                    self.buf.extend_from_slice(&chunk);
                }
                Message::parse(&mut self.buf).map_err(protocol)
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Ok(None),
        }
    }

    /// The next message; an error when the connection failed or closed before the answer ended.
    pub(crate) async fn next(&mut self, shared: &Shared) -> Result<Message, Error> {
        loop {
            if let Some(message) = Message::parse(&mut self.buf).map_err(protocol)? {
                return Ok(message);
            }
            match self.rx.recv().await {
                Some(Ok(chunk)) => {
                    if let Some(throttle) = &self.throttle {
                        throttle.consumed(chunk.len());
                    }
                    if self.buf.is_empty() {
                        self.buf = chunk;
                    } else {
                        self.buf.extend_from_slice(&chunk);
                    }
                }
                Some(Err(error)) => return Err(error),
                None => return Err(shared.closed_error()),
            }
        }
    }
}
