//! A real PgBouncer in transaction pooling mode (Debian's `pgbouncer` package; `.ci/setup`
//! installs it), started by each test on 127.0.0.1 in front of a throwaway cluster of this
//! process.
//!
//! With named statements (the default) a statement prepared in one transaction and executed
//! in a later one fails as soon as another client has taken its server connection: this is
//! constructed deterministically. PgBouncer hands out its idle server connections
//! most-recently-used first (`server_round_robin = 0`), so client B's `BEGIN`, sent right after
//! client A prepared, takes the very server connection A prepared on and keeps it for its
//! transaction; A's execution then gets the pool's other connection (`default_pool_size = 2`),
//! where the statement does not exist (26000). With `[statement_cache]=off` the same
//! interleaving works for every execution method, and transaction blocks work either way.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use pg_cluster::{Account, Temporal};
use pg_driver::params::{Keywords, PreparedStatements};
use pg_driver::{Connection, Connector, First, ProcResult};
use pg_exceptions::Error;
use pg_types::Value;

/// The cluster behind every PgBouncer of this process (trust authentication on 127.0.0.1).
fn server() -> &'static Temporal {
    static SERVER: OnceLock<Temporal> = OnceLock::new();
    SERVER.get_or_init(|| Temporal::builder().build().expect("a throwaway cluster"))
}

/// The `pgbouncer` program: on `PATH`, or where Debian puts it.
fn program() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("pgbouncer"))
        .find(|p| p.is_file());
    on_path
        .or_else(|| Some(PathBuf::from("/usr/sbin/pgbouncer")).filter(|p| p.is_file()))
        .expect("pgbouncer is not installed: run .ci/setup (apt-get install pgbouncer)")
}

/// PgBouncer's version, `(major, minor)`, from `pgbouncer --version`.
fn version(program: &Path) -> (u32, u32) {
    let output = Command::new(program).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let number = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .expect("a version number");
    let mut parts = number.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// A running PgBouncer: its directory (ini, auth file, log, socket) is removed and the
/// process stopped when dropped; it is also killed if the thread that started it ends.
struct PgBouncer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl PgBouncer {
    /// Starts PgBouncer in transaction pooling mode with `pool_size` server connections for
    /// the database `test`, as the unprivileged account when this process is root (PgBouncer
    /// refuses to run as root), and waits until it accepts connections.
    fn start(pool_size: usize) -> PgBouncer {
        let server = server();
        let program = program();
        let account = Account::for_current_process().expect("an account for servers");
        let dir = tempfile::Builder::new()
            .prefix("pgbouncer-test-")
            .tempdir()
            .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let d = dir.path().display();
        // Since 1.21 PgBouncer can track named statements itself (on by default since 1.24):
        // turned off, so that the driver's option is what is tested.
        let tracking = match version(&program) >= (1, 21) {
            true => "max_prepared_statements = 0\n",
            false => "",
        };
        let ini = format!(
            "[databases]\n\
             test = host=127.0.0.1 port={} dbname=test user=test\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir = {d}\n\
             auth_type = trust\n\
             auth_file = {d}/userlist.txt\n\
             pool_mode = transaction\n\
             default_pool_size = {pool_size}\n\
             min_pool_size = 0\n\
             reserve_pool_size = 0\n\
             server_round_robin = 0\n\
             max_client_conn = 100\n\
             query_wait_timeout = 30\n\
             ignore_startup_parameters = extra_float_digits\n\
             logfile = {d}/pgbouncer.log\n\
             pidfile = {d}/pgbouncer.pid\n\
             {tracking}",
            server.port()
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), ini).unwrap();
        std::fs::write(dir.path().join("userlist.txt"), "\"test\" \"\"\n").unwrap();
        let mut command = Command::new(&program);
        command
            .arg(dir.path().join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(account) = &account {
            for entry in std::fs::read_dir(dir.path()).unwrap() {
                give(account, &entry.unwrap().path());
            }
            give(account, dir.path());
            command.uid(account.uid()).gid(account.gid());
        }
        // SAFETY: prctl and getppid are async-signal-safe; nothing else runs in the child.
        unsafe {
            command.pre_exec(|| {
                // Killed when the thread that started it ends, even if this process is killed.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().expect("pgbouncer starts");
        let mut bouncer = PgBouncer { child, port, dir };
        bouncer.wait_until_listening();
        bouncer
    }

    fn wait_until_listening(&mut self) {
        let begun = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                let log = std::fs::read_to_string(self.dir.path().join("pgbouncer.log"));
                panic!(
                    "pgbouncer exited ({status}): {stderr}\n{}",
                    log.unwrap_or_default()
                );
            }
            assert!(
                begun.elapsed() < Duration::from_secs(20),
                "pgbouncer did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A `pq://` IRI for the database `test` through PgBouncer, with `query` added.
    fn iri(&self, query: &str) -> String {
        format!(
            "pq://test@127.0.0.1:{}/test?[sslmode]=disable&[connect_timeout]=10{query}",
            self.port
        )
    }

    /// A connection through PgBouncer, with unnamed statements or not.
    async fn connect(&self, unnamed: bool) -> Connection {
        let query = if unnamed {
            "&[statement_cache]=off"
        } else {
            ""
        };
        let params = Keywords::parse(&self.iri(query))
            .and_then(Keywords::build)
            .unwrap();
        Connector::new(params).connect().await.unwrap()
    }
}

fn give(account: &Account, path: &Path) {
    std::os::unix::fs::chown(path, Some(account.uid()), Some(account.gid())).unwrap();
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // SIGINT: PgBouncer's safe shutdown; killed if it lingers.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: the pid is our unreaped child's.
            unsafe {
                libc::kill(pid, libc::SIGINT);
            }
        }
        let begun = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) {
            if begun.elapsed() > Duration::from_secs(5) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs `work` on client A while client B holds a transaction on the server connection A
/// used last (see the module's notes): A's work must run on another server connection.
/// Returns the work's result and B's server process id.
async fn while_b_holds_its_server<T>(b: &Connection, work: impl Future<Output = T>) -> (T, i32) {
    let pid = b.simple("BEGIN; SELECT pg_backend_pid()").await.unwrap()[1].rows[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let result = work.await;
    b.execute("COMMIT").await.unwrap();
    (result, pid)
}

#[tokio::test]
async fn named_statements_fail_when_another_client_took_the_server() {
    let bouncer = PgBouncer::start(2);
    let a = bouncer.connect(false).await;
    let b = bouncer.connect(false).await;
    let ps = a.prepare("SELECT $1::int + 1").await.unwrap();
    assert!(ps.statement_id().starts_with("pg_api_s"));
    let (result, _) = while_b_holds_its_server(&b, ps.first::<i32, _>((1,))).await;
    let error = result.unwrap_err();
    assert_eq!(error.code(), "26000", "{error}");
    assert!(
        error.message().starts_with("prepared statement \"pg_api_s")
            && error.message().ends_with("does not exist"),
        "{error}"
    );
    // Named statements of two clients meet on one server connection, too: both sessions
    // number theirs from 0, so B's first statement, prepared in a transaction on the server
    // connection A prepared on, takes a name that is already there.
    let ps = a.prepare("SELECT 2").await.unwrap();
    let (result, _) = while_b_holds_its_server(&b, b.prepare("SELECT 3")).await;
    let error = result.unwrap_err();
    assert_eq!(error.code(), "42P05", "{error}");
    assert!(error.message().ends_with("already exists"), "{error}");
    drop(ps);
    a.close();
    b.close();
}

#[tokio::test]
async fn unnamed_statements_survive_the_same_interleaving() {
    let bouncer = PgBouncer::start(2);
    let a = bouncer.connect(true).await;
    let b = bouncer.connect(true).await;
    let ps = a
        .prepare("SELECT $1::int + 1 AS next, pg_backend_pid() AS pid")
        .await
        .unwrap();
    assert_eq!(ps.statement_id(), "");
    assert!(!ps.is_owned());
    assert_eq!(ps.column_names(), ["next", "pid"]);
    assert_eq!(ps.pg_parameter_types(), [23]);
    let (row, held) = while_b_holds_its_server(&b, ps.first::<First, _>((1,))).await;
    let First::Row(row) = row.unwrap() else {
        panic!("a row")
    };
    assert_eq!(row.get::<i32>("next"), 2);
    assert_ne!(
        row.get::<i32>("pid"),
        held,
        "ran on another server connection"
    );
    // The keyword spelling and the explicit keyword do the same.
    for params in [
        Keywords::parse(&format!(
            "host=127.0.0.1 port={} user=test dbname=test sslmode=disable prepared_statements=unnamed",
            bouncer.port
        ))
        .and_then(Keywords::build),
        Keywords::parse(&bouncer.iri(""))
            .map(|k| k.prepared_statements(PreparedStatements::Unnamed))
            .and_then(Keywords::build),
    ] {
        let c = Connector::new(params.unwrap()).connect().await.unwrap();
        let ps = c.prepare("SELECT 41 + $1::int").await.unwrap();
        let (value, _) = while_b_holds_its_server(&b, ps.first::<i32, _>((1,))).await;
        assert_eq!(value.unwrap(), 42);
        c.close();
    }
}

#[tokio::test]
async fn every_execution_method_works_through_the_pooler() {
    let bouncer = PgBouncer::start(2);
    let a = bouncer.connect(true).await;
    let b = bouncer.connect(true).await;
    a.execute("DROP TABLE IF EXISTS bouncer_items; CREATE TABLE bouncer_items (id int PRIMARY KEY, name text)")
        .await
        .unwrap();
    let series = "SELECT i, 'row ' || i AS label FROM generate_series(1, $1::int) i";

    // prepare, then each method, with B taking A's last server connection in between.
    let ps = a.prepare(series).await.unwrap();
    let (results, _) = while_b_holds_its_server(&b, ps.call((5,))).await;
    let results = results.unwrap();
    assert_eq!(
        (results.rows.len(), results.command.as_str()),
        (5, "SELECT")
    );
    assert_eq!(results.rows[4].get::<String>("label"), "row 5");

    let (first, _) = while_b_holds_its_server(&b, ps.first::<First, _>((3,))).await;
    assert!(matches!(first.unwrap(), First::Row(row) if row.get::<i32>(0) == 1));

    let (rows, _) = while_b_holds_its_server(&b, async {
        ps.rows((10_000,)).unwrap().try_collect::<Vec<_>>().await
    })
    .await;
    assert_eq!(rows.unwrap().len(), 10_000);

    let (chunks, _) = while_b_holds_its_server(&b, async {
        let chunks: Vec<_> = ps.chunks((10_000,)).unwrap().try_collect().await?;
        Ok::<_, Error>(chunks.iter().map(Vec::len).sum::<usize>())
    })
    .await;
    assert_eq!(chunks.unwrap(), 10_000);

    let (column, _) = while_b_holds_its_server(&b, async {
        ps.column((3,)).unwrap().try_collect::<Vec<_>>().await
    })
    .await;
    assert_eq!(
        column.unwrap(),
        [Value::Int4(1), Value::Int4(2), Value::Int4(3)]
    );

    // load_rows: enough rows for several batches, each starting with its own Parse.
    let insert = a
        .prepare("INSERT INTO bouncer_items VALUES ($1, $2)")
        .await
        .unwrap();
    let rows = (1..=5000).map(|i| (i, format!("item {i:>40}")));
    let (loaded, _) = while_b_holds_its_server(&b, insert.load_rows(rows)).await;
    assert_eq!(loaded.unwrap(), 5000);
    let chunks = (0..3).map(|c| (1..=100).map(move |i| (10_000 + c * 100 + i, "chunked")));
    let (loaded, _) = while_b_holds_its_server(&b, insert.load_chunks(chunks)).await;
    assert_eq!(loaded.unwrap(), 300);
    // A failing load is still all or nothing.
    let (failed, _) =
        while_b_holds_its_server(&b, insert.load_rows([(20_001, "new"), (1, "duplicate")])).await;
    assert_eq!(failed.unwrap_err().code(), "23505");
    let count = "SELECT count(*) FROM bouncer_items";
    assert_eq!(a.query_first::<i64, _>(count, ()).await.unwrap(), 5300);

    // The query interface: each call prepares and executes.
    let (results, _) = while_b_holds_its_server(&b, a.query(series, (4,))).await;
    assert_eq!(results.unwrap().rows.len(), 4);
    let (n, _) = while_b_holds_its_server(&b, a.query_first::<i64, _>(count, ())).await;
    assert_eq!(n.unwrap(), 5300);
    let (rows, _) = while_b_holds_its_server(&b, async {
        a.query_rows(series, (7,))
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await;
    assert_eq!(rows.unwrap().len(), 7);
    let (chunks, _) = while_b_holds_its_server(&b, async {
        a.query_chunks(series, (7,))
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await;
    assert_eq!(chunks.unwrap().concat().len(), 7);
    let (column, _) = while_b_holds_its_server(&b, async {
        a.query_column("SELECT name FROM bouncer_items WHERE id = $1", (3,))
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await;
    assert_eq!(column.unwrap(), [Value::Text(format!("item {:>40}", 3))]);
    let (loaded, _) = while_b_holds_its_server(
        &b,
        a.query_load_rows(
            "UPDATE bouncer_items SET name = $2 WHERE id = $1",
            (1..=10).map(|i| (i, "updated")),
        ),
    )
    .await;
    assert_eq!(loaded.unwrap(), 10);
    let (loaded, _) = while_b_holds_its_server(
        &b,
        a.query_load_chunks(
            "DELETE FROM bouncer_items WHERE id = $1",
            [vec![(10_001,), (10_002,)], vec![(10_003,)]],
        ),
    )
    .await;
    assert_eq!(loaded.unwrap(), 3);

    // Stored procedures and cloned statements are prepared the same way.
    let lower = a.proc("lower(text)").await.unwrap();
    let (lowered, _) = while_b_holds_its_server(&b, lower.call(("PgBouncer",))).await;
    assert!(matches!(lowered.unwrap(), ProcResult::Value(Value::Text(t)) if t == "pgbouncer"));
    let clone = ps.clone_statement().await.unwrap();
    let (n, _) = while_b_holds_its_server(&b, clone.first::<i32, _>((1,))).await;
    assert_eq!(n.unwrap(), 1);

    // Errors still carry the statement.
    let bad = a.prepare("SELECT 1 / $1::int").await.unwrap();
    let (error, _) = while_b_holds_its_server(&b, bad.first::<i32, _>((0,))).await;
    let error = error.unwrap_err();
    assert_eq!(error.code(), "22012");
    assert_eq!(error.statement(), Some("SELECT 1 / $1::int"));

    a.execute("DROP TABLE bouncer_items").await.unwrap();
    a.close();
    b.close();
}

#[tokio::test]
async fn transaction_blocks_work_through_the_pooler() {
    let bouncer = PgBouncer::start(2);
    let a = bouncer.connect(true).await;
    let b = bouncer.connect(true).await;
    a.execute("DROP TABLE IF EXISTS bouncer_xact; CREATE TABLE bouncer_xact (id int)")
        .await
        .unwrap();
    let insert = a
        .prepare("INSERT INTO bouncer_xact VALUES ($1)")
        .await
        .unwrap();
    // A committed block with a savepoint rolled back inside; B works meanwhile, on the
    // other server connection.
    let pid: i32 = a
        .xact()
        .run(|x| {
            let insert = insert.clone();
            let b = b.clone();
            async move {
                insert.call((1,)).await?;
                let pid: i32 = x
                    .connection()
                    .query_first("SELECT pg_backend_pid()", ())
                    .await?;
                let other: i32 = b.query_first("SELECT pg_backend_pid()", ()).await?;
                assert_ne!(pid, other);
                let inner = x.connection().xact();
                inner.start().await?;
                insert.call((2,)).await?;
                inner.rollback().await?;
                insert.load_rows([(3,), (4,)]).await?;
                // Still the same server connection, held for the whole block.
                let again: i32 = x
                    .connection()
                    .query_first("SELECT pg_backend_pid()", ())
                    .await?;
                assert_eq!(again, pid);
                Ok::<_, Error>(pid)
            }
        })
        .await
        .unwrap();
    assert!(pid > 0);
    // A block that fails is rolled back whole.
    let failed = a
        .xact()
        .isolation("SERIALIZABLE")
        .run(|_| {
            let insert = insert.clone();
            async move {
                insert.call((5,)).await?;
                insert.call(("not a number",)).await?;
                Ok::<_, Error>(())
            }
        })
        .await;
    assert!(failed.is_err());
    let ids = a
        .query_column("SELECT id FROM bouncer_xact ORDER BY id", ())
        .await
        .unwrap()
        .map(|v| v.unwrap())
        .collect::<Vec<_>>()
        .await;
    assert_eq!(ids, [Value::Int4(1), Value::Int4(3), Value::Int4(4)]);

    // Named statements work inside one block, where the pooler keeps the server connection.
    let named = bouncer.connect(false).await;
    let x = named.xact();
    x.start().await.unwrap();
    let ps = named
        .prepare("SELECT count(*) FROM bouncer_xact")
        .await
        .unwrap();
    b.execute("SELECT 1").await.unwrap();
    assert_eq!(ps.first::<i64, _>(()).await.unwrap(), 3);
    x.commit().await.unwrap();

    a.execute("DROP TABLE bouncer_xact").await.unwrap();
    a.close();
    b.close();
    named.close();
}

#[tokio::test]
async fn many_clients_share_one_server_connection() {
    // Eight clients, one server connection: every request lands on whichever client used
    // the server last, so nothing named could survive; unnamed statements do not need to.
    let bouncer = PgBouncer::start(1);
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(bouncer.connect(true).await);
    }
    let work = clients.iter().enumerate().map(|(n, db)| async move {
        let ps = db
            .prepare("SELECT $1::int * i FROM generate_series(1, 100) i")
            .await?;
        let mut total = 0i64;
        for round in 0..20 {
            let column: Vec<Value> = ps
                .column((n as i32 + round,))
                .unwrap()
                .try_collect()
                .await?;
            total += column.len() as i64;
            let first: i32 = ps.first((round,)).await?;
            assert_eq!(first, round);
            total += db.query_first::<i64, _>("SELECT $1::int8", (1i64,)).await?;
        }
        Ok::<_, Error>(total)
    });
    let totals = futures::future::try_join_all(work).await.unwrap();
    assert_eq!(totals, vec![20 * 101; 8]);
    // The blocking facade too.
    let iri = bouncer.iri("&[statement_cache]=off");
    let value = std::thread::spawn(move || {
        let db = pg_driver::blocking::open(&iri).unwrap();
        let ps = db.prepare("SELECT upper($1::text)").unwrap();
        ps.first::<String, _>(("through pgbouncer",)).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(value, "THROUGH PGBOUNCER");
}

#[tokio::test]
async fn the_drivers_message_level_never_keeps_a_connection_from_the_pooler() {
    // PgBouncer refuses startup parameters it does not know, client_min_messages among them
    // (unless told to ignore them): the driver's own default gives way, the user's does not.
    let bouncer = PgBouncer::start(1);
    let db = bouncer.connect(true).await;
    assert_eq!(db.query_first::<i32, _>("SELECT 1", ()).await.unwrap(), 1);
    let again = db.clone_connection().await.unwrap();
    assert_eq!(
        again.query_first::<i32, _>("SELECT 2", ()).await.unwrap(),
        2
    );
    let explicit = Keywords::parse(&bouncer.iri("&client_min_messages=error"))
        .and_then(Keywords::build)
        .unwrap();
    let err = Connector::new(explicit).connect().await.unwrap_err();
    assert!(err.message().contains("client_min_messages"), "{err}");
    // pg-session's level (notice) gives way too.
    let uri = format!(
        "postgresql://test@127.0.0.1:{}/test?sslmode=disable&statement_cache=off",
        bouncer.port
    );
    let session = pg_session::AsyncSession::new(&uri).unwrap();
    let results = session.query("SELECT 3 AS three", ()).await.unwrap();
    assert_eq!(results.as_dict().unwrap()["three"], Value::Int4(3));
}
