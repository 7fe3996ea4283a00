//! The blocking Session and its Results, against the throwaway cluster.

mod common;

use common::{R, temporal, uri};
use pg_driver::TransactionStatus;
use pg_session::{Record, Session, SessionError, Tuple, pool_id};
use pg_types::Value;

#[test]
fn pid_is_queries_md5_and_sessions_reuse_pooled_connections() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "session_reuse");

    let first = Session::new(&uri)?;
    assert_eq!(first.pid(), pool_id("Session", &uri));
    assert_eq!(first.uri(), uri);
    let backend = first.backend_pid().expect("a backend pid");
    let report = first.pool().report();
    assert_eq!((report.busy, report.idle, report.max_size), (1, 0, 1));
    assert!(report.full);
    drop(first); // gives the connection back (close() would close it)

    let report = pg_session::Pool::get(&pool_id("Session", &uri))
        .unwrap()
        .report();
    assert_eq!((report.busy, report.idle), (0, 1));
    for _ in 0..3 {
        let session = Session::new(&uri)?;
        assert_eq!(
            session.backend_pid(),
            Some(backend),
            "the idle connection is reused"
        );
        let results = session.query("SELECT pg_backend_pid()", ())?;
        assert_eq!(results.as_dict()?["pg_backend_pid"], Value::Int4(backend));
    }
    assert_eq!(common::backends(pg, "session_reuse"), 1);
    Ok(())
}

#[test]
fn results_follow_queries_semantics() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = Session::new(&uri(&sandbox, "session_results"))?;

    let sql = "SELECT i AS n, 'row ' || i AS label FROM generate_series(1, 3) i";
    let results = session.query(sql, ())?;
    assert_eq!(
        (results.len(), results.is_empty(), results.count()),
        (3, false, 3)
    );
    assert_eq!(results.status(), "SELECT 3");
    assert_eq!(results.query(), sql);
    assert_eq!(results.backend_pid(), session.backend_pid());
    assert_eq!(results.rownumber(), 0);

    // Mapping rows by default, column order kept.
    let first: &Record = &results[0];
    assert_eq!(first.keys().collect::<Vec<_>>(), ["n", "label"]);
    assert_eq!(first["n"], Value::Int4(1));
    assert_eq!(results.rownumber(), 1);
    assert_eq!(results[2]["label"], Value::Text("row 3".into()));
    assert!(results.get(3).is_none());

    // Iteration restarts every time and moves rownumber.
    let labels = |r: &pg_session::Results| -> Vec<Value> {
        r.iter().map(|row| row["label"].clone()).collect()
    };
    assert_eq!(labels(&results), labels(&results));
    assert_eq!(results.rownumber(), 3);
    let mut iter = results.iter();
    assert_eq!(results.rownumber(), 0);
    iter.next();
    assert_eq!(results.rownumber(), 1);
    assert_eq!(results.items().len(), 3);
    assert_eq!((&results).into_iter().count(), 3);

    // as_dict: an error for several rows, the row for one, empty for none.
    let error = results.as_dict().unwrap_err();
    assert!(matches!(
        SessionError::of(&error),
        Some(SessionError::MoreThanOneRow { rows: 3 })
    ));
    let one = session.query("SELECT 7 AS seven", ())?;
    assert_eq!(
        one.as_dict()?,
        Record::from([("seven".into(), Value::Int4(7))])
    );
    let none = session.query("SELECT 1 WHERE false", ())?;
    assert!(none.is_empty() && none.as_dict()?.is_empty());
    assert_eq!(
        (none.status(), none.count(), none.iter().count()),
        ("SELECT 0", 0, 0)
    );

    // Commands: the full tag, the affected count, and no rows (queries' len() was the count).
    let create = session.query("CREATE TABLE t (id int, name text)", ())?;
    assert_eq!(
        (create.status(), create.count(), create.len()),
        ("CREATE TABLE", 0, 0)
    );
    let insert = session.query("INSERT INTO t VALUES ($1, $2)", (1, "one"))?;
    assert_eq!(
        (insert.status(), insert.count(), insert.len()),
        ("INSERT 0 1", 1, 0)
    );
    session.query(
        "INSERT INTO t SELECT i, 'x' FROM generate_series(2, 5) i",
        (),
    )?;
    let update = session.query("UPDATE t SET name = upper(name) WHERE id > $1", (1,))?;
    assert_eq!((update.status(), update.count()), ("UPDATE 4", 4));
    assert!(update.is_empty() && update.iter().next().is_none());
    let returning = session.query("DELETE FROM t WHERE id <= 2 RETURNING id", ())?;
    assert_eq!((returning.status(), returning.len()), ("DELETE 2", 2));
    let ids: Vec<Value> = returning
        .into_iter()
        .map(|mut row| row.swap_remove("id").unwrap())
        .collect();
    assert_eq!(ids, [Value::Int4(1), Value::Int4(2)]);

    // Errors are the server's, classified.
    let error = session
        .query("SELECT * FROM missing_table", ())
        .unwrap_err();
    assert_eq!(error.code(), "42P01");
    let report = session.pool().report();
    assert_eq!((report.executions, report.exceptions), (9, 1));
    Ok(())
}

#[test]
fn tuple_rows_and_callproc() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = Session::builder(uri(&sandbox, "session_tuples"))
        .row_form::<Tuple>()
        .connect()?;
    let results = session.query("SELECT $1::int AS a, $2::text AS b", (5, "five"))?;
    assert_eq!(results[0], (5, "five"));
    assert_eq!(results[0].get::<String>("b"), "five");
    assert_eq!(results.as_dict()?["a"], Value::Int4(5));

    session.query(
        "CREATE FUNCTION add_up(a int, b int) RETURNS TABLE (total int, doubled int) \
         LANGUAGE sql AS 'SELECT a + b, 2 * (a + b)'",
        (),
    )?;
    let called = session.callproc("add_up", (2, 3))?;
    assert_eq!(called.len(), 1);
    assert_eq!(called[0], (5, 10));
    let qualified = format!("{}.ADD_UP", sandbox.schema());
    assert_eq!(
        session.callproc(&qualified, (1, 1))?[0].get::<i32>("total"),
        2
    );
    let now = session.callproc("pg_catalog.now", ())?;
    assert_eq!((now.len(), now.status()), (1, "SELECT 1"));
    let error = session.callproc("no_such_function", (1,)).unwrap_err();
    assert_eq!(error.code(), "42883");
    assert!(session.callproc("bad name", ()).is_err());
    Ok(())
}

#[test]
fn returned_connections_are_reset() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "session_reset");
    let session = Session::new(&uri)?;
    let backend = session.backend_pid();
    assert_eq!(session.encoding().as_deref(), Some("UTF8"));
    session.set_encoding("LATIN1")?;
    assert_eq!(session.encoding().as_deref(), Some("LATIN1"));
    session.query("SET work_mem = '7MB'", ())?;
    session.query("CREATE TEMP TABLE scratch (i int)", ())?;
    session.query(
        "DO $$ BEGIN RAISE NOTICE 'hello from %', 'plpgsql'; END $$",
        (),
    )?;
    assert!(
        session
            .notices()
            .iter()
            .any(|n| n.message() == "hello from plpgsql")
    );
    // A transaction left open is rolled back.
    session.query("BEGIN", ())?;
    session.query("CREATE TABLE half_done (i int)", ())?;
    assert_eq!(session.tx_status(), TransactionStatus::InTransaction);
    drop(session);

    let next = Session::new(&uri)?;
    assert_eq!(next.backend_pid(), backend, "the same connection");
    assert_eq!(next.tx_status(), TransactionStatus::Idle);
    assert_eq!(next.encoding().as_deref(), Some("UTF8"));
    assert!(next.notices().is_empty());
    let work_mem = next.query("SHOW work_mem", ())?;
    assert_ne!(work_mem.as_dict()?["work_mem"], Value::Text("7MB".into()));
    let tables = "SELECT count(*) AS n FROM pg_class WHERE relname IN ('scratch', 'half_done')";
    assert_eq!(next.query(tables, ())?.as_dict()?["n"], Value::Int8(0));
    // Startup settings (the sandbox's search_path, the application name) stay.
    let path = next.query(
        "SELECT current_schema() AS s, current_setting('application_name') AS a",
        (),
    )?;
    assert_eq!(path.as_dict()?["s"], Value::Text(sandbox.schema().into()));
    assert_eq!(path.as_dict()?["a"], Value::Text("session_reset".into()));
    Ok(())
}

#[test]
fn autocommit_off_runs_in_a_lazily_opened_block() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "session_autocommit");
    sandbox.admin_sql("CREATE TABLE ledger (entry text)")?;
    let count = |s: &Session| -> Result<Value, pg_exceptions::Error> {
        Ok(s.query("SELECT count(*) AS n FROM ledger", ())?.as_dict()?["n"].clone())
    };

    let session = Session::builder(&uri).autocommit(false).connect()?;
    assert!(!session.autocommit());
    assert_eq!(
        session.tx_status(),
        TransactionStatus::Idle,
        "opened lazily"
    );
    session.query("INSERT INTO ledger VALUES ('rolled back')", ())?;
    assert_eq!(session.tx_status(), TransactionStatus::InTransaction);
    session.rollback()?;
    assert_eq!(session.tx_status(), TransactionStatus::Idle);
    assert_eq!(count(&session)?, Value::Int8(0));

    session.query("INSERT INTO ledger VALUES ('kept')", ())?;
    session.commit()?;
    session.commit()?; // nothing open: nothing to do
    assert_eq!(sandbox.admin_sql("SELECT entry FROM ledger")?, "kept");

    // A failed statement leaves the block failed until rolled back, as in psycopg2.
    assert!(session.query("SELECT 1/0", ()).is_err());
    assert_eq!(session.tx_status(), TransactionStatus::Failed);
    assert_eq!(session.query("SELECT 1", ()).unwrap_err().code(), "25P02");
    session.rollback()?;

    // Uncommitted work is rolled back when the session ends.
    session.query("INSERT INTO ledger VALUES ('abandoned')", ())?;
    drop(session);
    assert_eq!(sandbox.admin_sql("SELECT count(*) FROM ledger")?, "1");

    let autocommitting = Session::new(&uri)?;
    autocommitting.query("INSERT INTO ledger VALUES ('at once')", ())?;
    assert_eq!(autocommitting.tx_status(), TransactionStatus::Idle);
    assert_eq!(count(&autocommitting)?, Value::Int8(2));
    Ok(())
}

#[test]
fn an_acquire_timeout_too_long_to_add_waits_as_long_as_it_takes() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let uri = uri(&sandbox, "session_forever");
    let first = Session::builder(&uri)
        .pool_max_size(1)
        .acquire_timeout(std::time::Duration::MAX)
        .connect()?;
    let waiter = std::thread::spawn({
        let uri = uri.clone();
        move || -> Result<i32, pg_exceptions::Error> {
            let second = Session::builder(&uri)
                .acquire_timeout(std::time::Duration::MAX)
                .connect()?;
            let results = second.query("SELECT 2 AS two", ())?;
            Ok(match results.as_dict()?["two"] {
                Value::Int4(two) => two,
                _ => 0,
            })
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!waiter.is_finished(), "the pool's one connection is taken");
    first.close()?;
    assert_eq!(waiter.join().unwrap()?, 2);
    Ok(())
}

#[test]
fn sessions_keep_notices_at_the_notice_level() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = Session::new(&uri(&sandbox, "session_notice_level"))?;
    let level = session.query("SHOW client_min_messages", ())?;
    assert_eq!(
        level.as_dict()?["client_min_messages"],
        Value::Text("notice".into())
    );
    // A URI that says otherwise is obeyed.
    let quiet = format!(
        "{}&options=-c%20client_min_messages%3Derror",
        uri(&sandbox, "session_error_level")
    );
    let session = Session::new(&quiet)?;
    let level = session.query("SHOW client_min_messages", ())?;
    assert_eq!(
        level.as_dict()?["client_min_messages"],
        Value::Text("error".into())
    );
    Ok(())
}

#[test]
fn a_batch_runs_in_one_transaction_or_in_the_sessions_block() -> R {
    let pg = temporal();
    let sandbox = pg.sandbox()?;
    let session = Session::new(&uri(&sandbox, "session_batch"))?;
    session.query("CREATE TABLE sb (i int PRIMARY KEY)", ())?;
    let results = session
        .batch()
        .query("INSERT INTO sb VALUES ($1)", (1i32,))
        .query("SELECT txid_current() AS x", ())
        .query("SELECT txid_current() AS x", ())
        .run()?;
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].count(), 1);
    assert_eq!(results[1].as_dict()?["x"], results[2].as_dict()?["x"]);
    let error = session
        .batch()
        .query("INSERT INTO sb VALUES ($1)", (2i32,))
        .query("INSERT INTO sb VALUES ($1)", (1i32,))
        .run()
        .unwrap_err();
    assert_eq!(error.code(), "23505");
    let count = session.query("SELECT count(*) AS n FROM sb", ())?;
    assert_eq!(
        count.as_dict()?["n"],
        Value::Int8(1),
        "the failed batch left nothing"
    );
    assert!(session.batch().run()?.is_empty());
    drop(session);

    // With autocommit off, in the session's block, which the batch opens.
    let manual = Session::builder(uri(&sandbox, "session_batch_manual"))
        .autocommit(false)
        .connect()?;
    manual
        .batch()
        .query("INSERT INTO sb VALUES ($1)", (5i32,))
        .query("INSERT INTO sb VALUES ($1)", (6i32,))
        .run()?;
    assert_eq!(
        manual.connection().transaction_status(),
        TransactionStatus::InTransaction
    );
    manual.rollback()?;
    let count = manual.query("SELECT count(*) AS n FROM sb", ())?;
    assert_eq!(
        count.as_dict()?["n"],
        Value::Int8(1),
        "rolled back with the block"
    );
    Ok(())
}

#[test]
fn the_blocking_connections_batch_is_one_round_trip_of_statements() -> R {
    let pg = temporal();
    let db = pg_driver::blocking::open(pg.iri())?;
    let results = db
        .batch()
        .query("SELECT $1::int4 * 2", (21i32,))
        .query("SELECT 'b'::text", ())
        .run()?;
    assert_eq!(results[0].rows[0].get::<i32>(0), 42);
    assert_eq!(results[1].rows[0].get::<String>(0), "b");
    let error = db
        .batch()
        .query("SELECT 1 / $1::int4", (0i32,))
        .run()
        .unwrap_err();
    assert_eq!(error.code(), "22012");
    assert_eq!(db.query_cached("SELECT 3", ())?.rows[0].get::<i32>(0), 3);
    Ok(())
}
