//! libpq's `keyword=value` connection strings.
//!
//! `host=localhost port=5432 dbname=app options='-c search_path=app'`: pairs
//! separated by white space, optional white space around `=`, values either
//! bare (ending at white space) or in single quotes. A backslash takes the
//! next character literally in both (`\'`, `\\`, `\ `). Unknown keywords are
//! an error; a repeated keyword's last value wins.

use super::apply::is_c_space as is_space;
use super::iri::looks_like_iri;
use super::{Keywords, ParamsError};

/// Whether text starts as a connection string does: a keyword (letters, digits, `_`; an
/// empty one is the connection string's error to report), then `=`, white space allowed
/// between. A locator has `/`, `@`, `:`, `?` or `[` before any `=`, or no `=` at all.
fn looks_like_conninfo(text: &str) -> bool {
    text.split_once('=').is_some_and(|(keyword, _)| {
        keyword
            .trim_end_matches(is_space)
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

impl Keywords {
    /// Parses a libpq connection string (`host=… port=… dbname=…`).
    pub fn from_conninfo(conninfo: &str) -> Result<Keywords, ParamsError> {
        let mut kw = Keywords::new();
        let mut chars = conninfo.char_indices().peekable();
        let part = "connection string";
        loop {
            while chars.next_if(|&(_, c)| is_space(c)).is_some() {}
            let Some(&(start, _)) = chars.peek() else {
                break;
            };
            let mut keyword = String::new();
            while let Some((_, c)) = chars.next_if(|&(_, c)| c != '=' && !is_space(c)) {
                keyword.push(c);
            }
            while chars.next_if(|&(_, c)| is_space(c)).is_some() {}
            if chars.next_if(|&(_, c)| c == '=').is_none() {
                return Err(ParamsError::syntax(
                    part,
                    start,
                    "keyword without '=' after it",
                ));
            }
            if keyword.is_empty() {
                return Err(ParamsError::syntax(part, start, "'=' without a keyword"));
            }
            while chars.next_if(|&(_, c)| is_space(c)).is_some() {}
            let mut value = String::new();
            if chars.next_if(|&(_, c)| c == '\'').is_some() {
                loop {
                    match chars.next() {
                        None => {
                            return Err(ParamsError::syntax(
                                part,
                                start,
                                "unterminated quoted value",
                            ));
                        }
                        Some((_, '\'')) => break,
                        Some((_, '\\')) => value.extend(chars.next().map(|(_, c)| c)),
                        Some((_, c)) => value.push(c),
                    }
                }
            } else {
                while let Some((_, c)) = chars.next_if(|&(_, c)| !is_space(c)) {
                    if c == '\\' {
                        value.extend(chars.next().map(|(_, c)| c));
                    } else {
                        value.push(c);
                    }
                }
            }
            if value.contains('\0') {
                return Err(ParamsError::invalid(&keyword, "", "a value without NUL"));
            }
            kw.set(&keyword, &value)?;
        }
        Ok(kw)
    }

    /// Parses either form libpq accepts, an IRI (`pq://`, `postgresql://`,
    /// `postgres://`) or a `keyword=value` connection string, and py-postgresql's
    /// scheme-less locators (`localhost/postgres`, `user@host:5433/db`: a `pq://` IRI
    /// without its scheme, [`Keywords::from_locator`]). Text is a connection string when
    /// it starts with a keyword and `=`; otherwise, without a scheme, it is a locator.
    /// Leading white space is ignored. An empty string gives an empty layer.
    pub fn parse(text: &str) -> Result<Keywords, ParamsError> {
        let trimmed = text.trim_start();
        if looks_like_iri(trimmed) {
            Keywords::from_iri(trimmed)
        } else if trimmed.is_empty() || looks_like_conninfo(trimmed) {
            Keywords::from_conninfo(text)
        } else {
            Keywords::from_locator(trimmed.trim_end())
        }
    }
}
