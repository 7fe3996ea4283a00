//! psql's catalog meta-commands: `\l`, `\dn`, `\dt` `\di` `\dv` `\ds` `\dm`, `\df`, `\du`
//! (`\dg`) and `\d NAME`, with psql's modifiers (`+` for more columns, `S` for system
//! objects) and patterns (`*`, `?`, `schema.name`, `"Quoted"`).
//!
//! [`run`] gives the [`Table`](crate::print::Table)s psql 15 prints for a command (titles,
//! column names, rows in psql's order, the footers of `\d NAME`), or the message psql
//! prints when nothing matched; the shell prints them with [`crate::print`]. Every pattern
//! reaches the server as a bound parameter, never pasted into the SQL.
//!
//! The catalog queries are the functions named `*_sql` below, one per command; they run on
//! servers 12 to 17, leaving out the columns an older server does not have, as psql does.

use pg_driver::Connection;
use pg_exceptions::Error;
use pg_types::{Type, Value};

use crate::print::Table;

/// What a describe command found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Described {
    /// The tables to print, in order (\d NAME gives one per matching object).
    Tables(Vec<Table>),
    /// Nothing matched: the message psql prints on standard error
    /// (`Did not find any relation named "nosuch".`).
    NotFound(String),
}

/// Runs the meta-command `command` (its name without the backslash, with psql's modifiers:
/// `dt+`, `dS`, `l+`…) for `pattern`; `Ok(None)` when `command` is not a describe command.
pub async fn run(
    db: &Connection,
    command: &str,
    pattern: Option<&str>,
) -> Result<Option<Described>, Error> {
    let Some(parsed) = Parsed::new(command) else {
        return Ok(None);
    };
    let pattern = pattern.filter(|p| !p.is_empty());
    let version = db.server_version()?;
    let described = match parsed.what {
        What::Databases => {
            let mut query = Query::default();
            let conditions = query
                .pattern(db, pattern, &Columns::names("d.datname"), 1)
                .await?;
            listing(
                db,
                "List of databases",
                databases_sql(version, parsed.verbose, &conditions),
                query,
            )
            .await?
        }
        What::Schemas => {
            let mut query = Query::default();
            let mut conditions = query
                .pattern(db, pattern, &Columns::names("n.nspname"), 2)
                .await?;
            if !parsed.system && pattern.is_none() {
                conditions.push("n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'".into());
            }
            let mut table = listing(
                db,
                "List of schemas",
                schemas_sql(parsed.verbose, &conditions),
                query,
            )
            .await?;
            // psql 15 names the publications of the schema the pattern spells, if any,
            // in place of the row count.
            if let Some(pattern) = pattern.filter(|_| version >= 150000) {
                let publications = fetch(
                    db,
                    SCHEMA_PUBLICATIONS_SQL,
                    vec![Value::Text(pattern.to_owned())],
                )
                .await?
                .rows;
                if !publications.is_empty() {
                    let mut footers = vec!["Publications:".to_owned()];
                    for row in 0..publications.len() {
                        footers.push(format!("    \"{}\"", cell(&publications, row, 0)));
                    }
                    table.footers = Some(footers);
                }
            }
            table
        }
        What::Relations(kinds) => return relations(db, &parsed, kinds, pattern).await,
        What::Functions => {
            let mut query = Query::default();
            let mut conditions = query
                .pattern(
                    db,
                    pattern,
                    &Columns {
                        schema: Some("n.nspname"),
                        name: "p.proname",
                        visible: Some("pg_catalog.pg_function_is_visible(p.oid)"),
                    },
                    3,
                )
                .await?;
            if !parsed.system && pattern.is_none() {
                conditions
                    .push("n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema'".into());
            }
            listing(
                db,
                "List of functions",
                functions_sql(version, parsed.verbose, &conditions),
                query,
            )
            .await?
        }
        What::Roles => roles(db, &parsed, pattern).await?,
        What::Details => match pattern {
            Some(pattern) => return details(db, version, &parsed, pattern).await.map(Some),
            None => {
                return relations(db, &parsed, Kinds::ALL_LISTED, None).await;
            }
        },
    };
    Ok(Some(Described::Tables(vec![described])))
}

/// Which describe command a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    /// `\l`.
    Databases,
    /// `\dn`.
    Schemas,
    /// `\dt`, `\di`, `\dv`, `\ds`, `\dm`, `\dE` and their combinations (`\dti`).
    Relations(Kinds),
    /// `\df`.
    Functions,
    /// `\du`, `\dg`.
    Roles,
    /// `\d`: a listing without a pattern, each matching object's details with one.
    Details,
}

/// The relation kinds a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Kinds {
    tables: bool,
    indexes: bool,
    views: bool,
    sequences: bool,
    matviews: bool,
    foreign: bool,
}

impl Kinds {
    /// `\d` without a pattern: tables, views, materialized views, sequences, foreign tables.
    const ALL_LISTED: Kinds = Kinds {
        tables: true,
        indexes: false,
        views: true,
        sequences: true,
        matviews: true,
        foreign: true,
    };
}

/// A command name taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parsed {
    what: What,
    /// `+`.
    verbose: bool,
    /// `S`.
    system: bool,
}

impl Parsed {
    fn new(command: &str) -> Option<Parsed> {
        let base = command.trim_end_matches(['+', 'S']);
        let modifiers = &command[base.len()..];
        let verbose = modifiers.contains('+');
        let system = modifiers.contains('S');
        if modifiers.matches('+').count() > 1 || modifiers.matches('S').count() > 1 {
            return None;
        }
        let what = match base {
            "l" | "list" if !system => What::Databases,
            "dn" => What::Schemas,
            "df" => What::Functions,
            "du" | "dg" => What::Roles,
            "d" => What::Details,
            _ => {
                let letters = base.strip_prefix('d').filter(|l| !l.is_empty())?;
                let mut kinds = Kinds::default();
                for letter in letters.chars() {
                    let flag = match letter {
                        't' => &mut kinds.tables,
                        'i' => &mut kinds.indexes,
                        'v' => &mut kinds.views,
                        's' => &mut kinds.sequences,
                        'm' => &mut kinds.matviews,
                        'E' => &mut kinds.foreign,
                        _ => return None,
                    };
                    *flag = true;
                }
                What::Relations(kinds)
            }
        };
        Some(Parsed {
            what,
            verbose,
            system,
        })
    }
}

/// The columns a pattern is matched against.
struct Columns {
    /// The schema name's column, for patterns with a `schema.` part.
    schema: Option<&'static str>,
    /// The object name's column.
    name: &'static str,
    /// The condition selecting objects visible on the search path, used when the pattern
    /// has no schema part.
    visible: Option<&'static str>,
}

impl Columns {
    /// A pattern that is a name only (databases, roles, schemas).
    fn names(name: &'static str) -> Columns {
        Columns {
            schema: None,
            name,
            visible: None,
        }
    }
}

/// SQL being built: its parameters, bound in order.
#[derive(Default)]
struct Query {
    params: Vec<Value>,
}

impl Query {
    /// Binds a text parameter and gives its placeholder.
    fn bind(&mut self, text: String) -> String {
        self.params.push(Value::Text(text));
        format!("${}::pg_catalog.text", self.params.len())
    }

    /// The conditions a psql pattern gives, as SQL with bound regular expressions: the name
    /// (unless `*`), the schema when the pattern has one (unless `*`), else visibility.
    /// `max_parts` is how many dotted parts the pattern may have: the name, then the schema,
    /// then the database, which must be the current one.
    async fn pattern(
        &mut self,
        db: &Connection,
        pattern: Option<&str>,
        columns: &Columns,
        max_parts: usize,
    ) -> Result<Vec<String>, Error> {
        let mut conditions = Vec::new();
        let Some(pattern) = pattern else {
            if let Some(visible) = columns.visible {
                conditions.push(visible.to_owned());
            }
            return Ok(conditions);
        };
        let mut parts = pattern_parts(pattern);
        if parts.len() > max_parts {
            return Err(client_error(format!(
                "improper qualified name (too many dotted names): {pattern}"
            )));
        }
        // The name is the last part, the schema the one before it, the database the first
        // of three (or the first of two where no schema is allowed).
        let name = parts.pop().unwrap_or_default();
        let schema = if columns.schema.is_some() || max_parts == 3 {
            parts.pop()
        } else {
            None
        };
        if let Some(database) = parts.pop() {
            let current = current_database(db).await?;
            if database.literal != current {
                return Err(client_error(format!(
                    "cross-database references are not implemented: {pattern}"
                )));
            }
        }
        if name.regex != "^(.*)$" {
            let placeholder = self.bind(name.regex);
            conditions.push(format!(
                "{} OPERATOR(pg_catalog.~) {placeholder} COLLATE pg_catalog.default",
                columns.name
            ));
        }
        match (schema, columns.schema) {
            (Some(schema), Some(column)) => {
                if schema.regex != "^(.*)$" {
                    let placeholder = self.bind(schema.regex);
                    conditions.push(format!(
                        "{column} OPERATOR(pg_catalog.~) {placeholder} COLLATE pg_catalog.default"
                    ));
                }
            }
            _ => {
                if let Some(visible) = columns.visible {
                    conditions.push(visible.to_owned());
                }
            }
        }
        Ok(conditions)
    }
}

/// An error of pgapi's own, worded as psql words it.
fn client_error(message: String) -> Error {
    Error::client(&pg_exceptions::Error, message)
}

async fn current_database(db: &Connection) -> Result<String, Error> {
    let rows = fetch(db, "SELECT pg_catalog.current_database()", Vec::new()).await?;
    Ok(cell(&rows.rows, 0, 0))
}

/// One dotted part of a pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Part {
    /// The anchored regular expression it matches names with.
    regex: String,
    /// The name as written, its quotes removed and unquoted letters in lower case.
    literal: String,
}

/// Splits a psql pattern on its unquoted dots into anchored regular expressions: unquoted
/// letters fold to lower case, `*` is any text, `?` any one character; between double
/// quotes the text is taken as it is (`""` is a quote); other characters outside quotes
/// keep their regular-expression meaning, as in psql, except `$`, matched literally.
fn pattern_parts(pattern: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut current = Part::default();
    let mut quoted = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if quoted && chars.peek() == Some(&'"') {
                chars.next();
                current.regex.push('"');
                current.literal.push('"');
            } else {
                quoted = !quoted;
            }
        } else if quoted {
            if "|*+?()[]{}.^$\\".contains(c) {
                current.regex.push('\\');
            }
            current.regex.push(c);
            current.literal.push(c);
        } else if c == '.' {
            parts.push(std::mem::take(&mut current));
        } else if c == '*' {
            current.regex.push_str(".*");
            current.literal.push(c);
        } else if c == '?' {
            current.regex.push('.');
            current.literal.push(c);
        } else if c == '$' {
            current.regex.push_str("\\$");
            current.literal.push(c);
        } else {
            let lower = c.to_ascii_lowercase();
            current.regex.push(lower);
            current.literal.push(lower);
        }
    }
    parts.push(current);
    for part in &mut parts {
        part.regex = format!("^({})$", part.regex);
    }
    parts
}

/// A query's result as text cells.
struct Fetched {
    headers: Vec<String>,
    right_aligned: Vec<bool>,
    rows: Vec<Vec<Option<String>>>,
}

/// Runs a catalog query and gives its cells in the server's text form.
async fn fetch(db: &Connection, sql: &str, params: Vec<Value>) -> Result<Fetched, Error> {
    let statement = db.prepare(sql).await?;
    let results = statement.call(params).await?;
    let columns = statement.columns();
    let mut rows = Vec::with_capacity(results.rows.len());
    for row in &results.rows {
        rows.push(row.values()?.iter().map(Value::to_pg_text).collect());
    }
    Ok(Fetched {
        headers: columns.names().map(str::to_owned).collect(),
        right_aligned: columns.types().map(numeric).collect(),
        rows,
    })
}

/// Whether psql aligns a column of this type to the right.
fn numeric(ty: &Type) -> bool {
    [
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::NUMERIC,
        Type::OID,
        Type::XID,
        Type::CID,
        Type::MONEY,
    ]
    .contains(ty)
}

/// A cell as text, NULL as the empty string.
fn cell(rows: &[Vec<Option<String>>], row: usize, column: usize) -> String {
    rows.get(row)
        .and_then(|r| r.get(column))
        .cloned()
        .flatten()
        .unwrap_or_default()
}

/// Whether a boolean cell is true.
fn yes(rows: &[Vec<Option<String>>], row: usize, column: usize) -> bool {
    cell(rows, row, column) == "t"
}

/// A listing: the query's columns and rows under a title, with the row count as footer.
async fn listing(db: &Connection, title: &str, sql: String, query: Query) -> Result<Table, Error> {
    let fetched = fetch(db, &sql, query.params).await?;
    Ok(Table {
        title: Some(title.to_owned()),
        headers: fetched.headers,
        right_aligned: fetched.right_aligned,
        rows: fetched.rows,
        footers: None,
    })
}

/// `WHERE a AND b`, or nothing.
fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}\n", conditions.join("\n  AND "))
    }
}

/// `\l`: the databases.
fn databases_sql(version: i32, verbose: bool, conditions: &[String]) -> String {
    let locale = if version >= 170000 {
        "       d.datlocale AS \"ICU Locale\",\n\
         \x20      CASE d.datlocprovider WHEN 'b' THEN 'builtin' WHEN 'c' THEN 'libc' \
         WHEN 'i' THEN 'icu' END AS \"Locale Provider\",\n"
    } else if version >= 150000 {
        "       d.daticulocale AS \"ICU Locale\",\n\
         \x20      CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END \
         AS \"Locale Provider\",\n"
    } else {
        ""
    };
    let more = if verbose {
        ",\n       CASE WHEN pg_catalog.has_database_privilege(d.datname, 'CONNECT')\n\
         \x20           THEN pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(d.datname))\n\
         \x20           ELSE 'No Access'\n\
         \x20      END AS \"Size\",\n\
         \x20      t.spcname AS \"Tablespace\",\n\
         \x20      pg_catalog.shobj_description(d.oid, 'pg_database') AS \"Description\""
    } else {
        ""
    };
    let join = if verbose {
        "  JOIN pg_catalog.pg_tablespace t ON d.dattablespace = t.oid\n"
    } else {
        ""
    };
    format!(
        "SELECT d.datname AS \"Name\",\n\
         \x20      pg_catalog.pg_get_userbyid(d.datdba) AS \"Owner\",\n\
         \x20      pg_catalog.pg_encoding_to_char(d.encoding) AS \"Encoding\",\n\
         \x20      d.datcollate AS \"Collate\",\n\
         \x20      d.datctype AS \"Ctype\",\n\
         {locale}\
         \x20      pg_catalog.array_to_string(d.datacl, E'\\n') AS \"Access privileges\"{more}\n\
         FROM pg_catalog.pg_database d\n\
         {join}\
         {}\
         ORDER BY 1",
        where_clause(conditions)
    )
}

/// `\dn`: the schemas.
fn schemas_sql(verbose: bool, conditions: &[String]) -> String {
    let more = if verbose {
        ",\n  pg_catalog.array_to_string(n.nspacl, E'\\n') AS \"Access privileges\",\n\
         \x20 pg_catalog.obj_description(n.oid, 'pg_namespace') AS \"Description\""
    } else {
        ""
    };
    format!(
        "SELECT n.nspname AS \"Name\",\n\
         \x20 pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\"{more}\n\
         FROM pg_catalog.pg_namespace n\n\
         {}\
         ORDER BY 1",
        where_clause(conditions)
    )
}

/// The publications of the schema named exactly as given (server 15 on).
const SCHEMA_PUBLICATIONS_SQL: &str = "SELECT pubname\n\
     FROM pg_catalog.pg_publication p\n\
     \x20    JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid\n\
     \x20    JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid\n\
     WHERE n.nspname = $1::pg_catalog.text\n\
     ORDER BY 1";

/// `\df`: the functions.
fn functions_sql(version: i32, verbose: bool, conditions: &[String]) -> String {
    let source = since(
        version,
        140000,
        "COALESCE(pg_catalog.pg_get_function_sqlbody(p.oid), p.prosrc)",
        "p.prosrc",
    );
    let more = if verbose {
        format!(
            ",\n CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' \
             WHEN 'v' THEN 'volatile' END AS \"Volatility\",\n\
             \x20CASE p.proparallel WHEN 'r' THEN 'restricted' WHEN 's' THEN 'safe' \
             WHEN 'u' THEN 'unsafe' END AS \"Parallel\",\n\
             \x20pg_catalog.pg_get_userbyid(p.proowner) AS \"Owner\",\n\
             \x20CASE WHEN p.prosecdef THEN 'definer' ELSE 'invoker' END AS \"Security\",\n\
             \x20pg_catalog.array_to_string(p.proacl, E'\\n') AS \"Access privileges\",\n\
             \x20l.lanname AS \"Language\",\n\
             \x20{source} AS \"Source code\",\n\
             \x20pg_catalog.obj_description(p.oid, 'pg_proc') AS \"Description\""
        )
    } else {
        String::new()
    };
    let join = if verbose {
        "     LEFT JOIN pg_catalog.pg_language l ON l.oid = p.prolang\n"
    } else {
        ""
    };
    format!(
        "SELECT n.nspname AS \"Schema\",\n\
         \x20 p.proname AS \"Name\",\n\
         \x20 pg_catalog.pg_get_function_result(p.oid) AS \"Result data type\",\n\
         \x20 pg_catalog.pg_get_function_arguments(p.oid) AS \"Argument data types\",\n\
         \x20 CASE p.prokind WHEN 'a' THEN 'agg' WHEN 'w' THEN 'window' WHEN 'p' THEN 'proc' \
         ELSE 'func' END AS \"Type\"{more}\n\
         FROM pg_catalog.pg_proc p\n\
         \x20    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n\
         {join}\
         {}\
         ORDER BY 1, 2, 4",
        where_clause(conditions)
    )
}

/// The label of a relation kind, as psql's listings show it.
const RELKIND_LABEL: &str = "CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' \
     WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' \
     WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' \
     WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END";

/// `\dt`, `\di`, `\dv`, `\ds`, `\dm`, `\dE`, `\d`: the relations of the kinds asked for.
fn relations_sql(kinds: Kinds, verbose: bool, conditions: &[String]) -> String {
    let mut columns = vec![
        "n.nspname AS \"Schema\"".to_owned(),
        "c.relname AS \"Name\"".to_owned(),
        format!("{RELKIND_LABEL} AS \"Type\""),
        "pg_catalog.pg_get_userbyid(c.relowner) AS \"Owner\"".to_owned(),
    ];
    if kinds.indexes {
        columns.push("c2.relname AS \"Table\"".to_owned());
    }
    if verbose {
        columns.push(
            "CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN 'temporary' \
             WHEN 'u' THEN 'unlogged' END AS \"Persistence\""
                .to_owned(),
        );
        if kinds.tables || kinds.matviews || kinds.indexes {
            columns.push("am.amname AS \"Access method\"".to_owned());
        }
        columns.push(
            "pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) AS \"Size\"".to_owned(),
        );
        columns.push("pg_catalog.obj_description(c.oid, 'pg_class') AS \"Description\"".to_owned());
    }
    let index_join = if kinds.indexes {
        "     LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid\n\
         \x20    LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid\n"
    } else {
        ""
    };
    format!(
        "SELECT {}\n\
         FROM pg_catalog.pg_class c\n\
         \x20    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n\
         \x20    LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n\
         {index_join}\
         {}\
         ORDER BY 1, 2",
        columns.join(",\n  "),
        where_clause(conditions)
    )
}

/// The relation listings: psql says so on standard error when nothing matched.
async fn relations(
    db: &Connection,
    parsed: &Parsed,
    kinds: Kinds,
    pattern: Option<&str>,
) -> Result<Option<Described>, Error> {
    let mut relkinds = Vec::new();
    let with_toast = parsed.system || pattern.is_some();
    if kinds.tables {
        relkinds.extend(["'r'", "'p'"]);
        if with_toast {
            relkinds.push("'t'");
        }
    }
    if kinds.views {
        relkinds.push("'v'");
    }
    if kinds.matviews {
        relkinds.push("'m'");
    }
    if kinds.indexes {
        relkinds.extend(["'i'", "'I'"]);
    }
    if kinds.sequences {
        relkinds.push("'S'");
    }
    if kinds.foreign {
        relkinds.push("'f'");
    }
    let mut query = Query::default();
    let mut conditions = vec![format!("c.relkind IN ({})", relkinds.join(","))];
    if !parsed.system && pattern.is_none() {
        conditions.push(
            "n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' \
             AND n.nspname <> 'information_schema'"
                .to_owned(),
        );
    }
    conditions.extend(query.pattern(db, pattern, &RELATION_COLUMNS, 3).await?);
    let table = listing(
        db,
        "List of relations",
        relations_sql(kinds, parsed.verbose, &conditions),
        query,
    )
    .await?;
    if table.rows.is_empty() {
        return Ok(Some(Described::NotFound(match pattern {
            Some(pattern) => format!("Did not find any relation named \"{pattern}\"."),
            None => "Did not find any relations.".to_owned(),
        })));
    }
    Ok(Some(Described::Tables(vec![table])))
}

/// The columns relation patterns are matched against.
const RELATION_COLUMNS: Columns = Columns {
    schema: Some("n.nspname"),
    name: "c.relname",
    visible: Some("pg_catalog.pg_table_is_visible(c.oid)"),
};

/// `\du`: the roles, their attributes described in words.
fn roles_sql(verbose: bool, conditions: &[String]) -> String {
    let description = if verbose {
        ",\n  pg_catalog.shobj_description(r.oid, 'pg_authid') AS description"
    } else {
        ""
    };
    format!(
        "SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,\n\
         \x20 r.rolcanlogin, r.rolconnlimit, r.rolvaliduntil::pg_catalog.text,\n\
         \x20 ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m\n\
         \x20       JOIN pg_catalog.pg_roles b ON m.roleid = b.oid\n\
         \x20       WHERE m.member = r.oid)::pg_catalog.text AS memberof,\n\
         \x20 r.rolreplication, r.rolbypassrls{description}\n\
         FROM pg_catalog.pg_roles r\n\
         {}\
         ORDER BY 1",
        where_clause(conditions)
    )
}

async fn roles(db: &Connection, parsed: &Parsed, pattern: Option<&str>) -> Result<Table, Error> {
    let mut query = Query::default();
    let mut conditions = query
        .pattern(db, pattern, &Columns::names("r.rolname"), 1)
        .await?;
    if !parsed.system && pattern.is_none() {
        conditions.push("r.rolname !~ '^pg_'".to_owned());
    }
    let fetched = fetch(db, &roles_sql(parsed.verbose, &conditions), query.params).await?;
    let rows = &fetched.rows;
    let mut table = Table {
        title: Some("List of roles".to_owned()),
        headers: ["Role name", "Attributes", "Member of"]
            .map(str::to_owned)
            .to_vec(),
        right_aligned: vec![false; 3],
        rows: Vec::new(),
        // psql prints no row count under the roles.
        footers: Some(Vec::new()),
    };
    if parsed.verbose {
        table.headers.push("Description".to_owned());
        table.right_aligned.push(false);
    }
    for row in 0..rows.len() {
        let mut attributes = Vec::new();
        let flags = [
            (1, true, "Superuser"),
            (2, false, "No inheritance"),
            (3, true, "Create role"),
            (4, true, "Create DB"),
            (5, false, "Cannot login"),
            (9, true, "Replication"),
            (10, true, "Bypass RLS"),
        ];
        for (column, when, word) in flags {
            if yes(rows, row, column) == when {
                attributes.push(word);
            }
        }
        let mut text = attributes.join(", ");
        let limit: i64 = cell(rows, row, 6).parse().unwrap_or(-1);
        if limit >= 0 {
            if !text.is_empty() {
                text.push('\n');
            }
            match limit {
                0 => text.push_str("No connections"),
                1 => text.push_str("1 connection"),
                n => text.push_str(&format!("{n} connections")),
            }
        }
        let until = cell(rows, row, 7);
        if !until.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str("Password valid until ");
            text.push_str(&until);
        }
        let mut cells = vec![
            Some(cell(rows, row, 0)),
            Some(text),
            Some(cell(rows, row, 8)),
        ];
        if parsed.verbose {
            cells.push(Some(cell(rows, row, 11)));
        }
        table.rows.push(cells);
    }
    Ok(table)
}

/// `\d NAME`: the objects the pattern matches, in schema and name order.
fn matching_relations_sql(conditions: &[String]) -> String {
    format!(
        "SELECT c.oid, n.nspname, c.relname\n\
         FROM pg_catalog.pg_class c\n\
         \x20    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n\
         {}\
         ORDER BY 2, 3",
        where_clause(conditions)
    )
}

async fn details(
    db: &Connection,
    version: i32,
    parsed: &Parsed,
    pattern: &str,
) -> Result<Described, Error> {
    let mut query = Query::default();
    let conditions = query
        .pattern(db, Some(pattern), &RELATION_COLUMNS, 3)
        .await?;
    let found = fetch(db, &matching_relations_sql(&conditions), query.params).await?;
    if found.rows.is_empty() {
        return Ok(Described::NotFound(format!(
            "Did not find any relation named \"{pattern}\"."
        )));
    }
    let mut tables = Vec::new();
    for row in 0..found.rows.len() {
        let oid: u32 = cell(&found.rows, row, 0)
            .parse()
            .map_err(|_| client_error("the server sent an invalid oid".to_owned()))?;
        let relation = Relation {
            oid,
            schema: cell(&found.rows, row, 1),
            name: cell(&found.rows, row, 2),
        };
        tables.push(describe_relation(db, version, parsed.verbose, &relation).await?);
    }
    Ok(Described::Tables(tables))
}

/// One relation `\d` describes. The oid is the server's, a number, so the queries about it
/// carry it as a literal.
struct Relation {
    oid: u32,
    schema: String,
    name: String,
}

/// What `\d` needs to know of a relation first.
fn relation_sql(oid: u32) -> String {
    format!(
        "SELECT c.relchecks, c.relkind::pg_catalog.text, c.relhasindex, c.relhasrules,\n\
         \x20 c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, c.relispartition,\n\
         \x20 pg_catalog.array_to_string(c.reloptions || ARRAY(SELECT 'toast.' || x\n\
         \x20   FROM pg_catalog.unnest(tc.reloptions) x), ', '),\n\
         \x20 ts.spcname,\n\
         \x20 CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END,\n\
         \x20 c.relpersistence::pg_catalog.text, c.relreplident::pg_catalog.text, am.amname,\n\
         \x20 n.nspname IN ('pg_catalog', 'information_schema') OR n.nspname ~ '^pg_toast'\n\
         FROM pg_catalog.pg_class c\n\
         \x20    LEFT JOIN pg_catalog.pg_class tc ON c.reltoastrelid = tc.oid\n\
         \x20    LEFT JOIN pg_catalog.pg_am am ON c.relam = am.oid\n\
         \x20    LEFT JOIN pg_catalog.pg_tablespace ts ON c.reltablespace = ts.oid\n\
         \x20    LEFT JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid\n\
         WHERE c.oid = {oid}"
    )
}

/// `newer` on servers from version `at` on (`server_version_num`), `older` before.
fn since(version: i32, at: i32, newer: &'static str, older: &'static str) -> &'static str {
    if version >= at { newer } else { older }
}

/// The columns of a relation (an index's with their key flag and definition).
fn attributes_sql(version: i32, oid: u32) -> String {
    let compression = since(version, 140000, "a.attcompression::pg_catalog.text", "''");
    format!(
        "SELECT a.attname,\n\
         \x20 pg_catalog.format_type(a.atttypid, a.atttypmod),\n\
         \x20 (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n\
         \x20  FROM pg_catalog.pg_attrdef d\n\
         \x20  WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n\
         \x20 a.attnotnull,\n\
         \x20 (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n\
         \x20  WHERE c.oid = a.attcollation AND t.oid = a.atttypid\n\
         \x20    AND a.attcollation <> t.typcollation),\n\
         \x20 a.attidentity::pg_catalog.text, a.attgenerated::pg_catalog.text,\n\
         \x20 CASE WHEN a.attnum <= (SELECT i.indnkeyatts FROM pg_catalog.pg_index i\n\
         \x20                        WHERE i.indexrelid = a.attrelid)\n\
         \x20      THEN 'yes' ELSE 'no' END,\n\
         \x20 pg_catalog.pg_get_indexdef(a.attrelid, a.attnum, true),\n\
         \x20 a.attstorage::pg_catalog.text, {compression},\n\
         \x20 CASE WHEN a.attstattarget = -1 THEN NULL ELSE a.attstattarget END,\n\
         \x20 pg_catalog.col_description(a.attrelid, a.attnum),\n\
         \x20 CASE WHEN a.attfdwoptions IS NULL THEN '' ELSE '(' || pg_catalog.array_to_string(\n\
         \x20   ARRAY(SELECT pg_catalog.quote_ident(option_name) || ' '\n\
         \x20                || pg_catalog.quote_literal(option_value)\n\
         \x20         FROM pg_catalog.pg_options_to_table(a.attfdwoptions)), ', ') || ')' END\n\
         FROM pg_catalog.pg_attribute a\n\
         WHERE a.attrelid = {oid} AND a.attnum > 0 AND NOT a.attisdropped\n\
         ORDER BY a.attnum"
    )
}

/// A sequence's parameters.
fn sequence_sql(oid: u32) -> String {
    format!(
        "SELECT pg_catalog.format_type(seqtypid, NULL) AS \"Type\",\n\
         \x20      seqstart AS \"Start\",\n\
         \x20      seqmin AS \"Minimum\",\n\
         \x20      seqmax AS \"Maximum\",\n\
         \x20      seqincrement AS \"Increment\",\n\
         \x20      CASE WHEN seqcycle THEN 'yes' ELSE 'no' END AS \"Cycles?\",\n\
         \x20      seqcache AS \"Cache\"\n\
         FROM pg_catalog.pg_sequence\n\
         WHERE seqrelid = {oid}"
    )
}

/// The column owning a sequence (`a`uto) or whose identity it is (`i`).
fn sequence_owner_sql(oid: u32) -> String {
    format!(
        "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)\n\
         \x20   || '.' || pg_catalog.quote_ident(a.attname),\n\
         \x20 d.deptype::pg_catalog.text\n\
         FROM pg_catalog.pg_class c\n\
         \x20    JOIN pg_catalog.pg_depend d ON c.oid = d.refobjid\n\
         \x20    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n\
         \x20    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid\n\
         WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass\n\
         \x20 AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass\n\
         \x20 AND d.objid = {oid} AND d.deptype IN ('a', 'i')"
    )
}

/// An index's own properties, for its footer.
fn index_sql(version: i32, oid: u32) -> String {
    let nulls = since(version, 150000, "i.indnullsnotdistinct", "false");
    format!(
        "SELECT i.indisunique, i.indisprimary, i.indisclustered, i.indisvalid,\n\
         \x20 (NOT i.indimmediate) AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint\n\
         \x20   WHERE conrelid = i.indrelid AND conindid = i.indexrelid\n\
         \x20     AND contype IN ('p', 'u', 'x') AND condeferrable),\n\
         \x20 (NOT i.indimmediate) AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint\n\
         \x20   WHERE conrelid = i.indrelid AND conindid = i.indexrelid\n\
         \x20     AND contype IN ('p', 'u', 'x') AND condeferred),\n\
         \x20 i.indisreplident, {nulls}, a.amname, c2.relname,\n\
         \x20 pg_catalog.pg_get_expr(i.indpred, i.indrelid, true)\n\
         FROM pg_catalog.pg_index i, pg_catalog.pg_class c, pg_catalog.pg_class c2,\n\
         \x20    pg_catalog.pg_am a\n\
         WHERE i.indexrelid = c.oid AND c.oid = {oid} AND c.relam = a.oid\n\
         \x20 AND i.indrelid = c2.oid"
    )
}

/// A table's indexes, the primary key first, then by name.
fn table_indexes_sql(oid: u32) -> String {
    format!(
        "SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid,\n\
         \x20 pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),\n\
         \x20 pg_catalog.pg_get_constraintdef(con.oid, true), con.contype::pg_catalog.text,\n\
         \x20 con.condeferrable, con.condeferred, i.indisreplident, ts.spcname\n\
         FROM pg_catalog.pg_index i\n\
         \x20    JOIN pg_catalog.pg_class c2 ON i.indexrelid = c2.oid\n\
         \x20    LEFT JOIN pg_catalog.pg_constraint con ON con.conrelid = i.indrelid\n\
         \x20      AND con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')\n\
         \x20    LEFT JOIN pg_catalog.pg_tablespace ts ON c2.reltablespace = ts.oid\n\
         WHERE i.indrelid = {oid}\n\
         ORDER BY i.indisprimary DESC, c2.relname"
    )
}

/// A table's check constraints.
fn checks_sql(oid: u32) -> String {
    format!(
        "SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true)\n\
         FROM pg_catalog.pg_constraint r\n\
         WHERE r.conrelid = {oid} AND r.contype = 'c'\n\
         ORDER BY 1"
    )
}

/// A table's foreign keys, its own first, then those of the tables it is a partition of.
fn foreign_keys_sql(oid: u32) -> String {
    format!(
        "SELECT conrelid = {oid}, conname, pg_catalog.pg_get_constraintdef(oid, true),\n\
         \x20 conrelid::pg_catalog.regclass::pg_catalog.text\n\
         FROM pg_catalog.pg_constraint\n\
         WHERE conrelid IN (SELECT pg_catalog.pg_partition_ancestors({oid})\n\
         \x20                  UNION SELECT {oid}::pg_catalog.oid)\n\
         \x20 AND contype = 'f' AND conparentid = 0\n\
         ORDER BY 1 DESC, conname"
    )
}

/// The foreign keys referencing a table (or the tables it is a partition of).
fn referenced_by_sql(oid: u32) -> String {
    format!(
        "SELECT conname, conrelid::pg_catalog.regclass::pg_catalog.text,\n\
         \x20 pg_catalog.pg_get_constraintdef(oid, true)\n\
         FROM pg_catalog.pg_constraint\n\
         WHERE confrelid IN (SELECT pg_catalog.pg_partition_ancestors({oid})\n\
         \x20                   UNION SELECT {oid}::pg_catalog.oid)\n\
         \x20 AND contype = 'f' AND conparentid = 0\n\
         ORDER BY conname"
    )
}

/// A table's row-level security policies.
fn policies_sql(oid: u32) -> String {
    format!(
        "SELECT pol.polname, pol.polpermissive,\n\
         \x20 CASE WHEN pol.polroles = '{{0}}' THEN NULL ELSE pg_catalog.array_to_string(\n\
         \x20   ARRAY(SELECT rolname FROM pg_catalog.pg_roles\n\
         \x20         WHERE oid = ANY (pol.polroles) ORDER BY 1), ',') END,\n\
         \x20 pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),\n\
         \x20 pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),\n\
         \x20 CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'\n\
         \x20   WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' END\n\
         FROM pg_catalog.pg_policy pol\n\
         WHERE pol.polrelid = {oid}\n\
         ORDER BY 1"
    )
}

/// A table's extended statistics objects.
fn statistics_sql(version: i32, oid: u32) -> String {
    // Expressions in statistics objects and their own printer came with server 14.
    let columns = if version >= 140000 {
        "pg_catalog.pg_get_statisticsobjdef_columns(s.oid)"
    } else {
        "(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.n)\n\
         \x20   FROM pg_catalog.unnest(s.stxkeys) WITH ORDINALITY AS k(attnum, n)\n\
         \x20        JOIN pg_catalog.pg_attribute a\n\
         \x20          ON a.attrelid = s.stxrelid AND a.attnum = k.attnum)"
    };
    let target = since(version, 130000, "s.stxstattarget", "NULL");
    format!(
        "SELECT s.stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, s.stxname,\n\
         \x20 {columns},\n\
         \x20 'd' = ANY (s.stxkind), 'f' = ANY (s.stxkind), 'm' = ANY (s.stxkind),\n\
         \x20 s.stxrelid::pg_catalog.regclass::pg_catalog.text,\n\
         \x20 {target}\n\
         FROM pg_catalog.pg_statistic_ext s\n\
         WHERE s.stxrelid = {oid}\n\
         ORDER BY nsp, stxname"
    )
}

/// The publications a table is in: by itself (with its column list and row filter, from
/// server 15), through its schema (15), or as one of all tables.
fn publications_sql(version: i32, oid: u32) -> String {
    if version >= 150000 {
        format!(
            "SELECT pubname, NULL, NULL\n\
             FROM pg_catalog.pg_publication p\n\
             \x20    JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid\n\
             \x20    JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid\n\
             WHERE pc.oid = {oid} AND pg_catalog.pg_relation_is_publishable({oid})\n\
             UNION\n\
             SELECT pubname, pg_catalog.pg_get_expr(pr.prqual, c.oid),\n\
             \x20 CASE WHEN pr.prattrs IS NOT NULL THEN\n\
             \x20   (SELECT pg_catalog.string_agg(attname, ', ')\n\
             \x20    FROM pg_catalog.generate_series(0,\n\
             \x20           pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,\n\
             \x20         pg_catalog.pg_attribute\n\
             \x20    WHERE attrelid = pr.prrelid AND attnum = prattrs[s])\n\
             \x20 END\n\
             FROM pg_catalog.pg_publication p\n\
             \x20    JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid\n\
             \x20    JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid\n\
             WHERE pr.prrelid = {oid}\n\
             UNION\n\
             SELECT pubname, NULL, NULL\n\
             FROM pg_catalog.pg_publication p\n\
             WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable({oid})\n\
             ORDER BY 1"
        )
    } else {
        format!(
            "SELECT pubname, NULL, NULL\n\
             FROM pg_catalog.pg_publication p\n\
             \x20    JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid\n\
             WHERE pr.prrelid = {oid}\n\
             UNION\n\
             SELECT pubname, NULL, NULL\n\
             FROM pg_catalog.pg_publication p\n\
             WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable({oid})\n\
             ORDER BY 1"
        )
    }
}

/// A relation's triggers: the user's, and internal ones that were disabled.
fn triggers_sql(version: i32, oid: u32) -> String {
    let parent = if version >= 130000 {
        "CASE WHEN t.tgparentid != 0 THEN\n\
         \x20   (SELECT u.tgrelid::pg_catalog.regclass::pg_catalog.text\n\
         \x20    FROM pg_catalog.pg_trigger AS u,\n\
         \x20         pg_catalog.pg_partition_ancestors(t.tgrelid) WITH ORDINALITY AS a(relid, depth)\n\
         \x20    WHERE u.tgname = t.tgname AND u.tgrelid = a.relid AND u.tgparentid = 0\n\
         \x20    ORDER BY a.depth LIMIT 1)\n\
         \x20 END"
    } else {
        "NULL"
    };
    let which = if version >= 150000 {
        "(NOT t.tgisinternal OR (t.tgisinternal AND t.tgenabled = 'D'))"
    } else {
        "(NOT t.tgisinternal OR (t.tgisinternal AND t.tgenabled = 'D')\n\
         \x20   OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend WHERE objid = t.oid\n\
         \x20              AND refclassid = 'pg_catalog.pg_trigger'::pg_catalog.regclass))"
    };
    format!(
        "SELECT t.tgname, pg_catalog.pg_get_triggerdef(t.oid, true),\n\
         \x20 t.tgenabled::pg_catalog.text, t.tgisinternal, {parent}\n\
         FROM pg_catalog.pg_trigger t\n\
         WHERE t.tgrelid = {oid} AND {which}\n\
         ORDER BY 1"
    )
}

/// The tables a table inherits from (not the partitioned table it is a partition of).
fn inherits_sql(oid: u32) -> String {
    format!(
        "SELECT c.oid::pg_catalog.regclass::pg_catalog.text\n\
         FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i\n\
         WHERE c.oid = i.inhparent AND i.inhrelid = {oid}\n\
         \x20 AND c.relkind != 'p' AND c.relkind != 'I'\n\
         ORDER BY inhseqno"
    )
}

/// The partition a table is of, with its bound and (for `\d+`) its constraint.
fn partition_of_sql(oid: u32) -> String {
    format!(
        "SELECT inhparent::pg_catalog.regclass::pg_catalog.text,\n\
         \x20 pg_catalog.pg_get_expr(c.relpartbound, c.oid),\n\
         \x20 pg_catalog.pg_get_partition_constraintdef(c.oid)\n\
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_inherits i ON c.oid = inhrelid\n\
         WHERE c.oid = {oid} AND c.relispartition"
    )
}

/// A partitioned table's partition key.
fn partition_key_sql(oid: u32) -> String {
    format!("SELECT pg_catalog.pg_get_partkeydef({oid})")
}

/// A table's children: inheriting tables or partitions, the default partition last.
fn children_sql(version: i32, oid: u32) -> String {
    let detach = since(version, 140000, "i.inhdetachpending", "false");
    format!(
        "SELECT c.oid::pg_catalog.regclass::pg_catalog.text, c.relkind::pg_catalog.text,\n\
         \x20 {detach}, pg_catalog.pg_get_expr(c.relpartbound, c.oid)\n\
         FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i\n\
         WHERE c.oid = i.inhrelid AND i.inhparent = {oid}\n\
         ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT',\n\
         \x20 c.oid::pg_catalog.regclass::pg_catalog.text"
    )
}

/// A relation's rules but a view's own `_RETURN`, their definitions without the `;`.
fn rules_sql(oid: u32) -> String {
    format!(
        "SELECT r.rulename,\n\
         \x20 pg_catalog.rtrim(pg_catalog.pg_get_ruledef(r.oid, true), ';'),\n\
         \x20 r.ev_enabled::pg_catalog.text\n\
         FROM pg_catalog.pg_rewrite r\n\
         WHERE r.ev_class = {oid} AND r.rulename != '_RETURN'\n\
         ORDER BY 1"
    )
}

/// The table a TOAST table holds values of.
fn toast_owner_sql(oid: u32) -> String {
    format!(
        "SELECT n.nspname, c.relname\n\
         FROM pg_catalog.pg_class c\n\
         \x20    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n\
         WHERE c.reltoastrelid = {oid}"
    )
}

/// A foreign table's server and options.
fn foreign_server_sql(oid: u32) -> String {
    format!(
        "SELECT s.srvname,\n\
         \x20 pg_catalog.array_to_string(ARRAY(\n\
         \x20   SELECT pg_catalog.quote_ident(option_name) || ' '\n\
         \x20          || pg_catalog.quote_literal(option_value)\n\
         \x20   FROM pg_catalog.pg_options_to_table(f.ftoptions)), ', ')\n\
         FROM pg_catalog.pg_foreign_table f\n\
         \x20    JOIN pg_catalog.pg_foreign_server s ON s.oid = f.ftserver\n\
         WHERE f.ftrelid = {oid}"
    )
}

/// A view's definition.
fn view_definition_sql(oid: u32) -> String {
    format!("SELECT pg_catalog.pg_get_viewdef({oid}::pg_catalog.oid, true)")
}

/// Runs a query without parameters.
async fn rows(db: &Connection, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error> {
    Ok(fetch(db, sql, Vec::new()).await?.rows)
}

/// Psql's word for a relation kind in the title of `\d NAME`.
fn kind_title(relkind: &str, persistence: &str) -> String {
    let unlogged = persistence == "u";
    let word = match relkind {
        "r" if unlogged => "Unlogged table",
        "r" => "Table",
        "v" => "View",
        "m" if unlogged => "Unlogged materialized view",
        "m" => "Materialized view",
        "S" if unlogged => "Unlogged sequence",
        "S" => "Sequence",
        "i" if unlogged => "Unlogged index",
        "i" => "Index",
        "I" if unlogged => "Unlogged partitioned index",
        "I" => "Partitioned index",
        "t" => "TOAST table",
        "c" => "Composite type",
        "f" => "Foreign table",
        "p" if unlogged => "Unlogged partitioned table",
        "p" => "Partitioned table",
        _ => "?",
    };
    word.to_owned()
}

/// Lines of a list under a label, the label's width of spaces before the others, commas
/// between: `Inherits: a,` / `          b`.
fn listed(label: &str, items: &[String]) -> Vec<String> {
    let indent = " ".repeat(label.len() + 2);
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let comma = if index + 1 < items.len() { "," } else { "" };
            if index == 0 {
                format!("{label}: {item}{comma}")
            } else {
                format!("{indent}{item}{comma}")
            }
        })
        .collect()
}

/// `\d NAME` for one relation.
async fn describe_relation(
    db: &Connection,
    version: i32,
    verbose: bool,
    relation: &Relation,
) -> Result<Table, Error> {
    let oid = relation.oid;
    let info = rows(db, &relation_sql(oid)).await?;
    let relkind = cell(&info, 0, 1);
    let persistence = cell(&info, 0, 11);
    let title = format!(
        "{} \"{}.{}\"",
        kind_title(&relkind, &persistence),
        relation.schema,
        relation.name
    );
    if relkind == "S" {
        return describe_sequence(db, oid, title).await;
    }
    let kind = relkind.as_str();
    let attributes = rows(db, &attributes_sql(version, oid)).await?;
    let table_like = matches!(kind, "r" | "p" | "v" | "m" | "f" | "c");
    let index = matches!(kind, "i" | "I");
    let mut headers = vec!["Column", "Type"];
    if table_like {
        headers.extend(["Collation", "Nullable", "Default"]);
    }
    if index {
        headers.extend(["Key?", "Definition"]);
    }
    let foreign = kind == "f";
    if foreign {
        headers.push("FDW options");
    }
    let storage = verbose && (table_like || index || kind == "t");
    let compression = verbose && version >= 140000 && matches!(kind, "r" | "p" | "m");
    let stats = verbose && matches!(kind, "r" | "i" | "I" | "m" | "f" | "p");
    let description = verbose && table_like;
    if storage {
        headers.push("Storage");
    }
    if compression {
        headers.push("Compression");
    }
    if stats {
        headers.push("Stats target");
    }
    if description {
        headers.push("Description");
    }
    let mut table_rows = Vec::with_capacity(attributes.len());
    for row in 0..attributes.len() {
        let text = |column| cell(&attributes, row, column);
        let mut cells = vec![text(0), text(1)];
        if table_like {
            cells.push(text(4));
            cells.push(if yes(&attributes, row, 3) {
                "not null".to_owned()
            } else {
                String::new()
            });
            let default = text(2);
            cells.push(match (text(5).as_str(), text(6).as_str()) {
                ("a", _) => "generated always as identity".to_owned(),
                ("d", _) => "generated by default as identity".to_owned(),
                (_, "s") => format!("generated always as ({default}) stored"),
                _ => default,
            });
        }
        if index {
            cells.push(text(7));
            cells.push(text(8));
        }
        if foreign {
            cells.push(text(13));
        }
        if storage {
            cells.push(
                match text(9).as_str() {
                    "p" => "plain",
                    "m" => "main",
                    "x" => "extended",
                    "e" => "external",
                    _ => "???",
                }
                .to_owned(),
            );
        }
        if compression {
            cells.push(
                match text(10).as_str() {
                    "p" => "pglz",
                    "l" => "lz4",
                    _ => "",
                }
                .to_owned(),
            );
        }
        if stats {
            cells.push(text(11));
        }
        if description {
            cells.push(text(12));
        }
        table_rows.push(cells.into_iter().map(Some).collect());
    }
    let footers = if index {
        let mut footers = partition_of_lines(db, verbose, oid, &info).await?;
        footers.extend(index_footers(db, version, relation, &info).await?);
        if kind == "I" {
            footers.extend(children_lines(db, version, verbose, oid, kind).await?);
            let method = cell(&info, 0, 13);
            if verbose && !method.is_empty() {
                footers.push(format!("Access method: {method}"));
            }
        }
        footers
    } else {
        table_footers(db, version, verbose, oid, kind, &info).await?
    };
    Ok(Table {
        title: Some(title),
        right_aligned: vec![false; headers.len()],
        headers: headers.into_iter().map(str::to_owned).collect(),
        rows: table_rows,
        footers: Some(footers),
    })
}

/// `\d SEQUENCE`: its parameters, and the column owning it.
async fn describe_sequence(db: &Connection, oid: u32, title: String) -> Result<Table, Error> {
    let fetched = fetch(db, &sequence_sql(oid), Vec::new()).await?;
    let owners = rows(db, &sequence_owner_sql(oid)).await?;
    let mut footers = Vec::new();
    if !owners.is_empty() {
        let column = cell(&owners, 0, 0);
        if cell(&owners, 0, 1) == "i" {
            footers.push(format!("Sequence for identity column: {column}"));
        } else {
            footers.push(format!("Owned by: {column}"));
        }
    }
    Ok(Table {
        title: Some(title),
        headers: fetched.headers,
        right_aligned: fetched.right_aligned,
        rows: fetched.rows,
        footers: Some(footers),
    })
}

/// The footer of `\d INDEX`: what kind of index, on which table, and its tablespace.
async fn index_footers(
    db: &Connection,
    version: i32,
    relation: &Relation,
    info: &[Vec<Option<String>>],
) -> Result<Vec<String>, Error> {
    let index = rows(db, &index_sql(version, relation.oid)).await?;
    let mut footers = Vec::new();
    if !index.is_empty() {
        let flag = |column| yes(&index, 0, column);
        let mut line = String::new();
        if flag(1) {
            line.push_str("primary key, ");
        } else if flag(0) {
            line.push_str("unique");
            if flag(7) {
                line.push_str(" nulls not distinct");
            }
            line.push_str(", ");
        }
        line.push_str(&format!(
            "{}, for table \"{}.{}\"",
            cell(&index, 0, 8),
            relation.schema,
            cell(&index, 0, 9)
        ));
        let predicate = cell(&index, 0, 10);
        if !predicate.is_empty() {
            line.push_str(&format!(", predicate ({predicate})"));
        }
        for (column, when, words) in [
            (2, true, ", clustered"),
            (3, false, ", invalid"),
            (4, true, ", deferrable"),
            (5, true, ", initially deferred"),
            (6, true, ", replica identity"),
        ] {
            if flag(column) == when {
                line.push_str(words);
            }
        }
        footers.push(line);
    }
    let tablespace = cell(info, 0, 9);
    if !tablespace.is_empty() {
        footers.push(format!("Tablespace: \"{tablespace}\""));
    }
    Ok(footers)
}

/// The footers of `\d TABLE` (and views, materialized views, foreign tables), in psql's
/// order.
async fn table_footers(
    db: &Connection,
    version: i32,
    verbose: bool,
    oid: u32,
    kind: &str,
    info: &[Vec<Option<String>>],
) -> Result<Vec<String>, Error> {
    let flag = |column| yes(info, 0, column);
    let checks: i64 = cell(info, 0, 0).parse().unwrap_or(0);
    let (has_index, has_rules, has_triggers) = (flag(2), flag(3), flag(4));
    let (row_security, forced) = (flag(5), flag(6));
    let mut footers = Vec::new();
    let tableish = matches!(kind, "r" | "p" | "m" | "f" | "t");
    if tableish {
        footers.extend(partition_of_lines(db, verbose, oid, info).await?);
        if kind == "t" {
            let owner = rows(db, &toast_owner_sql(oid)).await?;
            if !owner.is_empty() {
                footers.push(format!(
                    "Owning table: \"{}.{}\"",
                    cell(&owner, 0, 0),
                    cell(&owner, 0, 1)
                ));
            }
        }
        if kind == "p" {
            let key = rows(db, &partition_key_sql(oid)).await?;
            footers.push(format!("Partition key: {}", cell(&key, 0, 0)));
        }
        if has_index {
            let indexes = rows(db, &table_indexes_sql(oid)).await?;
            if !indexes.is_empty() {
                footers.push("Indexes:".to_owned());
            }
            for row in 0..indexes.len() {
                footers.push(table_index_line(&indexes, row));
            }
        }
        if checks > 0 {
            let constraints = rows(db, &checks_sql(oid)).await?;
            let group = (0..constraints.len()).map(|row| {
                format!(
                    "    \"{}\" {}",
                    cell(&constraints, row, 0),
                    cell(&constraints, row, 1)
                )
            });
            push_group(&mut footers, "Check constraints:", group);
        }
        if has_triggers || kind == "p" {
            let keys = rows(db, &foreign_keys_sql(oid)).await?;
            let group = (0..keys.len()).map(|row| match yes(&keys, row, 0) {
                true => format!("    \"{}\" {}", cell(&keys, row, 1), cell(&keys, row, 2)),
                false => format!(
                    "    TABLE \"{}\" CONSTRAINT \"{}\" {}",
                    cell(&keys, row, 3),
                    cell(&keys, row, 1),
                    cell(&keys, row, 2)
                ),
            });
            push_group(&mut footers, "Foreign-key constraints:", group);
            let referencing = rows(db, &referenced_by_sql(oid)).await?;
            let group = (0..referencing.len()).map(|row| {
                format!(
                    "    TABLE \"{}\" CONSTRAINT \"{}\" {}",
                    cell(&referencing, row, 1),
                    cell(&referencing, row, 0),
                    cell(&referencing, row, 2)
                )
            });
            push_group(&mut footers, "Referenced by:", group);
        }
        footers.extend(policy_lines(db, oid, row_security, forced).await?);
        footers.extend(statistics_lines(db, version, oid).await?);
        if has_rules {
            footers.extend(rule_lines(db, oid).await?);
        }
        if matches!(kind, "r" | "p") {
            let publications = rows(db, &publications_sql(version, oid)).await?;
            if !publications.is_empty() {
                footers.push("Publications:".to_owned());
            }
            for row in 0..publications.len() {
                let mut line = format!("    \"{}\"", cell(&publications, row, 0));
                let columns = cell(&publications, row, 2);
                if !columns.is_empty() {
                    line.push_str(&format!(" ({columns})"));
                }
                let filter = cell(&publications, row, 1);
                if !filter.is_empty() {
                    line.push_str(&format!(" WHERE {filter}"));
                }
                footers.push(line);
            }
        }
    }
    if matches!(kind, "v" | "m") && verbose {
        let definition = rows(db, &view_definition_sql(oid)).await?;
        footers.push("View definition:".to_owned());
        footers.extend(cell(&definition, 0, 0).lines().map(str::to_owned));
    }
    if kind == "v" && verbose && has_rules {
        let rules = rows(db, &rules_sql(oid)).await?;
        if !rules.is_empty() {
            footers.push("Rules:".to_owned());
        }
        for row in 0..rules.len() {
            let definition = cell(&rules, row, 1);
            let rule = definition
                .strip_prefix("CREATE RULE ")
                .unwrap_or(&definition);
            footers.extend(format!(" {rule}").lines().map(str::to_owned));
        }
    }
    if has_triggers {
        footers.extend(trigger_lines(db, version, oid).await?);
    }
    if kind == "f" {
        let server = rows(db, &foreign_server_sql(oid)).await?;
        if !server.is_empty() {
            footers.push(format!("Server: {}", cell(&server, 0, 0)));
            let options = cell(&server, 0, 1);
            if !options.is_empty() {
                footers.push(format!("FDW options: ({options})"));
            }
        }
    }
    if tableish {
        let parents = rows(db, &inherits_sql(oid)).await?;
        let parents: Vec<String> = (0..parents.len()).map(|r| cell(&parents, r, 0)).collect();
        footers.extend(listed("Inherits", &parents));
        footers.extend(children_lines(db, version, verbose, oid, kind).await?);
        let typed = cell(info, 0, 10);
        if !typed.is_empty() {
            footers.push(format!("Typed table of type: {typed}"));
        }
        let system = flag(14);
        if verbose && matches!(kind, "r" | "m") && !system {
            match cell(info, 0, 12).as_str() {
                "f" => footers.push("Replica Identity: FULL".to_owned()),
                "n" => footers.push("Replica Identity: NOTHING".to_owned()),
                _ => {}
            }
        }
    }
    let tablespace = cell(info, 0, 9);
    if matches!(kind, "r" | "m" | "p") && !tablespace.is_empty() {
        footers.push(format!("Tablespace: \"{tablespace}\""));
    }
    if tableish && verbose {
        let method = cell(info, 0, 13);
        if !method.is_empty() {
            footers.push(format!("Access method: {method}"));
        }
    }
    let options = cell(info, 0, 8);
    if verbose && !options.is_empty() {
        footers.push(format!("Options: {options}"));
    }
    Ok(footers)
}

/// A table's rules, grouped as psql groups them by when they fire.
async fn rule_lines(db: &Connection, oid: u32) -> Result<Vec<String>, Error> {
    let rules = rows(db, &rules_sql(oid)).await?;
    let mut lines = Vec::new();
    for (heading, enabled) in [
        ("Rules:", "O"),
        ("Disabled rules:", "D"),
        ("Rules firing always:", "A"),
        ("Rules firing on replica only:", "R"),
    ] {
        let group = (0..rules.len())
            .filter(|&row| cell(&rules, row, 2) == enabled)
            .flat_map(|row| {
                let definition = cell(&rules, row, 1);
                let rule = definition
                    .strip_prefix("CREATE RULE ")
                    .unwrap_or(&definition);
                format!("    {rule}")
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            });
        push_group(&mut lines, heading, group);
    }
    Ok(lines)
}

/// A footer group: `heading`, then its lines, or nothing at all when it has none.
fn push_group(lines: &mut Vec<String>, heading: &str, group: impl Iterator<Item = String>) {
    let mut group = group.peekable();
    if group.peek().is_some() {
        lines.push(heading.to_owned());
        lines.extend(group);
    }
}

/// `Partition of:` (and with `+` the partition constraint) for a partition.
async fn partition_of_lines(
    db: &Connection,
    verbose: bool,
    oid: u32,
    info: &[Vec<Option<String>>],
) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    if !yes(info, 0, 7) {
        return Ok(lines);
    }
    let parent = rows(db, &partition_of_sql(oid)).await?;
    if !parent.is_empty() {
        lines.push(format!(
            "Partition of: {} {}",
            cell(&parent, 0, 0),
            cell(&parent, 0, 1)
        ));
        if verbose {
            let constraint = cell(&parent, 0, 2);
            if constraint.is_empty() {
                lines.push("No partition constraint".to_owned());
            } else {
                lines.push(format!("Partition constraint: {constraint}"));
            }
        }
    }
    Ok(lines)
}

/// One line under `Indexes:`.
fn table_index_line(indexes: &[Vec<Option<String>>], row: usize) -> String {
    let flag = |column| yes(indexes, row, column);
    let mut line = format!("    \"{}\"", cell(indexes, row, 0));
    let contype = cell(indexes, row, 7);
    if contype == "x" {
        line.push_str(&format!(" {}", cell(indexes, row, 6)));
    } else {
        if flag(1) {
            line.push_str(" PRIMARY KEY,");
        } else if flag(2) {
            if contype == "u" {
                line.push_str(" UNIQUE CONSTRAINT,");
            } else {
                line.push_str(" UNIQUE,");
            }
        }
        let definition = cell(indexes, row, 5);
        let using = definition
            .find(" USING ")
            .map_or(definition.as_str(), |at| &definition[at + 7..]);
        line.push_str(&format!(" {using}"));
        if flag(8) {
            line.push_str(" DEFERRABLE");
        }
        if flag(9) {
            line.push_str(" INITIALLY DEFERRED");
        }
    }
    if flag(3) {
        line.push_str(" CLUSTER");
    }
    if !flag(4) {
        line.push_str(" INVALID");
    }
    if flag(10) {
        line.push_str(" REPLICA IDENTITY");
    }
    let tablespace = cell(indexes, row, 11);
    if !tablespace.is_empty() {
        line.push_str(&format!(", tablespace \"{tablespace}\""));
    }
    line
}

/// `Policies:` and its lines.
async fn policy_lines(
    db: &Connection,
    oid: u32,
    row_security: bool,
    forced: bool,
) -> Result<Vec<String>, Error> {
    let policies = rows(db, &policies_sql(oid)).await?;
    let mut lines = Vec::new();
    match (row_security, forced, policies.is_empty()) {
        (true, false, false) => lines.push("Policies:".to_owned()),
        (true, true, false) => lines.push("Policies (forced row security enabled):".to_owned()),
        (true, false, true) => lines.push("Policies (row security enabled): (none)".to_owned()),
        (true, true, true) => {
            lines.push("Policies (forced row security enabled): (none)".to_owned())
        }
        (false, _, false) => lines.push("Policies (row security disabled):".to_owned()),
        (false, _, true) => {}
    }
    for row in 0..policies.len() {
        let mut line = format!("    POLICY \"{}\"", cell(&policies, row, 0));
        if !yes(&policies, row, 1) {
            line.push_str(" AS RESTRICTIVE");
        }
        let command = cell(&policies, row, 5);
        if !command.is_empty() {
            line.push_str(&format!(" FOR {command}"));
        }
        lines.push(line);
        let roles = cell(&policies, row, 2);
        if !roles.is_empty() {
            lines.push(format!("      TO {roles}"));
        }
        let using = cell(&policies, row, 3);
        if !using.is_empty() {
            lines.push(format!("      USING ({using})"));
        }
        let check = cell(&policies, row, 4);
        if !check.is_empty() {
            lines.push(format!("      WITH CHECK ({check})"));
        }
    }
    Ok(lines)
}

/// `Statistics objects:` and its lines.
async fn statistics_lines(db: &Connection, version: i32, oid: u32) -> Result<Vec<String>, Error> {
    let objects = rows(db, &statistics_sql(version, oid)).await?;
    let mut lines = Vec::new();
    if !objects.is_empty() {
        lines.push("Statistics objects:".to_owned());
    }
    for row in 0..objects.len() {
        let mut line = format!(
            "    \"{}.{}\"",
            cell(&objects, row, 0),
            cell(&objects, row, 1)
        );
        let kinds: Vec<&str> = [(3, "ndistinct"), (4, "dependencies"), (5, "mcv")]
            .into_iter()
            .filter(|(column, _)| yes(&objects, row, *column))
            .map(|(_, word)| word)
            .collect();
        if !kinds.is_empty() && kinds.len() < 3 {
            line.push_str(&format!(" ({})", kinds.join(", ")));
        }
        line.push_str(&format!(
            " ON {} FROM {}",
            cell(&objects, row, 2),
            cell(&objects, row, 6)
        ));
        let target = cell(&objects, row, 7);
        if !target.is_empty() && !target.starts_with('-') {
            line.push_str(&format!("; STATISTICS {target}"));
        }
        lines.push(line);
    }
    Ok(lines)
}

/// Whether a trigger (its `tgenabled`, whether it is internal) belongs to a group.
type Belongs = fn(&str, bool) -> bool;

/// The triggers, grouped as psql groups them by when they fire.
async fn trigger_lines(db: &Connection, version: i32, oid: u32) -> Result<Vec<String>, Error> {
    let triggers = rows(db, &triggers_sql(version, oid)).await?;
    let mut lines = Vec::new();
    let groups: [(&str, Belongs); 5] = [
        ("Triggers:", |enabled, _| matches!(enabled, "O" | "t")),
        ("Disabled user triggers:", |enabled, internal| {
            matches!(enabled, "D" | "f") && !internal
        }),
        ("Disabled internal triggers:", |enabled, internal| {
            matches!(enabled, "D" | "f") && internal
        }),
        ("Triggers firing always:", |enabled, _| enabled == "A"),
        ("Triggers firing on replica only:", |enabled, _| {
            enabled == "R"
        }),
    ];
    for (heading, belongs) in groups {
        let group = (0..triggers.len())
            .filter(|&row| belongs(&cell(&triggers, row, 2), yes(&triggers, row, 3)))
            .map(|row| {
                let definition = cell(&triggers, row, 1);
                let after = definition
                    .find(" TRIGGER ")
                    .map_or(definition.as_str(), |at| &definition[at + 9..]);
                let mut line = format!("    {after}");
                let parent = cell(&triggers, row, 4);
                if !parent.is_empty() {
                    line.push_str(&format!(", ON TABLE {parent}"));
                }
                line
            });
        push_group(&mut lines, heading, group);
    }
    Ok(lines)
}

/// `Partitions:`, `Child tables:` or their counts.
async fn children_lines(
    db: &Connection,
    version: i32,
    verbose: bool,
    oid: u32,
    kind: &str,
) -> Result<Vec<String>, Error> {
    let children = rows(db, &children_sql(version, oid)).await?;
    let partitioned = matches!(kind, "p" | "I");
    if !partitioned && children.is_empty() {
        return Ok(Vec::new());
    }
    if !verbose {
        return Ok(vec![if partitioned {
            format!(
                "Number of partitions: {} (Use \\d+ to list them.)",
                children.len()
            )
        } else {
            format!(
                "Number of child tables: {} (Use \\d+ to list them.)",
                children.len()
            )
        }]);
    }
    if partitioned && children.is_empty() {
        return Ok(vec!["Number of partitions: 0".to_owned()]);
    }
    let items: Vec<String> = (0..children.len())
        .map(|row| {
            let mut item = cell(&children, row, 0);
            if partitioned {
                let bound = cell(&children, row, 3);
                if !bound.is_empty() {
                    item.push(' ');
                    item.push_str(&bound);
                }
                match cell(&children, row, 1).as_str() {
                    "p" | "I" => item.push_str(", PARTITIONED"),
                    "f" => item.push_str(", FOREIGN"),
                    _ => {}
                }
                if yes(&children, row, 2) {
                    item.push_str(" (DETACH PENDING)");
                }
            }
            item
        })
        .collect();
    Ok(listed(
        if partitioned {
            "Partitions"
        } else {
            "Child tables"
        },
        &items,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regexes(pattern: &str) -> Vec<String> {
        pattern_parts(pattern)
            .into_iter()
            .map(|p| p.regex)
            .collect()
    }

    #[test]
    fn patterns_become_anchored_regular_expressions() {
        assert_eq!(regexes("Foo"), ["^(foo)$"]);
        assert_eq!(regexes("s.t*"), ["^(s)$", "^(t.*)$"]);
        assert_eq!(regexes("t?x"), ["^(t.x)$"]);
        assert_eq!(regexes("\"Mixed.Case\""), ["^(Mixed\\.Case)$"]);
        assert_eq!(regexes("\"a\"\"b\"*"), ["^(a\"b.*)$"]);
        assert_eq!(regexes("db.s.t"), ["^(db)$", "^(s)$", "^(t)$"]);
        assert_eq!(regexes("a$"), ["^(a\\$)$"]);
        assert_eq!(pattern_parts("\"X\".Y")[0].literal, "X");
    }

    #[test]
    fn command_names() {
        let parsed = Parsed::new("dt+").unwrap();
        assert!(parsed.verbose && !parsed.system);
        assert!(matches!(parsed.what, What::Relations(k) if k.tables && !k.views));
        let parsed = Parsed::new("dS+").unwrap();
        assert!(parsed.verbose && parsed.system && parsed.what == What::Details);
        assert_eq!(Parsed::new("dg").unwrap().what, What::Roles);
        assert_eq!(Parsed::new("l+").unwrap().what, What::Databases);
        for not in ["x", "dx", "d++", "", "lS", "dfz", "q"] {
            assert!(Parsed::new(not).is_none(), "{not}");
        }
    }
}
