//! The layered report that `Error` and `Message` print: one line per element, indented under
//! the headline, with a caret under the error position of the statement text.

use std::fmt::{self, Write as _};

use crate::class::Source;
use crate::fields::{Fields, field, field_label};

/// How far each level of the report is indented.
const STEP: usize = 2;

/// Writes `text` (possibly several lines) after the current position; continuation lines
/// are indented by `indent` spaces.
pub(crate) fn continued(f: &mut fmt::Formatter<'_>, indent: usize, text: &str) -> fmt::Result {
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            f.write_char('\n')?;
            pad(f, indent)?;
        }
        f.write_str(line.trim_end_matches('\r'))?;
    }
    Ok(())
}

/// Writes `LABEL: value` on a new line at `indent`.
pub(crate) fn field(
    f: &mut fmt::Formatter<'_>,
    indent: usize,
    label: &str,
    value: &str,
) -> fmt::Result {
    f.write_char('\n')?;
    pad(f, indent)?;
    write!(f, "{label}: ")?;
    continued(f, indent + STEP, value)
}

/// Writes a labelled block of text on new lines at `indent`: on the label's line when it is a
/// single line with no position to mark, else below the label, indented one more step, with a
/// caret line under the character at the 1-based `position`.
pub(crate) fn block(
    f: &mut fmt::Formatter<'_>,
    indent: usize,
    label: &str,
    text: &str,
    position: Option<usize>,
) -> fmt::Result {
    if position.is_none() && !text.contains('\n') {
        return field(f, indent, label, text);
    }
    f.write_char('\n')?;
    pad(f, indent)?;
    write!(f, "{label}:")?;
    let caret = position.and_then(|position| locate(text, position));
    for (index, line) in text.split('\n').enumerate() {
        f.write_char('\n')?;
        pad(f, indent + STEP)?;
        f.write_str(line.trim_end_matches('\r'))?;
        if let Some((_, prefix)) = caret.as_ref().filter(|(at, _)| *at == index) {
            f.write_char('\n')?;
            pad(f, indent + STEP)?;
            write!(f, "{prefix}^")?;
        }
    }
    match (position, &caret) {
        (Some(position), None) => {
            f.write_char('\n')?;
            pad(f, indent + STEP)?;
            write!(f, "(position {position} is outside the text)")
        }
        _ => Ok(()),
    }
}

/// Finds the line holding the 1-based character `position` of `text`, and the blank prefix
/// that puts a caret under that character (tabs are kept so the caret lines up with them).
/// A position just past the end of a line (or of the text) is under the line's end.
pub(crate) fn locate(text: &str, position: usize) -> Option<(usize, String)> {
    let target = position.checked_sub(1)?;
    let mut start = 0;
    for (index, line) in text.split('\n').enumerate() {
        let length = line.chars().count();
        if target <= start + length {
            let prefix = line
                .chars()
                .take(target - start)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            return Some((index, prefix));
        }
        start += length + 1;
    }
    None
}

fn pad(f: &mut fmt::Formatter<'_>, width: usize) -> fmt::Result {
    write!(f, "{:width$}", "")
}

/// The field types the report shows in a fixed place (or as the headline).
const PLACED: &[u8] = &[
    field::SEVERITY,
    field::SEVERITY_NONLOCALIZED,
    field::CODE,
    field::MESSAGE,
    field::DETAIL,
    field::HINT,
    field::WHERE,
    field::POSITION,
    field::INTERNAL_QUERY,
    field::INTERNAL_POSITION,
    field::SCHEMA,
    field::TABLE,
    field::COLUMN,
    field::DATATYPE,
    field::CONSTRAINT,
    field::FILE,
    field::LINE,
    field::ROUTINE,
];

/// Writes the elements below the headline, CODE and SEVERITY: detail, hint, the server's
/// context, the position (when no statement shows it), the internal query with its caret, the
/// object the error is about, unknown fields, and the location in the source.
pub(crate) fn details(
    f: &mut fmt::Formatter<'_>,
    fields: &Fields,
    source: Source,
    show_position: bool,
) -> fmt::Result {
    for ty in [field::DETAIL, field::HINT, field::WHERE] {
        if let (Some(value), Some(label)) = (fields.get(ty), field_label(ty)) {
            field(f, STEP, label, value)?;
        }
    }
    if let Some(position) = fields.get(field::POSITION).filter(|_| show_position) {
        field(f, STEP, "POSITION", position)?;
    }
    match (
        fields.get(field::INTERNAL_QUERY),
        fields.get(field::INTERNAL_POSITION),
    ) {
        (Some(query), _) => {
            let position = fields.number(field::INTERNAL_POSITION);
            block(f, STEP, "INTERNAL QUERY", query, position)?;
        }
        (None, Some(position)) => field(f, STEP, "INTERNAL POSITION", position)?,
        (None, None) => {}
    }
    for ty in [
        field::SCHEMA,
        field::TABLE,
        field::COLUMN,
        field::DATATYPE,
        field::CONSTRAINT,
    ] {
        if let (Some(value), Some(label)) = (fields.get(ty), field_label(ty)) {
            field(f, STEP, label, value)?;
        }
    }
    for (ty, value) in fields.iter().filter(|(ty, _)| !PLACED.contains(ty)) {
        let label = match field_label(ty) {
            Some(label) => label.to_string(),
            None => format!("FIELD {:?}", char::from(ty)),
        };
        field(f, STEP, &label, value)?;
    }
    let file = fields.get(field::FILE);
    let line = fields.get(field::LINE);
    let routine = fields.get(field::ROUTINE);
    let location = if file.is_some() || line.is_some() || routine.is_some() {
        format!(
            "File {:?}, line {}, in {} from {source}",
            file.unwrap_or("?"),
            line.unwrap_or("?"),
            routine.unwrap_or("?"),
        )
    } else {
        source.to_string()
    };
    field(f, STEP, "LOCATION", &location)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Block<'a>(&'a str, Option<usize>);

    impl fmt::Display for Block<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            block(f, 0, "STATEMENT", self.0, self.1)
        }
    }

    #[test]
    fn locate_counts_characters_not_bytes() {
        assert_eq!(locate("SELECT 1", 1), Some((0, String::new())));
        assert_eq!(locate("SELECT 1", 8), Some((0, " ".repeat(7))));
        // One past the end: "syntax error at end of input".
        assert_eq!(locate("SELECT 1", 9), Some((0, " ".repeat(8))));
        assert_eq!(locate("SELECT 1", 10), None);
        assert_eq!(locate("SELECT 1", 0), None);
        assert_eq!(locate("SELECT 'é', x", 13), Some((0, " ".repeat(12))));
        assert_eq!(locate("a\nbc\nd", 4), Some((1, " ".to_string())));
        assert_eq!(locate("a\nbc\nd", 5), Some((1, "  ".to_string())));
        assert_eq!(locate("a\nbc\nd", 6), Some((2, String::new())));
        assert_eq!(locate("\tx", 2), Some((0, "\t".to_string())));
        assert_eq!(locate("", 1), Some((0, String::new())));
        assert_eq!(locate("", usize::MAX), None);
    }

    #[test]
    fn block_draws_caret_under_its_line() {
        assert_eq!(
            Block("SELECT *\nFROM nowhere\r\nWHERE x", Some(15)).to_string(),
            "\nSTATEMENT:\n  SELECT *\n  FROM nowhere\n       ^\n  WHERE x"
        );
        assert_eq!(Block("SELECT 1", None).to_string(), "\nSTATEMENT: SELECT 1");
        assert_eq!(
            Block("SELECT 1", Some(99)).to_string(),
            "\nSTATEMENT:\n  SELECT 1\n  (position 99 is outside the text)"
        );
    }
}
