//! Helpers shared by the integration tests.
#![allow(dead_code)]

use pg_cluster::Temporal;
use pg_driver::params::Keywords;
use std::future::Future;

use pg_driver::{Connection, Connector};

/// The process's throwaway cluster (or the server named by PGTEST_IRI).
pub fn temporal() -> &'static Temporal {
    Temporal::get().expect("the throwaway cluster starts")
}

/// A connector for the throwaway cluster, built from its IRI without the environment.
pub fn connector() -> Connector {
    let params = Keywords::parse(temporal().iri())
        .and_then(|k| k.build())
        .expect("valid IRI");
    Connector::new(params)
}

/// A new connection to the throwaway cluster.
pub async fn connect() -> Connection {
    connector()
        .connect()
        .await
        .expect("connects to the throwaway cluster")
}

/// The first value of the first row of a simple query.
pub async fn scalar(db: &Connection, sql: &str) -> Option<String> {
    db.simple(sql)
        .await
        .expect(sql)
        .remove(0)
        .rows
        .remove(0)
        .remove(0)
}

/// The connection answers its own questions, promptly and in order: it is in sync.
pub async fn assert_in_sync(db: &Connection) {
    for i in 0..3i32 {
        let echo = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            db.query_first::<i32, _>("SELECT $1::int4", (i,)),
        )
        .await
        .expect("the connection answers in time")
        .expect("the connection is usable");
        assert_eq!(echo, i);
    }
}

/// Polls `future` until `ready` says the request is far enough along, then drops it; returns
/// whether it was dropped unfinished (a future that finished first has its output dropped).
pub async fn drop_when<F: Future>(future: F, mut ready: impl FnMut() -> bool) -> bool {
    let mut future: std::pin::Pin<Box<F>> = Box::pin(future);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let finished = std::future::poll_fn(|cx: &mut std::task::Context<'_>| {
            std::task::Poll::Ready(future.as_mut().poll(cx).is_ready())
        })
        .await;
        if finished {
            return false;
        }
        if ready() {
            return true;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never got far enough"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// [`drop_when`] after `n` polls.
pub async fn drop_after<F: Future>(future: F, n: usize) -> bool {
    let mut polls = 0;
    drop_when(future, || {
        polls += 1;
        polls == n
    })
    .await
}
