//! Resolving a [`Keywords`] layer into [`ConnectParams`]: defaults, host and
//! port lists, checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::apply::PASSTHROUGH_KEYWORDS;
use super::{ConnectParams, Host, Keywords, ParamsError, is_socket_host};

/// The default port, libpq's `DEF_PGPORT`.
pub const DEFAULT_PORT: u16 = 5432;

/// The socket directories libpq builds use by default: Debian's and the
/// upstream one.
const SOCKET_DIRS: &[&str] = &["/var/run/postgresql", "/tmp"];

/// What [`Keywords::build`] falls back on for anything no layer set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Defaults {
    /// The user name when none is given (and the database name after it).
    pub user: Option<String>,
    /// The socket directory used for an unspecified host; `None` means TCP
    /// to `localhost`.
    pub socket_dir: Option<PathBuf>,
}

impl Defaults {
    /// Defaults with the given user and no socket directory (`localhost`).
    pub fn new(user: Option<String>, socket_dir: Option<PathBuf>) -> Self {
        Self { user, socket_dir }
    }

    /// This process's defaults: the effective user's name from the password
    /// database (`getpwuid(geteuid())`, not `$USER`), and, as libpq, the
    /// Unix socket directory: `/var/run/postgresql` where it exists
    /// (Debian's libpq), else `/tmp` (upstream's). Without Unix sockets the
    /// default host is `localhost`.
    pub fn system() -> Self {
        let socket_dir = if cfg!(unix) {
            SOCKET_DIRS
                .iter()
                .map(PathBuf::from)
                .find(|d| d.is_dir())
                .or_else(|| Some(PathBuf::from("/tmp")))
        } else {
            None
        };
        Self {
            user: os_user_name(),
            socket_dir,
        }
    }
}

/// Whether a socket directory is one libpq treats as its default, which the
/// password file matches as `localhost`.
pub(crate) fn is_default_socket_dir(dir: &Path) -> bool {
    SOCKET_DIRS.iter().any(|d| dir == Path::new(d)) || dir == Path::new("/run/postgresql")
}

impl Keywords {
    /// Resolves this layer with the system [`Defaults`].
    pub fn build(self) -> Result<ConnectParams, ParamsError> {
        self.build_with(&Defaults::system())
    }

    /// Resolves this layer with the given defaults: fills every unset
    /// parameter, pairs hosts with ports (one port for all, or one each) and
    /// `hostaddr`s, and checks that everything can go into a startup packet.
    ///
    /// A service the layer still names (`service`; see [`super::service`]) is read first,
    /// from the files found without the environment.
    pub fn build_with(self, defaults: &Defaults) -> Result<ConnectParams, ParamsError> {
        let this = super::service::layer_without_env(self)?;
        this.build_resolved(defaults)
    }

    fn build_resolved(self, defaults: &Defaults) -> Result<ConnectParams, ParamsError> {
        let hosts = self.resolve_hosts(defaults)?;
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let user = match self.user {
            // py-postgresql's `pq://:secret@host`: sent empty, as written.
            Some(user) if self.empty_user && user.is_empty() => user,
            user => nonempty(user)
                .or_else(|| defaults.user.clone())
                .ok_or(ParamsError::NoUser)?,
        };
        let database = nonempty(self.dbname).unwrap_or_else(|| user.clone());
        // Keep names unique even if the public field was pushed to directly.
        let mut unique = Keywords::new();
        for (name, value) in self.settings {
            unique.set_setting(name, value);
        }
        let mut settings = unique.settings;
        if let Some(name) = self.fallback_application_name
            && !settings.iter().any(|(n, _)| n == "application_name")
        {
            settings.push(("application_name".into(), name));
        }
        for (name, value) in &settings {
            let reason = match name.as_str() {
                "" => Some("a setting needs a name"),
                "user" | "database" => Some("set it as a connection parameter, not a setting"),
                _ if name.contains('\0') || value.contains('\0') => Some("contains a NUL byte"),
                _ => None,
            };
            if let Some(reason) = reason {
                let name = name.clone();
                return Err(ParamsError::InvalidSetting { name, reason });
            }
        }
        for (key, value) in &self.extra {
            if super::statements::KEYWORDS.contains(&key.as_str()) {
                super::statements::check(key, value)?;
                continue;
            }
            if key == super::notifications::KEYWORD {
                super::notifications::check(value)?;
                continue;
            }
            if key == super::query_timeout::KEYWORD {
                super::query_timeout::check(value)?;
                continue;
            }
            if super::observe::KEYWORDS.contains(&key.as_str()) {
                super::observe::check(key, value)?;
                continue;
            }
            if key == super::server_encoding::KEYWORD {
                super::server_encoding::check(value)?;
                continue;
            }
            if key == super::ip_version::KEYWORD {
                super::ip_version::check(value)?;
                continue;
            }
            if key == super::startup::KEYWORD {
                super::startup::check(value)?;
                continue;
            }
            let passthrough = PASSTHROUGH_KEYWORDS.contains(&key.as_str())
                || super::py_postgresql::INERT_TLS.contains(&key.as_str());
            if !passthrough && super::iri::is_tls_name(key) {
                let keyword = key.clone();
                return Err(ParamsError::UnknownTlsParameter { keyword });
            }
            let modelled = !passthrough && Keywords::new().set_known(key, value).unwrap_or(true);
            if key.is_empty()
                || modelled
                || matches!(key.as_str(), "unix" | "database" | "settings")
            {
                return Err(ParamsError::invalid(
                    key,
                    value,
                    "a keyword with no typed field",
                ));
            }
        }
        let no_nul = |keyword: &str, text: &str| match text.contains('\0') {
            true => Err(ParamsError::invalid(keyword, "", "a value without NUL")),
            false => Ok(()),
        };
        no_nul("user", &user)?;
        no_nul("dbname", &database)?;
        let password = self.password.filter(|p| !p.is_empty());
        if let Some(p) = &password {
            no_nul("password", p.expose())?;
        }
        let params = ConnectParams {
            hosts,
            user,
            password,
            database,
            settings,
            ssl_mode: self.sslmode.unwrap_or_default(),
            ssl_root_cert: self.sslrootcert,
            ssl_cert: self.sslcert,
            ssl_key: self.sslkey,
            channel_binding: self.channel_binding.unwrap_or_default(),
            require_auth: self.require_auth.unwrap_or_default(),
            connect_timeout: whole_seconds(self.connect_timeout)
                .map(|t| t.max(Duration::from_secs(2))),
            keepalives: self.keepalives.unwrap_or(true),
            keepalives_idle: whole_seconds(self.keepalives_idle),
            keepalives_interval: whole_seconds(self.keepalives_interval),
            keepalives_count: self.keepalives_count.filter(|&n| n != 0),
            target_session_attrs: self.target_session_attrs.unwrap_or_default(),
            load_balance_hosts: self.load_balance_hosts.unwrap_or_default(),
            passfile: self.passfile,
            extra: self.extra,
        };
        params.check_encodable()?;
        Ok(params)
    }

    fn resolve_hosts(&self, defaults: &Defaults) -> Result<Vec<Host>, ParamsError> {
        let ports = self.port.clone().unwrap_or_default();
        let port_at = |i: usize| {
            match ports.len() {
                1 => ports[0],
                _ => ports.get(i).copied().flatten(),
            }
            .unwrap_or(DEFAULT_PORT)
        };
        if let Some(path) = self.unix.as_ref().filter(|p| !p.as_os_str().is_empty()) {
            return Ok(vec![Host::unix(path.clone(), port_at(0))]);
        }
        let names = self.host.clone().unwrap_or_default();
        let addrs = self.hostaddr.clone().unwrap_or_default();
        if !names.is_empty() && !addrs.is_empty() && names.len() != addrs.len() {
            let (hosts, hostaddrs) = (names.len(), addrs.len());
            return Err(ParamsError::HostaddrCount { hosts, hostaddrs });
        }
        let count = names.len().max(addrs.len()).max(1);
        if ports.len() > 1 && ports.len() != count {
            let ports = ports.len();
            return Err(ParamsError::PortCount {
                hosts: count,
                ports,
            });
        }
        let mut hosts = Vec::with_capacity(count);
        for i in 0..count {
            let name = names.get(i).map(String::as_str).unwrap_or_default();
            if name.contains('\0') {
                return Err(ParamsError::invalid("host", "", "a host without NUL"));
            }
            let port = port_at(i);
            let addr = addrs.get(i).copied().flatten();
            hosts.push(match addr {
                Some(ip) if name.is_empty() || is_socket_host(name) => {
                    Host::tcp(ip.to_string(), port)
                }
                Some(ip) => Host::Tcp {
                    host: name.to_owned(),
                    hostaddr: Some(ip),
                    port,
                },
                None if name.is_empty() => match &defaults.socket_dir {
                    Some(dir) => Host::unix(dir.clone(), port),
                    None => Host::tcp("localhost", port),
                },
                None if is_socket_host(name) => Host::unix(name, port),
                None => Host::tcp(name, port),
            });
        }
        Ok(hosts)
    }
}

/// Rounds up to whole seconds; zero (or unset) means "not set".
fn whole_seconds(d: Option<Duration>) -> Option<Duration> {
    let d = d.filter(|d| !d.is_zero())?;
    let secs = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    Some(Duration::from_secs(secs))
}

impl ConnectParams {
    /// These parameters as a keyword layer, to merge with others and build
    /// again: `params.to_keywords().merge(overrides).build()`.
    pub fn to_keywords(&self) -> Keywords {
        let mut kw = Keywords::new();
        match self.hosts.as_slice() {
            [Host::Unix { path, port }] => {
                kw.unix = Some(path.clone());
                kw.port = Some(vec![Some(*port)]);
            }
            hosts => {
                let name = |h: &Host| match h {
                    Host::Tcp { host, .. } => host.clone(),
                    Host::Unix { path, .. } => path.to_string_lossy().into_owned(),
                };
                let addr = |h: &Host| match h {
                    Host::Tcp { hostaddr, .. } => *hostaddr,
                    Host::Unix { .. } => None,
                };
                kw.host = Some(hosts.iter().map(name).collect());
                if hosts.iter().any(|h| addr(h).is_some()) {
                    kw.hostaddr = Some(hosts.iter().map(addr).collect());
                }
                kw.port = Some(hosts.iter().map(|h| Some(h.port())).collect());
            }
        }
        kw.user = Some(self.user.clone());
        kw.empty_user = self.user.is_empty();
        kw.password = self.password.clone();
        kw.dbname = Some(self.database.clone());
        kw.settings = self.settings.clone();
        kw.sslmode = Some(self.ssl_mode);
        kw.sslrootcert = self.ssl_root_cert.clone();
        kw.sslcert = self.ssl_cert.clone();
        kw.sslkey = self.ssl_key.clone();
        kw.channel_binding = Some(self.channel_binding);
        kw.require_auth = Some(self.require_auth.clone());
        kw.connect_timeout = Some(self.connect_timeout.unwrap_or_default());
        kw.keepalives = Some(self.keepalives);
        kw.keepalives_idle = Some(self.keepalives_idle.unwrap_or_default());
        kw.keepalives_interval = Some(self.keepalives_interval.unwrap_or_default());
        kw.keepalives_count = Some(self.keepalives_count.unwrap_or_default());
        kw.target_session_attrs = Some(self.target_session_attrs);
        kw.load_balance_hosts = Some(self.load_balance_hosts);
        kw.passfile = self.passfile.clone();
        kw.extra = self.extra.clone();
        kw
    }
}

/// The effective user's login name from the password database
/// (`getpwuid_r(geteuid())`), as libpq finds its default user.
pub fn os_user_name() -> Option<String> {
    with_passwd(|pw| pw.name.to_str().ok().map(str::to_owned)).flatten()
}

/// The effective user's home directory from the password database.
pub(crate) fn passwd_home_dir() -> Option<PathBuf> {
    with_passwd(|pw| PathBuf::from(pw.dir))
}

/// The effective user's home directory: `$HOME` if set and non-empty, else
/// the password database's entry (libpq's order).
pub fn home_dir() -> Option<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Some(PathBuf::from(home)),
        _ => with_passwd(|pw| PathBuf::from(pw.dir)),
    }
}

#[cfg(unix)]
struct PasswdEntry {
    name: std::ffi::CString,
    dir: std::ffi::OsString,
}

#[cfg(unix)]
fn with_passwd<T>(f: impl FnOnce(PasswdEntry) -> T) -> Option<T> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: passwd is plain old data; all-zero is a valid value.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call and `buf.len()` is the
        // true size of the buffer the strings are written into.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() || pwd.pw_dir.is_null() {
            return None;
        }
        // SAFETY: on success both fields point at NUL-terminated strings in
        // `buf`, which is still alive; they are copied before it is dropped.
        let (name, dir) = unsafe { (CStr::from_ptr(pwd.pw_name), CStr::from_ptr(pwd.pw_dir)) };
        let entry = PasswdEntry {
            name: name.to_owned(),
            dir: std::ffi::OsStr::from_bytes(dir.to_bytes()).to_owned(),
        };
        return Some(f(entry));
    }
}

#[cfg(not(unix))]
struct PasswdEntry {
    name: std::ffi::CString,
    dir: std::ffi::OsString,
}

#[cfg(not(unix))]
fn with_passwd<T>(_f: impl FnOnce(PasswdEntry) -> T) -> Option<T> {
    None
}
