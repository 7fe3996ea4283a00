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
async fn results_hold_their_connection_until_dropped() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "async_results");
    let session = AsyncSession::builder(&uri)
        .pool_max_size(1)
        .acquire_timeout(Duration::from_millis(200))
        .build()?;
    assert_eq!(session.pid(), pool_id("AsyncSession", &uri));
    assert_ne!(session.pid(), pool_id("Session", &uri));

    let held = session.query("SELECT pg_backend_pid() AS pid", ()).await?;
    assert!(held.holds_connection());
    let Value::Int4(backend) = held.as_dict()?["pid"] else {
        panic!("an int4 pid")
    };
    assert_eq!(held.backend_pid(), Some(backend));
    assert_eq!(session.pool().report().busy, 1);

    // The only connection is held by `held`: the next query waits, then fails naming the pool.
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

    // Dropping the results gives the connection back (reset in a task of its own).
    drop(held);
    let next = session.query("SELECT pg_backend_pid() AS pid", ()).await?;
    assert_eq!(next.as_dict()?["pid"], Value::Int4(backend));

    // free() does the same and keeps the rows.
    let mut freed = next;
    freed.free();
    assert!(!freed.holds_connection());
    assert_eq!(freed.len(), 1);
    let third = session.query("SELECT 3 AS three", ()).await?;
    assert_eq!(third.as_dict()?["three"], Value::Int4(3));
    drop(third);

    // Even with a zero timeout, a connection on its way back is waited for.
    let eager = AsyncSession::builder(&uri).pool_max_size(1).build()?;
    for _ in 0..5 {
        let results = eager.query("SELECT 1 AS one", ()).await?;
        assert_eq!(results.len(), 1);
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
    assert_eq!((report.executions, report.exceptions), (8, 0));
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
    tokio::time::sleep(Duration::from_millis(100)).await; // the reset task puts it back
    let admin = format!("SELECT pg_terminate_backend({backend})");
    tokio::task::spawn_blocking(move || temporal().admin_sql(&admin))
        .await
        .unwrap()?;
    let mut gone = false;
    for _ in 0..100 {
        if !tokio::task::spawn_blocking(move || backend_alive(temporal(), backend))
            .await
            .unwrap()
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone);

    let results = session.query("SELECT 2 AS two", ()).await?;
    assert_eq!(results.as_dict()?["two"], Value::Int4(2));
    assert_ne!(results.backend_pid(), Some(backend));
    let report = session.pool().report();
    assert_eq!((report.busy, report.idle), (1, 0));
    Ok(())
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
