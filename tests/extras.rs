//! psycopg2's connection extras against a real server: session characteristics, autocommit
//! off with its lazily begun blocks, commit and rollback, set_isolation_level, the transaction
//! status in psycopg2's terms, notifications, and the blocking facade.

mod common;
#[allow(dead_code)] // only counts messages: the ways to break the protocol go unused
#[path = "support/proxy.rs"]
mod proxy;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pg_driver::{
    Connection, ISOLATION_LEVEL_AUTOCOMMIT, ISOLATION_LEVEL_DEFAULT,
    ISOLATION_LEVEL_READ_COMMITTED, ISOLATION_LEVEL_READ_UNCOMMITTED,
    ISOLATION_LEVEL_REPEATABLE_READ, ISOLATION_LEVEL_SERIALIZABLE, Isolation, PqTransactionStatus,
    SessionChange,
};
use pg_exceptions::{Error, InFailedTransactionError, OperationError, ReadOnlyTransactionError};

async fn show(db: &Connection, setting: &str) -> String {
    common::scalar(db, &format!("SHOW {setting}"))
        .await
        .unwrap()
}

async fn count(db: &Connection) -> i64 {
    common::scalar(db, "SELECT count(*) FROM t")
        .await
        .unwrap()
        .parse()
        .unwrap()
}

fn assert_class(error: &Error, class: &pg_exceptions::ErrorClass) {
    assert!(error.is_a(class), "expected {}, got {error}", class.name());
}

const LEVELS: [Isolation; 4] = [
    Isolation::Serializable,
    Isolation::RepeatableRead,
    Isolation::ReadCommitted,
    Isolation::ReadUncommitted,
];

#[tokio::test]
async fn each_isolation_level_shows_in_the_following_transaction() {
    let db = common::connect().await;
    for level in LEVELS {
        db.set_session(SessionChange::new().isolation_level(level))
            .await
            .unwrap();
        assert_eq!(db.isolation_level(), Some(level));
        // A block of the driver's without characteristics of its own follows the session.
        let x = db.xact();
        x.start().await.unwrap();
        assert_eq!(show(&db, "transaction_isolation").await, level.as_setting());
        x.rollback().await.unwrap();
        // So does a single statement, and a block begun lazily with autocommit off.
        assert_eq!(show(&db, "transaction_isolation").await, level.as_setting());
        db.set_autocommit(false).unwrap();
        assert_eq!(show(&db, "transaction_isolation").await, level.as_setting());
        assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
        db.rollback().await.unwrap();
        db.set_autocommit(true).unwrap();
    }
    // psycopg2's words, any case; DEFAULT returns to the server's.
    db.set_session(SessionChange::new().isolation_level("repeatable READ"))
        .await
        .unwrap();
    assert_eq!(
        show(&db, "default_transaction_isolation").await,
        "repeatable read"
    );
    db.set_session(SessionChange::new().isolation_level("default"))
        .await
        .unwrap();
    assert_eq!(db.isolation_level(), None);
    assert_eq!(show(&db, "transaction_isolation").await, "read committed");
}

#[tokio::test]
async fn read_only_and_deferrable_govern_the_following_transactions() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    let change = SessionChange::new()
        .isolation_level("SERIALIZABLE")
        .readonly(Some(true))
        .deferrable(Some(true));
    db.set_session(change).await.unwrap();
    assert_eq!((db.readonly(), db.deferrable()), (Some(true), Some(true)));
    let x = db.xact();
    x.start().await.unwrap();
    assert_eq!(show(&db, "transaction_read_only").await, "on");
    assert_eq!(show(&db, "transaction_deferrable").await, "on");
    let error = db.execute("INSERT INTO t VALUES (1)").await.unwrap_err();
    assert_class(&error, &ReadOnlyTransactionError);
    x.rollback().await.unwrap();
    db.set_session(SessionChange::new().readonly(Some(false)).deferrable(None))
        .await
        .unwrap();
    assert_eq!((db.readonly(), db.deferrable()), (Some(false), None));
    assert_eq!(show(&db, "default_transaction_deferrable").await, "off");
    db.set_autocommit(false).unwrap();
    db.execute("INSERT INTO t VALUES (1)").await.unwrap();
    assert_eq!(show(&db, "transaction_read_only").await, "off");
    db.commit().await.unwrap();
    assert_eq!(count(&db).await, 1);
}

#[tokio::test]
async fn autocommit_off_runs_statements_in_a_block_seen_at_commit() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let other = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    assert!(db.autocommit());
    db.set_session(SessionChange::new().autocommit(false))
        .await
        .unwrap();
    assert!(!db.autocommit());
    // Simple queries and prepared statements alike run inside the block begun for them.
    db.execute("INSERT INTO t VALUES (1)").await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
    db.query("INSERT INTO t VALUES ($1)", (2i32,))
        .await
        .unwrap();
    assert_eq!(count(&db).await, 2);
    assert_eq!(count(&other).await, 0);
    db.commit().await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    assert_eq!(count(&other).await, 2);
    // The next statement begins the next block; rollback discards it.
    db.execute("INSERT INTO t VALUES (3)").await.unwrap();
    assert_eq!(count(&db).await, 3);
    db.rollback().await.unwrap();
    assert_eq!(count(&db).await, 2);
    db.rollback().await.unwrap(); // the count's block; nothing more to discard
    assert_eq!(count(&other).await, 2);
    // Committing and rolling back outside a block do nothing.
    db.rollback().await.unwrap();
    db.commit().await.unwrap();
    // A block in which an error occurred rolls back at commit.
    db.execute("INSERT INTO t VALUES (4)").await.unwrap();
    assert!(db.execute("SELECT 1/0").await.is_err());
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InError);
    let error = db.commit().await.unwrap_err();
    assert_class(&error, &InFailedTransactionError);
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    assert_eq!(count(&other).await, 2);
    // Autocommit cannot change inside a block.
    db.execute("SELECT 1").await.unwrap();
    assert_class(&db.set_autocommit(true).unwrap_err(), &OperationError);
    db.rollback().await.unwrap();
    db.set_autocommit(true).unwrap();
    db.execute("INSERT INTO t VALUES (5)").await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    assert_eq!(count(&other).await, 3);
}

#[tokio::test]
async fn driver_transactions_with_autocommit_off() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let other = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    db.set_autocommit(false).unwrap();
    // Idle: db.xact() opens the block itself, and commits it.
    let x = db.xact().isolation(Isolation::RepeatableRead);
    x.start().await.unwrap();
    assert_eq!(x.is_savepoint(), Some(false));
    assert_eq!(show(&db, "transaction_isolation").await, "repeatable read");
    db.execute("INSERT INTO t VALUES (1)").await.unwrap();
    x.commit().await.unwrap();
    assert_eq!(count(&other).await, 1);
    // Inside a block begun lazily it is a savepoint; the block ends with db.commit().
    db.execute("INSERT INTO t VALUES (2)").await.unwrap();
    let sp = db.xact();
    sp.start().await.unwrap();
    assert_eq!(sp.is_savepoint(), Some(true));
    db.execute("INSERT INTO t VALUES (3)").await.unwrap();
    sp.rollback().await.unwrap();
    db.commit().await.unwrap();
    assert_eq!(count(&other).await, 2);
    // A guard whose block db.commit() ended queues nothing into the next block.
    let x = db.xact();
    x.start().await.unwrap();
    db.commit().await.unwrap();
    drop(x);
    db.execute("INSERT INTO t VALUES (4)").await.unwrap();
    db.commit().await.unwrap();
    assert_eq!(count(&other).await, 3);
    // set_session inside a block is refused, and leaves the block alone.
    db.execute("INSERT INTO t VALUES (5)").await.unwrap();
    let error = db
        .set_session(SessionChange::new().readonly(Some(true)))
        .await
        .unwrap_err();
    assert_class(&error, &OperationError);
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
    db.commit().await.unwrap();
    assert_eq!(count(&other).await, 4);
    // reset() works with autocommit off, forgets the characteristics DISCARD ALL resets, and
    // returns to autocommit, as after connect.
    db.set_session(SessionChange::new().isolation_level("SERIALIZABLE"))
        .await
        .unwrap();
    db.execute("INSERT INTO t VALUES (6)").await.unwrap();
    db.reset().await.unwrap();
    assert_eq!(db.isolation_level(), None);
    assert!(db.autocommit());
    assert_eq!(
        show(&db, "default_transaction_isolation").await,
        "read committed"
    );
    db.rollback().await.unwrap();
    assert_eq!(count(&other).await, 4);
}

#[tokio::test]
async fn set_isolation_level_rolls_back_first() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    db.set_autocommit(false).unwrap();
    db.execute("INSERT INTO t VALUES (1)").await.unwrap();
    db.set_isolation_level(ISOLATION_LEVEL_SERIALIZABLE)
        .await
        .unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    assert!(!db.autocommit());
    assert_eq!(db.isolation_level(), Some(Isolation::Serializable));
    assert_eq!(count(&db).await, 0);
    assert_eq!(show(&db, "transaction_isolation").await, "serializable");
    for (level, shown) in [
        (ISOLATION_LEVEL_READ_COMMITTED, "read committed"),
        (ISOLATION_LEVEL_REPEATABLE_READ, "repeatable read"),
        (ISOLATION_LEVEL_READ_UNCOMMITTED, "read uncommitted"),
        (ISOLATION_LEVEL_DEFAULT, "read committed"),
    ] {
        db.execute("INSERT INTO t VALUES (2)").await.unwrap();
        db.set_isolation_level(level).await.unwrap();
        assert_eq!(count(&db).await, 0);
        assert_eq!(show(&db, "transaction_isolation").await, shown);
    }
    assert_eq!(db.isolation_level(), None);
    // AUTOCOMMIT: autocommit on, the level as it was.
    db.set_isolation_level(ISOLATION_LEVEL_REPEATABLE_READ)
        .await
        .unwrap();
    db.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
        .await
        .unwrap();
    assert!(db.autocommit());
    assert_eq!(db.isolation_level(), Some(Isolation::RepeatableRead));
    db.execute("INSERT INTO t VALUES (3)").await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    assert_eq!(count(&db).await, 1);
}

#[tokio::test]
async fn invalid_levels_are_refused_before_anything_is_sent() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    db.set_autocommit(false).unwrap();
    db.execute("INSERT INTO t VALUES (1)").await.unwrap();
    for level in [-1, 6, 42] {
        let error = db.set_isolation_level(level).await.unwrap_err();
        assert_class(&error, &OperationError);
        assert!(error.to_string().contains("isolation level"), "{error}");
    }
    for level in ["SNAPSHOT", "serializable;", "READ", ""] {
        let change = SessionChange::new().isolation_level(level);
        let error = db.set_session(change).await.unwrap_err();
        assert_class(&error, &OperationError);
        assert!(error.to_string().contains("isolation level"), "{error}");
    }
    // Nothing was sent: no rollback happened, the block and its row are still there.
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
    assert_eq!(count(&db).await, 1);
    assert_eq!(db.isolation_level(), None);
    db.commit().await.unwrap();
    assert_eq!(count(&db).await, 1);
}

#[tokio::test]
async fn psycopg2_status_values_across_a_session() {
    let db = common::connect().await;
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    db.execute("BEGIN").await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
    assert!(db.execute("SELECT 1/0").await.is_err());
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InError);
    db.rollback().await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    // ACTIVE while a long query runs, seen from another task.
    let busy = db.clone();
    let running = tokio::spawn(async move { busy.execute("SELECT pg_sleep(1)").await });
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if db.get_transaction_status() == PqTransactionStatus::Active {
            break;
        }
        assert!(Instant::now() < deadline, "never saw ACTIVE");
    }
    running.await.unwrap().unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    // Parameter status, the server's version and protocol.
    assert!(db.parameter_status("server_encoding").is_some());
    assert!(db.server_version().unwrap() >= 90_000);
    assert_eq!(db.protocol_version(), (3, 0));
    db.close();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Unknown);
    let codes = [
        PqTransactionStatus::Idle,
        PqTransactionStatus::Active,
        PqTransactionStatus::InTrans,
        PqTransactionStatus::InError,
        PqTransactionStatus::Unknown,
    ]
    .map(PqTransactionStatus::code);
    assert_eq!(codes, [0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn notifies_reads_what_the_server_holds() {
    let db = common::connect().await;
    let other = common::connect().await;
    db.execute("LISTEN extras_channel").await.unwrap();
    other
        .execute("NOTIFY extras_channel, 'hello'")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let received = loop {
        let received = db.notifies().await.unwrap();
        if !received.is_empty() {
            assert_eq!(received.dropped, 0);
            break received.notifications;
        }
        assert!(Instant::now() < deadline, "no notification arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(received[0].channel, "extras_channel");
    assert_eq!(received[0].payload, "hello");
    assert_eq!(Some(received[0].pid), other.backend_id());
}

#[test]
fn the_blocking_facade_has_the_extras() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    let other = sandbox.connect_blocking().unwrap();
    let count = |db: &pg_driver::blocking::Connection| -> String {
        db.simple("SELECT count(*) FROM t").unwrap()[0].rows[0][0]
            .clone()
            .unwrap()
    };
    db.execute("CREATE TABLE t (i int)").unwrap();
    db.set_session(
        SessionChange::new()
            .isolation_level("REPEATABLE READ")
            .autocommit(false),
    )
    .unwrap();
    assert!(!db.autocommit());
    assert_eq!(db.isolation_level(), Some(Isolation::RepeatableRead));
    assert_eq!((db.readonly(), db.deferrable()), (None, None));
    db.execute("INSERT INTO t VALUES (1)").unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
    let shown = db.simple("SHOW transaction_isolation").unwrap()[0].rows[0][0].clone();
    assert_eq!(shown.as_deref(), Some("repeatable read"));
    assert_eq!(count(&other), "0");
    db.commit().unwrap();
    assert_eq!(count(&other), "1");
    db.execute("INSERT INTO t VALUES (2)").unwrap();
    db.rollback().unwrap();
    db.execute("INSERT INTO t VALUES (3)").unwrap();
    let error = db.set_isolation_level(9).unwrap_err();
    assert_class(&error, &OperationError);
    db.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT).unwrap();
    assert!(db.autocommit());
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    assert_eq!(count(&other), "1");
    db.set_autocommit(false).unwrap();
    assert!(db.notifies().unwrap().is_empty());
    db.close();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Unknown);
}

#[tokio::test]
async fn reset_returns_to_autocommit_and_default_characteristics() {
    let db = common::connect().await;
    db.set_autocommit(false).unwrap();
    db.set_session(
        SessionChange::new()
            .isolation_level("SERIALIZABLE")
            .readonly(Some(true)),
    )
    .await
    .unwrap();
    db.execute("SELECT 1").await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
    db.reset().await.unwrap();
    assert!(db.autocommit());
    assert_eq!(db.isolation_level(), None);
    db.execute("SELECT 1").await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
    let isolation: String = db
        .query_first("SHOW transaction_isolation", ())
        .await
        .unwrap();
    assert_eq!(isolation, "read committed");
}

#[tokio::test]
async fn open_block_queues_the_begin_and_makes_transactions_savepoints() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let other = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    let refused = db.open_block().unwrap_err();
    assert_class(&refused, &OperationError);
    db.set_autocommit(false).unwrap();
    db.open_block().unwrap();
    // Open, or on its way: autocommit cannot change now, and a transaction is a savepoint.
    assert_class(&db.set_autocommit(true).unwrap_err(), &OperationError);
    let sp = db.xact();
    sp.start().await.unwrap();
    assert_eq!(sp.is_savepoint(), Some(true));
    db.execute("INSERT INTO t VALUES (1)").await.unwrap();
    sp.commit().await.unwrap();
    assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
    assert_eq!(
        count(&other).await,
        0,
        "the savepoint's release commits nothing"
    );
    // Twice is once.
    db.open_block().unwrap();
    db.commit().await.unwrap();
    assert_eq!(count(&other).await, 1);
    db.set_autocommit(true).unwrap();
}

/// Counts, through a proxy, the simple Query messages the driver sends and the
/// ReadyForQuery messages the server answers with: one ReadyForQuery is one server cycle.
struct Cycles {
    queries: Arc<AtomicUsize>,
    readies: Arc<AtomicUsize>,
    _proxy: proxy::Proxy,
    port: u16,
}

impl Cycles {
    async fn start() -> Cycles {
        let (queries, readies) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let plan: proxy::Plan = Arc::new({
            let (queries, readies) = (queries.clone(), readies.clone());
            move |way, tag, _: &[u8]| {
                match (way, tag) {
                    (proxy::Way::ToServer, b'Q') => queries.fetch_add(1, Ordering::SeqCst),
                    (proxy::Way::ToClient, b'Z') => readies.fetch_add(1, Ordering::SeqCst),
                    _ => 0,
                };
                proxy::Action::Forward
            }
        });
        let t = common::temporal();
        let server = format!("{}:{}", t.host(), t.port()).parse().unwrap();
        let proxy = proxy::Proxy::start(server, plan).await;
        let port = proxy.port;
        Cycles {
            queries,
            readies,
            _proxy: proxy,
            port,
        }
    }

    async fn connect(&self, sandbox: &pg_cluster::Sandbox<'_>, extra: &str) -> Connection {
        let t = common::temporal();
        let iri = format!(
            "pq://{}@127.0.0.1:{}/{}?[sslmode]=disable&search_path={}{extra}",
            t.user(),
            self.port,
            t.database(),
            sandbox.search_path(),
        );
        pg_driver::Connector::new(
            pg_driver::params::Keywords::parse(&iri)
                .and_then(|k| k.build())
                .unwrap(),
        )
        .connect()
        .await
        .unwrap()
    }

    /// (Query messages, ReadyForQuery messages) since the last look.
    fn take(&self) -> (usize, usize) {
        (
            self.queries.swap(0, Ordering::SeqCst),
            self.readies.swap(0, Ordering::SeqCst),
        )
    }
}

#[tokio::test]
async fn autocommit_off_sends_the_begin_in_front_of_an_extended_request() {
    let sandbox = common::temporal().sandbox().unwrap();
    let other = sandbox.connect().await.unwrap();
    other.execute("CREATE TABLE t (i int)").await.unwrap();
    for extra in ["", "&[prepared_statements]=unnamed"] {
        let cycles = Cycles::start().await;
        let db = cycles.connect(&sandbox, extra).await;
        db.execute("TRUNCATE t").await.unwrap();
        let insert = db.prepare("INSERT INTO t VALUES ($1)").await.unwrap();
        let cached = "INSERT INTO t VALUES ($1 + 100)";
        db.query_cached(cached, (0i32,)).await.unwrap();
        db.execute("TRUNCATE t").await.unwrap();
        db.set_autocommit(false).unwrap();
        cycles.take();
        // A statement of the extended protocol: its BEGIN rides in front of it, under its
        // Sync, with no simple Query and no ReadyForQuery of its own.
        db.query_cached(cached, (1i32,)).await.unwrap();
        assert_eq!(cycles.take(), (0, 1), "{extra}: one server cycle");
        assert_eq!(db.get_transaction_status(), PqTransactionStatus::InTrans);
        assert_eq!(count(&other).await, 0);
        db.commit().await.unwrap();
        assert_eq!(count(&other).await, 1);
        cycles.take();
        // open_block promises the block; a prepared statement's execution begins it.
        db.open_block().unwrap();
        assert_eq!(cycles.take(), (0, 0), "open_block sends nothing");
        insert.call((2i32,)).await.unwrap();
        assert_eq!(cycles.take(), (0, 1), "{extra}: one server cycle");
        db.rollback().await.unwrap();
        assert_eq!(count(&other).await, 1, "rolled back");
        // A block promised and ended before any statement costs nothing.
        cycles.take();
        db.open_block().unwrap();
        db.commit().await.unwrap();
        db.open_block().unwrap();
        db.rollback().await.unwrap();
        assert_eq!(cycles.take(), (0, 0), "nothing to end on the server");
        assert_eq!(db.get_transaction_status(), PqTransactionStatus::Idle);
        // A simple query gets a BEGIN of its own before it.
        db.execute("INSERT INTO t VALUES (3)").await.unwrap();
        assert_eq!(cycles.take(), (2, 2), "{extra}: BEGIN, then the statement");
        db.commit().await.unwrap();
        assert_eq!(count(&other).await, 2);
        // A statement that fails in a carried block leaves it failed, as a failed statement
        // after a BEGIN of its own would.
        let failed = db.query("SELECT 1 / $1", (0i32,)).await.unwrap_err();
        assert!(failed.is_a(&pg_exceptions::ZeroDivisionError), "{failed}");
        assert_eq!(db.transaction_status(), pg_api::TransactionStatus::Failed);
        assert_class(&db.commit().await.unwrap_err(), &InFailedTransactionError);
        db.set_autocommit(true).unwrap();
    }
}

#[tokio::test]
async fn a_carried_begin_dropped_at_any_poll_leaves_the_block_known_and_commits_nothing() {
    let sandbox = common::temporal().sandbox().unwrap();
    let other = sandbox.connect().await.unwrap();
    other.execute("CREATE TABLE t (i int)").await.unwrap();
    let db = sandbox.connect().await.unwrap();
    db.set_autocommit(false).unwrap();
    for polls in 0..12 {
        if polls % 2 == 0 {
            db.open_block().unwrap();
        }
        let mut insert = Box::pin(db.query("INSERT INTO t VALUES ($1)", (polls,)));
        let mut polled = 0;
        let finished = loop {
            if polled == polls {
                break false;
            }
            polled += 1;
            let step =
                std::future::poll_fn(|cx| std::task::Poll::Ready(insert.as_mut().poll(cx))).await;
            if step.is_ready() {
                break true;
            }
            tokio::task::yield_now().await;
        };
        drop(insert);
        // Whatever the poll it was dropped at: a queued INSERT runs in the block, and the
        // connection knows it is in one; nothing runs outside a block.
        let echo: i32 = db.query_first("SELECT $1::int4", (polls,)).await.unwrap();
        assert_eq!(echo, polls, "after {polls} polls");
        assert_eq!(
            db.transaction_status(),
            pg_api::TransactionStatus::InTransaction,
            "after {polls} polls"
        );
        assert!(
            db.set_autocommit(true).is_err(),
            "in a block after {polls} polls"
        );
        db.rollback().await.unwrap();
        assert_eq!(
            count(&other).await,
            0,
            "after {polls} polls (finished: {finished})"
        );
        assert_eq!(db.transaction_status(), pg_api::TransactionStatus::Idle);
    }
}
