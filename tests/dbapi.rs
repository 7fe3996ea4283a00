//! DB-API categories of errors that really happen: the server's, and the client's own.

mod common;

use std::time::Duration;

use pg_exceptions::DbApiCategory;
use postgres_types::ToSql;

#[tokio::test]
async fn server_errors_take_psycopg2s_category() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (id int PRIMARY KEY CHECK (id > 0), ref int REFERENCES t)")
        .await
        .unwrap();
    db.execute("INSERT INTO t VALUES (1)").await.unwrap();
    let cases = [
        ("INSERT INTO t VALUES (1)", DbApiCategory::IntegrityError),
        ("INSERT INTO t VALUES (-1)", DbApiCategory::IntegrityError),
        (
            "INSERT INTO t VALUES (2, 99)",
            DbApiCategory::IntegrityError,
        ),
        ("SELEC 1", DbApiCategory::ProgrammingError),
        ("SELECT nope FROM t", DbApiCategory::ProgrammingError),
        ("SELECT 1 / 0", DbApiCategory::DataError),
        ("SELECT 'x'::int", DbApiCategory::DataError),
        (
            "FETCH ALL FROM no_such_cursor",
            DbApiCategory::OperationalError,
        ),
        ("SAVEPOINT outside_a_block", DbApiCategory::InternalError),
    ];
    for (sql, want) in cases {
        let error = db.query(sql, ()).await.unwrap_err();
        assert_eq!(error.dbapi_category(), want, "{sql}: {error}");
    }
    // A cancelled statement: psycopg2's QueryCanceledError, an OperationalError.
    db.execute("SET statement_timeout = '10ms'").await.unwrap();
    let error = db.query("SELECT pg_sleep(5)", ()).await.unwrap_err();
    assert_eq!(error.code(), "57014");
    assert_eq!(error.dbapi_category(), DbApiCategory::OperationalError);
}

#[tokio::test]
async fn client_errors_take_theirs_by_kind() {
    // A statement whose named parameter has no value: nothing is sent.
    let db = common::connect().await;
    let values: &[(&str, &(dyn ToSql + Sync))] = &[];
    let error = db.query_named("SELECT :x", values).await.unwrap_err();
    assert_eq!(error.dbapi_category(), DbApiCategory::ProgrammingError);

    // A connection lost: the first use learns why (the server's shutdown of the backend), as
    // psycopg2 raises OperationalError; every later use is of a closed connection, psycopg2's
    // InterfaceError "connection already closed".
    let pid = db.backend_id().unwrap();
    let admin = common::connect().await;
    admin
        .query("SELECT pg_terminate_backend($1)", (pid,))
        .await
        .unwrap();
    for _ in 0..250 {
        if db.closed() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = db.query("SELECT 1", ()).await.unwrap_err();
    assert_eq!(
        first.dbapi_category(),
        DbApiCategory::OperationalError,
        "{first}"
    );
    let later = db.query("SELECT 1", ()).await.unwrap_err();
    assert_eq!(
        later.dbapi_category(),
        DbApiCategory::InterfaceError,
        "{later}"
    );

    // A connection closed by the program.
    let closed = common::connect().await;
    closed.close();
    let error = closed.query("SELECT 1", ()).await.unwrap_err();
    assert_eq!(
        error.dbapi_category(),
        DbApiCategory::InterfaceError,
        "{error}"
    );

    // A connection that cannot be made: nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = pg_driver::open(&format!("pq://nobody@127.0.0.1:{port}/db"))
        .await
        .unwrap_err();
    assert_eq!(
        error.dbapi_category(),
        DbApiCategory::OperationalError,
        "{error}"
    );
}
