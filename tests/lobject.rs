//! Large objects against a real server: a 100 MB object round-tripping byte-exact (through
//! reads, export and import), seek/tell/truncate past 2 GiB, the transaction requirement,
//! unlink, and the blocking facade.

mod common;

use std::io::Read;
use std::time::Instant;

use pg_driver::{Connection, LO_CHUNK, LargeObject};
use pg_exceptions::{Error, NoActiveTransactionError, OperationError, UndefinedObjectError};
use sha2::{Digest, Sha256};

const GIB: i64 = 1 << 30;

fn assert_class(error: &Error, class: &pg_exceptions::ErrorClass) {
    assert!(error.is_a(class), "expected {}, got {error}", class.name());
}

/// Deterministic pseudo-random bytes (xorshift64), one chunk at a time.
struct Generator(u64);

impl Generator {
    fn fill(&mut self, chunk: &mut [u8]) {
        for word in chunk.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            word.copy_from_slice(&self.0.to_le_bytes()[..word.len()]);
        }
    }
}

/// Reads the object from its current position to the end in chunks; its hash and length.
async fn hash_object(lo: &LargeObject) -> (Vec<u8>, u64) {
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    loop {
        let chunk = lo.read(LO_CHUNK).await.unwrap();
        hasher.update(&chunk);
        len += chunk.len() as u64;
        if chunk.len() < LO_CHUNK {
            return (hasher.finalize().to_vec(), len);
        }
    }
}

fn hash_file(path: &std::path::Path) -> (Vec<u8>, u64) {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    let mut buf = vec![0; LO_CHUNK];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            return (hasher.finalize().to_vec(), len);
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

async fn objects(db: &Connection) -> i64 {
    common::scalar(
        db,
        "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata",
    )
    .await
    .unwrap()
    .parse()
    .unwrap()
}

#[tokio::test]
async fn a_100_mb_object_round_trips_byte_exact() {
    const CHUNKS: usize = 100;
    let db = common::connect().await;
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let x = db.xact();
    x.start().await.unwrap();

    let lo = db.lobject(None, "wb").await.unwrap();
    assert_eq!(lo.mode(), "wb");
    let mut generator = Generator(0x9e37_79b9_7f4a_7c15);
    let mut chunk = vec![0u8; LO_CHUNK];
    let mut hasher = Sha256::new();
    for _ in 0..CHUNKS {
        generator.fill(&mut chunk);
        hasher.update(&chunk);
        assert_eq!(lo.write(&chunk).await.unwrap(), LO_CHUNK);
    }
    let written = hasher.finalize().to_vec();
    let size = (CHUNKS * LO_CHUNK) as u64;
    assert_eq!(lo.tell().await.unwrap(), size as i64);
    lo.close().await.unwrap();
    eprintln!("wrote 100 MiB in {:?}", started.elapsed());

    let reader = db.lobject(Some(lo.oid()), "rb").await.unwrap();
    assert_eq!(hash_object(&reader).await, (written.clone(), size));
    eprintln!("read back by {:?}", started.elapsed());

    let path = dir.path().join("object.bin");
    assert_eq!(reader.export(&path).await.unwrap(), size);
    assert_eq!(hash_file(&path), (written.clone(), size));
    // The export read through a descriptor of its own: this one did not move.
    assert_eq!(reader.tell().await.unwrap(), size as i64);
    eprintln!("exported by {:?}", started.elapsed());

    let imported = db.lo_import(&path, None).await.unwrap();
    assert_ne!(imported, lo.oid());
    let copy = db.lo_open(imported, "r").await.unwrap();
    assert_eq!(hash_object(&copy).await, (written, size));
    eprintln!("imported and read by {:?}", started.elapsed());

    copy.unlink().await.unwrap();
    reader.unlink().await.unwrap();
    x.commit().await.unwrap();
}

#[tokio::test]
async fn seek_tell_and_truncate_past_2_gib() {
    let db = common::connect().await;
    let x = db.xact();
    x.start().await.unwrap();
    let lo = db.lobject(None, "rw").await.unwrap();
    assert_eq!(lo.mode(), "rwb");
    assert_eq!(lo.write(b"hello world").await.unwrap(), 11);
    assert_eq!(lo.tell().await.unwrap(), 11);
    assert_eq!(lo.seek(0, LargeObject::SEEK_SET).await.unwrap(), 0);
    assert_eq!(&lo.read(5).await.unwrap()[..], b"hello");
    assert_eq!(lo.seek(1, LargeObject::SEEK_CUR).await.unwrap(), 6);
    assert_eq!(&lo.read(100).await.unwrap()[..], b"world");
    assert_eq!(lo.seek(-5, LargeObject::SEEK_END).await.unwrap(), 6);
    assert_eq!(&lo.read_to_end().await.unwrap()[..], b"world");
    // Truncation cuts or extends with zeros, and leaves the position alone.
    lo.truncate(5).await.unwrap();
    assert_eq!(lo.tell().await.unwrap(), 11);
    assert_eq!(lo.seek(0, LargeObject::SEEK_END).await.unwrap(), 5);
    lo.truncate(8).await.unwrap();
    lo.seek(0, LargeObject::SEEK_SET).await.unwrap();
    assert_eq!(&lo.read(100).await.unwrap()[..], b"hello\0\0\0");

    // Past 2 GiB: a few bytes at 3 GiB make a sparse object of 3 GiB and a little.
    let far = 3 * GIB;
    assert_eq!(lo.seek(far, LargeObject::SEEK_SET).await.unwrap(), far);
    assert_eq!(lo.tell().await.unwrap(), far);
    assert_eq!(lo.write(b"far away").await.unwrap(), 8);
    assert_eq!(lo.tell().await.unwrap(), far + 8);
    assert_eq!(lo.seek(0, LargeObject::SEEK_END).await.unwrap(), far + 8);
    assert_eq!(lo.seek(-8, LargeObject::SEEK_CUR).await.unwrap(), far);
    assert_eq!(&lo.read(100).await.unwrap()[..], b"far away");
    assert_eq!(lo.seek(GIB, LargeObject::SEEK_SET).await.unwrap(), GIB);
    assert_eq!(&lo.read(4).await.unwrap()[..], b"\0\0\0\0");
    lo.truncate(far + 3).await.unwrap();
    assert_eq!(lo.seek(0, LargeObject::SEEK_END).await.unwrap(), far + 3);
    lo.seek(far, LargeObject::SEEK_SET).await.unwrap();
    assert_eq!(&lo.read(100).await.unwrap()[..], b"far");
    lo.truncate(0).await.unwrap();
    assert_eq!(lo.seek(0, LargeObject::SEEK_END).await.unwrap(), 0);

    // A bad whence is refused before anything is sent.
    assert_class(&lo.seek(0, 3).await.unwrap_err(), &OperationError);
    lo.close().await.unwrap();
    assert!(lo.closed());
    lo.close().await.unwrap();
    assert_class(&lo.read(1).await.unwrap_err(), &OperationError);
    lo.unlink().await.unwrap();
    x.commit().await.unwrap();
}

#[tokio::test]
async fn outside_a_transaction_large_objects_are_refused() {
    let db = common::connect().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.bin");
    std::fs::write(&path, b"data").unwrap();
    let before = objects(&db).await;
    let refused = [
        db.lobject(None, "w").await.unwrap_err(),
        db.lo_create(None, "n").await.unwrap_err(),
        db.lo_open(1, "r").await.unwrap_err(),
        db.lo_unlink(1).await.unwrap_err(),
        db.lo_import(&path, None).await.unwrap_err(),
    ];
    for error in &refused {
        assert_class(error, &NoActiveTransactionError);
        assert_eq!(error.source_kind(), pg_exceptions::Source::Client);
    }
    assert_eq!(objects(&db).await, before);
    assert_eq!(db.transaction_status(), pg_driver::TransactionStatus::Idle);

    // Bad modes are refused too.
    let x = db.xact();
    x.start().await.unwrap();
    for mode in ["x", "rt", "wr", "rwbb"] {
        assert_class(&db.lobject(None, mode).await.unwrap_err(), &OperationError);
    }
    // A descriptor dies with its transaction: using it afterwards is refused.
    let lo = db.lobject(None, "rw").await.unwrap();
    lo.write(b"kept").await.unwrap();
    let oid = lo.oid();
    x.commit().await.unwrap();
    let stale = db.xact();
    stale.start().await.unwrap();
    let other = db.lobject(None, "rw").await.unwrap();
    let error = lo.write(b"elsewhere").await.unwrap_err();
    assert_class(&error, &OperationError);
    assert!(error.to_string().contains("transaction"), "{error}");
    lo.close().await.unwrap(); // its transaction closed it already
    assert_eq!(&other.read(10).await.unwrap()[..], b"");
    other.unlink().await.unwrap();
    let again = db.lo_open(oid, "r").await.unwrap();
    assert_eq!(&again.read(10).await.unwrap()[..], b"kept");
    again.unlink().await.unwrap();
    stale.commit().await.unwrap();
    assert_eq!(objects(&db).await, before);
}

#[tokio::test]
async fn unlink_removes_the_object() {
    let db = common::connect().await;
    let x = db.xact();
    x.start().await.unwrap();
    // An OID of the caller's choosing, and mode n: created, not opened.
    let lo = db.lo_create(Some(4_123_456_789), "n").await.unwrap();
    assert_eq!(
        (lo.oid(), lo.mode(), lo.closed()),
        (4_123_456_789, "nb", true)
    );
    assert_class(&lo.read(1).await.unwrap_err(), &OperationError);
    x.commit().await.unwrap();

    let x = db.xact();
    x.start().await.unwrap();
    let lo = db.lobject(Some(4_123_456_789), "w").await.unwrap();
    lo.write(b"doomed").await.unwrap();
    lo.unlink().await.unwrap();
    assert!(lo.closed());
    x.commit().await.unwrap();

    let x = db.xact();
    x.start().await.unwrap();
    let error = db.lo_open(4_123_456_789, "r").await.unwrap_err();
    assert_class(&error, &UndefinedObjectError);
    x.rollback().await.unwrap();
    let gone = common::scalar(
        &db,
        "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata WHERE oid = 4123456789",
    )
    .await;
    assert_eq!(gone.as_deref(), Some("0"));
}

#[tokio::test]
async fn autocommit_off_opens_the_block_large_objects_need() {
    let db = common::connect().await;
    db.set_autocommit(false).unwrap();
    let lo = db.lobject(None, "rw").await.unwrap();
    assert_eq!(
        db.transaction_status(),
        pg_driver::TransactionStatus::InTransaction
    );
    lo.write(b"in a lazily begun block").await.unwrap();
    let oid = lo.oid();
    db.commit().await.unwrap();
    assert_class(&lo.tell().await.unwrap_err(), &OperationError);
    let lo = db.lobject(Some(oid), "r").await.unwrap();
    assert_eq!(
        &lo.read_to_end().await.unwrap()[..],
        b"in a lazily begun block"
    );
    lo.unlink().await.unwrap();
    db.commit().await.unwrap();
}

#[test]
fn the_blocking_facade_has_large_objects() {
    let db = common::temporal().connect_blocking().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.bin");
    let error = db.lobject(None, "w").unwrap_err();
    assert_class(&error, &NoActiveTransactionError);
    let oid = db
        .xact()
        .run(|x| -> Result<u32, Error> {
            let lo = x.lobject(None, "rwb")?;
            lo.write(b"blocking bytes")?;
            assert_eq!(lo.seek(3 * GIB, LargeObject::SEEK_SET)?, 3 * GIB);
            lo.write(b"!")?;
            assert_eq!(lo.tell()?, 3 * GIB + 1);
            lo.truncate(14)?;
            lo.seek(9, LargeObject::SEEK_SET)?;
            assert_eq!(&lo.read(100)?[..], b"bytes");
            assert_eq!(lo.export(&path)?, 14);
            lo.close()?;
            Ok(lo.oid())
        })
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"blocking bytes");
    db.xact()
        .run(|x| -> Result<(), Error> {
            let copy = x.lo_import(&path, None)?;
            let lo = x.lo_open(copy, "r")?;
            assert_eq!(&lo.read_to_end()?[..], b"blocking bytes");
            lo.unlink()?;
            x.lo_unlink(oid)
        })
        .unwrap();
}

/// The futures can move between threads (`tokio::spawn` on a multi-threaded runtime).
#[allow(dead_code)]
fn futures_are_send(db: Connection, lo: LargeObject) {
    fn send<T: Send>(_: T) {}
    send(async move {
        let _ = db.lobject(None, "rw").await;
        let _ = db.lo_import("in.bin", None).await;
        let _ = db.set_session(pg_driver::SessionChange::new()).await;
        let _ = db.commit().await;
        let _ = lo.read(1).await;
        let _ = lo.write(b"x").await;
        let _ = lo.export("out.bin").await;
        let _ = lo.unlink().await;
    });
}
