//! The shell: one line-fed engine for scripts (`-f`, `-c`, standard input) and the
//! interactive prompt ([`interactive`]). Lines go through the query buffer ([`scan`]);
//! statements run on the server and their results print through [`crate::print::render`];
//! meta-commands ([`meta`]) run in the client; variables ([`vars`]) are interpolated.

pub mod interactive;
pub mod meta;
pub mod scan;
pub mod vars;

use std::fs::File;
use std::future::Future;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::FutureExt;
use pg_driver::{Connection, Connector, TransactionStatus};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::complete::Catalog;
use crate::copy::{self, CopyKind};
use crate::print::{self, Layout, Settings};
use crate::{Failure, output, pager};
use scan::{Piece, Scanner};
use vars::Vars;

/// How deep `\i` may nest files: a file that includes itself stops there with an error,
/// well before each level's stack would overflow the main thread's.
pub const MAX_FILE_DEPTH: usize = 32;

/// Where a line comes from, for error reports (`pgapi:FILE:LINE: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A `-c` command: no place in reports.
    Command,
    /// The interactive prompt: no place in reports.
    Prompt,
    /// A file (`<stdin>` for standard input).
    File(PathBuf),
}

impl Source {
    /// `pgapi:FILE:LINE: ` for a file, else nothing.
    pub fn prefix(&self, line: usize) -> String {
        match self {
            Source::File(path) => format!("pgapi:{}:{line}: ", path.display()),
            Source::Command | Source::Prompt => String::new(),
        }
    }
}

/// What to do after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next line.
    Continue,
    /// `\q`: stop everything, exit 0.
    Quit,
    /// An error under ON_ERROR_STOP (or a lost connection): stop everything.
    Stop,
}

/// The session: the connection, the variables, the printing settings and where output goes.
pub struct Session<'o> {
    /// The connection.
    pub db: Connection,
    /// psql's variables.
    pub vars: Vars,
    /// The printing settings (`\pset`).
    pub settings: Settings,
    /// Whether `\timing` is on.
    pub timing: bool,
    /// Whether the prompt drives the session (Ctrl-C cancels the running statement).
    pub interactive: bool,
    /// Whether standard input holds the script (so `COPY … FROM STDIN` has no data).
    pub stdin_is_script: bool,
    /// The names tab completion offers, refreshed after DDL and `\c`.
    pub catalog: Arc<Mutex<Catalog>>,
    /// Whether an error happened (for `-c`'s exit status, see [`Session::run_command`]).
    pub failed: bool,
    /// The exit status an error that stopped the run asks for (3, or 2 for a lost
    /// connection).
    pub stop_status: u8,
    /// Ctrl-C, once [`Session::watch_interrupts`] has taken it over.
    interrupts: Option<Arc<tokio::sync::Mutex<Signal>>>,
    /// Whether Ctrl-C cancelled a statement (a script stops then).
    interrupted: Arc<AtomicBool>,
    /// Whether the catalog should be read again (after DDL).
    catalog_stale: bool,
    stdout: &'o mut dyn Write,
    /// `\o FILE` or `\o |COMMAND`: where results go instead of standard output.
    redirect: Option<Output>,
    stdout_terminal: bool,
    last_query: Option<String>,
    /// The files being read (`-f`, `\i`), innermost last, for `\ir`.
    files: Vec<PathBuf>,
}

/// A meta-command's or a statement's failure.
type Outcome = Result<(), Failure>;

impl<'o> Session<'o> {
    /// A session on `db` printing to `stdout`.
    pub fn new(db: Connection, stdout: &'o mut dyn Write) -> Session<'o> {
        let mut session = Session {
            db,
            vars: Vars::default(),
            settings: Settings::default(),
            timing: false,
            interactive: false,
            stdin_is_script: false,
            catalog: Arc::new(Mutex::new(Catalog::default())),
            failed: false,
            stop_status: 3,
            interrupts: None,
            interrupted: Arc::new(AtomicBool::new(false)),
            catalog_stale: true,
            stdout,
            redirect: None,
            stdout_terminal: io::stdout().is_terminal(),
            last_query: None,
            files: Vec::new(),
        };
        session.connected();
        session
    }

    /// Sets the variables that describe the connection (DBNAME, USER, HOST, PORT, …) and
    /// the connection's notice hook.
    pub fn connected(&mut self) {
        self.db.set_message_hook(Some(Arc::new(|message| {
            eprintln!("{message}");
            true
        })));
        let params = self.db.connector().params().clone();
        self.vars.set("DBNAME", params.database());
        self.vars.set("USER", params.user());
        if let Some(host) = params.hosts().first() {
            let (name, port) = match host {
                pg_driver::params::Host::Tcp { host, port, .. } => (host.clone(), *port),
                pg_driver::params::Host::Unix { path, port } => (path.display().to_string(), *port),
            };
            self.vars.set("HOST", &name);
            self.vars.set("PORT", &port.to_string());
        }
        if let Some(version) = self.db.parameter_status("server_version") {
            self.vars.set("SERVER_VERSION_NAME", &version);
        }
        if let Some(encoding) = self.db.parameter_status("client_encoding") {
            self.vars.set("ENCODING", &encoding);
        }
        self.catalog_stale = true;
    }

    /// Whether the current user is a superuser (the prompt's `#`).
    pub fn superuser(&self) -> bool {
        self.db.parameter_status("is_superuser").as_deref() == Some("on")
    }

    /// Whether QUIET is set.
    pub fn quiet(&self) -> bool {
        self.vars.flag("QUIET")
    }

    /// psql's prompt: `db=> `, `db=# ` for a superuser, `*` inside a transaction block,
    /// `!` in a failed one; continuation lines show the scanner's marker in place of `=`.
    pub fn prompt(&self, scanner: &Scanner) -> String {
        let database = self.vars.get("DBNAME").unwrap_or("");
        // psql's `@`: in a branch of an `\if` that does not run.
        let state = if scanner.is_empty() {
            if scanner.active() { '=' } else { '@' }
        } else {
            scanner.marker()
        };
        let transaction = match self.db.transaction_status() {
            TransactionStatus::Idle => "",
            TransactionStatus::InTransaction => "*",
            TransactionStatus::Failed => "!",
        };
        let sign = if self.superuser() { '#' } else { '>' };
        format!("{database}{state}{transaction}{sign} ")
    }

    /// Reads the catalog again for completion, when DDL or `\c` made it stale; never inside
    /// the user's transaction block, where a failing catalog query would fail the block
    /// (the names are read once the block has ended).
    pub async fn refresh_catalog(&mut self) {
        if !self.catalog_stale || self.db.transaction_status() != TransactionStatus::Idle {
            return;
        }
        self.catalog_stale = false;
        if let (Ok(catalog), Ok(mut shared)) =
            (crate::complete::load(&self.db).await, self.catalog.lock())
        {
            *shared = catalog;
        }
    }

    /// Where results go: the `\o` file, else standard output.
    fn out(&mut self) -> &mut dyn Write {
        match &mut self.redirect {
            Some(file) => file,
            None => self.stdout,
        }
    }

    /// Writes a result's text, through the pager when it goes to a terminal.
    fn emit(&mut self, text: &str) -> io::Result<()> {
        if self.redirect.is_none() && self.stdout_terminal {
            self.stdout.flush()?;
            let settings = self.settings.clone();
            pager::show(text, &settings, self.stdout, true)
        } else {
            self.out().write_all(text.as_bytes())
        }
    }

    /// Writes a message line (psql's `Expanded display is on.`), unless QUIET.
    fn say(&mut self, message: &str) -> io::Result<()> {
        if !self.quiet() {
            writeln!(self.out(), "{message}")?;
        }
        Ok(())
    }

    /// Flushes the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out().flush()?;
        self.stdout.flush()
    }

    /// Runs one `-c` command: its statements in order, stopping at the first error (as the
    /// server does for psql's one query string); a meta-command runs as such. Several
    /// statements and no meta-command are one transaction, as the server makes psql's one
    /// query string: unless the statements begin or end a transaction themselves.
    /// Afterwards [`Session::failed`] tells whether it failed.
    pub async fn run_command(&mut self, text: &str) -> Flow {
        let mut scanner = Scanner::new();
        self.failed = false;
        let wrap = self.one_transaction(text);
        if wrap && let Err(error) = self.db.execute("BEGIN").await {
            return self.failure(error.into(), 0, &Source::Command);
        }
        let mut flow = self.run_command_lines(&mut scanner, text).await;
        if wrap && !self.db.closed() {
            let end = match self.db.transaction_status() {
                TransactionStatus::Idle => None,
                TransactionStatus::InTransaction if !self.failed => Some("COMMIT"),
                _ => Some("ROLLBACK"),
            };
            if let Some(end) = end
                && let Err(error) = self.db.execute(end).await
                && flow == Flow::Continue
            {
                flow = self.failure(error.into(), 0, &Source::Command);
            }
        }
        if self.failed && flow == Flow::Continue && self.vars.flag("ON_ERROR_STOP") {
            return Flow::Stop;
        }
        flow
    }

    /// Whether a `-c` string runs as one transaction, as the server runs psql's one query
    /// string in an implicit transaction: outside a transaction block, several statements,
    /// no meta-command, and none that begins or ends a transaction itself (the server's
    /// implicit block gives way to those).
    fn one_transaction(&self, text: &str) -> bool {
        if self.db.transaction_status() != TransactionStatus::Idle {
            return false;
        }
        let mut scanner = Scanner::new();
        let mut statements = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let mut pieces = scanner.feed(line, index + 1, &self.vars);
            loop {
                for piece in pieces {
                    match piece {
                        Piece::Statement { sql, .. } => statements.push(sql),
                        Piece::Meta(_) => return false,
                    }
                }
                match scanner.resume(index + 1, &self.vars) {
                    Some(more) => pieces = more,
                    None => break,
                }
            }
        }
        statements.extend(scanner.take().map(|(sql, _)| sql));
        statements.len() > 1 && !statements.iter().any(|sql| controls_transaction(sql))
    }

    /// The lines of a `-c` string, up to the first error.
    async fn run_command_lines(&mut self, scanner: &mut Scanner, text: &str) -> Flow {
        for (index, line) in text.lines().enumerate() {
            let flow = self.feed(scanner, line, index + 1, &Source::Command).await;
            if flow != Flow::Continue || self.failed {
                return flow;
            }
        }
        let last = text.lines().count();
        self.finish(scanner, last, &Source::Command).await
    }

    /// Runs the lines of a script (a file, `\i`, standard input) through a query buffer of
    /// their own; what is left in the buffer at the end runs too.
    pub async fn run_lines(
        &mut self,
        lines: impl Iterator<Item = io::Result<String>>,
        source: &Source,
    ) -> Flow {
        let mut scanner = Scanner::new();
        let mut lines = lines;
        let mut number = 0;
        while let Some(line) = lines.next() {
            number += 1;
            let mut line = match line {
                Ok(line) => line,
                Err(e) => {
                    eprintln!("pgapi: cannot read: {e}");
                    self.failed = true;
                    return Flow::Stop;
                }
            };
            // A UTF-8 byte order mark before the first line is no SQL (psql skips it).
            if number == 1 && line.starts_with('\u{feff}') {
                line.drain(..'\u{feff}'.len_utf8());
            }
            // Ctrl-C between statements stops the script too (psql's).
            if self.stopped_by_interrupt(source).await {
                return Flow::Stop;
            }
            let start = number;
            let mut inline = Inline {
                lines: &mut lines,
                number: &mut number,
            };
            let flow = self
                .feed_inline(&mut scanner, &line, start, source, Some(&mut inline))
                .await;
            if flow != Flow::Continue {
                return flow;
            }
        }
        self.finish(&mut scanner, number, source).await
    }

    /// Runs a file (`-f`, `\i`); a file that cannot be read is an error, and so is one
    /// nested deeper than [`MAX_FILE_DEPTH`] (a file that includes itself).
    pub async fn run_file(&mut self, path: &Path) -> Result<Flow, Failure> {
        if self.files.len() >= MAX_FILE_DEPTH {
            return Err(Failure::message(format!(
                "{}: too deeply nested (more than {MAX_FILE_DEPTH} files read by \\i)",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::message(format!("{}: {e}", path.display())))?;
        self.files.push(path.to_owned());
        let lines = text.lines().map(|l| Ok(l.to_owned())).collect::<Vec<_>>();
        let flow =
            Box::pin(self.run_lines(lines.into_iter(), &Source::File(path.to_owned()))).await;
        self.files.pop();
        Ok(flow)
    }

    /// At the end of a script (its last line `line`): runs what is left in the buffer; an
    /// `\if` left open is an error.
    pub async fn finish(&mut self, scanner: &mut Scanner, line: usize, source: &Source) -> Flow {
        if scanner.in_conditional() {
            let failure = Failure::message("reached EOF without finding closing \\endif(s)");
            let flow = self.failure(failure, line, source);
            if !scanner.active() || flow != Flow::Continue {
                return flow;
            }
        }
        match scanner.take() {
            Some((sql, line)) => self.statement(&sql, line, source, None).await,
            None => Flow::Continue,
        }
    }

    /// Feeds one line: runs the statements it completes and its meta-command.
    pub async fn feed(
        &mut self,
        scanner: &mut Scanner,
        line: &str,
        number: usize,
        source: &Source,
    ) -> Flow {
        self.feed_inline(scanner, line, number, source, None).await
    }

    /// [`Session::feed`], the lines after it being the data of a `COPY … FROM STDIN` it
    /// runs (up to `\.`), as psql reads them from a script.
    pub async fn feed_inline(
        &mut self,
        scanner: &mut Scanner,
        line: &str,
        number: usize,
        source: &Source,
        mut inline: Option<&mut Inline<'_>>,
    ) -> Flow {
        if self.vars.get("ECHO") == Some("all") && source != &Source::Prompt {
            let _ = writeln!(self.out(), "{line}");
        }
        // Variables are not interpolated in a branch that does not run (psql).
        let none = Vars::default();
        let mut pieces = match scanner.active() {
            true => scanner.feed(line, number, &self.vars),
            false => scanner.feed(line, number, &none),
        };
        loop {
            let flow = self
                .run_pieces(scanner, pieces, number, source, inline.as_deref_mut())
                .await;
            if flow != Flow::Continue {
                return flow;
            }
            // The rest of the line after a meta-command, scanned once it has run.
            let more = match scanner.active() {
                true => scanner.resume(number, &self.vars),
                false => scanner.resume(number, &none),
            };
            match more {
                Some(more) => pieces = more,
                None => return Flow::Continue,
            }
        }
    }

    /// Runs the statements and the meta-command a line gave.
    async fn run_pieces(
        &mut self,
        scanner: &mut Scanner,
        pieces: Vec<Piece>,
        number: usize,
        source: &Source,
        mut inline: Option<&mut Inline<'_>>,
    ) -> Flow {
        for piece in pieces {
            let flow = match piece {
                // psql's FILE:LINE names the line that ended the statement (its `;`).
                // In a branch that does not run, statements are skipped.
                Piece::Statement { .. } if !scanner.active() => {
                    if source == &Source::Prompt {
                        eprintln!(
                            "query ignored; use \\endif or Ctrl-C to exit current \\if block"
                        );
                    }
                    Flow::Continue
                }
                Piece::Statement { sql, .. } => {
                    self.statement(&sql, number, source, inline.as_deref_mut())
                        .await
                }
                Piece::Meta(text) => match self.conditional(scanner, &text) {
                    Some(Ok(())) => Flow::Continue,
                    Some(Err(failure)) => self.failure(failure, number, source),
                    // In a branch that does not run, other meta-commands are skipped.
                    None if !scanner.active() => Flow::Continue,
                    None => {
                        let result = Box::pin(meta::run(
                            self,
                            scanner,
                            &text,
                            source,
                            inline.as_deref_mut(),
                        ))
                        .await;
                        match result {
                            Ok(flow) => flow,
                            Err(failure) => self.failure(failure, number, source),
                        }
                    }
                },
            };
            if flow != Flow::Continue {
                return flow;
            }
        }
        Flow::Continue
    }

    /// `\if`, `\elif`, `\else`, `\endif` (see [`Scanner::conditional`]); `None` for
    /// another meta-command. The expression is the arguments, interpolated, read as a
    /// boolean (psql's words: `on`, `true`, `1`, …).
    fn conditional(&self, scanner: &mut Scanner, text: &str) -> Option<Result<(), Failure>> {
        let text = text.trim_end();
        let name_end = text.find(char::is_whitespace).unwrap_or(text.len());
        let (name, rest) = text.split_at(name_end);
        let truth = || {
            let expression = meta::arguments(rest.trim_start(), &self.vars).join(" ");
            vars::parse_bool(&expression).ok_or_else(|| {
                format!("unrecognized value \"{expression}\" for \"\\{name} expression\": Boolean expected")
            })
        };
        scanner
            .conditional(name, truth)
            .map(|result| result.map_err(Failure::message))
    }

    /// Runs one statement, reporting its error; `inline` has the data of a
    /// `COPY … FROM STDIN`.
    pub async fn statement(
        &mut self,
        sql: &str,
        line: usize,
        source: &Source,
        inline: Option<&mut Inline<'_>>,
    ) -> Flow {
        self.last_query = Some(sql.to_owned());
        if matches!(self.vars.get("ECHO"), Some("queries")) {
            let _ = writeln!(self.out(), "{sql}");
        }
        if self.stopped_by_interrupt(source).await {
            return Flow::Stop;
        }
        self.interrupted.store(false, Ordering::Relaxed);
        let started = Instant::now();
        let result = self.run_sql(sql, inline).await;
        let flushed = self.out().flush();
        match result.and(flushed.map_err(Failure::from)) {
            Ok(()) => {
                if self.timing {
                    let timing = timing(started.elapsed());
                    let _ = writeln!(self.out(), "{timing}");
                }
                Flow::Continue
            }
            Err(failure) => self.failure(failure, line, source),
        }
    }

    /// Reports a failure (with the script's `FILE:LINE`); says whether to go on.
    pub fn failure(&mut self, failure: Failure, line: usize, source: &Source) -> Flow {
        let _ = self.flush();
        self.failed = true;
        if !failure.report.is_empty() {
            let prefix = source.prefix(line);
            let report = match prefix.is_empty() {
                true => failure.report.as_str(),
                // pgapi's own messages: `pgapi:FILE:LINE: message`.
                false => failure
                    .report
                    .strip_prefix("pgapi: ")
                    .unwrap_or(&failure.report),
            };
            eprintln!("{prefix}{report}");
        }
        if self.db.closed() && !self.interactive {
            eprintln!("pgapi: the connection to the server was lost");
            self.stop_status = 2;
            return Flow::Stop;
        }
        if failure.status == 2 && !self.interactive {
            // A `\connect` that failed in a script.
            self.stop_status = 2;
            return Flow::Stop;
        }
        let interrupted = self.interrupted.swap(false, Ordering::Relaxed);
        if source != &Source::Prompt && (interrupted || self.vars.flag("ON_ERROR_STOP")) {
            // psql stops a script on Ctrl-C too.
            self.stop_status = 3;
            return Flow::Stop;
        }
        Flow::Continue
    }

    /// Takes Ctrl-C over (within the runtime): from now on it cancels the running statement
    /// on the server (see [`Guard::run`]) instead of killing pgapi; a script then stops.
    pub fn watch_interrupts(&mut self) -> Outcome {
        let interrupts = signal(SignalKind::interrupt())
            .map_err(|e| Failure::message(format!("cannot watch Ctrl-C: {e}")))?;
        self.interrupts = Some(Arc::new(tokio::sync::Mutex::new(interrupts)));
        Ok(())
    }

    /// Whether Ctrl-C arrived since the last look (a pending one counts in a script, also
    /// one `\i` reads at the prompt; a line typed at the prompt drops one pressed while a
    /// result printed).
    async fn take_interrupt(&self, source: &Source) -> bool {
        let Some(interrupts) = &self.interrupts else {
            return false;
        };
        let mut interrupts = interrupts.lock().await;
        let mut pending = false;
        while interrupts.recv().now_or_never().is_some() {
            pending = true;
        }
        pending && (!self.interactive || source != &Source::Prompt)
    }

    /// Whether a Ctrl-C since the last look stops the script `source` (see
    /// [`Session::take_interrupt`]); says so.
    async fn stopped_by_interrupt(&mut self, source: &Source) -> bool {
        if !self.take_interrupt(source).await {
            return false;
        }
        self.interrupted.store(true, Ordering::Relaxed);
        eprintln!("pgapi: interrupted");
        self.stop_status = 3;
        true
    }

    /// What makes a statement cancellable by Ctrl-C (see [`Guard::run`]).
    pub fn guard(&self) -> Guard {
        Guard {
            cancel: self
                .interrupts
                .clone()
                .map(|interrupts| (self.db.cancel_handle(), interrupts)),
            interrupted: self.interrupted.clone(),
        }
    }

    /// Runs SQL and prints its result.
    async fn run_sql(&mut self, sql: &str, inline: Option<&mut Inline<'_>>) -> Outcome {
        let statement = self.guard().run(self.db.prepare(sql)).await?;
        let columns = statement.columns().clone();
        let quiet = self.quiet();
        let csv_like = matches!(self.settings.layout, Layout::Csv | Layout::Json);
        let tag = if columns.is_empty() {
            match copy::kind(statement.string()) {
                CopyKind::Out => {
                    let guard = self.guard();
                    guard
                        .run(copy::to_writer(&statement, &mut self.out()))
                        .await?;
                    return Ok(());
                }
                CopyKind::In if inline.is_some() || self.interactive => {
                    let data = match inline {
                        Some(inline) => inline.data()?,
                        None => {
                            eprintln!(
                                "Enter data to be copied followed by a newline.\n\
                                 End with a backslash and a period on a line by itself, or an \
                                 EOF signal."
                            );
                            let stdin = io::stdin();
                            let mut lines = io::BufRead::lines(stdin.lock());
                            let mut number = 0;
                            Inline {
                                lines: &mut lines,
                                number: &mut number,
                            }
                            .data()?
                        }
                    };
                    let source = futures::stream::iter([Ok::<_, io::Error>(data)]);
                    let guard = self.guard();
                    format!("COPY {}", guard.run(statement.copy_in((), source)).await?)
                }
                CopyKind::In if self.stdin_is_script => {
                    return Err(Failure::message(
                        "COPY FROM STDIN reads its data from standard input, which held the \
                         SQL: use -c or -f, or \\copy",
                    ));
                }
                CopyKind::In => format!(
                    "COPY {}",
                    self.guard().run(copy::from_stdin(&statement)).await?
                ),
                CopyKind::Other => {
                    let results = self.guard().run(statement.call(())).await?;
                    if ["CREATE", "ALTER", "DROP"]
                        .iter()
                        .any(|w| results.command.starts_with(w))
                    {
                        self.catalog_stale = true;
                    }
                    output::command_tag(&results.command, results.count)
                }
            }
        } else {
            let results = self.guard().run(statement.call(())).await?;
            if self.settings.layout == Layout::Json {
                let mut text = String::new();
                for row in &results.rows {
                    text.push_str(&output::json_row(row)?);
                    text.push('\n');
                }
                self.out().write_all(text.as_bytes())?;
            } else {
                let table = print::from_rows(&columns, &results.rows)?;
                let mut text = Vec::new();
                print::render(&table, &self.settings, pager::terminal_width(), &mut text)?;
                self.emit(&String::from_utf8_lossy(&text))?;
            }
            // DML with RETURNING: its tag too, as psql prints it.
            if !["INSERT", "UPDATE", "DELETE", "MERGE"].contains(&results.command.as_str()) {
                return Ok(());
            }
            output::command_tag(&results.command, results.count)
        };
        if quiet {
            return Ok(());
        }
        if csv_like {
            self.flush()?;
            eprintln!("{tag}");
        } else {
            writeln!(self.out(), "{tag}")?;
        }
        Ok(())
    }

    /// `\gset [PREFIX]`: runs `sql`, whose one row sets a variable per column (PREFIX and
    /// the column's name; NULL unsets it).
    pub async fn gset(&mut self, sql: &str, prefix: &str) -> Outcome {
        self.last_query = Some(sql.to_owned());
        let guard = self.guard();
        let statement = guard.run(self.db.prepare(sql)).await?;
        let results = guard.run(statement.call(())).await?;
        let row = match results.rows.as_slice() {
            [row] => row,
            [] => return Err(Failure::message("no rows returned for \\gset")),
            _ => return Err(Failure::message("more than one row returned for \\gset")),
        };
        if statement.columns().is_empty() {
            return Err(Failure::message(
                "\\gset: the statement returned no columns",
            ));
        }
        let values = row.values()?;
        for (name, value) in statement.columns().names().zip(values.iter()) {
            let name = format!("{prefix}{name}");
            // psql sets the columns before one that names no variable, and stops there.
            if !vars::valid_name(&name) {
                return Err(Failure::message(format!(
                    "invalid variable name: \"{name}\""
                )));
            }
            match output::cell_text(value) {
                Some(text) => self.vars.set(&name, &text),
                None => self.vars.unset(&name),
            }
        }
        Ok(())
    }

    /// `\o FILE`, `\o |COMMAND` (the results go to the command's standard input), or `\o`
    /// back to standard output.
    pub fn redirect(&mut self, path: Option<&Path>) -> Outcome {
        if let Some(output) = self.redirect.take() {
            output.close()?;
        }
        if let Some(path) = path {
            self.redirect = Some(Output::open(&path.to_string_lossy())?);
        }
        Ok(())
    }

    /// `\g FILE` or `\g |COMMAND`: runs `sql` with its result sent there (the `\o` output
    /// stays for what follows).
    pub async fn statement_to(
        &mut self,
        target: &str,
        sql: &str,
        line: usize,
        source: &Source,
    ) -> Result<Flow, Failure> {
        let output = Output::open(target)?;
        let saved = self.redirect.replace(output);
        let flow = self.statement(sql, line, source, None).await;
        let used = std::mem::replace(&mut self.redirect, saved);
        if let Some(output) = used {
            output.close()?;
        }
        Ok(flow)
    }

    /// The directory of the file being read (for `\ir`), else the current directory.
    pub fn current_dir(&self) -> PathBuf {
        self.files
            .last()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// Connects anew (`\c`) with `keywords` over the current connection's parameters;
    /// keeps the current connection when that fails (a script then stops, as psql's).
    pub async fn reconnect(&mut self, keywords: pg_driver::params::Keywords) -> Outcome {
        let base = self.db.connector().params().to_keywords();
        let params = base
            .merge(keywords)
            .build()
            .map_err(|e| Failure::message(format!("cannot connect: {e}")))?;
        match Connector::new(params).connect().await {
            Ok(db) => {
                let old = std::mem::replace(&mut self.db, db);
                old.close();
                self.connected();
                let message = format!(
                    "You are now connected to database \"{}\" as user \"{}\".",
                    self.vars.get("DBNAME").unwrap_or(""),
                    self.vars.get("USER").unwrap_or("")
                );
                self.say(&message)?;
                Ok(())
            }
            // psql keeps the old connection only at the prompt: a script stops (see
            // [`Session::failure`]) rather than go on on the database it meant to leave.
            Err(error) if !self.interactive => Err(Failure {
                report: format!("{error:#}"),
                status: 2,
            }),
            Err(error) => Err(Failure {
                report: format!("{error:#}\nPrevious connection kept"),
                status: 2,
            }),
        }
    }

    /// Connects again with the same parameters after the connection was lost (psql's
    /// "Attempting reset").
    pub async fn reset(&mut self) -> Result<(), pg_exceptions::Error> {
        let db = Connector::new(self.db.connector().params().clone())
            .connect()
            .await?;
        self.db = db;
        self.connected();
        Ok(())
    }

    /// The last statement sent (for `\g` and `\p` on an empty buffer).
    pub fn last_query(&self) -> Option<&str> {
        self.last_query.as_deref()
    }
}

/// Whether a statement begins or ends a transaction block (BEGIN, COMMIT, SAVEPOINT, …).
fn controls_transaction(sql: &str) -> bool {
    let text = pg_string::strip_comments(sql).to_ascii_lowercase();
    let mut words = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    match words.next() {
        Some(
            "begin" | "start" | "commit" | "end" | "rollback" | "abort" | "savepoint" | "release",
        ) => true,
        Some("prepare") => words.next() == Some("transaction"),
        _ => false,
    }
}

/// psql's `\timing` line: `Time: 1.234 ms`, with minutes and seconds from a second on
/// (`Time: 61234.500 ms (01:01.235)`).
pub fn timing(elapsed: std::time::Duration) -> String {
    let ms = elapsed.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        return format!("Time: {ms:.3} ms");
    }
    let seconds = ms / 1000.0;
    let minutes = (seconds / 60.0).floor();
    let hours = (minutes / 60.0).floor();
    let rest = seconds - minutes * 60.0;
    if hours >= 1.0 {
        let minutes = minutes - hours * 60.0;
        format!("Time: {ms:.3} ms ({hours:02}:{minutes:02}:{rest:06.3})")
    } else {
        format!("Time: {ms:.3} ms ({minutes:02}:{rest:06.3})")
    }
}

/// Where `\o` and `\g` send results: a file, or a command's standard input (`|COMMAND`,
/// run by `sh -c`, waited for when the output closes).
pub struct Output {
    writer: BufWriter<Box<dyn Write + Send>>,
    child: Option<std::process::Child>,
}

impl Output {
    /// Opens `target`: `|COMMAND` starts the command, anything else creates the file.
    pub fn open(target: &str) -> Result<Output, Failure> {
        let Some(command) = target.strip_prefix('|') else {
            let file =
                File::create(target).map_err(|e| Failure::message(format!("{target}: {e}")))?;
            return Ok(Output {
                writer: BufWriter::new(Box::new(file)),
                child: None,
            });
        };
        let cannot = |e: &dyn std::fmt::Display| {
            Failure::message(format!(
                "could not start the command \"{}\": {e}",
                command.trim()
            ))
        };
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(command.trim())
            .stdin(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| cannot(&e))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| cannot(&"no standard input"))?;
        Ok(Output {
            writer: BufWriter::new(Box::new(stdin)),
            child: Some(child),
        })
    }

    /// Flushes and closes the output; waits for the command of a pipe to end.
    pub fn close(self) -> io::Result<()> {
        let Output { mut writer, child } = self;
        let flushed = writer.flush();
        drop(writer);
        if let Some(mut child) = child {
            child.wait()?;
        }
        // A command that ended without reading everything is no error of the session's.
        match flushed {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// The lines of a script after a `COPY … FROM STDIN`: its data, up to `\.`.
pub struct Inline<'a> {
    /// The script's lines still to read.
    pub lines: &'a mut dyn Iterator<Item = io::Result<String>>,
    /// The script's line counter, advanced past the data.
    pub number: &'a mut usize,
}

impl Inline<'_> {
    /// Reads the data lines up to `\.` (or the end), each with its line break.
    pub fn data(&mut self) -> Result<Vec<u8>, Failure> {
        let mut data = Vec::new();
        for line in &mut *self.lines {
            *self.number += 1;
            let line = line.map_err(|e| Failure::message(format!("cannot read: {e}")))?;
            if line == "\\." {
                break;
            }
            data.extend_from_slice(line.as_bytes());
            data.push(b'\n');
        }
        Ok(data)
    }
}

/// Ctrl-C's effect on a running statement: once the session watches it, a CancelRequest.
pub struct Guard {
    cancel: Option<(pg_driver::CancelHandle, Arc<tokio::sync::Mutex<Signal>>)>,
    interrupted: Arc<AtomicBool>,
}

impl Guard {
    /// Races `future` against Ctrl-C: Ctrl-C sends a CancelRequest, and the statement is
    /// still driven to its end (its error) to keep the connection in step.
    pub async fn run<T>(&self, future: impl Future<Output = T>) -> T {
        let Some((handle, interrupts)) = &self.cancel else {
            return future.await;
        };
        let mut interrupts = interrupts.lock().await;
        let mut future = std::pin::pin!(future);
        tokio::select! {
            done = &mut future => done,
            _ = interrupts.recv() => {
                self.interrupted.store(true, Ordering::Relaxed);
                if handle.cancel().await.is_ok() {
                    eprintln!("Cancel request sent");
                }
                future.await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timing_lines_are_psqls() {
        assert_eq!(timing(Duration::from_micros(1234)), "Time: 1.234 ms");
        assert_eq!(
            timing(Duration::from_millis(61_234)),
            "Time: 61234.000 ms (01:01.234)"
        );
        assert_eq!(
            timing(Duration::from_millis(3_723_500)),
            "Time: 3723500.000 ms (01:02:03.500)"
        );
    }
}
