//! `pgapi cluster init|start|status|stop DIR` and `--keep DIR`.

use predicates::prelude::*;

use crate::{ClusterDirs, pgapi, text};

/// The value of a `name: value` line of `cluster status`.
fn field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
}

#[test]
fn manages_a_cluster() {
    let mut dirs = ClusterDirs::new();
    let data = dirs.data("managed");

    pgapi()
        .args(["cluster", "status"])
        .arg(&data)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not an initialised cluster"));
    pgapi()
        .args(["cluster", "init"])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("initialised "));
    let stopped = pgapi()
        .args(["cluster", "status"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        stopped.status.code(),
        Some(3),
        "stopped, as pg_ctl status says"
    );
    assert!(text(&stopped.stdout).starts_with("stopped\n"));
    assert!(!ClusterDirs::running(&data));

    pgapi()
        .args(["cluster", "start"])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("started (pid "));
    assert!(ClusterDirs::running(&data), "the server outlives pgapi");
    let running = pgapi()
        .args(["cluster", "status"])
        .arg(&data)
        .output()
        .unwrap();
    let status = text(&running.stdout);
    assert!(running.status.success(), "{status}");
    assert!(status.starts_with("running\n"), "{status}");
    let pid: u32 = field(&status, "pid")
        .and_then(|p| p.parse().ok())
        .expect(&status);
    assert_eq!(ClusterDirs::cluster(&data).pid(), Some(pid));
    assert!(field(&status, "address").is_some_and(|a| a.starts_with("127.0.0.1:")));
    let iri = field(&status, "iri").expect(&status);
    pgapi()
        .args([iri, "--csv", "-c", "select current_database()"])
        .assert()
        .success()
        .stdout("current_database\npostgres\n");

    pgapi()
        .args(["cluster", "stop"])
        .arg(&data)
        .assert()
        .success()
        .stdout("stopped\n");
    assert!(!ClusterDirs::running(&data));
    let after = pgapi()
        .args(["cluster", "status"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(after.status.code(), Some(3));
    pgapi()
        .args(["cluster", "stop"])
        .arg(&data)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no server runs"));
    pgapi()
        .args(["cluster", "init"])
        .arg(&data)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already an initialised cluster"));
}

#[test]
fn keep_keeps_the_data_for_the_next_run() {
    let mut dirs = ClusterDirs::new();
    let data = dirs.data("kept");
    let first = pgapi()
        .arg("--keep")
        .arg(&data)
        .args([
            "-c",
            "create table kept (answer int); insert into kept values (42)",
        ])
        .output()
        .unwrap();
    let stderr = text(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert_eq!(text(&first.stdout), "CREATE TABLE\nINSERT 0 1\n");
    assert!(stderr.contains("initialised a cluster in"), "{stderr}");
    assert!(!ClusterDirs::running(&data), "stopped at exit");
    assert!(ClusterDirs::cluster(&data).initialized(), "its data stays");

    let second = pgapi()
        .arg("--keep")
        .arg(&data)
        .args(["--csv", "-c", "select answer from kept"])
        .output()
        .unwrap();
    let stderr = text(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert_eq!(text(&second.stdout), "answer\n42\n");
    assert!(!stderr.contains("initialised"), "{stderr}");
    assert!(!ClusterDirs::running(&data), "stopped at exit");

    // An error still stops the server.
    pgapi()
        .arg("--keep")
        .arg(&data)
        .args(["-c", "select * from missing"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("UndefinedTableError"));
    assert!(!ClusterDirs::running(&data), "stopped after an error too");
}

#[test]
fn keep_says_when_the_server_account_cannot_reach_the_directory() {
    let Some(account) = pg_cluster::Account::for_current_process().expect("an account") else {
        return; // Not root: the server runs as this process, which reaches its own files.
    };
    // As root in a mode-0700 directory of root's (`/root` in a container): the server's
    // account may not enter it.
    let closed = tempfile::Builder::new()
        .prefix("pg-cli-closed-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        closed.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let data = closed.path().join("pgdata");
    let output = pgapi()
        .arg("--keep")
        .arg(&data)
        .args(["-c", "select 1"])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("OS account \"{}\"", account.name())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "cannot reach {}: it may not enter {} (mode 0700",
            data.display(),
            closed.path().display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("PGCLUSTER_USER"), "{stderr}");
    assert!(
        !stderr.contains("initdb"),
        "checked before initdb runs: {stderr}"
    );
    assert!(!data.exists(), "nothing made in the closed directory");

    // A directory the account can reach, through parents that do not exist yet: pgapi makes
    // them traversable and the cluster works.
    let mut dirs = ClusterDirs::new();
    let nested = dirs.data("made/for/it/pgdata");
    let output = pgapi()
        .arg("--keep")
        .arg(&nested)
        .args(["--csv", "-c", "select 1 as one"])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(text(&output.stdout), "one\n1\n");
    assert!(!ClusterDirs::running(&nested), "stopped at exit");
}
