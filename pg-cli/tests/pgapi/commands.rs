//! Failures, the no-configuration default, `copy`, `exc` and `--help`.

use predicates::prelude::*;

use crate::{assert_clean_failure, pgapi, sandbox, text};

#[test]
fn bad_sql_is_reported_with_a_caret_and_stops_the_command() {
    let sandbox = sandbox();
    let output = pgapi()
        .arg(sandbox.iri())
        .env("RUST_BACKTRACE", "full")
        .args([
            "-c",
            "select 1 as fine;\nselect * fron nowhere; create table after_error (i int)",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("fine"),
        "the first statement ran"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("SyntaxError: syntax error at or near \"fron\""),
        "{stderr}"
    );
    assert!(stderr.contains("CODE: 42601"), "{stderr}");
    // The statement, and a caret under the error position.
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "select * fron nowhere")
        .expect(&stderr);
    let column = lines[at].find("fron").unwrap();
    assert_eq!(lines[at + 1].find('^'), Some(column), "{stderr}");
    assert_clean_failure(&stderr);
    assert_eq!(
        sandbox
            .admin_sql("select to_regclass('after_error') is null")
            .unwrap(),
        "t",
        "nothing after the error ran"
    );
}

#[test]
fn a_bad_iri_is_a_clear_error() {
    let output = pgapi()
        .env("RUST_BACKTRACE", "1")
        .args(["pq://[oops/db", "-c", "select 1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("pgapi: cannot use the IRI: "),
        "{stderr}"
    );
    assert_clean_failure(&stderr);
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let output = pgapi()
        .env("RUST_BACKTRACE", "1")
        .arg(format!("pq://test@127.0.0.1:{port}/test"))
        .args(["-c", "select 1"])
        .output()
        .unwrap();
    // psql's status for a connection that fails.
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert_clean_failure(&stderr);
    assert!(output.stdout.is_empty());
}

#[test]
fn without_configuration_a_throwaway_cluster_is_started_and_removed() {
    let mut command = pgapi();
    command.env_clear();
    for keep in ["PATH", "HOME", "PGINSTALLATION", "PGCLUSTER_USER"] {
        if let Some(value) = std::env::var_os(keep) {
            command.env(keep, value);
        }
    }
    let output = command
        .args([
            "--csv",
            "-c",
            "select 6 * 7 as answer, current_database() as db",
        ])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(text(&output.stdout), "answer,db\n42,test\n");
    assert!(stderr.contains("no server configured"), "{stderr}");
    let data = stderr
        .split("throwaway cluster in ")
        .nth(1)
        .and_then(|rest| rest.split(" (").next())
        .expect(&stderr);
    assert!(data.ends_with("/data"), "{data}");
    let root = std::path::Path::new(data).parent().unwrap();
    assert!(!root.exists(), "{} removed at exit", root.display());
}

#[test]
fn copies_tables_between_sandboxes_as_text_and_binary() {
    let (source, destination) = (sandbox(), sandbox());
    source
        .admin_sql(
            "create table \"Items\" (id int primary key, name text, price numeric, tags text[], \
             at timestamptz); \
             insert into \"Items\" select g, 'item ' || g || E', with\\ttab', g * 1.25, \
             array['a', null], '2024-01-02 03:04:05+00' from generate_series(1, 500) g; \
             insert into \"Items\" values (0, null, null, null, null)",
        )
        .unwrap();
    destination
        .admin_sql(
            "create table \"Items\" (id int, name text, price numeric, tags text[], \
             at timestamptz); \
             create table copy_bin (id int, name text, price numeric, tags text[], \
             at timestamptz)",
        )
        .unwrap();
    let contents = "select count(*), sum(hashtext(t::text)) from (select * from \"Items\") t";
    let expected = source.admin_sql(contents).unwrap();

    pgapi()
        .args(["copy", &source.iri(), &destination.iri(), "\"Items\""])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::is_match(r"copied 501 rows, \d+ bytes in \d+\.\d+ s").unwrap());
    assert_eq!(destination.admin_sql(contents).unwrap(), expected);

    pgapi()
        .args([
            "copy",
            &source.iri(),
            &destination.iri(),
            "\"Items\"",
            "--to",
            "copy_bin",
        ])
        .arg("--binary")
        .assert()
        .success()
        .stderr(predicate::str::contains("copied 501 rows"));
    assert_eq!(
        destination
            .admin_sql(&contents.replace("\"Items\"", "copy_bin"))
            .unwrap(),
        expected
    );

    // A failure leaves the destination as it was, and says why.
    let output = pgapi()
        .args([
            "copy",
            &source.iri(),
            &destination.iri(),
            "\"Items\"",
            "--to",
            "nowhere",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("relation \"nowhere\" does not exist"),
        "{stderr}"
    );
    assert_clean_failure(&stderr);
    pgapi()
        .args(["copy", &source.iri(), &destination.iri(), "not a name"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a table name"));
}

#[test]
fn exc_looks_up_sqlstates() {
    pgapi()
        .args(["exc", "23505", "XX444", "01P01"])
        .assert()
        .success()
        .stdout(
            "UniqueError [23505] < ICVError < Error\n\
             InternalError [XX000] < Error\n\
             DeprecationWarning [01P01] < Warning\n",
        );
    pgapi()
        .args(["exc", "23505", "2350"])
        .assert()
        .code(1)
        .stdout("UniqueError [23505] < ICVError < Error\n")
        .stderr(predicate::str::contains("malformed SQLSTATE \"2350\""));
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["copy", "--help"],
        &["exc", "--help"],
        &["cluster", "--help"],
        &["cluster", "init", "--help"],
        &["cluster", "start", "--help"],
        &["cluster", "stop", "--help"],
        &["cluster", "status", "--help"],
    ] {
        pgapi()
            .args(args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: pgapi"));
    }
    pgapi()
        .arg("--help")
        .assert()
        .stdout(predicate::str::contains("--keep <DIR>").and(predicate::str::contains("--json")));
    // psql's spellings: -? is the help, -h the host.
    pgapi()
        .arg("-?")
        .assert()
        .success()
        .stdout(predicate::str::contains("-h, --host <HOSTNAME>"));
    pgapi()
        .args(["--csv", "--json", "-c", "select 1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot be used with"));
}
