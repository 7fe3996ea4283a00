//! Load through pg-session's async pool: 64 tasks × 10,000 queries on a pool of 8 with no
//! error, and the pool's recovery from backends terminated (`pg_terminate_backend`) under load.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pg_exceptions::{AdminShutdownError, ConnectionError, Error};
use pg_session::{AsyncSession, Tuple};

/// Concurrent tasks.
const TASKS: usize = 64;
/// Queries per task in the clean run.
const QUERIES: usize = 10_000;
/// The pool's size: eight connections serve the 64 tasks.
const POOL: usize = 8;
/// How long a task may wait for a connection: tasks queue for the pool rather than fail.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(120);
/// The whole clean run's limit. The clean run takes each query's cheapest path through the
/// pool — acquire (with the pool's liveness check), one simple query, return (with the reset):
/// in a debug build on two shared cores its 640,000 queries take about 80 s (8,200 queries/s);
/// through `AsyncSession::query` (Parse/Describe and Bind/Execute: one round trip more) they
/// took 122 s. The limit leaves room for a loaded machine and still fails a run that stalls.
const CLEAN_LIMIT: Duration = Duration::from_secs(600);

/// The fault run: fewer queries per task (through `AsyncSession::query`, whose two round
/// trips give a termination more places to land), the same concurrency, a backend
/// terminated every [`KILL_EVERY`] while the load runs.
const FAULT_QUERIES: usize = 1_000;
const KILL_EVERY: Duration = Duration::from_millis(100);
const FAULT_LIMIT: Duration = Duration::from_secs(300);

/// The two tests measure and kill: they run one at a time. Each holds the lock across its
/// awaits (that is its purpose; each test has a runtime of its own, so nothing else waits).
static SERIAL: Mutex<()> = Mutex::new(());

/// The cluster's URI with an `application_name` of its own, so the test's pool (keyed by URI)
/// and its backends (in `pg_stat_activity`) are its own.
fn uri(application: &str) -> String {
    let uri = common::temporal().uri();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}application_name={application}")
}

/// A session of a pool of its own, pipelining `depth` statements a connection.
fn session(application: &str, depth: usize) -> AsyncSession<Tuple> {
    AsyncSession::builder(uri(application))
        .pool_max_size(POOL)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .pipeline_depth(depth)
        .row_form::<Tuple>()
        .build()
        .expect("a session")
}

/// What the tasks saw: each query's latency, and the errors of those that failed.
#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    failures: Vec<Error>,
}

/// How each query goes through the pool.
#[derive(Clone, Copy)]
enum Path {
    /// `AsyncSession::query`: a prepared statement, its rows read before the connection goes back.
    Query,
    /// `AsyncSession::acquire`, then one simple query on the pooled connection.
    Simple,
}

/// One query, checking its own answer.
async fn one(session: &AsyncSession<Tuple>, path: Path, n: i32) -> Result<(), Error> {
    match path {
        Path::Query => {
            let results = session.query("SELECT $1::int4", (n,)).await?;
            assert_eq!(results[0], (n,), "query {n} answered another's");
        }
        Path::Simple => {
            let conn = session.acquire().await?;
            let results = conn.simple(&format!("SELECT {n}")).await?;
            let answer = results[0].rows[0][0].as_deref();
            assert_eq!(
                answer,
                Some(&*n.to_string()),
                "query {n} answered another's"
            );
        }
    }
    Ok(())
}

/// Runs `TASKS` tasks of `queries` queries each.
async fn load(session: &AsyncSession<Tuple>, path: Path, queries: usize) -> Outcome {
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let session = session.clone();
            tokio::spawn(async move {
                let mut outcome = Outcome {
                    latencies: Vec::with_capacity(queries),
                    failures: Vec::new(),
                };
                for i in 0..queries {
                    let n = (task * queries + i) as i32;
                    let started = Instant::now();
                    match one(&session, path, n).await {
                        Ok(()) => outcome.latencies.push(started.elapsed()),
                        Err(error) => outcome.failures.push(error),
                    }
                }
                outcome
            })
        })
        .collect();
    let mut total = Outcome::default();
    for task in tasks {
        let outcome = task.await.expect("a load task does not panic");
        total.latencies.extend(outcome.latencies);
        total.failures.extend(outcome.failures);
    }
    total
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn print_figures(label: &str, outcome: &mut Outcome, elapsed: Duration) {
    outcome.latencies.sort_unstable();
    let done = outcome.latencies.len() + outcome.failures.len();
    eprintln!(
        "{label}: {done} queries ({} failed) by {TASKS} tasks on a pool of {POOL} in {:.1} s: \
         {:.0} queries/s, latency p50 {:?}, p99 {:?}, max {:?}",
        outcome.failures.len(),
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        percentile(&outcome.latencies, 50),
        percentile(&outcome.latencies, 99),
        outcome.latencies.last().copied().unwrap_or_default(),
    );
}

/// The server processes of the pool's connections.
async fn backends(application: &str) -> HashSet<i32> {
    let admin = common::connect().await;
    let rows = admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            (application,),
        )
        .await
        .expect("pg_stat_activity")
        .rows;
    admin.close();
    rows.iter().map(|row| row.get::<i32>(0)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn sixty_four_tasks_ten_thousand_queries_each_without_error() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let application = "load_clean";
    let session = session(application, 1);
    let started = Instant::now();
    let mut outcome = tokio::time::timeout(CLEAN_LIMIT, load(&session, Path::Simple, QUERIES))
        .await
        .expect("the load finishes within its limit");
    let elapsed = started.elapsed();
    print_figures("clean load", &mut outcome, elapsed);

    assert!(
        outcome.failures.is_empty(),
        "{} queries failed, the first: {}",
        outcome.failures.len(),
        outcome.failures[0]
    );
    assert_eq!(outcome.latencies.len(), TASKS * QUERIES);
    assert_eq!(session.pool().report().exceptions, 0);
    assert!(backends(application).await.len() <= POOL);
    session.pool().shutdown();
}

/// The rule: while backends of the pool are terminated under load, every query either
/// succeeds or fails with a disconnection error — the server's AdminShutdownError (57P01)
/// for the query in flight on the terminated backend, or a connection error (class 08) when
/// the socket's end is seen before that message — and at most one query fails per
/// terminated backend (the pool never hands a dead connection out again). Afterwards the
/// pool holds only live connections: none of the terminated processes, every one answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn the_pool_recovers_from_backends_terminated_under_load() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    faults("load_faults", 1).await;
}

/// The same with pipelined statements: a terminated backend fails at most the `depth`
/// statements in flight on its connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn the_pool_recovers_from_backends_terminated_under_pipelined_load() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    faults("load_faults_pipelined", TASKS / POOL).await;
}

/// The fault run, with `depth` statements pipelined a connection.
async fn faults(application: &'static str, depth: usize) {
    let session = session(application, depth);
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));

    let killer = tokio::spawn({
        let running = running.clone();
        async move {
            let admin = common::connect().await;
            let terminate = admin
                .prepare(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 \
                     ORDER BY random() LIMIT 1",
                )
                .await
                .expect("prepares");
            let mut killed = HashSet::new();
            while running.load(std::sync::atomic::Ordering::Acquire) {
                tokio::time::sleep(KILL_EVERY).await;
                let rows = terminate.call((application,)).await.expect("picks").rows;
                if let Some(row) = rows.first() {
                    let pid: i32 = row.get(0);
                    let done: bool = admin
                        .query_first("SELECT pg_terminate_backend($1)", (pid,))
                        .await
                        .expect("terminates");
                    if done {
                        killed.insert(pid);
                    }
                }
            }
            admin.close();
            killed
        }
    });

    let started = Instant::now();
    let mut outcome = tokio::time::timeout(FAULT_LIMIT, load(&session, Path::Query, FAULT_QUERIES))
        .await
        .expect("the load finishes within its limit");
    let elapsed = started.elapsed();
    running.store(false, std::sync::atomic::Ordering::Release);
    let killed = killer.await.expect("the killer does not panic");
    print_figures("load with faults", &mut outcome, elapsed);

    let admin_shutdowns = outcome
        .failures
        .iter()
        .filter(|e| e.is_a(&AdminShutdownError))
        .count();
    eprintln!(
        "terminated {} backends; {} queries failed: {admin_shutdowns} with AdminShutdownError, \
         {} with a connection error",
        killed.len(),
        outcome.failures.len(),
        outcome.failures.len() - admin_shutdowns,
    );
    assert!(
        killed.len() >= 5,
        "the load outlived only {} kills",
        killed.len()
    );
    for error in &outcome.failures {
        assert!(
            error.is_a(&AdminShutdownError) || error.is_a(&ConnectionError),
            "a failure that is not a disconnection: {error}"
        );
    }
    assert!(
        outcome.failures.len() <= killed.len() * depth,
        "{} failures for {} terminated backends",
        outcome.failures.len(),
        killed.len()
    );
    assert_eq!(
        outcome.latencies.len() + outcome.failures.len(),
        TASKS * FAULT_QUERIES
    );

    // Recovery: every connection the pool hands out now is live and none is a terminated one.
    let held = futures::future::try_join_all((0..POOL).map(|_| session.acquire()))
        .await
        .expect("the pool fills again");
    for conn in &held {
        let pid = conn.backend_id().expect("a backend id");
        assert!(
            !killed.contains(&pid),
            "terminated backend {pid} still pooled"
        );
        assert_eq!(conn.query_first::<i32, _>("SELECT 1", ()).await.unwrap(), 1);
    }
    // Connections the pool closed may take a moment to leave pg_stat_activity.
    let held_pids: HashSet<i32> = held.iter().filter_map(|c| c.backend_id()).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut live = backends(application).await;
    while live != held_pids && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        live = backends(application).await;
    }
    assert_eq!(live, held_pids, "exactly the pool's connections are open");
    drop(held);
    session.pool().shutdown();
}
