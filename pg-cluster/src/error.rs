//! The one error type of the crate.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pg_api::VersionError;
use pg_exceptions::ErrorClass;

/// What went wrong while finding an installation or managing a cluster.
///
/// The variants follow py-postgresql's exception classes: [`ClusterError::Other`] is its
/// generic `ClusterError`, the others its `ClusterInitializationError`, `InitDBError`,
/// `ClusterStartupError`, `ClusterNotRunningError` and `ClusterTimeoutError` (whose classes,
/// codes and parent links are in pg-exceptions' table: [`ClusterError::class`]); [`ClusterError::Database`] carries
/// what the driver reported while connecting to the server or running SQL on it.
/// [`ClusterError::name`] gives the class name. The error is `Clone` so that a failed
/// process-wide initialisation can be reported to every caller.
///
/// It converts both ways with the driver's
/// [`pg_exceptions::Error`](struct@pg_exceptions::Error), so that `?` works in functions
/// returning either.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClusterError {
    /// A generic failure: a missing program, an I/O error, a file that cannot be parsed.
    Other {
        /// What was being done and what failed.
        message: String,
        /// The underlying I/O error, if there was one.
        source: Option<Arc<io::Error>>,
    },
    /// A cluster could not be initialized before initdb ran or finished: no initdb
    /// program, a data directory that cannot be made or handed over, initdb not starting,
    /// the password file. py-postgresql's `ClusterInitializationError`, of which
    /// [`ClusterError::InitDb`] is the kind where initdb ran and failed.
    Initialization {
        /// What was being done and what failed.
        message: String,
        /// The underlying I/O error, if there was one.
        source: Option<Arc<io::Error>>,
    },
    /// `initdb` exited unsuccessfully.
    InitDb {
        /// The command line that was run (never containing a password).
        command: String,
        /// The exit status, `None` when initdb was ended by a signal.
        status: Option<i32>,
        /// What initdb wrote to its standard error (and output).
        stderr: String,
    },
    /// The server exited, or never became ready, after being started.
    Startup {
        /// What happened.
        message: String,
        /// The server's exit status when it has exited.
        status: Option<i32>,
        /// The path of the server log.
        logfile: Option<PathBuf>,
        /// The last lines of the server log.
        log_tail: String,
    },
    /// An operation needed a running server and there is none.
    NotRunning {
        /// What was attempted.
        message: String,
    },
    /// A wait for the server to start or stop did not finish in time.
    Timeout {
        /// What was awaited.
        message: String,
        /// How long it was awaited.
        waited: Duration,
    },
    /// The driver failed to connect to the server, or the server refused SQL run on it.
    Database {
        /// The driver's error: the server's message, SQLSTATE and fields, and the context.
        error: pg_exceptions::Error,
    },
}

impl ClusterError {
    /// A generic error with a message.
    pub(crate) fn other(message: impl Into<String>) -> Self {
        ClusterError::Other {
            message: message.into(),
            source: None,
        }
    }

    /// A generic error caused by an I/O error.
    pub(crate) fn io(message: impl Into<String>, source: io::Error) -> Self {
        ClusterError::Other {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// An I/O error on a path, the message naming the action and the path.
    pub(crate) fn io_path(action: &str, path: &Path, source: io::Error) -> Self {
        Self::io(format!("could not {action} {}", path.display()), source)
    }

    /// The failure of an initialization step, as [`ClusterError::Initialization`]: a
    /// generic error of a step of [`Cluster::init`](crate::Cluster::init) becomes one.
    pub(crate) fn initialization(self) -> Self {
        match self {
            ClusterError::Other { message, source } => {
                ClusterError::Initialization { message, source }
            }
            other => other,
        }
    }

    /// The py-postgresql class name of this error: `ClusterError`,
    /// `ClusterInitializationError`, `InitDBError`, `ClusterStartupError`,
    /// `ClusterNotRunningError` or `ClusterTimeoutError`, and for
    /// [`ClusterError::Database`] the driver error's class (`UndefinedTableError`, …).
    pub fn name(&self) -> &'static str {
        self.class().name()
    }

    /// The class of this error in pg-exceptions' table (py-postgresql's cluster exception
    /// classes and codes: `ClusterError` `-C000`, `ClusterInitializationError` `-Cini`,
    /// `InitDBError` `-Cidb`, `ClusterStartupError` `-Cbot`, `ClusterNotRunningError`
    /// `-Cdwn`, `ClusterTimeoutError` `-Cout`), or the driver error's class. Their parent
    /// links hold: an [`InitDb`](ClusterError::InitDb) error `is_a` ClusterInitializationError.
    ///
    /// ```
    /// # use pg_cluster::ClusterError;
    /// # fn check(err: &ClusterError) {
    /// if err.class().is_a(&pg_exceptions::ClusterInitializationError) {
    ///     // initdb, or a step before it, failed
    /// }
    /// # }
    /// ```
    pub fn class(&self) -> &'static ErrorClass {
        match self {
            ClusterError::Database { error } => error.class(),
            ClusterError::Other { .. } => &pg_exceptions::ClusterError,
            ClusterError::Initialization { .. } => &pg_exceptions::ClusterInitializationError,
            ClusterError::InitDb { .. } => &pg_exceptions::InitDBError,
            ClusterError::Startup { .. } => &pg_exceptions::ClusterStartupError,
            ClusterError::NotRunning { .. } => &pg_exceptions::ClusterNotRunningError,
            ClusterError::Timeout { .. } => &pg_exceptions::ClusterTimeoutError,
        }
    }
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::Other { message, source }
            | ClusterError::Initialization { message, source } => {
                write!(f, "{message}")?;
                if let Some(source) = source {
                    write!(f, ": {source}")?;
                }
                Ok(())
            }
            ClusterError::InitDb {
                command,
                status,
                stderr,
            } => {
                match status {
                    Some(code) => write!(f, "initdb failed with exit status {code}")?,
                    None => write!(f, "initdb was terminated by a signal")?,
                }
                write!(f, "\n  command: {command}")?;
                write_block(f, "output", stderr)
            }
            ClusterError::Startup {
                message,
                status,
                logfile,
                log_tail,
            } => {
                write!(f, "{message}")?;
                if let Some(code) = status {
                    write!(f, " (exit status {code})")?;
                }
                if let Some(path) = logfile {
                    write!(f, "\n  log file: {}", path.display())?;
                }
                write_block(f, "log tail", log_tail)
            }
            ClusterError::NotRunning { message } => write!(f, "cluster not running: {message}"),
            ClusterError::Timeout { message, waited } => {
                write!(f, "timed out after {:.1}s: {message}", waited.as_secs_f64())
            }
            ClusterError::Database { error } if f.alternate() => write!(f, "{error:#}"),
            ClusterError::Database { error } => write!(f, "{error}"),
        }
    }
}

/// Writes an indented multi-line payload under a label, or nothing when it is blank.
fn write_block(f: &mut fmt::Formatter<'_>, label: &str, text: &str) -> fmt::Result {
    let text = text.trim_end();
    if text.is_empty() {
        return Ok(());
    }
    write!(f, "\n  {label}:")?;
    for line in text.lines() {
        write!(f, "\n    {line}")?;
    }
    Ok(())
}

impl std::error::Error for ClusterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClusterError::Other {
                source: Some(source),
                ..
            }
            | ClusterError::Initialization {
                source: Some(source),
                ..
            } => Some(source.as_ref()),
            ClusterError::Database { error } => Some(error),
            _ => None,
        }
    }
}

impl From<VersionError> for ClusterError {
    fn from(err: VersionError) -> Self {
        ClusterError::other(err.to_string())
    }
}

impl From<pg_exceptions::Error> for ClusterError {
    fn from(error: pg_exceptions::Error) -> Self {
        ClusterError::Database { error }
    }
}

impl From<ClusterError> for pg_exceptions::Error {
    /// The driver's error back as it was; any other failure as a client-side error of its
    /// cluster class ([`ClusterError::class`]).
    fn from(error: ClusterError) -> Self {
        match error {
            ClusterError::Database { error } => error,
            other => {
                pg_exceptions::Error::client(other.class(), format!("{}: {other}", other.name()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_payloads() {
        let err = ClusterError::InitDb {
            command: "initdb -D /x".into(),
            status: Some(1),
            stderr: "initdb: error: directory \"/x\" exists but is not empty\n".into(),
        };
        let text = err.to_string();
        assert!(text.contains("exit status 1"), "{text}");
        assert!(text.contains("initdb -D /x"), "{text}");
        assert!(text.contains("exists but is not empty"), "{text}");
        assert_eq!(err.name(), "InitDBError");
        // py-postgresql's levels: InitDBError under ClusterInitializationError under
        // ClusterError.
        assert!(err.class().is_a(&pg_exceptions::ClusterInitializationError));
        assert!(err.class().is_a(&pg_exceptions::ClusterError));
        let init = ClusterError::other("no initdb").initialization();
        assert_eq!(init.name(), "ClusterInitializationError");
        assert_eq!(init.class().code(), "-Cini");
        assert!(
            !ClusterError::other("x")
                .class()
                .is_a(&pg_exceptions::ClusterInitializationError)
        );

        let err = ClusterError::Startup {
            message: "the server exited during startup".into(),
            status: Some(1),
            logfile: Some("/tmp/log".into()),
            log_tail: "FATAL:  invalid value for parameter \"shared_buffers\"".into(),
        };
        let text = err.to_string();
        assert!(text.contains("shared_buffers"), "{text}");
        assert!(text.contains("/tmp/log"), "{text}");

        let err = ClusterError::io("could not read x", io::Error::other("boom"));
        assert!(err.to_string().ends_with(": boom"));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn converts_to_and_from_driver_errors() {
        let fields = [
            (b'S', "ERROR"),
            (b'C', "42P01"),
            (b'M', "relation \"nope\" does not exist"),
        ];
        let driver = pg_exceptions::Error::from_fields(fields.map(|(t, v)| (t, v.to_owned())));
        let err = ClusterError::from(driver);
        assert_eq!(err.name(), "UndefinedTableError");
        assert!(
            err.to_string().contains("relation \"nope\" does not exist"),
            "{err}"
        );
        assert!(std::error::Error::source(&err).is_some());
        let back = pg_exceptions::Error::from(err);
        assert_eq!(back.code(), "42P01");

        let timeout = ClusterError::Timeout {
            message: "the server did not stop".into(),
            waited: Duration::from_secs(1),
        };
        let as_driver = pg_exceptions::Error::from(timeout);
        assert!(as_driver.is_a(&pg_exceptions::ClusterTimeoutError));
        assert!(as_driver.is_a(&pg_exceptions::ClusterError));
        assert_eq!(as_driver.code(), "-Cout");
        assert!(
            as_driver.message().contains("ClusterTimeoutError"),
            "{as_driver}"
        );
        assert!(as_driver.message().contains("did not stop"), "{as_driver}");
    }
}
