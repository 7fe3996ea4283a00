//! Authentication against a real server: trust, cleartext, md5, SCRAM-SHA-256 (with and without
//! channel binding), wrong and missing passwords, `pg_hba.conf` rejections, and every kind of
//! connector (host name, IPv4, IPv6, unix socket).

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;
use std::time::Duration;

use pg_cluster::{AuthMethod as HbaMethod, Role, Temporal, TlsRequirement};
use pg_driver::params::{ConnectParams, Keywords, SslMode};
use pg_driver::{AuthMethod, Connection, Connector, PeerAddr};
use pg_exceptions::{AuthenticationSpecificationError, Error, InvalidPasswordError, Source};

const PASSWORD_PW: &str = "clear-text secret";
const MD5_PW: &str = "md5 'secret'";
const SCRAM_PW: &str = "scram:secret\\ü";
const SCRAM_TLS_PW: &str = "scram-over-tls";
const NOSSL_PW: &str = "no-tls-please";
/// The SCRAM password `scram_again` starts with; the test that uses it sets another.
const SCRAM_AGAIN_PW: &str = "connect again, and again";
/// A password set on a LATIN1 server: what the server holds is of its Latin-1 bytes.
const LATIN1_PW: &str = "pässwörd";

/// `LATIN1_PW` in Latin-1.
fn latin1_password() -> Vec<u8> {
    LATIN1_PW.chars().map(|c| u32::from(c) as u8).collect()
}

/// A password file that never exists, so that `~/.pgpass` cannot supply a password.
const NO_PASSFILE: &str = "/nonexistent-pg-driver-auth-tests/pgpass";

/// Limit on anything that talks to the server.
const LIMIT: Duration = Duration::from_secs(60);

struct Fixture {
    pg: Temporal,
    /// Whether the server listens on ::1 too.
    ipv6: bool,
}

/// One cluster for this test binary; static, so it is removed by pg-cluster's exit handler.
static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let ipv6 = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok();
    let mut builder = Temporal::builder()
        .ssl(true)
        .role(Role::new("trusted"))
        .role(
            Role::new("pw_user")
                .password(PASSWORD_PW)
                .auth(HbaMethod::Password),
        )
        .role(Role::new("md5_user").password(MD5_PW).auth(HbaMethod::Md5))
        .role(
            Role::new("scram_user")
                .password(SCRAM_PW)
                .auth(HbaMethod::ScramSha256),
        )
        .role(
            Role::new("scram_tls")
                .password(SCRAM_TLS_PW)
                .auth(HbaMethod::ScramSha256)
                .tls(TlsRequirement::Required),
        )
        .role(
            Role::new("nossl_user")
                .password(NOSSL_PW)
                .auth(HbaMethod::Md5)
                .tls(TlsRequirement::Forbidden),
        )
        // As a LATIN1 server would have them: hashed from the password's Latin-1 bytes.
        .role(
            Role::new("latin1_md5")
                .password(postgres_protocol::password::md5(
                    &latin1_password(),
                    "latin1_md5",
                ))
                .auth(HbaMethod::Md5),
        )
        .role(
            Role::new("latin1_scram")
                .password(postgres_protocol::password::scram_sha_256(
                    &latin1_password(),
                ))
                .auth(HbaMethod::ScramSha256),
        )
        .role(
            Role::new("scram_again")
                .password(SCRAM_AGAIN_PW)
                .auth(HbaMethod::ScramSha256),
        )
        .role(
            Role::new("rejected")
                .password("irrelevant")
                .auth(HbaMethod::Reject),
        );
    if ipv6 {
        builder = builder.setting("listen_addresses", "127.0.0.1,::1");
    }
    let pg = builder
        .build()
        .expect("the authentication test cluster starts");
    Fixture { pg, ipv6 }
});

fn fixture() -> &'static Fixture {
    &FIXTURE
}

/// Keywords for `user` on the cluster over TCP to 127.0.0.1, with the environment and the
/// password file out of the way.
fn keywords(user: &str, password: Option<&str>, sslmode: SslMode) -> Keywords {
    let kw = Keywords::new()
        .host("127.0.0.1")
        .port(fixture().pg.port())
        .user(user)
        .database("test")
        .ssl_mode(sslmode)
        .passfile(NO_PASSFILE)
        .connect_timeout(Duration::from_secs(20));
    match password {
        Some(password) => kw.password(password),
        None => kw,
    }
}

fn params(user: &str, password: Option<&str>, sslmode: SslMode) -> ConnectParams {
    keywords(user, password, sslmode)
        .build()
        .expect("valid parameters")
}

async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {LIMIT:?}"))
}

async fn connect(
    user: &str,
    password: Option<&str>,
    sslmode: SslMode,
) -> Result<Connection, Error> {
    let what = format!("connecting as {user} ({sslmode})");
    within(&what, pg_driver::connect(keywords(user, password, sslmode))).await
}

/// The first column of the first row of a one-statement query.
async fn scalar(db: &Connection, sql: &str) -> Option<String> {
    let results = within(sql, db.simple(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(results.len(), 1, "{sql}: one result expected");
    results[0]
        .rows
        .first()
        .expect("a row")
        .first()
        .expect("a column")
        .clone()
}

fn expect_err(result: Result<Connection, Error>, what: &str) -> Error {
    match result {
        Ok(db) => panic!(
            "{what}: connected (auth {:?}, security {:?}) but should have failed",
            db.auth_method(),
            db.security()
        ),
        Err(e) => e,
    }
}

#[tokio::test]
async fn every_method_authenticates_and_reports_itself() {
    use AuthMethod::*;
    use SslMode::{Disable, Require};
    // (role, password, sslmode, the method expected, the security expected)
    type Case = (
        &'static str,
        Option<&'static str>,
        SslMode,
        AuthMethod,
        Option<&'static str>,
    );
    let cases: [Case; 10] = [
        ("trusted", None, Disable, Trust, None),
        ("trusted", None, Require, Trust, Some("tls")),
        ("pw_user", Some(PASSWORD_PW), Disable, Password, None),
        ("pw_user", Some(PASSWORD_PW), Require, Password, Some("tls")),
        ("md5_user", Some(MD5_PW), Disable, Md5, None),
        ("md5_user", Some(MD5_PW), Require, Md5, Some("tls")),
        ("scram_user", Some(SCRAM_PW), Disable, ScramSha256, None),
        // channel_binding defaults to prefer: over TLS the driver binds SCRAM to the channel.
        (
            "scram_user",
            Some(SCRAM_PW),
            Require,
            ScramSha256Plus,
            Some("tls"),
        ),
        (
            "scram_tls",
            Some(SCRAM_TLS_PW),
            Require,
            ScramSha256Plus,
            Some("tls"),
        ),
        ("nossl_user", Some(NOSSL_PW), Disable, Md5, None),
    ];
    for (user, password, sslmode, method, security) in cases {
        let db = connect(user, password, sslmode)
            .await
            .unwrap_or_else(|e| panic!("{user} with sslmode={sslmode}: {e}"));
        assert_eq!(db.auth_method(), method, "{user} with sslmode={sslmode}");
        assert_eq!(db.security(), security, "{user} with sslmode={sslmode}");
        assert_eq!(
            scalar(&db, "SELECT current_user").await.as_deref(),
            Some(user)
        );
        assert_eq!(scalar(&db, "SELECT 1").await.as_deref(), Some("1"));
        let ssl_in_use = scalar(
            &db,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        )
        .await;
        let expected = if security.is_some() { "t" } else { "f" };
        assert_eq!(
            ssl_in_use.as_deref(),
            Some(expected),
            "{user}: the server's view of TLS"
        );
        db.close();
    }
}

#[tokio::test]
async fn a_wrong_password_is_an_invalid_password_error() {
    let cases = [
        ("pw_user", SslMode::Disable),
        ("md5_user", SslMode::Disable),
        ("scram_user", SslMode::Disable),
        ("scram_user", SslMode::Require),
        // prefer: TLS first, and the server's refusal is still what the caller sees.
        ("scram_user", SslMode::Prefer),
        ("scram_tls", SslMode::Require),
        ("nossl_user", SslMode::Disable),
    ];
    for (user, sslmode) in cases {
        let what = format!("{user} with a wrong password, sslmode={sslmode}");
        let e = expect_err(
            connect(user, Some("not the password"), sslmode).await,
            &what,
        );
        assert!(e.is_a(&InvalidPasswordError), "{what}: {e}");
        assert_eq!(e.code(), "28P01", "{what}");
        assert_eq!(e.source_kind(), Source::Server, "{what}");
        assert!(
            e.message().contains("password authentication failed"),
            "{what}: {}",
            e.message()
        );
        assert!(
            !e.to_string().contains("not the password"),
            "{what}: the report must not show the password: {e}"
        );
    }
}

#[tokio::test]
async fn a_missing_password_is_a_clear_client_error() {
    for user in ["pw_user", "md5_user", "scram_user"] {
        let what = format!("{user} without a password");
        let e = expect_err(connect(user, None, SslMode::Disable).await, &what);
        assert!(e.is_a(&AuthenticationSpecificationError), "{what}: {e}");
        assert!(
            !e.is_a(&InvalidPasswordError),
            "{what}: no password was sent: {e}"
        );
        assert_eq!(e.source_kind(), Source::Client, "{what}: {e}");
        assert!(e.message().contains("password"), "{what}: {}", e.message());
        assert!(e.message().contains(user), "{what}: {}", e.message());
    }
}

#[tokio::test]
async fn rejections_carry_the_servers_class() {
    let socket_dir = fixture()
        .pg
        .socket_dir()
        .expect("a throwaway cluster")
        .to_owned();
    let port = fixture().pg.port();
    let by_socket = |user: &str, password: &str| {
        keywords(user, Some(password), SslMode::Disable).unix(socket_dir.clone())
    };
    let cases: Vec<(&str, Keywords)> = vec![
        (
            "reject rule over TCP",
            keywords("rejected", Some("irrelevant"), SslMode::Disable),
        ),
        (
            "reject rule over TLS",
            keywords("rejected", Some("irrelevant"), SslMode::Require),
        ),
        (
            "reject rule over the unix socket",
            by_socket("rejected", "irrelevant"),
        ),
        (
            "TLS-only role over plain TCP",
            keywords("scram_tls", Some(SCRAM_TLS_PW), SslMode::Disable),
        ),
        (
            "TLS-only role over the unix socket",
            by_socket("scram_tls", SCRAM_TLS_PW),
        ),
        (
            "TLS-forbidding role over TLS",
            keywords("nossl_user", Some(NOSSL_PW), SslMode::Require),
        ),
        ("TLS-forbidding role, verify-full", {
            let ca = fixture().pg.ca_cert_path().expect("TLS is on").to_owned();
            keywords("nossl_user", Some(NOSSL_PW), SslMode::VerifyFull)
                .host("localhost")
                .port(port)
                .ssl_root_cert(ca)
        }),
    ];
    for (what, kw) in cases {
        let e = expect_err(within(what, pg_driver::connect(kw)).await, what);
        assert!(e.is_a(&AuthenticationSpecificationError), "{what}: {e}");
        assert!(!e.is_a(&InvalidPasswordError), "{what}: {e}");
        assert_eq!(e.code(), "28000", "{what}: {e}");
        assert_eq!(e.source_kind(), Source::Server, "{what}: {e}");
        assert!(
            e.message().contains("pg_hba.conf"),
            "{what}: {}",
            e.message()
        );
    }
}

#[tokio::test]
async fn every_connector_kind_reaches_the_server() {
    let f = fixture();
    let port = f.pg.port();
    let params = params("scram_user", Some(SCRAM_PW), SslMode::Disable);
    let socket_dir = f.pg.socket_dir().expect("a throwaway cluster").to_owned();

    let localhost: Vec<SocketAddr> = tokio::net::lookup_host(("localhost", port))
        .await
        .expect("localhost resolves")
        .collect();
    eprintln!("note: localhost resolves to {localhost:?}");
    assert!(!localhost.is_empty());

    let mut connectors = vec![
        (
            "host localhost",
            Connector::host(params.clone(), "localhost", port),
            Some("tcp"),
        ),
        (
            "ip4 127.0.0.1",
            Connector::ip4(params.clone(), Ipv4Addr::LOCALHOST, port),
            Some("127.0.0.1"),
        ),
        (
            "unix socket",
            Connector::unix(params.clone(), &socket_dir, port),
            None,
        ),
    ];
    if f.ipv6 {
        connectors.push((
            "ip6 ::1",
            Connector::ip6(params.clone(), Ipv6Addr::LOCALHOST, port),
            Some("::1"),
        ));
    } else {
        eprintln!("note: ::1 is unavailable here; skipping Connector::ip6");
    }
    for (what, connector, client) in connectors {
        let db = within(what, connector.connect())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            scalar(&db, "SELECT 1").await.as_deref(),
            Some("1"),
            "{what}"
        );
        assert_eq!(
            scalar(&db, "SELECT current_user").await.as_deref(),
            Some("scram_user")
        );
        assert_eq!(db.auth_method(), AuthMethod::ScramSha256, "{what}");
        let seen_from = scalar(&db, "SELECT host(inet_client_addr())").await;
        match (db.peer(), client) {
            (PeerAddr::Unix(path), None) => {
                assert_eq!(path, socket_dir.join(format!(".s.PGSQL.{port}")), "{what}");
                assert_eq!(
                    seen_from, None,
                    "{what}: no client address on a unix socket"
                );
            }
            (PeerAddr::Tcp { addr, host }, Some("tcp")) => {
                assert_eq!(host, "localhost", "{what}");
                assert!(
                    localhost.contains(&addr),
                    "{what}: {addr} is one of {localhost:?}"
                );
                assert_eq!(seen_from, Some(addr.ip().to_string()), "{what}");
            }
            (PeerAddr::Tcp { addr, .. }, Some(ip)) => {
                assert_eq!(addr, SocketAddr::new(ip.parse().unwrap(), port), "{what}");
                assert_eq!(seen_from.as_deref(), Some(ip), "{what}");
            }
            (peer, _) => panic!("{what}: unexpected peer {peer:?}"),
        }
        db.close();
    }
}

#[tokio::test]
async fn a_host_list_falls_through_to_the_server_that_answers() {
    let port = fixture().pg.port();
    // A port that was free a moment ago: nothing listens there.
    let dead = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let kw = keywords("md5_user", Some(MD5_PW), SslMode::Disable)
        .hosts(["127.0.0.1", "127.0.0.1"])
        .ports([dead, port]);
    let db = within("a host list", pg_driver::connect(kw))
        .await
        .expect("the second host answers");
    assert_eq!(
        db.peer(),
        PeerAddr::Tcp {
            addr: SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
            host: "127.0.0.1".into()
        }
    );
    assert_eq!(
        scalar(&db, "SELECT current_user").await.as_deref(),
        Some("md5_user")
    );

    // With only the dead host, the failure is the client's: nothing answered.
    let kw = keywords("md5_user", Some(MD5_PW), SslMode::Disable).port(dead);
    let e = expect_err(
        within("a dead host", pg_driver::connect(kw)).await,
        "a dead host",
    );
    assert_eq!(e.source_kind(), Source::Client, "{e}");
    assert!(e.is_a(&pg_exceptions::ConnectionFailureError), "{e}");
}

#[tokio::test]
async fn connector_and_clone_connection() {
    let connector = Connector::new(params("scram_user", Some(SCRAM_PW), SslMode::Require));
    let db = within("connect", connector.connect())
        .await
        .expect("connects");
    assert_eq!(db.connector().iri(), connector.iri());
    assert_eq!(db.connector().params(), connector.params());
    assert!(
        !connector.iri().contains(SCRAM_PW),
        "the IRI hides the password: {}",
        connector.iri()
    );

    let other = within("clone_connection", db.clone_connection())
        .await
        .expect("clones");
    let (a, b) = (
        db.backend_id().expect("a backend id"),
        other.backend_id().expect("a backend id"),
    );
    assert_ne!(a, b, "a clone is a separate session");
    assert_eq!(
        scalar(&db, "SELECT pg_backend_pid()").await,
        Some(a.to_string())
    );
    assert_eq!(
        scalar(&other, "SELECT pg_backend_pid()").await,
        Some(b.to_string())
    );
    assert_eq!(other.connector().params(), connector.params());
    assert_eq!(other.auth_method(), AuthMethod::ScramSha256Plus);
    assert_eq!(other.security(), Some("tls"));

    // Closing one leaves the other working.
    db.close();
    assert!(db.closed());
    assert_eq!(
        scalar(&other, "SELECT current_user").await.as_deref(),
        Some("scram_user")
    );
    other.close();
}

/// A SCRAM-SHA-256 verifier for `password` with this salt and iteration count, as the server
/// stores one (`SCRAM-SHA-256$<count>:<salt>$<StoredKey>:<ServerKey>`).
fn scram_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::{Digest, Sha256};
    let mac = |key: &[u8], message: &[u8]| -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    };
    let mut u = mac(password.as_bytes(), &[salt, &1u32.to_be_bytes()].concat());
    let mut salted = u.clone();
    for _ in 1..iterations {
        u = mac(password.as_bytes(), &u);
        salted.iter_mut().zip(&u).for_each(|(s, u)| *s ^= u);
    }
    let stored_key = Sha256::digest(mac(&salted, b"Client Key"));
    let server_key = mac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        BASE64.encode(salt),
        BASE64.encode(stored_key),
        BASE64.encode(server_key)
    )
}

#[tokio::test]
async fn a_connector_connects_again_with_the_salted_password_it_kept() {
    // A connector keeps the salted password a server confirmed, and uses it when the server
    // offers the same salt and count again: plain and bound to the TLS channel alike.
    let user = "scram_again";
    let plain = Connector::new(params(user, Some(SCRAM_AGAIN_PW), SslMode::Disable));
    let bound = Connector::new(params(user, Some(SCRAM_AGAIN_PW), SslMode::Require));
    for (connector, method) in [
        (&plain, AuthMethod::ScramSha256),
        (&bound, AuthMethod::ScramSha256Plus),
    ] {
        for round in 0..3 {
            let what = format!("{method:?}, connect {round}");
            let db = within(&what, connector.connect())
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(db.auth_method(), method, "{what}");
            assert_eq!(
                scalar(&db, "SELECT current_user").await.as_deref(),
                Some(user)
            );
            db.close();
        }
    }

    // The role's password set again with the same salt and count: what the connector kept
    // belongs to the old password, which now fails; the new one logs in, again and again.
    let pg = &fixture().pg;
    let stored = pg
        .admin_sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_again'")
        .expect("the role's verifier");
    let (iterations, salt) = stored
        .trim()
        .strip_prefix("SCRAM-SHA-256$")
        .and_then(|rest| rest.split_once('$'))
        .and_then(|(params, _)| params.split_once(':'))
        .unwrap_or_else(|| panic!("a SCRAM verifier: {stored}"));
    let salt = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, salt)
        .expect("a base64 salt");
    let iterations: u32 = iterations.parse().expect("a count");
    let new_password = "the password after";
    pg.admin_sql(&format!(
        "ALTER ROLE scram_again PASSWORD '{}'",
        scram_verifier(new_password, &salt, iterations)
    ))
    .expect("the password changes");
    let e = expect_err(
        within("the old password", plain.connect()).await,
        "the old password",
    );
    assert!(e.is_a(&InvalidPasswordError), "{e}");
    let new = Connector::new(params(user, Some(new_password), SslMode::Disable));
    for round in 0..2 {
        let what = format!("the new password, connect {round}");
        let db = within(&what, new.connect())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        db.close();
    }
    pg.admin_sql(&format!(
        "ALTER ROLE scram_again PASSWORD '{}'",
        scram_verifier(SCRAM_AGAIN_PW, &salt, iterations)
    ))
    .expect("the password is set back");
}

#[test]
fn the_blocking_facade_authenticates() {
    let params = params("scram_user", Some(SCRAM_PW), SslMode::Require);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = (|| {
            let db = pg_driver::blocking::Connector::new(params).connect()?;
            let rows = db.simple("SELECT current_user, 1 + 1")?;
            Ok::<_, Error>((db.auth_method(), db.security(), rows[0].rows[0].clone()))
        })();
        let _ = tx.send(outcome.map_err(|e| e.to_string()));
    });
    let (method, security, row) = rx
        .recv_timeout(LIMIT)
        .expect("the blocking connection finishes in time")
        .expect("the blocking connection succeeds");
    assert_eq!(method, AuthMethod::ScramSha256Plus);
    assert_eq!(security, Some("tls"));
    assert_eq!(
        row,
        vec![Some("scram_user".to_owned()), Some("2".to_owned())]
    );
}

/// `keywords` with `require_auth` set as libpq's keyword.
fn requiring(user: &str, password: Option<&str>, sslmode: SslMode, list: &str) -> Keywords {
    let mut kw = keywords(user, password, sslmode);
    kw.set("require_auth", list).expect("a valid require_auth");
    kw
}

#[tokio::test]
async fn require_auth_against_a_real_server() {
    use AuthMethod::*;
    use SslMode::{Disable, Require};
    // (role, password, sslmode, require_auth, the method expected)
    let accepted: [(&str, Option<&str>, SslMode, &str, AuthMethod); 8] = [
        ("pw_user", Some(PASSWORD_PW), Disable, "password", Password),
        ("md5_user", Some(MD5_PW), Disable, "md5", Md5),
        ("md5_user", Some(MD5_PW), Disable, "!password", Md5),
        (
            "scram_user",
            Some(SCRAM_PW),
            Disable,
            "scram-sha-256",
            ScramSha256,
        ),
        (
            "scram_user",
            Some(SCRAM_PW),
            Require,
            "scram-sha-256",
            ScramSha256Plus,
        ),
        ("scram_user", Some(SCRAM_PW), Disable, "!none", ScramSha256),
        ("trusted", None, Disable, "none", Trust),
        (
            "trusted",
            None,
            Require,
            "!password,!md5,!scram-sha-256",
            Trust,
        ),
    ];
    for (user, password, sslmode, list, method) in accepted {
        let what = format!("{user}, sslmode={sslmode}, require_auth={list}");
        let db = within(
            &what,
            pg_driver::connect(requiring(user, password, sslmode, list)),
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(db.auth_method(), method, "{what}");
        assert_eq!(
            scalar(&db, "SELECT current_user").await.as_deref(),
            Some(user)
        );
        db.close();
    }
    // (role, password, require_auth): the server's method is not one the list allows, or it
    // skips authentication while the list wants some.
    let refused: [(&str, Option<&str>, &str); 6] = [
        ("trusted", None, "scram-sha-256"),
        ("trusted", None, "!none"),
        ("md5_user", Some(MD5_PW), "scram-sha-256"),
        ("pw_user", Some(PASSWORD_PW), "!password"),
        ("scram_user", Some(SCRAM_PW), "md5,password,none"),
        ("nossl_user", Some(NOSSL_PW), "password"),
    ];
    for (user, password, list) in refused {
        let what = format!("{user}, require_auth={list}");
        let result = within(
            &what,
            pg_driver::connect(requiring(user, password, Disable, list)),
        )
        .await;
        let e = expect_err(result, &what);
        assert!(
            e.is_a(&pg_exceptions::AuthenticationMethodError),
            "{what}: {e}"
        );
        assert_eq!(e.source_kind(), Source::Client, "{what}");
        assert!(e.message().contains(list), "{what}: {}", e.message());
    }

    // The other spellings: a postgresql:// query parameter, a pq:// driver parameter, a
    // connection string and PGREQUIREAUTH.
    let port = fixture().pg.port();
    let base = format!("sslmode=disable&passfile={NO_PASSFILE}");
    let spellings = [
        format!("postgresql://trusted@127.0.0.1:{port}/test?{base}&require_auth=scram-sha-256"),
        format!(
            "pq://trusted@127.0.0.1:{port}/test?[sslmode]=disable&[passfile]={NO_PASSFILE}&[require_auth]=md5"
        ),
        format!(
            "host=127.0.0.1 port={port} user=trusted dbname=test sslmode=disable passfile={NO_PASSFILE} require_auth=password"
        ),
    ];
    for text in &spellings {
        let kw = Keywords::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let e = expect_err(within(text, pg_driver::connect(kw)).await, text);
        assert!(
            e.is_a(&pg_exceptions::AuthenticationMethodError),
            "{text}: {e}"
        );
    }
    let env = |name: &str| (name == "PGREQUIREAUTH").then(|| "scram-sha-256".to_owned());
    let kw = keywords("trusted", None, Disable).with_env(env).unwrap();
    let e = expect_err(
        within("PGREQUIREAUTH", pg_driver::connect(kw)).await,
        "PGREQUIREAUTH",
    );
    assert!(e.is_a(&pg_exceptions::AuthenticationMethodError), "{e}");
    let env = |name: &str| (name == "PGREQUIREAUTH").then(|| "none,scram-sha-256".to_owned());
    let kw = keywords("trusted", None, Disable).with_env(env).unwrap();
    let db = within("PGREQUIREAUTH=none", pg_driver::connect(kw))
        .await
        .unwrap();
    db.close();
}

#[tokio::test]
async fn server_encoding_sends_the_password_in_the_servers_encoding() {
    for user in ["latin1_md5", "latin1_scram"] {
        let base = keywords(user, Some(LATIN1_PW), SslMode::Disable);
        // UTF-8 bytes are not the ones the server hashed.
        let err = expect_err(
            within(user, pg_driver::connect(base.clone())).await,
            "a UTF-8 password",
        );
        assert!(err.is_a(&InvalidPasswordError), "{user}: {err}");
        // py-postgresql's server_encoding, as a pq:// driver parameter.
        let latin1 = Keywords::parse("pq://?[server_encoding]=latin1").unwrap();
        let db = within(user, pg_driver::connect(base.merge(latin1)))
            .await
            .unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(
            scalar(&db, "SELECT current_user").await.as_deref(),
            Some(user)
        );
        // After the startup the session speaks UTF-8.
        assert_eq!(scalar(&db, "SELECT 'ü'").await.as_deref(), Some("ü"));
    }
}
