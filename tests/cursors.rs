//! Scrollable cursors against a real server: py-postgresql's cursor sequences (reads, scrolls,
//! seeks in both directions), WITH HOLD, cursor_from_id, closing, cloning, and the blocking facade.

mod common;

use futures::StreamExt;
use pg_driver::{Connection, Cursor, Direction, Whence};
use pg_exceptions::{CursorNameError, OperationError, ParameterError, Source, ZeroDivisionError};
use pg_types::{Row, Value};

/// The last value of the big series, generate_series(0, 65535): 65,536 rows.
const IMAX: i32 = 65535;
const ROWS: i64 = IMAX as i64 + 1;
const ASCENDING: &str = "SELECT i FROM generate_series(0, 65535) AS g(i)";
const DESCENDING: &str = "SELECT i FROM generate_series(65535, 0, -1) AS g(i)";

fn ints(rows: Vec<Row>) -> Vec<i32> {
    rows.iter().map(|r| r.get::<i32>(0)).collect()
}

fn down(from: i32, count: i32) -> Vec<i32> {
    (0..count).map(|k| from - k).collect()
}

async fn read(c: &Cursor, quantity: u64) -> Vec<i32> {
    ints(c.read(Some(quantity), None).await.unwrap())
}

async fn read_back(c: &Cursor, quantity: u64) -> Vec<i32> {
    ints(
        c.read(Some(quantity), Some(Direction::Backward))
            .await
            .unwrap(),
    )
}

async fn cursors_open(db: &Connection, name: &str) -> i64 {
    let sql = "SELECT count(*) FROM pg_cursors WHERE name = $1";
    db.query_first::<i64, _>(sql, (name,)).await.unwrap()
}

/// py-postgresql's `cursor_read`: reads of growing sizes are contiguous, 0 reads nothing.
async fn reads_are_contiguous(db: &Connection) {
    let ps = db
        .prepare("SELECT i FROM generate_series(0, (2^8)::int - 1) AS g(i)")
        .await
        .unwrap();
    let c = ps.declare(()).await.unwrap();
    let mut expected = 0;
    for size in [0, 0, 1, 1, 2, 2, 3, 4, 4, 5, 0, 6] {
        let want: Vec<i32> = (expected..expected + size).collect();
        assert_eq!(read(&c, size as u64).await, want, "a read of {size}");
        expected += size;
    }
    assert_eq!(expected, 28);
    let mut size = 4;
    loop {
        size *= 2;
        let got = read(&c, size as u64).await;
        let top = (expected + size).min(256);
        assert_eq!(got, (expected..top).collect::<Vec<_>>());
        expected = top;
        if got.is_empty() {
            break;
        }
    }
    assert_eq!(c.read(None, None).await.unwrap().len(), 0);
}

#[tokio::test]
async fn reads_of_every_size_are_contiguous() {
    let db = common::connect().await;
    reads_are_contiguous(&db).await;
}

#[tokio::test]
async fn reads_are_contiguous_inside_a_transaction_block() {
    let db = common::connect().await;
    db.execute("BEGIN").await.unwrap();
    reads_are_contiguous(&db).await;
    db.execute("COMMIT").await.unwrap();
}

#[tokio::test]
async fn next_fetches_one_row_without_prefetching() {
    let db = common::connect().await;
    let c = db
        .query_declare("SELECT i FROM generate_series(0, 10) AS g(i)", ())
        .await
        .unwrap();
    for expected in 0..3 {
        assert_eq!(c.next().await.unwrap().unwrap().get::<i32>(0), expected);
    }
    // Another handle sees the server's position: nothing was read ahead.
    let other = c.clone();
    assert_eq!(read(&other, 1).await, [3]);
    let rest: Vec<i32> = c.stream().map(|r| r.unwrap().get::<i32>(0)).collect().await;
    assert_eq!(rest, (4..=10).collect::<Vec<_>>());
    assert!(c.next().await.unwrap().is_none());
    // Backward, next walks back.
    c.set_direction(Direction::Backward);
    assert_eq!(c.next().await.unwrap().unwrap().get::<i32>(0), 10);
    assert_eq!(c.next().await.unwrap().unwrap().get::<i32>(0), 9);
}

/// py-postgresql's `testScroll`: the same expectations hold for an ascending series read
/// forward and a descending one read backward.
async fn scroll(descending: bool) {
    let db = common::connect().await;
    let ps = db
        .prepare(if descending { DESCENDING } else { ASCENDING })
        .await
        .unwrap();
    let c = ps.declare(()).await.unwrap();
    if descending {
        c.set_direction(Direction::Backward);
        c.seek(0, Whence::Absolute).await.unwrap();
    }
    assert_eq!(read(&c, 10).await, (0..10).collect::<Vec<_>>());
    assert_eq!(read_back(&c, 10).await, down(8, 9));
    c.seek(0, Whence::FromEnd).await.unwrap();
    assert_eq!(read_back(&c, 10).await, down(IMAX, 10));
    c.seek(0, Whence::FromEnd).await.unwrap();
    assert_eq!(read_back(&c, 100).await, down(IMAX, 100));
    c.seek(-100, Whence::Relative).await.unwrap();
    assert_eq!(read_back(&c, 100).await, down(IMAX - 200, 100));
    c.seek(14000, Whence::Absolute).await.unwrap();
    assert_eq!(read(&c, 100).await, (14000..14100).collect::<Vec<_>>());
    c.seek(100, Whence::Relative).await.unwrap();
    assert_eq!(read(&c, 100).await, (14200..14300).collect::<Vec<_>>());
    c.seek(24000, Whence::Absolute).await.unwrap();
    assert_eq!(read(&c, 200).await, (24000..24200).collect::<Vec<_>>());
    c.seek(20, Whence::FromEnd).await.unwrap();
    assert_eq!(read_back(&c, 200).await, down(IMAX - 20, 200));
    c.seek(0, Whence::FromEnd).await.unwrap();
    c.seek(-10, Whence::Relative).await.unwrap();
    let r1 = read(&c, 10).await;
    assert_eq!(r1, ((IMAX - 8)..=IMAX).collect::<Vec<_>>());
    c.seek(10, Whence::FromEnd).await.unwrap();
    assert_eq!(read(&c, 10).await, r1);
}

#[tokio::test]
async fn scroll_forward_over_an_ascending_series() {
    scroll(false).await;
}

#[tokio::test]
async fn scroll_backward_over_a_descending_series() {
    scroll(true).await;
}

enum Op {
    /// seek(offset, whence) and the count it returns.
    Seek(i64, Whence, u64),
    /// seek_all(whence) and the count it returns.
    SeekAll(Whence, u64),
    /// read(quantity, direction) and the values it returns.
    Read(u64, Option<Direction>, Vec<i32>),
}

/// Every whence, with positive, negative, zero and out-of-range offsets; the row read after
/// each seek, and seek's count.
fn every_whence() -> Vec<Op> {
    use Op::{Read, Seek, SeekAll};
    use Whence::*;
    let back = Some(Direction::Backward);
    let n = ROWS as u64;
    vec![
        Seek(0, Absolute, 0),
        Read(1, None, vec![0]),
        Seek(100, Absolute, 1),
        Read(1, None, vec![100]),
        Seek(10, Relative, 1),
        Read(1, None, vec![111]),
        Seek(-12, Relative, 1),
        Read(1, None, vec![100]),
        Seek(0, Relative, 1),
        Read(1, None, vec![101]),
        // To the end: nothing is left to read forward.
        Seek(0, FromEnd, 0),
        Read(1, None, vec![]),
        Seek(1, FromEnd, 1),
        // On the last row: the forward read of nothing steps past it.
        Read(1, None, vec![]),
        Read(1, back, vec![IMAX]),
        Seek(2, FromEnd, 1),
        Read(1, back, vec![IMAX - 2]),
        Seek(20, FromEnd, 1),
        Read(2, back, vec![IMAX - 20, IMAX - 21]),
        Seek(ROWS + 5, FromEnd, 0),
        Read(1, None, vec![0]),
        Seek(0, Absolute, 0),
        Seek(5, Forward, 5),
        Read(1, None, vec![5]),
        Seek(3, Backward, 3),
        Read(1, None, vec![3]),
        Seek(-2, Backward, 2),
        Read(1, None, vec![6]),
        Seek(-3, Forward, 3),
        Read(1, None, vec![4]),
        Seek(-1, Absolute, 1),
        Read(1, None, vec![]),
        Read(1, back, vec![IMAX]),
        Seek(ROWS + 10, Absolute, 0),
        Read(1, None, vec![]),
        Seek(10, Absolute, 1),
        SeekAll(Absolute, n - 10),
        Read(1, None, vec![]),
        SeekAll(Backward, n),
        Read(1, None, vec![0]),
        SeekAll(Forward, n - 1),
        Read(1, back, vec![IMAX]),
        Seek(ROWS - 1, Absolute, 1),
        Read(2, None, vec![IMAX]),
        Seek(ROWS, Absolute, 1),
        Read(1, None, vec![]),
    ]
}

async fn run_every_whence(sql: &str, direction: Direction) {
    let db = common::connect().await;
    let c = db.query_declare(sql, ()).await.unwrap();
    c.set_direction(direction);
    for (step, op) in every_whence().into_iter().enumerate() {
        match op {
            Op::Seek(offset, whence, count) => {
                let moved = c.seek(offset, whence).await.unwrap();
                assert_eq!(moved, count, "step {step}: seek({offset}, {whence})");
            }
            Op::SeekAll(whence, count) => {
                let moved = c.seek_all(whence).await.unwrap();
                assert_eq!(moved, count, "step {step}: seek_all({whence})");
            }
            Op::Read(quantity, way, values) => {
                let got = ints(c.read(Some(quantity), way).await.unwrap());
                assert_eq!(got, values, "step {step}: read({quantity}, {way:?})");
            }
        }
    }
}

#[tokio::test]
async fn seek_with_every_whence_forward() {
    run_every_whence(ASCENDING, Direction::Forward).await;
}

#[tokio::test]
async fn seek_with_every_whence_backward_mirrors_forward() {
    run_every_whence(DESCENDING, Direction::Backward).await;
}

/// py-postgresql's `testSeek`: FORWARD and BACKWARD count the rows moved; ALL moves to the end.
#[tokio::test]
async fn seek_forward_and_backward_count_rows() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT i FROM generate_series(0, (2^6)::int - 1) AS g(i)")
        .await
        .unwrap();
    let c = ps.declare(()).await.unwrap();
    assert_eq!(c.seek(4, "FORWARD".parse().unwrap()).await.unwrap(), 4);
    assert_eq!(read(&c, 10).await, (4..14).collect::<Vec<_>>());
    assert_eq!(c.seek(2, Whence::try_from(4).unwrap()).await.unwrap(), 2);
    assert_eq!(read(&c, 10).await, (12..22).collect::<Vec<_>>());
    assert_eq!(c.seek(-5, Whence::Backward).await.unwrap(), 5);
    assert_eq!(read(&c, 10).await, (27..37).collect::<Vec<_>>());
    assert_eq!(c.seek_all(Whence::Absolute).await.unwrap(), 27);
    // To the end: a read of one gives nothing.
    c.seek(0, Whence::FromEnd).await.unwrap();
    assert!(c.read(Some(1), None).await.unwrap().is_empty());
}

/// py-postgresql's documentation: a backward cursor over a reversed series reads and seeks
/// exactly like a forward one over the series.
#[tokio::test]
async fn a_backward_cursor_mirrors_a_forward_one() {
    let db = common::connect().await;
    let reverse_c = db
        .query_declare("SELECT i FROM generate_series(99, 0, -1) AS g(i)", ())
        .await
        .unwrap();
    let c = db
        .query_declare("SELECT i FROM generate_series(0, 99) AS g(i)", ())
        .await
        .unwrap();
    reverse_c.set_direction("BACKWARD".parse().unwrap());
    reverse_c.seek(0, Whence::Absolute).await.unwrap();
    let whole = ints(c.read(None, None).await.unwrap());
    assert_eq!(whole, (0..100).collect::<Vec<_>>());
    assert_eq!(ints(reverse_c.read(None, None).await.unwrap()), whole);
    reverse_c.seek(50, Whence::Absolute).await.unwrap();
    c.seek(50, Whence::Absolute).await.unwrap();
    assert_eq!(read(&c, 10).await, read(&reverse_c, 10).await);
    assert_eq!(read_back(&c, 10).await, read_back(&reverse_c, 10).await);
    c.seek(-10, Whence::Relative).await.unwrap();
    reverse_c.seek(-10, Whence::Relative).await.unwrap();
    let back = read_back(&c, 10).await;
    assert_eq!(back, read_back(&reverse_c, 10).await);
    assert!(!back.is_empty());
}

#[tokio::test]
async fn with_hold_outlives_the_declaring_transaction() {
    let db = common::connect().await;
    db.execute("BEGIN").await.unwrap();
    let ps = db
        .prepare("SELECT i FROM generate_series(0, 99) AS g(i)")
        .await
        .unwrap();
    let c = ps.declare(()).await.unwrap();
    let id = c.cursor_id().to_owned();
    db.execute("COMMIT").await.unwrap();
    assert_eq!(
        ints(c.read(None, None).await.unwrap()),
        (0..100).collect::<Vec<_>>()
    );
    assert_eq!(c.cursor_id(), id);
    assert!(c.cursor_id().starts_with("pg_api_c"));
}

#[tokio::test]
async fn cursor_from_id_reads_a_cursor_declared_in_sql() {
    let db = common::connect().await;
    db.execute("DECLARE foo CURSOR WITH HOLD FOR SELECT 1 AS one")
        .await
        .unwrap();
    let c = db.cursor_from_id("foo").await.unwrap();
    assert_eq!(c.column_names(), ["one"]);
    assert_eq!(ints(c.read(None, None).await.unwrap()), [1]);
    db.execute(
        "DECLARE bar SCROLL CURSOR WITH HOLD FOR SELECT i FROM generate_series(0, 99) AS g(i)",
    )
    .await
    .unwrap();
    let c = db.cursor_from_id("bar").await.unwrap();
    assert!(!c.is_owned() && c.string().is_none());
    // A cursor opened by name came from no statement of this side.
    assert!(c.statement().is_none());
    c.seek(50, Whence::Absolute).await.unwrap();
    assert_eq!(read(&c, 10).await, (50..60).collect::<Vec<_>>());
    c.seek(0, Whence::try_from(2).unwrap()).await.unwrap();
    assert!(c.read(None, None).await.unwrap().is_empty());
    c.seek(0, Whence::Absolute).await.unwrap();
    assert_eq!(
        ints(c.read(None, None).await.unwrap()),
        (0..100).collect::<Vec<_>>()
    );
    // Opening it mid-way does not move it, and dropping the handle does not close it.
    c.seek(10, Whence::Absolute).await.unwrap();
    drop(c);
    let c = db.cursor_from_id("bar").await.unwrap();
    assert_eq!(c.pg_column_types(), [23]);
    assert_eq!(c.sql_column_types(), ["INTEGER"]);
    assert_eq!(read(&c, 1).await, [10]);
    drop(c);
    assert_eq!(cursors_open(&db, "bar").await, 1);
    let c = db.cursor_from_id("bar").await.unwrap();
    c.close().await.unwrap();
    assert_eq!(cursors_open(&db, "bar").await, 0);
    let missing = db.cursor_from_id("no_such_cursor").await.unwrap_err();
    assert!(missing.is_a(&CursorNameError), "{missing}");
    let err = c.clone_cursor().await.unwrap_err();
    assert!(err.is_a(&OperationError));
}

#[tokio::test]
async fn a_declared_cursor_closes_when_its_last_handle_drops() {
    let db = common::connect().await;
    let c = db.query_declare("SELECT 1", ()).await.unwrap();
    let id = c.cursor_id().to_owned();
    assert!(c.is_owned());
    assert_eq!(cursors_open(&db, &id).await, 1);
    let other = c.clone();
    drop(c);
    assert_eq!(cursors_open(&db, &id).await, 1);
    drop(other);
    assert_eq!(cursors_open(&db, &id).await, 0);
}

#[tokio::test]
async fn a_closed_cursor_is_a_cursor_name_error() {
    let db = common::connect().await;
    let ps = db.prepare("SELECT 1").await.unwrap();
    let c = ps.declare(()).await.unwrap();
    c.close().await.unwrap();
    assert!(c.closed());
    let err = c.read(None, None).await.unwrap_err();
    assert!(err.is_a(&CursorNameError), "{err}");
    assert_eq!((err.code(), err.source_kind()), ("34000", Source::Client));
    assert!(
        c.seek(0, Whence::Absolute)
            .await
            .unwrap_err()
            .is_a(&CursorNameError)
    );
    assert!(c.next().await.unwrap_err().is_a(&CursorNameError));
    c.close().await.unwrap();
    assert_eq!(ps.first::<i32, _>(()).await.unwrap(), 1);
    // Closed on the server behind the handle's back: the server's 34000.
    let c = ps.declare(()).await.unwrap();
    let sql = format!("CLOSE {}", pg_string::quote_ident(c.cursor_id()));
    db.execute(&sql).await.unwrap();
    let err = c.read(Some(1), None).await.unwrap_err();
    assert!(err.is_a(&CursorNameError), "{err}");
    assert_eq!(err.source_kind(), Source::Server);
    assert!(
        c.seek(1, Whence::Relative)
            .await
            .unwrap_err()
            .is_a(&CursorNameError)
    );
}

#[tokio::test]
async fn clone_cursor_declares_an_independent_cursor() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT i FROM generate_series($1::int, $2::int) AS g(i)")
        .await
        .unwrap();
    let c = ps.declare((5i32, 20i32)).await.unwrap();
    assert_eq!(read(&c, 5).await, [5, 6, 7, 8, 9]);
    // The statement a cursor came from, and so does its clone.
    assert_eq!(c.statement().unwrap().statement_id(), ps.statement_id());
    let c2 = c.clone_cursor().await.unwrap();
    assert_eq!(c2.statement().unwrap().string(), ps.string());
    assert_ne!(c2.cursor_id(), c.cursor_id());
    assert_eq!(read(&c2, 2).await, [5, 6]);
    assert_eq!(read(&c, 1).await, [10]);
    assert_eq!(
        ints(c2.read(None, None).await.unwrap()),
        (7..=20).collect::<Vec<_>>()
    );
    assert_eq!(read(&c, 1).await, [11]);
    let single = db.query_declare("SELECT 1", ()).await.unwrap();
    let twin = single.clone_cursor().await.unwrap();
    assert_eq!(
        ints(single.read(None, None).await.unwrap()),
        ints(twin.read(None, None).await.unwrap())
    );
}

#[tokio::test]
async fn declare_binds_parameters_and_shares_the_statements_columns() {
    let db = common::connect().await;
    let ps = db
        .prepare("SELECT $1::integer AS my_int_column")
        .await
        .unwrap();
    let c = ps.declare((15i32,)).await.unwrap();
    assert_eq!(c.column_names(), ["my_int_column"]);
    assert_eq!(c.sql_column_types(), ["INTEGER"]);
    assert_eq!(c.column_types(), [postgres_types::Type::INT4]);
    assert_eq!(ints(c.read(None, None).await.unwrap()), [15]);
    let ps = db
        .prepare("SELECT $1::text AS my_column1, $2::varchar AS my_column2")
        .await
        .unwrap();
    let c = ps
        .declare(vec![Value::Text("textdata".into()), Value::Null])
        .await
        .unwrap();
    assert_eq!(c.column_names(), ["my_column1", "my_column2"]);
    assert_eq!(
        c.sql_column_types(),
        ["pg_catalog.text", "CHARACTER VARYING"]
    );
    assert_eq!(c.pg_column_types(), [25, 1043]);
    let row = c.next().await.unwrap().unwrap();
    assert_eq!(row.get::<String>("my_column1"), "textdata");
    assert_eq!(row.get::<Option<String>>(1), None);
    let err = ps.declare((1i32,)).await.unwrap_err();
    assert!(err.is_a(&ParameterError), "{err}");
    // A WITH HOLD cursor is materialised when the declaring transaction commits.
    let err = db.query_declare("SELECT 1 / 0", ()).await.unwrap_err();
    assert!(err.is_a(&ZeroDivisionError), "{err}");
}

#[tokio::test]
async fn query_declare_is_a_single_use_statement_and_a_cursor() {
    let db = common::connect().await;
    let c = db
        .query_declare(
            "SELECT i, i * 2 AS double FROM generate_series(1, $1) AS g(i)",
            (4i32,),
        )
        .await
        .unwrap();
    assert_eq!(c.column_names(), ["i", "double"]);
    assert_eq!(
        c.string(),
        Some("SELECT i, i * 2 AS double FROM generate_series(1, $1) AS g(i)")
    );
    c.seek(0, Whence::FromEnd).await.unwrap();
    let last = c.read(Some(1), Some(Direction::Backward)).await.unwrap();
    assert_eq!(last[0].get::<i32>("double"), 8);
    // The single-use statement lives as long as its cursor (`Cursor::statement`), and goes
    // with it (the count's own statement is the other one).
    let prepared = "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pg_api_s%'";
    assert_eq!(db.query_first::<i64, _>(prepared, ()).await.unwrap(), 2);
    drop(c);
    assert_eq!(db.query_first::<i64, _>(prepared, ()).await.unwrap(), 1);
}

#[test]
fn the_blocking_facade_iterates_and_seeks() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    let ps = db
        .prepare("SELECT i FROM generate_series(0, 99) AS g(i)")
        .unwrap();
    let mut c = ps.declare(()).unwrap();
    assert_eq!(c.statement().unwrap().statement_id(), ps.statement_id());
    let first: Vec<i32> = c
        .by_ref()
        .take(3)
        .map(|r| r.unwrap().get::<i32>(0))
        .collect();
    assert_eq!(first, [0, 1, 2]);
    assert_eq!(c.seek(50, Whence::Absolute).unwrap(), 1);
    assert_eq!(ints(c.read(Some(2), None).unwrap()), [50, 51]);
    assert_eq!(c.seek(-2, Whence::Relative).unwrap(), 1);
    assert_eq!(c.next().unwrap().unwrap().get::<i32>(0), 50);
    assert_eq!(c.seek(0, Whence::FromEnd).unwrap(), 0);
    assert!(c.next().is_none());
    c.set_direction(Direction::Backward);
    assert_eq!(c.direction(), Direction::Backward);
    let last: Vec<i32> = c
        .by_ref()
        .take(2)
        .map(|r| r.unwrap().get::<i32>(0))
        .collect();
    assert_eq!(last, [99, 98]);
    assert_eq!(c.seek_all(Whence::Forward).unwrap(), 98);
    let clone = c.clone_cursor().unwrap();
    let all: Vec<i32> = clone.map(|r| r.unwrap().get::<i32>(0)).collect();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    db.execute("DECLARE named SCROLL CURSOR WITH HOLD FOR SELECT 'x'::text AS t")
        .unwrap();
    let named = db.cursor_from_id("named").unwrap();
    assert_eq!(named.column_names(), ["t"]);
    assert_eq!(named.read(None, None).unwrap()[0].get::<String>(0), "x");
    named.close().unwrap();
    let err = named.read(None, None).unwrap_err();
    assert!(err.is_a(&CursorNameError));
    let q = db.query_declare("SELECT $1::int", (7i32,)).unwrap();
    assert_eq!(
        q.collect::<Result<Vec<_>, _>>().unwrap()[0].get::<i32>(0),
        7
    );
}

#[test]
fn whence_and_direction_parse_names_and_numbers() {
    let names = ["ABSOLUTE", "RELATIVE", "FROM_END", "FORWARD", "BACKWARD"];
    for (number, name) in (0..).zip(names) {
        let whence = Whence::try_from(number).unwrap();
        assert_eq!(name.parse::<Whence>().unwrap(), whence);
        assert_eq!(name.to_lowercase().parse::<Whence>().unwrap(), whence);
        assert_eq!(number.to_string().parse::<Whence>().unwrap(), whence);
        assert_eq!(whence.to_string(), name);
    }
    assert_eq!(Whence::default(), Whence::Absolute);
    assert!(Whence::try_from(5).unwrap_err().is_a(&OperationError));
    assert!("LAST".parse::<Whence>().is_err());
    assert_eq!(
        "backward".parse::<Direction>().unwrap(),
        Direction::Backward
    );
    assert_eq!(Direction::from(true), Direction::Forward);
    assert_eq!(Direction::from(false).reversed(), Direction::Forward);
    assert!("sideways".parse::<Direction>().is_err());
}

type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A hook that records each message under `label` and stops the ones `stops` accepts.
fn recorder(seen: &Seen, label: &'static str, stops: fn(&str) -> bool) -> pg_driver::MessageHook {
    let seen = seen.clone();
    std::sync::Arc::new(move |m: &pg_exceptions::Message| {
        seen.lock()
            .unwrap()
            .push(format!("{label}: {}", m.message()));
        stops(m.message())
    })
}

fn take(seen: &Seen) -> Vec<String> {
    std::mem::take(&mut *seen.lock().unwrap())
}

const NOISY: &str = "CREATE FUNCTION pg_temp.noisy(i int) RETURNS int LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE WARNING 'row %', i; RETURN i; END $$";

#[tokio::test]
async fn a_statements_hook_covers_its_cursors_and_a_cursor_has_its_own() {
    let db = common::connect().await;
    db.execute(NOISY).await.unwrap();
    let seen = Seen::default();
    db.set_message_hook(Some(recorder(&seen, "connection", |_| true)));
    let ps = db
        .prepare("SELECT pg_temp.noisy(i) FROM generate_series(1, 6) AS g(i)")
        .await
        .unwrap();
    ps.set_message_hook(Some(recorder(&seen, "statement", |_| true)));

    // Outside a block a WITH HOLD cursor runs its query when the DECLARE commits.
    let held = ps.declare(()).await.unwrap();
    assert_eq!(
        take(&seen),
        (1..=6)
            .map(|i| format!("statement: row {i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(read(&held, 6).await, [1, 2, 3, 4, 5, 6]);
    assert!(take(&seen).is_empty());

    // Inside one, rows are computed as they are fetched or moved over.
    db.execute("BEGIN").await.unwrap();
    let c = ps.declare(()).await.unwrap();
    assert_eq!(read(&c, 1).await, [1]);
    assert_eq!(take(&seen), ["statement: row 1"]);
    c.set_message_hook(Some(recorder(&seen, "cursor", |m| m == "row 2")));
    assert_eq!(read(&c, 2).await, [2, 3]);
    assert_eq!(
        take(&seen),
        ["cursor: row 2", "cursor: row 3", "statement: row 3"]
    );
    assert_eq!(c.seek(1, Whence::Forward).await.unwrap(), 1);
    assert_eq!(take(&seen), ["cursor: row 4", "statement: row 4"]);
    assert_eq!(c.next().await.unwrap().unwrap().get::<i32>(0), 5);
    assert_eq!(take(&seen), ["cursor: row 5", "statement: row 5"]);
    // A clone is another cursor of the same statement: the statement's hook, not the cursor's.
    let twin = c.clone_cursor().await.unwrap();
    assert_eq!(read(&twin, 1).await, [1]);
    assert_eq!(take(&seen), ["statement: row 1"]);
    // Without a statement hook, the cursor's messages go on to the connection.
    ps.set_message_hook(None);
    assert_eq!(read(&c, 1).await, [6]);
    assert_eq!(take(&seen), ["cursor: row 6", "connection: row 6"]);
    // The COMMIT runs the held cursors' queries again to keep their rows: its messages are
    // the COMMIT's, not the cursors'.
    db.execute("COMMIT").await.unwrap();
    assert!(take(&seen).iter().all(|m| m.starts_with("connection: ")));

    // A cursor opened by name has no statement: its own hook, then the connection's.
    db.execute("BEGIN").await.unwrap();
    db.execute("DECLARE named SCROLL CURSOR FOR SELECT pg_temp.noisy(i) FROM generate_series(1, 2) AS g(i)")
        .await
        .unwrap();
    let named = db.cursor_from_id("named").await.unwrap();
    named.set_message_hook(Some(recorder(&seen, "named", |m| m == "row 1")));
    assert_eq!(read(&named, 2).await, [1, 2]);
    assert_eq!(
        take(&seen),
        ["named: row 1", "named: row 2", "connection: row 2"]
    );
    db.execute("COMMIT").await.unwrap();
}

#[test]
fn a_blocking_cursor_has_a_message_hook_too() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute(NOISY).unwrap();
    let seen = Seen::default();
    db.set_message_hook(Some(recorder(&seen, "connection", |_| true)));
    db.execute("BEGIN").unwrap();
    let ps = db
        .prepare("SELECT pg_temp.noisy(i) FROM generate_series(1, 2) AS g(i)")
        .unwrap();
    ps.set_message_hook(Some(recorder(&seen, "statement", |_| true)));
    let mut c = ps.declare(()).unwrap();
    c.set_message_hook(Some(recorder(&seen, "cursor", |_| false)));
    assert_eq!(c.next().unwrap().unwrap().get::<i32>(0), 1);
    assert_eq!(take(&seen), ["cursor: row 1", "statement: row 1"]);
    db.execute("COMMIT").unwrap();
}

#[tokio::test]
async fn named_cursors_take_the_users_name_and_close_when_dropped() {
    let db = common::connect().await;
    let cursor = db
        .query_declare_named(
            "My Pages",
            "SELECT i FROM generate_series(1, $1) AS g(i)",
            (20,),
        )
        .await
        .unwrap();
    assert_eq!(cursor.cursor_id(), "My Pages");
    assert_eq!(read(&cursor, 5).await, vec![1, 2, 3, 4, 5]);
    // SQL reads the same cursor by its (quoted) name.
    let fetched = db.query("FETCH 2 FROM \"My Pages\"", ()).await.unwrap();
    assert_eq!(ints(fetched.rows), vec![6, 7]);
    assert_eq!(read(&cursor, 1).await, vec![8]);
    // A name taken is the server's DuplicateCursor.
    let taken = db
        .query_declare_named("My Pages", "SELECT 1", ())
        .await
        .unwrap_err();
    assert_eq!(taken.code(), "42P03", "{taken}");
    drop(cursor);
    assert_eq!(cursors_open(&db, "My Pages").await, 0);

    // After a cleaning, a named cursor's last handle sends no Close: it would close the
    // namesake declared since.
    let old = db
        .query_declare_named("again", ASCENDING, ())
        .await
        .unwrap();
    db.clean().await.unwrap();
    let new = db
        .query_declare_named("again", ASCENDING, ())
        .await
        .unwrap();
    drop(old);
    assert_eq!(read(&new, 2).await, vec![0, 1]);
    assert_eq!(cursors_open(&db, "again").await, 1);
    // The blocking facade names them too.
    // A thread of its own: the blocking facade refuses to run inside a runtime.
    let connector = pg_driver::blocking::Connector::from(common::connector());
    let blocking = std::thread::spawn(move || {
        let db = connector.connect().unwrap();
        let cursor = db
            .query_declare_named("blocking", "SELECT 1 UNION ALL SELECT 2", ())
            .unwrap();
        (
            cursor.as_async().cursor_id().to_owned(),
            cursor.read(None, None).unwrap().len(),
        )
    });
    assert_eq!(blocking.join().unwrap(), ("blocking".to_owned(), 2));
}
