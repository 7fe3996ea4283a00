//! Issue 24's `queries` parity: what an async session tells of its connections, closing
//! sessions, named cursors, and pools whose settings a builder contradicts.

mod common;

use std::time::Duration;

use common::{R, backend_alive, backends, temporal, uri};
use pg_exceptions::Error;
use pg_session::{AsyncSession, Pool, Session, SessionError, Tuple};
use pg_types::Value;

fn closed(error: &Error) -> bool {
    matches!(SessionError::of(error), Some(SessionError::Closed { .. }))
}

fn conflict(error: &Error) -> Option<(&'static str, String, String)> {
    match SessionError::of(error) {
        Some(SessionError::PoolSettingConflict {
            setting,
            asked,
            existing,
            ..
        }) => Some((setting, asked.clone(), existing.clone())),
        _ => None,
    }
}

/// Waits until every connection of the session's pool is back (cleanings run in tasks).
async fn all_back(session: &AsyncSession<impl pg_session::RowForm>) {
    for _ in 0..500 {
        if session.pool().report().busy == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("connections still busy: {:?}", session.pool().report());
}

async fn text(session: &AsyncSession, sql: &str) -> Result<String, Error> {
    let results = session.query(sql, ()).await?;
    match &results.items()[0][0] {
        Value::Text(text) => Ok(text.clone()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_session_tells_its_last_backend_and_keeps_the_last_fifty_notices() -> R {
    let sandbox = temporal().sandbox()?;
    let uri = uri(&sandbox, "parity_observed");
    let session = AsyncSession::builder(&uri).pool_max_size(2).build()?;
    assert_eq!((session.backend_pid(), session.encoding()), (None, None));
    assert!(session.notices().is_empty());

    let results = session.query("SELECT pg_backend_pid() AS pid", ()).await?;
    assert!(results.backend_pid().is_some());
    assert_eq!(session.backend_pid(), results.backend_pid());
    assert_eq!(session.encoding().as_deref(), Some("UTF8"));

    let sixty = "DO $$ BEGIN FOR i IN 1..60 LOOP RAISE NOTICE 'n %', i; END LOOP; END $$";
    session.query(sixty, ()).await?;
    let notices = session.notices();
    assert_eq!(notices.len(), 50);
    assert_eq!(notices[0].message(), "n 11");
    assert_eq!(notices[49].message(), "n 60");

    // Clones are the same session; transactions and acquired connections count too, and so
    // does a query that failed after its notice.
    let clone = session.clone();
    clone
        .xact(async |conn| {
            conn.query_cached("DO $$ BEGIN RAISE NOTICE 'in a block'; END $$", ())
                .await?;
            Ok::<_, Error>(())
        })
        .await?;
    assert_eq!(session.notices().last().unwrap().message(), "in a block");
    {
        let conn = session.acquire().await?;
        conn.execute("DO $$ BEGIN RAISE NOTICE 'acquired'; END $$")
            .await?;
        assert_eq!(session.backend_pid(), clone.backend_pid());
    }
    assert_eq!(session.notices().last().unwrap().message(), "acquired");
    let failing = "DO $$ BEGIN RAISE NOTICE 'before'; PERFORM 1/0; END $$";
    assert!(session.query(failing, ()).await.is_err());
    assert_eq!(session.notices().last().unwrap().message(), "before");
    assert_eq!(session.notices().len(), 50);

    // Another session on the same pool has its own.
    let other = AsyncSession::new(&uri)?;
    other.query(sixty, ()).await?;
    all_back(&session).await;
    session.query("SELECT 1", ()).await?;
    assert_eq!(session.notices().last().unwrap().message(), "before");
    assert_eq!(other.notices().last().unwrap().message(), "n 60");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_sessions_encoding_applies_to_its_connections_only() -> R {
    let sandbox = temporal().sandbox()?;
    let uri = uri(&sandbox, "parity_encoding");
    let session = AsyncSession::builder(&uri)
        .pool_max_size(1)
        .pipeline_depth(4)
        .build()?;
    let other = AsyncSession::new(&uri)?;
    let show = "SHOW client_encoding";
    assert_eq!(text(&session, show).await?, "UTF8");
    session.set_encoding("LATIN1").await?;
    assert_eq!(session.encoding().as_deref(), Some("LATIN1"));
    for _ in 0..3 {
        assert_eq!(text(&session, show).await?, "LATIN1");
        // The pool's one connection is the other session's in between, as it was.
        assert_eq!(text(&other, show).await?, "UTF8");
    }
    session
        .xact(async |conn| {
            let shown = conn.query_cached(show, ()).await?;
            assert_eq!(shown.rows[0].get::<String>(0), "LATIN1");
            Ok::<_, Error>(())
        })
        .await?;
    assert_eq!(text(&other, show).await?, "UTF8");

    // An unknown encoding fails, and the session keeps the one it had.
    let error = session.set_encoding("NO_SUCH_ENCODING").await.unwrap_err();
    assert_eq!(error.code(), "22023", "{error}");
    assert_eq!(session.encoding().as_deref(), Some("LATIN1"));
    session.set_encoding("UTF8").await?;
    assert_eq!(text(&session, show).await?, "UTF8");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_async_session_refuses_work_and_its_held_connections_come_back() -> R {
    let sandbox = temporal().sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "parity_async_close"))
        .pool_max_size(2)
        .build()?;
    session.query("SELECT 1", ()).await?;
    let held = session.acquire().await?;
    let clone = session.clone();
    session.close()?;
    assert!(clone.is_closed());
    assert!(closed(&clone.query("SELECT 1", ()).await.unwrap_err()));
    assert!(closed(&session.acquire().await.unwrap_err()));
    assert!(closed(
        &session.callproc("pg_catalog.now", ()).await.unwrap_err()
    ));
    assert!(closed(
        &session.cursor("c", "SELECT 1", ()).await.unwrap_err()
    ));
    assert!(closed(&session.set_encoding("UTF8").await.unwrap_err()));
    let xact = session.xact(async |_| Ok::<_, Error>(())).await;
    assert!(closed(&xact.unwrap_err()));
    assert!(closed(&session.validate().await.unwrap_err()));
    let again = session.close().unwrap_err();
    assert!(closed(&again), "{again}");
    assert!(again.message().contains("is closed"), "{again}");
    // What was held when it closed still works, and goes back to the pool.
    held.execute("SELECT 1").await?;
    drop(held);
    all_back(&session).await;
    assert_eq!(session.pool().report().idle, 1);
    // The pool serves other sessions.
    let other = AsyncSession::new(session.uri())?;
    other.query("SELECT 1", ()).await?;
    Ok(())
}

#[test]
fn closing_a_session_closes_its_connection_and_removes_it_from_the_pool() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let app = "parity_close";
    let uri = uri(&sandbox, app);
    let session = Session::builder(&uri).autocommit(false).connect()?;
    session.query("CREATE TABLE never_committed (i int)", ())?;
    let backend = session.backend_pid().unwrap();
    let pool = session.pool();
    assert_eq!((pool.report().busy, pool.report().idle), (1, 0));
    session.close()?;
    assert!(session.is_closed());
    let report = pool.report();
    assert_eq!(
        (report.busy, report.idle),
        (0, 0),
        "removed, not given back"
    );
    assert!(common::eventually(Duration::from_secs(5), || {
        !backend_alive(pg, backend)
    }));

    // Every use is refused, closing again too.
    assert!(closed(&session.query("SELECT 1", ()).unwrap_err()));
    assert!(closed(&session.callproc("pg_catalog.now", ()).unwrap_err()));
    assert!(closed(&session.cursor("c", "SELECT 1", ()).unwrap_err()));
    assert!(closed(&session.commit().unwrap_err()));
    assert!(closed(&session.rollback().unwrap_err()));
    assert!(closed(&session.set_encoding("UTF8").unwrap_err()));
    assert!(closed(&session.query_readonly("SELECT 1", ()).unwrap_err()));
    assert!(closed(&session.readonly_connection().unwrap_err()));
    assert!(closed(&session.close().unwrap_err()));
    assert_eq!((session.backend_pid(), session.encoding()), (None, None));
    assert!(session.notices().is_empty());
    // A handle on its connection kept past the close fails as a closed connection does.
    let kept = session.connection().clone();
    assert!(kept.closed());
    assert!(kept.execute("SELECT 1").is_err());
    drop(session);
    assert_eq!(pool.report().busy + pool.report().idle, 0);

    // The block it had open was rolled back with the connection; the slot is free.
    let next = Session::new(&uri)?;
    assert_ne!(next.backend_pid(), Some(backend));
    let made = next.query(
        "SELECT count(*) AS n FROM pg_class WHERE relname = 'never_committed'",
        (),
    )?;
    assert_eq!(made.as_dict()?["n"], Value::Int8(0));
    // Dropping a session still gives the connection back for reuse.
    let reused = next.backend_pid();
    drop(next);
    assert_eq!(Session::new(&uri)?.backend_pid(), reused);
    assert_eq!(backends(pg, app), 1);
    Ok(())
}

#[test]
fn a_shared_session_closed_by_one_thread_is_closed_for_all() -> R {
    let sandbox = temporal().sandbox()?;
    let session = std::sync::Arc::new(Session::new(&uri(&sandbox, "parity_shared"))?);
    let closer = std::thread::spawn({
        let session = session.clone();
        move || session.close()
    });
    closer.join().unwrap()?;
    assert!(closed(&session.query("SELECT 1", ()).unwrap_err()));
    Ok(())
}

#[test]
fn a_sessions_cursor_pages_and_closes_when_dropped() -> R {
    let sandbox = temporal().sandbox()?;
    let session = Session::new(&uri(&sandbox, "parity_blocking_cursor"))?;
    let cursor = session.cursor("pages", "SELECT i FROM generate_series(1, $1) AS i", (25,))?;
    assert_eq!(cursor.as_async().cursor_id(), "pages");
    let first = cursor.read(Some(10), None)?;
    assert_eq!(first.len(), 10);
    assert_eq!(first[9].get::<i32>(0), 10);
    // The name is the server's: SQL reads the same cursor.
    let fetched = session.query("FETCH 5 FROM pages", ())?;
    assert_eq!(fetched.len(), 5);
    assert_eq!(cursor.read(None, None)?.len(), 10);
    let open = "SELECT count(*) AS n FROM pg_cursors WHERE name = 'pages'";
    assert_eq!(session.query(open, ())?.as_dict()?["n"], Value::Int8(1));
    // A name taken is the server's error.
    let taken = session.cursor("pages", "SELECT 1", ()).unwrap_err();
    assert_eq!(taken.code(), "42P03", "{taken}");
    drop(cursor);
    assert_eq!(session.query(open, ())?.as_dict()?["n"], Value::Int8(0));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_sessions_cursor_holds_its_connection_until_dropped_or_closed() -> R {
    let sandbox = temporal().sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "parity_cursor"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_millis(100))
        .row_form::<Tuple>()
        .build()?;
    let sql = "SELECT i, i * 2 AS twice FROM generate_series(1, $1) AS i";
    let cursor = session.cursor("report", sql, (1000,)).await?;
    assert_eq!(cursor.name(), "report");
    assert_eq!(session.pool().report().busy, 1);
    // The pool's one connection is the cursor's.
    let full = session.query("SELECT 1", ()).await.unwrap_err();
    assert!(matches!(
        SessionError::of(&full),
        Some(SessionError::PoolFull { .. })
    ));
    let mut seen = 0;
    loop {
        let page = cursor.fetch(300).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            seen += 1;
            assert_eq!((row.get::<i32>(0), row.get::<i32>(1)), (seen, 2 * seen));
        }
    }
    assert_eq!(seen, 1000);
    // The driver's cursor underneath: scrolling back.
    cursor.seek(0, pg_driver::Whence::Absolute).await?;
    let first = cursor.fetch_one().await?.unwrap();
    assert_eq!(first.get::<i32>(0), 1);
    let backend = cursor.connection().backend_id();
    drop(cursor);
    all_back(&session).await;
    let report = session.pool().report();
    assert_eq!((report.busy, report.idle, report.cleanings), (0, 1, 1));
    let left = session
        .query(
            "SELECT count(*)::int4, pg_backend_pid() FROM pg_cursors WHERE name <> ''",
            (),
        )
        .await?;
    assert_eq!(left[0].get::<i32>(0), 0, "the cursor is gone");
    assert_eq!(
        Some(left[0].get::<i32>(1)),
        backend,
        "on the same connection"
    );

    // close() closes it and waits for the connection to be back.
    let cursor = session.cursor("report", sql, (3,)).await?;
    assert_eq!(cursor.fetch_all().await?.len(), 3);
    cursor.close().await?;
    assert_eq!(session.pool().report().busy, 0);
    // A failed declaration gives the connection back too.
    let error = session.cursor("bad", "SELECT 1/0", ()).await.unwrap_err();
    assert_eq!(error.code(), "22012", "{error}");
    all_back(&session).await;
    let cursor = session.cursor("bad", "SELECT 1", ()).await?;
    assert_eq!(cursor.fetch_all().await?.len(), 1);
    Ok(())
}

/// Polls `future` `polls` times (yielding between), then drops it; whether it finished.
async fn poll_then_drop<T>(
    future: impl std::future::Future<Output = T>,
    polls: usize,
) -> Option<T> {
    let mut future = std::pin::pin!(future);
    for _ in 0..=polls {
        tokio::task::yield_now().await;
        let polled =
            std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx))).await;
        if let std::task::Poll::Ready(done) = polled {
            return Some(done);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_dropped_at_any_poll_leaves_no_cursor_and_the_pool_whole() -> R {
    let sandbox = temporal().sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "parity_cursor_drop"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(10))
        .build()?;
    let sql = "SELECT i FROM generate_series(1, 100) AS i";
    // The query itself is a portal (the unnamed one): only named cursors count.
    let open = "SELECT count(*)::text FROM pg_cursors WHERE name <> ''";
    let mut dropped = 0;
    for polls in 0.. {
        // Declaring, then paging, then closing: each future dropped after `polls` polls.
        let outcome = poll_then_drop(
            async {
                let cursor = session.cursor("dropped", sql, ()).await?;
                cursor.fetch(10).await?;
                cursor.close().await?;
                Ok::<_, Error>(())
            },
            polls,
        )
        .await;
        all_back(&session).await;
        assert_eq!(text(&session, open).await?, "0", "after {polls} polls");
        let report = session.pool().report();
        assert_eq!((report.busy, report.idle), (0, 1), "after {polls} polls");
        match outcome {
            Some(done) => {
                done?;
                break;
            }
            None => dropped += 1,
        }
        assert!(polls < 10_000, "the work ends");
    }
    assert!(dropped > 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_dropped_at_any_poll_leaves_no_state_and_the_pool_whole() -> R {
    let sandbox = temporal().sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "parity_query_drop"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(10))
        .build()?;
    let default = text(&session, "SHOW work_mem").await?;
    let mut dropped = 0;
    for polls in 0.. {
        let outcome = poll_then_drop(session.query("SET work_mem = '1234kB'", ()), polls).await;
        all_back(&session).await;
        let report = session.pool().report();
        assert_eq!((report.busy, report.idle), (0, 1), "after {polls} polls");
        assert_eq!(text(&session, "SHOW work_mem").await?, default);
        match outcome {
            Some(done) => {
                done?;
                break;
            }
            None => dropped += 1,
        }
        assert!(polls < 10_000, "the query ends");
    }
    assert!(dropped > 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_builder_contradicting_an_existing_pool_is_told_so() -> R {
    let sandbox = temporal().sandbox()?;
    let uri = uri(&sandbox, "parity_conflict");
    let first = AsyncSession::builder(&uri).pool_max_size(10).build()?;
    let error = AsyncSession::builder(&uri)
        .pool_max_size(5)
        .build()
        .unwrap_err();
    assert_eq!(
        conflict(&error),
        Some(("pool_max_size", "5".into(), "10".into()))
    );
    assert!(error.message().contains(first.pid()), "{error}");
    assert!(
        error
            .message()
            .contains("exists with pool_max_size 10, and this session asks for 5"),
        "{error}"
    );
    // The same size, or none, takes the pool as it is.
    let same = AsyncSession::builder(&uri).pool_max_size(10).build()?;
    let unset = AsyncSession::new(&uri)?;
    assert_eq!(unset.pool().report().max_size, 10);
    assert_eq!(same.pid(), unset.pid());
    // The idle TTL likewise; the acquire timeout is each session's own.
    let ttl = AsyncSession::builder(&uri)
        .pool_idle_ttl(Duration::from_secs(5))
        .build()
        .unwrap_err();
    assert_eq!(conflict(&ttl).unwrap().0, "pool_idle_ttl");
    AsyncSession::builder(&uri)
        .pool_idle_ttl(pg_session::DEFAULT_IDLE_TTL)
        .acquire_timeout(Duration::from_secs(1))
        .build()?;
    // A pool resized since is what a builder is compared with.
    first.pool().set_max_size(5);
    AsyncSession::builder(&uri).pool_max_size(5).build()?;
    assert!(
        AsyncSession::builder(&uri)
            .pool_max_size(10)
            .build()
            .is_err()
    );
    // Once the pool is shut down, the next session's size makes the new one.
    Pool::get(first.pid()).unwrap().shutdown();
    let remade = AsyncSession::builder(&uri).pool_max_size(3).build()?;
    assert_eq!(remade.pool().report().max_size, 3);
    // The old sessions now use the new pool, whose size the first of them contradicts.
    let stale = first.query("SELECT 1", ()).await.unwrap_err();
    assert_eq!(
        conflict(&stale),
        Some(("pool_max_size", "10".into(), "3".into()))
    );
    unset.query("SELECT 1", ()).await?;

    // Blocking sessions, on their own pool, are held to the same.
    let uri_blocking = uri.clone();
    // A thread of its own: a blocking session refuses to start inside a runtime.
    std::thread::spawn(move || -> R {
        let first = Session::builder(&uri_blocking).pool_max_size(2).connect()?;
        let error = Session::builder(&uri_blocking)
            .pool_max_size(3)
            .connect()
            .unwrap_err();
        assert_eq!(
            conflict(&error),
            Some(("pool_max_size", "3".into(), "2".into()))
        );
        let second = Session::new(&uri_blocking)?;
        assert_eq!(second.pool().report().busy, 2);
        drop(first);
        Ok(())
    })
    .join()
    .unwrap()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_dropped_at_any_poll_still_gives_the_connection_back_clean() -> R {
    let sandbox = temporal().sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "parity_release_drop"))
        .pool_max_size(1)
        .acquire_timeout(Duration::from_secs(10))
        .build()?;
    let default = text(&session, "SHOW work_mem").await?;
    let backend = session.backend_pid();
    for polls in 0..20 {
        let conn = session.acquire().await?;
        conn.execute("SET work_mem = '1234kB'").await?;
        let released = poll_then_drop(conn.release(), polls).await;
        all_back(&session).await;
        // Not closed (until this change, a release dropped while cleaning lost its slot for
        // good): the same backend, cleaned.
        let report = session.pool().report();
        assert_eq!((report.busy, report.idle), (0, 1), "after {polls} polls");
        assert_eq!(text(&session, "SHOW work_mem").await?, default);
        assert_eq!(session.backend_pid(), backend);
        if released.is_some() {
            break;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_handle_on_a_named_cursor_leaves_the_next_users_namesake_alone() -> R {
    let sandbox = temporal().sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "parity_namesake"))
        .pool_max_size(1)
        .build()?;
    let sql = "SELECT generate_series(1, 10)";
    let first = session.cursor("mine", sql, ()).await?;
    // A handle on the driver's cursor, kept past the session cursor (a clone through Deref).
    let stale: pg_driver::Cursor = (*first).clone();
    drop(first);
    all_back(&session).await;
    let second = session.cursor("mine", sql, ()).await?;
    assert_eq!(second.fetch(3).await?.len(), 3);
    // The stale handle knows its cursor was closed by the cleaning…
    assert!(stale.closed());
    assert_eq!(stale.next().await.unwrap_err().code(), "34000");
    // …and dropping it sends no Close that would end the namesake.
    drop(stale);
    assert_eq!(second.fetch(3).await?.len(), 3);
    assert_eq!(second.fetch_all().await?.len(), 4);
    Ok(())
}
