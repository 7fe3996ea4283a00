//! The enumerated driver parameters: their libpq spellings and defaults.

use std::fmt;

macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        $name:ident, default $default:ident, expected $expected:literal,
        { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in libpq's documentation order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// What a parse error says would have been accepted.
            pub(crate) const EXPECTED: &'static str = $expected;

            /// The libpq spelling of the value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// Reads the libpq spelling, ignoring ASCII case.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(text))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::$default
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum! {
    /// Whether and how to negotiate TLS (`sslmode`); libpq's default is `prefer`.
    SslMode, default Prefer,
    expected "disable, allow, prefer, require, verify-ca or verify-full",
    {
        /// Never use TLS.
        Disable = "disable",
        /// Try without TLS first; use TLS if the server insists.
        Allow = "allow",
        /// Try TLS first; fall back to plain text if the server refuses.
        Prefer = "prefer",
        /// Use TLS, without verifying the server's certificate.
        Require = "require",
        /// Use TLS and verify the certificate chain against `sslrootcert`.
        VerifyCa = "verify-ca",
        /// Like `verify-ca`, and check the host name against the certificate.
        VerifyFull = "verify-full",
    }
}

keyword_enum! {
    /// SCRAM channel binding (`channel_binding`); default `prefer`.
    ChannelBindingMode, default Prefer,
    expected "disable, prefer or require",
    {
        /// Never use channel binding.
        Disable = "disable",
        /// Use it when TLS and the server support it.
        Prefer = "prefer",
        /// Fail unless the authentication uses channel binding.
        Require = "require",
    }
}

keyword_enum! {
    /// Which kind of server a multi-host connection accepts
    /// (`target_session_attrs`); default `any`.
    TargetSessionAttrs, default Any,
    expected "any, read-write, read-only, primary, standby or prefer-standby",
    {
        /// Any server will do.
        Any = "any",
        /// A server that accepts writes by default.
        ReadWrite = "read-write",
        /// A server whose sessions are read-only by default.
        ReadOnly = "read-only",
        /// A server not in hot-standby mode.
        Primary = "primary",
        /// A server in hot-standby mode.
        Standby = "standby",
        /// A standby if there is one, otherwise any server.
        PreferStandby = "prefer-standby",
    }
}

keyword_enum! {
    /// The order in which hosts are tried (`load_balance_hosts`); default `disable`.
    LoadBalanceHosts, default Disable,
    expected "disable or random",
    {
        /// Hosts (and their addresses) are tried in the order given.
        Disable = "disable",
        /// Hosts and addresses are shuffled before trying.
        Random = "random",
    }
}
