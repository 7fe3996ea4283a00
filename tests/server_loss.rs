//! Losing the server under a connection: fast shutdown, kill, and recovery after a restart.

use std::time::{Duration, Instant};

use pg_cluster::Temporal;
use pg_driver::Connector;
use pg_driver::params::Keywords;
use pg_exceptions::{AdminShutdownError, ConnectionDoesNotExistError, ConnectionFailureError};

fn own_cluster() -> Temporal {
    Temporal::builder()
        .build()
        .expect("a throwaway cluster of this test's own")
}

fn connector(t: &Temporal) -> Connector {
    Connector::new(Keywords::parse(t.iri()).and_then(|k| k.build()).unwrap())
}

/// Runs a long query, does `stop` to the server mid-query, and returns the error and how long
/// after the stop it came.
async fn lose_server_mid_query(
    t: &Temporal,
    stop: impl FnOnce(&pg_cluster::Cluster),
) -> (pg_exceptions::Error, Duration, pg_driver::Connection) {
    let db = connector(t).connect().await.unwrap();
    let query = {
        let db = db.clone();
        tokio::spawn(async move { db.execute("SELECT pg_sleep(60)").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cluster = t.cluster().expect("a cluster we started");
    let stopped = Instant::now();
    tokio::task::block_in_place(|| stop(cluster));
    let result = tokio::time::timeout(Duration::from_secs(5), query).await;
    let error = result.expect("no hang").unwrap().unwrap_err();
    (error, stopped.elapsed(), db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_shutdown_mid_query_then_restart() {
    let t = own_cluster();
    let (error, after, db) = lose_server_mid_query(&t, |c| c.shutdown().unwrap()).await;
    assert!(error.is_a(&AdminShutdownError), "{error}");
    assert!(
        after < Duration::from_secs(1),
        "error came {after:?} after the shutdown"
    );
    let again = db.execute("SELECT 1").await.unwrap_err();
    assert!(again.is_a(&ConnectionDoesNotExistError), "{again}");

    let cluster = t.cluster().unwrap();
    tokio::task::block_in_place(|| {
        cluster.wait_until_stopped(Duration::from_secs(10)).unwrap();
        cluster.restart(Duration::from_secs(30)).unwrap();
    });
    // The same handle reconnects through its connector.
    db.connect().await.unwrap();
    db.execute("SELECT 1").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_mid_query() {
    let t = own_cluster();
    let (error, after, db) = lose_server_mid_query(&t, |c| c.kill().unwrap()).await;
    assert!(
        error.is_a(&ConnectionFailureError) || error.is_a(&AdminShutdownError),
        "a lost connection: {error}"
    );
    assert!(
        after < Duration::from_secs(1),
        "error came {after:?} after the kill"
    );
    assert!(db.closed());
}
