//! Context layers: what an error was doing when it happened, and password hiding.

use std::fmt;

/// One layer of context an error picked up on its way out: the statement it ran, the
/// connection it ran on, the connector that made the connection, ….
///
/// A layer marked secret is kept for the program (see [`text`](Context::text)) but never
/// shown: reports and `Debug` output leave its text out.
#[derive(Clone, PartialEq, Eq)]
pub struct Context {
    label: String,
    text: String,
    secret: bool,
}

impl Context {
    /// The label of the statement layer; reports draw the error position under its text.
    pub const STATEMENT: &'static str = "STATEMENT";
    /// The label of the layer describing the connection.
    pub const CONNECTION: &'static str = "CONNECTION";
    /// The label of the layer describing the connector (an IRI, its password hidden).
    pub const CONNECTOR: &'static str = "CONNECTOR";

    /// A layer shown in reports.
    pub fn new(label: impl Into<String>, text: impl Into<String>) -> Context {
        Context {
            label: label.into(),
            text: text.into(),
            secret: false,
        }
    }

    /// A layer never shown in reports or `Debug` output.
    pub fn secret(label: impl Into<String>, text: impl Into<String>) -> Context {
        Context {
            secret: true,
            ..Context::new(label, text)
        }
    }

    /// A [`CONNECTOR`](Context::CONNECTOR) layer for a connection IRI or conninfo string,
    /// with any password replaced by `***` (see [`obscure_password`]).
    pub fn connector(iri: &str) -> Context {
        Context::new(Context::CONNECTOR, obscure_password(iri))
    }

    /// The label, such as `"STATEMENT"`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The text of the layer (also for a secret layer: the program may need it).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the layer is secret.
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: &dyn fmt::Debug = if self.secret { &"<secret>" } else { &self.text };
        f.debug_struct("Context")
            .field("label", &self.label)
            .field("text", text)
            .field("secret", &self.secret)
            .finish()
    }
}

const MASK: &str = "***";

/// The connection keywords whose values are secrets, never shown: libpq's `password`, the
/// client key's `sslpassword`, and the credentials `oauth_client_secret`, `scram_client_key`
/// and `scram_server_key` (which authenticate as well as a password does).
pub const SECRET_KEYWORDS: &[&str] = &[
    "password",
    "sslpassword",
    "oauth_client_secret",
    "scram_client_key",
    "scram_server_key",
];

/// Whether `key` (a keyword, or a `pq://` driver parameter in brackets) names a secret.
fn is_password_key(key: &str) -> bool {
    let key = key.trim().trim_start_matches('[').trim_end_matches(']');
    SECRET_KEYWORDS.iter().any(|k| key.eq_ignore_ascii_case(k))
}

/// Hides the passwords of a connection string, for messages and logs.
///
/// An IRI (`pq://user:secret@host/db`, `postgresql://…`) gets `***` in place of the
/// password of its user information and of any query parameter named in [`SECRET_KEYWORDS`]
/// (`password`, `sslpassword`, …); a libpq conninfo string (`host=db password='se cret'`)
/// gets `***` in place of the value of those keywords. Anything else is returned unchanged.
///
/// ```
/// use pg_exceptions::obscure_password;
///
/// assert_eq!(
///     obscure_password("pq://alice:s3cret@db.example:5432/app?sslmode=require"),
///     "pq://alice:***@db.example:5432/app?sslmode=require"
/// );
/// assert_eq!(
///     obscure_password("host=db user=alice password='s3 cret'"),
///     "host=db user=alice password=***"
/// );
/// ```
pub fn obscure_password(connection: &str) -> String {
    match connection.find("://") {
        Some(at) => obscure_iri(connection, at + 3),
        None => obscure_conninfo(connection),
    }
}

fn obscure_iri(iri: &str, authority_start: usize) -> String {
    let mut out = String::with_capacity(iri.len());
    let (scheme, rest) = iri.split_at(authority_start);
    out.push_str(scheme);
    // The last '@' ends the user information, so that a careless password holding '/', '?',
    // '#' or '@' is hidden whole; an '@' further on only makes the mask cover more.
    let rest = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..=colon]);
                    out.push_str(MASK);
                }
                None => out.push_str(userinfo),
            }
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    let (rest, fragment) = rest.split_at(rest.find('#').unwrap_or(rest.len()));
    let (path, query) = rest.split_at(rest.find('?').unwrap_or(rest.len()));
    out.push_str(path);
    if let Some(parameters) = query.strip_prefix('?') {
        out.push('?');
        for (index, pair) in parameters.split('&').enumerate() {
            if index > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) if is_password_key(&percent_decode(key)) => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(MASK);
                }
                _ => out.push_str(pair),
            }
        }
    }
    out.push_str(fragment);
    out
}

/// Decodes `%XX` escapes well enough to recognise a parameter name.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%')
            .then(|| bytes.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Masks the password values of a libpq `keyword = value` string.
fn obscure_conninfo(conninfo: &str) -> String {
    let chars: Vec<(usize, char)> = conninfo.char_indices().collect();
    let mut masked: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    let skip_space = |mut at: usize| {
        while chars.get(at).is_some_and(|(_, c)| c.is_whitespace()) {
            at += 1;
        }
        at
    };
    let offset = |at: usize| chars.get(at).map_or(conninfo.len(), |(offset, _)| *offset);
    loop {
        at = skip_space(at);
        if at >= chars.len() {
            break;
        }
        let key_start = at;
        while chars
            .get(at)
            .is_some_and(|(_, c)| *c != '=' && !c.is_whitespace())
        {
            at += 1;
        }
        let key = &conninfo[offset(key_start)..offset(at)];
        at = skip_space(at);
        if chars.get(at).is_none_or(|(_, c)| *c != '=') {
            // Not a conninfo string after all; leave the rest as it is.
            break;
        }
        at = skip_space(at + 1);
        let value_start = at;
        if chars.get(at).is_some_and(|(_, c)| *c == '\'') {
            at += 1;
            while let Some((_, c)) = chars.get(at) {
                at += 1;
                match c {
                    '\\' => at += 1,
                    '\'' => break,
                    _ => {}
                }
            }
        } else {
            while let Some((_, c)) = chars.get(at) {
                if c.is_whitespace() {
                    break;
                }
                at += if *c == '\\' { 2 } else { 1 };
            }
        }
        at = at.min(chars.len());
        if is_password_key(key) {
            masked.push((offset(value_start), offset(at)));
        }
    }
    let mut out = String::with_capacity(conninfo.len());
    let mut copied = 0;
    for (start, end) in masked {
        out.push_str(&conninfo[copied..start]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&conninfo[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iri_user_information() {
        assert_eq!(
            obscure_password("postgresql://bob:pw@localhost/db"),
            "postgresql://bob:***@localhost/db"
        );
        assert_eq!(
            obscure_password("pq://bob@localhost/db"),
            "pq://bob@localhost/db"
        );
        assert_eq!(
            obscure_password("pq://localhost:5432/db"),
            "pq://localhost:5432/db"
        );
        // A password with unescaped '/' and '@' is still hidden whole.
        assert_eq!(
            obscure_password("pq://bob:p/a@ss@host/db"),
            "pq://bob:***@host/db"
        );
        assert_eq!(obscure_password("pq://bob:@host"), "pq://bob:***@host");
        assert_eq!(obscure_password("pq://bob:p#?w@host"), "pq://bob:***@host");
        assert_eq!(obscure_password("a#b://u:pw@h"), "a#b://u:***@h");
    }

    #[test]
    fn iri_query_parameters() {
        assert_eq!(
            obscure_password("pq://host/db?user=bob&password=pw&sslmode=require#frag"),
            "pq://host/db?user=bob&password=***&sslmode=require#frag"
        );
        assert_eq!(
            obscure_password("pq://host/db?%70assword=pw&[sslpassword]=k"),
            "pq://host/db?%70assword=***&[sslpassword]=***"
        );
        assert_eq!(obscure_password("pq://host/db?flag"), "pq://host/db?flag");
    }

    #[test]
    fn conninfo_values() {
        assert_eq!(
            obscure_password("host=h password = secret port=5432"),
            "host=h password = *** port=5432"
        );
        assert_eq!(
            obscure_password(r"password='it\'s secret' user=u"),
            "password=*** user=u"
        );
        assert_eq!(obscure_password("PASSWORD=x"), "PASSWORD=***");
        assert_eq!(obscure_password("password="), "password=***");
        assert_eq!(obscure_password("password='unterminated"), "password=***");
        assert_eq!(obscure_password("sslpassword=k\\ ey"), "sslpassword=***");
        assert_eq!(
            obscure_password("host=h oauth_client_secret=s scram_client_key=k"),
            "host=h oauth_client_secret=*** scram_client_key=***"
        );
        assert_eq!(obscure_password("just words"), "just words");
        assert_eq!(obscure_password(""), "");
        assert_eq!(
            obscure_password("ключ=значение password=тайна"),
            "ключ=значение password=***"
        );
    }

    #[test]
    fn secret_layers_stay_out_of_debug() {
        let layer = Context::secret("PASSWORD", "hunter2");
        assert!(layer.is_secret());
        assert_eq!(layer.text(), "hunter2");
        let shown = format!("{layer:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<secret>"));
        let plain = Context::new("NOTE", "visible");
        assert_eq!(
            format!("{plain:?}"),
            r#"Context { label: "NOTE", text: "visible", secret: false }"#
        );
        let connector = Context::connector("pq://u:pw@h/d");
        assert_eq!(connector.label(), Context::CONNECTOR);
        assert_eq!(connector.text(), "pq://u:***@h/d");
    }
}
