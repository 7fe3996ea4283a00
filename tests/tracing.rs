//! Observability: the driver's `tracing` spans and events, recorded by a layer of the test's
//! own (support/recorder.rs) against the real server.
//!
//! Each test installs its recorder for its own thread and runs a current-thread runtime,
//! so the connection's task (which sends notices on) reports to it too.

mod common;
#[path = "support/recorder.rs"]
mod recorder;

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use pg_driver::params::Keywords;
use pg_driver::{Connection, Connector};
use recorder::{Recorded, recorder};
use tracing::Level;

/// A secret parameter value: recorded nowhere unless `trace_parameters` is on.
const SECRET: &str = "s3cr3t-Parameter-9Xq";

/// Runs `test` on a current-thread runtime with a recorder installed; what it recorded.
fn recorded<F: Future<Output = ()>>(test: impl FnOnce(Recorded) -> F) -> Recorded {
    let (subscriber, recorded) = recorder();
    let _default = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(test(recorded.clone()));
    drop(runtime);
    recorded
}

/// A connector to the throwaway cluster with `extra` keywords.
fn connector_with(extra: impl FnOnce(Keywords) -> Keywords) -> Connector {
    let keywords = Keywords::parse(common::temporal().iri()).unwrap();
    Connector::new(extra(keywords).build().unwrap())
}

async fn connect_with(extra: impl FnOnce(Keywords) -> Keywords) -> Connection {
    connector_with(extra).connect().await.unwrap()
}

#[test]
fn a_statement_span_carries_its_sql_rows_and_duration() {
    let recorded = recorded(|recorded| async move {
        let db = common::connect().await;
        recorded.clear();
        let ps = db
            .prepare("SELECT g FROM generate_series(1, $1::int) g")
            .await
            .unwrap();
        assert_eq!(ps.call((3i32,)).await.unwrap().rows.len(), 3);
        // Streamed rows, given up half-way: the span closes with what was read.
        let mut rows = ps.rows((10i32,)).unwrap();
        rows.next().await.unwrap().unwrap();
        drop(rows);
        db.execute("CREATE TEMP TABLE t (i int); INSERT INTO t VALUES (1), (2)")
            .await
            .unwrap();
        db.close();
    });
    let spans = recorded.spans_named("query");
    let call = spans
        .iter()
        .find(|s| s.field("sql") == Some("SELECT g FROM generate_series(1, $1::int) g"))
        .expect("a span of the execution");
    assert_eq!(call.target, "pg_driver::query");
    assert_eq!(call.level, Level::DEBUG);
    assert_eq!(call.field("protocol"), Some("extended"));
    assert_eq!(call.field("command"), Some("SELECT"));
    assert_eq!(call.field("rows"), Some("3"));
    assert!(call.field("elapsed_ms").is_some(), "{call:?}");
    assert!(call.closed);
    assert_eq!(call.field("params"), None, "no values by default");
    let streamed = spans
        .iter()
        .filter(|s| s.field("sql") == call.field("sql"))
        .nth(1)
        .expect("a span of the stream");
    assert!(streamed.field("elapsed_ms").is_some(), "{streamed:?}");
    assert!(streamed.closed);
    let simple = spans
        .iter()
        .find(|s| {
            s.field("sql")
                .is_some_and(|sql| sql.starts_with("CREATE TEMP"))
        })
        .expect("a span of the simple query");
    assert_eq!(simple.field("protocol"), Some("simple"));
    assert_eq!(simple.field("command"), Some("INSERT"));
    assert_eq!(simple.field("rows"), Some("2"));
}

#[test]
fn a_failed_statement_records_its_sqlstate() {
    let recorded = recorded(|_| async move {
        let db = common::connect().await;
        assert!(db.query("SELECT 1/0", ()).await.is_err());
        db.close();
    });
    let span = recorded
        .spans_named("query")
        .into_iter()
        .find(|s| s.field("sql") == Some("SELECT 1/0"))
        .expect("a span");
    assert_eq!(span.field("error"), Some("22012"));
}

#[test]
fn connecting_is_an_event_with_the_server_and_no_password() {
    let recorded = recorded(|_| async move {
        let db = common::connect().await;
        db.close();
        // A closed connection connected again.
        db.connect().await.unwrap();
        db.close();
    });
    let connects = recorded.events_named("connect");
    assert_eq!(connects.len(), 2, "{connects:?}");
    let pg = common::temporal();
    let event = &connects[0];
    assert_eq!(event.target, "pg_driver::connect");
    assert_eq!(event.level, Level::INFO);
    assert_eq!(event.field("database"), Some(pg.database()));
    assert_eq!(event.field("user"), Some(pg.user()));
    assert_eq!(event.field("port"), Some(pg.port().to_string().as_str()));
    assert!(event.field("host").is_some());
    assert!(event.field("auth").is_some());
    assert!(matches!(event.field("tls"), Some("true" | "false")));
    let pid: i32 = event.field("backend_pid").unwrap().parse().unwrap();
    assert!(pid > 0);
    let reconnects = recorded.events_named("reconnect");
    assert_eq!(reconnects.len(), 1, "{reconnects:?}");
    if let Some(password) = pg.password() {
        assert!(!recorded.text().contains(password));
    }
}

#[test]
fn a_failed_connect_is_an_event() {
    let recorded = recorded(|_| async move {
        let connector = connector_with(|k| k.database("no_such_database_here"));
        assert!(connector.connect().await.is_err());
    });
    let failed = recorded.events_named("connect_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].field("code"), Some("3D000"));
    assert!(!recorded.events_named("host_failed").is_empty());
}

#[test]
fn slow_statements_warn_and_fast_ones_do_not() {
    let recorded = recorded(|_| async move {
        let db =
            connect_with(|k| k.slow_statement_threshold(Some(Duration::from_millis(100)))).await;
        db.query("SELECT 1", ()).await.unwrap();
        db.execute("SELECT 2").await.unwrap();
        db.query("SELECT pg_sleep(0.2)", ()).await.unwrap();
        db.execute("SELECT pg_sleep(0.2), 'simple'").await.unwrap();
        db.close();
    });
    let slow = recorded.events_named("slow_statement");
    assert_eq!(slow.len(), 2, "{slow:?}");
    for event in &slow {
        assert_eq!(event.level, Level::WARN);
        assert_eq!(event.target, "pg_driver::slow");
        assert!(event.field("sql").unwrap().contains("pg_sleep(0.2)"));
        let elapsed: f64 = event.field("elapsed_ms").unwrap().parse().unwrap();
        assert!(elapsed >= 190.0, "{event:?}");
        assert_eq!(event.field("threshold_ms"), Some("100.0"));
        assert_eq!(event.parent.as_deref(), Some("query"));
    }
}

#[test]
fn parameter_values_are_recorded_only_when_asked_for() {
    let threshold = Some(Duration::ZERO.max(Duration::from_nanos(1)));
    let by_default = recorded(|_| async move {
        // A threshold every statement passes: the slow warning, too, must not show values.
        let db = connect_with(|k| k.slow_statement_threshold(threshold)).await;
        let row: String = db.query_first("SELECT $1::text", (SECRET,)).await.unwrap();
        assert_eq!(row, SECRET);
        let named: &[(&str, &(dyn postgres_types::ToSql + Sync))] = &[("secret", &SECRET)];
        db.query_named("SELECT %(secret)s::text AS named", named)
            .await
            .unwrap();
        db.close();
    });
    assert!(!by_default.events_named("slow_statement").is_empty());
    let text = by_default.text();
    assert!(!text.contains(SECRET), "{text}");

    let asked = recorded(|_| async move {
        let db =
            connect_with(|k| k.slow_statement_threshold(threshold).trace_parameters(true)).await;
        let _: String = db.query_first("SELECT $1::text", (SECRET,)).await.unwrap();
        let named: &[(&str, &(dyn postgres_types::ToSql + Sync))] = &[("secret", &SECRET)];
        db.query_named("SELECT %(secret)s::text AS named", named)
            .await
            .unwrap();
        db.close();
    });
    let named = asked
        .spans_named("query")
        .into_iter()
        .find(|s| s.field("sql") == Some("SELECT $1::text AS named"))
        .expect("a span of the named query");
    assert_eq!(
        named.field("params"),
        Some(format!("[{SECRET:?}]").as_str())
    );
    let span = asked
        .spans_named("query")
        .into_iter()
        .find(|s| s.field("sql") == Some("SELECT $1::text"))
        .expect("a span");
    assert_eq!(span.field("params"), Some(format!("[{SECRET:?}]").as_str()));
    let slow = asked.events_named("slow_statement");
    assert!(
        slow.iter()
            .any(|e| e.field("params").is_some_and(|p| p.contains(SECRET)))
    );
}

#[test]
fn notices_are_events_by_severity() {
    let recorded = recorded(|recorded| async move {
        let db = common::connect().await;
        db.execute("SET client_min_messages = notice")
            .await
            .unwrap();
        recorded.clear();
        db.execute("DROP TABLE IF EXISTS no_such_table_for_tracing")
            .await
            .unwrap();
        db.execute("DO $$ BEGIN RAISE WARNING 'careful: %', 7; END $$")
            .await
            .unwrap();
        db.close();
    });
    let notices = recorded.events_named("notice");
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert_eq!(notices[0].target, "pg_driver::notice");
    assert_eq!(notices[0].level, Level::INFO);
    assert_eq!(notices[0].field("severity"), Some("NOTICE"));
    assert_eq!(notices[0].field("code"), Some("00000"));
    assert!(
        notices[0]
            .field("message")
            .unwrap()
            .contains("does not exist")
    );
    assert_eq!(notices[1].level, Level::WARN);
    assert_eq!(notices[1].field("message"), Some("careful: 7"));
}

#[test]
fn cancel_requests_are_events() {
    let recorded = recorded(|_| async move {
        let db = common::connect().await;
        let sleeper = db.clone();
        let sleep = tokio::spawn(async move { sleeper.execute("SELECT pg_sleep(10)").await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        db.interrupt().await.unwrap();
        assert!(sleep.await.unwrap().is_err());
        db.close();
    });
    let cancels = recorded.events_named("cancel");
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(cancels[0].target, "pg_driver::cancel");
    assert!(cancels[0].field("backend_pid").is_some());
}

/// The environment variable that makes [`child_writes_notices_nowhere`] do its work.
const CHILD: &str = "PG_TRACING_TEST_CHILD";

/// Run by [`the_driver_writes_nothing_to_standard_error`] in a process of its own (with no
/// subscriber and no hook): notices the server sends must go nowhere near standard error.
#[test]
fn child_writes_notices_nowhere() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = common::connect().await;
        db.execute("SET client_min_messages = debug5")
            .await
            .unwrap();
        db.execute("DROP TABLE IF EXISTS no_such_table_for_tracing")
            .await
            .unwrap();
        db.execute("DO $$ BEGIN RAISE WARNING 'warned'; RAISE NOTICE 'noticed'; END $$")
            .await
            .unwrap();
        db.close();
    });
}

#[test]
fn the_driver_writes_nothing_to_standard_error() {
    let pg = common::temporal();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writes_notices_nowhere", "--nocapture"])
        .env(CHILD, "1")
        .env("PGTEST_IRI", pg.iri())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(stderr.trim().is_empty(), "the driver wrote: {stderr}");
}

#[test]
fn loads_and_the_blocking_facade_have_spans_too() {
    let recorded = recorded(|_| async move {
        let db = common::connect().await;
        db.execute("CREATE TEMP TABLE loaded (i int)")
            .await
            .unwrap();
        let insert = db.prepare("INSERT INTO loaded VALUES ($1)").await.unwrap();
        let rows: Vec<(i32,)> = (0..40).map(|i| (i,)).collect();
        assert_eq!(insert.load_rows(rows).await.unwrap(), 40);
        db.close();
    });
    let load = recorded
        .spans_named("query")
        .into_iter()
        .find(|s| s.field("sql") == Some("INSERT INTO loaded VALUES ($1)") && s.closed)
        .unwrap_or_else(|| panic!("{:?}", recorded.spans_named("query")));
    assert_eq!(load.field("command"), Some("INSERT"));
    assert_eq!(load.field("rows"), Some("40"));

    let (subscriber, recorded) = recorder();
    let _default = tracing::subscriber::set_default(subscriber);
    let db = common::temporal().connect_blocking().unwrap();
    let ps = db.prepare("SELECT generate_series(1, 4)").unwrap();
    assert_eq!(ps.call(()).unwrap().rows.len(), 4);
    db.close();
    let span = recorded
        .spans_named("query")
        .into_iter()
        .find(|s| s.field("sql") == Some("SELECT generate_series(1, 4)"))
        .expect("a span of the blocking execution");
    assert_eq!(span.field("rows"), Some("4"));
    assert_eq!(recorded.events_named("connect").len(), 1);
}
