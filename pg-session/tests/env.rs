//! Sessions configured by `PGSQL_<NAME>` (sprockets.clients.postgresql). The environment is
//! changed by this binary's only test, so nothing reads it concurrently.

mod common;

use common::{R, temporal};
use std::time::Duration;

use pg_session::{
    AsyncSession, AsyncSessionBuilder, Session, SessionBuilder, SessionError, env_uri, pool_id,
};

#[test]
fn sessions_from_the_environment() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = format!("{}&application_name=from_env", sandbox.uri());

    // Missing: an error naming the variable.
    let error = Session::from_env("pg_session_test").unwrap_err();
    assert_eq!(
        error.message(),
        "the environment variable PGSQL_PG_SESSION_TEST is not set"
    );
    assert!(matches!(
        SessionError::of(&error),
        Some(SessionError::MissingVariable { name }) if name == "PGSQL_PG_SESSION_TEST"
    ));
    assert!(
        AsyncSession::from_env("")
            .unwrap_err()
            .message()
            .contains(" PGSQL ")
    );
    // An explicit URL needs no variable.
    assert_eq!(env_uri("pg_session_test", Some(&uri))?, uri);

    // SAFETY: this is the only test of its binary and no other thread reads the environment
    // while it is changed.
    unsafe { std::env::set_var("PGSQL_PG_SESSION_TEST", &uri) };
    let session = Session::from_env("pg_session_test")?;
    assert_eq!(session.uri(), uri);
    assert_eq!(session.pid(), pool_id("Session", &uri));
    let schema = session.query("SELECT current_schema() AS s", ())?;
    assert_eq!(
        schema.as_dict()?["s"],
        pg_types::Value::Text(sandbox.schema().into())
    );
    // An explicit URL overrides the variable.
    assert_eq!(
        env_uri("pg_session_test", Some("postgresql://elsewhere/db"))?,
        "postgresql://elsewhere/db"
    );
    assert_eq!(AsyncSession::from_env("PG_Session_Test")?.uri(), uri);

    // The builders take sprockets' options in the same chain. The pools of this URI exist
    // (a blocking session's of 1, an async session's of 25): another size is refused…
    let error = SessionBuilder::from_env("pg_session_test")
        .pool_max_size(3)
        .connect()
        .unwrap_err();
    assert!(matches!(
        SessionError::of(&error),
        Some(SessionError::PoolSettingConflict {
            setting: "pool_max_size",
            ..
        })
    ));
    assert!(
        AsyncSessionBuilder::from_env("pg_session_test")
            .pool_max_size(10)
            .build()
            .is_err()
    );
    // …and db_url gives a URI of their own.
    let own = format!("{}&application_name=from_env_own", sandbox.uri());
    let session = SessionBuilder::from_env("pg_session_test")
        .pool_max_size(3)
        .pool_idle_ttl(Duration::from_secs(7))
        .db_url(Some(&own))
        .connect()?;
    assert_eq!(session.uri(), own);
    let report = session.pool().report();
    assert_eq!(
        (report.max_size, report.idle_ttl),
        (3, Duration::from_secs(7))
    );
    let session = AsyncSessionBuilder::from_env("pg_session_test")
        .pool_max_size(10)
        .pool_idle_ttl(Duration::from_secs(9))
        .db_url(Some(&own))
        .build()?;
    assert_eq!(session.pid(), pool_id("TornadoSession", &own));
    let report = session.pool().report();
    assert_eq!(
        (report.max_size, report.idle_ttl),
        (10, Duration::from_secs(9))
    );
    // No db_url (None) keeps the variable.
    let session = AsyncSessionBuilder::from_env("pg_session_test")
        .db_url(None)
        .build()?;
    assert_eq!(session.uri(), uri);
    // A variable not set fails when the session is made, unless db_url is given.
    let missing = AsyncSessionBuilder::from_env("pg_session_nothing")
        .pool_max_size(2)
        .build()
        .unwrap_err();
    assert!(matches!(
        SessionError::of(&missing),
        Some(SessionError::MissingVariable { name }) if name == "PGSQL_PG_SESSION_NOTHING"
    ));
    let given = AsyncSessionBuilder::from_env("pg_session_nothing")
        .db_url(Some(&own))
        .build()?;
    assert_eq!(given.uri(), own);

    // SAFETY: as above.
    unsafe {
        std::env::set_var("PGSQL", &uri);
        std::env::remove_var("PGSQL_PG_SESSION_TEST");
    }
    assert_eq!(env_uri("", None)?, uri);
    assert!(Session::from_env("pg_session_test").is_err());
    // SAFETY: as above.
    unsafe { std::env::remove_var("PGSQL") };
    Ok(())
}
