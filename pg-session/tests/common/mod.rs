//! Helpers shared by the session tests.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use pg_cluster::{Sandbox, Temporal};

pub type R = Result<(), pg_exceptions::Error>;

/// The process's throwaway cluster.
pub fn temporal() -> &'static Temporal {
    Temporal::get().unwrap_or_else(|e| panic!("throwaway cluster: {e}"))
}

/// A URI for `sandbox` whose connections carry `application_name=<app>`, so each test has a
/// pool (the pool id is the URI's) and backends of its own to count.
pub fn uri(sandbox: &Sandbox<'_>, app: &str) -> String {
    format!("{}&application_name={app}", sandbox.uri())
}

/// How many backends run with `application_name = app`.
pub fn backends(temporal: &Temporal, app: &str) -> usize {
    let sql = format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}'");
    temporal.admin_sql(&sql).unwrap().trim().parse().unwrap()
}

/// Whether the server process `pid` still exists.
pub fn backend_alive(temporal: &Temporal, pid: i32) -> bool {
    let sql = format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}");
    temporal.admin_sql(&sql).unwrap().trim() == "1"
}

/// Polls `condition` until it holds or `timeout` passes; whether it held.
pub fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
