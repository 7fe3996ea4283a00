//! `insert`: parameterised INSERTs of (int4, text, numeric) into an emptied table.

use futures::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;

use crate::bench::{Bench, INSERT_TABLE};
use crate::measure::{Result, Sample, Subject, in_process, interleave};
use crate::report::Report;

/// How our default load_rows runs this INSERT (pg-driver's batching, up to 250 rows a statement).
const BATCHED: &str = "250 rows an INSERT";

/// How many tokio-postgres executions are in flight at once in the pipelined subject.
const WINDOW: usize = 1024;

/// Runs the scenario.
pub fn run(bench: &Bench) -> Result<Report> {
    let n = bench.scale.inserts;
    let sql = format!("INSERT INTO {INSERT_TABLE} (i, t, n) VALUES ($1, $2, $3)");
    // The rows every subject inserts (asyncpg's script makes the same ones).
    let data: Vec<(i32, String, Decimal)> = (0..n)
        .map(|i| {
            (
                i as i32,
                format!("row {i}"),
                Decimal::new(i as i64 * 100 + 25, 2),
            )
        })
        .collect();
    let data = &data;
    let rt = &bench.rt;
    let client = bench.tokio_postgres()?;
    let stmt = rt.block_on(client.prepare(&sql))?;
    let (client, stmt) = (&client, &stmt);
    let mut notes = Vec::new();
    let mut subjects = Vec::new();
    // Each run starts from an empty table; emptying it is not timed.
    let timed = |work: &mut dyn FnMut() -> Result<u64>| -> Result<Sample> {
        bench.sql(&format!("TRUNCATE {INSERT_TABLE}"))?;
        in_process(false, || match work()? {
            count if count == n as u64 => Ok(count),
            count => Err(format!("inserted {count} rows, not {n}").into()),
        })
    };
    let params = || data.iter().map(|(i, t, d)| (*i, t.as_str(), *d));

    let ours = bench.ours()?;
    let ps = rt.block_on(ours.prepare(&sql))?;
    subjects.push(Subject::ours("ours load_rows", move || {
        timed(&mut || Ok(rt.block_on(ps.load_rows(params()))?))
    }));
    // The same load with batching off: one INSERT per row, as the peers run it.
    let each = bench.ours_with("batch_inserts", "off")?;
    let each = rt.block_on(each.prepare(&sql))?;
    subjects.push(Subject::ours("ours load_rows row by row", move || {
        timed(&mut || Ok(rt.block_on(each.load_rows(params()))?))
    }));
    subjects.push(Subject::ours("ours copy_in_values", move || {
        timed(&mut || {
            let load = ours.copy_in_values(INSERT_TABLE, &["i", "t", "n"], params());
            Ok(rt.block_on(load)?)
        })
    }));

    subjects.push(Subject::peer("tokio-postgres sequential", move || {
        timed(&mut || {
            rt.block_on(async {
                client.batch_execute("BEGIN").await?;
                let mut count = 0;
                for (i, t, d) in data {
                    count += client.execute(stmt, &[i, t, d]).await?;
                }
                client.batch_execute("COMMIT").await?;
                Ok(count)
            })
        })
    }));
    subjects.push(Subject::peer("tokio-postgres pipelined", move || {
        timed(&mut || {
            rt.block_on(async {
                client.batch_execute("BEGIN").await?;
                let count = futures::stream::iter(data)
                    .map(|(i, t, d)| {
                        let params: [&(dyn ToSql + Sync); 3] = [i, t, d];
                        client.execute_raw(stmt, params)
                    })
                    .buffer_unordered(WINDOW)
                    .try_fold(0, |sum, count| async move { Ok(sum + count) })
                    .await?;
                client.batch_execute("COMMIT").await?;
                Ok(count)
            })
        })
    }));

    if let Some(asyncpg) = &bench.tools.asyncpg {
        let uri = &bench.uri;
        let count = n.to_string();
        for mode in ["executemany", "copy_records"] {
            let count = count.clone();
            subjects.push(Subject::peer(&format!("asyncpg {mode}"), move || {
                bench.sql(&format!("TRUNCATE {INSERT_TABLE}"))?;
                asyncpg.run(uri, mode, &[INSERT_TABLE, &count], n, false)
            }));
        }
    } else {
        notes.push("asyncpg skipped: python3 cannot import it".to_owned());
    }

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    Ok(Report {
        scenario: "insert",
        description: format!(
            "{n} INSERTs of (int4, text, numeric), each subject all or nothing \
             (ours load_rows batched {BATCHED}, row by row with batch_inserts=off; \
             tokio-postgres inside BEGIN … COMMIT, pipelined {WINDOW} in flight; \
             asyncpg prepared executemany; COPY subjects binary)"
        ),
        unit: "rows/s",
        work: n as f64,
        outcomes,
        notes,
    })
}
