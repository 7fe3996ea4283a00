//! Just enough IRI handling to use a server named by `PGTEST_IRI`.
//!
//! The driver has the full `pq://` grammar; this module only reads user, password, host,
//! port and database, and turns a `pq://` IRI into the `postgresql://` URI `psql` accepts.

use crate::error::ClusterError;

/// The parts of a connection IRI a throwaway-cluster user needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

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

/// The IRI with any password replaced by `***`, for messages.
pub(crate) fn redact(iri: &str) -> String {
    let Some((scheme, rest)) = iri.split_once("://") else {
        return iri.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => iri.to_owned(),
        },
        None => iri.to_owned(),
    }
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

/// Reads user, password, host, port and database from a `pq://`, `postgresql://` or
/// `postgres://` IRI.
pub(crate) fn parse(iri: &str) -> Result<Target, ClusterError> {
    let bad =
        |why: &str| ClusterError::other(format!("cannot use the IRI {:?}: {why}", redact(iri)));
    let (scheme, rest) = iri.split_once("://").ok_or_else(|| bad("no scheme"))?;
    if !["pq", "pqs", "postgresql", "postgres"].contains(&scheme.to_ascii_lowercase().as_str()) {
        return Err(bad("the scheme is not pq, postgresql or postgres"));
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((user, pw)) => (Some(percent_decode(user)), Some(percent_decode(pw))),
            None => (Some(percent_decode(u)), None),
        },
        None => (None, None),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (percent_decode(h), Some(p)),
            None => (percent_decode(hostport), None),
        }
    };
    let port = match port.filter(|p| !p.is_empty()) {
        Some(p) => Some(p.parse().map_err(|_| bad("the port is not a number"))?),
        None => None,
    };
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    Ok(Target {
        user: user.and_then(non_empty),
        password,
        host: non_empty(host),
        port,
        database: non_empty(percent_decode(path)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iris() {
        let t = parse("pq://test@127.0.0.1:5433/test").unwrap();
        assert_eq!(t.user.as_deref(), Some("test"));
        assert_eq!(t.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(t.port, Some(5433));
        assert_eq!(t.database.as_deref(), Some("test"));
        assert_eq!(t.password, None);

        let t = parse("postgresql://u%40x:p%3Aw@[::1]:6000/d%20b?sslmode=disable").unwrap();
        assert_eq!(t.user.as_deref(), Some("u@x"));
        assert_eq!(t.password.as_deref(), Some("p:w"));
        assert_eq!(t.host.as_deref(), Some("::1"));
        assert_eq!(t.port, Some(6000));
        assert_eq!(t.database.as_deref(), Some("d b"));

        let t = parse("postgres://localhost").unwrap();
        assert_eq!((t.user, t.port, t.database), (None, None, None));

        for bad in ["localhost", "http://x/y", "pq://h:port/db", "pq://[::1/db"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hides_passwords_and_adds_parameters() {
        assert_eq!(redact("pq://u:secret@h:1/d?x=1"), "pq://u:***@h:1/d?x=1");
        assert_eq!(redact("pq://u@h/d"), "pq://u@h/d");
        assert_eq!(redact("nonsense"), "nonsense");
        let err = parse("pq://u:secret@h:port/d").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
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
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
