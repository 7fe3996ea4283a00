//! A handle that wrote its request while the connection's task was idle reads the answer
//! itself, with the reading end the task parked. These are the ways that reading ends other
//! than with the answer: a notice or a notification in the middle, a caller who gives up, the
//! server going away, requests made meanwhile; and what the task must still see afterwards.

mod common;

use std::time::{Duration, Instant};

use pg_driver::Connection;

/// Long enough for any of these on a loaded machine; a lost wake-up hangs for ever instead.
const LIMIT: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {LIMIT:?}"))
}

/// A round trip whose answer is checked, so a misrouted or lost frame shows.
async fn check_round_trip(db: &Connection, n: i32) {
    let got: i32 = within("round trip", db.query_first("SELECT $1::int4 + 1", (n,)))
        .await
        .unwrap();
    assert_eq!(got, n + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_in_the_middle_of_answers_reach_the_connection_and_the_rows_the_caller() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    // The driver lowers client_min_messages to WARNING (py-postgresql's default); notices wanted.
    db.execute("SET client_min_messages = notice")
        .await
        .unwrap();
    db.execute(
        "CREATE FUNCTION noisy(n int4) RETURNS SETOF int4 LANGUAGE plpgsql AS $$
         BEGIN
             FOR i IN 1..n LOOP
                 RAISE NOTICE 'row %', i;
                 RETURN NEXT i;
             END LOOP;
         END $$",
    )
    .await
    .unwrap();
    let ps = db.prepare("SELECT * FROM noisy($1)").await.unwrap();
    for round in 1..=50 {
        let rows = within("noisy", ps.call((round,))).await.unwrap();
        let values: Vec<i32> = rows.rows.iter().map(|r| r.try_get(0).unwrap()).collect();
        assert_eq!(values, (1..=round).collect::<Vec<_>>());
        let notices = db.notices();
        let last = notices.last().expect("the notices were read");
        assert_eq!(last.message(), format!("row {round}"));
        db.clear_notices();
        check_round_trip(&db, round).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_sent_after_an_answer_is_read_while_the_connection_idles() {
    let sandbox = common::temporal().sandbox().unwrap();
    let listener = sandbox.connect().await.unwrap();
    let sender = sandbox.connect().await.unwrap();
    let channel = format!("{}_own", sandbox.schema());
    listener
        .execute(&format!("LISTEN {}", pg_string::quote_ident(&channel)))
        .await
        .unwrap();
    let slow = listener
        .prepare("SELECT $1::int4 FROM pg_sleep(0.02)")
        .await
        .unwrap();
    for round in 0..20 {
        // The listener's last request was read by its handle, which waited on the socket (the
        // statement takes a while) in the task's stead; nothing more is asked of it, so only
        // the task, woken by the socket again, can read the notification.
        let got: i32 = within("slow round trip", slow.first((round,)))
            .await
            .unwrap();
        assert_eq!(got, round);
        sender
            .query_first::<Option<String>, _>(
                "SELECT pg_notify($1, $2)::text",
                (channel.as_str(), round.to_string()),
            )
            .await
            .unwrap();
        let deadline = Instant::now() + LIMIT;
        let got = loop {
            let got = listener.take_notifications();
            if !got.is_empty() {
                break got;
            }
            assert!(Instant::now() < deadline, "round {round}: never read");
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let payloads: Vec<&str> = got
            .notifications
            .iter()
            .map(|n| n.payload.as_str())
            .collect();
        assert_eq!(payloads, [round.to_string()]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_giving_up_in_the_middle_of_answers_leave_the_connection_clean() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT i, repeat('x', 200) FROM generate_series(1, $1::int4) AS i")
        .await
        .unwrap();
    let mut gave_up = 0;
    for round in 0..200i32 {
        // Dropped after a while: before the answer, in the middle of it, or never.
        let wait = Duration::from_micros(50 * (round as u64 % 40));
        match tokio::time::timeout(wait, ps.call((20_000,))).await {
            Ok(results) => assert_eq!(results.unwrap().rows.len(), 20_000),
            Err(_) => gave_up += 1,
        }
        check_round_trip(&db, round).await;
    }
    assert!(gave_up > 0, "no call was given up: the test tested nothing");
    assert!(!db.closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_made_while_a_handle_reads_are_written_and_answered_in_order() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT $1::int4 FROM pg_sleep($2::float8)")
        .await
        .unwrap();
    for round in 0..20 {
        // The first is written and read by its handle while the others queue behind it.
        let slow = ps.first::<i32, _>((-1, 0.02));
        let quick = futures::future::join_all((0..8).map(|i| ps.first::<i32, _>((i, 0.0))));
        let (slow, quick) = within("pipelined", futures::future::join(slow, quick)).await;
        assert_eq!(slow.unwrap(), -1, "round {round}");
        let quick: Vec<i32> = quick.into_iter().map(Result::unwrap).collect();
        assert_eq!(quick, (0..8).collect::<Vec<_>>(), "round {round}");
    }
    check_round_trip(&db, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_terminated_while_its_handle_reads_fails_the_call_and_closes_the_connection() {
    let victim = common::connect().await;
    let admin = common::connect().await;
    let pid = victim.backend_id().expect("a backend id");
    let call = tokio::spawn(async move {
        let outcome = within(
            "terminated call",
            victim.query_first::<i32, _>("SELECT 1 FROM pg_sleep(30)", ()),
        )
        .await;
        (outcome, victim)
    });
    // Until the victim's statement runs.
    let deadline = Instant::now() + LIMIT;
    loop {
        let active: bool = admin
            .query_first(
                "SELECT count(*) > 0 FROM pg_stat_activity \
                 WHERE pid = $1 AND query LIKE '%pg_sleep(30)%' AND state = 'active'",
                (pid,),
            )
            .await
            .unwrap();
        if active {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the victim's statement never ran"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let terminated: bool = admin
        .query_first("SELECT pg_terminate_backend($1)", (pid,))
        .await
        .unwrap();
    assert!(terminated);
    let (outcome, victim) = call.await.unwrap();
    let error = outcome.expect_err("the call cannot succeed");
    assert!(
        error.is_disconnection() || error.is_a(&pg_exceptions::AdminShutdownError),
        "{error}"
    );
    let deadline = Instant::now() + LIMIT;
    while !victim.closed() {
        assert!(
            Instant::now() < deadline,
            "the connection was never known closed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(victim.query_first::<i32, _>("SELECT 1", ()).await.is_err());
}
