//! A killed test process leaves no server and no directory behind.
//!
//! Each test runs this test binary again as a child whose only (normally ignored) test
//! starts the shared throwaway cluster, reports it and sleeps; the child is then killed.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use common::{alive, eventually};
use pg_cluster::Temporal;

const CHILD: &str = "PG_CLUSTER_CLEANUP_CHILD";

/// The child processes' clusters each scan for leftovers; one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
#[ignore = "run by the other tests in a child process"]
fn child_holding_a_cluster() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let pg = Temporal::get().unwrap();
    let cluster = pg.cluster().unwrap();
    println!(
        "CLUSTER {} {}",
        cluster.pid().unwrap(),
        cluster.data_directory().parent().unwrap().display()
    );
    if std::env::var_os(CHILD).is_some_and(|mode| mode == "panic") {
        panic!("a failing test");
    }
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The child, killed (and reaped) when dropped even if the test fails.
struct ChildProcess(Child);

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the child and returns it with its server's pid and cluster directory.
fn child_with_cluster(mode: &str) -> (ChildProcess, u32, PathBuf) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_holding_a_cluster",
            "--nocapture",
        ])
        .env(CHILD, mode)
        .env_remove("PGTEST_IRI")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = ChildProcess(child);
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(report) = line.strip_prefix("CLUSTER ") {
                let _ = send.send(report.to_owned());
                return;
            }
        }
    });
    let report = receive
        .recv_timeout(Duration::from_secs(120))
        .expect("the child reports its cluster");
    let (pid, root) = report.split_once(' ').unwrap();
    (child, pid.parse().unwrap(), PathBuf::from(root))
}

/// The watchdog the child started: a direct child running our script.
fn watchdog_of(parent: u32) -> Option<u32> {
    fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let ppid: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let ours = String::from_utf8_lossy(&cmdline).contains("pg-cluster-watchdog");
        (ppid == parent && ours).then_some(pid)
    })
}

#[test]
fn watchdog_cleans_up_after_a_killed_process() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (child, server, root) = child_with_cluster("sleep");
    assert!(alive(server));
    assert!(root.join("data").join("postmaster.pid").exists());
    assert!(watchdog_of(child.0.id()).is_some(), "the watchdog runs");

    drop(child); // SIGKILL: no atexit handler runs
    assert!(
        eventually(Duration::from_secs(30), || !alive(server) && !root.exists()),
        "server {server} or {} left behind",
        root.display()
    );
}

#[test]
fn leftovers_of_dead_processes_are_removed() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (child, server, root) = child_with_cluster("sleep");
    // Without its watchdog the killed child's cluster is left over.
    let watchdog = watchdog_of(child.0.id()).expect("the watchdog runs");
    let group = nix::unistd::Pid::from_raw(watchdog as i32);
    nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL).unwrap();
    assert!(eventually(Duration::from_secs(10), || !alive(watchdog)));
    drop(child);
    std::thread::sleep(Duration::from_millis(500));
    assert!(alive(server), "the orphaned server still runs");
    assert!(root.exists());

    let removed = pg_cluster::remove_leftovers();
    assert!(removed.contains(&root), "{removed:?}");
    assert!(!root.exists());
    assert!(eventually(Duration::from_secs(10), || !alive(server)));
}

#[test]
fn exit_after_a_panicking_test_cleans_up() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (mut child, server, root) = child_with_cluster("panic");
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(101), "the harness reports the failure");
    // Done by the exit handler before the process ended, not later by the watchdog.
    assert!(!root.exists(), "{} left behind", root.display());
    assert!(!alive(server));
}
