//! A cluster of the test's own: init, start, settings, signals, waits, errors.

mod common;

use std::fs;
use std::time::Duration;

use common::{OwnCluster, alive, eventually, free_port, give, scalar, sql};
use pg_cluster::{Cluster, ClusterError, HbaRule, InitOptions, Installation, StartOptions};
use pg_driver::params::{Host, Keywords, SslMode};
use pg_driver::{PeerAddr, blocking};

const TIMEOUT: Duration = Duration::from_secs(60);

/// TCP to 127.0.0.1 as `user` with `password`, to the postgres database.
fn tcp(port: u16, user: &str, password: &str) -> Keywords {
    Keywords::new()
        .host("127.0.0.1")
        .port(port)
        .user(user)
        .password(password)
        .database("postgres")
        .ssl_mode(SslMode::Disable)
}

fn admin(port: u16, statement: &str) -> Result<String, String> {
    sql(tcp(port, "admin", "s3cret"), statement)
}

#[test]
fn lifecycle() {
    let own = OwnCluster::new();
    let cluster = &own.cluster;
    assert!(!cluster.initialized());
    assert!(!cluster.running());
    assert_eq!(cluster.pid(), None);

    // The password reaches initdb through --pwfile; TCP needs it (scram-sha-256).
    cluster
        .init(
            &InitOptions::new()
                .superuser("admin")
                .password("s3cret")
                .locale("C")
                .auth_local("trust")
                .auth_host("scram-sha-256")
                .no_sync(true),
        )
        .expect("initdb");
    assert!(cluster.initialized());

    let port = free_port();
    let data = cluster.data_directory().to_string_lossy().into_owned();
    cluster
        .settings()
        .update([
            ("port", port.to_string().as_str()),
            ("listen_addresses", "127.0.0.1"),
            ("unix_socket_directories", data.as_str()),
        ])
        .unwrap();
    assert_eq!(
        cluster.settings().get("port").unwrap(),
        Some(port.to_string())
    );
    let text = fs::read_to_string(cluster.settings().path()).unwrap();
    assert!(
        text.contains("# (change requires restart)"),
        "comments are kept"
    );

    cluster.start(&StartOptions::new()).unwrap();
    cluster.wait_until_started(TIMEOUT).unwrap();
    assert!(cluster.running());
    assert!(cluster.ready_for_connections());
    let pid = cluster.pid().expect("pid");
    assert_eq!(cluster.postmaster_pid().unwrap().unwrap().pid, pid);
    let address = cluster.address().unwrap();
    assert_eq!(address.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(address.port, port);
    assert_eq!(
        address.socket_directory.as_deref(),
        Some(cluster.data_directory())
    );
    assert!(
        cluster
            .data_directory()
            .join(format!(".s.PGSQL.{port}"))
            .exists()
    );

    assert_eq!(admin(port, "SELECT current_user").unwrap(), "admin");
    let wrong = sql(tcp(port, "admin", "wrong"), "SELECT 1");
    assert!(
        wrong
            .unwrap_err()
            .contains("password authentication failed")
    );

    // The cluster's own connector: its unix socket (trust), as the superuser given to
    // initdb, to the postgres database.
    let connector = cluster.connector(Keywords::new()).unwrap();
    assert_eq!(connector.params().user(), "admin");
    assert_eq!(connector.params().database(), "postgres");
    assert_eq!(
        connector.params().hosts(),
        [Host::unix(cluster.data_directory(), port)]
    );
    let db = blocking::Connector::from(connector).connect().unwrap();
    assert!(matches!(db.as_async().peer(), PeerAddr::Unix(_)));
    let who = db
        .simple("SELECT current_user, current_database(), inet_client_addr() IS NULL")
        .unwrap();
    assert_eq!(
        who[0].rows[0],
        [
            Some("admin".into()),
            Some("postgres".into()),
            Some("t".into())
        ]
    );
    db.close();
    // Overrides win: another database, a setting.
    let connector = cluster
        .connector(
            Keywords::new()
                .database("template1")
                .setting("application_name", "lifecycle"),
        )
        .unwrap();
    let db = blocking::Connector::from(connector).connect().unwrap();
    let shown = db
        .simple("SELECT current_database(); SHOW application_name")
        .unwrap();
    assert_eq!(common::text(&shown), "template1\nlifecycle");
    db.close();
    // And the async form. The runtime is dropped at once: the connection's task, which
    // ends the session, runs on it (the smart stop below waits for every session).
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let db = cluster.connect(Keywords::new()).await?;
            let results = db.simple("SELECT 6 * 7").await?;
            db.close();
            Ok::<_, ClusterError>(scalar(&results))
        });
    assert_eq!(answer.unwrap().as_deref(), Some("42"));

    // A changed setting is visible after a reload.
    assert_eq!(admin(port, "SHOW work_mem").unwrap(), "4MB");
    cluster.settings().set("work_mem", "8MB").unwrap();
    cluster.reload().unwrap();
    assert!(eventually(Duration::from_secs(10), || admin(
        port,
        "SHOW work_mem"
    )
    .as_deref()
        == Ok("8MB")));

    // An added pg_hba.conf rule takes effect after a reload.
    admin(port, "CREATE ROLE shut_out LOGIN PASSWORD 'x'").unwrap();
    let shut_out = || sql(tcp(port, "shut_out", "x"), "SELECT current_user");
    assert_eq!(shut_out().unwrap(), "shut_out");
    cluster
        .hba()
        .prepend([HbaRule::host(
            pg_cluster::ConnectionType::Host,
            "all",
            "shut_out",
            "127.0.0.1/32",
            "reject",
        )])
        .unwrap();
    cluster.reload().unwrap();
    assert!(eventually(Duration::from_secs(10), || shut_out()
        .is_err_and(|e| e.contains("pg_hba.conf rejects connection"))));

    // Smart stop.
    cluster.stop().unwrap();
    cluster.wait_until_stopped(TIMEOUT).unwrap();
    assert!(!cluster.running());
    assert!(!alive(pid));
    assert_eq!(cluster.pid(), None);
    assert!(matches!(
        cluster.stop(),
        Err(ClusterError::NotRunning { .. })
    ));
    assert!(matches!(
        cluster.reload(),
        Err(ClusterError::NotRunning { .. })
    ));

    // Kill, then restart: recovery must work and no old process may hold shared memory.
    cluster.start(&StartOptions::new()).unwrap();
    cluster.wait_until_started(TIMEOUT).unwrap();
    let pid = cluster.pid().unwrap();
    let a_timeout = cluster.wait_until_stopped(Duration::from_millis(100));
    assert!(
        matches!(a_timeout, Err(ClusterError::Timeout { .. })),
        "{a_timeout:?}"
    );
    cluster.kill().unwrap();
    cluster.wait_until_stopped(TIMEOUT).unwrap();
    assert!(!alive(pid));
    cluster.restart(TIMEOUT).unwrap();
    assert!(cluster.ready_for_connections());
    assert_eq!(admin(port, "SHOW work_mem").unwrap(), "8MB");

    // Restart of a running server.
    let before = cluster.pid().unwrap();
    cluster.restart(TIMEOUT).unwrap();
    let after = cluster.pid().unwrap();
    assert_ne!(before, after);
    assert!(!alive(before));

    // Fast shutdown, then drop removes everything.
    cluster.shutdown().unwrap();
    cluster.wait_until_stopped(TIMEOUT).unwrap();
    cluster.start(&StartOptions::new()).unwrap();
    cluster.wait_until_started(TIMEOUT).unwrap();
    let pid = cluster.pid().unwrap();
    cluster.drop().unwrap();
    assert!(!cluster.data_directory().exists());
    assert!(!alive(pid));
    assert!(!cluster.running());
}

#[test]
fn startup_error_carries_the_log_tail() {
    let own = OwnCluster::new();
    let cluster = &own.cluster;
    cluster.init(&InitOptions::new().no_sync(true)).unwrap();
    let logfile = own.dir().join("server.log");
    cluster
        .start(
            &StartOptions::new()
                .setting("port", free_port().to_string())
                .setting("shared_buffers", "bogus")
                .logfile(&logfile),
        )
        .unwrap();
    let err = cluster.wait_until_started(TIMEOUT).unwrap_err();
    match &err {
        ClusterError::Startup {
            status,
            log_tail,
            logfile: reported,
            ..
        } => {
            assert_eq!(*status, Some(1));
            assert!(log_tail.contains("shared_buffers"), "{log_tail}");
            assert_eq!(reported.as_deref(), Some(logfile.as_path()));
        }
        other => panic!("expected a startup error, got {other:?}"),
    }
    assert_eq!(err.name(), "ClusterStartupError");
    assert!(
        err.to_string()
            .contains("invalid value for parameter \"shared_buffers\""),
        "{err}"
    );
    assert!(!cluster.running());
}

#[test]
fn waiting_for_a_server_never_started() {
    let own = OwnCluster::new();
    let err = own
        .cluster
        .wait_until_started(Duration::from_secs(5))
        .unwrap_err();
    assert!(matches!(err, ClusterError::NotRunning { .. }), "{err:?}");
    assert!(matches!(
        own.cluster.kill(),
        Err(ClusterError::NotRunning { .. })
    ));
    assert!(
        own.cluster
            .wait_until_stopped(Duration::from_millis(10))
            .is_ok()
    );
}

#[test]
fn initdb_errors() {
    let own = OwnCluster::new();

    // A bad option.
    let err = own
        .cluster
        .init(&InitOptions::new().arg("--no-such-option"))
        .unwrap_err();
    match &err {
        ClusterError::InitDb {
            status,
            stderr,
            command,
        } => {
            assert_eq!(*status, Some(1));
            assert!(stderr.contains("no-such-option"), "{stderr}");
            assert!(command.contains("initdb"), "{command}");
        }
        other => panic!("expected an initdb error, got {other:?}"),
    }
    assert_eq!(err.name(), "InitDBError");

    // A non-empty data directory; the password must not appear anywhere.
    let data = own.cluster.data_directory();
    fs::create_dir_all(data).unwrap();
    fs::write(data.join("somefile"), "x").unwrap();
    if let Some(account) = own.cluster.account() {
        give(account, data);
    }
    let err = own
        .cluster
        .init(&InitOptions::new().password("hunter2"))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("exists but is not empty"), "{text}");
    assert!(text.contains("exit status 1"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!own.cluster.initialized());
}

#[test]
fn initialization_errors_have_py_postgresqls_levels() {
    // An installation whose bindir has no initdb: the cluster cannot be initialized, and
    // that is a ClusterInitializationError, the parent of InitDBError.
    let own = OwnCluster::new();
    let real = Installation::find().unwrap();
    let empty = own.dir().join("bin");
    fs::create_dir_all(&empty).unwrap();
    let report = format!(
        "BINDIR = {}\nVERSION = {}\n",
        empty.display(),
        real.version()
    );
    let bare = Installation::from_pg_config_output(empty.join("pg_config"), &report).unwrap();
    let cluster = Cluster::new(bare, own.dir().join("nowhere")).unwrap();
    let err = cluster.init(&InitOptions::new()).unwrap_err();
    assert!(
        matches!(err, ClusterError::Initialization { .. }),
        "{err:?}"
    );
    assert_eq!(err.name(), "ClusterInitializationError");
    assert_eq!(err.class().code(), "-Cini");
    assert!(err.class().is_a(&pg_exceptions::ClusterError));
    let driver = pg_exceptions::Error::from(err);
    assert!(
        driver.is_a(&pg_exceptions::ClusterInitializationError),
        "{driver}"
    );

    // initdb failing is the InitDBError below it.
    let err = own
        .cluster
        .init(&InitOptions::new().arg("--no-such-option"))
        .unwrap_err();
    assert!(err.class().is_a(&pg_exceptions::ClusterInitializationError));
    assert_eq!(err.class().code(), "-Cidb");
}

#[test]
fn typed_initdb_options_and_restart_with_new_options() {
    let own = OwnCluster::new();
    let cluster = &own.cluster;
    let wal = own.dir().join("wal");
    cluster
        .init(
            &InitOptions::new()
                .encoding("SQL_ASCII")
                // Each category set apart from the locale shows; lc_numeric follows it.
                .locale("C.utf8")
                .lc_collate("C")
                .lc_ctype("C")
                .lc_monetary("C")
                .lc_time("C")
                .text_search_config("german")
                .wal_directory(&wal)
                .no_sync(true),
        )
        .expect("initdb");
    // The WAL lives where it was told, pg_wal a link to it.
    let pg_wal = cluster.data_directory().join("pg_wal");
    assert_eq!(fs::read_link(&pg_wal).unwrap(), wal);
    assert!(wal.is_dir());

    let port = free_port();
    let data = cluster.data_directory().to_string_lossy().into_owned();
    cluster
        .settings()
        .update([
            ("port", port.to_string().as_str()),
            ("listen_addresses", "127.0.0.1"),
            ("unix_socket_directories", data.as_str()),
        ])
        .unwrap();
    cluster.start(&StartOptions::new()).unwrap();
    cluster.wait_until_started(TIMEOUT).unwrap();
    let ask = |sql: &str| {
        let db = blocking::Connector::from(cluster.connector(Keywords::new()).unwrap())
            .connect()
            .unwrap();
        let answer = scalar(&db.simple(sql).unwrap());
        db.close();
        answer.unwrap_or_default()
    };
    assert_eq!(
        ask(
            "SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype \
             FROM pg_database WHERE datname = 'template1'"
        ),
        "SQL_ASCII C C"
    );
    assert_eq!(ask("SHOW lc_monetary"), "C");
    assert_eq!(ask("SHOW lc_numeric"), "C.utf8");
    assert_eq!(ask("SHOW lc_time"), "C");
    assert_eq!(ask("SHOW default_text_search_config"), "pg_catalog.german");

    // Restart with a new log file, settings and timeout: the settings are the new ones
    // alone, and the server writes to the new log.
    let first_log = cluster.logfile().unwrap();
    let new_log = own.dir().join("restarted.log");
    let before = cluster.pid().unwrap();
    cluster
        .restart_with(
            &StartOptions::new()
                .logfile(&new_log)
                .setting("work_mem", "9MB")
                .setting("log_min_messages", "info"),
            TIMEOUT,
        )
        .unwrap();
    assert_ne!(cluster.pid().unwrap(), before);
    assert!(!alive(before));
    assert_eq!(cluster.logfile().unwrap(), new_log);
    assert_ne!(first_log, new_log);
    assert_eq!(ask("SHOW work_mem"), "9MB");
    assert!(eventually(Duration::from_secs(10), || {
        fs::read_to_string(&new_log).is_ok_and(|log| log.contains("ready to accept connections"))
    }));
    // A plain restart keeps the options of the last start.
    cluster.restart(TIMEOUT).unwrap();
    assert_eq!(ask("SHOW work_mem"), "9MB");
    assert_eq!(cluster.logfile().unwrap(), new_log);
    // A restart that does not finish in time is a timeout.
    let err = cluster
        .restart_with(&StartOptions::new(), Duration::from_nanos(1))
        .unwrap_err();
    assert!(matches!(err, ClusterError::Timeout { .. }), "{err:?}");
    // Whichever step ran out of time, a restart within time recovers, with no settings.
    cluster.restart_with(&StartOptions::new(), TIMEOUT).unwrap();
    assert_eq!(ask("SHOW work_mem"), "4MB");
}

/// A cluster's life through pg-api's `Installation` and `Cluster` contracts alone.
fn managed<C: pg_api::Cluster>(
    cluster: &C,
    init: &C::InitOptions,
    start: &C::StartOptions,
    port: u16,
) -> Result<(), pg_exceptions::Error> {
    use pg_api::Installation as _;
    let installation = cluster.installation();
    assert_eq!(installation.product_type(), "PostgreSQL");
    assert!(installation.version().starts_with("PostgreSQL "));
    assert!(installation.version_info().major >= 10);
    assert!(installation.program("initdb").is_some_and(|p| p.is_file()));
    assert!(!cluster.initialized() && !cluster.running());

    cluster.init(init)?;
    assert!(cluster.initialized());
    let data = cluster.data_directory().to_string_lossy().into_owned();
    let port = port.to_string();
    cluster.set_settings(&[
        ("port", &port),
        ("listen_addresses", "127.0.0.1"),
        ("unix_socket_directories", &data),
    ])?;
    assert_eq!(cluster.setting("port")?, Some(port));
    // Errors carry py-postgresql's cluster classes.
    let not_running = cluster.stop().unwrap_err();
    assert!(
        not_running.is_a(&pg_exceptions::ClusterNotRunningError),
        "{not_running}"
    );
    assert!(not_running.is_a(&pg_exceptions::ClusterError));

    cluster.start(start)?;
    cluster.wait_until_started(TIMEOUT)?;
    assert!(cluster.running());
    let timeout = cluster
        .wait_until_stopped(Duration::from_millis(10))
        .unwrap_err();
    assert!(
        timeout.is_a(&pg_exceptions::ClusterTimeoutError),
        "{timeout}"
    );
    cluster.reload()?;
    cluster.restart(TIMEOUT)?;
    assert!(cluster.running());
    cluster.shutdown()?;
    cluster.wait_until_stopped(TIMEOUT)?;
    assert!(!cluster.running());
    cluster.drop()?;
    assert!(!cluster.data_directory().exists());
    Ok(())
}

#[test]
fn the_cluster_contracts_drive_a_cluster() {
    let own = OwnCluster::new();
    managed(
        &own.cluster,
        &InitOptions::new().no_sync(true),
        &StartOptions::new(),
        free_port(),
    )
    .unwrap();
}
