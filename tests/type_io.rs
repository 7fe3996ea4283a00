//! Checks against a real server (`pg_cluster::Temporal`): the type catalog query, and the
//! binary decoders and encoders against the server's own binary forms, got through
//! `COPY … TO STDOUT (FORMAT binary)` run by the installation's psql.

#[path = "type_io/cases.rs"]
mod cases;
#[path = "type_io/catalog.rs"]
mod catalog;
#[path = "type_io/copy.rs"]
mod copy;

use std::process::Command;

use pg_cluster::{Installation, Temporal};
use pg_driver::SimpleResult;

/// Runs `sql` through the driver's simple query protocol on the test database.
pub fn simple(sql: &str) -> Vec<SimpleResult> {
    let temporal = Temporal::get().expect("a test cluster");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let db = pg_driver::open(temporal.iri()).await.expect("a connection");
        db.simple(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

/// The fields of the single row `COPY (query) TO STDOUT (FORMAT binary)` writes.
pub fn copy_binary_row(query: &str) -> Vec<Option<Vec<u8>>> {
    let temporal = Temporal::get().expect("a test cluster");
    let psql = Installation::find()
        .expect("an installation")
        .psql()
        .expect("psql");
    let out = Command::new(psql)
        .args([
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &temporal.uri(),
            "-c",
        ])
        .arg(format!("COPY ({query}) TO STDOUT (FORMAT binary)"))
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows = parse_copy_binary(&out.stdout);
    assert_eq!(rows.len(), 1, "one row from {query}");
    rows.remove(0)
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    head
}

fn int(bytes: &[u8]) -> i64 {
    match bytes.len() {
        2 => i16::from_be_bytes([bytes[0], bytes[1]]).into(),
        _ => i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]).into(),
    }
}

/// Parses PostgreSQL's binary COPY format: signature, flags, header extension, then per
/// tuple a field count and length-prefixed fields, then the trailer (-1).
fn parse_copy_binary(mut buf: &[u8]) -> Vec<Vec<Option<Vec<u8>>>> {
    assert_eq!(take(&mut buf, 11), b"PGCOPY\n\xff\r\n\0", "COPY signature");
    let _flags = take(&mut buf, 4);
    let ext = int(take(&mut buf, 4)) as usize;
    take(&mut buf, ext);
    let mut rows = Vec::new();
    loop {
        let count = int(take(&mut buf, 2));
        if count == -1 {
            break;
        }
        let mut row = Vec::new();
        for _ in 0..count {
            let len = int(take(&mut buf, 4));
            row.push((len >= 0).then(|| take(&mut buf, len as usize).to_vec()));
        }
        rows.push(row);
    }
    assert!(buf.is_empty(), "trailing bytes after the COPY trailer");
    rows
}
