//! Removing throwaway clusters: at drop, at process exit, after the process was killed, and
//! leftovers of earlier processes.
//!
//! Three layers, each covering what the one before cannot:
//!
//! 1. Dropping an owned [`crate::Temporal`], or the `atexit` handler registered on first use,
//!    stops the server and removes its directory. The test harness ends with
//!    `std::process::exit` even when tests panicked, which runs `atexit` handlers.
//! 2. A watchdog shell, in its own process group, polls the owning process and, once it
//!    is gone (SIGKILL, a crash, Ctrl-C), stops the server and removes the directory.
//! 3. Every new throwaway cluster first scans the temporary directory for directories of
//!    this crate whose owner process is dead, stops their servers and removes them
//!    ([`remove_leftovers`]).

use std::fs;
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

/// The file in such a directory holding the owning process's id.
pub const OWNER_FILE: &str = "owner.pid";

/// A throwaway cluster and everything needed to remove it.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) cluster: Cluster,
    pub(crate) root: PathBuf,
    watchdog: Mutex<Option<Child>>,
    done: AtomicBool,
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
        let watchdog = spawn_watchdog(&root, &cluster.pid_file()).ok();
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
        if let Some(mut child) = watchdog {
            if let Ok(raw) = i32::try_from(child.id()) {
                let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
            }
            let _ = child.wait();
        }
    }
}

/// The watchdog: waits for this process to end, then stops the server (fast shutdown,
/// SIGKILL after ten seconds) and removes the directory. Arguments: owner pid, directory,
/// pid file.
const WATCHDOG: &str = r#"trap '' HUP INT
while kill -0 "$1" 2>/dev/null; do sleep 1; done
pm=$(head -n 1 "$3" 2>/dev/null)
case "$pm" in
  ''|*[!0-9]*) ;;
  *) if kill -INT "$pm" 2>/dev/null; then
       i=0
       while kill -0 "$pm" 2>/dev/null && [ "$i" -lt 100 ]; do
         if grep -q '^[^ ]* ([^)]*) Z' "/proc/$pm/stat" 2>/dev/null; then break; fi
         sleep 0.1; i=$((i + 1))
       done
       kill -KILL "$pm" 2>/dev/null
     fi ;;
esac
rm -rf "$2"
"#;

fn spawn_watchdog(root: &Path, pid_file: &Path) -> Result<Child, ClusterError> {
    Command::new("/bin/sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("pg-cluster-watchdog")
        .arg(std::process::id().to_string())
        .arg(root)
        .arg(pid_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| ClusterError::io("could not start the cleanup watchdog", e))
}

/// Stops a leftover server found through its pid file, if it still runs.
fn stop_leftover_server(pid_file: &Path) {
    let Ok(Some(pm)) = PostmasterPid::read(pid_file) else {
        return;
    };
    if !postmaster::process_alive(pm.pid) || !postmaster::is_postgres(pm.pid) {
        return;
    }
    let children = postmaster::children_of(pm.pid);
    let _ = postmaster::send_signal(pm.pid, Signal::SIGINT);
    let begun = Instant::now();
    while postmaster::process_alive(pm.pid) && begun.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(50));
    }
    if postmaster::process_alive(pm.pid) {
        let _ = postmaster::send_signal(pm.pid, Signal::SIGKILL);
        for child in children.into_iter().filter(|c| postmaster::is_postgres(*c)) {
            let _ = postmaster::send_signal(child, Signal::SIGKILL);
        }
    }
}

/// Removes throwaway clusters left in the temporary directory by processes that no longer
/// run: stops their servers and deletes their directories. Directories without an owner
/// file, or whose owner still runs, are left alone. Returns the directories removed.
pub fn remove_leftovers() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(DIRECTORY_PREFIX) {
            continue;
        }
        let root = entry.path();
        let owner = fs::read_to_string(root.join(OWNER_FILE))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        let Some(owner) = owner else { continue };
        if owner == std::process::id() || postmaster::process_alive(owner) {
            continue;
        }
        stop_leftover_server(&root.join("data").join("postmaster.pid"));
        if fs::remove_dir_all(&root).is_ok() {
            removed.push(root);
        }
    }
    removed
}
