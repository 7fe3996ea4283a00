//! Splitting SQL into statements at the separators outside quotes.

use crate::part::{Part, unsplit};
use crate::split::scan;

/// Splits `sql` into statements at each `;` outside quotes and comments, each
/// statement given as a split (see [`split`](crate::split)).
///
/// Comments are read as PostgreSQL's lexer reads them: `--` to the end of the
/// line, and `/* … */`, which nest. A comment stays in the unquoted text of its
/// statement, and nothing inside it (a `;`, a quote, a `$$`) counts; a comment
/// marker inside a quoted section is text. So, unlike [`split`](crate::split)
/// (py-postgresql's, which knows no comments), an apostrophe in `-- it's`
/// opens no quote here.
///
/// As in py-postgresql, the separators are dropped and every piece is kept,
/// so joining the pieces with `;` gives `sql` back: the text after the last
/// separator is always the final piece, empty (`[""]`) when `sql` ends with
/// `;`, and `sql` without any separator is one piece. Each piece starts with
/// an unquoted part; only the last one can end on a (runaway) quoted part.
///
/// ```
/// use pg_string::{Part, Quote, split_sql};
///
/// let statements = split_sql("select $$1$$ AS \"foo;\"; select 2;");
/// assert_eq!(
///     statements,
///     [
///         vec![
///             Part::unquoted("select "),
///             Part::quoted(Quote::Dollar(String::new()), "1"),
///             Part::unquoted(" AS "),
///             Part::quoted(Quote::Double, "foo;"),
///             Part::unquoted(""),
///         ],
///         vec![Part::unquoted(" select 2")],
///         vec![Part::unquoted("")],
///     ]
/// );
/// ```
pub fn split_sql(sql: &str) -> Vec<Vec<Part>> {
    split_sql_with(sql, ';')
}

/// Like [`split_sql`], with `separator` in place of `;`.
pub fn split_sql_with(sql: &str, separator: char) -> Vec<Vec<Part>> {
    let mut comments = Vec::new();
    let parts = scan(sql, Some(&mut comments));
    let in_comment = |at: usize| comments.iter().any(|c| c.contains(&at));
    let mut statements = Vec::new();
    let mut current = Vec::new();
    // Where the current part starts in `sql`.
    let mut offset = 0;
    for part in parts {
        let Part::Unquoted(text) = &part else {
            offset += written_len(&part);
            current.push(part);
            continue;
        };
        let cuts: Vec<usize> = text
            .match_indices(separator)
            .map(|(at, _)| at)
            .filter(|&at| !in_comment(offset + at))
            .collect();
        offset += text.len();
        if cuts.is_empty() {
            current.push(part);
            continue;
        }
        let mut from = 0;
        for (i, &cut) in cuts.iter().enumerate() {
            let section = Part::unquoted(&text[from..cut]);
            if i == 0 {
                current.push(section);
                statements.push(std::mem::take(&mut current));
            } else {
                statements.push(vec![section]);
            }
            from = cut + separator.len_utf8();
        }
        current.push(Part::unquoted(&text[from..]));
    }
    // `scan` always yields a first unquoted part, so the last statement is
    // never empty.
    statements.push(current);
    statements
}

/// The length of a part as written in the SQL it came from.
fn written_len(part: &Part) -> usize {
    match part {
        Part::Unquoted(text) => text.len(),
        Part::Quoted { quote, body } => {
            // Only the last part can be a runaway quote, so its closing does not matter.
            quote.opening().len() + body.len() + quote.closing().len()
        }
    }
}

/// Like [`split_sql`], with each statement joined back into text.
///
/// ```
/// assert_eq!(
///     pg_string::split_sql_str("select $$1$$ AS \"foo;\"; select 2;"),
///     ["select $$1$$ AS \"foo;\"", " select 2", ""]
/// );
/// ```
pub fn split_sql_str(sql: &str) -> Vec<String> {
    split_sql_str_with(sql, ';')
}

/// Like [`split_sql_str`], with `separator` in place of `;`.
pub fn split_sql_str_with(sql: &str, separator: char) -> Vec<String> {
    split_sql_with(sql, separator).iter().map(unsplit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::part::Quote;

    fn u(text: &str) -> Part {
        Part::unquoted(text)
    }

    fn q(quote: Quote, body: &str) -> Part {
        Part::quoted(quote, body)
    }

    fn check(sql: &str, expected: &[Vec<Part>]) {
        let statements = split_sql(sql);
        assert_eq!(statements, expected, "split_sql({sql:?})");
        let texts = split_sql_str(sql);
        assert_eq!(texts.join(";"), sql);
        let unsplit_each: Vec<String> = statements.iter().map(unsplit).collect();
        assert_eq!(texts, unsplit_each);
    }

    #[test]
    fn py_postgresql_samples() {
        check(
            "select 1; select 1",
            &[vec![u("select 1")], vec![u(" select 1")]],
        );
        let first = vec![
            u("select "),
            q(Quote::Single, "one"),
            u(" as "),
            q(Quote::Double, "text"),
            u(""),
        ];
        check(
            "select 'one' as \"text\"; select 1",
            &[first, vec![u(" select 1")]],
        );
        let first = vec![
            u("select "),
            q(Quote::Single, "one;"),
            u(" as "),
            q(Quote::Double, ";text;"),
            u(""),
        ];
        check(
            "select 'one;' as \";text;\"; select 1; foo",
            &[first.clone(), vec![u(" select 1")], vec![u(" foo")]],
        );
        let dollar = vec![u(" select "), q(Quote::Dollar(String::new()), ";"), u("")];
        check(
            "select 'one;' as \";text;\"; select $$;$$; foo",
            &[first.clone(), dollar.clone(), vec![u(" foo")]],
        );
        check(
            "select 'one;' as \";text;\"; select $$;$$; foo;';b''ar'",
            &[
                first,
                dollar,
                vec![u(" foo")],
                vec![u(""), q(Quote::Single, ";b''ar"), u("")],
            ],
        );
    }

    #[test]
    fn trailing_and_empty_statements_are_kept() {
        check("", &[vec![u("")]]);
        check(";", &[vec![u("")], vec![u("")]]);
        check(";;", &[vec![u("")], vec![u("")], vec![u("")]]);
        check("select 1;", &[vec![u("select 1")], vec![u("")]]);
        check("a;\n;b", &[vec![u("a")], vec![u("\n")], vec![u("b")]]);
    }

    #[test]
    fn runaway_quote_swallows_later_separators() {
        check(
            "a; 'b; c",
            &[vec![u("a")], vec![u(" "), q(Quote::Single, "b; c")]],
        );
        check(
            "a; $f$ b; c",
            &[
                vec![u("a")],
                vec![u(" "), q(Quote::Dollar("f".into()), " b; c")],
            ],
        );
    }

    #[test]
    fn other_separators() {
        let texts = split_sql_str_with("a|'|'|b", '|');
        assert_eq!(texts, ["a", "'|'", "b"]);
        let texts = split_sql_str_with("a;b", '\0');
        assert_eq!(texts, ["a;b"]);
    }

    #[test]
    fn comments_hide_separators_and_quotes() {
        let texts = |sql: &str| split_sql_str(sql);
        // A `;` in either kind of comment splits nothing.
        assert_eq!(texts("a -- b; c\n; d"), ["a -- b; c\n", " d"]);
        assert_eq!(texts("a /* b; c */; d"), ["a /* b; c */", " d"]);
        // Block comments nest: the first `*/` does not end the outer one.
        assert_eq!(
            texts("a /* x /* y; */ z; */ b; c"),
            ["a /* x /* y; */ z; */ b", " c"]
        );
        // Quotes inside comments open nothing, so what follows is read as SQL.
        assert_eq!(texts("a -- it's\n; b 'x;y'"), ["a -- it's\n", " b 'x;y'"]);
        assert_eq!(texts("a /* \"$$ */; b"), ["a /* \"$$ */", " b"]);
        // Comment markers inside quotes are text.
        assert_eq!(
            texts("'--'; \"/*\"; $$ -- $$; b"),
            ["'--'", " \"/*\"", " $$ -- $$", " b"]
        );
        assert_eq!(texts("$f$ /* ; $f$; b"), ["$f$ /* ; $f$", " b"]);
        // An escaped quote keeps the string open over the dashes; a doubled backslash
        // does not.
        assert_eq!(texts(r"e'\' -- '; b"), [r"e'\' -- '", " b"]);
        assert_eq!(texts(r"e'\\' -- '; b"), [r"e'\\' -- '; b"]);
        // An open block comment runs to the end, a line comment to its line's end.
        assert_eq!(texts("a /* ; b"), ["a /* ; b"]);
        assert_eq!(texts("a -- ;"), ["a -- ;"]);
        assert_eq!(texts("a --\n;b"), ["a --\n", "b"]);
        // Dashes and slashes that start no comment.
        assert_eq!(texts("a - -1; b / *c"), ["a - -1", " b / *c"]);
        // A comment between a quote and the separator.
        assert_eq!(
            split_sql("'x' /* ; */; y"),
            [
                vec![u(""), q(Quote::Single, "x"), u(" /* ; */")],
                vec![u(" y")]
            ]
        );
        // Every split rejoins.
        for sql in ["--;\n;/*;*/;", "/*/*/;*/*/;", "'/*';*/;'", "-- é;\n;é"] {
            assert_eq!(texts(sql).join(";"), sql, "{sql:?}");
        }
        assert_eq!(texts("/*/*/;*/*/;"), ["/*/*/;*/*/", ""]);
    }
}
