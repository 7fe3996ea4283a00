//! Where sessions come from: URIs (`queries.uri`), `PGSQL_<NAME>` environment variables
//! (`sprockets.clients.postgresql`), and the pool id a URI gives.
//!
//! URIs are read by the driver ([`pg_driver::params::Keywords::parse`]), whose
//! `postgresql://` rules are libpq's, which are the rules `queries` means to follow: every
//! component is percent-decoded, a host that decodes to a path (`%2Fvar%2Frun%2Fpostgresql`)
//! is a unix socket directory, query keys (`?host=…`, `?sslmode=…`) override the netloc, a
//! repeated key's last value wins, an unknown key is an error, and libpq's `PG*` environment
//! fills what the URI leaves out. (`queries` passed a repeated key's values on as a list and
//! kept user names percent-encoded; both are fixed here.)

use md5::{Digest, Md5};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use pg_driver::params::Keywords;
use pg_exceptions::Error;

use crate::error::SessionError;

/// `queries`' default URI.
pub const DEFAULT_URI: &str = "postgresql://localhost:5432";

/// Everything but RFC 3986's unreserved characters is escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The pool id `queries` computes for a session of class `kind` on `uri`: the MD5 of
/// `"<kind>:<uri>"` in lower-case hex.
///
/// ```
/// assert_eq!(
///     pg_session::pool_id("Session", "postgresql://foo:bar@localhost:5432/foo"),
///     "2362f2fe6683cef02d39b3a0e604653b"
/// );
/// ```
pub fn pool_id(kind: &str, uri: &str) -> String {
    let digest = Md5::digest(format!("{kind}:{uri}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `postgresql://` URI from its parts, as `queries.uri` builds it, with user, password,
/// database and a socket-directory host percent-encoded (`queries` pasted them in as given,
/// so a `@` or `/` in a password broke the URI). A host starting with `/` is a unix socket
/// directory; an IPv6 address is bracketed; `port` `None` leaves the port out.
///
/// ```
/// assert_eq!(
///     pg_session::uri("localhost", Some(5432), "postgres", "postgres", None),
///     "postgresql://postgres@localhost:5432/postgres"
/// );
/// assert_eq!(
///     pg_session::uri("/var/run/postgresql", None, "db", "me", Some("p@ss/word")),
///     "postgresql://me:p%40ss%2Fword@%2Fvar%2Frun%2Fpostgresql/db"
/// );
/// ```
pub fn uri(
    host: &str,
    port: Option<u16>,
    dbname: &str,
    user: &str,
    password: Option<&str>,
) -> String {
    let encode = |text: &str| utf8_percent_encode(text, COMPONENT).to_string();
    let mut host = if host.starts_with('/') {
        encode(host)
    } else if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    if let Some(port) = port {
        host = format!("{host}:{port}");
    }
    let userinfo = match password {
        Some(password) if !password.is_empty() => {
            format!("{}:{}", encode(user), encode(password))
        }
        _ => encode(user),
    };
    format!("postgresql://{userinfo}@{host}/{}", encode(dbname))
}

/// The name of the environment variable holding the URI for `name`: `PGSQL_<NAME>`
/// upper-cased, or `PGSQL` for the empty name.
pub fn env_variable(name: &str) -> String {
    if name.is_empty() {
        "PGSQL".to_owned()
    } else {
        format!("PGSQL_{name}").to_uppercase()
    }
}

/// The URI for the database `name`, as `sprockets.clients.postgresql` finds it: `db_url`
/// when given, else the environment variable [`env_variable`] names; a variable that is not
/// set (or not Unicode) is a [`SessionError::MissingVariable`].
pub fn env_uri(name: &str, db_url: Option<&str>) -> Result<String, Error> {
    if let Some(url) = db_url {
        return Ok(url.to_owned());
    }
    let variable = env_variable(name);
    std::env::var(&variable).map_err(|_| SessionError::MissingVariable { name: variable }.into())
}

/// The driver's connector for a session URI (or `pq://` IRI, or `key=value` string), with
/// libpq's environment filling what it leaves out.
pub(crate) fn connector(uri: &str) -> Result<pg_driver::Connector, Error> {
    let params = Keywords::parse(uri)
        .and_then(Keywords::with_process_env)
        .map(keep_notices)
        .and_then(Keywords::build)
        .map_err(Error::from)?;
    Ok(pg_driver::Connector::new(params))
}

/// A session's connections keep NOTICE (`client_min_messages=notice`) unless its URI or the
/// environment says otherwise: `notices` is part of a session's contract, where the driver on
/// its own lowers the level to WARNING as py-postgresql does. It is the driver's default
/// level, not a setting, so a pooler that refuses it as a startup parameter is connected to
/// without it (and the session keeps the server's level).
pub(crate) fn keep_notices(keywords: Keywords) -> Keywords {
    match keywords.extra.contains_key("default_client_min_messages") {
        true => keywords,
        false => keywords.default_client_min_messages("notice"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pg_driver::params::Host;

    #[test]
    fn pool_ids_are_queries_md5() {
        let uri = "postgresql://foo:bar@localhost:5432/foo";
        assert_eq!(pool_id("Session", uri), "2362f2fe6683cef02d39b3a0e604653b");
        // hashlib.md5(b"TornadoSession:" + uri).hexdigest(), as queries computes it.
        assert_eq!(
            pool_id("TornadoSession", uri),
            "4ec91d727b49a0cc9c3ec928fdc71d64"
        );
    }

    #[test]
    fn builds_uris_queries_can_read_back() {
        assert_eq!(
            uri("localhost", Some(5432), "postgres", "postgres", None),
            "postgresql://postgres@localhost:5432/postgres"
        );
        assert_eq!(
            uri("::1", Some(6432), "d b", "ü", Some("")),
            "postgresql://%C3%BC@[::1]:6432/d%20b"
        );
        let built = uri(
            "/tmp/pg sock",
            Some(5433),
            "my/db",
            "us:er",
            Some("p@ss:w/rd?#"),
        );
        let params = Keywords::parse(&built).unwrap().build().unwrap();
        assert_eq!(params.user(), "us:er");
        assert_eq!(params.password().unwrap().expose(), "p@ss:w/rd?#");
        assert_eq!(params.database(), "my/db");
        assert_eq!(params.hosts(), [Host::unix("/tmp/pg sock", 5433)]);
    }

    #[test]
    fn reads_uris_by_queries_rules() {
        let read = |uri: &str| Keywords::parse(uri).unwrap().build().unwrap();
        // A percent-encoded path as host is a socket directory.
        let p = read("postgresql://u@%2Fvar%2Frun%2Fpostgresql:5433/db");
        assert_eq!(p.hosts(), [Host::unix("/var/run/postgresql", 5433)]);
        // `?host=` overrides the netloc; user and password are decoded.
        let p = read("postgresql://a%40b:p%3Aw@localhost/db?host=%2Ftmp");
        assert_eq!(p.hosts(), [Host::unix("/tmp", 5432)]);
        assert_eq!((p.user(), p.password().unwrap().expose()), ("a@b", "p:w"));
        // A repeated key: the last value wins, as in libpq.
        let p = read("postgresql://h/db?connect_timeout=5&connect_timeout=7");
        assert_eq!(
            p.to_keywords().connect_timeout,
            Some(std::time::Duration::from_secs(7))
        );
    }

    #[test]
    fn names_environment_variables_as_sprockets_does() {
        assert_eq!(env_variable("foo"), "PGSQL_FOO");
        assert_eq!(env_variable("my-db"), "PGSQL_MY-DB");
        assert_eq!(env_variable(""), "PGSQL");
        assert_eq!(
            env_uri("anything", Some("postgresql://x/y")).unwrap(),
            "postgresql://x/y"
        );
    }
}
