//! The catalog meta-commands of `pg_cli::describe` against the real psql: for each command,
//! the tables it gives, written out the way `psql -A -F '|'` writes them (title, header,
//! rows, footers or row count), must be exactly what psql prints for the same command on
//! the same server, with the same search path.

use std::process::Command;

use pg_cli::describe::{self, Described};
use pg_cli::print::Table;
use pg_cluster::{Sandbox, Temporal};

use crate::sandbox;

/// The objects every comparison describes, in the sandbox schema.
const OBJECTS: &str = "
create table parent (id int primary key, label text unique);
create table items (
    id serial primary key,
    name text not null default 'x',
    qty int check (qty > 0),
    pid int references parent (id) on delete cascade,
    created timestamptz default now(),
    code text collate \"C\",
    n bigint generated always as identity
);
comment on table items is 'the items';
comment on column items.name is 'what it is called';
create unique index items_name_idx on items (name);
create index items_lower on items (lower(name)) where qty > 1;
create view items_view as select id, name from items;
create sequence counter start 5 increment 2 maxvalue 100 cycle;
create function add_one(a int, b text default 'z') returns int language sql as 'select a + 1';
create function touch() returns trigger language plpgsql as 'begin return new; end';
create trigger items_touch before insert on items for each row execute function touch();
create table \"MixedCase\" (\"Value\" int not null);
create table kid (extra int) inherits (parent);
";

/// A table as `psql -A -F '|'` prints it.
fn unaligned(table: &Table) -> String {
    let mut lines = Vec::new();
    if let Some(title) = &table.title {
        lines.push(title.clone());
    }
    lines.push(table.headers.join("|"));
    for row in &table.rows {
        let cells: Vec<&str> = row.iter().map(|c| c.as_deref().unwrap_or("")).collect();
        lines.push(cells.join("|"));
    }
    match &table.footers {
        Some(footers) => lines.extend(footers.iter().cloned()),
        None if table.rows.len() == 1 => lines.push("(1 row)".to_owned()),
        None => lines.push(format!("({} rows)", table.rows.len())),
    }
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// What psql prints for a meta-command: standard output and standard error.
fn psql(sandbox: &Sandbox<'_>, meta: &str) -> (String, String) {
    let output = Command::new("psql")
        .args(["-X", "-A", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(sandbox.uri())
        .args(["-c", meta])
        .output()
        .expect("psql runs");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What `describe::run` gives for a meta-command, through a connection with the sandbox's
/// search path.
fn ours(sandbox: &Sandbox<'_>, meta: &str) -> Option<Described> {
    let meta = meta.strip_prefix('\\').expect("a backslash command");
    let (command, pattern) = match meta.split_once(' ') {
        Some((command, pattern)) => (command, Some(pattern)),
        None => (meta, None),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let db = sandbox.connect().await.expect("a connection");
        let described = describe::run(&db, command, pattern)
            .await
            .unwrap_or_else(|e| panic!("{meta}: {e:#}"));
        db.close();
        described
    })
}

/// Asserts that our tables, printed unaligned, are what psql prints; gives that text.
fn same_as_psql(sandbox: &Sandbox<'_>, meta: &str) -> String {
    let (expected, errors) = psql(sandbox, meta);
    assert_eq!(errors, "", "psql failed on {meta}");
    let Some(Described::Tables(tables)) = ours(sandbox, meta) else {
        panic!("{meta}: no tables");
    };
    let got: String = tables.iter().map(unaligned).collect();
    assert_eq!(got, expected, "{meta}");
    assert!(!expected.is_empty(), "{meta}");
    expected
}

/// Asserts both say nothing matched, with the same message.
fn not_found_as_psql(sandbox: &Sandbox<'_>, meta: &str) {
    let (output, errors) = psql(sandbox, meta);
    assert_eq!(output, "", "{meta}");
    match ours(sandbox, meta) {
        Some(Described::NotFound(message)) => assert_eq!(format!("{message}\n"), errors),
        other => panic!("{meta}: {other:?}"),
    }
}

fn setup() -> Sandbox<'static> {
    let sandbox = sandbox();
    sandbox.admin_sql(OBJECTS).expect("the objects");
    sandbox
}

#[test]
fn relation_listings_match_psql() {
    let sandbox = setup();
    let s = sandbox.schema().to_owned();
    let listing = same_as_psql(&sandbox, &format!("\\dt {s}.*"));
    assert!(listing.starts_with("List of relations\nSchema|Name|Type|Owner\n"));
    assert!(
        listing.contains(&format!("{s}|MixedCase|table|")),
        "{listing}"
    );
    assert!(listing.ends_with("(4 rows)\n"), "{listing}");
    for meta in [
        format!("\\dt+ {s}.*"),
        format!("\\di {s}.*"),
        format!("\\di+ {s}.items*"),
        format!("\\dv {s}.*"),
        format!("\\dv+ {s}.*"),
        format!("\\ds {s}.*"),
        format!("\\ds+ {s}.*"),
        format!("\\dti {s}.*"),
        format!("\\dt {s}.\"MixedCase\""),
        format!("\\dt {s}.\"Mixed\"*"),
        format!("\\dt {s}.?arent"),
        "\\dt items".to_owned(),
        "\\dt pa*".to_owned(),
        "\\dtS pg_catalog.pg_class".to_owned(),
        "\\dvS pg_catalog.pg_rol*".to_owned(),
        // No pattern: what the search path shows (the sandbox first).
        "\\d".to_owned(),
        "\\d+".to_owned(),
    ] {
        same_as_psql(&sandbox, &meta);
    }
}

#[test]
fn table_details_match_psql() {
    let sandbox = setup();
    let s = sandbox.schema().to_owned();
    let items = same_as_psql(&sandbox, &format!("\\d {s}.items"));
    assert!(items.starts_with(&format!(
        "Table \"{s}.items\"\nColumn|Type|Collation|Nullable|Default\n"
    )));
    for line in [
        "Indexes:\n",
        "    \"items_pkey\" PRIMARY KEY, btree (id)\n",
        "    \"items_name_idx\" UNIQUE, btree (name)\n",
        "Check constraints:\n    \"items_qty_check\" CHECK (qty > 0)\n",
        "Foreign-key constraints:\n",
        "Triggers:\n",
        "n|bigint||not null|generated always as identity\n",
        "code|text|C||\n",
    ] {
        assert!(items.contains(line), "{line:?} in {items}");
    }
    let parent = same_as_psql(&sandbox, &format!("\\d {s}.parent"));
    assert!(
        parent.contains("Referenced by:\n    TABLE \"items\" CONSTRAINT"),
        "{parent}"
    );
    assert!(parent.contains("Number of child tables: 1 (Use \\d+ to list them.)"));
    for meta in [
        format!("\\d+ {s}.items"),
        format!("\\d+ {s}.parent"),
        format!("\\d {s}.kid"),
        format!("\\d+ {s}.kid"),
        // Several objects: one table each, in name order.
        format!("\\d {s}.*"),
        format!("\\d+ {s}.items*"),
        "\\d items".to_owned(),
        "\\d \"MixedCase\"".to_owned(),
        format!("\\d {s}.\"MixedCase\""),
    ] {
        same_as_psql(&sandbox, &meta);
    }
}

#[test]
fn views_indexes_and_sequences_match_psql() {
    let sandbox = setup();
    let s = sandbox.schema().to_owned();
    let view = same_as_psql(&sandbox, &format!("\\d+ {s}.items_view"));
    assert!(view.contains("View definition:\n"), "{view}");
    let sequence = same_as_psql(&sandbox, &format!("\\d {s}.counter"));
    assert_eq!(
        sequence,
        format!(
            "Sequence \"{s}.counter\"\nType|Start|Minimum|Maximum|Increment|Cycles?|Cache\n\
             bigint|5|1|100|2|yes|1\n"
        )
    );
    let Some(Described::Tables(tables)) = ours(&sandbox, &format!("\\d {s}.counter")) else {
        panic!("no sequence");
    };
    assert_eq!(
        tables[0].right_aligned,
        [false, true, true, true, true, false, true]
    );
    let index = same_as_psql(&sandbox, &format!("\\d {s}.items_lower"));
    assert!(
        index.ends_with(&format!(
            "btree, for table \"{s}.items\", predicate (qty > 1)\n"
        )),
        "{index}"
    );
    for meta in [
        format!("\\d {s}.items_view"),
        format!("\\d {s}.items_id_seq"),
        format!("\\d {s}.items_n_seq"),
        format!("\\d+ {s}.counter"),
        format!("\\d {s}.items_pkey"),
        format!("\\d+ {s}.items_name_idx"),
        format!("\\d {s}.parent_label_key"),
    ] {
        same_as_psql(&sandbox, &meta);
    }
}

#[test]
fn other_listings_match_psql() {
    let sandbox = setup();
    let s = sandbox.schema().to_owned();
    let temporal = Temporal::get().expect("a test server");
    let functions = same_as_psql(&sandbox, &format!("\\df {s}.*"));
    assert!(
        functions.contains(&format!(
            "{s}|add_one|integer|a integer, b text DEFAULT 'z'::text|func\n"
        )),
        "{functions}"
    );
    let schemas = same_as_psql(&sandbox, &format!("\\dn {s}"));
    assert_eq!(
        schemas,
        format!(
            "List of schemas\nName|Owner\n{s}|{}\n(1 row)\n",
            temporal.user()
        )
    );
    let roles = same_as_psql(&sandbox, &format!("\\du {}", temporal.user()));
    assert!(roles.starts_with("List of roles\nRole name|Attributes|Member of\n"));
    assert!(roles.contains("Superuser"), "{roles}");
    for meta in [
        format!("\\df+ {s}.add_one"),
        "\\df add_*".to_owned(),
        "\\dfS pg_catalog.abs".to_owned(),
        format!("\\df {s}.nosuch"),
        format!("\\dn+ {s}"),
        format!("\\dn {s}*"),
        format!("\\du+ {}", temporal.user()),
        format!("\\dg {}", temporal.user()),
        format!("\\l {}", temporal.database()),
        format!("\\l \"{}\"", temporal.database()),
        // Nothing writes to template0: its size holds still.
        "\\l+ template0".to_owned(),
        // A cell of two lines (the access privileges).
        "\\dn+ public".to_owned(),
    ] {
        same_as_psql(&sandbox, &meta);
    }
}

#[test]
fn nothing_found_is_said_as_psql_says_it() {
    let sandbox = setup();
    let s = sandbox.schema().to_owned();
    not_found_as_psql(&sandbox, "\\d nosuch");
    not_found_as_psql(&sandbox, &format!("\\d {s}.nosuch*"));
    not_found_as_psql(&sandbox, &format!("\\dt {s}.nosuch"));
    // Unquoted names fold to lower case; the table's name has capitals.
    not_found_as_psql(&sandbox, "\\d MixedCase");
    not_found_as_psql(&sandbox, &format!("\\dv {s}.items"));
    match ours(&sandbox, "\\d nosuch") {
        Some(Described::NotFound(message)) => {
            assert_eq!(message, "Did not find any relation named \"nosuch\".");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn patterns_are_data_never_sql() {
    let sandbox = setup();
    // Quotes, semicolons and regular-expression characters reach the server as a bound
    // pattern: nothing matches, nothing runs.
    for pattern in ["x'; drop table items; --", "a\"b\"\"c", "it$ems"] {
        match ours(&sandbox, &format!("\\dt {pattern}")) {
            Some(Described::NotFound(message)) => assert!(message.contains(pattern)),
            other => panic!("{pattern}: {other:?}"),
        }
    }
    assert_eq!(
        sandbox.admin_sql("select count(*) from items").unwrap(),
        "0"
    );
}

#[test]
fn other_names_are_not_describe_commands() {
    let sandbox = setup();
    for name in ["x", "dx", "q", "set", "lS", "dd"] {
        assert!(ours(&sandbox, &format!("\\{name}")).is_none(), "{name}");
    }
    // Too many dotted names, and another database: errors, as psql gives.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = sandbox.connect().await.unwrap();
        let error = describe::run(&db, "dt", Some("a.b.c.d")).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("improper qualified name (too many dotted names): a.b.c.d"),
            "{error}"
        );
        // A pattern that is a bad regular expression: the server's error, as psql shows.
        let error = describe::run(&db, "dt", Some("(")).await.unwrap_err();
        assert!(
            error.to_string().contains("invalid regular expression"),
            "{error}"
        );
        let error = describe::run(&db, "d", Some("otherdb.s.t"))
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("cross-database references are not implemented"),
            "{error}"
        );
    });
}

/// Partitions, inheritance, exclusion and deferrable constraints, row security, statistics
/// objects, triggers that are disabled or fire always, storage options, a materialized view
/// and an unlogged table.
const MORE_OBJECTS: &str = "
create table ex (id int, b int, exclude using btree (id with =),
                 unique (b) deferrable initially deferred) with (fillfactor = 50);
alter table ex replica identity full;
create unique index ex_nnd on ex (id) nulls not distinct;
cluster ex using ex_nnd;
alter table ex enable row level security;
create policy p1 on ex as restrictive for select using (id > 0);
create policy p2 on ex with check (b < 5);
create statistics ex_st (ndistinct) on id, b from ex;
create statistics ex_all on id, b from ex;
create function touch2() returns trigger language plpgsql as 'begin return new; end';
create trigger d1 after update on ex for each row execute function touch2();
alter table ex disable trigger d1;
create trigger a1 after delete on ex for each statement execute function touch2();
alter table ex enable always trigger a1;
create table pt (k int primary key, v text) partition by range (k);
create table pt1 partition of pt for values from (1) to (10);
create table pt2 partition of pt for values from (10) to (20) partition by range (k);
create table pt_ref (k int references pt (k));
create table secured (a int);
alter table secured enable row level security;
alter table secured force row level security;
create unlogged table scratch (t text compression pglz);
create materialized view totals as select count(*) as n from ex;
create index totals_n on totals (n);
";

#[test]
fn richer_tables_match_psql() {
    let sandbox = setup();
    sandbox.admin_sql(MORE_OBJECTS).expect("the objects");
    let s = sandbox.schema().to_owned();
    let ex = same_as_psql(&sandbox, &format!("\\d+ {s}.ex"));
    for line in [
        "EXCLUDE USING btree (id WITH =)",
        "UNIQUE CONSTRAINT, btree (b) DEFERRABLE INITIALLY DEFERRED",
        "NULLS NOT DISTINCT CLUSTER",
        "Policies:\n    POLICY \"p1\" AS RESTRICTIVE FOR SELECT\n",
        "Statistics objects:\n",
        "Disabled user triggers:\n",
        "Triggers firing always:\n",
        "Replica Identity: FULL\n",
        "Options: fillfactor=50\n",
    ] {
        assert!(ex.contains(line), "{line:?} in {ex}");
    }
    let pt = same_as_psql(&sandbox, &format!("\\d+ {s}.pt"));
    assert!(pt.contains("Partition key: RANGE (k)\n"), "{pt}");
    assert!(
        pt.contains("Partitions: pt1 FOR VALUES FROM (1) TO (10),\n"),
        "{pt}"
    );
    for meta in [
        format!("\\d {s}.ex"),
        format!("\\d {s}.ex_nnd"),
        format!("\\d {s}.ex_b_key"),
        format!("\\d {s}.pt"),
        format!("\\d {s}.pt1"),
        format!("\\d+ {s}.pt1"),
        format!("\\d+ {s}.pt2"),
        format!("\\d {s}.pt_pkey"),
        format!("\\d {s}.pt_ref"),
        format!("\\d {s}.secured"),
        format!("\\d+ {s}.scratch"),
        format!("\\d+ {s}.totals"),
        format!("\\d {s}.totals_n"),
        format!("\\dt+ {s}.*"),
        format!("\\dm+ {s}.*"),
        format!("\\di {s}.*"),
        format!("\\dS+ {s}.*"),
    ] {
        same_as_psql(&sandbox, &meta);
    }
}

/// A role of the test's own, dropped at the end even when the test fails.
struct Role(String);

impl Drop for Role {
    fn drop(&mut self) {
        let temporal = Temporal::get().expect("a test server");
        let _ = temporal.admin_sql(&format!(
            "drop role if exists {0}; drop role if exists {0}_group",
            self.0
        ));
    }
}

#[test]
fn role_attributes_match_psql() {
    let sandbox = setup();
    let temporal = Temporal::get().expect("a test server");
    let role = Role(format!("describe_{}", sandbox.schema()));
    temporal
        .admin_sql(&format!(
            "create role {0}_group nologin noinherit; \
             create role {0} login createdb connection limit 3 valid until '2100-01-01 00:00:00+00' \
             in role {0}_group; \
             comment on role {0} is 'a test role'",
            role.0
        ))
        .expect("the roles");
    let roles = same_as_psql(&sandbox, &format!("\\du {}*", role.0));
    assert!(
        roles.contains("Create DB\n3 connections\nPassword valid until "),
        "{roles}"
    );
    assert!(roles.contains("Cannot login"), "{roles}");
    same_as_psql(&sandbox, &format!("\\du+ {}*", role.0));
    same_as_psql(&sandbox, &format!("\\dg {}_group", role.0));
}

/// A publication of the test's own, dropped at the end even when the test fails.
struct Publication(String);

impl Drop for Publication {
    fn drop(&mut self) {
        let temporal = Temporal::get().expect("a test server");
        let _ = temporal.admin_sql(&format!("drop publication if exists {}", self.0));
    }
}

#[test]
fn types_rules_toast_and_publications_match_psql() {
    let sandbox = setup();
    let s = sandbox.schema().to_owned();
    sandbox
        .admin_sql(
            "create type pair as (a int, b text);
             create table ruled (a int);
             create rule r1 as on insert to ruled do also notify ruled_channel;
             create rule r2 as on delete to ruled do instead nothing;
             alter table ruled disable rule r2;
             create view ruled_view as select * from ruled;
             create rule rv_insert as on insert to ruled_view
                 do instead insert into ruled values (new.a);",
        )
        .expect("the objects");
    let ruled = same_as_psql(&sandbox, &format!("\\d {s}.ruled"));
    assert!(ruled.contains("Rules:\n    r1 AS\n"), "{ruled}");
    assert!(ruled.contains("Disabled rules:\n    r2 AS\n"), "{ruled}");
    let view = same_as_psql(&sandbox, &format!("\\d+ {s}.ruled_view"));
    assert!(view.contains("Rules:\n rv_insert AS\n"), "{view}");
    let pair = same_as_psql(&sandbox, &format!("\\d+ {s}.pair"));
    assert!(pair.starts_with(&format!("Composite type \"{s}.pair\"\n")));
    same_as_psql(&sandbox, &format!("\\d {s}.pair"));
    same_as_psql(&sandbox, &format!("\\d+ {s}.ruled"));
    same_as_psql(&sandbox, &format!("\\d {s}.ruled_view"));

    let toast = sandbox
        .admin_sql("select reltoastrelid::regclass from pg_class where oid = 'items'::regclass")
        .expect("the TOAST table");
    let described = same_as_psql(&sandbox, &format!("\\d {toast}"));
    assert!(
        described.contains(&format!("Owning table: \"{s}.items\"\n")),
        "{described}"
    );
    same_as_psql(&sandbox, &format!("\\d+ {toast}"));
    same_as_psql(&sandbox, &format!("\\d {toast}_index"));

    let publication = Publication(format!("describe_{s}"));
    sandbox
        .admin_sql(&format!(
            "create publication {} for tables in schema {s}",
            publication.0
        ))
        .expect("the publication");
    let schemas = same_as_psql(&sandbox, &format!("\\dn {s}"));
    assert!(
        schemas.ends_with(&format!("Publications:\n    \"{}\"\n", publication.0)),
        "{schemas}"
    );
    let items = same_as_psql(&sandbox, &format!("\\d {s}.items"));
    assert!(items.contains(&format!("Publications:\n    \"{}\"\n", publication.0)));
}

#[test]
fn foreign_tables_match_psql() {
    let sandbox = setup();
    let s = sandbox.schema().to_owned();
    let available = sandbox
        .admin_sql("select count(*) from pg_available_extensions where name = 'file_fdw'")
        .expect("the extensions");
    if available != "1" {
        eprintln!("file_fdw is not installed on the test server: no foreign tables to describe");
        return;
    }
    // The extension lives in the sandbox schema, so dropping the sandbox drops it, its
    // server and the foreign tables.
    sandbox
        .admin_sql(&format!(
            "create extension file_fdw schema {s};
             create server {s}_files foreign data wrapper file_fdw;
             create foreign table far (a int options (force_not_null 'true') check (a > 0), b text)
                 inherits (parent) server {s}_files options (filename '/dev/null', format 'csv');
             comment on column far.b is 'bee';
             create trigger far_touch before insert on far for each row execute function touch();"
        ))
        .expect("the foreign table");
    let far = same_as_psql(&sandbox, &format!("\\d {s}.far"));
    assert!(
        far.contains("|FDW options\n") && far.contains("|(force_not_null 'true')\n"),
        "{far}"
    );
    assert!(
        far.contains(&format!(
            "Server: {s}_files\nFDW options: (filename '/dev/null', format 'csv')\nInherits: parent\n"
        )),
        "{far}"
    );
    same_as_psql(&sandbox, &format!("\\d+ {s}.far"));
    same_as_psql(&sandbox, &format!("\\dE {s}.*"));
    same_as_psql(&sandbox, &format!("\\dE+ {s}.*"));
    same_as_psql(&sandbox, &format!("\\d+ {s}.parent"));
}
