//! Loads fed from an iterator that the caller's thread pulls outside the connection's runtime.
//!
//! The async load pulls its parameter sets from a stream; the blocking facade must not call
//! the iterator from inside the runtime, since the iterator may be another blocking
//! connection's rows, whose `next` drives that connection's runtime (and a runtime cannot be
//! entered from another). So the load runs in steps: the caller's thread takes a batch of
//! items from the iterator, then drives the load until it has used them all and asks for
//! more, then takes the next batch.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::Stream;
use pg_exceptions::Error;

use super::Connection;

/// How many items are taken from the iterator at a time.
const FEED_BATCH: usize = 1024;

struct State<P> {
    queue: RefCell<VecDeque<Result<P, Error>>>,
    /// The iterator has no more.
    ended: Cell<bool>,
    /// The load asked for an item the queue did not have.
    starving: Cell<bool>,
}

/// The load's end: a stream of what the caller's thread took from the iterator.
pub(super) struct Feed<P>(Rc<State<P>>);

impl<P> Stream for Feed<P> {
    type Item = Result<P, Error>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(item) = self.0.queue.borrow_mut().pop_front() {
            return Poll::Ready(Some(item));
        }
        if self.0.ended.get() {
            return Poll::Ready(None);
        }
        // Not woken: the pump polls the load again once it has refilled the queue.
        self.0.starving.set(true);
        Poll::Pending
    }
}

/// Runs `load` on `conn`'s runtime with the items of `rows`, taken on this thread between
/// steps.
pub(super) fn pump<I, P, F, Fut>(conn: &Connection, rows: I, load: F) -> Result<Fut::Output, Error>
where
    I: IntoIterator<Item = Result<P, Error>>,
    F: FnOnce(Feed<P>) -> Fut,
    Fut: Future,
{
    let mut rows = rows.into_iter();
    let state = Rc::new(State {
        queue: RefCell::new(VecDeque::with_capacity(FEED_BATCH)),
        ended: Cell::new(false),
        starving: Cell::new(false),
    });
    let mut load = std::pin::pin!(load(Feed(state.clone())));
    loop {
        if !state.ended.get() {
            let mut queue = state.queue.borrow_mut();
            while queue.len() < FEED_BATCH {
                match rows.next() {
                    Some(item) => queue.push_back(item),
                    None => {
                        state.ended.set(true);
                        break;
                    }
                }
            }
        }
        state.starving.set(false);
        let step = conn.block_on(std::future::poll_fn(|cx| match load.as_mut().poll(cx) {
            Poll::Ready(output) => Poll::Ready(Some(output)),
            // Waiting for items only this thread can take.
            Poll::Pending if state.starving.get() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }))?;
        if let Some(output) = step {
            return Ok(output);
        }
    }
}
