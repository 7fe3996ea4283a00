//! Configuring and starting throwaway clusters.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use pg_driver::params::Keywords;

use crate::admin;
use crate::certs::write_test_certificates;
use crate::cleanup::{self, DIRECTORY_PREFIX, Instance};
use crate::cluster::{Cluster, StartOptions};
use crate::error::ClusterError;
use crate::initdb::InitOptions;
use crate::installation::Installation;
use crate::privileges::{self, Account};
use crate::role::Role;
use crate::temporal::{CONNECT_TIMEOUT, Temporal};

/// How long a throwaway cluster may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Configures a throwaway cluster of its own, removed when the [`Temporal`] is dropped
/// (and at exit, or by the watchdog, like the shared one). It always starts a cluster,
/// even when `PGTEST_IRI` is set, since it needs to control authentication and TLS.
#[derive(Debug, Clone, Default)]
pub struct TemporalBuilder {
    roles: Vec<Role>,
    ssl: bool,
    settings: Vec<(String, String)>,
    hba: Vec<String>,
    replication: bool,
}

impl TemporalBuilder {
    /// The same configuration as the shared cluster.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a login role with its `pg_hba.conf` rules (placed before the default `trust`
    /// rules, so they decide for this role).
    pub fn role(mut self, role: Role) -> Self {
        self.roles.push(role);
        self
    }

    /// Turns TLS on with freshly generated certificates (see
    /// [`Temporal::certificates`]).
    pub fn ssl(mut self, ssl: bool) -> Self {
        self.ssl = ssl;
        self
    }

    /// Sets a server setting in `postgresql.conf`, after the defaults.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Adds a raw `pg_hba.conf` line before the role rules and default rules.
    pub fn hba_line(mut self, line: impl Into<String>) -> Self {
        self.hba.push(line.into());
        self
    }

    /// Makes the cluster a primary that streaming standbys can be made from
    /// ([`Temporal::standby`]): `wal_level=replica`, `max_wal_senders=10`, WAL kept for
    /// standbys (`wal_keep_size`), `full_page_writes` and `hot_standby` on, and `pg_hba.conf`
    /// `replication` rules trusting the `test` user on the unix socket and 127.0.0.1.
    pub fn replication(mut self, on: bool) -> Self {
        self.replication = on;
        self
    }

    /// Starts the cluster.
    pub fn build(self) -> Result<Temporal, ClusterError> {
        self.start(true)
    }

    pub(crate) fn start(self, owned: bool) -> Result<Temporal, ClusterError> {
        let installation = Installation::find()?;
        cleanup::remove_leftovers();
        let account = Account::for_current_process()?;
        let root = make_root(account.as_ref())?;
        let cluster = match Cluster::new(installation, root.join("data")) {
            Ok(cluster) => cluster.with_account(account),
            Err(e) => {
                let _ = fs::remove_dir_all(&root);
                return Err(e);
            }
        };
        let instance = Instance::register(cluster, root);
        let result = self.configure(&instance).and_then(|(port, certificates)| {
            // Administrative and test connections go through the unix socket, which
            // neither TLS nor the roles' TCP rules concern.
            let superuser = Keywords::new()
                .user("test")
                .connect_timeout(CONNECT_TIMEOUT);
            let maintenance = instance
                .cluster
                .connector(superuser.clone().database("postgres"))?;
            admin::run(maintenance.params().clone(), "CREATE DATABASE test")?;
            let temporal = Temporal {
                instance: Some(instance.clone()),
                owned,
                user: "test".into(),
                password: None,
                host: "127.0.0.1".into(),
                port,
                database: "test".into(),
                iri: format!("pq://test@127.0.0.1:{port}/test"),
                connector: instance.cluster.connector(superuser.database("test"))?,
                certificates,
            };
            for role in &self.roles {
                temporal.admin_sql(&role.create_sql())?;
            }
            Ok(temporal)
        });
        if result.is_err() {
            instance.teardown();
        }
        result
    }

    /// Runs initdb, writes settings, rules and certificates, starts the server; returns
    /// the port.
    fn configure(
        &self,
        instance: &Instance,
    ) -> Result<(u16, Option<crate::TestCertificates>), ClusterError> {
        let cluster = &instance.cluster;
        cluster.init(
            &InitOptions::new()
                .superuser("test")
                .encoding("UTF8")
                .locale("C")
                .auth("trust")
                .no_sync(true),
        )?;
        let data = cluster.data_directory().to_string_lossy().into_owned();
        let mut settings: Vec<(String, String)> = [
            ("listen_addresses", "127.0.0.1"),
            ("unix_socket_directories", data.as_str()),
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            ("max_connections", "150"),
            ("max_prepared_transactions", "10"),
            ("shared_buffers", "32MB"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let certificates = if self.ssl {
            let certs = write_test_certificates(cluster.data_directory(), cluster.account())?;
            for (k, v) in [
                ("ssl", "on"),
                ("ssl_cert_file", "server.crt"),
                ("ssl_key_file", "server.key"),
                ("ssl_ca_file", "ca.crt"),
            ] {
                settings.push((k.into(), v.into()));
            }
            Some(certs)
        } else {
            None
        };
        if self.replication {
            settings.extend(crate::standby::primary_settings(cluster.installation()));
        }
        settings.extend(self.settings.iter().cloned());
        cluster.settings().update(settings)?;
        let mut rules: Vec<String> = Vec::new();
        if self.replication {
            rules.extend(crate::standby::REPLICATION_RULES.map(String::from));
        }
        rules.extend(self.hba.iter().cloned());
        for role in &self.roles {
            rules.extend(role.hba_rules().iter().map(ToString::to_string));
        }
        if !rules.is_empty() {
            cluster.hba().prepend(rules)?;
        }

        let port = start_on_free_port(cluster, &instance.root.join("server.log"))?;
        Ok((port, certificates))
    }
}

/// Starts `cluster` on a free port of 127.0.0.1 (written to its `port` setting), logging to
/// `logfile`, and waits until it accepts connections; returns the port.
pub(crate) fn start_on_free_port(
    cluster: &Cluster,
    logfile: &std::path::Path,
) -> Result<u16, ClusterError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let port = free_port()?;
        cluster.settings().set("port", &port.to_string())?;
        cluster.start(&StartOptions::new().logfile(logfile))?;
        match cluster.wait_until_started(START_TIMEOUT) {
            Ok(()) => return Ok(port),
            // Another process took the port between our probe and the server's bind.
            Err(ClusterError::Startup { log_tail, .. })
                if attempts < 5 && log_tail.contains("already in use") => {}
            Err(e) => return Err(e),
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ClusterError::io("could not find a free port on 127.0.0.1", e))
}

/// Creates a cluster directory of this process (mode 0700) with its owner file. The name
/// has the pid and a random part: a directory named after a dead process with the same
/// pid may still be there, its server running, for [`cleanup::remove_leftovers`] to stop.
pub(crate) fn make_root(account: Option<&Account>) -> Result<PathBuf, ClusterError> {
    let temp = std::env::temp_dir();
    let root = tempfile::Builder::new()
        .prefix(&format!("{DIRECTORY_PREFIX}{}-", std::process::id()))
        .permissions(fs::Permissions::from_mode(0o700))
        .tempdir_in(&temp)
        .map_err(|e| ClusterError::io_path("create a directory in", &temp, e))?
        .keep();
    let written =
        cleanup::write_owner_file(&root).and_then(|()| privileges::give_to(account, &root));
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&root);
        return Err(e);
    }
    Ok(root)
}
