//! LISTEN / NOTIFY: the notifications a session receives, and the contract of waiting for them.

use std::future::Future;

/// An asynchronous notification from LISTEN / NOTIFY.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The channel it was sent on.
    pub channel: String,
    /// The payload; empty when none was given.
    pub payload: String,
    /// The backend process id of the notifying session.
    pub pid: i32,
}

/// What iterating over a connection's notifications gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifyEvent {
    /// A notification.
    Notification(Notification),
    /// The timeout passed with no notification.
    Idle,
    /// The connection's queue of notifications was full: this many, older than the ones
    /// that follow, were dropped.
    Dropped(u64),
}

/// The notifications of a session as they arrive (py-postgresql's `iternotifies`), from
/// [`Database::iternotifies`](crate::Database::iternotifies).
///
/// With a timeout, [`NotifyEvent::Idle`] comes each time it passes without a notification;
/// with none the wait is for ever; with a zero timeout what is pending is given and then
/// the end. The end also comes, after what was pending, when the session closes.
pub trait Notifications: Send {
    /// The next event; None at the end.
    fn next_event(&mut self) -> impl Future<Output = Option<NotifyEvent>> + Send;
}
