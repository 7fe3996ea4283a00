//! Named placeholders (`%(name)s`, `:name`) rewritten to the server's positional ones.
//!
//! psycopg2 and `queries` take `%(name)s` with a mapping of values, SQLAlchemy's `text()` and
//! many drivers take `:name`; the server takes `$1`, `$2`, …. The rewriting here reads the text
//! by the same rules as [`split_sql`](crate::split_sql) (quotes, escape strings, dollar quotes,
//! comments), so only placeholders in SQL proper are rewritten. Values never enter the text:
//! the caller sends them as the statement's parameters, in the order of [`Positional::names`].

use std::fmt::{self, Write as _};
use std::ops::Range;

use crate::part::Part;
use crate::split::{is_identifier_start, scan_strings};

/// The placeholder style a statement was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaceholderStyle {
    /// psycopg2's and `queries`' `%(name)s`, with `%%` for a literal `%`.
    Pyformat,
    /// `:name`.
    Colon,
}

/// A statement rewritten from named placeholders to positional ones: see
/// [`named_to_positional`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Positional {
    sql: String,
    names: Vec<String>,
    /// The byte offset in the original text of each name's first placeholder.
    first_at: Vec<usize>,
    style: Option<PlaceholderStyle>,
}

impl Positional {
    /// The statement for the server, with `$1`, `$2`, … where the placeholders were.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The statement for the server, owned.
    pub fn into_sql(self) -> String {
        self.sql
    }

    /// The names, in order of first appearance: `names()[0]` is `$1`, and so on. Each name is
    /// here once, however often the statement uses it.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The style the placeholders were written in; `None` when the statement has none.
    pub fn style(&self) -> Option<PlaceholderStyle> {
        self.style
    }

    /// Checks that every name has a value, asking `has` of each name in order of first
    /// appearance: the first without one is a [`PlaceholderErrorKind::MissingValue`] error at
    /// its first placeholder. Values no placeholder names are none of this check's business
    /// (psycopg2 ignores them too).
    pub fn check_values(&self, mut has: impl FnMut(&str) -> bool) -> Result<(), PlaceholderError> {
        match self.names.iter().position(|name| !has(name)) {
            None => Ok(()),
            Some(i) => Err(PlaceholderError {
                kind: PlaceholderErrorKind::MissingValue(self.names[i].clone()),
                position: self.first_at[i],
            }),
        }
    }
}

/// Why a statement's named placeholders could not be rewritten, or bound.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlaceholderErrorKind {
    /// Placeholders of two styles in one statement: a `:name`, or psycopg2's positional `%s`,
    /// among `%(name)s` placeholders (psycopg2's "argument formats can't be mixed").
    MixedStyles,
    /// A `$n` parameter in a statement given named parameters: a statement takes its
    /// parameters by name or by position, never both.
    PositionalParameter,
    /// A `%` starting a placeholder that does not end: `%(name` with no `)`, or a `%` or
    /// `%(name)` at the end of the text.
    IncompletePlaceholder,
    /// In pyformat mode, a `%` followed by something else than `%` or `(name)s`: the character
    /// found instead (psycopg2's "unsupported format character").
    UnsupportedFormat(char),
    /// A `%()s` placeholder.
    EmptyName,
    /// A `%(name)s` followed at once by an identifier character, digit or `$` (`%(n)s1`),
    /// which would run into the `$n` written in its place (`$11`).
    RunsOn,
    /// A name the statement uses and the values lack.
    MissingValue(String),
}

/// An error rewriting or binding named placeholders: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlaceholderError {
    kind: PlaceholderErrorKind,
    position: usize,
}

impl PlaceholderError {
    /// What is wrong.
    pub fn kind(&self) -> &PlaceholderErrorKind {
        &self.kind
    }

    /// The byte offset in the statement as written of the placeholder (or the `$n`, or the
    /// `%`) the error is about.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl fmt::Display for PlaceholderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PlaceholderErrorKind::MixedStyles => {
                f.write_str("placeholder styles can't be mixed: %(name)s with :name or %s")?;
            }
            PlaceholderErrorKind::PositionalParameter => {
                f.write_str("a $n parameter in a statement given named parameters")?;
            }
            PlaceholderErrorKind::IncompletePlaceholder => {
                f.write_str("incomplete placeholder: a % without (name)s")?;
            }
            PlaceholderErrorKind::UnsupportedFormat(c) => write!(
                f,
                "unsupported format character {c:?}: a % is %% or %(name)s"
            )?,
            PlaceholderErrorKind::EmptyName => f.write_str("empty placeholder name %()s")?,
            PlaceholderErrorKind::RunsOn => {
                f.write_str("a %(name)s runs into the name or number after it")?;
            }
            PlaceholderErrorKind::MissingValue(name) => {
                write!(f, "no value for the named parameter {name:?}")?;
            }
        }
        write!(f, " at byte {}", self.position)
    }
}

impl std::error::Error for PlaceholderError {}

/// Rewrites the named placeholders of `sql` to positional ones (`$1`, `$2`, …), reading
/// `'…'` as the server does with `standard_conforming_strings` on (its default): see
/// [`named_to_positional_with`] for a session that has it off.
///
/// Two styles are recognised, one per statement:
///
/// - **pyformat**, psycopg2's: `%(name)s`, the name being any text up to the `)`. A
///   statement is in pyformat mode when it has at least one. There `%%` stands for one `%`
///   (psycopg2's rule when parameters are given: write `a %% b` for the modulo), and any other
///   `%` is an error ([`UnsupportedFormat`](PlaceholderErrorKind::UnsupportedFormat),
///   [`IncompletePlaceholder`](PlaceholderErrorKind::IncompletePlaceholder)), as is a `:name`
///   or psycopg2's positional `%s` ([`MixedStyles`](PlaceholderErrorKind::MixedStyles)).
/// - **colon**: `:name`, the name read as an unquoted identifier is (a letter, `_` or non-ASCII
///   character, then those, digits and `$`), but case-sensitive (`:Id` wants `Id`). A `:` starts one only where it
///   cannot be SQL's own colon: not in `::` (a cast, `x::int`) or `:=` (a named argument), not
///   right after an identifier character, a digit, `$` or `:` (`a:b`, `1:2`), and not directly
///   inside an array subscript's brackets, where it is the slice's colon (`a[lo:hi]`,
///   `a[:hi]`, `a[lo :hi]`). A subscript is a `[` after an expression (a name or number that
///   is not the keyword `ARRAY`, a `)`, a `]`, a quoted section); the brackets of
///   `ARRAY[:a, :b]` are no subscript, so those are placeholders, and inside a subscript a
///   parenthesis makes room for one (`a[(:i)]`). Outside pyformat mode a `%` is an ordinary
///   character (`a % b`).
///
/// Both ways:
///
/// - quoted sections and comments are left exactly as written, placeholders and `%%`
///   included: strings (`'…'`, `E'…'` with its backslash escapes, `U&'…'`), quoted
///   identifiers, dollar-quoted bodies (`$$…$$`, `$tag$…$tag$`), `--` and nested `/* */`
///   comments. (psycopg2 formats the whole text, quotes included: a `'%%'` written for it is
///   two characters here, and `%(name)s` inside a literal stays text.)
/// - a name used again gets the same `$n`; numbers follow the order of first use.
/// - any `$n` is an error ([`PositionalParameter`](PlaceholderErrorKind::PositionalParameter)):
///   a statement takes parameters by name or by position, not both.
/// - a `%(name)s` right after an identifier character or digit is set off by a space (`x%(n)s`
///   is `x $1`, not the identifier `x$1`); one followed at once by one is an error
///   ([`RunsOn`](PlaceholderErrorKind::RunsOn): `%(n)s1` would be `$11`).
/// - names are not checked against values here: [`Positional::check_values`] does, and
///   values no placeholder uses are ignored, as psycopg2 ignores them.
///
/// The first error in the text is returned, with its byte position.
///
/// ```
/// use pg_string::{PlaceholderStyle, named_to_positional};
///
/// let done = named_to_positional(
///     "SELECT %(id)s::int, '%(id)s', a %% 2 -- %(no)s\nFROM t WHERE id = %(id)s OR note = %(note)s",
/// )
/// .unwrap();
/// assert_eq!(
///     done.sql(),
///     "SELECT $1::int, '%(id)s', a % 2 -- %(no)s\nFROM t WHERE id = $1 OR note = $2"
/// );
/// assert_eq!(done.names(), ["id", "note"]);
/// assert_eq!(done.style(), Some(PlaceholderStyle::Pyformat));
///
/// let done = named_to_positional("SELECT a[lo:hi], x::text, ARRAY[:lo, :hi] FROM t WHERE v = :v").unwrap();
/// assert_eq!(done.sql(), "SELECT a[lo:hi], x::text, ARRAY[$1, $2] FROM t WHERE v = $3");
/// assert_eq!(done.names(), ["lo", "hi", "v"]);
/// ```
pub fn named_to_positional(sql: &str) -> Result<Positional, PlaceholderError> {
    named_to_positional_with(sql, true)
}

/// [`named_to_positional`] for a session whose `standard_conforming_strings` is
/// `standard_conforming_strings`: when it is off, a backslash escapes the next character in a
/// plain `'…'` string as well (`'it\'s :x'` is one string). The result is the same either way
/// for text without a backslash.
///
/// ```
/// use pg_string::named_to_positional_with;
///
/// let sql = r"SELECT '\'' || :a || '\''";
/// // Off: two strings holding a quote each, and a placeholder between them.
/// assert_eq!(named_to_positional_with(sql, false).unwrap().names(), ["a"]);
/// // On: one string from the first quote to the fourth, `:a` inside it.
/// assert!(named_to_positional_with(sql, true).unwrap().names().is_empty());
/// ```
pub fn named_to_positional_with(
    sql: &str,
    standard_conforming_strings: bool,
) -> Result<Positional, PlaceholderError> {
    let found = find(sql, standard_conforming_strings);
    let pyformat = found.iter().any(|f| {
        matches!(
            f,
            Found::Named {
                style: PlaceholderStyle::Pyformat,
                ..
            }
        )
    });
    let style = if pyformat {
        Some(PlaceholderStyle::Pyformat)
    } else if found.iter().any(|f| matches!(f, Found::Named { .. })) {
        Some(PlaceholderStyle::Colon)
    } else {
        None
    };
    for f in &found {
        let error = |kind| {
            Err(PlaceholderError {
                kind,
                position: f.at(),
            })
        };
        match f {
            Found::Dollar(_) => return error(PlaceholderErrorKind::PositionalParameter),
            Found::Named {
                style: PlaceholderStyle::Colon,
                ..
            } if pyformat => return error(PlaceholderErrorKind::MixedStyles),
            Found::Named { name, .. } if name.is_empty() => {
                return error(PlaceholderErrorKind::EmptyName);
            }
            Found::Named { runs_on: true, .. } => return error(PlaceholderErrorKind::RunsOn),
            Found::Bad(_, kind) if pyformat => return error(kind.clone()),
            _ => {}
        }
    }
    Ok(rewrite(sql, &found, style))
}

/// Writes the statement for the server from what [`find`] found.
fn rewrite(sql: &str, found: &[Found], style: Option<PlaceholderStyle>) -> Positional {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut names: Vec<String> = Vec::new();
    let mut first_at = Vec::new();
    let mut from = 0;
    for f in found {
        match f {
            Found::Named { at, name, .. } => {
                out.push_str(&sql[from..at.start]);
                let name = &sql[name.clone()];
                let index = match names.iter().position(|known| known == name) {
                    Some(index) => index,
                    None => {
                        names.push(name.to_owned());
                        first_at.push(at.start);
                        names.len() - 1
                    }
                };
                if out.bytes().last().is_some_and(is_word_byte) {
                    out.push(' ');
                }
                let _ = write!(out, "${}", index + 1);
                from = at.end;
            }
            Found::Percent(at) if style == Some(PlaceholderStyle::Pyformat) => {
                out.push_str(&sql[from..*at]);
                out.push('%');
                from = at + 2;
            }
            _ => {}
        }
    }
    out.push_str(&sql[from..]);
    Positional {
        sql: out,
        names,
        first_at,
        style,
    }
}

/// Something of note in the SQL proper, in text order.
#[derive(Debug)]
enum Found {
    /// A placeholder spanning `at`, its name spanning `name`; `runs_on` when a word
    /// character follows it.
    Named {
        at: Range<usize>,
        name: Range<usize>,
        style: PlaceholderStyle,
        runs_on: bool,
    },
    /// `%%` at this offset.
    Percent(usize),
    /// A `%` that is an error in pyformat mode.
    Bad(usize, PlaceholderErrorKind),
    /// A `$n` parameter.
    Dollar(usize),
}

impl Found {
    fn at(&self) -> usize {
        match self {
            Found::Named { at, .. } => at.start,
            Found::Percent(at) | Found::Bad(at, _) | Found::Dollar(at) => *at,
        }
    }
}

/// The last token of SQL proper before the scanner's position, which decides whether a `[`
/// opens a subscript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Nothing, or an operator or punctuation.
    Other,
    /// A name, keyword, number or parameter spanning these bytes.
    Word(usize, usize),
    /// A `)` or a `]`.
    Close,
    /// A quoted section.
    Quoted,
}

impl Last {
    /// Whether a `[` after this token is a subscript (it follows an expression) rather than
    /// an array constructor's.
    fn ends_expression(self, sql: &str) -> bool {
        match self {
            Last::Word(start, end) => !sql[start..end].eq_ignore_ascii_case("array"),
            Last::Close | Last::Quoted => true,
            Last::Other => false,
        }
    }
}

/// A byte that can continue a word: an identifier character, a digit or `$`.
fn is_word_byte(byte: u8) -> bool {
    is_identifier_start(byte) || byte.is_ascii_digit() || byte == b'$'
}

/// The byte ranges of the quoted sections (`true`) and comments (`false`) of `sql`, in order.
fn opaque_ranges(sql: &str, standard_conforming_strings: bool) -> Vec<(Range<usize>, bool)> {
    let mut comments = Vec::new();
    let parts = scan_strings(sql, Some(&mut comments), standard_conforming_strings);
    let mut ranges: Vec<(Range<usize>, bool)> = comments.into_iter().map(|r| (r, false)).collect();
    let mut at = 0;
    for part in &parts {
        match part {
            Part::Unquoted(text) => at += text.len(),
            Part::Quoted { quote, body } => {
                // A runaway quote (the last part) has no closing: the end is the text's.
                let written = quote.opening().len() + body.len() + quote.closing().len();
                let end = (at + written).min(sql.len());
                ranges.push((at..end, true));
                at = end;
            }
        }
    }
    ranges.sort_by_key(|(range, _)| range.start);
    ranges
}

/// Walks the SQL proper of `sql` (outside quoted sections and comments) and lists the
/// placeholders, `%`s and `$n`s found, in text order.
fn find(sql: &str, standard_conforming_strings: bool) -> Vec<Found> {
    let bytes = sql.as_bytes();
    let opaque = opaque_ranges(sql, standard_conforming_strings);
    let mut found = Vec::new();
    // One entry per open `(` (false) or `[` (whether it is a subscript's).
    let mut brackets: Vec<bool> = Vec::new();
    let mut last = Last::Other;
    let mut next_opaque = 0;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if let Some((range, quoted)) = opaque.get(next_opaque)
            && range.start == at
        {
            at = range.end;
            next_opaque += 1;
            // A comment is white space.
            if *quoted {
                last = Last::Quoted;
            }
            continue;
        }
        // The end of this stretch of SQL proper.
        let limit = opaque
            .get(next_opaque)
            .map_or(bytes.len(), |(range, _)| range.start);
        let next = bytes[..limit].get(at + 1).copied();
        match byte {
            b':' => {
                if matches!(next, Some(b':' | b'=')) {
                    at += 2;
                    last = Last::Other;
                    continue;
                }
                let in_subscript = brackets.last() == Some(&true);
                let after_word = at > 0 && (is_word_byte(bytes[at - 1]) || bytes[at - 1] == b':');
                if !in_subscript && !after_word && next.is_some_and(is_identifier_start) {
                    let end = at
                        + 1
                        + bytes[at + 1..limit]
                            .iter()
                            .take_while(|&&b| is_word_byte(b))
                            .count();
                    found.push(Found::Named {
                        at: at..end,
                        name: at + 1..end,
                        style: PlaceholderStyle::Colon,
                        runs_on: false,
                    });
                    last = Last::Word(at, end);
                    at = end;
                    continue;
                }
                last = Last::Other;
            }
            b'%' => {
                match next {
                    Some(b'%') => {
                        found.push(Found::Percent(at));
                        at += 2;
                        last = Last::Other;
                        continue;
                    }
                    Some(b'(') => {
                        if let Some(end) = pyformat_at(sql, at, limit, &mut found) {
                            last = Last::Word(at, end);
                            at = end;
                            continue;
                        }
                    }
                    Some(b's') => found.push(Found::Bad(at, PlaceholderErrorKind::MixedStyles)),
                    Some(_) => {
                        let c = sql[at + 1..].chars().next().unwrap_or_default();
                        found.push(Found::Bad(at, PlaceholderErrorKind::UnsupportedFormat(c)));
                    }
                    None if limit < bytes.len() => {
                        let c = char::from(bytes[limit]);
                        found.push(Found::Bad(at, PlaceholderErrorKind::UnsupportedFormat(c)));
                    }
                    None => found.push(Found::Bad(at, PlaceholderErrorKind::IncompletePlaceholder)),
                }
                last = Last::Other;
            }
            b'$' if !matches!(last, Last::Word(_, end) if end == at)
                && next.is_some_and(|b| b.is_ascii_digit()) =>
            {
                found.push(Found::Dollar(at));
                let end = at
                    + 1
                    + bytes[at + 1..limit]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                last = Last::Word(at, end);
                at = end;
                continue;
            }
            b'(' => {
                brackets.push(false);
                last = Last::Other;
            }
            b'[' => {
                brackets.push(last.ends_expression(sql));
                last = Last::Other;
            }
            b')' | b']' => {
                brackets.pop();
                last = Last::Close;
            }
            _ if is_identifier_start(byte) || byte.is_ascii_digit() || byte == b'$' => {
                last = match last {
                    Last::Word(start, end) if end == at => Last::Word(start, at + 1),
                    _ if byte == b'$' => Last::Other,
                    _ => Last::Word(at, at + 1),
                };
            }
            _ if byte.is_ascii_whitespace() => {}
            _ => last = Last::Other,
        }
        at += 1;
    }
    found
}

/// Reads a `%(name)s` starting at the `%` at `at` (followed by `(`) within SQL proper ending
/// at `limit`: pushes the placeholder and returns its end, or pushes the error it is in
/// pyformat mode and returns `None`.
fn pyformat_at(sql: &str, at: usize, limit: usize, found: &mut Vec<Found>) -> Option<usize> {
    let bytes = sql.as_bytes();
    let name_from = at + 2;
    let Some(length) = bytes[name_from..limit].iter().position(|&b| b == b')') else {
        found.push(Found::Bad(at, PlaceholderErrorKind::IncompletePlaceholder));
        return None;
    };
    let conversion = name_from + length + 1;
    match bytes[..limit].get(conversion) {
        Some(b's') => {
            let end = conversion + 1;
            found.push(Found::Named {
                at: at..end,
                name: name_from..name_from + length,
                style: PlaceholderStyle::Pyformat,
                runs_on: bytes[..limit].get(end).copied().is_some_and(is_word_byte),
            });
            Some(end)
        }
        Some(_) => {
            let other = sql[conversion..].chars().next().unwrap_or_default();
            found.push(Found::Bad(
                at,
                PlaceholderErrorKind::UnsupportedFormat(other),
            ));
            None
        }
        None => {
            found.push(Found::Bad(at, PlaceholderErrorKind::IncompletePlaceholder));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PlaceholderErrorKind as Kind;

    /// The rewritten text and names of `sql`.
    fn ok(sql: &str) -> (String, Vec<String>) {
        let done = named_to_positional(sql).unwrap_or_else(|e| panic!("{sql:?}: {e}"));
        (done.sql().to_owned(), done.names().to_vec())
    }

    fn same(sql: &str) {
        assert_eq!(ok(sql).0, sql, "{sql:?} is left as it is");
    }

    fn fails(sql: &str) -> (Kind, usize) {
        let error = named_to_positional(sql).expect_err(sql);
        (error.kind().clone(), error.position())
    }

    #[test]
    fn pyformat_placeholders_become_positions() {
        let (sql, names) = ok("SELECT %(a)s, %(b)s, %(a)s");
        assert_eq!(sql, "SELECT $1, $2, $1");
        assert_eq!(names, ["a", "b"]);
        // Any text up to `)` is a name, as a Python mapping's key.
        assert_eq!(ok("SELECT %(my key-1)s").1, ["my key-1"]);
        assert_eq!(ok("SELECT %(é)s").1, ["é"]);
        let done = named_to_positional("SELECT %(x)s").unwrap();
        assert_eq!(done.style(), Some(PlaceholderStyle::Pyformat));
    }

    #[test]
    fn colon_placeholders_become_positions() {
        let (sql, names) = ok("SELECT :a, :b_2, (:a), f(:Name), :é");
        assert_eq!(sql, "SELECT $1, $2, ($1), f($3), $4");
        assert_eq!(names, ["a", "b_2", "Name", "é"]);
        let done = named_to_positional("SELECT :x").unwrap();
        assert_eq!(done.style(), Some(PlaceholderStyle::Colon));
        // Nothing to rewrite.
        let done = named_to_positional("SELECT 1").unwrap();
        assert_eq!(done.style(), None);
        assert!(done.names().is_empty());
    }

    #[test]
    fn sql_colons_are_not_placeholders() {
        same("SELECT x::int, x ::int, x:: int, '1'::text[]");
        same("SELECT f(a := 1), f(a:=1)");
        same("SELECT a[1:2], a[lo:hi], a[:hi], a[lo:], a[lo :hi], a[ : hi]");
        same("SELECT a[1][2:3], (f(x))[1:n], \"A\"[lo:hi], a[f(x):g(y)]");
        same("SELECT a:b, 1:b, a$1:b");
        same("SELECT ':x', \":x\", $$:x$$, $t$:x$t$ -- :x\n/* :x /* :x */ :x */");
        // An array constructor's brackets are no subscript.
        assert_eq!(
            ok("SELECT ARRAY[:a, :b], array[[:c]]").0,
            "SELECT ARRAY[$1, $2], array[[$3]]"
        );
        assert_eq!(ok("SELECT ARRAY [:a]").0, "SELECT ARRAY [$1]");
        // A parenthesis inside a subscript makes room for a placeholder.
        assert_eq!(
            ok("SELECT a[(:i)], a[(:lo):(:hi)]").0,
            "SELECT a[($1)], a[($2):($3)]"
        );
        // A placeholder's own subscript.
        assert_eq!(
            ok("SELECT (:arr)[lo:hi], :arr[1:2]").0,
            "SELECT ($1)[lo:hi], $1[1:2]"
        );
        // Right after a quoted section or a comment.
        assert_eq!(ok("SELECT 'a'||:b, /**/:c").0, "SELECT 'a'||$1, /**/$2");
    }

    #[test]
    fn quotes_and_comments_are_left_alone() {
        let sql = "SELECT %(a)s, '%(a)s %% :a', E'\\' %(a)s', \"%(a)s\", $$ %(a)s $$, \
                   $f$ %(a)s $f$, U&'%(a)s' -- %(a)s %\n/* %(a)s /* % */ %% */ %(b)s";
        let (out, names) = ok(sql);
        assert_eq!(
            out,
            "SELECT $1, '%(a)s %% :a', E'\\' %(a)s', \"%(a)s\", $$ %(a)s $$, \
             $f$ %(a)s $f$, U&'%(a)s' -- %(a)s %\n/* %(a)s /* % */ %% */ $2"
        );
        assert_eq!(names, ["a", "b"]);
        // A doubled backslash does not escape the quote after it.
        assert_eq!(ok(r"SELECT E'\\', :a").0, r"SELECT E'\\', $1");
        // A runaway quote keeps what follows.
        assert_eq!(ok("SELECT :a, ':b").0, "SELECT $1, ':b");
    }

    #[test]
    fn standard_conforming_strings_off_reads_backslashes_in_plain_strings() {
        let sql = r"SELECT 'it\'s :a', :b";
        let off = named_to_positional_with(sql, false).unwrap();
        assert_eq!(off.sql(), r"SELECT 'it\'s :a', $1");
        assert_eq!(off.names(), ["b"]);
        // On, the same text is a string `it\`, a placeholder and a runaway quote.
        let on = named_to_positional_with(sql, true).unwrap();
        assert_eq!(on.names(), ["a"]);
    }

    #[test]
    fn percent_in_pyformat_mode() {
        assert_eq!(ok("SELECT 7 %% 3, %(a)s").0, "SELECT 7 % 3, $1");
        assert_eq!(ok("SELECT '%%', %(a)s").0, "SELECT '%%', $1");
        assert_eq!(
            fails("SELECT 7 % 3, %(a)s"),
            (Kind::UnsupportedFormat(' '), 9)
        );
        assert_eq!(
            fails("SELECT %(b)s, %(a)d"),
            (Kind::UnsupportedFormat('d'), 14)
        );
        // Without a placeholder of its own, the statement is not in pyformat mode.
        same("SELECT %(a)d");
        assert_eq!(
            fails("SELECT %(a)s, %(b)é"),
            (Kind::UnsupportedFormat('é'), 14)
        );
        assert_eq!(
            fails("SELECT %(a)s, %(b"),
            (Kind::IncompletePlaceholder, 14)
        );
        assert_eq!(
            fails("SELECT %(a)s, %(b)"),
            (Kind::IncompletePlaceholder, 14)
        );
        assert_eq!(fails("SELECT %(a)s, %"), (Kind::IncompletePlaceholder, 14));
        // A `%(` whose `)` is past a quote does not end there.
        assert_eq!(
            fails("SELECT %(a)s, %(b ')'"),
            (Kind::IncompletePlaceholder, 14)
        );
        assert_eq!(
            fails("SELECT %(a)s, %'x'"),
            (Kind::UnsupportedFormat('\''), 14)
        );
        assert_eq!(fails("SELECT %()s"), (Kind::EmptyName, 7));
    }

    #[test]
    fn percent_outside_pyformat_mode_is_text() {
        same("SELECT 7 % 3, 7 %% 3, 10 %(3), '%s'");
        assert_eq!(
            ok("SELECT 7 % 3, 7 %% 3, 10 %(3), :a").0,
            "SELECT 7 % 3, 7 %% 3, 10 %(3), $1"
        );
    }

    #[test]
    fn styles_and_positions_do_not_mix() {
        assert_eq!(fails("SELECT %(a)s, :b"), (Kind::MixedStyles, 14));
        assert_eq!(fails("SELECT :b, %(a)s"), (Kind::MixedStyles, 7));
        assert_eq!(fails("SELECT %(a)s, %s"), (Kind::MixedStyles, 14));
        assert_eq!(fails("SELECT :a, $1"), (Kind::PositionalParameter, 11));
        assert_eq!(fails("SELECT $12, %(a)s"), (Kind::PositionalParameter, 7));
        assert_eq!(fails("SELECT $1"), (Kind::PositionalParameter, 7));
        // `$` inside a name, and dollar quotes, are no parameters.
        assert_eq!(ok("SELECT a$1, $$$1$$, :b").0, "SELECT a$1, $$$1$$, $1");
    }

    #[test]
    fn placeholders_never_merge_with_their_neighbours() {
        assert_eq!(ok("SELECT x%(n)s, 1%(n)s").0, "SELECT x $1, 1 $1");
        assert_eq!(ok("SELECT %(n)s%%%(n)s").0, "SELECT $1%$1");
        assert_eq!(ok("SELECT -%(n)s+1, %(n)s::int").0, "SELECT -$1+1, $1::int");
        for sql in [
            "SELECT %(n)s1",
            "SELECT %(n)sx",
            "SELECT %(n)s$",
            "SELECT %(n)sé",
        ] {
            assert_eq!(fails(sql), (Kind::RunsOn, 7), "{sql}");
        }
        // A `:name` takes every identifier character, `$` included, so nothing runs on.
        assert_eq!(ok("SELECT :a$b, :a1").1, ["a$b", "a1"]);
    }

    #[test]
    fn many_placeholders_number_past_nine() {
        let sql: Vec<String> = (0..12).map(|i| format!(":p{i}")).collect();
        let (out, names) = ok(&format!("SELECT {}", sql.join(",")));
        assert!(out.ends_with(",$10,$11,$12"), "{out}");
        assert_eq!(names.len(), 12);
    }

    #[test]
    fn missing_values_are_named_at_their_first_use() {
        let done = named_to_positional("SELECT :a, :b, :c, :b").unwrap();
        assert_eq!(done.check_values(|_| true), Ok(()));
        let error = done.check_values(|name| name == "a").unwrap_err();
        assert_eq!(error.kind(), &Kind::MissingValue("b".into()));
        assert_eq!(error.position(), 11);
        assert_eq!(
            error.to_string(),
            "no value for the named parameter \"b\" at byte 11"
        );
    }

    #[test]
    fn errors_describe_themselves() {
        let error = named_to_positional("SELECT %(a)s, :b").unwrap_err();
        assert_eq!(
            error.to_string(),
            "placeholder styles can't be mixed: %(name)s with :name or %s at byte 14"
        );
    }

    #[test]
    fn rewriting_is_total_over_awkward_text() {
        for sql in [
            "", ":", "%", "%(", ":é", "[:", "]]:a", "))((", "$", "$1$", "'", "E'\\", "/*", "--",
        ] {
            let _ = named_to_positional(sql);
            let _ = named_to_positional_with(sql, false);
        }
        assert_eq!(ok("]]:a").0, "]]$1");
    }
}
