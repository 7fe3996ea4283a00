//! Administrative SQL through the project's driver.
//!
//! Each call opens a blocking connection, runs its SQL as one simple query and closes the
//! connection. The work happens on a thread of its own: the blocking facade refuses to run
//! inside a tokio runtime, and [`crate::Temporal::get`] or a dropped [`crate::Sandbox`] may
//! well be inside one (an async test).

use std::thread;

use pg_driver::params::ConnectParams;
use pg_driver::{Connector, SimpleResult, blocking};

use crate::error::ClusterError;

/// Connects with `params`, runs `sql` (one or more statements, as one simple query) and
/// closes the connection; returns every statement's result.
pub(crate) fn run(params: ConnectParams, sql: &str) -> Result<Vec<SimpleResult>, ClusterError> {
    let sql = sql.to_owned();
    let worker = thread::Builder::new()
        .name("pg-cluster-admin".into())
        .spawn(move || -> Result<Vec<SimpleResult>, pg_exceptions::Error> {
            let connection = blocking::Connector::new(params).connect()?;
            let results = connection.simple(&sql);
            connection.close();
            results
        })
        .map_err(|e| ClusterError::io("could not start a thread for administrative SQL", e))?;
    match worker.join() {
        Ok(results) => Ok(results?),
        // Not resumed: a sandbox's drop runs this, maybe while already unwinding.
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(ClusterError::other(format!(
                "the administrative connection panicked: {what}"
            )))
        }
    }
}

/// A blocking connection for the caller, refused inside an async runtime. (Checked here
/// first: the driver's blocking connector would build, and drop, a runtime of its own
/// there, which tokio forbids.)
pub(crate) fn connect_blocking(connector: Connector) -> Result<blocking::Connection, ClusterError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(pg_exceptions::Error::client(
            &pg_exceptions::OperationError,
            "the blocking facade was called inside an async runtime; use the async API there",
        )
        .into());
    }
    Ok(blocking::Connector::from(connector).connect()?)
}

/// The rows of every result as `psql --tuples-only --no-align` prints them: one row per
/// line, columns separated by `|`, NULL as the empty string, no headers.
pub(crate) fn rows_as_text(results: &[SimpleResult]) -> String {
    let lines: Vec<String> = results
        .iter()
        .flat_map(|result| &result.rows)
        .map(|row| {
            row.iter()
                .map(|value| value.as_deref().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rows_like_psql() {
        let results = vec![
            SimpleResult {
                columns: vec![],
                rows: vec![],
                tag: "SET".into(),
            },
            SimpleResult {
                columns: vec!["a".into(), "b".into()],
                rows: vec![
                    vec![Some("1".into()), None],
                    vec![Some("x y".into()), Some("z".into())],
                ],
                tag: "SELECT 2".into(),
            },
            SimpleResult {
                columns: vec!["c".into()],
                rows: vec![vec![Some("last".into())]],
                tag: "SELECT 1".into(),
            },
        ];
        assert_eq!(rows_as_text(&results), "1|\nx y|z\nlast");
        assert_eq!(rows_as_text(&[]), "");
    }
}
