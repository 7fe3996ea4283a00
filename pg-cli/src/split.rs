//! Cutting a script into statements, comments included.
//!
//! [`pg_string::split_sql`] knows quotes (a `;` inside `'…'`, `"…"` or `$$…$$` ends
//! nothing) but not comments, so a `;` or an apostrophe inside `-- …` or `/* … */` would
//! mislead it. [`mask_comments`] first blanks the comments out (byte for byte, so offsets
//! stay the same); the masked text is split by pg-string, and the pieces are cut from the
//! original text at the same offsets, so the statements sent keep their comments.

/// Whether `c` continues an identifier (or a keyword), as PostgreSQL's lexer reads one.
fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
}

/// Whether `c` may start a dollar-quote tag.
fn tag_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || !c.is_ascii()
}

/// The text with every comment (`-- …` to the end of the line, `/* … */` nested) replaced
/// by spaces, newlines kept. The result has the same length in bytes, and its every byte
/// outside comments is the original's. Quotes are read the way PostgreSQL's lexer reads
/// them, so comment markers inside strings, quoted identifiers and dollar-quoted bodies
/// are left alone.
pub fn mask_comments(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = bytes.to_vec();
    let mut chars = sql.char_indices().peekable();
    let mut previous: Option<char> = None;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        match c {
            '-' if next == Some('-') => {
                let end = sql[at..].find('\n').map_or(sql.len(), |n| at + n);
                blank(&mut out, at, end);
                while chars.peek().is_some_and(|&(i, _)| i < end) {
                    chars.next();
                }
                previous = Some(' ');
                continue;
            }
            '/' if next == Some('*') => {
                let end = block_comment_end(sql, at);
                blank(&mut out, at, end);
                while chars.peek().is_some_and(|&(i, _)| i < end) {
                    chars.next();
                }
                previous = Some(' ');
                continue;
            }
            '\'' => {
                let escapes = matches!(previous, Some('e' | 'E'))
                    && !sql[..at - 1].chars().next_back().is_some_and(ident_char);
                skip_to(&mut chars, single_quote_end(sql, at, escapes));
            }
            '"' => skip_to(&mut chars, double_quote_end(sql, at)),
            '$' if !previous.is_some_and(ident_char) => {
                if let Some(end) = dollar_quote_end(sql, at) {
                    skip_to(&mut chars, end);
                }
            }
            _ => {}
        }
        previous = Some(c);
    }
    // Only ASCII comment bytes were replaced, by ASCII spaces: whole characters went.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn skip_to(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, end: usize) {
    while chars.peek().is_some_and(|&(i, _)| i < end) {
        chars.next();
    }
}

/// The end (exclusive) of the nested block comment opening at `start`.
fn block_comment_end(sql: &str, start: usize) -> usize {
    let bytes = sql.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
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
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    sql.len()
}

/// The end (exclusive) of the string literal opening at `start` (a `'`).
fn single_quote_end(sql: &str, start: usize, escapes: bool) -> usize {
    let bytes = sql.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    sql.len()
}

/// The end (exclusive) of the quoted identifier opening at `start` (a `"`).
fn double_quote_end(sql: &str, start: usize) -> usize {
    let bytes = sql.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' if bytes.get(i + 1) == Some(&b'"') => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    sql.len()
}

/// The end (exclusive) of the dollar-quoted string opening at `start`, if a `$tag$`
/// opens there (`$1`, a parameter, does not).
fn dollar_quote_end(sql: &str, start: usize) -> Option<usize> {
    let rest = &sql[start + 1..];
    let mut tag_len = 0;
    for (i, c) in rest.char_indices() {
        if c == '$' {
            tag_len = i;
            break;
        }
        let fits = if i == 0 {
            tag_start(c)
        } else {
            ident_char(c) && c != '$'
        };
        if !fits {
            return None;
        }
        tag_len = i + c.len_utf8();
    }
    if rest.as_bytes().get(tag_len) != Some(&b'$') {
        return None;
    }
    let opening = &sql[start..start + tag_len + 2];
    let body = start + opening.len();
    Some(
        sql[body..]
            .find(opening)
            .map_or(sql.len(), |n| body + n + opening.len()),
    )
}

/// The statements of a script, in order: split at each `;` outside quotes and comments
/// (by [`pg_string::split_sql_str`] over [`mask_comments`]), each trimmed of surrounding
/// white space, comments kept; pieces holding nothing but white space and comments are
/// left out.
///
/// ```
/// let script = "-- setup; nothing here\nselect 1; /* a; b */ select $$;$$;\n-- done;";
/// assert_eq!(
///     pg_cli::split::statements(script),
///     ["-- setup; nothing here\nselect 1", "/* a; b */ select $$;$$"]
/// );
/// ```
pub fn statements(sql: &str) -> Vec<String> {
    let masked = mask_comments(sql);
    let mut start = 0;
    let mut statements = Vec::new();
    for piece in pg_string::split_sql_str(&masked) {
        let end = start + piece.len();
        if !piece.trim().is_empty() {
            statements.push(sql[start..end].trim().to_owned());
        }
        start = end + 1; // the `;`
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_comments_only() {
        let sql = "select 1 -- it's; here\n, '--no' /* a /* nested; */ 'x */ \"/*\"";
        let masked = mask_comments(sql);
        assert_eq!(masked.len(), sql.len());
        let blanks = |comment: &str| " ".repeat(comment.len());
        let expected = format!(
            "select 1 {}\n, '--no' {} \"/*\"",
            blanks("-- it's; here"),
            blanks("/* a /* nested; */ 'x */")
        );
        assert_eq!(masked, expected);
        assert_eq!(mask_comments("a -- é;\nb"), "a       \nb");
        assert_eq!(mask_comments("/* open"), "       ");
    }

    #[test]
    fn splits_around_quotes_and_comments() {
        let script = "create function f() returns int language plpgsql as $body$\n\
                      begin -- a comment; inside the body\n  return 1;\nend $body$;\n\
                      select 'a;b', \"c;d\" from t; -- trailing; comment\n\
                      select e'it\\'s;' /* don't; */ ; ;";
        let got = statements(script);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(got[0].ends_with("end $body$"), "{}", got[0]);
        assert_eq!(got[1], "select 'a;b', \"c;d\" from t");
        assert_eq!(
            got[2],
            "-- trailing; comment\nselect e'it\\'s;' /* don't; */"
        );
    }

    #[test]
    fn keeps_parameters_and_identifiers_with_dollars() {
        assert_eq!(
            statements("select $1; select a$$b; x"),
            ["select $1", "select a$$b", "x"]
        );
        assert_eq!(
            statements("select $a$ -- $a$; select 2"),
            ["select $a$ -- $a$", "select 2"]
        );
        assert_eq!(
            statements("select 1 -- $a$; select 2\n; select 3"),
            ["select 1 -- $a$; select 2", "select 3"]
        );
        assert_eq!(statements("somee'--x'; y"), ["somee'--x'", "y"]);
        assert!(statements("  ;\n-- only a comment\n;/* and */").is_empty());
    }
}
