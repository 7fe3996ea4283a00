//! The driver's own keywords for how statements run: `statement_cache` and
//! `prepared_statements` for transaction poolers (PgBouncer's `pool_mode=transaction`), and
//! `batch_inserts`.
//!
//! A pooler in transaction mode hands each transaction to whichever server connection is
//! free, so a statement prepared under a name in one transaction may not exist in the next.
//! `statement_cache=off` (`[statement_cache]=off` in a `pq://` IRI) or its synonym
//! `prepared_statements=unnamed` makes [`Connection::prepare`](crate::Connection::prepare)
//! describe the *unnamed* statement instead, and every execution parse it again in the same
//! request as its Bind and Execute, so nothing relies on a named statement across
//! transactions.
//!
//! `batch_inserts=off` stops [`Statement::load_rows`](crate::Statement::load_rows) from
//! executing a plain `INSERT … VALUES ($1, …)` for many rows at a time (see
//! [`ConnectParams::batch_inserts`]).
//!
//! These keywords are kept in [`ConnectParams::extra`] (and written back into IRIs as such);
//! libpq does not know them.

use super::{ConnectParams, Keywords, ParamsError};

/// The keywords this module reads; they are this driver's, not libpq's.
pub(crate) const KEYWORDS: &[&str] = &["statement_cache", "prepared_statements", "batch_inserts"];

/// Of [`KEYWORDS`], those that ask for unnamed statements (either suffices).
const UNNAMED_KEYWORDS: [&str; 2] = ["statement_cache", "prepared_statements"];

/// Reads an on/off value as libpq reads booleans.
fn on_off(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// How [`Connection::prepare`](crate::Connection::prepare) prepares statements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PreparedStatements {
    /// Under a unique name, parsed once (the default).
    #[default]
    Named,
    /// As the unnamed statement, parsed again in the request of every execution: safe
    /// behind a transaction pooler (`statement_cache=off`, `prepared_statements=unnamed`).
    Unnamed,
}

/// Reads one of [`UNNAMED_KEYWORDS`]: `Some(true)` when it asks for unnamed statements.
fn unnamed(keyword: &str, value: &str) -> Option<bool> {
    match keyword {
        "statement_cache" => on_off(value).map(|on| !on),
        "prepared_statements" => match value.trim().to_ascii_lowercase().as_str() {
            "named" => Some(false),
            "unnamed" => Some(true),
            _ => None,
        },
        _ => None,
    }
}

/// Checks a value of one of [`KEYWORDS`].
pub(crate) fn check(keyword: &str, value: &str) -> Result<(), ParamsError> {
    let (valid, expected) = match keyword {
        "statement_cache" | "batch_inserts" => (on_off(value).is_some(), "on or off"),
        _ => (unnamed(keyword, value).is_some(), "named or unnamed"),
    };
    if valid {
        Ok(())
    } else {
        Err(ParamsError::invalid(keyword, value, expected))
    }
}

impl Keywords {
    /// Sets how statements are prepared (`prepared_statements`): [`PreparedStatements::Unnamed`]
    /// for a transaction pooler.
    pub fn prepared_statements(mut self, mode: PreparedStatements) -> Self {
        let value = match mode {
            PreparedStatements::Named => "named",
            PreparedStatements::Unnamed => "unnamed",
        };
        self.extra.remove("statement_cache");
        self.extra
            .insert("prepared_statements".into(), value.to_owned());
        self
    }
}

impl ConnectParams {
    /// How statements are prepared: [`PreparedStatements::Unnamed`] when `statement_cache=off`
    /// or `prepared_statements=unnamed` was given (either suffices), else named.
    pub fn prepared_statements(&self) -> PreparedStatements {
        let asks = |keyword: &str| {
            self.extra
                .get(keyword)
                .and_then(|value| unnamed(keyword, value))
                .unwrap_or(false)
        };
        if UNNAMED_KEYWORDS.iter().any(|k| asks(k)) {
            PreparedStatements::Unnamed
        } else {
            PreparedStatements::Named
        }
    }
}

impl ConnectParams {
    /// Whether [`Statement::load_rows`](crate::Statement::load_rows) may run a plain
    /// `INSERT … VALUES ($1, …)` as INSERTs of many rows each: yes unless `batch_inserts=off`.
    pub fn batch_inserts(&self) -> bool {
        self.extra
            .get("batch_inserts")
            .and_then(|value| on_off(value))
            .unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{error, params};
    use super::*;

    #[test]
    fn every_spelling_reads() {
        for text in [
            "pq://h/db?[statement_cache]=off",
            "postgresql://h/db?statement_cache=off",
            "postgresql://h/db?prepared_statements=unnamed",
            "host=h statement_cache=OFF",
            "host=h prepared_statements=unnamed statement_cache=on",
        ] {
            let p = params(text);
            assert_eq!(
                p.prepared_statements(),
                PreparedStatements::Unnamed,
                "{text}"
            );
        }
        for text in [
            "pq://h/db",
            "pq://h/db?[statement_cache]=on",
            "host=h prepared_statements=named",
        ] {
            let p = params(text);
            assert_eq!(p.prepared_statements(), PreparedStatements::Named, "{text}");
        }
    }

    #[test]
    fn bad_values_are_refused_and_good_ones_round_trip() {
        let e = error("host=h statement_cache=sometimes");
        assert!(e.to_string().contains("statement_cache"), "{e}");
        let e = error("host=h batch_inserts=maybe");
        assert!(e.to_string().contains("on or off"), "{e}");
        assert!(params("host=h").batch_inserts());
        assert!(params("host=h batch_inserts=on").batch_inserts());
        assert!(!params("postgresql://h/db?batch_inserts=off").batch_inserts());
        let p = params("pq://u@h/db?[batch_inserts]=off");
        assert_eq!(p.to_iri(false), "pq://u@h/db?[batch_inserts]=off");
        let e = error("pq://h/db?[prepared_statements]=cached");
        assert!(e.to_string().contains("named or unnamed"), "{e}");
        let p = params("pq://u@h/db?[statement_cache]=off");
        assert_eq!(p.to_iri(false), "pq://u@h/db?[statement_cache]=off");
        let again = params(&p.to_iri(false));
        assert_eq!(again.prepared_statements(), PreparedStatements::Unnamed);
        let built = Keywords::new()
            .host("h")
            .prepared_statements(PreparedStatements::Unnamed)
            .build_with(&super::super::tests::defaults())
            .unwrap();
        assert_eq!(built.prepared_statements(), PreparedStatements::Unnamed);
    }
}
