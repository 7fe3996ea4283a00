//! A pool shared by 500 tasks: an `AsyncSession` with its defaults (here 10 connections).
//! Every task's query waits its turn for a connection (up to 30 s by default) and succeeds;
//! the pool's report says how it went.
//!
//! ```sh
//! DATABASE_URL=postgresql://user@host/db cargo run --example pool --features session
//! ```
//! Without `DATABASE_URL` it runs against a throwaway cluster.

use postgresql::exceptions::Error;
use postgresql::session::{AsyncSession, Tuple};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let iri = server()?;
    let session = AsyncSession::builder(iri)
        .pool_max_size(10)
        .row_form::<Tuple>()
        .build()?;
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let session = session.clone();
            tokio::spawn(async move {
                let results = session
                    .query("SELECT $1::int4 * 2, pg_sleep(0.001)", (i,))
                    .await?;
                Ok::<i32, Error>(results[0].get::<i32>(0))
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.expect("a task")?, 2 * i as i32);
    }
    let report = session.pool().report();
    println!(
        "500 queries on a pool of {}: {} executions, {} exceptions, {} connections idle",
        report.max_size, report.executions, report.exceptions, report.idle
    );
    assert_eq!((report.executions, report.exceptions), (500, 0));
    assert!(report.busy + report.idle <= 10);
    Ok(())
}

/// `DATABASE_URL`, or a throwaway cluster's IRI.
fn server() -> Result<String, Error> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Ok(url),
        Err(_) => Ok(pg_cluster::Temporal::get()?.iri().to_owned()),
    }
}
