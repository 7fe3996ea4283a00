//! Named parameters (`%(name)s`, `:name`) through the driver's query interface, async and
//! blocking, against a real server: placeholders rewritten to `$n` only in SQL proper, the
//! values sent as parameters and never as text.

mod common;

use std::collections::HashMap;

use futures::TryStreamExt;
use pg_driver::Connection;
use pg_exceptions::{ParameterError, field};
use pg_string::{PlaceholderError, PlaceholderErrorKind};
use pg_types::Value;
use postgres_types::ToSql;

/// Values that would do harm if they ever reached the SQL text.
const HOSTILE: [&str; 5] = [
    "'; DROP TABLE victims; --",
    "\\'; DROP TABLE victims; --",
    "it's a \\ backslash",
    "$$; DROP TABLE victims; $$",
    "%(x)s :x %% $1",
];

/// A statement whose quoted sections and comments all hold placeholder look-alikes, each
/// given back as a column, with the real placeholders among them.
const LOOK_ALIKES: &str = "SELECT %(a)s::int AS a, '%(a)s :a %%' AS single, E'\\' %(a)s' AS escape, \
     $$ %(a)s :a $$ AS dollar, $t$ %(a)s $t$ AS tagged, %(a)s + %(b)s AS sum, 7 %% 3 AS modulo, \
     '{1,2,3}'::int[] AS arr, 1 AS \"%(a)s :a\" -- %(nothing)s :nothing\n/* %(x)s /* :y */ %% */";

fn check_look_alikes(rows: &[pg_types::Row]) {
    let row = &rows[0];
    assert_eq!(row.get::<i32>("a"), 1);
    assert_eq!(row.get::<String>("single"), "%(a)s :a %%");
    assert_eq!(row.get::<String>("escape"), "' %(a)s");
    assert_eq!(row.get::<String>("dollar"), " %(a)s :a ");
    assert_eq!(row.get::<String>("tagged"), " %(a)s ");
    assert_eq!(row.get::<i32>("sum"), 3);
    assert_eq!(row.get::<i32>("modulo"), 1);
    assert_eq!(row.get::<i32>("%(a)s :a"), 1);
}

/// The placeholder error under a driver error.
fn placeholder(error: &pg_exceptions::Error) -> &PlaceholderErrorKind {
    assert!(error.is_a(&ParameterError), "{error}");
    error
        .cause()
        .and_then(|cause| cause.downcast_ref::<PlaceholderError>())
        .unwrap_or_else(|| panic!("a placeholder error: {error:?}"))
        .kind()
}

async fn sandboxed(sandbox: &pg_cluster::Sandbox<'_>) -> Connection {
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE victims (id int PRIMARY KEY, note text)")
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn placeholders_outside_quotes_and_comments_only() {
    let db = common::connect().await;
    let values: &[(&str, &(dyn ToSql + Sync))] = &[("a", &1i32), ("b", &2i32), ("x", &"unused")];
    let results = db.query_named(LOOK_ALIKES, values).await.unwrap();
    check_look_alikes(&results.rows);

    // The same in `:name` style: casts, slices and `:=` are SQL's own.
    let sql = "SELECT (:arr::int[])[2:3] AS slice, (:arr::int[])[:2] AS head, (:arr::int[])[(:lo):(:hi)] AS parenthesised, \
               ARRAY[:lo, :hi] AS pair, make_interval(days => :lo)::text AS days, make_interval(hours := :hi)::text AS hours, \
               format('%s-%s', :lo, :lo) AS repeated, ':lo' AS quoted";
    let arr = vec![10i32, 20, 30];
    let values: &[(&str, &(dyn ToSql + Sync))] = &[("arr", &arr), ("lo", &1i32), ("hi", &2i32)];
    let row = db.query_named(sql, values).await.unwrap().rows.remove(0);
    assert_eq!(row.get::<Vec<i32>>("slice"), [20, 30]);
    assert_eq!(row.get::<Vec<i32>>("head"), [10, 20]);
    assert_eq!(row.get::<Vec<i32>>("parenthesised"), [10, 20]);
    assert_eq!(row.get::<Vec<i32>>("pair"), [1, 2]);
    assert_eq!(row.get::<String>("repeated"), "1-1");
    assert_eq!(row.get::<String>("quoted"), ":lo");
    assert_eq!(row.get::<String>("days"), "1 day");
    assert_eq!(row.get::<String>("hours"), "02:00:00");
}

#[tokio::test]
async fn hostile_values_go_as_data() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandboxed(&sandbox).await;
    for (id, note) in (0i32..).zip(HOSTILE) {
        let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &id), ("note", &note)];
        db.query_named("INSERT INTO victims VALUES (%(id)s, %(note)s)", values)
            .await
            .unwrap();
        let back: String = db
            .query_named_first("SELECT note FROM victims WHERE id = :id", values)
            .await
            .unwrap();
        assert_eq!(back, note);
    }
    // And as untyped values, a map of pg_types Values.
    let mut values = HashMap::new();
    values.insert("note", Value::Text(HOSTILE[0].into()));
    let echoed: String = db
        .query_named_first("SELECT :note::text", &values)
        .await
        .unwrap();
    assert_eq!(echoed, HOSTILE[0]);
    let count: i64 = db
        .query_named_first("SELECT count(*) FROM victims", &values)
        .await
        .unwrap();
    assert_eq!(
        count,
        HOSTILE.len() as i64,
        "the table is still there, whole"
    );
}

#[tokio::test]
async fn errors_come_before_anything_is_sent() {
    let db = common::connect().await;
    let values: &[(&str, &(dyn ToSql + Sync))] = &[("a", &1i32)];
    let error = db
        .query_named("SELECT %(a)s, %(b)s", values)
        .await
        .unwrap_err();
    assert_eq!(
        placeholder(&error),
        &PlaceholderErrorKind::MissingValue("b".into())
    );
    assert!(error.message().contains("\"b\""), "{error}");
    assert_eq!(error.field(field::POSITION), Some("15"));
    assert!(
        format!("{error:#}").contains("SELECT %(a)s, %(b)s\n                ^"),
        "{error:#}"
    );
    let error = db
        .query_named("SELECT %(a)s, :a", values)
        .await
        .unwrap_err();
    assert_eq!(placeholder(&error), &PlaceholderErrorKind::MixedStyles);
    let error = db.query_named("SELECT :a, $1", values).await.unwrap_err();
    assert_eq!(
        placeholder(&error),
        &PlaceholderErrorKind::PositionalParameter
    );
    let error = db
        .query_named("SELECT %(a)s % 2", values)
        .await
        .unwrap_err();
    assert_eq!(
        placeholder(&error),
        &PlaceholderErrorKind::UnsupportedFormat(' ')
    );
    // Nothing reached the server: the connection is as it was, outside any failed block.
    assert_eq!(db.transaction_status(), pg_driver::TransactionStatus::Idle);
    let one: i32 = db
        .query_named_first("SELECT %(a)s::int", values)
        .await
        .unwrap();
    assert_eq!(one, 1);
}

#[tokio::test]
async fn a_session_without_standard_strings_is_read_as_it_reads() {
    let db = common::connect().await;
    db.execute("SET standard_conforming_strings = off")
        .await
        .unwrap();
    assert!(!db.standard_conforming_strings());
    // `'it\'s :a'` is one string here: its `:a` is text.
    let values: &[(&str, &(dyn ToSql + Sync))] = &[("b", &"b")];
    let query = db
        .named_query(r"SELECT 'it\'s :a' AS s, :b AS b", values)
        .unwrap();
    assert_eq!(query.names(), ["b"]);
    let row = db
        .query_named(r"SELECT 'it\'s :a' AS s, :b::text AS b", values)
        .await
        .unwrap()
        .rows
        .remove(0);
    assert_eq!(row.get::<String>("s"), "it's :a");
    assert_eq!(row.get::<String>("b"), "b");
    db.execute("SET standard_conforming_strings = on")
        .await
        .unwrap();
    assert!(db.standard_conforming_strings());
}

#[tokio::test]
async fn rows_stream_and_rows_feed_named_parameters() {
    let db = common::connect().await;
    let values: &[(&str, &(dyn ToSql + Sync))] = &[("n", &3i32)];
    let rows: Vec<pg_types::Row> = db
        .query_named_rows("SELECT i FROM generate_series(1, :n) i", values)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    // A row of one statement gives its columns by name to another.
    let row = db
        .query("SELECT 40 AS x, 2 AS y", ())
        .await
        .unwrap()
        .rows
        .remove(0);
    let sum: i32 = db
        .query_named_first("SELECT :x::int + :y::int", &row)
        .await
        .unwrap();
    assert_eq!(sum, 42);
}

#[test]
fn the_blocking_facade_takes_named_parameters() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute("CREATE TABLE victims (id int PRIMARY KEY, note text)")
        .unwrap();
    let values: &[(&str, &(dyn ToSql + Sync))] = &[("a", &1i32), ("b", &2i32)];
    check_look_alikes(&db.query_named(LOOK_ALIKES, values).unwrap().rows);
    for (id, note) in (0i32..).zip(HOSTILE) {
        let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &id), ("note", &note)];
        db.query_named("INSERT INTO victims VALUES (:id, :note)", values)
            .unwrap();
        let back: String = db
            .query_named_first("SELECT note FROM victims WHERE id = %(id)s", values)
            .unwrap();
        assert_eq!(back, note);
    }
    let notes: Vec<String> = db
        .query_named_rows(
            "SELECT note FROM victims WHERE id < :n ORDER BY id",
            &[("n", &2i32 as &(dyn ToSql + Sync))],
        )
        .unwrap()
        .map(|row| row.unwrap().get::<String>(0))
        .collect();
    assert_eq!(notes, HOSTILE[..2]);
    let error = db.query_named("SELECT :missing", values).unwrap_err();
    assert_eq!(
        placeholder(&error),
        &PlaceholderErrorKind::MissingValue("missing".into())
    );
    assert!(db.standard_conforming_strings());
}
