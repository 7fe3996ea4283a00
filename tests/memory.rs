//! Streaming keeps memory bounded: a million wide rows pass through `rows` and `chunks`, and a
//! million lines COPY out and back in, while the process's peak resident set grows by far less
//! than the data.
//!
//! This file holds one test so that nothing else in the process moves the peak.

mod common;

use futures::StreamExt;

/// The process's peak resident set (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

const ROWS: i64 = 1_000_000;
const LIMIT: u64 = 64 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_and_copying_a_million_rows_stays_under_64_mib() {
    let db = common::connect().await;
    // 1M rows of ~120 bytes: about 130 MB if they were all held at once.
    let ps = db
        .prepare("SELECT i::int8, repeat('x', 100) AS pad, i::numeric AS n FROM generate_series(1, $1::int8) i")
        .await
        .unwrap();
    let before = peak_rss();

    let mut rows = ps.rows((ROWS,)).unwrap();
    let (mut count, mut sum) = (0i64, 0i64);
    while let Some(row) = rows.next().await {
        let row = row.unwrap();
        count += 1;
        sum += row.get::<i64>(0);
        assert_eq!(row.get::<&str>(1).len(), 100);
    }
    assert_eq!((count, sum), (ROWS, ROWS * (ROWS + 1) / 2));
    let after_rows = peak_rss();

    let mut chunks = ps.chunks((ROWS,)).unwrap();
    let mut count = 0i64;
    while let Some(chunk) = chunks.next().await {
        for row in chunk.unwrap() {
            count += 1;
            assert_eq!(row.get::<i64>(0), count);
        }
    }
    assert_eq!(count, ROWS);
    let after_chunks = peak_rss();

    // COPY out through copy_rows, and the same million lines back in through a stream that
    // makes them as it is pulled.
    db.execute("CREATE TEMP TABLE copied (i int8, pad text, n numeric)")
        .await
        .unwrap();
    let out = db
        .prepare(
            "COPY (SELECT i, repeat('x', 100), i FROM generate_series(1, 1000000) i) TO STDOUT",
        )
        .await
        .unwrap();
    let mut pieces = out.copy_rows(()).unwrap();
    let mut lines = 0i64;
    while let Some(piece) = pieces.next().await {
        assert!(piece.unwrap().ends_with(b"\n"));
        lines += 1;
    }
    assert_eq!(lines, ROWS);
    let into = db.prepare("COPY copied FROM STDIN").await.unwrap();
    let source = futures::stream::iter(1..=ROWS)
        .map(|i| Ok::<_, std::convert::Infallible>(format!("{i}\t{}\t{i}\n", "x".repeat(100))));
    assert_eq!(into.copy_in((), source).await.unwrap(), ROWS as u64);
    let after_copy = peak_rss();

    let growth = after_copy.saturating_sub(before);
    println!(
        "peak RSS: {} MiB before, {} MiB after rows, {} MiB after chunks, {} MiB after COPY out and in (growth {} MiB)",
        before >> 20,
        after_rows >> 20,
        after_chunks >> 20,
        after_copy >> 20,
        growth >> 20
    );
    assert!(growth < LIMIT, "peak RSS grew by {} MiB", growth >> 20);
}
