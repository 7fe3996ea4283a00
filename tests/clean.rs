//! `Connection::clean` (a pool's reset that keeps prepared statements) and the session marks
//! that tell a pool whether a session needs one, against a real server.

mod common;

use pg_driver::{ALock, Connection, TransactionStatus};

async fn text(db: &Connection, sql: &str) -> String {
    common::scalar(db, sql).await.unwrap_or_default()
}

/// How many statements the session has prepared, the driver's and SQL's.
async fn prepared(db: &Connection) -> (String, String) {
    (
        text(
            db,
            "SELECT count(*) FILTER (WHERE NOT from_sql) FROM pg_prepared_statements",
        )
        .await,
        text(
            db,
            "SELECT count(*) FILTER (WHERE from_sql) FROM pg_prepared_statements",
        )
        .await,
    )
}

#[tokio::test]
async fn clean_undoes_the_session_state_and_keeps_the_statements() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let observer = sandbox.connect().await.unwrap();
    let add = db.prepare("SELECT $1::int + 1 AS n").await.unwrap();
    let cached = db.prepare_cached("SELECT $1::text || '!'").await.unwrap();
    let name = add.statement_id().to_owned();
    db.execute(
        "SET work_mem = '7MB'; CREATE TEMP TABLE scratch (i int); LISTEN somewhere; \
         PREPARE mine AS SELECT 2; CREATE TEMP SEQUENCE s; SELECT nextval('s')",
    )
    .await
    .unwrap();
    let lock = ALock::exclusive(&db, [987_654_321i64]);
    lock.acquire(true).await.unwrap();
    let cursor = db
        .prepare("SELECT generate_series(1, 10)")
        .await
        .unwrap()
        .declare(())
        .await
        .unwrap();
    db.execute("BEGIN; SELECT 1/0").await.ok();
    assert_eq!(db.transaction_status(), TransactionStatus::Failed);
    db.set_autocommit(false).unwrap_err();

    db.clean().await.unwrap();

    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    assert_ne!(text(&db, "SHOW work_mem").await, "7MB");
    assert_eq!(
        text(&db, "SELECT to_regclass('scratch') IS NULL").await,
        "t"
    );
    assert_eq!(
        text(&db, "SELECT count(*) FROM pg_listening_channels()").await,
        "0"
    );
    assert_eq!(text(&db, "SELECT count(*) FROM pg_cursors").await, "0");
    let held = format!(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = {}",
        db.backend_id().unwrap()
    );
    assert_eq!(text(&observer, &held).await, "0");
    assert!(!lock.locked(), "the lock knows the cleaning released it");
    assert!(cursor.closed(), "the cursor knows the cleaning closed it");
    // The driver's statements are still prepared, under the same names, and run as they are;
    // the one prepared in SQL is gone.
    let (drivers, sqls) = prepared(&db).await;
    assert_eq!(sqls, "0");
    assert!(drivers.parse::<u32>().unwrap() >= 2, "{drivers}");
    let kept = format!("SELECT count(*) FROM pg_prepared_statements WHERE name = '{name}'");
    assert_eq!(text(&db, &kept).await, "1");
    assert_eq!(add.first::<i32, _>((41i32,)).await.unwrap(), 42);
    assert_eq!(add.statement_id(), name);
    assert_eq!(
        cached.first::<String, _>(("hi",)).await.unwrap(),
        "hi!".to_owned()
    );
    assert!(db.autocommit());
}

#[tokio::test]
async fn clean_rolls_back_a_lazily_begun_block() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    db.set_autocommit(false).unwrap();
    db.execute("INSERT INTO t VALUES (1)").await.unwrap();
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    db.clean().await.unwrap();
    assert!(db.autocommit());
    assert_eq!(text(&db, "SELECT count(*) FROM t").await, "0");
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn session_marks_move_for_commands_that_may_leave_state() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    // (statement, may leave state, bare select)
    let cases: &[(&str, bool, bool)] = &[
        ("SELECT 1", false, false),
        ("INSERT INTO t VALUES (1)", false, false),
        ("UPDATE t SET i = 2", false, false),
        ("DELETE FROM t WHERE i = 5", false, false),
        ("BEGIN", false, false),
        ("SAVEPOINT a", false, false),
        ("RELEASE a", false, false),
        ("COMMIT", false, false),
        ("SELECT * FROM t WHERE false", false, true),
        ("SET work_mem = '5MB'", true, false),
        ("SET application_name = 'marked'", true, false),
        ("LISTEN here", true, false),
        ("CREATE TEMP TABLE made AS SELECT 1 AS i", true, false),
        (
            "CREATE TEMP TABLE empty_made AS SELECT 1 AS i WHERE false",
            false,
            true,
        ),
        ("PREPARE p AS SELECT 1", true, false),
        ("DO $$BEGIN END$$", true, false),
    ];
    for &(sql, stateful, bare) in cases {
        // Through the extended protocol, which reads its own answers when it can, and the
        // simple one, which the task may route.
        for simple in [false, true] {
            let before = db.session_marks();
            let again = sql.replace("made", &format!("made{}", simple as u8));
            let again = again.replace("PREPARE p", &format!("PREPARE p{}", simple as u8));
            match simple {
                true => db.execute(&again).await.unwrap(),
                false => drop(db.query_cached(&again, ()).await.unwrap()),
            }
            let after = db.session_marks();
            assert_eq!(after.changed_since(&before), stateful, "{again}");
            assert_eq!(after.bare_selects_since(&before), bare, "{again}");
        }
    }
}

#[tokio::test]
async fn a_cleaning_dropped_at_any_poll_leaves_the_connection_in_sync() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let mut completed = false;
    // Until a cleaning runs to its end before it is dropped: on a loaded machine the answers
    // take more polls to come (a fixed 40 failed under load), so the count is only a bound.
    for polls in 0..5000 {
        db.execute(&format!(
            "SET work_mem = '7MB'; PREPARE mine{polls} AS SELECT 2; BEGIN; SELECT 1"
        ))
        .await
        .unwrap();
        let began = {
            let cleaning = db.clean();
            let mut cleaning = std::pin::pin!(cleaning);
            let mut polled = 0;
            loop {
                if polled == polls {
                    break polled > 0;
                }
                polled += 1;
                let step =
                    std::future::poll_fn(|cx| std::task::Poll::Ready(cleaning.as_mut().poll(cx)))
                        .await;
                if let std::task::Poll::Ready(result) = step {
                    result.unwrap();
                    completed = true;
                    break true;
                }
                tokio::task::yield_now().await;
            }
        };
        // Whatever the poll it was dropped at, the next statement gets its own answer.
        assert_eq!(
            text(&db, "SELECT 40 + 2").await,
            "42",
            "after {polls} polls"
        );
        if began {
            // Queued on its first poll: it ran, whatever became of the caller.
            assert_eq!(db.transaction_status(), TransactionStatus::Idle, "{polls}");
            assert_ne!(text(&db, "SHOW work_mem").await, "7MB", "{polls}");
        } else {
            db.execute("ROLLBACK").await.unwrap();
        }
        if completed {
            break;
        }
    }
    assert!(completed, "a cleaning ran to its end");
}
