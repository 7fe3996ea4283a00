//! Objects that outlive a reset or a close, against a real server: statements prepared before
//! `Connection::reset()` are prepared again on their next use (or fail clearly when their
//! shape changed, or when the driver cannot prepare them again); cursors declared before it
//! fail with a CursorNameError naming the reset; advisory locks know the reset released them;
//! closing a statement or a cursor of a closed connection does nothing. Async and blocking.

mod common;

use futures::StreamExt;
use pg_driver::{ALock, Connection};
use pg_exceptions::{CursorNameError, Error, ErrorClass, FeatureError, OperationError};
use pg_exceptions::{Source, StatementNameError};

fn assert_class(error: &Error, class: &ErrorClass) {
    assert!(error.is_a(class), "expected {}, got {error}", class.name());
}

/// The error says why: the reset made it so.
fn assert_names_the_reset(error: &Error) {
    assert_eq!(error.source_kind(), Source::Client, "{error}");
    assert!(error.message().contains("reset"), "{error}");
}

async fn count(db: &Connection, sql: &str) -> i64 {
    db.query_first::<i64, _>(sql, ()).await.unwrap()
}

async fn prepared_named(db: &Connection, name: &str) -> i64 {
    let sql = "SELECT count(*) FROM pg_prepared_statements WHERE name = $1";
    db.query_first::<i64, _>(sql, (name,)).await.unwrap()
}

/// How many statements the session has prepared (asked in a simple query, which prepares none).
async fn all_prepared(db: &Connection) -> i64 {
    let sql = "SELECT count(*) FROM pg_prepared_statements";
    common::scalar(db, sql).await.unwrap().parse().unwrap()
}

async fn cursors_open(db: &Connection, name: &str) -> i64 {
    let sql = "SELECT count(*) FROM pg_cursors WHERE name = $1";
    db.query_first::<i64, _>(sql, (name,)).await.unwrap()
}

/// Lock identifiers of this test process's own (advisory locks are database-wide).
fn lock_id() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static NEXT: AtomicI64 = AtomicI64::new(0);
    (i64::from(std::process::id()) << 20) + (1 << 19) + NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn advisory_held(observer: &Connection, db: &Connection) -> i64 {
    observer
        .query_first(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1",
            (db.backend_id().unwrap(),),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn prepared_statements_are_prepared_again_after_a_reset() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (a int, b text)").await.unwrap();
    let add = db.prepare("SELECT $1::int + 1 AS n").await.unwrap();
    let insert = db.prepare("INSERT INTO t VALUES ($1, $2)").await.unwrap();
    let select = db.prepare("SELECT a, b FROM t ORDER BY a").await.unwrap();
    let cached = db.prepare_cached("SELECT $1::text || '!'").await.unwrap();
    let copy = db.prepare("COPY (SELECT 7) TO STDOUT").await.unwrap();
    assert_eq!(add.first::<i32, _>((1i32,)).await.unwrap(), 2);
    let name = add.statement_id().to_owned();
    let (columns, parameters) = (add.column_names(), add.pg_parameter_types());

    db.reset().await.unwrap();
    assert_eq!(prepared_named(&db, &name).await, 0);
    // Each one's next use prepares it again, under its own name, and runs it.
    assert_eq!(add.first::<i32, _>((41i32,)).await.unwrap(), 42);
    assert_eq!(prepared_named(&db, &name).await, 1);
    assert_eq!(
        (add.column_names(), add.pg_parameter_types()),
        (columns, parameters)
    );
    assert_eq!(
        insert.load_rows([(1i32, "one"), (2, "two")]).await.unwrap(),
        2
    );
    let rows: Vec<_> = select.rows(()).unwrap().collect().await;
    let rows: Vec<i32> = rows.into_iter().map(|r| r.unwrap().get(0)).collect();
    assert_eq!(rows, [1, 2]);
    assert_eq!(
        cached.first::<String, _>(("hi",)).await.unwrap(),
        "hi!".to_owned()
    );
    let out: Vec<_> = copy.copy_rows(()).unwrap().collect().await;
    assert_eq!(out.len(), 1);
    // Twice over, and the statements still close with their last handle.
    db.reset().await.unwrap();
    assert_eq!(add.first::<i32, _>((1i32,)).await.unwrap(), 2);
    let (insert_name, select_name) = (
        insert.statement_id().to_owned(),
        select.statement_id().to_owned(),
    );
    drop((add, insert, select, cached, copy));
    db.uncache("SELECT $1::text || '!'");
    for name in [name, insert_name, select_name] {
        assert_eq!(prepared_named(&db, &name).await, 0, "{name}");
    }
    assert_eq!(all_prepared(&db).await, 0);
}

#[tokio::test]
async fn a_statement_whose_shape_changed_across_a_reset_fails_before_it_runs() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (a int); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let insert = db
        .prepare("INSERT INTO t VALUES (1) RETURNING *")
        .await
        .unwrap();
    let delete = db.prepare("DELETE FROM t WHERE a = $1").await.unwrap();
    db.reset().await.unwrap();
    // New columns: the INSERT … RETURNING * would return another row type.
    db.execute("ALTER TABLE t ADD COLUMN b text").await.unwrap();
    let error = insert.call(()).await.unwrap_err();
    assert_class(&error, &FeatureError);
    assert_names_the_reset(&error);
    assert!(error.message().contains("columns"), "{error}");
    assert_eq!(count(&db, "SELECT count(*) FROM t").await, 1);
    // A parameter of another type.
    db.execute("ALTER TABLE t ALTER COLUMN a TYPE bigint")
        .await
        .unwrap();
    let error = delete.call((1i32,)).await.unwrap_err();
    assert_class(&error, &FeatureError);
    assert_names_the_reset(&error);
    assert!(error.message().contains("parameters"), "{error}");
    assert_eq!(count(&db, "SELECT count(*) FROM t").await, 1);
    // Streams fail the same way, when pulled.
    let mut rows = insert.rows(()).unwrap();
    assert_class(&rows.next().await.unwrap().unwrap_err(), &FeatureError);
    assert_eq!(count(&db, "SELECT count(*) FROM t").await, 1);
    // Back to the old shape, they run again.
    db.execute("ALTER TABLE t DROP COLUMN b; ALTER TABLE t ALTER COLUMN a TYPE int")
        .await
        .unwrap();
    assert_eq!(insert.call(()).await.unwrap().rows.len(), 1);
    assert_eq!(delete.call((1i32,)).await.unwrap().count, Some(2));
}

#[tokio::test]
async fn statements_prepared_in_sql_or_closed_are_not_prepared_again() {
    let db = common::connect().await;
    db.execute("PREPARE by_sql(int) AS SELECT $1 * 10")
        .await
        .unwrap();
    let named = db.statement_from_id("by_sql").await.unwrap();
    let closed = db.prepare("SELECT 1").await.unwrap();
    closed.close().await.unwrap();
    db.reset().await.unwrap();
    let error = named.call((1i32,)).await.unwrap_err();
    assert_class(&error, &StatementNameError);
    assert_names_the_reset(&error);
    assert_eq!(prepared_named(&db, "by_sql").await, 0);
    let error = closed.call(()).await.unwrap_err();
    assert_class(&error, &StatementNameError);
    assert_eq!(
        prepared_named(&db, closed.statement_id()).await,
        0,
        "a closed statement is not brought back"
    );
}

/// Polls `future` up to `polls` times (yielding between polls, so the connection task runs),
/// then drops it: whether it was done or not.
async fn give_up_after<F: std::future::Future>(future: F, polls: usize) -> bool {
    let mut future = std::pin::pin!(future);
    for _ in 0..polls {
        if futures::poll!(future.as_mut()).is_ready() {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

#[tokio::test]
async fn statements_given_up_while_prepared_again_leave_the_session_in_sync() {
    let db = common::connect().await;
    let ps = db.prepare("SELECT $1::int * 2").await.unwrap();
    let name = ps.statement_id().to_owned();
    let mut unfinished = 0;
    for polls in 1..=6 {
        db.reset().await.unwrap();
        unfinished += usize::from(!give_up_after(ps.call((1i32,)), polls).await);
        db.reset().await.unwrap();
        let mut rows = ps.rows((2i32,)).unwrap();
        unfinished += usize::from(!give_up_after(rows.next(), polls).await);
        drop(rows);
        db.reset().await.unwrap();
        unfinished += usize::from(!give_up_after(ps.load_rows([(1i32,), (2,)]), polls).await);
        // In sync: an echo comes back as itself, and the statement runs.
        assert_eq!(
            common::scalar(&db, "SELECT 'echo'").await.as_deref(),
            Some("echo")
        );
        assert_eq!(ps.first::<i32, _>((21i32,)).await.unwrap(), 42);
    }
    assert!(
        unfinished > 0,
        "every future finished before it was given up"
    );
    drop(ps);
    assert_eq!(prepared_named(&db, &name).await, 0);
    assert_eq!(all_prepared(&db).await, 0);
}

#[tokio::test]
async fn a_reset_given_up_once_queued_has_still_happened() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let observer = sandbox.connect().await.unwrap();
    let ps = db.prepare("SELECT $1::int - 1").await.unwrap();
    let c = ps.declare((1i32,)).await.unwrap();
    let lock = ALock::share(&db, [lock_id()]);
    assert!(lock.acquire(false).await.unwrap());
    // Outside a block, the first poll queues the DISCARD ALL; the future goes no further.
    assert!(!give_up_after(db.reset(), 1).await);
    assert!(c.closed());
    assert!(!lock.locked());
    assert_eq!(ps.first::<i32, _>((1i32,)).await.unwrap(), 0);
    assert_eq!(advisory_held(&observer, &db).await, 0);
    lock.release().await.unwrap();
    assert_eq!(
        common::scalar(&db, "SELECT 'echo'").await.as_deref(),
        Some("echo")
    );
}

#[tokio::test]
async fn cursors_declared_before_a_reset_are_closed_and_say_so() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT i FROM generate_series(1, 10) AS g(i)")
        .await
        .unwrap();
    let c = ps.declare(()).await.unwrap();
    assert_eq!(c.next().await.unwrap().unwrap().get::<i32>(0), 1);
    db.execute("DECLARE by_sql SCROLL CURSOR WITH HOLD FOR SELECT 1")
        .await
        .unwrap();
    let named = db.cursor_from_id("by_sql").await.unwrap();
    db.reset().await.unwrap();
    assert!(c.closed() && named.closed());
    for error in [
        c.next().await.unwrap_err(),
        c.read(None, None).await.unwrap_err(),
        c.seek(0, pg_driver::Whence::Absolute).await.unwrap_err(),
        named.read(None, None).await.unwrap_err(),
    ] {
        assert_class(&error, &CursorNameError);
        assert_names_the_reset(&error);
    }
    // Closing is no error; a clone is declared anew, from the first row.
    c.close().await.unwrap();
    named.close().await.unwrap();
    let again = c.clone_cursor().await.unwrap();
    assert_eq!(again.next().await.unwrap().unwrap().get::<i32>(0), 1);
    // The statement declares new cursors (prepared again, its columns checked).
    let fresh = ps.declare(()).await.unwrap();
    assert_eq!(fresh.read(None, None).await.unwrap().len(), 10);
    let id = again.cursor_id().to_owned();
    drop((again, fresh, c));
    assert_eq!(cursors_open(&db, &id).await, 0);
}

#[tokio::test]
async fn advisory_locks_know_a_reset_released_them() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let observer = sandbox.connect().await.unwrap();
    let id = lock_id();
    let lock = ALock::exclusive(&db, [id]);
    assert!(lock.acquire(true).await.unwrap());
    assert!(lock.acquire(true).await.unwrap());
    db.reset().await.unwrap();
    assert!(!lock.locked());
    assert_eq!(advisory_held(&observer, &db).await, 0);
    // The two acquisitions the reset released are settled without the server…
    lock.release().await.unwrap();
    lock.release().await.unwrap();
    // …and a release beyond them is the usual error.
    assert_class(&lock.release().await.unwrap_err(), &OperationError);
    // Acquiring again works.
    assert!(lock.acquire(false).await.unwrap());
    assert!(lock.locked());
    assert_eq!(advisory_held(&observer, &db).await, 1);
    lock.release().await.unwrap();
    assert_eq!(advisory_held(&observer, &db).await, 0);

    // A guard held across a reset releases nothing of a later acquisition.
    let old = lock.guard().await.unwrap();
    db.reset().await.unwrap();
    let new = lock.guard().await.unwrap();
    drop(old);
    assert!(lock.locked());
    assert_eq!(advisory_held(&observer, &db).await, 1);
    let other = ALock::exclusive(&observer, [id]);
    assert!(!other.acquire(false).await.unwrap());
    new.release().await.unwrap();
    assert!(!lock.locked());
    assert!(other.acquire(false).await.unwrap());
    other.release().await.unwrap();
}

#[tokio::test]
async fn closing_a_statement_or_cursor_of_a_closed_connection_does_nothing() {
    // Closing is a protocol message: with autocommit off it opens no block.
    let db = common::connect().await;
    let ps = db.prepare("SELECT 1").await.unwrap();
    db.set_autocommit(false).unwrap();
    ps.close().await.unwrap();
    assert_eq!(
        db.get_transaction_status(),
        pg_driver::PqTransactionStatus::Idle
    );
    let db = common::connect().await;
    let ps = db.prepare("SELECT 1").await.unwrap();
    let c = ps.declare(()).await.unwrap();
    db.close();
    ps.close().await.unwrap();
    c.close().await.unwrap();
    // Lost rather than closed: the same.
    let db = common::connect().await;
    let ps = db.prepare("SELECT 1").await.unwrap();
    let c = ps.declare(()).await.unwrap();
    let killer = common::connect().await;
    killer
        .query(
            "SELECT pg_terminate_backend($1)",
            (db.backend_id().unwrap(),),
        )
        .await
        .unwrap();
    assert!(db.execute("SELECT 1").await.is_err());
    ps.close().await.unwrap();
    c.close().await.unwrap();
}

#[test]
fn the_blocking_facade_outlives_resets_and_closes() {
    use pg_driver::blocking::ALock;
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    let observer = sandbox.connect_blocking().unwrap();
    let prepared = |name: &str| -> i64 {
        observer
            .prepare("SELECT count(*) FROM pg_prepared_statements WHERE name = $1")
            .unwrap()
            .first((name,))
            .unwrap()
    };
    // Statements.
    db.execute("CREATE TABLE t (a int)").unwrap();
    let add = db.prepare("SELECT $1::int + 1").unwrap();
    let insert = db.prepare("INSERT INTO t VALUES ($1)").unwrap();
    let rows = db.prepare("SELECT a FROM t ORDER BY a").unwrap();
    let returning = db.prepare("INSERT INTO t VALUES (9) RETURNING *").unwrap();
    db.execute("PREPARE by_sql AS SELECT 1").unwrap();
    let named = db.statement_from_id("by_sql").unwrap();
    db.reset().unwrap();
    assert_eq!(add.first::<i32, _>((1i32,)).unwrap(), 2);
    assert_eq!(prepared(add.statement_id()), 1);
    assert_eq!(insert.load_rows([(1i32,), (2,)]).unwrap(), 2);
    let got: Vec<i32> = rows.rows(()).unwrap().map(|r| r.unwrap().get(0)).collect();
    assert_eq!(got, [1, 2]);
    let error = named.call(()).unwrap_err();
    assert_class(&error, &StatementNameError);
    assert_names_the_reset(&error);
    db.reset().unwrap();
    db.execute("ALTER TABLE t ADD COLUMN b text").unwrap();
    let error = returning.call(()).unwrap_err();
    assert_class(&error, &FeatureError);
    assert_names_the_reset(&error);
    assert_eq!(
        db.prepare("SELECT count(*) FROM t")
            .unwrap()
            .first::<i64, _>(())
            .unwrap(),
        2
    );
    // Cursors.
    let c = db
        .prepare("SELECT i FROM generate_series(1, 3) AS g(i)")
        .unwrap()
        .declare(())
        .unwrap();
    assert_eq!(c.next_row().unwrap().unwrap().get::<i32>(0), 1);
    db.reset().unwrap();
    let error = c.next_row().unwrap_err();
    assert_class(&error, &CursorNameError);
    assert_names_the_reset(&error);
    c.close().unwrap();
    assert_eq!(c.clone_cursor().unwrap().read(None, None).unwrap().len(), 3);
    // Advisory locks.
    let lock = ALock::exclusive(&db, [lock_id()]);
    assert!(lock.acquire(true).unwrap());
    let old = lock.guard().unwrap();
    db.reset().unwrap();
    assert!(!lock.locked());
    lock.release().unwrap();
    let new = lock.guard().unwrap();
    drop(old);
    assert!(lock.locked());
    new.release().unwrap();
    assert!(!lock.locked());
    assert_class(&lock.release().unwrap_err(), &OperationError);
    // Closing after the connection closed.
    let ps = db.prepare("SELECT 1").unwrap();
    let c = ps.declare(()).unwrap();
    db.close();
    ps.close().unwrap();
    c.close().unwrap();
}
