//! `load_rows` runs a plain `INSERT … VALUES ($1, …)` as INSERTs of many rows each, only where
//! that changes nothing but speed. Which way a load went is read from the rows themselves:
//! `cmin` is the command (within its transaction) that inserted a row, and a load is one
//! transaction, so row by row gives every row its own and batches share one per batch.

mod common;

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
