//! A cluster: one data directory and the server running it.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::configfile::ConfigFile;
use crate::error::ClusterError;
use crate::hba::HbaFile;
use crate::installation::Installation;
use crate::postmaster::{self, PostmasterPid};
use crate::privileges::{self, Account};
use crate::warning::WarningHook;

/// How many lines of the server log a [`ClusterError::Startup`] carries.
pub const LOG_TAIL_LINES: usize = 20;

const POLL: Duration = Duration::from_millis(50);

/// Options for [`Cluster::start`]: settings given to the server on its command line
/// (overriding `postgresql.conf`) and where its log goes.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub(crate) settings: Vec<(String, String)>,
    logfile: Option<PathBuf>,
}

impl StartOptions {
    /// No overrides; the log goes to `postmaster.log` in the data directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Passes `-c name=value` to the server.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Appends the server's output to this file instead.
    pub fn logfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.logfile = Some(path.into());
        self
    }
}

/// The server process this value started.
#[derive(Debug)]
struct Daemon {
    child: Child,
    exit: Option<ExitStatus>,
    logfile: PathBuf,
}

/// A PostgreSQL cluster: a data directory, its configuration files and its server.
///
/// The server is run directly (`postgres -D dir`), its output appended to a log file.
/// Lifecycle methods take `&self`, so one `Cluster` can be shared between threads.
/// Dropping a `Cluster` leaves its server running; use [`Cluster::drop`] or the signal
/// methods to end it. When this process is root, programs run as an unprivileged
/// [`Account`] (see [`crate::privileges`]).
pub struct Cluster {
    installation: Installation,
    data_directory: PathBuf,
    account: Option<Account>,
    superuser: Mutex<Option<String>>,
    daemon: Mutex<Option<Daemon>>,
    last_start: Mutex<StartOptions>,
    warnings: Mutex<Option<WarningHook>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("installation", &self.installation)
            .field("data_directory", &self.data_directory)
            .field("account", &self.account)
            .field("superuser", &self.superuser)
            .field("daemon", &self.daemon)
            .field("last_start", &self.last_start)
            .finish_non_exhaustive()
    }
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cluster {
    /// A cluster of `installation` in `data_directory` (made absolute; it need not exist
    /// yet). Fails only when the process is root and no unprivileged account is found.
    pub fn new(
        installation: Installation,
        data_directory: impl AsRef<Path>,
    ) -> Result<Self, ClusterError> {
        let data_directory = std::path::absolute(data_directory.as_ref())
            .map_err(|e| ClusterError::io_path("resolve", data_directory.as_ref(), e))?;
        Ok(Cluster {
            installation,
            data_directory,
            account: Account::for_current_process()?,
            superuser: Mutex::new(None),
            daemon: Mutex::new(None),
            last_start: Mutex::new(StartOptions::default()),
            warnings: Mutex::new(None),
        })
    }

    /// Sends the cluster's warnings ([`cluster_warning`](crate::cluster_warning)s, class
    /// `ClusterWarning`) to `hook`; `None` sends them to standard error (the default).
    pub fn set_warning_hook(&self, hook: Option<WarningHook>) {
        *locked(&self.warnings) = hook;
    }

    /// Issues a warning to the hook, or to standard error.
    pub(crate) fn warn(&self, warning: &pg_exceptions::Message) {
        let hook = locked(&self.warnings).clone();
        match hook {
            Some(hook) => hook(warning),
            None => crate::warning::to_stderr(warning),
        }
    }

    /// Runs the cluster's programs as `account` (or as this process when `None`).
    pub fn with_account(mut self, account: Option<Account>) -> Self {
        self.account = account;
        self
    }

    /// Names the bootstrap superuser of a data directory this value did not initialise
    /// (see [`Cluster::superuser`]).
    pub fn with_superuser(self, name: impl Into<String>) -> Self {
        *locked(&self.superuser) = Some(name.into());
        self
    }

    /// The bootstrap superuser's name, the user [`Cluster::connector`] connects as by
    /// default: the one given to [`Cluster::with_superuser`] or to [`Cluster::init`]
    /// (`InitOptions::superuser`), else initdb's default, the name of the account the
    /// programs run as.
    pub fn superuser(&self) -> String {
        if let Some(name) = locked(&self.superuser).clone() {
            return name;
        }
        match &self.account {
            Some(account) => account.name().to_owned(),
            None => pg_driver::params::os_user_name().unwrap_or_else(|| "postgres".into()),
        }
    }

    /// Remembers the superuser initdb was given.
    pub(crate) fn set_superuser(&self, name: Option<&str>) {
        if let Some(name) = name {
            *locked(&self.superuser) = Some(name.to_owned());
        }
    }

    /// The installation whose programs run the cluster.
    pub fn installation(&self) -> &Installation {
        &self.installation
    }

    /// The data directory.
    pub fn data_directory(&self) -> &Path {
        &self.data_directory
    }

    /// The account the programs run as, `None` for this process's own.
    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    /// `postgresql.conf`, for reading and editing settings.
    pub fn settings(&self) -> ConfigFile {
        ConfigFile::new(self.data_directory.join("postgresql.conf"))
    }

    /// The path of `pg_hba.conf`: the `hba_file` setting, else the data directory's.
    pub fn hba_file(&self) -> PathBuf {
        match self.settings().get("hba_file") {
            Ok(Some(path)) if !path.is_empty() => self.data_directory.join(path),
            _ => self.data_directory.join("pg_hba.conf"),
        }
    }

    /// `pg_hba.conf`, for adding authentication rules.
    pub fn hba(&self) -> HbaFile {
        HbaFile::new(self.hba_file())
    }

    /// The path of `postmaster.pid`.
    pub fn pid_file(&self) -> PathBuf {
        self.data_directory.join("postmaster.pid")
    }

    /// `postmaster.pid`, parsed, if present.
    pub fn postmaster_pid(&self) -> Result<Option<PostmasterPid>, ClusterError> {
        PostmasterPid::read(&self.pid_file())
    }

    /// A command for one of the installation's programs, run as the cluster's account.
    pub(crate) fn command(&self, program: &str) -> Result<Command, ClusterError> {
        let path = self.installation.program(program).ok_or_else(|| {
            ClusterError::other(format!(
                "the installation at {} has no {program} program",
                self.installation.pg_config_path().display()
            ))
        })?;
        let mut command = Command::new(path);
        command.stdin(Stdio::null());
        if let Some(account) = &self.account {
            account.apply(&mut command);
            command.current_dir("/");
        }
        Ok(command)
    }

    /// Whether the data directory looks initialised (`postgresql.conf` and `base/`).
    pub fn initialized(&self) -> bool {
        self.data_directory.join("postgresql.conf").is_file()
            && self.data_directory.join("base").is_dir()
    }

    /// Starts the server and returns without waiting for it; follow with
    /// [`Cluster::wait_until_started`]. Does nothing when it already runs.
    pub fn start(&self, options: &StartOptions) -> Result<(), ClusterError> {
        if self.running() {
            return Ok(());
        }
        if let Some(account) = &self.account {
            account.check_reach(&self.data_directory)?;
        }
        let logfile = options
            .logfile
            .clone()
            .unwrap_or_else(|| self.data_directory.join("postmaster.log"));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&logfile)
            .map_err(|e| ClusterError::io_path("open the log file", &logfile, e))?;
        privileges::give_to(self.account.as_ref(), &logfile)?;
        let log_err = log
            .try_clone()
            .map_err(|e| ClusterError::io_path("open the log file", &logfile, e))?;

        let mut command = self.command("postgres")?;
        command.arg("-D").arg(&self.data_directory);
        for (name, value) in &options.settings {
            command.arg("-c").arg(format!("{name}={value}"));
        }
        command.stdout(log).stderr(log_err);
        // A process group of its own, as pg_ctl gives the server a session of its own: the
        // terminal's Ctrl-C (SIGINT to the foreground group, pgapi's included) would be a fast
        // shutdown to postgres.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .map_err(|e| ClusterError::io("could not run the server (postgres)", e))?;
        *locked(&self.daemon) = Some(Daemon {
            child,
            exit: None,
            logfile,
        });
        *locked(&self.last_start) = options.clone();
        Ok(())
    }

    /// The exit status of the server this value started, once it has exited (reaping it).
    fn daemon_exit(&self) -> Option<(ExitStatus, PathBuf)> {
        let mut daemon = locked(&self.daemon);
        let d = daemon.as_mut()?;
        if d.exit.is_none() {
            d.exit = d.child.try_wait().ok().flatten();
        }
        d.exit.map(|status| (status, d.logfile.clone()))
    }

    /// Whether a server runs this data directory (not necessarily accepting connections).
    pub fn running(&self) -> bool {
        self.pid().is_some()
    }

    /// The server's process id while it runs: the server this value started, else the one
    /// named by `postmaster.pid` if that process lives and is a PostgreSQL server working
    /// in this data directory (not one that got the pid of a server killed long ago).
    pub fn pid(&self) -> Option<u32> {
        let own = {
            let mut daemon = locked(&self.daemon);
            daemon.as_mut().map(|d| {
                if d.exit.is_none() {
                    d.exit = d.child.try_wait().ok().flatten();
                }
                (d.exit.is_none(), d.child.id())
            })
        };
        if let Some((true, pid)) = own {
            return Some(pid);
        }
        let pm = self.postmaster_pid().ok().flatten()?;
        let stale_own = own.is_some_and(|(_, child)| child == pm.pid);
        (!stale_own
            && postmaster::process_alive(pm.pid)
            && postmaster::serves(pm.pid, &self.data_directory))
        .then_some(pm.pid)
    }

    /// Whether the server runs and accepts connections: `postmaster.pid` says `ready`
    /// (or, for servers before 10, which write no status, its socket accepts).
    pub fn ready_for_connections(&self) -> bool {
        let Some(pid) = self.pid() else {
            return false;
        };
        match self.postmaster_pid() {
            // A file left by a killed server still says "ready"; only the live one counts.
            Ok(Some(pm)) if pm.pid != pid => false,
            Ok(Some(pm)) if pm.status.is_some() => pm.is_ready(),
            // Since 10 the server writes its status, and it has not yet: it is starting.
            // Its TCP socket may already listen (it is opened before the unix socket and
            // long before the server is ready), so probing sockets would be wrong here.
            Ok(Some(_)) if self.installation.version_info().major >= 10 => false,
            Ok(Some(_)) => self.address().is_ok_and(|a| crate::address::accepts(&a)),
            _ => false,
        }
    }

    /// The log file of the last start by this value.
    pub fn logfile(&self) -> Option<PathBuf> {
        locked(&self.daemon).as_ref().map(|d| d.logfile.clone())
    }

    /// Waits until the server accepts connections. Fails with [`ClusterError::Startup`]
    /// (carrying the log's tail) when the server exits, [`ClusterError::NotRunning`] when
    /// it was never started, [`ClusterError::Timeout`] when `timeout` passes.
    pub fn wait_until_started(&self, timeout: Duration) -> Result<(), ClusterError> {
        let begun = Instant::now();
        loop {
            if let Some((status, logfile)) = self.daemon_exit() {
                return Err(ClusterError::Startup {
                    message: "the server exited instead of becoming ready".into(),
                    status: status.code(),
                    log_tail: log_tail(&logfile, LOG_TAIL_LINES),
                    logfile: Some(logfile),
                });
            }
            if self.ready_for_connections() {
                return Ok(());
            }
            if !self.running() && locked(&self.daemon).is_none() {
                return Err(ClusterError::NotRunning {
                    message: format!(
                        "no server was started for {}",
                        self.data_directory.display()
                    ),
                });
            }
            if begun.elapsed() >= timeout {
                let tail = self.logfile().map(|l| log_tail(&l, LOG_TAIL_LINES));
                return Err(ClusterError::Timeout {
                    message: format!(
                        "the server did not become ready; log tail:\n{}",
                        tail.unwrap_or_default()
                    ),
                    waited: begun.elapsed(),
                });
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until no server runs the data directory.
    pub fn wait_until_stopped(&self, timeout: Duration) -> Result<(), ClusterError> {
        let begun = Instant::now();
        while self.running() {
            if begun.elapsed() >= timeout {
                return Err(ClusterError::Timeout {
                    message: "the server did not stop".into(),
                    waited: begun.elapsed(),
                });
            }
            thread::sleep(POLL);
        }
        Ok(())
    }

    /// The options of the last start (defaults before the first).
    pub(crate) fn last_start_options(&self) -> StartOptions {
        locked(&self.last_start).clone()
    }
}

/// The last `lines` lines of a log file (read from its last 64 KiB), empty if unreadable.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let read = || -> io::Result<String> {
        let mut file = fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let text = read().unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
