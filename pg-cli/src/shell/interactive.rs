//! The interactive prompt: rustyline's line editor with persistent history and tab
//! completion, psql's prompts, Ctrl-C clearing the buffer (or cancelling the running
//! statement on the server), Ctrl-D leaving.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use super::scan::Scanner;
use super::{Flow, Session, Source};
use crate::Failure;
use crate::complete::{self, Catalog};

/// rustyline's helper: completion from [`crate::complete`], the rest as rustyline has it.
pub struct ShellHelper {
    /// The catalog completion reads, shared with the session that refreshes it.
    pub catalog: Arc<Mutex<Catalog>>,
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _context: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let catalog = match self.catalog.lock() {
            Ok(catalog) => catalog.clone(),
            Err(_) => Catalog::default(),
        };
        Ok(complete::complete(line, pos, &catalog))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

/// The history file: `PGAPI_HISTORY`, else the HISTFILE variable, else
/// `~/.pgapi_history`.
pub fn history_path(session: &Session<'_>) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PGAPI_HISTORY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    if let Some(path) = session.vars.get("HISTFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pgapi_history"))
}

/// Runs the prompt until `\q` or Ctrl-D; returns the exit status.
pub fn run(runtime: &tokio::runtime::Runtime, session: &mut Session<'_>) -> Result<u8, Failure> {
    session.interactive = true;
    let config = Config::builder()
        .auto_add_history(false)
        // As readline in psql: a second Tab lists the candidates.
        .completion_type(CompletionType::List)
        .max_history_size(10_000)
        .map_err(|e| Failure::message(format!("cannot start the line editor: {e}")))?
        .build();
    let mut editor: Editor<ShellHelper, FileHistory> = Editor::with_config(config)
        .map_err(|e| Failure::message(format!("cannot start the line editor: {e}")))?;
    editor.set_helper(Some(ShellHelper {
        catalog: session.catalog.clone(),
    }));
    let history = history_path(session);
    if let Some(path) = &history {
        // A missing file is a first session.
        let _ = editor.load_history(path);
    }
    if !session.quiet() {
        // `15.4`, without a packager's suffix (`15.4 (Debian 15.4-1)`).
        let server = session
            .vars
            .get("SERVER_VERSION_NAME")
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("?")
            .to_owned();
        println!(
            "pgapi {}, server {server}\nType \"\\?\" for help.\n",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mut scanner = Scanner::new();
    let mut entry = String::new();
    let mut number = 0;
    loop {
        runtime.block_on(session.refresh_catalog());
        let _ = session.flush();
        let prompt = session.prompt(&scanner);
        match editor.readline(&prompt) {
            Ok(text) => {
                for line in text.split('\n') {
                    number += 1;
                    if !entry.is_empty() {
                        entry.push('\n');
                    }
                    entry.push_str(line);
                    let flow =
                        runtime.block_on(session.feed(&mut scanner, line, number, &Source::Prompt));
                    if scanner.is_empty() && !entry.trim().is_empty() {
                        let _ = editor.add_history_entry(entry.as_str());
                        if let Some(path) = &history {
                            let _ = editor.save_history(path);
                        }
                        entry.clear();
                    }
                    if flow == Flow::Quit {
                        return Ok(0);
                    }
                    if session.db.closed() {
                        eprint!("The connection to the server was lost. Attempting reset: ");
                        match runtime.block_on(session.reset()) {
                            Ok(()) => eprintln!("Succeeded."),
                            Err(error) => eprintln!("Failed.\n{error:#}"),
                        }
                    }
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C while editing: the line and the buffer are dropped, and the
                // `\if` blocks left (psql).
                scanner.interrupt();
                entry.clear();
            }
            Err(ReadlineError::Eof) => {
                println!("\\q");
                return Ok(0);
            }
            Err(e) => return Err(Failure::message(format!("cannot read a line: {e}"))),
        }
    }
}
