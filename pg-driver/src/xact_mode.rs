//! A transaction block's characteristics — isolation level, access mode, deferrability —
//! read from PostgreSQL's own words and written back from a closed set, so that nothing a
//! caller gives reaches the server as text.

use std::fmt;
use std::str::FromStr;

use pg_exceptions::{Error, OperationError};

/// The isolation level of a transaction block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isolation {
    /// `SERIALIZABLE`: as if the transactions ran one after another.
    Serializable,
    /// `REPEATABLE READ`: one snapshot for the whole block.
    RepeatableRead,
    /// `READ COMMITTED`: a snapshot per statement (the server's default).
    ReadCommitted,
    /// `READ UNCOMMITTED`: behaves as READ COMMITTED in PostgreSQL.
    ReadUncommitted,
}

impl Isolation {
    /// The level as PostgreSQL writes it: `SERIALIZABLE`, `REPEATABLE READ`…
    pub fn as_sql(self) -> &'static str {
        match self {
            Isolation::Serializable => "SERIALIZABLE",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::ReadUncommitted => "READ UNCOMMITTED",
        }
    }

    /// The level `SHOW transaction_isolation` reports: `serializable`, `repeatable read`…
    pub fn as_setting(self) -> &'static str {
        match self {
            Isolation::Serializable => "serializable",
            Isolation::RepeatableRead => "repeatable read",
            Isolation::ReadCommitted => "read committed",
            Isolation::ReadUncommitted => "read uncommitted",
        }
    }
}

impl FromStr for Isolation {
    type Err = Error;

    /// Reads a level in any case, words separated by any white space (`"repeatable read"`).
    fn from_str(text: &str) -> Result<Isolation, Error> {
        let words: Vec<String> = text.split_whitespace().map(str::to_uppercase).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["SERIALIZABLE"] => Ok(Isolation::Serializable),
            ["REPEATABLE", "READ"] => Ok(Isolation::RepeatableRead),
            ["READ", "COMMITTED"] => Ok(Isolation::ReadCommitted),
            ["READ", "UNCOMMITTED"] => Ok(Isolation::ReadUncommitted),
            _ => Err(Error::client(
                &OperationError,
                format!(
                    "unknown transaction isolation level {text:?}: expected SERIALIZABLE, \
                     REPEATABLE READ, READ COMMITTED or READ UNCOMMITTED"
                ),
            )),
        }
    }
}

impl AsRef<str> for Isolation {
    fn as_ref(&self) -> &str {
        self.as_sql()
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_sql())
    }
}

/// Whether a transaction block may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessMode {
    /// `READ WRITE` (the server's default).
    ReadWrite,
    /// `READ ONLY`: writing fails with ReadOnlyTransactionError (25006).
    ReadOnly,
}

impl AccessMode {
    /// The mode as PostgreSQL writes it.
    pub fn as_sql(self) -> &'static str {
        match self {
            AccessMode::ReadWrite => "READ WRITE",
            AccessMode::ReadOnly => "READ ONLY",
        }
    }
}

/// What `START TRANSACTION` is told; empty for a plain block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Characteristics {
    pub(crate) isolation: Option<Isolation>,
    pub(crate) access: Option<AccessMode>,
    pub(crate) deferrable: Option<bool>,
}

fn unknown_mode(text: &str) -> Error {
    Error::client(
        &OperationError,
        format!(
            "unknown transaction mode {text:?}: expected READ ONLY, READ WRITE, DEFERRABLE, \
             NOT DEFERRABLE or ISOLATION LEVEL followed by a level"
        ),
    )
}

fn conflicting(text: &str) -> Error {
    Error::client(
        &OperationError,
        format!("conflicting transaction modes in {text:?}"),
    )
}

impl Characteristics {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Characteristics::default()
    }

    /// Reads a mode as py-postgresql takes it (`"READ ONLY"`, `"read only, deferrable"`,
    /// `"ISOLATION LEVEL SERIALIZABLE READ WRITE"`): PostgreSQL's words in any case,
    /// separated by white space or commas. A mode given twice with different values in one
    /// text is an error, as it is for the server.
    pub(crate) fn parse_mode(text: &str) -> Result<Characteristics, Error> {
        let words: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(str::to_uppercase)
            .collect();
        let mut found = Characteristics::default();
        let mut rest: &[String] = &words;
        fn set<T: PartialEq>(slot: &mut Option<T>, value: T, text: &str) -> Result<(), Error> {
            match slot {
                Some(old) if *old != value => Err(conflicting(text)),
                _ => {
                    *slot = Some(value);
                    Ok(())
                }
            }
        }
        while let Some(first) = rest.first() {
            let second = rest.get(1).map(String::as_str);
            let taken = match (first.as_str(), second) {
                ("READ", Some("ONLY")) => {
                    set(&mut found.access, AccessMode::ReadOnly, text)?;
                    2
                }
                ("READ", Some("WRITE")) => {
                    set(&mut found.access, AccessMode::ReadWrite, text)?;
                    2
                }
                ("DEFERRABLE", _) => {
                    set(&mut found.deferrable, true, text)?;
                    1
                }
                ("NOT", Some("DEFERRABLE")) => {
                    set(&mut found.deferrable, false, text)?;
                    2
                }
                ("ISOLATION", Some("LEVEL")) => {
                    let level = rest.get(2).map(String::as_str);
                    let (isolation, len) = match (level, rest.get(3).map(String::as_str)) {
                        (Some("SERIALIZABLE"), _) => (Isolation::Serializable, 1),
                        (Some("REPEATABLE"), Some("READ")) => (Isolation::RepeatableRead, 2),
                        (Some("READ"), Some("COMMITTED")) => (Isolation::ReadCommitted, 2),
                        (Some("READ"), Some("UNCOMMITTED")) => (Isolation::ReadUncommitted, 2),
                        _ => return Err(unknown_mode(text)),
                    };
                    set(&mut found.isolation, isolation, text)?;
                    2 + len
                }
                _ => return Err(unknown_mode(text)),
            };
            rest = &rest[taken..];
        }
        Ok(found)
    }

    /// These characteristics with `later`'s laid over them.
    pub(crate) fn overlaid(self, later: Characteristics) -> Characteristics {
        Characteristics {
            isolation: later.isolation.or(self.isolation),
            access: later.access.or(self.access),
            deferrable: later.deferrable.or(self.deferrable),
        }
    }

    /// The statement that starts a block with these characteristics.
    pub(crate) fn start_sql(&self) -> String {
        let mut modes = Vec::new();
        if let Some(isolation) = self.isolation {
            modes.push(format!("ISOLATION LEVEL {}", isolation.as_sql()));
        }
        if let Some(access) = self.access {
            modes.push(access.as_sql().to_owned());
        }
        match self.deferrable {
            Some(true) => modes.push("DEFERRABLE".to_owned()),
            Some(false) => modes.push("NOT DEFERRABLE".to_owned()),
            None => {}
        }
        if modes.is_empty() {
            "START TRANSACTION".to_owned()
        } else {
            format!("START TRANSACTION {}", modes.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_read_from_postgresql_words_only() {
        let c = Characteristics::parse_mode("read only,  Deferrable").unwrap();
        assert_eq!(c.start_sql(), "START TRANSACTION READ ONLY, DEFERRABLE");
        let c =
            Characteristics::parse_mode("ISOLATION LEVEL repeatable read NOT DEFERRABLE").unwrap();
        assert_eq!(c.isolation, Some(Isolation::RepeatableRead));
        assert_eq!(c.deferrable, Some(false));
        for bad in [
            "READ ONLY; DROP TABLE t",
            "READ 'ONLY'",
            "READ",
            "ISOLATION LEVEL",
            "READ ONLY READ WRITE",
            "\"READ ONLY\"",
        ] {
            assert!(Characteristics::parse_mode(bad).is_err(), "{bad}");
        }
        assert_eq!(
            "  read\tcommitted ".parse::<Isolation>().unwrap(),
            Isolation::ReadCommitted
        );
        assert!("serializable;".parse::<Isolation>().is_err());
        assert_eq!(Characteristics::default().start_sql(), "START TRANSACTION");
    }
}
