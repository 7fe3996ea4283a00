//! Rows between connections, as py-postgresql's narrative moves them (`dst.load_rows(src.rows())`),
//! and COPY data lines through `load_rows` on a COPY … FROM STDIN statement — async and blocking.

mod common;

use futures::StreamExt;
use pg_exceptions::ParameterError;

const SOURCE: &str = "SELECT i, md5(i::text), CASE WHEN i % 7 = 0 THEN NULL ELSE i * 0.5 END \
                      FROM generate_series(1, 5000) i";

/// The rows of `table`, in order, as text.
async fn dump(db: &pg_driver::Connection, table: &str) -> Vec<String> {
    db.query(&format!("SELECT t::text FROM {table} t ORDER BY 1"), ())
        .await
        .unwrap()
        .rows
        .iter()
        .map(|r| r.get::<String>(0))
        .collect()
}

#[tokio::test]
async fn rows_and_chunks_of_one_connection_load_into_another() {
    let sandbox = common::temporal().sandbox().unwrap();
    let src = sandbox.connect().await.unwrap();
    let dst = sandbox.connect().await.unwrap();
    for table in ["by_rows", "by_chunks", "expected"] {
        dst.execute(&format!(
            "CREATE TABLE {table} (i int, h text, half numeric)"
        ))
        .await
        .unwrap();
    }
    dst.execute(&format!("INSERT INTO expected {SOURCE}"))
        .await
        .unwrap();
    let source = src.prepare(SOURCE).await.unwrap();
    let insert = dst
        .prepare("INSERT INTO by_rows VALUES ($1, $2, $3)")
        .await
        .unwrap();
    assert_eq!(
        insert.load_stream(source.rows(()).unwrap()).await.unwrap(),
        5000
    );
    let insert = dst
        .prepare("INSERT INTO by_chunks VALUES ($1, $2, $3)")
        .await
        .unwrap();
    let loaded = insert
        .load_chunk_stream(source.chunks(()).unwrap())
        .await
        .unwrap();
    assert_eq!(loaded, 5000);
    let expected = dump(&dst, "expected").await;
    assert_eq!(dump(&dst, "by_rows").await, expected);
    assert_eq!(dump(&dst, "by_chunks").await, expected);

    // A source that fails part-way: the load stops, nothing of it commits.
    let failing = src
        .prepare("SELECT i, 'x', 1 / (i - 3000) FROM generate_series(1, 5000) i")
        .await
        .unwrap();
    let error = insert
        .load_stream(failing.rows(()).unwrap())
        .await
        .unwrap_err();
    assert!(error.is_a(&pg_exceptions::ZeroDivisionError), "{error}");
    assert_eq!(dump(&dst, "by_chunks").await, expected);
    // A Row is a parameter set of its own, too.
    let row = src
        .query("SELECT 1, 'one', 0.5", ())
        .await
        .unwrap()
        .rows
        .remove(0);
    assert_eq!(insert.call(row).await.unwrap().count, Some(1));
}

#[tokio::test]
async fn load_rows_on_a_copy_statement_feeds_data_lines() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute("CREATE TABLE lines (i int, t text)")
        .await
        .unwrap();
    let copy = db.prepare("COPY lines FROM STDIN").await.unwrap();
    // Text lines, byte lines, and batches of them.
    assert_eq!(
        copy.load_rows([("1\tone\n",), ("2\ttwo\n",)])
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        copy.load_rows([(b"3\tthree\n".to_vec(),)]).await.unwrap(),
        1
    );
    let chunks = [vec![("4\tfour\n",), ("5\tfive\n",)], vec![("6\tsix\n",)]];
    assert_eq!(copy.load_chunks(chunks).await.unwrap(), 3);
    let csv = db
        .prepare("COPY lines FROM STDIN WITH (FORMAT csv)")
        .await
        .unwrap();
    assert_eq!(csv.load_rows([("7,\"se,ven\"\n",)]).await.unwrap(), 1);
    assert_eq!(
        db.query_first::<i64, _>("SELECT count(*) FROM lines", ())
            .await
            .unwrap(),
        7
    );
    // A row that is not one line: a clear error, nothing of that load kept.
    let error = copy
        .load_rows([("8\teight\n", 2i32)].into_iter())
        .await
        .unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    let error = copy
        .load_rows([(Some("9\tnine\n"),), (None,)])
        .await
        .unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    assert_eq!(
        db.query_first::<i64, _>("SELECT count(*) FROM lines", ())
            .await
            .unwrap(),
        7
    );
    // COPY data from another connection's COPY TO, as lines.
    let src = sandbox.connect().await.unwrap();
    let out = src
        .prepare("COPY (SELECT i, 'n' || i FROM generate_series(10, 19) i) TO STDOUT")
        .await
        .unwrap();
    let lines = out
        .copy_rows(())
        .unwrap()
        .map(|line| line.map(|l| (l.to_vec(),)));
    assert_eq!(copy.load_stream(lines).await.unwrap(), 10);
}

#[test]
fn blocking_rows_of_one_connection_load_into_another() {
    let sandbox = common::temporal().sandbox().unwrap();
    let iri = sandbox.iri();
    let src = pg_driver::blocking::open(&iri).unwrap();
    let dst = pg_driver::blocking::open(&iri).unwrap();
    dst.execute("CREATE TABLE b_rows (i int, h text, half numeric)")
        .unwrap();
    dst.execute("CREATE TABLE b_lines (i int, t text)").unwrap();
    let source = src.prepare(SOURCE).unwrap();
    let insert = dst
        .prepare("INSERT INTO b_rows VALUES ($1, $2, $3)")
        .unwrap();
    // The iterator drives the source connection while the load drives its own.
    assert_eq!(insert.load_stream(source.rows(()).unwrap()).unwrap(), 5000);
    assert_eq!(
        insert
            .load_chunk_stream(source.chunks(()).unwrap())
            .unwrap(),
        5000
    );
    // load_rows takes rows pulled from another connection's iterator one by one.
    let rows = source.rows(()).unwrap().map(Result::unwrap);
    assert_eq!(insert.load_rows(rows).unwrap(), 5000);
    let count = dst.prepare("SELECT count(*) FROM b_rows").unwrap();
    assert_eq!(count.first::<i64, _>(()).unwrap(), 15000);

    let copy = dst.prepare("COPY b_lines FROM STDIN").unwrap();
    assert_eq!(copy.load_rows([("1\tone\n",), ("2\ttwo\n",)]).unwrap(), 2);
    let error = copy.load_rows([("3\tthree\n", 3i32)]).unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    let count = dst.prepare("SELECT count(*) FROM b_lines").unwrap();
    assert_eq!(count.first::<i64, _>(()).unwrap(), 2);
}
