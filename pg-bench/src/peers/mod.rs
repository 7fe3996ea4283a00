//! Peers that run as child processes: `pgbench`, `psql`, and asyncpg through the script this
//! crate ships. A child's CPU time and peak memory come from its `wait4` rusage, the same
//! user + system accounting `getrusage(RUSAGE_SELF)` gives for in-process subjects.

mod asyncpg;
pub mod pgbench;
pub mod psql;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use asyncpg::Asyncpg;

use crate::measure::Result;

/// A finished child process.
pub struct Finished {
    /// From spawn to exit.
    pub elapsed: Duration,
    /// Its resource usage, from `wait4`.
    pub usage: libc::rusage,
    /// What it printed.
    pub stdout: String,
}

/// Runs `command` to its end, with standard output captured; fails when it exits unsuccessfully
/// (the error carries its standard error).
pub fn run(mut command: Command) -> Result<Finished> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn()?;
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child, with pointers to locals. Reaping it here (not
        // through `Child::wait`) is what gives its rusage; `child` is not waited on again.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error.into());
        }
    }
    let elapsed = start.elapsed();
    let stderr = errors.join().unwrap_or_default();
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!(
            "{command:?} failed (wait status {status}): {}",
            stderr.trim()
        )
        .into());
    }
    Ok(Finished {
        elapsed,
        usage,
        stdout,
    })
}

/// A PostgreSQL program: from the installation pg_config names, else from `PATH`; None (and a
/// note) when neither has it.
pub fn program(name: &str, notes: &mut Vec<String>) -> Option<PathBuf> {
    let installed = pg_cluster::Installation::find()
        .ok()
        .and_then(|i| i.program(name))
        .filter(|p| p.is_file());
    let found = installed.or_else(|| in_path(name));
    if found.is_none() {
        notes.push(format!("{name} not found: its subjects are skipped"));
    }
    found
}

/// `name` in one of `PATH`'s directories.
pub fn in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| Path::new(p).is_file())
}
