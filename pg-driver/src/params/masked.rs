//! `Debug` for the parameter types that can hold secrets: the password is a [`Password`]
//! (`***`), and the values of secret driver keywords kept in `extra` (`sslpassword`,
//! `oauth_client_secret`, … : [`pg_exceptions::SECRET_KEYWORDS`]) print as `***` too.
//!
//! [`Password`]: super::Password

use std::collections::BTreeMap;
use std::fmt;

use super::{ConnectParams, Keywords};

/// Whether a keyword of `extra` holds a secret.
pub(crate) fn is_secret(keyword: &str) -> bool {
    pg_exceptions::SECRET_KEYWORDS
        .iter()
        .any(|k| keyword.eq_ignore_ascii_case(k))
}

/// `extra` with the values of secret keywords masked.
struct Extra<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for Extra<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked = self
            .0
            .iter()
            .map(|(k, v)| (k, if is_secret(k) { "***" } else { v.as_str() }));
        f.debug_map().entries(masked).finish()
    }
}

impl fmt::Debug for Keywords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keywords")
            .field("host", &self.host)
            .field("hostaddr", &self.hostaddr)
            .field("unix", &self.unix)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("dbname", &self.dbname)
            .field("settings", &self.settings)
            .field("fallback_application_name", &self.fallback_application_name)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("sslcert", &self.sslcert)
            .field("sslkey", &self.sslkey)
            .field("channel_binding", &self.channel_binding)
            .field("require_auth", &self.require_auth)
            .field("connect_timeout", &self.connect_timeout)
            .field("keepalives", &self.keepalives)
            .field("keepalives_idle", &self.keepalives_idle)
            .field("keepalives_interval", &self.keepalives_interval)
            .field("keepalives_count", &self.keepalives_count)
            .field("target_session_attrs", &self.target_session_attrs)
            .field("load_balance_hosts", &self.load_balance_hosts)
            .field("passfile", &self.passfile)
            .field("extra", &Extra(&self.extra))
            .finish()
    }
}

impl fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectParams")
            .field("hosts", &self.hosts)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("settings", &self.settings)
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .field("ssl_cert", &self.ssl_cert)
            .field("ssl_key", &self.ssl_key)
            .field("channel_binding", &self.channel_binding)
            .field("require_auth", &self.require_auth)
            .field("connect_timeout", &self.connect_timeout)
            .field("keepalives", &self.keepalives)
            .field("keepalives_idle", &self.keepalives_idle)
            .field("keepalives_interval", &self.keepalives_interval)
            .field("keepalives_count", &self.keepalives_count)
            .field("target_session_attrs", &self.target_session_attrs)
            .field("load_balance_hosts", &self.load_balance_hosts)
            .field("passfile", &self.passfile)
            .field("extra", &Extra(&self.extra))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::params;
    use super::*;

    #[test]
    fn secret_extras_are_masked() {
        let text = "host=h password=Pw1x sslpassword=K3yx oauth_client_secret=S3cx sslcrl=/c";
        let keywords = Keywords::parse(text).unwrap();
        let params = params(text);
        for shown in [
            format!("{keywords:?}"),
            format!("{params:#?}"),
            params.to_iri(true),
        ] {
            for secret in ["Pw1x", "K3yx", "S3cx"] {
                assert!(!shown.contains(secret), "{shown}");
            }
            assert!(shown.contains("/c"), "{shown}");
        }
        let written = params.to_iri(false);
        assert!(written.contains("[sslpassword]=K3yx"), "{written}");
    }
}
