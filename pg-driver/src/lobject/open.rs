//! Making large objects: psycopg2's `conn.lobject`, create, open, import, unlink.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicI32;

use pg_exceptions::{Error, NoActiveTransactionError};
use postgres_types::{ToSql, Type};
use tokio::io::AsyncReadExt;

use super::wire::{self, Mode};
use super::{CLOSED, LO_CHUNK, LargeObject, file_error};
use crate::connection::Connection;
use crate::link::Link;
use crate::wire::shared::TransactionStatus;

/// The session, when large objects may be used on it now: inside a transaction block, or
/// with autocommit off (the driver opens one before the statement).
fn usable(conn: &Connection) -> Result<Arc<Link>, Error> {
    let link = conn.link();
    if link.shared.is_closed() {
        return Err(conn.context(link.shared.closed_error()));
    }
    if link.session.autocommit()
        && link.shared.status() == TransactionStatus::Idle
        && link.xacts.depth() == 0
    {
        return Err(conn.context(Error::client(
            &NoActiveTransactionError,
            "large objects are usable only inside a transaction: start one (db.xact()) or \
             turn autocommit off",
        )));
    }
    Ok(link)
}

/// Fills `buf` from the file as far as it goes; short only at the end of the file.
async fn fill(file: &mut tokio::fs::File, buf: &mut [u8], path: &Path) -> Result<usize, Error> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]).await {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(file_error("cannot read", path, e)),
        }
    }
    Ok(filled)
}

impl Connection {
    /// psycopg2's `conn.lobject(oid, mode)`: opens the large object `oid`, or creates a new
    /// one when `oid` is None (or 0). `mode` is `r`, `w`, `rw` or `n` (create or refer to
    /// the object without opening it), optionally followed by `b`.
    pub async fn lobject(&self, oid: Option<u32>, mode: &str) -> Result<LargeObject, Error> {
        match oid {
            None | Some(0) => self.lo_create(None, mode).await,
            Some(oid) => self.lo_open(oid, mode).await,
        }
    }

    /// Creates a large object (`lo_create`; with `new_oid`, under that OID) and opens it in
    /// `mode`, in one round trip.
    pub async fn lo_create(&self, new_oid: Option<u32>, mode: &str) -> Result<LargeObject, Error> {
        let mode = Mode::parse(mode)?;
        let link = usable(self)?;
        let requested = new_oid.unwrap_or(0);
        let (oid, fd) = if mode.opens() {
            let params: &[(Type, &(dyn ToSql + Sync))] =
                &[(Type::OID, &requested), (Type::INT4, &mode.flags())];
            let values = wire::call(&link, wire::CREATE_OPEN, params)
                .await
                .map_err(|e| self.context(e))?;
            (wire::oid(&values, 0)?, wire::int4(&values, 1)?)
        } else {
            let values = wire::call(&link, wire::CREATE, &[(Type::OID, &requested)])
                .await
                .map_err(|e| self.context(e))?;
            (wire::oid(&values, 0)?, CLOSED)
        };
        Ok(self.large_object(link, oid, mode, fd))
    }

    /// Opens the large object `oid` in `mode` (`lo_open`); mode `n` only refers to it.
    pub async fn lo_open(&self, oid: u32, mode: &str) -> Result<LargeObject, Error> {
        let mode = Mode::parse(mode)?;
        let link = usable(self)?;
        let fd = if mode.opens() {
            let params: &[(Type, &(dyn ToSql + Sync))] =
                &[(Type::OID, &oid), (Type::INT4, &mode.flags())];
            let values = wire::call(&link, wire::OPEN, params)
                .await
                .map_err(|e| self.context(e))?;
            wire::int4(&values, 0)?
        } else {
            CLOSED
        };
        Ok(self.large_object(link, oid, mode, fd))
    }

    fn large_object(&self, link: Arc<Link>, oid: u32, mode: Mode, fd: i32) -> LargeObject {
        let mark = link.shared.idle_marks();
        LargeObject {
            conn: self.clone(),
            link,
            oid,
            mode,
            fd: AtomicI32::new(fd),
            mark,
        }
    }

    /// Removes the large object `oid` (`lo_unlink`).
    pub async fn lo_unlink(&self, oid: u32) -> Result<(), Error> {
        let link = usable(self)?;
        wire::call(&link, wire::UNLINK, &[(Type::OID, &oid)])
            .await
            .map_err(|e| self.context(e))?;
        Ok(())
    }

    /// Creates a large object (with `new_oid`, under that OID) from a local file, read and
    /// written in chunks of [`LO_CHUNK`] (libpq's client-side `lo_import`); returns its OID.
    pub async fn lo_import(
        &self,
        path: impl AsRef<Path>,
        new_oid: Option<u32>,
    ) -> Result<u32, Error> {
        let path = path.as_ref();
        usable(self)?;
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| file_error("cannot open", path, e))?;
        let lo = self.lo_create(new_oid, "w").await?;
        let mut buf = vec![0; LO_CHUNK];
        loop {
            let n = fill(&mut file, &mut buf, path).await?;
            if n > 0 {
                lo.write(&buf[..n]).await?;
            }
            if n < buf.len() {
                break;
            }
        }
        lo.close().await?;
        Ok(lo.oid)
    }
}
