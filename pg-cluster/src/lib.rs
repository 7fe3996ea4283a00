//! PostgreSQL installations, clusters and the throwaway test cluster.
//!
//! A port of py-postgresql's `postgresql.installation`, `postgresql.cluster`,
//! `postgresql.configfile` and `postgresql.temporal`:
//!
//! - [`Installation`]: a PostgreSQL installation as its `pg_config` describes it (found
//!   through `PGINSTALLATION` or `PATH`), with its version ([`VersionInfo`]) and programs.
//! - [`Cluster`]: a data directory and its server: [`Cluster::init`] (initdb, with typed
//!   [`InitOptions`]: encoding, locale and each `lc_*`, text search configuration, WAL
//!   directory), start, stop, restart (again with the last options, or
//!   [`Cluster::restart_with`] a new log file and settings), kill, reload, drop, waits, [`Cluster::settings`] (an editor of
//!   `postgresql.conf` that keeps its comments, [`ConfigFile`]), [`Cluster::hba`]
//!   (`pg_hba.conf` rules, [`HbaFile`]) and [`Cluster::connector`] /
//!   [`Cluster::connect`] (the project's driver, through the cluster's unix socket).
//! - [`Temporal`]: one throwaway cluster per process for tests, with per-test
//!   [`Sandbox`] schemas; `PGTEST_IRI` points the tests at an existing server instead.
//!   [`TemporalBuilder`] makes further, separately configured clusters (roles with
//!   password, md5 or SCRAM authentication, TLS with generated certificates, replication).
//! - Streaming standbys: [`Temporal::standby`] (of a primary built with
//!   [`TemporalBuilder::replication`]) and [`Temporal::promote`]; underneath,
//!   [`Cluster::base_backup`] (`pg_basebackup -R`), [`Cluster::promote`] (`pg_ctl promote`),
//!   [`Cluster::wait_until_streaming`] and [`Cluster::wait_until_promoted`].
//!
//! [`Installation`] and [`Cluster`] implement pg-api's contracts of the same names
//! (`pg_api::Installation`, `pg_api::Cluster`), so code written against those drives them.
//!
//! Every SQL statement the crate runs (creating the test database, roles and sandboxes,
//! [`Temporal::admin_sql`]) goes through the project's own driver, `pg-driver`: no `psql`
//! or other client program is needed. Every failure is a [`ClusterError`], which converts
//! to and from the driver's `pg_exceptions::Error`.
//!
//! # Example
//!
//! ```no_run
//! use pg_cluster::Temporal;
//!
//! # async fn example() -> Result<(), pg_exceptions::Error> {
//! let pg = Temporal::get()?;                 // started on first use, removed at exit
//! let sandbox = pg.sandbox()?;               // a schema of this test's own
//! let db = sandbox.connect().await?;         // search_path: the sandbox, then public
//! db.execute("CREATE TABLE t (a int); INSERT INTO t VALUES (1)").await?;
//! let results = db.simple("SELECT count(*) FROM t").await?;
//! assert_eq!(results[0].rows[0][0].as_deref(), Some("1"));
//! assert_eq!(sandbox.admin_sql("SELECT count(*) FROM t")?, "1");
//! println!("or connect to {}", sandbox.iri()); // pq://test@127.0.0.1:PORT/test?search_path=…
//! # Ok(())
//! # }
//! ```
//!
//! Outside async code, [`Temporal::connect_blocking`] and [`Sandbox::connect_blocking`]
//! give the driver's blocking connections. [`Temporal::get`], sandboxes and
//! [`Temporal::admin_sql`] work in both: their own connections run on a thread of their own.
//!
//! Managing a cluster of one's own:
//!
//! ```no_run
//! use std::time::Duration;
//! use pg_cluster::{Cluster, InitOptions, Installation, StartOptions};
//! use pg_driver::params::Keywords;
//!
//! # fn main() -> Result<(), pg_cluster::ClusterError> {
//! let cluster = Cluster::new(Installation::find()?, "/tmp/my-cluster")?;
//! cluster.init(&InitOptions::new().superuser("admin").password("secret").auth("scram-sha-256"))?;
//! cluster.settings().update([("port", "5499"), ("listen_addresses", "127.0.0.1")])?;
//! cluster.start(&StartOptions::new())?;
//! cluster.wait_until_started(Duration::from_secs(30))?;
//! let connector = cluster.connector(Keywords::new().password("secret"))?; // as admin, to postgres
//! let db = pg_driver::blocking::Connector::from(connector).connect()?;
//! db.execute("CREATE DATABASE app")?;
//! // …
//! cluster.drop()?; // stops the server and removes the data directory
//! # Ok(())
//! # }
//! ```
//!
//! # Running as root
//!
//! `initdb` and `postgres` refuse to run as root. When the process's effective user id is
//! 0, a [`Cluster`] runs its programs as an unprivileged [`Account`]: the one named by the
//! `PGCLUSTER_USER` environment variable, else `postgres` (or the one given to
//! [`Cluster::with_account`]). The programs are started with that account's user and group
//! ids (`std::os::unix::process::CommandExt::uid`/`gid`, supplementary groups dropped),
//! and the files made for them are handed to it: a data directory [`Cluster::init`]
//! creates, the log file, the `--pwfile` password file, the throwaway cluster's directory
//! and its TLS certificates. Without such an account, [`Cluster::new`] fails and says so.
//!
//! # Cleanup of throwaway clusters
//!
//! See [`cleanup`]: removal at drop and at exit (`atexit`, which also runs after panicking
//! tests), a watchdog process for a killed test process, and removal of leftovers of dead
//! processes when the next throwaway cluster starts.

mod address;
mod admin;
mod api_impl;
mod builder;
mod certs;
pub mod cleanup;
mod cluster;
pub mod configfile;
mod control;
mod error;
mod hba;
mod initdb;
mod installation;
pub mod postmaster;
pub mod privileges;
mod role;
mod sandbox;
mod standby;
mod target;
mod temporal;
mod warning;

pub use address::Address;
pub use builder::TemporalBuilder;
pub use certs::{TestCertificates, write_test_certificates};
pub use cleanup::{remove_leftovers, remove_leftovers_in};
pub use cluster::{Cluster, LOG_TAIL_LINES, StartOptions};
pub use configfile::ConfigFile;
pub use error::ClusterError;
pub use hba::{ConnectionType, HbaFile, HbaRule};
pub use initdb::InitOptions;
pub use installation::{Installation, PGINSTALLATION, parse_pg_config};
pub use pg_api::{ReleaseState, VersionError, VersionInfo};
pub use postmaster::PostmasterPid;
pub use privileges::{Account, PGCLUSTER_USER};
pub use role::{AuthMethod, Role, TlsRequirement};
pub use sandbox::Sandbox;
pub use standby::STANDBY_TIMEOUT;
pub use temporal::{PGTEST_IRI, Temporal, temporal};
pub use warning::{WarningHook, cluster_warning};
