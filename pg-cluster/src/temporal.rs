//! The throwaway test cluster (py-postgresql's `pg_tmp`).

use std::env;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use crate::certs::TestCertificates;
use crate::cleanup::Instance;
use crate::cluster::Cluster;
use crate::error::ClusterError;
use crate::installation::Installation;
use crate::target;

/// The environment variable naming an existing server for the tests to use instead of a
/// throwaway cluster, as a `pq://` or `postgresql://` IRI.
pub const PGTEST_IRI: &str = "PGTEST_IRI";

static PROCESS: OnceLock<Result<Temporal, ClusterError>> = OnceLock::new();

/// A throwaway PostgreSQL cluster for tests, or an existing server named by `PGTEST_IRI`.
///
/// [`Temporal::get`] gives the process's shared one, made on first use: initdb into a
/// fresh directory under the temporary directory, a `test` superuser with trust
/// authentication, a `test` database, TCP on a free port of 127.0.0.1, the unix socket in
/// the data directory, and settings that trade durability for speed (`fsync`,
/// `synchronous_commit` and `full_page_writes` off). It is removed when the process exits,
/// also after panicking tests or when the process is killed (see [`crate::cleanup`]).
/// [`Temporal::builder`] makes separately configured ones, removed when dropped.
pub struct Temporal {
    pub(crate) instance: Option<Arc<Instance>>,
    pub(crate) owned: bool,
    pub(crate) user: String,
    pub(crate) password: Option<String>,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) database: String,
    pub(crate) iri: String,
    pub(crate) admin_uri: String,
    pub(crate) psql: PathBuf,
    pub(crate) certificates: Option<TestCertificates>,
}

impl Temporal {
    /// The process's shared throwaway cluster, started on first use (or the server named
    /// by `PGTEST_IRI`). A failure is remembered and returned to every later caller.
    pub fn get() -> Result<&'static Temporal, ClusterError> {
        PROCESS
            .get_or_init(|| match env::var(PGTEST_IRI) {
                Ok(iri) if !iri.trim().is_empty() => Temporal::from_iri(iri.trim()),
                _ => Temporal::builder().start(false),
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A builder for a separately configured throwaway cluster (roles, TLS, settings).
    pub fn builder() -> crate::TemporalBuilder {
        crate::TemporalBuilder::new()
    }

    /// Uses an existing server: nothing is started, and [`Temporal::admin_sql`] runs
    /// through `psql` with this IRI (`pq://` is rewritten as `postgresql://`). The server
    /// is checked with `SELECT 1`.
    pub fn from_iri(iri: &str) -> Result<Temporal, ClusterError> {
        let parsed = target::parse(iri)?;
        let psql = Installation::find()
            .ok()
            .and_then(|i| i.psql())
            .or_else(|| {
                env::var_os("PATH")
                    .iter()
                    .flat_map(env::split_paths)
                    .map(|d| d.join("psql"))
                    .find(|p| p.is_file())
            })
            .ok_or_else(|| {
                ClusterError::other(format!("{PGTEST_IRI} is set but psql was not found"))
            })?;
        let user = parsed
            .user
            .or_else(|| env::var("PGUSER").ok())
            .or_else(|| env::var("USER").ok())
            .unwrap_or_else(|| "postgres".into());
        let temporal = Temporal {
            instance: None,
            owned: false,
            database: parsed.database.unwrap_or_else(|| user.clone()),
            user,
            password: parsed.password,
            host: parsed.host.unwrap_or_else(|| "localhost".into()),
            port: parsed.port.unwrap_or(5432),
            iri: iri.to_owned(),
            admin_uri: target::to_postgresql_uri(iri),
            psql,
            certificates: None,
        };
        temporal.admin_sql("SELECT 1")?;
        Ok(temporal)
    }

    /// An IRI for the test database, `pq://test@127.0.0.1:PORT/test` (for `PGTEST_IRI`,
    /// that IRI as given).
    pub fn iri(&self) -> &str {
        &self.iri
    }

    /// The same as a libpq `postgresql://` URI.
    pub fn uri(&self) -> String {
        target::to_postgresql_uri(&self.iri)
    }

    /// The TCP host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port (also part of the unix socket's name).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The unix socket directory (the data directory) of a throwaway cluster.
    pub fn socket_dir(&self) -> Option<&Path> {
        self.cluster().map(Cluster::data_directory)
    }

    /// The superuser's name, `test` for a throwaway cluster.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password from `PGTEST_IRI`, if it has one; throwaway clusters need none.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The database, `test` for a throwaway cluster.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The cluster, `None` when `PGTEST_IRI` names the server.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.instance.as_deref().map(|i| &i.cluster)
    }

    /// The certificates of a cluster built with TLS.
    pub fn certificates(&self) -> Option<&TestCertificates> {
        self.certificates.as_ref()
    }

    /// The CA certificate clients use to verify a TLS cluster (`sslrootcert`).
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.certificates.as_ref().map(|c| c.ca_cert.as_path())
    }

    /// Runs SQL as the superuser in the test database and returns its output: rows one
    /// per line, columns separated by `|`, no headers.
    ///
    /// This is the one place the crate talks SQL. It uses the installation's `psql` (a
    /// real client against the real server) until the project's driver can take over.
    pub fn admin_sql(&self, sql: &str) -> Result<String, ClusterError> {
        self.psql(&self.admin_uri, sql)
    }

    /// Runs SQL through `psql` against `uri`.
    pub(crate) fn psql(&self, uri: &str, sql: &str) -> Result<String, ClusterError> {
        let mut command = Command::new(&self.psql);
        command
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-f",
                "-",
                "-d",
                uri,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.instance.is_some() {
            // The throwaway cluster needs none of the user's connection defaults.
            for (name, _) in env::vars_os() {
                if name.to_string_lossy().starts_with("PG") {
                    command.env_remove(name);
                }
            }
        }
        command.env("PGCONNECT_TIMEOUT", "10");
        let mut child = command
            .spawn()
            .map_err(|e| ClusterError::io_path("run", &self.psql, e))?;
        let input = child.stdin.take();
        let sql = sql.to_owned();
        // Written from a thread so that a large output cannot block a large input.
        let writer = std::thread::spawn(move || input.map(|mut i| i.write_all(sql.as_bytes())));
        let output = child
            .wait_with_output()
            .map_err(|e| ClusterError::io_path("run", &self.psql, e))?;
        let _ = writer.join();
        if !output.status.success() {
            return Err(ClusterError::other(format!(
                "psql failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        while text.ends_with('\n') {
            text.pop();
        }
        Ok(text)
    }
}

impl fmt::Debug for Temporal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Temporal")
            .field("iri", &target::redact(&self.iri))
            .field(
                "data_directory",
                &self.cluster().map(Cluster::data_directory),
            )
            .field("owned", &self.owned)
            .finish_non_exhaustive()
    }
}

/// The process's shared throwaway cluster: [`Temporal::get`].
pub fn temporal() -> Result<&'static Temporal, ClusterError> {
    Temporal::get()
}

impl Drop for Temporal {
    fn drop(&mut self) {
        if let Some(instance) = self.instance.as_ref().filter(|_| self.owned) {
            instance.teardown();
        }
    }
}

/// Quotes an SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal (standard_conforming_strings on, the default).
pub(crate) fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
