//! Reaching the server: TCP (with keepalives and no Nagle delay) or a unix socket, then the
//! SSLRequest negotiation the sslmode asks for.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "tls")]
use pg_exceptions::ProtocolError;
use pg_exceptions::{ConnectionFailureError, Error, InsecurityError};
#[cfg(feature = "tls")]
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::params::SslMode;
#[cfg(feature = "tls")]
use crate::wire::socket::Socket;
#[cfg(feature = "tls")]
use crate::wire::tls;

/// Where the client's trust and identity come from.
pub(crate) struct TlsFiles<'a> {
    pub sslmode: SslMode,
    pub sslrootcert: Option<&'a std::path::Path>,
    pub sslcert: Option<&'a std::path::Path>,
    pub sslkey: Option<&'a std::path::Path>,
}

/// Where a connection's bytes went: needed again to send a CancelRequest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerAddr {
    /// A TCP address, with the host name it was reached by.
    Tcp {
        /// The resolved address.
        addr: SocketAddr,
        /// The host as given (a name or an address literal).
        host: String,
    },
    /// A unix socket file.
    Unix(PathBuf),
}

/// TCP keepalive settings (libpq's keepalives, keepalives_idle, _interval, _count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Keepalive {
    pub(crate) enabled: bool,
    pub(crate) idle: Option<Duration>,
    pub(crate) interval: Option<Duration>,
    pub(crate) count: Option<u32>,
}

fn io_failure(what: String, e: std::io::Error) -> Error {
    Error::client(&ConnectionFailureError, what).with_cause(e)
}

/// Opens a TCP connection with TCP_NODELAY and the keepalive settings.
pub(crate) async fn tcp(addr: SocketAddr, keepalive: Keepalive) -> Result<TcpStream, Error> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| io_failure(format!("cannot connect to {addr}"), e))?;
    stream
        .set_nodelay(true)
        .map_err(|e| io_failure("cannot set TCP_NODELAY".into(), e))?;
    if keepalive.enabled {
        let mut ka = socket2::TcpKeepalive::new();
        if let Some(idle) = keepalive.idle {
            ka = ka.with_time(idle);
        }
        if let Some(interval) = keepalive.interval {
            ka = ka.with_interval(interval);
        }
        if let Some(count) = keepalive.count {
            ka = ka.with_retries(count);
        }
        socket2::SockRef::from(&stream)
            .set_tcp_keepalive(&ka)
            .map_err(|e| io_failure("cannot set TCP keepalives".into(), e))?;
    }
    Ok(stream)
}

/// Opens a unix-socket connection.
pub(crate) async fn unix(path: &std::path::Path) -> Result<UnixStream, Error> {
    UnixStream::connect(path).await.map_err(|e| {
        io_failure(
            format!("cannot connect to unix socket {}", path.display()),
            e,
        )
    })
}

/// The outcome of the SSLRequest exchange.
#[cfg(feature = "tls")]
pub(crate) struct Negotiated {
    pub(crate) socket: Socket,
    /// The `tls-server-end-point` channel-binding data, when TLS is in use.
    pub(crate) end_point: Option<Vec<u8>>,
}

/// Asks the server for TLS and, when it agrees, performs the handshake.
///
/// A server that declines is accepted only when the sslmode does not demand encryption.
#[cfg(feature = "tls")]
pub(crate) async fn negotiate_tls(
    mut stream: TcpStream,
    host: &str,
    files: &TlsFiles<'_>,
) -> Result<Negotiated, Error> {
    let (config, _) = tls::client_config(files)?;
    let mut request = bytes::BytesMut::new();
    postgres_protocol::message::frontend::ssl_request(&mut request);
    stream
        .write_all(&request)
        .await
        .map_err(|e| io_failure("cannot send the SSL request".into(), e))?;
    let mut answer = [0u8; 1];
    stream
        .read_exact(&mut answer)
        .await
        .map_err(|e| io_failure("the server hung up on the SSL request".into(), e))?;
    match answer[0] {
        b'S' => {
            let connector = tokio_rustls::TlsConnector::from(config);
            let tls = connector
                .connect(tls::server_name(host), stream)
                .await
                .map_err(|e| {
                    Error::client(
                        &InsecurityError,
                        format!("the TLS handshake with {host} failed"),
                    )
                    .with_cause(e)
                })?;
            let end_point = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|cert| tls::server_end_point(cert.as_ref()));
            Ok(Negotiated {
                socket: Socket::Tls(Box::new(tls)),
                end_point,
            })
        }
        b'N' if matches!(
            files.sslmode,
            SslMode::Allow | SslMode::Prefer | SslMode::Disable
        ) =>
        {
            Ok(Negotiated {
                socket: Socket::Tcp(stream),
                end_point: None,
            })
        }
        b'N' => Err(Error::client(
            &InsecurityError,
            format!("the server at {host} does not support TLS, and the sslmode requires it"),
        )),
        other => Err(Error::client(
            &ProtocolError,
            format!("unexpected answer {other:#04x} to the SSL request"),
        )),
    }
}

/// The error of a build without the `tls` feature asked for encryption.
/// An sslmode that demands encryption fails before anything is sent; `prefer` then connects
/// in the clear, as it does when a server declines.
#[cfg(not(feature = "tls"))]
pub(crate) fn no_tls(host: &str, files: &TlsFiles<'_>) -> Error {
    let _ = (files.sslrootcert, files.sslcert, files.sslkey);
    Error::client(
        &InsecurityError,
        format!(
            "cannot encrypt the connection to {host} (sslmode={}): this build of pg-driver has \
             no TLS (its `tls` feature is off); use sslmode=disable or prefer, or build with \
             the feature",
            files.sslmode
        ),
    )
}
