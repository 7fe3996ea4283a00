//! Setting a [`Keywords`] field from libpq's textual keyword/value form, as
//! connection strings, `postgresql://` queries, `pq://` driver parameters
//! and the environment all do.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    ChannelBindingMode, Keywords, LoadBalanceHosts, ParamsError, Password, RequireAuth, SslMode,
    TargetSessionAttrs,
};

/// libpq keywords this layer accepts but has no typed field for; their values
/// are kept in [`Keywords::extra`]. The driver implements none of them: a
/// connection reports those given as ignored (see
/// [`ConnectParams::ignored_parameters`](super::ConnectParams::ignored_parameters)).
pub const PASSTHROUGH_KEYWORDS: &[&str] = &[
    "authtype",
    "gssdelegation",
    "gssencmode",
    "gsslib",
    "krbsrvname",
    "max_protocol_version",
    "min_protocol_version",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_issuer",
    "oauth_scope",
    "replication",
    "requirepeer",
    "scram_client_key",
    "scram_server_key",
    "service",
    "servicefile",
    "ssl_max_protocol_version",
    "ssl_min_protocol_version",
    "sslcertmode",
    "sslcompression",
    "sslcrl",
    "sslcrldir",
    "sslnegotiation",
    "sslpassword",
    "sslsni",
    "tcp_user_timeout",
    "tty",
];

impl Keywords {
    /// Sets one libpq keyword from its text form (`"port"`, `"5433"`), as a
    /// connection string would. `application_name`, `options` and
    /// `client_encoding` become settings; libpq keywords without a typed
    /// field go to [`extra`](Keywords::extra); anything else is
    /// [`ParamsError::UnknownKeyword`].
    pub fn set(&mut self, keyword: &str, value: &str) -> Result<(), ParamsError> {
        if self.set_known(keyword, value)? {
            Ok(())
        } else {
            Err(ParamsError::UnknownKeyword {
                keyword: keyword.to_owned(),
            })
        }
    }

    /// Like [`Keywords::set`], answering `false` for an unknown keyword.
    pub(crate) fn set_known(&mut self, keyword: &str, value: &str) -> Result<bool, ParamsError> {
        let k = keyword;
        match k {
            "host" => {
                self.host = Some(value.split(',').map(str::to_owned).collect());
                self.unix = None;
            }
            "hostaddr" => {
                let addrs = value.split(',').map(|a| parse_addr(k, a));
                self.hostaddr = Some(addrs.collect::<Result<_, _>>()?);
                self.unix = None;
            }
            "port" => {
                let ports = value.split(',').map(|p| parse_port(k, p));
                self.port = Some(ports.collect::<Result<_, _>>()?);
            }
            "user" => {
                self.user = Some(value.to_owned());
                self.empty_user = false;
            }
            "password" => self.password = Some(Password::new(value)),
            "dbname" => self.dbname = Some(value.to_owned()),
            "application_name" | "options" | "client_encoding" => {
                self.set_setting(k.to_owned(), value.to_owned());
            }
            "fallback_application_name" => self.fallback_application_name = Some(value.to_owned()),
            "sslmode" => {
                self.sslmode = Some(parse_enum(k, value, SslMode::parse, SslMode::EXPECTED)?)
            }
            // libpq's backward-compatible spelling of sslmode.
            "requiressl" => {
                let mode = if value.starts_with('1') {
                    SslMode::Require
                } else {
                    SslMode::Prefer
                };
                self.sslmode = Some(mode);
            }
            "sslrootcert" => self.sslrootcert = Some(PathBuf::from(value)),
            "sslcert" => self.sslcert = Some(PathBuf::from(value)),
            "sslkey" => self.sslkey = Some(PathBuf::from(value)),
            "passfile" => self.passfile = Some(PathBuf::from(value)),
            "channel_binding" => {
                let expected = ChannelBindingMode::EXPECTED;
                self.channel_binding =
                    Some(parse_enum(k, value, ChannelBindingMode::parse, expected)?);
            }
            "require_auth" => self.require_auth = Some(RequireAuth::parse(value)?),
            "target_session_attrs" => {
                let expected = TargetSessionAttrs::EXPECTED;
                let attrs = parse_enum(k, value, TargetSessionAttrs::parse, expected)?;
                self.target_session_attrs = Some(attrs);
            }
            "load_balance_hosts" => {
                let expected = LoadBalanceHosts::EXPECTED;
                let mode = parse_enum(k, value, LoadBalanceHosts::parse, expected)?;
                self.load_balance_hosts = Some(mode);
            }
            // Zero or negative waits indefinitely, as in libpq.
            "connect_timeout" => {
                let secs = parse_int(k, value)?.max(0).unsigned_abs();
                self.connect_timeout = Some(Duration::from_secs(secs.into()));
            }
            "keepalives" => self.keepalives = Some(parse_int(k, value)? != 0),
            "keepalives_idle" => self.keepalives_idle = Some(parse_seconds(k, value)?),
            "keepalives_interval" => self.keepalives_interval = Some(parse_seconds(k, value)?),
            "keepalives_count" => self.keepalives_count = Some(parse_count(k, value)?),
            // This driver's own keywords (transaction poolers), kept with the extras.
            _ if super::statements::KEYWORDS.contains(&k) => {
                super::statements::check(k, value)?;
                self.extra.insert(k.to_owned(), value.to_owned());
            }
            super::notifications::KEYWORD => {
                super::notifications::check(value)?;
                self.extra.insert(k.to_owned(), value.to_owned());
            }
            super::query_timeout::KEYWORD => {
                super::query_timeout::check(value)?;
                self.extra.insert(k.to_owned(), value.to_owned());
            }
            _ if super::observe::KEYWORDS.contains(&k) => {
                super::observe::check(k, value)?;
                self.extra.insert(k.to_owned(), value.to_owned());
            }
            // py-postgresql's keywords this driver acts on.
            super::server_encoding::KEYWORD => {
                super::server_encoding::check(value)?;
                self.extra.insert(k.to_owned(), value.to_owned());
            }
            super::ip_version::KEYWORD => {
                super::ip_version::check(value)?;
                self.extra.insert(k.to_owned(), value.to_owned());
            }
            super::startup::KEYWORD => {
                super::startup::check(value)?;
                self.extra.insert(k.to_owned(), value.to_owned());
            }
            _ if PASSTHROUGH_KEYWORDS.contains(&k) => {
                self.extra.insert(k.to_owned(), value.to_owned());
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn parse_enum<T>(
    keyword: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    expected: &'static str,
) -> Result<T, ParamsError> {
    parse(value).ok_or_else(|| ParamsError::invalid(keyword, value, expected))
}

/// C's `isspace` in the "C" locale, which libpq's integer parsing skips.
pub(crate) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

/// A non-negative number of the driver's own keywords (`notification_capacity`,
/// `query_timeout`), white space around it allowed.
pub(crate) fn parse_number<T: std::str::FromStr>(value: &str) -> Option<T> {
    value.trim_matches(is_c_space).parse().ok()
}

/// Checks a value [`parse_number`] reads; `what` says what the keyword wants.
pub(crate) fn check_number<T: std::str::FromStr>(
    keyword: &str,
    value: &str,
    what: &'static str,
) -> Result<(), ParamsError> {
    match parse_number::<T>(value) {
        Some(_) => Ok(()),
        None => Err(ParamsError::invalid(keyword, value, what)),
    }
}

/// An integer as libpq's `parse_int_param` reads it: optional sign,
/// surrounding white space allowed, must fit in 32 bits.
pub(crate) fn parse_int(keyword: &str, value: &str) -> Result<i32, ParamsError> {
    value
        .trim_matches(is_c_space)
        .parse::<i32>()
        .map_err(|_| ParamsError::invalid(keyword, value, "an integer"))
}

fn parse_count(keyword: &str, value: &str) -> Result<u32, ParamsError> {
    let n = parse_int(keyword, value)?;
    u32::try_from(n).map_err(|_| ParamsError::invalid(keyword, value, "a non-negative integer"))
}

fn parse_seconds(keyword: &str, value: &str) -> Result<Duration, ParamsError> {
    parse_count(keyword, value).map(|s| Duration::from_secs(s.into()))
}

/// One entry of a port list; empty means "the default port".
pub(crate) fn parse_port(keyword: &str, value: &str) -> Result<Option<u16>, ParamsError> {
    if value.is_empty() {
        return Ok(None);
    }
    let expected = "a port number from 1 to 65535";
    let n =
        parse_int(keyword, value).map_err(|_| ParamsError::invalid(keyword, value, expected))?;
    match u16::try_from(n) {
        Ok(port) if port != 0 => Ok(Some(port)),
        _ => Err(ParamsError::invalid(keyword, value, expected)),
    }
}

fn parse_addr(keyword: &str, value: &str) -> Result<Option<IpAddr>, ParamsError> {
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| ParamsError::invalid(keyword, value, "a numeric IPv4 or IPv6 address"))
}
