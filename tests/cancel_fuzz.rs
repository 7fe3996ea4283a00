//! The cancellation fuzzer: random operations of every kind on one connection shared by many
//! tasks of a multi-threaded runtime, each dropped at a random poll (as a timeout, `select!`
//! or an aborted task would), with autocommit on and off, directly and through pg-session
//! (pipelined too).
//!
//! After every drop an echo query must return its own value within a bound (the connection
//! is in sync). At the end the rows written match the operations exactly: every one that
//! completed is there whole, every one that failed is absent, and every one given up is
//! there whole or not at all — never in part. The session holds no prepared statement,
//! cursor, advisory lock, large object or changed setting of an abandoned request.
//!
//! `PG_CANCEL_FUZZ_OPS` sets the operations per task (default 40) and `PG_CANCEL_FUZZ_SEED`
//! the seed (default: from the clock, printed, so a failure can be replayed); see
//! tests/README.md for a longer run.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use pg_driver::{ALock, Connection, Whence};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::RwLock;

/// How long an echo may take after a drop before the connection counts as out of sync.
const ECHO_BOUND: Duration = Duration::from_secs(10);

fn ops_per_task() -> usize {
    std::env::var("PG_CANCEL_FUZZ_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

fn seed() -> u64 {
    let seed = std::env::var("PG_CANCEL_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("cancel fuzz seed: PG_CANCEL_FUZZ_SEED={seed}");
    seed
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Completed,
    Failed,
    Dropped,
}

/// What each operation that writes rows tagged with its id was to write, and how it ended.
#[derive(Default)]
struct Ledger(Mutex<HashMap<i64, (i64, Outcome)>>);

impl Ledger {
    fn record(&self, op: i64, rows: i64, outcome: Outcome) {
        self.0.lock().unwrap().insert(op, (rows, outcome));
    }

    /// Compares with the rows per operation id the server holds in `tables`.
    async fn check(&self, db: &Connection, tables: &[&str], seed: u64) {
        let union = tables
            .iter()
            .map(|t| format!("SELECT op FROM {t}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let rows = db
            .query(
                &format!("SELECT op, count(*) FROM ({union}) u GROUP BY op"),
                (),
            )
            .await
            .unwrap()
            .rows;
        let found: HashMap<i64, i64> = rows
            .iter()
            .map(|r| (r.get::<i64>(0), r.get::<i64>(1)))
            .collect();
        let ledger = self.0.lock().unwrap();
        for (op, count) in &found {
            assert!(
                ledger.contains_key(op),
                "rows of an unknown operation {op} (seed {seed})"
            );
            let _ = count;
        }
        let mut dropped_whole = 0;
        for (op, (rows, outcome)) in ledger.iter() {
            let got = found.get(op).copied().unwrap_or(0);
            match outcome {
                Outcome::Completed => assert_eq!(
                    got, *rows,
                    "operation {op} completed: all its rows (seed {seed})"
                ),
                Outcome::Failed => {
                    assert_eq!(
                        got, 0,
                        "operation {op} failed: none of its rows (seed {seed})"
                    )
                }
                Outcome::Dropped => {
                    assert!(
                        got == 0 || got == *rows,
                        "operation {op} was given up: {got} of its {rows} rows — a part \
                         committed (seed {seed})"
                    );
                    dropped_whole += (got != 0) as usize;
                }
            }
        }
        eprintln!(
            "cancel fuzz: {} operations written, {dropped_whole} given up after they committed",
            ledger.len()
        );
    }
}

/// Polls `future` up to `polls` times (None: to the end), yielding or sleeping a little
/// between polls so the connection's task moves on; returns the output, or None when it
/// was dropped unfinished.
async fn run_or_drop<F: Future>(
    future: F,
    polls: Option<u32>,
    rng: &mut StdRng,
) -> Option<F::Output> {
    let mut future: Pin<Box<F>> = Box::pin(future);
    let mut polled = 0;
    loop {
        let output = std::future::poll_fn(|cx: &mut Context<'_>| {
            Poll::Ready(match future.as_mut().poll(cx) {
                Poll::Ready(output) => Some(output),
                Poll::Pending => None,
            })
        })
        .await;
        if let Some(output) = output {
            return Some(output);
        }
        polled += 1;
        if polls.is_some_and(|p| polled >= p) {
            return None;
        }
        match rng.random_range(0..4) {
            0 => tokio::time::sleep(Duration::from_micros(rng.random_range(0..3000))).await,
            _ => tokio::task::yield_now().await,
        }
        if polls.is_none() && polled > 1_000_000 {
            panic!("an operation never finished");
        }
    }
}

/// The connection answers its own question within the bound. In a failed block (`in_blocks`)
/// the answer may be the block's error, which is still this request's own answer.
async fn echo(db: &Connection, value: i64, in_blocks: bool, seed: u64) {
    let answer = tokio::time::timeout(
        ECHO_BOUND,
        db.query_first::<i64, _>("SELECT $1::int8", (value,)),
    )
    .await
    .unwrap_or_else(|_| panic!("no echo within {ECHO_BOUND:?}: out of sync (seed {seed})"));
    match answer {
        Ok(got) => assert_eq!(got, value, "another request's answer (seed {seed})"),
        Err(e) if in_blocks && e.is_a(&pg_exceptions::InFailedTransactionError) => {}
        Err(e) => panic!("the echo failed: {e} (seed {seed})"),
    }
}

/// The kinds of operation.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Echo,
    Insert,
    LoadBatched,
    LoadEach,
    LoadStream,
    CopyLines,
    CopyIn,
    CopyValues,
    Rows,
    Chunks,
    CopyOut,
    Cursor,
    Prepare,
    Notify,
    Lock,
    Batch,
    // Those that need the connection alone (a block, or a setting others would see).
    Xact,
    Savepoint,
    Scope,
    LargeObject,
}

const SHARED: [Kind; 16] = [
    Kind::Echo,
    Kind::Insert,
    Kind::LoadBatched,
    Kind::LoadEach,
    Kind::LoadStream,
    Kind::CopyLines,
    Kind::CopyIn,
    Kind::CopyValues,
    Kind::Rows,
    Kind::Chunks,
    Kind::CopyOut,
    Kind::Cursor,
    Kind::Prepare,
    Kind::Notify,
    Kind::Lock,
    Kind::Batch,
];
const ALONE: [Kind; 4] = [Kind::Xact, Kind::Savepoint, Kind::Scope, Kind::LargeObject];

struct World {
    db: Connection,
    schema: String,
    /// Errors from a failed block are expected (autocommit off, after an abandoned load).
    in_blocks: bool,
    /// Shared by the operations that may share the connection; taken alone by the others.
    gate: RwLock<()>,
    next_op: std::sync::atomic::AtomicI64,
    seed: u64,
}

impl World {
    fn op_id(&self) -> i64 {
        self.next_op
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.schema)
    }

    /// Runs one operation of `kind`, dropped after `polls` polls (None: run to the end), and
    /// records what it was to write and how it ended.
    async fn operate(&self, kind: Kind, polls: Option<u32>, rng: &mut StdRng, ledger: &Ledger) {
        let _gate = match kind {
            Kind::Xact | Kind::Savepoint | Kind::Scope | Kind::LargeObject => {
                Gate::Alone(self.gate.write().await)
            }
            _ => Gate::Shared(self.gate.read().await),
        };
        let db = &self.db;
        let op = self.op_id();
        let n: i64 = rng.random_range(1..400);
        // Now and then a load big enough that its body is still streaming when dropped.
        let big = rng.random_range(0..4) == 0;
        // What the operation writes, if it completes: (rows, tagged with `op`).
        let (writes, outcome): (i64, Option<Result<(), pg_exceptions::Error>>) = match kind {
            Kind::Echo => {
                let value = rng.random::<i64>();
                let out = run_or_drop(
                    db.query_first::<i64, _>("SELECT $1::int8", (value,)),
                    polls,
                    rng,
                )
                .await;
                if let Some(Ok(got)) = &out {
                    assert_eq!(*got, value, "another request's answer (seed {})", self.seed);
                }
                (0, out.map(|r| r.map(drop)))
            }
            Kind::Insert => {
                let sql = format!("INSERT INTO {} VALUES ($1, $2)", self.table("plain"));
                let run = async { db.prepare(&sql).await?.call((op, 1i32)).await.map(drop) };
                (1, run_or_drop(run, polls, rng).await)
            }
            Kind::Batch => {
                // Three rows in two tables around a short sleep; now and then a last
                // statement that fails, which undoes the batch.
                let fails = rng.random_range(0..5) == 0;
                let (plain, triggered) = (
                    format!("INSERT INTO {} VALUES ($1, $2)", self.table("plain")),
                    format!("INSERT INTO {} VALUES ($1, $2)", self.table("triggered")),
                );
                let pause = f64::from(rng.random_range(0..3u8)) / 1000.0;
                let divisor = if fails { 0 } else { 1 };
                let run = async {
                    let results = db
                        .batch()
                        .query(&plain, (op, 1i32))
                        .query("SELECT pg_sleep($1::float8)", (pause,))
                        .query(&triggered, (op, 2i32))
                        .query(&plain, (op, 3i32))
                        .query("SELECT 1 / $1::int4", (divisor,))
                        .run()
                        .await?;
                    assert_eq!(results.len(), 5);
                    assert_eq!(results[3].count, Some(1));
                    Ok(())
                };
                (3, run_or_drop(run, polls, rng).await)
            }
            Kind::LoadBatched | Kind::LoadEach => {
                let table = match kind {
                    Kind::LoadBatched => "plain",
                    _ => "triggered",
                };
                let n = match (kind, big) {
                    (Kind::LoadBatched, true) => n * 500,
                    (Kind::LoadBatched, false) => n * 50,
                    (_, true) => n * 50,
                    _ => n,
                };
                let sql = format!("INSERT INTO {} VALUES ($1, $2)", self.table(table));
                let run = async {
                    let rows = (0..n).map(|i| (op, i as i32));
                    let count = db.prepare(&sql).await?.load_rows(rows).await?;
                    assert_eq!(count, n as u64);
                    Ok(())
                };
                (n, run_or_drop(run, polls, rng).await)
            }
            Kind::LoadStream => {
                // Rows from a stream that yields now and then, as another connection's would.
                let n = if big { n * 500 } else { n * 10 };
                let sql = format!("INSERT INTO {} VALUES ($1, $2)", self.table("plain"));
                let run = async {
                    let rows = futures::stream::iter(0..n).then(|i| async move {
                        if i % 1000 == 0 {
                            tokio::task::yield_now().await;
                        }
                        Ok::<_, pg_exceptions::Error>((op, i as i32))
                    });
                    let count = db.prepare(&sql).await?.load_stream(rows).await?;
                    assert_eq!(count, n as u64);
                    Ok(())
                };
                (n, run_or_drop(run, polls, rng).await)
            }
            Kind::CopyLines => {
                // py-postgresql's load_rows on a COPY statement: data lines.
                let n = if big { n * 500 } else { n * 10 };
                let sql = format!("COPY {} FROM STDIN", self.table("plain"));
                let run = async {
                    let lines = (0..n).map(|i| (format!("{op}\t{i}\n"),));
                    let count = db.prepare(&sql).await?.load_rows(lines).await?;
                    assert_eq!(count, n as u64);
                    Ok(())
                };
                (n, run_or_drop(run, polls, rng).await)
            }
            Kind::CopyIn => {
                let n = if big { n * 500 } else { n * 30 };
                let sql = format!("COPY {} FROM STDIN", self.table("plain"));
                let run = async {
                    let lines = (0..n).map(|i| format!("{op}\t{i}\n"));
                    let count = db.prepare(&sql).await?.copy_in_rows(lines).await?;
                    assert_eq!(count, n as u64);
                    Ok(())
                };
                (n, run_or_drop(run, polls, rng).await)
            }
            Kind::CopyValues => {
                let n = if big { n * 500 } else { n };
                let table = self.table("plain");
                let run = async {
                    let rows = (0..n).map(|i| (op, i as i32));
                    let count = db.copy_in_values(&table, &[], rows).await?;
                    assert_eq!(count, n as u64);
                    Ok(())
                };
                (n, run_or_drop(run, polls, rng).await)
            }
            Kind::Rows | Kind::Chunks | Kind::CopyOut => {
                let take = rng.random_range(0..3000usize);
                let run = async {
                    let ps = db
                        .prepare("SELECT i FROM generate_series(1, 100000) i")
                        .await?;
                    match kind {
                        Kind::Rows => {
                            let mut rows = ps.rows(())?.take(take);
                            let mut expect = 1;
                            while let Some(row) = rows.next().await {
                                assert_eq!(row?.get::<i32>(0), expect);
                                expect += 1;
                            }
                        }
                        Kind::Chunks => {
                            let mut chunks = ps.chunks(())?;
                            let mut expect = 1;
                            while let Some(chunk) = chunks.next().await {
                                for row in chunk? {
                                    assert_eq!(row.get::<i32>(0), expect);
                                    expect += 1;
                                }
                                if expect as usize > take {
                                    break;
                                }
                            }
                        }
                        _ => {
                            let copy = db
                                .prepare(
                                    "COPY (SELECT i FROM generate_series(1, 100000) i) TO STDOUT",
                                )
                                .await?;
                            let mut lines = copy.copy_rows(())?.take(take);
                            let mut expect = 1;
                            while let Some(line) = lines.next().await {
                                assert_eq!(line?, format!("{expect}\n").as_bytes());
                                expect += 1;
                            }
                        }
                    }
                    Ok(())
                };
                (0, run_or_drop(run, polls, rng).await)
            }
            Kind::Cursor => {
                let at = rng.random_range(1..900i64);
                let run = async {
                    let cursor = db
                        .prepare("SELECT i FROM generate_series(1, 1000) i")
                        .await?
                        .declare(())
                        .await?;
                    cursor.seek(at, Whence::Absolute).await?;
                    let rows = cursor.read(Some(10), None).await?;
                    assert_eq!(rows[0].get::<i32>(0) as i64, at + 1);
                    if at % 2 == 0 {
                        cursor.close().await?;
                    }
                    Ok(())
                };
                (0, run_or_drop(run, polls, rng).await)
            }
            Kind::Prepare => {
                let sql = format!("SELECT {op}::int8, $1::text");
                let run = async { db.prepare(&sql).await.map(drop) };
                (0, run_or_drop(run, polls, rng).await)
            }
            Kind::Notify => {
                let channel = format!("fuzz{}", op % 3);
                let run = async {
                    db.listen([channel.as_str()]).await?;
                    db.notify([(channel.as_str(), op.to_string().as_str())])
                        .await
                };
                (0, run_or_drop(run, polls, rng).await)
            }
            Kind::Lock => {
                let id = rng.random_range(1..4i64);
                let lock = ALock::exclusive(db, [id]);
                let run = async {
                    lock.acquire(true).await?;
                    assert!(lock.locked());
                    lock.release().await
                };
                (0, run_or_drop(run, polls, rng).await)
            }
            Kind::Xact | Kind::Savepoint => {
                let sql = format!("INSERT INTO {} VALUES ($1, $2)", self.table("plain"));
                let savepoint = matches!(kind, Kind::Savepoint);
                let run = async {
                    db.xact()
                        .run(|x| async move {
                            let ps = x.prepare(&sql).await?;
                            ps.load_rows((0..n).map(|i| (op, i as i32))).await?;
                            if savepoint {
                                // An inner block that fails and is rolled back alone.
                                let inner = x
                                    .xact()
                                    .run(|y| async move { y.execute("SELECT 1/0").await });
                                assert!(inner.await.is_err());
                            }
                            Ok::<_, pg_exceptions::Error>(())
                        })
                        .await
                };
                (n, run_or_drop(run, polls, rng).await)
            }
            Kind::Scope => {
                // Not a multiple of 1024: the server would show that in MB (8192kB is "8MB").
                let kb: u32 = rng.random_range(64..9999);
                let value = format!("{}kB", if kb.is_multiple_of(1024) { kb + 1 } else { kb });
                let run = async {
                    let scope = db.settings().scope([("work_mem", value.as_str())]).await?;
                    let now = db.settings().get("work_mem").await?;
                    assert_eq!(now.as_deref(), Some(value.as_str()));
                    scope.restore().await
                };
                (0, run_or_drop(run, polls, rng).await)
            }
            Kind::LargeObject => {
                let run = async {
                    db.xact()
                        .run(|x| async move {
                            let lo = x.lo_create(None, "rw").await?;
                            lo.write(b"cancellation").await?;
                            lo.seek(0, 0).await?;
                            assert_eq!(&lo.read(64).await?[..], b"cancellation");
                            lo.unlink().await
                        })
                        .await
                };
                (0, run_or_drop(run, polls, rng).await)
            }
        };
        let outcome = match outcome {
            None => Outcome::Dropped,
            Some(Ok(())) => Outcome::Completed,
            Some(Err(error))
                if self.in_blocks && error.is_a(&pg_exceptions::InFailedTransactionError) =>
            {
                Outcome::Failed
            }
            // A request made on the connection while a COPY streams its data cuts the COPY
            // short (py-postgresql's rule): it fails, and nothing of it commits.
            Some(Err(error))
                if matches!(kind, Kind::CopyIn | Kind::CopyValues | Kind::CopyLines)
                    && error.is_a(&pg_exceptions::QueryCanceledError) =>
            {
                Outcome::Failed
            }
            // The batches that divide by zero.
            Some(Err(error)) if matches!(kind, Kind::Batch) && error.code() == "22012" => {
                Outcome::Failed
            }
            Some(Err(error)) => {
                // Nothing the fuzzer does fails by itself: an error is the driver's.
                panic!("{kind:?} failed: {error} (seed {})", self.seed)
            }
        };
        if writes > 0 {
            ledger.record(op, writes, outcome);
        }
        if outcome == Outcome::Dropped {
            echo(db, op, self.in_blocks, self.seed).await;
        }
    }
}

/// After how many polls an operation is dropped: None (run to the end) a quarter of the
/// time, early (the request just written) most often, late (a body or stream under way) now
/// and then.
fn drop_point(rng: &mut StdRng) -> Option<u32> {
    match rng.random_range(0..8) {
        0 | 1 => None,
        2 => Some(rng.random_range(12..150)),
        _ => Some(rng.random_range(1..12)),
    }
}

enum Gate<'a> {
    Shared(#[allow(dead_code)] tokio::sync::RwLockReadGuard<'a, ()>),
    Alone(#[allow(dead_code)] tokio::sync::RwLockWriteGuard<'a, ()>),
}

/// Makes the tables: `plain` (batched loads), `triggered` (a trigger keeps loads row by row).
async fn tables(db: &Connection, schema: &str) {
    db.execute(&format!(
        "CREATE TABLE {schema}.plain (op int8, n int4);
         CREATE TABLE {schema}.triggered (op int8, n int4);
         CREATE FUNCTION {schema}.keep() RETURNS trigger LANGUAGE plpgsql
             AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER keep BEFORE INSERT ON {schema}.triggered
             FOR EACH ROW EXECUTE FUNCTION {schema}.keep()"
    ))
    .await
    .unwrap();
}

/// The session's leftovers: prepared statements (but the statement cache's, which batches
/// fill and which stay by design), the driver's cursors, advisory locks held, large objects,
/// work_mem.
async fn leftovers(db: &Connection) -> (i64, i64, i64, i64, Option<String>) {
    let counts = db
        .query(
            "SELECT (SELECT count(*) FROM pg_prepared_statements),
                    (SELECT count(*) FROM pg_cursors WHERE name LIKE 'pg\\_api%'),
                    (SELECT count(*) FROM pg_locks
                      WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
                    (SELECT count(*) FROM pg_largeobject_metadata)",
            (),
        )
        .await
        .unwrap()
        .rows
        .remove(0);
    let work_mem = db.settings().get("work_mem").await.unwrap();
    (
        counts.get::<i64>(0) - db.cached_statements() as i64,
        counts.get::<i64>(1),
        counts.get::<i64>(2),
        counts.get::<i64>(3),
        work_mem,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_drops_on_a_shared_connection() {
    let seed = seed();
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    tables(&db, sandbox.schema()).await;
    // Measured through a statement of its own, which is closed before the next request.
    let before = leftovers(&db).await;
    let world = Arc::new(World {
        db: db.clone(),
        schema: sandbox.schema().to_owned(),
        in_blocks: false,
        gate: RwLock::new(()),
        next_op: 1.into(),
        seed,
    });
    let ledger = Arc::new(Ledger::default());
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let world = world.clone();
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(t));
            for _ in 0..ops_per_task() {
                let kind = if rng.random_range(0..6) == 0 {
                    ALONE[rng.random_range(0..ALONE.len())]
                } else {
                    SHARED[rng.random_range(0..SHARED.len())]
                };
                world
                    .operate(kind, drop_point(&mut rng), &mut rng, &ledger)
                    .await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    echo(&db, 42, false, seed).await;
    assert_eq!(db.transaction_status(), pg_driver::TransactionStatus::Idle);
    ledger
        .check(
            &db,
            &[&world.table("plain"), &world.table("triggered")],
            seed,
        )
        .await;
    assert_eq!(
        leftovers(&db).await,
        before,
        "(statements, cursors, locks, large objects, work_mem) (seed {seed})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_drops_with_autocommit_off() {
    let seed = seed().wrapping_add(1000);
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    tables(&db, sandbox.schema()).await;
    let world = World {
        db: db.clone(),
        schema: sandbox.schema().to_owned(),
        in_blocks: true,
        gate: RwLock::new(()),
        next_op: 1.into(),
        seed,
    };
    let mut rng = StdRng::seed_from_u64(seed);
    db.set_autocommit(false).unwrap();
    let writes = [
        Kind::Insert,
        Kind::LoadBatched,
        Kind::LoadEach,
        Kind::LoadStream,
        Kind::CopyLines,
        Kind::CopyIn,
        Kind::CopyValues,
        Kind::Batch,
    ];
    let committed = Ledger::default();
    for round in 0..(ops_per_task() / 4).max(3) {
        let round_ledger = Ledger::default();
        for _ in 0..4 {
            let kind = writes[rng.random_range(0..writes.len())];
            world
                .operate(kind, drop_point(&mut rng), &mut rng, &round_ledger)
                .await;
        }
        // A given-up load or COPY fails the block: COMMIT then answers ROLLBACK.
        let keep = round % 2 == 0;
        let ended = match keep {
            true => db.commit().await,
            false => db.rollback().await,
        };
        let kept = keep && ended.is_ok();
        for (op, (rows, outcome)) in round_ledger.0.lock().unwrap().drain() {
            committed.record(op, rows, if kept { outcome } else { Outcome::Failed });
        }
        assert_eq!(db.transaction_status(), pg_driver::TransactionStatus::Idle);
        echo(&db, round as i64, false, seed).await;
        // The echo ran in a lazy block of its own.
        db.rollback().await.unwrap();
    }
    db.set_autocommit(true).unwrap();
    committed
        .check(
            &db,
            &[&world.table("plain"), &world.table("triggered")],
            seed,
        )
        .await;
}

/// Operations through pg-session: statements on the pool (pipelined at depth > 1), and work
/// on connections acquired from it.
async fn session_operation(
    session: &pg_session::AsyncSession<pg_session::Tuple>,
    table: &str,
    op: i64,
    rng: &mut StdRng,
    ledger: &Ledger,
    seed: u64,
) {
    let n: i64 = rng.random_range(1..300) * if rng.random_range(0..4) == 0 { 200 } else { 1 };
    let polls = drop_point(rng);
    let insert = format!("INSERT INTO {table} VALUES ($1, $2)");
    let (writes, outcome) = match rng.random_range(0..5) {
        0 => {
            let value = rng.random::<i64>();
            let run = session.query("SELECT $1::int8", (value,));
            let out = run_or_drop(run, polls, rng).await;
            if let Some(Ok(results)) = &out {
                assert_eq!(results.get(0).unwrap().get::<i64>(0), value, "seed {seed}");
            }
            (0, out.map(|r| r.map(drop)))
        }
        1 => {
            let run = session.query(&insert, (op, 1i32));
            (1, run_or_drop(run, polls, rng).await.map(|r| r.map(drop)))
        }
        2 => {
            let run = async {
                let conn = session.acquire().await?;
                let rows = (0..n).map(|i| (op, i as i32));
                conn.prepare(&insert).await?.load_rows(rows).await.map(drop)
            };
            (n, run_or_drop(run, polls, rng).await)
        }
        3 => {
            let run = async {
                let conn = session.acquire().await?;
                let lines = (0..n).map(|i| format!("{op}\t{i}\n"));
                let copy = conn.prepare(&format!("COPY {table} FROM STDIN")).await?;
                copy.copy_in_rows(lines).await.map(drop)
            };
            (n, run_or_drop(run, polls, rng).await)
        }
        _ => {
            let run = async {
                let conn = session.acquire().await?;
                let insert = insert.clone();
                conn.xact()
                    .run(|x| async move {
                        let ps = x.prepare(&insert).await?;
                        ps.load_rows((0..n).map(|i| (op, i as i32))).await.map(drop)
                    })
                    .await
            };
            (n, run_or_drop(run, polls, rng).await)
        }
    };
    let outcome = match outcome {
        None => Outcome::Dropped,
        Some(Ok(())) => Outcome::Completed,
        Some(Err(error)) => panic!("a session operation failed: {error} (seed {seed})"),
    };
    if writes > 0 {
        ledger.record(op, writes, outcome);
    }
    if outcome == Outcome::Dropped {
        let value = op * 7;
        let echo = tokio::time::timeout(ECHO_BOUND, session.query("SELECT $1::int8", (value,)))
            .await
            .unwrap_or_else(|_| panic!("no echo within {ECHO_BOUND:?} (seed {seed})"))
            .unwrap_or_else(|e| panic!("the echo failed: {e} (seed {seed})"));
        assert_eq!(echo.get(0).unwrap().get::<i64>(0), value, "seed {seed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_drops_through_pg_session() {
    let seed = seed().wrapping_add(2000);
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    tables(&db, sandbox.schema()).await;
    let table = format!("{}.plain", sandbox.schema());
    let ledger = Arc::new(Ledger::default());
    for depth in [1, 4] {
        let app = format!("cancel_fuzz_{}_{depth}", std::process::id());
        let session =
            pg_session::AsyncSession::builder(format!("{}&application_name={app}", sandbox.uri()))
                .pool_max_size(2)
                .pipeline_depth(depth)
                .acquire_timeout(Duration::from_secs(30))
                .row_form::<pg_session::Tuple>()
                .build()
                .unwrap();
        let mut tasks = Vec::new();
        for t in 0..8u64 {
            let (session, ledger, table) = (session.clone(), ledger.clone(), table.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(depth as u64 * 100 + t));
                for i in 0..ops_per_task() {
                    let op = ((depth * 100 + t as usize) * 100_000 + i) as i64;
                    session_operation(&session, &table, op, &mut rng, &ledger, seed).await;
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        // Nothing of a given-up request holds a lock or a block open on the pool's backends.
        let holding = db
            .query_first::<i64, _>(
                "SELECT count(*) FROM pg_stat_activity a
                  WHERE a.application_name = $1
                    AND (a.state LIKE 'idle in transaction%'
                         OR EXISTS (SELECT 1 FROM pg_locks l
                                     WHERE l.pid = a.pid AND l.locktype = 'advisory'))",
                (app.as_str(),),
            )
            .await
            .unwrap();
        assert_eq!(holding, 0, "seed {seed}");
    }
    ledger.check(&db, &[&table], seed).await;
}
