//! pg-api's [`Installation`](pg_api::Installation) and [`Cluster`](pg_api::Cluster)
//! contracts on pg-cluster's types. Errors become `pg_exceptions::Error`s of their cluster
//! class ([`ClusterError::class`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use pg_api::VersionInfo;
use pg_exceptions::Error;

use crate::{Cluster, ClusterError, InitOptions, Installation, StartOptions};

impl pg_api::Installation for Installation {
    fn version(&self) -> &str {
        Installation::version(self)
    }

    fn version_info(&self) -> VersionInfo {
        Installation::version_info(self)
    }

    fn product_type(&self) -> &str {
        Installation::product_type(self)
    }

    fn ssl(&self) -> bool {
        Installation::ssl(self)
    }

    fn program(&self, name: &str) -> Option<PathBuf> {
        Installation::program(self, name)
    }
}

fn driver<T>(result: Result<T, ClusterError>) -> Result<T, Error> {
    result.map_err(Error::from)
}

impl pg_api::Cluster for Cluster {
    type Installation = Installation;
    type InitOptions = InitOptions;
    type StartOptions = StartOptions;

    fn installation(&self) -> &Installation {
        Cluster::installation(self)
    }

    fn data_directory(&self) -> &Path {
        Cluster::data_directory(self)
    }

    fn init(&self, options: &InitOptions) -> Result<(), Error> {
        driver(Cluster::init(self, options))
    }

    fn initialized(&self) -> bool {
        Cluster::initialized(self)
    }

    fn start(&self, options: &StartOptions) -> Result<(), Error> {
        driver(Cluster::start(self, options))
    }

    fn stop(&self) -> Result<(), Error> {
        driver(Cluster::stop(self))
    }

    fn shutdown(&self) -> Result<(), Error> {
        driver(Cluster::shutdown(self))
    }

    fn kill(&self) -> Result<(), Error> {
        driver(Cluster::kill(self))
    }

    fn restart(&self, timeout: Duration) -> Result<(), Error> {
        driver(Cluster::restart(self, timeout))
    }

    fn reload(&self) -> Result<(), Error> {
        driver(Cluster::reload(self))
    }

    fn drop(&self) -> Result<(), Error> {
        driver(Cluster::drop(self))
    }

    fn running(&self) -> bool {
        Cluster::running(self)
    }

    fn wait_until_started(&self, timeout: Duration) -> Result<(), Error> {
        driver(Cluster::wait_until_started(self, timeout))
    }

    fn wait_until_stopped(&self, timeout: Duration) -> Result<(), Error> {
        driver(Cluster::wait_until_stopped(self, timeout))
    }

    fn setting(&self, name: &str) -> Result<Option<String>, Error> {
        driver(self.settings().get(name))
    }

    fn set_settings(&self, settings: &[(&str, &str)]) -> Result<(), Error> {
        driver(self.settings().update(settings.iter().copied()))
    }
}
