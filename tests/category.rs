//! Categories (py-postgresql's `Category`): what initialises every new connection for a
//! purpose, run before the connection is handed out, able to fail the connect.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pg_driver::{Category, Connection, Connector};

/// A category that sets the search path and application name, counting its runs.
fn reporting(runs: &Arc<AtomicUsize>, app: &'static str) -> Arc<dyn Category> {
    let runs = runs.clone();
    Arc::new(move |db: Connection| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            db.execute(&format!(
                "SET application_name = '{app}'; SET search_path = pg_catalog, public"
            ))
            .await
        }
    })
}

async fn show(db: &Connection, name: &str) -> String {
    common::scalar(db, &format!("SHOW {name}")).await.unwrap()
}

#[tokio::test]
async fn every_new_connection_is_initialised_before_it_is_handed_out() {
    let runs = Arc::new(AtomicUsize::new(0));
    let connector = common::connector().with_category(reporting(&runs, "categorised"));
    assert!(connector.category().is_some());
    let db = connector.connect().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(show(&db, "application_name").await, "categorised");
    assert_eq!(show(&db, "search_path").await, "pg_catalog, public");
    let other = db.clone_connection().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(show(&other, "application_name").await, "categorised");
    // A reset returns the session to its state just after connecting: initialised.
    db.execute("SET application_name = 'changed'")
        .await
        .unwrap();
    db.reset().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(show(&db, "application_name").await, "categorised");
    // So does a reconnect.
    db.close();
    db.connect().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    assert_eq!(show(&db, "application_name").await, "categorised");
    // A message hook or another category makes a new connector; the category stays with it.
    let hooked = connector.with_message_hook(Arc::new(|_: &pg_exceptions::Message| true));
    assert!(hooked.category().is_some());
    // A connector without one initialises nothing.
    let plain = common::connect().await;
    assert_ne!(show(&plain, "application_name").await, "categorised");
}

#[tokio::test]
async fn a_failing_category_fails_the_connect_and_leaves_no_session() {
    let failing: Arc<dyn Category> = Arc::new(|db: Connection| async move {
        db.execute("SET application_name = 'failing_category'")
            .await?;
        db.execute("SELECT no_such_column").await
    });
    let connector = common::connector().with_category(failing);
    let err = connector.connect().await.unwrap_err();
    assert!(err.is_a(&pg_exceptions::UndefinedColumnError), "{err}");
    assert!(format!("{err:#}").contains("category"), "{err:#}");
    let watcher = common::connect().await;
    let count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'failing_category'";
    let mut left = 1;
    for _ in 0..100 {
        left = watcher.query_first::<i64, _>(count, ()).await.unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "the session the category failed on is closed");
}

#[tokio::test]
async fn a_connect_given_up_during_its_category_leaves_no_session() {
    let slow: Arc<dyn Category> = Arc::new(|db: Connection| async move {
        // The server notices a closed socket mid-query only when told to look.
        db.execute(
            "SET application_name = 'slow_category'; \
             SET client_connection_check_interval = '100ms'",
        )
        .await?;
        db.execute("SELECT pg_sleep(30)").await
    });
    let connector = common::connector().with_category(slow);
    let attempt = tokio::time::timeout(Duration::from_millis(500), connector.connect()).await;
    assert!(attempt.is_err(), "the connect was still initialising");
    let watcher = common::connect().await;
    let count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'slow_category'";
    let mut left = 1;
    for _ in 0..250 {
        left = watcher.query_first::<i64, _>(count, ()).await.unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "the abandoned session is gone");
}

#[test]
fn the_blocking_connector_initialises_too() {
    let runs = Arc::new(AtomicUsize::new(0));
    let connector = pg_driver::blocking::Connector::from(common::connector())
        .with_category(reporting(&runs, "blocking_category"));
    let db = connector.connect().unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let app = db.query_first::<String, _>("SELECT current_setting('application_name')", ());
    assert_eq!(app.unwrap(), "blocking_category");
    db.reset().unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn connectors_built_from_parameters_take_a_category_as_py_postgresql_connectors_do() {
    let runs = Arc::new(AtomicUsize::new(0));
    let connector =
        Connector::new(common::connector().params().clone()).with_category(reporting(&runs, "x"));
    assert!(format!("{connector:?}").contains("category"));
}
