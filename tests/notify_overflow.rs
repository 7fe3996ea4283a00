//! Finding 8: a connection that LISTENs but does not take its notifications queues at most
//! its capacity of them; the oldest are dropped, and the next taker learns how many, through
//! every consumer (take, psycopg2's `notifies`, iteration, the managers, the blocking facade).

mod common;

use std::time::{Duration, Instant};

use futures::StreamExt;
use pg_driver::params::Keywords;
use pg_driver::{
    Connection, Connector, DEFAULT_NOTIFICATION_CAPACITY, ManagerEvent, NotificationManager,
    NotifyEvent, blocking,
};

/// A channel name of this test's own (notifications are database-wide).
fn channel(sandbox: &pg_cluster::Sandbox<'_>, name: &str) -> String {
    format!("{}_{name}", sandbox.schema())
}

/// A payload of about 1 kB that starts with its number.
fn payload(i: usize) -> String {
    format!("{i:05} {}", "x".repeat(1000))
}

/// The number a payload starts with.
fn number(payload: &str) -> usize {
    payload[..5].parse().expect("a numbered payload")
}

/// `count` notifications on `channel`, numbered from `from`, in one transaction.
async fn send(sender: &Connection, channel: &str, from: usize, count: usize) {
    let items: Vec<(&str, String)> = (from..from + count)
        .map(|i| (channel, payload(i)))
        .collect();
    sender.notify(items).await.unwrap();
}

/// A round trip on the listener, after which what the server held for it has arrived (the
/// server delivers pending notifications before it reports the session idle).
async fn settle(listener: &Connection) {
    listener.execute("SELECT 1").await.unwrap();
}

/// What a zero-timeout iteration gives: the drop report (if any) and the notifications'
/// numbers.
async fn drain(listener: &Connection) -> (Option<u64>, Vec<usize>) {
    let mut dropped = None;
    let mut numbers = Vec::new();
    let events: Vec<NotifyEvent> = listener.iternotifies(Some(Duration::ZERO)).collect().await;
    for event in events {
        match event {
            NotifyEvent::Dropped(count) => {
                assert!(numbers.is_empty(), "the drop report comes first");
                assert!(dropped.replace(count).is_none(), "one drop report");
            }
            NotifyEvent::Notification(n) => numbers.push(number(&n.payload)),
            NotifyEvent::Idle => panic!("no idle marker with a zero timeout"),
        }
    }
    (dropped, numbers)
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_and_reports_how_many() {
    let sandbox = common::temporal().sandbox().unwrap();
    // The capacity from the connection keyword.
    let iri = format!("{}&[notification_capacity]=100", sandbox.iri());
    let params = Keywords::parse(&iri).unwrap().build().unwrap();
    assert_eq!(params.notification_capacity(), 100);
    let listener = Connector::new(params).connect().await.unwrap();
    assert_eq!(listener.notification_capacity(), 100);
    let sender = sandbox.connect().await.unwrap();
    assert_eq!(
        sender.notification_capacity(),
        DEFAULT_NOTIFICATION_CAPACITY
    );
    let ch = channel(&sandbox, "full");
    listener.listen([&ch]).await.unwrap();

    // 1,000 notifications of 1 kB in four transactions: the queue never holds more than 100.
    for round in 0..4 {
        send(&sender, &ch, round * 250, 250).await;
        settle(&listener).await;
        assert_eq!(listener.queued_notifications(), 100, "round {round}");
    }
    // The next consumer learns first how many were dropped, then gets the newest 100.
    let (dropped, numbers) = drain(&listener).await;
    assert_eq!(dropped, Some(900));
    assert_eq!(numbers, (900..1000).collect::<Vec<_>>());
    assert_eq!(listener.queued_notifications(), 0);

    // Later notifications arrive normally, with no report.
    send(&sender, &ch, 1000, 3).await;
    let (dropped, numbers) = drain(&listener).await;
    assert_eq!((dropped, numbers), (None, vec![1000, 1001, 1002]));

    // take_notifications and psycopg2's notifies carry the count too.
    send(&sender, &ch, 2000, 101).await;
    settle(&listener).await;
    let batch = listener.take_notifications();
    assert_eq!(batch.dropped, 1);
    assert_eq!(number(&batch.notifications[0].payload), 2001);
    assert_eq!(batch.notifications.len(), 100);
    send(&sender, &ch, 3000, 102).await;
    let batch = listener.notifies().await.unwrap();
    assert_eq!((batch.dropped, batch.notifications.len()), (2, 100));
    let events: Vec<NotifyEvent> = batch.into_iter().take(2).collect();
    assert_eq!(events[0], NotifyEvent::Dropped(2));
    assert!(matches!(&events[1], NotifyEvent::Notification(n) if number(&n.payload) == 3002));
    assert!(listener.take_notifications().is_empty());

    // A smaller capacity drops the surplus at once, oldest first; zero keeps none.
    send(&sender, &ch, 4000, 10).await;
    settle(&listener).await;
    listener.set_notification_capacity(4);
    assert_eq!(listener.queued_notifications(), 4);
    assert_eq!(
        drain(&listener).await,
        (Some(6), vec![4006, 4007, 4008, 4009])
    );
    listener.set_notification_capacity(0);
    send(&sender, &ch, 5000, 5).await;
    settle(&listener).await;
    assert_eq!(listener.queued_notifications(), 0);
    assert_eq!(drain(&listener).await, (Some(5), vec![]));
    listener.set_notification_capacity(100);
    send(&sender, &ch, 6000, 1).await;
    assert_eq!(drain(&listener).await, (None, vec![6000]));
}

#[tokio::test]
async fn the_default_capacity_bounds_a_flood() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let ch = channel(&sandbox, "flood");
    listener.listen([&ch]).await.unwrap();
    let over = DEFAULT_NOTIFICATION_CAPACITY + 50;
    let items: Vec<(&str, String)> = (0..over).map(|i| (ch.as_str(), i.to_string())).collect();
    sender.notify(items).await.unwrap();
    settle(&listener).await;
    assert_eq!(
        listener.queued_notifications(),
        DEFAULT_NOTIFICATION_CAPACITY
    );
    // A waiting consumer (no timeout) is given the report, then the notifications kept.
    let mut stream = listener.iternotifies(None);
    assert_eq!(stream.next().await, Some(NotifyEvent::Dropped(50)));
    let Some(NotifyEvent::Notification(first)) = stream.next().await else {
        panic!("a notification follows the report");
    };
    assert_eq!(first.payload, "50");
}

#[tokio::test]
async fn a_manager_reports_drops_per_connection() {
    let sandbox = common::temporal().sandbox().unwrap();
    let small = sandbox.connect().await.unwrap();
    let roomy = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    small.set_notification_capacity(5);
    let (a, b) = (channel(&sandbox, "ma"), channel(&sandbox, "mb"));
    small.listen([&a]).await.unwrap();
    roomy.listen([&b]).await.unwrap();
    send(&sender, &a, 0, 12).await;
    send(&sender, &b, 100, 3).await;
    settle(&small).await;
    settle(&roomy).await;
    assert_eq!(small.queued_notifications(), 5);
    let mut manager = NotificationManager::new(
        [small.clone(), roomy.clone()],
        Some(Duration::from_millis(100)),
    );
    let mut drops = Vec::new();
    let mut numbers = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while numbers.len() < 8 {
        assert!(Instant::now() < deadline, "only {numbers:?} arrived");
        match manager.next_event().await.unwrap() {
            ManagerEvent::Dropped(db, count) => {
                assert!(numbers.iter().all(|&n| n >= 100), "the report comes first");
                drops.push((db.backend_id(), count));
            }
            ManagerEvent::Notification(_, n) => numbers.push(number(&n.payload)),
            ManagerEvent::Idle => {}
        }
    }
    assert_eq!(drops, [(small.backend_id(), 7)]);
    numbers.sort();
    assert_eq!(numbers, [7, 8, 9, 10, 11, 100, 101, 102]);
    // Later ones come normally.
    send(&sender, &a, 200, 1).await;
    let event = loop {
        match manager.next_event().await.unwrap() {
            ManagerEvent::Idle => {}
            event => break event,
        }
    };
    assert!(matches!(event, ManagerEvent::Notification(_, n) if number(&n.payload) == 200));
}

#[test]
fn the_blocking_facade_reports_drops() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect_blocking().unwrap();
    let sender = sandbox.connect_blocking().unwrap();
    listener.set_notification_capacity(10);
    assert_eq!(listener.notification_capacity(), 10);
    let ch = channel(&sandbox, "blocking");
    listener.listen([&ch]).unwrap();
    let send = |from: usize, count: usize| {
        let items: Vec<(&str, String)> = (from..from + count)
            .map(|i| (ch.as_str(), payload(i)))
            .collect();
        sender.notify(items).unwrap();
    };
    // Sent while the listener's runtime is idle: read, and bounded, when it next runs.
    send(0, 25);
    listener.execute("SELECT 1").unwrap();
    assert_eq!(listener.queued_notifications(), 10);
    let events: Vec<NotifyEvent> = listener
        .iternotifies(Some(Duration::ZERO))
        .unwrap()
        .collect();
    assert_eq!(events.len(), 11, "{events:?}");
    assert_eq!(events[0], NotifyEvent::Dropped(15));
    let numbers: Vec<usize> = events[1..]
        .iter()
        .map(|e| match e {
            NotifyEvent::Notification(n) => number(&n.payload),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(numbers, (15..25).collect::<Vec<_>>());
    // psycopg2's notifies reads first, then takes.
    send(100, 12);
    let batch = listener.notifies().unwrap();
    assert_eq!((batch.dropped, batch.notifications.len()), (2, 10));
    // The blocking manager, waiting: the report, then what was kept, then later ones.
    send(200, 13);
    listener.execute("SELECT 1").unwrap();
    let mut manager =
        blocking::NotificationManager::new([listener.clone()], Some(Duration::from_millis(100)))
            .unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < 11 {
        assert!(Instant::now() < deadline, "only {got:?} arrived");
        match manager.next().unwrap() {
            blocking::ManagerEvent::Dropped(db, count) => {
                assert_eq!(db.backend_id(), listener.backend_id());
                got.push(format!("dropped {count}"));
            }
            blocking::ManagerEvent::Notification(_, n) => {
                got.push(number(&n.payload).to_string());
            }
            blocking::ManagerEvent::Idle => {}
        }
    }
    let mut expected = vec!["dropped 3".to_owned()];
    expected.extend((203..213).map(|n| n.to_string()));
    assert_eq!(got, expected);
    send(300, 1);
    let event = loop {
        match manager.next().unwrap() {
            blocking::ManagerEvent::Idle => {}
            event => break event,
        }
    };
    assert!(
        matches!(event, blocking::ManagerEvent::Notification(_, n) if number(&n.payload) == 300)
    );
}
