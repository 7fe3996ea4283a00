//! The connection service file: libpq's `pg_service.conf`.
//!
//! A service names a group of connection parameters: `service=mydb` (or `PGSERVICE=mydb`)
//! takes the parameters of the section `[mydb]`. The section is looked for in the per-user
//! file first, the file `servicefile` (libpq 18's keyword) or `PGSERVICEFILE` names, else
//! `~/.pg_service.conf`; then, only when the user file has no such section, in the system
//! file `pg_service.conf` in `PGSYSCONFDIR`, else in libpq's compiled-in directory
//! ([`default_sysconf_dir`]). A file that does not exist is passed over; a service found in
//! neither is [`ParamsError::ServiceNotFound`].
//!
//! The format is libpq's: lines are trimmed of white space; empty lines and lines starting
//! with `#` are skipped; `[name]` starts a section (compared exactly); in the service's
//! section each line is `keyword=value`, split at the first `=` with no white space
//! trimmed around it, the keyword one of libpq's (or this driver's); the first value of a
//! keyword wins; the section ends at the next `[`. A line without `=`, an unknown keyword,
//! a nested `service=` and an LDAP lookup line are errors naming the file and the line,
//! never the line's text (it may hold a password).
//!
//! Precedence is libpq's: parameters given explicitly (keywords, an IRI, a connection
//! string) override the service's, and the service's override the environment's
//! ([`Keywords::with_env`]). [`Keywords::build`] resolves a service the layer still names
//! without the environment: from `servicefile`, `~/.pg_service.conf` or the compiled-in
//! system file, as it reads `~/.pgpass` without `PGPASSFILE`.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::{Keywords, ParamsError};

/// The keyword that names a service.
pub(crate) const SERVICE: &str = "service";
/// libpq 18's keyword for the per-user service file.
pub(crate) const SERVICEFILE: &str = "servicefile";

/// The system service file's name.
const SYSTEM_FILE: &str = "pg_service.conf";
/// The per-user service file's name, in the home directory.
const USER_FILE: &str = ".pg_service.conf";

/// The directories libpq builds look for `pg_service.conf` in (their `SYSCONFDIR`, which
/// `pg_config --sysconfdir` shows): Debian's, the PGDG RPMs', upstream's default.
const SYSCONF_DIRS: &[&str] = &[
    "/etc/postgresql-common",
    "/etc/sysconfig/pgsql",
    "/usr/local/pgsql/etc",
];

/// libpq's compiled-in system configuration directory for this machine: the first of
/// Debian's (`/etc/postgresql-common`), the PGDG RPMs' (`/etc/sysconfig/pgsql`) and
/// upstream's (`/usr/local/pgsql/etc`) that exists, else upstream's.
pub fn default_sysconf_dir() -> PathBuf {
    SYSCONF_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| PathBuf::from(SYSCONF_DIRS[SYSCONF_DIRS.len() - 1]))
}

/// The two service files a service is looked for in, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceFiles {
    /// The per-user file: `servicefile`, else `PGSERVICEFILE`, else `~/.pg_service.conf`.
    pub user: Option<PathBuf>,
    /// The system file: `pg_service.conf` in `PGSYSCONFDIR`, else in
    /// [`default_sysconf_dir`].
    pub system: PathBuf,
}

impl ServiceFiles {
    /// The files libpq reads, with `servicefile` (the keyword's value, if given) and the
    /// environment read through `lookup`: `PGSERVICEFILE`, `PGSYSCONFDIR`, and `HOME` for
    /// `~/.pg_service.conf` (the password database's home directory when `HOME` is unset).
    pub fn locate(servicefile: Option<&str>, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let nonempty = |value: Option<String>| value.filter(|v| !v.is_empty());
        let user = servicefile
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .or_else(|| nonempty(lookup("PGSERVICEFILE")).map(PathBuf::from))
            .or_else(|| {
                nonempty(lookup("HOME"))
                    .map(PathBuf::from)
                    .or_else(super::build::passwd_home_dir)
                    .map(|home| home.join(USER_FILE))
            });
        let system = nonempty(lookup("PGSYSCONFDIR"))
            .map(PathBuf::from)
            .unwrap_or_else(default_sysconf_dir)
            .join(SYSTEM_FILE);
        ServiceFiles { user, system }
    }

    /// The files read without the environment: `servicefile`, else `~/.pg_service.conf`
    /// (home from `$HOME` or the password database); the system file in
    /// [`default_sysconf_dir`].
    pub fn without_env(servicefile: Option<&str>) -> Self {
        let home = super::build::home_dir();
        let home = home.as_deref().and_then(Path::to_str).map(str::to_owned);
        ServiceFiles::locate(servicefile, |name| match name {
            "HOME" => home.clone(),
            _ => None,
        })
    }

    /// The parameters of `service`: its section in the user file, else in the system file.
    pub fn service(&self, service: &str) -> Result<Keywords, ParamsError> {
        for path in self.user.iter().chain([&self.system]) {
            if let Some(found) = read(path, service)? {
                return Ok(found);
            }
        }
        Err(ParamsError::ServiceNotFound {
            service: service.to_owned(),
            searched: self.user.iter().chain([&self.system]).cloned().collect(),
        })
    }
}

/// The service's section in the file at `path`; `None` when the file does not exist or
/// has no such section.
fn read(path: &Path, service: &str) -> Result<Option<Keywords>, ParamsError> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes, path, service),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ParamsError::ServiceFileUnreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

/// C's `isspace` in the "C" locale, which libpq trims lines of.
fn is_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn trim(mut line: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = line
        && is_space(first)
    {
        line = rest;
    }
    while let [rest @ .., last] = line
        && is_space(last)
    {
        line = rest;
    }
    line
}

/// Reads the section `[service]` of a service file's bytes.
pub(crate) fn parse(
    bytes: &[u8],
    path: &Path,
    service: &str,
) -> Result<Option<Keywords>, ParamsError> {
    let error = |line: usize, reason: String| ParamsError::ServiceFile {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut found: Option<Keywords> = None;
    let mut seen = HashSet::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        let line = trim(raw);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        if line[0] == b'[' {
            if found.is_some() {
                break;
            }
            let name = service.as_bytes();
            if line[1..].starts_with(name) && line.get(1 + name.len()) == Some(&b']') {
                found = Some(Keywords::new());
            }
            continue;
        }
        let Some(keywords) = found.as_mut() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(line) else {
            return Err(error(number, "the line is not UTF-8".into()));
        };
        if text.starts_with("ldap") {
            let reason = "LDAP lookups are not supported".into();
            return Err(error(number, reason));
        }
        let Some((keyword, value)) = text.split_once('=') else {
            return Err(error(number, "a line without '='".into()));
        };
        if keyword == SERVICE {
            let reason = "nested service specifications are not supported".into();
            return Err(error(number, reason));
        }
        if !seen.insert(keyword.to_owned()) {
            // libpq keeps a keyword's first value.
            continue;
        }
        keywords.set(keyword, value).map_err(|e| match e {
            ParamsError::UnknownKeyword { keyword } => {
                error(number, format!("unknown connection keyword {keyword:?}"))
            }
            e => ParamsError::ServiceValue {
                path: path.to_path_buf(),
                line: number,
                error: Box::new(without_value(e)),
            },
        })?;
    }
    Ok(found)
}

/// The error without the value it quotes: a service file keeps passwords next to the other
/// values, and a password typed on the wrong line must not be shown.
fn without_value(error: ParamsError) -> ParamsError {
    match error {
        ParamsError::InvalidValue {
            keyword, expected, ..
        } => ParamsError::InvalidValue {
            keyword,
            value: String::new(),
            expected,
        },
        error => error,
    }
}

impl Keywords {
    /// Names the service whose parameters fill what this layer leaves unset (libpq's
    /// `service`; see the [module documentation](self)).
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.extra.insert(SERVICE.into(), name.into());
        self
    }

    /// Names the per-user service file (libpq 18's `servicefile`), instead of
    /// `PGSERVICEFILE` or `~/.pg_service.conf`.
    pub fn service_file(mut self, path: impl Into<PathBuf>) -> Self {
        let path = path.into().to_string_lossy().into_owned();
        self.extra.insert(SERVICEFILE.into(), path);
        self
    }

    /// The service this layer names, if any.
    fn service_name(&self) -> Option<&str> {
        self.extra
            .get(SERVICE)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Takes `service` and `servicefile` out of the layer, which they have done their work in.
    fn drop_service(mut self) -> Keywords {
        self.extra.remove(SERVICE);
        self.extra.remove(SERVICEFILE);
        self
    }
}

/// Layers `explicit` over the service it (or the environment: `PGSERVICE`) names, over
/// `env`, reading the service files as `lookup` says.
pub(crate) fn layer_with_env(
    explicit: Keywords,
    env: Keywords,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Keywords, ParamsError> {
    let name = explicit
        .service_name()
        .or(env.service_name())
        .map(str::to_owned);
    let Some(name) = name else {
        return Ok(env.merge(explicit).drop_service());
    };
    let servicefile = explicit.extra.get(SERVICEFILE).map(String::as_str);
    let service = ServiceFiles::locate(servicefile, lookup).service(&name)?;
    Ok(env.merge(service).merge(explicit).drop_service())
}

/// Layers `explicit` over the service it names, with the files found without the
/// environment ([`ServiceFiles::without_env`]).
pub(crate) fn layer_without_env(explicit: Keywords) -> Result<Keywords, ParamsError> {
    let Some(name) = explicit.service_name() else {
        return Ok(explicit.drop_service());
    };
    let servicefile = explicit.extra.get(SERVICEFILE).map(String::as_str);
    let service = ServiceFiles::without_env(servicefile).service(name)?;
    Ok(service.merge(explicit).drop_service())
}
