//! Running the default command: finding the server (starting a cluster when needed),
//! connecting (exit status 2 when that fails), then the shell: the `-c` and `-f` in order,
//! else the interactive prompt on a terminal, else the script on standard input.

use std::io::{self, BufRead, IsTerminal, Write};

use pg_driver::{Connection, Connector};

use crate::Failure;
use crate::cli::{Action, RunArgs};
use crate::print::{Expanded, Layout};
use crate::shell::{self, Flow, Session, Source};
use crate::target::{Destination, Target};

/// The server's destination the options give.
pub fn destination(args: &RunArgs) -> Destination {
    Destination {
        dbname: args.database().map(str::to_owned),
        user: args.user().map(str::to_owned),
        host: args.host.clone(),
        port: args.port,
    }
}

/// The default command: connects, runs the shell, returns psql's exit status (0; 1 for a
/// failed `-c` or a missing file; 2 when connecting fails; 3 for a script stopped by
/// ON_ERROR_STOP).
pub fn main(args: &RunArgs, out: &mut impl Write) -> Result<u8, Failure> {
    let runtime = crate::runtime()?;
    let target = Target::resolve(&destination(args), args.keep.as_deref(), &mut io::stderr())?;
    let connector = target.connector()?;
    let result = runtime.block_on(connect(connector, args)).and_then(|db| {
        let mut session = Session::new(db, out);
        let status = session_main(&runtime, &mut session, args);
        let _ = session.flush();
        // An `\o |COMMAND` still open: its command gets the end of its input, and is
        // waited for.
        let _ = session.redirect(None);
        session.db.close();
        status
    });
    // The server of a kept cluster stops only after the connection has gone.
    drop(runtime);
    let finished = target.finish();
    match (result, finished) {
        (Ok(status), finished) => finished.map(|()| status),
        (Err(failure), Ok(())) => Err(failure),
        (Err(failure), Err(also)) => {
            eprintln!("{}", also.report);
            Err(failure)
        }
    }
}

/// Connects, asking for a password first with `-W`, or when the server wants one that was
/// not given and standard input is a terminal (unless `-w`). Failing is exit status 2.
async fn connect(connector: Connector, args: &RunArgs) -> Result<Connection, Failure> {
    let failed = |error: pg_exceptions::Error| Failure {
        report: format!("{error:#}"),
        status: 2,
    };
    let with_password = |password: String| -> Result<Connector, Failure> {
        let keywords = connector.params().to_keywords().password(password);
        let params = keywords
            .build()
            .map_err(|e| Failure::message(format!("cannot connect: {e}")))?;
        Ok(Connector::new(params))
    };
    let user = connector.params().user().to_owned();
    if args.password {
        let password = ask_password(&user)?;
        return with_password(password)?.connect().await.map_err(failed);
    }
    match connector.connect().await {
        Ok(db) => Ok(db),
        Err(error) => {
            let wants_password = error.code() == "28P01"
                || error.to_string().to_ascii_lowercase().contains("password");
            let can_ask = !args.no_password
                && connector.params().password().is_none()
                && io::stdin().is_terminal();
            if wants_password && can_ask {
                let password = ask_password(&user)?;
                with_password(password)?.connect().await.map_err(failed)
            } else {
                Err(failed(error))
            }
        }
    }
}

fn ask_password(user: &str) -> Result<String, Failure> {
    rpassword::prompt_password(format!("Password for user {user}: ")).map_err(|e| Failure {
        report: format!("pgapi: cannot read the password: {e}"),
        status: 2,
    })
}

/// Sets up the session from the options, then runs what they ask for.
fn session_main(
    runtime: &tokio::runtime::Runtime,
    session: &mut Session<'_>,
    args: &RunArgs,
) -> Result<u8, Failure> {
    runtime.block_on(async {
        for (name, value) in &args.settings {
            session.db.settings().set(name, value).await?;
        }
        Ok::<(), Failure>(())
    })?;
    for (name, value) in &args.variables {
        session.vars.set(name, value);
    }
    if args.quiet {
        session.vars.set("QUIET", "on");
    }
    if args.echo_all {
        session.vars.set("ECHO", "all");
    } else if args.echo_queries {
        session.vars.set("ECHO", "queries");
    }
    let settings = &mut session.settings;
    if args.no_align {
        settings.layout = Layout::Unaligned;
    }
    if args.csv {
        settings.layout = Layout::Csv;
    }
    if args.json {
        settings.layout = Layout::Json;
    }
    settings.tuples_only |= args.tuples_only;
    if args.expanded {
        settings.expanded = Expanded::On;
    }
    if let Some(separator) = &args.field_separator {
        settings.field_separator = separator.clone();
    }
    if let Some(separator) = &args.record_separator {
        settings.record_separator = separator.clone();
    }
    for (name, value) in &args.pset {
        shell::meta::pset(settings, name, Some(value.as_str()))?;
    }
    if let Some(path) = &args.output {
        session.redirect(Some(path))?;
    }
    let actions = args.ordered_actions();
    let interactive = actions.is_empty() && io::stdin().is_terminal() && io::stdout().is_terminal();
    // Ctrl-C cancels the running statement, except where pgapi waits for a terminal's lines
    // in a script (a blocking read it could not interrupt).
    let reads_terminal = io::stdin().is_terminal()
        && (actions.is_empty() || actions.contains(&Action::File("-".into())));
    if interactive || !reads_terminal {
        let _entered = runtime.enter();
        session.watch_interrupts()?;
    }
    if !actions.is_empty() {
        return runtime.block_on(run_actions(session, &actions, args.single_transaction));
    }
    if interactive {
        return shell::interactive::run(runtime, session);
    }
    session.stdin_is_script = true;
    let flow = runtime.block_on(async {
        let wrap = args.single_transaction;
        if wrap {
            session.db.execute("BEGIN").await?;
        }
        let flow = session
            .run_lines(stdin_lines(), &Source::File("<stdin>".into()))
            .await;
        if wrap {
            end_transaction(session, flow).await?;
        }
        Ok::<Flow, Failure>(flow)
    })?;
    Ok(script_status(session, flow))
}

/// Standard input's lines (without their line breaks), standard input locked for one
/// line at a time: `\copy … from stdin` reads the lines after it from the same buffer
/// (holding the lock for the whole script, the reader made it wait forever).
fn stdin_lines() -> impl Iterator<Item = io::Result<String>> {
    std::iter::from_fn(|| {
        let mut line = String::new();
        match io::stdin().lock().read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => {
                if line.ends_with('\n') {
                    line.pop();
                    if line.ends_with('\r') {
                        line.pop();
                    }
                }
                Some(Ok(line))
            }
            Err(e) => Some(Err(e)),
        }
    })
}

/// psql's status for a script: 3 when ON_ERROR_STOP stopped it (2 for a lost connection).
fn script_status(session: &Session<'_>, flow: Flow) -> u8 {
    match flow {
        Flow::Stop => session.stop_status,
        Flow::Continue | Flow::Quit => 0,
    }
}

/// Commits the `-1` transaction, or rolls it back when the run stopped on an error.
async fn end_transaction(session: &mut Session<'_>, flow: Flow) -> Result<(), Failure> {
    if session.db.closed() {
        return Ok(());
    }
    match flow {
        Flow::Stop => session.db.execute("ROLLBACK").await?,
        Flow::Continue | Flow::Quit => session.db.execute("COMMIT").await?,
    }
    Ok(())
}

/// The `-c` and `-f` in order, as psql 15: each action's status is the run's until the
/// next; an error under ON_ERROR_STOP stops the run; `\q` ends its own `-c` or `-f` only.
async fn run_actions(
    session: &mut Session<'_>,
    actions: &[Action],
    single_transaction: bool,
) -> Result<u8, Failure> {
    if single_transaction {
        session.db.execute("BEGIN").await?;
    }
    let mut status = 0;
    let mut last = Flow::Continue;
    for action in actions {
        let (flow, action_status) = match action {
            Action::Command(text) => {
                let flow = session.run_command(text).await;
                let failed_here = session.failed;
                session.failed = false;
                // A lost connection is 2, as psql has it; another failure 1.
                let lost = flow == Flow::Stop && session.stop_status == 2;
                (flow, if lost { 2 } else { u8::from(failed_here) })
            }
            Action::File(path) if path.as_os_str() == "-" => {
                session.stdin_is_script = true;
                let flow = session
                    .run_lines(stdin_lines(), &Source::File("<stdin>".into()))
                    .await;
                (flow, script_status(session, flow))
            }
            Action::File(path) => match session.run_file(path).await {
                Ok(flow) => (flow, script_status(session, flow)),
                Err(failure) => {
                    eprintln!("{}", failure.report);
                    let flow = match session.vars.flag("ON_ERROR_STOP") {
                        true => Flow::Stop,
                        false => Flow::Continue,
                    };
                    (flow, 1)
                }
            },
        };
        status = action_status;
        if flow == Flow::Stop {
            last = flow;
            break;
        }
    }
    if single_transaction {
        let stopped = if status != 0 { Flow::Stop } else { last };
        end_transaction(session, stopped).await?;
    }
    Ok(status)
}
