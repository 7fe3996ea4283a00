//! Text forms of the test database's address: the `postgresql://` URIs libpq-based tools
//! accept, query parameters, passwords hidden for messages.
//!
//! Parsing is the driver's ([`pg_driver::params::Keywords::parse`]).

/// Percent-encodes everything but unreserved characters.
pub(crate) fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Rewrites a `pq://` (or `pqs://`) IRI as a `postgresql://` URI; others pass unchanged.
pub(crate) fn to_postgresql_uri(iri: &str) -> String {
    if let Some(rest) = iri.strip_prefix("pq://") {
        format!("postgresql://{rest}")
    } else if let Some(rest) = iri.strip_prefix("pqs://") {
        let sep = if rest.contains('?') { '&' } else { '?' };
        format!("postgresql://{rest}{sep}sslmode=require")
    } else {
        iri.to_owned()
    }
}

/// The IRI (or `key=value` string) with every password replaced by `***`, for messages and
/// Debug: the user information's and any `password` / `sslpassword` parameter's
/// ([`pg_exceptions::obscure_password`]; a `postgresql://` URI may carry the password as a
/// query parameter, which masking the user information alone missed).
pub(crate) fn redact(iri: &str) -> String {
    pg_exceptions::obscure_password(iri)
}

/// Inserts a query parameter before any `#fragment`.
pub(crate) fn with_query_param(iri: &str, param: &str) -> String {
    let (base, fragment) = match iri.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (iri, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    match fragment {
        Some(fragment) => format!("{base}{sep}{param}#{fragment}"),
        None => format!("{base}{sep}{param}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_passwords_and_adds_parameters() {
        assert_eq!(redact("pq://u:secret@h:1/d?x=1"), "pq://u:***@h:1/d?x=1");
        assert_eq!(redact("pq://u@h/d"), "pq://u@h/d");
        assert_eq!(redact("nonsense"), "nonsense");
        assert_eq!(
            redact("postgresql://u@h/d?password=secret&sslmode=require"),
            "postgresql://u@h/d?password=***&sslmode=require"
        );
        assert_eq!(redact("host=h password=secret"), "host=h password=***");
        assert_eq!(with_query_param("pq://h/d", "a=1"), "pq://h/d?a=1");
        assert_eq!(
            with_query_param("pq://h/d?b=2#s", "a=1"),
            "pq://h/d?b=2&a=1#s"
        );
    }

    #[test]
    fn converts_to_postgresql_uris() {
        assert_eq!(to_postgresql_uri("pq://a@h:1/d"), "postgresql://a@h:1/d");
        assert_eq!(
            to_postgresql_uri("pqs://a@h/d"),
            "postgresql://a@h/d?sslmode=require"
        );
        assert_eq!(to_postgresql_uri("postgres://h/d"), "postgres://h/d");
        assert_eq!(percent_encode("a,b=c"), "a%2Cb%3Dc");
    }
}
