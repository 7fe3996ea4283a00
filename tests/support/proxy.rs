//! A TCP proxy on 127.0.0.1 that understands enough of the protocol to break it on purpose:
//! it forwards the frontend/backend message streams and consults a plan at every message.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which way a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// From the client to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

/// What the proxy does with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Pass it on.
    Forward,
    /// Close both sockets without passing it on.
    CutBefore,
    /// Pass it on, then close both sockets.
    CutAfter,
    /// Pass half of it on, then close both sockets.
    CutHalfway,
    /// Stop forwarding in both directions, keeping the sockets open, for this long.
    Stall(Duration),
}

/// Decides, for each message (its way, tag — 0 for the untagged startup packet — and whole frame),
/// what to do. Called in order for each direction of each proxied connection.
pub type Plan = Arc<dyn Fn(Way, u8, &[u8]) -> Action + Send + Sync>;

/// A running proxy; dropped, it stops accepting.
pub struct Proxy {
    /// The port clients connect to.
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Starts a proxy to `server` following `plan`.
    pub async fn start(server: std::net::SocketAddr, plan: Plan) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let plan = plan.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(server).await {
                        pipe(client, server, plan).await;
                    }
                });
            }
        });
        Proxy { port, task }
    }
}

async fn pipe(client: TcpStream, server: TcpStream, plan: Plan) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let up = forward(
        client_read,
        server_write,
        Way::ToServer,
        plan.clone(),
        stop_tx.clone(),
        stop.clone(),
    );
    let down = forward(
        server_read,
        client_write,
        Way::ToClient,
        plan,
        stop_tx,
        stop,
    );
    tokio::join!(up, down);
}

async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    way: Way,
    plan: Plan,
    stop_tx: tokio::sync::watch::Sender<bool>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut buf = Vec::new();
    let mut startup = way == Way::ToServer;
    loop {
        // One whole message: the startup packet has no tag.
        let header = if startup { 4 } else { 5 };
        while buf.len() < header {
            if !read_more(&mut from, &mut buf, &mut stop).await {
                return;
            }
        }
        let (tag, len) = if startup {
            (
                0u8,
                u32::from_be_bytes(buf[0..4].try_into().unwrap()) as usize,
            )
        } else {
            (
                buf[0],
                u32::from_be_bytes(buf[1..5].try_into().unwrap()) as usize + 1,
            )
        };
        while buf.len() < len {
            if !read_more(&mut from, &mut buf, &mut stop).await {
                return;
            }
        }
        let frame: Vec<u8> = buf.drain(..len).collect();
        // SSLRequest and GSSENCRequest are followed by the real startup packet.
        startup = startup && len == 8 && frame[4..8] != [0, 3, 0, 0];
        match plan(way, tag, &frame) {
            Action::Forward => {
                if to.write_all(&frame).await.is_err() {
                    return;
                }
            }
            Action::CutBefore => {
                let _ = stop_tx.send(true);
                return;
            }
            Action::CutAfter => {
                let _ = to.write_all(&frame).await;
                let _ = stop_tx.send(true);
                return;
            }
            Action::CutHalfway => {
                let _ = to.write_all(&frame[..frame.len() / 2]).await;
                let _ = stop_tx.send(true);
                return;
            }
            Action::Stall(duration) => {
                tokio::time::sleep(duration).await;
                let _ = to.write_all(&frame).await;
            }
        }
    }
}

/// Reads more bytes; false at end of stream or when the other direction cut the connection.
async fn read_more(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    buf: &mut Vec<u8>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let mut chunk = [0u8; 8192];
    tokio::select! {
        read = from.read(&mut chunk) => match read {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                true
            }
        },
        _ = stop.changed() => false,
    }
}
