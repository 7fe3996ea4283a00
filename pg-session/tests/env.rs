//! Sessions configured by `PGSQL_<NAME>` (sprockets.clients.postgresql). The environment is
//! changed by this binary's only test, so nothing reads it concurrently.

mod common;

use common::{R, temporal};
use pg_session::{AsyncSession, Session, SessionError, env_uri, pool_id};

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
