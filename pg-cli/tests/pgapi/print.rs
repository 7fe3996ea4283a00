//! psql's output formats, byte for byte: each query runs through the real psql with its
//! printing options and through pg-driver, `print::from_rows` and `print::render` with the
//! same settings, and the two outputs must be identical.

use std::process::Command;

use pg_cli::print::{self, Expanded, Layout, Settings, Table};
use pg_cluster::Temporal;

/// The queries compared: numbers, line breaks, NULLs, nothing, wide and combining
/// characters, long values, no columns, booleans, arrays, control characters, many rows.
const QUERIES: &[&str] = &[
    "select 1 as a, 22::int8 as bb, 3.14::numeric as n, -1.5::float8 as f, 7::int2 as s, \
     2.5::float4 as r, 'pg_class'::regclass::oid as o, '5'::xid as x, 'abc' as t",
    "select 'one' || chr(10) || 'two' as multi, 'x' as y, E'a\\nbb\\nccc' as z, 42 as n \
     union all select 'single', E'p\\nq', 'r', 1234567",
    "select 1 as \"two\nlines\", E'x\\ny' as \"head\ner\", 'plain' as c",
    "select null::text as t, 1 as i union all select 'x', null union all select '', 3",
    "select 1 as a, 'b' as b where false",
    "select '日本語のテキスト' as \"名前\", 'naïve' as b, E'e\\u0301te' as combining, '한국어' as k",
    "select repeat('long value ', 30) as long, 1 as n",
    "select from generate_series(1, 3)",
    "select true as t, false as f, null::bool as n",
    "select array[1, 2, null] as a, array['a b', 'c,d', 'e\"f'] as t, '{}'::int[] as e, \
     array[[1.5, 2], [3, 4]]::numeric[] as m",
    "select E'a\\tb\\tc' as tab, E'x\\ry' as cr, E'bell\\x01' as ctl, ' lead' as sp, \
     'quote\"d' as q",
    "select g, g * g as square, repeat('*', g) as bar from generate_series(1, 12) g",
    "select '2024-01-02'::date as d, '{\"a\": [1, 2]}'::jsonb as j, \
     12345678901234567890.5::numeric as big, 'NaN'::numeric as nan, 1e-10::float8 as small",
    "select 'x' as \"a very long column name indeed\", 1 as n",
    "select 0.1::float4 as a, 1e6::float4 as b, 123456.7::float4 as c, 1e15::float8 as d, \
     123456789012345::float8 as e, 1.5e-5::float8 as f, -0::float8 as z, \
     '-Infinity'::float8 as i, array[0.1::float4, 1e20, 'NaN'] as arr, point(1e-7, 2) as p",
    // (money is left out: the server prints it after its lc_monetary, `$100.00`, which
    // the driver's binary value does not carry.)
    "select interval '1 day 02:03:04.5' as iv, \
     timestamptz '2024-05-06 07:08:09.123+00' as ts, '\\xdeadbeef'::bytea as b, \
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as u, '10.1.2.3/8'::inet as ip, \
     row(1, 'two words', null) as rec, int4range(1, 10) as r, 'x'::\"char\" as ch",
];

/// A psql printing option set and the settings that should print the same.
struct Variant {
    name: &'static str,
    psql: &'static [&'static str],
    settings: Settings,
}

fn variants() -> Vec<Variant> {
    let default = Settings::default();
    vec![
        Variant {
            name: "aligned",
            psql: &[],
            settings: default.clone(),
        },
        Variant {
            name: "null",
            psql: &["-P", "null=(null)"],
            settings: Settings {
                null: "(null)".to_owned(),
                ..default.clone()
            },
        },
        Variant {
            name: "expanded",
            psql: &["-x", "-P", "null=(null)"],
            settings: Settings {
                expanded: Expanded::On,
                null: "(null)".to_owned(),
                ..default.clone()
            },
        },
        Variant {
            name: "expanded tuples only",
            psql: &["-x", "-t"],
            settings: Settings {
                expanded: Expanded::On,
                tuples_only: true,
                ..default.clone()
            },
        },
        Variant {
            name: "unaligned",
            psql: &["-A", "-F", ";"],
            settings: Settings {
                layout: Layout::Unaligned,
                field_separator: ";".to_owned(),
                ..default.clone()
            },
        },
        Variant {
            name: "unaligned record separator",
            psql: &["-A", "-R", "#", "-P", "null=N"],
            settings: Settings {
                layout: Layout::Unaligned,
                record_separator: "#".to_owned(),
                null: "N".to_owned(),
                ..default.clone()
            },
        },
        Variant {
            name: "unaligned expanded",
            psql: &["-A", "-x"],
            settings: Settings {
                layout: Layout::Unaligned,
                expanded: Expanded::On,
                ..default.clone()
            },
        },
        Variant {
            name: "unaligned tuples only",
            psql: &["-A", "-t"],
            settings: Settings {
                layout: Layout::Unaligned,
                tuples_only: true,
                ..default.clone()
            },
        },
        Variant {
            name: "tuples only",
            psql: &["-t"],
            settings: Settings {
                tuples_only: true,
                ..default.clone()
            },
        },
        Variant {
            name: "csv",
            psql: &["--csv"],
            settings: Settings {
                layout: Layout::Csv,
                ..default.clone()
            },
        },
        Variant {
            name: "csv expanded",
            psql: &["--csv", "-x", "-t"],
            settings: Settings {
                layout: Layout::Csv,
                expanded: Expanded::On,
                tuples_only: true,
                ..default.clone()
            },
        },
        Variant {
            name: "footer off",
            psql: &["-P", "footer=off"],
            settings: Settings {
                footer: false,
                ..default.clone()
            },
        },
    ]
}

/// What psql prints for the SQL with the options (`-X`: no psqlrc).
fn psql(options: &[&str], sql: &str) -> String {
    let server = Temporal::get().expect("a test server");
    let program = if std::path::Path::new("/usr/bin/psql").exists() {
        "/usr/bin/psql"
    } else {
        "psql"
    };
    let mut command = Command::new(program);
    command
        .args(["-X", "-h", server.host(), "-p"])
        .arg(server.port().to_string())
        .args(["-U", server.user(), "-d", server.database()])
        .args(options)
        .args(["-c", sql])
        .env("PGCLIENTENCODING", "UTF8")
        .env_remove("PSQL_PAGER")
        .env_remove("COLUMNS");
    if let Some(password) = server.password() {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().expect("psql runs");
    assert!(
        output.status.success(),
        "psql {options:?} -c {sql:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("psql prints UTF-8")
}

/// The queries' rows through pg-driver, as tables.
fn tables(queries: &[&str]) -> Vec<Table> {
    let server = Temporal::get().expect("a test server");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let db = server.connector().connect().await.expect("a connection");
        let mut tables = Vec::new();
        for sql in queries {
            let statement = db.prepare(sql).await.expect("prepared");
            let results = statement.call(()).await.expect("run");
            tables.push(print::from_rows(statement.columns(), &results.rows).expect("a table"));
        }
        tables
    })
}

/// What `render` prints.
fn rendered(table: &Table, settings: &Settings, width: Option<usize>) -> String {
    let mut out = Vec::new();
    print::render(table, settings, width, &mut out).expect("rendered");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn every_format_prints_as_psql_does() {
    let tables = tables(QUERIES);
    let mut failures = Vec::new();
    let mut compared = 0;
    for variant in variants() {
        for (sql, table) in QUERIES.iter().zip(&tables) {
            let expected = psql(variant.psql, sql);
            let got = rendered(table, &variant.settings, None);
            compared += 1;
            if got != expected {
                failures.push(format!(
                    "{} ({:?}) for {sql}:\n--- psql\n{expected}<END>\n--- ours\n{got}<END>",
                    variant.name, variant.psql
                ));
            }
        }
    }
    assert_eq!(compared, variants().len() * QUERIES.len());
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn expanded_auto_follows_the_width_as_psql_does() {
    let queries = [
        "select 'narrow' as a, 1 as b",
        "select repeat('wide ', 12) as a, 1 as b, 'more text here' as c",
        // One column: never expanded.
        "select repeat('wide ', 12) as a",
    ];
    let tables = tables(&queries);
    let auto = Settings {
        expanded: Expanded::Auto,
        ..Settings::default()
    };
    for (sql, table) in queries.iter().zip(&tables) {
        for columns in [20, 40, 200] {
            let option = format!("columns={columns}");
            let expected = psql(&["-P", "expanded=auto", "-P", &option], sql);
            assert_eq!(
                rendered(table, &auto, Some(columns)),
                expected,
                "{sql} in {columns} columns"
            );
        }
        // Without a known width, never expanded: the aligned table.
        assert_eq!(rendered(table, &auto, None), psql(&[], sql), "{sql}");
    }
    // The wide one is expanded at 40 columns and not at 200.
    assert!(rendered(&tables[1], &auto, Some(40)).starts_with("-[ RECORD 1 ]"));
    assert!(!rendered(&tables[1], &auto, Some(200)).starts_with("-[ RECORD 1 ]"));
}

#[test]
fn titles_are_centred_as_psql_centres_them() {
    let queries = ["select 1 as a, 'two' as b", "select 1 as a"];
    let tables = tables(&queries);
    for (sql, table) in queries.iter().zip(tables) {
        for title in ["T", "A title", "A title wider than the whole table"] {
            let titled = Table {
                title: Some(title.to_owned()),
                ..table.clone()
            };
            let option = format!("title={title}");
            for (options, settings) in [
                (vec!["-P", &option], Settings::default()),
                (
                    vec!["-P", &option, "-x"],
                    Settings {
                        expanded: Expanded::On,
                        ..Settings::default()
                    },
                ),
                (
                    vec!["-P", &option, "-A"],
                    Settings {
                        layout: Layout::Unaligned,
                        ..Settings::default()
                    },
                ),
            ] {
                assert_eq!(
                    rendered(&titled, &settings, None),
                    psql(&options, sql),
                    "{sql} titled {title:?} with {options:?}"
                );
            }
        }
    }
}

#[test]
fn wide_characters_empty_results_and_no_columns_as_written_out() {
    // The expected outputs spelled out, so that the comparison above stands on known
    // ground: wide characters count two columns, combining marks none.
    let cases: [(&str, &[&str], Settings, &str); 4] = [
        (
            "select '日本語' as \"名前\", E'e\\u0301' as c",
            &[],
            Settings::default(),
            "  名前  | c \n--------+---\n 日本語 | e\u{301}\n(1 row)\n\n",
        ),
        (
            "select from generate_series(1, 2)",
            &[],
            Settings::default(),
            "--\n(2 rows)\n\n",
        ),
        (
            "select 1 as a where false",
            &["-x"],
            Settings {
                expanded: Expanded::On,
                ..Settings::default()
            },
            "(0 rows)\n\n",
        ),
        (
            "select 12 as n, 'x' as t",
            &["-P", "null=(null)"],
            Settings::default(),
            " n  | t \n----+---\n 12 | x\n(1 row)\n\n",
        ),
    ];
    let queries: Vec<&str> = cases.iter().map(|c| c.0).collect();
    for ((sql, options, settings, expected), table) in cases.iter().zip(tables(&queries)) {
        assert_eq!(psql(options, sql), *expected, "psql: {sql}");
        assert_eq!(rendered(&table, settings, None), *expected, "ours: {sql}");
    }
}
