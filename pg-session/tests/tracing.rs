//! The pools' `tracing` events: acquire (and the wait), release (cleaned or not), the pool
//! staying full, recorded by the layer of tests/support/recorder.rs.

mod common;
#[path = "../../tests/support/recorder.rs"]
mod recorder;

use std::time::Duration;

use common::{temporal, uri};
use pg_session::{AsyncSession, Session};
use recorder::recorder;
use tracing::Level;

#[test]
fn an_async_session_reports_acquire_release_and_a_full_pool() {
    let pg = temporal();
    let sandbox = pg.sandbox().unwrap();
    let uri = uri(&sandbox, "tracing_async");
    let (subscriber, recorded) = recorder();
    let _default = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool_id = runtime.block_on(async {
        let session = AsyncSession::builder(&uri)
            .pool_max_size(1)
            .acquire_timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        session.query("SELECT 1", ()).await.unwrap();
        session.query("SELECT 2", ()).await.unwrap();
        // The pool's only connection held: the next query waits its 100 ms and fails.
        let held = session.acquire().await.unwrap();
        assert!(session.query("SELECT 3", ()).await.is_err());
        // Cleaned on its way back: an acquired connection's use is not known.
        held.release().await;
        let id = session.pid().to_owned();
        session.pool().shutdown();
        id
    });
    let acquires = recorded.events_named("pool_acquire");
    assert_eq!(acquires.len(), 3, "{acquires:?}");
    assert!(acquires.iter().all(|e| e.target == "pg_session::pool"));
    assert!(
        acquires
            .iter()
            .all(|e| e.field("pool") == Some(pool_id.as_str()))
    );
    assert_eq!(acquires[0].field("new"), Some("true"));
    assert_eq!(acquires[1].field("new"), Some("false"));
    assert!(acquires[0].field("waited_ms").is_some());
    let releases = recorded.events_named("pool_release");
    assert_eq!(releases.len(), 3, "{releases:?}");
    // The queries' connections went back as they were; the acquired one was cleaned.
    assert_eq!(releases[0].field("cleaned"), Some("false"));
    assert_eq!(releases[0].field("kept"), Some("true"));
    assert_eq!(releases[2].field("cleaned"), Some("true"));
    assert_eq!(releases[2].field("kept"), Some("true"));
    let full = recorded.events_named("pool_timeout");
    assert_eq!(full.len(), 1, "{full:?}");
    assert_eq!(full[0].level, Level::WARN);
    assert_eq!(full[0].field("max_size"), Some("1"));
    let waited: f64 = full[0].field("waited_ms").unwrap().parse().unwrap();
    assert!(waited >= 90.0, "{waited}");
    // The driver's own events come along: the pool's one connection was made once.
    assert_eq!(recorded.events_named("connect").len(), 1);
}

#[test]
fn a_blocking_session_reports_acquire_and_a_cleaned_release() {
    let pg = temporal();
    let sandbox = pg.sandbox().unwrap();
    let uri = uri(&sandbox, "tracing_blocking");
    let (subscriber, recorded) = recorder();
    let _default = tracing::subscriber::set_default(subscriber);
    {
        let session = Session::new(&uri).unwrap();
        session.query("SELECT 1", ()).unwrap();
        session.pool().shutdown();
    }
    let acquires = recorded.events_named("pool_acquire");
    assert_eq!(acquires.len(), 1, "{acquires:?}");
    assert_eq!(acquires[0].field("new"), Some("true"));
    let releases = recorded.events_named("pool_release");
    assert_eq!(releases.len(), 1, "{releases:?}");
    assert_eq!(releases[0].field("cleaned"), Some("true"));
    // The pool was shut down meanwhile: the connection is closed, not kept.
    assert_eq!(releases[0].field("kept"), Some("false"));
}
