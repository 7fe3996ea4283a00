//! The driver's connection against a real server: state, errors, cancel, loss, messages.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{connect, connector, scalar, temporal};
use pg_driver::{Connector, TransactionStatus};
use pg_exceptions::{
    AdminShutdownError, ConnectionDoesNotExistError, ConnectionFailureError, Message,
    QueryCanceledError, SyntaxError, UndefinedTableError, ZeroDivisionError,
};

#[tokio::test]
async fn reports_server_identity() {
    let db = connect().await;
    let pid: i32 = scalar(&db, "SELECT pg_backend_pid()")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(db.backend_id(), Some(pid));
    let num: i32 = scalar(&db, "SHOW server_version_num")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(db.server_version().unwrap(), num);
    let info = db.version_info().unwrap();
    assert_eq!(info.major as i32, num / 10000);
    // version() is what `SELECT version()` says; the reported parameter keeps its own name.
    let version = db.version().await.unwrap();
    assert_eq!(
        Some(&version),
        scalar(&db, "SELECT version()").await.as_ref()
    );
    assert!(version.starts_with("PostgreSQL "), "{version}");
    assert_eq!(db.product_type().await.unwrap(), "PostgreSQL");
    assert!(
        db.parameter_status("server_version")
            .unwrap()
            .starts_with(&format!("{}.", info.major))
    );
    assert_eq!(db.protocol_version(), (3, 0));
    assert_eq!(
        db.parameter_status("client_encoding").as_deref(),
        Some("UTF8")
    );
    assert_eq!(db.parameter_status("no_such_parameter"), None);
    assert!(db.parameters().contains_key("server_encoding"));
    assert_eq!(db.security(), None);
    // TCP: the server sees the port this side is bound to.
    let local = db.client_addr().expect("a TCP connection");
    assert_eq!(db.client_port().await.unwrap(), Some(local.port()));
    assert_eq!(
        db.client_address().await.unwrap().as_deref(),
        Some("127.0.0.1")
    );
    // backend_start is a timestamp: this session's backend started a moment ago.
    let started: chrono::DateTime<chrono::Utc> = db.backend_start().await.unwrap().unwrap();
    let age = chrono::Utc::now() - started;
    assert!(
        age >= -chrono::TimeDelta::seconds(5) && age < chrono::TimeDelta::seconds(120),
        "{started}"
    );
}

#[tokio::test]
async fn parameter_status_follows_the_server() {
    let db = connect().await;
    db.execute("SET application_name = 'reports-itself'")
        .await
        .unwrap();
    assert_eq!(
        db.parameter_status("application_name").as_deref(),
        Some("reports-itself")
    );
    db.execute("SET TimeZone = 'Pacific/Auckland'")
        .await
        .unwrap();
    assert_eq!(
        db.parameter_status("TimeZone").as_deref(),
        Some("Pacific/Auckland")
    );
}

#[tokio::test]
async fn transaction_status_tracks_ready_for_query() {
    let db = connect().await;
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    db.execute("BEGIN").await.unwrap();
    assert_eq!(db.transaction_status(), TransactionStatus::InTransaction);
    assert!(db.execute("SELECT 1/0").await.is_err());
    assert_eq!(db.transaction_status(), TransactionStatus::Failed);
    db.execute("ROLLBACK").await.unwrap();
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn execute_runs_statements_until_the_first_error() {
    let db = connect().await;
    let error = db
        .execute(
            "CREATE TEMP TABLE steps (n int); INSERT INTO steps VALUES (1); \
             SELECT 1/0; INSERT INTO steps VALUES (2)",
        )
        .await
        .unwrap_err();
    assert!(error.is_a(&ZeroDivisionError), "{error}");
    // The simple protocol runs the string as one implicit transaction: nothing stayed.
    let missing = db.execute("SELECT * FROM steps").await.unwrap_err();
    assert!(missing.is_a(&UndefinedTableError), "{missing}");
    db.execute("CREATE TEMP TABLE steps (n int); INSERT INTO steps VALUES (1), (2)")
        .await
        .unwrap();
    assert_eq!(
        scalar(&db, "SELECT sum(n) FROM steps").await.as_deref(),
        Some("3")
    );
}

#[tokio::test]
async fn server_errors_carry_class_fields_and_context() {
    let db = connect().await;
    let error = db
        .execute("SELECT * FROM no_such_table_here")
        .await
        .unwrap_err();
    assert!(error.is_a(&UndefinedTableError));
    assert_eq!(error.code(), "42P01");
    assert_eq!(error.position(), Some(15));
    assert_eq!(error.statement(), Some("SELECT * FROM no_such_table_here"));
    let report = format!("{error:#}");
    assert!(
        report.contains("SELECT * FROM no_such_table_here"),
        "{report}"
    );
    assert!(
        report.contains("              ^"),
        "a caret under position 15:\n{report}"
    );
    let syntax = db.execute("SELEC 1").await.unwrap_err();
    assert!(syntax.is_a(&SyntaxError), "{syntax}");
    // The connection is still usable after errors.
    assert_eq!(scalar(&db, "SELECT 41 + 1").await.as_deref(), Some("42"));
}

#[tokio::test]
async fn close_is_idempotent_and_later_use_fails_at_once() {
    let db = connect().await;
    let handle = db.clone();
    assert!(!db.closed());
    db.close();
    db.close();
    assert!(db.closed() && handle.closed());
    let started = Instant::now();
    let error = handle.execute("SELECT 1").await.unwrap_err();
    assert!(error.is_a(&ConnectionDoesNotExistError), "{error}");
    assert!(started.elapsed() < Duration::from_secs(1));
    // connect() re-establishes a closed connection and is a no-op on an open one.
    db.connect().await.unwrap();
    let pid = db.backend_id();
    db.connect().await.unwrap();
    assert_eq!(db.backend_id(), pid);
    assert_eq!(
        scalar(&handle, "SELECT 'back'").await.as_deref(),
        Some("back")
    );
}

#[tokio::test]
async fn clone_connection_opens_a_new_session() {
    let db = connect().await;
    let other = db.clone_connection().await.unwrap();
    assert_ne!(db.backend_id(), other.backend_id());
    assert_eq!(other.connector().iri(), db.connector().iri());
    // A handle clone is the same session.
    assert_eq!(db.clone().backend_id(), db.backend_id());
}

#[tokio::test]
async fn unix_socket_connector() {
    let t = temporal();
    let Some(dir) = t.socket_dir() else {
        eprintln!("skipped: the server under test has no local socket directory");
        return;
    };
    let connector = Connector::unix(connector().params().clone(), dir, t.port());
    let db = connector.connect().await.unwrap();
    assert_eq!(db.client_addr(), None);
    assert_eq!(db.client_address().await.unwrap(), None);
    assert_eq!(
        scalar(&db, "SELECT 'over a socket'").await.as_deref(),
        Some("over a socket")
    );
}

#[tokio::test]
async fn do_runs_quoted_code_blocks() {
    let db = connect().await;
    db.do_(
        "plpgsql",
        "BEGIN CREATE TEMP TABLE done_here AS SELECT 'it''s done'::text AS t; END",
    )
    .await
    .unwrap();
    assert_eq!(
        scalar(&db, "SELECT t FROM done_here").await.as_deref(),
        Some("it's done")
    );
    let error = db.do_("no_such_language", "x").await.unwrap_err();
    assert!(error.code().starts_with("42"), "{error}");
}

#[tokio::test]
async fn reset_returns_to_the_state_after_connect() {
    let db = connect().await;
    let initial = scalar(&db, "SHOW work_mem").await;
    db.execute("SET work_mem = '17MB'; CREATE TEMP TABLE scratch (i int); PREPARE p AS SELECT 1")
        .await
        .unwrap();
    db.execute("BEGIN").await.unwrap();
    db.reset().await.unwrap();
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    assert_eq!(scalar(&db, "SHOW work_mem").await, initial);
    assert!(db.execute("SELECT * FROM scratch").await.is_err());
    assert!(db.execute("EXECUTE p").await.is_err());
}

#[tokio::test]
async fn interrupt_cancels_the_running_query() {
    let db = connect().await;
    let canceller = db.cancel_handle();
    let sleeper = {
        let db = db.clone();
        tokio::spawn(async move { db.execute("SELECT pg_sleep(30)").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    canceller.cancel().await.unwrap();
    let error = sleeper.await.unwrap().unwrap_err();
    assert!(error.is_a(&QueryCanceledError), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        scalar(&db, "SELECT 'still usable'").await.as_deref(),
        Some("still usable")
    );
}

#[test]
fn interrupt_from_another_thread_with_the_blocking_facade() {
    let db = pg_driver::blocking::Connector::from(connector())
        .connect()
        .unwrap();
    let handle = db.cancel_handle();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        handle.cancel_blocking()
    });
    let error = db.execute("SELECT pg_sleep(30)").unwrap_err();
    canceller.join().unwrap().unwrap();
    assert!(error.is_a(&QueryCanceledError), "{error}");
    db.execute("SELECT 1").unwrap();
}

#[tokio::test]
async fn dropping_an_operation_mid_query_leaves_the_connection_usable() {
    let db = connect().await;
    let abandoned = tokio::time::timeout(
        Duration::from_millis(100),
        db.execute("SELECT pg_sleep(0.5); CREATE TEMP TABLE after_sleep (i int)"),
    )
    .await;
    assert!(abandoned.is_err(), "the query outlives the timeout");
    // The abandoned answer is drained: the next query gets its own answer.
    assert_eq!(scalar(&db, "SELECT 'mine'").await.as_deref(), Some("mine"));
    // The abandoned statement was the last one written: it was cancelled on the server, and
    // what came after its sleep never ran (issue 25; it used to run to its end).
    let gone = db.execute("SELECT * FROM after_sleep").await.unwrap_err();
    assert!(gone.is_a(&pg_exceptions::UndefinedTableError), "{gone:#}");
}

#[tokio::test]
async fn concurrent_users_of_one_connection_get_their_own_answers() {
    let db = connect().await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { (i, scalar(&db, &format!("SELECT {i} * 2")).await) })
        })
        .collect();
    for task in tasks {
        let (i, answer) = task.await.unwrap();
        assert_eq!(answer, Some((i * 2).to_string()));
    }
}

#[tokio::test]
async fn terminated_backend_gives_admin_shutdown_then_does_not_exist() {
    let victim = connect().await;
    let killer = connect().await;
    let pid = victim.backend_id().unwrap();
    killer
        .execute(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
    let started = Instant::now();
    let first = victim.execute("SELECT 1").await.unwrap_err();
    assert!(
        first.is_a(&AdminShutdownError) || first.is_a(&ConnectionFailureError),
        "the server's goodbye or the lost socket: {first}"
    );
    // The driver has noticed the loss by now; every later use fails at once.
    let second = victim.execute("SELECT 1").await.unwrap_err();
    assert!(second.is_a(&ConnectionDoesNotExistError), "{second}");
    assert!(victim.closed());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn terminated_while_idle_reports_admin_shutdown() {
    let victim = connect().await;
    let killer = connect().await;
    let pid = victim.backend_id().unwrap();
    killer
        .execute(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
    // Give the FATAL message and the hang-up time to arrive while nothing is asked.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !victim.closed() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(victim.closed());
    // The first use learns why the connection went away, later ones that it is gone.
    let first = victim.execute("SELECT 1").await.unwrap_err();
    assert!(first.is_a(&AdminShutdownError), "{first}");
    let error = victim.execute("SELECT 1").await.unwrap_err();
    assert!(error.is_a(&ConnectionDoesNotExistError), "{error}");
    assert!(
        format!("{error:#}").contains("57P01"),
        "the reason is kept: {error:#}"
    );
}

fn recorder(
    log: &Arc<Mutex<Vec<String>>>,
    level: &'static str,
    stop: bool,
    tag: &'static str,
) -> pg_driver::MessageHook {
    let log = log.clone();
    Arc::new(move |message: &Message| {
        if message.message().contains(tag) {
            log.lock()
                .unwrap()
                .push(format!("{level}: {}", message.message()));
            stop
        } else {
            false
        }
    })
}

#[tokio::test]
async fn notices_travel_the_hook_chain_nearest_first() {
    const TAG: &str = "hook-chain-notice";
    let log = Arc::new(Mutex::new(Vec::new()));
    let driver = pg_driver::Driver::new();
    driver.set_message_hook(Some(recorder(&log, "driver", false, TAG)));
    let params = connector().params().clone();
    let connector = Connector::with_driver(params, driver.clone()).with_message_hook(recorder(
        &log,
        "connector",
        false,
        TAG,
    ));
    let db = connector.connect().await.unwrap();
    // The driver lowers client_min_messages to WARNING (py-postgresql's default); notices wanted.
    db.execute("SET client_min_messages = notice")
        .await
        .unwrap();
    db.set_message_hook(Some(recorder(&log, "connection", false, TAG)));
    pg_driver::set_process_message_hook(Some(recorder(&log, "process", true, TAG)));
    db.do_("plpgsql", &format!("BEGIN RAISE NOTICE '{TAG} one'; END"))
        .await
        .unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            format!("connection: {TAG} one"),
            format!("connector: {TAG} one"),
            format!("driver: {TAG} one"),
            format!("process: {TAG} one"),
        ]
    );
    // A hook that returns true stops the message there.
    log.lock().unwrap().clear();
    db.set_message_hook(Some(recorder(&log, "connection", true, TAG)));
    db.do_("plpgsql", &format!("BEGIN RAISE WARNING '{TAG} two'; END"))
        .await
        .unwrap();
    assert_eq!(*log.lock().unwrap(), [format!("connection: {TAG} two")]);
    pg_driver::set_process_message_hook(None);
    let kept = db.notices();
    let last = kept.last().unwrap();
    assert_eq!(last.message(), format!("{TAG} two"));
    assert_eq!(last.severity(), "WARNING");
    assert_eq!(last.code(), "01000");
}

#[tokio::test]
async fn the_connection_keeps_the_latest_notices() {
    let db = connect().await;
    // The driver lowers client_min_messages to WARNING (py-postgresql's default); notices wanted.
    db.execute("SET client_min_messages = notice")
        .await
        .unwrap();
    db.set_message_hook(Some(Arc::new(|_: &Message| true)));
    db.do_(
        "plpgsql",
        "BEGIN FOR i IN 1..60 LOOP RAISE NOTICE 'n%', i; END LOOP; END",
    )
    .await
    .unwrap();
    let kept = db.notices();
    assert_eq!(kept.len(), pg_driver::DEFAULT_NOTICE_CAPACITY);
    assert_eq!(kept.first().unwrap().message(), "n11");
    assert_eq!(kept.last().unwrap().message(), "n60");
    db.set_notice_capacity(3);
    let kept: Vec<_> = db
        .notices()
        .iter()
        .map(|m| m.message().to_owned())
        .collect();
    assert_eq!(kept, ["n58", "n59", "n60"]);
}

#[tokio::test]
async fn messages_and_errors_say_where_the_server_raised_them() {
    let db = connect().await;
    // The driver asks for warnings and above unless told otherwise.
    db.execute("SET client_min_messages = notice")
        .await
        .unwrap();
    db.set_message_hook(Some(Arc::new(|_: &Message| true)));
    db.do_("plpgsql", "BEGIN RAISE NOTICE 'here'; END")
        .await
        .unwrap();
    let notice = db.notices().pop().unwrap();
    let location = notice.location().expect("the server's F, L and R fields");
    assert_eq!(location.file, Some("pl_exec.c"));
    assert!(location.line.is_some_and(|l| l > 0), "{location:?}");
    assert_eq!(location.function, Some("exec_stmt_raise"));
    assert_eq!(
        location.to_string(),
        format!(
            "File \"pl_exec.c\", line {}, in exec_stmt_raise",
            location.line.unwrap()
        )
    );
    let err = db.execute("SELECT 1/0").await.unwrap_err();
    let location = err.location().unwrap();
    assert_eq!(location.function, Some("int4div"));
    // A message the client raised has no location of the server's.
    assert!(
        Message::new("WARNING", "01-00", "mine")
            .location()
            .is_none()
    );
}

#[test]
fn blocking_facade_offers_the_same_connection() {
    let db = pg_driver::blocking::Connector::from(connector())
        .connect()
        .unwrap();
    db.execute("CREATE TEMP TABLE b (i int); INSERT INTO b VALUES (5)")
        .unwrap();
    let rows = db.simple("SELECT i FROM b").unwrap();
    assert_eq!(rows[0].rows, [[Some("5".to_owned())]]);
    assert_eq!(db.transaction_status(), TransactionStatus::Idle);
    assert!(db.backend_id().is_some());
    assert!(db.server_version().unwrap() >= 100000);
    assert_eq!(
        db.client_port().unwrap(),
        db.as_async().client_addr().map(|a| a.port())
    );
    db.reset().unwrap();
    assert!(db.execute("SELECT * FROM b").is_err());
    let other = db.clone_connection().unwrap();
    assert_ne!(other.backend_id(), db.backend_id());
    db.close();
    assert!(db.closed());
    let error = db.execute("SELECT 1").unwrap_err();
    assert!(error.is_a(&ConnectionDoesNotExistError));
}

#[tokio::test]
async fn blocking_facade_refuses_to_run_inside_a_runtime() {
    let connector = pg_driver::blocking::Connector::from(connector());
    // On a thread of its own it works…
    let db = std::thread::spawn(move || connector.connect())
        .join()
        .unwrap()
        .unwrap();
    // …but on a runtime thread it says why it cannot, instead of panicking,
    let refused = db.execute("SELECT 1").unwrap_err();
    assert!(refused.message().contains("async runtime"), "{refused}");
    // and dropping it there does not panic either,
    drop(db);
    // nor does connecting there.
    let refused = pg_driver::blocking::Connector::from(common::connector())
        .connect()
        .unwrap_err();
    assert!(refused.message().contains("async runtime"), "{refused}");
}
