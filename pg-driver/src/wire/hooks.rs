//! Message hooks: where NOTICE, WARNING and INFO messages go.
//!
//! A message travels from the nearest hook outwards: the cursor's (for what a cursor's reads
//! and moves raise), the statement's (which covers the cursors declared from it), the
//! connection's, the connector's, the driver's, then the process-wide one. A hook that returns `true` stops it
//! there; a message no hook stops becomes a `tracing` event (`notice`, target
//! `pg_driver::notice`, at the level its severity says), where py-postgresql's msghook chain
//! printed it to standard error: a library writes nothing to a service's standard error on
//! its own. A program that wants psql's behaviour installs a hook that prints (pgapi does).

use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use pg_exceptions::Message;

/// A function that sees a message; returning `true` stops it from travelling further.
pub type MessageHook = Arc<dyn Fn(&Message) -> bool + Send + Sync>;

/// A settable hook slot.
#[derive(Default)]
pub(crate) struct HookSlot(RwLock<Option<MessageHook>>);

impl HookSlot {
    pub(crate) fn set(&self, hook: Option<MessageHook>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = hook;
    }

    pub(crate) fn get(&self) -> Option<MessageHook> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl std::fmt::Debug for HookSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.get().is_some() {
            "HookSlot(set)"
        } else {
            "HookSlot(unset)"
        })
    }
}

/// The driver: the level of the hook chain between connectors and the whole process.
///
/// Connectors are made through a driver; [`Driver::global`] is the one used when none is named.
#[derive(Debug, Default)]
pub struct Driver {
    hook: HookSlot,
}

impl Driver {
    /// A new driver with no hook of its own.
    pub fn new() -> Arc<Driver> {
        Arc::new(Driver::default())
    }

    /// The driver every connector uses unless told otherwise.
    pub fn global() -> Arc<Driver> {
        static GLOBAL: OnceLock<Arc<Driver>> = OnceLock::new();
        GLOBAL.get_or_init(Driver::new).clone()
    }

    /// Sets (or, with `None`, removes) the driver's message hook.
    pub fn set_message_hook(&self, hook: Option<MessageHook>) {
        self.hook.set(hook);
    }
}

/// One hook that tries `first`, then `second` when `first` did not stop the message: the
/// element levels of a request (a cursor, then the statement it was declared from) as the
/// one hook the engine calls first.
pub(crate) fn chain(
    first: Option<MessageHook>,
    second: Option<MessageHook>,
) -> Option<MessageHook> {
    match (first, second) {
        (Some(first), Some(second)) => Some(Arc::new(move |message: &Message| {
            first(message) || second(message)
        })),
        (first, second) => first.or(second),
    }
}

static PROCESS_HOOK: HookSlot = HookSlot(RwLock::new(None));

/// Sets (or, with `None`, removes) the process-wide message hook, the last before the default.
pub fn set_process_message_hook(hook: Option<MessageHook>) {
    PROCESS_HOOK.set(hook);
}

/// The chain as seen from one connection.
pub(crate) struct HookChain {
    pub(crate) connection: HookSlot,
    pub(crate) connector: Option<MessageHook>,
    pub(crate) driver: Arc<Driver>,
}

impl HookChain {
    /// Sends a message along the chain, starting at the element's hook (a statement's, or a
    /// cursor's chained to its statement's) when there is one.
    pub(crate) fn dispatch(&self, statement: Option<&MessageHook>, message: &Message) {
        let levels = [
            statement.cloned(),
            self.connection.get(),
            self.connector.clone(),
            self.driver.hook.get(),
            PROCESS_HOOK.get(),
        ];
        for hook in levels.into_iter().flatten() {
            if hook(message) {
                return;
            }
        }
        trace_notice(message);
    }
}

/// The `notice` event of a message no hook stopped: WARNING at WARN; NOTICE, INFO and LOG
/// at INFO; DEBUG1 to DEBUG5 at DEBUG. Fields: severity, code, detail, hint, and the
/// text as the event's message.
fn trace_notice(message: &Message) {
    macro_rules! notice {
        ($level:ident) => {
            tracing::$level!(
                name: "notice",
                target: "pg_driver::notice",
                severity = message.severity(),
                code = message.code(),
                detail = message.detail(),
                hint = message.hint(),
                "{}",
                message.message()
            )
        };
    }
    let severity = message
        .severity_nonlocalized()
        .unwrap_or_else(|| message.severity());
    match severity {
        "WARNING" => notice!(warn),
        s if s.starts_with("DEBUG") => notice!(debug),
        _ => notice!(info),
    }
}
