//! `require_auth` through every layer: IRIs, connection strings, keywords, the environment,
//! and written back.

use super::{defaults, error, fake_env, params};
use crate::params::{AuthRequirement, Keywords, ParamsError, RequireAuth};

#[test]
fn every_spelling_reads_the_same_list() {
    let expected = RequireAuth::parse("scram-sha-256,none").unwrap();
    for text in [
        "postgresql://h/db?require_auth=scram-sha-256,none",
        "postgresql://h/db?require_auth=scram-sha-256%2Cnone",
        "pq://h/db?[require_auth]=scram-sha-256,none",
        "host=h require_auth='scram-sha-256, none'",
    ] {
        assert_eq!(params(text).require_auth(), &expected, "{text}");
    }
    let env = fake_env(&[("PGHOST", "h"), ("PGREQUIREAUTH", "scram-sha-256,none")]);
    let p = Keywords::new()
        .with_env(env)
        .unwrap()
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.require_auth(), &expected);
    let p = Keywords::new()
        .host("h")
        .require_auth(RequireAuth::only([
            AuthRequirement::ScramSha256,
            AuthRequirement::None,
        ]))
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.require_auth(), &expected);
    // Unset: no requirement.
    assert!(params("host=h").require_auth().is_any());
}

#[test]
fn layers_override_as_for_any_keyword() {
    let env = fake_env(&[("PGREQUIREAUTH", "md5")]);
    let p = Keywords::parse("host=h require_auth=!password")
        .unwrap()
        .with_env(&env)
        .unwrap()
        .build_with(&defaults())
        .unwrap();
    assert_eq!(p.require_auth().to_string(), "!password");
    // An empty value is set, and means no requirement: the environment does not fill it.
    let p = Keywords::parse("host=h require_auth=''")
        .unwrap()
        .with_env(&env)
        .unwrap()
        .build_with(&defaults())
        .unwrap();
    assert!(p.require_auth().is_any());
}

#[test]
fn bad_values_are_errors_everywhere() {
    for text in [
        "host=h require_auth=md5,!password",
        "postgresql://h/db?require_auth=md5,md5",
        "pq://h/db?[require_auth]=kerberos",
        "host=h require_auth=,md5",
    ] {
        let e = error(text);
        assert!(
            matches!(&e, ParamsError::InvalidValue { keyword, .. } if keyword == "require_auth"),
            "{text}: {e:?}"
        );
    }
    let env = fake_env(&[("PGREQUIREAUTH", "!md5,none")]);
    let e = Keywords::new().with_env(env).unwrap_err();
    assert!(e.to_string().contains("PGREQUIREAUTH"), "{e}");
    assert!(e.to_string().contains("negated"), "{e}");
}

#[test]
fn written_back_and_shown() {
    let p = params("pq://u@h/db?[require_auth]=!md5,!none");
    let iri = p.to_iri(false);
    assert_eq!(iri, "pq://u@h/db?[require_auth]=!md5,!none");
    assert_eq!(params(&iri), p);
    assert_eq!(p.to_keywords().build_with(&defaults()).unwrap(), p);
    let debug = format!("{p:?}");
    assert!(
        debug.contains("require_auth: RequireAuth(\"!md5,!none\")"),
        "{debug}"
    );
    let kw = Keywords::parse("host=h require_auth=password").unwrap();
    assert!(format!("{kw:?}").contains("RequireAuth(\"password\")"));
    // Not a keyword without a typed field any more.
    assert!(!p.extra().contains_key("require_auth"));
    assert!(!params("host=h").to_iri(false).contains("require_auth"));
}
