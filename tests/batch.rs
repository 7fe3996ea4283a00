//! Batches (`Connection::batch`): statements sent together under one Sync. They run in one
//! server cycle, as one implicit transaction outside a block, inside the block otherwise;
//! the first failure stops them; a batch given up at any poll commits all of itself or none.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pg_driver::{Connection, TransactionStatus};

/// A table of the sandbox's schema: `(i int4 PRIMARY KEY, t text)`.
async fn table(db: &Connection, schema: &str, name: &str) -> String {
    let table = format!("{schema}.{name}");
    db.execute(&format!(
        "CREATE TABLE {table} (i int4 PRIMARY KEY, t text)"
    ))
    .await
    .unwrap();
    table
}

/// Rows in `table`, counted on a connection of its own.
async fn committed(table: &str) -> i64 {
    common::connect()
        .await
        .query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_come_in_order_each_decoded_by_its_statement() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "ordered").await;
    let insert = format!("INSERT INTO {table} VALUES ($1, $2) RETURNING i * 10, t");
    let update = format!("UPDATE {table} SET t = $2 WHERE i >= $1");
    let results = db
        .batch()
        .query("SELECT $1::int4 + 1 AS a, 'x'::text AS b", (41i32,))
        .query(&insert, (1i32, "one"))
        .query(&insert, (2i32, "two"))
        .query(&update, (2i32, "TWO"))
        .query("SELECT date '2024-02-29' + $1::int4", (1i32,))
        .run()
        .await
        .unwrap();
    assert_eq!(results.len(), 5);
    let first = &results[0];
    assert_eq!((first.command.as_str(), first.count), ("SELECT", Some(1)));
    assert_eq!(first.rows[0].get::<i32>(0), 42);
    assert_eq!(first.rows[0].get::<String>(1), "x");
    assert_eq!(results[1].command, "INSERT");
    assert_eq!(results[1].rows[0].get::<i32>(0), 10);
    assert_eq!(results[2].rows[0].get::<String>(1), "two");
    assert_eq!(
        (results[3].command.as_str(), results[3].count),
        ("UPDATE", Some(1))
    );
    assert!(results[3].rows.is_empty());
    assert_eq!(
        results[4].rows[0].get::<chrono::NaiveDate>(0),
        chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()
    );
    assert_eq!(committed(&table).await, 2);
    assert_eq!(
        db.query_first::<String, _>(&format!("SELECT t FROM {table} WHERE i = 2"), ())
            .await
            .unwrap(),
        "TWO"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_one_transaction_outside_a_block() {
    let db = common::connect().await;
    // Separate statements get a transaction each; a batch's share one.
    let results = db
        .batch()
        .query("SELECT txid_current()", ())
        .query("SELECT pg_sleep(0)", ())
        .query("SELECT txid_current()", ())
        .run()
        .await
        .unwrap();
    let first = results[0].rows[0].get::<i64>(0);
    assert_eq!(results[2].rows[0].get::<i64>(0), first);
    let later = db
        .query_first::<i64, _>("SELECT txid_current()", ())
        .await
        .unwrap();
    assert_ne!(later, first);
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_stops_the_batch_and_undoes_it_outside_a_block() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "atomic").await;
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");
    let error = db
        .batch()
        .query(&insert, (1i32, "a"))
        .query(&insert, (2i32, "b"))
        .query(&insert, (1i32, "again"))
        .query(&insert, (3i32, "never run"))
        .run()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "23505", "{error}");
    assert!(
        error.to_string().contains("again") || error.statement() == Some(insert.as_str()),
        "the error names the failing statement: {error}"
    );
    assert_eq!(committed(&table).await, 0, "nothing of the batch commits");
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    common::assert_in_sync(&db).await;

    // A division by zero in the middle: the same.
    let error = db
        .batch()
        .query(&insert, (1i32, "a"))
        .query("SELECT 1 / $1::int4", (0i32,))
        .run()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "22012", "{error}");
    assert_eq!(error.statement(), Some("SELECT 1 / $1::int4"));
    assert_eq!(committed(&table).await, 0);
    common::assert_in_sync(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_a_block_the_batch_is_the_blocks() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "blocked").await;
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");

    // Run in the block, undone with it.
    let x = db.xact();
    x.start().await.unwrap();
    let results = db
        .batch()
        .query(&insert, (1i32, "a"))
        .query(&insert, (2i32, "b"))
        .run()
        .await
        .unwrap();
    assert_eq!(results[1].count, Some(1));
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    assert_eq!(
        committed(&table).await,
        0,
        "not committed while the block is open"
    );
    x.rollback().await.unwrap();
    assert_eq!(committed(&table).await, 0);

    // A failure fails the block.
    let x = db.xact();
    x.start().await.unwrap();
    let error = db
        .batch()
        .query(&insert, (1i32, "a"))
        .query(&insert, (1i32, "a"))
        .run()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "23505");
    assert_eq!(db.transaction_status(), TransactionStatus::Failed);
    x.rollback().await.unwrap();

    // Committed with the block.
    let x = db.xact();
    x.start().await.unwrap();
    db.batch()
        .query(&insert, (1i32, "a"))
        .query(&insert, (2i32, "b"))
        .run()
        .await
        .unwrap();
    x.commit().await.unwrap();
    assert_eq!(committed(&table).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocommit_off_opens_the_lazy_block_with_the_batch() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "lazy").await;
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");
    db.set_autocommit(false).unwrap();
    db.batch()
        .query(&insert, (1i32, "a"))
        .query("SELECT txid_current_if_assigned()", ())
        .run()
        .await
        .unwrap();
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    assert_eq!(committed(&table).await, 0);
    db.rollback().await.unwrap();
    db.set_autocommit(true).unwrap();
    assert_eq!(committed(&table).await, 0);
    common::assert_in_sync(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameter_that_cannot_be_encoded_sends_nothing() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "unsent").await;
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");
    let error = db
        .batch()
        .query(&insert, (1i32, "a"))
        .query(&insert, ("not a number", "b"))
        .run()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("parameter"), "{error}");
    assert_eq!(error.statement(), Some(insert.as_str()));
    assert_eq!(committed(&table).await, 0);
    // A wrong parameter count too.
    let error = db.batch().query(&insert, (1i32,)).run().await.unwrap_err();
    assert!(error.to_string().contains('2'), "{error}");
    common::assert_in_sync(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_batches_and_empty_statements() {
    let db = common::connect().await;
    assert!(db.batch().run().await.unwrap().is_empty());
    let results = db
        .batch()
        .query("", ())
        .query("SELECT 7", ())
        .run()
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].command, "");
    assert_eq!(results[1].rows[0].get::<i32>(0), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_statement_is_prepared_again_outside_a_block() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "stale").await;
    let select = format!("SELECT * FROM {table}");
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");
    db.batch().query(&select, ()).run().await.unwrap();
    // The table's row type changes under the cached statement.
    db.execute(&format!("ALTER TABLE {table} ADD COLUMN u int4 DEFAULT 5"))
        .await
        .unwrap();
    let results = db
        .batch()
        .query(&insert, (1i32, "a"))
        .query(&select, ())
        .run()
        .await
        .unwrap();
    assert_eq!(results[1].rows[0].get::<i32>(2), 5);
    assert_eq!(committed(&table).await, 1, "run once, not twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_stdin_in_a_batch_is_refused() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "copied").await;
    let error = db
        .batch()
        .query(&format!("INSERT INTO {table} VALUES (1, 'a')"), ())
        .query(&format!("COPY {table} FROM STDIN"), ())
        .run()
        .await
        .unwrap_err();
    assert!(!error.code().is_empty(), "{error}");
    assert_eq!(committed(&table).await, 0);
    common::assert_in_sync(&db).await;
}

/// Polls `future` `polls` times (or until it finishes), then drops it; whether it finished.
async fn poll_then_drop<F: Future>(future: F, polls: usize) -> bool {
    let mut future: Pin<Box<F>> = Box::pin(future);
    for _ in 0..polls {
        let finished = std::future::poll_fn(|cx: &mut Context<'_>| {
            Poll::Ready(future.as_mut().poll(cx).is_ready())
        })
        .await;
        if finished {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_given_up_at_any_poll_commits_all_of_itself_or_none() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "dropped").await;
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");
    // Cached before the drops: the batches are then one request each.
    db.batch()
        .query(&insert, (-1i32, "warm"))
        .query(&format!("DELETE FROM {table} WHERE i = $1"), (-1i32,))
        .run()
        .await
        .unwrap();
    let (mut finished, mut given_up) = (0, 0);
    for round in 0..120i32 {
        let polls = 1 + (round as usize * 7) % 5;
        let batch = db
            .batch()
            .query(&insert, (2 * round, "first"))
            .query(
                "SELECT pg_sleep($1::float8)",
                ((round % 3) as f64 / 1000.0,),
            )
            .query(&insert, (2 * round + 1, "second"))
            .run();
        match poll_then_drop(batch, polls).await {
            true => finished += 1,
            false => given_up += 1,
        }
        if round % 10 == 0 {
            common::assert_in_sync(&db).await;
        }
    }
    common::assert_in_sync(&db).await;
    assert!(
        given_up > 20,
        "{given_up} batches given up, {finished} finished"
    );
    // Pairs only: a batch commits both of its rows or neither.
    let halves = db
        .query_first::<i64, _>(
            &format!(
                "SELECT count(*) FROM (SELECT i / 2 FROM {table} GROUP BY i / 2 \
                 HAVING count(*) <> 2) unpaired"
            ),
            (),
        )
        .await
        .unwrap();
    assert_eq!(halves, 0, "no batch committed half of itself");
    assert!(committed(&table).await >= 2 * finished as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_past_its_timeout_is_cancelled_on_the_server_and_commits_nothing() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = table(&db, sandbox.schema(), "timed").await;
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");
    db.set_query_timeout(Some(std::time::Duration::from_millis(200)));
    let started = std::time::Instant::now();
    let error = db
        .batch()
        .query(&insert, (1i32, "before"))
        .query("SELECT pg_sleep(30)", ())
        .query(&insert, (2i32, "after"))
        .run()
        .await
        .unwrap_err();
    assert!(error.is_a(&pg_exceptions::QueryTimeoutError), "{error:#}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    db.set_query_timeout(None);
    // The server stops the sleep (uncancelled, it would run for 30 s), and nothing of the
    // batch commits.
    let pid = db.backend_id().expect("a backend");
    let other = common::connect().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let sleeping = other
            .query_first::<i64, _>(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
                (pid,),
            )
            .await
            .unwrap();
        if sleeping == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the batch still runs on the server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    common::assert_in_sync(&db).await;
    assert_eq!(committed(&table).await, 0);
}
