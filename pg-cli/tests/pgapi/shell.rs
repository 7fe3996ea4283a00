//! The shell: psql's options and exit codes, scripts with variables and `file:line` errors
//! (through assert_cmd), and the interactive prompt driven through a pseudo-terminal
//! (expectrl): continuation lines, the transaction marker, Ctrl-C cancelling on the server,
//! history across sessions, `\q`.

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use expectrl::session::OsSession;
use expectrl::{ControlCode, Eof, Expect, Regex, Session};
use pg_cluster::Temporal;
use predicates::prelude::*;

use crate::{pgapi, sandbox, text};

/// The test server.
fn server() -> &'static Temporal {
    Temporal::get().expect("a test server")
}

/// psql's connection options for the test server.
fn connection_args() -> Vec<String> {
    let server = server();
    vec![
        "-h".into(),
        server.host().into(),
        "-p".into(),
        server.port().to_string(),
        "-U".into(),
        server.user().into(),
        "-d".into(),
        server.database().into(),
    ]
}

/// The binary with the connection options, for non-interactive runs.
fn pgapi_connected() -> assert_cmd::Command {
    let mut command = pgapi();
    command.args(connection_args());
    if let Some(password) = server().password() {
        command.env("PGPASSWORD", password);
    }
    command
}

/// A prompt session on a pseudo-terminal, HOME and the history in `home`, the sandbox's
/// schema first in the search path.
fn prompt(home: &Path, search_path: &str) -> OsSession {
    pty(home, &["--setting", &format!("search_path={search_path}")])
}

/// pgapi on a pseudo-terminal, connected to the test server with `args` after psql's
/// connection options, HOME and the history in `home`, the pager `cat`.
pub(crate) fn pty(home: &Path, args: &[&str]) -> OsSession {
    let mut command = Process::new(env!("CARGO_BIN_EXE_pgapi"));
    command
        .args(connection_args())
        .args(args)
        .env("HOME", home)
        .env("PGAPI_HISTORY", home.join("history"))
        .env("TERM", "xterm")
        .env("PAGER", "cat")
        .env_remove("PGTEST_IRI");
    if let Some(password) = server().password() {
        command.env("PGPASSWORD", password);
    }
    let mut session = Session::spawn(command).expect("a pty session");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

/// Waits for the main prompt (`test=# `, or with a transaction marker).
fn expect_prompt(session: &mut OsSession, marker: &str) {
    let database = server().database();
    session
        .expect(format!("{database}={marker}# "))
        .unwrap_or_else(|e| panic!("the prompt {database}={marker}#: {e}"));
}

/// Sends `\q` and checks the exit status is 0.
fn quit(mut session: OsSession) {
    session.send_line("\\q").unwrap();
    session.expect(Eof).unwrap();
    let status = session.get_process().wait().unwrap();
    assert!(
        format!("{status:?}").starts_with("Exited(") && format!("{status:?}").ends_with(", 0)"),
        "{status:?}"
    );
}

#[test]
fn the_prompt_runs_statements_over_several_lines_and_shows_the_transaction() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = sandbox();
    let mut session = prompt(home.path(), &sandbox.search_path());
    session.expect("Type \"\\?\" for help.").unwrap();
    expect_prompt(&mut session, "");
    session.send_line("select 40 +").unwrap();
    session
        .expect(format!("{}-# ", server().database()))
        .unwrap();
    session.send_line("  2 as answer;").unwrap();
    session.expect("answer").unwrap();
    session.expect("42").unwrap();
    expect_prompt(&mut session, "");
    // An open quote shows in the continuation prompt.
    session.send_line("select 'two").unwrap();
    session
        .expect(format!("{}'# ", server().database()))
        .unwrap();
    session.send_line("lines' as joined;").unwrap();
    session.expect("lines").unwrap();
    expect_prompt(&mut session, "");
    session.send_line("begin;").unwrap();
    expect_prompt(&mut session, "*");
    session.send_line("select 1 / 0;").unwrap();
    session.expect("division by zero").unwrap();
    expect_prompt(&mut session, "!");
    session.send_line("rollback;").unwrap();
    session.expect("ROLLBACK").unwrap();
    expect_prompt(&mut session, "");
    quit(session);
}

/// The active backends running `select pg_sleep(30) as TAG`, seen from the test's own
/// connection.
fn sleepers(tag: &str) -> u32 {
    server()
        .admin_sql(&format!(
            "select count(*) from pg_stat_activity \
             where query = 'select pg_sleep(30) as {tag}' and state = 'active'"
        ))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn ctrl_c_cancels_the_running_statement_and_keeps_the_session() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = sandbox();
    let mut session = prompt(home.path(), &sandbox.search_path());
    expect_prompt(&mut session, "");
    // Ctrl-C while editing drops the line; the next statement runs alone.
    session.send("select 'never").unwrap();
    session.send(ControlCode::EndOfText).unwrap();
    expect_prompt(&mut session, "");
    session
        .send_line("select 'after ' || 'interrupt' as kept;")
        .unwrap();
    session.expect("after interrupt").unwrap();
    expect_prompt(&mut session, "");

    session
        .send_line("select pg_sleep(30) as prompt_sleep;")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while sleepers("prompt_sleep") == 0 {
        assert!(Instant::now() < deadline, "pg_sleep never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    session.send(ControlCode::EndOfText).unwrap();
    session
        .expect("canceling statement due to user request")
        .unwrap();
    expect_prompt(&mut session, "");
    let took = sent.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "back at the prompt in {took:?}"
    );
    assert_eq!(
        sleepers("prompt_sleep"),
        0,
        "no pg_sleep(30) left running on the server"
    );
    // The session goes on.
    session.send_line("select 6 * 7 as still_here;").unwrap();
    session.expect("42").unwrap();
    expect_prompt(&mut session, "");
    quit(session);
}

/// Ctrl-C reaches the terminal's whole foreground process group: the server of pgapi's own
/// throwaway cluster must not be in it (SIGINT is a fast shutdown to postgres).
#[test]
fn ctrl_c_spares_the_throwaway_clusters_server() {
    let home = tempfile::tempdir().unwrap();
    let mut command = Process::new(env!("CARGO_BIN_EXE_pgapi"));
    command
        .env("HOME", home.path())
        .env("PGAPI_HISTORY", home.path().join("history"))
        .env("TERM", "xterm")
        .env("PAGER", "cat")
        .env_remove("PGTEST_IRI");
    for name in pg_cli::target::SERVER_VARIABLES {
        command.env_remove(name);
    }
    let mut session = Session::spawn(command).expect("a pty session");
    session.set_expect_timeout(Some(Duration::from_secs(120)));
    session.expect("=# ").unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session.send_line("select pg_sleep(30);").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    session.send(ControlCode::EndOfText).unwrap();
    session
        .expect("canceling statement due to user request")
        .unwrap();
    session.expect("=# ").unwrap();
    session
        .send_line("select 'server ' || 'alive' as after_ctrl_c;")
        .unwrap();
    session.expect("server alive").unwrap();
    session.expect("=# ").unwrap();
    quit(session);
}

#[test]
fn history_survives_a_restart_and_ctrl_d_exits() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = sandbox();
    let mut first = prompt(home.path(), &sandbox.search_path());
    expect_prompt(&mut first, "");
    first.send_line("select 'remem' ||").unwrap();
    first.expect(format!("{}-# ", server().database())).unwrap();
    first.send_line("'bered' as h;").unwrap();
    first.expect("remembered").unwrap();
    expect_prompt(&mut first, "");
    quit(first);
    let saved = std::fs::read_to_string(home.path().join("history")).unwrap();
    assert!(saved.contains("select 'remem' ||"), "{saved}");

    let mut second = prompt(home.path(), &sandbox.search_path());
    expect_prompt(&mut second, "");
    // Up arrow: the previous session's `\q`, then its statement, both lines, run again.
    second.send("\x1b[A").unwrap();
    second.expect("\\q").unwrap();
    second.send("\x1b[A").unwrap();
    second.expect("'bered' as h;").unwrap();
    second.send("\r").unwrap();
    second.expect("remembered").unwrap();
    expect_prompt(&mut second, "");
    // Ctrl-D on an empty line leaves, as psql does, with status 0.
    second.send(ControlCode::EndOfTransmission).unwrap();
    second.expect("\\q").unwrap();
    second.expect(Eof).unwrap();
    let status = second.get_process().wait().unwrap();
    assert!(format!("{status:?}").ends_with(", 0)"), "{status:?}");
}

#[test]
fn meta_commands_at_the_prompt() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = sandbox();
    let mut session = prompt(home.path(), &sandbox.search_path());
    expect_prompt(&mut session, "");
    session.send_line("\\set greeting 'hello there'").unwrap();
    expect_prompt(&mut session, "");
    session.send_line("select :'greeting' as g;").unwrap();
    session.expect("hello there").unwrap();
    expect_prompt(&mut session, "");
    session.send_line("\\timing on").unwrap();
    session.expect("Timing is on.").unwrap();
    expect_prompt(&mut session, "");
    session.send_line("select 1;").unwrap();
    session.expect(Regex("Time: [0-9]+\\.[0-9]{3} ms")).unwrap();
    expect_prompt(&mut session, "");
    session.send_line("\\conninfo").unwrap();
    session
        .expect(format!(
            "as user \"{}\" on host \"{}\" at port \"{}\"",
            server().user(),
            server().host(),
            server().port()
        ))
        .unwrap();
    expect_prompt(&mut session, "");
    // A lost connection is made again, as psql's "Attempting reset".
    session
        .send_line("select pg_terminate_backend(pg_backend_pid());")
        .unwrap();
    session
        .expect("The connection to the server was lost. Attempting reset: Succeeded.")
        .unwrap();
    expect_prompt(&mut session, "");
    session.send_line("select 'back again' as b;").unwrap();
    session.expect("back again").unwrap();
    expect_prompt(&mut session, "");
    session.send_line("\\nosuch").unwrap();
    session.expect("invalid command \\nosuch").unwrap();
    expect_prompt(&mut session, "");
    quit(session);
}

#[test]
fn describe_and_expanded_at_the_prompt() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = sandbox();
    sandbox
        .admin_sql("create table shelf (id int primary key, title text not null)")
        .unwrap();
    let mut session = prompt(home.path(), &sandbox.search_path());
    expect_prompt(&mut session, "");
    session
        .send_line(format!("\\dt {}.*", sandbox.schema()))
        .unwrap();
    session.expect("List of relations").unwrap();
    session.expect("shelf").unwrap();
    expect_prompt(&mut session, "");
    session.send_line("\\d shelf").unwrap();
    session
        .expect(format!("Table \"{}.shelf\"", sandbox.schema()))
        .unwrap();
    session
        .expect(Regex("title +\\| text +\\| +\\| not null"))
        .unwrap();
    session
        .expect("\"shelf_pkey\" PRIMARY KEY, btree (id)")
        .unwrap();
    expect_prompt(&mut session, "");
    session.send_line("\\x").unwrap();
    session.expect("Expanded display is on.").unwrap();
    session.send_line("select 1 as one, 2 as two;").unwrap();
    session.expect("-[ RECORD 1 ]").unwrap();
    session.expect(Regex("one +\\| 1")).unwrap();
    expect_prompt(&mut session, "");
    quit(session);
}

#[test]
fn connects_with_psql_options_and_prints_unaligned_rows() {
    pgapi_connected()
        .args(["-A", "-t", "-F", ","])
        .args(["-c", "select current_user, current_database(), 1 + 1"])
        .assert()
        .success()
        .stdout(format!("{},{},2\n", server().user(), server().database()));
    // The positional DBNAME and USERNAME, with -h and -p.
    let server = server();
    let mut command = pgapi();
    if let Some(password) = server.password() {
        command.env("PGPASSWORD", password);
    }
    command
        .args(["-h", server.host(), "-p", &server.port().to_string()])
        .args([server.database(), server.user()])
        .args(["-At", "-c", "select current_database()"])
        .assert()
        .success()
        .stdout(format!("{}\n", server.database()));
}

#[test]
fn exit_codes_follow_psql() {
    // 0: fine; 1: a failed -c, a missing file; 2: no connection; 3: ON_ERROR_STOP.
    pgapi_connected().args(["-c", "select 1"]).assert().code(0);
    pgapi_connected()
        .args(["-c", "select * from no_such_table"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("UndefinedTableError"));
    pgapi_connected()
        .args(["-f", "/no/such/file.sql"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/no/such/file.sql"));
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    pgapi()
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "x",
            "-c",
            "select 1",
        ])
        .assert()
        .code(2);
    pgapi()
        .args(["-h", "no-such-host.invalid", "-U", "x", "-c", "select 1"])
        .assert()
        .code(2);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.sql");
    std::fs::write(
        &script,
        "select 1;\nselect * from\n  no_such_table;\nselect 2;\n",
    )
    .unwrap();
    pgapi_connected()
        .args(["-v", "ON_ERROR_STOP=1", "-f"])
        .arg(&script)
        .assert()
        .code(3);
    // Without ON_ERROR_STOP the script goes on and ends with status 0.
    pgapi_connected().arg("-f").arg(&script).assert().code(0);
    // With several -c and -f, the last one's status is the run's (as psql 15).
    pgapi_connected()
        .args(["-c", "select bad", "-c", "select 1"])
        .assert()
        .code(0);
    pgapi_connected()
        .arg("-f")
        .arg(&script)
        .args(["-c", "select bad"])
        .assert()
        .code(1);
    pgapi_connected()
        .args(["-c", "select bad", "-f"])
        .arg(&script)
        .assert()
        .code(0);
    // A connection lost in a script: status 2, nothing more runs.
    pgapi_connected()
        .args(["-At"])
        .write_stdin("select pg_terminate_backend(pg_backend_pid());\nselect 'after';\n")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "the connection to the server was lost",
        ));
    // \q ends a script at once, status 0.
    pgapi_connected()
        .args(["-At"])
        .write_stdin("select 'before';\n\\q\nselect 'after';\n")
        .assert()
        .code(0)
        .stdout("before\n");
}

#[test]
fn scripts_name_file_and_line_and_go_on_after_errors() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.sql");
    std::fs::write(
        &script,
        "select 'one' as a;\n\n-- a comment\nselect *\n  from nowhere;\nselect 'three' as c;\n",
    )
    .unwrap();
    let output = pgapi_connected()
        .args(["-At", "-f"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "one\nthree\n");
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            // psql's rule: the line that ended the statement (`  from nowhere;`).
            "pgapi:{}:5: UndefinedTableError: relation \"nowhere\" does not exist",
            script.display()
        )),
        "{stderr}"
    );
    // Standard input is named <stdin>.
    pgapi_connected()
        .args(["-At"])
        .write_stdin("select 1;\nselect nope;\n")
        .assert()
        .success()
        .stdout("1\n")
        .stderr(predicate::str::starts_with(
            "pgapi:<stdin>:2: UndefinedColumnError",
        ));
}

#[test]
fn variables_are_interpolated_and_c_and_f_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let included = dir.path().join("included.sql");
    std::fs::write(&included, "select :'name' || '!' as included;\n").unwrap();
    let script = dir.path().join("main.sql");
    std::fs::write(
        &script,
        "\\set name 'it''s me'\n\\echo name is :name\nselect :'name' as literal, \
         length(:'name') as n;\n\\ir included.sql\n\
         select 6 * 7 as answer \\gset v_\n\\echo answer :v_answer\n",
    )
    .unwrap();
    pgapi_connected()
        .args([
            "-At",
            "-v",
            "who=world",
            "-c",
            "select 'hello ' || :'who'",
            "-f",
        ])
        .arg(&script)
        .args(["-c", "select :\"who\" from (select 1 as world) t"])
        .assert()
        .success()
        .stdout("hello world\nname is it's me\nit's me|7\nit's me!\nanswer 42\n1\n");
}

#[test]
fn single_transaction_rolls_back_on_error() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.sql");
    std::fs::write(
        &script,
        format!(
            "create table {}.made (i int);\nselect * from nowhere;\n",
            sandbox.schema()
        ),
    )
    .unwrap();
    pgapi_connected()
        .args(["-1", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(&script)
        .assert()
        .code(3);
    assert_eq!(
        sandbox
            .admin_sql("select to_regclass('made') is null")
            .unwrap(),
        "t",
        "rolled back"
    );
    pgapi_connected()
        .args(["-1", "-q", "-c"])
        .arg(format!("create table {}.made (i int)", sandbox.schema()))
        .args(["-c", "insert into made values (1)"])
        .args(["--setting", &format!("search_path={}", sandbox.schema())])
        .assert()
        .success();
    assert_eq!(sandbox.admin_sql("select count(*) from made").unwrap(), "1");
}

#[test]
fn meta_commands_in_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.txt");
    let script = format!(
        "\\pset null '(nothing)'\n\\o {}\nselect null as n;\n\\qecho -n to the file\n\\warn warned\n\\o\n\\echo back\n\
         select current_database();\n\\x\n\\t\n\\a\n\
         \\timing off\n\\unset nope\n\\set\n\\p\n\\r\n\\i {}\n\\nosuch\n",
        results.display(),
        dir.path().join("missing.sql").display()
    );
    let output = pgapi_connected()
        .args(["-A", "-v", "shown=yes"])
        .write_stdin(script)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let database = server().database();
    assert!(
        stdout.starts_with(&format!(
            "Null display is \"(nothing)\".\nback\ncurrent_database\n{database}\n(1 row)\n"
        )) || stdout.starts_with(&format!(
            "Null display is \"(nothing)\".\nback\ncurrent_database\n{database}\n"
        )),
        "{stdout}"
    );
    for line in [
        "Expanded display is on.",
        "Tuples only is on.",
        "Output format is aligned.",
        "Timing is off.",
        "shown = 'yes'",
        &format!("DBNAME = '{database}'"),
        "select current_database()",
        "Query buffer reset (cleared).",
    ] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
    let written = std::fs::read_to_string(&results).unwrap();
    assert!(written.contains("(nothing)"), "{written}");
    assert!(written.ends_with("to the file"), "{written}");
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("warned\n"), "{stderr}");
    assert!(stderr.contains("missing.sql"), "{stderr}");
    assert!(stderr.contains(":18: invalid command \\nosuch"), "{stderr}");
    // \c to the same database as another spelling, then \conninfo.
    pgapi_connected()
        .args(["-c", &format!("\\c {database}"), "-c", "\\conninfo"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "You are now connected to database \"{database}\""
        )))
        .stdout(predicate::str::contains(format!(
            "You are connected to database \"{database}\" as user \"{}\"",
            server().user()
        )));
}

#[test]
fn dash_w_asks_for_the_password_on_the_terminal() {
    let mut command = Process::new(env!("CARGO_BIN_EXE_pgapi"));
    command
        .args(connection_args())
        .args(["-W", "-At", "-c", "select 'in with a password'"])
        .env("TERM", "xterm")
        .env_remove("PGPASSWORD");
    let mut session = Session::spawn(command).expect("a pty session");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
        .expect(format!("Password for user {}: ", server().user()))
        .unwrap();
    session
        .send_line(
            server()
                .password()
                .unwrap_or("anything: the test server trusts"),
        )
        .unwrap();
    session.expect("in with a password").unwrap();
    session.expect(Eof).unwrap();
}

#[test]
fn ctrl_c_stops_a_script_and_cancels_its_statement() {
    let mut command = Process::new(env!("CARGO_BIN_EXE_pgapi"));
    command
        .args(connection_args())
        .args([
            "-At",
            "-c",
            "select pg_sleep(30) as script_sleep",
            "-c",
            "select 'not reached'",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(password) = server().password() {
        command.env("PGPASSWORD", password);
    }
    let child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while sleepers("script_sleep") == 0 {
        assert!(Instant::now() < deadline, "pg_sleep never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    let killed = Process::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("canceling statement due to user request"),
        "{stderr}"
    );
    // psql's status for a -c that failed; the next -c did not run.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!text(&output.stdout).contains("not reached"));
    assert_eq!(
        sleepers("script_sleep"),
        0,
        "no pg_sleep(30) left running on the server"
    );
}

#[test]
fn tab_completes_keywords_tables_and_meta_commands() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = sandbox();
    sandbox
        .admin_sql("create table bookshelf_items (id int)")
        .unwrap();
    let mut session = prompt(home.path(), &sandbox.search_path());
    expect_prompt(&mut session, "");
    session.send("SEL\t").unwrap();
    session.expect("SELECT").unwrap();
    session.send(" count(*) from bookshelf_it\t").unwrap();
    session.expect("bookshelf_items").unwrap();
    session.send(";\r").unwrap();
    session.expect("0").unwrap();
    expect_prompt(&mut session, "");
    session.send("\\conni\t").unwrap();
    session.expect("\\conninfo").unwrap();
    session.send("\r").unwrap();
    session.expect("You are connected").unwrap();
    expect_prompt(&mut session, "");
    // DDL inside a block: the names are read again once the block has ended (never with
    // queries inside the user's transaction), and then complete.
    session.send_line("begin;").unwrap();
    expect_prompt(&mut session, "*");
    session
        .send_line("create table made_in_block (i int);")
        .unwrap();
    expect_prompt(&mut session, "*");
    session.send_line("commit;").unwrap();
    expect_prompt(&mut session, "");
    session.send("table made_in_bl\t").unwrap();
    session.expect("made_in_block").unwrap();
    session.send(";\r").unwrap();
    session.expect("(0 rows)").unwrap();
    expect_prompt(&mut session, "");
    quit(session);
}

#[test]
fn sql_standard_function_bodies_run_whole() {
    let sandbox = sandbox();
    pgapi_connected()
        .args(["-At", "-v", "ON_ERROR_STOP=1"])
        .args([
            "--setting",
            &format!("search_path={}", sandbox.search_path()),
        ])
        .write_stdin(
            "create function sign_of(x int) returns int language sql\n\
             begin atomic\n  select case when x > 0 then 1 when x < 0 then -1 else 0 end;\n\
             end;\nselect sign_of(-5), sign_of(0), sign_of(9);\n",
        )
        .assert()
        .success()
        .stdout("CREATE FUNCTION\n-1|0|1\n");
}
