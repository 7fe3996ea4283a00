//! The password file: `~/.pgpass`, or the file named by `PGPASSFILE` or the
//! `passfile` parameter.
//!
//! Each line is `hostname:port:database:username:password`. The first line
//! whose four fields match wins. A field of exactly `*` matches anything; a
//! backslash makes the next character literal (`\:`, `\\`). Lines starting
//! with `#`, empty lines and lines that are not UTF-8 are skipped. As in
//! libpq, `localhost` also stands for a Unix-socket connection through the
//! default socket directory, and the password runs to the next unescaped `:`
//! or the end of the line.
//!
//! A file that is not a regular file, or that the group or others may
//! access at all (`mode & 0o077 != 0`), is ignored with a [`PgpassWarning`]
//! the caller can print, as libpq prints its warning.

use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::build::{home_dir, is_default_socket_dir};
use super::{ConnectParams, Host, Password, is_socket_file, is_socket_host};

/// Why a password file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PgpassWarning {
    /// The path names a directory, device, socket or other non-file.
    NotRegularFile {
        /// The password file's path.
        path: PathBuf,
    },
    /// The group or others have some access to the file.
    Permissions {
        /// The password file's path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file exists but could not be read.
    Unreadable {
        /// The password file's path.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
}

impl fmt::Display for PgpassWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRegularFile { path } => {
                write!(f, "password file {path:?} is not a plain file")
            }
            Self::Permissions { path, mode } => write!(
                f,
                "password file {path:?} has group or world access (mode {mode:04o}); \
                 permissions should be u=rw (0600) or less"
            ),
            Self::Unreadable { path, reason } => {
                write!(f, "could not read password file {path:?}: {reason}")
            }
        }
    }
}

impl std::error::Error for PgpassWarning {}

impl ConnectParams {
    /// The password file to read: `passfile` (or `PGPASSFILE`) if given,
    /// else [`default_path`].
    pub fn effective_passfile(&self) -> Option<PathBuf> {
        self.passfile.clone().or_else(default_path)
    }

    /// Looks up the password for `host` in [`effective_passfile`]
    /// (`Ok(None)` when there is no file or no matching line; a warning when
    /// the file was refused).
    ///
    /// [`effective_passfile`]: ConnectParams::effective_passfile
    pub fn passfile_password(&self, host: &Host) -> Result<Option<Password>, PgpassWarning> {
        let Some(path) = self.effective_passfile() else {
            return Ok(None);
        };
        let (host_name, port) = (host_key(host), host.port());
        let found = lookup(&path, &host_name, port, &self.database, &self.user)?;
        Ok(found.map(Password::new))
    }
}

/// `~/.pgpass`, with the home directory from `$HOME` or the password
/// database.
pub fn default_path() -> Option<PathBuf> {
    home_dir().map(|home| home.join(".pgpass"))
}

/// The host name the password file is searched for when connecting to
/// `host`: the TCP host name, or for a Unix socket its directory, which is
/// `localhost` when it is a default socket directory.
pub fn host_key(host: &Host) -> String {
    match host {
        Host::Tcp { host, .. } => host.clone(),
        Host::Unix { path, .. } => {
            let dir = match is_socket_file(path) {
                true => path.parent().unwrap_or(path),
                false => path.as_path(),
            };
            normalize_host(&dir.to_string_lossy())
        }
    }
}

fn normalize_host(host: &str) -> String {
    if host.is_empty() || (is_socket_host(host) && is_default_socket_dir(Path::new(host))) {
        "localhost".to_owned()
    } else {
        host.to_owned()
    }
}

/// Looks up the password for a connection in the file at `path`.
/// `Ok(None)` when the file does not exist or has no matching line.
pub fn lookup(
    path: &Path,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Result<Option<String>, PgpassWarning> {
    let path_buf = || path.to_path_buf();
    let unreadable = |e: std::io::Error| PgpassWarning::Unreadable {
        path: path_buf(),
        reason: e.to_string(),
    };
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    if !meta.is_file() {
        return Err(PgpassWarning::NotRegularFile { path: path_buf() });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(PgpassWarning::Permissions {
                path: path_buf(),
                mode,
            });
        }
    }
    let contents = fs::read(path).map_err(unreadable)?;
    Ok(find(&contents, host, port, database, user))
}

/// Searches password-file contents for the first line matching the
/// connection. Never fails: malformed lines simply do not match.
pub fn find(contents: &[u8], host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    if database.is_empty() || user.is_empty() {
        return None;
    }
    let host = normalize_host(host);
    let port = port.to_string();
    let wanted = [host.as_str(), port.as_str(), database, user];
    'lines: for line in contents.split(|&b| b == b'\n') {
        let end = line.iter().rposition(|&b| b != b'\r').map_or(0, |i| i + 1);
        let line = &line[..end];
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let Ok(mut rest) = std::str::from_utf8(line) else {
            continue;
        };
        for want in wanted {
            match match_field(rest, want) {
                Some(after) => rest = after,
                None => continue 'lines,
            }
        }
        return Some(unescape_password(rest));
    }
    None
}

/// If the field at the start of `s` is `*` or equals `want` once unescaped,
/// the text after its terminating `:`.
fn match_field<'a>(s: &'a str, want: &str) -> Option<&'a str> {
    if let Some(rest) = s.strip_prefix("*:") {
        return Some(rest);
    }
    let mut field = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => field.push(chars.next()?.1),
            ':' => return (field == want).then(|| &s[i + 1..]),
            _ => field.push(c),
        }
    }
    None
}

/// The password field: up to the next unescaped `:`, backslashes removed.
fn unescape_password(s: &str) -> String {
    let mut password = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ':' => break,
            '\\' => password.push(chars.next().unwrap_or('\\')),
            _ => password.push(c),
        }
    }
    password
}
