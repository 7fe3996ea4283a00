//! py-postgresql's locators: scheme-less IRIs as `postgresql.open()` takes them, and an
//! explicitly empty user.

use super::{defaults, fake_env, params};
use crate::params::{Host, Keywords};

/// A locator, and the hosts, user, database and password it gives.
type Case<'a> = (&'a str, &'a [Host], &'a str, &'a str, Option<&'a str>);

#[test]
fn scheme_less_locators_are_pq_iris() {
    let cases: &[Case] = &[
        (
            "localhost/postgres",
            &[Host::tcp("localhost", 5432)],
            "osuser",
            "postgres",
            None,
        ),
        (
            "user@host:5433/db",
            &[Host::tcp("host", 5433)],
            "user",
            "db",
            None,
        ),
        (
            "user:pw@host/db",
            &[Host::tcp("host", 5432)],
            "user",
            "db",
            Some("pw"),
        ),
        (
            "localhost",
            &[Host::tcp("localhost", 5432)],
            "osuser",
            "osuser",
            None,
        ),
        (
            "db.example:6000",
            &[Host::tcp("db.example", 6000)],
            "osuser",
            "osuser",
            None,
        ),
        (
            "[::1]:5433/db",
            &[Host::tcp("::1", 5433)],
            "osuser",
            "db",
            None,
        ),
        (
            "u@/db?[unix]=/tmp",
            &[Host::unix("/tmp", 5432)],
            "u",
            "db",
            None,
        ),
    ];
    for &(text, hosts, user, database, password) in cases {
        let p = params(text);
        assert_eq!(p.hosts(), hosts, "{text}");
        assert_eq!((p.user(), p.database()), (user, database), "{text}");
        assert_eq!(p.password().map(|p| p.expose()), password, "{text}");
        assert_eq!(p, params(&format!("pq://{text}")), "{text}");
    }
    // The rest of the pq:// grammar comes along: driver parameters, settings, search_path.
    let p = params("u@h/db?[sslmode]=require&timezone=UTC#app,public");
    assert_eq!(p.ssl_mode(), crate::params::SslMode::Require);
    assert_eq!(p.setting("timezone"), Some("UTC"));
    assert_eq!(p.setting("search_path"), Some("app,public"));
}

#[test]
fn connection_strings_are_still_connection_strings() {
    for text in [
        "host=h port=5433",
        "  host = h port=5433",
        "dbname=db host=h",
    ] {
        let p = params(text);
        assert_eq!(p.hosts()[0], Host::tcp("h", p.hosts()[0].port()), "{text}");
    }
    assert_eq!(params("host=h port=5433").hosts(), &[Host::tcp("h", 5433)]);
    // A locator whose query holds '=' is no connection string.
    assert_eq!(params("h/db?[port]=7").hosts(), &[Host::tcp("h", 7)]);
    assert_eq!(Keywords::parse("").unwrap(), Keywords::new());
}

#[test]
fn an_explicitly_empty_pq_user_stays_empty() {
    for text in ["pq://:secret@host/db", ":secret@host/db", "pq://@host/db"] {
        let p = params(text);
        assert_eq!(p.user(), "", "{text}");
        assert_eq!(p.database(), "db", "{text}");
        // It wins over the environment, as any user the IRI gives.
        let kw = Keywords::parse(text)
            .unwrap()
            .with_env(fake_env(&[("PGUSER", "envuser")]))
            .unwrap();
        assert_eq!(kw.build_with(&defaults()).unwrap().user(), "", "{text}");
        // It is written back and read again as empty.
        let iri = p.to_iri(false);
        assert!(
            iri.starts_with("pq://@") || iri.starts_with("pq://:"),
            "{iri}"
        );
        assert_eq!(params(&iri), p, "{iri}");
        assert_eq!(p.to_keywords().build_with(&defaults()).unwrap(), p);
    }
    assert_eq!(
        params("pq://:secret@host").password().unwrap().expose(),
        "secret"
    );
    // libpq's forms take an empty user for none, so the default user applies.
    assert_eq!(params("postgresql://:secret@host/db").user(), "osuser");
    assert_eq!(params("host=h user=").user(), "osuser");
    let explicit = Keywords::new().user("").build_with(&defaults()).unwrap();
    assert_eq!(explicit.user(), "osuser");
    // A later layer's user replaces the empty one.
    let kw = Keywords::parse("pq://@host/db")
        .unwrap()
        .merge(Keywords::new().user("bob"));
    assert_eq!(kw.build_with(&defaults()).unwrap().user(), "bob");
}
