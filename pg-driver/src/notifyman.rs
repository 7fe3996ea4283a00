//! py-postgresql's `notifyman`: waiting for notifications on several connections at once.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::stream::BoxStream;

use crate::link::Link;
use crate::wire::shared::{Notification, NotificationBatch};
use crate::{Connection, oneshot};

/// What a [`NotificationManager`] gives.
#[derive(Clone, Debug)]
pub enum ManagerEvent {
    /// A notification, and the connection that received it.
    Notification(Connection, Notification),
    /// The timeout passed with no notification on any connection.
    Idle,
    /// The connection's queue was full: this many of its notifications, older than its
    /// ones that follow, were dropped (see [`Connection::set_notification_capacity`]).
    Dropped(Connection, u64),
}

/// Appends a connection's batch to `pending`: its drop count first, then its notifications.
pub(crate) fn queue_batch(
    pending: &mut VecDeque<ManagerEvent>,
    connection: &Connection,
    batch: NotificationBatch,
) {
    if batch.dropped > 0 {
        pending.push_back(ManagerEvent::Dropped(connection.clone(), batch.dropped));
    }
    pending.extend(
        batch
            .notifications
            .into_iter()
            .map(|n| ManagerEvent::Notification(connection.clone(), n)),
    );
}

/// Waits for notifications on a set of connections (py-postgresql's `NotificationManager`).
///
/// The timeout rules are [`Connection::iternotifies`]'s: with a timeout, [`ManagerEvent::Idle`]
/// comes each time it passes with no notification anywhere; with `None` it waits for ever; with
/// a zero timeout it gives what is pending on every connection and ends. A connection that
/// closes is dropped from the set once its pending notifications are given; the manager ends
/// when none is left. A connection whose queue overflowed gives [`ManagerEvent::Dropped`]
/// before the notifications it kept. The manager takes a connection's queue only once it has
/// given out what it took before, so it holds at most one queue's worth per connection.
///
/// ```no_run
/// # async fn f(a: pg_driver::Connection, b: pg_driver::Connection) {
/// use pg_driver::{ManagerEvent, NotificationManager};
/// let mut manager = NotificationManager::new([a, b], Some(std::time::Duration::from_secs(1)));
/// while let Some(event) = manager.next_event().await {
///     match event {
///         ManagerEvent::Notification(db, n) => println!("{:?}: {n:?}", db.backend_id()),
///         ManagerEvent::Dropped(db, count) => eprintln!("{:?} dropped {count}", db.backend_id()),
///         ManagerEvent::Idle => break,
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct NotificationManager {
    connections: Vec<Connection>,
    timeout: Option<Duration>,
    pending: VecDeque<ManagerEvent>,
    swept: bool,
}

impl NotificationManager {
    /// A manager over these connections, with the given timeout.
    pub fn new(
        connections: impl IntoIterator<Item = Connection>,
        timeout: Option<Duration>,
    ) -> NotificationManager {
        NotificationManager {
            connections: connections.into_iter().collect(),
            timeout,
            pending: VecDeque::new(),
            swept: false,
        }
    }

    /// The connections still managed (closed ones are dropped as they are noticed).
    pub fn connections(&self) -> &[Connection] {
        &self.connections
    }

    /// Adds a connection to the set.
    pub fn add(&mut self, connection: Connection) {
        self.connections.push(connection);
    }

    /// The timeout.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Changes the timeout.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The next notification or idle marker; None when the manager has ended (no connection
    /// left, or a zero timeout's pending notifications all given). Dropping the future loses
    /// nothing: notifications stay queued.
    pub async fn next_event(&mut self) -> Option<ManagerEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            self.collect();
            if !self.pending.is_empty() {
                continue;
            }
            if self.connections.is_empty() {
                return None;
            }
            let links: Vec<Arc<Link>> = self.connections.iter().map(Connection::link).collect();
            match self.timeout {
                Some(timeout) if timeout.is_zero() => {
                    if std::mem::take(&mut self.swept) {
                        return None;
                    }
                    futures::future::join_all(links.iter().map(|link| oneshot::sync(link))).await;
                    self.swept = true;
                }
                timeout => match wait_any(&links, timeout).await {
                    Some(taken) => {
                        for (connection, batch) in self.connections.iter().zip(taken) {
                            queue_batch(&mut self.pending, connection, batch);
                        }
                    }
                    None => return Some(ManagerEvent::Idle),
                },
            }
        }
    }

    /// Takes what every connection has queued and drops the closed connections.
    fn collect(&mut self) {
        for connection in &self.connections {
            queue_batch(
                &mut self.pending,
                connection,
                connection.take_notifications(),
            );
        }
        self.connections.retain(|c| !c.closed());
    }

    /// The manager as a stream of its events.
    pub fn into_stream(self) -> ManagerStream {
        ManagerStream(Box::pin(futures::stream::unfold(
            self,
            |mut manager| async move {
                let event = manager.next_event().await?;
                Some((event, manager))
            },
        )))
    }
}

/// A [`NotificationManager`] as a stream, from [`NotificationManager::into_stream`].
pub struct ManagerStream(BoxStream<'static, ManagerEvent>);

impl Stream for ManagerStream {
    type Item = ManagerEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ManagerEvent>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for ManagerStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ManagerStream")
    }
}

/// Waits until one of `links` has notifications queued (or dropped) or closes, or until the
/// timeout passes. Returns what it took from each link (in the order of `links`), or None when
/// the timeout passed with nothing. `links` must not be empty.
pub(crate) async fn wait_any(
    links: &[Arc<Link>],
    timeout: Option<Duration>,
) -> Option<Vec<NotificationBatch>> {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let take = || {
        links
            .iter()
            .map(|l| l.shared.take_notifications())
            .collect::<Vec<_>>()
    };
    loop {
        // Registered before looking: a wake-up between the look and the wait is not missed.
        let waits: Vec<_> = links
            .iter()
            .map(|l| Box::pin(l.shared.notified.notified()))
            .collect();
        let taken = take();
        if taken.iter().any(|t| !t.is_empty()) || links.iter().any(|l| l.shared.is_closed()) {
            return Some(taken);
        }
        let any = futures::future::select_all(waits);
        match deadline {
            None => drop(any.await),
            Some(deadline) => {
                if tokio::time::timeout_at(deadline, any).await.is_err() {
                    let taken = take();
                    return taken.iter().any(|t| !t.is_empty()).then_some(taken);
                }
            }
        }
    }
}
