//! The query buffer: lines go in, statements (ended by `;` outside quotes, comments and
//! parentheses) and meta-commands (a backslash outside quotes, to the end of the line) come
//! out, with psql's variable interpolation (`:name`, `:'name'`, `:"name"`) on the way.

use super::vars::{Vars, quote_identifier, quote_literal};

/// Where the scanner is inside the buffer's text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum State {
    /// Plain SQL.
    #[default]
    Normal,
    /// Inside `'…'`; `true` for an `E'…'` string, where a backslash escapes.
    Quote(bool),
    /// Inside `"…"`.
    Identifier,
    /// Inside a dollar-quoted body with this tag (`$$`, `$body$`).
    Dollar(String),
    /// Inside `/* … */`, nested this deep.
    Comment(usize),
}

/// What a line gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A complete statement (without its `;`) and the line it starts on.
    Statement {
        /// The SQL.
        sql: String,
        /// The line number of its first character, counted by [`Scanner::feed`].
        line: usize,
    },
    /// A meta-command: its text after the backslash, to the end of the line (variables not
    /// yet interpolated: the meta-command does that with its own rules).
    Meta(String),
}

/// The query buffer and the scanner's state across lines.
#[derive(Debug, Default)]
pub struct Scanner {
    buffer: String,
    state: State,
    parens: usize,
    /// The statement's first words (lower case), to tell `CREATE FUNCTION … BEGIN ATOMIC`.
    words: Vec<String>,
    /// The word being read.
    word: String,
    /// Depth inside a `BEGIN ATOMIC … END` body (and its `CASE … END`s).
    atomic: usize,
    /// The line number of the buffer's first character that is not white space.
    start: Option<usize>,
    /// The rest of a line after a meta-command, scanned by [`Scanner::resume`] once the
    /// meta-command has run.
    pending: Option<String>,
    /// The `\if` blocks open in this input (a file's, the prompt's), innermost last.
    conditions: Vec<Condition>,
}

/// Where an `\if` block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branch {
    /// In the branch that runs.
    Running,
    /// No branch has run yet (the `\if` or an `\elif` was false).
    Waiting,
    /// A branch has run: the rest are skipped.
    Done,
    /// The whole block is inside a skipped branch.
    Ignored,
}

/// An open `\if` block.
#[derive(Debug, Clone, Copy)]
struct Condition {
    branch: Branch,
    /// Whether `\else` was met.
    after_else: bool,
    /// The buffer's length where the current branch began: what a skipped branch added
    /// is dropped.
    buffer: usize,
}

impl Scanner {
    /// A scanner with an empty buffer.
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// The query buffer's text (what is not yet sent).
    pub fn buffer(&self) -> &str {
        &self.buffer
    }

    /// Whether the buffer holds nothing but white space.
    pub fn is_empty(&self) -> bool {
        self.buffer.trim().is_empty()
    }

    /// The line the buffer's statement starts on.
    pub fn start_line(&self) -> Option<usize> {
        self.start
    }

    /// Empties the buffer (`\r`, Ctrl-C) and forgets any open quote or comment (the rest
    /// of the line after a meta-command is still to be scanned).
    pub fn reset(&mut self) {
        let pending = self.pending.take();
        let conditions = std::mem::take(&mut self.conditions);
        *self = Scanner::default();
        self.pending = pending;
        self.conditions = conditions;
    }

    /// Ctrl-C at the prompt: empties the buffer and leaves every `\if` block.
    pub fn interrupt(&mut self) {
        *self = Scanner::default();
    }

    /// Whether the lines run: outside `\if` blocks, or in the branch of each that runs.
    pub fn active(&self) -> bool {
        self.conditions
            .last()
            .is_none_or(|c| c.branch == Branch::Running)
    }

    /// Whether `\if` blocks are still open (at the end of a file: an error).
    pub fn in_conditional(&self) -> bool {
        !self.conditions.is_empty()
    }

    /// psql's `\if`, `\elif`, `\else`, `\endif` (`name`); `truth` evaluates the
    /// expression when it is needed (an error message for a value that is no boolean,
    /// which counts as false). `None` for another meta-command; else the error message of
    /// a misplaced one, or of an expression.
    pub fn conditional(
        &mut self,
        name: &str,
        truth: impl FnOnce() -> Result<bool, String>,
    ) -> Option<Result<(), String>> {
        let evaluate = |truth: Box<dyn FnOnce() -> Result<bool, String> + '_>| match truth() {
            Ok(true) => (Branch::Running, Ok(())),
            Ok(false) => (Branch::Waiting, Ok(())),
            Err(message) => (Branch::Waiting, Err(message)),
        };
        let leaving = |scanner: &mut Scanner, condition: Condition| {
            // What a skipped branch put in the buffer goes.
            if condition.branch != Branch::Running && scanner.buffer.len() > condition.buffer {
                scanner.drop_after(condition.buffer);
            }
        };
        let result = match name {
            "if" => {
                let buffer = self.buffer.len();
                let (branch, result) = match self.active() {
                    true => evaluate(Box::new(truth)),
                    false => (Branch::Ignored, Ok(())),
                };
                self.conditions.push(Condition {
                    branch,
                    after_else: false,
                    buffer,
                });
                result
            }
            "elif" | "else" => {
                let Some(condition) = self.conditions.last().copied() else {
                    return Some(Err(format!("\\{name}: no matching \\if")));
                };
                if condition.after_else {
                    return Some(Err(format!("\\{name}: cannot occur after \\else")));
                }
                leaving(self, condition);
                let (branch, result) = match (condition.branch, name) {
                    (Branch::Running | Branch::Done, _) => (Branch::Done, Ok(())),
                    (Branch::Ignored, _) => (Branch::Ignored, Ok(())),
                    (Branch::Waiting, "else") => (Branch::Running, Ok(())),
                    (Branch::Waiting, _) => evaluate(Box::new(truth)),
                };
                let buffer = self.buffer.len();
                if let Some(last) = self.conditions.last_mut() {
                    last.branch = branch;
                    last.after_else = name == "else";
                    last.buffer = buffer;
                }
                result
            }
            "endif" => {
                let Some(condition) = self.conditions.pop() else {
                    return Some(Err("\\endif: no matching \\if".to_owned()));
                };
                leaving(self, condition);
                Ok(())
            }
            _ => return None,
        };
        Some(result)
    }

    /// Drops the buffer's text from byte `length` on (a skipped branch's).
    fn drop_after(&mut self, length: usize) {
        if length == 0 || !self.buffer.is_char_boundary(length) {
            self.reset();
            return;
        }
        self.buffer.truncate(length);
        self.state = State::Normal;
    }

    /// Takes the buffer's text (for `\g`), leaving it empty; `None` when it holds only white
    /// space and comments.
    pub fn take(&mut self) -> Option<(String, usize)> {
        let text = std::mem::take(&mut self.buffer);
        let line = self.start.unwrap_or(1);
        self.reset();
        let sql = text.trim().to_owned();
        (!pg_string::strip_comments(&sql).trim().is_empty()).then_some((sql, line))
    }

    /// psql's prompt marker for a continuation line: `'` in a string, `"` in an identifier,
    /// `$` in a dollar body, `*` in a comment, `(` inside parentheses, else `-`.
    pub fn marker(&self) -> char {
        match self.state {
            State::Quote(_) => '\'',
            State::Identifier => '"',
            State::Dollar(_) => '$',
            State::Comment(_) => '*',
            State::Normal if self.parens > 0 => '(',
            State::Normal => '-',
        }
    }

    /// Feeds one line (without its line break), numbered `number`: returns the statements
    /// it completes and the meta-command it ends with, in order.
    /// A meta-command ends at an unquoted backslash, as in psql: scanning stops after it,
    /// and [`Scanner::resume`] goes on with the rest of the line once it has run (`\\`
    /// separates a meta-command from the SQL after it, `\t on \x on` are two).
    pub fn feed(&mut self, line: &str, number: usize, vars: &Vars) -> Vec<Piece> {
        self.pending = None;
        if !self.buffer.is_empty() {
            self.buffer.push('\n');
        }
        self.scan(line, number, vars)
    }

    /// Scans the rest of the line after the meta-command [`Scanner::feed`] (or the last
    /// `resume`) ended with; `None` when nothing is left.
    pub fn resume(&mut self, number: usize, vars: &Vars) -> Option<Vec<Piece>> {
        let rest = self.pending.take()?;
        Some(self.scan(&rest, number, vars))
    }

    /// Scans part of a line (the buffer already has the line break before it).
    fn scan(&mut self, line: &str, number: usize, vars: &Vars) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let mut chars: Vec<char> = line.chars().collect();
        // The variables whose values are being scanned, and where each value ends.
        let mut expanding: Vec<(usize, String)> = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            expanding.retain(|(end, _)| *end > i);
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            let state = self.state.clone();
            if state == State::Normal && (c.is_alphanumeric() || c == '_') {
                self.word.push(c.to_ascii_lowercase());
            } else {
                self.end_word();
            }
            match state {
                State::Normal => {
                    if c == '-' && next == Some('-') {
                        // A line comment: the rest of the line.
                        let rest: String = chars[i..].iter().collect();
                        if !self.is_empty() {
                            self.buffer.push_str(&rest);
                        }
                        break;
                    }
                    if c == '\\' {
                        let command = &chars[i + 1..];
                        let used = meta_length(command);
                        pieces.push(Piece::Meta(command[..used].iter().collect()));
                        let mut rest = &command[used..];
                        if rest.starts_with(&['\\', '\\']) {
                            rest = &rest[2..];
                        }
                        if !rest.is_empty() {
                            self.pending = Some(rest.iter().collect());
                        }
                        break;
                    }
                    if !c.is_whitespace() && self.start.is_none() {
                        self.start = Some(number);
                    }
                    match c {
                        ';' if self.parens == 0 && self.atomic == 0 => {
                            if let Some((sql, line)) = self.take() {
                                pieces.push(Piece::Statement { sql, line });
                            }
                            i += 1;
                            continue;
                        }
                        '(' => self.parens += 1,
                        ')' => self.parens = self.parens.saturating_sub(1),
                        '\'' => {
                            let escape = self
                                .buffer
                                .chars()
                                .last()
                                .is_some_and(|p| p == 'e' || p == 'E')
                                && !self
                                    .buffer
                                    .chars()
                                    .rev()
                                    .nth(1)
                                    .is_some_and(|p| p.is_alphanumeric() || p == '_');
                            self.state = State::Quote(escape);
                        }
                        '"' => self.state = State::Identifier,
                        '/' if next == Some('*') => {
                            self.state = State::Comment(1);
                            self.buffer.push_str("/*");
                            i += 2;
                            continue;
                        }
                        '$' => {
                            if let Some(tag) = dollar_tag(&chars[i..], &self.buffer) {
                                self.buffer.push_str(&tag);
                                i += tag.chars().count();
                                self.state = State::Dollar(tag);
                                continue;
                            }
                        }
                        ':' if next == Some(':') => {
                            self.buffer.push_str("::");
                            i += 2;
                            continue;
                        }
                        ':' if !matches!(next, Some('\'' | '"')) => {
                            // psql scans a variable's value as SQL in place of `:name`
                            // (its `;` end statements), but not inside its own value.
                            // A name ends with the value it is in, as in psql.
                            let limit = expanding.last().map_or(chars.len(), |(end, _)| *end);
                            if let Some((text, used)) = interpolate(&chars[i..limit], vars) {
                                let name: String = chars[i + 1..i + used].iter().collect();
                                if !expanding.iter().any(|(_, n)| *n == name) {
                                    let value: Vec<char> = text.chars().collect();
                                    let length = value.len();
                                    chars.splice(i..i + used, value);
                                    for (end, _) in &mut expanding {
                                        *end = *end + length - used;
                                    }
                                    expanding.push((i + length, name));
                                    continue;
                                }
                            }
                        }
                        ':' => {
                            if let Some((text, used)) = interpolate(&chars[i..], vars) {
                                self.buffer.push_str(&text);
                                i += used;
                                continue;
                            }
                        }
                        _ => {}
                    }
                    if !(c.is_whitespace() && self.buffer.is_empty()) {
                        self.buffer.push(c);
                    }
                    i += 1;
                }
                State::Quote(escape) => {
                    self.buffer.push(c);
                    if escape && c == '\\' {
                        if let Some(n) = next {
                            self.buffer.push(n);
                            i += 1;
                        }
                    } else if c == '\'' {
                        if next == Some('\'') {
                            self.buffer.push('\'');
                            i += 1;
                        } else {
                            self.state = State::Normal;
                        }
                    }
                    i += 1;
                }
                State::Identifier => {
                    self.buffer.push(c);
                    if c == '"' {
                        if next == Some('"') {
                            self.buffer.push('"');
                            i += 1;
                        } else {
                            self.state = State::Normal;
                        }
                    }
                    i += 1;
                }
                State::Dollar(tag) => {
                    // Compared in place: copying the rest of the line for each character
                    // made a long body quadratic.
                    let mut rest = chars[i..].iter();
                    if tag.chars().all(|t| rest.next() == Some(&t)) {
                        self.buffer.push_str(&tag);
                        i += tag.chars().count();
                        self.state = State::Normal;
                    } else {
                        self.buffer.push(c);
                        i += 1;
                    }
                }
                State::Comment(depth) => {
                    if c == '*' && next == Some('/') {
                        self.buffer.push_str("*/");
                        i += 2;
                        self.state = match depth {
                            1 => State::Normal,
                            _ => State::Comment(depth - 1),
                        };
                    } else if c == '/' && next == Some('*') {
                        self.buffer.push_str("/*");
                        i += 2;
                        self.state = State::Comment(depth + 1);
                    } else {
                        self.buffer.push(c);
                        i += 1;
                    }
                }
            }
        }
        self.end_word();
        if self.is_empty() && self.state == State::Normal {
            self.buffer.clear();
            self.start = None;
        }
        pieces
    }

    /// Ends the word being read: psql's rule for `CREATE [OR REPLACE] FUNCTION|PROCEDURE …
    /// BEGIN ATOMIC … END`, whose `;` end nothing (a `CASE … END` nests inside).
    fn end_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.word);
        let routine = self.words.first().is_some_and(|w| w == "create")
            && self
                .words
                .iter()
                .take(4)
                .any(|w| w == "function" || w == "procedure");
        match word.as_str() {
            "begin" if routine => self.atomic += 1,
            "case" if self.atomic > 0 => self.atomic += 1,
            "end" if self.atomic > 0 => self.atomic -= 1,
            _ => {}
        }
        if self.words.len() < 8 {
            self.words.push(word);
        }
    }
}

/// Meta-commands whose argument is the whole rest of the line, backslashes included.
const WHOLE_LINE: [&str; 10] = [
    "copy", "!", "h", "help", "sf", "sf+", "sv", "sv+", "ef", "ev",
];

/// How many characters of `chars` (what follows a meta-command's backslash) the
/// meta-command takes: its name (up to white space or a backslash), then its arguments up
/// to an unquoted backslash (`'…'` with its `\` escapes, `"…"`, `` `…` `` hide one), or the
/// whole line for `\copy` and the like.
fn meta_length(chars: &[char]) -> usize {
    if chars.is_empty() {
        return 0;
    }
    let mut i = 1;
    while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '\\' {
        i += 1;
    }
    let name: String = chars[..i].iter().collect();
    if WHOLE_LINE.contains(&name.as_str()) {
        return chars.len();
    }
    // `\o |COMMAND`, `\g |COMMAND`: the command is the rest of the line.
    let piped = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&'|');
    if piped && matches!(name.as_str(), "o" | "out" | "g" | "w" | "write") {
        return chars.len();
    }
    while i < chars.len() {
        match chars[i] {
            '\\' => return i,
            '\'' => {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    // A backslash escapes the next character inside quotes.
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
            }
            quote @ ('"' | '`') => {
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    chars.len()
}

/// The dollar-quote tag that starts `chars` (`$$`, `$tag$`), unless the `$` continues an
/// identifier or a parameter (`a$b`, `$1`).
fn dollar_tag(chars: &[char], before: &str) -> Option<String> {
    if before
        .chars()
        .last()
        .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '$')
    {
        return None;
    }
    let mut tag = String::from("$");
    for (index, &c) in chars.iter().enumerate().skip(1) {
        if c == '$' {
            tag.push('$');
            return Some(tag);
        }
        let fits = c.is_alphabetic() || c == '_' || (index > 1 && c.is_ascii_digit());
        if !fits {
            return None;
        }
        tag.push(c);
    }
    None
}

/// A variable reference at the start of `chars` (`:name`, `:'name'`, `:"name"`) and how many
/// characters it takes; `None` when it is none or names no variable (left as written).
pub fn interpolate(chars: &[char], vars: &Vars) -> Option<(String, usize)> {
    let quote = match chars.get(1) {
        Some('\'') => Some('\''),
        Some('"') => Some('"'),
        _ => None,
    };
    let begin = if quote.is_some() { 2 } else { 1 };
    let mut end = begin;
    while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
        end += 1;
    }
    if end == begin {
        return None;
    }
    let name: String = chars[begin..end].iter().collect();
    match quote {
        None => vars.get(&name).map(|value| (value.to_owned(), end)),
        Some(q) if chars.get(end) == Some(&q) => {
            let value = vars.get(&name)?;
            let text = match q {
                '\'' => quote_literal(value),
                _ => quote_identifier(value),
            };
            Some((text, end + 1))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(text: &str, vars: &Vars) -> (Vec<Piece>, Scanner) {
        let mut scanner = Scanner::new();
        let mut pieces = Vec::new();
        for (index, line) in text.lines().enumerate() {
            pieces.extend(scanner.feed(line, index + 1, vars));
        }
        (pieces, scanner)
    }

    fn statement(sql: &str, line: usize) -> Piece {
        Piece::Statement {
            sql: sql.to_owned(),
            line,
        }
    }

    #[test]
    fn ends_statements_outside_quotes_comments_and_parentheses() {
        let vars = Vars::default();
        let (pieces, scanner) = feed_all(
            "select 'a;b', \"c;d\", e'x\\';y' -- no; end\n\
             ; select (1;\n2); create function f() returns int as $body$\n\
             select 1; $body$ language sql;\n/* a; /* nested; */ still; */ select 3;\n\
             select $1, a$$b;",
            &vars,
        );
        assert_eq!(
            pieces,
            [
                statement("select 'a;b', \"c;d\", e'x\\';y' -- no; end", 1),
                statement("select (1;\n2)", 2),
                statement(
                    "create function f() returns int as $body$\nselect 1; $body$ language sql",
                    3
                ),
                statement("/* a; /* nested; */ still; */ select 3", 5),
                statement("select $1, a$$b", 6),
            ]
        );
        assert!(scanner.is_empty());
    }

    #[test]
    fn begin_atomic_bodies_hold_their_semicolons() {
        let vars = Vars::default();
        let (pieces, scanner) = feed_all(
            "create or replace function f(x int) returns int language sql\n\
             begin atomic\n  select case when x > 0 then 1 else 0 end;\n  select 2;\nend;\n\
             begin; select 3;",
            &vars,
        );
        assert_eq!(
            pieces,
            [
                statement(
                    "create or replace function f(x int) returns int language sql\n\
                     begin atomic\n  select case when x > 0 then 1 else 0 end;\n  select 2;\nend",
                    1
                ),
                statement("begin", 6),
                statement("select 3", 6),
            ]
        );
        assert!(scanner.is_empty());
    }

    #[test]
    fn gives_continuation_markers() {
        let vars = Vars::default();
        for (text, marker) in [
            ("select 'open", '\''),
            ("select \"open", '"'),
            ("select $$ open", '$'),
            ("select /* open", '*'),
            ("select (1,", '('),
            ("select 1", '-'),
        ] {
            let (pieces, scanner) = feed_all(text, &vars);
            assert!(pieces.is_empty());
            assert_eq!(scanner.marker(), marker, "{text}");
        }
    }

    #[test]
    fn meta_commands_and_leading_comments() {
        let vars = Vars::default();
        let (pieces, mut scanner) = feed_all("-- a comment\nselect 1 \\g\n", &vars);
        assert_eq!(pieces, [Piece::Meta("g".to_owned())]);
        assert_eq!(scanner.take(), Some(("select 1".to_owned(), 2)));
        let (pieces, scanner) = feed_all("select '\\x'; \\echo hi", &vars);
        assert_eq!(
            pieces,
            [statement("select '\\x'", 1), Piece::Meta("echo hi".into())]
        );
        assert!(scanner.is_empty());
    }

    /// Feeds `text` as one line, then resumes after each meta-command as the session does.
    fn feed_resuming(text: &str, vars: &Vars) -> (Vec<Piece>, Scanner) {
        let mut scanner = Scanner::new();
        let mut pieces = scanner.feed(text, 1, vars);
        while let Some(more) = scanner.resume(1, vars) {
            pieces.extend(more);
        }
        (pieces, scanner)
    }

    #[test]
    fn a_meta_command_ends_at_an_unquoted_backslash() {
        let vars = Vars::default();
        let meta = |text: &str| Piece::Meta(text.to_owned());
        // `\\` separates a meta-command from the SQL after it.
        let (pieces, scanner) = feed_resuming("\\echo hi \\\\ select 1;", &vars);
        assert_eq!(pieces, [meta("echo hi "), statement("select 1", 1)]);
        assert!(scanner.is_empty());
        // Several meta-commands on a line; a trailing `\\` is eaten.
        let (pieces, _) = feed_resuming("\\t on \\x on\\\\", &vars);
        assert_eq!(pieces, [meta("t on "), meta("x on")]);
        // Quoted backslashes do not end it; `\\copy` takes the whole line.
        let (pieces, _) = feed_resuming("\\echo 'a\\\\b' \"c\\d\" e", &vars);
        assert_eq!(pieces, [meta("echo 'a\\\\b' \"c\\d\" e")]);
        let (pieces, _) = feed_resuming("\\copy t from 'f' \\\\ x", &vars);
        assert_eq!(pieces, [meta("copy t from 'f' \\\\ x")]);
        let (pieces, _) = feed_resuming("\\o | sed 's/\\\\/x/' \\\\ x", &vars);
        assert_eq!(pieces, [meta("o | sed 's/\\\\/x/' \\\\ x")]);
        // The SQL before a meta-command stays in the buffer; what follows joins it.
        let mut scanner = Scanner::new();
        let pieces = scanner.feed("select 1 \\echo x \\\\ + 1;", 1, &vars);
        assert_eq!(pieces, [meta("echo x ")]);
        assert_eq!(scanner.buffer(), "select 1 ");
        assert_eq!(
            scanner.resume(1, &vars),
            Some(vec![statement("select 1  + 1", 1)])
        );
        assert_eq!(scanner.resume(1, &vars), None);
    }

    #[test]
    fn a_variables_value_is_scanned_as_sql() {
        // psql scans what `:name` gives: its `;` end statements (the psqlrc macro idiom),
        // its quotes open strings; a variable met inside its own value stays as written.
        let mut vars = Vars::default();
        vars.set("q", "select 1; select 2");
        vars.set("open", "select 'x");
        vars.set("me", "1 + :me");
        vars.set("a", ":b");
        vars.set("b", "(:a)");
        vars.set("x", ":y");
        vars.set("yz", "no");
        let (pieces, scanner) = feed_all(":q;\n:open; ' as s;\nselect :me, :a, :xz;", &vars);
        assert_eq!(
            pieces,
            [
                statement("select 1", 1),
                statement("select 2", 1),
                statement("select 'x; ' as s", 2),
                statement("select 1 + :me, (:a), :xz", 3),
            ]
        );
        assert!(scanner.is_empty());
    }

    #[test]
    fn if_blocks_run_one_branch_and_drop_the_text_of_skipped_ones() {
        let vars = Vars::default();
        let mut scanner = Scanner::new();
        let yes = || Ok(true);
        let no = || Ok(false);
        assert_eq!(scanner.conditional("echo", yes), None);
        scanner.feed("select 1", 1, &vars);
        assert_eq!(scanner.conditional("if", no), Some(Ok(())));
        assert!(!scanner.active());
        scanner.feed("+ 100", 2, &vars);
        assert_eq!(scanner.conditional("elif", yes), Some(Ok(())));
        assert!(scanner.active());
        assert_eq!(
            scanner.buffer(),
            "select 1",
            "the skipped branch's text dropped"
        );
        scanner.feed("+ 2", 3, &vars);
        // Nested in a branch that runs no more: ignored, whatever it says.
        assert_eq!(scanner.conditional("else", yes), Some(Ok(())));
        assert_eq!(scanner.conditional("if", yes), Some(Ok(())));
        assert!(!scanner.active());
        assert_eq!(scanner.conditional("endif", yes), Some(Ok(())));
        assert_eq!(
            scanner.conditional("else", yes),
            Some(Err("\\else: cannot occur after \\else".to_owned()))
        );
        assert_eq!(scanner.conditional("endif", yes), Some(Ok(())));
        assert!(scanner.active() && !scanner.in_conditional());
        assert_eq!(scanner.buffer(), "select 1\n+ 2");
        assert_eq!(
            scanner.conditional("endif", yes),
            Some(Err("\\endif: no matching \\if".to_owned()))
        );
        // A bad expression is reported and counts as false.
        let bad = || Err("not a boolean".to_owned());
        assert_eq!(
            scanner.conditional("if", bad),
            Some(Err("not a boolean".to_owned()))
        );
        assert!(!scanner.active());
        scanner.reset();
        assert!(scanner.in_conditional(), "\\r keeps the blocks");
        scanner.interrupt();
        assert!(!scanner.in_conditional(), "Ctrl-C leaves them");
    }

    #[test]
    fn interpolates_variables_outside_quotes() {
        let mut vars = Vars::default();
        vars.set("t", "my table");
        vars.set("n", "42");
        let (pieces, _) = feed_all(
            "select :n, :'t', :\"t\", ':n', 1::int, :missing, :'missing';",
            &vars,
        );
        assert_eq!(
            pieces,
            [statement(
                "select 42, 'my table', \"my table\", ':n', 1::int, :missing, :'missing'",
                1
            )]
        );
        vars.set("q", "it's");
        let (pieces, _) = feed_all("select :'q';", &vars);
        assert_eq!(pieces, [statement("select 'it''s'", 1)]);
    }
}
