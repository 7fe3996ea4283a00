//! A timeout for one call: [`WithTimeout::with_timeout`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pg_exceptions::Error;

/// Gives up any of the driver's calls after a while, with a typed error.
///
/// `call.with_timeout(limit)` is the call, unless it has not finished after `limit`: then it
/// is dropped and the result is a [`QueryTimeoutError`](pg_exceptions::QueryTimeoutError),
/// a kind of QueryCanceledError. Dropping the call is what `tokio::time::timeout` does too;
/// what makes it a cancel is the connection's engine, which tells the server to cancel a
/// statement given up while it runs, unless other requests were written after it (see the
/// crate's "Timeouts and cancellation"). Either way the connection stays in sync and usable.
///
/// ```no_run
/// # async fn example(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
/// use std::time::Duration;
/// use pg_driver::WithTimeout;
///
/// let slow = db.query("SELECT pg_sleep(10)", ()).with_timeout(Duration::from_millis(200));
/// let error = slow.await.unwrap_err();
/// assert!(error.is_a(&pg_exceptions::QueryTimeoutError));
/// assert!(error.is_a(&pg_exceptions::QueryCanceledError));
/// // At once: the sleep was cancelled on the server.
/// db.execute("SELECT 1").await?;
/// # Ok(()) }
/// ```
pub trait WithTimeout<T>: Future<Output = Result<T, Error>> + Sized {
    /// This call, given up after `limit` (see [`WithTimeout`]).
    fn with_timeout(self, limit: Duration) -> Timeout<Self> {
        Timeout {
            inner: Some(Box::pin(tokio::time::timeout(limit, self))),
            limit,
        }
    }
}

impl<F, T> WithTimeout<T> for F where F: Future<Output = Result<T, Error>> {}

/// A call with a timeout (see [`WithTimeout::with_timeout`]).
#[must_use = "futures do nothing unless polled"]
pub struct Timeout<F> {
    /// None once finished: the call is dropped as soon as it is given up.
    inner: Option<Pin<Box<tokio::time::Timeout<F>>>>,
    limit: Duration,
}

impl<F> std::fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeout")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<F, T> Future for Timeout<F>
where
    F: Future<Output = Result<T, Error>>,
{
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(inner) = self.inner.as_mut() else {
            panic!("`Timeout` polled after completion");
        };
        let result = match inner.as_mut().poll(cx) {
            Poll::Ready(Ok(result)) => result,
            Poll::Ready(Err(_elapsed)) => Err(crate::wire::error::timed_out(self.limit)),
            Poll::Pending => return Poll::Pending,
        };
        // The call is dropped before its outcome is seen: a request given up is given up
        // (and cancelled when it can be) before the caller makes its next one.
        self.inner = None;
        Poll::Ready(result)
    }
}
