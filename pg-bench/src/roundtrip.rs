//! `roundtrip`: sequential executions of a prepared `SELECT $1::int4`, one round trip each.

use crate::bench::Bench;
use crate::measure::{Result, Subject, in_process, interleave};
use crate::peers::pgbench;
use crate::report::Report;

const SQL: &str = "SELECT $1::int4";

/// Runs the scenario.
pub fn run(bench: &Bench) -> Result<Report> {
    let n = bench.scale.roundtrips;
    let rt = &bench.rt;
    let mut notes = Vec::new();
    let mut subjects = Vec::new();

    let ours = bench.ours()?;
    let ps = rt.block_on(ours.prepare(SQL))?;
    subjects.push(Subject::ours("ours async", move || {
        in_process(false, || {
            rt.block_on(async {
                let mut sum = 0i64;
                for i in 0..n as i32 {
                    sum += i64::from(ps.first::<i32, _>((i,)).await?);
                }
                check(sum, n)
            })
        })
    }));

    let blocking = pg_driver::blocking::open(&bench.iri)?;
    let bps = blocking.prepare(SQL)?;
    subjects.push(Subject::ours("ours blocking", move || {
        in_process(false, || {
            let mut sum = 0i64;
            for i in 0..n as i32 {
                sum += i64::from(bps.first::<i32, _>((i,))?);
            }
            check(sum, n)
        })
    }));

    let client = bench.tokio_postgres()?;
    let stmt = rt.block_on(client.prepare(SQL))?;
    subjects.push(Subject::peer("tokio-postgres", move || {
        in_process(false, || {
            rt.block_on(async {
                let mut sum = 0i64;
                for i in 0..n as i32 {
                    let row = client.query_one(&stmt, &[&i]).await?;
                    sum += i64::from(row.get::<_, i32>(0));
                }
                check(sum, n)
            })
        })
    }));

    let mut sqlx = bench.sqlx()?;
    subjects.push(Subject::peer("sqlx", move || {
        in_process(false, || {
            rt.block_on(async {
                let mut sum = 0i64;
                for i in 0..n as i32 {
                    // sqlx prepares on first use and keeps the statement per connection.
                    let v: i32 = sqlx::query_scalar(SQL).bind(i).fetch_one(&mut sqlx).await?;
                    sum += i64::from(v);
                }
                check(sum, n)
            })
        })
    }));

    let script = pgbench::script("\\set v random(1, 1000000)\nSELECT :v::int4;\n")?;
    if let Some(program) = &bench.tools.pgbench {
        let (uri, path) = (bench.uri.clone(), script.path().to_owned());
        subjects.push(Subject::peer("pgbench -M prepared", move || {
            pgbench::run(program, &uri, &path, n)
        }));
    } else {
        notes.push("pgbench skipped: not installed".to_owned());
    }

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    Ok(Report {
        scenario: "roundtrip",
        description: format!("{n} sequential executions of a prepared {SQL}"),
        unit: "queries/s",
        work: n as f64,
        outcomes,
        notes,
    })
}

fn check(sum: i64, n: usize) -> Result<i64> {
    let n = n as i64;
    if sum != n * (n - 1) / 2 {
        return Err(format!("wrong sum {sum}").into());
    }
    Ok(sum)
}
