//! The server's lock file, `postmaster.pid`, and the process checks built on it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::ClusterError;

/// The contents of `postmaster.pid`, which the server writes in its data directory while
/// it runs and updates as it starts and stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostmasterPid {
    /// The server's process id (negative in the file for a single-user backend).
    pub pid: u32,
    /// The data directory.
    pub data_directory: Option<PathBuf>,
    /// The start time, seconds since the epoch.
    pub start_time: Option<i64>,
    /// The port.
    pub port: Option<u16>,
    /// The first unix socket directory, if any.
    pub socket_directory: Option<PathBuf>,
    /// The first listen address (`*`, an address, or none for unix sockets only).
    pub listen_address: Option<String>,
    /// The server's status: `starting`, `stopping`, `ready` or `standby` (PostgreSQL 10+).
    pub status: Option<String>,
}

impl PostmasterPid {
    /// Parses the file's text; `None` when there is not even a process id (the server
    /// writes the file in steps, so a partial file is normal during startup).
    pub fn parse(text: &str) -> Option<Self> {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let field = |n: usize| lines.get(n).copied().filter(|s| !s.is_empty());
        let pid = field(0)?.parse::<i64>().ok()?.unsigned_abs();
        Some(PostmasterPid {
            pid: u32::try_from(pid).ok().filter(|p| *p > 0)?,
            data_directory: field(1).map(PathBuf::from),
            start_time: field(2).and_then(|s| s.parse().ok()),
            port: field(3).and_then(|s| s.parse().ok()),
            socket_directory: field(4).map(PathBuf::from),
            listen_address: field(5).map(str::to_owned),
            status: field(7).map(str::to_owned),
        })
    }

    /// Reads and parses the file; `Ok(None)` when it does not exist or has no pid yet.
    pub fn read(path: &Path) -> Result<Option<Self>, ClusterError> {
        match fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClusterError::io_path("read", path, e)),
        }
    }

    /// Whether the status line says the server accepts connections.
    pub fn is_ready(&self) -> bool {
        matches!(self.status.as_deref(), Some("ready") | Some("standby"))
    }
}

fn pid(raw: u32) -> Option<Pid> {
    i32::try_from(raw)
        .ok()
        .filter(|p| *p > 0)
        .map(Pid::from_raw)
}

/// The state letter and parent pid of a process, from `/proc/<pid>/stat` (Linux).
fn proc_stat(raw: u32) -> Option<(char, u32)> {
    let text = fs::read_to_string(format!("/proc/{raw}/stat")).ok()?;
    // The command name is in parentheses and may itself contain them.
    let after = &text[text.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

/// Whether a process exists and has not exited (a zombie counts as exited).
pub(crate) fn process_alive(raw: u32) -> bool {
    let Some(p) = pid(raw) else { return false };
    match kill(p, None) {
        Ok(()) | Err(Errno::EPERM) => !matches!(proc_stat(raw), Some(('Z', _))),
        Err(_) => false,
    }
}

/// Sends a signal; `Ok(false)` when there is no such process.
pub(crate) fn send_signal(raw: u32, signal: Signal) -> Result<bool, ClusterError> {
    let Some(p) = pid(raw) else { return Ok(false) };
    match kill(p, signal) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(errno) => Err(ClusterError::io(
            format!("could not send {signal} to process {raw}"),
            errno.into(),
        )),
    }
}

/// The direct children of a process (Linux `/proc`; empty elsewhere).
pub(crate) fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| proc_stat(*p).is_some_and(|(_, ppid)| ppid == parent))
        .collect()
}

/// Whether a process looks like a PostgreSQL server (its command name), so that a stale
/// pid reused by another program is never signalled.
pub(crate) fn is_postgres(raw: u32) -> bool {
    fs::read_to_string(format!("/proc/{raw}/comm"))
        .map(|comm| matches!(comm.trim(), "postgres" | "postmaster"))
        .unwrap_or(false)
}

/// Whether a process is a PostgreSQL server process of `data_directory`: a `postgres`
/// whose working directory is that directory (the server changes into its data directory
/// before it writes `postmaster.pid`, and its children inherit that). A pid read from a
/// stale `postmaster.pid` may since have been reused, on a busy machine (`pid_max` is
/// often 32768) even by a process of another cluster; the directory tells them apart.
/// Where the working directory cannot be read (another user's process, not as root),
/// the command name alone decides.
pub(crate) fn serves(raw: u32, data_directory: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if !is_postgres(raw) {
        return false;
    }
    match fs::metadata(format!("/proc/{raw}/cwd")) {
        Ok(cwd) => fs::metadata(data_directory)
            .is_ok_and(|dir| dir.dev() == cwd.dev() && dir.ino() == cwd.ino()),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => true,
        // Gone, or a zombie (which has no working directory).
        Err(_) => false,
    }
}

/// When a process started, in clock ticks since boot (`/proc/<pid>/stat`, field 22):
/// with the pid, it names one process, even after the pid has been reused.
pub(crate) fn start_time(raw: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{raw}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    // Fields 3 (the state) onwards; the start time is the 22nd.
    after.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_file() {
        let text = "5106\n/tmp/x/data\n1795211933\n54399\n/tmp/x/data\n127.0.0.1\n 10011947         9\nready   \n";
        let pm = PostmasterPid::parse(text).unwrap();
        assert_eq!(pm.pid, 5106);
        assert_eq!(pm.data_directory.as_deref(), Some(Path::new("/tmp/x/data")));
        assert_eq!(pm.start_time, Some(1795211933));
        assert_eq!(pm.port, Some(54399));
        assert_eq!(
            pm.socket_directory.as_deref(),
            Some(Path::new("/tmp/x/data"))
        );
        assert_eq!(pm.listen_address.as_deref(), Some("127.0.0.1"));
        assert_eq!(pm.status.as_deref(), Some("ready"));
        assert!(pm.is_ready());
    }

    #[test]
    fn parses_partial_and_bad_files() {
        let pm = PostmasterPid::parse("-77\n/d\n").unwrap();
        assert_eq!(pm.pid, 77);
        assert_eq!(pm.status, None);
        assert!(!pm.is_ready());
        for bad in ["", "\n", "abc\n", "0\n", "99999999999999\n"] {
            assert_eq!(PostmasterPid::parse(bad), None, "{bad:?}");
        }
        let starting = PostmasterPid::parse("1\n/d\n1\n5432\n\n\n\nstarting\n").unwrap();
        assert_eq!(starting.socket_directory, None);
        assert!(!starting.is_ready());
    }

    #[test]
    fn sees_processes() {
        let me = std::process::id();
        assert!(process_alive(me));
        assert!(!process_alive(0));
        assert!(!is_postgres(me));
        assert!(!send_signal(0, Signal::SIGTERM).unwrap());
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        assert!(children_of(me).contains(&child.id()));
        let started = start_time(child.id()).unwrap();
        assert!(started >= start_time(me).unwrap());
        assert_eq!(start_time(child.id()), Some(started), "stable");
        // Not a server, whatever its directory.
        assert!(!serves(child.id(), &std::env::current_dir().unwrap()));
        child.kill().unwrap();
        // Not yet reaped: a zombie, which counts as gone.
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!process_alive(child.id()));
        child.wait().unwrap();
    }
}
