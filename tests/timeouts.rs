//! Timeouts that cancel: a statement given up (by a timeout, or its future dropped) is
//! cancelled on the server when that cannot touch another request's work, and the
//! connection goes on at once, in sync.

mod common;

use std::time::{Duration, Instant};

use pg_driver::WithTimeout;

/// A `pg_sleep(3)` given up after 200 ms must not hold the next query for seconds: the
/// server is told to stop it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_sleep_does_not_delay_the_next_query() {
    let db = common::connect().await;
    let given_up = tokio::time::timeout(
        Duration::from_millis(200),
        db.query("SELECT pg_sleep(3)", ()),
    )
    .await;
    assert!(given_up.is_err(), "the sleep finished within 200 ms");
    let started = Instant::now();
    let echo = db
        .query_first::<i32, _>("SELECT $1::int4", (7,))
        .await
        .unwrap();
    assert_eq!(echo, 7);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the next query waited {:?} for the abandoned one",
        started.elapsed()
    );
}

/// The per-call form: a QueryTimeoutError, a kind of QueryCanceledError, in about the time
/// asked; the server stopped the statement (what came after its sleep never ran), and the
/// connection answers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_timeout_fails_the_call_and_cancels_it_on_the_server() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = format!("{}.after_sleep", sandbox.schema());
    db.execute(&format!("CREATE TABLE {table} (i int)"))
        .await
        .unwrap();
    let started = Instant::now();
    let error = db
        .execute(&format!(
            "SELECT pg_sleep(2); INSERT INTO {table} VALUES (1)"
        ))
        .with_timeout(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(error.is_a(&pg_exceptions::QueryTimeoutError), "{error:#}");
    assert!(error.is_a(&pg_exceptions::QueryCanceledError), "{error:#}");
    assert_eq!(error.code(), "57-TO");
    let started = Instant::now();
    assert_eq!(common::scalar(&db, "SELECT 1").await.as_deref(), Some("1"));
    assert!(started.elapsed() < Duration::from_secs(1));
    // Past the sleep's end: had the server gone on, the row would be there.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let rows = db
        .query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap();
    assert_eq!(rows, 0, "the statement ran on after its timeout");
    // A call that finishes in time is untouched.
    let echo = db
        .query_first::<i32, _>("SELECT $1::int4", (5,))
        .with_timeout(Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(echo, 5);
}

/// The per-connection form, from the connection parameters or set on the connection, for
/// statements and simple queries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_timeout_gives_up_each_statement() {
    let connector = pg_driver::Connector::new(
        pg_driver::params::Keywords::parse(common::temporal().iri())
            .unwrap()
            .query_timeout(Duration::from_millis(150))
            .build()
            .unwrap(),
    );
    let db = connector.connect().await.unwrap();
    assert_eq!(db.query_timeout(), Some(Duration::from_millis(150)));
    for round in 0..3 {
        let started = Instant::now();
        let error = match round {
            0 => db.query("SELECT pg_sleep(3)", ()).await.unwrap_err(),
            1 => db.execute("SELECT pg_sleep(3)").await.unwrap_err(),
            _ => {
                let sleep = db.prepare("SELECT 1 FROM pg_sleep($1)").await.unwrap();
                sleep.first::<i32, _>((3.0f64,)).await.unwrap_err()
            }
        };
        assert!(error.is_a(&pg_exceptions::QueryTimeoutError), "{error:#}");
        assert!(started.elapsed() < Duration::from_secs(1), "{round}");
        let started = Instant::now();
        assert_eq!(db.query_first::<i32, _>("SELECT 3", ()).await.unwrap(), 3);
        assert!(started.elapsed() < Duration::from_secs(1), "{round}");
    }
    db.set_query_timeout(None);
    db.execute("SELECT pg_sleep(0.3)").await.unwrap();
}

/// The blocking facade's runtime runs only during calls: the cancel still goes out before
/// the timed-out call returns, not with the connection's next use.
#[test]
fn the_blocking_timeout_cancels_before_the_call_returns() {
    let db = pg_driver::blocking::open(common::temporal().iri()).unwrap();
    let table = format!("blocking_after_sleep_{}", std::process::id());
    db.execute(&format!("CREATE TABLE {table} (i int)"))
        .unwrap();
    db.set_query_timeout(Some(Duration::from_millis(150)));
    let error = db
        .execute(&format!(
            "SELECT pg_sleep(1); INSERT INTO {table} VALUES (1)"
        ))
        .unwrap_err();
    assert!(error.is_a(&pg_exceptions::QueryTimeoutError), "{error:#}");
    // The connection is left alone past the sleep's end; another one looks.
    std::thread::sleep(Duration::from_millis(1300));
    let other = pg_driver::blocking::open(common::temporal().iri()).unwrap();
    let rows = other
        .query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .unwrap();
    other.execute(&format!("DROP TABLE {table}")).unwrap();
    assert_eq!(rows, 0, "the statement ran on after its timeout");
}

#[test]
fn the_blocking_connection_has_a_timeout_too() {
    let db = pg_driver::blocking::open(common::temporal().iri()).unwrap();
    db.set_query_timeout(Some(Duration::from_millis(150)));
    let started = Instant::now();
    let error = db.execute("SELECT pg_sleep(3)").unwrap_err();
    assert!(error.is_a(&pg_exceptions::QueryTimeoutError), "{error:#}");
    db.set_query_timeout(None);
    assert_eq!(db.query_first::<i32, _>("SELECT 4", ()).unwrap(), 4);
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// A request given up while one ahead of it runs is not cancelled then (the cancel would land
/// on the one ahead): the one ahead finishes with its own answer, and the given-up one is
/// cancelled once it runs alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_never_cancels_the_request_ahead() {
    let db = common::connect().await;
    let ahead = db.query_first::<i32, _>("SELECT 11 FROM pg_sleep(0.5)", ());
    let behind = async {
        // Queued once the one ahead is on its way.
        tokio::time::sleep(Duration::from_millis(50)).await;
        db.query("SELECT pg_sleep(3)", ())
            .with_timeout(Duration::from_millis(100))
            .await
    };
    let started = Instant::now();
    let (ahead, behind) = tokio::join!(ahead, behind);
    assert_eq!(ahead.unwrap(), 11);
    assert!(behind.unwrap_err().is_a(&pg_exceptions::QueryTimeoutError));
    assert_eq!(db.query_first::<i32, _>("SELECT 12", ()).await.unwrap(), 12);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

/// Several tasks share one connection, pipelining; some drop their statements at random
/// moments while `pg_sleep`s run (before they are written, while they run, as they end).
/// Every statement not dropped gets its own answer, never a QueryCanceledError; the dropped
/// ones that could be cancelled were (their rows are missing); and the connection is in sync
/// at the end. `PG_TIMEOUT_RACE_ROUNDS` sets the rounds per task (600 by default).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropped_statements_on_a_shared_connection_cancel_nothing_else() {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let rounds: u64 = std::env::var("PG_TIMEOUT_RACE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(600);
    let seed: u64 = rand::rng().random();
    println!("seed {seed}");
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = format!("{}.victims", sandbox.schema());
    db.execute(&format!("CREATE TABLE {table} (task int, round int)"))
        .await
        .unwrap();
    let victims = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for task in 0..4i32 {
        let (db, table) = (db.clone(), table.clone());
        let (victims, dropped) = (victims.clone(), dropped.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed + task as u64);
            let insert = format!("INSERT INTO {table} SELECT $1, $2 FROM pg_sleep(0.02)");
            for round in 0..rounds as i32 {
                let value = task * 1_000_000 + round;
                match rng.random_range(0..3) {
                    0 => {
                        victims.fetch_add(1, Ordering::Relaxed);
                        // Given up anywhere from its first poll to just past its end.
                        let patience = Duration::from_micros(rng.random_range(0..25_000));
                        tokio::select! {
                            biased;
                            done = db.query(&insert, (task, round)) => {
                                done.unwrap_or_else(|e| {
                                    panic!("a statement not dropped failed: {e:#}")
                                });
                            }
                            () = tokio::time::sleep(patience) => {
                                dropped.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    1 => {
                        let echo = db
                            .query_first::<i32, _>("SELECT $1::int4 FROM pg_sleep(0.002)", (value,))
                            .await
                            .unwrap_or_else(|e| panic!("a statement not dropped failed: {e:#}"));
                        assert_eq!(echo, value);
                    }
                    _ => {
                        let echo = db
                            .query_first::<i32, _>("SELECT $1::int4", (value,))
                            .await
                            .unwrap_or_else(|e| panic!("a statement not dropped failed: {e:#}"));
                        assert_eq!(echo, value);
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Each answer is its own: the connection is in sync.
    for i in 0..3 {
        assert_eq!(
            db.query_first::<i32, _>("SELECT $1::int4", (i,))
                .await
                .unwrap(),
            i
        );
    }
    let rows = db
        .query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap() as u64;
    let (victims, dropped) = (
        victims.load(Ordering::Relaxed),
        dropped.load(Ordering::Relaxed),
    );
    println!(
        "{victims} victims, {dropped} dropped, {} cancelled",
        victims - rows
    );
    assert!(rows <= victims);
    assert!(
        victims - rows > 0,
        "no dropped statement was cancelled ({dropped} dropped)"
    );
}
