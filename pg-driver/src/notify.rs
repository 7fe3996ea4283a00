//! LISTEN / NOTIFY: listening, sending, and iterating over what arrives.
//!
//! Notifications are read by the connection task whenever they arrive, whatever else the
//! connection is doing, and wait in the connection's shared state until taken: none is lost
//! while other queries run. [`Connection::iternotifies`] waits for them; a
//! [`crate::NotificationManager`] waits on several connections at once.
//!
//! The queue is bounded: it holds at most [`Connection::notification_capacity`]
//! notifications ([`DEFAULT_NOTIFICATION_CAPACITY`](crate::DEFAULT_NOTIFICATION_CAPACITY)
//! unless the `notification_capacity` connection keyword or
//! [`Connection::set_notification_capacity`] says otherwise). When it is full, each new
//! notification drops the oldest, and the drops are never silent: the next taker gets their
//! count first ([`NotificationBatch::dropped`](crate::NotificationBatch::dropped),
//! [`NotifyEvent::Dropped`], [`crate::ManagerEvent::Dropped`]). The oldest go because a
//! listener that fell behind is better served by the newest (LISTEN/NOTIFY mostly says
//! "this changed, look again"), and the count tells it to resynchronise; it is also what the
//! notices queue does. The socket is read on whatever the queue holds: a backend whose client
//! stops reading holds back the cluster-wide notification queue and the connection's answers.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::stream::BoxStream;
use pg_exceptions::{Error, ParameterError};
use postgres_types::{ToSql, Type};

use crate::notifyman::{ManagerEvent, NotificationManager};
use crate::wire::shared::{Notification, NotificationBatch};
use crate::{Connection, oneshot};

/// The longest channel name the server keeps (NAMEDATALEN - 1 bytes).
const MAX_CHANNEL: usize = 63;

/// What iterating over a connection's notifications gives (pg-api's; a connection's queue
/// is bounded by [`Connection::set_notification_capacity`]).
pub use pg_api::NotifyEvent;

impl IntoIterator for NotificationBatch {
    type Item = NotifyEvent;
    type IntoIter = std::iter::Chain<
        std::option::IntoIter<NotifyEvent>,
        std::iter::Map<std::vec::IntoIter<Notification>, fn(Notification) -> NotifyEvent>,
    >;

    /// [`NotifyEvent::Dropped`] first when any were dropped, then each notification.
    fn into_iter(self) -> Self::IntoIter {
        let dropped = (self.dropped > 0).then_some(NotifyEvent::Dropped(self.dropped));
        let notification: fn(Notification) -> NotifyEvent = NotifyEvent::Notification;
        dropped
            .into_iter()
            .chain(self.notifications.into_iter().map(notification))
    }
}

/// Something [`Connection::notify`] can send: a channel name alone (an empty payload), a
/// `(channel, payload)` pair, or a [`Notification`] (its pid is ignored).
pub trait NotifyItem {
    /// The channel to notify.
    fn channel(&self) -> &str;
    /// The payload; empty for none.
    fn payload(&self) -> &str {
        ""
    }
}

impl NotifyItem for &str {
    fn channel(&self) -> &str {
        self
    }
}

impl NotifyItem for String {
    fn channel(&self) -> &str {
        self
    }
}

impl NotifyItem for &String {
    fn channel(&self) -> &str {
        self
    }
}

impl<C: AsRef<str>, P: AsRef<str>> NotifyItem for (C, P) {
    fn channel(&self) -> &str {
        self.0.as_ref()
    }
    fn payload(&self) -> &str {
        self.1.as_ref()
    }
}

impl NotifyItem for Notification {
    fn channel(&self) -> &str {
        &self.channel
    }
    fn payload(&self) -> &str {
        &self.payload
    }
}

impl NotifyItem for &Notification {
    fn channel(&self) -> &str {
        &self.channel
    }
    fn payload(&self) -> &str {
        &self.payload
    }
}

/// Refuses a channel name the server would truncate or reject, before anything is sent.
pub(crate) fn check_channel(channel: &str) -> Result<(), Error> {
    let problem = if channel.is_empty() {
        "is empty"
    } else if channel.len() > MAX_CHANNEL {
        "is longer than 63 bytes"
    } else if channel.contains('\0') {
        "holds a NUL byte"
    } else {
        return Ok(());
    };
    Err(Error::client(
        &ParameterError,
        format!("the channel name {channel:?} {problem}"),
    ))
}

/// `LISTEN "a";LISTEN "b"` for the given command and channels, each quoted as an identifier
/// (channel names cannot be bound parameters).
fn channel_commands<I, S>(command: &str, channels: I) -> Result<String, Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut sql = String::new();
    for channel in channels {
        let channel = channel.as_ref();
        check_channel(channel)?;
        sql.push_str(command);
        sql.push(' ');
        sql.push_str(&pg_string::quote_ident(channel));
        sql.push(';');
    }
    Ok(sql)
}

impl Connection {
    /// Starts listening on the channels (`LISTEN`), all in one round trip. Channel names are
    /// case-sensitive: they are quoted as given.
    pub async fn listen<I, S>(&self, channels: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let sql = channel_commands("LISTEN", channels)?;
        if sql.is_empty() {
            return Ok(());
        }
        self.execute(&sql).await
    }

    /// Stops listening on the channels (`UNLISTEN`).
    pub async fn unlisten<I, S>(&self, channels: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let sql = channel_commands("UNLISTEN", channels)?;
        if sql.is_empty() {
            return Ok(());
        }
        self.execute(&sql).await
    }

    /// Stops listening on every channel (`UNLISTEN *`).
    pub async fn unlisten_all(&self) -> Result<(), Error> {
        self.execute("UNLISTEN *").await
    }

    /// The channels the session listens on (`pg_listening_channels()`), sorted.
    pub async fn listening_channels(&self) -> Result<Vec<String>, Error> {
        let results = self
            .simple("SELECT c FROM pg_catalog.pg_listening_channels() AS c ORDER BY c")
            .await?;
        Ok(results
            .into_iter()
            .flat_map(|r| r.rows)
            .filter_map(|row| row.into_iter().next().flatten())
            .collect())
    }

    /// Sends notifications, in order, in one statement (so one transaction, and one round
    /// trip): `db.notify(["channel"])`, `db.notify([("channel", "payload")])`.
    ///
    /// Channels and payloads are bound parameters of `pg_notify`, never spliced into SQL. Inside
    /// a transaction block they are delivered when it commits; the server delivers identical
    /// (channel, payload) pairs of one transaction once.
    pub async fn notify<I>(&self, notifications: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: NotifyItem,
    {
        let mut channels = Vec::new();
        let mut payloads = Vec::new();
        for item in notifications {
            check_channel(item.channel())?;
            channels.push(item.channel().to_owned());
            payloads.push(item.payload().to_owned());
        }
        if channels.is_empty() {
            return Ok(());
        }
        let sql = "SELECT pg_catalog.pg_notify(n.c, n.p) FROM ROWS FROM \
                   (pg_catalog.unnest($1::pg_catalog.text[]), \
                   pg_catalog.unnest($2::pg_catalog.text[])) \
                   WITH ORDINALITY AS n(c, p, i) ORDER BY n.i";
        let link = self.link();
        oneshot::run(
            &link,
            sql,
            &[
                (Type::TEXT_ARRAY, &channels as &(dyn ToSql + Sync)),
                (Type::TEXT_ARRAY, &payloads),
            ],
        )
        .await
        .map(drop)
        .map_err(|e| self.context(e))
    }

    /// The notifications as they arrive (py-postgresql's `iternotifies`).
    ///
    /// With a timeout, [`NotifyEvent::Idle`] comes each time it passes without a notification;
    /// with `None` the stream waits for ever; with a zero timeout it gives what is pending (after
    /// one round trip, so that what the server holds for the session arrives) and ends. It ends
    /// quietly, after what was pending, when the connection closes. When the connection's
    /// queue overflowed, [`NotifyEvent::Dropped`] comes before the notifications that were
    /// kept, with the number dropped.
    pub fn iternotifies(&self, timeout: Option<Duration>) -> NotificationStream {
        let manager = NotificationManager::new([self.clone()], timeout);
        NotificationStream(Box::pin(futures::stream::unfold(
            manager,
            |mut manager| async move {
                let event = match manager.next_event().await? {
                    ManagerEvent::Notification(_, notification) => {
                        NotifyEvent::Notification(notification)
                    }
                    ManagerEvent::Idle => NotifyEvent::Idle,
                    ManagerEvent::Dropped(_, count) => NotifyEvent::Dropped(count),
                };
                Some((event, manager))
            },
        )))
    }
}

/// The notifications of one connection, from [`Connection::iternotifies`].
pub struct NotificationStream(BoxStream<'static, NotifyEvent>);

impl Stream for NotificationStream {
    type Item = NotifyEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<NotifyEvent>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for NotificationStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NotificationStream")
    }
}
