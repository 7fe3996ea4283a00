//! `concurrent`: many tasks sharing a small pool, each running short queries.

use std::time::Duration;

use deadpool_postgres::{ManagerConfig, RecyclingMethod};

use crate::bench::Bench;
use crate::measure::{Result, Subject, in_process, interleave};
use crate::pools::{Driver, all_tasks, ours_in_deadpool};
use crate::report::Report;

const SQL: &str = "SELECT $1::int4";

/// Runs the scenario.
pub fn run(bench: &Bench) -> Result<Report> {
    let scale = bench.scale;
    let (tasks, per_task) = (scale.tasks, scale.queries_per_task);
    let rt = &bench.rt;
    let mut notes = Vec::new();
    let mut subjects = Vec::new();

    // Both sessions share the URI's pool (one subject runs at a time); the pipelined one
    // learns the statement on its first query, then runs it on shared connections.
    for (name, depth) in [
        ("ours pg-session AsyncSession", 1),
        (
            "ours pg-session AsyncSession pipelined",
            tasks.div_ceil(scale.pool_size),
        ),
    ] {
        let session = pg_session::AsyncSession::builder(bench.uri.clone())
            .pool_max_size(scale.pool_size)
            .acquire_timeout(Duration::from_secs(60))
            .pipeline_depth(depth)
            .row_form::<pg_session::Tuple>()
            .build()?;
        subjects.push(Subject::ours(name, move || {
            in_process(false, || {
                rt.block_on(all_tasks(tasks, |task| {
                    let session = session.clone();
                    async move {
                        for q in 0..per_task {
                            let i = (task * per_task + q) as i32;
                            let results = session.query(SQL, (i,)).await?;
                            let v: i32 = results.items()[0].try_get(0)?;
                            if v != i {
                                return Err(format!("{v} for {i}").into());
                            }
                        }
                        Ok(())
                    }
                }))
            })
        }));
    }

    // deadpool's pool around our driver: what the pool layer costs, apart from the driver.
    let ours_in_deadpool = ours_in_deadpool(bench, scale.pool_size)?;
    subjects.push(Subject::peer("deadpool with our driver", move || {
        in_process(false, || {
            rt.block_on(all_tasks(tasks, |task| {
                let pool = ours_in_deadpool.clone();
                async move {
                    for q in 0..per_task {
                        let i = (task * per_task + q) as i32;
                        let conn: deadpool::managed::Object<Driver> =
                            pool.get().await.map_err(|e| format!("{e:?}"))?;
                        let results = conn.query_cached(SQL, (i,)).await?;
                        let v: i32 = results.rows[0].try_get(0)?;
                        if v != i {
                            return Err(format!("{v} for {i}").into());
                        }
                    }
                    Ok(())
                }
            }))
        })
    }));

    for (name, method) in [
        ("deadpool-postgres", RecyclingMethod::Fast),
        ("deadpool-postgres Clean", RecyclingMethod::Clean),
    ] {
        let mut config = deadpool_postgres::Config::new();
        config.url = Some(bench.uri.clone());
        config.pool = Some(deadpool_postgres::PoolConfig::new(scale.pool_size));
        config.manager = Some(ManagerConfig {
            recycling_method: method,
        });
        let pool = config.create_pool(
            Some(deadpool_postgres::Runtime::Tokio1),
            tokio_postgres::NoTls,
        )?;
        subjects.push(Subject::peer(name, move || {
            in_process(false, || {
                rt.block_on(all_tasks(tasks, |task| {
                    let pool = pool.clone();
                    async move {
                        for q in 0..per_task {
                            let i = (task * per_task + q) as i32;
                            let client = pool.get().await?;
                            let stmt = client.prepare_cached(SQL).await?;
                            let v: i32 = client.query_one(&stmt, &[&i]).await?.try_get(0)?;
                            if v != i {
                                return Err(format!("{v} for {i}").into());
                            }
                        }
                        Ok(())
                    }
                }))
            })
        }));
    }

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    Ok(Report {
        scenario: "concurrent",
        description: format!(
            "{tasks} tasks × {per_task} executions of {SQL} through a pool of {} connections \
             (a connection taken from the pool per query; deadpool: prepare_cached; deadpool with \
             our driver: query_cached; pipelined: pipeline_depth({}), the statement shares \
             connections once the session saw it leave no state)",
            scale.pool_size,
            tasks.div_ceil(scale.pool_size)
        ),
        unit: "queries/s",
        work: (tasks * per_task) as f64,
        outcomes,
        notes,
    })
}
