//! py-postgresql's `ipv`: connect over IPv4 only (`4`) or IPv6 only (`6`).
//!
//! py-postgresql's host connector resolves a host name for that address family only; here
//! a name's addresses of the other family are skipped (and a `hostaddr` of the other family
//! is no address at all), so a host without an address of that version fails to connect.
//! Unix sockets are not affected.

use super::{ConnectParams, Keywords, ParamsError};

/// The keyword this module reads.
pub(crate) const KEYWORD: &str = "ipv";

/// An IP version a connection keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4 only (`ipv=4`).
    V4,
    /// IPv6 only (`ipv=6`).
    V6,
}

impl IpVersion {
    fn parse(value: &str) -> Option<IpVersion> {
        match value.trim() {
            "4" => Some(Self::V4),
            "6" => Some(Self::V6),
            _ => None,
        }
    }

    /// Whether `addr` is of this version.
    pub fn admits(self, addr: &std::net::SocketAddr) -> bool {
        match self {
            Self::V4 => addr.is_ipv4(),
            Self::V6 => addr.is_ipv6(),
        }
    }

    fn number(self) -> u8 {
        match self {
            Self::V4 => 4,
            Self::V6 => 6,
        }
    }
}

impl std::fmt::Display for IpVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IPv{}", self.number())
    }
}

/// Checks a value of [`KEYWORD`].
pub(crate) fn check(value: &str) -> Result<(), ParamsError> {
    IpVersion::parse(value)
        .map(drop)
        .ok_or_else(|| ParamsError::invalid(KEYWORD, value, "4 or 6"))
}

impl Keywords {
    /// Sets py-postgresql's `ipv`: connect over this IP version only.
    pub fn ip_version(mut self, version: IpVersion) -> Self {
        self.extra
            .insert(KEYWORD.into(), version.number().to_string());
        self
    }
}

impl ConnectParams {
    /// The IP version TCP connections keep to (py-postgresql's `ipv`), if any.
    pub fn ip_version(&self) -> Option<IpVersion> {
        self.extra.get(KEYWORD).and_then(|v| IpVersion::parse(v))
    }
}
