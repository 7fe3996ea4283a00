//! Separately configured throwaway clusters: roles, authentication rules, TLS, and the
//! `PGTEST_IRI` mode.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

use common::{alive, eventually};
use pg_cluster::{AuthMethod, Role, Temporal, TlsRequirement};
use pg_driver::params::{Keywords, SslMode};

/// Connects over TCP to 127.0.0.1 (`how` may change the host and adds the TLS
/// parameters) with the driver and runs `sql`.
fn connect(
    pg: &Temporal,
    user: &str,
    password: &str,
    how: Keywords,
    sql: &str,
) -> Result<String, String> {
    let keywords = Keywords::new()
        .host("127.0.0.1")
        .port(pg.port())
        .user(user)
        .password(password)
        .database("test")
        .merge(how);
    common::sql(keywords, sql)
}

fn ssl(mode: SslMode) -> Keywords {
    Keywords::new().ssl_mode(mode)
}

#[test]
fn roles_authentication_and_tls() {
    let pg = Temporal::builder()
        .ssl(true)
        .role(
            Role::new("md5_user")
                .password("md5pw")
                .auth(AuthMethod::Md5),
        )
        .role(
            Role::new("scram_user")
                .password("scrampw")
                .auth(AuthMethod::ScramSha256)
                .tls(TlsRequirement::Required),
        )
        .role(
            Role::new("plain_user")
                .password("plainpw")
                .auth(AuthMethod::Password)
                .tls(TlsRequirement::Forbidden),
        )
        .setting("work_mem", "5MB")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let cluster = pg.cluster().expect("a cluster of its own");
    let root = cluster.data_directory().parent().unwrap().to_owned();
    let pid = cluster.pid().unwrap();
    assert_eq!(pg.admin_sql("SHOW work_mem").unwrap(), "5MB");

    // The hashes really are stored in the format the method needs.
    let stored = pg
        .admin_sql(
            "SELECT rolname, split_part(rolpassword, '$', 1) FROM pg_authid \
             WHERE rolname LIKE '%\\_user' ORDER BY rolname",
        )
        .unwrap();
    let stored: Vec<&str> = stored.lines().collect();
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert!(stored[0].starts_with("md5_user|md5"), "{stored:?}");
    assert_eq!(stored[1], "plain_user|SCRAM-SHA-256");
    assert_eq!(stored[2], "scram_user|SCRAM-SHA-256");

    // md5: the right password works, a wrong one does not.
    let md5 = connect(
        &pg,
        "md5_user",
        "md5pw",
        ssl(SslMode::Disable),
        "SELECT current_user",
    );
    assert_eq!(md5.unwrap(), "md5_user");
    let wrong = connect(&pg, "md5_user", "nope", ssl(SslMode::Disable), "SELECT 1").unwrap_err();
    assert!(wrong.contains("password authentication failed"), "{wrong}");

    // TLS required: refused in the clear, accepted over verified TLS.
    let certs = pg.certificates().expect("certificates");
    let ca = pg.ca_cert_path().unwrap();
    let clear = connect(
        &pg,
        "scram_user",
        "scrampw",
        ssl(SslMode::Disable),
        "SELECT 1",
    )
    .unwrap_err();
    assert!(clear.contains("pg_hba.conf rejects connection"), "{clear}");
    // The certificate names localhost, 127.0.0.1 and ::1 (the server listens on the
    // second only).
    let verified = ssl(SslMode::VerifyFull).ssl_root_cert(ca).host("localhost");
    let over_tls = connect(
        &pg,
        "scram_user",
        "scrampw",
        verified,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    assert_eq!(over_tls.unwrap(), "t");
    let by_address = connect(
        &pg,
        "scram_user",
        "scrampw",
        ssl(SslMode::VerifyFull).ssl_root_cert(ca),
        "SELECT current_user",
    );
    assert_eq!(by_address.unwrap(), "scram_user");

    // TLS forbidden: refused over TLS, accepted in the clear.
    let tls = connect(
        &pg,
        "plain_user",
        "plainpw",
        ssl(SslMode::Require),
        "SELECT 1",
    )
    .unwrap_err();
    assert!(tls.contains("pg_hba.conf rejects connection"), "{tls}");
    let plain = connect(
        &pg,
        "plain_user",
        "plainpw",
        ssl(SslMode::Disable),
        "SELECT current_user",
    );
    assert_eq!(plain.unwrap(), "plain_user");

    // The cluster's own connections go through the unix socket, which the TLS rules of
    // the roles do not concern.
    let db = pg.connect_blocking().unwrap();
    let who = db
        .simple("SELECT current_user, current_database()")
        .unwrap();
    assert_eq!(common::text(&who), "test|test");
    assert_eq!(db.security(), None);
    db.close();

    // The key is private to the server's account.
    for path in [&certs.server_key, &certs.server_cert, &certs.ca_cert] {
        let meta = std::fs::metadata(path).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o600,
            "{}",
            path.display()
        );
        if let Some(account) = cluster.account() {
            assert_eq!(meta.uid(), account.uid(), "{}", path.display());
        }
    }
    assert!(certs.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // Dropping it stops the server and removes its directory.
    drop(pg);
    assert!(!root.exists());
    assert!(eventually(Duration::from_secs(10), || !alive(pid)));
}

#[test]
fn an_existing_server_through_its_iri() {
    let server = Temporal::builder()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let root = server
        .cluster()
        .unwrap()
        .data_directory()
        .parent()
        .unwrap()
        .to_owned();
    {
        let external = Temporal::from_iri(server.iri()).unwrap();
        assert!(
            external.cluster().is_none(),
            "nothing is started for an IRI"
        );
        assert_eq!(external.port(), server.port());
        assert_eq!(external.host(), "127.0.0.1");
        assert_eq!(external.user(), "test");
        assert_eq!(external.database(), "test");
        assert_eq!(external.iri(), server.iri());
        assert_eq!(
            external.admin_sql("SELECT current_database()").unwrap(),
            "test"
        );
        // Its connections use the IRI: TCP to 127.0.0.1.
        let db = external.connect_blocking().unwrap();
        let seen = db
            .simple("SELECT inet_client_addr()::text, current_user")
            .unwrap();
        assert_eq!(common::text(&seen), "127.0.0.1/32|test");
        db.close();

        let sandbox = external.sandbox().unwrap();
        sandbox.admin_sql("CREATE TABLE seen (x int)").unwrap();
        let count = server
            .admin_sql(&format!(
                "SELECT count(*) FROM pg_tables WHERE schemaname = '{}'",
                sandbox.schema()
            ))
            .unwrap();
        assert_eq!(count, "1", "the sandbox lives in the named server");
        let db = sandbox.connect_blocking().unwrap();
        let tables = db.simple("SELECT count(*) FROM seen").unwrap();
        assert_eq!(common::scalar(&tables).as_deref(), Some("0"));
        db.close();
        // Dropping the external handle must leave the server alone.
    }
    assert!(server.cluster().unwrap().running());
    assert!(root.exists());

    let unreachable = Temporal::from_iri("pq://test@127.0.0.1:1/test").unwrap_err();
    assert!(
        matches!(unreachable, pg_cluster::ClusterError::Database { .. }),
        "{unreachable:?}"
    );
    assert!(Temporal::from_iri("http://nope").is_err());
    let hidden = Temporal::from_iri("pq://u:secret@127.0.0.1:port/x").unwrap_err();
    assert!(!hidden.to_string().contains("secret"), "{hidden}");
}
