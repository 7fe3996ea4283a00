//! Futures dropped in the middle of a request (a timeout, `select!`, an aborted task): nothing
//! of the abandoned request commits, the connection stays in sync, and no server object or
//! setting it made is left behind. Each test drops its future at a point the request's bytes
//! are already on the wire, then checks the server's own view.

mod common;

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use pg_driver::Connection;

/// Rows the server holds in `table`, counted on a connection of its own.
async fn committed(table: &str) -> i64 {
    let other = common::connect().await;
    other
        .query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap()
}

async fn load_dropped_mid_stream(batched: bool) {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = format!("{}.loaded", sandbox.schema());
    db.execute(&format!("CREATE TABLE {table} (i int, t text)"))
        .await
        .unwrap();
    // A CHECK constraint would not stop batching; a trigger would. The text keeps each row's
    // Bind large enough that the body is well under way after a few polls.
    if !batched {
        db.execute(&format!(
            "CREATE FUNCTION {s}.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
             CREATE TRIGGER noop BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {s}.noop()",
            s = sandbox.schema()
        ))
        .await
        .unwrap();
    }
    let insert = db
        .prepare(&format!("INSERT INTO {table} VALUES ($1, $2)"))
        .await
        .unwrap();
    let produced = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = produced.clone();
    let rows = (0..5_000_000i32).map(move |i| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (i, "x".repeat(40))
    });
    let dropped = common::drop_when(insert.load_rows(rows), || {
        produced.load(std::sync::atomic::Ordering::Relaxed) > 200_000
    })
    .await;
    assert!(dropped, "the load finished before it could be dropped");
    common::assert_in_sync(&db).await;
    assert_eq!(
        committed(&table).await,
        0,
        "nothing of the abandoned load commits"
    );
    // The statement still works, and a whole load commits.
    assert_eq!(
        insert.load_rows((0..100).map(|i| (i, "y"))).await.unwrap(),
        100
    );
    assert_eq!(committed(&table).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_batched_load_commits_nothing() {
    load_dropped_mid_stream(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_row_by_row_load_commits_nothing() {
    load_dropped_mid_stream(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_copy_in_sends_copy_fail() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = format!("{}.copied", sandbox.schema());
    db.execute(&format!("CREATE TABLE {table} (i int)"))
        .await
        .unwrap();
    let copy = db
        .prepare(&format!("COPY {table} FROM STDIN"))
        .await
        .unwrap();
    let produced = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = produced.clone();
    let lines = (0..5_000_000).map(move |i| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{i}\n")
    });
    let dropped = common::drop_when(copy.copy_in_rows(lines), || {
        produced.load(std::sync::atomic::Ordering::Relaxed) > 200_000
    })
    .await;
    assert!(dropped, "the COPY finished before it could be dropped");
    common::assert_in_sync(&db).await;
    assert_eq!(committed(&table).await, 0);

    // Dropped while it waits for the server to enter copy-in mode: nothing was sent but the
    // COPY itself, and still nothing is left half-done. Another session holds the table's lock,
    // so the server cannot answer before the drop (unheld, it may answer within the first
    // poll, which then sends the whole body: a request wholly sent is the server's to run).
    let copy = db
        .prepare(&format!("COPY {table} FROM STDIN"))
        .await
        .unwrap();
    let locker = common::connect().await;
    locker
        .execute(&format!(
            "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
        ))
        .await
        .unwrap();
    let mut future = Box::pin(copy.copy_in_rows(["1\n", "2\n"]));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let finished = std::future::poll_fn(|cx: &mut Context<'_>| {
            Poll::Ready(future.as_mut().poll(cx).is_ready())
        })
        .await;
        assert!(!finished, "the COPY finished while its table was locked");
        let waiting = locker
            .query_first::<i64, _>(
                &format!(
                    "SELECT count(*) FROM pg_locks \
                     WHERE NOT granted AND relation = '{table}'::regclass"
                ),
                (),
            )
            .await
            .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the COPY never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(future);
    locker.execute("COMMIT").await.unwrap();
    common::assert_in_sync(&db).await;
    assert_eq!(committed(&table).await, 0);
    assert_eq!(copy.copy_in_rows(["1\n", "2\n"]).await.unwrap(), 2);
    assert_eq!(committed(&table).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocommit_off_opens_the_block_for_a_row_by_row_load() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let table = format!("{}.lazy", sandbox.schema());
    db.execute(&format!("CREATE TABLE {table} (i int)"))
        .await
        .unwrap();
    let insert = db
        .prepare(&format!("INSERT INTO {table} VALUES ($1)"))
        .await
        .unwrap();
    db.set_autocommit(false).unwrap();
    // Too few rows to batch: the first request of the load is a bare Bind.
    assert_eq!(insert.load_rows((0..5).map(|i| (i,))).await.unwrap(), 5);
    db.rollback().await.unwrap();
    assert_eq!(committed(&table).await, 0, "rollback undid the load");
    // And COPY, whose first bytes are a Bind as well.
    let copy = db
        .prepare(&format!("COPY {table} FROM STDIN"))
        .await
        .unwrap();
    db.rollback().await.unwrap();
    assert_eq!(copy.copy_in_rows(["1\n"]).await.unwrap(), 1);
    db.rollback().await.unwrap();
    assert_eq!(committed(&table).await, 0, "rollback undid the COPY");
    db.set_autocommit(true).unwrap();
}

/// How many prepared statements and cursors the session holds.
async fn server_objects(db: &Connection) -> (i64, i64) {
    let statements = db
        .query_first::<i64, _>("SELECT count(*) FROM pg_prepared_statements", ())
        .await
        .unwrap();
    let cursors = db
        .query_first::<i64, _>("SELECT count(*) FROM pg_cursors", ())
        .await
        .unwrap();
    (statements, cursors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_creations_leave_no_server_object() {
    let db = common::connect().await;
    let before = server_objects(&db).await;
    let mut dropped = 0;
    for _ in 0..20 {
        // Dropped after the first poll, which writes the request.
        dropped += common::drop_after(db.prepare("SELECT pg_sleep(0), 1"), 1).await as usize;
        dropped += common::drop_after(db.query("SELECT 2", ()), 1).await as usize;
        dropped += common::drop_after(db.query("SELECT 3", ()), 2).await as usize;
    }
    let ps = db
        .prepare("SELECT i FROM generate_series(1, 10) i")
        .await
        .unwrap();
    for _ in 0..20 {
        dropped += common::drop_after(ps.declare(()), 1).await as usize;
    }
    drop(ps);
    common::assert_in_sync(&db).await;
    assert!(
        dropped > 40,
        "most creations were dropped unfinished: {dropped}"
    );
    assert_eq!(
        server_objects(&db).await,
        before,
        "no statement or cursor left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_settings_scope_leaves_no_setting() {
    let db = common::connect().await;
    let settings = db.settings();
    let before = settings.get("work_mem").await.unwrap();
    for _ in 0..10 {
        common::drop_after(settings.scope([("work_mem", "7777kB")]), 1).await;
        // Once more, dropped later: after the set went out.
        common::drop_after(settings.scope([("work_mem", "7777kB")]), 2).await;
    }
    common::assert_in_sync(&db).await;
    assert_eq!(settings.get("work_mem").await.unwrap(), before);
}
