//! Categories on pooled sessions: every connection a pool makes is initialised once when it
//! is made (and again after a reset), before it serves anything.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{R, temporal, uri};
use pg_driver::{Category, Connection};
use pg_session::{AsyncSession, Session};
use pg_types::Value;

/// A category that sets `work_mem` (not reported by the server, so queries that only read
/// it need no reset) and counts its runs.
fn counting(runs: &Arc<AtomicUsize>) -> Arc<dyn Category> {
    let runs = runs.clone();
    Arc::new(move |db: Connection| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            db.execute("SET work_mem = '7MB'").await
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_sessions_connections_are_initialised_once_when_made() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "async_category");
    let runs = Arc::new(AtomicUsize::new(0));
    let category = counting(&runs);
    let session = AsyncSession::builder(uri.clone())
        .pool_max_size(2)
        .category(category.clone())
        .build()?;
    for _ in 0..5 {
        let results = session.query("SHOW work_mem", ()).await?;
        assert_eq!(results.as_dict()?["work_mem"], Value::Text("7MB".into()));
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "one connection, initialised once"
    );
    // Two at once: a second connection, initialised when it is made.
    let (a, b) = (session.acquire().await?, session.acquire().await?);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    for conn in [&a, &b] {
        assert_eq!(
            conn.settings().get("work_mem").await?.as_deref(),
            Some("7MB")
        );
    }
    // Acquired connections go back reset, and the reset initialises them again.
    a.release().await;
    b.release().await;
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    let results = session.query("SHOW work_mem", ()).await?;
    assert_eq!(results.as_dict()?["work_mem"], Value::Text("7MB".into()));
    drop(results);
    // Sessions share a pool only with the same category.
    let same = AsyncSession::builder(uri.clone())
        .category(category)
        .build()?;
    assert_eq!(same.pid(), session.pid());
    let other = AsyncSession::builder(uri.clone())
        .category(counting(&Arc::new(AtomicUsize::new(0))))
        .build()?;
    assert_ne!(other.pid(), session.pid());
    let plain = AsyncSession::new(&uri)?;
    assert_ne!(plain.pid(), session.pid());
    let results = plain.query("SHOW work_mem", ()).await?;
    assert_ne!(results.as_dict()?["work_mem"], Value::Text("7MB".into()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_category_fails_the_query_that_needed_the_connection() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let failing: Arc<dyn Category> =
        Arc::new(|db: Connection| async move { db.execute("SELECT no_such_column").await });
    let session = AsyncSession::builder(uri(&sandbox, "failing_async_category"))
        .category(failing)
        .build()?;
    let err = session.query("SELECT 1", ()).await.unwrap_err();
    assert!(err.is_a(&pg_exceptions::UndefinedColumnError), "{err}");
    assert!(common::eventually(
        std::time::Duration::from_secs(5),
        || { common::backends(pg, "failing_async_category") == 0 }
    ));
    Ok(())
}

#[test]
fn a_blocking_sessions_connections_are_initialised_too() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "blocking_category");
    let runs = Arc::new(AtomicUsize::new(0));
    let category = counting(&runs);
    let session = Session::builder(uri.clone())
        .category(category.clone())
        .connect()?;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let results = session.query("SHOW work_mem", ())?;
    assert_eq!(results.as_dict()?["work_mem"], Value::Text("7MB".into()));
    drop(results);
    // Its connection goes back reset, initialised again for the next session.
    drop(session);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let next = Session::builder(uri).category(category).connect()?;
    let results = next.query("SHOW work_mem", ())?;
    assert_eq!(results.as_dict()?["work_mem"], Value::Text("7MB".into()));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "the pooled connection, not a new one"
    );
    Ok(())
}
