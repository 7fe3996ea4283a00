//! `pgapi`, the command-line tool of the workspace: a shell a psql user feels at home in.
//!
//! - `pgapi [DBNAME [USERNAME]] [-h HOST] [-p PORT] [-U USER] [-d DBNAME]` with psql's
//!   options ([`cli`]): `-c COMMAND` and `-f FILE` (repeated, mixed, in order), `-v NAME=VALUE`
//!   (psql variables such as `ON_ERROR_STOP`), `-q -t -A -F -R -x -1 -o -P -W -w -X`,
//!   `--csv`, `--json` (JSON lines), `--setting NAME=VALUE` (a server setting). DBNAME may be
//!   an IRI (`pq://…`, `postgresql://…`) or a `key=value` string. Without any of them nor a
//!   `PG*` environment naming a server, a throwaway cluster is started for the run
//!   (`--keep DIR` keeps its data in DIR for the next run). See [`run`] and [`target`].
//! - The shell ([`shell`]): one line-fed engine for `-c`, `-f`, piped standard input and the
//!   interactive prompt ([`shell::interactive`], rustyline with history, completion from
//!   [`complete`], psql's prompts, Ctrl-C cancelling the running statement on the server).
//!   Statements end at `;` outside quotes, dollar bodies, comments and parentheses
//!   ([`shell::scan`]); variables interpolate as `:name`, `:'name'`, `:"name"`
//!   ([`shell::vars`]); meta-commands ([`shell::meta`]): `\?` `\q` `\c` `\conninfo` `\x` `\t`
//!   `\a` `\pset` `\timing` `\i` `\ir` `\o` `\echo` `\qecho` `\warn` `\set` `\unset` `\g`
//!   `\gset` `\p` `\r` `\if` `\elif` `\else` `\endif`, `\copy`
//!   ([`backslash_copy`]) and the catalog listings `\l \dn \dt \di \dv \ds \df \du \d`
//!   ([`describe`]). Results print as psql prints them ([`print`](mod@print)), through a pager on a
//!   terminal ([`pager`]).
//! - `pgapi copy SRC_IRI DST_IRI TABLE [--to TABLE] [--binary]`: COPY between databases
//!   through the driver's copy manager, with progress ([`copy`]).
//! - `pgapi exc CODE…`: the SQLSTATE lookup ([`exc`]).
//! - `pgapi cluster init|start|stop|status DIR`: cluster management ([`cluster`]).
//! - Printing as psql prints (aligned, expanded, unaligned, CSV; [`mod@print`]), through the
//!   pager when the output is taller or wider than the terminal ([`pager`]).
//!
//! Errors are printed as the driver's layered report (the statement with a caret under the
//! error position), after `pgapi:FILE:LINE: ` in scripts. Exit statuses are psql's: 0; 1 for
//! a failed `-c`, a missing file or a failure of pgapi's own; 2 when connecting fails; 3 when
//! `ON_ERROR_STOP` stops a script. A panic prints one short line, never a backtrace.
#![warn(missing_docs)]

pub mod backslash_copy;
pub mod cli;
pub mod cluster;
pub mod complete;
pub mod copy;
/// psql's catalog meta-commands (`\l`, `\dn`, `\dt`, `\df`, `\du`, `\d NAME`…) as tables.
pub mod describe;
pub mod exc;
pub mod output;
pub mod pager;
pub mod print;
pub mod run;
pub mod shell;
pub mod target;

use std::fmt;
use std::io::{self, BufWriter, Write};

use pg_cluster::ClusterError;

pub use cli::{Cli, Command, Format};

/// A failure to report on standard error, with the exit status it gives.
#[derive(Debug)]
pub struct Failure {
    /// What to print (nothing for a reader that went away).
    pub report: String,
    /// The exit status.
    pub status: u8,
}

impl Failure {
    /// A failure described by a message of pgapi's own (`pgapi: …`), exit status 1.
    pub fn message(message: impl fmt::Display) -> Failure {
        Failure {
            report: format!("pgapi: {message}"),
            status: 1,
        }
    }
}

impl From<pg_exceptions::Error> for Failure {
    fn from(error: pg_exceptions::Error) -> Failure {
        // The layered report, with the statement and its caret.
        Failure {
            report: format!("{error:#}"),
            status: 1,
        }
    }
}

impl From<ClusterError> for Failure {
    fn from(error: ClusterError) -> Failure {
        match error {
            ClusterError::Database { error } => error.into(),
            other => Failure {
                report: format!("{}: {other}", other.name()),
                status: 1,
            },
        }
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Failure {
        if error.kind() == io::ErrorKind::BrokenPipe {
            // The reader of the output went away (`pgapi … | head`): nothing to say.
            return Failure {
                report: String::new(),
                status: 0,
            };
        }
        Failure::message(error)
    }
}

/// A runtime for the async driver: one thread is enough for a command-line tool.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::message(format!("could not start the async runtime: {e}")))
}

/// Runs a parsed command line and returns the process's exit status; failures are
/// reported on standard error.
pub fn main(cli: Cli) -> u8 {
    // The driver sends the server's notices to `tracing`; pgapi shows them on standard error,
    // as psql does, on every connection it makes (the startup's, `copy`'s, the session's).
    pg_driver::set_process_message_hook(Some(std::sync::Arc::new(|message| {
        eprintln!("{message}");
        true
    })));
    let mut out = BufWriter::new(io::stdout().lock());
    let result = match &cli.command {
        Some(Command::Exc(args)) => exc::run(&args.codes, &mut out),
        Some(Command::Cluster(args)) => cluster::run(&args.action, &mut out),
        Some(Command::Copy(args)) => runtime().and_then(|rt| rt.block_on(copy::run(args))),
        None => run::main(&cli.run, &mut out),
    };
    let flushed = out.flush().map_err(Failure::from);
    match result.and_then(|status| flushed.map(|()| status)) {
        Ok(status) => status,
        Err(failure) => {
            if !failure.report.is_empty() {
                eprintln!("{}", failure.report);
            }
            failure.status
        }
    }
}

/// Prints a panic as one short line on standard error, without a backtrace whatever
/// `RUST_BACKTRACE` says, in place of Rust's default report.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".to_owned());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("pgapi: internal error{place}: {what}");
    }));
}
