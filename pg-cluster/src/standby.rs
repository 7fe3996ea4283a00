//! Streaming standbys and promotion: [`Cluster::base_backup`] (`pg_basebackup -R`),
//! [`Cluster::promote`] (`pg_ctl promote`), the waits for streaming and for promotion, and
//! [`Temporal::standby`], a throwaway standby of a throwaway primary.

use std::fs;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use pg_driver::params::Keywords;

use crate::admin;
use crate::builder::{make_root, start_on_free_port};
use crate::cleanup::Instance;
use crate::cluster::Cluster;
use crate::error::ClusterError;
use crate::installation::Installation;
use crate::temporal::{CONNECT_TIMEOUT, Temporal};

/// How long a new standby may take to start streaming, or a promotion to finish.
pub const STANDBY_TIMEOUT: Duration = Duration::from_secs(60);

const POLL: Duration = Duration::from_millis(100);

/// The `pg_hba.conf` rules [`crate::TemporalBuilder::replication`] adds.
pub(crate) const REPLICATION_RULES: [&str; 2] = [
    "local\treplication\ttest\t\ttrust",
    "host\treplication\ttest\t127.0.0.1/32\ttrust",
];

/// The settings [`crate::TemporalBuilder::replication`] adds (before the builder's own).
pub(crate) fn primary_settings(installation: &Installation) -> Vec<(String, String)> {
    let keep = match installation.version_info().major {
        13.. => ("wal_keep_size", "128MB"),
        _ => ("wal_keep_segments", "8"),
    };
    [
        ("wal_level", "replica"),
        ("max_wal_senders", "10"),
        keep,
        ("full_page_writes", "on"),
        ("hot_standby", "on"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

impl Cluster {
    /// Copies this running cluster into `data_directory` with `pg_basebackup -R -X stream`
    /// (the copy gets `standby.signal` and a `primary_conninfo` naming this server's unix
    /// socket, or its TCP host when it has none), run as the cluster's account, connecting as
    /// `user` (the [superuser](Cluster::superuser) when `None`), who needs a `replication`
    /// rule in `pg_hba.conf`. Returns the copy, not started: give it a port and a socket
    /// directory of its own before starting it (its `postgresql.conf` is this one's).
    pub fn base_backup(
        &self,
        data_directory: impl AsRef<Path>,
        user: Option<&str>,
    ) -> Result<Cluster, ClusterError> {
        let target = std::path::absolute(data_directory.as_ref())
            .map_err(|e| ClusterError::io_path("resolve", data_directory.as_ref(), e))?;
        let address = self.address()?;
        let host = match (&address.socket_directory, &address.host) {
            (Some(directory), _) => directory.to_string_lossy().into_owned(),
            (None, Some(host)) => host.clone(),
            (None, None) => {
                return Err(ClusterError::other(
                    "the server listens on neither a unix socket nor TCP",
                ));
            }
        };
        let superuser = self.superuser();
        let user = user.unwrap_or(&superuser);
        let mut command = self.command("pg_basebackup")?;
        command
            .arg("--pgdata")
            .arg(&target)
            .args(["--write-recovery-conf", "--wal-method=stream"])
            .args(["--checkpoint=fast", "--no-password"])
            .arg(format!("--host={host}"))
            .arg(format!("--port={}", address.port))
            .arg(format!("--username={user}"));
        if self.installation().version_info().major >= 10 {
            command.arg("--no-sync");
        }
        let output = command
            .output()
            .map_err(|e| ClusterError::io("could not run pg_basebackup", e))?;
        if !output.status.success() {
            return Err(ClusterError::other(format!(
                "pg_basebackup into {} failed ({}): {}",
                target.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(Cluster::new(self.installation().clone(), target)?
            .with_account(self.account().cloned())
            .with_superuser(superuser))
    }

    /// Asks a standby to become a primary (`pg_ctl promote`, not waiting); follow with
    /// [`Cluster::wait_until_promoted`].
    pub fn promote(&self) -> Result<(), ClusterError> {
        let output = self
            .command("pg_ctl")?
            .arg("promote")
            .arg("--no-wait")
            .arg("--pgdata")
            .arg(self.data_directory())
            .output()
            .map_err(|e| ClusterError::io("could not run pg_ctl promote", e))?;
        if !output.status.success() {
            return Err(ClusterError::other(format!(
                "pg_ctl promote failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(())
    }

    /// Whether the server is in recovery (a standby): `pg_is_in_recovery()`.
    pub fn in_recovery(&self) -> Result<bool, ClusterError> {
        self.ask("SELECT pg_catalog.pg_is_in_recovery()")
    }

    /// Waits until the server is a standby in recovery whose WAL receiver is streaming from
    /// its primary.
    pub fn wait_until_streaming(&self, timeout: Duration) -> Result<(), ClusterError> {
        let sql = "SELECT pg_catalog.pg_is_in_recovery() AND EXISTS \
                   (SELECT 1 FROM pg_catalog.pg_stat_wal_receiver WHERE status = 'streaming')";
        self.wait_for(sql, "the standby to stream from its primary", timeout)
    }

    /// Waits until a promoted standby has left recovery (it then takes writes).
    pub fn wait_until_promoted(&self, timeout: Duration) -> Result<(), ClusterError> {
        let sql = "SELECT NOT pg_catalog.pg_is_in_recovery()";
        self.wait_for(sql, "the promotion to finish", timeout)
    }

    /// Polls `sql`, a boolean query, until it is true.
    fn wait_for(&self, sql: &str, what: &str, timeout: Duration) -> Result<(), ClusterError> {
        let begun = Instant::now();
        loop {
            // A server briefly refusing connections (promotion restarts no process, but a
            // standby starting up does) is waited out like a false answer.
            let answer = self.ask(sql);
            if let Ok(true) = answer {
                return Ok(());
            }
            if !self.running() {
                return Err(ClusterError::NotRunning {
                    message: format!("the server stopped while waiting for {what}"),
                });
            }
            if begun.elapsed() >= timeout {
                let last = match answer {
                    Ok(_) => String::new(),
                    Err(e) => format!("; last error: {e}"),
                };
                return Err(ClusterError::Timeout {
                    message: format!("gave up waiting for {what}{last}"),
                    waited: begun.elapsed(),
                });
            }
            thread::sleep(POLL);
        }
    }

    /// The boolean one query returns, through the unix socket as the superuser.
    fn ask(&self, sql: &str) -> Result<bool, ClusterError> {
        let connector = self.connector(Keywords::new().connect_timeout(CONNECT_TIMEOUT))?;
        let results = admin::run(connector.params().clone(), sql)?;
        Ok(admin::rows_as_text(&results) == "t")
    }
}

impl Temporal {
    /// A streaming standby of this throwaway cluster, of its own, removed when dropped (and at
    /// exit, or by the watchdog, like any throwaway cluster): [`Cluster::base_backup`] into a
    /// new directory, started on a free port of 127.0.0.1 with its unix socket in its data
    /// directory, returned once it streams. Its user, database and IRI are this one's, on its
    /// own port. Build the primary with [`crate::TemporalBuilder::replication`]; fails for a
    /// `PGTEST_IRI` server.
    pub fn standby(&self) -> Result<Temporal, ClusterError> {
        let primary = self.cluster().ok_or_else(|| {
            ClusterError::other("a standby needs a throwaway primary, not a PGTEST_IRI server")
        })?;
        let root = make_root(primary.account())?;
        let cluster = match primary.base_backup(root.join("data"), None) {
            Ok(cluster) => cluster,
            Err(e) => {
                let _ = fs::remove_dir_all(&root);
                return Err(e);
            }
        };
        let instance = Instance::register(cluster, root);
        let result = (|| {
            let cluster = &instance.cluster;
            let data = cluster.data_directory().to_string_lossy().into_owned();
            cluster.settings().update([
                ("unix_socket_directories", data.as_str()),
                ("listen_addresses", "127.0.0.1"),
                ("hot_standby", "on"),
            ])?;
            let port = start_on_free_port(cluster, &instance.root.join("server.log"))?;
            cluster.wait_until_streaming(STANDBY_TIMEOUT)?;
            let keywords = Keywords::new()
                .user(self.user())
                .database(self.database())
                .connect_timeout(CONNECT_TIMEOUT);
            Ok(Temporal {
                instance: Some(instance.clone()),
                owned: true,
                user: self.user().to_owned(),
                password: None,
                host: "127.0.0.1".into(),
                port,
                database: self.database().to_owned(),
                iri: format!("pq://{}@127.0.0.1:{port}/{}", self.user(), self.database()),
                connector: cluster.connector(keywords)?,
                certificates: None,
            })
        })();
        if result.is_err() {
            instance.teardown();
        }
        result
    }

    /// Whether the server is in recovery (a standby).
    pub fn in_recovery(&self) -> Result<bool, ClusterError> {
        let results = self.admin_query("SELECT pg_catalog.pg_is_in_recovery()")?;
        Ok(admin::rows_as_text(&results) == "t")
    }

    /// Promotes this standby ([`Cluster::promote`]) and waits until it has left recovery.
    pub fn promote(&self) -> Result<(), ClusterError> {
        let cluster = self
            .cluster()
            .ok_or_else(|| ClusterError::other("only a throwaway standby can be promoted here"))?;
        cluster.promote()?;
        cluster.wait_until_promoted(STANDBY_TIMEOUT)
    }
}
