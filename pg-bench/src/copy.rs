//! `copy_out` and `copy_in`: the source table as text COPY, out to the client and back in.

use std::convert::Infallible;
use std::io::Write;

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt, TryStreamExt};

use crate::bench::{Bench, COPY_TABLE};
use crate::measure::{Result, Subject, in_process, interleave};
use crate::peers::psql;
use crate::report::Report;

/// The size of the pieces `copy_in` feeds (whole lines, about this many bytes).
const PIECE: usize = 64 * 1024;

/// Runs `copy_out`: `COPY source TO STDOUT`, the bytes counted and dropped.
pub fn run_out(bench: &Bench) -> Result<Report> {
    let rows = bench.scale.source_rows;
    let sql = format!("COPY {} TO STDOUT", bench.source);
    let rt = &bench.rt;
    let expected = std::cell::Cell::new(None);
    // Every subject must see the same bytes: the first run sets the count.
    let check = move |bytes: usize| -> Result<usize> {
        match expected.get() {
            Some(e) if e != bytes => Err(format!("{bytes} bytes, not {e}").into()),
            _ => {
                expected.set(Some(bytes));
                Ok(bytes)
            }
        }
    };
    let check = &check;
    let mut notes = Vec::new();
    let mut subjects = Vec::new();

    let ours = bench.ours()?;
    let ps = rt.block_on(ours.prepare(&sql))?;
    subjects.push(Subject::ours("ours copy_rows", move || {
        in_process(true, || {
            rt.block_on(async {
                let mut bytes = 0;
                let mut stream = ps.copy_rows(())?;
                while let Some(piece) = stream.next().await {
                    bytes += piece?.len();
                }
                check(bytes)
            })
        })
    }));

    let client = bench.tokio_postgres()?;
    let stmt = rt.block_on(client.prepare(&sql))?;
    subjects.push(Subject::peer("tokio-postgres copy_out", move || {
        in_process(true, || {
            rt.block_on(async {
                let mut bytes = 0;
                let stream = client.copy_out(&stmt).await?;
                let mut stream = std::pin::pin!(stream);
                while let Some(piece) = stream.try_next().await? {
                    bytes += piece.len();
                }
                check(bytes)
            })
        })
    }));

    if let Some(program) = &bench.tools.psql {
        let uri = bench.uri.clone();
        let command = format!("\\copy {} TO '/dev/null'", bench.source);
        subjects.push(Subject::peer("psql \\copy", move || {
            psql::run(program, &uri, &command, true)
        }));
    }

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    Ok(Report {
        scenario: "copy_out",
        description: format!("text COPY of {rows} rows to the client"),
        unit: "rows/s",
        work: rows as f64,
        outcomes,
        notes,
    })
}

/// Runs `copy_in`: the source table's text COPY (read once, untimed) fed back into an
/// emptied table, from memory in pieces of whole lines (psql: from a file).
pub fn run_in(bench: &Bench) -> Result<Report> {
    let rows = bench.scale.source_rows;
    let sql = format!("COPY {COPY_TABLE} FROM STDIN");
    let rt = &bench.rt;
    let ours = bench.ours()?;
    let pieces = rt.block_on(source_text(&ours, &bench.source))?;
    let mut file = tempfile::Builder::new()
        .prefix("pg-bench-copy-")
        .tempfile()?;
    for piece in &pieces {
        file.write_all(piece)?;
    }
    file.flush()?;
    let pieces = &pieces;
    let mut notes = Vec::new();
    let mut subjects = Vec::new();
    let timed = |work: &mut dyn FnMut() -> Result<u64>| {
        bench.sql(&format!("TRUNCATE {COPY_TABLE}"))?;
        in_process(false, || match work()? {
            count if count == rows as u64 => Ok(count),
            count => Err(format!("copied {count} rows, not {rows}").into()),
        })
    };

    let ps = rt.block_on(ours.prepare(&sql))?;
    subjects.push(Subject::ours("ours copy_in", move || {
        timed(&mut || {
            let source = futures::stream::iter(pieces.iter().map(Ok::<_, Infallible>));
            Ok(rt.block_on(ps.copy_in((), source))?)
        })
    }));

    let client = bench.tokio_postgres()?;
    let stmt = rt.block_on(client.prepare(&sql))?;
    subjects.push(Subject::peer("tokio-postgres copy_in", move || {
        timed(&mut || {
            rt.block_on(async {
                let sink = client.copy_in::<_, Bytes>(&stmt).await?;
                let mut sink = std::pin::pin!(sink);
                let mut source = futures::stream::iter(pieces.iter().cloned().map(Ok));
                sink.send_all(&mut source).await?;
                Ok(sink.finish().await?)
            })
        })
    }));

    if let Some(program) = &bench.tools.psql {
        let uri = bench.uri.clone();
        let command = format!("\\copy {COPY_TABLE} FROM '{}'", file.path().display());
        subjects.push(Subject::peer("psql \\copy", move || {
            bench.sql(&format!("TRUNCATE {COPY_TABLE}"))?;
            psql::run(program, &uri, &command, false)
        }));
    }

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    let bytes: usize = pieces.iter().map(Bytes::len).sum();
    Ok(Report {
        scenario: "copy_in",
        description: format!(
            "text COPY of {rows} rows ({:.1} MiB) into an emptied table",
            bytes as f64 / (1024.0 * 1024.0)
        ),
        unit: "rows/s",
        work: rows as f64,
        outcomes,
        notes,
    })
}

/// The text COPY of `table`, in pieces of whole lines of about [`PIECE`] bytes.
async fn source_text(db: &pg_driver::Connection, table: &str) -> Result<Vec<Bytes>> {
    let ps = db.prepare(&format!("COPY {table} TO STDOUT")).await?;
    let mut stream = ps.copy_rows(())?;
    let mut pieces = Vec::new();
    let mut piece = BytesMut::with_capacity(PIECE + 1024);
    while let Some(line) = stream.next().await {
        piece.extend_from_slice(&line?);
        if piece.len() >= PIECE {
            pieces.push(piece.split().freeze());
        }
    }
    if !piece.is_empty() {
        pieces.push(piece.freeze());
    }
    Ok(pieces)
}
