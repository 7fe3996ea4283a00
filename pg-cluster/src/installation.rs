//! A PostgreSQL installation, described by its `pg_config`.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::error::ClusterError;
use pg_api::VersionInfo;

/// The environment variable naming the `pg_config` executable to use.
pub const PGINSTALLATION: &str = "PGINSTALLATION";

/// A PostgreSQL installation: the `pg_config` report and the programs in its `bindir`.
///
/// `pg_config` is run once, when the installation is made; the value is then a cheap
/// `Clone` handle.
#[derive(Debug, Clone)]
pub struct Installation {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pg_config_path: PathBuf,
    pg_config: IndexMap<String, String>,
    version: String,
    version_info: VersionInfo,
}

impl Installation {
    /// Finds the default installation: the `pg_config` named by the `PGINSTALLATION`
    /// environment variable, else the first `pg_config` on `PATH`.
    pub fn find() -> Result<Self, ClusterError> {
        Self::from_pg_config(Self::default_pg_config()?)
    }

    /// py-postgresql's `installation.default()`: the same as [`Installation::find`]. It returns
    /// a `Result` (a machine may have no PostgreSQL), so it cannot be the `Default` trait.
    #[allow(clippy::should_implement_trait)]
    pub fn default() -> Result<Self, ClusterError> {
        Self::find()
    }

    /// The path [`Installation::find`] would use.
    pub fn default_pg_config() -> Result<PathBuf, ClusterError> {
        if let Some(path) = env::var_os(PGINSTALLATION).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            if path.is_file() {
                return Ok(path);
            }
            return Err(ClusterError::other(format!(
                "{PGINSTALLATION} names {}, which is not a file",
                path.display()
            )));
        }
        env::var_os("PATH")
            .iter()
            .flat_map(env::split_paths)
            .map(|dir| dir.join("pg_config"))
            .find(|candidate| candidate.is_file())
            .ok_or_else(|| {
                ClusterError::other(
                    "could not find pg_config on PATH; set the PGINSTALLATION environment \
                     variable to the path of a pg_config executable",
                )
            })
    }

    /// The installation described by the given `pg_config` executable.
    pub fn from_pg_config(path: impl AsRef<Path>) -> Result<Self, ClusterError> {
        let path = path.as_ref();
        let output = Command::new(path)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| ClusterError::io_path("run", path, e))?;
        if !output.status.success() {
            return Err(ClusterError::other(format!(
                "{} failed ({}): {}",
                path.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Self::from_pg_config_output(path, &String::from_utf8_lossy(&output.stdout))
    }

    /// The installation described by text in the form `pg_config` prints, as if printed by
    /// the executable at `path`. Fails when there is no parseable `VERSION` line.
    pub fn from_pg_config_output(
        path: impl Into<PathBuf>,
        output: &str,
    ) -> Result<Self, ClusterError> {
        let pg_config = parse_pg_config(output);
        let version = lookup(&pg_config, "VERSION")
            .ok_or_else(|| ClusterError::other("pg_config reported no VERSION"))?
            .to_owned();
        let version_info = VersionInfo::parse(&version)?;
        Ok(Installation {
            inner: Arc::new(Inner {
                pg_config_path: path.into(),
                pg_config,
                version,
                version_info,
            }),
        })
    }

    /// The path of the `pg_config` executable.
    pub fn pg_config_path(&self) -> &Path {
        &self.inner.pg_config_path
    }

    /// Every `KEY = value` pair `pg_config` reported, keys as printed (`BINDIR`, `VERSION`).
    pub fn pg_config(&self) -> &IndexMap<String, String> {
        &self.inner.pg_config
    }

    /// One `pg_config` value; the key is matched without regard to case.
    pub fn get(&self, key: &str) -> Option<&str> {
        lookup(&self.inner.pg_config, key)
    }

    /// The version string, such as `PostgreSQL 15.18 (Debian 15.18-0+deb12u1)`.
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// The product this is, py-postgresql's `type`: the first word of the version string
    /// (`PostgreSQL`; a derived product may name itself otherwise).
    pub fn product_type(&self) -> &str {
        self.inner
            .version
            .split_whitespace()
            .next()
            .unwrap_or_default()
    }

    /// The parsed version.
    pub fn version_info(&self) -> VersionInfo {
        self.inner.version_info
    }

    /// The directory holding the programs (`BINDIR`).
    pub fn bindir(&self) -> Option<PathBuf> {
        self.get("BINDIR").map(PathBuf::from)
    }

    /// The directory holding shared data such as the sample configuration (`SHAREDIR`).
    pub fn sharedir(&self) -> Option<PathBuf> {
        self.get("SHAREDIR").map(PathBuf::from)
    }

    /// The directory holding the server's loadable modules (`PKGLIBDIR`).
    pub fn pkglibdir(&self) -> Option<PathBuf> {
        self.get("PKGLIBDIR").map(PathBuf::from)
    }

    /// The path of a program in `bindir`, if it exists there.
    pub fn program(&self, name: impl AsRef<OsStr>) -> Option<PathBuf> {
        let path = self.bindir()?.join(name.as_ref());
        path.is_file().then_some(path)
    }

    /// The path of `initdb`.
    pub fn initdb(&self) -> Option<PathBuf> {
        self.program("initdb")
    }

    /// The path of the server, `postgres`.
    pub fn postgres(&self) -> Option<PathBuf> {
        self.program("postgres")
    }

    /// The path of `pg_ctl`.
    pub fn pg_ctl(&self) -> Option<PathBuf> {
        self.program("pg_ctl")
    }

    /// The path of `pg_basebackup`.
    pub fn pg_basebackup(&self) -> Option<PathBuf> {
        self.program("pg_basebackup")
    }

    /// The path of `psql`.
    pub fn psql(&self) -> Option<PathBuf> {
        self.program("psql")
    }

    /// The options `configure` was run with, one string each (`--with-openssl`,
    /// `CFLAGS=-g -O2`).
    pub fn configure_options(&self) -> Vec<String> {
        self.get("CONFIGURE")
            .map(split_configure)
            .unwrap_or_default()
    }

    /// Whether the server was built with SSL support (`--with-openssl` or `--with-ssl=…`).
    pub fn ssl(&self) -> bool {
        self.configure_options()
            .iter()
            .any(|o| o == "--with-openssl" || o.starts_with("--with-ssl="))
    }
}

fn lookup<'a>(map: &'a IndexMap<String, String>, key: &str) -> Option<&'a str> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Parses `pg_config`'s report: one `KEY = value` per line; other lines are skipped.
pub fn parse_pg_config(output: &str) -> IndexMap<String, String> {
    output
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .filter(|(key, _)| !key.is_empty())
        .collect()
}

/// Splits the `CONFIGURE` value: single-quoted items separated by spaces, or bare words
/// when the build did not quote them.
fn split_configure(text: &str) -> Vec<String> {
    let text = text.trim();
    if !text.starts_with('\'') {
        return text.split_whitespace().map(str::to_owned).collect();
    }
    text.split('\'')
        .enumerate()
        // Odd pieces are inside quotes.
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, item)| item.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "BINDIR = /usr/lib/postgresql/15/bin\n\
        SHAREDIR = /usr/share/postgresql/15\n\
        CONFIGURE =  '--build=x86_64-linux-gnu' '--with-openssl' '--with-extra-version= (Debian 15.18-0+deb12u1)' 'CFLAGS=-g -O2'\n\
        LDFLAGS_EX = \n\
        junk line without separator\n\
        VERSION = PostgreSQL 15.18 (Debian 15.18-0+deb12u1)\n";

    #[test]
    fn parses_a_report() {
        let inst = Installation::from_pg_config_output("/x/pg_config", SAMPLE).unwrap();
        assert_eq!(inst.version(), "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)");
        assert_eq!(inst.product_type(), "PostgreSQL");
        assert_eq!(inst.version_info().major, 15);
        assert_eq!(inst.version_info().libpq_number(), 150018);
        assert_eq!(inst.get("bindir"), Some("/usr/lib/postgresql/15/bin"));
        assert_eq!(inst.get("LDFLAGS_EX"), Some(""));
        assert_eq!(inst.pg_config().len(), 5);
        assert_eq!(
            inst.configure_options(),
            [
                "--build=x86_64-linux-gnu",
                "--with-openssl",
                "--with-extra-version= (Debian 15.18-0+deb12u1)",
                "CFLAGS=-g -O2"
            ]
        );
        assert!(inst.ssl());
    }

    #[test]
    fn ssl_detection() {
        let plain = "VERSION = PostgreSQL 16.2\nCONFIGURE = '--prefix=/opt' '--without-openssl'\n";
        assert!(
            !Installation::from_pg_config_output("p", plain)
                .unwrap()
                .ssl()
        );
        let new_style = "VERSION = PostgreSQL 16.2\nCONFIGURE = --with-ssl=openssl\n";
        assert!(
            Installation::from_pg_config_output("p", new_style)
                .unwrap()
                .ssl()
        );
    }

    #[test]
    fn needs_a_version() {
        assert!(Installation::from_pg_config_output("p", "BINDIR = /x\n").is_err());
        assert!(Installation::from_pg_config_output("p", "VERSION = garbage\n").is_err());
    }

    #[test]
    fn missing_executable_is_an_error() {
        let err = Installation::from_pg_config("/nonexistent/pg_config").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/pg_config"), "{err}");
    }
}
