//! `big_values`: fetching rows of large `bytea` values (1 MiB, then 16 MiB), streamed, every
//! value's bytes looked at. Throughput in MiB/s, client CPU and peak memory: what a client
//! spends per byte of a big value, and how much of a value it holds at once.

use futures::{StreamExt, TryStreamExt};

use crate::bench::Bench;
use crate::measure::{Result, Subject, in_process, interleave};
use crate::report::Report;

/// Every value is its row's number as an 8-byte big-endian word, repeated: each word checked
/// says the value is whole and belongs to its row.
const WORD: usize = 8;
/// The stride of the words looked at: one per page.
const STRIDE: usize = 4096;

/// The table of `rows` values of `size` bytes: made once (and kept, like the source table),
/// stored uncompressed so that the server does not decompress on every read.
fn table(bench: &Bench, rows: usize, size: usize) -> Result<String> {
    let name = format!("pg_bench_big_{rows}x{size}");
    let exists = bench.scalar_i64(&format!("SELECT count(to_regclass('{name}'))"))?;
    if exists == 0 {
        eprintln!("making {name} ({rows} values of {size} bytes)…");
        bench.sql(&format!(
            "CREATE TABLE {name} (i int4, v bytea);
             ALTER TABLE {name} ALTER COLUMN v SET STORAGE EXTERNAL;
             INSERT INTO {name}
             SELECT i, decode(repeat(lpad(to_hex(i), {hex}, '0'), {words}), 'hex')
             FROM generate_series(1, {rows}) AS i",
            hex = WORD * 2,
            words = size / WORD,
        ))?;
        bench.sql(&format!("VACUUM ANALYZE {name}"))?;
    }
    Ok(name)
}

/// What the values add up to; checked once a run is over.
#[derive(Default)]
struct Digest {
    rows: usize,
    sum: i64,
    bytes: usize,
}

impl Digest {
    /// Looks at a word of every page of row `i`'s value.
    fn add(&mut self, i: i32, value: &[u8], size: usize) -> Result<()> {
        let expected = (i as u64).to_be_bytes();
        let whole = value.len() == size
            && (0..size)
                .step_by(STRIDE)
                .chain([size - WORD])
                .all(|at| value[at..at + WORD] == expected);
        if !whole {
            return Err(
                format!("row {i}: a value of {} bytes is not its row's", value.len()).into(),
            );
        }
        self.rows += 1;
        self.sum += i64::from(i);
        self.bytes += value.len();
        Ok(())
    }

    fn check(self, rows: usize) -> Result<Digest> {
        let n = rows as i64;
        if self.rows != rows || self.sum != n * (n + 1) / 2 {
            return Err(format!("read {} rows (sum {}), not {rows}", self.rows, self.sum).into());
        }
        Ok(std::hint::black_box(self))
    }
}

/// Lets what a closed connection leaves go (its task's last poll, frees on other threads)
/// before the next subject measures.
fn settle(bench: &Bench) {
    bench.rt.block_on(async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    });
}

/// Runs the scenario: its 1 MiB part and its 16 MiB part, a report each.
pub fn run(bench: &Bench) -> Result<Vec<Report>> {
    let (big, huge) = (bench.scale.big, bench.scale.huge);
    Ok(vec![
        part(bench, "big_values_1MiB", big)?,
        part(bench, "big_values_16MiB", huge)?,
    ])
}

fn part(bench: &Bench, scenario: &'static str, (rows, size): (usize, usize)) -> Result<Report> {
    let table = table(bench, rows, size)?;
    let sql = format!("SELECT i, v FROM {table}");
    let rt = &bench.rt;
    let mut notes = Vec::new();
    let mut subjects = Vec::new();

    // Each run connects and closes again (untimed), so no subject's buffers (a peer's read
    // buffer keeps the capacity a 16 MiB message made) are resident in another's peak.
    let sql = sql.as_str();
    for (name, dynamic) in [("ours rows", false), ("ours rows, Value", true)] {
        subjects.push(Subject::ours(name, move || {
            let conn = bench.ours()?;
            let ps = rt.block_on(conn.prepare(sql))?;
            let sample = in_process(true, || {
                rt.block_on(async {
                    let mut digest = Digest::default();
                    let mut stream = ps.rows(())?;
                    while let Some(row) = stream.next().await {
                        let row = row?;
                        let i = row.try_get(0)?;
                        if dynamic {
                            // The dynamic form: a pg_types Value owns its bytes (a copy).
                            let value = row.value(1)?;
                            digest.add(i, value.as_bytes().ok_or("not a bytea")?, size)?;
                        } else {
                            digest.add(i, row.try_get(1)?, size)?;
                        }
                    }
                    digest.check(rows)
                })
            })?;
            drop(ps);
            conn.close();
            rt.block_on(async {
                while !conn.closed() {
                    tokio::task::yield_now().await;
                }
            });
            settle(bench);
            Ok(sample)
        }));
    }

    subjects.push(Subject::peer("tokio-postgres query_raw", move || {
        let (client, connection) =
            rt.block_on(tokio_postgres::connect(&bench.uri, tokio_postgres::NoTls))?;
        let connection = rt.spawn(connection);
        let stmt = rt.block_on(client.prepare(sql))?;
        let sample = in_process(true, || {
            rt.block_on(async {
                let mut digest = Digest::default();
                let no_params: [&(dyn tokio_postgres::types::ToSql + Sync); 0] = [];
                let stream = client.query_raw(&stmt, no_params).await?;
                let mut stream = std::pin::pin!(stream);
                while let Some(row) = stream.try_next().await? {
                    digest.add(row.try_get(0)?, row.try_get(1)?, size)?;
                }
                digest.check(rows)
            })
        })?;
        drop((stmt, client));
        rt.block_on(connection)??;
        settle(bench);
        Ok(sample)
    }));

    subjects.push(Subject::peer("sqlx fetch", move || {
        let mut sqlx = bench.sqlx()?;
        let sample = in_process(true, || {
            rt.block_on(async {
                use sqlx::Row;
                let mut digest = Digest::default();
                let mut stream = sqlx::query(sql).fetch(&mut sqlx);
                while let Some(row) = stream.try_next().await? {
                    digest.add(row.try_get(0)?, row.try_get(1)?, size)?;
                }
                drop(stream);
                digest.check(rows)
            })
        })?;
        rt.block_on(sqlx::Connection::close(sqlx))?;
        settle(bench);
        Ok(sample)
    }));

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    Ok(Report {
        scenario,
        description: format!(
            "stream {rows} rows of (int4, bytea of {} MiB), every value's bytes looked at \
             (a word a page) as &[u8] (\"Value\": as a pg_types Value); a connection per run",
            size / (1024 * 1024)
        ),
        unit: "bytes/s",
        work: (rows * size) as f64,
        outcomes,
        notes,
    })
}
