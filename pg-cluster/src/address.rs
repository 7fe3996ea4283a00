//! Where a cluster's server listens, and connecting to it.

use std::path::PathBuf;

use pg_driver::params::Keywords;
use pg_driver::{Connection, Connector};

use crate::cluster::Cluster;
use crate::error::ClusterError;

/// Where a cluster listens, from `postmaster.pid` while it runs, else from its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// A TCP host to connect to, `None` when TCP is off (`listen_addresses = ''`).
    pub host: Option<String>,
    /// The port (also part of the unix socket's name).
    pub port: u16,
    /// The unix socket directory, when known.
    pub socket_directory: Option<PathBuf>,
}

impl Cluster {
    /// Where the server listens: `postmaster.pid`'s port, socket directory and address
    /// while it runs, else `port`, `unix_socket_directories` and `listen_addresses` from
    /// the last start's overrides and `postgresql.conf`.
    pub fn address(&self) -> Result<Address, ClusterError> {
        if let Some(pm) = self.postmaster_pid()?.filter(|pm| pm.port.is_some()) {
            let from_file = self.address_from_settings()?;
            return Ok(Address {
                host: match pm.listen_address.as_deref() {
                    Some("*") => Some("localhost".into()),
                    Some(addr) => Some(addr.into()),
                    None => None,
                },
                port: pm.port.unwrap_or(from_file.port),
                socket_directory: pm.socket_directory.or(from_file.socket_directory),
            });
        }
        self.address_from_settings()
    }

    /// A connector for the running cluster (py-postgresql's `cluster.connector(**kw)`):
    /// through the unix socket directory and port of [`Cluster::address`] (TCP to its
    /// host when there is no socket), as [`Cluster::superuser`], to the `postgres`
    /// database. `overrides` win over all of these and add anything else (a password,
    /// settings, `sslmode`, …); pass `Keywords::new()` for none. The `PG*` environment is
    /// not consulted.
    ///
    /// ```no_run
    /// # fn example(cluster: &pg_cluster::Cluster) -> Result<(), pg_cluster::ClusterError> {
    /// use pg_driver::params::Keywords;
    /// let connector = cluster.connector(Keywords::new().database("template1"))?;
    /// let db = pg_driver::blocking::Connector::from(connector).connect()?;
    /// # Ok(()) }
    /// ```
    pub fn connector(&self, overrides: Keywords) -> Result<Connector, ClusterError> {
        let address = self.address()?;
        let base = Keywords::new().user(self.superuser()).database("postgres");
        let base = match (address.socket_directory, address.host) {
            (Some(directory), _) => base.unix(directory),
            (None, Some(host)) => base.host(host),
            (None, None) => base,
        };
        let params = base
            .port(address.port)
            .merge(overrides)
            .build()
            .map_err(pg_exceptions::Error::from)?;
        Ok(Connector::new(params))
    }

    /// Connects to the running cluster (py-postgresql's `cluster.connection(**kw)`); see
    /// [`Cluster::connector`].
    pub async fn connect(&self, overrides: Keywords) -> Result<Connection, ClusterError> {
        Ok(self.connector(overrides)?.connect().await?)
    }

    fn address_from_settings(&self) -> Result<Address, ClusterError> {
        let mut settings = self.settings().read()?;
        for (name, value) in &self.last_start_options().settings {
            settings.insert(name.to_ascii_lowercase(), value.clone());
        }
        let first = |key: &str| {
            settings
                .get(key)
                .and_then(|v| v.split(',').map(str::trim).find(|s| !s.is_empty()))
                .map(str::to_owned)
        };
        let host = match settings.get("listen_addresses") {
            None => Some("localhost".to_owned()),
            Some(list) => {
                let addrs: Vec<&str> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                ["localhost", "*", "127.0.0.1", "::1"]
                    .iter()
                    .find(|pref| addrs.contains(pref))
                    .map(|pref| if *pref == "*" { "localhost" } else { pref }.to_owned())
                    .or_else(|| addrs.first().map(|a| (*a).to_owned()))
            }
        };
        let port = match first("port") {
            Some(p) => p.parse().map_err(|_| {
                ClusterError::other(format!("the port setting {p:?} is not a port"))
            })?,
            None => 5432,
        };
        Ok(Address {
            host,
            port,
            socket_directory: first("unix_socket_directories")
                .map(|d| self.data_directory().join(d)),
        })
    }
}

/// Whether the server's socket accepts a connection (a pre-10 readiness fallback). The
/// unix socket, when there is one, decides: it is what [`Cluster::connector`] uses, and
/// the server opens it after its TCP sockets.
pub(crate) fn accepts(address: &Address) -> bool {
    if let Some(dir) = &address.socket_directory {
        let socket = dir.join(format!(".s.PGSQL.{}", address.port));
        return std::os::unix::net::UnixStream::connect(socket).is_ok();
    }
    address
        .host
        .as_deref()
        .is_some_and(|host| std::net::TcpStream::connect((host, address.port)).is_ok())
}
