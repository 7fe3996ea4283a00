//! Connection parameters: where and how to connect, following libpq's
//! conventions (DESIGN.md, decision 9).
//!
//! Parameters come in layers, highest precedence first:
//!
//! 1. explicit keywords ([`Keywords`], built with its setters),
//! 2. an IRI (`pq://…`, `postgresql://…`) or a libpq connection string
//!    (`host=… port=…`), read by [`Keywords::parse`],
//! 3. the connection service the layers above (or `PGSERVICE`) name, read from
//!    `pg_service.conf` files ([`service`]),
//! 4. the `PG*` environment ([`Keywords::with_env`]),
//! 5. defaults ([`Defaults`]: the operating-system user, the Unix socket
//!    directory, port 5432).
//!
//! [`Keywords::merge`] combines the first two, [`Keywords::with_env`] fills
//! gaps from the environment and [`Keywords::build`] applies the defaults and
//! checks the whole, giving an immutable [`ConnectParams`]:
//!
//! ```
//! # use pg_driver::params::{Keywords, Defaults, Host, SslMode};
//! let explicit = Keywords::new().user("alice");
//! let params = Keywords::parse("pq://bob@db.example:5433/app?[sslmode]=require#app,public")?
//!     .merge(explicit)
//!     .with_env(|_| None)?
//!     .build_with(&Defaults::default())?;
//! assert_eq!(params.user(), "alice");
//! assert_eq!(params.hosts(), &[Host::tcp("db.example", 5433)]);
//! assert_eq!(params.ssl_mode(), SslMode::Require);
//! assert_eq!(params.setting("search_path"), Some("app,public"));
//! assert_eq!(params.to_iri(false), "pq://alice@db.example:5433/app?[sslmode]=require#app,public");
//! # Ok::<(), pg_driver::params::ParamsError>(())
//! ```
//!
//! Passwords live in [`Password`], whose `Debug` prints `***`; the `Debug` of
//! [`Keywords`] and [`ConnectParams`] masks the secret driver keywords kept in
//! `extra` (`sslpassword`, …) too, and so does [`ConnectParams::to_iri`] when it
//! obscures. The password file is read by [`pgpass`].
//!
//! TLS is never weakened by a parameter the driver does not understand:
//! py-postgresql's `[sslrootcrtfile]`, `[sslcrtfile]`, `[sslkeyfile]` and
//! `[sslrootcrlfile]` mean libpq's `sslrootcert`, `sslcert`, `sslkey` and
//! `sslcrl`; any other unknown `ssl…` name is
//! [`ParamsError::UnknownTlsParameter`]. Parameters that are kept but not
//! acted on ([`ConnectParams::ignored_parameters`]) are reported as
//! IgnoredClientParameterWarning through the message hooks on connecting.
//!
//! py-postgresql's own parameter names work as `pq://` driver parameters with their
//! meanings: `[pgpassfile]` is `passfile`, `[kerberos5_service]` is `krbsrvname`;
//! `server_encoding` ([`ServerEncoding`]: the encoding the startup values and the password
//! are sent in) and `ipv` ([`IpVersion`]: IPv4 or IPv6 only) are keywords of this driver as
//! well. What py-postgresql's `open()` accepts but a library cannot honour (`prompt_password`,
//! `prompt_title`, `kerberos4_realm`, `address_family`, `sslrootkeyfile`) is kept and
//! reported as ignored.
//!
//! ```
//! # use pg_driver::params::{IpVersion, Keywords, ServerEncoding};
//! let params = Keywords::parse("pq://app@db/app?[server_encoding]=latin-1&[ipv]=4")?.build()?;
//! assert_eq!(params.server_encoding(), ServerEncoding::Latin1);
//! assert_eq!(params.ip_version(), Some(IpVersion::V4));
//! # Ok::<(), pg_driver::params::ParamsError>(())
//! ```
//!
//! As py-postgresql does, a connection lowers `client_min_messages` to `warning` unless
//! the user's settings set it (as a setting or as a server option in `options`):
//! [`ConnectParams::startup_settings`] is what the startup packet carries.
//!
//! `require_auth` (libpq 16; `PGREQUIREAUTH`, `[require_auth]` in a `pq://`
//! IRI) is a [`RequireAuth`]: the authentication methods the server may use,
//! or with `!` those it may not. The connection checks it before answering
//! each request and again at AuthenticationOk, so a server that skips
//! authentication while the list does not allow `none` is refused. Malformed
//! lists (unknown methods, negated and plain items mixed, a method twice) are
//! [`ParamsError::InvalidValue`].
//!
//! ```
//! # use pg_driver::params::{AuthRequirement, Keywords, RequireAuth};
//! let params = Keywords::parse("postgresql://app@db/app?require_auth=scram-sha-256")?.build()?;
//! assert_eq!(params.require_auth(), &RequireAuth::only([AuthRequirement::ScramSha256]));
//! assert_eq!(params.to_iri(false), "pq://app@db/app?[require_auth]=scram-sha-256");
//! assert!(Keywords::parse("host=db require_auth=md5,!password").is_err());
//! # Ok::<(), pg_driver::params::ParamsError>(())
//! ```

mod apply;
mod build;
mod conninfo;
mod env;
mod error;
mod ignored;
mod ip_version;
mod iri;
mod keywords;
mod masked;
mod notifications;
mod observe;
pub use notifications::DEFAULT_NOTIFICATION_CAPACITY;
pub(crate) use observe::Observe;
mod options;
pub mod pgpass;
mod py_postgresql;
mod query_timeout;
mod render;
mod require_auth;
mod server_encoding;
pub mod service;
mod startup;
mod statements;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use apply::PASSTHROUGH_KEYWORDS;
pub use build::{DEFAULT_PORT, Defaults, home_dir, os_user_name};
pub use env::env_keywords;
pub use error::ParamsError;
pub use ip_version::IpVersion;
pub use keywords::Keywords;
pub use options::{ChannelBindingMode, LoadBalanceHosts, SslMode, TargetSessionAttrs};
pub use pgpass::PgpassWarning;
pub use require_auth::{AuthRequirement, RequireAuth};
pub use server_encoding::ServerEncoding;
pub use service::ServiceFiles;
pub use startup::{CLIENT_MIN_MESSAGES, DRIVER_CLIENT_MIN_MESSAGES};
pub use statements::PreparedStatements;

/// A password. Its `Debug` output is `***`, so it never leaks into logs.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password itself, for the authentication exchange.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the password is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Password {
    fn from(password: String) -> Self {
        Self(password)
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Self {
        Self(password.to_owned())
    }
}

/// One server to try.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A TCP server, by name or IP literal (IPv6 without brackets).
    Tcp {
        /// Host name or IP literal; the name TLS verification and the
        /// password file use.
        host: String,
        /// libpq's `hostaddr`: the address to connect to instead of
        /// resolving `host`, when both were given.
        hostaddr: Option<IpAddr>,
        /// TCP port.
        port: u16,
    },
    /// A Unix-domain socket: a directory holding `.s.PGSQL.<port>`, or the
    /// socket file itself (a path whose file name starts with `.s.PGSQL.`).
    /// A path starting with `@` names a Linux abstract socket.
    Unix {
        /// Socket directory or socket file.
        path: PathBuf,
        /// Port, which names the socket file in a directory.
        port: u16,
    },
}

impl Host {
    /// A TCP host without `hostaddr`.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Self::Tcp {
            host: host.into(),
            hostaddr: None,
            port,
        }
    }

    /// A Unix-domain socket directory or file.
    pub fn unix(path: impl Into<PathBuf>, port: u16) -> Self {
        Self::Unix {
            path: path.into(),
            port,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            Self::Tcp { port, .. } | Self::Unix { port, .. } => *port,
        }
    }

    /// For a Unix socket, the socket file to connect to: the path itself when
    /// it already names a `.s.PGSQL.*` file, otherwise `<dir>/.s.PGSQL.<port>`.
    pub fn socket_path(&self) -> Option<PathBuf> {
        match self {
            Self::Tcp { .. } => None,
            Self::Unix { path, port } => Some(if is_socket_file(path) {
                path.clone()
            } else {
                path.join(format!(".s.PGSQL.{port}"))
            }),
        }
    }
}

impl fmt::Display for Host {
    /// `host:port` (`[v6]:port`), or the socket file's path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp { host, port, .. } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Self::Tcp { host, port, .. } => write!(f, "{host}:{port}"),
            Self::Unix { .. } => {
                let path = self.socket_path().unwrap_or_default();
                write!(f, "{}", path.display())
            }
        }
    }
}

pub(crate) fn is_socket_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".s.PGSQL."))
}

/// Whether libpq would take a host entry for a Unix socket path.
pub(crate) fn is_socket_host(host: &str) -> bool {
    host.starts_with('/') || host.starts_with('@')
}

/// Everything needed to connect, with defaults applied. Made by
/// [`Keywords::build`] (or [`ConnectParams::from_iri`]); immutable after.
///
/// Its `Debug` shows the password as `***`, and the values of secret driver keywords
/// (`sslpassword`, … : [`pg_exceptions::SECRET_KEYWORDS`]) as well.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectParams {
    pub(crate) hosts: Vec<Host>,
    pub(crate) user: String,
    pub(crate) password: Option<Password>,
    pub(crate) database: String,
    pub(crate) settings: Vec<(String, String)>,
    pub(crate) ssl_mode: SslMode,
    pub(crate) ssl_root_cert: Option<PathBuf>,
    pub(crate) ssl_cert: Option<PathBuf>,
    pub(crate) ssl_key: Option<PathBuf>,
    pub(crate) channel_binding: ChannelBindingMode,
    pub(crate) require_auth: RequireAuth,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) keepalives: bool,
    pub(crate) keepalives_idle: Option<Duration>,
    pub(crate) keepalives_interval: Option<Duration>,
    pub(crate) keepalives_count: Option<u32>,
    pub(crate) target_session_attrs: TargetSessionAttrs,
    pub(crate) load_balance_hosts: LoadBalanceHosts,
    pub(crate) passfile: Option<PathBuf>,
    pub(crate) extra: BTreeMap<String, String>,
}

impl ConnectParams {
    /// Parses an IRI (or a connection string) and applies the system
    /// [`Defaults`]. The environment is not consulted; see
    /// [`Keywords::with_env`] for that.
    pub fn from_iri(iri: &str) -> Result<Self, ParamsError> {
        Keywords::parse(iri)?.build()
    }

    /// The servers to try, in order; never empty.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }
    /// The same parameters with another host list (ignored when empty, so
    /// the list never is).
    pub fn with_hosts(mut self, hosts: Vec<Host>) -> Self {
        if !hosts.is_empty() {
            self.hosts = hosts;
        }
        self
    }
    /// The user name to authenticate as.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// The password, if one was given (the password file is separate:
    /// [`ConnectParams::passfile_password`]).
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }
    /// The database to connect to.
    pub fn database(&self) -> &str {
        &self.database
    }
    /// Run-time settings for the startup packet, in order, names unique.
    pub fn settings(&self) -> &[(String, String)] {
        &self.settings
    }
    /// One setting's value.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// `sslmode`.
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }
    /// `sslrootcert`: trusted root certificates.
    pub fn ssl_root_cert(&self) -> Option<&Path> {
        self.ssl_root_cert.as_deref()
    }
    /// `sslcert`: the client certificate.
    pub fn ssl_cert(&self) -> Option<&Path> {
        self.ssl_cert.as_deref()
    }
    /// `sslkey`: the client certificate's key.
    pub fn ssl_key(&self) -> Option<&Path> {
        self.ssl_key.as_deref()
    }
    /// `channel_binding`.
    pub fn channel_binding(&self) -> ChannelBindingMode {
        self.channel_binding
    }
    /// `require_auth`: the authentication methods the server may use (see
    /// [`RequireAuth`]); [`RequireAuth::any`] unless set.
    pub fn require_auth(&self) -> &RequireAuth {
        &self.require_auth
    }
    /// `connect_timeout` per host, whole seconds and at least 2 (libpq's
    /// floor); `None` waits indefinitely.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }
    /// Whether TCP keepalives are on (default on).
    pub fn keepalives(&self) -> bool {
        self.keepalives
    }
    /// `keepalives_idle`; `None` leaves the system default.
    pub fn keepalives_idle(&self) -> Option<Duration> {
        self.keepalives_idle
    }
    /// `keepalives_interval`; `None` leaves the system default.
    pub fn keepalives_interval(&self) -> Option<Duration> {
        self.keepalives_interval
    }
    /// `keepalives_count`; `None` leaves the system default.
    pub fn keepalives_count(&self) -> Option<u32> {
        self.keepalives_count
    }
    /// `target_session_attrs`.
    pub fn target_session_attrs(&self) -> TargetSessionAttrs {
        self.target_session_attrs
    }
    /// `load_balance_hosts`.
    pub fn load_balance_hosts(&self) -> LoadBalanceHosts {
        self.load_balance_hosts
    }
    /// The password file named by `passfile` or `PGPASSFILE`, if any
    /// (otherwise `~/.pgpass` is used: [`pgpass::default_path`]).
    pub fn passfile(&self) -> Option<&Path> {
        self.passfile.as_deref()
    }
    /// Driver parameters this layer does not model: known libpq keywords
    /// without a typed field (`sslcrl`, `gssencmode`, …), this driver's own
    /// statement keywords, and unknown bracketed `pq://` parameters (never an
    /// `ssl…` one). See [`ConnectParams::ignored_parameters`] for which of them
    /// the driver cannot honour.
    pub fn extra(&self) -> &BTreeMap<String, String> {
        &self.extra
    }
}
