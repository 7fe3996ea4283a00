//! The pieces a split SQL string is made of.

use std::borrow::Cow;
use std::fmt;

/// How a quoted section of SQL is delimited.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Quote {
    /// A standard string, `'…'`: a doubled `''` stands for one quote and a
    /// backslash is an ordinary character.
    Single,
    /// An escape string, `E'…'` (`e'…'` when `lowercase`): besides the
    /// doubled quote, a backslash escapes the character after it.
    Escape {
        /// Whether the prefix was written `e` rather than `E`.
        lowercase: bool,
    },
    /// A quoted identifier, `"…"`: a doubled `""` stands for one quote.
    Double,
    /// A dollar-quoted string, `$tag$…$tag$`. The field is the tag alone,
    /// without the dollar signs, and is empty for `$$…$$`.
    Dollar(String),
}

impl Quote {
    /// The delimiter that opens the section, as written: `'`, `E'`, `e'`,
    /// `"`, `$$` or `$tag$`.
    pub fn opening(&self) -> Cow<'static, str> {
        match self {
            Quote::Single => Cow::Borrowed("'"),
            Quote::Escape { lowercase: false } => Cow::Borrowed("E'"),
            Quote::Escape { lowercase: true } => Cow::Borrowed("e'"),
            Quote::Double => Cow::Borrowed("\""),
            Quote::Dollar(tag) => Cow::Owned(format!("${tag}$")),
        }
    }

    /// The delimiter that closes the section: `'`, `"`, `$$` or `$tag$`.
    pub fn closing(&self) -> Cow<'static, str> {
        match self {
            Quote::Single | Quote::Escape { .. } => Cow::Borrowed("'"),
            Quote::Double => Cow::Borrowed("\""),
            Quote::Dollar(tag) => Cow::Owned(format!("${tag}$")),
        }
    }
}

impl fmt::Display for Quote {
    /// Writes the opening delimiter, as py-postgresql shows a quote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.opening())
    }
}

/// One element of a split SQL string (see [`split`](crate::split)).
///
/// A split is a `Vec<Part>` that alternates: even positions (0, 2, …) are
/// always [`Part::Unquoted`], possibly empty, and odd positions are always
/// [`Part::Quoted`]. A sequence that ends on a quoted part ends in a quote
/// that was never closed (a *runaway* quote); every other sequence ends on an
/// unquoted part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Part {
    /// Text outside any quotes, exactly as written.
    Unquoted(String),
    /// A quoted section.
    Quoted {
        /// How the section is delimited.
        quote: Quote,
        /// The text between the delimiters, exactly as written: doubled
        /// quotes stay doubled and backslash escapes stay escaped.
        body: String,
    },
}

impl Part {
    /// An unquoted part.
    pub fn unquoted(text: impl Into<String>) -> Part {
        Part::Unquoted(text.into())
    }

    /// A quoted part.
    pub fn quoted(quote: Quote, body: impl Into<String>) -> Part {
        Part::Quoted {
            quote,
            body: body.into(),
        }
    }

    /// Whether this is a quoted section.
    pub fn is_quoted(&self) -> bool {
        matches!(self, Part::Quoted { .. })
    }

    /// The text of an unquoted part, or the body of a quoted one.
    pub fn text(&self) -> &str {
        match self {
            Part::Unquoted(text) => text,
            Part::Quoted { body, .. } => body,
        }
    }

    /// The quote of a quoted part.
    pub fn quote(&self) -> Option<&Quote> {
        match self {
            Part::Unquoted(_) => None,
            Part::Quoted { quote, .. } => Some(quote),
        }
    }
}

/// The quote left open at the end of a split, if any: the quote of its last
/// part when that part is quoted.
///
/// ```
/// use pg_string::{Quote, split, unterminated};
///
/// assert_eq!(unterminated(&split("select 'a'")), None);
/// assert_eq!(unterminated(&split("select 'a")), Some(&Quote::Single));
/// ```
pub fn unterminated(parts: &[Part]) -> Option<&Quote> {
    parts.last().and_then(Part::quote)
}

/// Joins split parts back into SQL text; `unsplit(&split(sql)) == sql` for
/// every `sql`.
///
/// Each quoted part is written with its opening delimiter, its body and its
/// closing delimiter, except the last part of the sequence: a quoted part
/// there is a runaway quote and gets no closing delimiter. Parts need not
/// alternate; each is written in turn.
///
/// ```
/// use pg_string::{split, unsplit};
///
/// for sql in ["select 'it''s'", "select $x$ ; $x$", "select \"runaway"] {
///     assert_eq!(unsplit(&split(sql)), sql);
/// }
/// ```
pub fn unsplit<'a>(parts: impl IntoIterator<Item = &'a Part>) -> String {
    let mut out = String::new();
    let mut parts = parts.into_iter().peekable();
    while let Some(part) = parts.next() {
        match part {
            Part::Unquoted(text) => out.push_str(text),
            Part::Quoted { quote, body } => {
                out.push_str(&quote.opening());
                out.push_str(body);
                if parts.peek().is_some() {
                    out.push_str(&quote.closing());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        let cases = [
            (Quote::Single, "'", "'"),
            (Quote::Escape { lowercase: false }, "E'", "'"),
            (Quote::Escape { lowercase: true }, "e'", "'"),
            (Quote::Double, "\"", "\""),
            (Quote::Dollar(String::new()), "$$", "$$"),
            (Quote::Dollar("fn".into()), "$fn$", "$fn$"),
        ];
        for (quote, open, close) in cases {
            assert_eq!(quote.opening(), open);
            assert_eq!(quote.closing(), close);
            assert_eq!(quote.to_string(), open);
        }
    }

    #[test]
    fn part_accessors() {
        let plain = Part::unquoted("select ");
        let quoted = Part::quoted(Quote::Double, "a\"\"b");
        assert!(!plain.is_quoted());
        assert!(quoted.is_quoted());
        assert_eq!(plain.text(), "select ");
        assert_eq!(quoted.text(), "a\"\"b");
        assert_eq!(plain.quote(), None);
        assert_eq!(quoted.quote(), Some(&Quote::Double));
    }

    #[test]
    fn unsplit_closes_all_but_a_final_quote() {
        let closed = [
            Part::unquoted("a "),
            Part::quoted(Quote::Dollar("t".into()), "x"),
            Part::unquoted(""),
        ];
        assert_eq!(unsplit(&closed), "a $t$x$t$");
        assert_eq!(unterminated(&closed), None);
        let runaway = [
            Part::unquoted("a "),
            Part::quoted(Quote::Escape { lowercase: true }, "x"),
        ];
        assert_eq!(unsplit(&runaway), "a e'x");
        assert_eq!(
            unterminated(&runaway),
            Some(&Quote::Escape { lowercase: true })
        );
    }

    #[test]
    fn unsplit_of_nothing_is_empty() {
        assert_eq!(unsplit(&[]), "");
        assert_eq!(unterminated(&[]), None);
    }

    #[test]
    fn unsplit_tolerates_parts_that_do_not_alternate() {
        let parts = [
            Part::quoted(Quote::Single, "a"),
            Part::quoted(Quote::Double, "b"),
            Part::unquoted("c"),
            Part::unquoted("d"),
        ];
        assert_eq!(unsplit(&parts), "'a'\"b\"cd");
    }
}
