//! The command line: clap definitions of `pgapi` and its subcommands.

use std::fmt;
use std::path::PathBuf;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use pg_exceptions::obscure_password;

/// `pgapi`: run SQL, copy tables between databases, look up SQLSTATEs, manage clusters.
#[derive(Debug, Parser)]
#[command(
    name = "pgapi",
    version,
    disable_help_flag = true,
    about = "An interactive PostgreSQL shell with psql's options; also copies tables between \
             databases, looks up SQLSTATE codes and manages clusters.",
    long_about = "An interactive PostgreSQL shell with psql's options; also copies tables \
                  between databases, looks up SQLSTATE codes and manages clusters.\n\n\
                  Without a subcommand, pgapi runs the commands given with -c and the files \
                  given with -f, in order; else, on a terminal, it shows a prompt; else it \
                  reads SQL and meta-commands from standard input. The server is the one \
                  DBNAME names (a database name, an IRI such as pq://user@host:port/database \
                  or postgresql://…, or a `key=value` string) with -h, -p, -U and -d over it, \
                  else the one the PG* environment (PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, \
                  PGUSER, PGPASSWORD, PGSERVICE) names; with none of them, pgapi starts a \
                  throwaway cluster, runs there and removes it at exit (--keep DIR keeps its \
                  data in DIR instead). Type \\? at the prompt for the meta-commands.",
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

impl Cli {
    /// Parses the process's arguments (exiting with clap's message and psql's status 1 on
    /// a mistake), keeping the order of `-c` and `-f` in [`RunArgs::actions`].
    pub fn parse_ordered() -> Cli {
        match Cli::try_parse_ordered(std::env::args_os()) {
            Ok(cli) => cli,
            // psql's status for a bad option is 1 (clap's 2 is psql's failed connection);
            // the help and the version keep 0.
            Err(error) if error.use_stderr() => {
                let _ = error.print();
                std::process::exit(1)
            }
            Err(error) => error.exit(),
        }
    }

    /// The clap command: `-h` is psql's host, `-?` the help; the subcommands keep their
    /// `-h`/`--help` (clap passes the root's disabled help flag down to them).
    pub fn command_line() -> clap::Command {
        fn with_help(command: clap::Command) -> clap::Command {
            command.mut_subcommands(|sub| {
                with_help(sub).arg(
                    clap::Arg::new("help")
                        .short('h')
                        .long("help")
                        .action(ArgAction::Help)
                        .help("Print help"),
                )
            })
        }
        with_help(Cli::command())
    }

    /// [`Cli::parse_ordered`] over the given arguments (the first is the program's name).
    pub fn try_parse_ordered<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Cli::command_line().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        let mut actions: Vec<(usize, Action)> = Vec::new();
        if let (Some(indices), Some(values)) = (
            matches.indices_of("command"),
            matches.get_many::<String>("command"),
        ) {
            actions.extend(
                indices
                    .zip(values)
                    .map(|(i, v)| (i, Action::Command(v.clone()))),
            );
        }
        if let (Some(indices), Some(values)) = (
            matches.indices_of("file"),
            matches.get_many::<PathBuf>("file"),
        ) {
            actions.extend(
                indices
                    .zip(values)
                    .map(|(i, v)| (i, Action::File(v.clone()))),
            );
        }
        actions.sort_by_key(|(index, _)| *index);
        cli.run.actions = actions.into_iter().map(|(_, action)| action).collect();
        Ok(cli)
    }
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
    /// psql's aligned table, the command tag or row count after it.
    #[default]
    Table,
    /// CSV with a header line; command tags go to standard error.
    Csv,
    /// One JSON object per row and line; command tags go to standard error.
    Json,
}

/// A `-c` or `-f` of the command line, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `-c COMMAND`: SQL or one meta-command.
    Command(String),
    /// `-f FILE` (`-` is standard input).
    File(PathBuf),
}

/// Running SQL: the default command, with psql's options. Its `Debug` shows the IRI's
/// password as `***`.
#[derive(Args)]
pub struct RunArgs {
    /// The database to connect to: a name, an IRI (pq://user@host:port/database,
    /// postgresql://…) or a key=value string.
    #[arg(value_name = "DBNAME")]
    pub dbname_arg: Option<String>,

    /// The user to connect as (as -U).
    #[arg(value_name = "USERNAME")]
    pub username_arg: Option<String>,

    /// The database server's host or socket directory.
    #[arg(short = 'h', long = "host", value_name = "HOSTNAME")]
    pub host: Option<String>,

    /// The database server's port.
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,

    /// The user to connect as.
    #[arg(short = 'U', long = "username", value_name = "USERNAME")]
    pub username: Option<String>,

    /// The database to connect to (a name, an IRI or a key=value string).
    #[arg(short = 'd', long = "dbname", value_name = "DBNAME")]
    pub dbname: Option<String>,

    /// Asks for a password before connecting.
    #[arg(short = 'W', long = "password", conflicts_with = "no_password")]
    pub password: bool,

    /// Never asks for a password.
    #[arg(short = 'w', long = "no-password")]
    pub no_password: bool,

    /// Runs one command (SQL, or one meta-command) and exits; may be repeated and mixed
    /// with -f, run in order.
    #[arg(
        short = 'c',
        long = "command",
        value_name = "COMMAND",
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,

    /// Runs the commands of a file (`-` for standard input) and exits; may be repeated.
    #[arg(short = 'f', long = "file", value_name = "FILENAME")]
    pub file: Vec<PathBuf>,

    /// Lists the databases (as \l) and exits.
    #[arg(short = 'l', long = "list")]
    pub list: bool,

    /// Sets a psql variable (as \set NAME VALUE), such as ON_ERROR_STOP=1.
    #[arg(short = 'v', long = "variable", visible_alias = "set", value_name = "NAME=VALUE",
          value_parser = parse_variable)]
    pub variables: Vec<(String, String)>,

    /// Sets a session setting before the SQL runs (as set_config does); may be repeated.
    #[arg(long = "setting", value_name = "NAME=VALUE", value_parser = parse_setting)]
    pub settings: Vec<(String, String)>,

    /// Runs quietly: no command tags, no banner.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Prints rows only (no header, no row count).
    #[arg(short = 't', long = "tuples-only")]
    pub tuples_only: bool,

    /// Prints psql's unaligned format.
    #[arg(short = 'A', long = "no-align")]
    pub no_align: bool,

    /// The unaligned format's field separator (`|` by default).
    #[arg(
        short = 'F',
        long = "field-separator",
        value_name = "STRING",
        allow_hyphen_values = true
    )]
    pub field_separator: Option<String>,

    /// The unaligned format's record separator (a line break by default).
    #[arg(
        short = 'R',
        long = "record-separator",
        value_name = "STRING",
        allow_hyphen_values = true
    )]
    pub record_separator: Option<String>,

    /// Expanded display (as \x on).
    #[arg(short = 'x', long = "expanded")]
    pub expanded: bool,

    /// Accepted for psql's sake: pgapi reads no startup file.
    #[arg(short = 'X', long = "no-psqlrc")]
    pub no_psqlrc: bool,

    /// Runs the -c and -f commands as a single transaction.
    #[arg(short = '1', long = "single-transaction")]
    pub single_transaction: bool,

    /// Prints rows as CSV (a header line, then one line per row).
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,

    /// Prints rows as JSON lines (one object per row).
    #[arg(long)]
    pub json: bool,

    /// Sends the results to a file (as \o FILENAME).
    #[arg(short = 'o', long = "output", value_name = "FILENAME")]
    pub output: Option<PathBuf>,

    /// Sets a printing option (as \pset NAME VALUE); may be repeated.
    #[arg(short = 'P', long = "pset", value_name = "NAME=VALUE", value_parser = parse_variable)]
    pub pset: Vec<(String, String)>,

    /// Echoes every input line (ECHO=all).
    #[arg(short = 'a', long = "echo-all")]
    pub echo_all: bool,

    /// Echoes the statements sent to the server (ECHO=queries).
    #[arg(short = 'e', long = "echo-queries")]
    pub echo_queries: bool,

    /// Prints this help.
    #[arg(short = '?', long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,

    /// Runs on a cluster kept in DIR instead of a throwaway one: initialised when DIR is
    /// not yet a cluster, started for the run, stopped at exit with its data left in DIR.
    #[arg(long, value_name = "DIR",
          conflicts_with_all = ["dbname_arg", "host", "port", "username", "dbname"])]
    pub keep: Option<PathBuf>,

    /// The `-c` and `-f` in the order given (filled by [`Cli::try_parse_ordered`]; when
    /// empty, the `-c` then the `-f`).
    #[arg(skip)]
    pub actions: Vec<Action>,
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

    /// The `-c` and `-f` to run, in order (`-l` is `\l`).
    pub fn ordered_actions(&self) -> Vec<Action> {
        if self.list {
            return vec![Action::Command("\\l".to_owned())];
        }
        if !self.actions.is_empty() {
            return self.actions.clone();
        }
        let commands = self.command.iter().cloned().map(Action::Command);
        commands
            .chain(self.file.iter().cloned().map(Action::File))
            .collect()
    }

    /// The database argument: `-d`, else the first positional one.
    pub fn database(&self) -> Option<&str> {
        self.dbname.as_deref().or(self.dbname_arg.as_deref())
    }

    /// The user: `-U`, else the second positional argument.
    pub fn user(&self) -> Option<&str> {
        self.username.as_deref().or(self.username_arg.as_deref())
    }
}

impl fmt::Debug for RunArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunArgs")
            .field(
                "dbname_arg",
                &self.dbname_arg.as_deref().map(obscure_password),
            )
            .field("username_arg", &self.username_arg)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("dbname", &self.dbname.as_deref().map(obscure_password))
            .field("actions", &self.ordered_actions())
            .field("variables", &self.variables)
            .field("settings", &self.settings)
            .field("csv", &self.csv)
            .field("json", &self.json)
            .field("keep", &self.keep)
            .finish_non_exhaustive()
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

/// Parses psql's `-v NAME=VALUE` (or `NAME` alone, set to the empty string).
pub fn parse_variable(text: &str) -> Result<(String, String), String> {
    let name = text.split_once('=').map_or(text, |(name, _)| name).trim();
    if !name.is_empty() && !crate::shell::vars::valid_name(name) {
        return Err(format!("invalid variable name: {name:?}"));
    }
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        None if !text.trim().is_empty() => Ok((text.trim().to_owned(), String::new())),
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

    #[test]
    fn definitions_are_consistent() {
        Cli::command_line().debug_assert();
    }

    #[test]
    fn parses_psql_options() {
        let cli = Cli::try_parse_ordered([
            "pgapi",
            "pq://h/d",
            "-c",
            "select 1",
            "--csv",
            "--setting",
            "a=b=c",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            "x.sql",
            "-c",
            "select 2",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-p",
            "5433",
            "-1",
            "-A",
            "-t",
            "-F",
            ",",
            "-X",
            "-v",
            "flag",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.database(), Some("pq://h/d"));
        assert_eq!(cli.run.format(), Format::Csv);
        assert_eq!(cli.run.settings, [("a".into(), "b=c".into())]);
        assert_eq!(
            cli.run.variables,
            [
                ("ON_ERROR_STOP".into(), "1".into()),
                ("flag".into(), String::new())
            ]
        );
        assert_eq!(
            cli.run.ordered_actions(),
            [
                Action::Command("select 1".into()),
                Action::File("x.sql".into()),
                Action::Command("select 2".into())
            ]
        );
        assert_eq!(cli.run.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(cli.run.user(), Some("postgres"));
        assert_eq!(cli.run.port, Some(5433));
        assert!(cli.run.single_transaction && cli.run.no_align && cli.run.tuples_only);
        assert_eq!(cli.run.field_separator.as_deref(), Some(","));
        let cli = Cli::try_parse_ordered(["pgapi", "db", "me"]).unwrap();
        assert_eq!(
            (cli.run.database(), cli.run.user()),
            (Some("db"), Some("me"))
        );
        assert!(Cli::try_parse_ordered(["pgapi", "--setting", "novalue"]).is_err());
        assert!(Cli::try_parse_ordered(["pgapi", "--csv", "--json"]).is_err());
        assert!(Cli::try_parse_ordered(["pgapi", "pq://h/d", "--keep", "dir"]).is_err());
        assert!(Cli::try_parse_ordered(["pgapi", "-h", "h", "--keep", "dir"]).is_err());
        let help = Cli::try_parse_ordered(["pgapi", "-?"]).unwrap_err();
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
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
            run.run.database(),
            Some("postgresql://u:Pw-7Zq%21s3cr3t@h/d")
        );
    }
}
