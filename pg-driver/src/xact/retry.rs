//! Running a transaction again when the server says another try may succeed: a
//! serialization failure (40001) or a deadlock (40P01).

use std::future::Future;
use std::time::Duration;

use pg_exceptions::Error;
use rand::RngExt;

use super::Transaction;

/// An error that says whether running the transaction again may succeed (see
/// [`Retry::run`]). [`Error`](struct@pg_exceptions::Error) says so for 40001 (serialization_failure) and 40P01
/// (deadlock_detected); implement it for an error type of your own that wraps one.
pub trait Retryable: From<Error> {
    /// Whether another try of the whole transaction may succeed.
    fn is_retryable(&self) -> bool;
}

impl Retryable for Error {
    fn is_retryable(&self) -> bool {
        is_retryable_code(self.code())
    }
}

/// 40001 (serialization_failure) and 40P01 (deadlock_detected): the transaction lost a race
/// with another and may succeed when run again from its start.
pub(crate) fn is_retryable_code(code: &str) -> bool {
    matches!(code, "40001" | "40P01")
}

/// The wait before the first retry, unless [`Retry::backoff`] says otherwise.
pub const RETRY_FIRST_DELAY: Duration = Duration::from_millis(10);
/// The longest wait between tries, unless [`Retry::backoff`] says otherwise.
pub const RETRY_MAX_DELAY: Duration = Duration::from_millis(500);

/// A transaction run up to a number of times: made by [`Transaction::retry`].
#[derive(Clone, Debug)]
pub struct Retry {
    template: Transaction,
    attempts: u32,
    first: Duration,
    max: Duration,
}

impl Transaction {
    /// Runs this transaction (not yet started) up to `attempts` times (at least once) with
    /// [`Retry::run`]: each try a new transaction with the same characteristics, the closure
    /// run again from the start when a try failed with a serialization failure (40001) or a
    /// deadlock (40P01), after a short jittered, exponentially growing wait.
    pub fn retry(self, attempts: u32) -> Retry {
        Retry {
            template: self,
            attempts: attempts.max(1),
            first: RETRY_FIRST_DELAY,
            max: RETRY_MAX_DELAY,
        }
    }

    /// A new transaction, not started, on the same connection with the same characteristics.
    pub(crate) fn fresh(&self) -> Transaction {
        let progress = self.progress();
        let (isolation, modes) = (progress.isolation.clone(), progress.modes.clone());
        drop(progress);
        let mut x = self.inner.conn.xact();
        if let Some(isolation) = isolation {
            x = x.isolation(isolation);
        }
        for mode in modes {
            x = x.mode(mode);
        }
        x
    }
}

impl Retry {
    /// The wait before the first retry, and the longest wait: the wait doubles from `first`
    /// after each try, up to `max`, and each wait is a random time between half of it and
    /// all of it, so that transactions that collided do not collide again in step.
    pub fn backoff(mut self, first: Duration, max: Duration) -> Retry {
        self.first = first;
        self.max = max.max(first);
        self
    }

    /// How many tries at most.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Runs `f` in a transaction as [`Transaction::run`] does (commit on Ok, rollback on
    /// Err), and again in a new transaction when the try failed with an error that
    /// [`Retryable::is_retryable`] (a serialization failure or deadlock, from a statement or
    /// from the COMMIT), until a try succeeds, fails otherwise, or the tries are used up: then
    /// the last error is returned. Inside a transaction block the transaction is a savepoint,
    /// and such an error is returned at once: only the outermost transaction can be run again.
    ///
    /// `f` must be ready to run more than once: whatever it did outside the database in a
    /// failed try stays done.
    ///
    /// ```no_run
    /// # async fn example(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
    /// let moved = db
    ///     .xact()
    ///     .isolation("SERIALIZABLE")
    ///     .retry(5)
    ///     .run(|x| async move {
    ///         let n: i64 = x.query_first("SELECT sum(n) FROM counters", ()).await?;
    ///         x.execute("INSERT INTO counters VALUES (1)").await?;
    ///         Ok::<_, pg_exceptions::Error>(n)
    ///     })
    ///     .await?;
    /// # let _ = moved; Ok(()) }
    /// ```
    pub async fn run<F, Fut, T, E>(self, mut f: F) -> Result<T, E>
    where
        F: FnMut(Transaction) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Retryable,
    {
        let mut attempt = 1;
        loop {
            let x = self.template.fresh();
            let savepoint = x.clone();
            match x.run(&mut f).await {
                Err(error)
                    if attempt < self.attempts
                        && error.is_retryable()
                        && savepoint.is_savepoint() == Some(false) =>
                {
                    tokio::time::sleep(self.delay(attempt)).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// The wait after the `attempt`th try (1-based).
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let doubling = 1u32 << (attempt - 1).min(20);
        let ceiling = self.first.saturating_mul(doubling).min(self.max);
        let half = ceiling / 2;
        let jitter = rand::rng().random_range(0..=half.as_micros() as u64);
        half + Duration::from_micros(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::is_retryable_code;

    #[test]
    fn only_serialization_failures_and_deadlocks_are_retried() {
        assert!(is_retryable_code("40001"));
        assert!(is_retryable_code("40P01"));
        for code in ["40000", "40002", "23505", "57014", "25P02", "--000"] {
            assert!(!is_retryable_code(code), "{code}");
        }
    }
}
