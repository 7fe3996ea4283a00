//! The unprivileged OS account the server runs as when this process is root.
//!
//! `initdb` and `postgres` refuse to run as root. When the effective user id is 0, clusters
//! run their programs as another account: the one named by `PGCLUSTER_USER`, else
//! `postgres`. Files this crate creates for the server (data directory, log file, password
//! file, certificates) are handed to that account.

use std::env;
use std::os::unix::fs::chown;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::unistd::{User, geteuid};

use crate::error::ClusterError;

/// The environment variable naming the account to run servers as when root.
pub const PGCLUSTER_USER: &str = "PGCLUSTER_USER";

/// The account used when root and `PGCLUSTER_USER` is not set.
pub const DEFAULT_ACCOUNT: &str = "postgres";

/// An OS account: name, user id and primary group id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

impl Account {
    /// Looks an account up by name.
    pub fn lookup(name: &str) -> Result<Self, ClusterError> {
        match User::from_name(name) {
            Ok(Some(user)) => Ok(Account {
                name: user.name,
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
            }),
            Ok(None) => Err(ClusterError::other(format!("no OS account named {name:?}"))),
            Err(errno) => Err(ClusterError::io(
                format!("could not look up the OS account {name:?}"),
                errno.into(),
            )),
        }
    }

    /// The account servers must run as for this process: `None` when the process is not
    /// root (programs run as the current user), else `PGCLUSTER_USER` or `postgres`.
    pub fn for_current_process() -> Result<Option<Self>, ClusterError> {
        if !geteuid().is_root() {
            return Ok(None);
        }
        let explicit = env::var(PGCLUSTER_USER).ok().filter(|n| !n.is_empty());
        let name = explicit.as_deref().unwrap_or(DEFAULT_ACCOUNT);
        let account = Self::lookup(name).map_err(|e| {
            ClusterError::other(format!(
                "running as root, so the server needs an unprivileged account, but: {e}; \
                 set {PGCLUSTER_USER} to an existing account"
            ))
        })?;
        if account.uid == 0 {
            return Err(ClusterError::other(format!(
                "{PGCLUSTER_USER} names {name:?}, which is root; the server refuses to run as root"
            )));
        }
        Ok(Some(account))
    }

    /// The account's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The account's user id.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The account's primary group id.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// Makes `command` run as this account (supplementary groups are dropped by std).
    pub(crate) fn apply(&self, command: &mut Command) {
        command.uid(self.uid).gid(self.gid);
        if let Some(home) = User::from_uid(self.uid.into())
            .ok()
            .flatten()
            .map(|u| u.dir)
        {
            command.env("HOME", home);
        }
        command.env("USER", &self.name).env("LOGNAME", &self.name);
    }

    /// Gives `path` (not recursively) to this account.
    pub(crate) fn give(&self, path: &Path) -> Result<(), ClusterError> {
        chown(path, Some(self.uid), Some(self.gid))
            .map_err(|e| ClusterError::io_path("change the owner of", path, e))
    }
}

/// Gives `path` to `account` when there is one; does nothing otherwise.
pub(crate) fn give_to(account: Option<&Account>, path: &Path) -> Result<(), ClusterError> {
    account.map_or(Ok(()), |a| a.give(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_accounts() {
        let root = Account::lookup("root").unwrap();
        assert_eq!(root.uid(), 0);
        assert_eq!(root.name(), "root");
        assert!(Account::lookup("no-such-account-pg-cluster").is_err());
    }

    #[test]
    fn root_gets_an_unprivileged_account() {
        match Account::for_current_process() {
            Ok(Some(account)) => {
                assert!(geteuid().is_root());
                assert_ne!(account.uid(), 0);
            }
            Ok(None) => assert!(!geteuid().is_root()),
            // Root without a postgres account: the error must say what to do.
            Err(e) => assert!(e.to_string().contains(PGCLUSTER_USER)),
        }
    }
}
