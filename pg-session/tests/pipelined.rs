//! An async session with a pipeline depth: statements it saw leave no state share connections.
//!
//! Most tests hold a lock on a table, so that a statement reading it stays in flight while
//! the test looks at what the session does with the next ones.

mod common;

use std::time::Duration;

use common::{R, temporal, uri};
use pg_cluster::Sandbox;
use pg_driver::{ConnectParams, Connection, Connector};
use pg_session::{AsyncSession, Pool, Results, SessionError, Tuple};
use tokio::task::JoinHandle;

/// Reads the locked table; fails for a zero parameter.
const COUNTED: &str = "SELECT (SELECT count(*) FROM pipelined)::int4 + 10 / $1::int4";

async fn connect(uri: &str) -> Result<Connection, pg_exceptions::Error> {
    Connector::new(ConnectParams::from_iri(uri)?)
        .connect()
        .await
}

/// A session on `uri` (a pool of its own, by its application name) with one connection.
fn session(
    uri: &str,
    depth: usize,
    timeout: Duration,
) -> Result<AsyncSession<Tuple>, pg_exceptions::Error> {
    AsyncSession::builder(uri)
        .pool_max_size(1)
        .pipeline_depth(depth)
        .acquire_timeout(timeout)
        .row_form::<Tuple>()
        .build()
}

/// Waits (up to ten seconds) until `condition` holds; whether it did.
async fn until(mut condition: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// A sandbox of the throwaway cluster with the table `COUNTED` reads.
fn sandbox_with_table() -> Result<Sandbox<'static>, pg_exceptions::Error> {
    let sandbox = temporal().sandbox()?;
    sandbox.admin_sql("CREATE TABLE pipelined (n int)")?;
    Ok(sandbox)
}

/// The table `pipelined` locked by a connection of its own until released, and a watcher
/// that sees the statements of the session of `app` waiting for the lock.
struct Lock {
    locker: Connection,
    watcher: Connection,
    app: String,
}

impl Lock {
    async fn take(sandbox: &Sandbox<'_>, app: &str) -> Result<Lock, pg_exceptions::Error> {
        let watcher = connect(&uri(sandbox, &format!("{app}_watch"))).await?;
        let locker = connect(&uri(sandbox, &format!("{app}_lock"))).await?;
        locker
            .execute("BEGIN; LOCK TABLE pipelined IN ACCESS EXCLUSIVE MODE")
            .await?;
        Ok(Lock {
            locker,
            watcher,
            app: app.to_owned(),
        })
    }

    /// Waits until one statement of the session waits for the lock; whether one did.
    async fn until_waited_for(&self) -> bool {
        let sql = "SELECT count(*) FROM pg_stat_activity \
                   WHERE application_name = $1 AND wait_event_type = 'Lock'";
        until(async || {
            let results = self.watcher.query_cached(sql, (&*self.app,)).await.unwrap();
            results.rows[0].try_get::<i64>(0).unwrap() == 1
        })
        .await
    }

    async fn release(&self) -> R {
        self.locker.execute("COMMIT").await
    }
}

/// Runs `COUNTED` with `n` in a task of its own.
fn spawn_counted(
    session: &AsyncSession<Tuple>,
    n: i32,
) -> JoinHandle<Result<Results<Tuple>, pg_exceptions::Error>> {
    let session = session.clone();
    tokio::spawn(async move { session.query(COUNTED, (n,)).await })
}

/// How many statements `COUNTED` the connection the pool hands out next has prepared.
async fn counted_prepared(session: &AsyncSession<Tuple>) -> Result<i32, pg_exceptions::Error> {
    let conn = session.acquire().await?;
    let prepared = conn
        .query_cached(
            "SELECT count(*)::int4 FROM pg_prepared_statements WHERE statement = $1",
            (COUNTED,),
        )
        .await?;
    let count = prepared.rows[0].try_get::<i32>(0)?;
    conn.release().await;
    Ok(count)
}

/// Waits until the pool's one connection is back idle.
async fn until_idle(pool: &Pool) -> bool {
    until(async || {
        let report = pool.report();
        (report.busy, report.idle) == (0, 1)
    })
    .await
}

/// Whether `query` fails at once as the pool is full (it might otherwise wait for the lock).
async fn pool_full<T>(query: impl Future<Output = Result<T, pg_exceptions::Error>>) -> bool {
    match tokio::time::timeout(Duration::from_secs(5), query).await {
        Ok(Err(error)) => matches!(
            SessionError::of(&error),
            Some(SessionError::PoolFull { .. })
        ),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_statements_seen_to_leave_no_state_are_pipelined() -> R {
    let sandbox = sandbox_with_table()?;
    let app = "pipe_known";
    let session = session(&uri(&sandbox, app), 3, Duration::ZERO)?;
    let pool = session.pool();

    // First runs: each on a connection of its own.
    let first = session.query(COUNTED, (1,)).await?;
    assert_eq!(first[0].get::<i32>(0), 10);
    drop(first);
    for stateful in ["SET search_path TO public", "BEGIN"] {
        drop(session.query(stateful, ()).await?);
        assert!(until_idle(&pool).await, "reset after {stateful}");
    }

    let lock = Lock::take(&sandbox, app).await?;
    let blocked = spawn_counted(&session, 1);
    assert!(lock.until_waited_for().await);
    // Two more join it on the one connection: the pool has no other, and no time to wait.
    let behind = [spawn_counted(&session, 2), spawn_counted(&session, 5)];
    assert!(until(async || pool.report().executing == 3).await);
    assert_eq!(pool.report().busy, 1);

    // A fourth would be one past the depth; the others were never seen to leave no state.
    assert!(pool_full(session.query(COUNTED, (10,))).await);
    for other in ["SET search_path TO public", "BEGIN", "SELECT 1"] {
        assert!(pool_full(session.query(other, ())).await, "{other}");
    }

    lock.release().await?;
    let blocked = blocked.await.unwrap()?;
    assert_eq!(blocked[0].get::<i32>(0), 10);
    for (task, want) in behind.into_iter().zip([5, 2]) {
        let results = task.await.unwrap()?;
        assert_eq!(results[0].get::<i32>(0), want);
        assert_eq!(results.backend_pid(), blocked.backend_pid());
    }
    assert!(until_idle(&pool).await);
    let report = pool.report();
    // Those that found no connection did not run.
    assert_eq!((report.executions, report.exceptions), (6, 0));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_pipelined_statement_fails_alone_and_its_connection_is_reset() -> R {
    let sandbox = sandbox_with_table()?;
    let app = "pipe_fail";
    let session = session(&uri(&sandbox, app), 4, Duration::ZERO)?;
    let pool = session.pool();
    drop(session.query(COUNTED, (1,)).await?);

    let lock = Lock::take(&sandbox, app).await?;
    let first = spawn_counted(&session, 1);
    assert!(lock.until_waited_for().await);
    let (failing, last) = (spawn_counted(&session, 0), spawn_counted(&session, 2));
    assert!(until(async || pool.report().executing == 3).await);
    lock.release().await?;

    assert_eq!(first.await.unwrap()?[0].get::<i32>(0), 10);
    let error = failing.await.unwrap().unwrap_err();
    assert_eq!(error.code(), "22012", "{error}");
    assert_eq!(last.await.unwrap()?[0].get::<i32>(0), 5);

    // The connection went back cleaned, keeping the statements it had prepared.
    assert!(until_idle(&pool).await);
    assert_eq!(pool.report().exceptions, 1);
    assert_eq!(pool.report().cleanings, 1);
    assert_eq!(counted_prepared(&session).await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_wanting_a_connection_of_their_own_go_first() -> R {
    let sandbox = sandbox_with_table()?;
    let app = "pipe_fair";
    let session = session(&uri(&sandbox, app), 4, Duration::from_secs(30))?;
    let pool = session.pool();
    drop(session.query(COUNTED, (1,)).await?);

    let lock = Lock::take(&sandbox, app).await?;
    let blocked = spawn_counted(&session, 1);
    assert!(lock.until_waited_for().await);
    let own = {
        let session = session.clone();
        tokio::spawn(async move { session.acquire().await })
    };
    assert!(until(async || pool.report().waiting == 1).await);
    // A pipelined statement now queues behind the caller in line rather than joining the
    // shared connection, which could then keep that caller waiting for ever.
    let behind = spawn_counted(&session, 2);
    assert!(until(async || pool.report().waiting == 2).await);

    lock.release().await?;
    assert_eq!(blocked.await.unwrap()?[0].get::<i32>(0), 10);
    let own = own.await.unwrap()?;
    own.execute("SELECT 1").await?;
    assert!(!behind.is_finished());
    own.release().await;
    let behind = behind.await.unwrap()?;
    assert_eq!(behind[0].get::<i32>(0), 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_giving_up_leaves_the_connection_to_be_reset() -> R {
    let sandbox = sandbox_with_table()?;
    let app = "pipe_give_up";
    let session = session(&uri(&sandbox, app), 4, Duration::from_secs(30))?;
    let pool = session.pool();
    drop(session.query(COUNTED, (1,)).await?);

    let lock = Lock::take(&sandbox, app).await?;
    let impatient = {
        let session = session.clone();
        tokio::spawn(async move {
            tokio::time::timeout(Duration::from_millis(300), session.query(COUNTED, (1,))).await
        })
    };
    assert!(lock.until_waited_for().await);
    assert!(impatient.await.unwrap().is_err(), "gave up");
    lock.release().await?;

    // The connection went back cleaned once the statement given up ended, keeping the
    // statements it had prepared.
    assert!(until_idle(&pool).await);
    assert_eq!(pool.report().cleanings, 1);
    assert_eq!(counted_prepared(&session).await?, 1);

    // The next caller gets its own answer.
    let next = session.query(COUNTED, (2,)).await?;
    assert_eq!(next[0].get::<i32>(0), 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_terminated_under_pipelined_statements_fails_them_and_is_replaced() -> R {
    let sandbox = sandbox_with_table()?;
    let app = "pipe_terminate";
    let session = session(&uri(&sandbox, app), 4, Duration::ZERO)?;
    let pool = session.pool();
    let backend = {
        let first = session.query(COUNTED, (1,)).await?;
        first.backend_pid().expect("a backend pid")
    };

    let lock = Lock::take(&sandbox, app).await?;
    let in_flight = [1, 2, 5].map(|n| spawn_counted(&session, n));
    assert!(lock.until_waited_for().await);
    assert!(until(async || pool.report().executing == 3).await);
    lock.watcher
        .query_cached("SELECT pg_terminate_backend($1)", (backend,))
        .await?;
    for task in in_flight {
        let error = task.await.unwrap().unwrap_err();
        // The statement running gets the server's goodbye; those behind it, the closed
        // connection.
        assert!(
            error.code() == "57P01" || error.is_a(&pg_exceptions::ConnectionError),
            "{error}"
        );
    }
    lock.release().await?;

    // The dead connection left the pool; the next statement runs on a new one.
    assert!(until(async || pool.report().busy == 0).await);
    let next = session.query(COUNTED, (2,)).await?;
    assert_eq!(next[0].get::<i32>(0), 5);
    assert_ne!(next.backend_pid(), Some(backend));
    assert_eq!(pool.report().exceptions, 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_many_callers_as_the_depth_never_find_the_pool_full() -> R {
    let sandbox = temporal().sandbox()?;
    // One connection, no waiting for one: up to `depth` statements at once always fit, even
    // while a lane whose last statement just ended is on its way back to the pool.
    let session = session(&uri(&sandbox, "pipe_fit"), 4, Duration::ZERO)?;
    let sql = "SELECT $1::int4 + 1";
    drop(session.query(sql, (0,)).await?);
    let tasks: Vec<_> = (0..4)
        .map(|t: i32| {
            let session = session.clone();
            tokio::spawn(async move {
                for i in 0..500 {
                    let n = t * 1000 + i;
                    let results = session.query(sql, (n,)).await?;
                    assert_eq!(results[0].get::<i32>(0), n + 1);
                }
                Ok::<(), pg_exceptions::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap()?;
    }
    let report = session.pool().report();
    assert_eq!((report.executions, report.exceptions), (2001, 0));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_arriving_while_a_shared_connection_opens_wait_for_it() -> R {
    let sandbox = temporal().sandbox()?;
    let session = session(&uri(&sandbox, "pipe_cold"), 4, Duration::ZERO)?;
    let sql = "SELECT $1::int4 + 1";
    drop(session.query(sql, (0,)).await?);
    // A new pool, empty: the first statement opens a connection, and the others, finding
    // the pool at its size, wait for that lane rather than fail.
    session.pool().shutdown();
    let tasks: Vec<_> = (1..=4)
        .map(|n: i32| {
            let session = session.clone();
            tokio::spawn(async move { session.query(sql, (n,)).await })
        })
        .collect();
    let mut backends = Vec::new();
    for (task, n) in tasks.into_iter().zip(1..) {
        let results = task.await.unwrap()?;
        assert_eq!(results[0].get::<i32>(0), n + 1);
        backends.push(results.backend_pid());
    }
    backends.dedup();
    assert_eq!(backends.len(), 1, "one connection: {backends:?}");
    let report = session.pool().report();
    assert_eq!((report.executions, report.exceptions), (4, 0));
    Ok(())
}
