use std::path::Path;
use std::time::Duration;

use super::{defaults, fake_env};
use crate::params::{
    ChannelBindingMode, Host, Keywords, LoadBalanceHosts, ParamsError, SslMode, TargetSessionAttrs,
    env_keywords,
};

const FULL_ENV: &[(&str, &str)] = &[
    ("PGHOST", "envhost"),
    ("PGHOSTADDR", "192.0.2.1"),
    ("PGPORT", "6543"),
    ("PGUSER", "envuser"),
    ("PGPASSWORD", "envpw"),
    ("PGDATABASE", "envdb"),
    ("PGSSLMODE", "verify-ca"),
    ("PGSSLROOTCERT", "/ca.pem"),
    ("PGSSLCERT", "/c.pem"),
    ("PGSSLKEY", "/k.pem"),
    ("PGCONNECT_TIMEOUT", "10"),
    ("PGAPPNAME", "envapp"),
    ("PGOPTIONS", "-c geqo=off"),
    ("PGPASSFILE", "/pgpass"),
    ("PGTZ", "UTC"),
    ("PGDATESTYLE", "ISO, MDY"),
    ("PGCLIENTENCODING", "UTF8"),
    ("PGCHANNELBINDING", "require"),
    ("PGTARGETSESSIONATTRS", "standby"),
    ("PGLOADBALANCEHOSTS", "random"),
    ("PGSSLCRL", "/crl"),
];

#[test]
fn every_variable_reaches_its_parameter() {
    let p = Keywords::new()
        .with_env(fake_env(FULL_ENV))
        .unwrap()
        .build_with(&defaults())
        .unwrap();
    let addr = Some("192.0.2.1".parse().unwrap());
    assert_eq!(
        p.hosts(),
        &[Host::Tcp {
            host: "envhost".into(),
            hostaddr: addr,
            port: 6543
        }]
    );
    assert_eq!((p.user(), p.database()), ("envuser", "envdb"));
    assert_eq!(p.password().map(|p| p.expose()), Some("envpw"));
    assert_eq!(p.ssl_mode(), SslMode::VerifyCa);
    assert_eq!(p.ssl_root_cert(), Some(Path::new("/ca.pem")));
    assert_eq!(p.ssl_cert(), Some(Path::new("/c.pem")));
    assert_eq!(p.ssl_key(), Some(Path::new("/k.pem")));
    assert_eq!(p.connect_timeout(), Some(Duration::from_secs(10)));
    assert_eq!(p.passfile(), Some(Path::new("/pgpass")));
    assert_eq!(p.channel_binding(), ChannelBindingMode::Require);
    assert_eq!(p.target_session_attrs(), TargetSessionAttrs::Standby);
    assert_eq!(p.load_balance_hosts(), LoadBalanceHosts::Random);
    assert_eq!(p.extra().get("sslcrl").map(String::as_str), Some("/crl"));
    for (name, value) in [
        ("application_name", "envapp"),
        ("options", "-c geqo=off"),
        ("timezone", "UTC"),
        ("datestyle", "ISO, MDY"),
        ("client_encoding", "UTF8"),
    ] {
        assert_eq!(p.setting(name), Some(value), "{name}");
    }
}

#[test]
fn precedence_explicit_iri_env_defaults() {
    let iri = Keywords::from_iri("pq://iriuser@irihost/iridb?application_name=iriapp").unwrap();
    let explicit = Keywords::new().database("explicitdb");
    let p = iri
        .merge(explicit)
        .with_env(fake_env(FULL_ENV))
        .unwrap()
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.database(), "explicitdb");
    assert_eq!(p.user(), "iriuser");
    // The IRI's host replaces PGHOST and PGHOSTADDR together; PGPORT still
    // fills the port the IRI left unset.
    assert_eq!(p.hosts(), &[Host::tcp("irihost", 6543)]);
    assert_eq!(p.setting("application_name"), Some("iriapp"));
    assert_eq!(p.setting("timezone"), Some("UTC"));
    assert_eq!(p.password().map(|p| p.expose()), Some("envpw"));
    // Nothing anywhere: the defaults.
    let p = Keywords::new()
        .with_env(fake_env(&[]))
        .unwrap()
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.hosts(), &[Host::unix("/run/pg", 5432)]);
    assert_eq!((p.user(), p.database()), ("osuser", "osuser"));
    assert_eq!(p.ssl_mode(), SslMode::Prefer);
    assert!(p.keepalives());
    // Explicit zero timeout is a value, not a gap for the environment.
    let kw = Keywords::parse("connect_timeout=0").unwrap();
    let p = kw
        .with_env(fake_env(FULL_ENV))
        .unwrap()
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.connect_timeout(), None);
}

#[test]
fn bad_and_empty_variables() {
    let e = env_keywords(fake_env(&[("PGPORT", "abc")])).unwrap_err();
    assert!(matches!(&e, ParamsError::Environment { variable, .. } if variable == "PGPORT"));
    assert!(e.to_string().contains("PGPORT"), "{e}");
    let e = env_keywords(fake_env(&[("PGSSLMODE", "sometimes")])).unwrap_err();
    assert!(matches!(&e, ParamsError::Environment { variable, .. } if variable == "PGSSLMODE"));
    assert!(std::error::Error::source(&e).is_some());
    let kw = env_keywords(fake_env(&[("PGHOST", ""), ("PGUSER", "")])).unwrap();
    assert_eq!(kw, Keywords::new());
    let kw = env_keywords(fake_env(&[("PGHOST", "a,b"), ("PGPORT", "1,2")])).unwrap();
    let p = kw.build_with(&defaults()).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("a", 1), Host::tcp("b", 2)]);
}

#[test]
fn no_user_anywhere_is_an_error() {
    let none = crate::params::Defaults::new(None, None);
    assert_eq!(Keywords::new().build_with(&none), Err(ParamsError::NoUser));
    let p = Keywords::new().user("u").build_with(&none).unwrap();
    assert_eq!(p.hosts(), &[Host::tcp("localhost", 5432)]);
}

#[test]
fn system_defaults_use_the_password_database() {
    // Whatever the machine, the user comes from getpwuid, never from $USER,
    // and the default host is a socket directory on Unix.
    let d = crate::params::Defaults::system();
    assert_eq!(d.user, crate::params::os_user_name());
    assert!(d.user.as_deref().is_some_and(|u| !u.is_empty()));
    assert!(cfg!(not(unix)) || d.socket_dir.is_some());
}
