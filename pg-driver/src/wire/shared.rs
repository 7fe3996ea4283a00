//! State shared between a connection's handles and its task: status, reported parameters,
//! notices, notifications, and why the connection closed.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use pg_exceptions::{ConnectionDoesNotExistError, Error, Message};

use crate::wire::hooks::HookChain;
pub use pg_api::TransactionStatus;

pub use pg_api::Notification;

/// How many notices a connection keeps when not told otherwise.
pub const DEFAULT_NOTICE_CAPACITY: usize = 50;

pub use crate::params::DEFAULT_NOTIFICATION_CAPACITY;

/// What a connection had queued: the notifications, oldest first, and how many older ones
/// were dropped since the last take because the queue was full.
///
/// From [`Connection::take_notifications`](crate::Connection::take_notifications) and
/// [`Connection::notifies`](crate::Connection::notifies). Every dropped notification arrived
/// before every one kept (the queue drops its oldest), so `dropped` describes one gap, just
/// before `notifications`. Iterating a batch gives [`NotifyEvent`](crate::NotifyEvent)s:
/// [`Dropped`](crate::NotifyEvent::Dropped) first when any were, then the notifications.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationBatch {
    /// How many notifications were dropped, before these, since the last take.
    pub dropped: u64,
    /// The notifications, oldest first.
    pub notifications: Vec<Notification>,
}

impl NotificationBatch {
    /// Whether there is nothing to report: no notification, none dropped.
    pub fn is_empty(&self) -> bool {
        self.dropped == 0 && self.notifications.is_empty()
    }
}

/// The notifications waiting to be taken, at most the capacity.
#[derive(Default)]
struct NotificationQueue {
    items: VecDeque<Notification>,
    /// Dropped since the last take, for the oldest end being full.
    dropped: u64,
}

impl NotificationQueue {
    /// Drops the oldest until at most `capacity` remain, counting them.
    fn trim(&mut self, capacity: usize) {
        while self.items.len() > capacity {
            self.items.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
    }
}

pub(crate) struct Shared {
    closed: AtomicBool,
    close_reason: Mutex<Option<Error>>,
    reason_reported: AtomicBool,
    status: AtomicU8,
    parameters: RwLock<HashMap<String, String>>,
    notices: Mutex<VecDeque<Message>>,
    notice_capacity: AtomicUsize,
    notifications: Mutex<NotificationQueue>,
    notification_capacity: AtomicUsize,
    pub(crate) notified: tokio::sync::Notify,
    finished: AtomicBool,
    finished_notify: tokio::sync::Notify,
    pub(crate) hooks: HookChain,
    /// How many ReadyForQuery messages said idle: a transaction that saw it change has ended.
    idle_marks: std::sync::atomic::AtomicU64,
    /// How many ParameterStatus messages came after the connection was established.
    parameter_changes: std::sync::atomic::AtomicU64,
    /// What the commands that ran may have left in the session.
    pub(crate) marks: crate::wire::marks::Marks,
    /// The task holds requests back for a given-up request whose CancelRequest has not been
    /// delivered yet (see [`crate::wire::abandon`]).
    cancel_pending: AtomicBool,
    cancel_settled: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(parameters: HashMap<String, String>, hooks: HookChain) -> Shared {
        Shared {
            closed: AtomicBool::new(false),
            close_reason: Mutex::new(None),
            reason_reported: AtomicBool::new(false),
            status: AtomicU8::new(b'I'),
            parameters: RwLock::new(parameters),
            notices: Mutex::new(VecDeque::new()),
            notice_capacity: AtomicUsize::new(DEFAULT_NOTICE_CAPACITY),
            notifications: Mutex::new(NotificationQueue::default()),
            notification_capacity: AtomicUsize::new(DEFAULT_NOTIFICATION_CAPACITY),
            notified: tokio::sync::Notify::new(),
            finished: AtomicBool::new(false),
            finished_notify: tokio::sync::Notify::new(),
            hooks,
            idle_marks: Default::default(),
            parameter_changes: Default::default(),
            marks: Default::default(),
            cancel_pending: AtomicBool::new(false),
            cancel_settled: tokio::sync::Notify::new(),
        }
    }

    /// Says whether a CancelRequest for a given-up request is owed (see
    /// [`Shared::cancel_settled`]).
    pub(crate) fn set_cancel_pending(&self, pending: bool) {
        if self.cancel_pending.swap(pending, Ordering::AcqRel) && !pending {
            self.cancel_settled.notify_waiters();
        }
    }

    /// Waits until no CancelRequest is owed for a given-up request (delivered, or the
    /// connection ended), at most `limit`.
    pub(crate) async fn cancel_settled(&self, limit: std::time::Duration) {
        let settled = async {
            loop {
                let notified = self.cancel_settled.notified();
                if !self.cancel_pending.load(Ordering::Acquire) || self.is_closed() {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(limit, settled).await;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Marks the connection closed, keeping the first reason given.
    pub(crate) fn mark_closed(&self, reason: Option<Error>) {
        let mut slot = lock(&self.close_reason);
        if slot.is_none() {
            *slot = reason;
        }
        self.closed.store(true, Ordering::Release);
        drop(slot);
        self.notified.notify_waiters();
    }

    /// The error any use of a closed connection gets: the first use after the server went away
    /// learns why (AdminShutdownError, ConnectionFailureError…); every later one gets
    /// ConnectionDoesNotExistError, which still carries the reason.
    pub(crate) fn closed_error(&self) -> Error {
        let error = Error::client(&ConnectionDoesNotExistError, "the connection is closed");
        match lock(&self.close_reason).as_ref() {
            Some(reason) if !self.reason_reported.swap(true, Ordering::AcqRel) => reason.clone(),
            Some(reason) => error.with_context("closed by", reason.to_string()),
            None => error,
        }
    }

    /// Called by the task as it ends: the socket is closed.
    pub(crate) fn mark_finished(&self) {
        self.finished.store(true, Ordering::Release);
        self.finished_notify.notify_waiters();
        self.set_cancel_pending(false);
    }

    /// Waits until the connection's task has ended.
    pub(crate) async fn finished(&self) {
        loop {
            let notified = self.finished_notify.notified();
            if self.finished.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    pub(crate) fn set_status(&self, byte: u8) {
        if byte == b'I' {
            self.idle_marks.fetch_add(1, Ordering::AcqRel);
        }
        self.status.store(byte, Ordering::Release);
    }

    /// How many ParameterStatus messages came after the connection was established.
    pub(crate) fn parameter_changes(&self) -> u64 {
        self.parameter_changes.load(Ordering::Relaxed)
    }

    /// Changes whenever the server reports the session idle (see [`Shared::set_status`]).
    pub(crate) fn idle_marks(&self) -> u64 {
        self.idle_marks.load(Ordering::Acquire)
    }

    pub(crate) fn status(&self) -> TransactionStatus {
        TransactionStatus::from_byte(self.status.load(Ordering::Acquire))
            .unwrap_or(TransactionStatus::Idle)
    }

    pub(crate) fn set_parameter(&self, name: &str, value: &str) {
        self.parameter_changes.fetch_add(1, Ordering::Relaxed);
        self.parameters
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), value.to_owned());
    }

    pub(crate) fn parameter(&self, name: &str) -> Option<String> {
        self.parameters
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    pub(crate) fn parameters(&self) -> HashMap<String, String> {
        self.parameters
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn push_notice(&self, message: Message) {
        let capacity = self.notice_capacity.load(Ordering::Relaxed);
        let mut notices = lock(&self.notices);
        notices.push_back(message);
        while notices.len() > capacity {
            notices.pop_front();
        }
    }

    pub(crate) fn notices(&self) -> Vec<Message> {
        lock(&self.notices).iter().cloned().collect()
    }

    pub(crate) fn take_notices(&self) -> Vec<Message> {
        lock(&self.notices).drain(..).collect()
    }

    pub(crate) fn clear_notices(&self) {
        lock(&self.notices).clear();
    }

    pub(crate) fn set_notice_capacity(&self, capacity: usize) {
        self.notice_capacity.store(capacity, Ordering::Relaxed);
        let mut notices = lock(&self.notices);
        while notices.len() > capacity {
            notices.pop_front();
        }
    }

    /// Queues a notification; when the queue is full, the oldest is dropped and counted. The
    /// socket is read on regardless: a backend whose client stops reading holds back the
    /// cluster-wide notification queue, and every other answer of the connection.
    pub(crate) fn push_notification(&self, notification: Notification) {
        let capacity = self.notification_capacity.load(Ordering::Relaxed);
        let mut queue = lock(&self.notifications);
        match capacity {
            0 => queue.dropped = queue.dropped.saturating_add(1),
            _ => {
                queue.trim(capacity - 1);
                queue.items.push_back(notification);
            }
        }
        drop(queue);
        self.notified.notify_waiters();
    }

    pub(crate) fn take_notifications(&self) -> NotificationBatch {
        let mut queue = lock(&self.notifications);
        NotificationBatch {
            dropped: std::mem::take(&mut queue.dropped),
            notifications: queue.items.drain(..).collect(),
        }
    }

    /// How many notifications are queued now.
    pub(crate) fn queued_notifications(&self) -> usize {
        lock(&self.notifications).items.len()
    }

    pub(crate) fn notification_capacity(&self) -> usize {
        self.notification_capacity.load(Ordering::Relaxed)
    }

    /// Changes the capacity; what a smaller one leaves over is dropped (oldest first) and
    /// counted.
    pub(crate) fn set_notification_capacity(&self, capacity: usize) {
        self.notification_capacity
            .store(capacity, Ordering::Relaxed);
        let mut queue = lock(&self.notifications);
        let dropped = queue.dropped;
        queue.trim(capacity);
        let changed = queue.dropped != dropped;
        drop(queue);
        if changed {
            self.notified.notify_waiters();
        }
    }
}
