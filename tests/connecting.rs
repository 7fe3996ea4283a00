//! Connecting as py-postgresql users do: its message level, its parameter names, its
//! scheme-less locators, the connection service file, categories.

mod common;

use pg_driver::params::Keywords;
use pg_driver::{Connection, Connector};

async fn show(db: &Connection, name: &str) -> String {
    common::scalar(db, &format!("SHOW {name}"))
        .await
        .expect("a value")
}

/// A connection to the throwaway cluster with `extra` layered over its IRI.
async fn connect_with(extra: Keywords) -> Connection {
    let params = Keywords::parse(common::temporal().iri())
        .unwrap()
        .merge(extra)
        .build()
        .unwrap();
    Connector::new(params).connect().await.unwrap()
}

#[tokio::test]
async fn the_driver_lowers_client_min_messages_to_warning() {
    let db = common::connect().await;
    assert_eq!(show(&db, "client_min_messages").await, "warning");
    db.execute("DO $$ BEGIN RAISE NOTICE 'quiet'; RAISE WARNING 'loud'; END $$")
        .await
        .unwrap();
    let kept: Vec<String> = db
        .notices()
        .iter()
        .map(|m| m.message().to_owned())
        .collect();
    assert_eq!(kept, ["loud"]);
    // The user's own setting, as a setting or a server option, is left alone.
    let db = connect_with(Keywords::new().setting("client_min_messages", "notice")).await;
    assert_eq!(show(&db, "client_min_messages").await, "notice");
    let db = connect_with(Keywords::new().setting("options", "-c client_min_messages=log")).await;
    assert_eq!(show(&db, "client_min_messages").await, "log");
    // RESET goes back to the startup packet's value, the driver's default.
    let db = common::connect().await;
    db.execute("SET client_min_messages = debug1; RESET client_min_messages")
        .await
        .unwrap();
    assert_eq!(show(&db, "client_min_messages").await, "warning");
}

#[tokio::test]
async fn a_scheme_less_locator_connects_as_open_takes_it() {
    let iri = common::temporal().iri();
    let locator = iri.strip_prefix("pq://").expect("a pq:// IRI");
    let db = pg_driver::open(locator).await.unwrap();
    assert_eq!(show(&db, "is_superuser").await, "on");
    let blocking_locator = locator.to_owned();
    std::thread::spawn(move || {
        let db = pg_driver::blocking::open(&blocking_locator).unwrap();
        assert_eq!(db.query_first::<i32, _>("SELECT 7", ()).unwrap(), 7);
    })
    .join()
    .unwrap();
}

#[tokio::test]
async fn an_explicitly_empty_user_is_sent_empty() {
    let params = common::connector().params().clone();
    let host = params.hosts()[0].clone();
    let pg_driver::params::Host::Tcp { host, port, .. } = host else {
        panic!("a TCP host: {host:?}")
    };
    // Not the operating-system user, nor PGUSER: the server is told no user at all.
    let err = pg_driver::open(&format!("pq://:secret@{host}:{port}/test"))
        .await
        .unwrap_err();
    assert!(
        err.is_a(&pg_exceptions::AuthenticationSpecificationError),
        "{err}"
    );
    assert!(err.message().contains("no PostgreSQL user name"), "{err}");
    assert!(!format!("{err}").contains("secret"));
}

/// The throwaway cluster's TCP port.
fn tcp_port() -> u16 {
    common::connector().params().hosts()[0].port()
}

#[tokio::test]
async fn ipv_keeps_a_connection_to_one_ip_version() {
    let port = tcp_port();
    let db = pg_driver::open(&format!("pq://test@localhost:{port}/test?[ipv]=4"))
        .await
        .unwrap();
    assert!(
        matches!(db.peer(), pg_driver::PeerAddr::Tcp { addr, .. } if addr.is_ipv4()),
        "{:?}",
        db.peer()
    );
    let err = pg_driver::open(&format!("pq://test@127.0.0.1:{port}/test?[ipv]=6"))
        .await
        .unwrap_err();
    assert!(err.message().contains("IPv6"), "{err}");
    assert!(err.is_a(&pg_exceptions::ConnectionFailureError), "{err}");
}

#[tokio::test]
async fn py_postgresql_parameters_the_driver_cannot_honour_are_reported() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let hook: pg_driver::MessageHook = std::sync::Arc::new(move |m: &pg_exceptions::Message| {
        log.lock()
            .unwrap()
            .push((m.code().to_owned(), m.message().to_owned()));
        true
    });
    let iri = format!(
        "{}?[server_encoding]=WIN1251&[prompt_password]=1&[sslrootkeyfile]=/k.pem",
        common::temporal().iri()
    );
    let params = Keywords::parse(&iri).unwrap().build().unwrap();
    let db = Connector::new(params)
        .with_message_hook(hook)
        .connect()
        .await
        .unwrap();
    assert_eq!(show(&db, "server_encoding").await, "UTF8");
    let seen = seen.lock().unwrap();
    let names: Vec<&str> = seen
        .iter()
        .filter(|(code, _)| code == "01-CP")
        .map(|(_, text)| text.split('"').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["prompt_password", "server_encoding", "sslrootkeyfile"]
    );
}

#[tokio::test]
async fn a_service_names_the_throwaway_cluster() {
    let params = common::connector().params().clone();
    let pg_driver::params::Host::Tcp { host, port, .. } = params.hosts()[0].clone() else {
        panic!("a TCP host")
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("services.conf");
    let password = match params.password() {
        Some(p) => format!("password={}\n", p.expose()),
        None => String::new(),
    };
    std::fs::write(
        &file,
        format!(
            "[elsewhere]\nhost=192.0.2.1\n\n[throwaway]\nhost={host}\nport={port}\nuser={}\n\
             dbname={}\napplication_name=from_service\n{password}",
            params.user(),
            params.database()
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap().to_owned();
    let nowhere = dir.path().join("etc").to_str().unwrap().to_owned();
    // The environment through the injectable lookup, never the process's.
    let lookup = |name: &str| match name {
        "PGSERVICEFILE" => Some(file.clone()),
        "PGSYSCONFDIR" => Some(nowhere.clone()),
        "PGHOST" => Some("192.0.2.9".to_owned()),
        _ => None,
    };
    let keywords = Keywords::parse("service=throwaway").unwrap();
    let db = Connector::new(keywords.with_env(lookup).unwrap().build().unwrap())
        .connect()
        .await
        .unwrap();
    assert_eq!(show(&db, "application_name").await, "from_service");
    // PGSERVICE names it as well, and explicit parameters override the service's.
    let with_pgservice = |name: &str| match name {
        "PGSERVICE" => Some("throwaway".to_owned()),
        name => lookup(name),
    };
    let keywords = Keywords::parse("application_name=explicit").unwrap();
    let db = Connector::new(keywords.with_env(with_pgservice).unwrap().build().unwrap())
        .connect()
        .await
        .unwrap();
    assert_eq!(show(&db, "application_name").await, "explicit");
    // A service that is nowhere refuses to connect rather than connecting elsewhere.
    let err = Keywords::parse("service=absent")
        .unwrap()
        .with_env(lookup)
        .unwrap_err();
    assert!(err.to_string().contains("\"absent\" not found"), "{err}");
}
