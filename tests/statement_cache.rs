//! The session's statement cache (`prepare_cached`, `query_cached`) against a real server:
//! reuse, staleness recovered outside transactions, reset, eviction.

mod common;

use pg_driver::{Connection, STATEMENT_CACHE_CAPACITY};
use pg_exceptions::InFailedTransactionError;

/// The names of the session's prepared statements, as the server lists them.
async fn server_statements(db: &Connection) -> Vec<String> {
    db.query(
        "SELECT name FROM pg_catalog.pg_prepared_statements ORDER BY name",
        (),
    )
    .await
    .unwrap()
    .rows
    .iter()
    .map(|row| row.try_get::<String>("name").unwrap())
    .collect()
}

#[tokio::test]
async fn a_cached_statement_is_prepared_once_and_reused() {
    let db = common::connect().await;
    let first = db.prepare_cached("SELECT $1::int4 + 1").await.unwrap();
    let again = db.prepare_cached("SELECT $1::int4 + 1").await.unwrap();
    assert!(first.is_cached() && !first.is_owned());
    assert_eq!(first.statement_id(), again.statement_id());
    assert_eq!(db.cached_statements(), 1);
    assert!(
        server_statements(&db)
            .await
            .contains(&first.statement_id().to_owned())
    );

    let results = db.query_cached("SELECT $1::int4 + 1", (41,)).await.unwrap();
    assert_eq!(results.rows[0].try_get::<i32>(0).unwrap(), 42);
    assert_eq!(db.cached_statements(), 1);

    // Handles going away do not close a cached statement; leaving the cache does, once the
    // last handle is gone.
    let name = first.statement_id().to_owned();
    drop((first, again));
    assert!(server_statements(&db).await.contains(&name));
    let held = db.prepare_cached("SELECT $1::int4 + 1").await.unwrap();
    db.uncache("SELECT $1::int4 + 1");
    assert_eq!(db.cached_statements(), 0);
    assert_eq!(
        held.first::<i32, _>((1,)).await.unwrap(),
        2,
        "a held handle still works"
    );
    drop(held);
    assert!(!server_statements(&db).await.contains(&name));
}

#[tokio::test]
async fn a_statement_deallocated_by_sql_is_prepared_again() {
    let db = common::connect().await;
    assert_eq!(
        db.query_cached("SELECT $1::text || '!'", ("a",))
            .await
            .unwrap()
            .rows[0]
            .try_get::<String>(0)
            .unwrap(),
        "a!"
    );
    db.execute("DEALLOCATE ALL").await.unwrap();
    // The cache still names the statement; the server no longer has it.
    assert_eq!(db.cached_statements(), 1);
    let results = db
        .query_cached("SELECT $1::text || '!'", ("b",))
        .await
        .unwrap();
    assert_eq!(results.rows[0].try_get::<String>(0).unwrap(), "b!");
    assert_eq!(
        server_statements(&db).await.len(),
        2,
        "the retry and the listing"
    );
}

#[tokio::test]
async fn a_changed_row_type_is_prepared_again_outside_a_transaction_only() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (a int); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let rows = db.query_cached("SELECT * FROM t", ()).await.unwrap().rows;
    assert_eq!(rows[0].len(), 1);

    db.execute("ALTER TABLE t ADD COLUMN b text DEFAULT 'x'")
        .await
        .unwrap();
    let rows = db.query_cached("SELECT * FROM t", ()).await.unwrap().rows;
    assert_eq!(rows[0].len(), 2, "prepared again with the new columns");
    assert_eq!(rows[0].try_get::<String>("b").unwrap(), "x");

    // Inside a transaction block the failed execution has failed the block: no retry.
    db.execute("ALTER TABLE t ADD COLUMN c int").await.unwrap();
    db.execute("BEGIN").await.unwrap();
    let error = db.query_cached("SELECT * FROM t", ()).await.unwrap_err();
    assert_eq!(error.code(), "0A000", "{error}");
    let after = db.query_cached("SELECT 1", ()).await.unwrap_err();
    assert!(after.is_a(&InFailedTransactionError), "{after}");
    db.execute("ROLLBACK").await.unwrap();
    let rows = db.query_cached("SELECT * FROM t", ()).await.unwrap().rows;
    assert_eq!(rows[0].len(), 3);
}

#[tokio::test]
async fn reset_empties_the_cache() {
    let db = common::connect().await;
    db.query_cached("SELECT 1", ()).await.unwrap();
    db.query_cached("SELECT 2", ()).await.unwrap();
    assert_eq!(db.cached_statements(), 2);
    db.reset().await.unwrap();
    assert_eq!(db.cached_statements(), 0);
    assert_eq!(
        db.query_cached("SELECT 2", ()).await.unwrap().rows[0]
            .try_get::<i32>(0)
            .unwrap(),
        2
    );
    assert_eq!(db.cached_statements(), 1);
}

#[tokio::test]
async fn the_cache_evicts_the_least_recently_used_and_closes_it() {
    let db = common::connect().await;
    let sql = |i: usize| format!("SELECT {i} AS n");
    let mut names = Vec::new();
    for i in 0..STATEMENT_CACHE_CAPACITY {
        let statement = db.prepare_cached(&sql(i)).await.unwrap();
        names.push(statement.statement_id().to_owned());
    }
    let (first, second) = (names[0].clone(), names[1].clone());
    // Statement 0 is used again: statement 1 is now the least recently used.
    db.query_cached(&sql(0), ()).await.unwrap();
    assert_eq!(db.cached_statements(), STATEMENT_CACHE_CAPACITY);

    db.query_cached(&sql(STATEMENT_CACHE_CAPACITY), ())
        .await
        .unwrap();
    assert_eq!(db.cached_statements(), STATEMENT_CACHE_CAPACITY);
    let names = server_statements(&db).await;
    assert!(names.contains(&first), "the recently used one stays");
    assert!(
        !names.contains(&second),
        "the least recently used one is closed"
    );
    // The listing's own statement is the one beyond the cache's.
    assert_eq!(names.len(), STATEMENT_CACHE_CAPACITY + 1);
}

#[test]
fn the_blocking_facade_caches_too() {
    let db = pg_driver::blocking::Connector::from(common::connector())
        .connect()
        .unwrap();
    let a = db.prepare_cached("SELECT $1::int8 * 2").unwrap();
    let b = db.prepare_cached("SELECT $1::int8 * 2").unwrap();
    assert_eq!(a.statement_id(), b.statement_id());
    assert_eq!(
        db.query_cached("SELECT $1::int8 * 2", (21i64,))
            .unwrap()
            .rows[0]
            .try_get::<i64>(0)
            .unwrap(),
        42
    );
    assert_eq!(db.cached_statements(), 1);
    db.uncache("SELECT $1::int8 * 2");
    assert_eq!(db.cached_statements(), 0);
}
