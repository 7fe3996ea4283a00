//! Prepared statements against a real server: metadata, every execution method, errors.

mod common;

use futures::StreamExt;
use pg_driver::{First, Statement};
use pg_exceptions::{
    ParameterError, SyntaxError, TypeMismatchError, UndefinedColumnError, UndefinedTableError,
    UniqueError, ZeroDivisionError,
};
use pg_types::Value;

async fn table(db: &pg_driver::Connection) {
    db.execute(
        "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2));
         INSERT INTO items SELECT i, 'item ' || i, i * 1.5 FROM generate_series(1, 100) i",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn metadata_describes_parameters_and_columns() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    table(&db).await;
    let ps = db
        .prepare("SELECT id, name, price, ARRAY[id] AS ids FROM items WHERE id = $1 AND name <> $2")
        .await
        .unwrap();
    assert_eq!(ps.column_names(), ["id", "name", "price", "ids"]);
    assert_eq!(ps.pg_column_types(), [23, 25, 1700, 1007]);
    assert_eq!(
        ps.sql_column_types(),
        ["INTEGER", "pg_catalog.text", "NUMERIC", "INTEGER[]"]
    );
    assert_eq!(ps.pg_parameter_types(), [23, 25]);
    assert_eq!(ps.sql_parameter_types(), ["INTEGER", "pg_catalog.text"]);
    assert_eq!(ps.parameter_types()[0], postgres_types::Type::INT4);
    assert!(ps.statement_id().starts_with("pg_api_s"));
    assert!(ps.string().starts_with("SELECT id, name"));
    let varchar = db.prepare("SELECT 'x'::varchar(3) AS v").await.unwrap();
    assert_eq!(varchar.sql_column_types(), ["CHARACTER VARYING"]);
}

#[tokio::test]
async fn call_returns_rows_or_the_command_and_count() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    table(&db).await;
    let select = db
        .prepare("SELECT id, name FROM items WHERE id <= $1 ORDER BY id")
        .await
        .unwrap();
    let results = select.call((3i32,)).await.unwrap();
    assert_eq!(results.rows.len(), 3);
    assert_eq!(
        (results.command.as_str(), results.count),
        ("SELECT", Some(3))
    );
    assert_eq!(results.rows[2], (3i32, "item 3"));
    assert_eq!(results.rows[0].get::<String>("name"), "item 1");
    let update = db
        .prepare("UPDATE items SET name = name || '!' WHERE id > $1")
        .await
        .unwrap();
    let results = update.call((90i32,)).await.unwrap();
    assert!(results.rows.is_empty());
    assert_eq!(
        (results.command.as_str(), results.count),
        ("UPDATE", Some(10))
    );
    let insert = db
        .prepare("INSERT INTO items VALUES ($1, $2, NULL)")
        .await
        .unwrap();
    let results = insert
        .call(&[&1000i32 as &(dyn postgres_types::ToSql + Sync), &"new"])
        .await;
    assert_eq!(results.unwrap().count, Some(1));
}

#[tokio::test]
async fn first_follows_py_postgresql_rules() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    table(&db).await;
    let one = db
        .prepare("SELECT name FROM items WHERE id = $1")
        .await
        .unwrap();
    match one.first::<First, _>((7i32,)).await.unwrap() {
        First::Value(value) => assert_eq!(value, Value::Text("item 7".into())),
        other => panic!("a value, not {other:?}"),
    }
    assert!(matches!(
        one.first::<First, _>((7000i32,)).await.unwrap(),
        First::None
    ));
    let several = db
        .prepare("SELECT id, name FROM items WHERE id = $1")
        .await
        .unwrap();
    match several.first::<First, _>((8i32,)).await.unwrap() {
        First::Row(row) => assert_eq!(row, (8i32, "item 8")),
        other => panic!("a row, not {other:?}"),
    }
    let dml = db.prepare("DELETE FROM items WHERE id > $1").await.unwrap();
    assert!(matches!(
        dml.first::<First, _>((95i32,)).await.unwrap(),
        First::Count(5)
    ));
    let ddl = db.prepare("CREATE TABLE other (i int)").await.unwrap();
    match ddl.first::<First, _>(()).await.unwrap() {
        First::Command(command) => assert_eq!(command, "CREATE TABLE"),
        other => panic!("a command, not {other:?}"),
    }
    // Typed.
    assert_eq!(one.first::<String, _>((9i32,)).await.unwrap(), "item 9");
    assert_eq!(
        one.first::<Option<String>, _>((9000i32,)).await.unwrap(),
        None
    );
    assert!(one.first::<String, _>((9000i32,)).await.is_err());
    let count = db
        .prepare("UPDATE items SET price = 0 WHERE id <= $1")
        .await
        .unwrap();
    assert_eq!(count.first::<i64, _>((4i32,)).await.unwrap(), 4);
    let total = db
        .query_first::<i64, _>("SELECT count(*) FROM items", ())
        .await
        .unwrap();
    assert_eq!(total, 95);
}

#[tokio::test]
async fn rows_chunks_and_column_stream_every_row() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT i, i::text AS t FROM generate_series(1, $1) i")
        .await
        .unwrap();
    let rows: Vec<_> = ps.rows((20000i32,)).unwrap().collect().await;
    assert_eq!(rows.len(), 20000);
    assert_eq!(rows[19999].as_ref().unwrap(), &(20000i32, "20000"));
    let mut seen = 0;
    let mut chunks = ps.chunks((20000i32,)).unwrap();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.unwrap();
        assert!(!chunk.is_empty() && chunk.len() <= pg_driver::CHUNK_ROWS);
        for row in chunk {
            seen += 1;
            assert_eq!(row.get::<i32>(0), seen);
        }
    }
    assert_eq!(seen, 20000);
    let column: Vec<Value> = ps
        .column((3i32,))
        .unwrap()
        .map(|v| v.unwrap())
        .collect()
        .await;
    assert_eq!(column, [Value::Int4(1), Value::Int4(2), Value::Int4(3)]);
    let empty: Vec<_> = ps.rows((0i32,)).unwrap().collect().await;
    assert!(empty.is_empty());
}

#[tokio::test]
async fn a_stream_survives_other_statements_mid_stream() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT i FROM generate_series(1, 50000) i")
        .await
        .unwrap();
    let mut rows = ps.rows(()).unwrap();
    let mut expected = 1;
    for _ in 0..10 {
        assert_eq!(rows.next().await.unwrap().unwrap().get::<i32>(0), expected);
        expected += 1;
    }
    // Another statement on the same connection while the stream is open.
    assert_eq!(db.query_first::<i32, _>("SELECT 42", ()).await.unwrap(), 42);
    let other = db.prepare("SELECT $1::text").await.unwrap();
    assert_eq!(other.first::<String, _>(("mid",)).await.unwrap(), "mid");
    while let Some(row) = rows.next().await {
        assert_eq!(row.unwrap().get::<i32>(0), expected);
        expected += 1;
    }
    assert_eq!(expected, 50001);
}

#[tokio::test]
async fn dropping_a_stream_early_leaves_the_connection_usable() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT i FROM generate_series(1, 200000) i")
        .await
        .unwrap();
    let mut rows = ps.rows(()).unwrap();
    rows.next().await.unwrap().unwrap();
    drop(rows);
    assert_eq!(
        db.query_first::<String, _>("SELECT 'after'", ())
            .await
            .unwrap(),
        "after"
    );
}

#[tokio::test]
async fn load_rows_is_pipelined_and_all_or_nothing() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE loaded (i int PRIMARY KEY, t text)")
        .await
        .unwrap();
    let insert = db
        .prepare("INSERT INTO loaded VALUES ($1, $2)")
        .await
        .unwrap();
    let count = insert
        .load_rows((0..10000).map(|i| (i, format!("row {i}"))))
        .await
        .unwrap();
    assert_eq!(count, 10000);
    let total = db
        .query_first::<i64, _>("SELECT count(*) FROM loaded", ())
        .await
        .unwrap();
    assert_eq!(total, 10000);
    // A duplicate in the middle: the server's error, and nothing of this load stays.
    let error = insert
        .load_rows((20000..30000).map(|i| (if i == 25000 { 5 } else { i }, "x".to_owned())))
        .await
        .unwrap_err();
    assert!(error.is_a(&UniqueError), "{error}");
    let total = db
        .query_first::<i64, _>("SELECT count(*) FROM loaded", ())
        .await
        .unwrap();
    assert_eq!(total, 10000);
    // A parameter set that cannot be encoded stops the load the same way.
    let values = (40000..40100).map(|i| {
        vec![
            if i == 40050 {
                Value::Text("not an int".into())
            } else {
                Value::Int4(i)
            },
            Value::Null,
        ]
    });
    let error = insert.load_rows(values).await.unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    let total = db
        .query_first::<i64, _>("SELECT count(*) FROM loaded", ())
        .await
        .unwrap();
    assert_eq!(total, 10000);
    // Chunks of parameter sets.
    let chunks = (0..10).map(|c| (0..100).map(move |i| (50000 + c * 100 + i, "c".to_owned())));
    assert_eq!(insert.load_chunks(chunks).await.unwrap(), 1000);
    assert_eq!(
        db.query_load_rows("DELETE FROM loaded WHERE i = $1", [(1i32,), (2,)])
            .await
            .unwrap(),
        2
    );
    // The connection is in a clean state after all that.
    assert_eq!(db.transaction_status(), pg_driver::TransactionStatus::Idle);
}

#[tokio::test]
async fn wrong_parameters_are_refused_before_anything_runs() {
    let db = common::connect().await;
    let ps = db.prepare("SELECT $1::int4 + $2::int4").await.unwrap();
    let error = ps.call((1i32,)).await.unwrap_err();
    assert!(error.is_a(&ParameterError));
    assert!(
        error.message().contains("takes 2 parameters, 1 were given"),
        "{error}"
    );
    let error = ps.call((1i32, "two")).await.unwrap_err();
    assert!(error.is_a(&ParameterError));
    assert!(
        error.message().contains("$2") && error.message().contains("int4"),
        "{error}"
    );
    let error = ps
        .call(vec![Value::Int4(1), Value::Int8(1 << 40)])
        .await
        .unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    assert_eq!(ps.first::<i32, _>((1i32, 2i32)).await.unwrap(), 3);
    let nul = ps.call(vec![Value::Int4(1), Value::Int4(2)]).await.unwrap();
    assert_eq!(nul.rows[0].get::<i32>(0), 3);
}

#[tokio::test]
async fn server_errors_map_to_their_classes() {
    let db = common::connect().await;
    let cases: [(&str, &pg_exceptions::ErrorClass); 4] = [
        ("SELEC 1", &SyntaxError),
        ("SELECT * FROM no_such_table", &UndefinedTableError),
        ("SELECT no_such_column FROM pg_class", &UndefinedColumnError),
        (
            "SELECT 1 WHERE 'a'::text = 1::int",
            &pg_exceptions::UndefinedFunctionError,
        ),
    ];
    for (sql, class) in cases {
        let error = db.prepare(sql).await.unwrap_err();
        assert!(error.is_a(class), "{sql}: {error}");
        assert_eq!(error.statement(), Some(sql));
    }
    db.execute("CREATE TEMP TABLE typed (i int)").await.unwrap();
    let error = db
        .prepare("INSERT INTO typed VALUES (now())")
        .await
        .unwrap_err();
    assert!(error.is_a(&TypeMismatchError), "{error}");
    let divide = db.prepare("SELECT 1 / $1::int").await.unwrap();
    let error = divide.call((0i32,)).await.unwrap_err();
    assert!(error.is_a(&ZeroDivisionError), "{error}");
    assert_eq!(divide.first::<i32, _>((1i32,)).await.unwrap(), 1);
}

#[tokio::test]
async fn statements_close_and_come_from_ids() {
    let db = common::connect().await;
    db.execute("PREPARE by_sql(int) AS SELECT $1 * 10")
        .await
        .unwrap();
    let named: Statement = db.statement_from_id("by_sql").await.unwrap();
    assert!(!named.is_owned());
    assert_eq!(named.string(), "PREPARE by_sql(int) AS SELECT $1 * 10");
    assert_eq!(named.first::<i32, _>((4i32,)).await.unwrap(), 40);
    drop(named);
    // Dropping a statement from an id leaves it on the server.
    let again = db.statement_from_id("by_sql").await.unwrap();
    assert_eq!(again.first::<i32, _>((5i32,)).await.unwrap(), 50);

    let ps = db.prepare("SELECT 1").await.unwrap();
    let name = ps.statement_id().to_owned();
    let listed = format!("SELECT count(*) FROM pg_prepared_statements WHERE name = '{name}'");
    assert_eq!(db.query_first::<i64, _>(&listed, ()).await.unwrap(), 1);
    let clone = ps.clone_statement().await.unwrap();
    assert_ne!(clone.statement_id(), name);
    ps.close().await.unwrap();
    assert!(ps.call(()).await.is_err());
    assert_eq!(db.query_first::<i64, _>(&listed, ()).await.unwrap(), 0);
    // Dropping a prepared statement closes it on the server.
    let clone_name = clone.statement_id().to_owned();
    drop(clone);
    let listed = format!("SELECT count(*) FROM pg_prepared_statements WHERE name = '{clone_name}'");
    assert_eq!(db.query_first::<i64, _>(&listed, ()).await.unwrap(), 0);
}

#[tokio::test]
async fn statement_hooks_come_first() {
    use std::sync::{Arc, Mutex};
    let db = common::connect().await;
    // The driver lowers client_min_messages to WARNING (py-postgresql's default); notices wanted.
    db.execute("SET client_min_messages = notice")
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let ps = db
        .prepare("SELECT pg_catalog.set_config('client_min_messages', 'notice', true), 1")
        .await
        .unwrap();
    let raise = db
        .prepare("DO $$ BEGIN RAISE NOTICE 'from the statement'; END $$")
        .await
        .unwrap();
    let log = seen.clone();
    raise.set_message_hook(Some(Arc::new(move |m: &pg_exceptions::Message| {
        log.lock()
            .unwrap()
            .push(format!("statement: {}", m.message()));
        true
    })));
    let log = seen.clone();
    db.set_message_hook(Some(Arc::new(move |m: &pg_exceptions::Message| {
        log.lock()
            .unwrap()
            .push(format!("connection: {}", m.message()));
        true
    })));
    ps.call(()).await.unwrap();
    raise.call(()).await.unwrap();
    db.do_("plpgsql", "BEGIN RAISE NOTICE 'from the connection'; END")
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "statement: from the statement",
            "connection: from the connection"
        ]
    );
}

#[test]
fn the_blocking_facade_runs_statements() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute("CREATE TABLE b (i int, t text)").unwrap();
    let insert = db.prepare("INSERT INTO b VALUES ($1, $2)").unwrap();
    assert_eq!(
        insert
            .load_rows((1..=100).map(|i| (i, i.to_string())))
            .unwrap(),
        100
    );
    let select = db
        .prepare("SELECT i, t FROM b WHERE i <= $1 ORDER BY i")
        .unwrap();
    assert_eq!(select.call((3i32,)).unwrap().rows.len(), 3);
    assert!(matches!(
        select.first_value((1i32,)).unwrap(),
        First::Row(_)
    ));
    let rows: Vec<_> = select
        .rows((100i32,))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 100);
    assert_eq!(rows[99], (100i32, "100"));
    let chunks: usize = select
        .chunks((100i32,))
        .unwrap()
        .map(|c| c.unwrap().len())
        .sum();
    assert_eq!(chunks, 100);
    let column: Vec<Value> = select
        .column((2i32,))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(column, [Value::Int4(1), Value::Int4(2)]);
    assert_eq!(
        db.query_first::<i64, _>("SELECT sum(i) FROM b", ())
            .unwrap(),
        5050
    );
    assert_eq!(db.query("DELETE FROM b", ()).unwrap().count, Some(100));
}

#[tokio::test]
async fn composites_from_rows_and_maps() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TYPE pair AS (a int, b text, c numeric)")
        .await
        .unwrap();
    let ps = db
        .prepare("SELECT ($1::pair).a, ($1::pair).b, ($1::pair).c IS NULL")
        .await
        .unwrap();
    // A map gives attributes by name; the ones it lacks are NULL.
    let mut map = indexmap::IndexMap::new();
    map.insert("b".to_owned(), Value::from("bee"));
    map.insert("a".to_owned(), Value::from(7i32));
    let row = ps
        .call(vec![Value::from(map)])
        .await
        .unwrap()
        .rows
        .remove(0);
    assert_eq!(row, (7i32, "bee", true));
    // A composite read from the server goes back in as it came.
    let pair = db
        .query_first::<Value, _>("SELECT ROW(1, 'one', 1.5)::pair", ())
        .await
        .unwrap();
    let row = ps.call(vec![pair]).await.unwrap().rows.remove(0);
    assert_eq!(row, (1i32, "one", false));
    // A map naming an attribute the type lacks is refused as a parameter error.
    let mut wrong = indexmap::IndexMap::new();
    wrong.insert("zzz".to_owned(), Value::from(1i32));
    let error = ps.call(vec![Value::from(wrong)]).await.unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
}
