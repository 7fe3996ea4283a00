//! psql's variables (`\set`, `-v`), and the quoting of their values for interpolation.

use std::collections::BTreeMap;

/// The variables of a session, by name.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, String>,
}

impl Vars {
    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Sets a variable.
    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(name.to_owned(), value.to_owned());
    }

    /// Removes a variable.
    pub fn unset(&mut self, name: &str) {
        self.values.remove(name);
    }

    /// Every variable, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// A boolean variable as psql reads it (`on`, `true`, `yes`, `1` and their prefixes);
    /// set to the empty string counts as on; unset as off.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| parse_bool(v).unwrap_or(false))
    }
}

/// Whether `name` may name a variable: letters, digits and underscores.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// psql's booleans: `on`/`off`, `true`/`false`, `yes`/`no`, `1`/`0`, unique prefixes
/// accepted, any case; the empty string is true (as `\set NAME`).
pub fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return Some(true);
    }
    let prefix = |word: &str| word.starts_with(&text);
    match text.as_str() {
        "1" | "on" => Some(true),
        "0" | "of" | "off" => Some(false),
        _ if text.len() >= 2 && prefix("true") || prefix("yes") || text == "t" => Some(true),
        _ if text.len() >= 2 && prefix("false") || prefix("no") || text == "f" => Some(false),
        _ => None,
    }
}

/// A value as an SQL string literal (`'it''s'`; `E'…'` when it holds a backslash).
pub fn quote_literal(value: &str) -> String {
    let body = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    }
}

/// A value as an SQL identifier (`"my table"`, quotes doubled).
pub fn quote_identifier(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_booleans_and_quotes() {
        for on in ["1", "on", "ON", "true", "t", "yes", "y", ""] {
            assert_eq!(parse_bool(on), Some(true), "{on}");
        }
        for off in ["0", "off", "false", "f", "no", "n"] {
            assert_eq!(parse_bool(off), Some(false), "{off}");
        }
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        let mut vars = Vars::default();
        vars.set("ON_ERROR_STOP", "1");
        assert!(vars.flag("ON_ERROR_STOP"));
        assert!(!vars.flag("QUIET"));
    }
}
