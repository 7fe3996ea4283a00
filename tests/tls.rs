//! TLS against a real server: every sslmode, certificate and host-name verification with the
//! cluster's CA and with an untrusted one, client certificates, and channel binding
//! (SCRAM-SHA-256-PLUS); and a server without TLS, which `require` refuses and `prefer` accepts.

#[path = "support/recorder.rs"]
mod recorder;

use std::future::Future;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use pg_cluster::{AuthMethod as HbaMethod, Role, Temporal, TlsRequirement};
use pg_driver::params::{ChannelBindingMode, Keywords, SslMode};
use pg_driver::{AuthMethod, Connection};
use pg_exceptions::{
    AuthenticationSpecificationError, Error, InsecurityError, InvalidPasswordError, Source,
};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

const SCRAM_PW: &str = "scram secret";
const MD5_PW: &str = "md5 secret";
const SCRAM_TLS_PW: &str = "tls only";
const NOSSL_PW: &str = "plain only";

/// A password file that never exists, so that `~/.pgpass` cannot supply a password.
const NO_PASSFILE: &str = "/nonexistent-pg-driver-tls-tests/pgpass";

/// Limit on anything that talks to a server.
const LIMIT: Duration = Duration::from_secs(60);

/// A certificate and its key, as PEM.
struct Pem {
    cert: String,
    key: String,
}

/// A certificate authority made at test time.
struct TestCa {
    cert: Pem,
    issuer: Issuer<'static, KeyPair>,
}

fn new_ca(name: &str) -> TestCa {
    let key = KeyPair::generate().expect("a CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).expect("a self-signed CA");
    let pem = Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    };
    TestCa {
        cert: pem,
        issuer: Issuer::new(params, key),
    }
}

/// A certificate signed by `ca`: a server's for `names`, or a client's with common name `cn`.
fn issue(ca: &TestCa, cn: &str, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> Pem {
    let key = KeyPair::generate().expect("a key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("certificate parameters");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![purpose];
    let cert = params
        .signed_by(&key, &ca.issuer)
        .expect("a signed certificate");
    Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

struct Fixture {
    pg: Temporal,
    /// The CA the server trusts for client certificates (not the one that signed its own).
    client_ca: TestCa,
    /// A CA nobody trusts.
    rogue_ca: TestCa,
}

/// The TLS cluster of this test binary; static, so it is removed by pg-cluster's exit handler.
static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let pg = Temporal::builder()
        .ssl(true)
        .role(
            Role::new("scram_user")
                .password(SCRAM_PW)
                .auth(HbaMethod::ScramSha256),
        )
        .role(Role::new("md5_user").password(MD5_PW).auth(HbaMethod::Md5))
        .role(
            Role::new("scram_tls")
                .password(SCRAM_TLS_PW)
                .auth(HbaMethod::ScramSha256)
                .tls(TlsRequirement::Required),
        )
        .role(
            Role::new("nossl_user")
                .password(NOSSL_PW)
                .auth(HbaMethod::ScramSha256)
                .tls(TlsRequirement::Forbidden),
        )
        // certuser: a client certificate over TLS, refused otherwise.
        .hba_line("hostssl all certuser 127.0.0.1/32 cert")
        .role(Role::new("certuser").auth(HbaMethod::Reject))
        .build()
        .expect("the TLS test cluster starts");
    let client_ca = new_ca("client CA of the tls tests");
    trust_client_ca(&pg, &client_ca);
    Fixture {
        pg,
        client_ca,
        rogue_ca: new_ca("rogue CA"),
    }
});

/// Points the server's `ssl_ca_file` at `ca` (written into the data directory, so it goes with
/// the cluster) and waits until new sessions see it.
fn trust_client_ca(pg: &Temporal, ca: &TestCa) {
    let data = pg.socket_dir().expect("a throwaway cluster");
    let file = data.join("client-ca.crt");
    std::fs::write(&file, &ca.cert.cert).expect("write the client CA");
    let sql = format!(
        "ALTER SYSTEM SET ssl_ca_file = '{}'",
        file.display().to_string().replace('\'', "''")
    );
    let port = pg.port();
    // The fixture is first used from inside a test's runtime, which cannot block on another:
    // the setup gets a thread and a runtime of its own.
    std::thread::scope(|scope| {
        scope.spawn(|| {
            setup_runtime().block_on(async {
                let admin = || {
                    pg_driver::connect(
                        Keywords::new()
                            .host("127.0.0.1")
                            .port(port)
                            .user(pg.user())
                            .database(pg.database())
                            .ssl_mode(SslMode::Disable)
                            .connect_timeout(Duration::from_secs(10)),
                    )
                };
                let db = within("admin connection", admin())
                    .await
                    .expect("admin connects");
                within("ALTER SYSTEM", db.execute(&sql))
                    .await
                    .expect("ALTER SYSTEM");
                within("reload", db.execute("SELECT pg_reload_conf()"))
                    .await
                    .expect("reload");
                db.close();
                let wanted = file.display().to_string();
                let begun = Instant::now();
                loop {
                    let db = within("admin connection", admin())
                        .await
                        .expect("admin connects");
                    let seen = scalar(&db, "SHOW ssl_ca_file").await;
                    db.close();
                    if seen.as_deref() == Some(wanted.as_str()) {
                        break;
                    }
                    assert!(
                        begun.elapsed() < Duration::from_secs(20),
                        "the reload never took: {seen:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        });
    });
}

fn setup_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn fixture() -> &'static Fixture {
    &FIXTURE
}

/// A server without TLS (`ssl = off`), built only by the tests that need one.
static PLAIN: LazyLock<Temporal> = LazyLock::new(|| {
    Temporal::builder()
        .ssl(false)
        .build()
        .expect("the non-TLS cluster starts")
});

fn ca() -> PathBuf {
    fixture().pg.ca_cert_path().expect("TLS is on").to_owned()
}

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

fn scram(sslmode: SslMode) -> Keywords {
    keywords("scram_user", Some(SCRAM_PW), sslmode)
}

async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {LIMIT:?}"))
}

async fn connect(what: &str, kw: Keywords) -> Connection {
    within(what, pg_driver::connect(kw))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

async fn fail(what: &str, kw: Keywords) -> Error {
    match within(what, pg_driver::connect(kw)).await {
        Ok(db) => panic!(
            "{what}: connected (auth {:?}, security {:?}) but should have failed",
            db.auth_method(),
            db.security()
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

/// Whether the server sees the session as encrypted.
async fn server_sees_tls(db: &Connection) -> bool {
    scalar(
        db,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await
    .as_deref()
        == Some("t")
}

/// The error and its causes as one string.
fn report(e: &Error) -> String {
    let mut text = e.to_string();
    let mut cause: Option<&(dyn std::error::Error + 'static)> =
        e.cause().map(|c| c as &(dyn std::error::Error + 'static));
    while let Some(c) = cause {
        text.push_str(&format!("\ncaused by: {c}"));
        cause = c.source();
    }
    text
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

#[tokio::test]
async fn every_sslmode_against_a_tls_server() {
    use SslMode::*;
    let ca = ca();
    // (role, password, sslmode, whether TLS is expected, auth method)
    let cases: [(&str, &str, SslMode, bool, AuthMethod); 14] = [
        (
            "scram_user",
            SCRAM_PW,
            Disable,
            false,
            AuthMethod::ScramSha256,
        ),
        (
            "scram_user",
            SCRAM_PW,
            Allow,
            false,
            AuthMethod::ScramSha256,
        ),
        (
            "scram_user",
            SCRAM_PW,
            Prefer,
            true,
            AuthMethod::ScramSha256Plus,
        ),
        (
            "scram_user",
            SCRAM_PW,
            Require,
            true,
            AuthMethod::ScramSha256Plus,
        ),
        (
            "scram_user",
            SCRAM_PW,
            VerifyCa,
            true,
            AuthMethod::ScramSha256Plus,
        ),
        (
            "scram_user",
            SCRAM_PW,
            VerifyFull,
            true,
            AuthMethod::ScramSha256Plus,
        ),
        // allow: plain first, then TLS when the server turns the plain session away.
        (
            "scram_tls",
            SCRAM_TLS_PW,
            Allow,
            true,
            AuthMethod::ScramSha256Plus,
        ),
        (
            "scram_tls",
            SCRAM_TLS_PW,
            Prefer,
            true,
            AuthMethod::ScramSha256Plus,
        ),
        (
            "scram_tls",
            SCRAM_TLS_PW,
            Require,
            true,
            AuthMethod::ScramSha256Plus,
        ),
        (
            "scram_tls",
            SCRAM_TLS_PW,
            VerifyFull,
            true,
            AuthMethod::ScramSha256Plus,
        ),
        // prefer: TLS first, then plain when the server turns the TLS session away (libpq).
        (
            "nossl_user",
            NOSSL_PW,
            Disable,
            false,
            AuthMethod::ScramSha256,
        ),
        (
            "nossl_user",
            NOSSL_PW,
            Allow,
            false,
            AuthMethod::ScramSha256,
        ),
        (
            "nossl_user",
            NOSSL_PW,
            Prefer,
            false,
            AuthMethod::ScramSha256,
        ),
        ("md5_user", MD5_PW, Prefer, true, AuthMethod::Md5),
    ];
    for (user, password, sslmode, tls, method) in cases {
        let what = format!("{user} with sslmode={sslmode}");
        let mut kw = keywords(user, Some(password), sslmode);
        if matches!(sslmode, VerifyCa | VerifyFull) {
            kw = kw.ssl_root_cert(&ca);
        }
        let db = connect(&what, kw).await;
        assert_eq!(db.security(), tls.then_some("tls"), "{what}");
        assert_eq!(server_sees_tls(&db).await, tls, "{what}: the server's view");
        assert_eq!(db.auth_method(), method, "{what}");
        assert_eq!(
            scalar(&db, "SELECT current_user").await.as_deref(),
            Some(user)
        );
        db.close();
    }

    // And the refusals: TLS-only over plain, plain-only over TLS.
    for (user, password, sslmode) in [
        ("scram_tls", SCRAM_TLS_PW, Disable),
        ("nossl_user", NOSSL_PW, Require),
        ("nossl_user", NOSSL_PW, VerifyCa),
    ] {
        let what = format!("{user} with sslmode={sslmode}");
        let e = fail(
            &what,
            keywords(user, Some(password), sslmode).ssl_root_cert(&ca),
        )
        .await;
        assert!(e.is_a(&AuthenticationSpecificationError), "{what}: {e}");
        assert_eq!(e.code(), "28000", "{what}: {e}");
        assert_eq!(e.source_kind(), Source::Server, "{what}: {e}");
    }
}

#[tokio::test]
async fn verify_full_checks_the_host_name() {
    let ca = ca();
    for host in ["localhost", "127.0.0.1"] {
        let what = format!("verify-full to {host}");
        let kw = scram(SslMode::VerifyFull).host(host).ssl_root_cert(&ca);
        let db = connect(&what, kw).await;
        assert_eq!(db.security(), Some("tls"), "{what}");
        assert!(server_sees_tls(&db).await, "{what}");
        db.close();
    }

    // The right server (hostaddr) under a name its certificate does not carry.
    let kw = scram(SslMode::VerifyFull)
        .host("wrong.invalid")
        .hostaddr(Ipv4Addr::LOCALHOST.into())
        .ssl_root_cert(&ca);
    let e = fail("verify-full to a name not in the certificate", kw).await;
    assert!(e.is_a(&InsecurityError), "{}", report(&e));
    assert_eq!(e.source_kind(), Source::Client);
    let text = report(&e);
    assert!(
        text.contains("wrong.invalid"),
        "the report names the host: {text}"
    );
    assert!(
        text.contains("not valid for name"),
        "the report says why: {text}"
    );
}

#[tokio::test]
async fn verify_ca_checks_the_chain_but_not_the_name() {
    let ca = ca();
    let kw = scram(SslMode::VerifyCa)
        .host("wrong.invalid")
        .hostaddr(Ipv4Addr::LOCALHOST.into())
        .ssl_root_cert(&ca);
    let db = connect("verify-ca under a name not in the certificate", kw).await;
    assert_eq!(db.security(), Some("tls"));
    assert_eq!(db.auth_method(), AuthMethod::ScramSha256Plus);
    db.close();

    let dir = tempfile::tempdir().expect("a temporary directory");
    let rogue = write(dir.path(), "rogue-ca.crt", &fixture().rogue_ca.cert.cert);
    for sslmode in [SslMode::VerifyCa, SslMode::VerifyFull, SslMode::Require] {
        // libpq: require with a root certificate at hand verifies the chain too.
        let what = format!("sslmode={sslmode} with an untrusted CA");
        let e = fail(
            &what,
            scram(sslmode).host("localhost").ssl_root_cert(&rogue),
        )
        .await;
        assert!(e.is_a(&InsecurityError), "{what}: {}", report(&e));
        assert_eq!(e.source_kind(), Source::Client, "{what}");
        let text = report(&e);
        assert!(
            text.contains("UnknownIssuer"),
            "{what}: the report says why: {text}"
        );
    }
    // Without a root certificate, require encrypts without verifying.
    let db = connect(
        "require without a root certificate",
        scram(SslMode::Require),
    )
    .await;
    assert_eq!(db.security(), Some("tls"));
    db.close();

    // A root certificate file that does not exist is an error, not a silent downgrade.
    let missing = dir.path().join("missing.crt");
    let e = fail(
        "verify-ca with a missing root file",
        scram(SslMode::VerifyCa).ssl_root_cert(&missing),
    )
    .await;
    assert!(e.is_a(&InsecurityError), "{}", report(&e));
}

#[tokio::test]
async fn channel_binding() {
    let ca = ca();
    use ChannelBindingMode::{Disable, Prefer, Require};
    // (what, keywords, expected method)
    let successes = [
        (
            "require over TLS",
            scram(SslMode::Require).channel_binding(Require),
            AuthMethod::ScramSha256Plus,
        ),
        (
            "require over verify-full",
            scram(SslMode::VerifyFull)
                .host("localhost")
                .ssl_root_cert(&ca)
                .channel_binding(Require),
            AuthMethod::ScramSha256Plus,
        ),
        (
            "prefer over TLS",
            scram(SslMode::Require).channel_binding(Prefer),
            AuthMethod::ScramSha256Plus,
        ),
        (
            "disable over TLS",
            scram(SslMode::Require).channel_binding(Disable),
            AuthMethod::ScramSha256,
        ),
        (
            "prefer without TLS",
            scram(SslMode::Disable).channel_binding(Prefer),
            AuthMethod::ScramSha256,
        ),
        (
            "require, TLS-only role",
            keywords("scram_tls", Some(SCRAM_TLS_PW), SslMode::Require).channel_binding(Require),
            AuthMethod::ScramSha256Plus,
        ),
    ];
    for (what, kw, method) in successes {
        let db = connect(what, kw).await;
        assert_eq!(db.auth_method(), method, "{what}");
        assert_eq!(scalar(&db, "SELECT 1").await.as_deref(), Some("1"));
        db.close();
    }

    let failures = [
        (
            "require without TLS",
            scram(SslMode::Disable).channel_binding(Require),
        ),
        (
            "require, md5 role over TLS",
            keywords("md5_user", Some(MD5_PW), SslMode::Require).channel_binding(Require),
        ),
        (
            // The client must refuse before answering the challenge: with a wrong password,
            // an answer would have come back as the server's InvalidPasswordError.
            "require, md5 role over TLS, wrong password",
            keywords("md5_user", Some("wrong"), SslMode::Require).channel_binding(Require),
        ),
        (
            "require, trust (the cluster's superuser) over TLS",
            Keywords::new()
                .host("127.0.0.1")
                .port(fixture().pg.port())
                .user(fixture().pg.user())
                .database("test")
                .ssl_mode(SslMode::Require)
                .channel_binding(Require),
        ),
    ];
    for (what, kw) in failures {
        let e = fail(what, kw).await;
        assert!(e.is_a(&InsecurityError), "{what}: {}", report(&e));
        assert!(!e.is_a(&InvalidPasswordError), "{what}: {e}");
        assert_eq!(e.source_kind(), Source::Client, "{what}");
        assert!(
            e.message().contains("channel binding"),
            "{what}: {}",
            e.message()
        );
    }
}

#[tokio::test]
async fn client_certificates() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pair = |name: &str, pem: &Pem| {
        (
            write(dir.path(), &format!("{name}.crt"), &pem.cert),
            write(dir.path(), &format!("{name}.key"), &pem.key),
        )
    };
    let client = ExtendedKeyUsagePurpose::ClientAuth;
    let (good_cert, good_key) = pair(
        "certuser",
        &issue(&f.client_ca, "certuser", &[], client.clone()),
    );
    let (other_cert, other_key) = pair(
        "other",
        &issue(&f.client_ca, "someone_else", &[], client.clone()),
    );
    let (rogue_cert, rogue_key) = pair("rogue", &issue(&f.rogue_ca, "certuser", &[], client));

    let kw = || {
        keywords("certuser", None, SslMode::VerifyFull)
            .host("localhost")
            .ssl_root_cert(ca())
    };
    let db = connect(
        "a trusted client certificate",
        kw().ssl_client_cert(&good_cert, &good_key),
    )
    .await;
    assert_eq!(
        db.auth_method(),
        AuthMethod::Trust,
        "no password was asked for"
    );
    assert_eq!(db.security(), Some("tls"));
    assert_eq!(
        scalar(&db, "SELECT current_user").await.as_deref(),
        Some("certuser")
    );
    let dn = scalar(
        &db,
        "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await;
    assert_eq!(dn.as_deref(), Some("/CN=certuser"));
    db.close();

    for (what, kw) in [
        ("no client certificate", kw()),
        (
            "a certificate for another name",
            kw().ssl_client_cert(&other_cert, &other_key),
        ),
    ] {
        let e = fail(what, kw).await;
        assert!(
            e.is_a(&AuthenticationSpecificationError),
            "{what}: {}",
            report(&e)
        );
        assert_eq!(e.source_kind(), Source::Server, "{what}");
    }
    // A certificate from a CA the server does not trust ends the handshake on the server's side.
    let e = fail(
        "an untrusted client certificate",
        kw().ssl_client_cert(&rogue_cert, &rogue_key),
    )
    .await;
    assert_eq!(e.source_kind(), Source::Client, "{}", report(&e));
    assert!(
        report(&e).to_lowercase().contains("unknown ca")
            || report(&e).to_lowercase().contains("unknownca"),
        "the report shows the server's alert: {}",
        report(&e)
    );

    // A key that does not belong to the certificate is the client's error.
    let e = fail(
        "a mismatched key",
        kw().ssl_client_cert(&good_cert, &other_key),
    )
    .await;
    assert!(e.is_a(&InsecurityError), "{}", report(&e));
}

#[tokio::test]
async fn a_server_without_tls() {
    let pg = &*PLAIN;
    let kw = |sslmode: SslMode| {
        Keywords::new()
            .host("127.0.0.1")
            .port(pg.port())
            .user(pg.user())
            .database(pg.database())
            .ssl_mode(sslmode)
            .passfile(NO_PASSFILE)
            .connect_timeout(Duration::from_secs(20))
    };
    for sslmode in [SslMode::Disable, SslMode::Allow, SslMode::Prefer] {
        let what = format!("sslmode={sslmode} against a server without TLS");
        let db = connect(&what, kw(sslmode)).await;
        assert_eq!(db.security(), None, "{what}");
        assert!(!server_sees_tls(&db).await, "{what}");
        assert_eq!(
            scalar(&db, "SELECT 1").await.as_deref(),
            Some("1"),
            "{what}"
        );
        db.close();
    }
    let ca = ca();
    for sslmode in [SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull] {
        let what = format!("sslmode={sslmode} against a server without TLS");
        let e = fail(&what, kw(sslmode).ssl_root_cert(&ca)).await;
        assert!(e.is_a(&InsecurityError), "{what}: {}", report(&e));
        assert_eq!(e.source_kind(), Source::Client, "{what}");
        assert!(
            e.message().contains("does not support TLS"),
            "{what}: {}",
            e.message()
        );
    }
}

/// A `pq://` IRI for `user` on the TLS cluster with `query` (driver parameters) appended: the
/// way py-postgresql users write TLS files (`[sslrootcrtfile]`, `[sslcrtfile]`,
/// `[sslkeyfile]`).
fn pq_iri(user: &str, host: &str, query: &str) -> String {
    format!(
        "pq://{user}@{host}:{}/test?[passfile]={NO_PASSFILE}&[connect_timeout]=20&{query}",
        fixture().pg.port()
    )
}

/// A path as a `pq://` query value.
fn iri_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('%', "%25")
        .replace('&', "%26")
        .replace('#', "%23")
        .replace(' ', "%20")
}

fn parsed(iri: &str) -> Keywords {
    Keywords::parse(iri).unwrap_or_else(|e| panic!("{iri}: {e}"))
}

#[tokio::test]
async fn py_postgresql_tls_file_parameters_are_honoured() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rogue = write(dir.path(), "rogue-ca.crt", &f.rogue_ca.cert.cert);
    let right = ca();

    // [sslrootcrtfile] naming a CA that did not sign the server's certificate: verification
    // fails, for require as for verify-ca (libpq: require with a root certificate verifies).
    for sslmode in ["require", "verify-ca", "verify-full"] {
        let what = format!("[sslmode]={sslmode}&[sslrootcrtfile]=<another CA>");
        let iri = pq_iri(
            "scram_user",
            "localhost",
            &format!("[sslmode]={sslmode}&[sslrootcrtfile]={}", iri_path(&rogue)),
        );
        let kw = parsed(&iri).password(SCRAM_PW);
        let e = fail(&what, kw.clone()).await;
        assert_eq!(kw.sslrootcert.as_deref(), Some(rogue.as_path()), "{what}");
        assert!(e.is_a(&InsecurityError), "{what}: {}", report(&e));
        assert!(
            report(&e).contains("UnknownIssuer"),
            "{what}: {}",
            report(&e)
        );
    }
    // The right CA: verified, and connected.
    let iri = pq_iri(
        "scram_user",
        "localhost",
        &format!(
            "[sslmode]=verify-full&[sslrootcrtfile]={}",
            iri_path(&right)
        ),
    );
    let db = connect(
        "[sslrootcrtfile]=<the server's CA>",
        parsed(&iri).password(SCRAM_PW),
    )
    .await;
    assert_eq!(db.security(), Some("tls"));
    db.close();

    // [sslcrtfile] and [sslkeyfile]: the client certificate the server's `cert` rule wants.
    let pem = issue(
        &f.client_ca,
        "certuser",
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let cert = write(dir.path(), "certuser.crt", &pem.cert);
    let key = write(dir.path(), "certuser.key", &pem.key);
    let iri = pq_iri(
        "certuser",
        "localhost",
        &format!(
            "[sslmode]=verify-full&[sslrootcrtfile]={}&[sslcrtfile]={}&[sslkeyfile]={}",
            iri_path(&right),
            iri_path(&cert),
            iri_path(&key)
        ),
    );
    let db = connect("[sslcrtfile] and [sslkeyfile]", parsed(&iri)).await;
    assert_eq!(
        scalar(&db, "SELECT current_user").await.as_deref(),
        Some("certuser")
    );
    db.close();
}

#[tokio::test]
async fn unknown_tls_parameters_are_refused() {
    for query in [
        "[sslmode]=require&[sslfoo]=bar",
        "[sslrootcrt]=ca.pem",
        "[ssl]=on",
    ] {
        let iri = pq_iri("scram_user", "127.0.0.1", query);
        let e = Keywords::parse(&iri).expect_err(&iri);
        let key = &query[query.rfind('[').unwrap() + 1..query.rfind(']').unwrap()];
        assert!(e.to_string().contains(key), "{iri}: {e}");
        assert!(e.to_string().contains("TLS"), "{iri}: {e}");
        let e = within(&iri, pg_driver::open(&iri)).await.expect_err(&iri);
        assert!(
            e.is_a(&pg_exceptions::ClientCannotConnectError),
            "{iri}: {}",
            report(&e)
        );
    }
}

#[tokio::test]
async fn ignored_client_parameters_warn_through_the_message_hooks() {
    use std::sync::{Arc, Mutex};
    let heard = Arc::new(Mutex::new(Vec::<pg_exceptions::Message>::new()));
    let hook = {
        let heard = heard.clone();
        Arc::new(move |m: &pg_exceptions::Message| {
            heard.lock().unwrap().push(m.clone());
            true
        })
    };
    // A libpq keyword the driver keeps but cannot act on, and a bracketed parameter nobody
    // knows; the secret-looking value must not show in the warning.
    let iri = pq_iri(
        "scram_user",
        "127.0.0.1",
        "[sslmode]=require&[krbsrvname]=kerberos-secret&[frobnicate]=hush",
    );
    let params = parsed(&iri).password(SCRAM_PW).build().expect("valid");
    let connector = pg_driver::Connector::new(params).with_message_hook(hook.clone());
    let db = within("connect", connector.connect())
        .await
        .unwrap_or_else(|e| panic!("{}", report(&e)));
    db.close();
    let warnings: Vec<_> = heard
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.class() == &pg_exceptions::IgnoredClientParameterWarning)
        .cloned()
        .collect();
    for name in ["krbsrvname", "frobnicate"] {
        assert!(
            warnings.iter().any(|m| m.message().contains(name)),
            "a warning names {name}: {warnings:?}"
        );
    }
    for m in &warnings {
        assert_eq!(m.code(), "01-CP");
        assert!(
            !m.message().contains("secret") && !m.message().contains("hush"),
            "{m:?}"
        );
    }
    // Parameters the driver honours give no warning.
    heard.lock().unwrap().clear();
    let iri = pq_iri(
        "scram_user",
        "127.0.0.1",
        "[sslmode]=require&[statement_cache]=off",
    );
    let params = parsed(&iri).password(SCRAM_PW).build().expect("valid");
    let connector = pg_driver::Connector::new(params).with_message_hook(hook);
    let db = within("connect", connector.connect()).await.unwrap();
    db.close();
    assert!(
        !heard
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.class() == &pg_exceptions::IgnoredClientParameterWarning),
        "no warning for honoured parameters"
    );
}

/// The `connect` event says whether the session is encrypted and how it authenticated, and
/// nothing recorded shows the password.
#[test]
fn the_connect_event_says_tls_and_the_method_and_never_the_password() {
    let (subscriber, recorded) = recorder::recorder();
    let _default = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        connect("scram, require", scram(SslMode::Require))
            .await
            .close();
        connect("scram, disable", scram(SslMode::Disable))
            .await
            .close();
    });
    let connects = recorded.events_named("connect");
    assert_eq!(connects.len(), 2, "{connects:?}");
    assert_eq!(connects[0].field("tls"), Some("true"));
    assert_eq!(connects[0].field("auth"), Some("ScramSha256Plus"));
    assert_eq!(connects[0].field("user"), Some("scram_user"));
    assert_eq!(connects[1].field("tls"), Some("false"));
    assert_eq!(connects[1].field("auth"), Some("ScramSha256"));
    assert!(!recorded.text().contains(SCRAM_PW));
}
