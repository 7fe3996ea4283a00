//! The driver's own keyword `query_timeout`: how long a connection's statements may run
//! before the client gives them up and has the server cancel them (see
//! [`crate::Connection::set_query_timeout`]).
//!
//! `query_timeout=1500` (`[query_timeout]=1500` in a `pq://` IRI) takes a non-negative
//! number of milliseconds, as the server's `statement_timeout` does without a unit; 0, the
//! default, means none. Like `notification_capacity`, it is kept in [`ConnectParams::extra`]
//! (and written back into IRIs as such); libpq does not know it.

use std::time::Duration;

use super::{ConnectParams, Keywords, ParamsError};

/// The keyword this module reads.
pub(crate) const KEYWORD: &str = "query_timeout";

fn parse(value: &str) -> Option<u64> {
    super::apply::parse_number(value)
}

/// Checks a value of [`KEYWORD`].
pub(crate) fn check(value: &str) -> Result<(), ParamsError> {
    super::apply::check_number::<u64>(KEYWORD, value, "a non-negative number of milliseconds")
}

impl Keywords {
    /// Sets how long each statement of the connection may run before the client gives it
    /// up and has the server cancel it (`query_timeout`, in milliseconds; zero for none).
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.extra
            .insert(KEYWORD.into(), timeout.as_millis().to_string());
        self
    }
}

impl ConnectParams {
    /// How long each statement of a connection may run before the client gives it up and
    /// has the server cancel it: `query_timeout`, else none.
    pub fn query_timeout(&self) -> Option<Duration> {
        self.extra
            .get(KEYWORD)
            .and_then(|value| parse(value))
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{defaults, error, params};
    use super::*;

    #[test]
    fn every_spelling_reads_and_round_trips() {
        assert_eq!(params("host=h").query_timeout(), None);
        for text in [
            "host=h query_timeout=1500",
            "postgresql://h/db?query_timeout=1500",
            "pq://h/db?[query_timeout]=1500",
        ] {
            assert_eq!(
                params(text).query_timeout(),
                Some(Duration::from_millis(1500)),
                "{text}"
            );
        }
        assert_eq!(params("host=h query_timeout=0").query_timeout(), None);
        let p = params("pq://u@h/db?[query_timeout]=7");
        assert_eq!(p.to_iri(false), "pq://u@h/db?[query_timeout]=7");
        assert!(p.ignored_parameters().is_empty());
        let built = Keywords::new()
            .host("h")
            .query_timeout(Duration::from_secs(2))
            .build_with(&defaults())
            .unwrap();
        assert_eq!(built.query_timeout(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn bad_values_are_refused() {
        for text in ["host=h query_timeout=-1", "host=h query_timeout=2s"] {
            let e = error(text);
            assert!(e.to_string().contains("query_timeout"), "{text}: {e}");
        }
    }
}
