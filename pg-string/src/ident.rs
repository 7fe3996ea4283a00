//! Quoting identifiers and qualified names.
//!
//! Like the literal functions, these are total: an empty identifier quotes as
//! `""` (what the server's `quote_ident('')` gives, though PostgreSQL rejects
//! a zero-length quoted identifier) and a `NUL` passes through unchanged.

use std::borrow::Cow;

use crate::keywords::is_quoted_keyword;
use crate::literal::{double, push_doubled};

/// Doubles every `"` in `text`, giving the body of a quoted identifier.
///
/// ```
/// assert_eq!(pg_string::escape_ident(r#"say "hi""#), r#"say ""hi"""#);
/// ```
pub fn escape_ident(text: &str) -> Cow<'_, str> {
    double(text, '"')
}

/// Writes `text` as a quoted identifier: `"`, the escaped text, `"`.
///
/// Always quotes, so the identifier keeps its exact spelling, case included.
///
/// ```
/// assert_eq!(pg_string::quote_ident("Foo"), r#""Foo""#);
/// assert_eq!(pg_string::quote_ident(r#"a"b"#), r#""a""b""#);
/// ```
pub fn quote_ident(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    push_doubled(&mut out, text, |c| c == '"');
    out.push('"');
    out
}

/// Whether `text` must be quoted to be read back as the same identifier.
///
/// It need not be exactly when it is made of lower-case ASCII letters,
/// digits and `_`, does not start with a digit, and is not a keyword that
/// PostgreSQL 15 reserves in any way (every category but "unreserved"). This
/// is the rule of the server's own `quote_ident()` function. Everything else
/// is quoted: upper case (which would be folded to lower case), other
/// characters, the empty string and the keywords. A `$` is quoted too: it is
/// allowed inside an unquoted identifier but not by the SQL standard.
///
/// ```
/// use pg_string::needs_quoting;
///
/// assert!(!needs_quoting("orders_2024"));
/// assert!(needs_quoting("Orders"));
/// assert!(needs_quoting("select"));
/// assert!(needs_quoting("2024"));
/// ```
pub fn needs_quoting(text: &str) -> bool {
    let mut bytes = text.bytes();
    let plain = matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'));
    !plain || is_quoted_keyword(text)
}

/// Quotes `text` as by [`quote_ident`] when [`needs_quoting`] says so, and
/// returns it as it is otherwise.
///
/// ```
/// use pg_string::quote_ident_if_needed;
///
/// assert_eq!(quote_ident_if_needed("orders"), "orders");
/// assert_eq!(quote_ident_if_needed("Foo"), r#""Foo""#);
/// assert_eq!(quote_ident_if_needed("select"), r#""select""#);
/// ```
pub fn quote_ident_if_needed(text: &str) -> Cow<'_, str> {
    if needs_quoting(text) {
        Cow::Owned(quote_ident(text))
    } else {
        Cow::Borrowed(text)
    }
}

/// Quotes every part with [`quote_ident`] and joins them with `.`.
///
/// No parts give the empty string; an empty part gives `""`.
///
/// ```
/// assert_eq!(pg_string::qname(["public", "Orders"]), r#""public"."Orders""#);
/// ```
pub fn qname<I>(parts: I) -> String
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    join(parts, |part| Cow::Owned(quote_ident(part)))
}

/// Quotes the parts that need it (see [`quote_ident_if_needed`]) and joins
/// them with `.`.
///
/// ```
/// assert_eq!(pg_string::qname_if_needed(["public", "Orders"]), r#"public."Orders""#);
/// ```
pub fn qname_if_needed<I>(parts: I) -> String
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    join(parts, quote_ident_if_needed)
}

fn join<I>(parts: I, quote: impl Fn(&str) -> Cow<'_, str>) -> String
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut out = String::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(&quote(part.as_ref()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keywords::QUOTED_KEYWORDS;

    #[test]
    fn escape_ident_doubles_only_double_quotes() {
        assert_eq!(escape_ident("\""), "\"\"");
        assert_eq!(escape_ident("\"\""), "\"\"\"\"");
        assert_eq!(escape_ident("it's"), "it's");
        let chars: String = (0..10_000u32)
            .filter_map(char::from_u32)
            .filter(|&c| c != '"')
            .collect();
        assert!(matches!(escape_ident(&chars), Cow::Borrowed(s) if s == chars));
    }

    #[test]
    fn quote_ident_always_quotes() {
        assert_eq!(quote_ident("foo"), "\"foo\"");
        assert_eq!(quote_ident(""), "\"\"");
        assert_eq!(quote_ident("\\foo'bar\\"), "\"\\foo'bar\\\"");
        assert_eq!(quote_ident("a\0b"), "\"a\0b\"");
    }

    #[test]
    fn plain_lower_case_names_stay_unquoted() {
        for name in ["foo", "foo0", "_", "_9", "abort", "user_id", "a1_b2"] {
            assert_eq!(quote_ident_if_needed(name), name);
            assert!(matches!(quote_ident_if_needed(name), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn everything_else_is_quoted() {
        // Each checked against PostgreSQL 15's quote_ident().
        let cases = [
            ("", "\"\""),
            ("0foo", "\"0foo\""),
            ("Foo", "\"Foo\""),
            ("fOO", "\"fOO\""),
            ("a b", "\"a b\""),
            ("a$b", "\"a$b\""),
            ("å", "\"å\""),
            ("a-b", "\"a-b\""),
            ("a\"b", "\"a\"\"b\""),
            ("select", "\"select\""),
            ("int", "\"int\""),
            ("between", "\"between\""),
            ("left", "\"left\""),
        ];
        for (name, quoted) in cases {
            assert_eq!(quote_ident_if_needed(name), quoted, "{name:?}");
        }
    }

    #[test]
    fn keyword_list_is_sorted_for_binary_search() {
        // PostgreSQL 15: 51 "C", 23 "T" and 77 "R" keywords.
        assert_eq!(QUOTED_KEYWORDS.len(), 151);
        assert!(QUOTED_KEYWORDS.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(
            QUOTED_KEYWORDS
                .iter()
                .all(|k| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
    }

    #[test]
    fn every_listed_keyword_is_quoted_and_unreserved_ones_are_not() {
        for keyword in QUOTED_KEYWORDS {
            assert!(needs_quoting(keyword), "{keyword}");
        }
        for unreserved in ["abort", "action", "data", "name", "text", "value", "zone"] {
            assert!(!needs_quoting(unreserved), "{unreserved}");
        }
        // Upper-case spellings are quoted for their case anyway.
        assert!(needs_quoting("SELECT"));
    }

    #[test]
    fn qualified_names() {
        assert_eq!(qname(["schema", "base"]), "\"schema\".\"base\"");
        assert_eq!(qname(Vec::<String>::new()), "");
        assert_eq!(qname([""]), "\"\"");
        assert_eq!(qname(["", ""]), "\"\".\"\"");
        assert_eq!(qname(["a.b"]), "\"a.b\"");
        assert_eq!(
            qname_if_needed(["cat", ". schema.", "ba se"]),
            "cat.\". schema.\".\"ba se\""
        );
        assert_eq!(qname_if_needed(["\"cÅt"]), "\"\"\"cÅt\"");
        let owned = vec![String::from("x"), String::from("Y")];
        assert_eq!(qname_if_needed(&owned), "x.\"Y\"");
        assert_eq!(qname(owned), "\"x\".\"Y\"");
    }
}
