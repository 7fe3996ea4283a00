//! Splitting SQL into statements at the separators outside quotes.

use crate::part::{Part, unsplit};
use crate::split::split;

/// Splits `sql` into statements at each `;` outside quotes, each statement
/// given as a split (see [`split`]).
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
    let mut statements = Vec::new();
    let mut current = Vec::new();
    for part in split(sql) {
        let Part::Unquoted(text) = &part else {
            current.push(part);
            continue;
        };
        let mut sections = text.split(separator);
        let first = sections.next().unwrap_or_default();
        let rest: Vec<&str> = sections.collect();
        let Some((last, middle)) = rest.split_last() else {
            current.push(part);
            continue;
        };
        current.push(Part::unquoted(first));
        statements.push(std::mem::take(&mut current));
        statements.extend(middle.iter().map(|&section| vec![Part::unquoted(section)]));
        current.push(Part::unquoted(*last));
    }
    // `split` always yields a first unquoted part, so the last statement is
    // never empty.
    statements.push(current);
    statements
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
}
