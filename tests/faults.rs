//! Faults on the wire: a proxy breaks the protocol at chosen points, and the driver answers each
//! with a typed error within a bounded time, a connection it knows is closed, and committed data
//! that is exactly what was reported committed.

mod common;
#[allow(dead_code)]
#[path = "support/proxy.rs"]
mod proxy;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use pg_driver::params::Keywords;
use pg_driver::{Connection, Connector};
use pg_exceptions::{ConnectTimeoutError, ConnectionDoesNotExistError, Error};
use proxy::{Action, Plan, Proxy, Way};

/// How long any failure may take to surface.
const BOUND: Duration = Duration::from_secs(5);

async fn proxy(plan: Plan) -> Proxy {
    let t = common::temporal();
    let server = format!("{}:{}", t.host(), t.port()).parse().unwrap();
    Proxy::start(server, plan).await
}

fn through(proxy: &Proxy, extra: &str) -> Connector {
    let t = common::temporal();
    let iri = format!(
        "pq://{}@127.0.0.1:{}/{}?[sslmode]=disable{extra}",
        t.user(),
        proxy.port,
        t.database()
    );
    Connector::new(Keywords::parse(&iri).and_then(|k| k.build()).unwrap())
}

/// Runs `f`, failing the test if it takes longer than [`BOUND`].
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f).await.expect("no hang")
}

fn lost(error: &Error) {
    assert!(error.is_disconnection(), "a lost connection: {error}");
}

/// A plan that forwards everything until armed, then applies `action` to the first message
/// matching `way`, `tag` and (when given) containing `text`.
fn armed(way: Way, tag: u8, text: Option<&'static str>, action: Action) -> (Plan, Arc<AtomicBool>) {
    let arm = Arc::new(AtomicBool::new(false));
    let fired = Arc::new(AtomicBool::new(false));
    let armed = arm.clone();
    let plan: Plan = Arc::new(move |w, t, frame: &[u8]| {
        let matches = w == way
            && t == tag
            && text.is_none_or(|text| frame.windows(text.len()).any(|x| x == text.as_bytes()));
        if armed.load(Ordering::SeqCst) && matches && !fired.swap(true, Ordering::SeqCst) {
            action
        } else {
            Action::Forward
        }
    });
    (plan, arm)
}

async fn direct() -> Connection {
    common::connect().await
}

#[tokio::test]
async fn cut_during_startup() {
    let plan: Plan = Arc::new(|way, tag, _: &[u8]| {
        if way == Way::ToClient && tag == b'R' {
            Action::CutBefore
        } else {
            Action::Forward
        }
    });
    let proxy = proxy(plan).await;
    let error = bounded(through(&proxy, "").connect()).await.unwrap_err();
    lost(&error);
}

#[tokio::test]
async fn stall_during_startup_meets_connect_timeout() {
    let plan: Plan = Arc::new(|way, tag, _: &[u8]| {
        if way == Way::ToClient && tag == b'K' {
            Action::Stall(Duration::from_secs(30))
        } else {
            Action::Forward
        }
    });
    let proxy = proxy(plan).await;
    let started = Instant::now();
    let error = bounded(through(&proxy, "&[connect_timeout]=2").connect())
        .await
        .unwrap_err();
    assert!(error.is_a(&ConnectTimeoutError), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cut_after_parse() {
    let (plan, arm) = armed(Way::ToServer, b'P', Some("victim"), Action::CutAfter);
    let proxy = proxy(plan).await;
    let db = through(&proxy, "").connect().await.unwrap();
    arm.store(true, Ordering::SeqCst);
    let error = bounded(db.prepare("SELECT 'victim'")).await.unwrap_err();
    lost(&error);
    assert!(db.closed());
    let again = bounded(db.execute("SELECT 1")).await.unwrap_err();
    assert!(again.is_a(&ConnectionDoesNotExistError), "{again}");
}

#[tokio::test]
async fn cut_in_the_middle_of_a_data_row() {
    let rows_seen = Arc::new(AtomicUsize::new(0));
    let arm = Arc::new(AtomicBool::new(false));
    let plan: Plan = {
        let (rows_seen, arm) = (rows_seen.clone(), arm.clone());
        Arc::new(move |way, tag, _: &[u8]| {
            if arm.load(Ordering::SeqCst)
                && way == Way::ToClient
                && tag == b'D'
                && rows_seen.fetch_add(1, Ordering::SeqCst) == 99
            {
                return Action::CutHalfway;
            }
            Action::Forward
        })
    };
    let proxy = proxy(plan).await;
    let db = through(&proxy, "").connect().await.unwrap();
    let ps = db
        .prepare("SELECT i, repeat('x', 200) FROM generate_series(1, 1000) i")
        .await
        .unwrap();
    arm.store(true, Ordering::SeqCst);
    let mut rows = ps.rows(()).unwrap();
    let mut good = 0;
    let error = bounded(async {
        loop {
            match rows.next().await {
                Some(Ok(row)) => {
                    good += 1;
                    assert_eq!(row.get::<i32>(0), good, "rows arrive whole and in order");
                }
                Some(Err(error)) => break error,
                None => panic!("the stream ended as if complete"),
            }
        }
    })
    .await;
    lost(&error);
    assert_eq!(good, 99, "every whole row before the cut, and no torn one");
    assert!(db.closed());
}

#[tokio::test]
async fn a_stalled_query_is_given_up_and_the_connection_closed() {
    let (plan, arm) = armed(
        Way::ToClient,
        b'T',
        None,
        Action::Stall(Duration::from_secs(60)),
    );
    let proxy = proxy(plan).await;
    let db = through(&proxy, "").connect().await.unwrap();
    let ps = db.prepare("SELECT 1 AS stalled").await.unwrap();
    arm.store(true, Ordering::SeqCst);
    // The caller's own deadline; then it closes the connection.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(500),
        db.query("SELECT 2 AS never", ()),
    )
    .await;
    assert!(gave_up.is_err());
    db.close();
    let error = bounded(ps.call(())).await.unwrap_err();
    assert!(error.is_a(&ConnectionDoesNotExistError), "{error}");
}

async fn count(table: &str) -> i64 {
    direct()
        .await
        .query_first::<i64, _>(&format!("SELECT count(*) FROM {table}"), ())
        .await
        .unwrap()
}

#[tokio::test]
async fn committed_data_is_exactly_what_was_reported_committed() {
    let setup = direct().await;
    setup
        .execute("CREATE TABLE IF NOT EXISTS fault_commits (tag text)")
        .await
        .unwrap();

    // 1. The link dies before COMMIT reaches the server: the transaction must be gone.
    let (plan, arm) = armed(Way::ToServer, b'Q', Some("COMMIT"), Action::CutBefore);
    let proxy1 = proxy(plan).await;
    let db = through(&proxy1, "").connect().await.unwrap();
    let x = db.xact();
    x.start().await.unwrap();
    db.execute("INSERT INTO fault_commits VALUES ('before-commit')")
        .await
        .unwrap();
    arm.store(true, Ordering::SeqCst);
    let error = bounded(x.commit()).await.unwrap_err();
    lost(&error);

    // 2. The link dies after the server committed but before it said so: the client cannot
    //    know, and is told the connection is gone; the data is there.
    let (plan, arm) = armed(Way::ToClient, b'C', Some("COMMIT"), Action::CutBefore);
    let proxy2 = proxy(plan).await;
    let db = through(&proxy2, "").connect().await.unwrap();
    let x = db.xact();
    x.start().await.unwrap();
    db.execute("INSERT INTO fault_commits VALUES ('commit-unacknowledged')")
        .await
        .unwrap();
    arm.store(true, Ordering::SeqCst);
    let error = bounded(x.commit()).await.unwrap_err();
    lost(&error);

    // 3. Reported committed.
    let (plan, _) = armed(Way::ToClient, b'C', Some("never"), Action::CutBefore);
    let proxy3 = proxy(plan).await;
    let db = through(&proxy3, "").connect().await.unwrap();
    let x = db.xact();
    x.start().await.unwrap();
    db.execute("INSERT INTO fault_commits VALUES ('committed')")
        .await
        .unwrap();
    x.commit().await.unwrap();

    // The server notices the lost sessions and rolls their open work back.
    let deadline = Instant::now() + BOUND;
    while count("fault_commits WHERE tag = 'before-commit'").await != 0 && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count("fault_commits WHERE tag = 'before-commit'").await, 0);
    assert_eq!(
        count("fault_commits WHERE tag = 'commit-unacknowledged'").await,
        1
    );
    assert_eq!(count("fault_commits WHERE tag = 'committed'").await, 1);
}
