//! Long answers (`pg_driver::wire::gather`): once an answer has brought a few MiB, the
//! connection task lets the kernel gather 64 KiB before waking it, and reads what has come at
//! least every millisecond. The answer still arrives whole and in order, and once it ends the
//! answers after it are read as soon as they come, whether the connection went idle or had
//! more requests in flight.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt;
use pg_driver::Connection;

/// About 12 MiB of rows: well past the bytes after which the task gathers.
const LONG: &str = "SELECT i, repeat('x', 100) FROM generate_series(1, 100000) AS i";
const LONG_ROWS: i64 = 100_000;

/// Streams the long answer and checks every row came, in order.
async fn stream_long(db: &Connection) {
    let statement = db.prepare(LONG).await.unwrap();
    let mut chunks = statement.chunks(()).unwrap();
    let (mut next, mut bytes) = (1i32, 0usize);
    while let Some(chunk) = chunks.next().await {
        for row in chunk.unwrap() {
            assert_eq!(row.get::<i32>(0), next);
            bytes += row.get::<&str>(1).len();
            next += 1;
        }
    }
    assert_eq!(i64::from(next - 1), LONG_ROWS);
    assert_eq!(bytes, 100 * LONG_ROWS as usize);
}

/// How long `count` round trips take, `lanes` of them in flight at a time.
async fn round_trips(db: &Connection, count: i32, lanes: i32) -> Duration {
    let started = Instant::now();
    let lane = |lane: i32| async move {
        for i in 0..count / lanes {
            let n = lane * 1_000_000 + i;
            let got: i32 = db.query_first("SELECT $1::int4", (n,)).await.unwrap();
            assert_eq!(got, n);
        }
    };
    futures::future::join_all((0..lanes).map(lane)).await;
    started.elapsed()
}

/// The quickest of three runs of [`round_trips`]: a mark left raised slows all three, a busy
/// machine seldom does.
async fn quickest_round_trips(db: &Connection, count: i32, lanes: i32) -> Duration {
    let mut quickest = Duration::MAX;
    for _ in 0..3 {
        quickest = quickest.min(round_trips(db, count, lanes).await);
    }
    quickest
}

/// Runs `work` between two timings of 200 round trips, `lanes` in flight, and checks that
/// they take about as long after it as before: a mark left raised would hold each answer back
/// until the next tick (a millisecond), 200 ms or more for these.
async fn as_quick_after<F: Future>(db: &Connection, lanes: i32, what: &str, work: F) -> F::Output {
    round_trips(db, 200, lanes).await;
    let before = quickest_round_trips(db, 200, lanes).await;
    let output = work.await;
    let after = quickest_round_trips(db, 200, lanes).await;
    assert!(
        after < before * 3 + Duration::from_millis(60),
        "{lanes} in flight: 200 round trips took {after:?} after {what}, {before:?} before"
    );
    output
}

async fn nothing_held_back_after_a_long_answer(db: &Connection) {
    for lanes in [1, 4] {
        as_quick_after(db, lanes, "a long answer", stream_long(db)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_long_answer_arrives_whole_and_holds_nothing_back_on_one_thread() {
    let db = common::connect().await;
    nothing_held_back_after_a_long_answer(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_answer_arrives_whole_and_holds_nothing_back() {
    let db = common::connect().await;
    nothing_held_back_after_a_long_answer(&db).await;
}

/// A request queued behind a long answer is answered as soon as its answer comes, and a long
/// answer given up half-way leaves the connection as quick as before.
#[tokio::test(flavor = "current_thread")]
async fn requests_behind_a_long_answer_and_a_long_answer_given_up() {
    let db = common::connect().await;
    let (_, behind) = tokio::join!(stream_long(&db), async {
        db.query_first::<i32, _>("SELECT 42", ()).await.unwrap()
    });
    assert_eq!(behind, 42);

    let statement = db.prepare(LONG).await.unwrap();
    let given_up = async {
        let mut chunks = statement.chunks(()).unwrap();
        let mut rows = 0;
        while rows < 60_000 {
            rows += chunks.next().await.unwrap().unwrap().len();
        }
    };
    as_quick_after(&db, 4, "a long answer given up", given_up).await;
}

/// A long answer its own handle reads (`query` collects it, so it is not streamed, and the
/// idle task lends its reading end) arrives whole, and the connection it gives back is as
/// quick as before, with one request in flight or several.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_answer_read_by_its_handle_holds_nothing_back() {
    let db = common::connect().await;
    for lanes in [1, 4] {
        let results = as_quick_after(&db, lanes, "a long answer", db.query(LONG, ())).await;
        let results = results.unwrap();
        assert_eq!(results.rows.len() as i64, LONG_ROWS);
        for (i, row) in results.rows.iter().enumerate() {
            assert_eq!(row.get::<i32>(0) as usize, i + 1);
            assert_eq!(row.get::<&str>(1).len(), 100);
        }
    }
}

/// Long answers given up at chosen polls, 5 ms apart, before the mark rises and after (it
/// rises by the last of them on both paths): read by the task (a stream of chunks) or by the
/// handle itself (`query`). Each time the connection stays in sync, and it is as quick as
/// before at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_answers_dropped_at_any_poll_leave_the_connection_in_sync_and_quick() {
    let db = common::connect().await;
    // About 120 MiB: long enough to be given up at each of these polls.
    let longer = "SELECT i, repeat('x', 100) FROM generate_series(1, 1000000) AS i";
    let statement = db.prepare(longer).await.unwrap();
    let given_up = async {
        let mut dropped = 0;
        for polls in [1, 2, 3, 5, 8, 13] {
            let streamed = async {
                let mut chunks = statement.chunks(()).unwrap();
                while let Some(chunk) = chunks.next().await {
                    chunk.unwrap();
                }
            };
            dropped += usize::from(common::drop_after(streamed, polls).await);
            common::assert_in_sync(&db).await;
            dropped += usize::from(common::drop_after(db.query(longer, ()), polls).await);
            common::assert_in_sync(&db).await;
        }
        dropped
    };
    let dropped = as_quick_after(&db, 4, "long answers given up", given_up).await;
    assert!(dropped >= 8, "only {dropped} of 12 were dropped unfinished");
}
