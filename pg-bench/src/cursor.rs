//! `cursor`: paging through a scrollable cursor with `seek` and `read` (no peer has one).

use pg_driver::Whence;

use crate::bench::{Bench, SOURCE_COLUMNS};
use crate::measure::{Result, Subject, in_process, interleave};
use crate::report::Report;

/// Runs the scenario.
pub fn run(bench: &Bench) -> Result<Report> {
    let (rows, page) = (bench.scale.cursor_rows, bench.scale.page);
    let sql = format!(
        "SELECT {SOURCE_COLUMNS} FROM {} WHERE i <= $1",
        bench.source
    );
    let rt = &bench.rt;
    let mut notes = Vec::new();
    let ours = bench.ours()?;
    let ps = rt.block_on(ours.prepare(&sql))?;
    let subject = Subject::ours("ours seek + read", move || {
        in_process(true, || {
            rt.block_on(async {
                let cursor = ps.declare((rows as i32,)).await?;
                let mut seen = 0usize;
                let mut sum = 0i64;
                for start in (0..rows).step_by(page) {
                    cursor.seek(start as i64, Whence::Absolute).await?;
                    for row in cursor.read(Some(page as u64), None).await? {
                        let i: i32 = row.try_get(0)?;
                        let _: i64 = row.try_get(1)?;
                        let _: &str = row.try_get(2)?;
                        let _: rust_decimal::Decimal = row.try_get(3)?;
                        let _: chrono::DateTime<chrono::Utc> = row.try_get(4)?;
                        sum += i64::from(i);
                        seen += 1;
                    }
                }
                cursor.close().await?;
                let n = rows as i64;
                if seen != rows || sum != n * (n + 1) / 2 {
                    return Err(format!("read {seen} rows (sum {sum}), not {rows}").into());
                }
                Ok(sum)
            })
        })
    });
    let outcomes = interleave(vec![subject], &bench.plan, &mut notes);
    Ok(Report {
        scenario: "cursor",
        description: format!(
            "declare a scrollable cursor over {rows} rows, then seek + read {page} at a time \
             (every value decoded)"
        ),
        unit: "rows/s",
        work: rows as f64,
        outcomes,
        notes,
    })
}
