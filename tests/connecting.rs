//! Connecting as py-postgresql users do: its message level, its parameter names, its
//! scheme-less locators, the connection service file, categories.

mod common;

use pg_driver::params::Keywords;
use pg_driver::{Connection, Connector};

async fn show(db: &Connection, name: &str) -> String {
    common::scalar(db, &format!("SHOW {name}"))
        .await
        .expect("a value")
}

/// A connection to the throwaway cluster with `extra` layered over its IRI.
async fn connect_with(extra: Keywords) -> Connection {
    let params = Keywords::parse(common::temporal().iri())
        .unwrap()
        .merge(extra)
        .build()
        .unwrap();
    Connector::new(params).connect().await.unwrap()
}

#[tokio::test]
async fn the_driver_lowers_client_min_messages_to_warning() {
    let db = common::connect().await;
    assert_eq!(show(&db, "client_min_messages").await, "warning");
    db.execute("DO $$ BEGIN RAISE NOTICE 'quiet'; RAISE WARNING 'loud'; END $$")
        .await
        .unwrap();
    let kept: Vec<String> = db
        .notices()
        .iter()
        .map(|m| m.message().to_owned())
        .collect();
    assert_eq!(kept, ["loud"]);
    // The user's own setting, as a setting or a server option, is left alone.
    let db = connect_with(Keywords::new().setting("client_min_messages", "notice")).await;
    assert_eq!(show(&db, "client_min_messages").await, "notice");
    let db = connect_with(Keywords::new().setting("options", "-c client_min_messages=log")).await;
    assert_eq!(show(&db, "client_min_messages").await, "log");
    // RESET goes back to the startup packet's value, the driver's default.
    let db = common::connect().await;
    db.execute("SET client_min_messages = debug1; RESET client_min_messages")
        .await
        .unwrap();
    assert_eq!(show(&db, "client_min_messages").await, "warning");
}

#[tokio::test]
async fn a_scheme_less_locator_connects_as_open_takes_it() {
    let iri = common::temporal().iri();
    let locator = iri.strip_prefix("pq://").expect("a pq:// IRI");
    let db = pg_driver::open(locator).await.unwrap();
    assert_eq!(show(&db, "is_superuser").await, "on");
    let blocking_locator = locator.to_owned();
    std::thread::spawn(move || {
        let db = pg_driver::blocking::open(&blocking_locator).unwrap();
        assert_eq!(db.query_first::<i32, _>("SELECT 7", ()).unwrap(), 7);
    })
    .join()
    .unwrap();
}

#[tokio::test]
async fn an_explicitly_empty_user_is_sent_empty() {
    let params = common::connector().params().clone();
    let host = params.hosts()[0].clone();
    let pg_driver::params::Host::Tcp { host, port, .. } = host else {
        panic!("a TCP host: {host:?}")
    };
    // Not the operating-system user, nor PGUSER: the server is told no user at all.
    let err = pg_driver::open(&format!("pq://:secret@{host}:{port}/test"))
        .await
        .unwrap_err();
    assert!(
        err.is_a(&pg_exceptions::AuthenticationSpecificationError),
        "{err}"
    );
    assert!(err.message().contains("no PostgreSQL user name"), "{err}");
    assert!(!format!("{err}").contains("secret"));
}
