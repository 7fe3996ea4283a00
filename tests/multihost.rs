//! Multi-host connections against a real primary and a real streaming standby: every
//! `target_session_attrs` value with the hosts in both orders, failover past hosts that are
//! down or silent, prefer-standby's fallback, the answers of servers that do not report their
//! attributes (as before 14), `load_balance_hosts=random`, and a standby promoted mid-test.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pg_cluster::Temporal;
use pg_driver::params::{Keywords, TargetSessionAttrs};
use pg_driver::{Connection, Connector};
use pg_exceptions::{ClientCannotConnectError, ConnectTimeoutError, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The primary and standby the non-destructive tests share, made on first use (removed at
/// exit like every throwaway cluster).
fn pair() -> &'static (Temporal, Temporal) {
    static PAIR: OnceLock<(Temporal, Temporal)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let primary = Temporal::builder()
            .replication(true)
            .build()
            .expect("a primary");
        let standby = primary.standby().expect("a streaming standby");
        (primary, standby)
    })
}

/// A port nothing listens on (a host that is down).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A `pq://` IRI for these ports of 127.0.0.1 (user and database `test`), with `query` added.
fn iri(ports: &[u16], query: &str) -> String {
    let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    format!(
        "pq://test@{}/test?[sslmode]=disable&[connect_timeout]=5{query}",
        hosts.join(",")
    )
}

/// The same as a libpq keyword string: `host=a,b port=p,q …`.
fn conninfo(ports: &[u16], extra: &str) -> String {
    let hosts = vec!["127.0.0.1"; ports.len()].join(",");
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!(
        "host={hosts} port={} user=test dbname=test sslmode=disable connect_timeout=5 {extra}",
        ports.join(",")
    )
}

fn connector(text: &str) -> Connector {
    Connector::new(Keywords::parse(text).and_then(Keywords::build).expect(text))
}

async fn connect(text: &str) -> Result<Connection, Error> {
    connector(text).connect().await
}

/// The port of the server a connection reached, asked of the server itself, and whether it
/// is in recovery.
async fn server(db: &Connection) -> (u16, bool) {
    let rows = db
        .simple("SELECT current_setting('port'), pg_is_in_recovery()")
        .await
        .unwrap()
        .remove(0)
        .rows
        .remove(0);
    let port = rows[0].as_deref().unwrap().parse().unwrap();
    (port, rows[1].as_deref() == Some("t"))
}

#[tokio::test]
async fn every_target_session_attrs_value_in_both_orders() {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    for order in [[p, s], [s, p]] {
        for attrs in TargetSessionAttrs::ALL {
            let expected = match attrs {
                TargetSessionAttrs::Any => order[0],
                TargetSessionAttrs::ReadWrite | TargetSessionAttrs::Primary => p,
                TargetSessionAttrs::ReadOnly
                | TargetSessionAttrs::Standby
                | TargetSessionAttrs::PreferStandby => s,
            };
            let spellings = [
                iri(&order, &format!("&[target_session_attrs]={attrs}")),
                conninfo(&order, &format!("target_session_attrs={attrs}")),
                format!(
                    "postgresql://test@127.0.0.1:{},127.0.0.1:{}/test?sslmode=disable&target_session_attrs={attrs}",
                    order[0], order[1]
                ),
            ];
            for text in spellings {
                let db = connect(&text)
                    .await
                    .unwrap_or_else(|e| panic!("{text}: {e}"));
                let (port, recovering) = server(&db).await;
                assert_eq!(port, expected, "{text}");
                assert_eq!(recovering, port == s, "{text}");
                assert_eq!(
                    db.parameter_status("in_hot_standby").as_deref(),
                    Some(if port == s { "on" } else { "off" })
                );
                db.close();
            }
        }
    }
}

#[tokio::test]
async fn rejected_servers_say_why() {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    let cases = [
        (
            s,
            "read-write",
            format!("127.0.0.1:{s} is a standby, read-write wanted"),
        ),
        (
            s,
            "primary",
            format!("127.0.0.1:{s} is a standby, primary wanted"),
        ),
        (
            p,
            "read-only",
            format!("127.0.0.1:{p} is read-write, read-only wanted"),
        ),
        (
            p,
            "standby",
            format!("127.0.0.1:{p} is a primary, standby wanted"),
        ),
    ];
    for (port, attrs, reason) in cases {
        let text = iri(&[port], &format!("&[target_session_attrs]={attrs}"));
        let error = connect(&text).await.unwrap_err();
        assert!(error.is_a(&ClientCannotConnectError), "{error}");
        assert_eq!(error.message(), reason);
    }
    // A primary whose sessions are read-only by default is no read-write server, but a
    // read-only one.
    let read_only = "&default_transaction_read_only=on";
    let text = iri(
        &[p],
        &format!("&[target_session_attrs]=read-write{read_only}"),
    );
    let error = connect(&text).await.unwrap_err();
    assert_eq!(
        error.message(),
        format!("127.0.0.1:{p} is read-only, read-write wanted")
    );
    let text = iri(
        &[p],
        &format!("&[target_session_attrs]=read-only{read_only}"),
    );
    assert_eq!(server(&connect(&text).await.unwrap()).await, (p, false));

    // Every host is named with its reason when none suits.
    let down = closed_port();
    let text = conninfo(&[down, s], "target_session_attrs=read-write");
    let error = connect(&text).await.unwrap_err();
    let report = format!("{error:#}");
    assert!(
        report.contains(&format!("127.0.0.1:{s} is a standby, read-write wanted")),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "127.0.0.1:{down}: cannot connect to 127.0.0.1:{down}"
        )),
        "{report}"
    );
    let down2 = closed_port();
    let error = connect(&iri(&[down, down2], "")).await.unwrap_err();
    let hosts: Vec<&str> = error
        .contexts()
        .iter()
        .filter(|c| matches!(c.label(), "host" | "also failed"))
        .map(|c| c.text())
        .collect();
    assert_eq!(hosts.len(), 2, "{error}");
    assert!(
        hosts
            .iter()
            .any(|h| h.starts_with(&format!("127.0.0.1:{down}")))
    );
    assert!(
        hosts
            .iter()
            .any(|h| h.starts_with(&format!("127.0.0.1:{down2}")))
    );
}

#[tokio::test]
async fn failover_past_hosts_that_are_down_or_silent() {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    let down = closed_port();
    for (attrs, expected) in [("any", p), ("read-write", p), ("standby", s)] {
        let text = iri(&[down, p, s], &format!("&[target_session_attrs]={attrs}"));
        let db = connect(&text).await.unwrap();
        assert_eq!(server(&db).await.0, expected, "{attrs}");
    }
    // A host that accepts TCP connections and never answers costs its connect_timeout (2 s,
    // libpq's floor), then the next host is tried.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let quiet = silent.local_addr().unwrap().port();
    let text = conninfo(
        &[quiet, s],
        "connect_timeout=2 target_session_attrs=standby",
    );
    let begun = Instant::now();
    let db = connect(&text).await.unwrap();
    let took = begun.elapsed();
    assert_eq!(server(&db).await.0, s);
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
    let error = connect(&conninfo(&[quiet], "connect_timeout=2"))
        .await
        .unwrap_err();
    assert!(error.is_a(&ConnectTimeoutError), "{error}");
    drop(silent);

    // The blocking facade takes the same path.
    let text = iri(&[down, s, p], "&[target_session_attrs]=primary");
    let port = std::thread::spawn(move || {
        let db = pg_driver::blocking::Connector::from(connector(&text))
            .connect()
            .unwrap();
        db.simple("SELECT current_setting('port')").unwrap()[0].rows[0][0].clone()
    })
    .join()
    .unwrap();
    assert_eq!(port, Some(p.to_string()));
}

#[tokio::test]
async fn prefer_standby_falls_back_to_the_primary() {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    let down = closed_port();
    // No standby is up: the primary, wherever it is in the list.
    for order in [[down, p], [p, down]] {
        let text = iri(&order, "&[target_session_attrs]=prefer-standby");
        let db = connect(&text).await.unwrap();
        assert_eq!(server(&db).await, (p, false));
    }
    let db = connect(&iri(&[p], "&[target_session_attrs]=prefer-standby"))
        .await
        .unwrap();
    assert_eq!(server(&db).await, (p, false));
    // The primary the first pass passed over is not left connected: only the standby's
    // session remains of this attempt (counted by application_name on the primary).
    let app = "&application_name=prefer_standby_probe";
    let text = iri(
        &[p, s],
        &format!("&[target_session_attrs]=prefer-standby{app}"),
    );
    let db = connect(&text).await.unwrap();
    assert_eq!(server(&db).await, (s, true));
    let sql =
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'prefer_standby_probe'";
    let gone = wait_for(Duration::from_secs(10), || {
        primary.admin_sql(sql).is_ok_and(|n| n == "0")
    });
    assert!(gone, "the primary's session was not closed");
    // With nothing up at all, both passes fail and say so.
    let error = connect(&iri(
        &[down, closed_port()],
        "&[target_session_attrs]=prefer-standby",
    ))
    .await
    .unwrap_err();
    assert!(error.message().contains("cannot connect"), "{error}");
}

#[tokio::test]
async fn load_balance_hosts_random_spreads_connections() {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    let mut seen = std::collections::HashMap::new();
    for _ in 0..40 {
        let db = connect(&iri(&[p, s], "&[load_balance_hosts]=random"))
            .await
            .unwrap();
        *seen.entry(db.peer_port()).or_insert(0) += 1;
        db.close();
    }
    // Both orders are equally likely: 40 connections all reaching one server would happen
    // once in 2^39 runs.
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen.values().sum::<i32>(), 40);
    // Without it, the first host gets them all.
    for _ in 0..5 {
        let db = connect(&iri(&[p, s], "")).await.unwrap();
        assert_eq!(db.peer_port(), p);
        db.close();
    }
    // Randomised order still honours the session attributes.
    for _ in 0..10 {
        let text = iri(
            &[p, s],
            "&[load_balance_hosts]=random&[target_session_attrs]=standby",
        );
        assert_eq!(connect(&text).await.unwrap().peer_port(), s);
    }
}

/// The port a connection reached, from its peer address.
trait PeerPort {
    fn peer_port(&self) -> u16;
}

impl PeerPort for Connection {
    fn peer_port(&self) -> u16 {
        match self.peer() {
            pg_driver::PeerAddr::Tcp { addr, .. } => addr.port(),
            other => panic!("not TCP: {other:?}"),
        }
    }
}

/// A proxy that hides `in_hot_standby` and `default_transaction_read_only` from the
/// ParameterStatus messages a server sends, as servers before 14 (and some proxies) do;
/// nothing else is touched. Clients must not ask for TLS (`sslmode=disable`).
async fn pre14_proxy(server_port: u16) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", server_port)).await
                else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let mut header = [0u8; 5];
                while server_read.read_exact(&mut header).await.is_ok() {
                    let len = u32::from_be_bytes(header[1..5].try_into().unwrap()) as usize;
                    let mut body = vec![0u8; len.saturating_sub(4)];
                    if server_read.read_exact(&mut body).await.is_err() {
                        break;
                    }
                    let hidden = header[0] == b'S'
                        && [&b"in_hot_standby\0"[..], b"default_transaction_read_only\0"]
                            .iter()
                            .any(|name| body.starts_with(name));
                    if hidden {
                        continue;
                    }
                    if client_write.write_all(&header).await.is_err()
                        || client_write.write_all(&body).await.is_err()
                    {
                        break;
                    }
                }
                up.abort();
            });
        }
    });
    (port, task)
}

#[tokio::test]
async fn servers_that_do_not_report_their_attributes_are_asked() {
    let (primary, standby) = pair();
    let (p, s) = (primary.port(), standby.port());
    let (via_p, task_p) = pre14_proxy(p).await;
    let (via_s, task_s) = pre14_proxy(s).await;
    for order in [[via_p, via_s], [via_s, via_p]] {
        for attrs in TargetSessionAttrs::ALL {
            let expected = match attrs {
                TargetSessionAttrs::Any => order[0],
                TargetSessionAttrs::ReadWrite | TargetSessionAttrs::Primary => via_p,
                _ => via_s,
            };
            let text = iri(&order, &format!("&[target_session_attrs]={attrs}"));
            let db = connect(&text)
                .await
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(db.parameter_status("in_hot_standby"), None, "hidden");
            assert_eq!(db.peer_port(), expected, "{text}");
            assert_eq!(server(&db).await.1, expected == via_s);
        }
    }
    // Without the report, a standby turned away for read-write is known only as read-only.
    let text = iri(&[via_s], "&[target_session_attrs]=read-write");
    let error = connect(&text).await.unwrap_err();
    assert_eq!(
        error.message(),
        format!("127.0.0.1:{via_s} is read-only, read-write wanted")
    );
    task_p.abort();
    task_s.abort();
}

/// Polls `condition` until it holds or `timeout` passes.
fn wait_for(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn a_standby_promoted_mid_test_is_found_as_the_primary() {
    // A pair of its own: this test ends the primary's reign.
    let primary = Temporal::builder()
        .replication(true)
        .build()
        .expect("a primary");
    let standby = primary.standby().expect("a streaming standby");
    let (p, s) = (primary.port(), standby.port());
    let read_write = iri(&[p, s], "&[target_session_attrs]=read-write");
    let standby_only = iri(&[s], "&[target_session_attrs]=primary");

    assert_eq!(
        server(&connect(&read_write).await.unwrap()).await,
        (p, false)
    );
    let error = connect(&standby_only).await.unwrap_err();
    assert_eq!(
        error.message(),
        format!("127.0.0.1:{s} is a standby, primary wanted")
    );
    // A session on the standby from before the promotion.
    let before = connect(&iri(&[s], "")).await.unwrap();
    assert_eq!(
        before.parameter_status("in_hot_standby").as_deref(),
        Some("on")
    );

    // Failover: the primary goes away, the standby is promoted.
    let cluster = primary.cluster().unwrap();
    cluster.shutdown().unwrap();
    cluster.wait_until_stopped(Duration::from_secs(30)).unwrap();
    standby.promote().unwrap();

    for text in [
        read_write.clone(),
        standby_only,
        iri(&[p, s], "&[target_session_attrs]=primary"),
        iri(&[s, p], "&[target_session_attrs]=prefer-standby"),
    ] {
        let db = connect(&text)
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(server(&db).await, (s, false), "{text}");
        assert_eq!(
            db.parameter_status("in_hot_standby").as_deref(),
            Some("off")
        );
        db.execute("CREATE TEMP TABLE written_after_promotion (i int)")
            .await
            .unwrap();
    }
    // No standby is left.
    let error = connect(&iri(&[p, s], "&[target_session_attrs]=standby"))
        .await
        .unwrap_err();
    assert_eq!(
        error.message(),
        format!("127.0.0.1:{s} is a primary, standby wanted")
    );
    // The older session hears of the change (servers report in_hot_standby as it changes).
    before.execute("SELECT 1").await.unwrap();
    assert_eq!(
        before.parameter_status("in_hot_standby").as_deref(),
        Some("off")
    );
    before.close();
    drop(standby);
    drop(primary);
}
