//! A `tracing` layer that records every span and event it sees, for tests to look at
//! (tests/tracing.rs, tests/tls.rs; pg-session/tests/tracing.rs has an events-only one of
//! its own, this file being outside its package).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as recorded: its name, target, level and fields (as their Debug text, `&str`
/// values unquoted), including those recorded after it was made.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    pub name: String,
    pub target: String,
    pub level: Level,
    pub fields: BTreeMap<String, String>,
    pub closed: bool,
}

/// An event as recorded, with the name of the span it happened in, if any.
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub name: String,
    pub target: String,
    pub level: Level,
    pub fields: BTreeMap<String, String>,
    pub parent: Option<String>,
}

impl SpanRecord {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

impl EventRecord {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Log {
    spans: Vec<SpanRecord>,
    /// Span ids (as u64) to their index in `spans`.
    ids: BTreeMap<u64, usize>,
    events: Vec<EventRecord>,
}

/// What a [`Recorder`] saw; cloned handles share it.
#[derive(Clone, Default)]
pub struct Recorded(Arc<Mutex<Log>>);

impl Recorded {
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.0.lock().unwrap().spans.clone()
    }

    pub fn events(&self) -> Vec<EventRecord> {
        self.0.lock().unwrap().events.clone()
    }

    /// Spans named `name`.
    pub fn spans_named(&self, name: &str) -> Vec<SpanRecord> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// Events named `name`.
    pub fn events_named(&self, name: &str) -> Vec<EventRecord> {
        self.events()
            .into_iter()
            .filter(|e| e.name == name)
            .collect()
    }

    /// Everything recorded, as text: to check what never appears.
    pub fn text(&self) -> String {
        format!("{:?}\n{:?}", self.spans(), self.events())
    }

    pub fn clear(&self) {
        let mut log = self.0.lock().unwrap();
        log.spans.clear();
        log.ids.clear();
        log.events.clear();
    }
}

/// The layer.
pub struct Recorder(Recorded);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let meta = attrs.metadata();
        let mut log = (self.0).0.lock().unwrap();
        let index = log.spans.len();
        log.spans.push(SpanRecord {
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            fields,
            closed: false,
        });
        log.ids.insert(id.into_u64(), index);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut log = (self.0).0.lock().unwrap();
        if let Some(&index) = log.ids.get(&id.into_u64()) {
            values.record(&mut Fields(&mut log.spans[index].fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let meta = event.metadata();
        let parent = ctx.event_span(event).map(|span| span.name().to_owned());
        (self.0).0.lock().unwrap().events.push(EventRecord {
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            fields,
            parent,
        });
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        let mut log = (self.0).0.lock().unwrap();
        if let Some(index) = log.ids.remove(&id.into_u64()) {
            log.spans[index].closed = true;
        }
    }
}

/// A subscriber that records everything, and the handle on what it records. Install it
/// for the current thread with `tracing::subscriber::set_default` (a current-thread tokio
/// runtime runs the connections' tasks on that thread too).
///
/// A second dispatcher, which wants nothing, is registered once for the process: with a
/// single scoped dispatcher, tracing-core computes a callsite's interest from the *calling
/// thread's* default alone (`has_just_one`), so a callsite first reached on a thread
/// without the recorder (the throwaway cluster's set-up, another runtime) would be disabled
/// for good, and a test run alone would record nothing.
pub fn recorder() -> (impl Subscriber + Send + Sync, Recorded) {
    static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let recorded = Recorded::default();
    let subscriber = tracing_subscriber::registry().with(Recorder(recorded.clone()));
    (subscriber, recorded)
}
