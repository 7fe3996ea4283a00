//! What the pooled scenarios (`concurrent`, `web`) share: deadpool's pool around our driver,
//! and running many tasks at once.

use crate::bench::Bench;
use crate::measure::{BoxError, Result};

/// deadpool's manager of our driver's connections: checks like deadpool-postgres's `Fast`
/// recycling (the connection is not known closed).
pub struct Driver(pg_driver::Connector);

impl deadpool::managed::Manager for Driver {
    type Type = pg_driver::Connection;
    type Error = pg_exceptions::Error;

    async fn create(&self) -> std::result::Result<pg_driver::Connection, pg_exceptions::Error> {
        self.0.connect().await
    }

    async fn recycle(
        &self,
        conn: &mut pg_driver::Connection,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<pg_exceptions::Error> {
        match conn.closed() {
            true => Err(deadpool::managed::RecycleError::message("closed")),
            false => Ok(()),
        }
    }
}

/// deadpool's pool of up to `max_size` connections of our driver to the bench's server:
/// what the pool layer costs, apart from the driver.
pub fn ours_in_deadpool(bench: &Bench, max_size: usize) -> Result<deadpool::managed::Pool<Driver>> {
    let params = pg_driver::ConnectParams::from_iri(&bench.uri).map_err(|e| e.to_string())?;
    Ok(
        deadpool::managed::Pool::builder(Driver(pg_driver::Connector::new(params)))
            .max_size(max_size)
            .build()?,
    )
}

/// Spawns `tasks` tasks made by `task` and waits for them all; the first failure wins.
/// Returns what each task returned, in task order.
pub async fn all_tasks<F, Fut, T>(tasks: usize, task: F) -> Result<Vec<T>>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = std::result::Result<T, BoxError>> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..tasks).map(|t| tokio::spawn(task(t))).collect();
    let mut results = Vec::with_capacity(tasks);
    for handle in handles {
        results.push(handle.await??);
    }
    Ok(results)
}
