//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pg_cluster::{Account, Cluster, Installation};
use pg_driver::SimpleResult;
use pg_driver::blocking;
use pg_driver::params::Keywords;

/// A cluster in a temporary directory of its own; dropping it kills any server it runs
/// and removes the directory, also when the test panics.
pub struct OwnCluster {
    pub cluster: Cluster,
    dir: Option<tempfile::TempDir>,
}

impl OwnCluster {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pg-cluster-test-")
            .tempdir()
            .expect("temporary directory");
        let installation = Installation::find().expect("a PostgreSQL installation");
        let cluster = Cluster::new(installation, dir.path().join("data")).expect("cluster");
        if let Some(account) = cluster.account() {
            give(account, dir.path());
        }
        OwnCluster {
            cluster,
            dir: Some(dir),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("directory").path()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if self.cluster.running() {
            let _ = self.cluster.kill();
            let _ = self.cluster.wait_until_stopped(Duration::from_secs(10));
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// Hands a path to the account the server runs as.
pub fn give(account: &Account, path: &Path) {
    std::os::unix::fs::chown(path, Some(account.uid()), Some(account.gid())).expect("chown");
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Connects with the driver's blocking facade (explicit parameters only, no `PG*`
/// environment), runs SQL and returns its rows as text: one per line, columns separated
/// by `|`; an error as the driver's report.
pub fn sql(keywords: Keywords, sql: &str) -> Result<String, String> {
    let params = keywords
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let db = blocking::Connector::new(params)
        .connect()
        .map_err(|e| e.to_string())?;
    let results = db.simple(sql).map_err(|e| e.to_string());
    db.close();
    Ok(text(&results?))
}

/// Rows of simple-query results as text: one per line, columns separated by `|`.
pub fn text(results: &[SimpleResult]) -> String {
    results
        .iter()
        .flat_map(|r| &r.rows)
        .map(|row| {
            row.iter()
                .map(|v| v.as_deref().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first value of the last result.
pub fn scalar(results: &[SimpleResult]) -> Option<String> {
    results.last()?.rows.first()?.first()?.clone()
}

/// Whether a process exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
pub fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let begun = Instant::now();
    loop {
        if condition() {
            return true;
        }
        if begun.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The throwaway cluster directories in the temporary directory.
pub fn temporal_dirs() -> Vec<PathBuf> {
    fs::read_dir(std::env::temp_dir())
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().is_some_and(|n| {
                        n.to_string_lossy()
                            .starts_with(pg_cluster::cleanup::DIRECTORY_PREFIX)
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
