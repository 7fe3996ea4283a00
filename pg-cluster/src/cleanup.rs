//! Removing throwaway clusters: at drop, at process exit, after the process was killed, and
//! leftovers of earlier processes.
//!
//! Three layers, each covering what the one before cannot:
//!
//! 1. Dropping an owned [`crate::Temporal`], or the `atexit` handler registered on first use,
//!    stops the server and removes its directory. The test harness ends with
//!    `std::process::exit` even when tests panicked, which runs `atexit` handlers.
//! 2. A watchdog shell, in its own process group, waits for the owning process to end
//!    (SIGKILL, a crash, Ctrl-C): its standard input is a pipe whose other end only the
//!    owner holds, so it reads end-of-file the moment the owner is gone, however it ended
//!    and even if its pid is reused at once. It then stops the server and removes the
//!    directory.
//! 3. Every new throwaway cluster first scans the temporary directory for directories of
//!    this crate whose owner process is dead, stops their servers and removes them
//!    ([`remove_leftovers`]). Several processes may do this at once (one test binary per
//!    crate, or several runs sharing `/tmp`), and any of them may stop a dead process's
//!    server: a test that needs a leftover to stay put gives its processes a temporary
//!    directory of their own (`TMPDIR`) and scans it with [`remove_leftovers_in`].
//!
//! Pids are reused (with the common `pid_max` of 32768, within minutes on a busy
//! machine), so nothing here trusts a pid alone: an owner is its pid and its start time
//! (the owner file holds both), and a server is a `postgres` process working in the data
//! directory named in its `postmaster.pid` (see `postmaster::serves`).

use std::fs;
use std::io::{self, PipeWriter, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::cluster::Cluster;
use crate::error::ClusterError;
use crate::postmaster::{self, PostmasterPid};

/// Name prefix of the directories holding throwaway clusters, in the temporary directory.
pub const DIRECTORY_PREFIX: &str = "pg-cluster-tmp-";

/// The file in such a directory naming the owning process: its pid and, after a space,
/// its start time in clock ticks since boot (`/proc/<pid>/stat`, field 22).
pub const OWNER_FILE: &str = "owner.pid";

/// The process owning a cluster directory: a pid, and the start time that tells this
/// process apart from a later one given the same pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    pid: u32,
    started: Option<u64>,
}

impl Owner {
    fn this_process() -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            started: postmaster::start_time(pid),
        }
    }

    /// `pid` or `pid start-time`; `None` for anything else (an empty or partial file).
    fn parse(text: &str) -> Option<Owner> {
        let mut words = text.split_whitespace();
        let pid = words.next()?.parse().ok()?;
        let started = match words.next() {
            Some(word) => Some(word.parse().ok()?),
            None => None,
        };
        Some(Owner { pid, started })
    }

    fn read(root: &Path) -> Option<Owner> {
        Owner::parse(&fs::read_to_string(root.join(OWNER_FILE)).ok()?)
    }

    /// Whether the owner still runs. When in doubt (its start time cannot be read), it
    /// does: removing a live process's cluster is far worse than keeping a dead one's.
    fn alive(&self) -> bool {
        if !postmaster::process_alive(self.pid) {
            return false;
        }
        match (self.started, postmaster::start_time(self.pid)) {
            (Some(recorded), Some(now)) => recorded == now,
            _ => true,
        }
    }
}

/// Writes the owner file of a new cluster directory, naming this process. It is written
/// under another name and renamed, so that another process's scan never reads it half
/// written; until it exists, scans leave the directory alone.
pub(crate) fn write_owner_file(root: &Path) -> Result<(), ClusterError> {
    let owner = Owner::this_process();
    let text = match owner.started {
        Some(started) => format!("{} {started}\n", owner.pid),
        None => format!("{}\n", owner.pid),
    };
    let partial = root.join(format!("{OWNER_FILE}.partial"));
    fs::File::create(&partial)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| ClusterError::io_path("write", &partial, e))?;
    let path = root.join(OWNER_FILE);
    fs::rename(&partial, &path).map_err(|e| ClusterError::io_path("write", &path, e))
}

/// A throwaway cluster and everything needed to remove it.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) cluster: Cluster,
    pub(crate) root: PathBuf,
    watchdog: Mutex<Option<Watchdog>>,
    done: AtomicBool,
}

/// The watchdog process and this process's end of the pipe it waits on.
#[derive(Debug)]
struct Watchdog {
    child: Child,
    lifeline: PipeWriter,
}

static REGISTRY: Mutex<Vec<Arc<Instance>>> = Mutex::new(Vec::new());
static AT_EXIT: Once = Once::new();

extern "C" fn remove_all_at_exit() {
    // Unwinding out of an extern "C" function aborts; nothing may escape.
    let _ = std::panic::catch_unwind(|| {
        let instances: Vec<_> = REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for instance in instances {
            instance.teardown();
        }
    });
}

impl Instance {
    /// Registers a new instance for removal at exit and starts its watchdog.
    pub(crate) fn register(cluster: Cluster, root: PathBuf) -> Arc<Instance> {
        AT_EXIT.call_once(|| {
            // SAFETY: `remove_all_at_exit` is a plain extern "C" fn without arguments that
            // never unwinds, as `atexit` requires.
            unsafe {
                libc::atexit(remove_all_at_exit);
            }
        });
        let watchdog = spawn_watchdog(&root, cluster.data_directory()).ok();
        let instance = Arc::new(Instance {
            cluster,
            root,
            watchdog: Mutex::new(watchdog),
            done: AtomicBool::new(false),
        });
        REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&instance));
        instance
    }

    /// Stops the server, removes the directory and ends the watchdog; runs once.
    pub(crate) fn teardown(&self) {
        if self.done.swap(true, Ordering::SeqCst) {
            return;
        }
        REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|other| !std::ptr::eq(Arc::as_ptr(other), self));
        if self.cluster.running() {
            let _ = self.cluster.shutdown();
            if self
                .cluster
                .wait_until_stopped(Duration::from_secs(10))
                .is_err()
            {
                let _ = self.cluster.kill();
                let _ = self.cluster.wait_until_stopped(Duration::from_secs(5));
            }
        }
        let _ = fs::remove_dir_all(&self.root);
        let watchdog = self
            .watchdog
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(Watchdog {
            mut child,
            lifeline,
        }) = watchdog
        {
            // The watchdog is our child and not yet reaped, so its process group (its
            // pid) cannot have been reused.
            if let Ok(raw) = i32::try_from(child.id()) {
                let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
            }
            let _ = child.wait();
            drop(lifeline);
        }
    }
}

/// The watchdog: waits for end-of-file on its standard input (this process has ended),
/// then stops the server (fast shutdown, SIGKILL after ten seconds) and removes the
/// directory. Arguments: the directory, the data directory. The server is the process
/// named by `postmaster.pid` only while that is a `postgres` working in the data
/// directory, so a reused pid is never signalled.
const WATCHDOG: &str = r#"trap '' HUP INT
while read -r _; do :; done
serves() {
  [ "/proc/$1/cwd" -ef "$2" ] && grep -qxE 'postgres|postmaster' "/proc/$1/comm" 2>/dev/null
}
pm=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)
case "$pm" in
  ''|*[!0-9]*) ;;
  *) if serves "$pm" "$2" && kill -INT "$pm" 2>/dev/null; then
       i=0
       while serves "$pm" "$2" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
       if serves "$pm" "$2"; then kill -KILL "$pm" 2>/dev/null; fi
     fi ;;
esac
rm -rf "$1"
"#;

fn spawn_watchdog(root: &Path, data_directory: &Path) -> Result<Watchdog, ClusterError> {
    let failed = |e| ClusterError::io("could not start the cleanup watchdog", e);
    // Both ends are close-on-exec: no other program this process runs (the server
    // among them) inherits the write end and keeps the watchdog waiting.
    let (reader, lifeline) = io::pipe().map_err(failed)?;
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("pg-cluster-watchdog")
        .arg(root)
        .arg(data_directory)
        .stdin(Stdio::from(reader))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(failed)?;
    Ok(Watchdog { child, lifeline })
}

/// Whether the process `pid` is still a server of `data_directory`.
fn still_serves(pid: u32, data_directory: &Path) -> bool {
    postmaster::process_alive(pid) && postmaster::serves(pid, data_directory)
}

/// Waits up to `timeout` for `condition` to become false.
fn wait_while(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let begun = Instant::now();
    while condition() {
        if begun.elapsed() >= timeout {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Stops the server of a leftover data directory, if one still runs there: fast shutdown,
/// then SIGKILL for it and its children after ten seconds.
fn stop_leftover_server(data_directory: &Path) {
    let Ok(Some(pm)) = PostmasterPid::read(&data_directory.join("postmaster.pid")) else {
        return;
    };
    if !still_serves(pm.pid, data_directory) {
        return;
    }
    let children = postmaster::children_of(pm.pid);
    let _ = postmaster::send_signal(pm.pid, Signal::SIGINT);
    if wait_while(Duration::from_secs(10), || {
        still_serves(pm.pid, data_directory)
    }) {
        return;
    }
    for pid in std::iter::once(pm.pid).chain(children) {
        if still_serves(pid, data_directory) {
            let _ = postmaster::send_signal(pid, Signal::SIGKILL);
        }
    }
    wait_while(Duration::from_secs(5), || {
        still_serves(pm.pid, data_directory)
    });
}

/// Removes throwaway clusters left in the temporary directory by processes that no longer
/// run: stops their servers and deletes their directories. Directories without an owner
/// file (still being set up), or whose owner still runs, are left alone. Returns the
/// directories removed (also those that another process, such as the dead owner's
/// watchdog, removed meanwhile).
pub fn remove_leftovers() -> Vec<PathBuf> {
    remove_leftovers_in(&std::env::temp_dir())
}

/// [`remove_leftovers`] in `directory` instead of the temporary directory.
pub fn remove_leftovers_in(directory: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(DIRECTORY_PREFIX) {
            continue;
        }
        let root = entry.path();
        let Some(owner) = Owner::read(&root) else {
            continue;
        };
        if owner.alive() {
            continue;
        }
        stop_leftover_server(&root.join("data"));
        match fs::remove_dir_all(&root) {
            Ok(()) => removed.push(root),
            Err(e) if e.kind() == io::ErrorKind::NotFound => removed.push(root),
            Err(_) => {}
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_pid_and_start_time() {
        assert_eq!(
            Owner::parse("12 345\n"),
            Some(Owner {
                pid: 12,
                started: Some(345)
            })
        );
        assert_eq!(
            Owner::parse("12"),
            Some(Owner {
                pid: 12,
                started: None
            })
        );
        for bad in ["", "\n", "x", "12 x", "-1"] {
            assert_eq!(Owner::parse(bad), None, "{bad:?}");
        }
        let me = Owner::this_process();
        assert!(me.started.is_some());
        assert!(me.alive());
        // The same pid, started at another time: a process that has ended.
        let earlier = Owner {
            started: me.started.map(|t| t.wrapping_sub(1)),
            ..me
        };
        assert!(!earlier.alive());
        assert!(
            Owner {
                started: None,
                ..me
            }
            .alive()
        );
    }

    #[test]
    fn only_dead_owners_directories_are_removed() {
        let scanned = tempfile::tempdir().unwrap();
        let make = |name: &str, owner: Option<&str>| {
            let root = scanned.path().join(name);
            fs::create_dir(&root).unwrap();
            if let Some(text) = owner {
                fs::write(root.join(OWNER_FILE), text).unwrap();
            }
            root
        };
        let me = Owner::this_process();
        let started = me.started.unwrap();
        let mine = scanned.path().join(format!("{DIRECTORY_PREFIX}mine"));
        fs::create_dir(&mine).unwrap();
        write_owner_file(&mine).unwrap();
        assert_eq!(Owner::read(&mine), Some(me));
        let setting_up = make(&format!("{DIRECTORY_PREFIX}setting-up"), None);
        let half_written = make(&format!("{DIRECTORY_PREFIX}half-written"), Some(""));
        let reused_pid = make(
            &format!("{DIRECTORY_PREFIX}reused-pid"),
            Some(&format!("{} {}\n", me.pid, started.wrapping_sub(1))),
        );
        let other = make("not-ours", Some("999999999\n"));

        let removed = remove_leftovers_in(scanned.path());
        assert_eq!(removed, vec![reused_pid.clone()]);
        assert!(!reused_pid.exists());
        for kept in [&mine, &setting_up, &half_written, &other] {
            assert!(kept.exists(), "{}", kept.display());
        }
    }
}
