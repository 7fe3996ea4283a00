//! The pools' `tracing` events: acquire (and the wait), release (cleaned or not), the pool
//! staying full, recorded by a layer of the test's own (events only: the workspace's
//! tests/support/recorder.rs records spans too, but lies outside this package).

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{temporal, uri};
use pg_session::{AsyncSession, Session};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// An event as recorded: name, target, level, fields as text (`&str` values unquoted).
#[derive(Clone, Debug)]
struct EventRecord {
    name: String,
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

impl EventRecord {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<EventRecord>>>);

impl Recorded {
    fn events_named(&self, name: &str) -> Vec<EventRecord> {
        let events = self.0.lock().unwrap();
        events.iter().filter(|e| e.name == name).cloned().collect()
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

struct Recorder(Recorded);

impl<S: Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let meta = event.metadata();
        (self.0).0.lock().unwrap().push(EventRecord {
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            fields,
        });
    }
}

/// A recording subscriber for the current thread's `set_default`. A second dispatcher
/// that wants nothing stays registered: with a single scoped dispatcher, tracing-core
/// computes a callsite's interest from the calling thread's default alone, and a callsite
/// first reached elsewhere (the throwaway cluster's set-up) would be disabled for good.
fn recorder() -> (impl Subscriber + Send + Sync, Recorded) {
    static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let recorded = Recorded::default();
    let subscriber = tracing_subscriber::registry().with(Recorder(recorded.clone()));
    (subscriber, recorded)
}

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
