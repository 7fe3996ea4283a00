//! Running SQL: tables, tags, files, standard input, CSV, JSON, settings, notices, COPY.

use predicates::prelude::*;

use crate::{pgapi, sandbox, text};

#[test]
fn prints_tables_and_command_tags() {
    let sandbox = sandbox();
    let output = pgapi()
        .arg(sandbox.iri())
        .args([
            "-c",
            "create table items (id int, name text); \
             insert into items values (1, 'one'), (2, null); \
             select id, name from items order by id; \
             update items set name = 'two' where id = 2; \
             insert into items values (3, 'three') returning id",
        ])
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    // Exactly what psql prints for the same command.
    assert_eq!(
        stdout,
        "CREATE TABLE\nINSERT 0 2\n id | name \n----+------\n  1 | one\n  2 | \n(2 rows)\n\n\
         UPDATE 1\n id \n----\n  3\n(1 row)\n\nINSERT 0 1\n"
    );
    assert_eq!(
        sandbox
            .admin_sql("select string_agg(name, ',' order by id) from items")
            .unwrap(),
        "one,two,three"
    );
}

#[test]
fn runs_files_with_comments_and_dollar_quoted_bodies() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script.sql");
    std::fs::write(
        &file,
        "-- A script; its comments hold ; and ' and $$.\n\
         create table log (entry text); /* a block; with 'quotes' /* nested; */ */\n\
         create function add_entry(e text) returns int language plpgsql as $body$\n\
         begin\n\
         \x20 insert into log values (e); -- inside the body; still one statement\n\
         \x20 return (select count(*) from log);\n\
         end\n\
         $body$;\n\
         select add_entry('a;b'); select add_entry($$c;'d$$) as n;\n\
         -- a last comment; nothing to run\n",
    )
    .unwrap();
    let output = pgapi()
        .arg(sandbox.iri())
        .arg("-f")
        .arg(&file)
        .arg("--csv")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "add_entry\n1\nn\n2\n");
    assert_eq!(
        text(&output.stderr),
        "CREATE TABLE\nCREATE FUNCTION\n",
        "tags go to standard error with --csv"
    );
    assert_eq!(
        sandbox
            .admin_sql("select string_agg(entry, '|' order by entry) from log")
            .unwrap(),
        "a;b|c;'d"
    );
}

#[test]
fn reads_sql_from_standard_input() {
    let sandbox = sandbox();
    pgapi()
        .arg(sandbox.iri())
        .arg("--csv")
        .write_stdin("select 41 + 1 as answer;\nselect 'second' as s")
        .assert()
        .success()
        .stdout("answer\n42\ns\nsecond\n");
}

#[test]
fn prints_csv_with_proper_quoting() {
    let sandbox = sandbox();
    let sql = "select 1 as \"id\", 'a,b' as \"x,y\", 'say \"hi\"' as q, null as n, '' as e, \
               E'two\\nlines' as t union all select 2, 'plain', 'x', 'y', 'z', 'w'";
    // psql 15's own `--csv` output: quotes only around separators, quotes and line breaks;
    // NULL and the empty string both print as nothing.
    let expected = "id,\"x,y\",q,n,e,t\n\
                    1,\"a,b\",\"say \"\"hi\"\"\",,,\"two\nlines\"\n\
                    2,plain,x,y,z,w\n";
    pgapi()
        .arg(sandbox.iri())
        .args(["--csv", "-c", sql])
        .assert()
        .success()
        .stdout(expected);
    let psql = std::process::Command::new("psql")
        .args(["-X", "--csv", "-d"])
        .arg(sandbox.uri())
        .args(["-c", sql])
        .output()
        .expect("psql runs");
    assert!(psql.status.success(), "{}", text(&psql.stderr));
    assert_eq!(text(&psql.stdout), expected);
}

#[test]
fn prints_json_lines_with_natural_types() {
    let sandbox = sandbox();
    let output = pgapi()
        .arg(sandbox.iri())
        .args(["--json", "-c"])
        .arg(
            "select g as id, g * 1.5 as num, g % 2 = 0 as even, 'n' || g as name, \
             null::text as nothing, array[g, g + 1] as arr, \
             jsonb_build_object('k', g, 'l', array['x']) as doc, 'NaN'::float8 as nan \
             from generate_series(1, 2) g",
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON object per line"))
        .collect();
    assert_eq!(
        rows,
        [
            serde_json::json!({"id": 1, "num": 1.5, "even": false, "name": "n1", "nothing": null,
                               "arr": [1, 2], "doc": {"k": 1, "l": ["x"]}, "nan": "NaN"}),
            serde_json::json!({"id": 2, "num": 3.0, "even": true, "name": "n2", "nothing": null,
                               "arr": [2, 3], "doc": {"k": 2, "l": ["x"]}, "nan": "NaN"}),
        ]
    );
    assert!(
        text(&output.stdout).starts_with("{\"id\":1,\"num\":1.5,"),
        "column order kept"
    );
}

#[test]
fn applies_settings_as_values_never_as_sql() {
    let sandbox = sandbox();
    pgapi()
        .arg(sandbox.iri())
        .args([
            "--csv",
            "--setting",
            "application_name=it's; select 1",
            "--setting",
        ])
        .args(["work_mem=8MB", "-c", "show application_name; show work_mem"])
        .assert()
        .success()
        .stdout("application_name\nit's; select 1\nwork_mem\n8MB\n");
    // A setting the server refuses is an error before anything runs.
    pgapi()
        .arg(sandbox.iri())
        .args([
            "--setting",
            "no_such_setting=1",
            "-c",
            "create table never (i int)",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no_such_setting"));
    assert_eq!(
        sandbox
            .admin_sql("select to_regclass('never') is null")
            .unwrap(),
        "t"
    );
}

#[test]
fn notices_go_to_standard_error() {
    let sandbox = sandbox();
    pgapi()
        .arg(sandbox.iri())
        .args(["-c"])
        .arg("do $$ begin raise notice 'hello %', 42; end $$")
        .assert()
        .success()
        .stdout("DO\n")
        .stderr(predicate::str::contains("NOTICE: hello 42"));
}

#[test]
fn copy_statements_use_the_standard_streams() {
    let sandbox = sandbox();
    let iri = sandbox.iri();
    pgapi()
        .arg(&iri)
        .args(["-c", "create table c (i int, t text)", "-c"])
        .arg("copy c from stdin with (format csv)")
        .write_stdin("1,one\n2,\"t,w,o\"\n")
        .assert()
        .success()
        .stdout("CREATE TABLE\nCOPY 2\n");
    pgapi()
        .arg(&iri)
        .args([
            "-c",
            "copy (select * from c order by i) to stdout with (format csv)",
        ])
        .assert()
        .success()
        .stdout("1,one\n2,\"t,w,o\"\n");
    // In a script (standard input, a file), the data follows the statement up to `\.`, as
    // psql (and pg_dump's output) has it; the lines after it are the script's again.
    pgapi()
        .arg(&iri)
        .args(["-At"])
        .write_stdin(
            "copy c from stdin with (format csv);\n3,three\n4,\"f;o;u;r\"\n\\.\n\
             select string_agg(t, '/' order by i) from c;\nselect nope;\n",
        )
        .assert()
        .code(0)
        .stdout("COPY 2\none/t,w,o/three/f;o;u;r\n")
        .stderr(predicate::str::starts_with(
            "pgapi:<stdin>:6: UndefinedColumnError",
        ));
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    std::fs::write(
        &dump,
        "create table d (i int, t text);\ncopy d (i, t) from stdin;\n1\tone\n2\t\\N\n\\.\n\
         select count(*), count(t) from d;\n",
    )
    .unwrap();
    pgapi()
        .arg(&iri)
        .args(["-At", "-f"])
        .arg(&dump)
        .assert()
        .success()
        .stdout("CREATE TABLE\nCOPY 2\n2|1\n");
}

#[test]
fn pgservice_names_the_server() {
    let temporal = pg_cluster::Temporal::get().expect("a test server");
    let params = pg_driver::params::Keywords::parse(temporal.iri())
        .and_then(|k| k.build())
        .unwrap();
    let pg_driver::params::Host::Tcp { host, port, .. } = params.hosts()[0].clone() else {
        panic!("a TCP host")
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("services.conf");
    let password = match params.password() {
        Some(p) => format!("password={}\n", p.expose()),
        None => String::new(),
    };
    std::fs::write(
        &file,
        format!(
            "[test_server]\nhost={host}\nport={port}\nuser={}\ndbname={}\n\
             application_name=pgapi_service\n{password}",
            params.user(),
            params.database()
        ),
    )
    .unwrap();
    let output = pgapi()
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PGSERVICE", "test_server")
        .env("PGSERVICEFILE", &file)
        .env("PGSYSCONFDIR", dir.path())
        .args(["--csv", "-c", "show application_name"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("pgapi_service"),
        "{}",
        text(&output.stdout)
    );
}
