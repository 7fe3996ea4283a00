//! The one error type of the parameter layer.

use std::error::Error;
use std::fmt;

/// Why a connection IRI, connection string, environment variable or keyword
/// set could not be turned into parameters.
///
/// Every variant names the offending part of the input. None ever carries a
/// password: where the bad part is a password, only the word "password"
/// appears.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamsError {
    /// The text starts with a scheme other than `pq`, `postgresql` or `postgres`.
    UnsupportedScheme {
        /// The scheme as written (without `://`).
        scheme: String,
    },
    /// The text does not follow the grammar of its form.
    Syntax {
        /// Which part was being read: `"scheme"`, `"host"`, `"query"`,
        /// `"path"`, `"connection string"`, …
        part: &'static str,
        /// Byte offset into the input where the problem was found.
        position: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A percent-encoded component is malformed, or decodes to bytes that
    /// are not UTF-8 or contain NUL.
    Encoding {
        /// The component: `"user"`, `"password"`, `"host"`, `"query key"`,
        /// `"value of sslmode"`, …
        part: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// A keyword that libpq does not know (connection strings,
    /// `postgresql://` query parameters, [`Keywords::set`](super::Keywords::set)).
    UnknownKeyword {
        /// The keyword as written.
        keyword: String,
    },
    /// A TLS parameter (a name starting with `ssl`) the driver does not know: refused rather
    /// than ignored, since ignoring it could weaken TLS silently (`pq://` driver parameters,
    /// and [`Keywords::extra`](super::Keywords::extra)).
    UnknownTlsParameter {
        /// The parameter as written.
        keyword: String,
    },
    /// A value that does not fit its keyword.
    InvalidValue {
        /// The keyword (or environment variable's keyword).
        keyword: String,
        /// The offending value; empty and never shown for `password`, or when it came from a
        /// service file.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A port list whose length is neither 1 nor the number of hosts.
    PortCount {
        /// Number of hosts.
        hosts: usize,
        /// Number of ports.
        ports: usize,
    },
    /// `host` and `hostaddr` lists of different lengths.
    HostaddrCount {
        /// Number of `host` entries.
        hosts: usize,
        /// Number of `hostaddr` entries.
        hostaddrs: usize,
    },
    /// A startup-packet setting that cannot be sent.
    InvalidSetting {
        /// The setting's name.
        name: String,
        /// Why it cannot be sent.
        reason: &'static str,
    },
    /// An environment variable held a value that could not be used.
    Environment {
        /// The variable, e.g. `PGPORT`.
        variable: String,
        /// What was wrong with its value.
        error: Box<ParamsError>,
    },
    /// No user name was given and the operating-system user could not be
    /// looked up.
    NoUser,
    /// No connection service file has the service's section.
    ServiceNotFound {
        /// The service's name.
        service: String,
        /// The files looked in, in order (some may not exist).
        searched: Vec<std::path::PathBuf>,
    },
    /// A line of the service's section in a service file is malformed.
    ServiceFile {
        /// The file.
        path: std::path::PathBuf,
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with it (never its text, which may hold a password).
        reason: String,
    },
    /// A value in the service's section does not fit its keyword.
    ServiceValue {
        /// The file.
        path: std::path::PathBuf,
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with the value.
        error: Box<ParamsError>,
    },
    /// A service file exists but could not be read.
    ServiceFileUnreadable {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A startup value or the password has a character the server encoding
    /// (py-postgresql's `server_encoding`) cannot hold.
    Unencodable {
        /// What holds it: `"user"`, `"database"`, `"password"`, or a setting's name.
        part: String,
        /// PostgreSQL's name of the encoding.
        encoding: &'static str,
    },
}

impl ParamsError {
    /// An [`InvalidValue`](Self::InvalidValue) that never records a password.
    pub(crate) fn invalid(keyword: &str, value: &str, expected: &'static str) -> Self {
        let value = if keyword == "password" {
            String::new()
        } else {
            value.to_owned()
        };
        Self::InvalidValue {
            keyword: keyword.to_owned(),
            value,
            expected,
        }
    }

    pub(crate) fn syntax(part: &'static str, position: usize, reason: &'static str) -> Self {
        Self::Syntax {
            part,
            position,
            reason,
        }
    }
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedScheme { scheme } => write!(
                f,
                "unsupported scheme {scheme:?} (expected pq://, postgresql:// or postgres://)"
            ),
            Self::Syntax {
                part,
                position,
                reason,
            } => write!(f, "invalid {part} at byte {position}: {reason}"),
            Self::Encoding { part, reason } => write!(f, "invalid {part}: {reason}"),
            Self::UnknownKeyword { keyword } => {
                write!(f, "unknown connection keyword {keyword:?}")
            }
            Self::UnknownTlsParameter { keyword } => write!(
                f,
                "unknown TLS parameter {keyword:?}: the driver does not connect with a TLS \
                 setting it cannot honour"
            ),
            Self::InvalidValue {
                keyword,
                value,
                expected,
            } if keyword == "password" || value.is_empty() => {
                write!(f, "invalid value for {keyword:?}: expected {expected}")
            }
            Self::InvalidValue {
                keyword,
                value,
                expected,
            } => write!(
                f,
                "invalid value {value:?} for {keyword:?}: expected {expected}"
            ),
            Self::PortCount { hosts, ports } => {
                write!(f, "could not match {ports} port numbers to {hosts} hosts")
            }
            Self::HostaddrCount { hosts, hostaddrs } => write!(
                f,
                "could not match {hosts} host names to {hostaddrs} hostaddr values"
            ),
            Self::InvalidSetting { name, reason } => write!(f, "setting {name:?}: {reason}"),
            Self::Environment { variable, error } => {
                write!(f, "environment variable {variable}: {error}")
            }
            Self::NoUser => f.write_str(
                "no user name given and the operating-system user could not be looked up",
            ),
            Self::ServiceNotFound { service, searched } => {
                let files: Vec<String> = searched
                    .iter()
                    .map(|p| format!("{:?}", p.display().to_string()))
                    .collect();
                write!(
                    f,
                    "definition of service {service:?} not found (looked in {})",
                    files.join(", ")
                )
            }
            Self::ServiceFile { path, line, reason } => write!(
                f,
                "syntax error in service file {:?}, line {line}: {reason}",
                path.display().to_string()
            ),
            Self::ServiceValue { path, line, error } => write!(
                f,
                "service file {:?}, line {line}: {error}",
                path.display().to_string()
            ),
            Self::ServiceFileUnreadable { path, reason } => write!(
                f,
                "could not read service file {:?}: {reason}",
                path.display().to_string()
            ),
            Self::Unencodable { part, encoding } => write!(
                f,
                "the {part} cannot be sent in {encoding} (server_encoding): it has a \
                 character {encoding} does not hold"
            ),
        }
    }
}

impl Error for ParamsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Environment { error, .. } | Self::ServiceValue { error, .. } => {
                Some(error.as_ref())
            }
            _ => None,
        }
    }
}
