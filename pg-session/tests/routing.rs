//! Read-only routing against a real primary and a real streaming standby: writes on the
//! primary, reads on the standby, read sessions that cannot write, and the fallback on the
//! primary when no standby is up.

use std::net::TcpListener;
use std::sync::OnceLock;

use pg_cluster::Temporal;
use pg_exceptions::{Error, ReadOnlyTransactionError};
use pg_session::{AsyncSession, Session, pool_id};
use pg_types::Value;

type R = Result<(), Error>;

fn pair() -> &'static (Temporal, Temporal) {
    static PAIR: OnceLock<(Temporal, Temporal)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let primary = Temporal::builder()
            .replication(true)
            .build()
            .expect("a primary");
        primary
            .admin_sql("CREATE TABLE routed (i int); INSERT INTO routed VALUES (1)")
            .expect("a table");
        let standby = primary.standby().expect("a streaming standby");
        (primary, standby)
    })
}

/// A URI for these ports of 127.0.0.1, with an application name of the test's own (so each
/// test has pools of its own).
fn uri(ports: &[u16], app: &str) -> String {
    let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    format!(
        "postgresql://test@{}/test?sslmode=disable&application_name={app}",
        hosts.join(",")
    )
}

/// Whether the server answering `results` is in recovery, from a `pg_is_in_recovery()` row.
fn recovering(value: &Value) -> bool {
    matches!(value, Value::Bool(true))
}

const WHERE: &str = "SELECT pg_is_in_recovery() AS standby, current_setting('port')::int AS port";

#[test]
fn standby_reads_send_reads_to_the_standby_and_writes_to_the_primary() -> R {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    for (n, order) in [[p, s], [s, p]].into_iter().enumerate() {
        let uri = uri(&order, &format!("standby_reads_{n}"));
        let session = Session::builder(&uri).standby_reads(true).connect()?;
        assert_eq!(session.pid(), pool_id("Session[read-write]", &uri));
        let reads = session.readonly_pool().expect("a read pool");
        assert_eq!(reads.report().id, pool_id("Session[read-only]", &uri));

        let written = session.query(WHERE, ())?;
        assert!(!recovering(&written.as_dict()?["standby"]));
        assert_eq!(written.as_dict()?["port"], Value::Int4(i32::from(p)));
        let read = session.query_readonly(WHERE, ())?;
        assert!(recovering(&read.as_dict()?["standby"]));
        assert_eq!(read.as_dict()?["port"], Value::Int4(i32::from(s)));
        // The read connection is taken once and kept for the session.
        let backend = read.backend_pid();
        assert_eq!(session.query_readonly(WHERE, ())?.backend_pid(), backend);
        assert_eq!(session.readonly_connection()?.backend_id(), backend);
        assert_eq!(reads.report().busy, 1);
        assert_eq!(
            session
                .query_readonly("SELECT count(*) AS n FROM routed", ())?
                .as_dict()?["n"],
            Value::Int8(1)
        );
        // Writes on the read side are refused (the standby is read-only anyway).
        let refused = session
            .query_readonly("INSERT INTO routed VALUES (2)", ())
            .unwrap_err();
        assert!(refused.is_a(&ReadOnlyTransactionError), "{refused}");
        session.close()?;
        assert_eq!(reads.report().busy, 0);
    }
    Ok(())
}

#[test]
fn a_readonly_uri_gets_a_pool_of_its_own() -> R {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    let writes = uri(&[p], "readonly_uri");
    let reads = uri(&[s], "readonly_uri_reads");
    let session = Session::builder(&writes).readonly_uri(&reads).connect()?;
    assert_eq!(session.pid(), pool_id("Session", &writes));
    assert_eq!(
        session.readonly_pool().unwrap().report().id,
        pool_id("Session[read-only]", &reads)
    );
    assert!(!recovering(
        &session.query(WHERE, ())?.as_dict()?["standby"]
    ));
    assert!(recovering(
        &session.query_readonly(WHERE, ())?.as_dict()?["standby"]
    ));
    session.close()?;
    // With autocommit off, the session's block is on the primary; reads are not in it.
    let session = Session::builder(&writes)
        .readonly_uri(&reads)
        .autocommit(false)
        .connect()?;
    session.query("INSERT INTO routed VALUES (100)", ())?;
    assert_eq!(
        session.tx_status(),
        pg_driver::TransactionStatus::InTransaction
    );
    let seen = session.query_readonly("SELECT count(*) AS n FROM routed WHERE i = 100", ())?;
    assert_eq!(seen.as_dict()?["n"], Value::Int8(0));
    session.rollback()?;
    // Without routing, read-only work runs on the session's own connection.
    let plain = Session::new(&uri(&[p], "not_routed"))?;
    assert!(plain.readonly_pool().is_none());
    assert_eq!(
        plain.query_readonly(WHERE, ())?.backend_pid(),
        plain.backend_pid()
    );
    Ok(())
}

#[test]
fn reads_fall_back_on_the_primary_and_stay_read_only() -> R {
    let (primary, _) = pair();
    let p = primary.port();
    let down = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The standby is down: prefer-standby settles for the primary.
    let session = Session::builder(uri(&[down, p], "fallback"))
        .standby_reads(true)
        .connect()?;
    let read = session.query_readonly(WHERE, ())?;
    assert!(!recovering(&read.as_dict()?["standby"]));
    assert_eq!(read.as_dict()?["port"], Value::Int4(i32::from(p)));
    assert_ne!(read.backend_pid(), session.backend_pid());
    let refused = session
        .query_readonly("INSERT INTO routed VALUES (3)", ())
        .unwrap_err();
    assert!(refused.is_a(&ReadOnlyTransactionError), "{refused}");
    // Writes need a read-write server: with only the standby listed there is none.
    let (_, standby) = pair();
    let error = Session::builder(uri(&[standby.port()], "no_primary"))
        .standby_reads(true)
        .connect()
        .unwrap_err();
    assert!(
        error.message().ends_with("is a standby, read-write wanted"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn async_sessions_route_reads_too() -> R {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    let uri = uri(&[s, p], "async_routing");
    let session = AsyncSession::builder(&uri)
        .pool_max_size(1)
        .standby_reads(true)
        .build()?;
    assert_eq!(session.pid(), pool_id("TornadoSession[read-write]", &uri));
    let written = session.query(WHERE, ()).await?;
    assert_eq!(written.as_dict()?["port"], Value::Int4(i32::from(p)));
    drop(written);
    let read = session.query_readonly(WHERE, ()).await?;
    assert_eq!(read.as_dict()?["port"], Value::Int4(i32::from(s)));
    drop(read);
    let conn = session.acquire_readonly().await?;
    assert_eq!(
        conn.parameter_status("in_hot_standby").as_deref(),
        Some("on")
    );
    assert_eq!(
        conn.parameter_status("default_transaction_read_only")
            .as_deref(),
        Some("on")
    );
    assert_eq!(
        conn.pool_id(),
        pool_id("TornadoSession[read-only]", &uri).as_str()
    );
    conn.release().await;
    let reads = session.readonly_pool().unwrap().report();
    assert_eq!((reads.busy, reads.idle), (0, 1));

    // Pipelined, reads share the read pool's connections, and writes the primary's. A first
    // run, on a connection of its own, shows the statement leaves no state, for both pools.
    let pipelined = AsyncSession::builder(uri.replace("async_routing", "async_routing_pipe"))
        .pool_max_size(1)
        .standby_reads(true)
        .pipeline_depth(4)
        .build()?;
    pipelined.query_readonly(WHERE, ()).await?;
    pipelined.query(WHERE, ()).await?;
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let session = pipelined.clone();
            tokio::spawn(async move {
                let (read, written) =
                    tokio::join!(session.query_readonly(WHERE, ()), session.query(WHERE, ()));
                Ok::<_, Error>((read?, written?))
            })
        })
        .collect();
    for task in tasks {
        let (read, written) = task.await.unwrap()?;
        assert!(recovering(&read.as_dict()?["standby"]));
        assert!(!recovering(&written.as_dict()?["standby"]));
    }
    let reads = pipelined.readonly_pool().unwrap().report();
    assert_eq!((reads.executions, reads.exceptions), (4, 0));
    Ok(())
}
