//! Where SQL runs: the server an IRI or the `PG*` environment names, else a throwaway
//! cluster, or one kept in a directory (`--keep DIR`).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use pg_cluster::{Cluster, ClusterError, StartOptions, Temporal};
use pg_driver::Connector;
use pg_driver::params::Keywords;

use crate::Failure;
use crate::cluster;

/// The environment variables that name a server, a database or a user: with none of them
/// set (and no IRI), pgapi starts a throwaway cluster.
pub const SERVER_VARIABLES: [&str; 7] = [
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGSERVICE",
];

/// How long connecting to a cluster pgapi started may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the environment, read through `lookup`, names a server (an empty variable
/// counts as unset, as libpq has it).
pub fn configured_by_environment(lookup: impl Fn(&str) -> Option<String>) -> bool {
    SERVER_VARIABLES
        .iter()
        .any(|name| lookup(name).is_some_and(|value| !value.is_empty()))
}

/// The server SQL runs on.
pub enum Target {
    /// A server named by an IRI or the environment.
    Server(Connector),
    /// A throwaway cluster, removed when this is dropped (and at exit).
    Throwaway(Temporal),
    /// A cluster in a directory of the user's, kept after the run.
    Kept(KeptCluster),
}

/// What the command line says about the server: psql's `-h -p -U -d` and the positional
/// DBNAME (a name, an IRI or a `key=value` string) and USERNAME.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destination {
    /// The database, an IRI or a `key=value` string.
    pub dbname: Option<String>,
    /// The user.
    pub user: Option<String>,
    /// The host or socket directory.
    pub host: Option<String>,
    /// The port.
    pub port: Option<u16>,
}

impl Destination {
    /// Whether anything names a server.
    pub fn given(&self) -> bool {
        self.dbname.is_some() || self.user.is_some() || self.host.is_some() || self.port.is_some()
    }

    /// The connection keywords the destination gives (the environment not yet applied):
    /// DBNAME parsed when it is an IRI or a `key=value` string, else a database name; the
    /// host, port and user over it.
    pub fn keywords(&self) -> Result<Keywords, Failure> {
        let mut keywords = match self.dbname.as_deref() {
            Some(text) if text.contains("://") || text.contains('=') => Keywords::parse(text)
                .map_err(|e| Failure::message(format!("cannot use the IRI: {e}")))?,
            Some(name) => Keywords::new().database(name),
            None => Keywords::new(),
        };
        if let Some(host) = &self.host {
            keywords = keywords.host(host.clone());
        }
        if let Some(port) = self.port {
            keywords = keywords.port(port);
        }
        if let Some(user) = &self.user {
            keywords = keywords.user(user.clone());
        }
        Ok(keywords)
    }
}

impl Target {
    /// Decides where to run: the `destination` (the `PG*` environment filling its gaps),
    /// else the environment when it names a server, else a cluster kept in `keep`, else a
    /// throwaway cluster. What is started is announced on `notes` (standard error).
    pub fn resolve(
        destination: &Destination,
        keep: Option<&Path>,
        notes: &mut impl Write,
    ) -> Result<Target, Failure> {
        let environment = configured_by_environment(|name| std::env::var(name).ok());
        match keep {
            _ if destination.given() => server(destination.keywords()?),
            Some(dir) => Ok(Target::Kept(KeptCluster::open(dir, notes)?)),
            None if environment => server(Keywords::new()),
            None => {
                writeln!(
                    notes,
                    "pgapi: no server configured (no IRI, no PG* environment): \
                     starting a throwaway cluster"
                )?;
                let temporal = Temporal::builder().build()?;
                if let Some(cluster) = temporal.cluster() {
                    writeln!(
                        notes,
                        "pgapi: throwaway cluster in {} ({}), removed at exit",
                        cluster.data_directory().display(),
                        temporal.iri()
                    )?;
                }
                Ok(Target::Throwaway(temporal))
            }
        }
    }

    /// A connector for the target's database. Its sessions show NOTICE messages, as psql's
    /// do, unless the IRI or the environment set `client_min_messages` (the driver on its own
    /// lowers it to WARNING, as py-postgresql does).
    pub fn connector(&self) -> Result<Connector, Failure> {
        let connector = match self {
            Target::Server(connector) => connector.clone(),
            Target::Throwaway(temporal) => temporal.connector(),
            Target::Kept(kept) => kept
                .cluster
                .connector(Keywords::new().connect_timeout(CONNECT_TIMEOUT))?,
        };
        let keywords = connector.params().to_keywords();
        let keywords = match keywords.extra.contains_key("default_client_min_messages") {
            true => keywords,
            false => keywords.default_client_min_messages("notice"),
        };
        let params = keywords
            .build()
            .map_err(|e| Failure::message(format!("cannot connect: {e}")))?;
        Ok(Connector::new(params))
    }

    /// Ends the run: stops a kept cluster's server if this run started it (a throwaway
    /// cluster is removed when dropped).
    pub fn finish(self) -> Result<(), Failure> {
        match self {
            Target::Kept(mut kept) => kept.stop(),
            Target::Server(_) | Target::Throwaway(_) => Ok(()),
        }
    }
}

fn server(keywords: Keywords) -> Result<Target, Failure> {
    let params = keywords
        .resolve()
        .map_err(|e| Failure::message(format!("cannot connect: {e}")))?;
    Ok(Target::Server(Connector::new(params)))
}

/// A cluster kept in a directory across runs.
pub struct KeptCluster {
    cluster: Cluster,
    /// Whether this run started its server (and so stops it).
    started: bool,
}

impl KeptCluster {
    /// Opens the cluster in `dir`, initialising it first when `dir` is not one yet, and
    /// starts its server on a free port unless one already runs it.
    pub fn open(dir: &Path, notes: &mut impl Write) -> Result<KeptCluster, Failure> {
        let cluster = cluster::open(dir)?;
        let shown = cluster.data_directory().display().to_string();
        if !cluster.initialized() {
            cluster::init(&cluster, None)?;
            writeln!(notes, "pgapi: initialised a cluster in {shown}")?;
        }
        if cluster.running() {
            writeln!(notes, "pgapi: using the server already running {shown}")?;
            return Ok(KeptCluster {
                cluster,
                started: false,
            });
        }
        let mut kept = KeptCluster {
            cluster,
            started: false,
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let port = cluster::free_port()?;
            let mut options = StartOptions::new().setting("port", port.to_string());
            for (name, value) in cluster::listen_settings(&kept.cluster) {
                options = options.setting(name, value);
            }
            kept.started = true;
            match cluster::start(&kept.cluster, &options) {
                Ok(()) => break,
                // Another process took the port between the probe and the server's bind.
                Err(ClusterError::Startup { log_tail, .. })
                    if attempts < 5 && log_tail.contains("already in use") => {}
                Err(e) => return Err(e.into()),
            }
        }
        writeln!(
            notes,
            "pgapi: started the cluster in {shown} ({}); it stops at exit, its data stays",
            cluster::iri(&kept.cluster)?
        )?;
        Ok(kept)
    }

    /// Stops the server if this run started it.
    fn stop(&mut self) -> Result<(), Failure> {
        if std::mem::take(&mut self.started) && self.cluster.running() {
            cluster::stop(&self.cluster)?;
        }
        Ok(())
    }
}

impl Drop for KeptCluster {
    fn drop(&mut self) {
        // An early return (an error, a panic) must not leave the server running.
        if let Err(failure) = self.stop() {
            eprintln!("{}", failure.report);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_read_names_iris_and_options() {
        let given = Destination {
            dbname: Some("pq://alice@example.org:5433/shop".into()),
            user: Some("bob".into()),
            ..Destination::default()
        };
        let keywords = given.keywords().unwrap();
        assert_eq!(keywords.user.as_deref(), Some("bob"));
        assert_eq!(keywords.dbname.as_deref(), Some("shop"));
        assert_eq!(keywords.port, Some(vec![Some(5433)]));
        let plain = Destination {
            dbname: Some("shop".into()),
            host: Some("127.0.0.1".into()),
            port: Some(5432),
            ..Destination::default()
        };
        let keywords = plain.keywords().unwrap();
        assert_eq!(keywords.dbname.as_deref(), Some("shop"));
        assert_eq!(keywords.host, Some(vec!["127.0.0.1".to_owned()]));
        assert!(!Destination::default().given());
        let bad = Destination {
            dbname: Some("pq://[oops/db".into()),
            ..Destination::default()
        };
        assert!(bad.keywords().is_err());
    }

    #[test]
    fn environment_names_a_server_only_through_its_variables() {
        assert!(!configured_by_environment(|_| None));
        assert!(!configured_by_environment(|name| {
            (name == "PGHOST").then(String::new)
        }));
        assert!(configured_by_environment(|name| {
            (name == "PGPORT").then(|| "5433".to_owned())
        }));
        assert!(!configured_by_environment(|name| {
            (name == "PGTEST_IRI").then(|| "pq://x".to_owned())
        }));
    }
}
