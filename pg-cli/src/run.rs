//! Running SQL: reading the script, connecting, applying settings, running each statement
//! and printing what it gives.

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use pg_driver::{Connection, Statement};

use crate::cli::{Format, RunArgs};
use crate::copy::{self, CopyKind};
use crate::target::Target;
use crate::{Failure, output, split};

/// The SQL to run and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The SQL texts, in order (each may hold several statements).
    pub texts: Vec<String>,
    /// Whether standard input was read for them (so COPY FROM STDIN cannot read it).
    pub from_stdin: bool,
}

/// Reads the SQL: the `-c` texts, else the `-f` files (`-` is standard input), else
/// standard input.
pub fn read_script(args: &RunArgs) -> Result<Script, Failure> {
    if !args.command.is_empty() {
        return Ok(Script {
            texts: args.command.clone(),
            from_stdin: false,
        });
    }
    let mut script = Script {
        texts: Vec::new(),
        from_stdin: args.file.is_empty(),
    };
    for file in &args.file {
        if file == Path::new("-") {
            script.from_stdin = true;
            script.texts.push(read_stdin()?);
        } else {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::message(format!("cannot read {}: {e}", file.display())))?;
            script.texts.push(text);
        }
    }
    if args.file.is_empty() {
        if io::stdin().is_terminal() {
            eprintln!("pgapi: reading SQL from standard input (end it with Ctrl-D)");
        }
        script.texts.push(read_stdin()?);
    }
    Ok(script)
}

fn read_stdin() -> Result<String, Failure> {
    let mut text = String::new();
    io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::message(format!("cannot read standard input: {e}")))?;
    Ok(text)
}

/// The default command: reads the script, finds the server (starting a cluster when
/// needed), runs every statement and stops at the first error.
pub fn main(args: &RunArgs, out: &mut impl Write) -> Result<u8, Failure> {
    let script = read_script(args)?;
    let statements: Vec<String> = script
        .texts
        .iter()
        .flat_map(|text| split::statements(text))
        .collect();
    let runtime = crate::runtime()?;
    let target = Target::resolve(args.iri.as_deref(), args.keep.as_deref(), &mut io::stderr())?;
    let connector = target.connector()?;
    let result = runtime.block_on(async {
        let db = connector.connect().await?;
        db.set_message_hook(Some(Arc::new(|message| {
            eprintln!("{message}");
            true
        })));
        let ran = session(&db, args, &statements, script.from_stdin, out).await;
        db.close();
        ran
    });
    // The server of a kept cluster stops only after the connection has gone.
    drop(runtime);
    let finished = target.finish();
    match (result, finished) {
        (Ok(()), finished) => finished.map(|()| 0),
        (Err(failure), Ok(())) => Err(failure),
        (Err(failure), Err(also)) => {
            eprintln!("{}", also.report);
            Err(failure)
        }
    }
}

/// Applies the settings, then runs the statements in order.
async fn session(
    db: &Connection,
    args: &RunArgs,
    statements: &[String],
    stdin_used: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    for (name, value) in &args.settings {
        db.settings().set(name, value).await?;
    }
    let format = args.format();
    for sql in statements {
        let statement = db.prepare(sql).await?;
        run_statement(&statement, format, stdin_used, out).await?;
        out.flush()?;
    }
    Ok(())
}

/// Runs one prepared statement and prints its rows or its command tag: to standard output
/// for tables, to standard error for CSV and JSON (whose output is data only).
pub async fn run_statement(
    statement: &Statement,
    format: Format,
    stdin_used: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let tag = if statement.columns().is_empty() {
        match copy::kind(statement.string()) {
            CopyKind::Out => {
                // The data is the output: no tag after it.
                copy::to_writer(statement, out).await?;
                return Ok(());
            }
            CopyKind::In if stdin_used => {
                return Err(Failure::message(
                    "COPY FROM STDIN reads its data from standard input, which held the SQL: \
                     use -c or -f",
                ));
            }
            CopyKind::In => format!("COPY {}", copy::from_stdin(statement).await?),
            CopyKind::Other => {
                let results = statement.call(()).await?;
                output::command_tag(&results.command, results.count)
            }
        }
    } else {
        match format {
            Format::Table => {
                let results = statement.call(()).await?;
                write!(
                    out,
                    "{}",
                    output::table(statement.columns(), &results.rows)?
                )?;
                writeln!(out, "\n{}", output::row_count(results.rows.len()))?;
                // DML with RETURNING: its tag too, as psql prints it.
                if !["INSERT", "UPDATE", "DELETE", "MERGE"].contains(&results.command.as_str()) {
                    writeln!(out)?;
                    return Ok(());
                }
                output::command_tag(&results.command, results.count)
            }
            Format::Csv => {
                writeln!(out, "{}", output::csv_header(statement.columns()))?;
                let mut rows = statement.rows(())?;
                while let Some(row) = rows.next().await {
                    writeln!(out, "{}", output::csv_row(&row?)?)?;
                }
                return Ok(());
            }
            Format::Json => {
                let mut rows = statement.rows(())?;
                while let Some(row) = rows.next().await {
                    writeln!(out, "{}", output::json_row(&row?)?)?;
                }
                return Ok(());
            }
        }
    };
    note(format, out, &tag)
}

/// Prints a command tag where the format wants it.
fn note(format: Format, out: &mut impl Write, tag: &str) -> Result<(), Failure> {
    match format {
        Format::Table => writeln!(out, "{tag}")?,
        Format::Csv | Format::Json => {
            out.flush()?;
            eprintln!("{tag}");
        }
    }
    Ok(())
}
