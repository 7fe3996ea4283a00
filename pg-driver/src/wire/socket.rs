//! The byte stream under a connection: TCP, a unix socket, or TLS over TCP.

use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream, tcp, unix};
#[cfg(feature = "tls")]
use tokio_rustls::client::TlsStream;

/// One connected transport. TLS runs only over TCP: PostgreSQL refuses it on unix sockets.
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream<TcpStream>>),
}

impl Socket {
    /// Whether the bytes travel encrypted.
    pub(crate) fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return matches!(self, Socket::Tls(_));
        #[cfg(not(feature = "tls"))]
        false
    }

    /// The local address, for TCP transports.
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        match self {
            Socket::Tcp(s) => s.local_addr().ok(),
            #[cfg(feature = "tls")]
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
            #[cfg(feature = "tls")]
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
            #[cfg(feature = "tls")]
            Socket::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// The connection task's transport. TCP and unix sockets are split so that a handle can write
/// a request itself while the task is idle (see [`DirectWriter`]): the request then reaches
/// the server without waking the task, which on a multi-threaded runtime is a thread woken
/// per round trip. TLS keeps its session state in one place and stays whole.
#[cfg_attr(
    not(feature = "tls"),
    allow(dead_code, reason = "only TLS stays whole")
)]
pub(crate) enum TaskSocket {
    Whole(Socket),
    /// The read half is `None` while the task has parked it for a handle to read its own
    /// answer with (see the connection task's `Parked`).
    Split(Option<ReadHalf>, Arc<WriteHalf>),
}

impl TaskSocket {
    /// Takes the read half out, for parking; `None` when it cannot be lent (TLS) or is out.
    pub(crate) fn lend(&mut self) -> Option<ReadHalf> {
        match self {
            TaskSocket::Split(read, _) => read.take(),
            TaskSocket::Whole(_) => None,
        }
    }

    /// Whether the read half is out (parked or lent).
    pub(crate) fn is_lent(&self) -> bool {
        matches!(self, TaskSocket::Split(None, _))
    }

    /// Puts the read half back.
    pub(crate) fn restore(&mut self, half: ReadHalf) {
        if let TaskSocket::Split(read, _) = self {
            *read = Some(half);
        }
    }
}

impl ReadHalf {
    /// Registers `cx`'s waker to be woken when the socket has something to read; ready at
    /// once when it has.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            ReadHalf::Tcp(r) => r.as_ref().poll_read_ready(cx),
            ReadHalf::Unix(r) => r.as_ref().poll_read_ready(cx),
        }
    }
}

impl AsyncRead for ReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ReadHalf::Tcp(r) => Pin::new(r).poll_read(cx, buf),
            ReadHalf::Unix(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

/// The read half of a split socket.
pub(crate) enum ReadHalf {
    Tcp(tcp::OwnedReadHalf),
    Unix(unix::OwnedReadHalf),
}

/// The write half of a split socket, shared by the task and (weakly) its handles.
pub(crate) enum WriteHalf {
    Tcp(tcp::OwnedWriteHalf),
    Unix(unix::OwnedWriteHalf),
}

impl WriteHalf {
    /// Writes what the socket takes now, without waiting.
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            WriteHalf::Tcp(w) => w.try_write(buf),
            WriteHalf::Unix(w) => w.try_write(buf),
        }
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            WriteHalf::Tcp(w) => w.as_ref().poll_write_ready(cx),
            WriteHalf::Unix(w) => w.as_ref().poll_write_ready(cx),
        }
    }

    /// Shuts the sending direction down (the halves themselves cannot, through an `Arc`).
    fn shutdown(&self) -> io::Result<()> {
        let fd = match self {
            WriteHalf::Tcp(w) => AsFd::as_fd(AsRef::<TcpStream>::as_ref(w)),
            WriteHalf::Unix(w) => AsFd::as_fd(AsRef::<UnixStream>::as_ref(w)),
        };
        socket2::SockRef::from(&fd).shutdown(std::net::Shutdown::Write)
    }
}

/// A handle's way to write to the task's socket (none for TLS). It does not keep the socket
/// open: once the task ends, writes take nothing.
pub(crate) struct DirectWriter(Option<Weak<WriteHalf>>);

impl Socket {
    /// The task's transport and the handles' writer.
    pub(crate) fn split(self) -> (TaskSocket, DirectWriter) {
        let (read, write) = match self {
            Socket::Tcp(s) => {
                let (read, write) = s.into_split();
                (ReadHalf::Tcp(read), WriteHalf::Tcp(write))
            }
            Socket::Unix(s) => {
                let (read, write) = s.into_split();
                (ReadHalf::Unix(read), WriteHalf::Unix(write))
            }
            #[cfg(feature = "tls")]
            tls @ Socket::Tls(_) => return (TaskSocket::Whole(tls), DirectWriter(None)),
        };
        let write = Arc::new(write);
        let direct = DirectWriter(Some(Arc::downgrade(&write)));
        (TaskSocket::Split(Some(read), write), direct)
    }
}

impl DirectWriter {
    /// Whether writes can take anything at all.
    pub(crate) fn is_some(&self) -> bool {
        self.0.is_some()
    }

    /// Writes what the socket takes now, without waiting, and returns how much that was. A
    /// failure takes nothing: the task meets it again when it writes the rest, and fails the
    /// connection as it would have.
    pub(crate) fn try_write(&self, buf: &[u8]) -> usize {
        match self.0.as_ref().and_then(Weak::upgrade) {
            Some(write) => write.try_write(buf).unwrap_or(0),
            None => 0,
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
            TaskSocket::Split(Some(r), _) => Pin::new(r).poll_read(cx, buf),
            // The task takes its read half back before it reads.
            TaskSocket::Split(None, _) => Poll::Ready(Err(io::Error::other("read half lent"))),
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
            TaskSocket::Split(_, w) => loop {
                std::task::ready!(w.poll_write_ready(cx))?;
                match w.try_write(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    done => return Poll::Ready(done),
                }
            },
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TaskSocket::Whole(s) => Pin::new(s).poll_flush(cx),
            // Sockets buffer nothing in user space.
            TaskSocket::Split(..) => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TaskSocket::Whole(s) => Pin::new(s).poll_shutdown(cx),
            TaskSocket::Split(_, w) => Poll::Ready(w.shutdown()),
        }
    }
}
