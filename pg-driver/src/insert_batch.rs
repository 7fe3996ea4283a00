//! Batched INSERTs for `load_rows`: `INSERT INTO t (a, b) VALUES ($1, $2)` executed for many
//! parameter sets becomes `INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), …`, one execution
//! per batch of rows, when that cannot change what happens.
//!
//! The server's work for one row inserted by its own statement is mostly the statement's:
//! a portal, executor start-up and shut-down, locks, a snapshot. A statement inserting hundreds
//! of rows pays that once (pg-bench's `insert`: about three times as many rows a second, 250
//! rows a statement; 250 to 2,000 differ little, 100 is slower). JDBC's
//! `reWriteBatchedInserts` does the same, as an option; here it is the default, kept to the
//! cases where the outcome is the same:
//!
//! - the statement is exactly `INSERT INTO name [AS alias] [(columns)] [OVERRIDING … VALUE]
//!   VALUES (…)` with one row whose every value is a parameter, `NULL` or `DEFAULT`, each
//!   optionally cast (`$1::numeric(10,2)`) — no `WITH`, `SELECT`, `ON CONFLICT`, `RETURNING`,
//!   literals or expressions, whose evaluation could see the rows inserted before them;
//! - the target is an ordinary table (not partitioned, a view or foreign) that has never had
//!   triggers (so no foreign keys either: their checks run after each statement, and would
//!   see a batch's later rows), rules or row-level security, as `pg_class` says when the load
//!   starts (one query before it; not when the load has few rows);
//! - the target is the table the statement itself writes to: the one it was prepared
//!   against, still what its name means (`insert_target.rs`). The batches name it by its
//!   schema and name from the catalog, quoted, never by the statement's text.
//!
//! What still differs: one statement per batch (so `statement_timeout`, `log_statement` and
//! `pg_stat_statements` count batches), and a column default or `CHECK` calling a function
//! that reads the table itself would see the batch's earlier rows missing. An error names
//! the statement's own parameters and the row it happened at, as row by row
//! (`load_error.rs`). The connection keyword `batch_inserts=off` turns batching off.

use std::fmt::Write;

/// An INSERT of one row of parameters that `load_rows` may repeat for many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InsertShape {
    /// The statement up to its target's name, as written.
    before: String,
    /// The statement from after the target's name up to and including `VALUES`, as written.
    after: String,
    /// The target's name, its parts as written (quoted ones with their quotes) joined by
    /// `.`, without the white space or comments between them: what `to_regclass` reads
    /// exactly as the parser read the statement.
    target: String,
    /// Where the target's name starts in the statement (a 0-based character index).
    target_at: usize,
    /// Where the row's `(` is in the statement (a 0-based character index).
    row_at: usize,
    /// The row's values.
    values: Vec<Element>,
}

/// One value of the row, and where it starts in the statement (a 0-based character index).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Element {
    kind: ElementKind,
    at: usize,
}

/// What a value of the row is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ElementKind {
    /// Parameter `$number` (from 1), then its casts as written (`::int8`).
    Parameter { number: usize, casts: String },
    /// `NULL` or `DEFAULT` and its casts, as written.
    Fixed(String),
}

/// Where a character of a rendered batch statement comes from in the statement as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The 1-based character position in the statement as written.
    pub(crate) position: usize,
    /// The batch's row (0-based) whose values the character is part of, if it is.
    pub(crate) row: Option<usize>,
}

/// A piece of a rendered batch statement, for mapping positions back (see
/// [`InsertShape::origin`]); positions are 0-based character indexes.
struct Piece {
    /// Where the piece starts in the rendered statement.
    start: usize,
    /// Where it ends (exclusive).
    end: usize,
    /// Whether it is the statement's text copied as written from `user` on (else it
    /// stands for what is at `user`: the table's name, a renumbered parameter).
    copied: bool,
    user: usize,
    /// The batch's row it belongs to.
    row: Option<usize>,
}

/// A token of the statement text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// An identifier or key word, unquoted.
    Word(&'a str),
    /// A quoted identifier, quotes included.
    Quoted(&'a str),
    /// `$` and its digits.
    Parameter(usize),
    /// An unsigned integer.
    Number(&'a str),
    /// Punctuation: `(`, `)`, `,`, `.`, `[`, `]`, `;`, or `::` (as ':').
    Punct(char),
}

/// Splits `sql` into tokens with their byte ranges, skipping white space and comments;
/// `None` for anything these statements do not contain (strings, operators…).
fn tokens(sql: &str) -> Option<Vec<(Token<'_>, usize, usize)>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in PostgreSQL.
                let mut depth = 0usize;
                loop {
                    match (bytes.get(i), bytes.get(i + 1)) {
                        (Some(b'/'), Some(b'*')) => (depth, i) = (depth + 1, i + 2),
                        (Some(b'*'), Some(b'/')) => {
                            (depth, i) = (depth - 1, i + 2);
                            if depth == 0 {
                                break;
                            }
                        }
                        (Some(_), _) => i += 1,
                        (None, _) => return None,
                    }
                }
            }
            b'"' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                        None => return None,
                    }
                }
                i += 1;
                out.push((Token::Quoted(&sql[start..i]), start, i));
            }
            b'$' => {
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let number = sql[start + 1..i].parse().ok().filter(|&n| n > 0)?;
                out.push((Token::Parameter(number), start, i));
            }
            b':' if bytes.get(i + 1) == Some(&b':') => {
                i += 2;
                out.push((Token::Punct(':'), start, i));
            }
            b'(' | b')' | b',' | b'.' | b'[' | b']' | b';' => {
                i += 1;
                out.push((Token::Punct(c as char), start, i));
            }
            b'0'..=b'9' => {
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                out.push((Token::Number(&sql[start..i]), start, i));
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while bytes.get(i).is_some_and(|&b| {
                    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
                }) {
                    i += 1;
                }
                // A word straight before a quote is a string's prefix (E'…', U&"…", B'…').
                if matches!(bytes.get(i), Some(b'\'' | b'"' | b'&')) {
                    return None;
                }
                out.push((Token::Word(&sql[start..i]), start, i));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Whether `token` is the key word `word` (key words are case-insensitive; a quoted
/// identifier never is one).
fn is_word(token: Option<&(Token<'_>, usize, usize)>, word: &str) -> bool {
    matches!(token, Some((Token::Word(w), _, _)) if w.eq_ignore_ascii_case(word))
}

/// Whether `token` is an identifier: a quoted one, or an unquoted word other than the key
/// words that would end the part of the statement it stands in.
fn is_name(token: Option<&(Token<'_>, usize, usize)>) -> bool {
    const ENDS: &[&str] = &[
        "as",
        "values",
        "overriding",
        "default",
        "select",
        "on",
        "returning",
    ];
    match token {
        Some((Token::Quoted(_), _, _)) => true,
        Some((Token::Word(w), _, _)) => !ENDS.iter().any(|k| w.eq_ignore_ascii_case(k)),
        _ => false,
    }
}

impl InsertShape {
    /// The shape of `sql`, or `None` when it is not an INSERT that batching keeps the same.
    pub(crate) fn parse(sql: &str) -> Option<InsertShape> {
        let tokens = tokens(sql)?;
        let mut at = 0;
        let next = |at: &mut usize| {
            *at += 1;
            tokens.get(*at - 1)
        };
        let peek = |at: usize| tokens.get(at);
        if !is_word(next(&mut at), "insert") || !is_word(next(&mut at), "into") {
            return None;
        }
        // name [. name [. name]]
        let target_start = peek(at)?.1;
        let mut target = String::new();
        if !is_name(peek(at)) {
            return None;
        }
        target.push_str(text(next(&mut at)?));
        for _ in 0..2 {
            if peek(at).map(|t| t.0) == Some(Token::Punct('.')) {
                at += 1;
                if !is_name(peek(at)) {
                    return None;
                }
                target.push('.');
                target.push_str(text(next(&mut at)?));
            }
        }
        let target_end = tokens[at - 1].2;
        if is_word(peek(at), "as") {
            at += 1;
            if !is_name(next(&mut at)) {
                return None;
            }
        }
        if peek(at).map(|t| t.0) == Some(Token::Punct('(')) {
            at += 1;
            loop {
                if !is_name(next(&mut at)) {
                    return None;
                }
                match next(&mut at)?.0 {
                    Token::Punct(',') => continue,
                    Token::Punct(')') => break,
                    _ => return None,
                }
            }
        }
        if is_word(peek(at), "overriding") {
            at += 1;
            let kind = next(&mut at);
            if !(is_word(kind, "system") || is_word(kind, "user"))
                || !is_word(next(&mut at), "value")
            {
                return None;
            }
        }
        if !is_word(next(&mut at), "values") {
            return None;
        }
        let head_end = tokens[at - 1].2;
        let (open, row_start, _) = *next(&mut at)?;
        if open != Token::Punct('(') {
            return None;
        }
        let chars = |byte: usize| sql[..byte].chars().count();
        let mut values = Vec::new();
        loop {
            let (first, start, _) = *next(&mut at)?;
            let mut element = match first {
                Token::Parameter(number) => ElementKind::Parameter {
                    number,
                    casts: String::new(),
                },
                Token::Word(w)
                    if w.eq_ignore_ascii_case("null") || w.eq_ignore_ascii_case("default") =>
                {
                    ElementKind::Fixed(String::new())
                }
                _ => return None,
            };
            // Casts: `::` and a type name, each as written.
            let casts_start = tokens[at - 1].2;
            while peek(at).map(|t| t.0) == Some(Token::Punct(':')) {
                at = type_name(&tokens, at + 1)?;
            }
            let end = tokens[at - 1].2;
            match &mut element {
                ElementKind::Parameter { casts, .. } => *casts = sql[casts_start..end].to_owned(),
                ElementKind::Fixed(text) => *text = sql[start..end].to_owned(),
            }
            values.push(Element {
                kind: element,
                at: chars(start),
            });
            match next(&mut at)?.0 {
                Token::Punct(',') => continue,
                Token::Punct(')') => break,
                _ => return None,
            }
        }
        // Nothing but a `;` may follow.
        if peek(at).map(|t| t.0) == Some(Token::Punct(';')) {
            at += 1;
        }
        if at != tokens.len() {
            return None;
        }
        if !values
            .iter()
            .any(|v| matches!(v.kind, ElementKind::Parameter { .. }))
        {
            return None;
        }
        Some(InsertShape {
            before: sql[..target_start].to_owned(),
            after: sql[target_end..head_end].to_owned(),
            target,
            target_at: chars(target_start),
            row_at: chars(row_start),
            values,
        })
    }

    /// The target relation's name as the statement spells it (its parts as written, joined
    /// by `.`), for `to_regclass`.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// The INSERT into `table` (a name already quoted, put in place of the statement's) of
    /// `rows` rows, row `r`'s parameter `$k` becoming `$(r × parameters + k)`.
    pub(crate) fn render(&self, table: &str, rows: usize, parameters: usize) -> String {
        self.render_into(table, rows, parameters, None)
    }

    /// Where the 1-based character `position` of [`InsertShape::render`]`(table, rows,
    /// parameters)` comes from in the statement as written: for the server's error
    /// positions, which count in the statement it ran. `None` past its end.
    pub(crate) fn origin(
        &self,
        table: &str,
        rows: usize,
        parameters: usize,
        position: usize,
    ) -> Option<Origin> {
        let at = position.checked_sub(1)?;
        let mut pieces = Vec::new();
        self.render_into(table, rows, parameters, Some(&mut pieces));
        let piece = pieces.iter().find(|p| p.start <= at && at < p.end)?;
        let user = match piece.copied {
            true => piece.user + (at - piece.start),
            false => piece.user,
        };
        Some(Origin {
            position: user + 1,
            row: piece.row,
        })
    }

    /// [`InsertShape::render`], noting each piece's origin in `pieces` when asked.
    fn render_into(
        &self,
        table: &str,
        rows: usize,
        parameters: usize,
        mut pieces: Option<&mut Vec<Piece>>,
    ) -> String {
        let mut sql = String::with_capacity(
            self.before.len() + table.len() + self.after.len() + rows * 8 * self.values.len(),
        );
        let mut chars = 0;
        let mut push = |sql: &mut String, text: &str, copied: bool, user: usize, row| {
            sql.push_str(text);
            if let Some(pieces) = pieces.as_deref_mut() {
                let start = chars;
                chars += text.chars().count();
                pieces.push(Piece {
                    start,
                    end: chars,
                    copied,
                    user,
                    row,
                });
            }
        };
        push(&mut sql, &self.before, true, 0, None);
        push(&mut sql, table, false, self.target_at, None);
        let after = self.target_at + self.target.chars().count();
        push(&mut sql, &self.after, true, after, None);
        let mut number = String::new();
        for r in 0..rows {
            let opening = if r == 0 { " (" } else { ", (" };
            push(&mut sql, opening, false, self.row_at, Some(r));
            for (i, value) in self.values.iter().enumerate() {
                if i > 0 {
                    push(&mut sql, ", ", false, value.at, Some(r));
                }
                match &value.kind {
                    ElementKind::Parameter { number: k, casts } => {
                        number.clear();
                        let _ = write!(number, "${}{casts}", r * parameters + k);
                        push(&mut sql, &number, false, value.at, Some(r));
                    }
                    ElementKind::Fixed(text) => push(&mut sql, text, true, value.at, Some(r)),
                }
            }
            push(&mut sql, ")", false, self.row_at, Some(r));
        }
        sql
    }
}

/// The text of a name's token, as written.
fn text<'a>(token: &(Token<'a>, usize, usize)) -> &'a str {
    match token.0 {
        Token::Word(w) | Token::Quoted(w) | Token::Number(w) => w,
        Token::Parameter(_) | Token::Punct(_) => "",
    }
}

/// The words a type name goes on with after its first (`double precision`, `character
/// varying`, `timestamp with time zone`, `interval day to second`).
const TYPE_WORDS: &[&str] = &[
    "precision",
    "varying",
    "with",
    "without",
    "time",
    "zone",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "to",
];

/// Reads the type name starting at token `at` (after `::`): a name, qualified or not, with
/// type modifiers of numbers, array bounds and the words of [`TYPE_WORDS`]. Returns the index
/// of the token after it, or `None` when something else is there.
fn type_name(tokens: &[(Token<'_>, usize, usize)], mut at: usize) -> Option<usize> {
    let kind = |at: usize| tokens.get(at).map(|t| t.0);
    if !matches!(kind(at)?, Token::Word(_) | Token::Quoted(_)) {
        return None;
    }
    at += 1;
    loop {
        match kind(at) {
            Some(Token::Punct('.'))
                if matches!(kind(at + 1), Some(Token::Word(_) | Token::Quoted(_))) =>
            {
                at += 2
            }
            Some(Token::Punct('(')) => {
                at += 1;
                loop {
                    let (Some(Token::Number(_)), Some(Token::Punct(p))) = (kind(at), kind(at + 1))
                    else {
                        return None;
                    };
                    at += 2;
                    match p {
                        ',' => continue,
                        ')' => break,
                        _ => return None,
                    }
                }
            }
            Some(Token::Punct('[')) => {
                at += 1;
                if let Some(Token::Number(_)) = kind(at) {
                    at += 1;
                }
                if kind(at) != Some(Token::Punct(']')) {
                    return None;
                }
                at += 1;
            }
            Some(Token::Word(w)) if TYPE_WORDS.iter().any(|t| w.eq_ignore_ascii_case(t)) => at += 1,
            _ => return Some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(sql: &str, rows: usize, parameters: usize) -> Option<String> {
        InsertShape::parse(sql).map(|s| s.render(s.target(), rows, parameters))
    }

    #[test]
    fn plain_inserts_of_parameters_are_batched() {
        assert_eq!(
            render("INSERT INTO t (i, t, n) VALUES ($1, $2, $3)", 3, 3).unwrap(),
            "INSERT INTO t (i, t, n) VALUES ($1, $2, $3), ($4, $5, $6), ($7, $8, $9)"
        );
        assert_eq!(
            render("insert into t values ($2,$1);", 2, 2).unwrap(),
            "insert into t values ($2, $1), ($4, $3)"
        );
        // Casts, type modifiers, arrays, multi-word types, NULL and DEFAULT stay as written.
        assert_eq!(
            render(
                "INSERT INTO s.t AS x (a, b, c, d, e) OVERRIDING SYSTEM VALUE VALUES \
                 ($1::numeric(10, 2), $2 :: int4[], DEFAULT, NULL::text, $1::double precision)",
                2,
                2
            )
            .unwrap(),
            "INSERT INTO s.t AS x (a, b, c, d, e) OVERRIDING SYSTEM VALUE VALUES \
             ($1::numeric(10, 2), $2 :: int4[], DEFAULT, NULL::text, $1::double precision), \
             ($3::numeric(10, 2), $4 :: int4[], DEFAULT, NULL::text, $3::double precision)"
        );
        // Quoted names, comments.
        let shape = InsertShape::parse(
            "/* load */ INSERT INTO \"Odd \"\"Schema\".\"T\" (\"a b\") -- one\n VALUES ($1)",
        )
        .unwrap();
        assert_eq!(shape.target(), "\"Odd \"\"Schema\".\"T\"");
        assert_eq!(
            shape.render(shape.target(), 2, 1),
            "/* load */ INSERT INTO \"Odd \"\"Schema\".\"T\" (\"a b\") -- one\n VALUES ($1), ($2)"
        );
    }

    #[test]
    fn the_table_is_rendered_by_the_name_given() {
        let shape =
            InsertShape::parse("INSERT INTO Sch /* c */ . \"T\" AS x (a) VALUES ($1::int4)")
                .unwrap();
        // What to_regclass reads: the parts as written, nothing between them.
        assert_eq!(shape.target(), "Sch.\"T\"");
        assert_eq!(
            shape.render("\"sch\".\"T\"", 2, 1),
            "INSERT INTO \"sch\".\"T\" AS x (a) VALUES ($1::int4), ($2::int4)"
        );
    }

    #[test]
    fn positions_in_a_batch_map_to_the_statement_as_written() {
        //         1234567890123456789012345678901234567890
        let sql = "INSERT INTO t (a, b) VALUES ($1, $2::int4)";
        let shape = InsertShape::parse(sql).unwrap();
        let table = "\"sandbox\".\"t\"";
        let batch = shape.render(table, 3, 2);
        assert_eq!(
            batch,
            "INSERT INTO \"sandbox\".\"t\" (a, b) VALUES ($1, $2::int4), ($3, $4::int4), \
             ($5, $6::int4)"
        );
        let origin = |needle: &str| {
            let byte = batch.find(needle).unwrap();
            shape.origin(table, 3, 2, batch[..byte].chars().count() + 1)
        };
        let at = |position, row| Some(Origin { position, row });
        assert_eq!(origin("INSERT"), at(1, None));
        assert_eq!(origin("\"t\""), at(13, None));
        assert_eq!(origin("(a,"), at(15, None));
        assert_eq!(origin("VALUES"), at(22, None));
        // Row 2's second value, `$6::int4`, is the statement's `$2::int4`.
        assert_eq!(origin("$6"), at(34, Some(2)));
        assert_eq!(origin("$3"), at(30, Some(1)));
        assert_eq!(shape.origin(table, 3, 2, batch.chars().count() + 1), None);
        assert_eq!(shape.origin(table, 3, 2, 0), None);
    }

    #[test]
    fn anything_else_is_left_alone() {
        for sql in [
            "SELECT $1",
            "INSERT INTO t SELECT $1",
            "INSERT INTO t DEFAULT VALUES",
            "INSERT INTO t VALUES ($1) RETURNING i",
            "INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING",
            "INSERT INTO t VALUES ($1), ($2)",
            "INSERT INTO t VALUES ($1 + 1)",
            "INSERT INTO t VALUES (lower($1))",
            "INSERT INTO t VALUES ($1, 'x')",
            "INSERT INTO t VALUES ($1, E'x')",
            "INSERT INTO t VALUES ($1, 2)",
            "INSERT INTO t VALUES ($1, now())",
            "INSERT INTO t VALUES ($1, (SELECT 1))",
            "INSERT INTO t VALUES ($1 foo)",
            "INSERT INTO t VALUES (DEFAULT)",
            "INSERT INTO t VALUES ($0)",
            "INSERT INTO t VALUES ($1",
            "INSERT INTO t VALUES ($1); SELECT 1",
            "INSERT INTO t (a[1]) VALUES ($1)",
            "INSERT INTO t (a.b) VALUES ($1)",
            "WITH x AS (SELECT 1) INSERT INTO t VALUES ($1)",
            "INSERT INTO t VALUES ($1) /* unterminated",
            "INSERT INTO \"t VALUES ($1)",
            "INSERT INTO a.b.c.d VALUES ($1)",
            "INSERT INTO t VALUES ($1::int4 IN (SELECT count(*) FROM t))",
            "INSERT INTO t VALUES ($1::int4 BETWEEN 1 AND f(1))",
            "INSERT INTO t VALUES ($1::int4 IS NULL)",
            "INSERT INTO t VALUES ($1::varchar(n))",
            "INSERT INTO t VALUES ($1::varchar(1, x))",
            "INSERT INTO t VALUES ($1::)",
            "INSERT INTO t VALUES ($1 NULL)",
            "INSERT INTO t VALUES ($1::text COLLATE \"C\")",
        ] {
            assert_eq!(InsertShape::parse(sql), None, "{sql}");
        }
    }
}
