//! Inputs cargo-fuzz found (`fuzz/`, target `params`), kept as regression tests.

use pg_driver::params::{Defaults, Host, Keywords};

/// A TCP host whose name starts with `unix:` was written as `[unix:…]`, which a `pq://` IRI
/// reads back as a unix socket: `to_iri` must give back equal parameters.
#[test]
fn a_tcp_host_named_unix_renders_unbracketed() {
    let defaults = Defaults::new(Some("osuser".into()), Some("/run/pg".into()));
    let params = Keywords::parse("host=unix:/pusTr:0%40sS@tm[")
        .and_then(|k| k.build_with(&defaults))
        .unwrap();
    assert_eq!(params.hosts(), &[Host::tcp("unix:/pusTr:0%40sS@tm[", 5432)]);
    let iri = params.to_iri(false);
    let again = Keywords::from_iri(&iri).and_then(|k| k.build_with(&defaults));
    assert_eq!(again.as_ref(), Ok(&params), "{iri}");
}
