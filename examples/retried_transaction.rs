//! A transaction retried on serialization failure: two tasks move money between the same
//! accounts in SERIALIZABLE transactions at once; the one that collides (40001) runs again,
//! and the total stays what it was.
//!
//! ```sh
//! DATABASE_URL=postgresql://user@host/db cargo run --example retried_transaction
//! ```
//! Without `DATABASE_URL` it runs against a throwaway cluster.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use postgresql::driver;
use postgresql::exceptions::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let iri = server()?;
    let setup = driver::open(&iri).await?;
    setup
        .execute(
            "DROP TABLE IF EXISTS example_accounts;
             CREATE TABLE example_accounts (id int PRIMARY KEY, balance int8 NOT NULL);
             INSERT INTO example_accounts VALUES (1, 1000), (2, 1000)",
        )
        .await?;

    let tries = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for task in 0..2i64 {
        let (iri, tries) = (iri.clone(), tries.clone());
        tasks.push(tokio::spawn(async move {
            let db = driver::open(&iri).await?;
            for round in 0..20i64 {
                let amount = task * 10 + round + 1;
                let tries = tries.clone();
                db.xact()
                    .isolation("SERIALIZABLE")
                    .retry(10)
                    .run(move |x| {
                        tries.fetch_add(1, Ordering::Relaxed);
                        async move {
                            let from: i64 = x
                                .query_first(
                                    "SELECT balance FROM example_accounts WHERE id = 1",
                                    (),
                                )
                                .await?;
                            x.query(
                                "UPDATE example_accounts SET balance = $1 WHERE id = 1",
                                (from - amount,),
                            )
                            .await?;
                            x.query(
                                "UPDATE example_accounts SET balance = balance + $1 WHERE id = 2",
                                (amount,),
                            )
                            .await?;
                            Ok::<_, Error>(())
                        }
                    })
                    .await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for task in tasks {
        task.await.expect("a task")?;
    }
    let total: i64 = setup
        .query_first("SELECT sum(balance)::int8 FROM example_accounts", ())
        .await?;
    let tries = tries.load(Ordering::Relaxed);
    println!("40 transfers committed in {tries} tries; the total is {total}");
    assert_eq!(total, 2000);
    assert!(tries >= 40);
    setup.execute("DROP TABLE example_accounts").await?;
    Ok(())
}

/// `DATABASE_URL`, or a throwaway cluster's IRI.
fn server() -> Result<String, Error> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Ok(url),
        Err(_) => Ok(pg_cluster::Temporal::get()?.iri().to_owned()),
    }
}
