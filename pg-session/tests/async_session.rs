//! The async session (queries' TornadoSession): results hold their connection.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{R, backend_alive, backends, temporal, uri};
use pg_session::{AsyncSession, Pool, SessionError, Tuple, pool_id};
use pg_types::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(deprecated)] // free() and holds_connection(), kept for queries' users
async fn results_hold_no_connection_and_only_what_asks_for_one_does() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "async_results");
    let session = AsyncSession::builder(&uri)
        .pool_max_size(1)
        .acquire_timeout(Duration::from_millis(200))
        .build()?;
    assert_eq!(session.pid(), pool_id("TornadoSession", &uri));
    assert_ne!(session.pid(), pool_id("Session", &uri));

    // The rows are in memory and the connection is back before the results are returned.
    let kept = session.query("SELECT pg_backend_pid() AS pid", ()).await?;
    assert!(!kept.holds_connection());
    let Value::Int4(backend) = kept.as_dict()?["pid"] else {
        panic!("an int4 pid")
    };
    assert_eq!(kept.backend_pid(), Some(backend));
    let report = session.pool().report();
    assert_eq!((report.busy, report.idle), (0, 1));
    // So a second query, with the first results alive, gets the pool's only connection.
    let next = session.query("SELECT pg_backend_pid() AS pid", ()).await?;
    assert_eq!(next.as_dict()?["pid"], Value::Int4(backend));
    let mut freed = next;
    freed.free();
    assert_eq!(freed.len(), 1, "free() does nothing; the rows stay");

    // A connection is held where the caller asks for one: the next query waits, then fails
    // naming the pool.
    let held = session.acquire().await?;
    let started = Instant::now();
    let error = session.query("SELECT 1", ()).await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        error.message(),
        format!("Pool {} is at its maximum capacity", session.pid())
    );
    assert!(matches!(
        SessionError::of(&error),
        Some(SessionError::PoolFull { .. })
    ));
    drop(held);
    let third = session.query("SELECT 3 AS three", ()).await?;
    assert_eq!(third.as_dict()?["three"], Value::Int4(3));

    // Results whose query left state (here a setting) wait for nothing either: the
    // connection is cleaned on its way back, and a zero timeout waits for it.
    let eager = AsyncSession::builder(&uri)
        .acquire_timeout(Duration::ZERO)
        .build()?;
    let mut all = Vec::new();
    for _ in 0..5 {
        all.push(eager.query("SET application_name = 'changed'", ()).await?);
        all.push(eager.query("SHOW application_name", ()).await?);
        assert_eq!(
            all.last().unwrap().as_dict()?["application_name"],
            Value::Text("async_results".into())
        );
    }
    let pool = session.pool();
    for _ in 0..100 {
        if pool.report().idle == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report = pool.report();
    assert_eq!((report.busy, report.idle), (0, 1));
    // Only queries that ran count; the one that found no connection did not.
    assert_eq!((report.executions, report.exceptions), (13, 0));
    assert_eq!(
        report.cleanings, 6,
        "after each SET and the acquired connection"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_queries_share_at_most_max_size_connections() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let app = "async_limits";
    let session = AsyncSession::builder(uri(&sandbox, app))
        .pool_max_size(3)
        .acquire_timeout(Duration::from_secs(30))
        .row_form::<Tuple>()
        .build()?;
    let running = Arc::new(AtomicBool::new(true));
    let most = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (running, most) = (running.clone(), most.clone());
        tokio::task::spawn_blocking(move || {
            while running.load(Ordering::Relaxed) {
                most.fetch_max(backends(temporal(), app), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let session = session.clone();
            tokio::spawn(async move {
                let results = session
                    .query("SELECT pg_backend_pid(), $1::int, pg_sleep(0.02)", (i,))
                    .await?;
                assert_eq!(results[0].get::<i32>(1), i);
                Ok::<i32, pg_exceptions::Error>(results[0].get::<i32>(0))
            })
        })
        .collect();
    let mut pids = HashSet::new();
    for task in tasks {
        pids.insert(task.await.unwrap()?);
    }
    running.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    assert!(
        !pids.is_empty() && pids.len() <= 3,
        "backends used: {pids:?}"
    );
    assert!(most.load(Ordering::Relaxed) <= 3);
    let pool = Pool::get(session.pid()).unwrap();
    let report = pool.report();
    assert_eq!(
        (report.executions, report.max_size, report.executing),
        (20, 3, 0)
    );
    assert!(report.idle + report.busy <= 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acquired_connections_serve_transactions_and_come_back_clean() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_acquire"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(5))
        .build()?;
    session.validate().await?;
    session.query("CREATE TABLE items (i int)", ()).await?;

    let conn = session.acquire().await?;
    assert_eq!(conn.pool_id(), session.pid());
    let backend = conn.backend_id();
    conn.execute("CREATE TEMP TABLE scratch (i int); SET work_mem = '9MB'")
        .await?;
    conn.xact()
        .run(|x| async move { x.execute("INSERT INTO items VALUES (1), (2)").await })
        .await?;
    conn.execute("BEGIN; INSERT INTO items VALUES (3)").await?;
    conn.release().await; // rolled back, discarded

    let count = session.query("SELECT count(*) AS n FROM items", ()).await?;
    assert_eq!(count.as_dict()?["n"], Value::Int8(2));
    assert_eq!(count.backend_pid(), backend);
    drop(count);
    let scratch = session
        .query(
            "SELECT to_regclass('scratch') IS NULL AS gone, current_setting('work_mem') AS wm",
            (),
        )
        .await?;
    assert_eq!(scratch.as_dict()?["gone"], Value::Bool(true));
    assert_ne!(scratch.as_dict()?["wm"], Value::Text("9MB".into()));
    drop(scratch);

    let called = session.callproc("pg_catalog.upper", ("shout",)).await?;
    assert_eq!(called.as_dict()?["upper"], Value::Text("SHOUT".into()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_backends_are_evicted() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_terminate"))
        .pool_max_size(1)
        .build()?;
    let backend = session.query("SELECT 1", ()).await?.backend_pid().unwrap();
    // The connection goes back to the pool from a task of its own: wait for it (on a
    // loaded machine this takes longer than any fixed pause).
    assert!(
        idle_soon(&session).await,
        "the connection went back to the pool"
    );
    let admin = format!("SELECT pg_terminate_backend({backend})");
    tokio::task::spawn_blocking(move || temporal().admin_sql(&admin))
        .await
        .unwrap()?;
    let mut gone = false;
    for _ in 0..500 {
        if !tokio::task::spawn_blocking(move || backend_alive(temporal(), backend))
            .await
            .unwrap()
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the backend ended within ten seconds");

    let results = session.query("SELECT 2 AS two", ()).await?;
    assert_eq!(results.as_dict()?["two"], Value::Int4(2));
    assert_ne!(results.backend_pid(), Some(backend));
    assert!(idle_soon(&session).await, "the results hold no connection");
    let report = session.pool().report();
    assert_eq!((report.busy, report.idle), (0, 1));
    Ok(())
}

/// Whether the session's pool comes to hold its one connection idle within ten seconds.
async fn idle_soon(session: &AsyncSession) -> bool {
    for _ in 0..500 {
        let report = session.pool().report();
        if (report.busy, report.idle) == (0, 1) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_blocking_session_refuses_to_start_inside_a_runtime() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let error = pg_session::Session::new(&uri(&sandbox, "async_refuse")).unwrap_err();
    assert!(
        error.message().contains("inside an async runtime"),
        "{error}"
    );
    Ok(())
}

/// The value of `sql`'s only column in its only row, as text.
async fn text_of(session: &AsyncSession, sql: &str) -> Result<String, pg_exceptions::Error> {
    let results = session.query(sql, ()).await?;
    let Some(row) = results.items().first() else {
        panic!("no row for {sql}")
    };
    Ok(match row.values().next() {
        Some(Value::Text(text)) => text.clone(),
        other => format!("{other:?}"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_reset_only_when_a_query_left_state_behind() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_reset"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(5))
        .build()?;
    let statements = "SELECT count(*)::text FROM pg_prepared_statements";

    // A plain SELECT leaves nothing: no reset, so its cached statement is still prepared.
    let backend = session.query("SELECT 1 AS one", ()).await?.backend_pid();
    assert_eq!(text_of(&session, statements).await?, "2");
    let same = session.query("SELECT 1 AS one", ()).await?;
    assert_eq!(same.backend_pid(), backend, "one connection all along");
    drop(same);

    // SET: cleaned (RESET ALL forgets the setting; the statements stay prepared).
    session.query("SET work_mem = '9MB'", ()).await?;
    assert_eq!(
        text_of(&session, statements).await?,
        "3",
        "the cache was kept: SELECT 1, the count, the SET"
    );
    assert_ne!(text_of(&session, "SHOW work_mem").await?, "9MB");

    // A statement prepared in SQL: cleaned, and deallocated (the driver's stay).
    session.query("PREPARE mine AS SELECT 1", ()).await?;
    assert_eq!(
        text_of(
            &session,
            "SELECT count(*) FILTER (WHERE from_sql)::text FROM pg_prepared_statements"
        )
        .await?,
        "0"
    );

    // A SELECT that made a temporary table: reset.
    session
        .query("CREATE TEMP TABLE made AS SELECT 1 AS i", ())
        .await?;
    assert_eq!(
        text_of(&session, "SELECT (to_regclass('made') IS NULL)::text").await?,
        "true"
    );

    // A reported setting changed by a function: reset.
    session
        .query(
            "SELECT set_config('application_name', 'renamed', false)",
            (),
        )
        .await?;
    assert_eq!(
        text_of(&session, "SHOW application_name").await?,
        "async_reset"
    );

    // A transaction left open: rolled back.
    session.query("BEGIN", ()).await?;
    session.query("CREATE TABLE kept (i int)", ()).await?;
    assert_eq!(
        text_of(&session, "SELECT (to_regclass('kept') IS NULL)::text").await?,
        "false",
        "CREATE TABLE ran after the rollback, in its own transaction"
    );

    // What the tag cannot show: a function's side effect on a setting the server does not
    // report survives (as documented); reset_always covers it.
    session
        .query("SELECT set_config('work_mem', '7MB', false)", ())
        .await?;
    assert_eq!(text_of(&session, "SHOW work_mem").await?, "7MB");
    drop(session);

    let always = AsyncSession::builder(uri(&sandbox, "async_reset_always"))
        .pool_max_size(1)
        .reset_always(true)
        .build()?;
    always
        .query("SELECT set_config('work_mem', '7MB', false)", ())
        .await?;
    assert_ne!(text_of(&always, "SHOW work_mem").await?, "7MB");
    assert_eq!(
        text_of(&always, statements).await?,
        "3",
        "cleaned every time, and the statements kept"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_checked_with_a_round_trip_only_after_a_while() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let last_query = |pid: i32| {
        let sql = format!("SELECT query FROM pg_stat_activity WHERE pid = {pid}");
        tokio::task::spawn_blocking(move || temporal().admin_sql(&sql).map(|s| s.trim().to_owned()))
    };
    for (app, after, checked) in [
        ("async_check_default", None, false),
        ("async_check_always", Some(Duration::ZERO), true),
    ] {
        let mut builder = AsyncSession::builder(uri(&sandbox, app)).pool_max_size(1);
        if let Some(after) = after {
            builder = builder.check_idle_after(after);
        }
        let session = builder.build()?;
        let pid = session
            .query("SELECT pg_backend_pid() AS pid", ())
            .await?
            .backend_pid()
            .unwrap();
        assert_eq!(
            last_query(pid).await.unwrap()?,
            "SELECT pg_backend_pid() AS pid"
        );
        let conn = session.acquire().await?;
        assert_eq!(conn.backend_id(), Some(pid));
        let expected = if checked {
            ""
        } else {
            "SELECT pg_backend_pid() AS pid"
        };
        assert_eq!(last_query(pid).await.unwrap()?, expected, "{app}");
        drop(conn);
    }
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn waiters_are_served_first_come_first_served() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "async_fifo");
    let session = AsyncSession::builder(&uri)
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(30))
        .build()?;
    // Four tasks share one connection: the one that gives it back and asks again at once
    // queues behind the others, so they take turns.
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..4)
        .map(|task| {
            let (session, order) = (session.clone(), order.clone());
            tokio::spawn(async move {
                for _ in 0..5 {
                    let results = session.query("SELECT 1", ()).await.unwrap();
                    order.lock().unwrap().push(task);
                    drop(results);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    let turns: Vec<usize> = (0..20).map(|i| i % 4).collect();
    assert_eq!(order, turns);
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn a_waiter_dropped_after_its_wake_up_passes_the_connection_on() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "async_pass_on");
    let session = AsyncSession::builder(&uri)
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(30))
        .build()?;
    let held = session.acquire().await?;
    let first = tokio::spawn({
        let session = session.clone();
        async move { session.query("SELECT 1", ()).await.map(drop) }
    });
    tokio::task::yield_now().await;
    let second = tokio::spawn({
        let session = session.clone();
        async move { session.query("SELECT 2", ()).await.map(drop) }
    });
    tokio::task::yield_now().await;
    // Giving the connection back wakes the first in line, which is gone before it looks.
    drop(held);
    first.abort();
    let started = Instant::now();
    let served = tokio::time::timeout(Duration::from_secs(5), second).await;
    assert!(matches!(served, Ok(Ok(Ok(())))), "{served:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(first.await.unwrap_err().is_cancelled());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acquire_timeout_too_long_to_add_waits_as_long_as_it_takes() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_forever"))
        .pool_max_size(1)
        .acquire_timeout(Duration::MAX)
        .build()?;
    let held = session.acquire().await?;
    let waiting = {
        let session = session.clone();
        tokio::spawn(async move { session.query("SELECT 2 AS two", ()).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished());
    drop(held);
    let two = waiting.await.unwrap()?;
    assert_eq!(two.as_dict()?["two"], Value::Int4(2));
    Ok(())
}

/// Whether the advisory lock `key` is held by some session, asked from another connection.
async fn lock_held(key: i64) -> bool {
    let sql = format!(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {key} AND granted"
    );
    let held = tokio::task::spawn_blocking(move || temporal().admin_sql(&sql))
        .await
        .expect("the admin query ran");
    held.expect("pg_locks answers").trim() != "0"
}

/// Waits until every connection of the session's pool is back (a cleaning runs in a task of
/// its own).
async fn all_back(session: &AsyncSession) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while session.pool().report().busy > 0 {
        assert!(Instant::now() < deadline, "connections came back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_commits_or_rolls_back_and_goes_back_uncleaned_when_it_left_no_state() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_xact"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(5))
        .build()?;
    session
        .query("CREATE TABLE xact_counts (id int PRIMARY KEY, n int)", ())
        .await?;
    session
        .query("INSERT INTO xact_counts VALUES (1, 0)", ())
        .await?;
    let bump = "UPDATE xact_counts SET n = n + 1 WHERE id = 1";
    let count = "SELECT n::text FROM xact_counts WHERE id = 1";

    // Committed; the statements ran in one block (the pid of the block's backend is one, and
    // the block was open while they ran).
    let statuses = session
        .xact(async |conn| {
            conn.query_cached(bump, ()).await?;
            let inside = conn.transaction_status();
            conn.query_cached(bump, ()).await?;
            Ok::<_, pg_exceptions::Error>(inside)
        })
        .await?;
    assert_eq!(statuses, pg_driver::TransactionStatus::InTransaction);
    assert_eq!(text_of(&session, count).await?, "2");

    // Rolled back: the work's error comes back, and nothing of it stays.
    let error = session
        .xact(async |conn| {
            conn.query_cached(bump, ()).await?;
            conn.query_cached("SELECT 1/0", ()).await?;
            Ok::<_, pg_exceptions::Error>(())
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), "22012", "{error}");
    assert_eq!(text_of(&session, count).await?, "2");
    let rolled = session
        .xact(async |conn| {
            conn.query_cached(bump, ()).await?;
            Err::<(), _>(pg_exceptions::Error::client(
                &pg_exceptions::OperationError,
                "changed my mind",
            ))
        })
        .await;
    assert!(rolled.is_err());
    assert_eq!(text_of(&session, count).await?, "2");

    // A transaction of stateless commands goes back as it is: a session advisory lock taken
    // by a function (which no tag shows, as documented) is still held afterwards.
    session
        .xact(async |conn| {
            conn.query_cached(bump, ()).await?;
            conn.query_cached("SELECT pg_advisory_lock(4242)", ())
                .await?;
            Ok::<_, pg_exceptions::Error>(())
        })
        .await?;
    all_back(&session).await;
    assert!(
        lock_held(4242).await,
        "no cleaning after a clean transaction"
    );

    // One that ran SET LOCAL (a tag that may leave state) is cleaned: the lock goes.
    session
        .xact(async |conn| {
            conn.query_cached("SET LOCAL work_mem = '5MB'", ()).await?;
            Ok::<_, pg_exceptions::Error>(())
        })
        .await?;
    all_back(&session).await;
    assert!(!lock_held(4242).await, "cleaned after SET");

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_is_the_error_and_nothing_commits() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_xact_commit"))
        .pool_max_size(1)
        .build()?;
    session
        .query("CREATE TABLE xc_parent (id int PRIMARY KEY)", ())
        .await?;
    session
        .query(
            "CREATE TABLE xc_child (p int REFERENCES xc_parent DEFERRABLE INITIALLY DEFERRED)",
            (),
        )
        .await?;
    let error = session
        .xact(async |conn| {
            conn.query_cached("INSERT INTO xc_child VALUES (7)", ())
                .await?;
            Ok::<_, pg_exceptions::Error>(())
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), "23503", "{error}");
    assert_eq!(
        text_of(&session, "SELECT count(*)::text FROM xc_child").await?,
        "0"
    );
    // Work that swallowed an error inside the block: COMMIT rolls back, and says so.
    let swallowed = session
        .xact(async |conn| {
            conn.query_cached("INSERT INTO xc_parent VALUES (8)", ())
                .await?;
            assert!(conn.query_cached("SELECT 1/0", ()).await.is_err());
            Ok::<_, pg_exceptions::Error>(())
        })
        .await
        .unwrap_err();
    assert!(
        swallowed.is_a(&pg_exceptions::InFailedTransactionError),
        "{swallowed}"
    );
    assert_eq!(
        text_of(&session, "SELECT count(*)::text FROM xc_parent").await?,
        "0"
    );
    // The connection is usable and outside any block.
    let again = session
        .xact(async |conn| {
            conn.query_cached("INSERT INTO xc_parent VALUES (7)", ())
                .await?;
            conn.query_cached("INSERT INTO xc_child VALUES (7)", ())
                .await?;
            Ok::<_, pg_exceptions::Error>(())
        })
        .await;
    assert!(again.is_ok(), "{again:?}");
    assert_eq!(
        text_of(&session, "SELECT count(*)::text FROM xc_child").await?,
        "1"
    );
    Ok(())
}

/// Polls `work` `polls + 1` times, yielding between polls, and drops it unfinished: whether
/// it finished (its error, if it failed).
async fn poll_or_drop<T, E>(
    work: impl std::future::Future<Output = Result<T, E>>,
    polls: usize,
) -> Result<bool, E> {
    let mut work = std::pin::pin!(work);
    for _ in 0..=polls {
        tokio::task::yield_now().await;
        let polled =
            std::future::poll_fn(|cx| std::task::Poll::Ready(work.as_mut().poll(cx))).await;
        if let std::task::Poll::Ready(result) = polled {
            return result.map(|_| true);
        }
    }
    Ok(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_dropped_at_any_poll_commits_nothing_and_leaves_the_pool_clean() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_xact_drop"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(10))
        .build()?;
    session.query("CREATE TABLE xd (i int)", ()).await?;
    let mut committed = 0;
    let mut dropped = 0;
    // Drop the transaction after 0, 1, 2… polls until one runs to its end.
    for polls in 0.. {
        // The transaction lives in this block: it is dropped at its end.
        let done = {
            let work = session.xact(async |conn| {
                conn.query_cached("INSERT INTO xd VALUES (1)", ()).await?;
                conn.query_cached("SELECT pg_advisory_lock(77)", ()).await?;
                conn.query_cached("INSERT INTO xd VALUES (2)", ()).await?;
                Ok::<_, pg_exceptions::Error>(())
            });
            poll_or_drop(work, polls).await?
        };
        all_back(&session).await;
        if done {
            committed += 1;
            break;
        }
        dropped += 1;
        // Whatever the poll it was dropped at, the rows are both there or neither, and the
        // session lock it may have taken was released by the cleaning.
        let rows = text_of(&session, "SELECT count(*)::text FROM xd").await?;
        assert!(
            rows == "0" || rows == "2",
            "{rows} rows after {polls} polls"
        );
        assert!(!lock_held(77).await, "lock left after {polls} polls");
        session.query("DELETE FROM xd", ()).await?;
        assert!(polls < 10_000, "the transaction ends");
    }
    assert!(dropped > 0 && committed == 1);
    assert_eq!(
        text_of(&session, "SELECT count(*)::text FROM xd").await?,
        "2"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_tasks_on_a_pool_of_ten_all_succeed_with_the_defaults() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_five_hundred"))
        .pool_max_size(10)
        .build()?;
    let tasks: Vec<_> = (0..500i32)
        .map(|i| {
            let session = session.clone();
            tokio::spawn(async move {
                // Each holds its connection a while: most have to wait their turn.
                let results = session
                    .query("SELECT $1::int4 AS i, pg_sleep(0.002)", (i,))
                    .await?;
                Ok::<_, pg_exceptions::Error>(results.as_dict()?["i"].clone())
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.expect("the task ran")?, Value::Int4(i as i32));
    }
    let report = session.pool().report();
    assert_eq!((report.executions, report.exceptions), (500, 0));
    assert!(report.busy + report.idle <= 10);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drivers_transactions_inside_a_session_transaction_are_savepoints() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_xact_nested"))
        .pool_max_size(1)
        .build()?;
    session.query("CREATE TABLE xn (i int)", ()).await?;
    let outcome = session
        .xact(async |conn| {
            // The first statement of the block is the inner transaction's own.
            conn.xact()
                .run(|x| async move { x.query_cached("INSERT INTO xn VALUES (1)", ()).await })
                .await?;
            let inner = conn.xact();
            let rolled = inner
                .run(|x| async move {
                    x.query_cached("INSERT INTO xn VALUES (2)", ()).await?;
                    x.query_cached("SELECT 1/0", ()).await
                })
                .await;
            assert!(rolled.is_err());
            assert_eq!(
                conn.transaction_status(),
                pg_driver::TransactionStatus::InTransaction,
                "the inner failure rolled back to its savepoint only"
            );
            Err::<(), _>(pg_exceptions::Error::client(
                &pg_exceptions::OperationError,
                "the outer block fails",
            ))
        })
        .await;
    assert!(outcome.is_err());
    assert_eq!(
        text_of(&session, "SELECT count(*)::text FROM xn").await?,
        "0",
        "the outer rollback undid the inner commit"
    );
    session
        .xact(async |conn| {
            conn.xact()
                .run(|x| async move { x.query_cached("INSERT INTO xn VALUES (3)", ()).await })
                .await?;
            conn.query_cached("INSERT INTO xn VALUES (4)", ()).await?;
            Ok::<_, pg_exceptions::Error>(())
        })
        .await?;
    assert_eq!(
        text_of(
            &session,
            "SELECT string_agg(i::text, ',' ORDER BY i) FROM xn"
        )
        .await?,
        "3,4"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_runs_on_one_connection_as_one_transaction() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_batch"))
        .pool_max_size(2)
        .build()?;
    session
        .query("CREATE TABLE b (i int PRIMARY KEY)", ())
        .await?;
    let results = session
        .batch()
        .query("INSERT INTO b VALUES ($1)", (1i32,))
        .query("SELECT pg_backend_pid() AS pid, txid_current() AS x", ())
        .query("SELECT pg_backend_pid() AS pid, txid_current() AS x", ())
        .run()
        .await?;
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].count(), 1);
    let (first, second) = (&results[1].items()[0], &results[2].items()[0]);
    assert_eq!(first.get("pid"), second.get("pid"), "one connection");
    assert_eq!(first.get("x"), second.get("x"), "one transaction");
    let pid = results[1].backend_pid().expect("a backend");
    assert_eq!(first.get("pid"), Some(&Value::Int4(pid)));

    // A failure undoes the batch, and the connection goes back usable.
    let error = session
        .batch()
        .query("INSERT INTO b VALUES ($1)", (2i32,))
        .query("INSERT INTO b VALUES ($1)", (1i32,))
        .run()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "23505");
    all_back(&session).await;
    assert_eq!(
        text_of(&session, "SELECT count(*)::text FROM b").await?,
        "1"
    );
    assert!(session.batch().run().await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_left_state_is_cleaned_and_one_that_did_not_is_not() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_batch_state"))
        .pool_max_size(1)
        .build()?;
    let statements = "SELECT count(*)::text FROM pg_prepared_statements";
    // A SELECT without rows is looked at (it has result columns: it made no table), and
    // the connection goes back uncleaned: the setting a function changed, which no tag shows
    // and a cleaning would undo, is still there.
    session
        .batch()
        .query("SELECT set_config('work_mem', '7MB', false) AS w", ())
        .query("SELECT 2 AS two WHERE false", ())
        .run()
        .await?;
    all_back(&session).await;
    assert_eq!(text_of(&session, "SHOW work_mem").await?, "7MB");
    assert_eq!(text_of(&session, statements).await?, "4");
    session.query("RESET work_mem", ()).await?;

    // A SET in a batch: cleaned on the way back (the statements kept).
    session
        .batch()
        .query("SELECT 1 AS one", ())
        .query("SET work_mem = '9MB'", ())
        .run()
        .await?;
    all_back(&session).await;
    assert_ne!(text_of(&session, "SHOW work_mem").await?, "9MB");
    // Kept through the cleaning: the seven statements so far.
    assert_eq!(text_of(&session, statements).await?, "7");

    // A SELECT that made a table and sent no row: reset.
    session
        .batch()
        .query("SELECT 1 AS one", ())
        .query("CREATE TEMP TABLE made AS SELECT 1 AS i WHERE false", ())
        .run()
        .await?;
    all_back(&session).await;
    assert_eq!(
        text_of(&session, "SELECT (to_regclass('made') IS NULL)::text").await?,
        "true"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_dropped_at_any_poll_commits_whole_or_not_and_leaves_the_pool_clean() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "async_batch_drop"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(10))
        .build()?;
    session.query("CREATE TABLE bd (i int)", ()).await?;
    let mut dropped = 0;
    for polls in 0.. {
        let done = {
            let work = session
                .batch()
                .query("INSERT INTO bd VALUES (1)", ())
                .query("SELECT pg_advisory_xact_lock(78)", ())
                .query("INSERT INTO bd VALUES (2)", ())
                .run();
            poll_or_drop(work, polls).await?
        };
        all_back(&session).await;
        let rows = text_of(&session, "SELECT count(*)::text FROM bd").await?;
        if done {
            assert_eq!(rows, "2");
            break;
        }
        dropped += 1;
        assert!(
            rows == "0" || rows == "2",
            "{rows} rows after {polls} polls"
        );
        assert!(!lock_held(78).await, "lock left after {polls} polls");
        session.query("DELETE FROM bd", ()).await?;
        assert!(polls < 10_000, "the batch ends");
    }
    assert!(dropped > 0);
    Ok(())
}
