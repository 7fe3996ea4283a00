//! The `string` and `params` targets: pg-string's quoting and splitting, and the connection
//! parameter grammars (IRIs, conninfo strings, the `PG*` environment, password files).

use std::collections::HashMap;

use pg_driver::params::{Defaults, Keywords, env_keywords, pgpass};
use pg_string::{
    Part, Quote, escape_ident, escape_literal, needs_quoting, qname, qname_if_needed, quote_ident,
    quote_ident_if_needed, quote_literal, quote_literal_portable, split, split_ident,
    split_ident_on, split_qname, split_sql, split_sql_str, split_sql_with, split_using,
    splitn_using, unsplit, unterminated,
};

/// Whether `body` is a well-formed body of a closed section quoted by `quote` (the shape
/// [`Part`] documents; the same check as pg-string's property tests).
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

fn assert_well_formed(parts: &[Part]) {
    assert!(!parts.is_empty());
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part.is_quoted(), i % 2 == 1, "part {i} of {parts:?}");
        match part {
            Part::Unquoted(text) => assert!(!text.contains(['\'', '"']), "{parts:?}"),
            Part::Quoted { quote, body } if i + 1 < parts.len() => {
                assert!(closed_body(quote, body), "{quote:?} {body:?}")
            }
            Part::Quoted { .. } => {}
        }
    }
    assert_eq!(unterminated(parts).is_some(), parts.len().is_multiple_of(2));
}

/// Input: UTF-8 text (anything else is skipped). The first character also serves as the
/// separator and quote of `split_using`.
///
/// Checks pg-string's documented round trips: a split unsplits to its input, statements
/// rejoin with `;`, a quoted literal or identifier is one quoted part, qualified names
/// split back into their parts, and name parsing errors point inside the input.
pub fn string(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parts = split(text);
    assert_well_formed(&parts);
    assert_eq!(unsplit(&parts), text);

    let statements = split_sql(text);
    for (i, statement) in statements.iter().enumerate() {
        assert_well_formed(statement);
        if i + 1 < statements.len() {
            assert!(unterminated(statement).is_none());
        }
    }
    assert_eq!(split_sql_str(text).join(";"), text);
    let separator = text.chars().next().unwrap_or(';');
    let custom: Vec<String> = split_sql_with(text, separator)
        .iter()
        .map(unsplit)
        .collect();
    assert_eq!(custom.join(separator.encode_utf8(&mut [0; 4])), text);

    assert_eq!(
        split(&quote_literal(text)),
        [
            Part::unquoted(""),
            Part::quoted(Quote::Single, &*escape_literal(text)),
            Part::unquoted("")
        ]
    );
    assert_eq!(split(&quote_literal_portable(text)).len(), 3);
    assert_eq!(
        split(&quote_ident(text)),
        [
            Part::unquoted(""),
            Part::quoted(Quote::Double, &*escape_ident(text)),
            Part::unquoted("")
        ]
    );

    let quoted = quote_ident_if_needed(text);
    assert_eq!(split_qname(&quoted), Ok(vec![text.to_owned()]));
    if !needs_quoting(text) {
        assert_eq!(&*quoted, text);
    }
    match split_qname(text) {
        Ok(names) => {
            assert_eq!(split_qname(&qname(&names)), Ok(names.clone()));
            assert_eq!(split_qname(&qname_if_needed(&names)), Ok(names));
        }
        Err(error) => {
            assert!(error.position() <= text.len());
            assert!(text.is_char_boundary(error.position()));
            assert!(!error.to_string().is_empty());
        }
    }
    let _ = split_ident(text);
    let pieces: Vec<&str> = text.split(separator).collect();
    assert_eq!(
        split_qname(&qname(&pieces)),
        Ok(pieces.iter().map(|p| p.to_string()).collect())
    );

    let quote = text.chars().nth(1).unwrap_or('"');
    let using = split_using(text, separator, quote);
    assert_eq!(using.join(separator.encode_utf8(&mut [0; 4])), text);
    let n = text.len() % 5 + 1;
    let limited = splitn_using(text, n, separator, quote);
    assert!(limited.len() <= n);
    assert_eq!(limited.join(separator.encode_utf8(&mut [0; 4])), text);
    let _ = split_ident_on(text, separator);
}

fn defaults() -> Defaults {
    Defaults::new(Some("osuser".into()), Some("/run/pg".into()))
}

/// Input: text, read as an IRI or conninfo string, as `NAME=value` lines of an environment,
/// and as a password file whose first line also names the connection looked up.
///
/// Checks that no parser panics and that parameters that build render to an IRI that
/// parses back to the same parameters.
pub fn params(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = Keywords::from_iri(&text);
    let _ = Keywords::from_conninfo(&text);
    if let Ok(keywords) = Keywords::parse(&text)
        && let Ok(params) = keywords.build_with(&defaults())
    {
        let _ = params.to_iri(true);
        let iri = params.to_iri(false);
        let again = Keywords::from_iri(&iri).and_then(|k| k.build_with(&defaults()));
        assert_eq!(again.as_ref(), Ok(&params), "{text:?} renders as {iri:?}");
        for host in params.hosts() {
            let _ = pgpass::host_key(host);
        }
        let _ = format!("{params:?}");
    }

    let environment: HashMap<&str, &str> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    if let Ok(keywords) = env_keywords(|name| environment.get(name).map(|v| v.to_string())) {
        let _ = keywords.build_with(&defaults());
    }

    let first = text.lines().next().unwrap_or_default();
    let fields: Vec<&str> = first.splitn(4, ':').collect();
    if let [host, port, database, user] = fields[..] {
        let port = port.parse().unwrap_or(5432);
        let _ = pgpass::find(data, host, port, database, user);
    }
    let _ = pgpass::find(data, "localhost", 5432, "db", "user");
}
