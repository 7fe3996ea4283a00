//! Connectors: immutable descriptions of a server and how to reach it, which make connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pg_exceptions::{
    ConnectionFailureError, Error, IgnoredClientParameterWarning, Message, Source,
};

use crate::category::Category;
use crate::link::Link;
use crate::params::{ConnectParams, Host, LoadBalanceHosts, SslMode};
use crate::wire::hooks::{Driver, HookChain, HookSlot, MessageHook};
use crate::wire::scram::SaltedPasswords;
use crate::wire::shared::Shared;
use crate::wire::socket::Socket;
use crate::wire::startup::{self, Established, Startup};
use crate::wire::transport::TlsFiles;
use crate::wire::transport::{self, Keepalive, PeerAddr};

/// An immutable description of a server and of how to reach it; it makes connections.
///
/// Cloning a connector is cheap. [`Connector::connect`] opens a new connection every time.
///
/// A connector keeps, in memory, the SCRAM salted passwords its servers confirmed (their
/// signatures verified), and the connectors made from it share them: connecting again to a
/// server that offers the same salt skips the password's key derivation (4,096 HMAC rounds by
/// PostgreSQL's default), as RFC 5802 allows. A salted password logs in wherever that salt and
/// password do, as the password itself, which the connector holds anyway.
#[derive(Clone)]
pub struct Connector {
    inner: Arc<ConnectorInner>,
}

#[derive(Clone)]
struct ConnectorInner {
    params: ConnectParams,
    driver: Arc<Driver>,
    hook: Option<MessageHook>,
    category: Option<Arc<dyn Category>>,
    /// A server refused the driver's `client_min_messages` as a startup parameter (a pooler):
    /// later connections leave it out. Shared with the connectors made from this one.
    level_refused: Arc<AtomicBool>,
    /// The SCRAM salted passwords servers confirmed: connecting again skips PBKDF2. Shared with
    /// the connectors made from this one.
    salted_passwords: Arc<SaltedPasswords>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_tuple("Connector");
        debug.field(&self.iri());
        if self.inner.category.is_some() {
            debug.field(&"category");
        }
        debug.finish()
    }
}

impl Connector {
    /// A connector for these parameters, on the global driver.
    pub fn new(params: ConnectParams) -> Connector {
        Connector::with_driver(params, Driver::global())
    }

    /// A connector for these parameters whose hook chain passes through `driver`.
    pub fn with_driver(params: ConnectParams, driver: Arc<Driver>) -> Connector {
        Connector {
            inner: Arc::new(ConnectorInner {
                params,
                driver,
                hook: None,
                category: None,
                level_refused: Arc::default(),
                salted_passwords: Arc::default(),
            }),
        }
    }

    /// A connector reaching a host by name: every address it resolves to is tried in turn.
    pub fn host(params: ConnectParams, host: impl Into<String>, port: u16) -> Connector {
        Connector::new(params.with_hosts(vec![Host::tcp(host, port)]))
    }

    /// A connector reaching an IPv4 address.
    pub fn ip4(params: ConnectParams, addr: std::net::Ipv4Addr, port: u16) -> Connector {
        Connector::host(params, addr.to_string(), port)
    }

    /// A connector reaching an IPv6 address.
    pub fn ip6(params: ConnectParams, addr: std::net::Ipv6Addr, port: u16) -> Connector {
        Connector::host(params, addr.to_string(), port)
    }

    /// A connector reaching a unix socket: a directory holding `.s.PGSQL.<port>`, or the file.
    pub fn unix(
        params: ConnectParams,
        path: impl Into<std::path::PathBuf>,
        port: u16,
    ) -> Connector {
        Connector::new(params.with_hosts(vec![Host::unix(path, port)]))
    }

    /// The same connector with a message hook of its own (between connections' and the driver's).
    pub fn with_message_hook(&self, hook: MessageHook) -> Connector {
        let mut inner = ConnectorInner::clone(&self.inner);
        inner.hook = Some(hook);
        Connector {
            inner: Arc::new(inner),
        }
    }

    /// The same connector with a category (py-postgresql's `category`): every connection it
    /// makes is initialised by it before it is handed out, and again by
    /// [`Connection::reset`](crate::Connection::reset) and a reconnect (see [`crate::category`]).
    pub fn with_category(&self, category: Arc<dyn Category>) -> Connector {
        let mut inner = ConnectorInner::clone(&self.inner);
        inner.category = Some(category);
        Connector {
            inner: Arc::new(inner),
        }
    }

    /// The category that initialises this connector's connections, if any.
    pub fn category(&self) -> Option<&Arc<dyn Category>> {
        self.inner.category.as_ref()
    }

    /// The parameters this connector connects with.
    pub fn params(&self) -> &ConnectParams {
        &self.inner.params
    }

    /// The connector written back as a `pq://` IRI, with the password obscured.
    pub fn iri(&self) -> String {
        self.inner.params.to_iri(true)
    }

    /// Reports the parameters the driver cannot honour, each as an
    /// IgnoredClientParameterWarning through the message hooks (py-postgresql's warning for
    /// them), before a connection is made.
    pub(crate) fn warn_ignored(&self) {
        let ignored = self.inner.params.ignored_parameters();
        if !ignored.is_empty() {
            let hooks = self.hooks();
            for name in ignored {
                // The name only: a value may be a secret (sslpassword, oauth_client_secret).
                let text = format!(
                    "the connection parameter \"{name}\" is ignored: the driver cannot honour it"
                );
                hooks.dispatch(
                    None,
                    &Message::new("WARNING", IgnoredClientParameterWarning.code(), text),
                );
            }
        }
    }

    /// The hook chain of a connection that has none of its own yet.
    fn hooks(&self) -> HookChain {
        HookChain {
            connection: HookSlot::default(),
            connector: self.inner.hook.clone(),
            driver: self.inner.driver.clone(),
        }
    }

    /// Connects to one host. A server that refuses the driver's own `client_min_messages`
    /// as a startup parameter (PgBouncer: "unsupported startup parameter") is tried again
    /// without it, and so are later connections of this connector: the level is the
    /// driver's default, never worth a failed connection.
    pub(crate) async fn attempt_host(&self, host: &Host) -> Result<Link, Error> {
        let refused = &self.inner.level_refused;
        let sent = self.inner.params.driver_client_min_messages().is_some();
        match self.attempt_host_once(host).await {
            Err(error) if sent && !refused.load(Ordering::Relaxed) && refuses_level(&error) => {
                refused.store(true, Ordering::Relaxed);
                let reason = "the server refused client_min_messages as a startup parameter";
                crate::trace::reconnect(self, reason);
                self.attempt_host_once(host).await
            }
            attempt => attempt,
        }
    }

    async fn attempt_host_once(&self, host: &Host) -> Result<Link, Error> {
        match host {
            Host::Unix { .. } => {
                let file = host.socket_path().unwrap_or_default();
                let stream = transport::unix(&file).await?;
                let socket = Socket::Unix(stream);
                self.finish(socket, None, PeerAddr::Unix(file), host).await
            }
            Host::Tcp {
                host: name,
                hostaddr,
                port,
            } => {
                let mut addrs: Vec<std::net::SocketAddr> = match hostaddr {
                    Some(ip) => vec![std::net::SocketAddr::new(*ip, *port)],
                    None => tokio::net::lookup_host((name.as_str(), *port))
                        .await
                        .map_err(|e| {
                            Error::client(
                                &ConnectionFailureError,
                                format!("cannot resolve host {name}"),
                            )
                            .with_cause(e)
                        })?
                        .collect(),
                };
                if let Some(version) = self.inner.params.ip_version() {
                    // py-postgresql's `ipv`: that address family only.
                    addrs.retain(|addr| version.admits(addr));
                    if addrs.is_empty() {
                        return Err(Error::client(
                            &ConnectionFailureError,
                            format!("host {name} has no {version} address (ipv)"),
                        ));
                    }
                }
                if self.inner.params.load_balance_hosts() == LoadBalanceHosts::Random {
                    shuffle(&mut addrs);
                }
                let mut last = None;
                for addr in addrs {
                    match self.attempt_addr(addr, name, host).await {
                        Ok(link) => return Ok(link),
                        Err(error) => last = Some(error),
                    }
                }
                Err(last.unwrap_or_else(|| {
                    Error::client(
                        &ConnectionFailureError,
                        format!("host {name} has no address"),
                    )
                }))
            }
        }
    }

    async fn attempt_addr(
        &self,
        addr: std::net::SocketAddr,
        name: &str,
        host: &Host,
    ) -> Result<Link, Error> {
        let params = &self.inner.params;
        let keepalive = Keepalive {
            enabled: params.keepalives(),
            idle: params.keepalives_idle(),
            interval: params.keepalives_interval(),
            count: params.keepalives_count(),
        };
        let peer = PeerAddr::Tcp {
            addr,
            host: name.to_owned(),
        };
        let files = TlsFiles {
            sslmode: params.ssl_mode(),
            sslrootcert: params.ssl_root_cert(),
            sslcert: params.ssl_cert(),
            sslkey: params.ssl_key(),
        };
        let plain = || async {
            let stream = transport::tcp(addr, keepalive).await?;
            self.finish(Socket::Tcp(stream), None, peer.clone(), host)
                .await
        };
        let encrypted = || async {
            #[cfg(not(feature = "tls"))]
            return Err(transport::no_tls(name, &files));
            #[cfg(feature = "tls")]
            {
                let stream = transport::tcp(addr, keepalive).await?;
                let negotiated = transport::negotiate_tls(stream, name, &files).await?;
                self.finish(negotiated.socket, negotiated.end_point, peer.clone(), host)
                    .await
            }
        };
        match params.ssl_mode() {
            SslMode::Disable => plain().await,
            // allow: plain first; encryption only when the server turns a plain session away.
            SslMode::Allow => match plain().await {
                Ok(link) => Ok(link),
                Err(error) if error.source_kind() == Source::Server => encrypted().await,
                Err(error) => Err(error),
            },
            // prefer: encryption first; plain when that fails, also when the server turns the
            // encrypted session away (libpq: pg_hba.conf `hostnossl` rules).
            SslMode::Prefer => match encrypted().await {
                Ok(link) => Ok(link),
                Err(tls_error) => plain().await.map_err(|error| {
                    error.with_context("also failed", format!("over TLS: {}", tls_error.message()))
                }),
            },
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => encrypted().await,
        }
    }

    async fn finish(
        &self,
        mut socket: Socket,
        end_point: Option<Vec<u8>>,
        peer: PeerAddr,
        host: &Host,
    ) -> Result<Link, Error> {
        let params = &self.inner.params;
        let password = match params.password() {
            Some(password) => Some(password.expose().to_owned()),
            None => self.passfile_password(host),
        };
        let startup = Startup {
            user: params.user(),
            password: password.as_deref(),
            database: Some(params.database()),
            settings: match self.inner.level_refused.load(Ordering::Relaxed) {
                true => params.startup_settings_without_level(),
                false => params.startup_settings(),
            },
            channel_binding: params.channel_binding(),
            require_auth: params.require_auth(),
            encoding: params.server_encoding(),
            salted_passwords: &self.inner.salted_passwords,
        };
        let tls = socket.is_tls();
        let client_addr = socket.local_addr();
        let Established {
            parameters,
            backend_key,
            notices,
            read_buf,
            status,
            auth_method,
        } = startup::startup(&mut socket, &startup, end_point).await?;
        let hooks = self.hooks();
        let shared = Arc::new(Shared::new(parameters, hooks));
        shared.set_notification_capacity(params.notification_capacity());
        shared.set_status(status);
        for notice in notices {
            shared.hooks.dispatch(None, &notice);
            shared.push_notice(notice);
        }
        let cancel = crate::wire::cancel::CancelHandle::new(peer.clone(), backend_key);
        let cancel = backend_key.is_some().then_some(cancel);
        let tx = crate::wire::task::spawn(socket, read_buf, shared.clone(), cancel);
        Ok(Link {
            tx,
            shared,
            backend_key,
            peer,
            tls,
            auth_method,
            client_addr,
            types: Default::default(),
            version: Default::default(),
            next_id: Default::default(),
            statements: Default::default(),
            xacts: Default::default(),
            session: Default::default(),
            resets: Default::default(),
            cleans: Default::default(),
            observe: crate::params::Observe::of(params),
        })
    }

    /// The password from the password file, when the parameters name none.
    fn passfile_password(&self, host: &Host) -> Option<String> {
        match self.inner.params.passfile_password(host) {
            Ok(found) => found.map(|p| p.expose().to_owned()),
            Err(warning) => {
                let message = Message::new("WARNING", "01-00", warning.to_string());
                self.hooks().dispatch(None, &message);
                None
            }
        }
    }
}

/// Shuffles hosts or addresses (`load_balance_hosts=random`).
pub(crate) fn shuffle<T>(items: &mut [T]) {
    use rand::seq::SliceRandom;
    items.shuffle(&mut rand::rng());
}

/// Whether a server refused the startup parameter `client_min_messages` (PgBouncer's
/// "unsupported startup parameter: client_min_messages", a protocol violation).
fn refuses_level(error: &Error) -> bool {
    error.source_kind() == Source::Server
        && error.code() == "08P01"
        && error.message().contains(crate::params::CLIENT_MIN_MESSAGES)
}
