//! Tests of the parameter layer. The environment is always a fake map and
//! defaults are fixed, so nothing depends on the machine running them.

mod conninfo;
mod env;
mod iri;
mod iri_errors;
mod keywords;
mod locator;
mod pgpass;
mod prop;
mod py_postgresql;
mod render;
mod require_auth;
mod service;
mod startup;

use super::{ConnectParams, Defaults, Keywords, ParamsError};

/// Fixed defaults: OS user `osuser`, socket directory `/run/pg`.
pub(super) fn defaults() -> Defaults {
    Defaults::new(Some("osuser".into()), Some("/run/pg".into()))
}

/// Parses and builds with [`defaults`], panicking with the error text.
pub(super) fn params(text: &str) -> ConnectParams {
    match Keywords::parse(text).and_then(|kw| kw.build_with(&defaults())) {
        Ok(p) => p,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

/// The error parsing and building `text` gives.
pub(super) fn error(text: &str) -> ParamsError {
    match Keywords::parse(text).and_then(|kw| kw.build_with(&defaults())) {
        Ok(p) => panic!("{text:?} parsed: {p:?}"),
        Err(e) => e,
    }
}

/// A fake environment from pairs.
pub(super) fn fake_env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}
