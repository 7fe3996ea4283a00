//! `tracing` spans of statements, and the slow-statement warning (see the crate's
//! "Observability" section).
//!
//! Built where statements are known (executions' [`Reader`](crate::execute::Reader), the
//! simple query's reader), never in the engine, which knows messages only. With no
//! subscriber, or none that wants the span and no slow threshold set, [`QueryTrace::start`]
//! costs a level check and returns `None`: nothing is allocated, formatted or timed.

use std::time::{Duration, Instant};

use pg_api::{Params, ShowParams};
use pg_exceptions::Error;
use tracing::field::Empty;

use crate::params::Observe;

/// The target of statements' spans.
pub(crate) const QUERY: &str = "pg_driver::query";
/// The target of the slow-statement warning.
pub(crate) const SLOW: &str = "pg_driver::slow";

/// Which protocol ran a statement.
#[derive(Clone, Copy)]
pub(crate) enum Protocol {
    /// Parse/Bind/Execute (statements, the query interface, cursors).
    Extended,
    /// Query (several statements in one text, `execute`, `simple`).
    Simple,
}

/// One statement's span, clock and counts, while its answer is read.
pub(crate) struct QueryTrace {
    span: tracing::Span,
    started: Instant,
    slow: Option<Duration>,
    /// The text, kept for the slow warning only when there is a threshold.
    sql: Option<Box<str>>,
    /// The parameter values shown, when asked for and there is a threshold.
    params: Option<String>,
    /// The sum of the command tags' counts, when any tag had one.
    counted: Option<u64>,
    /// Rows received (for an execution that ends without a tag: a row limit).
    received: u64,
    command: Option<Box<str>>,
    finished: bool,
}

impl QueryTrace {
    /// The trace of a statement about to be read, or `None` when nobody would see it.
    ///
    /// The span is made only after `enabled!` said a subscriber wants it: a disabled
    /// `debug_span!` still records its fields for the `log` crate when tracing's `log`
    /// feature is on (other crates often turn it on) and no subscriber is set, ~150
    /// instructions per statement for nothing.
    #[inline]
    pub(crate) fn start(
        observe: &Observe,
        protocol: Protocol,
        sql: &str,
        params: Option<&dyn Params>,
    ) -> Option<Box<QueryTrace>> {
        let span = tracing::enabled!(target: QUERY, tracing::Level::DEBUG);
        let slow = observe
            .slow
            .filter(|_| tracing::enabled!(target: SLOW, tracing::Level::WARN));
        if !span && slow.is_none() {
            return None;
        }
        Some(Self::begin(span, observe, slow, protocol, sql, params))
    }

    #[cold]
    fn begin(
        span: bool,
        observe: &Observe,
        slow: Option<Duration>,
        protocol: Protocol,
        sql: &str,
        params: Option<&dyn Params>,
    ) -> Box<QueryTrace> {
        let span = match span {
            true => tracing::debug_span!(
                target: QUERY,
                "query",
                sql = sql,
                protocol = match protocol {
                    Protocol::Extended => "extended",
                    Protocol::Simple => "simple",
                },
                params = Empty,
                command = Empty,
                rows = Empty,
                elapsed_ms = Empty,
                error = Empty,
            ),
            false => tracing::Span::none(),
        };
        let params = match params {
            Some(params) if observe.parameters && params.count() > 0 => {
                let shown = format!("{:?}", ShowParams(params));
                span.record("params", shown.as_str());
                slow.is_some().then_some(shown)
            }
            _ => None,
        };
        Box::new(QueryTrace {
            span,
            started: Instant::now(),
            slow,
            sql: slow.map(|_| sql.into()),
            params,
            counted: None,
            received: 0,
            command: None,
            finished: false,
        })
    }

    /// A row arrived.
    #[inline]
    pub(crate) fn row(&mut self) {
        self.received += 1;
    }

    /// A command tag arrived.
    pub(crate) fn tag(&mut self, tag: &str) {
        let (command, count) = crate::execute::tag_parts(tag);
        if let Some(count) = count {
            self.counted = Some(self.counted.unwrap_or(0) + count);
        }
        self.command = Some(command.into());
    }

    /// The statement's answer ended, with this outcome.
    pub(crate) fn finish(&mut self, outcome: Result<(), &Error>) {
        if let Err(error) = outcome {
            self.span.record("error", error.code());
        }
        self.close();
    }

    fn close(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        let elapsed_ms = elapsed.as_secs_f64() * 1e3;
        let rows = self.counted.unwrap_or(self.received);
        self.span.record("rows", rows);
        if let Some(command) = &self.command {
            self.span.record("command", &**command);
        }
        self.span.record("elapsed_ms", elapsed_ms);
        if let Some(threshold) = self.slow
            && elapsed > threshold
        {
            let sql = self.sql.as_deref().unwrap_or_default();
            let threshold_ms = threshold.as_secs_f64() * 1e3;
            match &self.params {
                Some(params) => tracing::warn!(
                    name: "slow_statement",
                    target: SLOW,
                    parent: &self.span,
                    sql,
                    params = params.as_str(),
                    elapsed_ms,
                    threshold_ms,
                    rows,
                    "slow statement: {elapsed_ms:.1} ms"
                ),
                None => tracing::warn!(
                    name: "slow_statement",
                    target: SLOW,
                    parent: &self.span,
                    sql,
                    elapsed_ms,
                    threshold_ms,
                    rows,
                    "slow statement: {elapsed_ms:.1} ms"
                ),
            }
        }
    }
}

impl Drop for QueryTrace {
    /// A stream given up before its end: what was read, and how long it took.
    fn drop(&mut self) {
        self.close();
    }
}

/// The target of connection events: connect, reconnect, a host that failed.
pub(crate) const CONNECT: &str = "pg_driver::connect";

/// A session was established and accepted (`connect`, INFO). Never the password.
pub(crate) fn connected(connector: &crate::Connector, link: &crate::link::Link, started: Instant) {
    let params = connector.params();
    let (host, port) = peer(link);
    tracing::info!(
        name: "connect",
        target: CONNECT,
        host = host.as_str(),
        port,
        database = params.database(),
        user = params.user(),
        auth = ?link.auth_method,
        tls = link.tls,
        backend_pid = link.backend_key.map(|(pid, _)| pid),
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "connected to {host}:{port}"
    );
}

/// Connecting failed: every host was tried (`connect_failed`, INFO).
pub(crate) fn connect_failed(connector: &crate::Connector, error: &Error) {
    let params = connector.params();
    tracing::info!(
        name: "connect_failed",
        target: CONNECT,
        database = params.database(),
        user = params.user(),
        code = error.code(),
        error = error.message(),
        "connection failed"
    );
}

/// One host gave no session, or one that does not suit (`host_failed`, DEBUG): the next
/// host is tried.
pub(crate) fn host_failed(host: &crate::params::Host, error: &Error) {
    tracing::debug!(
        name: "host_failed",
        target: CONNECT,
        host = %host,
        code = error.code(),
        error = error.message(),
        "host {host} gave no connection"
    );
}

/// A closed connection is being connected again (`reconnect`, INFO); `reason` says why.
pub(crate) fn reconnect(connector: &crate::Connector, reason: &'static str) {
    let params = connector.params();
    tracing::info!(
        name: "reconnect",
        target: CONNECT,
        database = params.database(),
        user = params.user(),
        reason,
        "connecting again: {reason}"
    );
}

/// The host (name, address or socket path) and port a link reached.
fn peer(link: &crate::link::Link) -> (String, u16) {
    use crate::wire::transport::PeerAddr;
    match &link.peer {
        PeerAddr::Tcp { addr, host } => (host.clone(), addr.port()),
        PeerAddr::Unix(path) => {
            // A socket file is named `.s.PGSQL.<port>`.
            let port = path
                .extension()
                .and_then(|e| e.to_str())
                .and_then(|e| e.parse().ok())
                .unwrap_or(0);
            (path.display().to_string(), port)
        }
    }
}
