//! The pg-api contracts, used generically against the driver's implementation.

mod common;

use pg_api::{Connection, Cursor, Database, Settings, Statement, StoredProcedure, Transaction};
use pg_api::{Direction, Whence};

async fn count_through<C: Connection>(db: &C) -> Result<(), pg_exceptions::Error> {
    db.execute("CREATE TEMP TABLE generic (i int)").await?;
    db.execute("INSERT INTO generic SELECT generate_series(1, 10)")
        .await
}

async fn scroll<S: Statement>(ps: &S) -> Result<Vec<i32>, pg_exceptions::Error> {
    let cursor = ps.declare(()).await?;
    cursor.set_direction(Direction::Backward);
    assert_eq!(cursor.seek(0, Whence::Absolute).await?, 0);
    let rows = cursor.read(Some(3), None).await?;
    cursor.close().await?;
    Ok(rows.iter().map(|r| r.get::<i32>(0)).collect())
}

async fn in_block<T: Transaction>(x: &T) -> Result<(), pg_exceptions::Error> {
    x.start().await?;
    assert_eq!(x.is_savepoint(), Some(false));
    x.rollback().await
}

async fn app_name<S: Settings>(settings: &S) -> Result<Option<String>, pg_exceptions::Error> {
    settings.set("application_name", "generic").await?;
    assert_eq!(
        settings.reported("application_name").as_deref(),
        Some("generic")
    );
    settings.get("application_name").await
}

#[tokio::test]
async fn the_driver_fulfils_the_contracts() {
    let db = common::connect().await;
    count_through(&db).await.unwrap();
    assert!(!Connection::closed(&db));
    assert!(Database::backend_id(&db).is_some());
    let ps = db
        .prepare("SELECT i FROM generic ORDER BY i")
        .await
        .unwrap();
    assert_eq!(Statement::pg_column_types(&ps), [23]);
    assert_eq!(ps.rows_of(()).await.unwrap().len(), 10);
    // Backward from the start: the cursor reads from the end, as if the rows were reversed.
    assert_eq!(scroll(&ps).await.unwrap(), [10, 9, 8]);
    in_block(&db.xact()).await.unwrap();
    assert_eq!(
        app_name(&db.settings()).await.unwrap().as_deref(),
        Some("generic")
    );
    let proc = db.proc("abs(integer)").await.unwrap();
    assert!(!StoredProcedure::srf(&proc));
    assert_eq!(
        StoredProcedure::input_types(&proc),
        [postgres_types::Type::INT4]
    );
    match StoredProcedure::call(&proc, (-5i32,)).await.unwrap() {
        pg_driver::ProcResult::Value(value) => assert_eq!(value, pg_types::Value::Int4(5)),
        other => panic!("a value, not {other:?}"),
    }
}
