//! Transactions against a real server: blocks, isolation and modes, savepoints, the guard, the
//! failed-transaction safeguard, and the blocking facade.

mod common;

use std::time::Duration;

use pg_driver::{Connection, Isolation, TransactionStatus, XactState};
use pg_exceptions::{
    ConnectionDoesNotExistError, Error, InFailedTransactionError, OperationError,
    ReadOnlyTransactionError, Source, ZeroDivisionError,
};

async fn ids(db: &Connection) -> Vec<i32> {
    db.query("SELECT id FROM t ORDER BY id", ())
        .await
        .unwrap()
        .rows
        .iter()
        .map(|r| r.get::<i32>("id"))
        .collect()
}

async fn insert(db: &Connection, id: i32) {
    db.query("INSERT INTO t VALUES ($1)", (id,)).await.unwrap();
}

async fn show(db: &Connection, setting: &str) -> String {
    common::scalar(db, &format!("SHOW {setting}"))
        .await
        .unwrap()
}

fn assert_class(error: &Error, class: &pg_exceptions::ErrorClass) {
    assert!(error.is_a(class), "expected {}, got {error}", class.name());
}

#[tokio::test]
async fn each_isolation_level_and_mode_shows_in_the_block() {
    let db = common::connect().await;
    for level in [
        Isolation::Serializable,
        Isolation::RepeatableRead,
        Isolation::ReadCommitted,
        Isolation::ReadUncommitted,
    ] {
        let x = db.xact().isolation(level);
        x.start().await.unwrap();
        assert_eq!(x.is_savepoint(), Some(false));
        assert_eq!(show(&db, "transaction_isolation").await, level.as_setting());
        x.rollback().await.unwrap();
    }
    // py-postgresql's texts, any case and spacing.
    for (text, shown) in [
        ("serializable", "serializable"),
        ("Repeatable  Read", "repeatable read"),
        ("read committed", "read committed"),
    ] {
        let x = db.xact_with(Some(text), None);
        x.start().await.unwrap();
        assert_eq!(show(&db, "transaction_isolation").await, shown);
        x.commit().await.unwrap();
    }
    let x = db.xact_with(Some("SERIALIZABLE"), Some("read only, deferrable"));
    x.begin().await.unwrap();
    assert_eq!(show(&db, "transaction_read_only").await, "on");
    assert_eq!(show(&db, "transaction_deferrable").await, "on");
    x.commit().await.unwrap();

    let x = db
        .xact()
        .mode("ISOLATION LEVEL REPEATABLE READ")
        .read_only()
        .not_deferrable();
    x.start().await.unwrap();
    assert_eq!(show(&db, "transaction_isolation").await, "repeatable read");
    assert_eq!(show(&db, "transaction_read_only").await, "on");
    assert_eq!(show(&db, "transaction_deferrable").await, "off");
    x.commit().await.unwrap();

    // A later mode overrides an earlier one.
    let x = db.xact().read_only().read_write().deferrable();
    x.start().await.unwrap();
    assert_eq!(show(&db, "transaction_read_only").await, "off");
    assert_eq!(show(&db, "transaction_deferrable").await, "on");
    x.commit().await.unwrap();
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

/// Starts a block at `level`, reads `t` once, lets another connection commit a row, and
/// returns how many rows the block sees on its second read.
async fn second_read(level: Isolation) -> i64 {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let other = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();
    let x = db.xact().isolation(level);
    x.start().await.unwrap();
    let before: i64 = db.query_first("SELECT count(*) FROM t", ()).await.unwrap();
    assert_eq!(before, 0);
    insert(&other, 1).await;
    let after: i64 = db.query_first("SELECT count(*) FROM t", ()).await.unwrap();
    x.commit().await.unwrap();
    let now: i64 = db.query_first("SELECT count(*) FROM t", ()).await.unwrap();
    assert_eq!(now, 1, "after the block, the row is seen at {level}");
    after
}

#[tokio::test]
async fn snapshots_hide_later_commits_at_repeatable_read_and_serializable() {
    assert_eq!(second_read(Isolation::Serializable).await, 0);
    assert_eq!(second_read(Isolation::RepeatableRead).await, 0);
    assert_eq!(second_read(Isolation::ReadCommitted).await, 1);
}

#[tokio::test]
async fn a_read_only_block_refuses_writes() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();
    let x = db.xact().read_only();
    x.start().await.unwrap();
    let error = db.execute("INSERT INTO t VALUES (1)").await.unwrap_err();
    assert_class(&error, &ReadOnlyTransactionError);
    assert_eq!(error.code(), "25006");
    // The error was caught: committing rolls back and says so.
    let error = x.commit().await.unwrap_err();
    assert_class(&error, &InFailedTransactionError);
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn committing_a_failed_block_rolls_it_back_with_in_failed_transaction() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let other = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();
    let x = db.xact();
    x.start().await.unwrap();
    insert(&db, 1).await;
    let caught = db.execute("SELECT 1/0").await.unwrap_err();
    assert_class(&caught, &ZeroDivisionError);
    assert_eq!(db.transaction_status(), TransactionStatus::Failed);
    let error = x.commit().await.unwrap_err();
    assert_class(&error, &InFailedTransactionError);
    assert_eq!(error.code(), "25P02");
    assert_eq!(error.source_kind(), Source::Client);
    assert_eq!(x.state(), XactState::Aborted);
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    assert!(ids(&other).await.is_empty(), "nothing was committed");
    assert!(ids(&db).await.is_empty());
    // Ended: a commit now is a logic error, a rollback does nothing.
    assert_class(&x.commit().await.unwrap_err(), &OperationError);
    x.rollback().await.unwrap();
}

#[tokio::test]
async fn a_failed_savepoint_is_rolled_back_and_its_block_goes_on() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();
    let outer = db.xact();
    outer.start().await.unwrap();
    insert(&db, 1).await;
    let inner = db.xact();
    inner.start().await.unwrap();
    assert_eq!(inner.is_savepoint(), Some(true));
    insert(&db, 2).await;
    db.execute("SELECT 1/0").await.unwrap_err();
    let error = inner.commit().await.unwrap_err();
    assert_class(&error, &InFailedTransactionError);
    assert_eq!(error.source_kind(), Source::Client);
    assert_eq!(inner.state(), XactState::Aborted);
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    insert(&db, 3).await;
    outer.commit().await.unwrap();
    assert_eq!(ids(&db).await, [1, 3]);
}

#[tokio::test]
async fn savepoints_commit_and_roll_back_within_their_block() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();

    let outer = db.xact();
    outer.start().await.unwrap();
    insert(&db, 1).await;
    let kept = db.xact();
    kept.start().await.unwrap();
    insert(&db, 2).await;
    kept.commit().await.unwrap();
    let undone = db.xact();
    undone.start().await.unwrap();
    insert(&db, 3).await;
    undone.rollback().await.unwrap();
    // Two levels: the inner one's release is undone with the outer savepoint.
    let middle = db.xact();
    middle.start().await.unwrap();
    insert(&db, 4).await;
    let deepest = db.xact();
    deepest.start().await.unwrap();
    insert(&db, 5).await;
    deepest.commit().await.unwrap();
    middle.abort().await.unwrap();
    assert_ne!(kept.savepoint_name(), undone.savepoint_name());
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    outer.commit().await.unwrap();
    assert_eq!(ids(&db).await, [1, 2]);

    // A released savepoint goes with its block's rollback.
    let outer = db.xact();
    outer.start().await.unwrap();
    let inner = db.xact();
    inner.start().await.unwrap();
    insert(&db, 6).await;
    inner.commit().await.unwrap();
    outer.rollback().await.unwrap();
    assert_eq!(ids(&db).await, [1, 2]);

    // Inside a block begun with SQL, a transaction is a savepoint.
    db.execute("BEGIN").await.unwrap();
    let x = db.xact();
    x.start().await.unwrap();
    assert_eq!(x.is_savepoint(), Some(true));
    insert(&db, 7).await;
    x.rollback().await.unwrap();
    db.execute("COMMIT").await.unwrap();
    assert_eq!(ids(&db).await, [1, 2]);
}

#[tokio::test]
async fn a_dropped_guard_rolls_back_before_the_next_statement() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();

    let x = db.xact();
    x.start().await.unwrap();
    insert(&db, 1).await;
    drop(x);
    assert_eq!(
        common::scalar(&db, "SELECT 'clean'").await.unwrap(),
        "clean"
    );
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    assert!(ids(&db).await.is_empty());

    // A block right after a dropped one is a block, though the last status seen was 'T'.
    let x = db.xact();
    x.start().await.unwrap();
    drop(x);
    let y = db.xact();
    y.start().await.unwrap();
    assert_eq!(y.is_savepoint(), Some(false));
    y.commit().await.unwrap();

    // A start whose caller went away before the answer: the block is open, the guard ends it.
    let x = db.xact();
    let mut start = Box::pin(x.start());
    assert!(
        futures::poll!(&mut start).is_pending(),
        "the answer is not there yet"
    );
    drop(start);
    assert_eq!(x.state(), XactState::Open);
    insert(&db, 1).await;
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    drop(x);
    assert!(ids(&db).await.is_empty());
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);

    // A dropped savepoint: ROLLBACK TO and RELEASE, and the block goes on.
    let outer = db.xact();
    outer.start().await.unwrap();
    insert(&db, 1).await;
    let inner = db.xact();
    inner.start().await.unwrap();
    insert(&db, 2).await;
    db.execute("SELECT 1/0").await.unwrap_err();
    drop(inner);
    insert(&db, 3).await;
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    outer.commit().await.unwrap();
    assert_eq!(ids(&db).await, [1, 3]);

    // A savepoint outliving its block is not rolled back into a later block.
    let outer = db.xact();
    outer.start().await.unwrap();
    let orphan = db.xact();
    orphan.start().await.unwrap();
    outer.commit().await.unwrap();
    assert_class(&orphan.commit().await.unwrap_err(), &OperationError);
    let later = db.xact();
    later.start().await.unwrap();
    insert(&db, 4).await;
    drop(orphan);
    later.commit().await.unwrap();
    assert_eq!(ids(&db).await, [1, 3, 4]);
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn a_block_ended_by_sql_or_reset_is_noticed() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();
    let x = db.xact();
    x.start().await.unwrap();
    let inner = db.xact();
    inner.start().await.unwrap();
    db.reset().await.unwrap();
    // The next transaction is a block again, not a savepoint of the ended one.
    let y = db.xact();
    y.start().await.unwrap();
    assert_eq!(y.is_savepoint(), Some(false));
    insert(&db, 1).await;
    assert_class(&x.commit().await.unwrap_err(), &OperationError);
    assert_class(&inner.rollback().await.unwrap_err(), &OperationError);
    drop((x, inner));
    y.commit().await.unwrap();
    assert_eq!(ids(&db).await, [1]);

    let x = db.xact();
    x.start().await.unwrap();
    db.execute("ROLLBACK").await.unwrap();
    let y = db.xact();
    y.start().await.unwrap();
    assert_eq!(y.is_savepoint(), Some(false));
    y.rollback().await.unwrap();
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

#[derive(Debug)]
enum AppError {
    Db(Error),
    Refused,
}

impl From<Error> for AppError {
    fn from(error: Error) -> AppError {
        AppError::Db(error)
    }
}

#[tokio::test]
async fn run_commits_on_ok_and_rolls_back_on_err() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();

    let n = db
        .xact()
        .run(|x| async move {
            x.execute("INSERT INTO t VALUES (1)").await?;
            // Nested: a savepoint, rolled back on its Err; the block goes on.
            let inner: Result<(), AppError> = x
                .xact()
                .run(|sp| async move {
                    assert_eq!(sp.is_savepoint(), Some(true));
                    sp.execute("INSERT INTO t VALUES (2)").await?;
                    Err(AppError::Refused)
                })
                .await;
            assert!(matches!(inner, Err(AppError::Refused)));
            x.xact()
                .run(|sp| async move { sp.execute("INSERT INTO t VALUES (3)").await })
                .await?;
            Ok::<_, AppError>(42)
        })
        .await
        .unwrap();
    assert_eq!(n, 42);
    assert_eq!(ids(&db).await, [1, 3]);

    let result: Result<(), AppError> = db
        .xact()
        .run(|x| async move {
            x.execute("INSERT INTO t VALUES (4)").await?;
            Err(AppError::Refused)
        })
        .await;
    assert!(matches!(result, Err(AppError::Refused)));
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    assert_eq!(ids(&db).await, [1, 3]);

    // A caught error inside: the commit's safeguard error comes back through E.
    let result: Result<(), AppError> = db
        .xact()
        .run(|x| async move {
            x.execute("INSERT INTO t VALUES (5)").await?;
            let _ = x.execute("SELECT 1/0").await;
            Ok(())
        })
        .await;
    match result {
        Err(AppError::Db(error)) => assert_class(&error, &InFailedTransactionError),
        other => panic!("expected InFailedTransactionError, got {other:?}"),
    }
    assert_eq!(ids(&db).await, [1, 3]);
}

#[tokio::test]
async fn ending_twice_does_nothing_and_an_ended_transaction_cannot_restart() {
    let db = common::connect().await;
    let x = db.xact();
    assert_class(&x.commit().await.unwrap_err(), &OperationError);
    assert_class(&x.rollback().await.unwrap_err(), &OperationError);
    x.start().await.unwrap();
    x.start().await.unwrap(); // already open: nothing
    x.commit().await.unwrap();
    x.commit().await.unwrap();
    assert_eq!(x.state(), XactState::Committed);
    assert_class(&x.rollback().await.unwrap_err(), &OperationError);
    assert_class(&x.start().await.unwrap_err(), &OperationError);

    let y = db.xact();
    y.start().await.unwrap();
    y.rollback().await.unwrap();
    y.rollback().await.unwrap();
    assert_eq!(y.state(), XactState::Aborted);
    assert_class(&y.begin().await.unwrap_err(), &OperationError);
    assert_class(&y.commit().await.unwrap_err(), &OperationError);
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn a_savepoint_takes_no_isolation_or_mode() {
    let db = common::connect().await;
    let outer = db.xact();
    outer.start().await.unwrap();
    for nested in [
        db.xact().isolation("SERIALIZABLE"),
        db.xact().read_only(),
        db.xact_with(None, Some("DEFERRABLE")),
    ] {
        let error = nested.start().await.unwrap_err();
        assert_class(&error, &OperationError);
        assert_eq!(nested.state(), XactState::Initialized);
    }
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    outer.commit().await.unwrap();
}

#[tokio::test]
async fn unknown_words_are_refused_before_anything_is_sent() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int)").await.unwrap();
    let isolations = [
        "SERIALIZABLE; DROP TABLE t",
        "READ COMMITTED'",
        "'serializable'",
        "\"SERIALIZABLE\"",
        "READ COMMITTED; COMMIT; DROP TABLE t; --",
        "snapshot",
        "",
    ];
    for isolation in isolations {
        let x = db.xact().isolation(isolation);
        let error = x.start().await.unwrap_err();
        assert_class(&error, &OperationError);
        assert_eq!(error.source_kind(), Source::Client);
        assert_eq!(x.state(), XactState::Initialized, "{isolation:?}");
    }
    let modes = [
        "READ ONLY; DROP TABLE t",
        "READ ONLY' --",
        "DEFERRABLE)",
        "READ ONLY, READ WRITE",
        "READ",
        "ISOLATION LEVEL SNAPSHOT",
    ];
    for mode in modes {
        let error = db.xact_with(None, Some(mode)).start().await.unwrap_err();
        assert_class(&error, &OperationError);
    }
    // Nothing reached the server: no block was begun, the table is there.
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    assert!(ids(&db).await.is_empty());
}

/// Terminates `db`'s server process from another connection and waits until `db` knows.
async fn terminate(db: &Connection) {
    let admin = common::connect().await;
    let pid = db.backend_id().unwrap();
    admin
        .query("SELECT pg_terminate_backend($1)", (pid,))
        .await
        .unwrap();
    for _ in 0..100 {
        if db.closed() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the connection did not notice its server process ended");
}

#[tokio::test]
async fn a_connection_terminated_inside_a_block_fails_its_end() {
    // Commit after the loss was noticed.
    let db = common::connect().await;
    let x = db.xact();
    x.start().await.unwrap();
    terminate(&db).await;
    let error = x.commit().await.unwrap_err();
    assert_class(&error, &ConnectionDoesNotExistError);
    assert_eq!(x.state(), XactState::Aborted);

    // A statement learns why first (AdminShutdown); the rollback then finds no connection.
    let db = common::connect().await;
    let x = db.xact();
    x.start().await.unwrap();
    let inner = db.xact();
    inner.start().await.unwrap();
    terminate(&db).await;
    let reason = db.execute("SELECT 1").await.unwrap_err();
    assert!(
        reason.is_disconnection() || reason.is_a(&ConnectionDoesNotExistError),
        "{reason}"
    );
    assert_class(
        &inner.rollback().await.unwrap_err(),
        &ConnectionDoesNotExistError,
    );
    assert_class(
        &x.rollback().await.unwrap_err(),
        &ConnectionDoesNotExistError,
    );
    // Dropping the guards of a lost session queues nothing and does not panic.
    drop((x, inner));

    // Reconnected: the old block's end still fails, the new session is clean.
    let db = common::connect().await;
    let x = db.xact();
    x.start().await.unwrap();
    terminate(&db).await;
    db.connect().await.unwrap();
    assert_class(&x.commit().await.unwrap_err(), &ConnectionDoesNotExistError);
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    let y = db.xact();
    y.start().await.unwrap();
    assert_eq!(y.is_savepoint(), Some(false));
    y.commit().await.unwrap();
}

#[test]
fn the_blocking_facade_runs_transactions() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute("CREATE TABLE t (id int)").unwrap();
    let count = |db: &pg_driver::blocking::Connection| -> i64 {
        db.query_first("SELECT count(*) FROM t", ()).unwrap()
    };

    db.xact()
        .isolation("serializable")
        .run(|x| {
            assert_eq!(
                x.simple("SHOW transaction_isolation").unwrap()[0].rows[0][0].as_deref(),
                Some("serializable")
            );
            x.execute("INSERT INTO t VALUES (1)")?;
            x.xact()
                .run(|sp| -> Result<(), Error> {
                    sp.execute("INSERT INTO t VALUES (2)")?;
                    Err(Error::client(&OperationError, "changed my mind"))
                })
                .unwrap_err();
            x.xact().run(|sp| sp.execute("INSERT INTO t VALUES (3)"))
        })
        .unwrap();
    assert_eq!(count(&db), 2);

    let x = db.xact().read_only();
    x.start().unwrap();
    assert_class(
        &db.execute("INSERT INTO t VALUES (9)").unwrap_err(),
        &ReadOnlyTransactionError,
    );
    let error = x.commit().unwrap_err();
    assert_class(&error, &InFailedTransactionError);
    assert_eq!(error.source_kind(), Source::Client);
    x.commit().unwrap_err();
    assert_class(&x.start().unwrap_err(), &OperationError);

    let x = db.xact();
    x.begin().unwrap();
    db.execute("INSERT INTO t VALUES (4)").unwrap();
    drop(x);
    assert_eq!(count(&db), 2);
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);

    let x = db.xact();
    x.start().unwrap();
    db.execute("INSERT INTO t VALUES (5)").unwrap();
    x.commit().unwrap();
    x.commit().unwrap();
    x.abort().unwrap_err();
    assert_eq!(count(&db), 3);
    assert_class(
        &db.xact_with(Some("serializable; COMMIT"), None)
            .start()
            .unwrap_err(),
        &OperationError,
    );
}

/// Transactions and settings work from spawned tasks: their futures are Send.
#[allow(dead_code)]
fn futures_are_send(db: &Connection) {
    fn send<T: Send>(_: T) {}
    fn shared<T: Send + Sync>() {}
    shared::<pg_driver::Transaction>();
    shared::<pg_driver::Settings>();
    shared::<pg_driver::SettingsScope>();
    let x = db.xact();
    send(x.start());
    send(x.commit());
    send(x.rollback());
    send(x.clone().run(|x| async move { x.execute("").await }));
    let s = db.settings();
    send(s.get(""));
    send(s.getset([""]));
    send(s.update([("", "")]));
    send(s.scope([("", "")]));
    send(s.scoped([("", "")], |db| async move { db.execute("").await }));
}
