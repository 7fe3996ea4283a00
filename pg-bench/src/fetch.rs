//! `fetch`: streaming every row of the source table, each value decoded into a Rust value
//! (`i32`, `i64`, `&str`, `Decimal`, `DateTime<Utc>`).

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;

use crate::bench::{Bench, SOURCE_COLUMNS};
use crate::measure::{Result, Subject, in_process, interleave};
use crate::peers::psql;
use crate::report::Report;

/// What the decoded values add up to; the sum of `i` proves every row was read.
#[derive(Default)]
struct Digest {
    rows: usize,
    sum: i64,
    other: i64,
}

impl Digest {
    fn add(&mut self, i: i32, b: i64, t: &str, n: Decimal, ts: DateTime<Utc>) {
        self.rows += 1;
        self.sum += i64::from(i);
        self.other = self
            .other
            .wrapping_add(b)
            .wrapping_add(t.len() as i64)
            .wrapping_add(i64::from(n.scale()))
            .wrapping_add(ts.timestamp());
    }

    fn check(self, rows: usize) -> Result<Digest> {
        let n = rows as i64;
        if self.rows != rows || self.sum != n * (n + 1) / 2 {
            return Err(format!("read {} rows (sum {}), not {rows}", self.rows, self.sum).into());
        }
        Ok(std::hint::black_box(self))
    }
}

fn ours_row(row: &pg_types::Row, digest: &mut Digest) -> Result<()> {
    digest.add(
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
    );
    Ok(())
}

/// Runs the scenario.
pub fn run(bench: &Bench) -> Result<Report> {
    let rows = bench.scale.source_rows;
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM {}", bench.source);
    let rt = &bench.rt;
    let mut notes = Vec::new();
    let mut subjects = Vec::new();

    let ours = bench.ours()?;
    let ps = rt.block_on(ours.prepare(&sql))?;
    let ps2 = ps.clone();
    subjects.push(Subject::ours("ours rows", move || {
        in_process(true, || {
            rt.block_on(async {
                let mut digest = Digest::default();
                let mut stream = ps.rows(())?;
                while let Some(row) = stream.next().await {
                    ours_row(&row?, &mut digest)?;
                }
                digest.check(rows)
            })
        })
    }));
    subjects.push(Subject::ours("ours chunks", move || {
        in_process(true, || {
            rt.block_on(async {
                let mut digest = Digest::default();
                let mut stream = ps2.chunks(())?;
                while let Some(chunk) = stream.next().await {
                    for row in &chunk? {
                        ours_row(row, &mut digest)?;
                    }
                }
                digest.check(rows)
            })
        })
    }));

    let client = bench.tokio_postgres()?;
    let stmt = rt.block_on(client.prepare(&sql))?;
    subjects.push(Subject::peer("tokio-postgres query_raw", move || {
        in_process(true, || {
            rt.block_on(async {
                let mut digest = Digest::default();
                let no_params: [&(dyn tokio_postgres::types::ToSql + Sync); 0] = [];
                let stream = client.query_raw(&stmt, no_params).await?;
                let mut stream = std::pin::pin!(stream);
                while let Some(row) = stream.try_next().await? {
                    digest.add(
                        row.try_get(0)?,
                        row.try_get(1)?,
                        row.try_get(2)?,
                        row.try_get(3)?,
                        row.try_get(4)?,
                    );
                }
                digest.check(rows)
            })
        })
    }));

    let mut sqlx = bench.sqlx()?;
    let query = sql.clone();
    subjects.push(Subject::peer("sqlx fetch", move || {
        in_process(true, || {
            rt.block_on(async {
                use sqlx::Row;
                let mut digest = Digest::default();
                let mut stream = sqlx::query(&query).fetch(&mut sqlx);
                while let Some(row) = stream.try_next().await? {
                    digest.add(
                        row.try_get(0)?,
                        row.try_get(1)?,
                        row.try_get(2)?,
                        row.try_get(3)?,
                        row.try_get(4)?,
                    );
                }
                drop(stream);
                digest.check(rows)
            })
        })
    }));

    if let Some(asyncpg) = &bench.tools.asyncpg {
        let (uri, sql) = (bench.uri.clone(), sql.clone());
        subjects.push(Subject::peer("asyncpg fetch", move || {
            asyncpg.run(&uri, "fetch", &[&sql], rows, true)
        }));
    } else {
        notes.push("asyncpg skipped: python3 cannot import it".to_owned());
    }

    if let Some(program) = &bench.tools.psql {
        let uri = bench.uri.clone();
        let command = format!("\\copy ({sql}) TO '/dev/null' WITH (FORMAT binary)");
        subjects.push(Subject::peer("psql \\copy binary", move || {
            psql::run(program, &uri, &command, true)
        }));
    }

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    Ok(Report {
        scenario: "fetch",
        description: format!(
            "stream {rows} rows of (int4, int8, text, numeric, timestamptz), every value decoded \
             (asyncpg: fetch, all rows in memory; psql: binary COPY to /dev/null, not decoded)"
        ),
        unit: "rows/s",
        work: rows as f64,
        outcomes,
        notes,
    })
}
