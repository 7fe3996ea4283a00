//! Splitting on a separator outside simple quotes.

use std::ops::Range;

/// Splits `text` at every `separator` that is not inside a section quoted by
/// `quote`, keeping empty pieces, like [`str::split`].
///
/// Only simple quoting is understood: a section runs from one `quote` to the
/// next one that is not doubled, and a section left open runs to the end of
/// the text. Backslash escapes and dollar quotes are not; for SQL use
/// [`split_sql`](crate::split_sql). Outside quotes, the separator is looked
/// for first, so a `separator` equal to `quote` splits there.
///
/// ```
/// use pg_string::split_using;
///
/// assert_eq!(split_using(r#"a."b.c"."d""e""#, '.', '"'), ["a", r#""b.c""#, r#""d""e""#]);
/// assert_eq!(split_using("x,'y,z", ',', '\''), ["x", "'y,z"]);
/// ```
pub fn split_using(text: &str, separator: char, quote: char) -> Vec<&str> {
    slices(text, pieces(text, usize::MAX, separator, quote))
}

/// Like [`split_using`], but stops after `n - 1` splits so there are at most
/// `n` pieces, the last holding the rest of the text, like [`str::splitn`].
/// (py-postgresql's `maxsplit` is `n - 1`.) `n == 0` gives no pieces.
///
/// ```
/// use pg_string::splitn_using;
///
/// assert_eq!(splitn_using("a.b.c", 2, '.', '"'), ["a", "b.c"]);
/// assert!(splitn_using("a.b.c", 0, '.', '"').is_empty());
/// ```
pub fn splitn_using(text: &str, n: usize, separator: char, quote: char) -> Vec<&str> {
    slices(text, pieces(text, n, separator, quote))
}

fn slices(text: &str, ranges: Vec<Range<usize>>) -> Vec<&str> {
    ranges.into_iter().map(|range| &text[range]).collect()
}

/// The byte ranges of the pieces [`splitn_using`] gives.
pub(crate) fn pieces(text: &str, n: usize, separator: char, quote: char) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    if n == 0 {
        return ranges;
    }
    let mut start = 0;
    let mut quoted = false;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if quoted {
            if c == quote && chars.next_if(|&(_, next)| next == quote).is_none() {
                quoted = false;
            }
        } else if c == separator {
            if ranges.len() + 1 == n {
                break;
            }
            ranges.push(start..at);
            start = at + c.len_utf8();
        } else if c == quote {
            quoted = true;
        }
    }
    ranges.push(start..text.len());
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_splits_like_str_split() {
        for text in ["", ".", "a", "a.b", "..a..", "ä.ö.ü"] {
            let expected: Vec<&str> = text.split('.').collect();
            assert_eq!(split_using(text, '.', '"'), expected, "{text:?}");
        }
    }

    #[test]
    fn separators_inside_quotes_are_kept() {
        assert_eq!(split_using("\".\".\".\"", '.', '"'), ["\".\"", "\".\""]);
        assert_eq!(split_using("\"a\"\".b\".c", '.', '"'), ["\"a\"\".b\"", "c"]);
        assert_eq!(split_using("a\"x.y\"b.c", '.', '"'), ["a\"x.y\"b", "c"]);
    }

    #[test]
    fn an_open_quote_runs_to_the_end() {
        assert_eq!(split_using("a.\"b.c", '.', '"'), ["a", "\"b.c"]);
        assert_eq!(split_using("a.\"b\"\".c", '.', '"'), ["a", "\"b\"\".c"]);
        assert_eq!(split_using("\"", '.', '"'), ["\""]);
    }

    #[test]
    fn limits_count_pieces() {
        assert_eq!(splitn_using("a.b.c", 1, '.', '"'), ["a.b.c"]);
        assert_eq!(
            splitn_using("a.\"b.c\".d.e", 3, '.', '"'),
            ["a", "\"b.c\"", "d.e"]
        );
        assert_eq!(splitn_using("a.b", 9, '.', '"'), ["a", "b"]);
        assert_eq!(splitn_using("", 0, '.', '"'), Vec::<&str>::new());
    }

    #[test]
    fn separator_equal_to_quote_wins_outside_quotes() {
        // As in py-postgresql: outside a quoted section the separator is
        // looked for first.
        assert_eq!(split_using("\"a\"", '"', '"'), ["", "a", ""]);
        assert_eq!(split_using("a\"b", '"', '"'), ["a", "b"]);
    }

    #[test]
    fn other_quote_characters() {
        assert_eq!(split_using("'a,b',c", ',', '\''), ["'a,b'", "c"]);
        assert_eq!(split_using("«a»", ',', '»'), ["«a»"]);
    }
}
