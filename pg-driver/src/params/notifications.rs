//! The driver's own keyword `notification_capacity`: how many untaken notifications a
//! connection queues before it drops the oldest (see [`crate::Connection::set_notification_capacity`]).
//!
//! `notification_capacity=100` (`[notification_capacity]=100` in a `pq://` IRI) takes a
//! non-negative integer; without it a connection queues
//! [`DEFAULT_NOTIFICATION_CAPACITY`]. Like the keywords of `statements`, it is kept in
//! [`ConnectParams::extra`] (and written back into IRIs as such); libpq does not know it.

use super::{ConnectParams, Keywords, ParamsError};

/// How many notifications a connection queues, untaken, when not told otherwise (the
/// `notification_capacity` connection keyword, [`Connection::set_notification_capacity`]).
///
/// Ten thousand notifications of a typical payload (well under 1 kB) hold a few MB; at the
/// server's largest payload (8,000 bytes) about 80 MB. When the queue is full the oldest
/// notification is dropped for each new one, and the next taker learns how many were
/// dropped (see [`NotificationBatch`](crate::NotificationBatch)).
///
/// [`Connection::set_notification_capacity`]: crate::Connection::set_notification_capacity
pub const DEFAULT_NOTIFICATION_CAPACITY: usize = 10_000;

/// The keyword this module reads.
pub(crate) const KEYWORD: &str = "notification_capacity";

fn parse(value: &str) -> Option<usize> {
    super::apply::parse_number(value)
}

/// Checks a value of [`KEYWORD`].
pub(crate) fn check(value: &str) -> Result<(), ParamsError> {
    super::apply::check_number::<usize>(KEYWORD, value, "a non-negative integer")
}

impl Keywords {
    /// Sets how many untaken notifications a connection queues (`notification_capacity`;
    /// default [`DEFAULT_NOTIFICATION_CAPACITY`]).
    pub fn notification_capacity(mut self, capacity: usize) -> Self {
        self.extra.insert(KEYWORD.into(), capacity.to_string());
        self
    }
}

impl ConnectParams {
    /// How many untaken notifications a connection queues before each new one drops the
    /// oldest: `notification_capacity`, else [`DEFAULT_NOTIFICATION_CAPACITY`].
    pub fn notification_capacity(&self) -> usize {
        self.extra
            .get(KEYWORD)
            .and_then(|value| parse(value))
            .unwrap_or(DEFAULT_NOTIFICATION_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{defaults, error, params};
    use super::*;

    #[test]
    fn every_spelling_reads_and_round_trips() {
        assert_eq!(
            params("host=h").notification_capacity(),
            DEFAULT_NOTIFICATION_CAPACITY
        );
        for text in [
            "host=h notification_capacity=100",
            "host=h notification_capacity=' 100 '",
            "postgresql://h/db?notification_capacity=100",
            "pq://h/db?[notification_capacity]=100",
        ] {
            assert_eq!(params(text).notification_capacity(), 100, "{text}");
        }
        assert_eq!(
            params("host=h notification_capacity=0").notification_capacity(),
            0
        );
        let p = params("pq://u@h/db?[notification_capacity]=7");
        assert_eq!(p.to_iri(false), "pq://u@h/db?[notification_capacity]=7");
        assert_eq!(params(&p.to_iri(false)).notification_capacity(), 7);
        let built = Keywords::new()
            .host("h")
            .notification_capacity(42)
            .build_with(&defaults())
            .unwrap();
        assert_eq!(built.notification_capacity(), 42);
    }

    #[test]
    fn bad_values_are_refused() {
        for text in [
            "host=h notification_capacity=-1",
            "host=h notification_capacity=lots",
            "postgresql://h/db?notification_capacity=",
            "pq://h/db?[notification_capacity]=1e3",
        ] {
            let e = error(text);
            assert!(
                e.to_string().contains("notification_capacity"),
                "{text}: {e}"
            );
            assert!(
                e.to_string().contains("non-negative integer"),
                "{text}: {e}"
            );
        }
    }
}
