//! Fewer wake-ups while a long answer streams in.
//!
//! The server writes its output 8 KiB at a time. A client that handles rows faster than the
//! server makes them waits for every one of those writes, and each wait is a wake-up: a
//! context switch for the client, and the work of waking it for the server. On a small
//! machine that costs more than the bytes do (measured in pg-bench's `fetch` on one thread:
//! twice the context switches, and the server slowed by them, once the client needed less
//! CPU per row).
//!
//! So once an answer has brought [`START`] bytes over TCP, the task asks the kernel to wake it
//! only when [`LOWAT`] bytes are waiting (`SO_RCVLOWAT`), and reads by hand whatever has come
//! when [`TICK`] passed without that: the end of the answer, shorter than the mark, waits at
//! most that long. When the answer ends, the mark is lowered again, so small answers (and
//! every answer of a connection that never streams much) are read as soon as they come.
//! TLS and unix sockets are read as before.

use std::future::Future;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpStream;

use crate::wire::socket::{ReadHalf, TaskSocket};

/// The bytes of one answer after which the task waits for [`LOWAT`] bytes at a time. An
/// answer this long takes milliseconds over loopback, so [`TICK`] adds little to its end.
pub(crate) const START: usize = 4 << 20;
/// The bytes the kernel lets gather before waking the task.
pub(crate) const LOWAT: usize = 64 << 10;
/// The least mark worth raising.
const MIN_MARK: usize = 16 << 10;
/// The longest the task waits for [`LOWAT`] bytes before reading what there is.
pub(crate) const TICK: Duration = Duration::from_millis(1);
/// The most a read by hand takes in one go (it reads into zeroed room).
const HAND_READ: usize = 256 << 10;

/// The low-water mark as one reader of the socket keeps it: the task, for the answer at the
/// front, or a handle reading its own answer with the lent read half.
pub(crate) struct Gather {
    /// Bytes routed to the answer at the front.
    read: usize,
    /// The mark is raised on the socket.
    raised: bool,
    /// When to read what has come, while the mark is raised.
    tick: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Gather {
    pub(crate) fn new() -> Gather {
        Gather {
            read: 0,
            raised: false,
            tick: None,
        }
    }

    /// `n` more bytes of the answer at the front were routed.
    #[inline]
    pub(crate) fn count(&mut self, n: usize) {
        self.read = self.read.saturating_add(n);
    }

    /// The answer at the front ended: the next one starts from nothing, woken by every byte.
    #[inline]
    pub(crate) fn answered(&mut self, tcp: Option<&TcpStream>) {
        self.read = 0;
        if self.raised {
            self.lower(tcp);
        }
    }

    /// Wakes the task for every byte again (before the reading end is lent, say).
    pub(crate) fn lower(&mut self, tcp: Option<&TcpStream>) {
        self.tick = None;
        if std::mem::take(&mut self.raised)
            && let Some(tcp) = tcp
        {
            // It fails only on a socket that is gone, whose reads fail as well.
            let _ = set_lowat(tcp, 1);
        }
    }

    /// The socket had nothing to read. Once the answer at the front brought [`START`] bytes,
    /// raises the mark and reads by hand what came by the next tick: `Ready` with the bytes
    /// read (0 at the end of the stream) or the failure; `Pending` until then, `cx` woken by
    /// the tick as well as by the socket.
    pub(crate) fn poll_gather(
        &mut self,
        tcp: Option<&TcpStream>,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        if self.read < START {
            return Poll::Pending;
        }
        let Some(tcp) = tcp else {
            return Poll::Pending;
        };
        if !self.raised {
            if mark(tcp).is_none_or(|mark| set_lowat(tcp, mark).is_err()) {
                // Not this time: tried again after as many bytes more.
                self.read = 0;
                return Poll::Pending;
            }
            self.raised = true;
        }
        loop {
            let tick = self
                .tick
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(TICK)));
            if tick.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.tick = None;
            match read_by_hand(tcp, buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                done => return Poll::Ready(done),
            }
        }
    }
}

/// The TCP stream a read half reads, when it is one.
pub(crate) fn half_tcp(half: &ReadHalf) -> Option<&TcpStream> {
    match half {
        ReadHalf::Tcp(read) => Some(read.as_ref()),
        ReadHalf::Unix(_) => None,
    }
}

/// The TCP stream under the task's read half, when it has one.
pub(crate) fn task_tcp(socket: &TaskSocket) -> Option<&TcpStream> {
    match socket {
        TaskSocket::Split(Some(half), _) => half_tcp(half),
        _ => None,
    }
}

/// The mark to raise: [`LOWAT`], but at most a quarter of the socket's receive buffer.
/// Linux grows the buffer to twice a mark it cannot hold, and then clamps the window to the
/// mark for the rest of the connection; a mark well inside the buffer leaves both alone.
/// `None` when the buffer is too small for a mark to gather much.
fn mark(tcp: &TcpStream) -> Option<usize> {
    let buffer = socket2::SockRef::from(tcp).recv_buffer_size().ok()?;
    let mark = (buffer / 4).min(LOWAT);
    (mark >= MIN_MARK).then_some(mark)
}

fn set_lowat(tcp: &TcpStream, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: the descriptor is the open socket `tcp` borrows for this call, and the option's
    // value is a c_int of the size given.
    let rc = unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVLOWAT,
            std::ptr::from_ref(&value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads what the socket holds without waiting, past tokio's record of its readiness (the
/// kernel does not report data under the mark as readable, but hands it to a read). The
/// socket is non-blocking, as tokio made it.
fn read_by_hand(tcp: &TcpStream, buf: &mut BytesMut) -> io::Result<usize> {
    let start = buf.len();
    let room = (buf.capacity() - start).clamp(crate::wire::task::READ_MIN, HAND_READ);
    buf.resize(start + room, 0);
    let socket = socket2::SockRef::from(tcp);
    let read = (&*socket).read(&mut buf[start..]);
    buf.truncate(start + *read.as_ref().unwrap_or(&0));
    read
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;
    use std::task::Poll;

    use bytes::BytesMut;
    use tokio::io::AsyncWriteExt;

    use super::{Gather, LOWAT, START, TICK, task_tcp as tcp};
    use crate::wire::socket::{Socket, TaskSocket};

    fn lowat(socket: &TaskSocket) -> libc::c_int {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: an open socket, and a c_int of the size given to write the option into.
        let rc = unsafe {
            libc::getsockopt(
                tcp(socket).unwrap().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVLOWAT,
                std::ptr::from_mut(&mut value).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        value
    }

    /// A connected pair over loopback: the task's end, split as the task splits it, and the
    /// peer's end.
    async fn pair() -> (TaskSocket, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ours = tokio::net::TcpStream::connect(listener.local_addr().unwrap());
        let (ours, theirs) = tokio::join!(ours, listener.accept());
        (Socket::Tcp(ours.unwrap()).split().0, theirs.unwrap().0)
    }

    async fn poll(gather: &mut Gather, socket: &TaskSocket, buf: &mut BytesMut) -> Poll<usize> {
        std::future::poll_fn(|cx| {
            Poll::Ready(gather.poll_gather(tcp(socket), cx, buf).map(|r| r.unwrap()))
        })
        .await
    }

    #[tokio::test]
    async fn the_mark_rises_after_start_bytes_and_falls_when_the_answer_ends() {
        let (socket, mut peer) = pair().await;
        // A receive buffer of a known size (the kernel doubles what is asked), whatever the
        // machine's defaults, so that the mark is LOWAT.
        socket2::SockRef::from(tcp(&socket).unwrap())
            .set_recv_buffer_size(1 << 20)
            .unwrap();
        let (mut gather, mut buf) = (Gather::new(), BytesMut::new());
        // Short answers: nothing changes.
        gather.count(START - 1);
        assert_eq!(poll(&mut gather, &socket, &mut buf).await, Poll::Pending);
        assert_eq!(lowat(&socket), 1);
        // A long one: the kernel waits for LOWAT bytes, and the tick reads what is under it.
        gather.count(1);
        assert_eq!(poll(&mut gather, &socket, &mut buf).await, Poll::Pending);
        assert_eq!(lowat(&socket) as usize, LOWAT);
        peer.write_all(b"under the mark").await.unwrap();
        tokio::time::sleep(TICK * 2).await;
        assert_eq!(poll(&mut gather, &socket, &mut buf).await, Poll::Ready(14));
        assert_eq!(&buf[..], b"under the mark");
        // Nothing more: a new tick is set, and it waits again.
        tokio::time::sleep(TICK * 2).await;
        assert_eq!(poll(&mut gather, &socket, &mut buf).await, Poll::Pending);
        // The answer ended: back to every byte, and the next answer starts from nothing.
        gather.answered(tcp(&socket));
        assert_eq!(lowat(&socket), 1);
        assert_eq!(poll(&mut gather, &socket, &mut buf).await, Poll::Pending);
        assert_eq!(lowat(&socket), 1);
        // Lowered before the reading end is lent, too; the end of the stream reads as 0.
        gather.count(START);
        assert_eq!(poll(&mut gather, &socket, &mut buf).await, Poll::Pending);
        gather.lower(tcp(&socket));
        assert_eq!(lowat(&socket), 1);
        gather.count(START);
        drop(peer);
        tokio::time::sleep(TICK * 2).await;
        let _armed = poll(&mut gather, &socket, &mut buf).await;
        tokio::time::sleep(TICK * 2).await;
        assert_eq!(poll(&mut gather, &socket, &mut buf).await, Poll::Ready(0));
    }
}
