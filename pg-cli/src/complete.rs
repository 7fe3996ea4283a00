//! Tab completion for the interactive shell: SQL keywords, meta-commands, and the names of
//! schemas, relations, columns and databases the server has ([`Catalog`], read once by
//! [`load`]), offered where they fit the way psql offers them (relations after `FROM`,
//! `JOIN`, `INTO`, `UPDATE`, `TABLE` and `\d`; databases after `\c`; columns of the tables
//! a statement names), in the case the user typed keywords in, names quoted when they need it.

use pg_driver::Connection;
use pg_string::{quote_ident, quote_ident_if_needed, split_qname};

/// The names completion offers, read from the server's catalog by [`load`].
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    /// The schemas (`pg_toast` and the temporary ones left out).
    pub schemas: Vec<String>,
    /// Tables, views, sequences, indexes… with their schema.
    pub relations: Vec<Relation>,
    /// The columns of the tables and views.
    pub columns: Vec<Column>,
    /// The databases one may connect to.
    pub databases: Vec<String>,
}

/// A relation of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// `pg_class.relkind`: `r` table, `p` partitioned table, `v` view, `m` materialized
    /// view, `S` sequence, `f` foreign table, `i` index, `I` partitioned index.
    pub kind: char,
    /// Whether the search path reaches it unqualified (`pg_table_is_visible`).
    pub visible: bool,
}

/// A column of a relation of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The schema of its relation.
    pub schema: String,
    /// Its relation.
    pub table: String,
    /// Its name.
    pub name: String,
}

/// The most names of each sort [`load`] reads, so that a huge catalog cannot stall the prompt.
pub const LIMIT: usize = 5000;

/// The most columns [`load`] reads.
pub const COLUMN_LIMIT: usize = 20000;

/// Reads the names completion offers from the server: the schemas, the relations with their
/// schema and kind, their columns and the databases, user schemas before the system's
/// catalogs, each list bounded ([`LIMIT`], [`COLUMN_LIMIT`]); `pg_toast` is left out.
pub async fn load(db: &Connection) -> Result<Catalog, pg_exceptions::Error> {
    // Other sessions' temporary schemas are left out, this session's own is kept.
    const NOT_TOAST: &str = "n.nspname <> 'pg_toast' and (n.nspname !~ '^pg_(toast_)?temp_' \
                             or n.oid = pg_catalog.pg_my_temp_schema())";
    const SYSTEM_LAST: &str = "(n.nspname in ('pg_catalog', 'information_schema'))";
    let schemas = db
        .prepare(&format!(
            "select n.nspname::text from pg_catalog.pg_namespace n where {NOT_TOAST} \
             order by {SYSTEM_LAST}, 1 limit {LIMIT}"
        ))
        .await?
        .call_as::<(String,), _>(())
        .await?;
    let relations = db
        .prepare(&format!(
            "select n.nspname::text, c.relname::text, c.relkind::text, \
             pg_catalog.pg_table_is_visible(c.oid) \
             from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
             where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I') and {NOT_TOAST} \
             order by {SYSTEM_LAST}, 1, 2 limit {LIMIT}"
        ))
        .await?
        .call_as::<(String, String, String, bool), _>(())
        .await?;
    let columns = db
        .prepare(&format!(
            "select n.nspname::text, c.relname::text, a.attname::text \
             from pg_catalog.pg_attribute a \
             join pg_catalog.pg_class c on c.oid = a.attrelid \
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
             where a.attnum > 0 and not a.attisdropped \
             and c.relkind in ('r', 'p', 'v', 'm', 'f') and {NOT_TOAST} \
             order by {SYSTEM_LAST}, 1, 2, a.attnum limit {COLUMN_LIMIT}"
        ))
        .await?
        .call_as::<(String, String, String), _>(())
        .await?;
    let databases = db
        .prepare(&format!(
            "select datname::text from pg_catalog.pg_database where datallowconn \
             order by 1 limit {LIMIT}"
        ))
        .await?
        .call_as::<(String,), _>(())
        .await?;
    Ok(Catalog {
        schemas: schemas.into_iter().map(|(s,)| s).collect(),
        relations: relations
            .into_iter()
            .map(|(schema, name, kind, visible)| Relation {
                schema,
                name,
                kind: kind.chars().next().unwrap_or('r'),
                visible,
            })
            .collect(),
        columns: columns
            .into_iter()
            .map(|(schema, table, name)| Column {
                schema,
                table,
                name,
            })
            .collect(),
        databases: databases.into_iter().map(|(d,)| d).collect(),
    })
}

/// The words that start a statement.
const STARTERS: &[&str] = &[
    "ABORT",
    "ALTER",
    "ANALYZE",
    "BEGIN",
    "CALL",
    "CHECKPOINT",
    "CLOSE",
    "CLUSTER",
    "COMMENT",
    "COMMIT",
    "COPY",
    "CREATE",
    "DEALLOCATE",
    "DECLARE",
    "DELETE",
    "DISCARD",
    "DO",
    "DROP",
    "END",
    "EXECUTE",
    "EXPLAIN",
    "FETCH",
    "GRANT",
    "IMPORT",
    "INSERT",
    "LISTEN",
    "LOAD",
    "LOCK",
    "MERGE",
    "MOVE",
    "NOTIFY",
    "PREPARE",
    "REASSIGN",
    "REFRESH",
    "REINDEX",
    "RELEASE",
    "RESET",
    "REVOKE",
    "ROLLBACK",
    "SAVEPOINT",
    "SECURITY",
    "SELECT",
    "SET",
    "SHOW",
    "START",
    "TABLE",
    "TRUNCATE",
    "UNLISTEN",
    "UPDATE",
    "VACUUM",
    "VALUES",
    "WITH",
];

/// The words of clauses and of the statements' other parts.
const CLAUSE_WORDS: &[&str] = &[
    "ADD",
    "ALL",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "COMMITTED",
    "CONCURRENTLY",
    "CONFLICT",
    "CONSTRAINT",
    "CROSS",
    "CURRENT_DATE",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "DATABASE",
    "DEFAULT",
    "DESC",
    "DISTINCT",
    "ELSE",
    "EXCEPT",
    "EXISTS",
    "EXTENSION",
    "FALSE",
    "FILTER",
    "FIRST",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "FUNCTION",
    "GROUP",
    "HAVING",
    "IF",
    "ILIKE",
    "IN",
    "INDEX",
    "INNER",
    "INTERSECT",
    "INTO",
    "IS",
    "ISOLATION",
    "JOIN",
    "KEY",
    "LAST",
    "LATERAL",
    "LEFT",
    "LEVEL",
    "LIKE",
    "LIMIT",
    "LOCKED",
    "MATERIALIZED",
    "NATURAL",
    "NOT",
    "NOTHING",
    "NOWAIT",
    "NULL",
    "NULLS",
    "OFFSET",
    "ON",
    "ONLY",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "OWNER",
    "PARTITION",
    "PRIMARY",
    "PROCEDURE",
    "READ",
    "REFERENCES",
    "RENAME",
    "REPEATABLE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLE",
    "SCHEMA",
    "SEQUENCE",
    "SERIALIZABLE",
    "SHARE",
    "SKIP",
    "THEN",
    "TO",
    "TRANSACTION",
    "TRIGGER",
    "TRUE",
    "TYPE",
    "UNION",
    "UNIQUE",
    "USER",
    "USING",
    "VIEW",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WORK",
    "WRITE",
];

/// The meta-commands, as `\?` lists them.
pub const META_COMMANDS: &[&str] = &[
    "\\?",
    "\\a",
    "\\c",
    "\\conninfo",
    "\\copy",
    "\\d",
    "\\df",
    "\\di",
    "\\dn",
    "\\ds",
    "\\dt",
    "\\du",
    "\\dv",
    "\\echo",
    "\\g",
    "\\i",
    "\\ir",
    "\\l",
    "\\o",
    "\\p",
    "\\pset",
    "\\q",
    "\\r",
    "\\set",
    "\\t",
    "\\timing",
    "\\unset",
    "\\x",
];

/// Relations one reads from (`FROM`, `JOIN`).
const SELECTABLE: &str = "rpvmSf";
/// Relations one writes to (`INTO`, `UPDATE`, `\copy`).
const UPDATABLE: &str = "rpvf";
/// Tables.
const TABLES: &str = "rpf";
/// Every kind of relation.
const ANY_RELATION: &str = "rpvmSfiI";

/// What the token before the cursor makes the word stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The words that start a statement.
    Starter,
    /// Relations of these kinds (`pg_class.relkind` letters), and schemas to qualify them.
    Relations(&'static str),
    /// Schemas.
    Schemas,
    /// Databases.
    Databases,
    /// These words (the `FROM`/`TO` of `\copy`).
    Words(&'static [&'static str]),
    /// Keywords and the columns of the statement's tables.
    General,
    /// Nothing (a file name, a string literal, a comment).
    Nothing,
}

/// Completes the word that ends at byte `pos` of `line`: returns the byte offset where that
/// word starts and the candidates to replace it with, sorted and without duplicates. Only the
/// text before `pos` decides what is offered, but the tables the whole line names give the
/// columns.
pub fn complete(line: &str, pos: usize, catalog: &Catalog) -> (usize, Vec<String>) {
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let tokens = lex(&line[..pos]);
    let (start, word, before) = match tokens.last() {
        Some(last) if last.end == pos && last.open => return (pos, Vec::new()),
        Some(last) if last.end == pos && matches!(last.kind, Kind::Word | Kind::Meta) => (
            last.start,
            &line[last.start..pos],
            &tokens[..tokens.len() - 1],
        ),
        _ => (pos, "", &tokens[..]),
    };
    if word.starts_with('\\') {
        let mut found: Vec<String> = META_COMMANDS
            .iter()
            .filter(|m| m.starts_with(word))
            .map(|m| (*m).to_owned())
            .collect();
        found.sort();
        return (start, found);
    }
    let want = match before.first() {
        Some(first) if first.kind == Kind::Meta => {
            meta_argument(&line[first.start..first.end], before.len() - 1)
        }
        _ => sql_context(line, before),
    };
    let mut found = Vec::new();
    match want {
        Want::Nothing => {}
        Want::Starter => found.extend(keywords(STARTERS, word)),
        Want::Words(words) => found.extend(keywords(words, word)),
        Want::Schemas => found.extend(names(catalog.schemas.iter(), word)),
        Want::Databases => found.extend(names(catalog.databases.iter(), word)),
        Want::Relations(kinds) => match qualifier(word) {
            Some((prefix, parts, partial)) => {
                if let [schema] = parts.as_slice() {
                    let inside = catalog
                        .relations
                        .iter()
                        .filter(|r| &r.schema == schema && kinds.contains(r.kind))
                        .map(|r| &r.name);
                    found.extend(qualified(&prefix, names(inside, partial)));
                }
            }
            None => {
                let visible = catalog
                    .relations
                    .iter()
                    .filter(|r| r.visible && kinds.contains(r.kind))
                    .map(|r| &r.name);
                found.extend(names(visible, word));
                found.extend(names(catalog.schemas.iter(), word).map(|s| s + "."));
            }
        },
        Want::General => {
            let tables = named_relations(line, catalog);
            match qualifier(word) {
                Some((prefix, parts, partial)) => {
                    // `schema.` gives its relations; `table.`, `alias.`, `schema.table.` columns.
                    if let [schema] = parts.as_slice() {
                        let inside = catalog
                            .relations
                            .iter()
                            .filter(|r| &r.schema == schema && SELECTABLE.contains(r.kind))
                            .map(|r| &r.name);
                        found.extend(qualified(&prefix, names(inside, partial)));
                    }
                    let owners: Vec<&Relation> = match parts.as_slice() {
                        [name] => {
                            let aliased: Vec<&Relation> = tables
                                .iter()
                                .filter(|(alias, _)| alias.as_deref() == Some(name.as_str()))
                                .map(|(_, r)| *r)
                                .collect();
                            if aliased.is_empty() {
                                resolve(catalog, &[], name)
                            } else {
                                aliased
                            }
                        }
                        [schema, name] => resolve(catalog, std::slice::from_ref(schema), name),
                        _ => Vec::new(),
                    };
                    let columns = owners
                        .iter()
                        .flat_map(|r| columns_of(catalog, r))
                        .collect::<Vec<_>>();
                    found.extend(qualified(&prefix, names(columns.into_iter(), partial)));
                }
                None => {
                    found.extend(keywords(STARTERS, word));
                    found.extend(keywords(CLAUSE_WORDS, word));
                    let columns: Vec<&String> = if tables.is_empty() {
                        catalog.columns.iter().map(|c| &c.name).collect()
                    } else {
                        tables
                            .iter()
                            .flat_map(|(_, r)| columns_of(catalog, r))
                            .collect()
                    };
                    found.extend(names(columns.into_iter(), word));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    (start, found)
}

/// What the argument number `index` (from 0) of a meta-command stands for.
fn meta_argument(command: &str, index: usize) -> Want {
    // `\dt+`, `\dtS`: the same objects, more detail or the system's too.
    let base = command.trim_end_matches(['+', 'S']);
    match (base, index) {
        ("\\c" | "\\connect", 0) => Want::Databases,
        ("\\d", _) => Want::Relations(ANY_RELATION),
        ("\\dt", _) => Want::Relations(TABLES),
        ("\\di", _) => Want::Relations("iI"),
        ("\\dv", _) => Want::Relations("v"),
        ("\\dm", _) => Want::Relations("m"),
        ("\\ds", _) => Want::Relations("S"),
        ("\\dn", _) => Want::Schemas,
        ("\\copy", 0) => Want::Relations(UPDATABLE),
        ("\\copy", 1) => Want::Words(&["FROM", "TO"]),
        _ => Want::Nothing,
    }
}

/// What the word after the tokens `before` of an SQL statement stands for.
fn sql_context(line: &str, before: &[Token]) -> Want {
    // The statement the cursor is in: after the last `;`.
    let statement = match before.iter().rposition(|t| t.kind == Kind::Punct(';')) {
        Some(i) => &before[i + 1..],
        None => before,
    };
    let Some(last) = statement.last() else {
        return Want::Starter;
    };
    let lower = |t: &Token| line[t.start..t.end].to_ascii_lowercase();
    match last.kind {
        Kind::Word => match lower(last).as_str() {
            "from" | "join" => Want::Relations(SELECTABLE),
            "into" | "update" | "truncate" | "lock" => Want::Relations(UPDATABLE),
            "copy" if statement.len() == 1 => Want::Relations(UPDATABLE),
            "table" => Want::Relations(TABLES),
            "view" => Want::Relations("vm"),
            "index" => Want::Relations("iI"),
            "sequence" => Want::Relations("S"),
            "schema" => Want::Schemas,
            "database" => Want::Databases,
            "only" => match statement.len().checked_sub(2).map(|i| lower(&statement[i])) {
                Some(w) if w == "from" || w == "join" => Want::Relations(SELECTABLE),
                Some(w) if w == "update" || w == "table" => Want::Relations(TABLES),
                _ => Want::General,
            },
            _ => Want::General,
        },
        // `FROM a, b`: another relation.
        Kind::Punct(',') => {
            let clause = statement.iter().rev().find_map(|t| {
                let word = lower(t);
                (t.kind == Kind::Word && CLAUSES.contains(&word.as_str())).then_some(word)
            });
            match clause.as_deref() {
                Some("from") => Want::Relations(SELECTABLE),
                _ => Want::General,
            }
        }
        _ => Want::General,
    }
}

/// The words that open a clause: which one a `,` continues decides what follows it.
const CLAUSES: &[&str] = &[
    "select",
    "from",
    "where",
    "group",
    "order",
    "having",
    "limit",
    "offset",
    "on",
    "using",
    "set",
    "values",
    "returning",
    "window",
    "union",
    "intersect",
    "except",
];

/// The keywords of `list` that start like `word`, in the case `word` is typed in (upper case
/// when it starts with an upper-case letter or is empty, as psql's `preserve-upper`).
fn keywords<'a>(list: &'a [&'a str], word: &'a str) -> impl Iterator<Item = String> + 'a {
    let upper = word.chars().next().is_none_or(|c| !c.is_lowercase());
    let typed = word.to_ascii_uppercase();
    list.iter()
        .filter(move |k| k.starts_with(&typed))
        .map(move |k| match upper {
            true => (*k).to_owned(),
            false => k.to_ascii_lowercase(),
        })
}

/// The names that start like `typed`, as they are written in SQL (quoted when they need it).
/// An unquoted `typed` matches whatever the case; a quoted one matches the quoted name.
fn names<'a, I>(names: I, typed: &'a str) -> impl Iterator<Item = String> + 'a
where
    I: Iterator<Item = &'a String> + 'a,
{
    let folded = typed.to_lowercase();
    names.filter_map(move |name| {
        if typed.starts_with('"') {
            let quoted = quote_ident(name);
            quoted.starts_with(typed).then_some(quoted)
        } else {
            name.to_lowercase()
                .starts_with(&folded)
                .then(|| quote_ident_if_needed(name).into_owned())
        }
    })
}

/// The candidates with the qualifier the user typed in front.
fn qualified<'a>(
    prefix: &'a str,
    candidates: impl Iterator<Item = String> + 'a,
) -> impl Iterator<Item = String> + 'a {
    candidates.map(move |c| format!("{prefix}{c}"))
}

/// Splits a qualified word at its last `.` outside quotes: the text up to and with the dot,
/// the names it stands for, and the partial name after it. `None` when there is no such dot
/// or the qualifier is not a name.
fn qualifier(word: &str) -> Option<(String, Vec<String>, &str)> {
    let mut quoted = false;
    let mut dot = None;
    for (i, c) in word.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => dot = Some(i),
            _ => {}
        }
    }
    let dot = dot?;
    let parts = split_qname(&word[..dot]).ok()?;
    Some((word[..=dot].to_owned(), parts, &word[dot + 1..]))
}

/// The relations named `name` (in `schema` when one is given; else the visible ones, or any
/// when none is visible).
fn resolve<'c>(catalog: &'c Catalog, schema: &[String], name: &str) -> Vec<&'c Relation> {
    let named = catalog.relations.iter().filter(|r| r.name == name);
    match schema {
        [schema] => named.filter(|r| &r.schema == schema).collect(),
        _ => {
            let all: Vec<&Relation> = named.collect();
            let visible: Vec<&Relation> = all.iter().copied().filter(|r| r.visible).collect();
            if visible.is_empty() { all } else { visible }
        }
    }
}

/// The column names of a relation.
fn columns_of<'c>(catalog: &'c Catalog, relation: &Relation) -> impl Iterator<Item = &'c String> {
    let (schema, table) = (relation.schema.clone(), relation.name.clone());
    catalog
        .columns
        .iter()
        .filter(move |c| c.schema == schema && c.table == table)
        .map(|c| &c.name)
}

/// The relations the line names after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE` (and the
/// `,` of a `FROM` list), each with its alias when it has one.
fn named_relations<'c>(line: &str, catalog: &'c Catalog) -> Vec<(Option<String>, &'c Relation)> {
    let tokens = lex(line);
    let text = |t: &Token| &line[t.start..t.end];
    let is_word = |t: Option<&Token>, w: &str| {
        t.is_some_and(|t| t.kind == Kind::Word && text(t).eq_ignore_ascii_case(w))
    };
    let mut found = Vec::new();
    let mut in_from = false;
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        let lower = text(token).to_ascii_lowercase();
        let opens = match token.kind {
            Kind::Word => match lower.as_str() {
                "from" => {
                    in_from = true;
                    true
                }
                "join" | "into" | "update" | "table" => true,
                w if CLAUSES.contains(&w) => {
                    in_from = false;
                    false
                }
                _ => false,
            },
            Kind::Punct(',') => in_from,
            Kind::Punct(';') | Kind::Punct(')') => {
                in_from = false;
                false
            }
            _ => false,
        };
        i += 1;
        if !opens {
            continue;
        }
        if is_word(tokens.get(i), "only") {
            i += 1;
        }
        let Some(name) = tokens.get(i).filter(|t| t.kind == Kind::Word && !t.open) else {
            continue;
        };
        let Ok(mut parts) = split_qname(text(name)) else {
            continue;
        };
        i += 1;
        let Some(relname) = parts.pop() else {
            continue;
        };
        let relations = resolve(catalog, &parts, &relname);
        // `t AS a`, `t a`: an alias, unless the word is a keyword (`t WHERE`).
        if is_word(tokens.get(i), "as") {
            i += 1;
        }
        let alias = tokens
            .get(i)
            .filter(|t| t.kind == Kind::Word && !t.open && !is_keyword(text(t)))
            .and_then(|t| split_qname(text(t)).ok())
            .and_then(|mut p| (p.len() == 1).then(|| p.remove(0)));
        found.extend(relations.into_iter().map(|r| (alias.clone(), r)));
    }
    found
}

fn is_keyword(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    STARTERS.contains(&upper.as_str()) || CLAUSE_WORDS.contains(&upper.as_str())
}

/// The sort of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A name or keyword, possibly qualified and quoted (`s."T".c`), or a number.
    Word,
    /// A backslash command (`\dt+`).
    Meta,
    /// A string literal (quoted or dollar-quoted) or a comment.
    Literal,
    /// Any other character.
    Punct(char),
}

/// A token: its sort, its byte range, and whether its quote or comment is left open.
#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    open: bool,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
}

/// The end of a span quoted with `quote` (`'…'`, `"…"`, a doubled quote standing for one)
/// that opens at byte `open`, and whether it closed before the text's end.
fn quoted_end(bytes: &[u8], open: usize, quote: u8) -> (usize, bool) {
    let mut j = open + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return (j + 1, true);
        }
        j += 1;
    }
    (bytes.len(), false)
}
/// Splits SQL (and meta-command lines) into tokens, enough to see what a word stands for.
fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let token = |kind, start, end, open| Token {
        kind,
        start,
        end,
        open,
    };
    while i < text.len() {
        let rest = &text[i..];
        let Some(c) = rest.chars().next() else { break };
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if rest.starts_with("--") {
            let end = rest.find('\n').map(|n| i + n);
            i = end.map_or(text.len(), |e| e + 1);
            tokens.push(token(
                Kind::Literal,
                start,
                end.unwrap_or(text.len()),
                end.is_none(),
            ));
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            let mut j = i;
            let mut closed = false;
            while j < text.len() {
                // Bytes, not text: `j` steps through multi-byte characters.
                if bytes[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if bytes[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        closed = true;
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            i = j.min(text.len());
            tokens.push(token(Kind::Literal, start, i, !closed));
        } else if c == '\'' {
            let closed;
            (i, closed) = quoted_end(bytes, i, b'\'');
            tokens.push(token(Kind::Literal, start, i, !closed));
        } else if let Some(tag) = dollar_tag(rest) {
            let body = &text[i + tag.len()..];
            let (end, closed) = match body.find(tag) {
                Some(n) => (i + tag.len() + n + tag.len(), true),
                None => (text.len(), false),
            };
            i = end;
            tokens.push(token(Kind::Literal, start, i, !closed));
        } else if c == '\\' {
            let end = rest[1..]
                .find(|c: char| c.is_whitespace() || c == '\\')
                .map_or(text.len(), |n| i + 1 + n);
            i = end;
            tokens.push(token(Kind::Meta, start, i, false));
        } else if c == '"' || (is_name_char(c) && c != '$') {
            // Parts joined by dots: `schema."Table".column`, possibly ending at a dot.
            let mut open = false;
            loop {
                match text[i..].chars().next() {
                    Some('"') => {
                        let closed;
                        (i, closed) = quoted_end(bytes, i, b'"');
                        open = !closed;
                    }
                    Some(c) if is_name_char(c) => {
                        i += text[i..]
                            .find(|c: char| !is_name_char(c))
                            .unwrap_or(text.len() - i);
                    }
                    _ => break,
                }
                if open || !text[i..].starts_with('.') {
                    break;
                }
                i += 1;
            }
            // An open quote is a name being typed, which completion goes on with.
            tokens.push(token(Kind::Word, start, i, false));
            if open {
                break;
            }
        } else {
            i += c.len_utf8();
            tokens.push(token(Kind::Punct(c), start, i, false));
        }
    }
    tokens
}

/// The tag (`$$`, `$body$`) that opens a dollar-quoted string at the start of `text`.
fn dollar_tag(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('$')?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || !c.is_ascii()))?;
    let tag = &rest[..end];
    if !rest[end..].starts_with('$') || tag.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(&text[..end + 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(schema: &str, name: &str, kind: char, visible: bool) -> Relation {
        Relation {
            schema: schema.into(),
            name: name.into(),
            kind,
            visible,
        }
    }

    fn column(schema: &str, table: &str, name: &str) -> Column {
        Column {
            schema: schema.into(),
            table: table.into(),
            name: name.into(),
        }
    }

    fn catalog() -> Catalog {
        Catalog {
            schemas: vec!["public".into(), "sales".into(), "Odd Schema".into()],
            relations: vec![
                relation("public", "items", 'r', true),
                relation("public", "item_view", 'v', true),
                relation("public", "items_pkey", 'i', true),
                relation("public", "item_seq", 'S', true),
                relation("public", "Mixed Case", 'r', true),
                relation("sales", "orders", 'r', false),
                relation("sales", "order_lines", 'r', false),
                relation("Odd Schema", "thing", 'r', false),
            ],
            columns: vec![
                column("public", "items", "id"),
                column("public", "items", "name"),
                column("public", "items", "Price"),
                column("public", "item_view", "id"),
                column("sales", "orders", "order_id"),
                column("sales", "orders", "item_id"),
                column("sales", "orders", "placed"),
                column("public", "Mixed Case", "select"),
            ],
            databases: vec!["postgres".into(), "app".into(), "Test DB".into()],
        }
    }

    fn at_end(line: &str) -> (usize, Vec<String>) {
        complete(line, line.len(), &catalog())
    }

    fn candidates(line: &str) -> Vec<String> {
        at_end(line).1
    }

    #[test]
    fn non_ascii_text_in_comments_does_not_panic() {
        // A multi-byte character inside a block comment: the comment's scan stepped into
        // the character's middle.
        for line in ["select /* é */ ", "select /* é", "/* 日本 /* 𝄞 */ */ sel"] {
            for pos in (0..=line.len()).filter(|&p| line.is_char_boundary(p)) {
                complete(line, pos, &catalog());
            }
        }
        assert!(candidates("/* é */ sel").contains(&"select".to_owned()));
    }

    #[test]
    fn statement_starters_keep_the_case_typed() {
        assert_eq!(at_end("sel"), (0, vec!["select".to_owned()]));
        assert_eq!(at_end("SEL"), (0, vec!["SELECT".to_owned()]));
        assert_eq!(at_end("  Sel"), (2, vec!["SELECT".to_owned()]));
        assert_eq!(candidates("ins"), ["insert"]);
        assert_eq!(
            candidates("c"),
            [
                "call",
                "checkpoint",
                "close",
                "cluster",
                "comment",
                "commit",
                "copy",
                "create"
            ]
        );
        // At the start of a statement only statement starters: no `FROM`.
        assert!(!candidates("").contains(&"FROM".to_owned()));
        assert!(candidates("").contains(&"SELECT".to_owned()));
        assert_eq!(candidates("select 1; dr"), ["drop"]);
    }

    #[test]
    fn clause_keywords_and_columns_later_in_a_statement() {
        assert_eq!(candidates("select * from items wh"), ["when", "where"]);
        assert_eq!(candidates("SELECT * FROM items WHE"), ["WHEN", "WHERE"]);
        // The columns of the tables the line names; `n` also starts keywords.
        assert_eq!(
            candidates("select * from items where n"),
            [
                "name", "natural", "not", "nothing", "notify", "nowait", "null", "nulls"
            ]
        );
        assert_eq!(
            complete("select i from items", 8, &catalog()).1,
            [
                "id",
                "if",
                "ilike",
                "import",
                "in",
                "index",
                "inner",
                "insert",
                "intersect",
                "into",
                "is",
                "isolation"
            ]
        );
        // No table named: every column known.
        assert_eq!(candidates("select item_"), ["item_id"]);
        assert_eq!(candidates("select pl"), ["placed"]);
        // The columns of an INSERT's list and of an UPDATE's SET.
        assert_eq!(
            candidates("insert into items (i"),
            [
                "id",
                "if",
                "ilike",
                "import",
                "in",
                "index",
                "inner",
                "insert",
                "intersect",
                "into",
                "is",
                "isolation"
            ]
        );
        assert_eq!(candidates("update sales.orders set pl"), ["placed"]);
        // A column that needs quoting is offered quoted.
        assert_eq!(
            candidates("select * from items where pr"),
            ["\"Price\"", "prepare", "primary", "procedure"]
        );
        assert_eq!(
            candidates("select \"Mixed Case\".s"),
            ["\"Mixed Case\".\"select\""]
        );
    }

    #[test]
    fn meta_commands_after_a_backslash() {
        assert_eq!(
            candidates("\\d"),
            [
                "\\d", "\\df", "\\di", "\\dn", "\\ds", "\\dt", "\\du", "\\dv"
            ]
        );
        assert_eq!(candidates("\\co"), ["\\conninfo", "\\copy"]);
        assert_eq!(candidates("\\ti"), ["\\timing"]);
        assert_eq!(at_end("select 1 \\g").0, 9);
        assert_eq!(candidates("\\zz"), Vec::<String>::new());
    }

    #[test]
    fn relations_after_from_join_into_update_table() {
        assert_eq!(
            candidates("select * from it"),
            ["item_seq", "item_view", "items"]
        );
        assert_eq!(
            candidates("select * from items join it"),
            ["item_seq", "item_view", "items"]
        );
        assert_eq!(candidates("insert into it"), ["item_view", "items"]);
        assert_eq!(candidates("update it"), ["item_view", "items"]);
        assert_eq!(candidates("alter table it"), ["items"]);
        assert_eq!(
            candidates("select * from items, it"),
            ["item_seq", "item_view", "items"]
        );
        // Schemas too, to qualify a relation; invisible relations only qualified.
        assert_eq!(candidates("select * from sa"), ["sales."]);
        assert!(!candidates("select * from ").contains(&"orders".to_owned()));
        // A name that needs quoting is quoted, whatever the case typed.
        assert_eq!(candidates("select * from mi"), ["\"Mixed Case\""]);
        assert_eq!(candidates("select * from \"Mi"), ["\"Mixed Case\""]);
        assert_eq!(candidates("select * from od"), ["\"Odd Schema\"."]);
    }

    #[test]
    fn qualified_names() {
        assert_eq!(
            at_end("select * from sales.o"),
            (
                14,
                vec!["sales.order_lines".to_owned(), "sales.orders".to_owned()]
            )
        );
        assert_eq!(
            candidates("select * from Sales.ord"),
            ["Sales.order_lines", "Sales.orders"]
        );
        assert_eq!(
            candidates("select * from \"Odd Schema\"."),
            ["\"Odd Schema\".thing"]
        );
        // Columns of a table, of an alias, of a schema-qualified table.
        assert_eq!(candidates("select items.n"), ["items.name"]);
        let line = "select o.p from sales.orders o";
        assert_eq!(
            complete(line, 10, &catalog()),
            (7, vec!["o.placed".to_owned()])
        );
        assert_eq!(
            candidates("select o.i from sales.orders as o join items i on i.id = o.i"),
            ["o.item_id"]
        );
        assert_eq!(
            candidates("select sales.orders.o"),
            ["sales.orders.order_id"]
        );
        assert_eq!(candidates("select nosuch.x"), Vec::<String>::new());
    }

    #[test]
    fn meta_command_arguments() {
        assert_eq!(
            candidates("\\d it"),
            ["item_seq", "item_view", "items", "items_pkey"]
        );
        assert_eq!(candidates("\\dt it"), ["items"]);
        assert_eq!(candidates("\\dt+ it"), ["items"]);
        assert_eq!(
            candidates("\\di "),
            ["\"Odd Schema\".", "items_pkey", "public.", "sales."]
        );
        assert_eq!(candidates("\\dv it"), ["item_view"]);
        assert_eq!(candidates("\\ds it"), ["item_seq"]);
        assert_eq!(
            candidates("\\dt sales."),
            ["sales.order_lines", "sales.orders"]
        );
        assert_eq!(candidates("\\dn s"), ["sales"]);
        assert_eq!(candidates("\\c "), ["\"Test DB\"", "app", "postgres"]);
        assert_eq!(candidates("\\c a"), ["app"]);
        assert_eq!(candidates("\\copy it"), ["item_view", "items"]);
        assert_eq!(candidates("\\copy items f"), ["from"]);
        assert_eq!(
            candidates("\\copy items from '/tmp/x"),
            Vec::<String>::new()
        );
        assert_eq!(candidates("\\i it"), Vec::<String>::new());
    }

    #[test]
    fn in_the_middle_of_a_line() {
        let line = "select na from items";
        assert_eq!(
            complete(line, 9, &catalog()),
            (7, vec!["name".to_owned(), "natural".to_owned()])
        );
        let line = "select * from it where id = 1";
        assert_eq!(
            complete(line, 16, &catalog()),
            (
                14,
                vec![
                    "item_seq".to_owned(),
                    "item_view".to_owned(),
                    "items".to_owned()
                ]
            )
        );
        // A position past the end, or inside a character, is brought back.
        assert_eq!(
            complete("sel", 99, &catalog()),
            (0, vec!["select".to_owned()])
        );
        assert_eq!(complete("select é", 8, &catalog()).0, 7);
    }

    #[test]
    fn nothing_inside_literals_and_comments() {
        assert_eq!(candidates("select 'it"), Vec::<String>::new());
        assert_eq!(candidates("select 1 -- fr"), Vec::<String>::new());
        assert_eq!(candidates("select /* fr"), Vec::<String>::new());
        assert_eq!(candidates("select $$ fr"), Vec::<String>::new());
        // A closed literal is passed over.
        assert_eq!(
            candidates("select 'x;' from it"),
            ["item_seq", "item_view", "items"]
        );
        assert_eq!(candidates("select $q$;$q$, 1 fr"), ["from"]);
    }
}
