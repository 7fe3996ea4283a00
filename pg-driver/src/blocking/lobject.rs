//! Blocking large objects.

use std::path::Path;

use bytes::Bytes;
use pg_exceptions::Error;

use super::Connection;

/// The blocking form of [`crate::LargeObject`]: psycopg2's `lobject`, usable inside a
/// transaction (or with autocommit off).
///
/// ```no_run
/// # fn example(db: &pg_driver::blocking::Connection) -> Result<(), pg_exceptions::Error> {
/// db.xact().run(|x| {
///     let lo = x.lobject(None, "wb")?;
///     lo.write(b"payload")?;
///     lo.export("/tmp/payload.bin")?;
///     lo.close()
/// })?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LargeObject {
    lo: crate::LargeObject,
    conn: Connection,
}

impl Connection {
    fn wrap_lobject(&self, lo: crate::LargeObject) -> LargeObject {
        LargeObject {
            lo,
            conn: self.clone(),
        }
    }

    /// Opens the large object `oid`, or creates one when `oid` is None (or 0); mode `r`, `w`,
    /// `rw` or `n`, optionally followed by `b`.
    pub fn lobject(&self, oid: Option<u32>, mode: &str) -> Result<LargeObject, Error> {
        let lo = self.block_on(self.as_async().lobject(oid, mode))??;
        Ok(self.wrap_lobject(lo))
    }

    /// Creates a large object (under `new_oid` when given) and opens it in `mode`.
    pub fn lo_create(&self, new_oid: Option<u32>, mode: &str) -> Result<LargeObject, Error> {
        let lo = self.block_on(self.as_async().lo_create(new_oid, mode))??;
        Ok(self.wrap_lobject(lo))
    }

    /// Opens the large object `oid` in `mode`.
    pub fn lo_open(&self, oid: u32, mode: &str) -> Result<LargeObject, Error> {
        let lo = self.block_on(self.as_async().lo_open(oid, mode))??;
        Ok(self.wrap_lobject(lo))
    }

    /// Removes the large object `oid`.
    pub fn lo_unlink(&self, oid: u32) -> Result<(), Error> {
        self.block_on(self.as_async().lo_unlink(oid))?
    }

    /// Creates a large object from a local file, in chunks; returns its OID.
    pub fn lo_import(&self, path: impl AsRef<Path>, new_oid: Option<u32>) -> Result<u32, Error> {
        self.block_on(self.as_async().lo_import(path, new_oid))?
    }
}

impl LargeObject {
    /// The async large object underneath.
    pub fn as_async(&self) -> &crate::LargeObject {
        &self.lo
    }

    /// The object's OID.
    pub fn oid(&self) -> u32 {
        self.lo.oid()
    }

    /// The mode as psycopg2 shows it: `rb`, `wb`, `rwb` or `nb`.
    pub fn mode(&self) -> &'static str {
        self.lo.mode()
    }

    /// Whether the object is closed (or was never opened).
    pub fn closed(&self) -> bool {
        self.lo.closed()
    }

    /// Reads up to `size` bytes from the current position.
    pub fn read(&self, size: usize) -> Result<Bytes, Error> {
        self.conn.block_on(self.lo.read(size))?
    }

    /// Reads from the current position to the end.
    pub fn read_to_end(&self) -> Result<Bytes, Error> {
        self.conn.block_on(self.lo.read_to_end())?
    }

    /// Writes `data` at the current position; returns how many bytes it wrote.
    pub fn write(&self, data: &[u8]) -> Result<usize, Error> {
        self.conn.block_on(self.lo.write(data))?
    }

    /// Moves the position (`whence` 0 from the start, 1 from here, 2 from the end); returns
    /// the new position.
    pub fn seek(&self, offset: i64, whence: i32) -> Result<i64, Error> {
        self.conn.block_on(self.lo.seek(offset, whence))?
    }

    /// The current position.
    pub fn tell(&self) -> Result<i64, Error> {
        self.conn.block_on(self.lo.tell())?
    }

    /// Cuts the object to `len` bytes, or extends it with zeros.
    pub fn truncate(&self, len: i64) -> Result<(), Error> {
        self.conn.block_on(self.lo.truncate(len))?
    }

    /// Closes the descriptor; closing twice does nothing.
    pub fn close(&self) -> Result<(), Error> {
        self.conn.block_on(self.lo.close())?
    }

    /// Closes the object and removes it from the database.
    pub fn unlink(&self) -> Result<(), Error> {
        self.conn.block_on(self.lo.unlink())?
    }

    /// Writes the whole object to a local file; returns how many bytes it wrote.
    pub fn export(&self, path: impl AsRef<Path>) -> Result<u64, Error> {
        self.conn.block_on(self.lo.export(path))?
    }
}
