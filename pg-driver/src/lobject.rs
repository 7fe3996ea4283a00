//! Large objects (psycopg2's `lobject`): create, open, read, write, seek, tell, truncate,
//! export to and import from a local file, unlink, close.
//!
//! A large object's descriptor lives in the transaction that opened it, so every use needs one:
//! a block begun with [`Connection::xact`] or SQL, or autocommit off (the driver then opens the
//! block). Outside, the driver refuses before sending anything (NoActiveTransactionError); a
//! descriptor whose transaction has ended is refused too (OperationError), where the server
//! might otherwise find another object's descriptor under the same number. Offsets and lengths
//! are 64-bit (`lo_lseek64`, `lo_tell64`, `lo_truncate64`), so objects may pass 2 GiB.
//! Export and import move a local file through `loread` / `lowrite` in chunks of [`LO_CHUNK`]:
//! the file is on the client, as with libpq's `lo_export` / `lo_import`.
//!
//! ```no_run
//! # async fn example(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
//! let x = db.xact();
//! x.start().await?;
//! let lo = db.lobject(None, "rw").await?;
//! lo.write(b"hello").await?;
//! lo.seek(0, pg_driver::LargeObject::SEEK_SET).await?;
//! assert_eq!(&lo.read(5).await?[..], b"hello");
//! let oid = lo.oid();
//! lo.close().await?;
//! x.commit().await?;
//! # let _ = oid; Ok(()) }
//! ```

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use bytes::{Bytes, BytesMut};
use pg_exceptions::{DriverError, Error, OperationError};
use postgres_types::{ToSql, Type};
use tokio::io::AsyncWriteExt;

use crate::connection::Connection;
use crate::link::Link;

mod open;
mod wire;

use wire::Mode;

/// How many bytes a chunked read, export or import moves per round trip (1 MiB).
pub const LO_CHUNK: usize = 1 << 20;

const CLOSED: i32 = -1;

/// A large object: psycopg2's `lobject`, made by [`Connection::lobject`],
/// [`Connection::lo_create`] or [`Connection::lo_open`]. Dropping an open one queues its
/// `lo_close` while its transaction lasts.
pub struct LargeObject {
    conn: Connection,
    link: Arc<Link>,
    oid: u32,
    mode: Mode,
    fd: AtomicI32,
    /// The session's idle marks when it was opened: any change means its transaction ended.
    mark: u64,
}

impl std::fmt::Debug for LargeObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LargeObject")
            .field("oid", &self.oid)
            .field("mode", &self.mode.as_str())
            .field("closed", &self.closed())
            .finish()
    }
}

fn operation(message: impl Into<String>) -> Error {
    Error::client(&OperationError, message)
}

fn file_error(what: &str, path: &Path, cause: std::io::Error) -> Error {
    Error::client(&DriverError, format!("{what} {}", path.display()))
        .with_cause(cause)
        .with_context("file", path.display().to_string())
}

impl LargeObject {
    /// `whence` of [`LargeObject::seek`]: from the start.
    pub const SEEK_SET: i32 = 0;
    /// `whence` of [`LargeObject::seek`]: from the current position.
    pub const SEEK_CUR: i32 = 1;
    /// `whence` of [`LargeObject::seek`]: from the end.
    pub const SEEK_END: i32 = 2;

    /// The object's OID.
    pub fn oid(&self) -> u32 {
        self.oid
    }

    /// The mode as psycopg2 shows it: `rb`, `wb`, `rwb`, or `nb` for an object not opened.
    pub fn mode(&self) -> &'static str {
        self.mode.as_str()
    }

    /// Whether the object is closed (or was never opened, mode `n`).
    pub fn closed(&self) -> bool {
        self.fd.load(Ordering::Acquire) == CLOSED
    }

    /// The connection the object was opened on.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Whether the object's session and transaction are still the ones it was opened in.
    fn live(&self) -> Result<(), Error> {
        if self.link.shared.is_closed() {
            return Err(self.conn.context(self.link.shared.closed_error()));
        }
        if !Arc::ptr_eq(&self.link, &self.conn.link()) || self.link.shared.idle_marks() != self.mark
        {
            return Err(operation(
                "the transaction the large object was opened in has ended: open it again",
            ));
        }
        Ok(())
    }

    fn fd(&self) -> Result<i32, Error> {
        let fd = self.fd.load(Ordering::Acquire);
        if fd == CLOSED {
            return Err(operation(if self.mode.opens() {
                "the large object is closed"
            } else {
                "the large object was not opened (mode n)"
            }));
        }
        self.live()?;
        Ok(fd)
    }

    async fn call(
        &self,
        sql: &str,
        params: &[(Type, &(dyn ToSql + Sync))],
    ) -> Result<wire::Values, Error> {
        wire::call(&self.link, sql, params)
            .await
            .map_err(|e| self.conn.context(e))
    }

    /// Reads up to `size` bytes from the current position (`loread`); fewer at the end.
    pub async fn read(&self, size: usize) -> Result<Bytes, Error> {
        let fd = self.fd()?;
        let len =
            i32::try_from(size).map_err(|_| operation("one read is limited to 2 GiB - 1 bytes"))?;
        let values = self
            .call(wire::READ, &[(Type::INT4, &fd), (Type::INT4, &len)])
            .await?;
        wire::bytea(values)
    }

    /// Reads from the current position to the end, in chunks of [`LO_CHUNK`].
    pub async fn read_to_end(&self) -> Result<Bytes, Error> {
        let mut all = BytesMut::new();
        loop {
            let chunk = self.read(LO_CHUNK).await?;
            all.extend_from_slice(&chunk);
            if chunk.len() < LO_CHUNK {
                return Ok(all.freeze());
            }
        }
    }

    /// Writes `data` at the current position (`lowrite`) and returns how many bytes it wrote.
    pub async fn write(&self, data: &[u8]) -> Result<usize, Error> {
        let fd = self.fd()?;
        let values = self
            .call(wire::WRITE, &[(Type::INT4, &fd), (Type::BYTEA, &data)])
            .await?;
        Ok(wire::int4(&values, 0)? as usize)
    }

    /// Moves the position (`lo_lseek64`): `whence` 0 ([`LargeObject::SEEK_SET`]) from the
    /// start, 1 from the current position, 2 from the end; returns the new position. Another
    /// `whence` is refused before anything is sent.
    pub async fn seek(&self, offset: i64, whence: i32) -> Result<i64, Error> {
        if !(0..=2).contains(&whence) {
            return Err(operation(format!(
                "bad whence {whence}: expected 0 (SEEK_SET), 1 (SEEK_CUR) or 2 (SEEK_END)"
            )));
        }
        let fd = self.fd()?;
        let params: &[(Type, &(dyn ToSql + Sync))] = &[
            (Type::INT4, &fd),
            (Type::INT8, &offset),
            (Type::INT4, &whence),
        ];
        wire::int8(&self.call(wire::SEEK, params).await?, 0)
    }

    /// The current position (`lo_tell64`).
    pub async fn tell(&self) -> Result<i64, Error> {
        let fd = self.fd()?;
        wire::int8(&self.call(wire::TELL, &[(Type::INT4, &fd)]).await?, 0)
    }

    /// Cuts the object to `len` bytes, or extends it with zeros (`lo_truncate64`); psycopg2's
    /// `truncate(len=0)`. The position does not move.
    pub async fn truncate(&self, len: i64) -> Result<(), Error> {
        let fd = self.fd()?;
        self.call(wire::TRUNCATE, &[(Type::INT4, &fd), (Type::INT8, &len)])
            .await
            .map(drop)
    }

    /// Closes the descriptor (`lo_close`). Closing twice, or after the transaction ended
    /// (which closed it), does nothing.
    pub async fn close(&self) -> Result<(), Error> {
        let fd = self.fd.swap(CLOSED, Ordering::AcqRel);
        if fd == CLOSED || self.live().is_err() {
            return Ok(());
        }
        self.call(wire::CLOSE, &[(Type::INT4, &fd)]).await.map(drop)
    }

    /// Closes the object and removes it from the database (`lo_unlink`).
    pub async fn unlink(&self) -> Result<(), Error> {
        self.close().await?;
        self.conn.lo_unlink(self.oid).await
    }

    /// Writes the whole object to a local file (created or truncated), reading it in chunks
    /// of [`LO_CHUNK`] through a descriptor of its own, so the position does not move;
    /// returns how many bytes it wrote.
    pub async fn export(&self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let reader = self.conn.lo_open(self.oid, "r").await?;
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| file_error("cannot create", path, e))?;
        let mut written = 0u64;
        loop {
            let chunk = reader.read(LO_CHUNK).await?;
            file.write_all(&chunk)
                .await
                .map_err(|e| file_error("cannot write", path, e))?;
            written += chunk.len() as u64;
            if chunk.len() < LO_CHUNK {
                break;
            }
        }
        file.flush()
            .await
            .map_err(|e| file_error("cannot write", path, e))?;
        reader.close().await?;
        Ok(written)
    }
}

impl Drop for LargeObject {
    fn drop(&mut self) {
        let fd = *self.fd.get_mut();
        if fd == CLOSED
            || self.link.shared.is_closed()
            || self.link.shared.idle_marks() != self.mark
        {
            return;
        }
        if let Ok(bytes) = wire::encode(wire::CLOSE, &[(Type::INT4, &fd)]) {
            // Nobody waits for the answer: the task reads and drops it.
            let _ = self.link.request(bytes, 1, None);
        }
    }
}
