//! `pg_session::shutdown()` retires every pool of the process (alone in its test binary, so
//! it retires no other test's pools).

mod common;

use std::time::Duration;

use common::{R, backends, eventually, temporal, uri};
use pg_session::{AsyncSession, Pool, Session};

#[test]
fn shutdown_retires_every_pool() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let (one, two) = (uri(&sandbox, "shutdown_one"), uri(&sandbox, "shutdown_two"));
    drop(Session::new(&one)?);
    drop(Session::new(&two)?);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let session = AsyncSession::new(&two)?;
    runtime.block_on(async { session.validate().await })?;
    assert_eq!(Pool::all().len(), 3);
    assert_eq!(backends(pg, "shutdown_two"), 2);

    pg_session::shutdown();
    assert!(Pool::all().is_empty());
    assert!(eventually(Duration::from_secs(5), || {
        backends(pg, "shutdown_one") + backends(pg, "shutdown_two") == 0
    }));
    // Sessions go on with new pools.
    let again = Session::new(&one)?;
    assert!(again.query("SELECT 1", ())?.len() == 1);
    assert_eq!(Pool::all().len(), 1);
    Ok(())
}
