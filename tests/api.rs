//! The pg-api contracts, used generically against the driver's implementation.

mod common;

use pg_api::{Connection, Cursor, Database, Settings, Statement, StoredProcedure, Transaction};
use pg_api::{Direction, Whence};
use std::time::Duration;

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

/// The whole object model through pg-api's [`Database`] alone: statements (prepared and
/// by name), cursors (declared and by name), procedures (by position and by name),
/// transactions, settings, LISTEN / NOTIFY, DO. `D` is the async driver or the blocking
/// facade.
async fn object_model<D: Database>(db: &D) -> Result<(), pg_exceptions::Error>
where
    <D::StoredProcedure as StoredProcedure>::Output: std::fmt::Debug,
{
    use pg_api::{Notifications, NotifyEvent};

    assert!(db.version().await?.starts_with("PostgreSQL "));
    db.execute("CREATE TABLE model (i int)").await?;
    let insert = db.prepare("INSERT INTO model VALUES ($1)").await?;
    assert_eq!(insert.load_rows((1..=5).map(|i: i32| (i,))).await?, 5);
    let ints = |rows: Vec<pg_types::Row>| rows.iter().map(|r| r.get::<i32>(0)).collect::<Vec<_>>();
    let all = db.prepare("SELECT i FROM model ORDER BY i").await?;
    assert_eq!(ints(all.rows_of(()).await?), [1, 2, 3, 4, 5]);

    // By name: a statement prepared in SQL, a cursor declared in SQL.
    db.execute("PREPARE model_q AS SELECT i * 10 FROM model ORDER BY i")
        .await?;
    let named = db.statement_from_id("model_q").await?;
    assert_eq!(named.statement_id(), "model_q");
    assert_eq!(ints(named.rows_of(()).await?), [10, 20, 30, 40, 50]);
    db.execute("DECLARE model_c SCROLL CURSOR WITH HOLD FOR SELECT i FROM model ORDER BY i")
        .await?;
    let by_name = db.cursor_from_id("model_c").await?;
    assert_eq!(by_name.seek(2, Whence::Absolute).await?, 1);
    assert_eq!(ints(by_name.read(Some(2), None).await?), [3, 4]);
    by_name.close().await?;
    let declared = all.declare(()).await?;
    assert_eq!(
        ints(declared.read(Some(2), Some(Direction::Forward)).await?),
        [1, 2]
    );

    // Procedures, by position and by name.
    let abs = db.proc("abs(integer)").await?;
    let got = format!("{:?}", abs.call((-3i32,)).await?);
    assert!(got.contains("Int4(3)"), "{got}");
    db.execute("CREATE FUNCTION model_twice(n int, factor int DEFAULT 2) RETURNS int LANGUAGE sql AS 'SELECT n * factor'")
        .await?;
    let twice = db.proc("model_twice(int,int)").await?;
    let got = format!("{:?}", twice.call_named((), &[("n", &21i32)]).await?);
    assert!(got.contains("Int4(42)"), "{got}");

    // Transactions: a rolled-back block leaves nothing; characteristics reach the server.
    let x = db.xact(None, None);
    x.start().await?;
    db.execute("INSERT INTO model VALUES (6)").await?;
    x.rollback().await?;
    assert_eq!(all.rows_of(()).await?.len(), 5);
    let x = db.xact(Some("serializable"), Some("read only"));
    x.start().await?;
    let shown = db
        .prepare("SELECT current_setting('transaction_isolation')")
        .await?;
    assert_eq!(shown.rows_of(()).await?[0].get::<String>(0), "serializable");
    let refused = db.execute("INSERT INTO model VALUES (7)").await;
    assert!(refused.is_err());
    x.rollback().await?;

    // Settings.
    let settings = db.settings();
    settings.set("application_name", "model").await?;
    assert_eq!(
        settings.get("application_name").await?.as_deref(),
        Some("model")
    );
    assert_eq!(
        settings.reported("application_name").as_deref(),
        Some("model")
    );
    assert!(settings.contains("work_mem").await?);
    assert!(!settings.contains("no_such_setting").await?);

    // LISTEN / NOTIFY.
    // A channel of this session's own: channels are the database's, and tests run side by side.
    let channel = format!("model channel {}", db.backend_id().unwrap_or(0));
    let channel = channel.as_str();
    db.listen(&[channel]).await?;
    db.notify(&[(channel, "hello"), (channel, "again")]).await?;
    let mut events = db.iternotifies(Some(Duration::ZERO))?;
    let mut heard = Vec::new();
    while let Some(event) = events.next_event().await {
        if let NotifyEvent::Notification(n) = event {
            assert_eq!(Some(n.pid), db.backend_id());
            heard.push((n.channel, n.payload));
        }
    }
    assert_eq!(
        heard,
        [
            (channel.to_owned(), "hello".to_owned()),
            (channel.to_owned(), "again".to_owned())
        ]
    );
    db.unlisten(&[channel]).await?;
    db.notify(&[(channel, "unheard")]).await?;
    let mut events = db.iternotifies(Some(Duration::ZERO))?;
    while let Some(event) = events.next_event().await {
        assert!(!matches!(event, NotifyEvent::Notification(_)), "{event:?}");
    }

    // DO.
    db.do_("plpgsql", "BEGIN INSERT INTO model VALUES (100); END")
        .await?;
    assert_eq!(ints(all.rows_of(()).await?).last(), Some(&100));
    Ok(())
}

#[tokio::test]
async fn the_async_driver_serves_the_whole_object_model_through_the_traits() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    object_model(&db).await.unwrap();
}

#[test]
fn the_blocking_facade_serves_the_whole_object_model_through_the_traits() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    // The blocking facade's futures are ready when first polled: any executor outside a
    // tokio runtime drives them.
    futures::executor::block_on(object_model(&db)).unwrap();
}
