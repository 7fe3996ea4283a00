//! A fake PostgreSQL server on 127.0.0.1 for the tests of what the client does with a server
//! that lies: each accepted connection runs a script the test writes, message by message.
//!
//! Bounds: every read a script makes waits at most [`LIMIT`], each connection's script at most
//! [`LIMIT`] in all, and the listener lives at most [`LIFETIME`]; dropping the [`FakeServer`]
//! (at the end of the test) stops the listener and every connection's script at once.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Buf, Bytes, BytesMut};
use hmac::{Hmac, KeyInit, Mac};
use pg_driver::params::{Keywords, SslMode};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// How long a script waits for one message, and how long one connection's script may run.
pub const LIMIT: Duration = Duration::from_secs(10);
/// How long the listener accepts connections.
pub const LIFETIME: Duration = Duration::from_secs(120);

/// The user and database the fake server's connections are made with.
pub const USER: &str = "alice";
/// The password clients give the fake server (it never goes anywhere else).
pub const PASSWORD: &str = "fake-server secret";

const SSL_REQUEST: i32 = 80_877_103;
const GSSENC_REQUEST: i32 = 80_877_104;
const CANCEL_REQUEST: i32 = 80_877_102;

/// Both directions of a client connection, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What a script is: given the client, after its startup packet, talk to it.
pub type Script =
    Arc<dyn Fn(Peer) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send>> + Send + Sync>;

/// Makes a [`Script`] from an async closure.
pub fn script<F, Fut>(f: F) -> Script
where
    F: Fn(Peer) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    Arc::new(move |peer| Box::pin(f(peer)))
}

/// A running fake server; dropped, it stops.
pub struct FakeServer {
    port: u16,
    tls: bool,
    seen: Arc<Mutex<Vec<(u8, Bytes)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        // Aborting the listener drops its JoinSet, which aborts every connection's script.
        self.task.abort();
    }
}

impl FakeServer {
    /// A server without TLS: it answers an SSLRequest with `N`.
    pub async fn start(script: Script) -> FakeServer {
        FakeServer::start_with(script, None).await
    }

    /// A server with TLS, under a self-signed certificate made now.
    pub async fn start_tls(script: Script) -> FakeServer {
        let key = rcgen::KeyPair::generate().expect("a key");
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("certificate parameters");
        let cert = params.self_signed(&key).expect("a self-signed certificate");
        let der =
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("a private key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der)
        .expect("a TLS server configuration");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        FakeServer::start_with(script, Some(acceptor)).await
    }

    async fn start_with(script: Script, tls: Option<tokio_rustls::TlsAcceptor>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("a local address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let is_tls = tls.is_some();
        let log = seen.clone();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            let accept = async {
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    let (script, tls, log) = (script.clone(), tls.clone(), log.clone());
                    connections.spawn(async move {
                        let run = async {
                            let Some(peer) = Peer::accept(Box::new(stream), tls, log).await? else {
                                return Ok(());
                            };
                            script(peer).await
                        };
                        // A script that fails or overruns just ends its connection.
                        let _ = tokio::time::timeout(LIMIT, run).await;
                    });
                    // Reap finished scripts so the set does not grow.
                    while connections.try_join_next().is_some() {}
                }
            };
            let _ = tokio::time::timeout(LIFETIME, accept).await;
        });
        FakeServer {
            port,
            tls: is_tls,
            seen,
            task,
        }
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Keywords reaching this server as [`USER`] with [`PASSWORD`]: TLS required for a TLS
    /// server (without certificate checks) and off otherwise, no password file, a short
    /// connect timeout.
    pub fn keywords(&self) -> Keywords {
        Keywords::new()
            .host("127.0.0.1")
            .port(self.port)
            .user(USER)
            .password(PASSWORD)
            .database(USER)
            .ssl_mode(if self.tls {
                SslMode::Require
            } else {
                SslMode::Disable
            })
            .passfile("/nonexistent-fake-server/pgpass")
            .connect_timeout(Duration::from_secs(5))
    }

    /// The tags of the messages the server received from clients, in order, after the
    /// startup packets.
    pub fn seen_tags(&self) -> Vec<u8> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(tag, _)| *tag)
            .collect()
    }
}

/// One client connection, as a script sees it.
pub struct Peer {
    stream: Box<dyn Io>,
    buf: BytesMut,
    log: Arc<Mutex<Vec<(u8, Bytes)>>>,
    /// The startup packet's parameters (`user`, `database`, …).
    pub params: HashMap<String, String>,
}

impl Peer {
    /// Reads the client's first packets: an SSLRequest (answered `S` and a handshake when
    /// there is an acceptor, `N` otherwise), then the startup packet. `None` for a cancel
    /// request.
    async fn accept(
        mut stream: Box<dyn Io>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        log: Arc<Mutex<Vec<(u8, Bytes)>>>,
    ) -> io::Result<Option<Peer>> {
        loop {
            let packet = read_untagged(&mut stream).await?;
            let code = (&packet[..]).get_i32();
            match code {
                SSL_REQUEST => match &tls {
                    Some(acceptor) => {
                        stream.write_all(b"S").await?;
                        stream.flush().await?;
                        let tls = within(acceptor.accept(stream)).await??;
                        stream = Box::new(tls);
                    }
                    None => {
                        stream.write_all(b"N").await?;
                        stream.flush().await?;
                    }
                },
                GSSENC_REQUEST => {
                    stream.write_all(b"N").await?;
                    stream.flush().await?;
                }
                CANCEL_REQUEST => return Ok(None),
                _ => {
                    let mut params = HashMap::new();
                    let mut fields = packet[4..].split(|&b| b == 0);
                    while let (Some(k), Some(v)) = (fields.next(), fields.next()) {
                        if k.is_empty() {
                            break;
                        }
                        params.insert(
                            String::from_utf8_lossy(k).into_owned(),
                            String::from_utf8_lossy(v).into_owned(),
                        );
                    }
                    return Ok(Some(Peer {
                        stream,
                        buf: BytesMut::new(),
                        log,
                        params,
                    }));
                }
            }
        }
    }

    /// Sends bytes (one or more whole messages, or anything else) and flushes.
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// The next message from the client: its tag and body. An error when the client closes
    /// the connection or sends nothing within [`LIMIT`].
    pub async fn recv(&mut self) -> io::Result<(u8, Bytes)> {
        loop {
            if self.buf.len() >= 5 {
                let len = (&self.buf[1..5]).get_u32() as usize;
                if len < 4 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "bad length"));
                }
                if self.buf.len() > len {
                    let mut frame = self.buf.split_to(len + 1);
                    let tag = frame[0];
                    frame.advance(5);
                    let body = frame.freeze();
                    self.log
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((tag, body.clone()));
                    return Ok((tag, body));
                }
            }
            let n = within(self.stream.read_buf(&mut self.buf)).await??;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Waits (at most [`LIMIT`]) for the client to close the connection, reading whatever it
    /// sends first; true when it closed.
    pub async fn closed_by_client(&mut self) -> bool {
        loop {
            match self.recv().await {
                Ok(_) => continue,
                Err(e) => return e.kind() == io::ErrorKind::UnexpectedEof,
            }
        }
    }

    /// What a session starts with after authentication: a few ParameterStatus messages,
    /// BackendKeyData and ReadyForQuery (idle).
    pub async fn finish_startup(&mut self) -> io::Result<()> {
        let mut out = BytesMut::new();
        for (name, value) in [
            ("server_version", "17.0"),
            ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO, MDY"),
            ("integer_datetimes", "on"),
            ("standard_conforming_strings", "on"),
            ("TimeZone", "UTC"),
        ] {
            out.extend_from_slice(&msg::parameter_status(name, value));
        }
        out.extend_from_slice(&msg::backend_key(4242, 0x5eed));
        out.extend_from_slice(&msg::ready(b'I'));
        self.send(&out).await
    }

    /// Authentication accepted at once, then [`Peer::finish_startup`].
    pub async fn trust(&mut self) -> io::Result<()> {
        self.send(&msg::auth_ok()).await?;
        self.finish_startup().await
    }
}

async fn within<F: Future>(f: F) -> io::Result<F::Output> {
    tokio::time::timeout(LIMIT, f)
        .await
        .map_err(|_| io::ErrorKind::TimedOut.into())
}

/// Reads a length-prefixed packet without a tag (startup, SSLRequest, cancel); returns what
/// follows the length.
async fn read_untagged(stream: &mut Box<dyn Io>) -> io::Result<Bytes> {
    let mut len = [0u8; 4];
    within(stream.read_exact(&mut len)).await??;
    let len = u32::from_be_bytes(len) as usize;
    if !(8..=10_000).contains(&len) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "bad packet"));
    }
    let mut body = vec![0u8; len - 4];
    within(stream.read_exact(&mut body)).await??;
    Ok(body.into())
}

/// Backend messages.
pub mod msg {
    use bytes::{BufMut, BytesMut};

    /// A message with this tag and body, its length computed.
    pub fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        out.put_u8(tag);
        out.put_u32(body.len() as u32 + 4);
        out.put_slice(body);
        out.to_vec()
    }

    fn auth(code: u32, rest: &[u8]) -> Vec<u8> {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(rest);
        frame(b'R', &body)
    }

    /// AuthenticationOk.
    pub fn auth_ok() -> Vec<u8> {
        auth(0, &[])
    }
    /// AuthenticationCleartextPassword.
    pub fn auth_cleartext() -> Vec<u8> {
        auth(3, &[])
    }
    /// AuthenticationMD5Password with this salt.
    pub fn auth_md5(salt: [u8; 4]) -> Vec<u8> {
        auth(5, &salt)
    }
    /// AuthenticationGSS.
    pub fn auth_gss() -> Vec<u8> {
        auth(7, &[])
    }
    /// AuthenticationSSPI.
    pub fn auth_sspi() -> Vec<u8> {
        auth(9, &[])
    }
    /// AuthenticationSASL offering these mechanisms.
    pub fn auth_sasl(mechanisms: &[&str]) -> Vec<u8> {
        let mut rest = Vec::new();
        for m in mechanisms {
            rest.extend_from_slice(m.as_bytes());
            rest.push(0);
        }
        rest.push(0);
        auth(10, &rest)
    }
    /// AuthenticationSASLContinue.
    pub fn sasl_continue(data: &[u8]) -> Vec<u8> {
        auth(11, data)
    }
    /// AuthenticationSASLFinal.
    pub fn sasl_final(data: &[u8]) -> Vec<u8> {
        auth(12, data)
    }
    /// ParameterStatus.
    pub fn parameter_status(name: &str, value: &str) -> Vec<u8> {
        let mut body = Vec::new();
        for s in [name, value] {
            body.extend_from_slice(s.as_bytes());
            body.push(0);
        }
        frame(b'S', &body)
    }
    /// BackendKeyData.
    pub fn backend_key(pid: i32, key: i32) -> Vec<u8> {
        let mut body = pid.to_be_bytes().to_vec();
        body.extend_from_slice(&key.to_be_bytes());
        frame(b'K', &body)
    }
    /// ReadyForQuery with this transaction status.
    pub fn ready(status: u8) -> Vec<u8> {
        frame(b'Z', &[status])
    }
    /// A one-column text RowDescription.
    pub fn row_description(name: &str) -> Vec<u8> {
        let mut body = BytesMut::new();
        body.put_i16(1);
        body.put_slice(name.as_bytes());
        body.put_u8(0);
        body.put_i32(0); // table
        body.put_i16(0); // column
        body.put_u32(25); // text
        body.put_i16(-1);
        body.put_i32(-1);
        body.put_i16(0); // text format
        frame(b'T', &body)
    }
    /// A one-column DataRow.
    pub fn data_row(value: &str) -> Vec<u8> {
        let mut body = BytesMut::new();
        body.put_i16(1);
        body.put_i32(value.len() as i32);
        body.put_slice(value.as_bytes());
        frame(b'D', &body)
    }
    /// CommandComplete.
    pub fn command_complete(tag: &str) -> Vec<u8> {
        let mut body = tag.as_bytes().to_vec();
        body.push(0);
        frame(b'C', &body)
    }
    /// A header announcing `len` bytes (length field included) of a message with this tag,
    /// and nothing more: for lengths no server may send.
    pub fn header(tag: u8, len: u32) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend_from_slice(&len.to_be_bytes());
        out
    }
}

/// The server's side of SCRAM-SHA-256 (RFC 5802/7677), for [`USER`]'s [`PASSWORD`]: it
/// reads the client's messages and makes the server's, with a right or a wrong signature.
pub struct ScramServer {
    server_key: Vec<u8>,
    salt: Vec<u8>,
    iterations: u32,
    client_first_bare: String,
    server_first: String,
}

impl ScramServer {
    /// A verifier for `password`, as the server stores it.
    pub fn new(password: &str) -> ScramServer {
        // "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"
        let stored = postgres_protocol::password::scram_sha_256(password.as_bytes());
        let (_, rest) = stored.split_once('$').expect("a SCRAM verifier");
        let (params, keys) = rest.split_once('$').expect("a SCRAM verifier");
        let (iterations, salt) = params.split_once(':').expect("a SCRAM verifier");
        let (_, server_key) = keys.split_once(':').expect("a SCRAM verifier");
        ScramServer {
            server_key: BASE64.decode(server_key).expect("base64"),
            salt: BASE64.decode(salt).expect("base64"),
            iterations: iterations.parse().expect("a count"),
            client_first_bare: String::new(),
            server_first: String::new(),
        }
    }

    /// Reads the SASLInitialResponse body (mechanism, length, client-first message); returns
    /// the mechanism the client chose and the server-first message to send.
    pub fn server_first(&mut self, initial_response: &[u8]) -> (String, Vec<u8>) {
        let nul = initial_response
            .iter()
            .position(|&b| b == 0)
            .expect("a mechanism name");
        let mechanism = String::from_utf8_lossy(&initial_response[..nul]).into_owned();
        let mut rest = &initial_response[nul + 1..];
        let len = rest.get_i32() as usize;
        let client_first = std::str::from_utf8(&rest[..len]).expect("UTF-8");
        // gs2-header: "<flag>,<authzid>," then the bare message.
        let mut parts = client_first.splitn(3, ',');
        let (_, _, bare) = (
            parts.next(),
            parts.next(),
            parts.next().expect("a bare part"),
        );
        self.client_first_bare = bare.to_owned();
        let client_nonce = bare
            .split(',')
            .find_map(|a| a.strip_prefix("r="))
            .expect("a client nonce");
        self.server_first = format!(
            "r={client_nonce}fakeservernonce,s={},i={}",
            BASE64.encode(&self.salt),
            self.iterations
        );
        (mechanism, self.server_first.clone().into_bytes())
    }

    /// Reads the client-final message (a SASLResponse body); returns the server-final message
    /// to send, with the right signature or, when `forged`, a wrong one.
    pub fn server_final(&self, client_final: &[u8], forged: bool) -> Vec<u8> {
        let client_final = std::str::from_utf8(client_final).expect("UTF-8");
        let without_proof = &client_final[..client_final.rfind(",p=").expect("a proof")];
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.server_key).expect("any key size");
        mac.update(auth_message.as_bytes());
        let mut signature = mac.finalize().into_bytes().to_vec();
        if forged {
            signature[0] ^= 0xff;
        }
        format!("v={}", BASE64.encode(signature)).into_bytes()
    }
}

/// Offers `mechanisms` and reads the client-first message: returns the server's state, the
/// mechanism the client chose and the server-first message to send next (if the script goes
/// on; the client's answer to it is its client-final message).
pub async fn scram_begin(
    peer: &mut Peer,
    mechanisms: &[&str],
) -> io::Result<(ScramServer, String, Vec<u8>)> {
    peer.send(&msg::auth_sasl(mechanisms)).await?;
    let (tag, body) = peer.recv().await?;
    if tag != b'p' {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no SASL answer"));
    }
    let mut scram = ScramServer::new(PASSWORD);
    let (mechanism, first) = scram.server_first(&body);
    Ok((scram, mechanism, first))
}

/// The whole SCRAM exchange, with the right (or, when `forged`, a wrong) server signature,
/// then AuthenticationOk and the rest of the startup.
pub async fn scram_complete(peer: &mut Peer, mechanisms: &[&str], forged: bool) -> io::Result<()> {
    let (scram, _, first) = scram_begin(peer, mechanisms).await?;
    peer.send(&msg::sasl_continue(&first)).await?;
    let (_, client_final) = peer.recv().await?;
    let fin = scram.server_final(&client_final, forged);
    peer.send(&msg::sasl_final(&fin)).await?;
    peer.trust().await
}
