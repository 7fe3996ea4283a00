//! Requests a handle writes to the socket itself while the connection's task is idle (TCP and
//! unix sockets), on multi-threaded runtimes where the task runs on another thread: no answer
//! lost or misrouted, a request larger than the socket takes at once finished by the task,
//! and pipelined requests never overtaken.

mod common;

use std::time::Duration;

use pg_driver::{Connection, Connector};

/// Long enough for any of these on a loaded machine; a lost wake-up hangs for ever instead.
const LIMIT: Duration = Duration::from_secs(60);

/// `n` sequential round trips, each answer checked against its argument.
async fn round_trips(db: &Connection, n: i32) {
    let ps = db.prepare("SELECT $1::int4 * 2").await.unwrap();
    for i in 0..n {
        let doubled: i32 = tokio::time::timeout(LIMIT, ps.first((i,)))
            .await
            .unwrap_or_else(|_| panic!("round trip {i} never answered"))
            .unwrap();
        assert_eq!(doubled, i * 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_round_trips_over_tcp_each_get_their_answer() {
    let db = common::connect().await;
    round_trips(&db, 30_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_round_trips_over_a_unix_socket_each_get_their_answer() {
    let t = common::temporal();
    let Some(dir) = t.socket_dir() else {
        eprintln!("skipped: the server under test has no local socket directory");
        return;
    };
    let db = Connector::unix(common::connector().params().clone(), dir, t.port())
        .connect()
        .await
        .unwrap();
    assert_eq!(db.client_addr(), None, "over the unix socket");
    round_trips(&db, 10_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_larger_than_the_socket_takes_is_finished_by_the_task() {
    let db = common::connect().await;
    // Far beyond a loopback socket's send buffer: the caller's write takes part of it and
    // the task writes the rest.
    let big = "x".repeat(48 << 20);
    for round in 0..3 {
        let sent = format!("{round}{big}");
        // The length and the first character, which is the round's number.
        let answer: i64 = tokio::time::timeout(
            LIMIT,
            db.query_first(
                "SELECT length($1::text)::int8 * 10 + left($1::text, 1)::int8",
                (&sent,),
            ),
        )
        .await
        .expect("answered")
        .unwrap();
        assert_eq!(answer, sent.len() as i64 * 10 + round);
        // The connection is idle again: the next small request goes straight out.
        let one: i32 = db
            .prepare("SELECT 1")
            .await
            .unwrap()
            .first(())
            .await
            .unwrap();
        assert_eq!(one, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_and_sequential_requests_on_one_connection_keep_their_order() {
    let db = common::connect().await;
    let ps = db.prepare("SELECT $1::int4 + $2::int4").await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..8 {
        let ps = ps.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..2_000 {
                // Some requests find the connection idle and are written by the caller, the
                // others queue behind those in flight: each answer is still its own.
                let sum: i32 = ps.first((task * 1_000_000, i)).await.unwrap();
                assert_eq!(sum, task * 1_000_000 + i);
                if i % 100 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(LIMIT, task)
            .await
            .expect("every task ends")
            .unwrap();
    }
}
