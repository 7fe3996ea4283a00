//! `pgapi cluster init|start|stop|status DIR`, and the steps `--keep DIR` shares with it.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use pg_cluster::{Cluster, ClusterError, InitOptions, Installation, StartOptions};

use crate::Failure;
use crate::cli::ClusterAction;

/// How long a server may take to start or stop.
pub const WAIT: Duration = Duration::from_secs(60);

/// The longest unix socket path the kernel takes (`sun_path` less its NUL).
const SOCKET_PATH_MAX: usize = 107;

/// The cluster of the data directory `dir` (which need not exist yet).
pub fn open(dir: &Path) -> Result<Cluster, ClusterError> {
    Cluster::new(Installation::find()?, dir)
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16, Failure> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure::message(format!("could not find a free port on 127.0.0.1: {e}")))
}

/// The settings that make a cluster reachable without touching the system's own server:
/// TCP on 127.0.0.1 only, the unix socket in the data directory (no socket when that
/// path would be too long for one, TCP serving alone).
pub fn listen_settings(cluster: &Cluster) -> Vec<(&'static str, String)> {
    let data = cluster.data_directory().to_string_lossy().into_owned();
    let socket_fits = data.len() + "/.s.PGSQL.65535".len() <= SOCKET_PATH_MAX;
    vec![
        ("listen_addresses", "127.0.0.1".to_owned()),
        (
            "unix_socket_directories",
            if socket_fits { data } else { String::new() },
        ),
    ]
}

/// Initialises the cluster (initdb: UTF8, locale C, trust authentication, the default
/// superuser) and writes its listen settings and `port` (a free one when `None`).
pub fn init(cluster: &Cluster, port: Option<u16>) -> Result<u16, Failure> {
    if cluster.initialized() {
        return Err(Failure::message(format!(
            "{} is already an initialised cluster",
            cluster.data_directory().display()
        )));
    }
    cluster.init(
        &InitOptions::new()
            .encoding("UTF8")
            .locale("C")
            .auth("trust"),
    )?;
    let port = match port {
        Some(port) => port,
        None => free_port()?,
    };
    let mut settings = listen_settings(cluster);
    settings.push(("port", port.to_string()));
    cluster.settings().update(settings)?;
    Ok(port)
}

/// Starts the server with `options` and waits until it accepts connections.
pub fn start(cluster: &Cluster, options: &StartOptions) -> Result<(), ClusterError> {
    cluster.start(options)?;
    cluster.wait_until_started(WAIT)
}

/// Stops the server (fast shutdown: clients are disconnected) and waits until it is gone.
pub fn stop(cluster: &Cluster) -> Result<(), ClusterError> {
    cluster.shutdown()?;
    cluster.wait_until_stopped(WAIT)
}

/// The IRI of a running cluster's `postgres` database, as its superuser, over TCP when it
/// listens there.
pub fn iri(cluster: &Cluster) -> Result<String, ClusterError> {
    let address = cluster.address()?;
    let user = cluster.superuser();
    let host = address.host.as_deref().unwrap_or("localhost");
    Ok(format!("pq://{user}@{host}:{}/postgres", address.port))
}

/// Runs a `pgapi cluster` action; the exit status on success (`status` of a stopped
/// server is 3, as `pg_ctl status` has it).
pub fn run(action: &ClusterAction, out: &mut impl Write) -> Result<u8, Failure> {
    match action {
        ClusterAction::Init { dir, port } => {
            let cluster = open(dir)?;
            let port = init(&cluster, *port)?;
            writeln!(
                out,
                "initialised {} (superuser {}, port {port}, trust authentication)",
                cluster.data_directory().display(),
                cluster.superuser()
            )?;
            Ok(0)
        }
        ClusterAction::Start { dir, port } => {
            let cluster = initialised(dir)?;
            if let Some(pid) = cluster.pid() {
                writeln!(out, "already running (pid {pid})")?;
                return Ok(0);
            }
            let mut options = StartOptions::new();
            if let Some(port) = port {
                options = options.setting("port", port.to_string());
            }
            start(&cluster, &options)?;
            writeln!(
                out,
                "started (pid {}): {}",
                cluster.pid().unwrap_or_default(),
                iri(&cluster)?
            )?;
            Ok(0)
        }
        ClusterAction::Stop { dir } => {
            let cluster = initialised(dir)?;
            if !cluster.running() {
                return Err(Failure::message(format!(
                    "no server runs {}",
                    cluster.data_directory().display()
                )));
            }
            stop(&cluster)?;
            writeln!(out, "stopped")?;
            Ok(0)
        }
        ClusterAction::Status { dir } => {
            let cluster = initialised(dir)?;
            status(&cluster, out)
        }
    }
}

fn initialised(dir: &Path) -> Result<Cluster, Failure> {
    let cluster = open(dir)?;
    if !cluster.initialized() {
        return Err(Failure::message(format!(
            "{} is not an initialised cluster (see `pgapi cluster init`)",
            cluster.data_directory().display()
        )));
    }
    Ok(cluster)
}

fn status(cluster: &Cluster, out: &mut impl Write) -> Result<u8, Failure> {
    let address = cluster.address()?;
    let pid = cluster.pid();
    writeln!(out, "{}", if pid.is_some() { "running" } else { "stopped" })?;
    if let Some(pid) = pid {
        writeln!(out, "pid: {pid}")?;
    }
    writeln!(
        out,
        "address: {}:{}",
        address.host.as_deref().unwrap_or("(no TCP)"),
        address.port
    )?;
    if let Some(dir) = &address.socket_directory {
        writeln!(
            out,
            "socket: {}",
            dir.join(format!(".s.PGSQL.{}", address.port)).display()
        )?;
    }
    if pid.is_some() {
        writeln!(out, "iri: {}", iri(cluster)?)?;
    }
    writeln!(out, "data: {}", cluster.data_directory().display())?;
    Ok(if pid.is_some() { 0 } else { 3 })
}
