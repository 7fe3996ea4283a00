//! LISTEN / NOTIFY against a real server: delivery between sessions, iteration, the manager.

mod common;

use std::time::{Duration, Instant};

use futures::StreamExt;
use pg_driver::{Connection, ManagerEvent, Notification, NotificationManager, NotifyEvent};
use pg_exceptions::ParameterError;

const SECOND: Duration = Duration::from_secs(1);

/// A channel name of this test's own (notifications are database-wide).
fn channel(sandbox: &pg_cluster::Sandbox<'_>, name: &str) -> String {
    format!("{}_{name}", sandbox.schema())
}

/// The next `n` notifications, skipping idle markers, within a bound.
async fn next_notifications(db: &Connection, n: usize) -> Vec<Notification> {
    let stream = db.iternotifies(Some(Duration::from_millis(100)));
    let mut got = Vec::new();
    let deadline = Instant::now() + 10 * SECOND;
    futures::pin_mut!(stream);
    while got.len() < n {
        assert!(Instant::now() < deadline, "only {got:?} arrived");
        match stream.next().await {
            Some(NotifyEvent::Notification(notification)) => got.push(notification),
            Some(NotifyEvent::Idle) => {}
            Some(NotifyEvent::Dropped(count)) => panic!("{count} dropped after {got:?}"),
            None => panic!("the stream ended after {got:?}"),
        }
    }
    got
}

#[tokio::test]
async fn notifications_between_connections_in_order() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let ch = channel(&sandbox, "orders");
    listener.listen([&ch]).await.unwrap();
    assert_eq!(listener.listening_channels().await.unwrap(), [ch.as_str()]);
    let payloads = [
        "it's; DROP TABLE keep; --",
        "\"quoted\" $1 \\ backslash",
        "ünïcødé ☃ 日本",
        "",
    ];
    sender
        .notify(payloads.iter().map(|p| (ch.as_str(), *p)))
        .await
        .unwrap();
    let got = next_notifications(&listener, payloads.len()).await;
    let sender_pid = sender.backend_id().unwrap();
    for (notification, payload) in got.iter().zip(payloads) {
        assert_eq!(notification.channel, ch);
        assert_eq!(notification.payload, payload);
        assert_eq!(notification.pid, sender_pid);
    }
    // A channel alone, and a notification sent back as it came.
    sender.notify([ch.as_str()]).await.unwrap();
    sender.notify([&got[0]]).await.unwrap();
    let again = next_notifications(&listener, 2).await;
    assert_eq!(again[0].payload, "");
    assert_eq!(again[1].payload, payloads[0]);
    // Nothing is left over.
    assert!(listener.take_notifications().is_empty());
}

#[tokio::test]
async fn several_channels_and_unlisten() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let names = ["a", "B", "Mixed Case", "with \"quote\""].map(|n| channel(&sandbox, n));
    listener.listen(&names).await.unwrap();
    let mut listening = listener.listening_channels().await.unwrap();
    listening.sort();
    let mut expected = names.to_vec();
    expected.sort();
    assert_eq!(listening, expected);
    sender
        .notify(names.iter().map(|n| (n.as_str(), n.as_str())))
        .await
        .unwrap();
    let got = next_notifications(&listener, 4).await;
    let channels: Vec<&str> = got.iter().map(|n| n.channel.as_str()).collect();
    assert_eq!(
        channels,
        names.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(got.iter().all(|n| n.channel == n.payload));
    listener.unlisten([&names[1]]).await.unwrap();
    sender
        .notify([(&names[1], "gone"), (&names[0], "here")])
        .await
        .unwrap();
    let got = next_notifications(&listener, 1).await;
    assert_eq!(
        (got[0].channel.as_str(), got[0].payload.as_str()),
        (names[0].as_str(), "here")
    );
    listener.unlisten_all().await.unwrap();
    assert!(listener.listening_channels().await.unwrap().is_empty());
}

#[tokio::test]
async fn idle_markers_come_at_each_timeout() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let ch = channel(&sandbox, "idle");
    listener.listen([&ch]).await.unwrap();
    let timeout = Duration::from_millis(150);
    let mut stream = listener.iternotifies(Some(timeout));
    let start = Instant::now();
    assert_eq!(stream.next().await, Some(NotifyEvent::Idle));
    assert_eq!(stream.next().await, Some(NotifyEvent::Idle));
    let elapsed = start.elapsed();
    assert!(
        elapsed >= 2 * timeout && elapsed < 10 * timeout,
        "{elapsed:?}"
    );
    let ch2 = ch.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        sender.notify([(ch2.as_str(), "late")]).await.unwrap();
    });
    let mut idles = 0;
    loop {
        match stream.next().await.unwrap() {
            NotifyEvent::Idle => idles += 1,
            NotifyEvent::Notification(n) => {
                assert_eq!(n.payload, "late");
                break;
            }
            NotifyEvent::Dropped(count) => panic!("{count} dropped"),
        }
        assert!(idles < 50);
    }
    assert!(idles >= 1, "{idles}");
}

#[tokio::test]
async fn a_zero_timeout_gives_what_is_pending_and_ends() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let ch = channel(&sandbox, "zero");
    listener.listen([&ch]).await.unwrap();
    let empty: Vec<NotifyEvent> = listener.iternotifies(Some(Duration::ZERO)).collect().await;
    assert!(empty.is_empty(), "{empty:?}");
    sender.notify([(&ch, "1"), (&ch, "2")]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let got: Vec<NotifyEvent> = listener.iternotifies(Some(Duration::ZERO)).collect().await;
    assert!(start.elapsed() < SECOND);
    let payloads: Vec<&str> = got
        .iter()
        .map(|e| match e {
            NotifyEvent::Notification(n) => n.payload.as_str(),
            other => panic!("no {other:?} with a zero timeout"),
        })
        .collect();
    assert_eq!(payloads, ["1", "2"]);
}

#[tokio::test]
async fn iteration_ends_when_the_connection_closes() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let ch = channel(&sandbox, "close");
    listener.listen([&ch]).await.unwrap();
    // Closed from another handle while waiting for ever.
    let other = listener.clone();
    let closer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        other.close();
    });
    let start = Instant::now();
    let events: Vec<NotifyEvent> =
        tokio::time::timeout(5 * SECOND, listener.iternotifies(None).collect())
            .await
            .expect("the stream ends");
    assert!(events.is_empty() && start.elapsed() >= Duration::from_millis(150));
    closer.await.unwrap();
    // Terminated by the server: what arrived first is still given, then the stream ends.
    let listener = sandbox.connect().await.unwrap();
    listener.listen([&ch]).await.unwrap();
    sender.notify([(&ch, "before")]).await.unwrap();
    let pid = listener.backend_id().unwrap();
    let killer = sender.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _: bool = killer
            .query_first("SELECT pg_terminate_backend($1)", (pid,))
            .await
            .unwrap();
    });
    let events: Vec<NotifyEvent> = tokio::time::timeout(
        5 * SECOND,
        listener
            .iternotifies(Some(Duration::from_millis(100)))
            .collect(),
    )
    .await
    .expect("the stream ends");
    let notifications: Vec<&NotifyEvent> = events
        .iter()
        .filter(|e| matches!(e, NotifyEvent::Notification(_)))
        .collect();
    assert_eq!(notifications.len(), 1, "{events:?}");
    assert!(listener.closed());
}

#[tokio::test]
async fn notifications_during_other_work_are_kept() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let ch = channel(&sandbox, "busy");
    listener.listen([&ch]).await.unwrap();
    let ch2 = ch.clone();
    let sending = tokio::spawn(async move {
        for i in 0..5 {
            sender
                .notify([(ch2.as_str(), i.to_string())])
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    });
    // The listener keeps working: queries, and a transaction that holds delivery back.
    listener.execute("BEGIN").await.unwrap();
    for _ in 0..5 {
        let _: i32 = listener
            .query_first("SELECT 1 FROM pg_sleep(0.05)", ())
            .await
            .unwrap();
    }
    sending.await.unwrap();
    listener.execute("COMMIT").await.unwrap();
    let _: i32 = listener.query_first("SELECT 2", ()).await.unwrap();
    let got = next_notifications(&listener, 5).await;
    let payloads: Vec<&str> = got.iter().map(|n| n.payload.as_str()).collect();
    assert_eq!(payloads, ["0", "1", "2", "3", "4"]);
}

#[tokio::test]
async fn hostile_channel_names_run_no_sql() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    listener.execute("CREATE TABLE keep (i int)").await.unwrap();
    let hostile = format!("{}\"; DROP TABLE keep; --", sandbox.schema());
    let payload = "'); DROP TABLE keep; --";
    listener.listen([&hostile]).await.unwrap();
    sender.notify([(&hostile, payload)]).await.unwrap();
    sender.notify(["x'); DROP TABLE keep; --"]).await.unwrap();
    let got = next_notifications(&listener, 1).await;
    assert_eq!(
        (got[0].channel.as_str(), got[0].payload.as_str()),
        (hostile.as_str(), payload)
    );
    listener.unlisten([&hostile]).await.unwrap();
    listener.execute("SELECT * FROM keep").await.unwrap();
    // Names the server would truncate or refuse are refused before anything is sent.
    for bad in ["".to_owned(), "x".repeat(64), "nul\0byte".to_owned()] {
        let error = sender.notify([bad.as_str()]).await.unwrap_err();
        assert!(error.is_a(&ParameterError), "{error}");
        let error = listener.listen([bad.as_str()]).await.unwrap_err();
        assert!(error.is_a(&ParameterError), "{error}");
    }
    assert!(listener.listening_channels().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_manager_waits_on_several_connections() {
    let sandbox = common::temporal().sandbox().unwrap();
    let first = sandbox.connect().await.unwrap();
    let second = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let (a, b) = (channel(&sandbox, "ma"), channel(&sandbox, "mb"));
    first.listen([&a]).await.unwrap();
    second.listen([&b]).await.unwrap();
    let mut manager = NotificationManager::new(
        [first.clone(), second.clone()],
        Some(Duration::from_millis(100)),
    );
    assert!(matches!(
        manager.next_event().await,
        Some(ManagerEvent::Idle)
    ));
    sender
        .notify([(&b, "to second"), (&a, "to first")])
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        match manager.next_event().await.unwrap() {
            ManagerEvent::Notification(db, n) => got.push((db.backend_id(), n.payload)),
            ManagerEvent::Idle => {}
            ManagerEvent::Dropped(_, count) => panic!("{count} dropped"),
        }
    }
    got.sort_by(|x, y| x.1.cmp(&y.1));
    assert_eq!(
        got,
        [
            (first.backend_id(), "to first".to_owned()),
            (second.backend_id(), "to second".to_owned())
        ]
    );
    // A closed connection leaves the set; the manager ends when none is left.
    first.close();
    assert!(matches!(
        manager.next_event().await,
        Some(ManagerEvent::Idle)
    ));
    assert_eq!(manager.connections().len(), 1);
    sender.notify([(&b, "last")]).await.unwrap();
    second.close();
    let rest: Vec<ManagerEvent> = manager.into_stream().collect().await;
    assert!(rest.len() <= 1, "{rest:?}");
    // A zero timeout ends after what is pending.
    let third = sandbox.connect().await.unwrap();
    third.listen([&a]).await.unwrap();
    sender.notify([(&a, "pending")]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut manager = NotificationManager::new([third], Some(Duration::ZERO));
    assert!(
        matches!(manager.next_event().await, Some(ManagerEvent::Notification(_, n)) if n.payload == "pending")
    );
    assert!(manager.next_event().await.is_none());
}

#[test]
fn blocking_notifications() {
    use pg_driver::blocking;
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect_blocking().unwrap();
    let sender = sandbox.connect_blocking().unwrap();
    let ch = channel(&sandbox, "blocking");
    listener.listen([&ch]).unwrap();
    assert_eq!(listener.listening_channels().unwrap(), [ch.as_str()]);
    // Sent while the listener's runtime is idle: read when it next waits.
    sender.notify([(&ch, "one"), (&ch, "two")]).unwrap();
    let mut events = listener
        .iternotifies(Some(Duration::from_millis(200)))
        .unwrap();
    let mut payloads = Vec::new();
    while payloads.len() < 2 {
        if let NotifyEvent::Notification(n) = events.next().unwrap() {
            assert_eq!(n.pid, sender.backend_id().unwrap());
            payloads.push(n.payload);
        }
    }
    assert_eq!(payloads, ["one", "two"]);
    let start = Instant::now();
    assert_eq!(events.next(), Some(NotifyEvent::Idle));
    assert!(start.elapsed() >= Duration::from_millis(150));
    // Zero timeout.
    sender.notify([(&ch, "zero")]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let got: Vec<NotifyEvent> = listener
        .iternotifies(Some(Duration::ZERO))
        .unwrap()
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    // A manager over two blocking connections waits on both at once.
    let other = sandbox.connect_blocking().unwrap();
    let ch2 = channel(&sandbox, "blocking2");
    other.listen([&ch2]).unwrap();
    let mut manager = blocking::NotificationManager::new(
        [listener.clone(), other.clone()],
        Some(Duration::from_millis(150)),
    )
    .unwrap();
    assert!(matches!(manager.next(), Some(blocking::ManagerEvent::Idle)));
    let notifier = sender.clone();
    let ch2_ = ch2.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        notifier.notify([(&ch2_, "threaded")]).unwrap();
    });
    let start = Instant::now();
    let event = loop {
        match manager.next().unwrap() {
            blocking::ManagerEvent::Idle => assert!(start.elapsed() < 10 * SECOND),
            event => break event,
        }
    };
    thread.join().unwrap();
    let blocking::ManagerEvent::Notification(db, n) = event else {
        unreachable!()
    };
    assert_eq!(
        (db.backend_id(), n.payload.as_str()),
        (other.backend_id(), "threaded")
    );
    // Waiting for ever ends when the server terminates the session.
    let pid = listener.backend_id().unwrap();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let _: bool = sender
            .query_first("SELECT pg_terminate_backend($1)", (pid,))
            .unwrap();
    });
    let start = Instant::now();
    let rest: Vec<NotifyEvent> = listener.iternotifies(None).unwrap().collect();
    assert!(rest.is_empty() && start.elapsed() < 10 * SECOND, "{rest:?}");
    assert!(listener.closed());
    killer.join().unwrap();
    // The manager drops the closed connection and goes on with the other.
    assert!(matches!(manager.next(), Some(blocking::ManagerEvent::Idle)));
    assert_eq!(manager.connections().len(), 1);
}
