//! Query cancellation: a CancelRequest sent on a new socket to the same server.

use bytes::BytesMut;
use pg_exceptions::{ConnectionFailureError, Error, OperationError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::wire::transport::PeerAddr;

/// Cancels the query running on one connection; usable from any task or thread.
///
/// Its `Debug` shows the server and the backend's pid, not the secret key that lets anyone
/// holding it cancel the session's queries.
#[derive(Clone)]
pub struct CancelHandle {
    peer: PeerAddr,
    key: Option<(i32, i32)>,
}

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelHandle")
            .field("peer", &self.peer)
            .field("pid", &self.key.map(|(pid, _)| pid))
            .finish_non_exhaustive()
    }
}

impl CancelHandle {
    pub(crate) fn new(peer: PeerAddr, key: Option<(i32, i32)>) -> CancelHandle {
        CancelHandle { peer, key }
    }

    fn request(&self) -> Result<BytesMut, Error> {
        let (pid, secret) = self.key.ok_or_else(|| {
            Error::client(
                &OperationError,
                "the server sent no cancellation key for this connection",
            )
        })?;
        let mut buf = BytesMut::new();
        postgres_protocol::message::frontend::cancel_request(pid, secret, &mut buf);
        Ok(buf)
    }

    /// The `cancel` event (INFO, target `pg_driver::cancel`): a message sent, as the engine
    /// reports what it says of its own accord (never the secret key).
    fn announce(&self) {
        let server = match &self.peer {
            PeerAddr::Tcp { addr, .. } => addr.to_string(),
            PeerAddr::Unix(path) => path.display().to_string(),
        };
        tracing::info!(
            name: "cancel",
            target: "pg_driver::cancel",
            server = server.as_str(),
            backend_pid = self.key.map(|(pid, _)| pid),
            "cancel request"
        );
    }

    /// Sends the CancelRequest and waits for the server to close the cancel socket.
    pub async fn cancel(&self) -> Result<(), Error> {
        let request = self.request()?;
        self.announce();
        let failed = |e: std::io::Error| {
            Error::client(&ConnectionFailureError, "cannot send the cancel request").with_cause(e)
        };
        match &self.peer {
            PeerAddr::Tcp { addr, .. } => {
                let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(failed)?;
                stream.write_all(&request).await.map_err(failed)?;
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink).await;
            }
            PeerAddr::Unix(path) => {
                let mut stream = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(failed)?;
                stream.write_all(&request).await.map_err(failed)?;
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink).await;
            }
        }
        Ok(())
    }

    /// The blocking form of [`CancelHandle::cancel`], for threads without a runtime.
    pub fn cancel_blocking(&self) -> Result<(), Error> {
        use std::io::{Read, Write};
        let request = self.request()?;
        self.announce();
        let failed = |e: std::io::Error| {
            Error::client(&ConnectionFailureError, "cannot send the cancel request").with_cause(e)
        };
        let mut sink = Vec::new();
        match &self.peer {
            PeerAddr::Tcp { addr, .. } => {
                let mut stream = std::net::TcpStream::connect(addr).map_err(failed)?;
                stream.write_all(&request).map_err(failed)?;
                let _ = stream.read_to_end(&mut sink);
            }
            PeerAddr::Unix(path) => {
                let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(failed)?;
                stream.write_all(&request).map_err(failed)?;
                let _ = stream.read_to_end(&mut sink);
            }
        }
        Ok(())
    }
}
