use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use super::{defaults, error, params};
use crate::params::{Host, Keywords, ParamsError, SslMode, TargetSessionAttrs};

fn tcp(host: &str, port: u16) -> Host {
    Host::tcp(host, port)
}

fn unix(path: &str, port: u16) -> Host {
    Host::unix(path, port)
}

/// (IRI, hosts, user, database, password)
type Case = (
    &'static str,
    Vec<Host>,
    &'static str,
    &'static str,
    Option<&'static str>,
);

#[test]
#[rustfmt::skip] // one case per line reads as a table
fn iri_forms_table() {
    let cases: Vec<Case> = vec![
        ("pq://", vec![unix("/run/pg", 5432)], "osuser", "osuser", None),
        ("pq://localhost", vec![tcp("localhost", 5432)], "osuser", "osuser", None),
        ("pq://u:pw@h:5433/db", vec![tcp("h", 5433)], "u", "db", Some("pw")),
        ("pq://[::1]/db", vec![tcp("::1", 5432)], "osuser", "db", None),
        ("pq://[::1]:5433", vec![tcp("::1", 5433)], "osuser", "osuser", None),
        ("pq://u@/db?[unix]=/tmp", vec![unix("/tmp", 5432)], "u", "db", None),
        ("pq://u@:5433/db?[unix]=/tmp", vec![unix("/tmp", 5433)], "u", "db", None),
        ("pq://h1:5432,h2:5433/d", vec![tcp("h1", 5432), tcp("h2", 5433)], "osuser", "d", None),
        ("pq://us%40er:p%3As%2Fw@h/d%2Fb", vec![tcp("h", 5432)], "us@er", "d/b", Some("p:s/w")),
        ("pq://u:100%@h/db", vec![tcp("h", 5432)], "u", "db", Some("100%")),
        ("pq://%2Ftmp%2Fpg/db", vec![unix("/tmp/pg", 5432)], "osuser", "db", None),
        ("pq://[unix::tmp:s]/db", vec![unix("/tmp/s", 5432)], "osuser", "db", None),
        ("PQ://H/db/", vec![tcp("H", 5432)], "osuser", "db", None),
        ("pq://alice@h/db?[user]=bob&[database]=x", vec![tcp("h", 5432)], "alice", "db", None),
        ("pq://h?[user]=bob&[database]=x", vec![tcp("h", 5432)], "bob", "x", None),
        ("postgresql://", vec![unix("/run/pg", 5432)], "osuser", "osuser", None),
        ("postgresql:///db", vec![unix("/run/pg", 5432)], "osuser", "db", None),
        ("postgres://u:s%40c@localhost:5433/my%20db", vec![tcp("localhost", 5433)], "u", "my db", Some("s@c")),
        ("postgresql://%2Fvar%2Frun%2Fpostgresql/db", vec![unix("/var/run/postgresql", 5432)], "osuser", "db", None),
        ("postgresql:///db?host=/dir&port=6000", vec![unix("/dir", 6000)], "osuser", "db", None),
        ("postgresql://h1:5432,h2:5433/db", vec![tcp("h1", 5432), tcp("h2", 5433)], "osuser", "db", None),
        ("postgresql:///db?host=a,b&port=1,2", vec![tcp("a", 1), tcp("b", 2)], "osuser", "db", None),
        ("postgresql:///db?host=a,b&port=7", vec![tcp("a", 7), tcp("b", 7)], "osuser", "db", None),
        ("postgresql://a,b:6000/db", vec![tcp("a", 5432), tcp("b", 6000)], "osuser", "db", None),
        ("postgresql://,b/db", vec![unix("/run/pg", 5432), tcp("b", 5432)], "osuser", "db", None),
        ("postgres://[::1]:5433/db", vec![tcp("::1", 5433)], "osuser", "db", None),
        ("postgresql://[2001:db8::1],[::1]:6/db", vec![tcp("2001:db8::1", 5432), tcp("::1", 6)], "osuser", "db", None),
        ("postgresql://h/db?host=h2", vec![tcp("h2", 5432)], "osuser", "db", None),
        ("postgresql://h/db#x", vec![tcp("h", 5432)], "osuser", "db#x", None),
        ("postgresql://u:@h", vec![tcp("h", 5432)], "u", "u", None),
        ("postgresql://@h/", vec![tcp("h", 5432)], "osuser", "osuser", None),
    ];
    for (iri, hosts, user, database, password) in cases {
        let p = params(iri);
        assert_eq!(p.hosts(), hosts.as_slice(), "{iri}");
        assert_eq!(p.user(), user, "{iri}");
        assert_eq!(p.database(), database, "{iri}");
        assert_eq!(p.password().map(|p| p.expose()), password, "{iri}");
    }
}

#[test]
fn pq_full_form() {
    let p = params("pq://user:secret@host:5433/db?setting=value&[sslmode]=require#public,other");
    assert_eq!(p.ssl_mode(), SslMode::Require);
    let settings = [("setting", "value"), ("search_path", "public,other")];
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(p.settings(), settings.as_slice());
}

#[test]
fn pq_driver_params_and_settings() {
    let p = params(
        "pq://h/db?[connect_timeout]=5&[application_name]=app&timezone=UTC&[foo]=bar\
         &[target_session_attrs]=read-write&[keepalives]=0&[keepalives_idle]=30&&=ignored",
    );
    assert_eq!(p.connect_timeout(), Some(Duration::from_secs(5)));
    assert_eq!(p.setting("application_name"), Some("app"));
    assert_eq!(p.setting("timezone"), Some("UTC"));
    assert_eq!(p.extra().get("foo").map(String::as_str), Some("bar"));
    assert_eq!(p.target_session_attrs(), TargetSessionAttrs::ReadWrite);
    assert!(!p.keepalives());
    assert_eq!(p.keepalives_idle(), Some(Duration::from_secs(30)));
    assert_eq!(p.settings().len(), 2);
    assert_eq!(
        params("pq://h?[connect_timeout]=1").connect_timeout(),
        Some(Duration::from_secs(2))
    );
    assert_eq!(params("pq://h?[connect_timeout]=0").connect_timeout(), None);
    assert_eq!(
        params("pq://h?[connect_timeout]=-3").connect_timeout(),
        None
    );
}

#[test]
fn fragment_is_search_path_quoted_as_needed() {
    let p = params("pq://h/db#MySchema,public,%2C,$user");
    assert_eq!(
        p.setting("search_path"),
        Some(r#""MySchema",public,",","$user""#)
    );
    // The fragment replaces a search_path given in the query.
    let p = params("pq://h/db?search_path=a#b");
    assert_eq!(p.setting("search_path"), Some("b"));
    assert_eq!(params("pq://h/db#").setting("search_path"), None);
}

#[test]
fn unix_socket_file_paths() {
    let p = params("pq://u@/db?[unix]=/var/run/pg/.s.PGSQL.5432");
    assert_eq!(
        p.hosts()[0].socket_path(),
        Some(PathBuf::from("/var/run/pg/.s.PGSQL.5432"))
    );
    let p = params("postgresql://%2Ftmp:5433/db");
    assert_eq!(
        p.hosts()[0].socket_path(),
        Some(PathBuf::from("/tmp/.s.PGSQL.5433"))
    );
    assert_eq!(tcp("h", 1).socket_path(), None);
    // An abstract socket (Linux) keeps its '@'.
    assert_eq!(
        params("postgresql:///db?host=@abs").hosts(),
        &[unix("@abs", 5432)]
    );
}

#[test]
fn libpq_query_keywords() {
    let p = params(
        "postgresql://h/db?sslmode=verify-full&application_name=app&options=-c%20geqo%3Doff\
         &channel_binding=require&load_balance_hosts=random&sslcrl=/crl&passfile=/pw\
         &sslrootcert=/ca&sslcert=/c&sslkey=/k&client_encoding=UTF8&keepalives_count=3",
    );
    assert_eq!(p.ssl_mode(), SslMode::VerifyFull);
    assert_eq!(p.setting("options"), Some("-c geqo=off"));
    assert_eq!(p.setting("client_encoding"), Some("UTF8"));
    assert_eq!(p.extra().get("sslcrl").map(String::as_str), Some("/crl"));
    assert_eq!(p.passfile(), Some(PathBuf::from("/pw").as_path()));
    assert_eq!(p.ssl_root_cert(), Some(PathBuf::from("/ca").as_path()));
    assert_eq!(
        (p.ssl_cert().is_some(), p.ssl_key().is_some()),
        (true, true)
    );
    assert_eq!(p.keepalives_count(), Some(3));
    assert_eq!(
        params("postgresql://h/db?ssl=true").ssl_mode(),
        SslMode::Require
    );
    assert_eq!(
        params("postgresql://h?requiressl=1").ssl_mode(),
        SslMode::Require
    );
    let p = params("postgresql://h/db?hostaddr=10.0.0.1");
    let addr = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(
        p.hosts(),
        &[Host::Tcp {
            host: "h".into(),
            hostaddr: addr,
            port: 5432
        }]
    );
    assert_eq!(
        params("postgresql:///db?hostaddr=10.0.0.1").hosts(),
        &[tcp("10.0.0.1", 5432)]
    );
    let p = params("postgresql://?fallback_application_name=fb");
    assert_eq!(p.setting("application_name"), Some("fb"));
    let p = params("postgresql://?fallback_application_name=fb&application_name=app");
    assert_eq!(p.setting("application_name"), Some("app"));
}

#[test]
fn py_postgresql_tls_file_names_mean_libpq_keywords() {
    let p = params(
        "pq://h/db?[sslmode]=verify-full&[sslrootcrtfile]=/ca.pem&[sslcrtfile]=/c.pem\
         &[sslkeyfile]=/k.pem&[sslrootcrlfile]=/crl.pem",
    );
    assert_eq!(p.ssl_root_cert(), Some(std::path::Path::new("/ca.pem")));
    assert_eq!(p.ssl_cert(), Some(std::path::Path::new("/c.pem")));
    assert_eq!(p.ssl_key(), Some(std::path::Path::new("/k.pem")));
    assert_eq!(
        p.extra().get("sslcrl").map(String::as_str),
        Some("/crl.pem")
    );
    // Written back under libpq's names, which read back the same.
    let iri = p.to_iri(false);
    assert!(iri.contains("[sslrootcert]=/ca.pem"), "{iri}");
    assert_eq!(params(&iri), p);
}

#[test]
fn unknown_tls_parameters_are_errors() {
    for text in [
        "pq://h/db?[sslfoo]=1",
        "pq://h/db?[SSLRootCert]=ca.pem",
        "pq://h/db?[ssl]=true",
        "postgresql://h/db?sslfoo=1",
        "host=h sslrootcrtfile=ca.pem",
    ] {
        let e = error(text);
        assert!(
            matches!(
                e,
                ParamsError::UnknownTlsParameter { .. } | ParamsError::UnknownKeyword { .. }
            ),
            "{text}: {e:?}"
        );
    }
    let e = error("pq://h/db?[sslfoo]=1");
    assert_eq!(
        e.to_string(),
        "unknown TLS parameter \"sslfoo\": the driver does not connect with a TLS setting it \
         cannot honour"
    );
    // Pushed into the extras directly, it is refused when built.
    let mut kw = Keywords::new().host("h");
    kw.extra.insert("sslverify".into(), "none".into());
    let e = kw.build_with(&defaults()).unwrap_err();
    assert!(
        matches!(e, ParamsError::UnknownTlsParameter { .. }),
        "{e:?}"
    );
    // Other unknown bracketed parameters are kept (and reported as ignored on connecting).
    assert_eq!(
        params("pq://h/db?[frobnicate]=1")
            .extra()
            .get("frobnicate")
            .map(String::as_str),
        Some("1")
    );
}
