//! PostgreSQL's text forms (ISO DateStyle, `postgres` IntervalStyle) of the date/time
//! values, used by `Display`.

use std::fmt::{self, Write};

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use crate::datetime::{Date, Interval, Timestamp, TimestampTz};

/// `YYYY-MM-DD`, and whether the year is BC.
fn date_part(d: &NaiveDate) -> (String, bool) {
    let year = d.year();
    let (shown, bc) = if year <= 0 {
        (1 - year, true)
    } else {
        (year, false)
    };
    (format!("{shown:04}-{:02}-{:02}", d.month(), d.day()), bc)
}

/// `HH:MM:SS[.ffffff]`, trailing zeros of the fraction dropped; chrono's leap second
/// after `23:59:59` is PostgreSQL's `24:00:00`.
pub(crate) fn time_text(t: &NaiveTime) -> String {
    let nanos = t.nanosecond();
    let (h, m, s, micros) = if nanos >= 1_000_000_000 && t.num_seconds_from_midnight() == 86_399 {
        (24, 0, 0, 0)
    } else {
        (
            t.hour(),
            t.minute(),
            t.second() + nanos / 1_000_000_000,
            nanos % 1_000_000_000 / 1000,
        )
    };
    let mut out = format!("{h:02}:{m:02}:{s:02}");
    push_fraction(&mut out, micros);
    out
}

fn push_fraction(out: &mut String, micros: u32) {
    if micros != 0 {
        let digits = format!("{micros:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// A UTC offset in seconds east as PostgreSQL prints it: `+05`, `-03:30`, `+01:02:03`.
pub(crate) fn offset_text(offset_seconds: i32) -> String {
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let abs = offset_seconds.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    match (m, s) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{s:02}"),
    }
}

impl fmt::Display for Date {
    /// `2024-02-29`, `0044-03-15 BC`, `infinity`, `-infinity`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Date::Infinity => f.write_str("infinity"),
            Date::NegInfinity => f.write_str("-infinity"),
            Date::Value(d) => {
                let (text, bc) = date_part(d);
                f.write_str(&text)?;
                if bc {
                    f.write_str(" BC")?;
                }
                Ok(())
            }
        }
    }
}

fn write_timestamp(
    f: &mut fmt::Formatter<'_>,
    dt: &chrono::NaiveDateTime,
    zone: &str,
) -> fmt::Result {
    let (date, bc) = date_part(&dt.date());
    write!(f, "{date} {}{zone}", time_text(&dt.time()))?;
    if bc {
        f.write_str(" BC")?;
    }
    Ok(())
}

impl fmt::Display for Timestamp {
    /// `2024-02-29 12:30:00.5`, `infinity`, `-infinity`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timestamp::Infinity => f.write_str("infinity"),
            Timestamp::NegInfinity => f.write_str("-infinity"),
            Timestamp::Value(dt) => write_timestamp(f, dt, ""),
        }
    }
}

impl fmt::Display for TimestampTz {
    /// In UTC: `2024-02-29 12:30:00+00`, `infinity`, `-infinity`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimestampTz::Infinity => f.write_str("infinity"),
            TimestampTz::NegInfinity => f.write_str("-infinity"),
            TimestampTz::Value(dt) => write_timestamp(f, &dt.naive_utc(), "+00"),
        }
    }
}

impl fmt::Display for Interval {
    /// PostgreSQL's default (`postgres`) style: `1 year 2 mons -3 days +04:05:06.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let mut before_negative = false;
        let mut part = |out: &mut String, value: i64, unit: &str| {
            if value == 0 {
                return;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            let plus = if before_negative && value > 0 {
                "+"
            } else {
                ""
            };
            let plural = if value != 1 { "s" } else { "" };
            let _ = write!(out, "{plus}{value} {unit}{plural}");
            before_negative = value < 0;
        };
        part(&mut out, i64::from(self.months / 12), "year");
        part(&mut out, i64::from(self.months % 12), "mon");
        part(&mut out, i64::from(self.days), "day");
        let us = self.microseconds;
        if out.is_empty() || us != 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            if us < 0 {
                out.push('-');
            } else if before_negative {
                out.push('+');
            }
            let abs = us.unsigned_abs();
            let secs = abs / 1_000_000;
            let _ = write!(
                out,
                "{:02}:{:02}:{:02}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
            push_fraction(&mut out, (abs % 1_000_000) as u32);
        }
        f.write_str(&out)
    }
}
