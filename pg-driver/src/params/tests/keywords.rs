use std::time::Duration;

use super::defaults;
use crate::params::{Host, Keywords, LoadBalanceHosts, SslMode, TargetSessionAttrs};

fn tcp(host: &str, port: u16) -> Host {
    Host::tcp(host, port)
}

fn unix(path: &str, port: u16) -> Host {
    Host::unix(path, port)
}

#[test]
fn explicit_keywords_override_the_iri() {
    let iri = Keywords::from_iri("pq://bob:pw@h:5433/db?[sslmode]=require&a=1&b=2").unwrap();
    let explicit = Keywords::new().user("alice").port(6000).setting("b", "3");
    let p = iri.merge(explicit).build_with(&defaults()).unwrap();
    assert_eq!((p.user(), p.database()), ("alice", "db"));
    assert_eq!(p.password().map(|p| p.expose()), Some("pw"));
    assert_eq!(p.hosts(), &[tcp("h", 6000)]);
    assert_eq!(p.ssl_mode(), SslMode::Require);
    assert_eq!((p.setting("a"), p.setting("b")), (Some("1"), Some("3")));
    // An explicit host replaces the IRI's whole location group.
    let iri = Keywords::from_iri("pq://u@/db?[unix]=/tmp").unwrap();
    let p = iri
        .merge(Keywords::new().host("x"))
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.hosts(), &[tcp("x", 5432)]);
    let iri = Keywords::from_iri("postgresql://h?hostaddr=10.0.0.1").unwrap();
    let p = iri
        .merge(Keywords::new().unix("/s"))
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.hosts(), &[unix("/s", 5432)]);
}

#[test]
fn builder_setters_and_normalisation() {
    let p = Keywords::new()
        .host("h")
        .hostaddr("10.1.2.3".parse().unwrap())
        .port(7)
        .password("")
        .database("")
        .target_session_attrs(TargetSessionAttrs::Primary)
        .load_balance_hosts(LoadBalanceHosts::Random)
        .connect_timeout(Duration::MAX)
        .setting("a", "1")
        .setting("a", "2")
        .build_with(&defaults())
        .unwrap();
    let addr = Some("10.1.2.3".parse().unwrap());
    assert_eq!(
        p.hosts(),
        &[Host::Tcp {
            host: "h".into(),
            hostaddr: addr,
            port: 7
        }]
    );
    // Empty password and database mean "not given", as in libpq.
    assert_eq!((p.password(), p.database()), (None, "osuser"));
    assert_eq!(p.connect_timeout(), Some(Duration::from_secs(u64::MAX)));
    assert_eq!(p.settings(), &[("a".to_owned(), "2".to_owned())]);
    assert_eq!(p.target_session_attrs(), TargetSessionAttrs::Primary);
    assert_eq!(p.load_balance_hosts(), LoadBalanceHosts::Random);
    // Duplicate names pushed straight into the public field are merged.
    let mut kw = Keywords::new();
    kw.settings = vec![("x".into(), "1".into()), ("x".into(), "2".into())];
    let p = kw.build_with(&defaults()).unwrap();
    assert_eq!(p.setting("x"), Some("2"));
    assert_eq!(p.settings().len(), 1);
    // Extras may not shadow typed parameters.
    let mut kw = Keywords::new();
    kw.extra.insert("sslmode".into(), "require".into());
    assert!(kw.build_with(&defaults()).is_err());
}

#[test]
fn enum_spellings() {
    for mode in SslMode::ALL {
        assert_eq!(SslMode::parse(mode.as_str()), Some(*mode));
        assert_eq!(mode.to_string(), mode.as_str());
    }
    assert_eq!(SslMode::parse("VERIFY-FULL"), Some(SslMode::VerifyFull));
    assert_eq!(SslMode::parse("verify_full"), None);
    assert_eq!(SslMode::default(), SslMode::Prefer);
    assert_eq!(
        TargetSessionAttrs::parse("prefer-standby"),
        Some(TargetSessionAttrs::PreferStandby)
    );
}

#[test]
fn host_display_and_replacement() {
    assert_eq!(tcp("db.example", 5432).to_string(), "db.example:5432");
    assert_eq!(tcp("::1", 6000).to_string(), "[::1]:6000");
    assert_eq!(unix("/run/pg", 5433).to_string(), "/run/pg/.s.PGSQL.5433");
    let p = Keywords::new().host("a").build_with(&defaults()).unwrap();
    let p = p.with_hosts(vec![unix("/s", 1)]);
    assert_eq!(p.hosts(), &[unix("/s", 1)]);
    assert_eq!(p.clone().with_hosts(Vec::new()).hosts(), &[unix("/s", 1)]);
    let p = Keywords::new()
        .passfile("/pw")
        .build_with(&defaults())
        .unwrap();
    assert_eq!(
        p.effective_passfile(),
        Some(std::path::PathBuf::from("/pw"))
    );
}
