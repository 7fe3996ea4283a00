//! Where in the server's source a message or error was raised.

use std::fmt;

use crate::fields::{Fields, field};

/// The place in the server's source code a message was raised: its `F` (file), `L` (line)
/// and `R` (routine) fields, py-postgresql's `file`, `line` and `function`.
///
/// ```
/// use pg_exceptions::Message;
///
/// let m = Message::from_fields([
///     (b'M', "here".to_string()),
///     (b'F', "pl_exec.c".to_string()),
///     (b'L', "3911".to_string()),
///     (b'R', "exec_stmt_raise".to_string()),
/// ]);
/// let at = m.location().unwrap();
/// assert_eq!((at.file, at.line, at.function), (Some("pl_exec.c"), Some(3911), Some("exec_stmt_raise")));
/// assert_eq!(at.to_string(), "File \"pl_exec.c\", line 3911, in exec_stmt_raise");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    /// The source file (`F`).
    pub file: Option<&'a str>,
    /// The line in it (`L`); None when absent or not a number.
    pub line: Option<u32>,
    /// The routine (`R`).
    pub function: Option<&'a str>,
}

impl<'a> Location<'a> {
    /// The location the fields give; None when they have none of the three.
    pub(crate) fn of(fields: &'a Fields) -> Option<Location<'a>> {
        let file = fields.get(field::FILE);
        let line_text = fields.get(field::LINE);
        let function = fields.get(field::ROUTINE);
        if file.is_none() && line_text.is_none() && function.is_none() {
            return None;
        }
        Some(Location {
            file,
            line: line_text.and_then(|l| l.trim().parse().ok()),
            function,
        })
    }
}

/// py-postgresql's location string: `File "f", line n, in r`, `?` for what is missing.
impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "File \"{}\", line ", self.file.unwrap_or("?"))?;
        match self.line {
            Some(line) => write!(f, "{line}")?,
            None => f.write_str("?")?,
        }
        write!(f, ", in {}", self.function.unwrap_or("?"))
    }
}
