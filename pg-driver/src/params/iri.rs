//! Reading IRIs: py-postgresql's `pq://` and libpq's `postgresql://` /
//! `postgres://`.
//!
//! Both share `scheme://[user[:password]@][host[:port][,…]][/database][?query]`.
//! They differ in the query and the rest:
//!
//! * `pq://`: a query key in brackets (`[sslmode]=require`) is a driver
//!   parameter (libpq keyword, or `unix`, `database`, or py-postgresql's
//!   `sslrootcrtfile`, `sslcrtfile`, `sslkeyfile`, `sslrootcrlfile`, which
//!   mean `sslrootcert`, `sslcert`, `sslkey`, `sslcrl`; unknown ones are kept
//!   in [`Keywords::extra`], except an unknown `ssl…` name, which is
//!   [`ParamsError::UnknownTlsParameter`]); any other key is a startup-packet
//!   setting. A
//!   `#fragment` is the `search_path`, comma-separated. Netloc and path win
//!   over bracketed duplicates. A stray `%` not starting an escape is kept
//!   literally, as py-postgresql does.
//! * `postgresql://`: every query key is a libpq keyword (unknown ones are an
//!   error, as in libpq; `ssl=true` means `sslmode=require`), query values
//!   win over the netloc, `#` is an ordinary character, and a malformed
//!   percent escape is an error.
//!
//! A `pq://` IRI without its scheme is py-postgresql's locator (`localhost/postgres`,
//! `user@host:5433/db`): [`Keywords::from_locator`]. In the pq dialect a user written empty
//! (`pq://:secret@host`, `pq://@host`) is kept empty, as py-postgresql keeps it; in libpq's an
//! empty user means none.
//!
//! In both, a host that decodes to a path (`%2Fvar%2Frun%2Fpostgresql`) is a
//! Unix socket directory, `[…]` holds an IPv6 literal, and decoded text must
//! be UTF-8 without NUL.

use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use super::apply::parse_port;
use super::render::join_search_path;
use super::{Keywords, ParamsError, Password};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Pq,
    Libpq,
}

impl Keywords {
    /// Parses a `pq://`, `postgresql://` or `postgres://` IRI (scheme case
    /// ignored) into a keyword layer.
    pub fn from_iri(iri: &str) -> Result<Keywords, ParamsError> {
        let (dialect, start) = scheme(iri)?;
        parse_iri(iri, dialect, start)
    }

    /// Parses a locator as py-postgresql's `postgresql.open()` takes it: an IRI, or a
    /// `pq://` IRI without its scheme (`localhost/postgres`, `user@host:5433/db`,
    /// `user:pw@host/db?[sslmode]=require#schema`).
    pub fn from_locator(locator: &str) -> Result<Keywords, ParamsError> {
        match looks_like_iri(locator) {
            true => Keywords::from_iri(locator),
            false => parse_iri(locator, Dialect::Pq, 0),
        }
    }
}

/// Reads what follows the scheme (`start` is where the netloc begins).
fn parse_iri(iri: &str, dialect: Dialect, start: usize) -> Result<Keywords, ParamsError> {
    let pq = dialect == Dialect::Pq;
    let rest = &iri[start..];
    let stop = |c: char| c == '/' || c == '?' || (pq && c == '#');
    let netloc_end = rest.find(stop).unwrap_or(rest.len());
    let authority = parse_authority(&rest[..netloc_end], start, dialect)?;

    let mut tail = &rest[netloc_end..];
    let mut tail_at = start + netloc_end;
    let mut path = None;
    if let Some(after) = tail.strip_prefix('/') {
        let end = if pq {
            after.find(['?', '#'])
        } else {
            after.find('?')
        };
        let end = end.unwrap_or(after.len());
        path = Some((&after[..end], tail_at + 1));
        tail = &after[end..];
        tail_at += 1 + end;
    }
    let (mut query, mut fragment) = (None, None);
    if let Some(after) = tail.strip_prefix('?') {
        let end = if pq { after.find('#') } else { None }.unwrap_or(after.len());
        query = Some((&after[..end], tail_at + 1));
        tail = &after[end..];
    }
    if let Some(after) = tail.strip_prefix('#') {
        fragment = Some(after);
    }

    let mut kw = Keywords::new();
    if pq && let Some((q, at)) = query {
        pq_query(&mut kw, q, at)?;
    }
    authority.apply(&mut kw);
    if let Some((raw, at)) = path {
        kw.dbname = database(raw, at, dialect)?.or(kw.dbname.take());
    }
    if !pq && let Some((q, at)) = query {
        libpq_query(&mut kw, q, at)?;
    }
    if let Some(frag) = fragment.filter(|f| !f.is_empty()) {
        let names = frag
            .split(',')
            .map(|n| decode(n, false, || "fragment".into()));
        let names = names.collect::<Result<Vec<_>, _>>()?;
        kw.set_setting("search_path".into(), join_search_path(names));
    }
    Ok(kw)
}

/// Whether `text` starts with `scheme://` (so it is an IRI, not a
/// connection string).
pub(crate) fn looks_like_iri(text: &str) -> bool {
    text.find("://").is_some_and(|i| is_scheme(&text[..i]))
}

fn is_scheme(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

fn scheme(iri: &str) -> Result<(Dialect, usize), ParamsError> {
    let missing =
        || ParamsError::syntax("scheme", 0, "expected pq://, postgresql:// or postgres://");
    let i = iri.find("://").ok_or_else(missing)?;
    let name = &iri[..i];
    if !is_scheme(name) {
        return Err(missing());
    }
    let dialect = match name.to_ascii_lowercase().as_str() {
        "pq" => Dialect::Pq,
        "postgresql" | "postgres" => Dialect::Libpq,
        _ => {
            return Err(ParamsError::UnsupportedScheme {
                scheme: name.to_owned(),
            });
        }
    };
    Ok((dialect, i + 3))
}

/// Percent-decodes one component. `strict` (libpq) rejects a `%` not
/// followed by two hex digits; otherwise it stays literal (py-postgresql).
pub(crate) fn decode(
    raw: &str,
    strict: bool,
    part: impl FnOnce() -> String,
) -> Result<String, ParamsError> {
    let bytes = raw.as_bytes();
    let bad = |reason| ParamsError::Encoding {
        part: part(),
        reason,
    };
    if strict {
        let malformed = bytes.iter().enumerate().any(|(i, &b)| {
            b == b'%'
                && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        });
        if malformed {
            return Err(bad("'%' not followed by two hexadecimal digits"));
        }
    }
    let decoded: Vec<u8> = percent_decode_str(raw).collect();
    if decoded.contains(&0) {
        return Err(bad("contains a NUL byte"));
    }
    String::from_utf8(decoded).map_err(|_| bad("does not decode to UTF-8"))
}

#[derive(Default)]
struct Authority {
    user: Option<String>,
    password: Option<String>,
    hosts: Option<Vec<String>>,
    ports: Option<Vec<Option<u16>>>,
    unix: Option<PathBuf>,
}

impl Authority {
    fn apply(self, kw: &mut Keywords) {
        if let Some(user) = self.user {
            // py-postgresql keeps a user written empty (`pq://:pw@host`, `pq://@host`); only
            // the pq dialect gives one.
            kw.empty_user = user.is_empty();
            kw.user = Some(user);
        }
        kw.password = self.password.map(Password::new).or(kw.password.take());
        kw.host = self.hosts.or(kw.host.take());
        kw.port = self.ports.or(kw.port.take());
        kw.unix = self.unix.or(kw.unix.take());
    }
}

fn parse_authority(netloc: &str, base: usize, d: Dialect) -> Result<Authority, ParamsError> {
    let strict = d == Dialect::Libpq;
    let mut a = Authority::default();
    let mut hostpart = netloc;
    let mut host_at = base;
    if let Some(at) = netloc.find('@') {
        let userinfo = &netloc[..at];
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        // libpq takes an empty user for none; py-postgresql keeps it, empty.
        a.user = Some(decode(user, strict, || "user".into())?).filter(|u| !strict || !u.is_empty());
        if let Some(p) = password {
            a.password = Some(decode(p, strict, || "password".into())?).filter(|p| !p.is_empty());
        }
        hostpart = &netloc[at + 1..];
        host_at = base + at + 1;
    }
    let (mut hosts, mut ports, mut any_port) = (Vec::new(), Vec::new(), false);
    let b = hostpart.as_bytes();
    let mut p = 0;
    let err = |at: usize, reason| ParamsError::syntax("host", host_at + at, reason);
    loop {
        let host;
        if b.get(p) == Some(&b'[') {
            let close = hostpart[p..].find(']').map(|i| p + i);
            let close = close.ok_or_else(|| err(p, "'[' without a matching ']'"))?;
            let inner = &hostpart[p + 1..close];
            if inner.is_empty() {
                return Err(err(p, "empty IPv6 address in '[]'"));
            }
            p = close + 1;
            if !matches!(b.get(p), None | Some(b':' | b',')) {
                return Err(err(p, "expected ':' or ',' after ']'"));
            }
            match inner.strip_prefix("unix:").filter(|_| d == Dialect::Pq) {
                // py-postgresql's older spelling: `[unix:var:run:sock]`.
                Some(path) => {
                    a.unix = Some(decode(&path.replace(':', "/"), false, || "host".into())?.into());
                    host = String::new();
                }
                None => host = decode(inner, strict, || "host".into())?,
            }
        } else {
            let end = hostpart[p..]
                .find([':', ','])
                .map_or(hostpart.len(), |i| p + i);
            host = decode(&hostpart[p..end], strict, || "host".into())?;
            p = end;
        }
        let mut port = None;
        if b.get(p) == Some(&b':') {
            let end = hostpart[p + 1..]
                .find(',')
                .map_or(hostpart.len(), |i| p + 1 + i);
            let text = decode(&hostpart[p + 1..end], strict, || "port".into())?;
            any_port |= !text.is_empty();
            port = parse_port("port", &text)?;
            p = end;
        }
        hosts.push(host);
        ports.push(port);
        if b.get(p) != Some(&b',') {
            break;
        }
        p += 1;
    }
    if hosts.len() > 1 || any_port {
        a.ports = Some(ports);
    }
    if hosts.len() > 1 || hosts.first().is_some_and(|h| !h.is_empty()) {
        a.hosts = Some(hosts);
    }
    Ok(a)
}

fn database(raw: &str, at: usize, d: Dialect) -> Result<Option<String>, ParamsError> {
    let first = match d {
        Dialect::Libpq => raw,
        Dialect::Pq => {
            let mut segments = raw.split('/');
            let first = segments.next().unwrap_or_default();
            if segments.any(|s| !s.is_empty()) {
                let reason = "more than one path segment (write '/' in a database name as %2F)";
                return Err(ParamsError::syntax("path", at, reason));
            }
            first
        }
    };
    let name = decode(first, d == Dialect::Libpq, || "database".into())?;
    Ok(Some(name).filter(|n| !n.is_empty()))
}

fn libpq_query(kw: &mut Keywords, query: &str, at: usize) -> Result<(), ParamsError> {
    let mut offset = at;
    let mut rest = query;
    while !rest.is_empty() {
        let (pair, next) = rest.split_once('&').unwrap_or((rest, ""));
        let Some((key, value)) = pair.split_once('=') else {
            return Err(ParamsError::syntax(
                "query",
                offset,
                "parameter without '='",
            ));
        };
        if value.contains('=') {
            return Err(ParamsError::syntax(
                "query",
                offset,
                "parameter with a second '='",
            ));
        }
        let key = decode(key, true, || "query key".into())?;
        let value = decode(value, true, || format!("value of {key}"))?;
        let (key, value) = if key == "ssl" && value == "true" {
            ("sslmode".to_owned(), "require".to_owned())
        } else {
            (key, value)
        };
        kw.set(&key, &value)?;
        offset += pair.len() + 1;
        rest = next;
    }
    Ok(())
}

fn pq_query(kw: &mut Keywords, query: &str, at: usize) -> Result<(), ParamsError> {
    let mut offset = at;
    for pair in query.split('&') {
        if !pair.is_empty() {
            let Some((raw_key, value)) = pair.split_once('=') else {
                return Err(ParamsError::syntax(
                    "query",
                    offset,
                    "parameter without '='",
                ));
            };
            let bracketed =
                raw_key.len() >= 2 && raw_key.starts_with('[') && raw_key.ends_with(']');
            if bracketed {
                let key = decode(&raw_key[1..raw_key.len() - 1], false, || "query key".into())?;
                let value = decode(value, false, || format!("value of [{key}]"))?;
                match key.as_str() {
                    "unix" => {
                        kw.unix = Some(PathBuf::from(value)).filter(|p| !p.as_os_str().is_empty())
                    }
                    "database" => kw.dbname = Some(value),
                    "settings" => {}
                    _ => {
                        let key = match super::py_postgresql::libpq_name(&key) {
                            Some(libpq) => libpq.to_owned(),
                            None => key,
                        };
                        if !kw.set_known(&key, &value)? {
                            if is_tls_name(&key)
                                && !super::py_postgresql::INERT_TLS.contains(&key.as_str())
                            {
                                return Err(ParamsError::UnknownTlsParameter { keyword: key });
                            }
                            kw.extra.insert(key, value);
                        }
                    }
                }
            } else {
                let key = decode(raw_key, false, || "query key".into())?;
                let value = decode(value, false, || format!("value of {key}"))?;
                if !key.is_empty() {
                    kw.set_setting(key, value);
                }
            }
        }
        offset += pair.len() + 1;
    }
    Ok(())
}

/// Whether a parameter name is a TLS one (`ssl…`, in any case), which must not be ignored.
pub(crate) fn is_tls_name(key: &str) -> bool {
    key.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("ssl"))
}
