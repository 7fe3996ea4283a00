//! The parameters a connection keeps but cannot act on, which it reports as
//! IgnoredClientParameterWarning (`01-CP`) when it connects.
//!
//! [`ConnectParams::extra`] holds libpq keywords without a typed field
//! ([`PASSTHROUGH_KEYWORDS`](super::PASSTHROUGH_KEYWORDS)), unknown bracketed `pq://` driver
//! parameters, and this driver's own statement keywords. The statement keywords are acted
//! on; so are the libpq ones whose value asks for what the driver does anyway (below);
//! everything else is ignored, and said to be.

use super::ConnectParams;

/// Values of passthrough keywords that ask for what the driver does without being told:
/// no GSSAPI encryption, the PostgreSQL-style TLS negotiation, SNI, no TLS compression, a
/// client certificate sent when there is one, TLS 1.2 at least and 1.3 at most (rustls'
/// range), a normal (not replication) session.
const DONE_ANYWAY: &[(&str, &[&str])] = &[
    ("gssencmode", &["disable", "prefer"]),
    ("sslnegotiation", &["postgres"]),
    ("sslsni", &["1"]),
    ("sslcompression", &["0"]),
    ("sslcertmode", &["allow"]),
    ("ssl_min_protocol_version", &["TLSv1.2", ""]),
    ("ssl_max_protocol_version", &["TLSv1.3", ""]),
    ("replication", &["0", "false", "off", "no"]),
];

impl ConnectParams {
    /// The parameters these connection parameters hold but the driver cannot honour
    /// (by name, in order): libpq keywords it does not implement (`sslcrl`, `krbsrvname`,
    /// `tcp_user_timeout`, …, unless their value asks for what the driver does anyway, such as
    /// `gssencmode=disable`) and `pq://` driver parameters it does not know. Connecting
    /// reports each as an IgnoredClientParameterWarning through the message hooks.
    pub fn ignored_parameters(&self) -> Vec<&str> {
        self.extra
            .iter()
            .filter(|(key, value)| {
                let key = key.as_str();
                let acted_on = super::statements::KEYWORDS.contains(&key)
                    || key == super::notifications::KEYWORD
                    || key == super::query_timeout::KEYWORD
                    || super::observe::KEYWORDS.contains(&key)
                    || key == super::ip_version::KEYWORD
                    || key == super::startup::KEYWORD
                    || (key == super::server_encoding::KEYWORD
                        && super::server_encoding::honoured(value));
                let done_anyway = DONE_ANYWAY
                    .iter()
                    .any(|(k, values)| *k == key && values.contains(&value.trim()));
                !acted_on && !done_anyway
            })
            .map(|(key, _)| key.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::params;

    #[test]
    fn what_is_ignored_and_what_is_not() {
        let p = params(
            "pq://h/db?[krbsrvname]=k&[frobnicate]=1&[statement_cache]=off&[gssencmode]=disable\
             &[sslrootcrlfile]=crl.pem&[sslnegotiation]=direct&[replication]=off\
             &[notification_capacity]=5",
        );
        assert_eq!(
            p.ignored_parameters(),
            ["frobnicate", "krbsrvname", "sslcrl", "sslnegotiation"]
        );
        assert!(
            params("host=h sslmode=require sslsni=1")
                .ignored_parameters()
                .is_empty()
        );
        assert_eq!(
            params("host=h gssencmode=require").ignored_parameters(),
            ["gssencmode"]
        );
    }
}
