//! The byte stream under a connection: TCP, a unix socket, or TLS over TCP.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream, tcp, unix};
use tokio_rustls::client::TlsStream;

/// One connected transport. TLS runs only over TCP: PostgreSQL refuses it on unix sockets.
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Socket {
    /// Whether the bytes travel encrypted.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Socket::Tls(_))
    }

    /// The local address, for TCP transports.
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        match self {
            Socket::Tcp(s) => s.local_addr().ok(),
            Socket::Tls(s) => s.get_ref().0.local_addr().ok(),
            Socket::Unix(_) => None,
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Socket::Tcp($s) => {
                let $s = Pin::new($s);
                $e
            }
            Socket::Unix($s) => {
                let $s = Pin::new($s);
                $e
            }
            Socket::Tls($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
        }
    };
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Socket::Tcp(s) => s.is_write_vectored(),
            Socket::Unix(s) => s.is_write_vectored(),
            Socket::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// The connection task's transport. TCP and unix sockets are split so that a handle can write
/// a request itself while the task is idle (see [`DirectWriter`]): the request then reaches
/// the server without waking the task, which on a multi-threaded runtime is a thread woken
/// per round trip. TLS keeps its session state in one place and stays whole.
pub(crate) enum TaskSocket {
    Whole(Socket),
    Tcp(tcp::OwnedReadHalf, Arc<tcp::OwnedWriteHalf>),
    Unix(unix::OwnedReadHalf, Arc<unix::OwnedWriteHalf>),
}

/// A handle's way to write to the task's socket. It does not keep the socket open: once the
/// task ends, writes take nothing.
pub(crate) enum DirectWriter {
    None,
    Tcp(Weak<tcp::OwnedWriteHalf>),
    Unix(Weak<unix::OwnedWriteHalf>),
}

impl Socket {
    /// The task's transport and the handles' writer.
    pub(crate) fn split(self) -> (TaskSocket, DirectWriter) {
        match self {
            Socket::Tcp(s) => {
                let (read, write) = s.into_split();
                let write = Arc::new(write);
                let direct = DirectWriter::Tcp(Arc::downgrade(&write));
                (TaskSocket::Tcp(read, write), direct)
            }
            Socket::Unix(s) => {
                let (read, write) = s.into_split();
                let write = Arc::new(write);
                let direct = DirectWriter::Unix(Arc::downgrade(&write));
                (TaskSocket::Unix(read, write), direct)
            }
            tls @ Socket::Tls(_) => (TaskSocket::Whole(tls), DirectWriter::None),
        }
    }
}

impl DirectWriter {
    /// Whether writes can take anything at all.
    pub(crate) fn is_some(&self) -> bool {
        !matches!(self, DirectWriter::None)
    }

    /// Writes what the socket takes now, without waiting, and returns how much that was. A
    /// failure takes nothing: the task meets it again when it writes the rest, and fails the
    /// connection as it would have.
    pub(crate) fn try_write(&self, buf: &[u8]) -> usize {
        let written = match self {
            DirectWriter::None => return 0,
            DirectWriter::Tcp(w) => w.upgrade().map(|w| w.try_write(buf)),
            DirectWriter::Unix(w) => w.upgrade().map(|w| w.try_write(buf)),
        };
        match written {
            Some(Ok(n)) => n,
            Some(Err(_)) | None => 0,
        }
    }
}

/// Writes through a shared write half: wait until the socket is writable, then try.
fn poll_write_shared<S>(
    stream: &S,
    cx: &mut Context<'_>,
    poll_ready: impl Fn(&S, &mut Context<'_>) -> Poll<io::Result<()>>,
    try_write: impl Fn(&S) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        std::task::ready!(poll_ready(stream, cx))?;
        match try_write(stream) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            done => return Poll::Ready(done),
        }
    }
}

impl AsyncRead for TaskSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TaskSocket::Whole(s) => Pin::new(s).poll_read(cx, buf),
            TaskSocket::Tcp(r, _) => Pin::new(r).poll_read(cx, buf),
            TaskSocket::Unix(r, _) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TaskSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            TaskSocket::Whole(s) => Pin::new(s).poll_write(cx, buf),
            TaskSocket::Tcp(_, w) => poll_write_shared(
                &**w,
                cx,
                |w, cx| w.as_ref().poll_write_ready(cx),
                |w| w.try_write(buf),
            ),
            TaskSocket::Unix(_, w) => poll_write_shared(
                &**w,
                cx,
                |w, cx| w.as_ref().poll_write_ready(cx),
                |w| w.try_write(buf),
            ),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TaskSocket::Whole(s) => Pin::new(s).poll_flush(cx),
            // Sockets buffer nothing in user space.
            TaskSocket::Tcp(..) | TaskSocket::Unix(..) => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shutdown = |fd: std::os::fd::BorrowedFd<'_>| {
            Poll::Ready(socket2::SockRef::from(&fd).shutdown(std::net::Shutdown::Write))
        };
        match self.get_mut() {
            TaskSocket::Whole(s) => Pin::new(s).poll_shutdown(cx),
            TaskSocket::Tcp(_, w) => {
                let stream: &TcpStream = (**w).as_ref();
                shutdown(std::os::fd::AsFd::as_fd(stream))
            }
            TaskSocket::Unix(_, w) => {
                let stream: &UnixStream = (**w).as_ref();
                shutdown(std::os::fd::AsFd::as_fd(stream))
            }
        }
    }
}
