//! The throwaway test cluster (py-postgresql's `pg_tmp`).

use std::env;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pg_driver::params::{ConnectParams, Host, Keywords, ParamsError};
use pg_driver::{Connection, Connector, SimpleResult, blocking};

use crate::admin;
use crate::certs::TestCertificates;
use crate::cleanup::Instance;
use crate::cluster::Cluster;
use crate::error::ClusterError;
use crate::target;

/// How long connections to a throwaway cluster or the `PGTEST_IRI` server may take to be
/// established, unless the IRI or the environment says otherwise.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
///
/// Tests connect with the project's driver: [`Temporal::connect`] (async),
/// [`Temporal::connect_blocking`], or [`Temporal::connector`] for more; usually through a
/// [`crate::Sandbox`] of their own. [`Temporal::admin_sql`] runs SQL as the superuser.
pub struct Temporal {
    pub(crate) instance: Option<Arc<Instance>>,
    pub(crate) owned: bool,
    pub(crate) user: String,
    pub(crate) password: Option<String>,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) database: String,
    pub(crate) iri: String,
    pub(crate) connector: Connector,
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

    /// Uses an existing server: nothing is started, and connections (administrative ones
    /// too) are made with this IRI, the `PG*` environment filling what it leaves out
    /// (`PGPASSWORD`, `PGSSLMODE`, …), as libpq would. The server is checked with
    /// `SELECT 1`.
    pub fn from_iri(iri: &str) -> Result<Temporal, ClusterError> {
        let unusable = |e: ParamsError| {
            ClusterError::other(format!("cannot use the IRI {:?}: {e}", target::redact(iri)))
        };
        let mut keywords = Keywords::parse(iri)
            .and_then(Keywords::with_process_env)
            .map_err(unusable)?;
        keywords.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        let params = keywords.build().map_err(unusable)?;
        let (host, port) = match params.hosts().first() {
            Some(Host::Tcp { host, port, .. }) => (host.clone(), *port),
            Some(unix @ Host::Unix { path, .. }) => {
                (path.to_string_lossy().into_owned(), unix.port())
            }
            None => ("localhost".to_owned(), pg_driver::params::DEFAULT_PORT),
        };
        let temporal = Temporal {
            instance: None,
            owned: false,
            user: params.user().to_owned(),
            password: params.password().map(|p| p.expose().to_owned()),
            database: params.database().to_owned(),
            host,
            port,
            iri: iri.to_owned(),
            connector: Connector::new(params),
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

    /// The TCP host (for `PGTEST_IRI`, its first host, which may be a socket directory).
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

    /// A connector for the test database as the superuser: for a throwaway cluster through
    /// its unix socket ([`Cluster::connector`] with user and database `test`), for
    /// `PGTEST_IRI` that IRI with the `PG*` environment. [`Temporal::iri`] names the same
    /// database over TCP.
    pub fn connector(&self) -> Connector {
        self.connector.clone()
    }

    /// The connection parameters of [`Temporal::connector`].
    pub fn params(&self) -> &ConnectParams {
        self.connector.params()
    }

    /// Connects to the test database as the superuser (see [`Temporal::connector`]).
    pub async fn connect(&self) -> Result<Connection, ClusterError> {
        Ok(self.connector.connect().await?)
    }

    /// [`Temporal::connect`] through the driver's blocking facade, which refuses to run
    /// inside an async runtime: use [`Temporal::connect`] there.
    pub fn connect_blocking(&self) -> Result<blocking::Connection, ClusterError> {
        admin::connect_blocking(self.connector())
    }

    /// Runs SQL as the superuser in the test database and returns its rows as text: one
    /// row per line, columns separated by `|`, NULL as the empty string, no headers (as
    /// `psql -tA` prints them).
    ///
    /// The SQL goes through the project's driver as one simple query: several statements
    /// may be given, and they run in one implicit transaction (so statements refusing
    /// transaction blocks, such as `CREATE DATABASE` or `VACUUM`, must be sent alone). A
    /// connection is opened for the call and closed after it, on a thread of its own, so
    /// this works in and outside of async runtimes. An error keeps the server's report.
    pub fn admin_sql(&self, sql: &str) -> Result<String, ClusterError> {
        Ok(admin::rows_as_text(&self.admin_query(sql)?))
    }

    /// [`Temporal::admin_sql`] returning each statement's columns, rows and command tag.
    pub fn admin_query(&self, sql: &str) -> Result<Vec<SimpleResult>, ClusterError> {
        admin::run(self.params().clone(), sql)
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
