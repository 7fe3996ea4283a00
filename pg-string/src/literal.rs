//! String literals: `'…'` and `E'…'`.
//!
//! These are pure string functions and total over `&str`. A `NUL` character
//! passes through unchanged even though PostgreSQL text can never hold one:
//! the server rejects such a literal (and a query string is cut at the first
//! `NUL` by the simple query protocol), so code that sends the result must
//! refuse text containing `'\0'` itself.

use std::borrow::Cow;

/// Doubles every `'` in `text`, giving the body of a standard string literal.
///
/// Nothing else is touched, backslashes included: with
/// `standard_conforming_strings` on (PostgreSQL's default since 9.1) a
/// backslash in `'…'` has no special meaning.
///
/// ```
/// assert_eq!(pg_string::escape_literal("it's"), "it''s");
/// assert_eq!(pg_string::escape_literal(r"C:\dir"), r"C:\dir");
/// ```
pub fn escape_literal(text: &str) -> Cow<'_, str> {
    double(text, '\'')
}

/// Writes `text` as a standard string literal: `'`, the escaped text, `'`.
///
/// This is py-postgresql's form, and it is correct only while the session has
/// `standard_conforming_strings` on (the default). Where a session may have it
/// off, use [`quote_literal_portable`]: there a backslash would escape the
/// closing quote.
///
/// ```
/// assert_eq!(pg_string::quote_literal("foo'bar"), "'foo''bar'");
/// assert_eq!(pg_string::quote_literal(r"\foo"), r"'\foo'");
/// ```
pub fn quote_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    push_doubled(&mut out, text, |c| c == '\'');
    out.push('\'');
    out
}

/// Writes `text` as a literal that means the same whatever
/// `standard_conforming_strings` is, exactly as the server's own
/// `quote_literal()` function does.
///
/// Text without a backslash is quoted as by [`quote_literal`]; text with one
/// becomes an escape string, `E'…'`, with each backslash and quote doubled.
///
/// ```
/// assert_eq!(pg_string::quote_literal_portable("foo'bar"), "'foo''bar'");
/// assert_eq!(pg_string::quote_literal_portable(r"a\b'c"), r"E'a\\b''c'");
/// ```
pub fn quote_literal_portable(text: &str) -> String {
    if !text.contains('\\') {
        return quote_literal(text);
    }
    let mut out = String::with_capacity(text.len() + 4);
    out.push_str("E'");
    push_doubled(&mut out, text, |c| c == '\'' || c == '\\');
    out.push('\'');
    out
}

/// `text` with every `quote` doubled; borrowed when there is none.
pub(crate) fn double(text: &str, quote: char) -> Cow<'_, str> {
    if text.contains(quote) {
        let mut out = String::with_capacity(text.len() + 4);
        push_doubled(&mut out, text, |c| c == quote);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// Appends `text` to `out`, writing each character matching `doubled` twice.
pub(crate) fn push_doubled(out: &mut String, text: &str, doubled: impl Fn(char) -> bool) {
    for c in text.chars() {
        if doubled(c) {
            out.push(c);
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_literal_doubles_only_single_quotes() {
        assert_eq!(escape_literal(""), "");
        assert_eq!(escape_literal("'"), "''");
        assert_eq!(escape_literal("''"), "''''");
        assert_eq!(escape_literal(r#"a"b\c"#), r#"a"b\c"#);
        assert!(matches!(escape_literal("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn escape_literal_leaves_every_other_character_alone() {
        // py-postgresql's test: the first 10,000 code points, quote removed.
        let chars: String = (0..10_000u32)
            .filter_map(char::from_u32)
            .filter(|&c| c != '\'')
            .collect();
        assert_eq!(escape_literal(&chars), chars.as_str());
    }

    #[test]
    fn quote_literal_matches_py_postgresql() {
        assert_eq!(quote_literal("foo'bar"), "'foo''bar'");
        assert_eq!(quote_literal("\\foo'bar\\"), "'\\foo''bar\\'");
        assert_eq!(quote_literal(""), "''");
        assert_eq!(quote_literal("'"), "''''");
    }

    #[test]
    fn quote_literal_keeps_nul_and_unicode() {
        assert_eq!(quote_literal("a\0b"), "'a\0b'");
        assert_eq!(quote_literal("žluť'ouč"), "'žluť''ouč'");
    }

    #[test]
    fn quote_literal_portable_matches_the_server() {
        // Values checked against PostgreSQL 15's quote_literal().
        assert_eq!(quote_literal_portable(""), "''");
        assert_eq!(quote_literal_portable("abc"), "'abc'");
        assert_eq!(quote_literal_portable("a\\b'c"), "E'a\\\\b''c'");
        assert_eq!(quote_literal_portable("\\"), "E'\\\\'");
    }

    #[test]
    fn quoted_literals_split_back_into_their_body() {
        use crate::{Part, Quote, split};
        for text in ["", "x", "it's", "\\", "\\'", "''\\''", "$$;\"", "\0"] {
            let plain = split(&quote_literal(text));
            assert_eq!(plain.len(), 3, "{text:?}");
            assert_eq!(plain[1], Part::quoted(Quote::Single, escape_literal(text)));
            let portable = split(&quote_literal_portable(text));
            assert_eq!(portable.len(), 3, "{text:?}");
        }
    }
}
