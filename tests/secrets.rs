//! Finding 11: a password never shows in the Debug (`{:?}` and `{:#?}`), Display or errors of
//! any public type of any crate, whether it came in a `postgresql://` URI, a `pq://` IRI, a
//! `key=value` string or the environment (`PGPASSWORD`, `PGSQL_<NAME>`).
//!
//! The environment is changed by this binary's only test, before it starts any thread.

mod common;

use std::fmt::{Debug, Display};

use pg_cluster::{AuthMethod, Role, Temporal};
use pg_driver::params::{Keywords, Password};
use pg_driver::{Connector, blocking};
use pg_session::{AsyncSession, Session};

/// The role's password, distinctive enough that finding it anywhere is a leak.
const PASSWORD: &str = "Pw-7Zq!s3cr3t";
/// How it looks percent-encoded in a URI.
const ENCODED: &str = "Pw-7Zq%21s3cr3t";
/// A password the server refuses: an attempt with it must not echo it either.
const WRONG: &str = "Wr0ng-Pa55";
/// The `PGSQL_<NAME>` variable this test sets.
const SESSION_VARIABLE: &str = "PGSQL_SECRETS_TEST";

/// Everything rendered, by what it is.
#[derive(Default)]
struct Shown(Vec<(String, String)>);

impl Shown {
    fn debug(&mut self, what: &str, value: &dyn Debug) {
        self.0
            .push((format!("{what} {{:?}}"), format!("{value:?}")));
        self.0
            .push((format!("{what} {{:#?}}"), format!("{value:#?}")));
    }

    fn display(&mut self, what: &str, value: &dyn Display) {
        self.0
            .push((format!("{what} (Display)"), value.to_string()));
    }

    /// Both forms of an error (or any Display + Debug value).
    fn both<T: Debug + Display>(&mut self, what: &str, value: &T) {
        self.debug(what, value);
        self.display(what, value);
    }

    fn text(&mut self, what: &str, text: String) {
        self.0.push((what.to_owned(), text));
    }

    /// Every rendering that shows a password, by what it was.
    fn leaks(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, text)| [PASSWORD, ENCODED, WRONG].iter().any(|p| text.contains(p)))
            .map(|(what, text)| format!("{what}: {text}"))
            .collect()
    }
}

#[test]
fn no_public_type_shows_a_password() {
    // SAFETY: this is the only test of its binary, and no thread has been started yet.
    unsafe {
        std::env::set_var(
            SESSION_VARIABLE,
            format!("postgresql://secretive:{ENCODED}@127.0.0.1:1/test"),
        );
        std::env::set_var("PGPASSWORD", PASSWORD);
    }
    let t = Temporal::builder()
        .role(
            Role::new("secretive")
                .password(PASSWORD)
                .auth(AuthMethod::ScramSha256)
                .superuser(true),
        )
        .build()
        .unwrap();
    let port = t.port();
    let uri = format!("postgresql://secretive:{ENCODED}@127.0.0.1:{port}/test");
    let iri = format!("pq://secretive:{ENCODED}@127.0.0.1:{port}/test");
    let query_uri = format!("postgresql://secretive@127.0.0.1:{port}/test?password={ENCODED}");
    let conninfo =
        format!("host=127.0.0.1 port={port} user=secretive password='{PASSWORD}' dbname=test");
    let bare = format!("postgresql://secretive@127.0.0.1:{port}/test");
    let sources = [
        ("postgresql:// URI", uri.clone()),
        ("pq:// IRI", iri.clone()),
        ("?password= query", query_uri.clone()),
        ("key=value string", conninfo.clone()),
    ];
    let mut shown = Shown::default();

    // pg-driver: the parameter layers, from each form and from an injected environment.
    shown.debug("Password", &Password::new(PASSWORD));
    let mut every_params = Vec::new();
    for (form, text) in &sources {
        let keywords = Keywords::parse(text).unwrap();
        shown.debug(&format!("Keywords of a {form}"), &keywords);
        let params = keywords.build().unwrap();
        assert_eq!(params.password().unwrap().expose(), PASSWORD, "{form}");
        every_params.push((form.to_string(), params));
    }
    let env = |name: &str| (name == "PGPASSWORD").then(|| PASSWORD.to_owned());
    let from_env = Keywords::parse(&bare).unwrap().with_env(env).unwrap();
    shown.debug("Keywords with PGPASSWORD", &from_env);
    shown.debug(
        "env_keywords",
        &pg_driver::params::env_keywords(env).unwrap(),
    );
    let sslpassword = Keywords::parse(&format!("{conninfo} sslpassword='{PASSWORD}'")).unwrap();
    shown.debug("Keywords with sslpassword", &sslpassword);
    let sslpassword = sslpassword.build().unwrap();
    shown.debug("ConnectParams with sslpassword", &sslpassword);
    shown.text("to_iri(true) with sslpassword", sslpassword.to_iri(true));
    every_params.push(("PGPASSWORD".into(), from_env.build().unwrap()));
    for (form, params) in &every_params {
        shown.debug(&format!("ConnectParams of a {form}"), params);
        shown.text(&format!("to_iri(true) of a {form}"), params.to_iri(true));
        let connector = Connector::new(params.clone());
        shown.debug(&format!("Connector of a {form}"), &connector);
        shown.text(&format!("Connector::iri of a {form}"), connector.iri());
        shown.debug(
            &format!("blocking::Connector of a {form}"),
            &blocking::Connector::new(params.clone()),
        );
    }
    // Parameter errors on inputs that carry the password.
    for bad in [
        format!("postgresql://secretive:{ENCODED}@127.0.0.1:{port}/test?sslmode=sometimes"),
        format!("pq://secretive:{ENCODED}@127.0.0.1:{port}/test?[sslmode]=sometimes"),
        format!("postgresql://secretive:{ENCODED}@127.0.0.1:99999/test"),
        format!("{conninfo} port=x"),
        format!("{query_uri}&connect_timeout=soon"),
    ] {
        let error = Keywords::parse(&bad).and_then(Keywords::build).unwrap_err();
        shown.both("ParamsError", &error);
        shown.both(
            "Error from a ParamsError",
            &pg_exceptions::Error::from(error),
        );
    }
    let error = Keywords::parse(&bare)
        .unwrap()
        .with_env(|name| match name {
            "PGPASSWORD" => Some(PASSWORD.to_owned()),
            "PGPORT" => Some("x".to_owned()),
            _ => None,
        })
        .unwrap_err();
    shown.both("ParamsError of the environment", &error);

    // A connection service file that holds the password (and one with a bad line after it).
    let services = tempfile::tempdir().unwrap();
    let service_file = services.path().join("pg_service.conf");
    std::fs::write(
        &service_file,
        format!(
            "[secretive]\nhost=127.0.0.1\nport={port}\nuser=secretive\ndbname=test\n\
             password={PASSWORD}\n[broken]\npassword={PASSWORD}\n{PASSWORD}\n\
             [badvalue]\npassword={PASSWORD}\nport={PASSWORD}\n"
        ),
    )
    .unwrap();
    let service_path = service_file.to_str().unwrap().to_owned();
    let service_env = |name: &str| (name == "PGSERVICEFILE").then(|| service_path.clone());
    let files = pg_driver::params::ServiceFiles::locate(None, service_env);
    shown.debug("ServiceFiles", &files);
    let section = files.service("secretive").unwrap();
    shown.debug("Keywords of a service", &section);
    let from_service = Keywords::parse("service=secretive")
        .unwrap()
        .with_env(service_env)
        .unwrap();
    shown.debug("Keywords with a service", &from_service);
    let from_service = from_service.build().unwrap();
    assert_eq!(from_service.password().unwrap().expose(), PASSWORD);
    shown.debug("ConnectParams of a service", &from_service);
    shown.text("to_iri(true) of a service", from_service.to_iri(true));
    let service_connector = Connector::new(from_service);
    shown.debug("Connector of a service", &service_connector);
    shown.text("Connector::iri of a service", service_connector.iri());
    for service in ["broken", "badvalue"] {
        let error = Keywords::parse(&format!("service={service}"))
            .unwrap()
            .with_env(service_env)
            .unwrap_err();
        shown.both(
            &format!("ParamsError of a service file ({service})"),
            &error,
        );
        shown.both(
            &format!("Error from a service file's ParamsError ({service})"),
            &pg_exceptions::Error::from(error),
        );
    }

    // pg-driver: live connections, async and blocking, and what they make.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let connector = Connector::new(every_params[0].1.clone());
    rt.block_on(async {
        let db = connector.connect().await.unwrap();
        shown.debug("Connection", &db);
        shown.debug("CancelHandle", &db.cancel_handle());
        let error = db.execute("SELECT 1/0").await.unwrap_err();
        shown.both("a statement's Error", &error);
        let statement = db.prepare("SELECT 1").await.unwrap();
        shown.debug("Statement", &statement);
        shown.debug("Transaction", &db.xact());
        shown.debug("Settings", &db.settings());
        shown.debug(
            "NotificationManager",
            &pg_driver::NotificationManager::new([db.clone()], None),
        );
        for (what, text) in [
            ("a wrong database", uri.replace("/test", "/no_such_db")),
            ("a wrong password", uri.replace(ENCODED, WRONG)),
            ("a closed port", uri.replace(&format!(":{port}/"), ":1/")),
        ] {
            let error = pg_driver::open(&text).await.unwrap_err();
            shown.both(&format!("open's Error for {what}"), &error);
        }
        let error = pg_driver::open(&uri.replace(ENCODED, WRONG))
            .await
            .unwrap_err();
        assert!(error.is_a(&pg_exceptions::InvalidPasswordError), "{error}");
        db.close();
        let error = db.execute("SELECT 1").await.unwrap_err();
        shown.both("a closed connection's Error", &error);
        let db = service_connector.connect().await.unwrap();
        shown.debug("Connection through a service", &db);
        db.close();
    });
    let db = blocking::Connector::new(every_params[1].1.clone())
        .connect()
        .unwrap();
    shown.debug("blocking::Connection", &db);
    shown.both(
        "a blocking statement's Error",
        &db.execute("SELECT 1/0").unwrap_err(),
    );
    drop(db);
    let error = blocking::open(&iri.replace("/test", "/no_such_db")).unwrap_err();
    shown.both("blocking::open's Error", &error);

    // pg-session: builders, sessions, pools, results and errors, from each form and from
    // PGSQL_<NAME> and PGPASSWORD.
    for (form, text) in &sources {
        let builder = Session::builder(text.clone()).readonly_uri(text.clone());
        shown.debug(&format!("SessionBuilder of a {form}"), &builder);
        let session = builder.connect().unwrap();
        shown.debug(&format!("Session of a {form}"), &session);
        shown.debug(&format!("Pool of a {form}"), &session.pool());
        shown.debug(&format!("PoolReport of a {form}"), &session.pool().report());
        let results = session.query("SELECT 1 AS one", ()).unwrap();
        shown.debug(&format!("Results of a {form}"), &results);
        let error = session.query("SELECT 1/0", ()).unwrap_err();
        shown.both(&format!("a session's Error ({form})"), &error);
        session.close().unwrap();
        let builder = Session::builder(text.clone()).standby_reads(true);
        shown.debug(
            &format!("SessionBuilder with standby reads ({form})"),
            &builder,
        );
    }
    let error = Session::new(&uri.replace("/test", "/no_such_db")).unwrap_err();
    shown.both("Session::new's Error", &error);
    let error = Session::new(&uri.replace("127.0.0.1", "[::1")).unwrap_err();
    shown.both("Session::new's Error for a bad URI", &error);
    let from_env = Session::new(&bare).unwrap();
    shown.debug("Session with PGPASSWORD", &from_env);
    from_env.close().unwrap();
    rt.block_on(async {
        for (form, text) in &sources {
            let builder = AsyncSession::builder(text.clone())
                .readonly_uri(text.clone())
                .pipeline_depth(2);
            shown.debug(&format!("AsyncSessionBuilder of a {form}"), &builder);
            let session = builder.build().unwrap();
            let results = session.query("SELECT 1 AS one", ()).await.unwrap();
            shown.debug(&format!("AsyncSession's Results of a {form}"), &results);
            drop(results);
            shown.debug(&format!("AsyncSession of a {form}"), &session);
            let error = session.query("SELECT 1/0", ()).await.unwrap_err();
            shown.both(&format!("an async session's Error ({form})"), &error);
            let pooled = session.acquire().await.unwrap();
            shown.debug(&format!("PooledConnection of a {form}"), &pooled);
            drop(pooled);
            let builder = AsyncSession::builder(text.clone()).standby_reads(true);
            shown.debug(
                &format!("AsyncSessionBuilder with standby reads ({form})"),
                &builder,
            );
            shown.debug(
                &format!("AsyncSession with standby reads ({form})"),
                &builder.build().unwrap(),
            );
        }
        let session = AsyncSession::from_env("secrets_test").unwrap();
        shown.debug("AsyncSession from PGSQL_<NAME>", &session);
        let session = AsyncSession::new(&bare).unwrap();
        shown.debug("AsyncSession with PGPASSWORD", &session);
        let error = AsyncSession::new(&uri.replace("127.0.0.1", "[::1")).unwrap_err();
        shown.both("AsyncSession::new's Error for a bad URI", &error);
        let session = AsyncSession::new(&uri.replace("/test", "/no_such_db")).unwrap();
        let error = session.query("SELECT 1", ()).await.unwrap_err();
        shown.both("an async session's Error for a wrong database", &error);
    });
    let built = pg_session::uri("127.0.0.1", Some(port), "test", "secretive", Some(PASSWORD));
    let session = Session::new(&built).unwrap();
    shown.debug("Session of a uri()-built URI", &session);
    session.close().unwrap();
    for pool in pg_session::Pool::all() {
        shown.debug("Pool::all", &pool);
        shown.debug("Pool::all's report", &pool.report());
    }
    pg_session::shutdown();

    // pg-cluster: a server named by an IRI with a password (as PGTEST_IRI would).
    for (form, text) in &sources[..3] {
        let temporal = Temporal::from_iri(text).unwrap();
        shown.debug(&format!("Temporal::from_iri of a {form}"), &temporal);
        shown.debug(&format!("its Connector ({form})"), &temporal.connector());
        let sandbox = temporal.sandbox().unwrap();
        shown.debug(&format!("Sandbox of a {form}"), &sandbox);
        drop(sandbox);
        let separator = if text.contains('?') { '&' } else { '?' };
        let error = Temporal::from_iri(&format!("{text}{separator}sslmode=sometimes")).unwrap_err();
        shown.both(&format!("ClusterError of a bad {form}"), &error);
        let error = Temporal::from_iri(&text.replace("/test", "/no_such_db")).unwrap_err();
        shown.both(
            &format!("ClusterError of a wrong database ({form})"),
            &error,
        );
    }
    shown.debug(
        "Role",
        &Role::new("r").password(PASSWORD).auth(AuthMethod::Md5),
    );
    shown.debug(
        "TemporalBuilder",
        &Temporal::builder().role(Role::new("r").password(PASSWORD)),
    );

    let leaks = shown.leaks();
    assert!(
        leaks.is_empty(),
        "{} of {} renderings show a password:\n{}",
        leaks.len(),
        shown.0.len(),
        leaks.join("\n")
    );
}
