//! The fields of an ErrorResponse or NoticeResponse, kept as the server sent them.

use std::fmt;

/// The field type bytes of ErrorResponse and NoticeResponse messages.
pub mod field {
    /// Severity, possibly localized (`ERROR`, `FATAL`, `NOTICE`, …).
    pub const SEVERITY: u8 = b'S';
    /// Severity, never localized (PostgreSQL 9.6 and later).
    pub const SEVERITY_NONLOCALIZED: u8 = b'V';
    /// The SQLSTATE code.
    pub const CODE: u8 = b'C';
    /// The primary message.
    pub const MESSAGE: u8 = b'M';
    /// An optional secondary message with more detail.
    pub const DETAIL: u8 = b'D';
    /// An optional suggestion of what to do about the problem.
    pub const HINT: u8 = b'H';
    /// The error's position in the statement: a 1-based index counted in characters.
    pub const POSITION: u8 = b'P';
    /// Like [`POSITION`], but into [`INTERNAL_QUERY`] (an internally generated command).
    pub const INTERNAL_POSITION: u8 = b'p';
    /// The text of a failed internally generated command, such as a PL/pgSQL query.
    pub const INTERNAL_QUERY: u8 = b'q';
    /// Where the error happened: a call stack traceback, one entry per line.
    pub const WHERE: u8 = b'W';
    /// The schema of the object the error is about.
    pub const SCHEMA: u8 = b's';
    /// The table of the object the error is about.
    pub const TABLE: u8 = b't';
    /// The column the error is about.
    pub const COLUMN: u8 = b'c';
    /// The data type the error is about.
    pub const DATATYPE: u8 = b'd';
    /// The constraint the error is about.
    pub const CONSTRAINT: u8 = b'n';
    /// The server source file that reported the error.
    pub const FILE: u8 = b'F';
    /// The line of [`FILE`] that reported the error.
    pub const LINE: u8 = b'L';
    /// The server source routine that reported the error.
    pub const ROUTINE: u8 = b'R';
}

/// The label a report prints before a field's value, such as `"DETAIL"` for `b'D'`;
/// `None` for a field type the protocol does not define.
pub fn field_label(field_type: u8) -> Option<&'static str> {
    Some(match field_type {
        field::SEVERITY => "SEVERITY",
        field::SEVERITY_NONLOCALIZED => "SEVERITY (NONLOCALIZED)",
        field::CODE => "CODE",
        field::MESSAGE => "MESSAGE",
        field::DETAIL => "DETAIL",
        field::HINT => "HINT",
        field::POSITION => "POSITION",
        field::INTERNAL_POSITION => "INTERNAL POSITION",
        field::INTERNAL_QUERY => "INTERNAL QUERY",
        field::WHERE => "CONTEXT",
        field::SCHEMA => "SCHEMA",
        field::TABLE => "TABLE",
        field::COLUMN => "COLUMN",
        field::DATATYPE => "DATA TYPE",
        field::CONSTRAINT => "CONSTRAINT",
        field::FILE => "FILE",
        field::LINE => "LINE",
        field::ROUTINE => "ROUTINE",
        _ => return None,
    })
}

/// The fields of one ErrorResponse or NoticeResponse, in the order they arrived.
///
/// Field types this crate does not know are kept, so that a newer server's additions
/// survive. When a type occurs twice, the accessors answer the first occurrence.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields {
    entries: Vec<(u8, String)>,
}

impl Fields {
    /// No fields.
    pub fn new() -> Fields {
        Fields::default()
    }

    /// The value of the field of type `field_type` (see [`field`]), if present.
    pub fn get(&self, field_type: u8) -> Option<&str> {
        self.entries
            .iter()
            .find(|(ty, _)| *ty == field_type)
            .map(|(_, value)| value.as_str())
    }

    /// Sets the field of type `field_type`, replacing its first occurrence or adding it.
    pub fn set(&mut self, field_type: u8, value: impl Into<String>) {
        let value = value.into();
        match self.entries.iter_mut().find(|(ty, _)| *ty == field_type) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((field_type, value)),
        }
    }

    /// Every field, in arrival order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (u8, &str)> + Clone + '_ {
        self.entries.iter().map(|(ty, value)| (*ty, value.as_str()))
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A field parsed as a number (positions, line numbers); `None` if absent or not a number.
    pub(crate) fn number(&self, field_type: u8) -> Option<usize> {
        self.get(field_type)?.trim().parse().ok()
    }
}

impl FromIterator<(u8, String)> for Fields {
    fn from_iter<I: IntoIterator<Item = (u8, String)>>(iter: I) -> Fields {
        Fields {
            entries: iter.into_iter().collect(),
        }
    }
}

/// Shows each field as `'C': "23505"`.
impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .iter()
                    .map(|(ty, value)| (char::from(*ty), value)),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_unknown_types_and_first_duplicate() {
        let mut fields: Fields = [
            (b'S', "ERROR".to_string()),
            (b'Z', "future".to_string()),
            (b'S', "LATER".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(fields.len(), 3);
        assert!(!fields.is_empty());
        assert_eq!(fields.get(b'S'), Some("ERROR"));
        assert_eq!(fields.get(b'Z'), Some("future"));
        assert_eq!(fields.get(b'D'), None);
        fields.set(b'S', "FATAL");
        fields.set(b'D', "more");
        let all: Vec<(u8, &str)> = fields.iter().collect();
        assert_eq!(
            all,
            [
                (b'S', "FATAL"),
                (b'Z', "future"),
                (b'S', "LATER"),
                (b'D', "more")
            ]
        );
        assert_eq!(
            format!("{fields:?}"),
            r#"{'S': "FATAL", 'Z': "future", 'S': "LATER", 'D': "more"}"#
        );
    }

    #[test]
    fn numbers_and_labels() {
        let fields: Fields = [(b'P', " 12 ".to_string()), (b'L', "x".to_string())]
            .into_iter()
            .collect();
        assert_eq!(fields.number(b'P'), Some(12));
        assert_eq!(fields.number(b'L'), None);
        assert_eq!(fields.number(b'p'), None);
        assert_eq!(field_label(b'W'), Some("CONTEXT"));
        assert_eq!(field_label(b'd'), Some("DATA TYPE"));
        assert_eq!(field_label(b'Z'), None);
        assert!(Fields::new().is_empty());
    }
}
