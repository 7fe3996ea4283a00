//! LISTEN/NOTIFY as a stream: one task listens, another notifies; the listener reads the
//! notifications as a `futures::Stream` until it has them all.
//!
//! ```sh
//! DATABASE_URL=postgresql://user@host/db cargo run --example notifications
//! ```
//! Without `DATABASE_URL` it runs against a throwaway cluster (PostgreSQL's server binaries on
//! the PATH or found by `pg_config`).

use std::time::Duration;

use futures::StreamExt;
use postgresql::api::NotifyEvent;
use postgresql::driver;
use postgresql::exceptions::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let iri = server()?;
    let listener = driver::open(&iri).await?;
    listener.listen(["orders"]).await?;

    let notifier = driver::open(&iri).await?;
    let sender = tokio::spawn(async move {
        for id in 1..=5 {
            notifier
                .notify([("orders", format!("order {id} paid"))])
                .await?;
        }
        Ok::<_, Error>(())
    });

    // A notification, or Idle when a second passes without one.
    let mut events = listener.iternotifies(Some(Duration::from_secs(1)));
    let mut received = Vec::new();
    while received.len() < 5 {
        match events.next().await {
            Some(NotifyEvent::Notification(n)) => {
                println!("{} from backend {}: {}", n.channel, n.pid, n.payload);
                received.push(n.payload);
            }
            Some(NotifyEvent::Idle) => println!("(a second without notifications)"),
            Some(NotifyEvent::Dropped(n)) => println!("({n} notifications dropped: queue full)"),
            None => break,
        }
    }
    sender.await.expect("the sender task")?;
    let expected: Vec<String> = (1..=5).map(|id| format!("order {id} paid")).collect();
    assert_eq!(received, expected);
    Ok(())
}

/// `DATABASE_URL`, or a throwaway cluster's IRI.
fn server() -> Result<String, Error> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Ok(url),
        Err(_) => Ok(pg_cluster::Temporal::get()?.iri().to_owned()),
    }
}
