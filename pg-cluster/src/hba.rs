//! Client authentication rules: `pg_hba.conf`.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ClusterError;

/// The connection type a `pg_hba.conf` rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionType {
    /// Unix-domain socket connections.
    Local,
    /// TCP/IP connections, with or without TLS.
    Host,
    /// TCP/IP connections using TLS only.
    HostSsl,
    /// TCP/IP connections not using TLS only.
    HostNoSsl,
}

impl ConnectionType {
    /// The keyword in the file.
    pub fn keyword(self) -> &'static str {
        match self {
            ConnectionType::Local => "local",
            ConnectionType::Host => "host",
            ConnectionType::HostSsl => "hostssl",
            ConnectionType::HostNoSsl => "hostnossl",
        }
    }
}

/// One `pg_hba.conf` rule.
///
/// ```
/// use pg_cluster::{ConnectionType, HbaRule};
/// let rule = HbaRule::host(ConnectionType::HostSsl, "all", "alice", "127.0.0.1/32", "scram-sha-256");
/// assert_eq!(rule.to_string(), "hostssl\tall\talice\t127.0.0.1/32\tscram-sha-256");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HbaRule {
    /// The connection type.
    pub connection: ConnectionType,
    /// The database(s) matched (`all`, a name, a comma list).
    pub database: String,
    /// The role(s) matched (`all`, a name, `+group`).
    pub user: String,
    /// The client address (CIDR); `None` for `local` rules.
    pub address: Option<String>,
    /// The authentication method (`trust`, `reject`, `password`, `md5`, `scram-sha-256`, …).
    pub method: String,
    /// Options after the method (`clientcert=verify-full`).
    pub options: Vec<String>,
}

impl HbaRule {
    /// A `local` (unix socket) rule.
    pub fn local(database: &str, user: &str, method: &str) -> Self {
        HbaRule {
            connection: ConnectionType::Local,
            database: database.to_owned(),
            user: user.to_owned(),
            address: None,
            method: method.to_owned(),
            options: Vec::new(),
        }
    }

    /// A TCP/IP rule of the given type for a client address in CIDR form.
    pub fn host(
        connection: ConnectionType,
        database: &str,
        user: &str,
        address: &str,
        method: &str,
    ) -> Self {
        HbaRule {
            connection,
            database: database.to_owned(),
            user: user.to_owned(),
            address: Some(address.to_owned()),
            method: method.to_owned(),
            options: Vec::new(),
        }
    }

    /// Adds an authentication option (`name=value`).
    pub fn option(mut self, option: &str) -> Self {
        self.options.push(option.to_owned());
        self
    }
}

impl fmt::Display for HbaRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\t{}\t{}",
            self.connection.keyword(),
            self.database,
            self.user
        )?;
        if let Some(address) = &self.address {
            write!(f, "\t{address}")?;
        }
        write!(f, "\t{}", self.method)?;
        for option in &self.options {
            write!(f, "\t{option}")?;
        }
        Ok(())
    }
}

/// A `pg_hba.conf` file. Rules are matched first to last, so [`HbaFile::prepend`] adds
/// rules that win over the existing ones and [`HbaFile::append`] rules that only apply
/// when none of them matches. The server reads the file at start and on reload.
#[derive(Debug, Clone)]
pub struct HbaFile {
    path: PathBuf,
}

impl HbaFile {
    /// The file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        HbaFile { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn text(&self) -> Result<String, ClusterError> {
        fs::read_to_string(&self.path).map_err(|e| ClusterError::io_path("read", &self.path, e))
    }

    fn write(&self, text: &str) -> Result<(), ClusterError> {
        fs::write(&self.path, text).map_err(|e| ClusterError::io_path("write", &self.path, e))
    }

    /// The rule lines, trimmed, without comments and blank lines.
    pub fn rules(&self) -> Result<Vec<String>, ClusterError> {
        Ok(self
            .text()?
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Inserts lines (rules, or any text such as comments) before the first rule.
    pub fn prepend<L: fmt::Display>(
        &self,
        lines: impl IntoIterator<Item = L>,
    ) -> Result<(), ClusterError> {
        let text = self.text()?;
        let mut out = String::with_capacity(text.len() + 256);
        let mut inserted = false;
        let new_lines: String = lines.into_iter().map(|l| format!("{l}\n")).collect();
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim();
            if !inserted && !trimmed.is_empty() && !trimmed.starts_with('#') {
                out.push_str(&new_lines);
                inserted = true;
            }
            out.push_str(line);
        }
        if !inserted {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&new_lines);
        }
        self.write(&out)
    }

    /// Adds lines at the end of the file.
    pub fn append<L: fmt::Display>(
        &self,
        lines: impl IntoIterator<Item = L>,
    ) -> Result<(), ClusterError> {
        let mut text = self.text()?;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in lines {
            text.push_str(&format!("{line}\n"));
        }
        self.write(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rules() {
        assert_eq!(
            HbaRule::local("all", "all", "trust").to_string(),
            "local\tall\tall\ttrust"
        );
        let rule = HbaRule::host(ConnectionType::HostNoSsl, "db", "bob", "::1/128", "reject")
            .option("foo=bar");
        assert_eq!(
            rule.to_string(),
            "hostnossl\tdb\tbob\t::1/128\treject\tfoo=bar"
        );
    }

    #[test]
    fn prepends_after_the_header_and_appends_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pg_hba.conf");
        fs::write(&path, "# header\n\n# TYPE DATABASE\nlocal all all trust # tail\nhost all all 127.0.0.1/32 trust").unwrap();
        let hba = HbaFile::new(&path);
        hba.prepend([HbaRule::local("all", "alice", "reject")])
            .unwrap();
        hba.append(["# appended", "host all bob ::1/128 md5"])
            .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(
                "# header\n\n# TYPE DATABASE\nlocal\tall\talice\treject\nlocal all all trust"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("127.0.0.1/32 trust\n# appended\nhost all bob ::1/128 md5\n"),
            "{text}"
        );
        assert_eq!(
            hba.rules().unwrap(),
            [
                "local\tall\talice\treject",
                "local all all trust",
                "host all all 127.0.0.1/32 trust",
                "host all bob ::1/128 md5"
            ]
        );
    }

    #[test]
    fn prepends_into_a_file_without_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pg_hba.conf");
        fs::write(&path, "# only comments").unwrap();
        HbaFile::new(&path)
            .prepend(["local all all trust"])
            .unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# only comments\nlocal all all trust\n"
        );
    }
}
