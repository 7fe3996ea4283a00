//! Warnings of cluster operations: py-postgresql's `ClusterWarning`.

use std::sync::Arc;

use pg_exceptions::Message;

/// What receives a cluster's warnings (see [`Cluster::set_warning_hook`](crate::Cluster::set_warning_hook)).
pub type WarningHook = Arc<dyn Fn(&Message) + Send + Sync>;

/// A warning of a cluster operation: a WARNING [`Message`] of code `-Cwrn`, whose class is
/// [`pg_exceptions::ClusterWarning`] (a [`Warning`](pg_exceptions::Warning)), with a hint
/// when given.
///
/// ```
/// let w = pg_cluster::cluster_warning("the server survived SIGKILL", Some("look"));
/// assert_eq!(w.class(), &pg_exceptions::ClusterWarning);
/// assert!(w.class().is_a(&pg_exceptions::Warning));
/// assert_eq!(w.hint(), Some("look"));
/// ```
pub fn cluster_warning(message: impl Into<String>, hint: Option<&str>) -> Message {
    let warning = Message::new("WARNING", pg_exceptions::ClusterWarning.code(), message);
    match hint {
        Some(hint) => warning.with_hint(hint),
        None => warning,
    }
}

/// Where a cluster without a hook sends its warnings: standard error, as Python's
/// `warnings` module shows py-postgresql's.
pub(crate) fn to_stderr(message: &Message) {
    eprintln!("{message}");
}
