//! The channel that carries one request's answers from the connection task to its reader.
//!
//! One producer (the task), one consumer (the request's [`Responses`](crate::responses::Responses)),
//! a handful of messages (a short query's whole answer is one chunk). tokio's unbounded mpsc
//! serves many producers and allocates a block of 32 slots per channel: making one per request
//! cost about 1,400 instructions, a tenth of a pooled query's client work. This is a queue
//! behind a mutex that neither side holds for more than a push or a pop, with one waker.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::task::AtomicWaker;

use crate::task::Answer;

/// Answers in order: the first in a slot of its own, so a one-chunk answer allocates no
/// queue; more wait in `rest`.
#[derive(Default)]
struct Queue {
    first: Option<Answer>,
    rest: VecDeque<Answer>,
}

impl Queue {
    fn push(&mut self, answer: Answer) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(answer);
        } else {
            self.rest.push_back(answer);
        }
    }

    fn pop(&mut self) -> Option<Answer> {
        self.first.take().or_else(|| self.rest.pop_front())
    }
}

struct Channel {
    queue: Mutex<Queue>,
    /// The task dropped its end: no more answers come.
    sender_gone: AtomicBool,
    /// The reader dropped its end: answers are not wanted.
    receiver_gone: AtomicBool,
    waker: AtomicWaker,
}

impl Channel {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A new channel's two ends.
pub(crate) fn channel() -> (AnswerSender, AnswerReceiver) {
    let channel = Arc::new(Channel {
        queue: Mutex::new(Queue::default()),
        sender_gone: AtomicBool::new(false),
        receiver_gone: AtomicBool::new(false),
        waker: AtomicWaker::new(),
    });
    (AnswerSender(channel.clone()), AnswerReceiver(channel))
}

/// The task's end.
pub(crate) struct AnswerSender(Arc<Channel>);

impl AnswerSender {
    /// Queues `answer`; gives it back when the reader is gone.
    pub(crate) fn send(&self, answer: Answer) -> Result<(), Answer> {
        if self.is_closed() {
            return Err(answer);
        }
        self.0.queue().push(answer);
        self.0.waker.wake();
        Ok(())
    }

    /// Whether the reader is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.0.receiver_gone.load(Ordering::Acquire)
    }
}

impl Drop for AnswerSender {
    fn drop(&mut self) {
        self.0.sender_gone.store(true, Ordering::Release);
        self.0.waker.wake();
    }
}

/// Why [`AnswerReceiver::try_recv`] got nothing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Empty {
    /// Nothing yet.
    Waiting,
    /// Nothing ever again: the task dropped its end.
    Closed,
}

/// The reader's end.
pub(crate) struct AnswerReceiver(Arc<Channel>);

impl AnswerReceiver {
    /// The next answer if one is queued.
    pub(crate) fn try_recv(&mut self) -> Result<Answer, Empty> {
        // Read before looking at the queue: an answer pushed before the sender went is seen.
        let gone = self.0.sender_gone.load(Ordering::Acquire);
        match self.0.queue().pop() {
            Some(answer) => Ok(answer),
            None if gone => Err(Empty::Closed),
            None => Err(Empty::Waiting),
        }
    }

    /// The next answer; `None` once the task dropped its end and everything was taken.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Answer>> {
        match self.try_recv() {
            Ok(answer) => return Poll::Ready(Some(answer)),
            Err(Empty::Closed) => return Poll::Ready(None),
            Err(Empty::Waiting) => {}
        }
        self.0.waker.register(cx.waker());
        // Looked at again after registering, so a push in between is not missed.
        match self.try_recv() {
            Ok(answer) => Poll::Ready(Some(answer)),
            Err(Empty::Closed) => Poll::Ready(None),
            Err(Empty::Waiting) => Poll::Pending,
        }
    }

    /// [`AnswerReceiver::poll_recv`] as a future.
    pub(crate) async fn recv(&mut self) -> Option<Answer> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }
}

impl Drop for AnswerReceiver {
    fn drop(&mut self) {
        self.0.receiver_gone.store(true, Ordering::Release);
        // Answers already queued go now rather than with the task's end.
        drop(std::mem::take(&mut *self.0.queue()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    #[tokio::test]
    async fn answers_arrive_in_order_then_the_end() {
        let (tx, mut rx) = channel();
        assert_eq!(rx.try_recv().unwrap_err(), Empty::Waiting);
        tx.send(Ok(BytesMut::from(&b"a"[..]))).unwrap();
        tx.send(Ok(BytesMut::from(&b"b"[..]))).unwrap();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(answer) = rx.recv().await {
                got.push(answer.unwrap());
            }
            got
        });
        tokio::task::yield_now().await;
        tx.send(Ok(BytesMut::from(&b"c"[..]))).unwrap();
        drop(tx);
        assert_eq!(reader.await.unwrap(), [&b"a"[..], b"b", b"c"]);
    }

    #[test]
    fn a_gone_reader_refuses_answers() {
        let (tx, rx) = channel();
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert!(tx.send(Ok(BytesMut::new())).is_err());
    }

    #[test]
    fn a_gone_sender_ends_the_answer_after_what_it_queued() {
        let (tx, mut rx) = channel();
        tx.send(Ok(BytesMut::from(&b"last"[..]))).unwrap();
        drop(tx);
        assert_eq!(rx.try_recv().unwrap().unwrap(), &b"last"[..]);
        assert_eq!(rx.try_recv().unwrap_err(), Empty::Closed);
    }
}
