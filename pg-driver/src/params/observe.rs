//! The driver's own keywords for what its `tracing` instrumentation records (see the crate's
//! "Observability" section): `slow_statement_threshold` and `trace_parameters`.
//!
//! `slow_statement_threshold=100ms` makes every statement that takes longer a WARN event
//! (`slow_statement`) with its text and duration. The value is a duration as PostgreSQL
//! writes its own (`log_min_duration_statement`): a number of milliseconds, or a number with
//! `us`, `ms`, `s` or `min`; `0` or `-1` turn it off (the default).
//!
//! `trace_parameters=on` adds the parameter values to a statement's span and slow-statement
//! event. Off by default: values are often secrets (passwords, tokens, personal data), and a
//! log is read by more people than the database.
//!
//! Both are kept in [`ConnectParams::extra`] (and written back into IRIs as such); libpq
//! does not know them.

use std::time::Duration;

use super::{ConnectParams, Keywords, ParamsError};

/// The threshold's keyword.
pub(crate) const SLOW: &str = "slow_statement_threshold";
/// The parameter values' keyword.
pub(crate) const PARAMETERS: &str = "trace_parameters";
/// The keywords this module reads.
pub(crate) const KEYWORDS: &[&str] = &[SLOW, PARAMETERS];

/// What a connection's parameters ask the driver's instrumentation to do (kept on its link).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Observe {
    /// `slow_statement_threshold`.
    pub(crate) slow: Option<Duration>,
    /// `trace_parameters`.
    pub(crate) parameters: bool,
}

impl Observe {
    pub(crate) fn of(params: &ConnectParams) -> Observe {
        Observe {
            slow: params.slow_statement_threshold(),
            parameters: params.trace_parameters(),
        }
    }
}

/// Reads a threshold: `None` when it is off (zero or negative), `Err` when unreadable.
fn threshold(value: &str) -> Result<Option<Duration>, ()> {
    let value = value.trim_matches(super::apply::is_c_space);
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().map_err(drop)?;
    let scale = match unit.trim() {
        "us" => 1e-6,
        "" | "ms" => 1e-3,
        "s" => 1.0,
        "min" => 60.0,
        _ => return Err(()),
    };
    match number * scale {
        seconds if !seconds.is_finite() => Err(()),
        seconds if seconds <= 0.0 => Ok(None),
        seconds => Duration::try_from_secs_f64(seconds).map(Some).map_err(drop),
    }
}

fn on_off(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Checks a value of one of [`KEYWORDS`].
pub(crate) fn check(keyword: &str, value: &str) -> Result<(), ParamsError> {
    let (ok, expected) = match keyword {
        SLOW => (
            threshold(value).is_ok(),
            "a duration (100, 100ms, 1.5s, 2min)",
        ),
        _ => (on_off(value).is_some(), "on or off"),
    };
    match ok {
        true => Ok(()),
        false => Err(ParamsError::invalid(keyword, value, expected)),
    }
}

impl Keywords {
    /// Sets `slow_statement_threshold`: statements that take longer are a WARN event
    /// (`None` or zero: none are).
    pub fn slow_statement_threshold(mut self, threshold: Option<Duration>) -> Self {
        let millis = threshold.map_or(0.0, |t| t.as_secs_f64() * 1e3);
        self.extra.insert(SLOW.into(), format!("{millis}ms"));
        self
    }

    /// Sets `trace_parameters`: whether statements' spans and slow-statement events record
    /// their parameter values (off by default).
    pub fn trace_parameters(mut self, on: bool) -> Self {
        let value = if on { "on" } else { "off" };
        self.extra.insert(PARAMETERS.into(), value.into());
        self
    }
}

impl ConnectParams {
    /// How long a statement may take before it is a WARN event (`slow_statement_threshold`);
    /// `None` (the default): no statement is.
    pub fn slow_statement_threshold(&self) -> Option<Duration> {
        self.extra
            .get(SLOW)
            .and_then(|value| threshold(value).ok())
            .flatten()
    }

    /// Whether statements' spans and events record parameter values (`trace_parameters`;
    /// off by default).
    pub fn trace_parameters(&self) -> bool {
        self.extra
            .get(PARAMETERS)
            .and_then(|value| on_off(value))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{defaults, error, params};
    use super::*;

    #[test]
    fn thresholds_read_as_postgresql_writes_durations() {
        let ms = Duration::from_millis;
        assert_eq!(params("host=h").slow_statement_threshold(), None);
        for (text, want) in [
            ("host=h slow_statement_threshold=100", Some(ms(100))),
            ("host=h slow_statement_threshold=100ms", Some(ms(100))),
            ("host=h slow_statement_threshold=' 1.5s '", Some(ms(1500))),
            ("host=h slow_statement_threshold=2min", Some(ms(120_000))),
            (
                "host=h slow_statement_threshold=250us",
                Some(Duration::from_micros(250)),
            ),
            ("host=h slow_statement_threshold=0", None),
            ("host=h slow_statement_threshold=-1", None),
            ("pq://h/db?[slow_statement_threshold]=100ms", Some(ms(100))),
            ("postgresql://h/db?slow_statement_threshold=5", Some(ms(5))),
        ] {
            assert_eq!(params(text).slow_statement_threshold(), want, "{text}");
        }
        let built = Keywords::new()
            .host("h")
            .slow_statement_threshold(Some(ms(100)))
            .trace_parameters(true)
            .build_with(&defaults())
            .unwrap();
        assert_eq!(built.slow_statement_threshold(), Some(ms(100)));
        assert!(built.trace_parameters());
        let again = params(&built.to_iri(false));
        assert_eq!(again.slow_statement_threshold(), Some(ms(100)));
        assert!(again.trace_parameters());
        assert!(built.ignored_parameters().is_empty());
    }

    #[test]
    fn parameters_are_off_unless_asked_for() {
        assert!(!params("host=h").trace_parameters());
        assert!(!params("host=h trace_parameters=off").trace_parameters());
        assert!(params("host=h trace_parameters=on").trace_parameters());
    }

    #[test]
    fn bad_values_are_refused() {
        for text in [
            "host=h slow_statement_threshold=soon",
            "host=h slow_statement_threshold=5h",
            "host=h slow_statement_threshold=",
            "host=h trace_parameters=maybe",
        ] {
            let e = error(text).to_string();
            assert!(
                e.contains("slow_statement_threshold") || e.contains("trace_parameters"),
                "{text}: {e}"
            );
        }
    }
}
