//! Splitting SQL into unquoted text and quoted sections.
//!
//! The scanner recognises the quotes PostgreSQL's lexer does, by its rules:
//!
//! - `'…'` and `"…"`, where a doubled quote stands for one;
//! - `E'…'` and `e'…'`, where a backslash also escapes the next character;
//!   the `E` only opens one where it starts a token, so in `somee'x'` the
//!   quote opens a standard string after the identifier `somee`;
//! - `$$…$$` and `$tag$…$tag$`, where the tag starts with a letter, `_` or a
//!   non-ASCII character and goes on with those or ASCII digits, and the
//!   opening `$` does not continue an identifier (`a$$b` is one identifier,
//!   `$1` is a parameter, `$1$` a parameter and a stray `$`).
//!
//! [`split`] does not recognise comments: a quote inside `-- …` or `/* … */` opens a
//! quoted section, as it does in py-postgresql. [`split_sql`](crate::split_sql) does.

use std::ops::Range;

use crate::part::{Part, Quote};

/// Splits `sql` into unquoted text and quoted sections.
///
/// The result alternates as described on [`Part`]: it starts with an
/// unquoted part (empty when `sql` starts with a quote), and each quoted
/// part is followed by an unquoted one (empty when another quote follows at
/// once), except a runaway quote, which ends the sequence. Nothing is lost:
/// [`unsplit`](crate::unsplit) gives `sql` back, and quotation errors are
/// never raised, only made visible by the shape of the result.
///
/// ```
/// use pg_string::{Part, Quote, split};
///
/// assert_eq!(
///     split("select $$foobar$$"),
///     [
///         Part::unquoted("select "),
///         Part::quoted(Quote::Dollar(String::new()), "foobar"),
///         Part::unquoted(""),
///     ]
/// );
/// // A runaway quote ends the split on a quoted part.
/// assert_eq!(
///     split("select $b$"),
///     [Part::unquoted("select "), Part::quoted(Quote::Dollar("b".into()), "")]
/// );
/// ```
pub fn split(sql: &str) -> Vec<Part> {
    scan(sql, None)
}

/// [`split`], reading comments as PostgreSQL's lexer does when `comments` is given: `--` to
/// the end of the line and `/* … */` (nested) are unquoted text, whatever quotes they hold,
/// and their byte ranges are pushed to `comments`.
pub(crate) fn scan(sql: &str, comments: Option<&mut Vec<Range<usize>>>) -> Vec<Part> {
    scan_strings(sql, comments, true)
}

/// [`scan`], reading `'…'` as the server does with `standard_conforming_strings` set to
/// `standard_conforming_strings`: when it is off, a backslash escapes the next character in
/// a plain string too, as in `E'…'`.
pub(crate) fn scan_strings(
    sql: &str,
    mut comments: Option<&mut Vec<Range<usize>>>,
    standard_conforming_strings: bool,
) -> Vec<Part> {
    let bytes = sql.as_bytes();
    let mut parts = Vec::new();
    // Start of the unquoted text being gathered.
    let mut unquoted_from = 0;
    let mut token = Token::Between;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if let Some(found) = comments.as_deref_mut()
            && let Some(end) = comment_at(bytes, at)
        {
            found.push(at..end);
            at = end;
            token = Token::Between;
            continue;
        }
        let Some((quote, opening_len)) = opening_at(sql, at, token) else {
            token = token.after(byte, bytes.get(at + 1).copied());
            at += 1;
            continue;
        };
        // Quotes are ASCII, so `at` and everything derived below lies on a
        // character boundary.
        parts.push(Part::Unquoted(sql[unquoted_from..at].to_owned()));
        let body_from = at + opening_len;
        let rest = &sql[body_from..];
        match closing_in(&quote, rest, standard_conforming_strings) {
            Some((body_len, closing_len)) => {
                parts.push(Part::quoted(quote, &rest[..body_len]));
                at = body_from + body_len + closing_len;
                unquoted_from = at;
                token = Token::Between;
            }
            None => {
                parts.push(Part::quoted(quote, rest));
                return parts;
            }
        }
    }
    parts.push(Part::Unquoted(sql[unquoted_from..].to_owned()));
    parts
}

/// The end (exclusive) of the comment starting at byte `at`, if one does: `--` runs to the
/// end of the line (the newline is not part of it), `/*` to its matching `*/` (they nest),
/// or to the end of the text when it is never closed.
fn comment_at(bytes: &[u8], at: usize) -> Option<usize> {
    match (bytes[at], bytes.get(at + 1)) {
        (b'-', Some(b'-')) => Some(
            bytes[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |n| at + n),
        ),
        (b'/', Some(b'*')) => {
            let mut depth = 0usize;
            let mut i = at;
            while i + 1 < bytes.len() {
                match (bytes[i], bytes[i + 1]) {
                    (b'/', b'*') => {
                        depth += 1;
                        i += 2;
                    }
                    (b'*', b'/') => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            return Some(i);
                        }
                    }
                    _ => i += 1,
                }
            }
            Some(bytes.len())
        }
        _ => None,
    }
}

/// What kind of token the scanner is in the middle of, which decides whether
/// an `E` or a `$` may open a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Between tokens, or in one that cannot continue into a quote opener
    /// (an operator, punctuation, white space).
    Between,
    /// An identifier or keyword: it swallows letters, digits and `$`.
    Identifier,
    /// A number or a `$n` parameter: letters and `$` after it start anew.
    Number,
}

impl Token {
    /// The state after an unquoted `byte`, followed by `next`.
    fn after(self, byte: u8, next: Option<u8>) -> Token {
        match byte {
            b'$' if self == Token::Identifier => Token::Identifier,
            b'$' if next.is_some_and(|b| b.is_ascii_digit()) => Token::Number,
            b'0'..=b'9' if self == Token::Between => Token::Number,
            _ if is_identifier_start(byte) && self == Token::Between => Token::Identifier,
            _ if is_identifier_start(byte) || byte.is_ascii_digit() => self,
            _ => Token::Between,
        }
    }
}

/// A letter, `_`, or a byte of a non-ASCII character: what PostgreSQL's lexer
/// accepts at the start of an identifier or a dollar-quote tag.
pub(crate) fn is_identifier_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || !byte.is_ascii()
}

/// The quote opened at byte `at` of `sql`, and its opening's length.
fn opening_at(sql: &str, at: usize, token: Token) -> Option<(Quote, usize)> {
    let bytes = sql.as_bytes();
    match bytes[at] {
        b'\'' => Some((Quote::Single, 1)),
        b'"' => Some((Quote::Double, 1)),
        prefix @ (b'E' | b'e')
            if token != Token::Identifier && bytes.get(at + 1) == Some(&b'\'') =>
        {
            let lowercase = prefix == b'e';
            Some((Quote::Escape { lowercase }, 2))
        }
        b'$' if token != Token::Identifier => {
            let tag = dollar_tag(&sql[at + 1..])?;
            Some((Quote::Dollar(tag.to_owned()), tag.len() + 2))
        }
        _ => None,
    }
}

/// The tag of a dollar quote whose first `$` was just before `after`: the
/// text up to the second `$`, when it is a valid tag.
fn dollar_tag(after: &str) -> Option<&str> {
    for (i, byte) in after.bytes().enumerate() {
        let valid = match byte {
            b'$' => return Some(&after[..i]),
            b'0'..=b'9' => i > 0,
            _ => is_identifier_start(byte),
        };
        if !valid {
            return None;
        }
    }
    None
}

/// Finds the end of a section opened by `quote` in `rest` (the text after
/// the opening): the body's length and the closing's length, or `None` when
/// the section runs to the end of the text.
fn closing_in(
    quote: &Quote,
    rest: &str,
    standard_conforming_strings: bool,
) -> Option<(usize, usize)> {
    let (delimiter, backslash_escapes) = match quote {
        Quote::Single => (b'\'', !standard_conforming_strings),
        Quote::Escape { .. } => (b'\'', true),
        Quote::Double => (b'"', false),
        Quote::Dollar(_) => {
            let closing = quote.closing();
            return rest.find(&*closing).map(|at| (at, closing.len()));
        }
    };
    let bytes = rest.as_bytes();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte == delimiter {
            if bytes.get(at + 1) != Some(&delimiter) {
                return Some((at, 1));
            }
            at += 2;
        } else if byte == b'\\' && backslash_escapes {
            // Skipping into the middle of a multi-byte character is harmless:
            // its remaining bytes are never a quote or a backslash.
            at += 2;
        } else {
            at += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::part::unsplit;

    fn dollar(tag: &str, body: &str) -> Part {
        Part::quoted(Quote::Dollar(tag.into()), body)
    }

    fn e(body: &str) -> Part {
        Part::quoted(Quote::Escape { lowercase: false }, body)
    }

    fn u(text: &str) -> Part {
        Part::unquoted(text)
    }

    fn check(sql: &str, expected: &[Part]) {
        let parts = split(sql);
        assert_eq!(parts, expected, "split({sql:?})");
        assert_eq!(unsplit(&parts), sql, "unsplit(split({sql:?}))");
    }

    #[test]
    fn empty_and_unquoted() {
        check("", &[u("")]);
        check("one-to-one", &[u("one-to-one")]);
    }

    #[test]
    fn every_kind_of_quote() {
        check("'a'", &[u(""), Part::quoted(Quote::Single, "a"), u("")]);
        check("\"a\"", &[u(""), Part::quoted(Quote::Double, "a"), u("")]);
        check("E'a'", &[u(""), e("a"), u("")]);
        let lower = Part::quoted(Quote::Escape { lowercase: true }, "it\\'s");
        check("e'it\\'s'", &[u(""), lower, u("")]);
        check("$$a$$", &[u(""), dollar("", "a"), u("")]);
        check("$fn$a$fn$", &[u(""), dollar("fn", "a"), u("")]);
    }

    #[test]
    fn empty_quotes_back_to_back() {
        let single = Part::quoted(Quote::Single, "");
        let double = Part::quoted(Quote::Double, "");
        check("''\"\"", &[u(""), single, u(""), double, u("")]);
        check("$$$$", &[u(""), dollar("", ""), u("")]);
    }

    #[test]
    fn runaway_quotes_of_each_kind() {
        check("x '", &[u("x "), Part::quoted(Quote::Single, "")]);
        check("x 'ab", &[u("x "), Part::quoted(Quote::Single, "ab")]);
        check(
            "x \"ab\"\"",
            &[u("x "), Part::quoted(Quote::Double, "ab\"\"")],
        );
        check("x 'foo''", &[u("x "), Part::quoted(Quote::Single, "foo''")]);
        check("x E'ab\\'", &[u("x "), e("ab\\'")]);
        check("x E'ab\\", &[u("x "), e("ab\\")]);
        check("x $$ab$", &[u("x "), dollar("", "ab$")]);
        check("$a$a$", &[u(""), dollar("a", "a$")]);
        check("$a$ $b$", &[u(""), dollar("a", " $b$")]);
    }

    #[test]
    fn dollar_tags_follow_identifier_rules() {
        check("select $1", &[u("select $1")]);
        check("select $1$", &[u("select $1$")]);
        check("$1$$x$$", &[u("$1"), dollar("", "x"), u("")]);
        check("1$$x$$", &[u("1"), dollar("", "x"), u("")]);
        check("a$$b$$", &[u("a$$b$$")]);
        check("select a$b$ from t", &[u("select a$b$ from t")]);
        check("$_1$x$_1$", &[u(""), dollar("_1", "x"), u("")]);
        check("$é$x$é$", &[u(""), dollar("é", "x"), u("")]);
        check("é$$x$$", &[u("é$$x$$")]);
        check("$ $ $-$ $a-$", &[u("$ $ $-$ $a-$")]);
    }

    #[test]
    fn dollar_bodies_end_only_at_their_own_tag() {
        check("$a$ x $b$ y $a$", &[u(""), dollar("a", " x $b$ y "), u("")]);
        check("$a$$b$$a$", &[u(""), dollar("a", "$b$"), u("")]);
        check("$a$ $$ $a$", &[u(""), dollar("a", " $$ "), u("")]);
        check(
            "$$ 'x' \"y\" $$",
            &[u(""), dollar("", " 'x' \"y\" "), u("")],
        );
        check("$$a\nb$$", &[u(""), dollar("", "a\nb"), u("")]);
    }

    #[test]
    fn escape_prefix_must_start_a_token() {
        let single = |body: &str| Part::quoted(Quote::Single, body);
        check("somee'x'", &[u("somee"), single("x"), u("")]);
        check("SOME'x\\'", &[u("SOME"), single("x\\"), u("")]);
        check("(E'x')", &[u("("), e("x"), u(")")]);
        check("1E'x'", &[u("1"), e("x"), u("")]);
        check("U&'x'", &[u("U&"), single("x"), u("")]);
    }

    #[test]
    fn escape_strings() {
        check("E'\\\\'", &[u(""), e("\\\\"), u("")]);
        check("E'\\''", &[u(""), e("\\'"), u("")]);
        check("E'a\\\nb'", &[u(""), e("a\\\nb"), u("")]);
        check("E'\\é'", &[u(""), e("\\é"), u("")]);
        // The SQL text E'\\' is one backslash; E'\\'' runs away after the
        // doubled quote, and E'\\''' closes after it.
        check(r"E'\\'", &[u(""), e(r"\\"), u("")]);
        check(r"E'\\''", &[u(""), e(r"\\''")]);
        check(r"E'\\'''", &[u(""), e(r"\\''"), u("")]);
    }

    #[test]
    fn quotes_inside_other_quotes_are_text() {
        let single = Part::quoted(Quote::Single, "\"$$");
        let double = Part::quoted(Quote::Double, "'$a$");
        check("'\"$$' \"'$a$\"", &[u(""), single, u(" "), double, u("")]);
    }

    #[test]
    fn nul_and_other_controls_are_ordinary() {
        check(
            "\0'\0'\0",
            &[u("\0"), Part::quoted(Quote::Single, "\0"), u("\0")],
        );
    }
}
