//! `\copy`: client-side COPY through files, compared with the table and with real psql.

use std::path::Path;
use std::process::Command;

use pg_cli::backslash_copy::run;
use pg_driver::Connection;

use crate::{sandbox, text};

/// A quoted file name for `\copy` (quotes doubled).
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

/// Runs `\copy args` on a new connection to the sandbox.
fn copy(sandbox: &pg_cluster::Sandbox<'_>, args: &str, progress: bool) -> Result<String, String> {
    let runtime = pg_cli::runtime().unwrap();
    runtime.block_on(async {
        let db: Connection = sandbox.connect().await.unwrap();
        let result = run(&db, args, progress).await.map_err(|f| f.report);
        // The session stays usable after a failed COPY.
        let after = db
            .prepare("select 1")
            .await
            .unwrap()
            .call(())
            .await
            .unwrap();
        assert_eq!(after.rows.len(), 1);
        result
    })
}

/// A table holding what text and CSV formats must escape.
const ITEMS: &str = "create table items (id int, name text, note text, price numeric); \
     insert into items values \
     (1, 'plain', null, 1.50), \
     (2, E'tab\\there', E'new\\nline', null), \
     (3, E'back\\\\slash', 'comma, \"quote\"', -0.001), \
     (4, 'ünïcödé ✓', '', 1e20)";

/// The rows of a table, in one string, to compare two tables.
fn contents(sandbox: &pg_cluster::Sandbox<'_>, table: &str) -> String {
    sandbox
        .admin_sql(&format!(
            "select string_agg(format('%s|%s|%s|%s', id, coalesce(name, '<null>'), \
             coalesce(note, '<null>'), coalesce(price::text, '<null>')), ';' order by id) \
             from {table}"
        ))
        .unwrap()
}

#[test]
fn round_trips_a_table_in_text_csv_and_binary() {
    let sandbox = sandbox();
    sandbox.admin_sql(ITEMS).unwrap();
    let original = contents(&sandbox, "items");
    assert!(original.contains("tab\there"), "{original}");
    let dir = tempfile::tempdir().unwrap();
    for (name, options) in [
        ("text", ""),
        ("csv", "with (format csv, header)"),
        ("csv_old", "csv header"),
        ("binary", "with (format binary)"),
    ] {
        let file = dir.path().join(format!("items.{name}"));
        let out = copy(
            &sandbox,
            &format!("items to {} {options}", quoted(&file)),
            false,
        );
        assert_eq!(out.as_deref(), Ok("COPY 4"), "{name}");
        let data = std::fs::read(&file).unwrap();
        match name {
            "text" => assert!(
                text(&data).starts_with("1\tplain\t\\N\t1.50\n"),
                "{}",
                text(&data)
            ),
            "binary" => assert!(data.starts_with(b"PGCOPY\n\xff\r\n\0")),
            _ => assert!(text(&data).starts_with("id,name,note,price\n1,plain,,1.50\n")),
        }
        let table = format!("copy_{name}");
        sandbox
            .admin_sql(&format!("create table {table} (like items)"))
            .unwrap();
        let back = copy(
            &sandbox,
            &format!("{table} from {} {options}", quoted(&file)),
            false,
        );
        assert_eq!(back.as_deref(), Ok("COPY 4"), "{name}");
        assert_eq!(contents(&sandbox, &table), original, "{name}");
    }
}

#[test]
fn copies_a_query_and_a_column_list() {
    let sandbox = sandbox();
    sandbox.admin_sql(ITEMS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("query.txt");
    let out = copy(
        &sandbox,
        &format!(
            "(select id, name || '!' from items where id in (1, 4) order by id) to {}",
            quoted(&file)
        ),
        false,
    );
    assert_eq!(out.as_deref(), Ok("COPY 2"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "1\tplain!\n4\tünïcödé ✓!\n"
    );

    // A column list: the file's columns in its order, the others get their defaults.
    sandbox
        .admin_sql("create table people (id int, name text, team text default 'none')")
        .unwrap();
    let names = dir.path().join("names.csv");
    std::fs::write(&names, "ada,1\n\"grace, h\",2\n").unwrap();
    let out = copy(
        &sandbox,
        &format!("people (name, id) from {} csv", quoted(&names)),
        false,
    );
    assert_eq!(out.as_deref(), Ok("COPY 2"));
    assert_eq!(
        sandbox
            .admin_sql(
                "select string_agg(id || ':' || name || ':' || team, ';' order by id) from people"
            )
            .unwrap(),
        "1:ada:none;2:grace, h:none"
    );
    // And out again by a column list.
    let ids = dir.path().join("ids.txt");
    let out = copy(&sandbox, &format!("people (id) to {}", quoted(&ids)), false);
    assert_eq!(out.as_deref(), Ok("COPY 2"));
    assert_eq!(std::fs::read_to_string(&ids).unwrap(), "1\n2\n");
}

#[test]
fn names_a_missing_file_and_a_directory() {
    let sandbox = sandbox();
    sandbox.admin_sql("create table t (a int)").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such file.csv");
    let error = copy(&sandbox, &format!("t from {}", quoted(&missing)), false).unwrap_err();
    assert_eq!(
        error,
        format!(
            "pgapi: \\copy: {}: No such file or directory",
            missing.display()
        )
    );
    let error = copy(&sandbox, &format!("t to {}", quoted(dir.path())), false).unwrap_err();
    assert!(error.contains("cannot copy from/to a directory"), "{error}");
    assert!(error.contains(&dir.path().display().to_string()), "{error}");
    // A table that does not exist: the server's error.
    let error = copy(&sandbox, "nosuch from /dev/null", false).unwrap_err();
    assert!(error.contains("nosuch"), "{error}");
    // Bad data: the server's error with its line.
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "1\nx\n").unwrap();
    let error = copy(&sandbox, &format!("t from {}", quoted(&bad)), false).unwrap_err();
    assert!(
        error.contains("invalid input syntax for type integer"),
        "{error}"
    );
    assert_eq!(sandbox.admin_sql("select count(*) from t").unwrap(), "0");
    // Parse errors.
    let error = copy(&sandbox, "t", false).unwrap_err();
    assert_eq!(error, "pgapi: \\copy: parse error at end of line");
}

#[test]
fn quoted_file_names_with_spaces_and_quotes() {
    let sandbox = sandbox();
    sandbox
        .admin_sql("create table t (a int, b text); insert into t values (1, 'x'), (2, 'y')")
        .unwrap();
    let dir = tempfile::Builder::new()
        .prefix("a dir with spaces ")
        .tempdir()
        .unwrap();
    let file = dir.path().join("it's my data.txt");
    let out = copy(&sandbox, &format!("t to {}", quoted(&file)), false);
    assert_eq!(out.as_deref(), Ok("COPY 2"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "1\tx\n2\ty\n");
    let out = copy(&sandbox, &format!("t FROM {} ;", quoted(&file)), false);
    assert_eq!(out.as_deref(), Ok("COPY 2"));
    assert_eq!(sandbox.admin_sql("select count(*) from t").unwrap(), "4");
}

#[test]
fn large_files_with_progress() {
    let sandbox = sandbox();
    sandbox
        .admin_sql(
            "create table big (id int, pad text); \
             insert into big select i, repeat('x', 100) from generate_series(1, 60000) i; \
             create table big_copy (like big)",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.txt");
    let out = copy(&sandbox, &format!("big to {}", quoted(&file)), true);
    assert_eq!(out.as_deref(), Ok("COPY 60000"));
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size > pg_cli::backslash_copy::PROGRESS_THRESHOLD, "{size}");
    let out = copy(&sandbox, &format!("big_copy from {}", quoted(&file)), true);
    assert_eq!(out.as_deref(), Ok("COPY 60000"));
    assert_eq!(
        sandbox
            .admin_sql("select count(*) from (select * from big except select * from big_copy) d")
            .unwrap(),
        "0"
    );
}

#[test]
fn programs_feed_and_take_the_data() {
    let sandbox = sandbox();
    sandbox.admin_sql("create table t (a int)").unwrap();
    let out = copy(&sandbox, "t from program 'seq 1 5'", false);
    assert_eq!(out.as_deref(), Ok("COPY 5"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    let out = copy(
        &sandbox,
        &format!(
            "t to program 'sort -rn > \"{}\"'",
            file.display().to_string().replace(['\'', '"'], "")
        ),
        false,
    );
    assert_eq!(out.as_deref(), Ok("COPY 5"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "5\n4\n3\n2\n1\n");
    let error = copy(&sandbox, "t from program 'exit 3'", false).unwrap_err();
    assert!(error.contains("failed"), "{error}");
}

/// What real psql's `\copy … to` writes, byte for byte.
#[test]
fn writes_what_psql_writes() {
    let sandbox = sandbox();
    sandbox.admin_sql(ITEMS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, options) in [
        ("text", ""),
        ("csv", "with (format csv, header)"),
        ("binary", "(format binary)"),
        ("delimited", "with (delimiter '|', null 'NULL')"),
    ] {
        let ours = dir.path().join(format!("ours.{name}"));
        let theirs = dir.path().join(format!("psql.{name}"));
        let out = copy(
            &sandbox,
            &format!("items to {} {options}", quoted(&ours)),
            false,
        );
        assert_eq!(out.as_deref(), Ok("COPY 4"), "{name}");
        let psql = Command::new("/usr/bin/psql")
            .args(["-X", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(sandbox.uri())
            .arg("-c")
            .arg(format!("\\copy items to {} {options}", quoted(&theirs)))
            .output()
            .expect("psql runs");
        assert!(psql.status.success(), "{}", text(&psql.stderr));
        assert_eq!(text(&psql.stdout), "COPY 4\n", "psql's tag, as ours");
        let (ours, theirs) = (
            std::fs::read(&ours).unwrap(),
            std::fs::read(&theirs).unwrap(),
        );
        assert!(!ours.is_empty());
        assert_eq!(ours, theirs, "{name}");
    }
}

/// The environment variable that makes [`stdin_child`] run: the table to copy into.
const STDIN_CHILD: &str = "PGCLI_TEST_STDIN_CHILD";

/// Run by [`reads_standard_input_up_to_the_end_marker`] in a child process whose standard
/// input holds the data: `\copy TABLE from stdin`, then what is left of the input.
#[test]
fn stdin_child() {
    let Ok(table) = std::env::var(STDIN_CHILD) else {
        return; // Only as the child.
    };
    let temporal = pg_cluster::Temporal::get().unwrap();
    let runtime = pg_cli::runtime().unwrap();
    let tag = runtime.block_on(async {
        let db = temporal.connector().connect().await.unwrap();
        run(&db, &format!("{table} from stdin"), false).await
    });
    println!("tag: {}", tag.map_err(|f| f.report).unwrap());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest).unwrap();
    println!("rest: {rest:?}");
}

#[test]
fn reads_standard_input_up_to_the_end_marker() {
    let sandbox = sandbox();
    sandbox.admin_sql("create table t (a int, b text)").unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "backslash_copy::stdin_child", "--nocapture"])
        .env(STDIN_CHILD, format!("{}.t", sandbox.schema()))
        .env("PGTEST_IRI", sandbox.temporal().iri())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input
            .write_all(b"1\tone\n2\t\\N\n\\.\nselect 'the next command';\n")
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("tag: COPY 2\n"), "{stdout}");
    // What follows the `\.` is left for whoever reads the input next (the shell's script).
    assert!(
        stdout.contains("rest: \"select 'the next command';\\n\""),
        "{stdout}"
    );
    assert_eq!(
        sandbox
            .admin_sql("select string_agg(a || ':' || coalesce(b, 'null'), ',' order by a) from t")
            .unwrap(),
        "1:one,2:null"
    );
}
