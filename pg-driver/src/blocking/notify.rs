//! Blocking LISTEN / NOTIFY and the blocking notification manager.
//!
//! A blocking connection's task runs only while its runtime is driven, so waiting for
//! notifications drives it: the wait is a future run with `block_on`, and notifications that
//! arrived in between are read from the socket the moment it starts. Waiting on several
//! connections drives each one's runtime from a thread of its own for the length of the wait.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use pg_exceptions::Error;
use tokio_util::sync::CancellationToken;

use super::{Connection, outside_runtime};
use crate::link::Link;
use crate::notifyman::wait_any;
use crate::{Notification, NotificationBatch, NotifyEvent, NotifyItem, oneshot};

impl Connection {
    /// Starts listening on the channels (see [`crate::Connection::listen`]).
    pub fn listen<I, S>(&self, channels: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.block_on(self.as_async().listen(channels))?
    }

    /// Stops listening on the channels.
    pub fn unlisten<I, S>(&self, channels: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.block_on(self.as_async().unlisten(channels))?
    }

    /// Stops listening on every channel.
    pub fn unlisten_all(&self) -> Result<(), Error> {
        self.block_on(self.as_async().unlisten_all())?
    }

    /// The channels the session listens on, sorted.
    pub fn listening_channels(&self) -> Result<Vec<String>, Error> {
        self.block_on(self.as_async().listening_channels())?
    }

    /// Sends notifications in order, in one statement (see [`crate::Connection::notify`]).
    pub fn notify<I>(&self, notifications: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: NotifyItem,
    {
        self.block_on(self.as_async().notify(notifications))?
    }

    /// The notifications as they arrive, with [`crate::Connection::iternotifies`]'s timeout
    /// rules. An OperationError inside an async runtime.
    pub fn iternotifies(&self, timeout: Option<Duration>) -> Result<Notifications, Error> {
        Ok(Notifications {
            manager: NotificationManager::new([self.clone()], timeout)?,
        })
    }
}

/// The notifications of one blocking connection, from [`Connection::iternotifies`].
#[derive(Debug)]
pub struct Notifications {
    manager: NotificationManager,
}

impl Iterator for Notifications {
    type Item = NotifyEvent;

    fn next(&mut self) -> Option<NotifyEvent> {
        Some(match self.manager.next()? {
            ManagerEvent::Notification(_, notification) => NotifyEvent::Notification(notification),
            ManagerEvent::Idle => NotifyEvent::Idle,
            ManagerEvent::Dropped(_, count) => NotifyEvent::Dropped(count),
        })
    }
}

/// What a blocking [`NotificationManager`] gives.
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
fn queue_batch(
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

/// The blocking form of [`crate::NotificationManager`]: an iterator over the notifications of
/// several blocking connections, with the same timeout rules and the same overflow report
/// ([`ManagerEvent::Dropped`] before the notifications a full queue kept). It ends when no
/// connection is left open (and when moved into an async runtime, where it cannot block).
#[derive(Debug)]
pub struct NotificationManager {
    connections: Vec<Connection>,
    timeout: Option<Duration>,
    pending: VecDeque<ManagerEvent>,
    swept: bool,
}

impl NotificationManager {
    /// A manager over these connections; an OperationError inside an async runtime.
    pub fn new(
        connections: impl IntoIterator<Item = Connection>,
        timeout: Option<Duration>,
    ) -> Result<NotificationManager, Error> {
        outside_runtime()?;
        Ok(NotificationManager {
            connections: connections.into_iter().collect(),
            timeout,
            pending: VecDeque::new(),
            swept: false,
        })
    }

    /// The connections still managed.
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

    /// Waits on every connection, each runtime driven by a thread of its own (the caller's when
    /// there is one connection). None when the timeout passed with nothing.
    fn wait(&self, timeout: Option<Duration>) -> Result<Option<Vec<NotificationBatch>>, Error> {
        if let [only] = &self.connections[..] {
            let links = [only.as_async().link()];
            return only.block_on(wait_any(&links, timeout));
        }
        let token = CancellationToken::new();
        let results: Vec<Result<Option<NotificationBatch>, Error>> = std::thread::scope(|scope| {
            let threads: Vec<_> = self
                .connections
                .iter()
                .map(|connection| {
                    let token = token.clone();
                    scope.spawn(move || wait_one(connection, timeout, token))
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap_or(Ok(None)))
                .collect()
        });
        let mut woken = false;
        let mut taken = Vec::new();
        for result in results {
            let result = result?;
            woken |= result.is_some();
            taken.push(result.unwrap_or_default());
        }
        Ok(woken.then_some(taken))
    }
}

/// One connection's part of a wait on several: it ends the others' when it wakes.
fn wait_one(
    connection: &Connection,
    timeout: Option<Duration>,
    token: CancellationToken,
) -> Result<Option<NotificationBatch>, Error> {
    let links: [Arc<Link>; 1] = [connection.as_async().link()];
    let woken = connection.block_on(async {
        tokio::select! {
            taken = wait_any(&links, timeout) => taken,
            () = token.cancelled() => None,
        }
    })?;
    if woken.is_some() {
        token.cancel();
    }
    Ok(woken.map(|mut taken| taken.remove(0)))
}

impl Iterator for NotificationManager {
    type Item = ManagerEvent;

    fn next(&mut self) -> Option<ManagerEvent> {
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
            match self.timeout {
                Some(timeout) if timeout.is_zero() => {
                    if std::mem::take(&mut self.swept) {
                        return None;
                    }
                    for connection in &self.connections {
                        let link = connection.as_async().link();
                        let _ = connection.block_on(oneshot::sync(&link)).ok()?;
                    }
                    self.swept = true;
                }
                timeout => match self.wait(timeout).ok()? {
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
}
