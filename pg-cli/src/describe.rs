//! The catalog listings of psql's `\d…` meta-commands.

use crate::print;

/// What a listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Described {
    /// The tables to print, in order.
    Tables(Vec<print::Table>),
    /// Nothing matched: the message to print on standard error.
    NotFound(String),
}

/// Runs the listing `command` (the meta-command's name without its backslash, modifiers
/// included: `dt+`, `dS`, `l`) for `pattern`; `Ok(None)` when `command` is none.
pub async fn run(
    db: &pg_driver::Connection,
    command: &str,
    pattern: Option<&str>,
) -> Result<Option<Described>, pg_exceptions::Error> {
    // placeholder: replaced at merge
    let _ = (db, command, pattern);
    Ok(None)
}
