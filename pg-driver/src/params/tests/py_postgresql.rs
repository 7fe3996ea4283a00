//! py-postgresql's own connection parameter names and their meanings.

use std::path::Path;

use super::{defaults, error, fake_env, params};
use crate::params::{IpVersion, Keywords, ParamsError, ServerEncoding};

#[test]
fn server_encoding_names_the_encoding_of_the_startup_values_and_the_password() {
    for (value, encoding) in [
        ("utf-8", ServerEncoding::Utf8),
        ("UTF8", ServerEncoding::Utf8),
        ("SQL_ASCII", ServerEncoding::Utf8),
        ("latin-1", ServerEncoding::Latin1),
        ("LATIN1", ServerEncoding::Latin1),
        ("iso8859-1", ServerEncoding::Latin1),
        ("ISO_8859_1", ServerEncoding::Latin1),
        ("ascii", ServerEncoding::Ascii),
    ] {
        let p = params(&format!("pq://u@h/db?[server_encoding]={value}"));
        assert_eq!(p.server_encoding(), encoding, "{value}");
        assert!(p.ignored_parameters().is_empty(), "{value}");
        assert_eq!(params(&format!("host=h server_encoding={value}")), {
            let mut q = params("host=h");
            q.extra.insert("server_encoding".into(), value.into());
            q
        });
    }
    assert_eq!(
        params("pq://u@h/db").server_encoding(),
        ServerEncoding::Utf8
    );
    let kw = Keywords::new().server_encoding(ServerEncoding::Latin1);
    let p = kw.build_with(&defaults()).unwrap();
    assert_eq!(p.server_encoding(), ServerEncoding::Latin1);
    assert_eq!(params(&p.to_iri(false)), p);
    // An encoding the driver cannot write is kept, and reported as ignored.
    let p = params("pq://u@h/db?[server_encoding]=WIN1251");
    assert_eq!(p.server_encoding(), ServerEncoding::Utf8);
    assert_eq!(p.ignored_parameters(), ["server_encoding"]);
}

#[test]
fn what_the_server_encoding_cannot_hold_is_refused_before_connecting() {
    assert_eq!(
        ServerEncoding::Latin1.encode("pässwörd").unwrap().as_ref(),
        b"p\xe4ssw\xf6rd"
    );
    assert!(ServerEncoding::Ascii.encode("ü").is_err());
    assert_eq!(
        ServerEncoding::Utf8.encode("ü").unwrap().as_ref(),
        "ü".as_bytes()
    );
    let unencodable = |text: &str, part: &str| match error(text) {
        ParamsError::Unencodable { part: p, encoding } => {
            assert_eq!(
                (p.as_str(), encoding),
                (part, ServerEncoding::Latin1.as_str())
            );
        }
        other => panic!("{text}: {other:?}"),
    };
    unencodable("pq://u:pw€x@h/db?[server_encoding]=latin1", "password");
    unencodable("pq://€@h/db?[server_encoding]=latin1", "user");
    unencodable("pq://u@h/d€?[server_encoding]=latin1", "database");
    unencodable(
        "pq://u@h/db?[server_encoding]=latin1&application_name=€",
        "application_name",
    );
    let shown = error("pq://u:pw€x@h/db?[server_encoding]=latin1").to_string();
    assert!(
        !shown.contains("pw€x") && shown.contains("LATIN1"),
        "{shown}"
    );
}

#[test]
fn ipv_keeps_a_connection_to_one_ip_version() {
    assert_eq!(
        params("pq://h/db?[ipv]=4").ip_version(),
        Some(IpVersion::V4)
    );
    assert_eq!(params("host=h ipv=6").ip_version(), Some(IpVersion::V6));
    assert_eq!(params("pq://h/db").ip_version(), None);
    assert!(params("pq://h/db?[ipv]=6").ignored_parameters().is_empty());
    match error("pq://h/db?[ipv]=5") {
        ParamsError::InvalidValue { keyword, .. } => assert_eq!(keyword, "ipv"),
        other => panic!("{other:?}"),
    }
    let p = Keywords::new()
        .host("h")
        .ip_version(IpVersion::V6)
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.ip_version(), Some(IpVersion::V6));
    assert_eq!(params(&p.to_iri(false)), p);
}

#[test]
fn py_postgresql_names_mean_libpqs() {
    let p = params("pq://h/db?[pgpassfile]=/etc/pgpass&[kerberos5_service]=pg");
    assert_eq!(p.passfile(), Some(Path::new("/etc/pgpass")));
    assert_eq!(p.extra().get("krbsrvname").map(String::as_str), Some("pg"));
    assert_eq!(p.ignored_parameters(), ["krbsrvname"]);
}

#[test]
fn py_postgresql_names_the_driver_cannot_honour_are_reported() {
    let p = params(
        "pq://h/db?[sslrootkeyfile]=/k.pem&[kerberos4_realm]=R&[prompt_password]=1\
         &[prompt_title]=t&[address_family]=2",
    );
    assert_eq!(
        p.ignored_parameters(),
        [
            "address_family",
            "kerberos4_realm",
            "prompt_password",
            "prompt_title",
            "sslrootkeyfile"
        ]
    );
    // Any other unknown ssl… name still refuses to connect.
    assert!(matches!(
        error("pq://h/db?[sslfrobnicate]=1"),
        ParamsError::UnknownTlsParameter { .. }
    ));
}

#[test]
fn pggeqo_is_the_geqo_setting() {
    let p = Keywords::new()
        .with_env(fake_env(&[("PGGEQO", "off")]))
        .unwrap()
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.setting("geqo"), Some("off"));
}
