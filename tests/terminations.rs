//! A backend terminated in the middle of COPY (both ways) and of a transaction: a typed error
//! within a bounded time, and nothing of the unfinished work left behind.

mod common;

use std::time::Duration;

use futures::StreamExt;

const BOUND: Duration = Duration::from_secs(5);

/// The rows of `table`, counted on a fresh connection.
async fn rows_in(sandbox: &pg_cluster::Sandbox<'_>, table: &str) -> i64 {
    let check = sandbox.connect().await.unwrap();
    check
        .query_first(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap()
}

async fn terminate(victim: &pg_driver::Connection) {
    let killer = common::connect().await;
    let pid = victim.backend_id().unwrap();
    killer
        .execute(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
}

#[tokio::test]
async fn terminated_mid_copy_out() {
    let db = common::connect().await;
    let out = db
        .prepare("COPY (SELECT i, repeat('y', 100) FROM generate_series(1, 10000000) i) TO STDOUT")
        .await
        .unwrap();
    let mut pieces = out.copy_rows(()).unwrap();
    pieces.next().await.unwrap().unwrap();
    terminate(&db).await;
    let error = tokio::time::timeout(BOUND, async {
        loop {
            match pieces.next().await {
                Some(Ok(_)) => continue,
                Some(Err(error)) => break error,
                None => panic!("the COPY looked complete"),
            }
        }
    })
    .await
    .expect("no hang");
    assert!(error.is_disconnection(), "{error}");
    assert!(db.closed());
}

#[tokio::test]
async fn terminated_mid_copy_in() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE loading (i int)").await.unwrap();
    let copy = db.prepare("COPY loading FROM STDIN").await.unwrap();
    // A source that never ends on its own: a line every millisecond.
    let source = futures::stream::unfold(0u64, |i| async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Some((Ok::<_, String>(format!("{i}\n")), i + 1))
    });
    let loading = tokio::spawn(async move { copy.copy_in((), source).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    terminate(&db).await;
    let error = tokio::time::timeout(BOUND, loading)
        .await
        .expect("no hang")
        .unwrap()
        .unwrap_err();
    assert!(error.is_disconnection(), "{error}");
    assert_eq!(
        rows_in(&sandbox, "loading").await,
        0,
        "an unfinished COPY leaves nothing"
    );
}

#[tokio::test]
async fn terminated_mid_transaction() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE work (i int)").await.unwrap();
    let x = db.xact();
    x.start().await.unwrap();
    let insert = db.prepare("INSERT INTO work VALUES ($1)").await.unwrap();
    insert.load_rows((0..1000).map(|i| (i,))).await.unwrap();
    terminate(&db).await;
    let error = tokio::time::timeout(BOUND, x.commit())
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(
        error.is_disconnection() || error.is_a(&pg_exceptions::ConnectionDoesNotExistError),
        "{error}"
    );
    assert_eq!(
        rows_in(&sandbox, "work").await,
        0,
        "work not reported committed is not there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_mid_batched_load() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE loading (i int, s text)")
        .await
        .unwrap();
    // A plain INSERT, so load_rows runs it in multi-row batches; rows come slowly enough
    // (a millisecond per hundred) that the load is under way when its backend goes.
    let insert = db
        .prepare("INSERT INTO loading (i, s) VALUES ($1, $2)")
        .await
        .unwrap();
    let rows = (0..1_000_000).map(|i| {
        if i % 100 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        (i, format!("row {i}"))
    });
    let loading = tokio::spawn(async move { insert.load_rows(rows).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    terminate(&db).await;
    let error = tokio::time::timeout(BOUND, loading)
        .await
        .expect("no hang")
        .unwrap()
        .unwrap_err();
    assert!(
        error.is_disconnection() || error.is_a(&pg_exceptions::AdminShutdownError),
        "{error}"
    );
    assert_eq!(
        rows_in(&sandbox, "loading").await,
        0,
        "an unfinished load leaves nothing"
    );
    assert!(db.closed());
}
