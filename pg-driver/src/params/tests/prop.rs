//! Property tests: no input panics a parser, and rendering round-trips.

use std::time::Duration;

use proptest::prelude::*;

use super::defaults;
use crate::params::pgpass::find;
use crate::params::{ChannelBindingMode, Keywords, SslMode, TargetSessionAttrs};

/// Strings made of the characters the grammars care about.
fn grammar_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[a-z0-9:@/?#&=\[\],.%'\\ *-]{0,40}").unwrap()
}

fn host_entry() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9.-]{0,12}",
        Just("::1".to_owned()),
        "[0-9a-f]{1,4}:[0-9a-f]{0,4}::[0-9a-f]{1,4}",
        "/[a-z ,%]{1,10}",
        "@[a-z]{1,5}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic(text in any::<String>(), tail in grammar_text()) {
        let _ = Keywords::parse(&text);
        let _ = Keywords::from_conninfo(&text);
        let _ = Keywords::from_iri(&text);
        for scheme in ["pq://", "postgresql://", "postgres://", ""] {
            let text = format!("{scheme}{tail}");
            if let Ok(kw) = Keywords::parse(&text)
                && let Ok(p) = kw.build_with(&defaults()) {
                    let _ = p.to_iri(true);
                }
        }
    }

    #[test]
    fn pgpass_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200),
                           text in grammar_text(), host in ".{0,8}", port in any::<u16>()) {
        let _ = find(&bytes, &host, port, "db", "u");
        let _ = find(text.as_bytes(), &host, port, "db", "u");
        let _ = find(text.replace(' ', "\n").as_bytes(), "h", port, "*", "*");
    }

    #[test]
    fn rendering_round_trips(
        hosts in proptest::collection::vec(host_entry(), 1..4),
        ports in proptest::collection::vec(1u16.., 1..2),
        user in "[^\u{0}]{1,12}",
        password in proptest::option::of("[^\u{0}]{0,12}"),
        database in "[^\u{0}]{0,12}",
        settings in proptest::collection::vec(("[a-z_\\[\\]%&=#]{1,8}", "[^\u{0}]{0,10}"), 0..4),
        search_path in proptest::option::of(proptest::collection::vec("[^\u{0}]{0,6}", 1..3)),
        ssl in proptest::sample::select(SslMode::ALL),
        binding in proptest::sample::select(ChannelBindingMode::ALL),
        attrs in proptest::sample::select(TargetSessionAttrs::ALL),
        timeout in proptest::option::of(0u64..100_000),
        keepalives in any::<bool>(),
        extra in proptest::collection::btree_map("x[a-z\\]=&]{0,6}", "[^\u{0}]{0,6}", 0..3),
    ) {
        let mut kw = Keywords::new()
            .hosts(hosts)
            .user(user)
            .database(database)
            .ssl_mode(ssl)
            .channel_binding(binding)
            .target_session_attrs(attrs)
            .keepalives(keepalives);
        kw.port = Some(ports.into_iter().map(Some).collect());
        kw.password = password.map(Into::into);
        kw.connect_timeout = timeout.map(Duration::from_millis);
        kw.extra = extra;
        for (name, value) in settings {
            if name != "user" && name != "database" {
                kw = kw.setting(name, value);
            }
        }
        if let Some(schemas) = search_path {
            kw = kw.search_path(schemas);
        }
        let params = kw.build_with(&defaults()).unwrap();
        let iri = params.to_iri(false);
        let again = Keywords::from_iri(&iri).and_then(|kw| kw.build_with(&defaults()));
        prop_assert_eq!(again, Ok(params), "{}", iri);
    }
}
