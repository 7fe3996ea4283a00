//! The error from parsing a list of identifiers.

use std::fmt;

/// Why a list of identifiers could not be split (see
/// [`split_qname`](crate::split_qname)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SplitErrorKind {
    /// A quoted identifier has no closing `"`.
    UnterminatedQuote,
    /// A character that cannot appear there: inside an unquoted identifier,
    /// or after a quoted one before the next separator.
    UnexpectedChar(char),
    /// An unquoted identifier starts with a digit.
    LeadingDigit,
    /// There is nothing but white space between two separators, or at either
    /// end of the text.
    EmptyIdentifier,
}

/// An error splitting a list of identifiers: what is wrong, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SplitError {
    kind: SplitErrorKind,
    position: usize,
}

impl SplitError {
    pub(crate) fn new(kind: SplitErrorKind, position: usize) -> SplitError {
        SplitError { kind, position }
    }

    /// What is wrong.
    pub fn kind(&self) -> SplitErrorKind {
        self.kind
    }

    /// The byte offset in the input where the problem is: the opening quote
    /// of an unterminated identifier, the unexpected character or digit, or
    /// the start of an empty identifier.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SplitErrorKind::UnterminatedQuote => f.write_str("unterminated quoted identifier")?,
            SplitErrorKind::UnexpectedChar(c) => write!(f, "unexpected character {c:?}")?,
            SplitErrorKind::LeadingDigit => {
                f.write_str("unquoted identifier starts with a digit")?;
            }
            SplitErrorKind::EmptyIdentifier => f.write_str("empty identifier")?,
        }
        write!(f, " at byte {}", self.position)
    }
}

impl std::error::Error for SplitError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_reason_and_position() {
        let cases = [
            (
                SplitErrorKind::UnterminatedQuote,
                0,
                "unterminated quoted identifier at byte 0",
            ),
            (
                SplitErrorKind::UnexpectedChar('"'),
                3,
                "unexpected character '\"' at byte 3",
            ),
            (
                SplitErrorKind::UnexpectedChar('\0'),
                1,
                "unexpected character '\\0' at byte 1",
            ),
            (
                SplitErrorKind::LeadingDigit,
                5,
                "unquoted identifier starts with a digit at byte 5",
            ),
            (
                SplitErrorKind::EmptyIdentifier,
                2,
                "empty identifier at byte 2",
            ),
        ];
        for (kind, position, text) in cases {
            let error = SplitError::new(kind, position);
            assert_eq!(error.to_string(), text);
            assert_eq!(error.kind(), kind);
            assert_eq!(error.position(), position);
        }
    }
}
