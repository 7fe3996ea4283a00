//! Writing parameters back as a `pq://` IRI, and `search_path` lists.

use std::borrow::Cow;
use std::path::Path;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::{
    ChannelBindingMode, ConnectParams, DEFAULT_PORT, Host, LoadBalanceHosts, SslMode,
    TargetSessionAttrs,
};

/// Characters escaped everywhere: controls, space, `%`, `#` and characters
/// RFC 3987 never allows raw.
const SPECIAL: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'#');
/// Outside the query `?` and `/` are delimiters too.
const BASE: &AsciiSet = &SPECIAL.add(b'?').add(b'/');
const USERINFO: &AsciiSet = &BASE.add(b':').add(b'@').add(b'[').add(b']');
const HOST: &AsciiSet = &USERINFO.add(b',');
/// Inside `[…]` a `:` is part of the IPv6 literal.
const BRACKETED: &AsciiSet = &BASE.add(b'@').add(b'[').add(b']').add(b',');
const QUERY: &AsciiSet = &SPECIAL.add(b'&').add(b'=').add(b'[').add(b']').add(b'+');
const FRAGMENT: &AsciiSet = &BASE.add(b',');

fn enc<'a>(text: &'a str, set: &'static AsciiSet) -> Cow<'a, str> {
    utf8_percent_encode(text, set).into()
}

fn path_text(path: &Path) -> Cow<'_, str> {
    path.to_string_lossy()
}

impl ConnectParams {
    /// Renders these parameters as a `pq://` IRI: user, password, hosts and
    /// database in the netloc and path, driver parameters that differ from
    /// their defaults as `[name]=value`, settings as `name=value`, and a
    /// trailing `search_path` as the fragment. A single Unix socket is
    /// written as `[unix]=path`; other socket hosts as percent-encoded paths.
    /// With `obscure_password` the password is written as `***`, and so are the values of
    /// secret driver keywords (`[sslpassword]=***`, … :
    /// [`pg_exceptions::SECRET_KEYWORDS`]).
    ///
    /// Parsing the unobscured result and building with the same
    /// [`Defaults`](super::Defaults) gives back equal parameters (for
    /// UTF-8 paths).
    pub fn to_iri(&self, obscure_password: bool) -> String {
        let mut iri = format!("pq://{}", enc(&self.user, USERINFO));
        if let Some(password) = &self.password {
            iri.push(':');
            match obscure_password {
                true => iri.push_str("***"),
                false => iri.push_str(&enc(password.expose(), USERINFO)),
            }
        }
        iri.push('@');
        let port = |iri: &mut String, port: u16| {
            if port != DEFAULT_PORT {
                iri.push_str(&format!(":{port}"));
            }
        };
        let mut driver: Vec<(&str, String)> = Vec::new();
        if let [Host::Unix { path, port: p }] = self.hosts.as_slice() {
            port(&mut iri, *p);
            driver.push(("unix", path_text(path).into_owned()));
        } else {
            for (i, host) in self.hosts.iter().enumerate() {
                if i > 0 {
                    iri.push(',');
                }
                match host {
                    // Brackets hold IPv6 literals; `[unix:…]` would read back as a socket.
                    Host::Tcp { host, .. } if host.contains(':') && !host.starts_with("unix:") => {
                        iri.push_str(&format!("[{}]", enc(host, BRACKETED)));
                    }
                    Host::Tcp { host, .. } => iri.push_str(&enc(host, HOST)),
                    Host::Unix { path, .. } => iri.push_str(&enc(&path_text(path), HOST)),
                }
                port(&mut iri, host.port());
            }
            let addr = |h: &Host| match h {
                Host::Tcp {
                    hostaddr: Some(a), ..
                } => a.to_string(),
                _ => String::new(),
            };
            if self.hosts.iter().any(|h| !addr(h).is_empty()) {
                let addrs: Vec<String> = self.hosts.iter().map(addr).collect();
                driver.push(("hostaddr", addrs.join(",")));
            }
        }
        iri.push('/');
        iri.push_str(&enc(&self.database, BASE));

        let secs = |d: std::time::Duration| d.as_secs().to_string();
        let mut put = |key: &'static str, value: Option<String>| {
            driver.extend(value.map(|v| (key, v)));
        };
        let differs = |v: &str, default: &str| (v != default).then(|| v.to_owned());
        put(
            "sslmode",
            differs(self.ssl_mode.as_str(), SslMode::default().as_str()),
        );
        put(
            "sslrootcert",
            self.ssl_root_cert
                .as_deref()
                .map(|p| path_text(p).into_owned()),
        );
        put(
            "sslcert",
            self.ssl_cert.as_deref().map(|p| path_text(p).into_owned()),
        );
        put(
            "sslkey",
            self.ssl_key.as_deref().map(|p| path_text(p).into_owned()),
        );
        let cb = self.channel_binding.as_str();
        put(
            "channel_binding",
            differs(cb, ChannelBindingMode::default().as_str()),
        );
        put(
            "require_auth",
            (!self.require_auth.is_any()).then(|| self.require_auth.to_string()),
        );
        put("connect_timeout", self.connect_timeout.map(secs));
        put("keepalives", (!self.keepalives).then(|| "0".to_owned()));
        put("keepalives_idle", self.keepalives_idle.map(secs));
        put("keepalives_interval", self.keepalives_interval.map(secs));
        put(
            "keepalives_count",
            self.keepalives_count.map(|n| n.to_string()),
        );
        let tsa = self.target_session_attrs.as_str();
        put(
            "target_session_attrs",
            differs(tsa, TargetSessionAttrs::default().as_str()),
        );
        let lb = self.load_balance_hosts.as_str();
        put(
            "load_balance_hosts",
            differs(lb, LoadBalanceHosts::default().as_str()),
        );
        put(
            "passfile",
            self.passfile.as_deref().map(|p| path_text(p).into_owned()),
        );
        driver.extend(self.extra.iter().map(|(k, v)| {
            let secret = obscure_password && super::masked::is_secret(k);
            (
                k.as_str(),
                if secret { "***".to_owned() } else { v.clone() },
            )
        }));
        driver.sort();

        let mut settings = self.settings.as_slice();
        let mut fragment = None;
        if let Some(((name, value), rest)) = settings.split_last()
            && name == "search_path"
            && let Some(names) = canonical_search_path(value)
        {
            fragment = Some(names);
            settings = rest;
        }
        let mut query = Vec::new();
        for (key, value) in &driver {
            query.push(format!("[{}]={}", enc(key, QUERY), enc(value, QUERY)));
        }
        for (key, value) in settings {
            query.push(format!("{}={}", enc(key, QUERY), enc(value, QUERY)));
        }
        if !query.is_empty() {
            iri.push('?');
            iri.push_str(&query.join("&"));
        }
        if let Some(names) = fragment {
            let names: Vec<Cow<'_, str>> = names.iter().map(|n| enc(n, FRAGMENT)).collect();
            iri.push('#');
            iri.push_str(&names.join(","));
        }
        iri
    }
}

/// Quotes a schema name for `search_path` unless the server would read it
/// back unchanged unquoted (lower-case ASCII letters, digits, `_`, `$`).
pub(crate) fn quote_ident(name: &str) -> Cow<'_, str> {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    match plain {
        true => Cow::Borrowed(name),
        false => Cow::Owned(format!("\"{}\"", name.replace('"', "\"\""))),
    }
}

/// Joins schema names into a `search_path` value, quoting as needed.
pub(crate) fn join_search_path<I: IntoIterator<Item = S>, S: AsRef<str>>(names: I) -> String {
    let quoted: Vec<String> = names
        .into_iter()
        .map(|n| quote_ident(n.as_ref()).into_owned())
        .collect();
    quoted.join(",")
}

/// Splits a `search_path` value into names as the server reads it
/// (unquoted names folded to lower case); `None` when malformed.
pub(crate) fn split_search_path(value: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut name = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next()? {
                    '"' if chars.next_if_eq(&'"').is_some() => name.push('"'),
                    '"' => break,
                    c => name.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|&c| c != ',' && !c.is_whitespace()) {
                name.push(c.to_ascii_lowercase());
            }
            if name.is_empty() {
                return None;
            }
        }
        names.push(name);
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            None => return Some(names),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

/// The names of a `search_path` value that the fragment form reproduces
/// exactly, or `None` when the value must be written as a plain setting.
fn canonical_search_path(value: &str) -> Option<Vec<String>> {
    let names = split_search_path(value)?;
    let exact = join_search_path(&names) == value;
    (exact && names != [""]).then_some(names)
}
