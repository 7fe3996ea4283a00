//! Runs the `pgapi` binary against the throwaway cluster (or `PGTEST_IRI`'s server), each
//! test in sandbox schemas of its own; the cluster tests in temporary directories.

mod attack;
mod backslash_copy;
mod commands;
mod complete;
mod describe;
mod manage;
mod print;
mod shell;
mod sql;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use pg_cluster::{Account, Cluster, Installation, Sandbox, Temporal};

/// The longest any one run may take (starting a cluster included).
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// The binary, with a time limit.
fn pgapi() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgapi"));
    command.timeout(RUN_TIMEOUT);
    command
}

/// A sandbox schema of this test's own in the test database.
fn sandbox() -> Sandbox<'static> {
    Temporal::get()
        .expect("a test server")
        .sandbox()
        .expect("a sandbox")
}

/// What a finished run wrote, as text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a failure is reported the way a user should see it: no Rust panic, no backtrace.
fn assert_clean_failure(stderr: &str) {
    for word in ["panicked", "backtrace", "RUST_BACKTRACE", "thread '"] {
        assert!(!stderr.contains(word), "{word:?} in:\n{stderr}");
    }
}

/// A temporary directory for clusters; dropping it kills any server still running one of
/// its data directories and removes everything, also when the test fails.
struct ClusterDirs {
    dir: Option<tempfile::TempDir>,
    clusters: Vec<PathBuf>,
}

impl ClusterDirs {
    fn new() -> ClusterDirs {
        let dir = tempfile::Builder::new()
            .prefix("pg-cli-test-")
            .tempdir()
            .expect("a temporary directory");
        // As root the server runs as an unprivileged account, which must reach the data.
        if let Some(account) = Account::for_current_process().expect("an account") {
            std::os::unix::fs::chown(dir.path(), Some(account.uid()), Some(account.gid()))
                .expect("chown");
        }
        ClusterDirs {
            dir: Some(dir),
            clusters: Vec::new(),
        }
    }

    /// A data directory's path (not created).
    fn data(&mut self, name: &str) -> PathBuf {
        let path = self.dir.as_ref().expect("directory").path().join(name);
        self.clusters.push(path.clone());
        path
    }

    fn cluster(path: &Path) -> Cluster {
        Cluster::new(Installation::find().expect("an installation"), path).expect("a cluster")
    }

    /// Whether a server runs the data directory.
    fn running(path: &Path) -> bool {
        Self::cluster(path).running()
    }
}

impl Drop for ClusterDirs {
    fn drop(&mut self) {
        for path in &self.clusters {
            let cluster = Self::cluster(path);
            if cluster.running() {
                let _ = cluster.kill();
                let _ = cluster.wait_until_stopped(Duration::from_secs(30));
            }
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}
