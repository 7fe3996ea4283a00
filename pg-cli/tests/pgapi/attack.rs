//! Hostile input and psql's corner cases: each test here once found a bug (a panic, a
//! crash, a difference from psql), seen failing before its fix.

use expectrl::Expect;
use pg_cluster::Temporal;
use predicates::prelude::*;

use crate::{assert_clean_failure, pgapi, text};

/// The test server.
fn server() -> &'static Temporal {
    Temporal::get().expect("a test server")
}

/// The binary with psql's connection options for the test server.
fn pgapi_connected() -> assert_cmd::Command {
    let server = server();
    let mut command = pgapi();
    command.args([
        "-h",
        server.host(),
        "-p",
        &server.port().to_string(),
        "-U",
        server.user(),
        "-d",
        server.database(),
    ]);
    if let Some(password) = server.password() {
        command.env("PGPASSWORD", password);
    }
    command
}

#[test]
fn a_file_that_includes_itself_is_stopped_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("self.sql");
    std::fs::write(&script, "select 'in' as x;\n\\i self.sql\n").unwrap();
    let output = pgapi_connected()
        .current_dir(dir.path())
        .args(["-At", "-f", "self.sql", "-c", "select 'after'"])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_clean_failure(&stderr);
    assert!(stderr.contains("too deeply nested"), "{stderr}");
    // The runaway recursion stops with an error; the run goes on with the next -c.
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("in\nin\n"), "{stdout}");
    assert!(stdout.ends_with("in\nafter\n"), "{stdout}");
    // Under ON_ERROR_STOP it stops the run (status 3).
    pgapi_connected()
        .current_dir(dir.path())
        .args(["-At", "-v", "ON_ERROR_STOP=1", "-f", "self.sql"])
        .args(["-c", "select 'after'"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("after").not());
}

#[test]
fn a_utf8_byte_order_mark_before_a_script_is_skipped() {
    // Editors on Windows write one; psql runs the script as if it were not there.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bom.sql");
    std::fs::write(&script, "\u{feff}select 'bom' as x;\n").unwrap();
    pgapi_connected()
        .args(["-At", "-f"])
        .arg(&script)
        .assert()
        .success()
        .stdout("bom\n")
        .stderr("");
    pgapi_connected()
        .args(["-At"])
        .write_stdin("\u{feff}select 'piped';\n")
        .assert()
        .success()
        .stdout("piped\n")
        .stderr("");
}

#[test]
fn meta_command_arguments_end_at_a_backslash_as_in_psql() {
    // psql's output for the same input (but for "Tuples only is on.", which psql prints
    // for `\t` in a -f file and not on piped input): `\\` separates a meta-command from
    // SQL, a second backslash starts another meta-command, and `\g` in the middle of a
    // line sends what the buffer held before it.
    pgapi_connected()
        .args(["-A"])
        .write_stdin(
            "\\echo hi \\\\ select 1 as one;\n\\t on \\pset null N\\x on\nselect null as n \\g\n\
             \\echo 'x\\\\y' z\\\\\nselect 'a' as s \\g \\\\ select 'b' as s;\n",
        )
        .assert()
        .success()
        .stdout(
            "hi\none\n1\n(1 row)\nTuples only is on.\nNull display is \"N\".\nExpanded display is on.\nn|N\n\
             x\\y z\ns|a\ns|b\n",
        );
}

#[test]
fn a_dash_c_string_of_several_statements_is_one_transaction() {
    // psql sends a -c string as one query: the server runs it as one implicit transaction,
    // so a failing statement undoes those before it.
    let sandbox = crate::sandbox();
    let schema = sandbox.schema();
    pgapi_connected()
        .args(["-c"])
        .arg(format!(
            "create table {schema}.undone (i int); select 1/0; select 2"
        ))
        .assert()
        .code(1)
        .stdout("CREATE TABLE\n")
        .stderr(predicate::str::contains("division by zero"));
    assert_eq!(
        sandbox
            .admin_sql(&format!("select to_regclass('{schema}.undone') is null"))
            .unwrap(),
        "t",
        "rolled back with the failing statement"
    );
    // All well: committed.
    pgapi_connected()
        .args(["-At", "-c"])
        .arg(format!(
            "create table {schema}.kept (i int); insert into {schema}.kept values (7); \
             select i from {schema}.kept"
        ))
        .assert()
        .success()
        .stdout("CREATE TABLE\nINSERT 0 1\n7\n");
    assert_eq!(
        sandbox
            .admin_sql(&format!("select i from {schema}.kept"))
            .unwrap(),
        "7"
    );
    // The string's own BEGIN … COMMIT divides it, as on the server: what was committed
    // stays, and no warning about a transaction already in progress.
    pgapi_connected()
        .args(["-c"])
        .arg(format!(
            "begin; create table {schema}.divided (i int); commit; select 1/0"
        ))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("division by zero"))
        .stderr(predicate::str::contains("already").not());
    assert_eq!(
        sandbox
            .admin_sql(&format!("select to_regclass('{schema}.divided') is null"))
            .unwrap(),
        "f"
    );
    // As on the server, VACUUM cannot be part of such a string.
    pgapi_connected()
        .args(["-c", "vacuum; select 1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "VACUUM cannot run inside a transaction block",
        ));
}

#[test]
fn a_failed_connect_stops_a_script_as_in_psql() {
    // psql keeps the old connection only at the prompt; a script stops, so that it cannot
    // go on acting on the database it meant to leave.
    pgapi_connected()
        .args(["-At"])
        .write_stdin("select 'before';\n\\c no_such_database_here\nselect 'after';\n")
        .assert()
        .code(2)
        .stdout("before\n")
        .stderr(predicate::str::contains("no_such_database_here"))
        .stderr(predicate::str::contains("Previous connection kept").not());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("connect.sql");
    std::fs::write(&script, "\\c no_such_database_here\nselect 'after';\n").unwrap();
    pgapi_connected()
        .args(["-At", "-f"])
        .arg(&script)
        .args(["-c", "select 'next'"])
        .assert()
        .code(2)
        .stdout("");
    // At the prompt the old connection stays.
    let home = tempfile::tempdir().unwrap();
    let server = server();
    let mut session = crate::shell::pty(home.path(), &[]);
    let prompt = format!("{}=# ", server.database());
    session.expect(prompt.as_str()).unwrap();
    session.send_line("\\c no_such_database_here").unwrap();
    session.expect("Previous connection kept").unwrap();
    session.expect(prompt.as_str()).unwrap();
    session
        .send_line("select 'still ' || current_database();")
        .unwrap();
    session
        .expect(format!("still {}", server.database()))
        .unwrap();
    session.send_line("\\q").unwrap();
    session.expect(expectrl::Eof).unwrap();
}

#[test]
fn gset_refuses_a_column_name_that_is_no_variable_name() {
    // psql: `invalid variable name: "a b"`, the columns before it set, the rest not.
    pgapi_connected()
        .args(["-At"])
        .write_stdin(
            "select 1 as good, 2 as \"a b\", 3 as after \\gset\n\\echo :good :after\n\
             select 4 \\gset\n",
        )
        .assert()
        .success()
        .stdout("1 :after\n")
        .stderr(predicate::str::contains(
            "pgapi:<stdin>:1: invalid variable name: \"a b\"",
        ))
        .stderr(predicate::str::contains(
            "pgapi:<stdin>:3: invalid variable name: \"?column?\"",
        ));
}

#[test]
fn a_long_dollar_quoted_line_is_scanned_in_linear_time() {
    // Each character of a dollar-quoted body copied the rest of the line to look for the
    // closing tag: 50 000 characters took 20 seconds, 300 000 would take many minutes.
    let body = "x".repeat(300_000);
    let started = std::time::Instant::now();
    pgapi_connected()
        .args(["-At"])
        .write_stdin(format!("select length($body${body}$body$);\n"))
        .assert()
        .success()
        .stdout("300000\n");
    let elapsed = started.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn g_file_and_o_pipe_send_results_where_psql_does() {
    // `\g FILE` was ignored (the rows went to standard output and no file was written),
    // and `\o |command` wrote a file named "|command".
    let dir = tempfile::tempdir().unwrap();
    pgapi_connected()
        .current_dir(dir.path())
        .args(["-At"])
        .write_stdin(
            "select 'to file' \\g out.txt\nselect 'shown';\n\
             \\o | tr a-z A-Z > piped.txt\nselect 'piped';\n\\o\nselect 'back';\n\
             \\o kept.txt\nselect 'once' \\g | tr a-z A-Z > once.txt\nselect 'kept';\n\\o\n",
        )
        .assert()
        .success()
        .stdout("shown\nback\n");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(read("out.txt"), "to file\n");
    assert_eq!(read("piped.txt"), "PIPED\n");
    // `\g` sends one result elsewhere; the `\o` file before it goes on.
    assert_eq!(read("once.txt"), "ONCE\n");
    assert_eq!(read("kept.txt"), "kept\n");
    assert!(!dir.path().join("| tr a-z A-Z > piped.txt").exists());
}

#[test]
fn dash_v_refuses_a_name_no_reference_can_reach() {
    // psql: `invalid variable name: "a b"`; pgapi set it and went on.
    pgapi_connected()
        .args(["-v", "a b=x", "-c", "\\echo ran"])
        .assert()
        .failure()
        .stdout("")
        .stderr(predicate::str::contains("invalid variable name: \"a b\""));
}

#[test]
fn a_bad_option_is_status_1_not_the_connection_failures_2() {
    // psql: 1 for a bad option; 2 means the connection failed (scripts retry on it).
    for args in [&["--bogus"][..], &["-p", "not-a-port", "-c", "select 1"]] {
        pgapi()
            .args(args)
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::contains("error:"));
    }
    pgapi().arg("--help").assert().code(0).stderr("");
}

#[test]
fn a_variable_holding_statements_runs_them_as_psql_does() {
    // The psqlrc idiom `\set q 'select …; select …'` then `:q`: the value's `;` end
    // statements. pgapi sent the whole value as one statement, which the server refused.
    pgapi_connected()
        .args(["-At"])
        .write_stdin("\\set q 'select 1 as one; select 2 as two'\n:q;\n")
        .assert()
        .success()
        .stdout("1\n2\n")
        .stderr("");
}

#[test]
fn q_in_a_file_ends_that_file_only_as_in_psql() {
    // psql: "In a script file, only execution of that script is terminated": `\q` in an
    // `\i` file goes back to the file (or prompt) that included it, in a -f file or a -c
    // string on to the next -c or -f. pgapi quit altogether (at the prompt too).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("q.sql"),
        "select 'in';\n\\q\nselect 'never';\n",
    )
    .unwrap();
    pgapi_connected()
        .current_dir(dir.path())
        .args(["-At"])
        .write_stdin("\\i q.sql\nselect 'back';\n\\q\nselect 'not this';\n")
        .assert()
        .success()
        .stdout("in\nback\n");
    pgapi_connected()
        .current_dir(dir.path())
        .args(["-At", "-f", "q.sql", "-c", "\\q", "-c", "select 'after'"])
        .assert()
        .success()
        .stdout("in\nafter\n");
}

#[test]
fn backslash_copy_from_stdin_in_a_piped_script_reads_the_script() {
    // The script reader held standard input's lock for the whole run; `\copy … from
    // stdin` then waited for that lock forever. psql reads the data from the script.
    pgapi_connected()
        .args(["-At"])
        .timeout(std::time::Duration::from_secs(30))
        .write_stdin(
            "create temp table t(a int);\n\\copy t from pstdin\n1\n2\n\\.\n\
             \\copy t from stdin\n3\n\\.\nselect count(*) from t;\n",
        )
        .assert()
        .success()
        .stdout("CREATE TABLE\nCOPY 2\nCOPY 1\n3\n");
}

#[test]
fn backslash_copy_from_stdin_in_a_file_reads_the_files_next_lines() {
    // psql's `stdin` is where the commands come from: in a -f or \i file, the lines after
    // `\copy … from stdin` up to `\.`. pgapi read its own standard input (no rows) and
    // ran the data as SQL. `pstdin` stays the process's standard input.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("copy.sql"),
        "create temp table t(a int);\n\\copy t from stdin\n1\n2\n\\.\n\
         \\copy t from pstdin\n\\copy t from stdin with (format csv)\n4\n\\.\n\
         select string_agg(a::text, ',' order by a) from t;\n",
    )
    .unwrap();
    pgapi_connected()
        .current_dir(dir.path())
        .args(["-At", "-f", "copy.sql"])
        .write_stdin("3\n")
        .assert()
        .success()
        .stdout("CREATE TABLE\nCOPY 2\nCOPY 1\nCOPY 1\n1,2,3,4\n")
        .stderr("");
}

#[test]
fn option_values_may_start_with_a_hyphen() {
    // `-c '-- a comment …'` and `-F -x` are psql's; pgapi took the value for an option.
    pgapi_connected()
        .args(["-At", "-c", "-- a leading comment\nselect 1 as one"])
        .assert()
        .success()
        .stdout("1\n");
    pgapi_connected()
        .args(["-A", "-t", "-F", "-x", "-c", "select 1, 2"])
        .assert()
        .success()
        .stdout("1-x2\n");
}

#[test]
fn backslash_copy_to_stdout_is_the_data_alone() {
    // `pgapi -c '\copy (…) to stdout with csv header' > data.csv` ended the file with a
    // "COPY 1" line; psql prints no tag where the data went. `stdout` is the query output
    // (`\o`), `pstdout` the process's.
    pgapi_connected()
        .args([
            "-c",
            "\\copy (select 1 as a, 2 as b) to stdout with csv header",
        ])
        .assert()
        .success()
        .stdout("a,b\n1,2\n");
    let dir = tempfile::tempdir().unwrap();
    pgapi_connected()
        .current_dir(dir.path())
        .write_stdin(
            "\\o o.txt\n\\copy (select 'query output') to stdout\n\
             \\copy (select 'process output') to pstdout\n\\o\n",
        )
        .assert()
        .success()
        .stdout("process output\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("o.txt")).unwrap(),
        "query output\nCOPY 1\n"
    );
}

#[test]
fn if_elif_else_endif_run_one_branch_as_in_psql() {
    // Without \if, pgapi reported "invalid command \if" and ran every branch: the
    // production one of a script meant for development too.
    let script = "\\set prod false\n\\if :prod\n  select 'PROD branch';\n\\elif false\n  \
                  select 'elif';\n\\else\n  select 'dev branch';\n\\if :prod\n    select 'no';\n\
                  \\else\n    select 'nested else';\n\\endif\n\\endif\n\
                  \\if false\n\\if true\n  select 'ignored';\n\\endif\n\\q\n\\endif\n\
                  \\if true\nselect 1\n\\endif\n;\n\\if false\nselect 2\n\\endif\nselect 3;\n\
                  \\if maybe\nselect 'maybe';\n\\endif\n\\elif true\n\\if true\n\\else\n\\else\n\
                  \\endif\n\\if true\n";
    // psql 15's output for the same script.
    pgapi_connected()
        .args(["-At"])
        .write_stdin(script)
        .assert()
        .success()
        .stdout("dev branch\nnested else\n1\n3\n")
        .stderr(predicate::str::contains(
            "unrecognized value \"maybe\" for \"\\if expression\": Boolean expected",
        ))
        .stderr(predicate::str::contains("\\elif: no matching \\if"))
        .stderr(predicate::str::contains(
            "\\else: cannot occur after \\else",
        ))
        .stderr(predicate::str::contains(
            "reached EOF without finding closing \\endif(s)",
        ))
        .stderr(predicate::str::contains("invalid command").not());
    // An error in one stops the script under ON_ERROR_STOP.
    pgapi_connected()
        .args(["-At", "-v", "ON_ERROR_STOP=1"])
        .write_stdin("\\endif\nselect 'after';\n")
        .assert()
        .code(3)
        .stdout("");
}

#[test]
fn connect_takes_double_quoted_names_without_their_quotes() {
    // psql: `\c "My DB"` connects to My DB; pgapi looked for a database named "My DB"
    // with its quotes.
    let server = server();
    pgapi_connected()
        .args(["-At", "-c"])
        .arg(format!(
            "\\c \"{}\" \"{}\"",
            server.database(),
            server.user()
        ))
        .args(["-c", "select current_database() || ' ' || current_user"])
        .assert()
        .success()
        .stdout(format!(
            "You are now connected to database \"{}\" as user \"{}\".\n{} {}\n",
            server.database(),
            server.user(),
            server.database(),
            server.user()
        ));
}

#[test]
fn file_names_of_i_and_o_expand_a_tilde_as_psql_does() {
    // `\i ~/setup.sql` and `\o ~/out.txt`: psql reads and writes in the home directory;
    // pgapi looked for a directory named "~".
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("setup.sql"), "select 'included';\n").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    pgapi_connected()
        .current_dir(elsewhere.path())
        .env("HOME", home.path())
        .args(["-At"])
        .write_stdin("\\i ~/setup.sql\n\\o ~/out.txt\nselect 'written';\n\\o\n")
        .assert()
        .success()
        .stdout("included\n")
        .stderr("");
    assert_eq!(
        std::fs::read_to_string(home.path().join("out.txt")).unwrap(),
        "written\n"
    );
}

#[test]
fn ctrl_c_stops_an_included_file_between_its_statements() {
    // At the prompt, a Ctrl-C that came while `\i` ran meta-commands (no statement to
    // cancel) was dropped: the file went on to its end. psql stops the file there.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.sql");
    std::fs::write(
        &file,
        "\\set x 1\n".repeat(3_000_000) + "select 'the end';\n",
    )
    .unwrap();
    let server = server();
    let mut session = crate::shell::pty(dir.path(), &[]);
    let prompt = format!("{}=# ", server.database());
    session.expect(prompt.as_str()).unwrap();
    session
        .send_line(format!("\\i {}", file.display()))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    session.send(expectrl::ControlCode::EndOfText).unwrap();
    // Back at the prompt well before the file's end, which never comes.
    session.set_expect_timeout(Some(std::time::Duration::from_secs(5)));
    let seen = session.expect(prompt.as_str()).unwrap();
    let before = String::from_utf8_lossy(seen.before()).into_owned();
    assert!(!before.contains("the end"), "{before}");
    session.send_line("select 'still ' || 'here';").unwrap();
    let seen = session.expect("still here").unwrap();
    let before = String::from_utf8_lossy(seen.before()).into_owned();
    assert!(!before.contains("the end"), "{before}");
    session.send_line("\\q").unwrap();
    session.expect(expectrl::Eof).unwrap();
}
