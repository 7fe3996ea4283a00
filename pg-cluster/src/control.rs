//! Ending, signalling and restarting a cluster's server.

use std::fs;
use std::io;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::cluster::{Cluster, StartOptions};
use crate::error::ClusterError;
use crate::postmaster;

impl Cluster {
    fn signal(&self, signal: Signal) -> Result<u32, ClusterError> {
        let not_running = || ClusterError::NotRunning {
            message: format!(
                "cannot send {signal}: no server runs {}",
                self.data_directory().display()
            ),
        };
        let pid = self.pid().ok_or_else(not_running)?;
        if postmaster::send_signal(pid, signal)? {
            Ok(pid)
        } else {
            Err(not_running())
        }
    }

    /// Smart shutdown (SIGTERM): the server stops once every client has disconnected.
    pub fn stop(&self) -> Result<(), ClusterError> {
        self.signal(Signal::SIGTERM).map(|_| ())
    }

    /// Fast shutdown (SIGINT): clients are disconnected and the server stops cleanly.
    pub fn shutdown(&self) -> Result<(), ClusterError> {
        self.signal(Signal::SIGINT).map(|_| ())
    }

    /// Immediate death (SIGKILL) of the server and its child processes, without a clean
    /// shutdown; the next start recovers from the write-ahead log.
    pub fn kill(&self) -> Result<(), ClusterError> {
        let pid = self.pid().ok_or_else(|| ClusterError::NotRunning {
            message: format!(
                "cannot kill: no server runs {}",
                self.data_directory().display()
            ),
        })?;
        // Collected first: once the server dies its children are no longer its.
        let children = postmaster::children_of(pid);
        postmaster::send_signal(pid, Signal::SIGKILL)?;
        let data = self.data_directory();
        for child in children
            .into_iter()
            .filter(|c| postmaster::serves(*c, data))
        {
            postmaster::send_signal(child, Signal::SIGKILL)?;
        }
        Ok(())
    }

    /// Makes the server re-read its configuration files (SIGHUP).
    pub fn reload(&self) -> Result<(), ClusterError> {
        self.signal(Signal::SIGHUP).map(|_| ())
    }

    /// Stops the server (fast shutdown) if it runs, then starts it with the options of the
    /// last [`Cluster::start`], waiting up to `timeout` for each step.
    pub fn restart(&self, timeout: Duration) -> Result<(), ClusterError> {
        self.restart_with(&self.last_start_options(), timeout)
    }

    /// py-postgresql's `restart(logfile, settings, timeout)`: stops the server (fast
    /// shutdown) if it runs, then starts it with `options` (its log file and settings,
    /// which replace the last start's), waiting up to `timeout` for each step; a step not
    /// done in time is [`ClusterError::Timeout`].
    pub fn restart_with(
        &self,
        options: &StartOptions,
        timeout: Duration,
    ) -> Result<(), ClusterError> {
        if self.running() {
            // A server stopping on its own between the check and the signal is fine.
            if let Err(e) = self.shutdown()
                && self.running()
            {
                return Err(e);
            }
            self.wait_until_stopped(timeout)?;
        }
        self.start(options)?;
        self.wait_until_started(timeout)
    }

    /// Stops the server if it runs (fast, then by SIGKILL if it takes over ten seconds)
    /// and removes the data directory. A server still there ten seconds after SIGKILL is
    /// reported as a [`cluster_warning`](crate::cluster_warning) (its shared memory may
    /// have leaked) and the directory removed all the same, as py-postgresql does.
    pub fn drop(&self) -> Result<(), ClusterError> {
        if self.running() {
            // A server stopping on its own between the check and the signal is fine.
            let _ = self.shutdown();
            if self.wait_until_stopped(Duration::from_secs(10)).is_err() {
                let _ = self.kill();
                if self.wait_until_stopped(Duration::from_secs(10)).is_err() {
                    self.warn(&crate::cluster_warning(
                        format!(
                            "the server of {} did not stop after SIGKILL",
                            self.data_directory().display()
                        ),
                        Some("Shared memory may have been leaked."),
                    ));
                }
            }
        }
        match fs::remove_dir_all(self.data_directory()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(ClusterError::io_path("remove", self.data_directory(), e))
            }
            _ => Ok(()),
        }
    }
}
