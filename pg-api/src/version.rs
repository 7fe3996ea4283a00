//! PostgreSQL version strings: `pg_config --version`, `server_version`, `SELECT version()`.

use std::fmt;
use std::str::FromStr;

/// The release state of a PostgreSQL version, ordered from least to most finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReleaseState {
    /// A development snapshot (`17devel`).
    Devel,
    /// An alpha release (`10alpha1`).
    Alpha,
    /// A beta release (`16beta1`).
    Beta,
    /// A release candidate (`17rc1`).
    Rc,
    /// A final release (`15.18`).
    Final,
}

impl ReleaseState {
    fn from_label(label: &str) -> Option<Self> {
        match label.to_ascii_lowercase().as_str() {
            "devel" | "dev" => Some(ReleaseState::Devel),
            "alpha" | "a" => Some(ReleaseState::Alpha),
            "beta" | "b" => Some(ReleaseState::Beta),
            "rc" => Some(ReleaseState::Rc),
            _ => None,
        }
    }

    /// The label PostgreSQL uses in version strings (`devel`, `alpha`, `beta`, `rc`, or `""`).
    pub fn label(self) -> &'static str {
        match self {
            ReleaseState::Devel => "devel",
            ReleaseState::Alpha => "alpha",
            ReleaseState::Beta => "beta",
            ReleaseState::Rc => "rc",
            ReleaseState::Final => "",
        }
    }
}

/// A parsed PostgreSQL version.
///
/// From 10 on a version has two numbers (`15.18` is major 15, minor 18); before that it had
/// three (`9.6.24` is major 9, minor 6, patch 24). Pre-releases carry a state and a serial
/// (`16beta1` is major 16, minor 0, [`ReleaseState::Beta`], serial 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionInfo {
    /// The major version: 15 for 15.18, 9 for 9.6.24.
    pub major: u32,
    /// The minor version: 18 for 15.18, 6 for 9.6.24, 0 for 16beta1.
    pub minor: u32,
    /// The third number of a pre-10 version (24 for 9.6.24), when present.
    pub patch: Option<u32>,
    /// Release state.
    pub state: ReleaseState,
    /// Serial number of a pre-release (1 for 16beta1); 0 for final releases.
    pub serial: u32,
}

/// A version string that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionError {
    input: String,
    reason: &'static str,
}

impl VersionError {
    fn new(input: &str, reason: &'static str) -> Self {
        VersionError {
            input: input.to_owned(),
            reason,
        }
    }

    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot parse PostgreSQL version {:?}: {}",
            self.input, self.reason
        )
    }
}

impl std::error::Error for VersionError {}

/// Largest accepted version component; anything bigger is junk, not a version.
const MAX_COMPONENT: u32 = 99_999;

impl VersionInfo {
    /// Parses a version string.
    ///
    /// Accepts a bare version (`15.18`, `9.6.24`, `16beta1`, `17rc1`, `17devel`), the same
    /// followed by a distributor's note (`15.18 (Debian 15.18-0+deb12u1)`), and a version
    /// prefixed by one product word (`PostgreSQL 15.18 …`, as `pg_config --version` and
    /// `SELECT version()` print it). Anything else is an error, never a panic.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let mut words = text.split_whitespace();
        let first = words
            .next()
            .ok_or_else(|| VersionError::new(text, "empty"))?;
        let token = if first.starts_with(|c: char| c.is_ascii_digit()) {
            first
        } else if first.chars().any(|c| c.is_ascii_digit()) {
            return Err(VersionError::new(text, "does not start with a number"));
        } else {
            // A product name such as "PostgreSQL"; the version must follow it.
            words
                .next()
                .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
                .ok_or_else(|| VersionError::new(text, "no version number after the name"))?
        };
        Self::parse_token(text, token)
    }

    fn parse_token(text: &str, token: &str) -> Result<Self, VersionError> {
        let mut rest = token;
        let mut numbers = Vec::with_capacity(3);
        loop {
            let (number, after) = take_number(text, rest)?;
            numbers.push(number);
            rest = after;
            match rest.strip_prefix('.') {
                Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
                _ => break,
            }
            if numbers.len() == 3 {
                return Err(VersionError::new(text, "more than three numbers"));
            }
        }

        let label_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let (state, serial) = if label_len > 0 {
            let state = ReleaseState::from_label(&rest[..label_len])
                .ok_or_else(|| VersionError::new(text, "unknown release state"))?;
            rest = &rest[label_len..];
            if rest.starts_with(|c: char| c.is_ascii_digit()) {
                let (serial, after) = take_number(text, rest)?;
                rest = after;
                (state, serial)
            } else {
                (state, 0)
            }
        } else {
            (ReleaseState::Final, 0)
        };

        // What follows must be a separator (a Debian revision "-0", a comma in
        // `SELECT version()`), not more of a malformed version.
        if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.') {
            return Err(VersionError::new(
                text,
                "unexpected characters after the version",
            ));
        }

        Ok(VersionInfo {
            major: numbers[0],
            minor: numbers.get(1).copied().unwrap_or(0),
            patch: numbers.get(2).copied(),
            state,
            serial,
        })
    }

    /// The version as libpq's `PQserverVersion` and the `server_version_num` setting give
    /// it: 150018 for 15.18, 90624 for 9.6.24, 160000 for 16beta1.
    pub fn libpq_number(&self) -> u32 {
        let base = self.major.saturating_mul(10_000);
        if self.major >= 10 {
            base.saturating_add(self.minor)
        } else {
            base.saturating_add(self.minor.saturating_mul(100))
                .saturating_add(self.patch.unwrap_or(0))
        }
    }

    /// The version from a libpq-style integer (`server_version_num`); the state is final.
    pub fn from_libpq_number(number: u32) -> Self {
        let major = number / 10_000;
        let (minor, patch) = if major >= 10 {
            (number % 10_000, None)
        } else {
            ((number / 100) % 100, Some(number % 100))
        };
        VersionInfo {
            major,
            minor,
            patch,
            state: ReleaseState::Final,
            serial: 0,
        }
    }
}

/// Reads a decimal number at the start of `s`, returning it and the remaining text.
fn take_number<'a>(text: &str, s: &'a str) -> Result<(u32, &'a str), VersionError> {
    let len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if len == 0 {
        return Err(VersionError::new(text, "expected a number"));
    }
    let number: u32 = s[..len]
        .parse()
        .ok()
        .filter(|n| *n <= MAX_COMPONENT)
        .ok_or_else(|| VersionError::new(text, "number out of range"))?;
    Ok((number, &s[len..]))
}

impl FromStr for VersionInfo {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersionInfo::parse(s)
    }
}

impl fmt::Display for VersionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.major)?;
        let prerelease = self.state != ReleaseState::Final;
        if self.major < 10 || !prerelease || self.minor != 0 {
            write!(f, ".{}", self.minor)?;
        }
        if let Some(patch) = self.patch {
            write!(f, ".{patch}")?;
        }
        if prerelease {
            write!(f, "{}", self.state.label())?;
            if self.serial != 0 {
                write!(f, "{}", self.serial)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReleaseState::*;

    fn v(
        major: u32,
        minor: u32,
        patch: Option<u32>,
        state: ReleaseState,
        serial: u32,
    ) -> VersionInfo {
        VersionInfo {
            major,
            minor,
            patch,
            state,
            serial,
        }
    }

    #[test]
    fn parses_the_table() {
        let table = [
            ("15.18", v(15, 18, None, Final, 0), 150018, "15.18"),
            (
                "15.18 (Debian 15.18-0+deb12u1)",
                v(15, 18, None, Final, 0),
                150018,
                "15.18",
            ),
            (
                "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)",
                v(15, 18, None, Final, 0),
                150018,
                "15.18",
            ),
            (
                "PostgreSQL 15.18 on x86_64-pc-linux-gnu, compiled by gcc",
                v(15, 18, None, Final, 0),
                150018,
                "15.18",
            ),
            ("16beta1", v(16, 0, None, Beta, 1), 160000, "16beta1"),
            ("9.6.24", v(9, 6, Some(24), Final, 0), 90624, "9.6.24"),
            ("17rc1", v(17, 0, None, Rc, 1), 170000, "17rc1"),
            ("17devel", v(17, 0, None, Devel, 0), 170000, "17devel"),
            ("10.5", v(10, 5, None, Final, 0), 100005, "10.5"),
            ("10alpha2", v(10, 0, None, Alpha, 2), 100000, "10alpha2"),
            ("9.6beta3", v(9, 6, None, Beta, 3), 90600, "9.6beta3"),
            ("8.4.22", v(8, 4, Some(22), Final, 0), 80422, "8.4.22"),
            (
                "  14.5 (Homebrew)\n",
                v(14, 5, None, Final, 0),
                140005,
                "14.5",
            ),
            ("16.1-bookworm", v(16, 1, None, Final, 0), 160001, "16.1"),
            ("15.4,", v(15, 4, None, Final, 0), 150004, "15.4"),
        ];
        for (input, expected, number, shown) in table {
            let parsed = VersionInfo::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(parsed, expected, "{input:?}");
            assert_eq!(parsed.libpq_number(), number, "{input:?}");
            assert_eq!(parsed.to_string(), shown, "{input:?}");
        }
    }

    #[test]
    fn rejects_junk() {
        for junk in [
            "",
            "   ",
            "PostgreSQL",
            "abc",
            "abc def",
            "x15.1",
            "15.",
            "15.x",
            "1.2.3.4",
            "15gamma1",
            "99999999999999999999",
            "15.18a.1",
            "PostgreSQL beta",
            "..",
            "-1",
            "\u{00e9}15",
        ] {
            let result = VersionInfo::parse(junk);
            assert!(result.is_err(), "{junk:?} parsed as {result:?}");
        }
        let err = VersionInfo::parse("nope").unwrap_err();
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn libpq_number_round_trips() {
        for number in [150018, 90624, 100005, 80422, 170000] {
            assert_eq!(
                VersionInfo::from_libpq_number(number).libpq_number(),
                number
            );
        }
        assert_eq!(VersionInfo::from_libpq_number(90624).patch, Some(24));
    }

    #[test]
    fn orders_by_release() {
        let a: VersionInfo = "17devel".parse().unwrap();
        let b: VersionInfo = "17beta1".parse().unwrap();
        let c: VersionInfo = "17rc1".parse().unwrap();
        let d: VersionInfo = "17.0".parse().unwrap();
        assert!(a < b && b < c && c < d);
        assert!("9.6.24".parse::<VersionInfo>().unwrap() < "10.1".parse().unwrap());
    }
}
