//! A killed test process leaves no server and no directory behind.
//!
//! Each test runs this test binary again as a child whose only (normally ignored) test
//! starts the shared throwaway cluster, reports it and sleeps; the child is then killed.
//! Each test gives its child a temporary directory of its own (`TMPDIR`): any process
//! starting a throwaway cluster removes the leftovers of dead processes it finds, and
//! other test processes (other test binaries, other runs sharing `/tmp`) must not remove
//! the leftovers these tests examine, nor these tests theirs.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{alive, eventually};
use pg_cluster::Temporal;

const CHILD: &str = "PG_CLUSTER_CLEANUP_CHILD";

/// A temporary directory for one test's child; what is left in it is removed (servers
/// stopped) when dropped, also when the test fails.
struct Scratch(Option<tempfile::TempDir>);

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pg-cluster-cleanup-")
            .tempdir()
            .unwrap();
        // The server's account (when running as root) must reach its directory inside.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(Some(dir))
    }

    fn path(&self) -> &Path {
        self.0.as_ref().unwrap().path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        pg_cluster::remove_leftovers_in(self.path());
        let _ = self.0.take().unwrap().close();
    }
}

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

/// The child, killed (and reaped) when dropped even if the test fails; its output is
/// collected so that failures can show it.
struct ChildProcess {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl ChildProcess {
    fn id(&self) -> u32 {
        self.child.id()
    }

    /// What the child printed so far, stdout and stderr interleaved by line.
    fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- the child's output ----\n{}", self.output());
        }
    }
}

/// Copies a stream of the child into `output`, sending `CLUSTER` reports on.
fn collect(
    stream: impl Read + Send + 'static,
    label: &'static str,
    output: Arc<Mutex<String>>,
    reports: mpsc::Sender<String>,
) {
    std::thread::spawn(move || {
        // Read to the end: a closed pipe would make the child's later prints fail.
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(report) = line.strip_prefix("CLUSTER ") {
                let _ = reports.send(report.to_owned());
            }
            let mut output = output.lock().unwrap_or_else(|e| e.into_inner());
            output.push_str(label);
            output.push_str(&line);
            output.push('\n');
        }
    });
}

/// Starts the child and returns it with its server's pid and cluster directory.
fn child_with_cluster(scratch: &Scratch, mode: &str) -> (ChildProcess, u32, PathBuf) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_holding_a_cluster",
            "--nocapture",
        ])
        .env(CHILD, mode)
        .env("TMPDIR", scratch.path())
        .env_remove("PGTEST_IRI")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = Arc::new(Mutex::new(String::new()));
    let (send, receive) = mpsc::channel();
    collect(
        child.stdout.take().unwrap(),
        "",
        Arc::clone(&output),
        send.clone(),
    );
    collect(
        child.stderr.take().unwrap(),
        "stderr: ",
        Arc::clone(&output),
        send,
    );
    let child = ChildProcess { child, output };
    let report = match receive.recv_timeout(Duration::from_secs(120)) {
        Ok(report) => report,
        Err(e) => panic!("the child reports no cluster ({e})"),
    };
    let (pid, root) = report.split_once(' ').unwrap();
    let root = PathBuf::from(root);
    assert_eq!(
        root.parent(),
        Some(scratch.path()),
        "the child's own TMPDIR"
    );
    (child, pid.parse().unwrap(), root)
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
    let scratch = Scratch::new();
    let (child, server, root) = child_with_cluster(&scratch, "sleep");
    assert!(alive(server));
    assert!(root.join("data").join("postmaster.pid").exists());
    assert!(watchdog_of(child.id()).is_some(), "the watchdog runs");

    drop(child); // SIGKILL: no atexit handler runs
    assert!(
        eventually(Duration::from_secs(30), || !alive(server) && !root.exists()),
        "server {server} or {} left behind",
        root.display()
    );
}

#[test]
fn leftovers_of_dead_processes_are_removed() {
    let scratch = Scratch::new();
    let (child, server, root) = child_with_cluster(&scratch, "sleep");
    // The owner runs: not a leftover.
    assert_eq!(
        pg_cluster::remove_leftovers_in(scratch.path()),
        Vec::<PathBuf>::new()
    );
    assert!(alive(server) && root.exists());

    // Without its watchdog the killed child's cluster is left over.
    let watchdog = watchdog_of(child.id()).expect("the watchdog runs");
    let group = nix::unistd::Pid::from_raw(watchdog as i32);
    nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL).unwrap();
    assert!(eventually(Duration::from_secs(10), || !alive(watchdog)));
    drop(child);
    std::thread::sleep(Duration::from_millis(500));
    assert!(alive(server), "the orphaned server still runs");
    assert!(root.exists());

    let removed = pg_cluster::remove_leftovers_in(scratch.path());
    assert_eq!(removed, vec![root.clone()]);
    assert!(!root.exists());
    assert!(eventually(Duration::from_secs(10), || !alive(server)));
}

#[test]
fn exit_after_a_panicking_test_cleans_up() {
    let scratch = Scratch::new();
    let (mut child, server, root) = child_with_cluster(&scratch, "panic");
    let status = child.child.wait().unwrap();
    assert_eq!(status.code(), Some(101), "the harness reports the failure");
    // Done by the exit handler before the process ended, not later by the watchdog.
    assert!(!root.exists(), "{} left behind", root.display());
    assert!(!alive(server));
}
