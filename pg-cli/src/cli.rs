//! The command line: clap definitions of `pgapi` and its subcommands.

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use pg_exceptions::obscure_password;

/// `pgapi`: run SQL, copy tables between databases, look up SQLSTATEs, manage clusters.
#[derive(Debug, Parser)]
#[command(
    name = "pgapi",
    version,
    about = "Runs SQL against PostgreSQL, copies tables between databases, looks up \
             SQLSTATE codes and manages clusters.",
    long_about = "Runs SQL against PostgreSQL, copies tables between databases, looks up \
                  SQLSTATE codes and manages clusters.\n\n\
                  Without a subcommand, pgapi runs the SQL given with -c, read from -f FILE, \
                  or read from standard input. The server is the one IRI names (pq://user@host:port/database \
                  or postgresql://…, or a `key=value` string), else the one the PG* environment \
                  (PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSERVICE) names; \
                  with neither, pgapi starts a throwaway cluster, runs there and removes it at \
                  exit (--keep DIR keeps its data in DIR instead).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// A subcommand; without one, SQL is run.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// What to run and how to print it.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copies a table from one database to another (COPY through the copy manager).
    Copy(CopyArgs),
    /// Prints the exception class of each SQLSTATE code and its ancestry.
    Exc(ExcArgs),
    /// Manages a cluster (a data directory and its server).
    Cluster(ClusterArgs),
}

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// An aligned table, the command tag or row count after it.
    #[default]
    Table,
    /// CSV with a header line; command tags go to standard error.
    Csv,
    /// One JSON object per row and line; command tags go to standard error.
    Json,
}

/// Running SQL: the default command. Its `Debug` shows the IRI's password as `***`.
#[derive(Args)]
pub struct RunArgs {
    /// The server: an IRI (pq://user@host:port/database, postgresql://…) or a key=value string.
    #[arg(value_name = "IRI")]
    pub iri: Option<String>,

    /// SQL to run (several statements separated by `;`); may be repeated.
    #[arg(
        short = 'c',
        long = "command",
        value_name = "SQL",
        conflicts_with = "file"
    )]
    pub command: Vec<String>,

    /// A file of SQL to run (`-` for standard input); may be repeated.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<PathBuf>,

    /// Prints rows as CSV (a header line, then one line per row).
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,

    /// Prints rows as JSON lines (one object per row).
    #[arg(long)]
    pub json: bool,

    /// Sets a session setting before the SQL runs (as set_config does); may be repeated.
    #[arg(short = 'v', long = "set", value_name = "NAME=VALUE", value_parser = parse_setting)]
    pub settings: Vec<(String, String)>,

    /// Runs on a cluster kept in DIR instead of a throwaway one: initialised when DIR is
    /// not yet a cluster, started for the run, stopped at exit with its data left in DIR.
    #[arg(long, value_name = "DIR", conflicts_with = "iri")]
    pub keep: Option<PathBuf>,
}

impl RunArgs {
    /// The output format chosen by `--csv` / `--json`.
    pub fn format(&self) -> Format {
        if self.csv {
            Format::Csv
        } else if self.json {
            Format::Json
        } else {
            Format::Table
        }
    }
}

impl fmt::Debug for RunArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunArgs")
            .field("iri", &self.iri.as_deref().map(obscure_password))
            .field("command", &self.command)
            .field("file", &self.file)
            .field("csv", &self.csv)
            .field("json", &self.json)
            .field("settings", &self.settings)
            .field("keep", &self.keep)
            .finish()
    }
}

impl fmt::Debug for CopyArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyArgs")
            .field("source", &obscure_password(&self.source))
            .field("destination", &obscure_password(&self.destination))
            .field("table", &self.table)
            .field("to", &self.to)
            .field("binary", &self.binary)
            .finish()
    }
}

/// Parses `name=value` (the value may be empty or contain `=`).
pub fn parse_setting(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

/// `pgapi copy`. Its `Debug` shows the IRIs' passwords as `***`.
#[derive(Args)]
pub struct CopyArgs {
    /// The source database's IRI.
    #[arg(value_name = "SRC_IRI")]
    pub source: String,
    /// The destination database's IRI.
    #[arg(value_name = "DST_IRI")]
    pub destination: String,
    /// The table to copy, optionally schema-qualified (`schema.table`, `"Mixed Case"`).
    #[arg(value_name = "TABLE")]
    pub table: String,
    /// The destination table, when its name differs.
    #[arg(long = "to", value_name = "TABLE")]
    pub to: Option<String>,
    /// Uses PostgreSQL's binary COPY format instead of text.
    #[arg(long)]
    pub binary: bool,
}

/// `pgapi exc`.
#[derive(Debug, Args)]
pub struct ExcArgs {
    /// SQLSTATE codes, such as 23505; prints `UniqueError [23505] < ICVError < Error`.
    #[arg(value_name = "CODE", required = true)]
    pub codes: Vec<String>,
}

/// `pgapi cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ClusterAction,
}

/// The cluster actions.
#[derive(Debug, Subcommand)]
pub enum ClusterAction {
    /// Creates a cluster in DIR (initdb, trust authentication, listening on 127.0.0.1).
    Init {
        /// The data directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The port to listen on (default: one free now).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Starts the cluster's server and waits until it accepts connections.
    Start {
        /// The data directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Listens on this port instead of the configured one.
        #[arg(long)]
        port: Option<u16>,
    },
    /// Stops the cluster's server (fast shutdown) and waits until it is gone.
    Stop {
        /// The data directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Prints whether the server runs, its pid and address (exit status 3 when stopped).
    Status {
        /// The data directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_settings_and_formats() {
        let cli = Cli::try_parse_from([
            "pgapi", "pq://h/d", "-c", "select 1", "--csv", "-v", "a=b=c", "-v", "x=",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.iri.as_deref(), Some("pq://h/d"));
        assert_eq!(cli.run.format(), Format::Csv);
        assert_eq!(
            cli.run.settings,
            [("a".into(), "b=c".into()), ("x".into(), String::new())]
        );
        assert!(Cli::try_parse_from(["pgapi", "-v", "novalue"]).is_err());
        assert!(Cli::try_parse_from(["pgapi", "--csv", "--json"]).is_err());
        assert!(Cli::try_parse_from(["pgapi", "pq://h/d", "--keep", "dir"]).is_err());
    }

    #[test]
    fn parses_subcommands() {
        let cli = Cli::try_parse_from(["pgapi", "copy", "pq://a/x", "pq://b/y", "t", "--binary"])
            .unwrap();
        match cli.command {
            Some(Command::Copy(copy)) => {
                assert_eq!(copy.table, "t");
                assert!(copy.binary);
                assert_eq!(copy.to, None);
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(["pgapi", "cluster", "status", "/d"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Cluster(ClusterArgs {
                action: ClusterAction::Status { .. }
            }))
        ));
        assert!(Cli::try_parse_from(["pgapi", "exc"]).is_err());
    }

    /// Finding 11: the IRIs on the command line may carry a password; Debug hides it.
    #[test]
    fn debug_hides_passwords() {
        let run = Cli::try_parse_from(["pgapi", "postgresql://u:Pw-7Zq%21s3cr3t@h/d", "-c", "x"])
            .unwrap();
        let copy = Cli::try_parse_from([
            "pgapi",
            "copy",
            "pq://u:Pw-7Zq%21s3cr3t@a/x",
            "host=b password=Pw-7Zq!s3cr3t",
            "t",
        ])
        .unwrap();
        for shown in [
            format!("{run:?}"),
            format!("{run:#?}"),
            format!("{copy:?}"),
            format!("{copy:#?}"),
        ] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
        assert_eq!(
            run.run.iri.as_deref(),
            Some("postgresql://u:Pw-7Zq%21s3cr3t@h/d")
        );
    }
}
