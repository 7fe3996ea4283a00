//! The unprivileged OS account the server runs as when this process is root.
//!
//! `initdb` and `postgres` refuse to run as root. When the effective user id is 0, clusters
//! run their programs as another account: the one named by `PGCLUSTER_USER`, else
//! `postgres`. Files this crate creates for the server (data directory, log file, password
//! file, certificates) are handed to that account.

use std::env;
use std::os::unix::fs::{MetadataExt, chown};
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

    /// Checks that this account can reach `dir` (which need not exist yet): that it may
    /// enter every existing directory above it (search permission, the account's own user
    /// and primary group, as its programs run). The error names the account, the directory
    /// it cannot enter and what to do, instead of initdb's or the server's bare
    /// "Permission denied" later.
    pub fn check_reach(&self, dir: &Path) -> Result<(), ClusterError> {
        let absolute =
            std::path::absolute(dir).map_err(|e| ClusterError::io_path("resolve", dir, e))?;
        let mut above = absolute.parent();
        while let Some(parent) = above {
            // Symbolic links are followed: the account must reach their targets.
            if let Ok(metadata) = std::fs::metadata(parent) {
                let (mode, owner, group) = (metadata.mode(), metadata.uid(), metadata.gid());
                // The bits say no: asking the kernel as the account settles it (an access
                // control list may let it in).
                if metadata.is_dir()
                    && !may_enter(mode, owner, group, self.uid, self.gid)
                    && !self.enters(parent)
                {
                    let owner_name = User::from_uid(owner.into())
                        .ok()
                        .flatten()
                        .map_or_else(|| owner.to_string(), |u| u.name);
                    return Err(ClusterError::other(format!(
                        "running as root, so the server runs as the OS account {:?}, which \
                         cannot reach {}: it may not enter {} (mode {:04o}, owner {}). \
                         Use a directory that account can reach (one under /tmp or /var/tmp, or \
                         one of its own), let it in (`setfacl -m u:{}:x {}` or \
                         `chmod o+x {}`), or set {PGCLUSTER_USER} to an account that can \
                         reach it",
                        self.name,
                        absolute.display(),
                        parent.display(),
                        mode & 0o7777,
                        owner_name,
                        self.name,
                        parent.display(),
                        parent.display(),
                    )));
                }
            }
            above = parent.parent();
        }
        Ok(())
    }

    /// Whether a process of this account may enter `dir`, asked of the kernel through
    /// `test -x` run as the account.
    fn enters(&self, dir: &Path) -> bool {
        let mut test = Command::new("/bin/sh");
        test.arg("-c")
            .arg("test -x \"$1\"")
            .arg("sh")
            .arg(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        self.apply(&mut test);
        test.status().is_ok_and(|s| s.success())
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

/// Whether a process of user `uid` and group `gid` may enter (search) a directory of `mode`
/// owned by `owner` and `group`, by the owner, group and other permission bits.
pub(crate) fn may_enter(mode: u32, owner: u32, group: u32, uid: u32, gid: u32) -> bool {
    let bit = if uid == owner {
        0o100
    } else if gid == group {
        0o010
    } else {
        0o001
    };
    mode & bit != 0
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
    fn entering_follows_the_owner_group_and_other_bits() {
        // Owner, group and others as the kernel picks them: the first that matches decides.
        assert!(may_enter(0o700, 5, 5, 5, 9));
        assert!(!may_enter(0o700, 0, 0, 5, 5));
        assert!(may_enter(0o711, 0, 0, 5, 5));
        assert!(may_enter(0o750, 0, 5, 7, 5));
        assert!(
            !may_enter(0o705, 0, 5, 7, 5),
            "the group bits decide for the group"
        );
        assert!(
            !may_enter(0o070, 5, 5, 5, 5),
            "the owner bits decide for the owner"
        );
        assert!(may_enter(0o1777, 0, 0, 5, 5));
        assert!(!may_enter(0o755 & !0o111, 0, 0, 5, 5));
    }

    #[test]
    fn reach_is_checked_up_the_tree() {
        let Ok(Some(account)) = Account::for_current_process() else {
            return; // Not root: programs run as this process, which made the directories.
        };
        let dir = tempfile::tempdir().unwrap();
        let closed = dir.path().join("closed");
        std::fs::create_dir(&closed).unwrap();
        std::fs::set_permissions(&closed, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let error = account
            .check_reach(&closed.join("deeper/pgdata"))
            .unwrap_err()
            .to_string();
        assert!(error.contains(&format!("{:?}", account.name())), "{error}");
        assert!(
            error.contains(&format!("may not enter {} (mode 0700", closed.display())),
            "{error}"
        );
        assert!(error.contains(PGCLUSTER_USER), "{error}");
        assert!(!account.enters(&closed));
        std::fs::set_permissions(&closed, std::os::unix::fs::PermissionsExt::from_mode(0o711))
            .unwrap();
        assert!(account.enters(&closed));
        account.check_reach(&closed.join("deeper/pgdata")).unwrap();
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
