//! COPY against a real server: out through every execution method, in from lines, chunks,
//! streams and typed binary rows; failures undo the COPY and leave the connection usable.

mod common;

use std::time::Duration;

use futures::StreamExt;
use pg_exceptions::{ParameterError, QueryCanceledError};

async fn counted(db: &pg_driver::Connection, table: &str) -> i64 {
    db.query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap()
}

#[tokio::test]
async fn copy_out_through_call_rows_chunks_and_copy_rows() {
    let db = common::connect().await;
    let ps = db
        .prepare("COPY (SELECT i, 'x' || i FROM generate_series(1, 3) i) TO STDOUT")
        .await
        .unwrap();
    let results = ps.call(()).await.unwrap();
    assert_eq!((results.command.as_str(), results.count), ("COPY", Some(3)));
    let lines: Vec<&[u8]> = results
        .rows
        .iter()
        .map(|r| r.get::<&[u8]>("copy"))
        .collect();
    assert_eq!(lines, [&b"1\tx1\n"[..], b"2\tx2\n", b"3\tx3\n"]);
    let rows: Vec<_> = ps.rows(()).unwrap().map(|r| r.unwrap()).collect().await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].get::<&[u8]>(0), b"2\tx2\n");
    let chunked: usize = ps
        .chunks(())
        .unwrap()
        .map(|c| c.unwrap().len())
        .collect::<Vec<_>>()
        .await
        .iter()
        .sum();
    assert_eq!(chunked, 3);
    let pieces: Vec<_> = ps
        .copy_rows(())
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
        .await;
    assert_eq!(pieces, [&b"1\tx1\n"[..], b"2\tx2\n", b"3\tx3\n"]);
    let csv = db
        .prepare("COPY (SELECT 'a,b' AS t, NULL::int AS n) TO STDOUT (FORMAT csv, HEADER)")
        .await
        .unwrap();
    let pieces: Vec<_> = csv
        .copy_rows(())
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
        .await;
    assert_eq!(pieces, [&b"t,n\n"[..], b"\"a,b\",\n"]);
}

#[tokio::test]
async fn copy_in_text_csv_and_binary() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int, s text)").await.unwrap();
    let text = db.prepare("COPY t FROM STDIN").await.unwrap();
    let loaded = text
        .copy_in_rows((1..=1000).map(|i| format!("{i}\tline {i}\n")))
        .await
        .unwrap();
    assert_eq!(loaded, 1000);
    let csv = db.prepare("COPY t FROM STDIN (FORMAT csv)").await.unwrap();
    let chunks =
        (0..10).map(|c| (0..10).map(move |i| format!("{},\"with, comma\"\n", 2000 + c * 10 + i)));
    assert_eq!(csv.copy_in_chunks(chunks).await.unwrap(), 100);
    assert_eq!(
        db.query_first::<String, _>("SELECT s FROM t WHERE i = 2005", ())
            .await
            .unwrap(),
        "with, comma"
    );
    // Binary: the server's own binary output fed back in.
    let out = db
        .prepare("COPY t TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    let binary: Vec<bytes::Bytes> = out
        .copy_rows(())
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
        .await;
    db.execute("CREATE TABLE t2 (i int, s text)").await.unwrap();
    let into = db
        .prepare("COPY t2 FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    assert_eq!(into.copy_in_rows(binary).await.unwrap(), 1100);
    let same = "SELECT count(*) FROM (SELECT * FROM t EXCEPT SELECT * FROM t2) d";
    assert_eq!(db.query_first::<i64, _>(same, ()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_failing_source_aborts_the_copy_and_the_connection_goes_on() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    let copy = db.prepare("COPY t FROM STDIN").await.unwrap();
    let source = futures::stream::iter((1..=5000).map(|i| {
        if i == 4000 {
            Err("the source broke")
        } else {
            Ok(format!("{i}\n"))
        }
    }));
    let error = copy.copy_in((), source).await.unwrap_err();
    assert!(error.is_a(&QueryCanceledError), "{error}");
    assert!(error.message().contains("the source broke"), "{error}");
    assert_eq!(counted(&db, "t").await, 0);
    // Bad data is the server's error; the connection is usable after it.
    let error = copy.copy_in_rows(["1\n", "two\n"]).await.unwrap_err();
    assert!(error.code().starts_with("22"), "{error}");
    // A statement that is not COPY FROM STDIN is refused without breaking the session.
    let select = db.prepare("SELECT 1").await.unwrap();
    assert!(select.copy_in_rows(["1\n"]).await.is_err());
    assert_eq!(copy.copy_in_rows(["7\n", "8\n"]).await.unwrap(), 2);
    assert_eq!(counted(&db, "t").await, 2);
}

#[tokio::test]
async fn typed_binary_copy_of_rust_values() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(
        "CREATE TABLE \"Typed\" (id int, name text, price numeric, seen timestamptz, tags text[])",
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let rows = (0..20000).map(|i| {
        (
            i,
            format!("n{i}"),
            rust_decimal::Decimal::new(i as i64, 2),
            now,
            vec![format!("t{i}")],
        )
    });
    let loaded = db.copy_in_values("\"Typed\"", &[], rows).await.unwrap();
    assert_eq!(loaded, 20000);
    let check = db
        .prepare("SELECT name, price::text, tags[1] FROM \"Typed\" WHERE id = $1")
        .await
        .unwrap();
    let row = check.call((1234i32,)).await.unwrap().rows.remove(0);
    assert_eq!(row, ("n1234", "12.34", "t1234"));
    // Some columns only; the rest get their defaults (NULL).
    let loaded = db
        .copy_in_values("\"Typed\"", &["name", "id"], [("only", -1i32)])
        .await
        .unwrap();
    assert_eq!(loaded, 1);
    // A row that cannot be encoded: ParameterError, nothing of this load stays.
    let bad = (0..100).map(|i| {
        vec![
            pg_types::Value::Int4(i),
            if i == 50 {
                pg_types::Value::Int4(5)
            } else {
                pg_types::Value::Text("ok".into())
            },
        ]
    });
    let error = db
        .copy_in_values("\"Typed\"", &["id", "name"], bad)
        .await
        .unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    assert_eq!(counted(&db, "\"Typed\"").await, 20001);
    // Names are quoted: a hostile column name is a column name, not SQL.
    let error = db
        .copy_in_values("\"Typed\"", &["id) ; DROP TABLE \"Typed\" --"], [(1i32,)])
        .await
        .unwrap_err();
    assert!(error.code() == "42703", "{error}");
    assert_eq!(counted(&db, "\"Typed\"").await, 20001);
}

#[tokio::test]
async fn another_statement_during_copy() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE t (i int)").await.unwrap();
    // COPY TO: the rest of the output is read first, then the other statement runs.
    let out = db
        .prepare("COPY (SELECT generate_series(1, 20000)) TO STDOUT")
        .await
        .unwrap();
    let mut pieces = out.copy_rows(()).unwrap();
    assert_eq!(&pieces.next().await.unwrap().unwrap()[..], b"1\n");
    assert_eq!(db.query_first::<i32, _>("SELECT 5", ()).await.unwrap(), 5);
    let mut n = 1;
    while let Some(piece) = pieces.next().await {
        n += 1;
        assert_eq!(piece.unwrap(), format!("{n}\n").as_bytes());
    }
    assert_eq!(n, 20000);
    // COPY FROM: a statement issued meanwhile makes the COPY fail; it runs itself.
    let copy = db.prepare("COPY t FROM STDIN").await.unwrap();
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let source = futures::stream::iter(vec![Ok::<_, String>("1\n".to_owned())]).chain(
        futures::stream::once(async move {
            let _ = wait.await;
            Ok("2\n".to_owned())
        }),
    );
    let copying = {
        let copy = copy.clone();
        tokio::spawn(async move { copy.copy_in((), source).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let other = db.query_first::<i32, _>("SELECT 6", ()).await.unwrap();
    assert_eq!(other, 6);
    let _ = release.send(());
    let error = copying.await.unwrap().unwrap_err();
    assert!(error.is_a(&QueryCanceledError), "{error}");
    assert_eq!(counted(&db, "t").await, 0);
}

#[test]
fn blocking_copy() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute("CREATE TABLE t (i int)").unwrap();
    let copy = db.prepare("COPY t FROM STDIN").unwrap();
    assert_eq!(
        copy.copy_in_rows((0..100).map(|i| format!("{i}\n")))
            .unwrap(),
        100
    );
    let out = db.prepare("COPY t TO STDOUT").unwrap();
    let lines: Vec<Vec<u8>> = out
        .copy_rows(())
        .unwrap()
        .map(|b| b.unwrap().to_vec())
        .collect();
    assert_eq!(lines.len(), 100);
    assert_eq!(
        db.copy_in_values("t", &["i"], [(1000i32,), (1001,)])
            .unwrap(),
        2
    );
}

/// Every execution method but the COPY feeders, on a COPY FROM STDIN statement: a clear error
/// in bounded time, and the connection (and requests pipelined behind) in sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_stdin_through_other_methods_ends_promptly() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE fed (i int)").await.unwrap();
    let copy = db.prepare("COPY fed FROM STDIN").await.unwrap();
    let bound = Duration::from_secs(5);
    let within = async |what: &str,
                        run: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), pg_exceptions::Error>> + Send + '_>,
    >| {
        let error = tokio::time::timeout(bound, run)
            .await
            .unwrap_or_else(|_| panic!("{what} on COPY FROM STDIN hung"))
            .expect_err(what);
        assert!(error.is_a(&QueryCanceledError), "{what}: {error}");
        assert!(error.message().contains("copy_in"), "{what}: {error}");
    };
    within("call", Box::pin(async { copy.call(()).await.map(drop) })).await;
    within(
        "first",
        Box::pin(async { copy.first::<pg_driver::First, _>(()).await.map(drop) }),
    )
    .await;
    within(
        "rows",
        Box::pin(async {
            let mut rows = copy.rows(())?;
            while let Some(row) = rows.next().await {
                row?;
            }
            Ok(())
        }),
    )
    .await;
    within(
        "chunks",
        Box::pin(async {
            let mut chunks = copy.chunks(())?;
            while let Some(chunk) = chunks.next().await {
                chunk?;
            }
            Ok(())
        }),
    )
    .await;
    within(
        "query",
        Box::pin(async { db.query("COPY fed FROM STDIN", ()).await.map(drop) }),
    )
    .await;
    within(
        "execute",
        Box::pin(db.execute("SELECT 1; COPY fed FROM STDIN; SELECT 2")),
    )
    .await;
    // Requests pipelined behind one get their own answers.
    let (failed, echo) = futures::join!(
        copy.call(()),
        db.query_first::<i32, _>("SELECT $1::int4", (11,))
    );
    assert!(failed.is_err());
    assert_eq!(echo.unwrap(), 11);
    assert_eq!(copy.copy_in_rows(["1\n", "2\n"]).await.unwrap(), 2);
    assert_eq!(counted(&db, "fed").await, 2);

    // The blocking facade's thread comes back too.
    let iri = sandbox.iri().to_owned();
    std::thread::spawn(move || {
        let db = pg_driver::blocking::open(&iri).unwrap();
        let copy = db.prepare("COPY fed FROM STDIN").unwrap();
        let error = copy.call(()).unwrap_err();
        assert!(error.is_a(&QueryCanceledError), "{error}");
        assert_eq!(
            db.prepare("SELECT 3").unwrap().first::<i32, _>(()).unwrap(),
            3
        );
    })
    .join()
    .unwrap();
}
