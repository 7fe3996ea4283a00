//! [`Keywords`]: one layer of connection parameters, every field optional.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    ChannelBindingMode, LoadBalanceHosts, Password, RequireAuth, SslMode, TargetSessionAttrs,
};

/// One layer of connection parameters, as libpq's keywords: each field is
/// `None` until the layer sets it. IRIs, connection strings and the
/// environment all parse into `Keywords`; explicit arguments are built with
/// the chaining setters. [`Keywords::merge`] layers them and
/// [`Keywords::build`] resolves the result into a
/// [`ConnectParams`](super::ConnectParams).
///
/// `host`, `hostaddr` and `unix` form one group: a layer that sets any of
/// them replaces all three of a lower layer, so an explicit host is never
/// combined with a `hostaddr` from the environment.
///
/// Its `Debug` shows the password, and the values of secret keywords in `extra`
/// (`sslpassword`, …), as `***`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Keywords {
    /// `host`: names, IP literals or socket directories (`/…`, `@…`); an
    /// empty entry means the default host.
    pub host: Option<Vec<String>>,
    /// `hostaddr`: numeric addresses, matched with `host` entry by entry;
    /// `None` entries mean "resolve the name".
    pub hostaddr: Option<Vec<Option<IpAddr>>>,
    /// py-postgresql's `[unix]`: one socket directory or socket file; when
    /// set it is the only host.
    pub unix: Option<PathBuf>,
    /// `port`: one port for every host, or one per host; `None` entries mean
    /// the default port.
    pub port: Option<Vec<Option<u16>>>,
    /// `user`. An empty user means the default user (libpq's rule), except one written
    /// empty in a `pq://` IRI or locator (`pq://:secret@host`), which py-postgresql keeps.
    pub user: Option<String>,
    /// The user is py-postgresql's explicitly empty one: [`Keywords::build`] keeps it
    /// empty instead of taking the default user.
    pub(crate) empty_user: bool,
    /// `password`.
    pub password: Option<Password>,
    /// `dbname`.
    pub dbname: Option<String>,
    /// Startup-packet settings (`application_name`, `options`,
    /// `client_encoding`, `search_path`, `timezone`, …); names unique.
    pub settings: Vec<(String, String)>,
    /// `fallback_application_name`: `application_name` when none is set.
    pub fallback_application_name: Option<String>,
    /// `sslmode`.
    pub sslmode: Option<SslMode>,
    /// `sslrootcert`.
    pub sslrootcert: Option<PathBuf>,
    /// `sslcert`.
    pub sslcert: Option<PathBuf>,
    /// `sslkey`.
    pub sslkey: Option<PathBuf>,
    /// `channel_binding`.
    pub channel_binding: Option<ChannelBindingMode>,
    /// `require_auth`: the authentication methods the server may use.
    pub require_auth: Option<RequireAuth>,
    /// `connect_timeout`; zero means "wait indefinitely".
    pub connect_timeout: Option<Duration>,
    /// `keepalives`.
    pub keepalives: Option<bool>,
    /// `keepalives_idle`; zero means the system default.
    pub keepalives_idle: Option<Duration>,
    /// `keepalives_interval`; zero means the system default.
    pub keepalives_interval: Option<Duration>,
    /// `keepalives_count`; zero means the system default.
    pub keepalives_count: Option<u32>,
    /// `target_session_attrs`.
    pub target_session_attrs: Option<TargetSessionAttrs>,
    /// `load_balance_hosts`.
    pub load_balance_hosts: Option<LoadBalanceHosts>,
    /// `passfile`.
    pub passfile: Option<PathBuf>,
    /// Driver parameters without a typed field, by keyword.
    pub extra: BTreeMap<String, String>,
}

impl Keywords {
    /// An empty layer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one host (replacing any host list, `hostaddr` and `unix`).
    pub fn host(self, host: impl Into<String>) -> Self {
        self.hosts([host])
    }

    /// Sets the host list (replacing any `hostaddr` and `unix`).
    pub fn hosts<I: IntoIterator<Item = S>, S: Into<String>>(mut self, hosts: I) -> Self {
        self.host = Some(hosts.into_iter().map(Into::into).collect());
        self.hostaddr = None;
        self.unix = None;
        self
    }

    /// Sets one `hostaddr` (matched with a single `host`, if any).
    pub fn hostaddr(mut self, addr: IpAddr) -> Self {
        self.hostaddr = Some(vec![Some(addr)]);
        self.unix = None;
        self
    }

    /// Connects through one Unix socket directory or socket file only.
    pub fn unix(mut self, path: impl Into<PathBuf>) -> Self {
        self.unix = Some(path.into());
        self.host = None;
        self.hostaddr = None;
        self
    }

    /// Sets one port for every host.
    pub fn port(self, port: u16) -> Self {
        self.ports([port])
    }

    /// Sets one port per host.
    pub fn ports(mut self, ports: impl IntoIterator<Item = u16>) -> Self {
        self.port = Some(ports.into_iter().map(Some).collect());
        self
    }

    /// Sets the user name.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self.empty_user = false;
        self
    }

    /// Sets the password.
    pub fn password(mut self, password: impl Into<Password>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets the database name (libpq's `dbname`).
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.dbname = Some(database.into());
        self
    }

    /// Sets (or replaces) one startup-packet setting.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_setting(name.into(), value.into());
        self
    }

    /// Sets `application_name`.
    pub fn application_name(self, name: impl Into<String>) -> Self {
        self.setting("application_name", name)
    }

    /// Sets `search_path` from schema names, quoting each as needed.
    pub fn search_path<I: IntoIterator<Item = S>, S: AsRef<str>>(self, schemas: I) -> Self {
        let value = super::render::join_search_path(schemas);
        self.setting("search_path", value)
    }

    /// Sets `sslmode`.
    pub fn ssl_mode(mut self, mode: SslMode) -> Self {
        self.sslmode = Some(mode);
        self
    }

    /// Sets `sslrootcert`.
    pub fn ssl_root_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.sslrootcert = Some(path.into());
        self
    }

    /// Sets `sslcert` and `sslkey`.
    pub fn ssl_client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.sslcert = Some(cert.into());
        self.sslkey = Some(key.into());
        self
    }

    /// Sets `channel_binding`.
    pub fn channel_binding(mut self, mode: ChannelBindingMode) -> Self {
        self.channel_binding = Some(mode);
        self
    }

    /// Sets `require_auth`: which authentication methods the server may use (see
    /// [`RequireAuth`]).
    pub fn require_auth(mut self, methods: RequireAuth) -> Self {
        self.require_auth = Some(methods);
        self
    }

    /// Sets `connect_timeout` (rounded up to whole seconds, at least 2;
    /// zero waits indefinitely).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Turns TCP keepalives on or off.
    pub fn keepalives(mut self, on: bool) -> Self {
        self.keepalives = Some(on);
        self
    }

    /// Sets `target_session_attrs`.
    pub fn target_session_attrs(mut self, attrs: TargetSessionAttrs) -> Self {
        self.target_session_attrs = Some(attrs);
        self
    }

    /// Sets `load_balance_hosts`.
    pub fn load_balance_hosts(mut self, mode: LoadBalanceHosts) -> Self {
        self.load_balance_hosts = Some(mode);
        self
    }

    /// Sets `passfile`.
    pub fn passfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.passfile = Some(path.into());
        self
    }

    /// Sets or replaces a setting in place, keeping names unique.
    pub(crate) fn set_setting(&mut self, name: String, value: String) {
        match self.settings.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.settings.push((name, value)),
        }
    }

    /// Layers `overrides` over `self`: every field `overrides` sets wins;
    /// the rest come from `self`. Settings and extras merge by name.
    pub fn merge(mut self, overrides: Keywords) -> Keywords {
        let o = overrides;
        if o.host.is_some() || o.hostaddr.is_some() || o.unix.is_some() {
            self.host = o.host;
            self.hostaddr = o.hostaddr;
            self.unix = o.unix;
        }
        macro_rules! take {
            ($($field:ident),+) => { $( if o.$field.is_some() { self.$field = o.$field; } )+ };
        }
        if o.user.is_some() {
            self.user = o.user;
            self.empty_user = o.empty_user;
        }
        take!(port, password, dbname, fallback_application_name, sslmode);
        take!(
            sslrootcert,
            sslcert,
            sslkey,
            channel_binding,
            require_auth,
            connect_timeout
        );
        take!(
            keepalives,
            keepalives_idle,
            keepalives_interval,
            keepalives_count
        );
        take!(target_session_attrs, load_balance_hosts, passfile);
        for (name, value) in o.settings {
            self.set_setting(name, value);
        }
        self.extra.extend(o.extra);
        self
    }
}
