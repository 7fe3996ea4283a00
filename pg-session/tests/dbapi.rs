//! DB-API categories through the sessions, as a program ported from `queries` catches them.

mod common;

use common::{R, temporal, uri};
use pg_exceptions::DbApiCategory;
use pg_session::{AsyncSession, Session};
use pg_types::ToSql;

const SETUP: &str = "CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY)";

const CASES: [(&str, DbApiCategory); 4] = [
    ("INSERT INTO t VALUES (1)", DbApiCategory::IntegrityError),
    ("SELEC 1", DbApiCategory::ProgrammingError),
    ("SELECT 1 / 0", DbApiCategory::DataError),
    (
        "SELECT 1 FROM no_such_table",
        DbApiCategory::ProgrammingError,
    ),
];

#[test]
fn a_sessions_errors_have_psycopg2s_categories() -> R {
    let sandbox = temporal().sandbox()?;
    let session = Session::new(&uri(&sandbox, "dbapi_session"))?;
    session.query(SETUP, ())?;
    session.query("INSERT INTO t VALUES (1)", ())?;
    for (sql, want) in CASES {
        let error = session.query(sql, ()).unwrap_err();
        assert_eq!(error.dbapi_category(), want, "{sql}: {error}");
    }
    let none: &[(&str, &(dyn ToSql + Sync))] = &[];
    let error = session.query_named("SELECT %(id)s", none).unwrap_err();
    assert_eq!(error.dbapi_category(), DbApiCategory::ProgrammingError);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_sessions_errors_have_psycopg2s_categories() -> R {
    let sandbox = temporal().sandbox()?;
    let session = AsyncSession::new(&uri(&sandbox, "dbapi_async"))?;
    session.query(SETUP, ()).await?;
    session.query("INSERT INTO t VALUES (1)", ()).await?;
    for (sql, want) in CASES {
        let error = session.query(sql, ()).await.unwrap_err();
        assert_eq!(error.dbapi_category(), want, "{sql}: {error}");
    }
    let none: &[(&str, &(dyn ToSql + Sync))] = &[];
    let error = session.query_named("SELECT :id", none).await.unwrap_err();
    assert_eq!(error.dbapi_category(), DbApiCategory::ProgrammingError);
    Ok(())
}
