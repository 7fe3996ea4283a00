//! libpq's environment against a real server: `pg_driver::open` inheriting `PG*` variables, the
//! password file (`PGPASSFILE`, `~/.pgpass`, matching, wildcards, escapes, unsafe permissions),
//! `pg_driver::connect` ignoring the environment, and `connect_timeout` against a silent listener.
//!
//! The process environment is global, so every test here holds [`ENV_LOCK`] for its whole run
//! (including while the driver reads the environment).

use std::ffi::{OsStr, OsString};
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pg_cluster::{AuthMethod as HbaMethod, Role, Temporal};
use pg_driver::params::{Keywords, SslMode};
use pg_driver::{AuthMethod, Connection, Connector, MessageHook, PeerAddr};
use pg_exceptions::{
    AuthenticationSpecificationError, ConnectTimeoutError, Error, InvalidPasswordError, Message,
    Source,
};

/// env_user's password: a colon and a backslash, which the password file must escape.
const ENV_PW: &str = r"se:cr\et";
/// The same, escaped for the password file.
const ENV_PW_ESCAPED: &str = r"se\:cr\\et";
const WILD_PW: &str = "wild-pw";

/// Limit on anything that talks to a server.
const LIMIT: Duration = Duration::from_secs(60);

/// Held by every test of this binary for its whole run: the environment is process-global.
static ENV_LOCK: Mutex<()> = Mutex::new(());

fn env_lock() -> MutexGuard<'static, ()> {
    ENV_LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Changes to the process environment, undone when dropped.
struct Env {
    saved: Vec<(OsString, Option<OsString>)>,
    _lock: MutexGuard<'static, ()>,
}

impl Env {
    /// Takes the environment lock; the guard is held for the whole test.
    fn lock() -> Env {
        Env {
            _lock: env_lock(),
            saved: Vec::new(),
        }
    }

    fn remember(&mut self, name: &str) {
        if !self.saved.iter().any(|(n, _)| n == name) {
            self.saved.push((name.into(), std::env::var_os(name)));
        }
    }

    fn set(&mut self, name: &str, value: impl AsRef<OsStr>) {
        self.remember(name);
        // SAFETY: the environment is only read or written while ENV_LOCK is held (this Env
        // holds it), and every test of this binary takes the lock first; the test's runtime is
        // single-threaded and no connection attempt is in flight while the environment changes.
        unsafe { std::env::set_var(name, value) };
    }

    fn remove(&mut self, name: &str) {
        self.remember(name);
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(name) };
    }

    /// Removes every `PG*` variable, so only what a test sets is inherited.
    fn clear_pg(&mut self) {
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .filter(|name| name.starts_with("PG"))
            .collect();
        for name in names {
            self.remove(&name);
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for (name, value) in self.saved.drain(..).rev() {
            // SAFETY: as in `set`; the lock is released only after this drop body.
            unsafe {
                match value {
                    Some(value) => std::env::set_var(&name, value),
                    None => std::env::remove_var(&name),
                }
            }
        }
    }
}

struct Fixture {
    pg: Temporal,
}

/// The cluster of this test binary; static, so it is removed by pg-cluster's exit handler.
/// First used while ENV_LOCK is held and before any test changes the environment.
static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let pg = Temporal::builder()
        .ssl(true)
        .role(
            Role::new("env_user")
                .password(ENV_PW)
                .auth(HbaMethod::ScramSha256),
        )
        .role(
            Role::new("wild_user")
                .password(WILD_PW)
                .auth(HbaMethod::Md5),
        )
        .build()
        .expect("the environment test cluster starts");
    let port = pg.port();
    let (user, database) = (pg.user().to_owned(), pg.database().to_owned());
    runtime().block_on(async move {
        let admin = within(
            "admin connection",
            pg_driver::connect(
                Keywords::new()
                    .host("127.0.0.1")
                    .port(port)
                    .user(user)
                    .database(database)
                    .ssl_mode(SslMode::Disable),
            ),
        )
        .await
        .expect("the superuser connects");
        for sql in [
            "CREATE DATABASE envdb",
            "CREATE DATABASE \"colon:db\"",
            "GRANT ALL ON DATABASE envdb TO env_user",
        ] {
            within(sql, admin.execute(sql))
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        admin.close();
    });
    Fixture { pg }
});

fn fixture() -> &'static Fixture {
    &FIXTURE
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {LIMIT:?}"))
}

async fn open(iri: &str) -> Result<Connection, Error> {
    within(&format!("open({iri})"), pg_driver::open(iri)).await
}

async fn opened(iri: &str) -> Connection {
    open(iri)
        .await
        .unwrap_or_else(|e| panic!("open({iri}): {e}"))
}

fn failed(result: Result<Connection, Error>, what: &str) -> Error {
    match result {
        Ok(db) => panic!(
            "{what}: connected as {:?} but should have failed",
            db.connector().iri()
        ),
        Err(e) => e,
    }
}

async fn scalar(db: &Connection, sql: &str) -> Option<String> {
    let results = within(sql, db.simple(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    results[0]
        .rows
        .first()
        .expect("a row")
        .first()
        .expect("a column")
        .clone()
}

/// (current_user, current_database(), application_name) of a session.
async fn identity(db: &Connection) -> (String, String, String) {
    let results = within(
        "identity",
        db.simple("SELECT current_user, current_database(), current_setting('application_name')"),
    )
    .await
    .expect("identity query");
    let row = &results[0].rows[0];
    let text = |i: usize| row[i].clone().unwrap_or_default();
    (text(0), text(1), text(2))
}

/// Writes a password file with the given mode.
fn write_passfile(path: &Path, contents: &str, mode: u32) {
    std::fs::write(path, contents).expect("write the password file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .expect("set the password file's mode");
}

/// A hook collecting every message it sees (and stopping it there).
fn collector() -> (MessageHook, Arc<Mutex<Vec<Message>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let hook: MessageHook = Arc::new(move |message: &Message| {
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message.clone());
        true
    });
    (hook, seen)
}

fn messages(seen: &Arc<Mutex<Vec<Message>>>) -> Vec<Message> {
    seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// A listener that completes TCP handshakes (the kernel does) but never answers.
fn silent_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a listener on 127.0.0.1")
}

#[test]
fn open_inherits_the_environment() {
    let mut env = Env::lock();
    let f = fixture();
    let port = f.pg.port().to_string();
    let ca = f.pg.ca_cert_path().expect("TLS is on").to_owned();
    let home = tempfile::tempdir().expect("a temporary home");
    env.clear_pg();
    env.set("HOME", home.path());

    runtime().block_on(async {
        // The basic variables.
        env.set("PGHOST", "127.0.0.1");
        env.set("PGPORT", &port);
        env.set("PGUSER", "env_user");
        env.set("PGPASSWORD", ENV_PW);
        env.set("PGDATABASE", "envdb");
        env.set("PGAPPNAME", "env-app");
        env.set("PGSSLMODE", "disable");
        env.set("PGOPTIONS", "-c search_path=from_pgoptions");
        env.set("PGTZ", "Pacific/Chatham");
        let db = opened("pq://").await;
        assert_eq!(
            identity(&db).await,
            ("env_user".into(), "envdb".into(), "env-app".into())
        );
        assert_eq!(
            db.peer(),
            PeerAddr::Tcp {
                addr: format!("127.0.0.1:{port}").parse().unwrap(),
                host: "127.0.0.1".into()
            }
        );
        assert_eq!(db.security(), None, "PGSSLMODE=disable");
        assert_eq!(db.auth_method(), AuthMethod::ScramSha256);
        assert_eq!(
            scalar(&db, "SHOW search_path").await.as_deref(),
            Some("from_pgoptions")
        );
        assert_eq!(
            scalar(&db, "SHOW TimeZone").await.as_deref(),
            Some("Pacific/Chatham")
        );
        db.close();
        // The postgresql:// spelling inherits the same.
        let db = opened("postgresql://").await;
        assert_eq!(
            identity(&db).await,
            ("env_user".into(), "envdb".into(), "env-app".into())
        );
        db.close();

        // What the IRI says wins over the environment; the rest is still inherited.
        let iri = format!("pq://127.0.0.1:{port}/test?application_name=from-iri");
        let db = opened(&iri).await;
        assert_eq!(
            identity(&db).await,
            ("env_user".into(), "test".into(), "from-iri".into())
        );
        db.close();

        // TLS and channel binding from the environment.
        env.set("PGHOST", "localhost");
        env.set("PGSSLMODE", "verify-full");
        env.set("PGSSLROOTCERT", &ca);
        let db = opened("pq://").await;
        assert_eq!(db.security(), Some("tls"));
        assert_eq!(db.auth_method(), AuthMethod::ScramSha256Plus);
        db.close();
        env.set("PGCHANNELBINDING", "disable");
        let db = opened("pq://").await;
        assert_eq!(db.security(), Some("tls"));
        assert_eq!(db.auth_method(), AuthMethod::ScramSha256);
        db.close();
        env.set("PGSSLROOTCERT", home.path().join("no-such-root.crt"));
        let e = failed(open("pq://").await, "PGSSLROOTCERT naming a missing file");
        assert!(e.is_a(&pg_exceptions::InsecurityError), "{e}");
        for name in [
            "PGSSLMODE",
            "PGSSLROOTCERT",
            "PGCHANNELBINDING",
            "PGOPTIONS",
            "PGTZ",
        ] {
            env.remove(name);
        }
        env.set("PGSSLMODE", "disable");
        env.set("PGHOST", "127.0.0.1");

        // A wrong PGPASSWORD is the server's refusal.
        env.set("PGPASSWORD", "not it");
        let e = failed(open("pq://").await, "a wrong PGPASSWORD");
        assert!(e.is_a(&InvalidPasswordError), "{e}");

        // The password file named by PGPASSFILE: the first matching line wins.
        let passfile = home.path().join("pgpass");
        let other_port = f.pg.port().wrapping_add(1);
        write_passfile(
            &passfile,
            &format!(
                "# lines that must not match come first\n\
                 127.0.0.1:{other_port}:*:env_user:wrong-port\n\
                 localhost:{port}:envdb:env_user:wrong-host\n\
                 127.0.0.1:{port}:colon\\:db:env_user:{ENV_PW_ESCAPED}\n\
                 127.0.0.1:{port}:envdb:env_user:{ENV_PW_ESCAPED}\n\
                 *:*:*:env_user:shadowed-by-the-lines-above\n\
                 *:*:*:wild_user:{WILD_PW}\n"
            ),
            0o600,
        );
        env.set("PGPASSFILE", &passfile);
        // PGPASSWORD comes before the password file.
        let e = failed(open("pq://").await, "PGPASSWORD over the password file");
        assert!(e.is_a(&InvalidPasswordError), "{e}");
        env.remove("PGPASSWORD");

        let db = opened("pq://").await;
        assert_eq!(identity(&db).await.0, "env_user");
        assert_eq!(identity(&db).await.1, "envdb");
        db.close();
        // An escaped colon in the database field.
        let db = opened(&format!("pq://127.0.0.1:{port}/colon%3Adb")).await;
        assert_eq!(identity(&db).await.1, "colon:db");
        db.close();
        // Another database: only the `*` line matches, and its password is wrong.
        let e = failed(
            open(&format!("pq://127.0.0.1:{port}/test")).await,
            "the wildcard line's wrong password",
        );
        assert!(e.is_a(&InvalidPasswordError), "{e}");
        // The host field is compared with the host name as given.
        env.set("PGHOST", "localhost");
        let e = failed(open("pq://").await, "the localhost line's wrong password");
        assert!(e.is_a(&InvalidPasswordError), "{e}");
        env.set("PGHOST", "127.0.0.1");
        // A `*` line for another user.
        let db = opened(&format!("pq://wild_user@127.0.0.1:{port}/test")).await;
        assert_eq!(identity(&db).await.0, "wild_user");
        assert_eq!(db.auth_method(), AuthMethod::Md5);
        db.close();

        // A password file others may read is refused with a warning, so no password is sent.
        std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o644))
            .expect("chmod 0644");
        let (hook, seen) = collector();
        let connector = Connector::new(
            Keywords::parse("pq://")
                .and_then(Keywords::resolve)
                .expect("parameters from the environment"),
        )
        .with_message_hook(hook);
        let e = failed(
            within("a 0644 password file", connector.connect()).await,
            "a 0644 password file",
        );
        assert_missing_password(&e, "a 0644 password file, connector hook");
        assert_passfile_warning(&messages(&seen), &passfile);

        let (hook, seen) = collector();
        pg_driver::set_process_message_hook(Some(hook));
        let result = open("pq://").await;
        pg_driver::set_process_message_hook(None);
        let e = failed(result, "a 0644 password file through open()");
        assert_missing_password(&e, "a 0644 password file, process hook");
        assert_passfile_warning(&messages(&seen), &passfile);

        // Without PGPASSFILE, ~/.pgpass (HOME is the temporary directory here).
        env.remove("PGPASSFILE");
        let e = failed(open("pq://").await, "no password file at all");
        assert_missing_password(&e, "no ~/.pgpass");
        write_passfile(
            &home.path().join(".pgpass"),
            &format!("*:{port}:envdb:env_user:{ENV_PW_ESCAPED}\n"),
            0o600,
        );
        let db = opened("pq://").await;
        assert_eq!(identity(&db).await.0, "env_user");
        db.close();

        // PGCONNECT_TIMEOUT against a server that never answers.
        let silent = silent_listener();
        env.set("PGPORT", silent.local_addr().unwrap().port().to_string());
        env.set("PGCONNECT_TIMEOUT", "2");
        let begun = Instant::now();
        let e = failed(open("pq://").await, "PGCONNECT_TIMEOUT");
        let took = begun.elapsed();
        assert!(e.is_a(&ConnectTimeoutError), "{e}");
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
            "{took:?}"
        );
    });
    drop(env);
}

fn assert_missing_password(e: &Error, what: &str) {
    assert!(e.is_a(&AuthenticationSpecificationError), "{what}: {e}");
    assert!(!e.is_a(&InvalidPasswordError), "{what}: {e}");
    assert_eq!(e.source_kind(), Source::Client, "{what}: {e}");
    assert!(e.message().contains("none was supplied"), "{what}: {e}");
}

fn assert_passfile_warning(messages: &[Message], passfile: &Path) {
    let warnings: Vec<&Message> = messages
        .iter()
        .filter(|m| m.severity() == "WARNING")
        .collect();
    assert_eq!(warnings.len(), 1, "one warning expected: {messages:?}");
    let text = warnings[0].message();
    assert!(
        text.contains(&passfile.display().to_string()),
        "names the file: {text}"
    );
    assert!(text.contains("0644"), "gives the mode: {text}");
    assert!(text.contains("0600"), "says what is expected: {text}");
}

#[test]
fn connect_ignores_the_environment() {
    let mut env = Env::lock();
    let f = fixture();
    let port = f.pg.port();
    let home = tempfile::tempdir().expect("a temporary home");
    env.clear_pg();
    env.set("HOME", home.path());
    // Everything here would break the connection, were it inherited.
    let passfile: PathBuf = home.path().join("pgpass");
    write_passfile(
        &passfile,
        &format!("*:*:*:env_user:{ENV_PW_ESCAPED}\n"),
        0o600,
    );
    for (name, value) in [
        ("PGHOST", "192.0.2.1"),
        ("PGPORT", "1"),
        ("PGUSER", "nobody"),
        ("PGPASSWORD", "wrong"),
        ("PGDATABASE", "no_such_db"),
        ("PGAPPNAME", "leaked"),
        ("PGOPTIONS", "-c search_path=leaked"),
        ("PGSSLMODE", "disable"),
        ("PGCHANNELBINDING", "disable"),
        ("PGCONNECT_TIMEOUT", "2"),
    ] {
        env.set(name, value);
    }
    env.set("PGPASSFILE", &passfile);

    runtime().block_on(async {
        let kw = || {
            Keywords::new()
                .host("127.0.0.1")
                .port(port)
                .user("env_user")
                .database("test")
                .connect_timeout(Duration::from_secs(20))
        };
        let db = within("connect", pg_driver::connect(kw().password(ENV_PW)))
            .await
            .expect("connects with the keywords alone");
        assert_eq!(
            identity(&db).await,
            ("env_user".into(), "test".into(), String::new())
        );
        assert_ne!(
            scalar(&db, "SHOW search_path").await.as_deref(),
            Some("leaked")
        );
        // sslmode and channel_binding keep their defaults (prefer), not the environment's.
        assert_eq!(db.security(), Some("tls"));
        assert_eq!(db.auth_method(), AuthMethod::ScramSha256Plus);
        db.close();

        // Neither PGPASSWORD nor PGPASSFILE supplies a missing password.
        let e = failed(
            within("connect without a password", pg_driver::connect(kw())).await,
            "connect without a password",
        );
        assert_missing_password(&e, "connect() without a password");

        // The same environment does reach open(): its PGPASSWORD is tried, and refused.
        let iri = format!("pq://env_user@127.0.0.1:{port}/test");
        let e = failed(open(&iri).await, "open() with PGPASSWORD=wrong");
        assert!(e.is_a(&InvalidPasswordError), "{e}");
    });
    drop(env);
}

#[test]
fn connect_timeout_against_a_silent_listener() {
    let _env = Env::lock();
    let silent = silent_listener();
    let port = silent.local_addr().expect("its address").port();
    runtime().block_on(async {
        // (sslmode, connect_timeout asked for, the timeout applied: whole seconds, at least 2)
        for (sslmode, asked, applied) in [
            (SslMode::Disable, 2, 2),
            (SslMode::Prefer, 2, 2),
            (SslMode::Disable, 1, 2),
            (SslMode::Require, 3, 3),
        ] {
            let what = format!("sslmode={sslmode}, connect_timeout={asked}");
            let kw = Keywords::new()
                .host("127.0.0.1")
                .port(port)
                .user("nobody")
                .password("x")
                .database("nowhere")
                .ssl_mode(sslmode)
                .connect_timeout(Duration::from_secs(asked));
            let begun = Instant::now();
            let e = failed(within(&what, pg_driver::connect(kw)).await, &what);
            let took = begun.elapsed();
            assert!(e.is_a(&ConnectTimeoutError), "{what}: {e}");
            assert_eq!(e.source_kind(), Source::Client, "{what}");
            assert!(e.message().contains(&port.to_string()), "{what}: {e}");
            let applied = Duration::from_secs(applied);
            assert!(
                took >= applied - Duration::from_millis(100)
                    && took < applied + Duration::from_secs(3),
                "{what}: gave up after {took:?}, expected about {applied:?}"
            );
        }
    });
    drop(silent);
}
