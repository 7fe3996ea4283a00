//! The channels between a connection's handles and its task: requests to the task, and each
//! request's answers back to its reader.
//!
//! Each has one producer and one consumer (the link sends every request; the task answers
//! each request), and a request's answer is a handful of chunks (a short query's whole answer
//! is one). tokio's unbounded mpsc serves many producers and allocates a block of 32 slots
//! per channel: making one per request cost about 1,400 instructions, a tenth of a pooled
//! query's client work, and taking a request from it about 1,000. This is a queue behind a
//! mutex that neither side holds for more than a push or a pop, with one waker.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::task::AtomicWaker;

use bytes::BytesMut;
use pg_exceptions::Error;

/// What answers a request: raw backend messages, whole frames, in order.
pub(crate) type Answer = Result<BytesMut, Error>;

/// The task's end of a request's answers.
pub(crate) type AnswerSender = Sender<Answer>;
/// The reader's end of a request's answers.
pub(crate) type AnswerReceiver = Receiver<Answer>;

/// Items in order: the first in a slot of its own, so a one-item exchange allocates no
/// queue; more wait in `rest`. `closed` (the receiver is gone or closed) is kept under the
/// same lock as the items, so an item is either refused or seen by the receiver's drain.
struct Queue<T, P> {
    first: Option<T>,
    rest: VecDeque<T>,
    closed: bool,
    /// The receiver said it has nothing to do (the request channel: the task has no request
    /// in flight and nothing to write) and nothing was pushed since; see
    /// [`Sender::send_or_write`].
    idle: bool,
    /// A sender is delivering an item by other means, outside the lock; the item goes to the
    /// front of the queue once it is done, and until then the receiver takes nothing.
    writing: bool,
    /// The receiver found `writing` set (or what it parked lent) and waits to be woken when
    /// the item is queued (or what it parked comes back).
    receiver_waits: bool,
    /// What the receiver left here while idle for a sender to borrow (the request channel:
    /// the socket's read half and buffer, so that a handle reads its own answer); see
    /// [`Sender::send_or_write`].
    parked: Option<P>,
    /// A sender has borrowed `parked`: the receiver waits for it to come back.
    lent: bool,
    /// The receiver took an item while `parked` was lent: it has work of its own (a request
    /// to write and answer), so the loan's end must not say it is idle.
    took_while_lent: bool,
}

impl<T, P> Queue<T, P> {
    fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.is_empty()
    }

    fn push(&mut self, item: T) {
        self.idle = false;
        if self.is_empty() {
            self.first = Some(item);
        } else {
            self.rest.push_back(item);
        }
    }

    /// Puts `item` ahead of everything queued.
    fn push_front(&mut self, item: T) {
        self.idle = false;
        if let Some(first) = self.first.replace(item) {
            self.rest.push_front(first);
        }
    }

    fn pop(&mut self) -> Option<T> {
        let item = self.first.take().or_else(|| self.rest.pop_front());
        self.took_while_lent |= self.lent && item.is_some();
        item
    }

    /// Whether the receiver may not take anything now (a sender is writing); if so, it is
    /// woken when it may.
    fn held(&mut self) -> bool {
        self.receiver_waits |= self.writing;
        self.writing
    }
}

struct Channel<T, P> {
    queue: Mutex<Queue<T, P>>,
    /// The sender is gone: nothing more comes.
    sender_gone: AtomicBool,
    /// A lock-free copy of `queue.closed`, for [`Sender::is_closed`].
    receiver_gone: AtomicBool,
    /// How many items are queued, so an empty look takes no lock (the task looks for
    /// requests every time it is polled).
    queued: AtomicUsize,
    /// A [`Nudge`] woke the receiver since [`Sender::take_nudged`] last looked.
    nudged: AtomicBool,
    waker: AtomicWaker,
}

impl<T, P> Channel<T, P> {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue<T, P>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A new channel's two ends.
pub(crate) fn channel<T, P>() -> (Sender<T, P>, Receiver<T, P>) {
    let channel = Arc::new(Channel {
        queue: Mutex::new(Queue {
            first: None,
            rest: VecDeque::new(),
            closed: false,
            idle: false,
            writing: false,
            receiver_waits: false,
            parked: None,
            lent: false,
            took_while_lent: false,
        }),
        sender_gone: AtomicBool::new(false),
        receiver_gone: AtomicBool::new(false),
        queued: AtomicUsize::new(0),
        nudged: AtomicBool::new(false),
        waker: AtomicWaker::new(),
    });
    (Sender(channel.clone()), Receiver(channel))
}

/// The producing end.
pub(crate) struct Sender<T, P = ()>(Arc<Channel<T, P>>);

impl<T, P> Sender<T, P> {
    /// Queues `item`; gives it back when the receiver is gone or closed.
    pub(crate) fn send(&self, item: T) -> Result<(), T> {
        {
            let mut queue = self.0.queue();
            if queue.closed {
                return Err(item);
            }
            queue.push(item);
            self.0.queued.fetch_add(1, Ordering::Release);
        }
        self.0.waker.wake();
        Ok(())
    }

    /// Queues `item` like [`Sender::send`]; when the receiver said it is idle and nothing is
    /// queued, `write` first gets to deliver the item by other means (a handle writing its
    /// request to the socket itself). `write` runs outside the lock, so the receiver is never
    /// kept waiting for it on a lock (a socket write can take as long as the server needs to
    /// answer); while it runs the receiver takes nothing, and items sent meanwhile queue
    /// behind this one. `write` says whether it delivered everything; if so the receiver is
    /// not woken (unless it asked to be while `write` ran): it takes the item when the item's
    /// effect (the answer) wakes it.
    ///
    /// When `borrow` is set and the receiver parked something, a complete delivery also
    /// borrows it: the item comes back to the caller with the [`Loan`] instead of being
    /// queued, and the receiver goes on taking (and writing) later items, but waits for the
    /// loan to end before it uses what it parked.
    pub(crate) fn send_or_write(
        &self,
        mut item: T,
        borrow: bool,
        write: impl FnOnce(&mut T) -> bool,
    ) -> Result<Sent<T, P>, T> {
        let parked = {
            let mut queue = self.0.queue();
            if queue.closed {
                return Err(item);
            }
            if !(queue.idle && queue.is_empty()) {
                queue.push(item);
                self.0.queued.fetch_add(1, Ordering::Release);
                drop(queue);
                self.0.waker.wake();
                return Ok(Sent::Queued);
            }
            queue.idle = false;
            queue.writing = true;
            let parked = if borrow { queue.parked.take() } else { None };
            queue.lent = parked.is_some();
            queue.took_while_lent = false;
            parked
        };
        let mut claim = Claim {
            channel: &self.0,
            parked,
            done: false,
        };
        let delivered = write(&mut item);
        claim.done = true;
        let parked = claim.parked.take();
        let wake = {
            let mut queue = self.0.queue();
            queue.writing = false;
            if queue.closed {
                queue.lent = false;
                return Err(item);
            }
            match parked {
                Some(parked) if delivered => {
                    // The receiver may take what was sent meanwhile; it waits for the loan
                    // only when it wants to read.
                    let waits = std::mem::take(&mut queue.receiver_waits);
                    drop(queue);
                    if waits {
                        self.0.waker.wake();
                    }
                    let loan = Loan {
                        channel: self.0.clone(),
                        parked: Some(parked),
                    };
                    return Ok(Sent::Lent(loan, item));
                }
                parked => {
                    if let Some(parked) = parked {
                        queue.parked = Some(parked);
                        queue.lent = false;
                    }
                    let waits = std::mem::take(&mut queue.receiver_waits);
                    queue.push_front(item);
                    self.0.queued.fetch_add(1, Ordering::Release);
                    waits || !delivered
                }
            }
        };
        if wake {
            self.0.waker.wake();
        }
        Ok(Sent::Queued)
    }

    /// Whether the receiver is gone or closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.0.receiver_gone.load(Ordering::Acquire)
    }

    /// What wakes the receiver without sending it anything (see [`Nudge`]).
    pub(crate) fn nudge(&self) -> Nudge<T, P> {
        Nudge(self.0.clone())
    }

    /// Whether a [`Nudge`] woke the receiver since the last look.
    pub(crate) fn take_nudged(&self) -> bool {
        self.0.nudged.load(Ordering::Acquire) && self.0.nudged.swap(false, Ordering::AcqRel)
    }
}

/// Wakes a channel's receiver without sending anything: a request's reader that gives up
/// tells the connection task, which otherwise would learn it only when the answer came.
pub(crate) struct Nudge<T, P>(Arc<Channel<T, P>>);

impl<T, P> Nudge<T, P> {
    /// Wakes the receiver.
    pub(crate) fn wake(&self) {
        self.0.nudged.store(true, Ordering::Release);
        self.0.waker.wake();
    }
}

/// What became of an item [`Sender::send_or_write`] took.
pub(crate) enum Sent<T, P> {
    /// Queued for the receiver (or delivered, and queued for the receiver to account for).
    Queued,
    /// Delivered, and what the receiver parked is lent: the item is the caller's to finish.
    Lent(Loan<T, P>, T),
}

/// What a receiver parked, lent to a sender. Given back when dropped (or by
/// [`Loan::give_back`]), and the receiver woken unless the borrower says it left nothing to
/// do.
pub(crate) struct Loan<T, P> {
    channel: Arc<Channel<T, P>>,
    parked: Option<P>,
}

impl<T, P> Loan<T, P> {
    /// What is lent.
    pub(crate) fn get(&mut self) -> &mut P {
        self.parked
            .as_mut()
            .expect("a loan holds what it lent until given back")
    }

    /// Gives it back. `quiet` says the borrower left the receiver nothing to do: then, if
    /// nothing was queued meanwhile and the receiver did not ask to be woken, it is left
    /// asleep and still idle.
    pub(crate) fn give_back(mut self, quiet: bool) {
        self.settle(quiet);
    }

    fn settle(&mut self, quiet: bool) {
        let Some(parked) = self.parked.take() else {
            return;
        };
        let wake = {
            let mut queue = self.channel.queue();
            queue.lent = false;
            let waits = std::mem::take(&mut queue.receiver_waits);
            if queue.closed {
                drop(queue);
                drop(parked);
                return;
            }
            queue.parked = Some(parked);
            let took = std::mem::take(&mut queue.took_while_lent);
            // Nothing happened for the receiver while lent: it is as idle as it was. Had it
            // taken a request, it may be writing it now: a handle must not write beside it.
            let asleep = quiet && !waits && !took && queue.is_empty() && !queue.writing;
            queue.idle = asleep;
            !asleep
        };
        if wake {
            self.channel.waker.wake();
        }
    }
}

impl<T, P> Drop for Loan<T, P> {
    fn drop(&mut self) {
        self.settle(false);
    }
}

/// A sender's hold on the receiver while it writes (see [`Sender::send_or_write`]): should
/// the write unwind, the receiver is let go on, with what it parked (the item is lost, and
/// with it the answer's reader, who sees the connection end).
struct Claim<'a, T, P> {
    channel: &'a Channel<T, P>,
    parked: Option<P>,
    done: bool,
}

impl<T, P> Drop for Claim<'_, T, P> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        {
            let mut queue = self.channel.queue();
            queue.writing = false;
            queue.receiver_waits = false;
            if let Some(parked) = self.parked.take() {
                queue.parked = Some(parked);
                queue.lent = false;
            }
        }
        self.channel.waker.wake();
    }
}

impl<T, P> Drop for Sender<T, P> {
    fn drop(&mut self) {
        self.0.sender_gone.store(true, Ordering::Release);
        self.0.waker.wake();
    }
}

/// What the receiver parked is lent to a sender (see [`Receiver::unpark`]).
#[derive(Debug)]
pub(crate) struct Lent;

/// Why [`Receiver::try_recv`] got nothing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Empty {
    /// Nothing yet.
    Waiting,
    /// Nothing ever again: the sender is gone.
    Closed,
}

/// The consuming end.
pub(crate) struct Receiver<T, P = ()>(Arc<Channel<T, P>>);

impl<T, P> Receiver<T, P> {
    /// The next item if one is queued.
    pub(crate) fn try_recv(&mut self) -> Result<T, Empty> {
        // Read before looking at the queue: an item pushed before the sender went is seen.
        let gone = self.0.sender_gone.load(Ordering::Acquire);
        if self.0.queued.load(Ordering::Acquire) == 0 {
            return Err(if gone { Empty::Closed } else { Empty::Waiting });
        }
        let mut queue = self.0.queue();
        if queue.held() {
            return Err(Empty::Waiting);
        }
        match queue.pop() {
            Some(item) => {
                self.0.queued.fetch_sub(1, Ordering::Release);
                Ok(item)
            }
            None if gone => Err(Empty::Closed),
            None => Err(Empty::Waiting),
        }
    }

    /// The next item if one is queued and `wanted` accepts it; `Pending` while a sender
    /// delivers an item by other means (the receiver is woken once it is queued).
    ///
    /// Always takes the lock (no look at the count first): the receiver may see a delivery's
    /// effect (an answer) before its sender is done and has queued the item.
    pub(crate) fn poll_recv_if(
        &mut self,
        cx: &mut Context<'_>,
        wanted: impl FnOnce(&T) -> bool,
    ) -> Poll<Option<T>> {
        // Registered first: a sender that finishes after the look below wakes this waker.
        self.0.waker.register(cx.waker());
        let mut queue = self.0.queue();
        if queue.held() {
            return Poll::Pending;
        }
        let Some(front) = queue.first.as_ref().or_else(|| queue.rest.front()) else {
            return Poll::Ready(None);
        };
        if !wanted(front) {
            return Poll::Ready(None);
        }
        let item = queue.pop();
        self.0.queued.fetch_sub(1, Ordering::Release);
        Poll::Ready(item)
    }

    /// Says the receiver has nothing to do, if nothing is queued; returns whether it said so.
    /// Any push takes it back. When it says so, and nothing is parked, it parks what `park`
    /// holds for a sender to borrow.
    pub(crate) fn publish_idle(&self, park: &mut Option<P>) -> bool {
        let mut queue = self.0.queue();
        queue.idle = queue.is_empty() && !queue.closed && !queue.writing;
        if queue.idle && queue.parked.is_none() && !queue.lent {
            queue.parked = park.take();
        }
        queue.idle
    }

    /// Takes back what the receiver parked: `Ok(None)` when nothing is, `Err(Lent)` while a
    /// sender has it (then `cx`'s waker is woken when it comes back).
    pub(crate) fn unpark(&self, cx: &Context<'_>) -> Result<Option<P>, Lent> {
        self.0.waker.register(cx.waker());
        let mut queue = self.0.queue();
        if queue.lent {
            queue.receiver_waits = true;
            return Err(Lent);
        }
        Ok(queue.parked.take())
    }

    /// The next item; `None` once the sender is gone and everything was taken.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.try_recv() {
            Ok(item) => return Poll::Ready(Some(item)),
            Err(Empty::Closed) => return Poll::Ready(None),
            Err(Empty::Waiting) => {}
        }
        self.0.waker.register(cx.waker());
        // Looked at again after registering, so a push in between is not missed.
        match self.try_recv() {
            Ok(item) => Poll::Ready(Some(item)),
            Err(Empty::Closed) => Poll::Ready(None),
            Err(Empty::Waiting) => Poll::Pending,
        }
    }

    /// [`Receiver::poll_recv`] as a future.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Whether the sender is gone: nothing more comes (for an answer: it ended).
    pub(crate) fn is_finished(&self) -> bool {
        self.0.sender_gone.load(Ordering::Acquire)
    }

    /// Refuses further items; those already queued can still be taken.
    pub(crate) fn close(&mut self) {
        self.0.queue().closed = true;
        self.0.receiver_gone.store(true, Ordering::Release);
    }
}

impl<T, P> Drop for Receiver<T, P> {
    fn drop(&mut self) {
        // Items already queued go now rather than with the sender's end.
        let queued = {
            let mut queue = self.0.queue();
            queue.closed = true;
            (queue.first.take(), std::mem::take(&mut queue.rest))
        };
        self.0.receiver_gone.store(true, Ordering::Release);
        drop(queued);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use std::task::Waker;

    #[tokio::test]
    async fn answers_arrive_in_order_then_the_end() {
        let (tx, mut rx) = channel::<Answer, ()>();
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
        let (tx, rx) = channel::<Answer, ()>();
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert!(tx.send(Ok(BytesMut::new())).is_err());
    }

    #[test]
    fn a_gone_sender_ends_the_answer_after_what_it_queued() {
        let (tx, mut rx) = channel::<Answer, ()>();
        tx.send(Ok(BytesMut::from(&b"last"[..]))).unwrap();
        drop(tx);
        assert_eq!(rx.try_recv().unwrap().unwrap(), &b"last"[..]);
        assert_eq!(rx.try_recv().unwrap_err(), Empty::Closed);
    }

    #[test]
    fn an_item_is_written_only_when_the_receiver_is_idle_and_nothing_waits() {
        let (tx, mut rx) = channel::<Vec<u8>, ()>();
        // Not idle yet: the item is queued untouched.
        tx.send_or_write(vec![1], false, |_| panic!("written while busy"))
            .unwrap();
        assert!(!rx.publish_idle(&mut None), "an item waits");
        assert_eq!(rx.try_recv(), Ok(vec![1]));
        assert!(rx.publish_idle(&mut None));
        // Idle and empty: written, then queued for the receiver to take.
        tx.send_or_write(vec![2, 3], false, |item| {
            item.clear();
            true
        })
        .unwrap();
        // Any push ends the idle state: the next item waits behind the first.
        tx.send_or_write(vec![4], false, |_| panic!("written behind another"))
            .unwrap();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let written = rx.poll_recv_if(&mut cx, |item| item.is_empty());
        assert_eq!(written, Poll::Ready(Some(vec![])));
        let unwritten = rx.poll_recv_if(&mut cx, |item| item.is_empty());
        assert_eq!(unwritten, Poll::Ready(None));
        assert_eq!(rx.try_recv(), Ok(vec![4]));
        rx.close();
        assert!(!rx.publish_idle(&mut None), "closed");
        assert_eq!(
            tx.send_or_write(vec![5], false, |_| true).err(),
            Some(vec![5])
        );
    }

    /// Counts its wake-ups.
    struct Wakes(AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn while_a_sender_writes_the_receiver_takes_nothing_and_is_woken_after() {
        let (tx, mut rx) = channel::<Vec<u8>, ()>();
        let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(rx.publish_idle(&mut None));
        let mut woken_before_the_end = 0;
        tx.send_or_write(vec![1], false, |item| {
            // The answer may come before the writer is done: the receiver waits for the item.
            assert_eq!(rx.poll_recv_if(&mut cx, |_| true), Poll::Pending);
            assert!(
                !rx.publish_idle(&mut None),
                "not idle while a sender writes"
            );
            // Sent meanwhile: queued behind the item being written, and held too (the send
            // wakes the receiver, which looks again).
            tx.send(vec![2]).unwrap();
            assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
            woken_before_the_end = wakes.0.load(Ordering::SeqCst);
            item.clear();
            true
        })
        .unwrap();
        assert!(
            wakes.0.load(Ordering::SeqCst) > woken_before_the_end,
            "the waiting receiver is woken when the item is queued"
        );
        let written = rx.poll_recv_if(&mut cx, |item| item.is_empty());
        assert_eq!(written, Poll::Ready(Some(vec![])));
        assert_eq!(rx.try_recv(), Ok(vec![2]));

        // Closed while the sender wrote: the item comes back.
        assert!(rx.publish_idle(&mut None));
        let refused = tx.send_or_write(vec![3], false, |_| {
            rx.close();
            true
        });
        assert_eq!(refused.err(), Some(vec![3]));
    }

    #[test]
    fn what_the_receiver_parked_is_lent_to_a_writer_and_comes_back() {
        let (tx, mut rx) = channel::<Vec<u8>, &'static str>();
        let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(rx.publish_idle(&mut Some("reader")));
        // Not asked to borrow: written and queued as before; what is parked stays.
        assert!(matches!(
            tx.send_or_write(vec![1], false, |item| {
                item.clear();
                true
            }),
            Ok(Sent::Queued)
        ));
        assert_eq!(rx.try_recv(), Ok(vec![]));
        let mut another = Some("another");
        assert!(rx.publish_idle(&mut another));
        assert_eq!(another, Some("another"), "parked already: not taken");
        // Borrowed: the item comes back with the loan, nothing is queued.
        let Ok(Sent::Lent(mut loan, item)) = tx.send_or_write(vec![2], true, |_| true) else {
            panic!("not lent");
        };
        assert_eq!((item, *loan.get()), (vec![2], "reader"));
        assert_eq!(rx.try_recv(), Err(Empty::Waiting));
        // While lent the receiver takes (and would write) what is sent, but cannot read.
        tx.send(vec![3]).unwrap();
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(vec![3])));
        assert!(rx.unpark(&cx).is_err(), "lent");
        let before = wakes.0.load(Ordering::SeqCst);
        loan.give_back(true);
        assert!(
            wakes.0.load(Ordering::SeqCst) > before,
            "a receiver that asked for it back is woken"
        );
        assert_eq!(rx.unpark(&cx).unwrap(), Some("reader"));
        assert_eq!(rx.unpark(&cx).unwrap(), None);

        // Quiet, but the receiver took a request while lent (and may be writing it): it is not
        // idle, and the next sender queues.
        assert!(rx.publish_idle(&mut Some("reader")));
        let Ok(Sent::Lent(loan, _)) = tx.send_or_write(vec![8], true, |_| true) else {
            panic!("not lent");
        };
        tx.send(vec![9]).unwrap();
        assert_eq!(rx.try_recv(), Ok(vec![9]));
        loan.give_back(true);
        assert!(matches!(
            tx.send_or_write(vec![10], true, |_| panic!("written beside the receiver")),
            Ok(Sent::Queued)
        ));
        assert_eq!(rx.try_recv(), Ok(vec![10]));
        assert_eq!(rx.unpark(&cx).unwrap(), Some("reader"));

        // A quiet loan leaves an idle receiver idle and asleep: the next writer borrows again.
        assert!(rx.publish_idle(&mut Some("reader")));
        let Ok(Sent::Lent(loan, _)) = tx.send_or_write(vec![4], true, |_| true) else {
            panic!("not lent");
        };
        let before = wakes.0.load(Ordering::SeqCst);
        loan.give_back(true);
        assert_eq!(wakes.0.load(Ordering::SeqCst), before, "left asleep");
        let Ok(Sent::Lent(loan, _)) = tx.send_or_write(vec![5], true, |_| true) else {
            panic!("still idle: lent again");
        };
        // Dropped, or given back not quiet: the receiver is woken and is no longer idle.
        drop(loan);
        assert!(wakes.0.load(Ordering::SeqCst) > before);
        assert!(matches!(
            tx.send_or_write(vec![6], true, |_| panic!("not idle")),
            Ok(Sent::Queued)
        ));
        assert_eq!(rx.try_recv(), Ok(vec![6]));
        assert_eq!(rx.unpark(&cx).unwrap(), Some("reader"));

        // A write that does not deliver everything leaves the item and the parked thing with
        // the receiver.
        assert!(rx.publish_idle(&mut Some("reader")));
        assert!(matches!(
            tx.send_or_write(vec![7], true, |_| false),
            Ok(Sent::Queued)
        ));
        assert_eq!(rx.try_recv(), Ok(vec![7]));
        assert_eq!(rx.unpark(&cx).unwrap(), Some("reader"));
    }

    #[test]
    fn a_closed_receiver_refuses_new_items_and_keeps_queued_ones() {
        let (tx, mut rx) = channel::<u32, ()>();
        tx.send(1).unwrap();
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(tx.send(2), Err(2));
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(Empty::Waiting));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(Empty::Closed));
    }
}
