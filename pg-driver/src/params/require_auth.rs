//! `require_auth` (libpq 16): which authentication methods the client accepts from the server.
//!
//! A comma-separated list of `password`, `md5`, `gss`, `sspi`, `scram-sha-256` and `none`.
//! Without `!` the list names what the server may use (and `none` allows it to skip
//! authentication); with `!` on every item it names what the server may not use (and `!none`
//! requires it to authenticate the client somehow). Negated and plain items cannot be mixed,
//! and a method may appear once. Names are case-sensitive and white space around an item is
//! ignored, as in libpq; an empty value means no requirement.
//!
//! The connection fails when the server asks for a method the list does not allow (before
//! the client answers it), and when the server accepts the client without a completed
//! exchange while the list does not allow `none` (`require_auth=scram-sha-256` and a server
//! that says AuthenticationOk at once). A SCRAM exchange counts only once the server's
//! signature was verified.

use std::fmt;

use super::ParamsError;

/// One method `require_auth` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthRequirement {
    /// `password`: a cleartext password.
    Password,
    /// `md5`: an MD5-hashed password.
    Md5,
    /// `gss`: GSSAPI (this driver does not implement it).
    Gss,
    /// `sspi`: SSPI (this driver does not implement it).
    Sspi,
    /// `scram-sha-256`: SCRAM-SHA-256, with or without channel binding.
    ScramSha256,
    /// `none`: no authentication exchange at all (trust, or a client certificate alone).
    None,
}

impl AuthRequirement {
    /// Every method, in libpq's documentation order.
    pub const ALL: &'static [AuthRequirement] = &[
        Self::Password,
        Self::Md5,
        Self::Gss,
        Self::Sspi,
        Self::ScramSha256,
        Self::None,
    ];

    /// libpq's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Md5 => "md5",
            Self::Gss => "gss",
            Self::Sspi => "sspi",
            Self::ScramSha256 => "scram-sha-256",
            Self::None => "none",
        }
    }

    /// Reads libpq's spelling (case-sensitive, as libpq).
    pub fn parse(text: &str) -> Option<AuthRequirement> {
        Self::ALL.iter().copied().find(|m| m.as_str() == text)
    }
}

impl fmt::Display for AuthRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of `require_auth` (libpq 16): the authentication methods the server may use.
///
/// Without `!` the list names what the server may use (`none` lets it skip authentication);
/// with `!` on every item, what it may not (`!none` requires it to authenticate the client).
/// The connection fails when the server asks for a method the list does not allow (before
/// the client answers), or accepts the client without a completed exchange (a password
/// sent, or a SCRAM server signature verified) while the list does not allow `none`.
///
/// ```
/// # use pg_driver::params::{AuthRequirement, RequireAuth};
/// let list = RequireAuth::parse("scram-sha-256, none")?;
/// assert!(list.allows(AuthRequirement::ScramSha256));
/// assert!(!list.allows(AuthRequirement::Md5));
/// assert!(list.allows(AuthRequirement::None));
/// assert_eq!(list.to_string(), "scram-sha-256,none");
/// let not = RequireAuth::parse("!password,!none")?;
/// assert!(not.allows(AuthRequirement::Md5) && !not.allows(AuthRequirement::None));
/// assert!(RequireAuth::parse("md5,!password").is_err());
/// # Ok::<(), pg_driver::params::ParamsError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct RequireAuth {
    negated: bool,
    methods: Vec<AuthRequirement>,
}

const EXPECTED: &str = "a comma-separated list of password, md5, gss, sspi, scram-sha-256 and none";

impl RequireAuth {
    /// No requirement: the server may use any method, or none (the default).
    pub fn any() -> RequireAuth {
        RequireAuth::default()
    }

    /// Reads libpq's text form. Unknown methods, an empty item, plain and negated items
    /// mixed, and a method given twice are errors.
    pub fn parse(text: &str) -> Result<RequireAuth, ParamsError> {
        let invalid = |expected| ParamsError::invalid("require_auth", text, expected);
        if text.trim_matches(super::apply::is_c_space).is_empty() {
            return Ok(RequireAuth::any());
        }
        let mut list = RequireAuth::default();
        for (i, item) in text.split(',').enumerate() {
            let item = item.trim_matches(super::apply::is_c_space);
            let (negated, name) = match item.strip_prefix('!') {
                Some(name) => (true, name),
                None => (false, item),
            };
            if i == 0 {
                list.negated = negated;
            } else if negated != list.negated {
                return Err(invalid(
                    "methods either all negated with '!' or none negated",
                ));
            }
            let method = AuthRequirement::parse(name).ok_or_else(|| invalid(EXPECTED))?;
            if list.methods.contains(&method) {
                return Err(invalid("each method at most once"));
            }
            list.methods.push(method);
        }
        Ok(list)
    }

    /// A list of the methods the server may use (`none` among them lets it skip
    /// authentication). An empty list is [`RequireAuth::any`]; a method given twice counts once.
    pub fn only(methods: impl IntoIterator<Item = AuthRequirement>) -> RequireAuth {
        RequireAuth::listed(false, methods)
    }

    /// A negated list: the methods the server may not use (`none` among them requires it
    /// to authenticate the client). An empty list is [`RequireAuth::any`].
    pub fn except(methods: impl IntoIterator<Item = AuthRequirement>) -> RequireAuth {
        RequireAuth::listed(true, methods)
    }

    fn listed(negated: bool, methods: impl IntoIterator<Item = AuthRequirement>) -> RequireAuth {
        let mut list = RequireAuth {
            negated,
            methods: Vec::new(),
        };
        for method in methods {
            if !list.methods.contains(&method) {
                list.methods.push(method);
            }
        }
        list.negated &= !list.methods.is_empty();
        list
    }

    /// Whether there is no requirement (nothing listed).
    pub fn is_any(&self) -> bool {
        self.methods.is_empty()
    }

    /// Whether the list is negated (`!md5,!password`).
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// The methods listed, in the order given.
    pub fn methods(&self) -> &[AuthRequirement] {
        &self.methods
    }

    /// Whether the server may use `method`; for [`AuthRequirement::None`], whether it may
    /// accept the client without a completed authentication exchange.
    pub fn allows(&self, method: AuthRequirement) -> bool {
        self.is_any() || self.methods.contains(&method) != self.negated
    }

    /// Whether the server may ask for a method this list has no name for (Kerberos V5, SCM
    /// credentials): only a negated list (or none) lets it, as libpq.
    pub(crate) fn allows_unnamed(&self) -> bool {
        self.is_any() || self.negated
    }
}

impl fmt::Display for RequireAuth {
    /// libpq's text form, items in the order given (`!md5,!password`); empty for
    /// [`RequireAuth::any`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, method) in self.methods.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            let bang = if self.negated { "!" } else { "" };
            write!(f, "{comma}{bang}{method}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RequireAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RequireAuth")
            .field(&self.to_string())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::AuthRequirement::*;
    use super::*;

    #[test]
    fn lists_read_as_libpq_reads_them() {
        let list = RequireAuth::parse(" md5 ,scram-sha-256").unwrap();
        assert_eq!(list.methods(), [Md5, ScramSha256]);
        assert!(!list.is_negated());
        assert!(list.allows(Md5) && list.allows(ScramSha256));
        assert!(!list.allows(Password) && !list.allows(None) && !list.allows(Gss));
        assert!(!list.allows_unnamed());
        let not = RequireAuth::parse("!md5,!none").unwrap();
        assert!(not.is_negated() && not.allows_unnamed());
        assert!(!not.allows(Md5) && !not.allows(None));
        assert!(not.allows(Password) && not.allows(ScramSha256) && not.allows(Sspi));
        assert_eq!(not.to_string(), "!md5,!none");
        assert_eq!(format!("{not:?}"), "RequireAuth(\"!md5,!none\")");
        for text in ["", "  "] {
            let any = RequireAuth::parse(text).unwrap();
            assert!(any.is_any());
            assert!(AuthRequirement::ALL.iter().all(|&m| any.allows(m)));
        }
        for &m in AuthRequirement::ALL {
            assert_eq!(AuthRequirement::parse(m.as_str()), Some(m));
            assert!(RequireAuth::parse(m.as_str()).unwrap().allows(m));
        }
    }

    #[test]
    fn bad_lists_are_refused_with_the_reason() {
        for (text, reason) in [
            ("md5,!password", "negated"),
            ("!md5,password", "negated"),
            ("md5,md5", "at most once"),
            ("!none,!none", "at most once"),
            ("scram-sha-256,none,scram-sha-256", "at most once"),
            ("MD5", "comma-separated list"),
            ("md5,", "comma-separated list"),
            ("!", "comma-separated list"),
            ("creds", "comma-separated list"),
            ("scram-sha-256-plus", "comma-separated list"),
            ("!!md5", "comma-separated list"),
        ] {
            let e = RequireAuth::parse(text).expect_err(text);
            let shown = e.to_string();
            assert!(
                shown.contains("require_auth") && shown.contains(reason),
                "{text}: {shown}"
            );
        }
    }

    #[test]
    fn built_lists_match_parsed_ones() {
        assert_eq!(
            RequireAuth::only([ScramSha256, None, ScramSha256]),
            RequireAuth::parse("scram-sha-256,none").unwrap()
        );
        assert_eq!(
            RequireAuth::except([Password]),
            RequireAuth::parse("!password").unwrap()
        );
        assert_eq!(RequireAuth::except([]), RequireAuth::any());
    }
}
