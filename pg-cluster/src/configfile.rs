//! Reading and editing `postgresql.conf` without disturbing its comments and layout.
//!
//! Reading gives the effective values: those of uncommented lines, the last occurrence of a
//! key winning, as the server reads them. Editing a key changes the value of its effective
//! line in place (keeping any trailing comment); when only a commented-out line mentions
//! the key (the sample file's documented default), that line is uncommented and changed;
//! otherwise a line is appended. Removing a key comments its lines out. Values are always
//! written quoted, the one form valid for every setting type. `include`, `include_dir` and
//! `include_if_exists` lines are never read as settings nor edited, and are not followed.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::error::ClusterError;

/// Where the parts of a `key = value` line lie, as byte ranges into the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingLine {
    /// Whether the setting is commented out (`#key = value`).
    pub commented: bool,
    /// Where the line's content starts (the first `#` of a commented line).
    pub start: usize,
    /// The key.
    pub key: Range<usize>,
    /// The value as written, quotes included.
    pub value: Range<usize>,
}

const DIRECTIVES: [&str; 3] = ["include", "include_dir", "include_if_exists"];

/// Whether a key is an include directive rather than a setting.
pub fn is_directive(key: &str) -> bool {
    DIRECTIVES.iter().any(|d| d.eq_ignore_ascii_case(key))
}

/// Parses one line as a setting, commented or not. Returns `None` for blank lines, prose
/// comments, and anything else that is not `key [=] value [# comment]`. A commented line
/// needs the `=` so that prose is not mistaken for a setting.
pub fn parse_line(line: &str) -> Option<SettingLine> {
    let bytes = line.as_bytes();
    let is_blank = |b: u8| b == b' ' || b == b'\t';
    let mut i = bytes.iter().position(|&b| !is_blank(b))?;
    let start = i;
    let commented = bytes[i] == b'#';
    while i < bytes.len() && (bytes[i] == b'#' || is_blank(bytes[i])) && commented {
        i += 1;
    }

    let key_start = i;
    if !bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return None;
    }
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
    {
        i += 1;
    }
    let key = key_start..i;
    while bytes.get(i).is_some_and(|b| is_blank(*b)) {
        i += 1;
    }
    let has_equals = bytes.get(i) == Some(&b'=');
    if has_equals {
        i += 1;
        while bytes.get(i).is_some_and(|b| is_blank(*b)) {
            i += 1;
        }
    } else if commented {
        return None;
    }

    let value_start = i;
    if bytes.get(i) == Some(&b'\'') {
        i += 1;
        loop {
            match bytes.get(i) {
                None | Some(b'\n') | Some(b'\r') => return None,
                Some(b'\\') => i += 2,
                Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                Some(b'\'') => {
                    i += 1;
                    break;
                }
                Some(_) => i += 1,
            }
        }
    } else {
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'#')
        {
            i += 1;
        }
        if i == value_start {
            return None;
        }
    }
    let value = value_start..i;

    let rest = line[i..]
        .trim_start_matches([' ', '\t'])
        .trim_end_matches(['\r', '\n']);
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    Some(SettingLine {
        commented,
        start,
        key,
        value,
    })
}

/// Removes the quotes from a value as written (`'it''s'` → `it's`); unquoted values are
/// returned as they are.
pub fn unquote(value: &str) -> String {
    let value = value.trim();
    let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    out
}

/// Quotes a value for the file: `it's` → `'it''s'`, backslashes doubled.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// The effective settings in a configuration text, keys lowercased, in order of first
/// appearance, each with the value of its last uncommented line.
pub fn read_config(text: &str) -> IndexMap<String, String> {
    let mut settings = IndexMap::new();
    for line in text.split_inclusive('\n') {
        let Some(parsed) = parse_line(line) else {
            continue;
        };
        let key = &line[parsed.key.clone()];
        if parsed.commented || is_directive(key) {
            continue;
        }
        settings.insert(key.to_ascii_lowercase(), unquote(&line[parsed.value]));
    }
    settings
}

/// Applies changes to a configuration text: `Some(value)` sets a key, `None` comments its
/// uncommented lines out. See the module documentation for where edits land.
pub fn alter_config(text: &str, changes: &[(&str, Option<&str>)]) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    for &(key, value) in changes {
        if is_directive(key) {
            continue;
        }
        let matches: Vec<(usize, SettingLine)> = lines
            .iter()
            .enumerate()
            .filter_map(|(n, line)| parse_line(line).map(|p| (n, p)))
            .filter(|(n, p)| lines[*n][p.key.clone()].eq_ignore_ascii_case(key))
            .collect();
        match value {
            None => {
                for (n, p) in matches.iter().filter(|(_, p)| !p.commented) {
                    lines[*n].insert(p.start, '#');
                }
            }
            Some(value) => {
                let active = matches.iter().rev().find(|(_, p)| !p.commented);
                let target = active.or_else(|| matches.first());
                match target {
                    Some((n, p)) => {
                        let line = &lines[*n];
                        let edited = format!(
                            "{}{}{}{}",
                            &line[..p.start],
                            &line[p.key.start..p.value.start],
                            quote(value),
                            &line[p.value.end..]
                        );
                        lines[*n] = edited;
                    }
                    None => {
                        if let Some(last) = lines.last_mut().filter(|l| !l.ends_with('\n')) {
                            last.push('\n');
                        }
                        lines.push(format!("{key} = {}\n", quote(value)));
                    }
                }
            }
        }
    }
    lines.concat()
}

/// A configuration file on disk, read whole on every call and rewritten in place (so its
/// owner and mode are kept). Batch changes with [`ConfigFile::update`].
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
}

impl ConfigFile {
    /// The configuration file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ConfigFile { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn text(&self) -> Result<String, ClusterError> {
        fs::read_to_string(&self.path).map_err(|e| ClusterError::io_path("read", &self.path, e))
    }

    /// Every effective setting (keys lowercased).
    pub fn read(&self) -> Result<IndexMap<String, String>, ClusterError> {
        Ok(read_config(&self.text()?))
    }

    /// The effective value of one setting, `None` when no uncommented line sets it.
    pub fn get(&self, key: &str) -> Result<Option<String>, ClusterError> {
        Ok(self.read()?.shift_remove(&key.to_ascii_lowercase()))
    }

    /// The effective values of several settings, `None` for those not set.
    pub fn get_many<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<IndexMap<String, Option<String>>, ClusterError> {
        let all = self.read()?;
        Ok(keys
            .into_iter()
            .map(|k| (k.to_owned(), all.get(&k.to_ascii_lowercase()).cloned()))
            .collect())
    }

    /// Sets one setting.
    pub fn set(&self, key: &str, value: &str) -> Result<(), ClusterError> {
        self.alter(&[(key, Some(value))])
    }

    /// Sets several settings with one rewrite of the file.
    pub fn update<K: AsRef<str>, V: AsRef<str>>(
        &self,
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), ClusterError> {
        let owned: Vec<(K, V)> = settings.into_iter().collect();
        let changes: Vec<(&str, Option<&str>)> = owned
            .iter()
            .map(|(k, v)| (k.as_ref(), Some(v.as_ref())))
            .collect();
        self.alter(&changes)
    }

    /// Comments out the uncommented lines setting `key`, returning it to its default.
    pub fn remove(&self, key: &str) -> Result<(), ClusterError> {
        self.alter(&[(key, None)])
    }

    /// Applies [`alter_config`] changes to the file.
    pub fn alter(&self, changes: &[(&str, Option<&str>)]) -> Result<(), ClusterError> {
        let altered = alter_config(&self.text()?, changes);
        fs::write(&self.path, altered).map_err(|e| ClusterError::io_path("write", &self.path, e))
    }
}

#[cfg(test)]
#[path = "configfile_tests.rs"]
mod tests;
