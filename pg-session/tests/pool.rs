//! The pool under blocking sessions: limits, waiting, expiry, eviction, shutdown.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{R, backend_alive, backends, eventually, temporal, uri};
use pg_cluster::Temporal;
use pg_session::{Pool, Session, SessionError, pool_id};
use pg_types::Value;

fn backend_of(session: &Session) -> i32 {
    session.backend_pid().expect("a backend pid")
}

#[test]
fn concurrent_sessions_never_exceed_max_size() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let app = "pool_limits";
    let uri = uri(&sandbox, app);
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let running = Arc::new(AtomicBool::new(true));
    let most = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (running, most) = (running.clone(), most.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                most.fetch_max(backends(temporal(), app), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (uri, seen) = (uri.clone(), seen.clone());
            std::thread::spawn(move || -> R {
                for _ in 0..3 {
                    let session = Session::builder(&uri)
                        .pool_max_size(3)
                        .acquire_timeout(Duration::from_secs(30))
                        .connect()?;
                    let pid =
                        session.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.02)", ())?;
                    let Value::Int4(pid) = pid.as_dict()?["pid"] else {
                        panic!("an int4 pid")
                    };
                    seen.lock().unwrap().insert(pid);
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap()?;
    }
    running.store(false, Ordering::Relaxed);
    sampler.join().unwrap();

    let seen = seen.lock().unwrap();
    assert!(
        !seen.is_empty() && seen.len() <= 3,
        "backends used: {seen:?}"
    );
    assert!(
        most.load(Ordering::Relaxed) <= 3,
        "at most 3 backends at once"
    );
    let report = Pool::get(&pool_id("Session", &uri)).unwrap().report();
    assert_eq!((report.busy, report.executing, report.max_size), (0, 0, 3));
    assert_eq!((report.executions, report.exceptions), (24, 0));
    assert!(report.idle <= 3 && report.idle_duration.is_some());
    assert!(backends(pg, app) <= 3);
    Ok(())
}

#[test]
fn a_full_pool_waits_for_the_acquire_timeout_then_names_itself() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "pool_full");
    let held = Session::new(&uri)?;
    let backend = backend_of(&held);

    // Zero timeout (queries' behaviour): at once.
    let started = Instant::now();
    let error = Session::new(&uri).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    let expected = format!("Pool {} has no idle connections", held.pid());
    assert_eq!(error.message(), expected);
    assert!(matches!(
        SessionError::of(&error),
        Some(SessionError::NoIdleConnections { pool_id }) if pool_id == held.pid()
    ));
    assert!(
        !error.to_string().contains("0x"),
        "no memory address: {error}"
    );

    // A timeout: the caller waits that long, then fails.
    let started = Instant::now();
    let builder = Session::builder(&uri).acquire_timeout(Duration::from_millis(300));
    let error = builder.clone().connect().unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(error.message(), expected);

    // A connection given back while the caller waits is handed over.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(held);
    });
    let started = Instant::now();
    let waiting = Session::builder(&uri)
        .acquire_timeout(Duration::from_secs(10))
        .connect()?;
    assert_eq!(backend_of(&waiting), backend);
    // Woken when it came back, not when the wait timed out.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    releaser.join().unwrap();
    Ok(())
}

#[test]
fn idle_connections_expire_after_the_ttl() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let app = "pool_ttl";
    let uri = uri(&sandbox, app);
    let builder = Session::builder(&uri)
        .pool_max_size(2)
        .pool_idle_ttl(Duration::from_millis(300));
    let (a, b) = (builder.clone().connect()?, builder.clone().connect()?);
    let (pid_a, pid_b) = (backend_of(&a), backend_of(&b));
    let pool = a.pool();
    assert_eq!(pool.report().idle_ttl, Duration::from_millis(300));
    drop((a, b));
    assert_eq!(pool.report().idle, 2);

    // The reaper closes them with no session coming by.
    assert!(eventually(Duration::from_secs(5), || pool.report().idle == 0));
    assert!(eventually(Duration::from_secs(5), || backends(pg, app) == 0));
    assert!(!backend_alive(pg, pid_a) && !backend_alive(pg, pid_b));

    let fresh = builder.connect()?;
    assert!(![pid_a, pid_b].contains(&backend_of(&fresh)));
    drop(fresh);

    // A TTL changed later applies to connections idle now.
    pool.set_idle_ttl(Duration::from_secs(3600));
    let kept = Session::new(&uri)?;
    let kept_pid = backend_of(&kept);
    drop(kept);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pool.report().idle, 1);
    pool.set_idle_ttl(Duration::ZERO);
    assert!(eventually(Duration::from_secs(5), || !backend_alive(
        pg, kept_pid
    )));
    Ok(())
}

#[test]
fn terminated_backends_are_evicted_without_counting() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "pool_terminate");
    let session = Session::new(&uri)?; // a pool of one
    let backend = backend_of(&session);
    drop(session);
    pg.admin_sql(&format!("SELECT pg_terminate_backend({backend})"))?;
    assert!(eventually(Duration::from_secs(5), || !backend_alive(
        pg, backend
    )));

    // The dead idle connection is found, evicted, and its slot serves a fresh one at once.
    let session = Session::new(&uri)?;
    let fresh = backend_of(&session);
    assert_ne!(fresh, backend);
    let one = session.query("SELECT 1 AS one", ())?;
    assert_eq!(one.as_dict()?["one"], Value::Int4(1));
    let report = session.pool().report();
    assert_eq!((report.busy, report.idle, report.max_size), (1, 0, 1));

    // Terminated while a session holds it: the query fails, and the session's end evicts it.
    pg.admin_sql(&format!("SELECT pg_terminate_backend({fresh})"))?;
    assert!(
        session
            .query("SELECT 1", ())
            .unwrap_err()
            .is_disconnection()
    );
    let pool = session.pool();
    drop(session);
    assert_eq!((pool.report().busy, pool.report().idle), (0, 0));
    let again = Session::new(&uri)?;
    assert_eq!(
        again.query("SELECT 2 AS two", ())?.as_dict()?["two"],
        Value::Int4(2)
    );
    Ok(())
}

#[test]
fn connections_lost_to_a_restart_are_replaced() -> R {
    let own = Temporal::builder().build()?;
    let uri = format!("{}?application_name=pool_restart", own.uri());
    let builder = Session::builder(&uri).pool_max_size(2);
    let (a, b) = (builder.clone().connect()?, builder.clone().connect()?);
    let old: HashSet<i32> = [backend_of(&a), backend_of(&b)].into();
    drop((a, b));
    let pool = Pool::get(&pool_id("Session", &uri)).unwrap();
    assert_eq!(pool.report().idle, 2);

    own.cluster()
        .expect("a cluster of our own")
        .restart(Duration::from_secs(60))?;

    // Both idle connections are dead; neither counts against the two slots.
    let (a, b) = (builder.clone().connect()?, builder.clone().connect()?);
    for session in [&a, &b] {
        assert!(!old.contains(&backend_of(session)));
        let results = session.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pool_restart'",
            (),
        )?;
        assert_eq!(results.as_dict()?["n"], Value::Int8(2));
    }
    assert_eq!((pool.report().busy, pool.report().idle), (2, 0));
    Ok(())
}

#[test]
fn shutdown_closes_idle_connections_and_retires_the_pool() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let app = "pool_shutdown";
    let uri = uri(&sandbox, app);
    let builder = Session::builder(&uri).pool_max_size(2);
    let (busy, idle) = (builder.clone().connect()?, builder.clone().connect()?);
    let (busy_pid, idle_pid) = (backend_of(&busy), backend_of(&idle));
    drop(idle);
    let pool = busy.pool();
    assert_eq!(format!("{pool:?}"), format!("Pool({:?})", busy.pid()));

    pool.shutdown();
    let report = pool.report();
    assert!(report.shut_down);
    assert_eq!((report.busy, report.idle), (1, 0));
    assert!(Pool::get(busy.pid()).is_none());
    assert!(eventually(Duration::from_secs(5), || !backend_alive(
        pg, idle_pid
    )));
    // The busy session still works, and its connection is closed when it ends.
    assert_eq!(
        busy.query("SELECT 3 AS x", ())?.as_dict()?["x"],
        Value::Int4(3)
    );
    drop(busy);
    assert!(eventually(Duration::from_secs(5), || !backend_alive(
        pg, busy_pid
    )));
    assert_eq!(pool.report().busy, 0);

    // A new session starts a new pool.
    let next = Session::new(&uri)?;
    assert!(Pool::get(next.pid()).is_some_and(|p| !p.report().shut_down));
    assert!(![busy_pid, idle_pid].contains(&backend_of(&next)));
    drop(next);
    Pool::get(&pool_id("Session", &uri)).unwrap().shutdown();
    assert!(eventually(Duration::from_secs(5), || backends(pg, app) == 0));
    Ok(())
}

#[test]
fn max_size_can_change() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "pool_resize");
    let first = Session::new(&uri)?;
    let pool = first.pool();
    pool.set_max_size(2);
    let second = Session::new(&uri)?; // the existing pool's size, not the builder's default
    assert_eq!(pool.report().busy, 2);
    drop((first, second));
    assert_eq!(pool.report().idle, 2);
    pool.set_max_size(1);
    let report = pool.report();
    assert_eq!((report.idle, report.max_size, report.full), (1, 1, true));
    Ok(())
}
