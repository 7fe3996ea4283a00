//! `xact().retry(n)`: a transaction run again after a serialization failure or a deadlock,
//! against a real server.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use pg_driver::Connection;
use pg_exceptions::Error;

/// Two doctors on call; each transaction takes its doctor off call when at least two are on
/// call. Run side by side at SERIALIZABLE, both read before either writes (write skew), so
/// the server fails one of them with 40001.
async fn take_off_call(
    db: Connection,
    table: String,
    name: &'static str,
    attempts: u32,
    tries: Arc<AtomicU32>,
    both_read: Arc<tokio::sync::Barrier>,
) -> Result<(), Error> {
    db.xact()
        .isolation("SERIALIZABLE")
        .retry(attempts)
        .backoff(Duration::from_millis(5), Duration::from_millis(50))
        .run(|x| {
            let (table, tries, both_read) = (table.clone(), tries.clone(), both_read.clone());
            async move {
                let attempt = tries.fetch_add(1, Ordering::SeqCst) + 1;
                let on_call: i64 = x
                    .query_first(&format!("SELECT count(*) FROM {table} WHERE on_call"), ())
                    .await?;
                if attempt == 1 {
                    both_read.wait().await;
                }
                if on_call >= 2 {
                    x.query(
                        &format!("UPDATE {table} SET on_call = false WHERE name = $1"),
                        (name,),
                    )
                    .await?;
                }
                Ok(())
            }
        })
        .await
}

async fn doctors(attempts: u32) -> (Vec<Result<(), Error>>, [u32; 2], i64) {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = format!("{}.doctors", sandbox.schema());
    db.execute(&format!(
        "CREATE TABLE {table} (name text PRIMARY KEY, on_call bool);
         INSERT INTO {table} VALUES ('alice', true), ('bob', true)"
    ))
    .await
    .unwrap();
    let other = sandbox.connect().await.unwrap();
    let both_read = Arc::new(tokio::sync::Barrier::new(2));
    let tries = [Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0))];
    let (a, b) = tokio::join!(
        take_off_call(
            db.clone(),
            table.clone(),
            "alice",
            attempts,
            tries[0].clone(),
            both_read.clone()
        ),
        take_off_call(
            other,
            table.clone(),
            "bob",
            attempts,
            tries[1].clone(),
            both_read
        ),
    );
    let on_call: i64 = db
        .query_first(&format!("SELECT count(*) FROM {table} WHERE on_call"), ())
        .await
        .unwrap();
    let tries = [
        tries[0].load(Ordering::SeqCst),
        tries[1].load(Ordering::SeqCst),
    ];
    (vec![a, b], tries, on_call)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_serializable_transactions_are_run_again() {
    let (outcomes, tries, on_call) = doctors(5).await;
    for outcome in &outcomes {
        outcome.as_ref().unwrap();
    }
    // One side lost the race once (at least) and ran again; the invariant held.
    assert!(tries.iter().sum::<u32>() >= 3, "{tries:?}");
    assert!(tries.iter().any(|&t| t >= 2), "{tries:?}");
    assert_eq!(on_call, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_retries_the_serialization_failure_is_returned() {
    let (outcomes, tries, on_call) = doctors(1).await;
    assert_eq!(tries, [1, 1]);
    let failed: Vec<&Error> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(failed.len(), 1, "{outcomes:?}");
    assert_eq!(failed[0].code(), "40001", "{:#}", failed[0]);
    assert_eq!(on_call, 1);
}

/// A try that always fails with a retryable error is made `n` times, with growing waits
/// between, and its last error is returned; other errors end it at once, as do retryable
/// ones inside a savepoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_error_is_returned_after_n_tries() {
    let db = common::connect().await;
    for (code, attempts, expected) in [
        ("serialization_failure", 4, 4),
        ("deadlock_detected", 3, 3),
        ("unique_violation", 4, 1),
    ] {
        let tries = Arc::new(AtomicU32::new(0));
        let started = Instant::now();
        let error = db
            .xact()
            .retry(attempts)
            .backoff(Duration::from_millis(20), Duration::from_millis(40))
            .run(|x| {
                let tries = tries.clone();
                async move {
                    tries.fetch_add(1, Ordering::SeqCst);
                    x.execute(&format!(
                        "DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '{code}'; END $$"
                    ))
                    .await
                }
            })
            .await
            .unwrap_err();
        assert_eq!(tries.load(Ordering::SeqCst), expected, "{code}");
        assert!(error.message().contains("lost"), "{error:#}");
        // Waits of 10-20 ms, then 20-40 ms, ...: at least half of each.
        let least = Duration::from_millis(10 * u64::from(expected.min(2) - 1))
            + Duration::from_millis(20 * u64::from(expected.saturating_sub(2)));
        assert!(
            started.elapsed() >= least,
            "{code}: {:?}",
            started.elapsed()
        );
        assert_eq!(db.transaction_status(), pg_driver::TransactionStatus::Idle);
    }
    // In a block the transaction is a savepoint: only the outer one could be run again.
    let outer = db.xact();
    outer.start().await.unwrap();
    let tries = Arc::new(AtomicU32::new(0));
    let error = outer
        .xact()
        .retry(5)
        .run(|x| {
            let tries = tries.clone();
            async move {
                tries.fetch_add(1, Ordering::SeqCst);
                x.execute(
                    "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure'; END $$",
                )
                .await
            }
        })
        .await
        .unwrap_err();
    assert_eq!((tries.load(Ordering::SeqCst), error.code()), (1, "40001"));
    outer.rollback().await.unwrap();
}

#[test]
fn the_blocking_facade_runs_again_too() {
    let db = pg_driver::blocking::open(common::temporal().iri()).unwrap();
    let mut tries = 0;
    let error = db
        .xact()
        .retry(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .run(|x| {
            tries += 1;
            x.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure'; END $$")
        })
        .unwrap_err();
    assert_eq!((tries, error.code()), (3, "40001"));
    let mut tries = 0;
    let value = db
        .xact()
        .retry(3)
        .run(|x| {
            tries += 1;
            if tries < 2 {
                x.execute(
                    "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'deadlock_detected'; END $$",
                )?;
            }
            x.query_first::<i32, _>("SELECT 9", ())
        })
        .unwrap();
    assert_eq!((tries, value), (2, 9));
}
