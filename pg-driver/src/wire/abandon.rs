//! Requests given up while the server runs them: the connection task cancels them on the
//! server, when that can touch no other request's work.
//!
//! A CancelRequest (`cancel.rs`) cancels whatever the backend runs at the moment it
//! arrives, on a socket of its own, so it lands at no known point of the connection's
//! stream. It is only safe for a request that is the last one written: then nothing after it
//! can be running when the cancel lands, provided nothing more is written until both the
//! request's answer has ended and the server has taken the cancel (it closes the cancel
//! socket once it has signalled the backend). After that the backend is idle, waiting for
//! the next request, and a cancel still pending there is dropped as it reads (PostgreSQL
//! ignores a cancel that arrives while it reads a command).
//!
//! So the task, looking at the last request it wrote:
//!
//! * if its reader is gone before the answer ended and the request allows it
//!   ([`Responder::cancel`]: executions the caller awaits, never fire-and-forget work such as
//!   a queued ROLLBACK or a lazy BEGIN), takes no further request from the queue (they wait,
//!   in order; the server would have run them after it anyway);
//! * once that request is the only one in flight (earlier answers ended, and no handle reads
//!   an answer with the task's reading end), sends the CancelRequest;
//! * takes requests again when the cancelled request's answer has ended and the cancel
//!   connection is done.
//!
//! A request given up with others written after it is not cancelled: its answer is read and
//! dropped as before, and what follows waits for it.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use std::sync::Arc;

use crate::wire::cancel::CancelHandle;
use crate::wire::shared::Shared;
use crate::wire::task::Responder;

/// How long a CancelRequest may take before the task stops waiting for it and goes on (a
/// server whose cancel port does not answer must not stall the connection for good).
pub(crate) const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// The task's side of cancelling given-up requests (see the module's documentation).
pub(crate) struct Canceller {
    /// None when the server sent no cancellation key (or the socket has no address).
    handle: Option<CancelHandle>,
    /// The CancelRequest on its way.
    sending: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// A request was cancelled and its answer has not ended.
    target: bool,
    /// Where the task says a CancelRequest is owed ([`Shared::set_cancel_pending`]), for a
    /// blocking connection's call to wait for it before it returns (its runtime runs only
    /// during calls).
    shared: Arc<Shared>,
    /// What was said last.
    owed: bool,
}

impl Canceller {
    pub(crate) fn new(handle: Option<CancelHandle>, shared: Arc<Shared>) -> Canceller {
        Canceller {
            handle,
            sending: None,
            target: false,
            shared,
            owed: false,
        }
    }

    /// Whether a cancel is under way: nothing may be written, by the task or a handle.
    pub(crate) fn busy(&self) -> bool {
        self.target || self.sending.is_some()
    }

    /// Whether requests must be held back now; sends the CancelRequest when the given-up
    /// request is the only one in flight. `lent`: a handle reads an answer that comes before
    /// every pending one; `body`: a request's body is being written (its producer's going
    /// away has an abort of its own).
    pub(crate) fn hold(
        &mut self,
        pending: &mut VecDeque<Responder>,
        lent: bool,
        body: bool,
        cx: &mut Context<'_>,
    ) -> bool {
        let hold = self.decide(pending, lent, body, cx);
        // Owed: held for a given-up request whose cancel has not been delivered yet.
        let owed = hold && (self.sending.is_some() || !self.target);
        if owed != self.owed {
            self.owed = owed;
            self.shared.set_cancel_pending(owed);
        }
        hold
    }

    fn decide(
        &mut self,
        pending: &mut VecDeque<Responder>,
        lent: bool,
        body: bool,
        cx: &mut Context<'_>,
    ) -> bool {
        if let Some(sending) = &mut self.sending
            && sending.as_mut().poll(cx).is_ready()
        {
            self.sending = None;
        }
        if self.busy() {
            return true;
        }
        if body || self.handle.is_none() {
            return false;
        }
        let alone = pending.len() == 1 && !lent;
        let Some(last) = pending.back_mut() else {
            return false;
        };
        if !last.cancel || !last.tx.is_closed() {
            return false;
        }
        if alone {
            last.cancel = false;
            self.target = true;
            let handle = self.handle.clone().expect("looked at above");
            let mut sending: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
                // A cancel that fails or never connects cancels nothing: the answer is read
                // to its end as before.
                let _ = tokio::time::timeout(CANCEL_WAIT, handle.cancel()).await;
            });
            if sending.as_mut().poll(cx).is_pending() {
                self.sending = Some(sending);
            }
        }
        true
    }

    /// The answer at the head of the queue ended: when it was the cancelled one (it was the
    /// only one in flight), that part of the wait is over.
    pub(crate) fn answered(&mut self) {
        self.target = false;
    }
}
