//! Creating a cluster's data directory with `initdb`.

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::cluster::Cluster;
use crate::error::ClusterError;
use crate::privileges;

/// Options for [`Cluster::init`], py-postgresql's `init` keywords typed: encoding, locale
/// and each `lc_*` category, the text search configuration, the WAL directory, the
/// superuser and its password, authentication. Unset options are left to initdb's
/// defaults, except the encoding, which defaults to UTF8.
///
/// The superuser's password is handed to initdb in a temporary file readable only by the
/// account running it (`--pwfile`), never on a command line; `Debug` does not show it.
#[derive(Clone, Default)]
pub struct InitOptions {
    superuser: Option<String>,
    password: Option<String>,
    encoding: Option<String>,
    locale: Option<String>,
    lc: Vec<(&'static str, String)>,
    text_search_config: Option<String>,
    wal_directory: Option<PathBuf>,
    auth: Option<String>,
    auth_local: Option<String>,
    auth_host: Option<String>,
    no_sync: bool,
    extra: Vec<String>,
}

impl fmt::Debug for InitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitOptions")
            .field("superuser", &self.superuser)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("encoding", &self.encoding)
            .field("locale", &self.locale)
            .field("lc", &self.lc)
            .field("text_search_config", &self.text_search_config)
            .field("wal_directory", &self.wal_directory)
            .field("auth", &self.auth)
            .field("auth_local", &self.auth_local)
            .field("auth_host", &self.auth_host)
            .field("no_sync", &self.no_sync)
            .field("extra", &self.extra)
            .finish()
    }
}

impl InitOptions {
    /// initdb's defaults, UTF8 encoding.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bootstrap superuser's name (`-U`); initdb defaults to the OS account's name.
    pub fn superuser(mut self, name: impl Into<String>) -> Self {
        self.superuser = Some(name.into());
        self
    }

    /// The superuser's password, delivered through `--pwfile`.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// The template databases' encoding (`-E`), UTF8 unless set.
    pub fn encoding(mut self, encoding: impl Into<String>) -> Self {
        self.encoding = Some(encoding.into());
        self
    }

    /// The locale (`--locale`), such as `C` or `en_US.UTF-8`.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    fn lc(mut self, flag: &'static str, locale: String) -> Self {
        self.lc.retain(|(f, _)| *f != flag);
        self.lc.push((flag, locale));
        self
    }

    /// The collation order of the template databases (`--lc-collate`), overriding
    /// [`locale`](InitOptions::locale) for it.
    pub fn lc_collate(self, locale: impl Into<String>) -> Self {
        self.lc("--lc-collate=", locale.into())
    }

    /// The character classification of the template databases (`--lc-ctype`).
    pub fn lc_ctype(self, locale: impl Into<String>) -> Self {
        self.lc("--lc-ctype=", locale.into())
    }

    /// The initial `lc_messages` setting (`--lc-messages`).
    pub fn lc_messages(self, locale: impl Into<String>) -> Self {
        self.lc("--lc-messages=", locale.into())
    }

    /// The initial `lc_monetary` setting (`--lc-monetary`).
    pub fn lc_monetary(self, locale: impl Into<String>) -> Self {
        self.lc("--lc-monetary=", locale.into())
    }

    /// The initial `lc_numeric` setting (`--lc-numeric`).
    pub fn lc_numeric(self, locale: impl Into<String>) -> Self {
        self.lc("--lc-numeric=", locale.into())
    }

    /// The initial `lc_time` setting (`--lc-time`).
    pub fn lc_time(self, locale: impl Into<String>) -> Self {
        self.lc("--lc-time=", locale.into())
    }

    /// The default text search configuration (`--text-search-config`): the name of one of
    /// `pg_catalog`'s, such as `english` (initdb qualifies it: `pg_catalog.english`).
    pub fn text_search_config(mut self, config: impl Into<String>) -> Self {
        self.text_search_config = Some(config.into());
        self
    }

    /// Where the write-ahead log goes (`--waldir`; py-postgresql's `xlogdir`): made by
    /// initdb, `pg_wal` becoming a link to it. Made absolute; when the programs run as
    /// another account, a missing directory is created (mode 0700) and handed to it.
    pub fn wal_directory(mut self, path: impl Into<PathBuf>) -> Self {
        self.wal_directory = Some(path.into());
        self
    }

    /// The authentication method of every generated `pg_hba.conf` rule (`-A`).
    pub fn auth(mut self, method: impl Into<String>) -> Self {
        self.auth = Some(method.into());
        self
    }

    /// The method of the generated `local` rules (`--auth-local`).
    pub fn auth_local(mut self, method: impl Into<String>) -> Self {
        self.auth_local = Some(method.into());
        self
    }

    /// The method of the generated `host` rules (`--auth-host`).
    pub fn auth_host(mut self, method: impl Into<String>) -> Self {
        self.auth_host = Some(method.into());
        self
    }

    /// Skips initdb's final fsync (`-N`): faster, for throwaway clusters.
    pub fn no_sync(mut self, no_sync: bool) -> Self {
        self.no_sync = no_sync;
        self
    }

    /// Adds an option passed to initdb as is.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra.push(arg.into());
        self
    }

    fn arguments(&self) -> Vec<String> {
        let mut args = vec![
            "-E".to_owned(),
            self.encoding.clone().unwrap_or_else(|| "UTF8".into()),
        ];
        let pairs = [
            ("--locale=", &self.locale),
            ("--username=", &self.superuser),
            ("--auth=", &self.auth),
            ("--auth-local=", &self.auth_local),
            ("--auth-host=", &self.auth_host),
            ("--text-search-config=", &self.text_search_config),
        ];
        for (flag, value) in pairs {
            if let Some(value) = value {
                args.push(format!("{flag}{value}"));
            }
        }
        for (flag, locale) in &self.lc {
            args.push(format!("{flag}{locale}"));
        }
        if self.no_sync {
            args.push("--no-sync".into());
        }
        args.extend(self.extra.iter().cloned());
        args
    }
}

impl Cluster {
    /// Creates the data directory with initdb. Fails with [`ClusterError::InitDb`],
    /// carrying initdb's output and exit status, when initdb does, and with
    /// [`ClusterError::Initialization`] when a step before it fails (no initdb program, a
    /// data directory that cannot be made, initdb not starting): both are py-postgresql's
    /// `ClusterInitializationError`.
    ///
    /// When the programs run as another account, a missing data directory is created
    /// (mode 0700) and an empty one handed to that account; its parent directories must
    /// be traversable by it.
    pub fn init(&self, options: &InitOptions) -> Result<(), ClusterError> {
        self.run_initdb(options)
            .map_err(ClusterError::initialization)
    }

    fn run_initdb(&self, options: &InitOptions) -> Result<(), ClusterError> {
        let mut command = self.command("initdb")?;
        let data = self.data_directory();
        if let Some(account) = self.account() {
            account.check_reach(data)?;
            hand_over(account, data)?;
        }

        let mut args = options.arguments();
        if let Some(wal) = &options.wal_directory {
            let wal =
                std::path::absolute(wal).map_err(|e| ClusterError::io_path("resolve", wal, e))?;
            if let Some(account) = self.account() {
                hand_over(account, &wal)?;
            }
            args.push(format!("--waldir={}", wal.display()));
        }
        let pwfile = match &options.password {
            Some(password) => Some(password_file(password, self)?),
            None => None,
        };
        command.arg("-D").arg(data).args(&args);
        if let Some(file) = &pwfile {
            command.arg(format!("--pwfile={}", file.path().display()));
        }
        let shown = format!(
            "{} {}",
            command.get_program().to_string_lossy(),
            command
                .get_args()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let output = command
            .output()
            .map_err(|e| ClusterError::io("could not run initdb", e))?;
        drop(pwfile);
        if output.status.success() {
            self.set_superuser(options.superuser.as_deref());
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
        if text.trim().is_empty() {
            text = String::from_utf8_lossy(&output.stdout).into_owned();
        }
        Err(ClusterError::InitDb {
            command: shown,
            status: output.status.code(),
            stderr: text,
        })
    }
}

/// Makes a missing directory (mode 0700) for the account the programs run as, and hands an
/// empty one to it: initdb fills it.
///
/// Missing parents are made traversable (mode 0755 less the umask) so that the account can
/// reach the directory through them; whether it can is checked again once they exist.
fn hand_over(account: &crate::Account, dir: &Path) -> Result<(), ClusterError> {
    if !dir.exists() {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent)
                .map_err(|e| ClusterError::io_path("create", parent, e))?;
            account.check_reach(dir)?;
        }
        fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(|e| ClusterError::io_path("create", dir, e))?;
    }
    let empty = fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none());
    if empty {
        account.give(dir)?;
    }
    Ok(())
}

/// Writes the password to a mode-0600 temporary file owned by the cluster's account.
fn password_file(
    password: &str,
    cluster: &Cluster,
) -> Result<tempfile::NamedTempFile, ClusterError> {
    let mut file = tempfile::Builder::new()
        .prefix("pg-cluster-pwfile-")
        .tempfile()
        .map_err(|e| ClusterError::io("could not create the password file", e))?;
    file.write_all(password.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| ClusterError::io("could not write the password file", e))?;
    privileges::give_to(cluster.account(), file.path())?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_arguments_without_the_password() {
        let options = InitOptions::new()
            .superuser("test")
            .password("s3cret")
            .locale("C")
            .auth("trust")
            .no_sync(true)
            .arg("--data-checksums");
        let args = options.arguments();
        assert_eq!(
            args,
            [
                "-E",
                "UTF8",
                "--locale=C",
                "--username=test",
                "--auth=trust",
                "--no-sync",
                "--data-checksums"
            ]
        );
        assert!(!format!("{options:?}").contains("s3cret"));
    }
}
