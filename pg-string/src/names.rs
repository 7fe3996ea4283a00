//! Parsing lists of identifiers and qualified names.

use std::ops::Range;

use crate::error::{SplitError, SplitErrorKind};
use crate::using::pieces;

/// Splits a comma-separated list of identifiers, as written in SQL, into the
/// names they stand for.
///
/// Same rules as [`split_qname`], with `,` as the separator.
///
/// ```
/// assert_eq!(pg_string::split_ident(r#"id, "Name", Total"#).unwrap(), ["id", "Name", "total"]);
/// ```
pub fn split_ident(text: &str) -> Result<Vec<String>, SplitError> {
    split_ident_on(text, ',')
}

/// Splits a qualified name such as `schema.table` into its identifiers.
///
/// - White space around each identifier is ignored.
/// - A quoted identifier, `"…"`, is kept exactly, with each doubled `""`
///   made single; anything after its closing quote but white space is an
///   error. `""` gives the empty name, so that every [`qname`](crate::qname)
///   splits back into its parts.
/// - An unquoted identifier is lower-cased, and must be made of what
///   PostgreSQL's lexer accepts in one: ASCII letters, `_` and non-ASCII
///   characters, then digits and `$` as well.
///
/// Lower-casing is Unicode's, as py-postgresql does (`ÅB` becomes `åb`).
/// PostgreSQL folds only ASCII letters in a UTF-8 database, so an unquoted
/// non-ASCII upper-case letter names something else there.
///
/// ```
/// use pg_string::split_qname;
///
/// assert_eq!(split_qname(r#"Public . "My ""Table""""#).unwrap(), ["public", r#"My "Table""#]);
///
/// let error = split_qname("public.9lives").unwrap_err();
/// assert_eq!(error.to_string(), "unquoted identifier starts with a digit at byte 7");
/// ```
pub fn split_qname(text: &str) -> Result<Vec<String>, SplitError> {
    split_ident_on(text, '.')
}

/// Splits identifiers separated by `separator` (see [`split_qname`]).
pub fn split_ident_on(text: &str, separator: char) -> Result<Vec<String>, SplitError> {
    split_ident_with(text, separator, '"', None)
}

/// Splits a qualified name of at most `maxsplit + 1` parts: [`split_qname`], splitting at
/// no more than `maxsplit` dots. As in py-postgresql, every piece, the rest included, must
/// be one identifier, so more parts than that are an error at the first dot too many: a
/// check that a name has the shape wanted.
///
/// ```
/// use pg_string::{SplitErrorKind, split_qname_n};
///
/// assert_eq!(split_qname_n("Sales.\"Q.1\"", 1).unwrap(), ["sales", "Q.1"]);
/// assert_eq!(split_qname_n("orders", 1).unwrap(), ["orders"]);
/// let error = split_qname_n("db.sales.orders", 1).unwrap_err();
/// assert_eq!((error.kind(), error.position()), (SplitErrorKind::UnexpectedChar('.'), 8));
/// ```
pub fn split_qname_n(text: &str, maxsplit: usize) -> Result<Vec<String>, SplitError> {
    split_ident_with(text, '.', '"', Some(maxsplit))
}

/// py-postgresql's `split_ident(text, sep, quote, maxsplit)`: identifiers separated by
/// `separator`, quoted with `quote` (doubled inside to stand for itself), split at no
/// more than `maxsplit` separators when it is given. The rules are [`split_qname`]'s with
/// `quote` for `"`; every piece, the unsplit rest included, must be one identifier.
///
/// ```
/// use pg_string::split_ident_with;
///
/// assert_eq!(split_ident_with("`My``Col`, id", ',', '`', None).unwrap(), ["My`Col", "id"]);
/// assert_eq!(split_ident_with("a; \"b;c\"", ';', '"', Some(1)).unwrap(), ["a", "b;c"]);
/// ```
pub fn split_ident_with(
    text: &str,
    separator: char,
    quote: char,
    maxsplit: Option<usize>,
) -> Result<Vec<String>, SplitError> {
    let n = maxsplit.map_or(usize::MAX, |m| m.saturating_add(1));
    let ranges = pieces(text, n, separator, quote);
    let mut names = Vec::with_capacity(ranges.len());
    for range in ranges {
        names.push(identifier(text, range, quote)?);
    }
    Ok(names)
}

/// The name written in `text[range]`.
fn identifier(text: &str, range: Range<usize>, quote: char) -> Result<String, SplitError> {
    let piece = &text[range.clone()];
    let trimmed = piece.trim();
    let start = range.start + (piece.len() - piece.trim_start().len());
    match trimmed.strip_prefix(quote) {
        _ if trimmed.is_empty() => Err(SplitError::new(
            SplitErrorKind::EmptyIdentifier,
            range.start,
        )),
        Some(quoted) => quoted_identifier(quoted, start, quote),
        None => unquoted_identifier(trimmed, start),
    }
}

/// The name in a quoted identifier; `quoted` follows the opening `quote`, which
/// is at byte `start`.
fn quoted_identifier(quoted: &str, start: usize, quote: char) -> Result<String, SplitError> {
    let mut name = String::with_capacity(quoted.len());
    let mut chars = quoted.char_indices().peekable();
    let opening = quote.len_utf8();
    while let Some((at, c)) = chars.next() {
        if c != quote {
            name.push(c);
        } else if chars.next_if(|&(_, next)| next == quote).is_some() {
            name.push(quote);
        } else {
            let after = &quoted[at + c.len_utf8()..];
            let junk = after.trim_start();
            return match junk.chars().next() {
                None => Ok(name),
                Some(c) => {
                    let position =
                        start + opening + at + quote.len_utf8() + (after.len() - junk.len());
                    Err(SplitError::new(SplitErrorKind::UnexpectedChar(c), position))
                }
            };
        }
    }
    Err(SplitError::new(SplitErrorKind::UnterminatedQuote, start))
}

/// The name in an unquoted identifier, which is at byte `start`.
fn unquoted_identifier(word: &str, start: usize) -> Result<String, SplitError> {
    for (at, c) in word.char_indices() {
        let letter = c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
        let valid = letter || (at > 0 && (c.is_ascii_digit() || c == '$'));
        if !valid {
            let kind = if c.is_ascii_digit() {
                SplitErrorKind::LeadingDigit
            } else {
                SplitErrorKind::UnexpectedChar(c)
            };
            return Err(SplitError::new(kind, start + at));
        }
    }
    Ok(word.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::{qname, qname_if_needed};

    fn error(text: &str) -> (SplitErrorKind, usize) {
        let error = split_qname(text).expect_err(text);
        (error.kind(), error.position())
    }

    #[test]
    fn py_postgresql_samples() {
        // (written, split, normalised by qname_if_needed)
        let samples: &[(&str, &[&str], &str)] = &[
            ("base", &["base"], "base"),
            ("bASe", &["base"], "base"),
            ("\"base\"", &["base"], "base"),
            ("\"base \"", &["base "], "\"base \""),
            ("\" base\"", &[" base"], "\" base\""),
            ("\" base\"\"\"", &[" base\""], "\" base\"\"\""),
            ("\"\"\" base\"\"\"", &["\" base\""], "\"\"\" base\"\"\""),
            ("\".base\"", &[".base"], "\".base\""),
            ("\".base.\"", &[".base."], "\".base.\""),
            ("schema.base", &["schema", "base"], "schema.base"),
            ("\"schema\".base", &["schema", "base"], "schema.base"),
            ("schema.\"base\"", &["schema", "base"], "schema.base"),
            ("\"schema.base\"", &["schema.base"], "\"schema.base\""),
            ("schEmÅ.\"base\"", &["schemå", "base"], "\"schemå\".base"),
            ("scheMa.\"base\"", &["schema", "base"], "schema.base"),
            (
                "\" schema\".\"base\"",
                &[" schema", "base"],
                "\" schema\".base",
            ),
            (
                "\" schema\".\"ba se\"",
                &[" schema", "ba se"],
                "\" schema\".\"ba se\"",
            ),
            (
                "\" \"\"schema\".\"ba\"\"se\"",
                &[" \"schema", "ba\"se"],
                "\" \"\"schema\".\"ba\"\"se\"",
            ),
            (
                "\" schema\" . \"ba se\"",
                &[" schema", "ba se"],
                "\" schema\".\"ba se\"",
            ),
            (
                " \" schema\" . \"ba se\"\t",
                &[" schema", "ba se"],
                "\" schema\".\"ba se\"",
            ),
            (
                " \". schema.\" . \"ba se\"\t",
                &[". schema.", "ba se"],
                "\". schema.\".\"ba se\"",
            ),
            (
                "CAT . \". schema.\" . \"ba se\"\t",
                &["cat", ". schema.", "ba se"],
                "cat.\". schema.\".\"ba se\"",
            ),
            (
                "\"cat\" . \". schema.\" . \"ba se\"\t",
                &["cat", ". schema.", "ba se"],
                "cat.\". schema.\".\"ba se\"",
            ),
            (
                "\"\"\"cat\" . \". schema.\" . \"ba se\"\t",
                &["\"cat", ". schema.", "ba se"],
                "\"\"\"cat\".\". schema.\".\"ba se\"",
            ),
            (
                "\"\"\"cÅt\" . \". schema.\" . \"ba se\"\t",
                &["\"cÅt", ". schema.", "ba se"],
                "\"\"\"cÅt\".\". schema.\".\"ba se\"",
            ),
        ];
        for &(written, parts, normal) in samples {
            let split = split_qname(written).expect(written);
            assert_eq!(split, parts, "{written:?}");
            assert_eq!(qname_if_needed(parts), normal, "{written:?}");
            assert_eq!(split_qname(&qname(parts)).expect(written), parts);
        }
    }

    #[test]
    fn py_postgresql_errors() {
        assert_eq!(error("\"foo"), (SplitErrorKind::UnterminatedQuote, 0));
        assert_eq!(error("foo\""), (SplitErrorKind::UnexpectedChar('"'), 3));
        assert_eq!(error("bar.foo\""), (SplitErrorKind::UnexpectedChar('"'), 7));
        assert_eq!(
            error("bar\".foo\""),
            (SplitErrorKind::UnexpectedChar('"'), 3)
        );
    }

    #[test]
    fn malformed_names() {
        assert_eq!(error(""), (SplitErrorKind::EmptyIdentifier, 0));
        assert_eq!(error("  "), (SplitErrorKind::EmptyIdentifier, 0));
        assert_eq!(error("a..b"), (SplitErrorKind::EmptyIdentifier, 2));
        assert_eq!(error("a. "), (SplitErrorKind::EmptyIdentifier, 2));
        assert_eq!(error("\""), (SplitErrorKind::UnterminatedQuote, 0));
        assert_eq!(error("a. \"b\"\""), (SplitErrorKind::UnterminatedQuote, 3));
        assert_eq!(error("\"a\"b"), (SplitErrorKind::UnexpectedChar('b'), 3));
        assert_eq!(
            error("\"a\"  \"b\""),
            (SplitErrorKind::UnexpectedChar('"'), 5)
        );
        assert_eq!(error("a b"), (SplitErrorKind::UnexpectedChar(' '), 1));
        assert_eq!(error("x.1a"), (SplitErrorKind::LeadingDigit, 2));
        assert_eq!(error("$a"), (SplitErrorKind::UnexpectedChar('$'), 0));
        assert_eq!(error("a-b"), (SplitErrorKind::UnexpectedChar('-'), 1));
        assert_eq!(error("a\0"), (SplitErrorKind::UnexpectedChar('\0'), 1));
    }

    #[test]
    fn unquoted_identifiers_follow_the_lexer() {
        assert_eq!(split_qname("a$1.b_2").unwrap(), ["a$1", "b_2"]);
        assert_eq!(split_qname("_x").unwrap(), ["_x"]);
        assert_eq!(split_qname("ÉCOLE").unwrap(), ["école"]);
        assert_eq!(split_qname("\u{a0}x\u{3000}").unwrap(), ["x"]);
    }

    #[test]
    fn empty_quoted_identifier_is_the_empty_name() {
        assert_eq!(split_qname("\"\"").unwrap(), [""]);
        assert_eq!(split_qname("\"\".\"\"").unwrap(), ["", ""]);
    }

    #[test]
    fn identifier_lists() {
        assert_eq!(split_ident("a, \"B,C\" ,d").unwrap(), ["a", "B,C", "d"]);
        assert_eq!(
            split_ident("a.b").unwrap_err().kind(),
            SplitErrorKind::UnexpectedChar('.')
        );
        assert_eq!(split_ident_on("a|B", '|').unwrap(), ["a", "b"]);
    }

    #[test]
    fn another_quote_character_and_a_maximum_of_splits() {
        assert_eq!(
            split_ident_with("`a``b`.`c.d` . E", '.', '`', None).unwrap(),
            ["a`b", "c.d", "e"]
        );
        // With another quote character, `"` is no quote: an error in an unquoted name.
        let error = split_ident_with("\"a\"", ',', '`', None).unwrap_err();
        assert_eq!(error.kind(), SplitErrorKind::UnexpectedChar('"'));
        // A quote character of more than one byte.
        assert_eq!(
            split_ident_with("«a»", ',', '«', None).unwrap_err().kind(),
            SplitErrorKind::UnterminatedQuote
        );
        assert_eq!(
            split_ident_with("«a««»,b", ',', '«', None)
                .unwrap_err()
                .kind(),
            SplitErrorKind::UnterminatedQuote
        );
        assert_eq!(
            split_ident_with("§a§§b§ , c", ',', '§', None).unwrap(),
            ["a§b", "c"]
        );
        let error = split_ident_with("§a§ x", ',', '§', None).unwrap_err();
        assert_eq!(
            (error.kind(), error.position()),
            (SplitErrorKind::UnexpectedChar('x'), 6)
        );
        // maxsplit: the rest must be one identifier; separators inside quotes do not count.
        assert_eq!(split_qname_n("a.b", 1).unwrap(), ["a", "b"]);
        assert_eq!(split_qname_n("a.\"b.c\"", 1).unwrap(), ["a", "b.c"]);
        assert_eq!(split_qname_n("a", 0).unwrap(), ["a"]);
        let error = split_qname_n("a.b", 0).unwrap_err();
        assert_eq!(
            (error.kind(), error.position()),
            (SplitErrorKind::UnexpectedChar('.'), 1)
        );
        let error = split_qname_n("\"a\".b.c", 1).unwrap_err();
        assert_eq!(
            (error.kind(), error.position()),
            (SplitErrorKind::UnexpectedChar('.'), 5)
        );
        assert_eq!(split_qname_n("a.b.c", 5).unwrap(), ["a", "b", "c"]);
        assert_eq!(split_qname_n("a.b.c", usize::MAX).unwrap(), ["a", "b", "c"]);
        assert_eq!(
            split_ident_with("a, b, c", ',', '"', Some(1))
                .unwrap_err()
                .kind(),
            SplitErrorKind::UnexpectedChar(',')
        );
    }
}
