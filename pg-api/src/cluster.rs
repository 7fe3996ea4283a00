//! The contracts of installations and clusters (py-postgresql's `api.Installation` and
//! `api.Cluster`), implemented by pg-cluster.
//!
//! Managing a server is the work of programs and signals, so these methods block; their
//! errors are [`Error`]s of py-postgresql's cluster classes (`ClusterError`,
//! `ClusterInitializationError`, `InitDBError`, `ClusterStartupError`,
//! `ClusterNotRunningError`, `ClusterTimeoutError`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use pg_exceptions::Error;

use crate::VersionInfo;

/// An installation of PostgreSQL: its version and programs, as `pg_config` reports them.
pub trait Installation: Clone + Send + Sync {
    /// The version string, consistent with what `SELECT version()` begins with
    /// (`PostgreSQL 16.4`).
    fn version(&self) -> &str;

    /// The version, parsed.
    fn version_info(&self) -> VersionInfo;

    /// The product: the first word of the version string (py-postgresql's `type`).
    fn product_type(&self) -> &str;

    /// Whether the installation was built with TLS support.
    fn ssl(&self) -> bool;

    /// One of the installation's programs (`initdb`, `postgres`, `pg_ctl`…), when present.
    fn program(&self, name: &str) -> Option<PathBuf>;
}

/// A cluster: a data directory, its configuration and its server.
pub trait Cluster: Send + Sync {
    /// The installation whose programs run it.
    type Installation: Installation;
    /// What initialising it takes (initdb's options).
    type InitOptions;
    /// What starting its server takes (settings, log file).
    type StartOptions;

    /// The installation used by the cluster.
    fn installation(&self) -> &Self::Installation;

    /// The path of the data directory.
    fn data_directory(&self) -> &Path;

    /// Creates the data directory (initdb).
    fn init(&self, options: &Self::InitOptions) -> Result<(), Error>;

    /// Whether the data directory is initialised.
    fn initialized(&self) -> bool;

    /// Starts the server without waiting for it to be ready.
    fn start(&self, options: &Self::StartOptions) -> Result<(), Error>;

    /// Asks the server to stop once its clients have gone (smart shutdown).
    fn stop(&self) -> Result<(), Error>;

    /// Stops the server, disconnecting its clients (fast shutdown).
    fn shutdown(&self) -> Result<(), Error>;

    /// Kills the server.
    fn kill(&self) -> Result<(), Error>;

    /// Stops the server if it runs and starts it again with the last start's options,
    /// waiting up to `timeout` for each step.
    fn restart(&self, timeout: Duration) -> Result<(), Error>;

    /// Makes the server read its configuration files again.
    fn reload(&self) -> Result<(), Error>;

    /// Kills the server if it runs and removes the data directory.
    fn drop(&self) -> Result<(), Error>;

    /// Whether a server runs the data directory.
    fn running(&self) -> bool;

    /// Waits until the server accepts connections; ClusterTimeoutError after `timeout`.
    fn wait_until_started(&self, timeout: Duration) -> Result<(), Error>;

    /// Waits until the server has stopped; ClusterTimeoutError after `timeout`.
    fn wait_until_stopped(&self, timeout: Duration) -> Result<(), Error>;

    /// A setting of the configuration file (`postgresql.conf`), as written there.
    fn setting(&self, name: &str) -> Result<Option<String>, Error>;

    /// Writes settings into the configuration file, keeping its comments.
    fn set_settings(&self, settings: &[(&str, &str)]) -> Result<(), Error>;
}
