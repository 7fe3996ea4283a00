//! Multi-host connections: the order hosts are tried in (`load_balance_hosts`) and which
//! servers are accepted (`target_session_attrs`), as libpq 14+ defines them.
//!
//! Hosts are tried in order (shuffled per attempt under `load_balance_hosts=random`, and each
//! name's addresses shuffled too, as libpq does), `connect_timeout` applying to each host's
//! connection and check together. A server that does not suit is closed and the next tried:
//!
//! | `target_session_attrs` | accepts a server that is                                  |
//! |------------------------|-----------------------------------------------------------|
//! | `any`                  | anything                                                  |
//! | `read-write`           | not in hot standby, `default_transaction_read_only` off   |
//! | `read-only`            | in hot standby, or `default_transaction_read_only` on     |
//! | `primary`              | not in hot standby                                        |
//! | `standby`              | in hot standby                                            |
//! | `prefer-standby`       | in hot standby; failing that, anything (a second pass)    |
//!
//! Servers from 14 on report `in_hot_standby` and `default_transaction_read_only` at startup
//! (ParameterStatus), so the check costs nothing; for older ones (or a proxy that does not
//! pass them on) it asks, as libpq does: `SHOW transaction_read_only` for read-write /
//! read-only, `SELECT pg_catalog.pg_is_in_recovery()` for the others (before 9.0, which had
//! no hot standby, a server is taken as a primary).
//!
//! `prefer-standby` keeps the first server its first pass turned away open, and falls back
//! on it when no standby answers, instead of connecting again; if that connection was lost
//! meanwhile, the second pass tries the hosts the first pass reached, in order (libpq tries
//! every host again; an unreachable one would only cost its timeout twice).
//!
//! When every host fails, the error is the last host's, and names every other host with its
//! reason ("also failed"); a server turned away says why: "127.0.0.1:5433 is a standby,
//! read-write wanted".

use crate::connector::shuffle;
use pg_exceptions::{ClientCannotConnectError, ConnectTimeoutError, ConnectionFailureError, Error};

use crate::connector::Connector;
use crate::link::Link;
use crate::params::{Host, LoadBalanceHosts, TargetSessionAttrs};
use crate::simple::simple_query;

/// Why one host gave no connection.
enum Failure {
    /// The server was reached but does not suit; its session, still open, and why.
    Rejected(Box<Link>, Error),
    /// It could not be reached, or refused the session.
    Failed(Error),
}

impl Connector {
    /// Opens a session on the first host that suits: see the module's notes. Parameters the
    /// driver cannot honour are reported first.
    pub(crate) async fn establish(&self) -> Result<Link, Error> {
        self.warn_ignored();
        let started = std::time::Instant::now();
        let established = establish(self).await;
        match &established {
            Ok(link) => crate::trace::connected(self, link, started),
            Err(error) => crate::trace::connect_failed(self, error),
        }
        established
    }
}

/// Opens a session on the first host that suits the connector's `target_session_attrs`.
async fn establish(connector: &Connector) -> Result<Link, Error> {
    let params = connector.params();
    let mut hosts: Vec<&Host> = params.hosts().iter().collect();
    if params.load_balance_hosts() == LoadBalanceHosts::Random {
        shuffle(&mut hosts);
    }
    let wanted = params.target_session_attrs();
    let mut failures: Vec<(String, Error)> = Vec::new();
    // prefer-standby: the first server turned away, for the second pass.
    let mut fallback: Option<Link> = None;
    let mut reached: Vec<&Host> = Vec::new();
    for host in &hosts {
        match attempt(connector, host, wanted).await {
            Ok(link) => {
                if let Some(unused) = fallback {
                    unused.terminate();
                }
                return Ok(link);
            }
            Err(Failure::Rejected(link, error)) => {
                reached.push(host);
                match fallback {
                    None if wanted == TargetSessionAttrs::PreferStandby => fallback = Some(*link),
                    _ => link.terminate(),
                }
                failures.push((host.to_string(), error));
            }
            Err(Failure::Failed(error)) => failures.push((host.to_string(), error)),
        }
    }
    if wanted == TargetSessionAttrs::PreferStandby {
        match fallback {
            Some(link) if !link.shared.is_closed() => return Ok(link),
            _ => {}
        }
        for host in reached {
            match attempt(connector, host, TargetSessionAttrs::Any).await {
                Ok(link) => return Ok(link),
                Err(Failure::Rejected(link, error)) => {
                    link.terminate();
                    failures.push((host.to_string(), error));
                }
                Err(Failure::Failed(error)) => failures.push((host.to_string(), error)),
            }
        }
    }
    Err(report(connector, failures))
}

/// Connects to one host and checks the session, within `connect_timeout`.
async fn attempt(
    connector: &Connector,
    host: &Host,
    wanted: TargetSessionAttrs,
) -> Result<Link, Failure> {
    let work = async {
        let link = connector
            .attempt_host(host)
            .await
            .map_err(Failure::Failed)?;
        match rejection(&link, wanted).await {
            Ok(None) => Ok(link),
            Ok(Some(why)) => {
                let error = Error::client(&ClientCannotConnectError, format!("{host} {why}"));
                Err(Failure::Rejected(Box::new(link), error))
            }
            Err(error) => {
                link.terminate();
                Err(Failure::Failed(error))
            }
        }
    };
    let attempted = match connector.params().connect_timeout() {
        Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
            Err(Failure::Failed(Error::client(
                &ConnectTimeoutError,
                format!("no connection to {host} within {limit:?}"),
            )))
        }),
        None => work.await,
    };
    if let Err(Failure::Rejected(_, error) | Failure::Failed(error)) = &attempted {
        crate::trace::host_failed(host, error);
    }
    attempted
}

/// Why the session does not suit `wanted`, or `None` when it does.
async fn rejection(link: &Link, wanted: TargetSessionAttrs) -> Result<Option<String>, Error> {
    use TargetSessionAttrs::*;
    let why = match wanted {
        Any => None,
        ReadWrite | ReadOnly => {
            let read_only = read_only(link).await?;
            match (wanted, read_only) {
                (ReadWrite, true) if reported(link, "in_hot_standby") == Some(true) => {
                    Some("is a standby, read-write wanted")
                }
                (ReadWrite, true) => Some("is read-only, read-write wanted"),
                (ReadOnly, false) => Some("is read-write, read-only wanted"),
                _ => None,
            }
        }
        Primary | Standby | PreferStandby => match (wanted, in_hot_standby(link).await?) {
            (Primary, true) => Some("is a standby, primary wanted"),
            (Standby, false) => Some("is a primary, standby wanted"),
            (PreferStandby, false) => Some("is a primary, standby preferred"),
            _ => None,
        },
    };
    Ok(why.map(str::to_owned))
}

/// A boolean the server reported at startup (ParameterStatus), if it did.
fn reported(link: &Link, name: &str) -> Option<bool> {
    link.shared.parameter(name).map(|value| value == "on")
}

/// libpq's read-only test: `default_transaction_read_only` or `in_hot_standby` reported on
/// (14+); else `SHOW transaction_read_only`.
async fn read_only(link: &Link) -> Result<bool, Error> {
    match (
        reported(link, "default_transaction_read_only"),
        reported(link, "in_hot_standby"),
    ) {
        (Some(default), Some(standby)) => Ok(default || standby),
        _ => ask(link, "SHOW transaction_read_only", "on").await,
    }
}

/// Whether the server is in hot standby: reported (14+), else asked (9.0+).
async fn in_hot_standby(link: &Link) -> Result<bool, Error> {
    if let Some(standby) = reported(link, "in_hot_standby") {
        return Ok(standby);
    }
    let version = link.shared.parameter("server_version").unwrap_or_default();
    match pg_api::VersionInfo::parse(&version) {
        Ok(v) if v.major < 9 => Ok(false),
        _ => ask(link, "SELECT pg_catalog.pg_is_in_recovery()", "t").await,
    }
}

/// Whether the single value `sql` returns is `yes`.
async fn ask(link: &Link, sql: &str, yes: &str) -> Result<bool, Error> {
    let results = simple_query(link, sql).await?;
    let value = results
        .into_iter()
        .flat_map(|r| r.rows)
        .next()
        .and_then(|row| row.into_iter().next().flatten());
    match value {
        Some(value) => Ok(value == yes),
        None => Err(Error::client(
            &ConnectionFailureError,
            format!("{sql} gave no value, so the session's attributes are unknown"),
        )),
    }
}

/// The error for a connector none of whose hosts gave a session: the last failure, naming
/// its host, with the others as "also failed" (in the order they were tried).
fn report(connector: &Connector, failures: Vec<(String, Error)>) -> Error {
    let iri = connector.iri();
    let mut failures = failures.into_iter();
    let Some((host, last)) = failures.next_back() else {
        return Error::client(&ConnectionFailureError, "no host to connect to")
            .with_context("connector", iri);
    };
    let mut error = last;
    if !error.message().starts_with(&host) {
        error = error.with_context("host", host);
    }
    error = error.with_context("connector", iri);
    for (host, earlier) in failures {
        let message = earlier.message();
        let mut text = match message.starts_with(&host) {
            true => message.to_owned(),
            false => format!("{host}: {message}"),
        };
        if let Some(cause) = earlier.cause() {
            text = format!("{text} ({cause})");
        }
        error = error.with_context("also failed", text);
    }
    error
}
