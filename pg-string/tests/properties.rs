//! Property tests: no input panics, and what is split joins back.

use pg_string::{
    Part, Quote, escape_ident, escape_literal, needs_quoting, qname, qname_if_needed, quote_ident,
    quote_ident_if_needed, quote_literal, quote_literal_portable, split, split_ident_on,
    split_qname, split_sql, split_sql_str, split_using, splitn_using, unsplit, unterminated,
};
use proptest::prelude::*;

/// Text made of the pieces SQL quoting turns on, so that quotes, doubled
/// quotes, escapes, dollar tags and separators meet in every order.
fn sqlish() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("'"),
        Just("''"),
        Just("\""),
        Just("\"\""),
        Just("E'"),
        Just("e'"),
        Just("\\"),
        Just("\\'"),
        Just("$"),
        Just("$$"),
        Just("$a$"),
        Just("$b$"),
        Just("$1"),
        Just("$_é$"),
        Just(";"),
        Just("--"),
        Just("/*"),
        Just("*/"),
        Just("."),
        Just(","),
        Just(" "),
        Just("\n"),
        Just("\0"),
        Just("a"),
        Just("E"),
        Just("Select"),
        Just("1"),
        Just("é"),
        Just("Å"),
        Just("😀"),
    ];
    prop::collection::vec(fragment, 0..40).prop_map(|fragments| fragments.concat())
}

/// Arbitrary Unicode text, or text built from SQL-ish fragments.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), sqlish()]
}

/// Whether `body` is a well-formed body of a closed section quoted by `quote`.
fn closed_body(quote: &Quote, body: &str) -> bool {
    let (delimiter, backslash) = match quote {
        Quote::Single => ('\'', false),
        Quote::Escape { .. } => ('\'', true),
        Quote::Double => ('"', false),
        Quote::Dollar(_) => return !body.contains(&*quote.closing()),
    };
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == delimiter && chars.next() != Some(delimiter) {
            return false;
        }
        if c == '\\' && backslash && chars.next().is_none() {
            return false;
        }
    }
    true
}

/// `text` without its comments (`--` to the end of the line, nested `/* */`).
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.find('\n').map_or("", |n| &after[n..]);
        } else if rest.starts_with("/*") {
            let mut depth = 0usize;
            let mut i = 0;
            let bytes = rest.as_bytes();
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            rest = rest.get(i.min(rest.len())..).unwrap_or("");
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Checks the shape [`Part`] documents for a split.
fn well_formed(parts: &[Part]) -> Result<(), TestCaseError> {
    well_formed_as(parts, |text| text.to_owned())
}

/// [`well_formed`] for `split_sql`'s statements, whose unquoted text holds comments.
fn well_formed_as(parts: &[Part], outside: impl Fn(&str) -> String) -> Result<(), TestCaseError> {
    prop_assert!(!parts.is_empty());
    for (i, part) in parts.iter().enumerate() {
        prop_assert_eq!(part.is_quoted(), i % 2 == 1, "position {}", i);
        match part {
            Part::Unquoted(text) => prop_assert!(!outside(text).contains(['\'', '"'])),
            Part::Quoted { quote, body } if i + 1 < parts.len() => {
                prop_assert!(closed_body(quote, body), "{:?} {:?}", quote, body)
            }
            Part::Quoted { .. } => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn split_is_well_formed_and_unsplits(sql in text()) {
        let parts = split(&sql);
        well_formed(&parts)?;
        prop_assert_eq!(unterminated(&parts).is_some(), parts.len().is_multiple_of(2));
        prop_assert_eq!(unsplit(&parts), sql);
    }

    #[test]
    fn split_sql_rejoins(sql in text()) {
        let statements = split_sql(&sql);
        let last = statements.len() - 1;
        for (i, statement) in statements.iter().enumerate() {
            well_formed_as(statement, without_comments)?;
            if i < last {
                prop_assert!(unterminated(statement).is_none());
            }
        }
        let texts = split_sql_str(&sql);
        prop_assert_eq!(texts.len(), statements.len());
        prop_assert_eq!(texts.join(";"), sql);
    }

    #[test]
    fn quoted_text_is_one_quoted_part(value in text()) {
        let literal = split(&quote_literal(&value));
        let body = escape_literal(&value);
        prop_assert_eq!(
            literal,
            [Part::unquoted(""), Part::quoted(Quote::Single, &*body), Part::unquoted("")]
        );
        let portable = split(&quote_literal_portable(&value));
        prop_assert_eq!(portable.len(), 3);
        let identifier = split(&quote_ident(&value));
        let body = escape_ident(&value);
        prop_assert_eq!(
            identifier,
            [Part::unquoted(""), Part::quoted(Quote::Double, &*body), Part::unquoted("")]
        );
    }

    #[test]
    fn qualified_names_split_back(parts in prop::collection::vec(text(), 1..5)) {
        prop_assert_eq!(split_qname(&qname(&parts)), Ok(parts.clone()));
        prop_assert_eq!(split_qname(&qname_if_needed(&parts)), Ok(parts.clone()));
        let listed: Vec<String> = parts.iter().map(|part| quote_ident(part)).collect();
        prop_assert_eq!(split_ident_on(&listed.join(" , "), ','), Ok(parts));
    }

    #[test]
    fn plain_names_survive_unquoted(name in text()) {
        let quoted = quote_ident_if_needed(&name);
        prop_assert_eq!(split_qname(&quoted), Ok(vec![name.clone()]));
        if !needs_quoting(&name) {
            prop_assert_eq!(&*quoted, name.as_str());
        }
    }

    #[test]
    fn name_parsing_is_total_and_stable(written in text()) {
        match split_qname(&written) {
            Ok(parts) => {
                prop_assert_eq!(split_qname(&qname(&parts)), Ok(parts.clone()));
            }
            Err(error) => {
                prop_assert!(error.position() <= written.len());
                prop_assert!(written.is_char_boundary(error.position()));
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }

    #[test]
    fn split_using_drops_only_separators(
        text in text(),
        separator in prop_oneof![Just('.'), Just(';'), Just('"'), any::<char>()],
        quote in prop_oneof![Just('"'), Just('\''), any::<char>()],
        n in 0usize..6,
    ) {
        let pieces = split_using(&text, separator, quote);
        prop_assert_eq!(pieces.join(separator.encode_utf8(&mut [0; 4])), text.as_str());
        let limited = splitn_using(&text, n, separator, quote);
        prop_assert!(limited.len() <= n);
        if n > 0 {
            prop_assert_eq!(limited.join(separator.encode_utf8(&mut [0; 4])), text.as_str());
            prop_assert_eq!(&limited[..limited.len() - 1], &pieces[..limited.len() - 1]);
        }
    }
}

/// SQL-ish text with placeholders of both styles, brackets and `%`s among the quotes.
fn with_placeholders() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        sqlish(),
        Just(":a".to_owned()),
        Just(":b".to_owned()),
        Just("::".to_owned()),
        Just(":".to_owned()),
        Just("%(a)s".to_owned()),
        Just("%%".to_owned()),
        Just("%".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("ARRAY".to_owned()),
    ];
    prop::collection::vec(fragment, 0..12).prop_map(|fragments| fragments.concat())
}

/// The quoted sections and comments of `sql`, in order.
fn untouchable(sql: &str, standard_conforming_strings: bool) -> Vec<String> {
    let mut found: Vec<(usize, String)> = pg_string::comment_ranges(sql)
        .into_iter()
        .map(|r| (r.start, sql[r].to_owned()))
        .collect();
    // Comments hold no quotes the scanner reads, so the parts outside them are what matters;
    // with standard strings on, split_sql sees every quoted section.
    if standard_conforming_strings {
        found.extend(
            split_sql(sql)
                .concat()
                .iter()
                .filter(|part| part.is_quoted())
                .map(|part| (0, unsplit([part]))),
        );
    }
    found.into_iter().map(|(_, text)| text).collect()
}

proptest! {
    #[test]
    fn rewriting_named_placeholders_never_panics_nor_touches_quotes(sql in with_placeholders()) {
        for standard in [true, false] {
            let Ok(done) = pg_string::named_to_positional_with(&sql, standard) else { continue };
            // Quoted sections and comments come out as they went in.
            let mut before = untouchable(&sql, standard);
            let mut after = untouchable(done.sql(), standard);
            before.sort();
            after.sort();
            prop_assert_eq!(before, after, "{:?} -> {:?}", sql, done.sql());
            // Every name has a position, and every position a name.
            for (i, name) in done.names().iter().enumerate() {
                prop_assert!(!name.is_empty());
                let position = format!("${}", i + 1);
                prop_assert!(done.sql().contains(&position));
            }
            let again = pg_string::named_to_positional_with(&sql, standard).unwrap();
            prop_assert_eq!(done, again);
        }
    }
}
