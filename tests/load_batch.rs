//! `load_rows` runs a plain `INSERT … VALUES ($1, …)` as INSERTs of many rows each, only where
//! that changes nothing but speed. Which way a load went is read from the rows themselves:
//! `cmin` is the command (within its transaction) that inserted a row, and a load is one
//! transaction, so row by row gives every row its own and batches share one per batch.

mod common;
#[allow(dead_code)]
#[path = "support/proxy.rs"]
mod proxy;

use pg_driver::params::Keywords;
use pg_driver::{Connection, Connector};
use pg_exceptions::{ForeignKeyError, ParameterError, UniqueError};
use pg_types::Value;
use rust_decimal::Decimal;

/// How many distinct commands inserted the rows of `table`.
async fn commands(db: &Connection, table: &str) -> i64 {
    db.query_first::<i64, _>(
        &format!("SELECT count(DISTINCT cmin::text) FROM {table}"),
        (),
    )
    .await
    .unwrap()
}

async fn count(db: &Connection, table: &str) -> i64 {
    db.query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap()
}

/// Rows `(i, 'row i', i / 100)` for `range`.
fn rows(range: std::ops::Range<i32>) -> impl Iterator<Item = (i32, String, Decimal)> {
    range.map(|i| (i, format!("row {i}"), Decimal::new(i.into(), 2)))
}

#[tokio::test]
async fn plain_inserts_load_in_batches_with_every_value_intact() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(
        "CREATE TABLE loaded (i int PRIMARY KEY, t text, n numeric, d int DEFAULT 7, z text)",
    )
    .await
    .unwrap();
    let insert = db
        .prepare("INSERT INTO loaded (i, t, n, d, z) VALUES ($1, $2, $3::numeric, DEFAULT, NULL)")
        .await
        .unwrap();
    // Full batches and a short one.
    let loaded = insert.load_rows(rows(0..2345)).await.unwrap();
    assert_eq!(loaded, 2345);
    let exact = db
        .query_first::<i64, _>(
            "SELECT count(*) FROM loaded WHERE t = 'row ' || i AND n = i / 100.0 \
             AND d = 7 AND z IS NULL",
            (),
        )
        .await
        .unwrap();
    assert_eq!(exact, 2345);
    assert_eq!(
        db.query_first::<i64, _>("SELECT sum(i) FROM loaded", ())
            .await
            .unwrap(),
        (0..2345i64).sum::<i64>()
    );
    let batches = commands(&db, "loaded").await;
    assert!((2..=2345 / 200).contains(&batches), "{batches} commands");

    // A short load goes row by row.
    db.execute("TRUNCATE loaded").await.unwrap();
    assert_eq!(insert.load_rows(rows(0..10)).await.unwrap(), 10);
    assert_eq!(commands(&db, "loaded").await, 10);

    // batch_inserts=off: row by row, the same rows.
    let iri = format!("{}&[batch_inserts]=off", sandbox.iri());
    let params = Keywords::parse(&iri).unwrap().build().unwrap();
    let unbatched = Connector::new(params).connect().await.unwrap();
    unbatched.execute("TRUNCATE loaded").await.unwrap();
    let insert = unbatched
        .prepare("INSERT INTO loaded (i, t, n, d, z) VALUES ($1, $2, $3::numeric, DEFAULT, NULL)")
        .await
        .unwrap();
    assert_eq!(insert.load_rows(rows(0..500)).await.unwrap(), 500);
    assert_eq!(commands(&db, "loaded").await, 500);
}

#[tokio::test]
async fn errors_in_a_batched_load_leave_nothing() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE loaded (i int PRIMARY KEY, t text, n numeric)")
        .await
        .unwrap();
    let insert = db
        .prepare("INSERT INTO loaded VALUES ($1, $2, $3)")
        .await
        .unwrap();
    insert.load_rows(rows(0..1000)).await.unwrap();
    // A duplicate of an earlier load, in the second batch.
    let error = insert
        .load_rows(rows(1000..4000).map(|(i, t, n)| (if i == 2500 { 5 } else { i }, t, n)))
        .await
        .unwrap_err();
    assert!(error.is_a(&UniqueError), "{error}");
    // The server says nothing of the row: the error names the batch's (loaded row 1500 is
    // the seventh batch's).
    assert_eq!(pg_driver::failed_row(&error), None, "{error}");
    let batch = error
        .contexts()
        .iter()
        .find(|c| c.label() == pg_driver::ROWS);
    assert_eq!(batch.map(|c| c.text()), Some("1500 to 1749"), "{error}");
    // A duplicate within one batch.
    let error = insert
        .load_rows(rows(1000..1100).map(|(i, t, n)| (if i == 1050 { 1000 } else { i }, t, n)))
        .await
        .unwrap_err();
    assert!(error.is_a(&UniqueError), "{error}");
    // A value that cannot be encoded, far into the load.
    let values = (5000..8000).map(|i| {
        vec![
            if i == 7777 {
                Value::Text("not an int".into())
            } else {
                Value::Int4(i)
            },
            Value::Null,
            Value::Null,
        ]
    });
    let error = insert.load_rows(values).await.unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    assert!(error.to_string().contains("$1"), "{error}");
    assert_eq!(pg_driver::failed_row(&error), Some(2777), "{error}");
    assert_eq!(count(&db, "loaded").await, 1000);

    // Inside a transaction block the load is the block's: rolled back with it, or kept.
    let xact = db.xact();
    xact.start().await.unwrap();
    insert.load_rows(rows(10000..12000)).await.unwrap();
    assert_eq!(count(&db, "loaded").await, 3000);
    xact.rollback().await.unwrap();
    assert_eq!(count(&db, "loaded").await, 1000);
    let xact = db.xact();
    xact.start().await.unwrap();
    insert.load_rows(rows(10000..12000)).await.unwrap();
    xact.commit().await.unwrap();
    assert_eq!(count(&db, "loaded").await, 3000);
    // The connection is usable after all of it.
    assert_eq!(db.query_first::<i32, _>("SELECT 1", ()).await.unwrap(), 1);
}

#[tokio::test]
async fn triggers_foreign_keys_partitions_and_expressions_keep_row_by_row() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    // An AFTER ROW trigger that counts the rows it can see: row by row it sees 1, 2, 3…
    db.execute(
        "CREATE TABLE watched (i int);
         CREATE TABLE seen (n bigint);
         CREATE FUNCTION count_watched() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN INSERT INTO seen SELECT count(*) FROM watched; RETURN NULL; END $$;
         CREATE TRIGGER counting AFTER INSERT ON watched
           FOR EACH ROW EXECUTE FUNCTION count_watched()",
    )
    .await
    .unwrap();
    let insert = db
        .prepare("INSERT INTO watched (i) VALUES ($1)")
        .await
        .unwrap();
    assert_eq!(insert.load_rows((0..200).map(|i| (i,))).await.unwrap(), 200);
    let distinct = db
        .query_first::<i64, _>(
            "SELECT count(DISTINCT n) FROM seen WHERE n BETWEEN 1 AND 200",
            (),
        )
        .await
        .unwrap();
    assert_eq!(distinct, 200);

    // A foreign key to a row that comes later in the load fails as it does row by row.
    db.execute("CREATE TABLE tree (id int PRIMARY KEY, parent int REFERENCES tree)")
        .await
        .unwrap();
    let insert = db
        .prepare("INSERT INTO tree (id, parent) VALUES ($1, $2)")
        .await
        .unwrap();
    let error = insert
        .load_rows((0..100).map(|i| (i, Some(i + 1).filter(|&p| p < 100))))
        .await
        .unwrap_err();
    assert!(error.is_a(&ForeignKeyError), "{error}");
    assert_eq!(count(&db, "tree").await, 0);

    // A partitioned table, RETURNING and expressions: row by row.
    db.execute(
        "CREATE TABLE parted (i int) PARTITION BY RANGE (i);
         CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (1000);
         CREATE TABLE plain (i int, j int)",
    )
    .await
    .unwrap();
    let insert = db.prepare("INSERT INTO parted VALUES ($1)").await.unwrap();
    insert.load_rows((0..100).map(|i| (i,))).await.unwrap();
    assert_eq!(commands(&db, "parted").await, 100);
    for sql in [
        "INSERT INTO plain VALUES ($1, $1 + 1)",
        "INSERT INTO plain VALUES ($1) RETURNING i",
        "INSERT INTO plain VALUES ($1, (SELECT count(*) FROM plain))",
    ] {
        db.execute("TRUNCATE plain").await.unwrap();
        let insert = db.prepare(sql).await.unwrap();
        insert.load_rows((0..100).map(|i| (i,))).await.unwrap();
        assert_eq!(commands(&db, "plain").await, 100, "{sql}");
    }
    // The subquery of row i saw the i rows loaded before it, as row by row it must.
    let seen = db
        .query_first::<i64, _>("SELECT count(*) FROM plain WHERE j = i", ())
        .await
        .unwrap();
    assert_eq!(seen, 100);
}

#[tokio::test]
async fn quoted_names_reused_parameters_and_unnamed_statements_batch() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(
        "CREATE SCHEMA \"Odd Schema\";
         CREATE TABLE \"Odd Schema\".\"Mixed T\" (\"Col A\" text, b int, c int)",
    )
    .await
    .unwrap();
    let table = "\"Odd Schema\".\"Mixed T\"";
    let sql = format!("INSERT INTO {table} (\"Col A\", b, c) VALUES ($2, $1, $1)");
    let insert = db.prepare(&sql).await.unwrap();
    insert
        .load_rows((0..1500).map(|i| (i, format!("a{i}"))))
        .await
        .unwrap();
    let right = db
        .query_first::<i64, _>(
            &format!("SELECT count(*) FROM {table} WHERE \"Col A\" = 'a' || b AND c = b"),
            (),
        )
        .await
        .unwrap();
    assert_eq!(right, 1500);
    assert!(commands(&db, table).await < 10);

    // statement_cache=off (a transaction pooler's mode) batches the same way.
    let iri = format!("{}&[statement_cache]=off", sandbox.iri());
    let params = Keywords::parse(&iri).unwrap().build().unwrap();
    let pooled = Connector::new(params).connect().await.unwrap();
    pooled.execute(&format!("TRUNCATE {table}")).await.unwrap();
    let insert = pooled.prepare(&sql).await.unwrap();
    insert
        .load_rows((0..1500).map(|i| (i, format!("a{i}"))))
        .await
        .unwrap();
    assert_eq!(count(&db, table).await, 1500);
    assert!(commands(&db, table).await < 10);
    // The statement itself still runs on its own afterwards.
    insert.call((7, "seven".to_owned())).await.unwrap();
    assert_eq!(count(&db, table).await, 1501);
}

#[tokio::test]
async fn wide_rows_stay_within_the_parameter_limit() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    // 1,000 columns: 65 rows a batch is all a Bind's 65,535 parameters allow.
    let columns: Vec<String> = (0..1000).map(|c| format!("c{c}")).collect();
    let definition: Vec<String> = columns.iter().map(|c| format!("{c} int")).collect();
    db.execute(&format!("CREATE TABLE wide ({})", definition.join(", ")))
        .await
        .unwrap();
    let placeholders: Vec<String> = (1..=1000).map(|p| format!("${p}")).collect();
    let insert = db
        .prepare(&format!(
            "INSERT INTO wide ({}) VALUES ({})",
            columns.join(", "),
            placeholders.join(", ")
        ))
        .await
        .unwrap();
    let values = (0..200).map(|r| {
        (0..1000)
            .map(|c| Value::Int4(r * 1000 + c))
            .collect::<Vec<_>>()
    });
    assert_eq!(insert.load_rows(values).await.unwrap(), 200);
    let total = db
        .query_first::<i64, _>("SELECT sum(c0 + c999) FROM wide", ())
        .await
        .unwrap();
    assert_eq!(total, (0..200i64).map(|r| 2 * r * 1000 + 999).sum::<i64>());
    let batches = commands(&db, "wide").await;
    assert!((2..10).contains(&batches), "{batches} commands");
}

#[tokio::test]
async fn values_sent_as_text_mix_with_binary_ones_in_a_batch() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE mixed (i int, j int, k numeric)")
        .await
        .unwrap();
    let insert = db
        .prepare("INSERT INTO mixed (i, j, k) VALUES ($1, $2, $3)")
        .await
        .unwrap();
    // Every other row's j travels in text form (a value of a type without a codec here),
    // so the batch's Bind carries a format code per parameter.
    let values = (0..600).map(|i| {
        let j = if i % 2 == 0 {
            Value::Unknown {
                type_oid: 23,
                text: Some((i * 2).to_string()),
                binary: None,
            }
        } else {
            Value::Int4(i * 2)
        };
        vec![
            Value::Int4(i),
            j,
            Value::Numeric(Decimal::new(i.into(), 1).into()),
        ]
    });
    assert_eq!(insert.load_rows(values).await.unwrap(), 600);
    let right = db
        .query_first::<i64, _>(
            "SELECT count(*) FROM mixed WHERE j = 2 * i AND k = i / 10.0",
            (),
        )
        .await
        .unwrap();
    assert_eq!(right, 600);
    assert!(commands(&db, "mixed").await < 10);
}

/// A database of the test's own, dropped at the end. A prepared statement's table can
/// change when PostgreSQL parses it again, which a new schema anywhere in the database makes
/// every session do (other tests' sandboxes): in a database of their own, the tests of which
/// table a load writes to see only what they do themselves.
struct OwnDatabase {
    name: String,
}

impl OwnDatabase {
    fn new() -> OwnDatabase {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("load_batch_{}_{n}", std::process::id());
        let sql = format!("CREATE DATABASE {}", pg_string::quote_ident(&name));
        common::temporal().admin_sql(&sql).unwrap();
        OwnDatabase { name }
    }

    async fn connect(&self) -> Connection {
        let keywords = Keywords::parse(common::temporal().iri()).unwrap();
        Connector::new(keywords.database(&self.name).build().unwrap())
            .connect()
            .await
            .unwrap()
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        let sql = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            pg_string::quote_ident(&self.name)
        );
        if let Err(e) = common::temporal().admin_sql(&sql) {
            eprintln!("could not drop {}: {e}", self.name);
        }
    }
}

/// Loads 100 rows, then 31, then runs the statement once, each time noting which of
/// `tables` (each `(i int)`) the rows went to; `None` for rows spread over several.
async fn destinations(
    db: &Connection,
    insert: &pg_driver::Statement,
    tables: &[&str],
) -> [Option<usize>; 3] {
    let mut went = [None; 3];
    for (step, rows) in [100, 31, 1].into_iter().enumerate() {
        let mut before = Vec::new();
        for table in tables {
            before.push(count(db, table).await);
        }
        match rows {
            1 => drop(insert.call((-1,)).await.unwrap()),
            n => assert_eq!(
                insert.load_rows((0..n).map(|i| (i,))).await.unwrap(),
                n as u64
            ),
        }
        let mut grown = Vec::new();
        for (index, table) in tables.iter().enumerate() {
            if count(db, table).await != before[index] {
                grown.push(index);
            }
        }
        went[step] = match grown.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
    }
    went
}

/// Finding 5: a batched load wrote to whatever the table's name meant when the load ran,
/// while the statement's own executions (`call`, row by row) wrote to the table it was
/// prepared against. Here a temporary table of the same name comes along after `prepare`.
#[tokio::test]
async fn a_temp_table_made_after_prepare_does_not_capture_batched_loads() {
    let own = OwnDatabase::new();
    let db = own.connect().await;
    db.execute("CREATE TEMP TABLE earlier (i int); CREATE TABLE public.t (i int)")
        .await
        .unwrap();
    let insert = db.prepare("INSERT INTO t (i) VALUES ($1)").await.unwrap();
    // pg_temp comes first in search_path: `t` now names the temporary table. The statement
    // is not parsed again (nothing it uses changed) and keeps public.t.
    db.execute("CREATE TEMP TABLE t (i int)").await.unwrap();
    let tables = ["public.t", "pg_temp.t"];
    assert_eq!(destinations(&db, &insert, &tables).await, [Some(0); 3]);

    // A session's first temporary table changes its search_path, which makes PostgreSQL
    // parse the statement again: then it writes to the temporary table, and so do loads.
    let db = own.connect().await;
    let insert = db.prepare("INSERT INTO t (i) VALUES ($1)").await.unwrap();
    db.execute("CREATE TEMP TABLE t (i int)").await.unwrap();
    assert_eq!(destinations(&db, &insert, &tables).await, [Some(1); 3]);
}

/// Finding 5, the other way a name changes its meaning: a table made after `prepare` in a
/// schema earlier in `search_path`.
#[tokio::test]
async fn a_table_made_after_prepare_earlier_in_search_path_does_not_capture_batched_loads() {
    let own = OwnDatabase::new();
    let db = own.connect().await;
    db.execute(
        "CREATE SCHEMA early; CREATE SCHEMA late; CREATE TABLE late.t (i int);
         SET search_path = early, late",
    )
    .await
    .unwrap();
    let insert = db.prepare("INSERT INTO t VALUES ($1)").await.unwrap();
    db.execute("CREATE TABLE early.t (i int)").await.unwrap();
    let tables = ["late.t", "early.t"];
    assert_eq!(destinations(&db, &insert, &tables).await, [Some(0); 3]);

    // Once something the statement uses changes, PostgreSQL parses it again, with the
    // search_path of the moment: it writes to early.t, and so do loads.
    db.execute("ALTER TABLE late.t ADD COLUMN j int")
        .await
        .unwrap();
    assert_eq!(destinations(&db, &insert, &tables).await, [Some(1); 3]);
    // A search_path of its own: parsed again, late.t.
    db.execute("SET search_path = late").await.unwrap();
    assert_eq!(destinations(&db, &insert, &tables).await, [Some(0); 3]);

    // Where the name means the prepared table again, loads go in batches.
    db.execute("DROP TABLE early.t; SET search_path = early, late; TRUNCATE late.t")
        .await
        .unwrap();
    assert_eq!(destinations(&db, &insert, &["late.t"]).await, [Some(0); 3]);
    assert!(commands(&db, "late.t").await < 40);
}

/// A statement whose table was dropped and made again still loads (row by row: the table
/// it was prepared against is gone, and the statement's own executions decide).
#[tokio::test]
async fn a_table_made_again_under_its_name_still_loads() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    let insert = db.prepare("INSERT INTO t VALUES ($1)").await.unwrap();
    db.execute("DROP TABLE t; CREATE TABLE t (i int)")
        .await
        .unwrap();
    assert_eq!(insert.load_rows((0..100).map(|i| (i,))).await.unwrap(), 100);
    assert_eq!(count(&db, "t").await, 100);
    // A statement opened by its name knows no table: row by row.
    db.execute("PREPARE by_name (int) AS INSERT INTO t VALUES ($1)")
        .await
        .unwrap();
    let by_name = db.statement_from_id("by_name").await.unwrap();
    db.execute("TRUNCATE t").await.unwrap();
    assert_eq!(
        by_name.load_rows((0..100).map(|i| (i,))).await.unwrap(),
        100
    );
    assert_eq!(commands(&db, "t").await, 100);
}

/// Preparing costs one round trip, INSERT or not; only an INSERT that may be batched sends
/// anything more (its table's lookup, in the same round trip).
#[tokio::test]
async fn prepare_stays_one_round_trip() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (syncs, parses) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (s, p) = (syncs.clone(), parses.clone());
    let plan: proxy::Plan = Arc::new(move |way, tag, _: &[u8]| {
        if way == proxy::Way::ToServer {
            match tag {
                b'S' => s.fetch_add(1, Ordering::SeqCst),
                b'P' => p.fetch_add(1, Ordering::SeqCst),
                _ => 0,
            };
        }
        proxy::Action::Forward
    });
    let t = common::temporal();
    let proxy =
        proxy::Proxy::start(format!("{}:{}", t.host(), t.port()).parse().unwrap(), plan).await;
    let iri = format!(
        "pq://{}@127.0.0.1:{}/{}?[sslmode]=disable",
        t.user(),
        proxy.port,
        t.database()
    );
    let db = Connector::new(Keywords::parse(&iri).unwrap().build().unwrap())
        .connect()
        .await
        .unwrap();
    db.execute("CREATE TEMP TABLE counted (i int, t text)")
        .await
        .unwrap();
    // Statements are kept: a dropped one's Close would count.
    let mut kept = Vec::new();
    let mut cost = async |sql: &str| {
        let before = (syncs.load(Ordering::SeqCst), parses.load(Ordering::SeqCst));
        kept.push(db.prepare(sql).await.unwrap());
        (
            syncs.load(Ordering::SeqCst) - before.0,
            parses.load(Ordering::SeqCst) - before.1,
        )
    };
    assert_eq!(cost("SELECT $1::int4, 'x'::text").await, (1, 1));
    assert_eq!(cost("UPDATE counted SET i = $1").await, (1, 1));
    assert_eq!(cost("INSERT INTO counted SELECT $1").await, (1, 1));
    assert_eq!(cost("INSERT INTO counted VALUES ($1, $2)").await, (1, 2));
    drop(kept);
    // The query interface's statements run once, never loaded: nothing is looked up.
    let before = parses.load(Ordering::SeqCst);
    db.query("INSERT INTO counted VALUES ($1, $2)", (1, "one".to_owned()))
        .await
        .unwrap();
    assert_eq!(parses.load(Ordering::SeqCst) - before, 1);
}

/// The context layer that names the row of a load an error happened in.
fn row_of(error: &pg_exceptions::Error) -> Option<&str> {
    error
        .contexts()
        .iter()
        .find(|c| c.label() == "row")
        .map(|c| c.text())
}

/// Whether `report` names parameter `$2` (and not `$20`, …).
fn names_second_parameter(report: &str) -> bool {
    report
        .match_indices("parameter $2")
        .any(|(at, m)| !report[at + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// Loads of 100 rows (batched, then row by row: the same errors either way) where row 57's
/// second value fails, on the client and on the server.
async fn row_57_fails(db: &Connection, how: &str) {
    db.execute("DROP TABLE IF EXISTS r57; CREATE TABLE r57 (i int, t text, j int)")
        .await
        .unwrap();
    let insert = db
        .prepare("INSERT INTO r57 (i, t) VALUES ($1, $2)")
        .await
        .unwrap();
    // On the client: text cannot hold NUL.
    let values = (0..100).map(|i| (i, if i == 57 { "a\0b" } else { "ok" }.to_owned()));
    let error = insert.load_rows(values).await.unwrap_err();
    assert!(error.is_a(&ParameterError), "{how}: {error}");
    let report = format!("{error:#}");
    assert!(names_second_parameter(&report), "{how}: {report}");
    assert_eq!(row_of(&error), Some("57"), "{how}: {report}");

    // On the server: a value sent as text that the server's input function refuses.
    let insert = db
        .prepare("INSERT INTO r57 (t, i) VALUES ($1, $2)")
        .await
        .unwrap();
    let values = (0..100).map(|i| {
        let j = if i == 57 {
            "99999999999".to_owned()
        } else {
            i.to_string()
        };
        vec![
            Value::Text(format!("row {i}")),
            Value::Unknown {
                type_oid: 23,
                text: Some(j),
                binary: None,
            },
        ]
    });
    let error = insert.load_rows(values).await.unwrap_err();
    let report = format!("{error:#}");
    assert_eq!(error.code(), "22003", "{how}: {report}");
    assert!(names_second_parameter(&report), "{how}: {report}");
    assert!(!report.contains("$116"), "{how}: {report}");
    assert_eq!(row_of(&error), Some("57"), "{how}: {report}");
    assert_eq!(count(db, "r57").await, 0);
}

/// Finding 9: an error in a batched load named the batch's parameter (`$116`: row 57's
/// second of the batch's), not the statement's (`$2`), and no row.
#[tokio::test]
async fn a_batched_load_error_names_the_users_parameter_and_its_row() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    row_57_fails(&db, "batched").await;
}

/// Row-by-row loads name the row as well.
#[tokio::test]
async fn a_row_by_row_load_error_names_its_row() {
    let sandbox = common::temporal().sandbox().unwrap();
    let iri = format!("{}&[batch_inserts]=off", sandbox.iri());
    let params = Keywords::parse(&iri).unwrap().build().unwrap();
    let db = Connector::new(params).connect().await.unwrap();
    row_57_fails(&db, "batch_inserts=off").await;
    // A short load, row by row whatever the settings.
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE short (i int)").await.unwrap();
    let insert = db.prepare("INSERT INTO short VALUES ($1)").await.unwrap();
    let values = (0..20).map(|i| {
        vec![Value::Unknown {
            type_oid: 23,
            text: Some(if i == 17 { "x".into() } else { i.to_string() }),
            binary: None,
        }]
    });
    let error = insert.load_rows(values).await.unwrap_err();
    assert_eq!(row_of(&error), Some("17"), "{error}");
}
