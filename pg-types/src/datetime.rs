//! DATE, TIME, TIMETZ, TIMESTAMP, TIMESTAMPTZ and INTERVAL.
//!
//! PostgreSQL counts days (DATE) and microseconds (TIMESTAMP) from 2000-01-01; the
//! greatest and least values of the counter stand for `infinity` and `-infinity`. Its
//! range is wider than chrono's (up to 294276 AD): a value chrono cannot hold is a decode
//! error. BC years are chrono's proleptic ones (`0001-01-01 BC` is year 0).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

/// Seconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_UNIX: i64 = 946_684_800;
/// `NaiveDate::num_days_from_ce` of 2000-01-01.
const PG_EPOCH_DAYS_CE: i32 = 730_120;
const USECS_PER_SEC: i64 = 1_000_000;
/// `24:00:00`, the greatest TIME.
const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;

/// A DATE, with PostgreSQL's infinities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Date {
    /// `-infinity`, before every date.
    NegInfinity,
    /// A calendar date.
    Value(NaiveDate),
    /// `infinity`, after every date.
    Infinity,
}

/// A TIMESTAMP (without time zone), with PostgreSQL's infinities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timestamp {
    /// `-infinity`.
    NegInfinity,
    /// A date and time of day.
    Value(NaiveDateTime),
    /// `infinity`.
    Infinity,
}

/// A TIMESTAMPTZ (an instant), with PostgreSQL's infinities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimestampTz {
    /// `-infinity`.
    NegInfinity,
    /// An instant.
    Value(DateTime<Utc>),
    /// `infinity`.
    Infinity,
}

/// An INTERVAL: months, days and microseconds, kept apart as PostgreSQL keeps them
/// (a month is not a fixed number of days, nor a day of hours across DST changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Months (a year is 12).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub microseconds: i64,
}

impl Interval {
    /// An interval of `months`, `days` and `microseconds`.
    pub fn new(months: i32, days: i32, microseconds: i64) -> Interval {
        Interval {
            months,
            days,
            microseconds,
        }
    }
}

impl Date {
    /// From PostgreSQL's day count.
    pub(crate) fn from_pg(days: i32) -> Result<Date, String> {
        match days {
            i32::MAX => Ok(Date::Infinity),
            i32::MIN => Ok(Date::NegInfinity),
            _ => days
                .checked_add(PG_EPOCH_DAYS_CE)
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .map(Date::Value)
                .ok_or_else(|| {
                    format!("date {days} days from 2000-01-01 is out of chrono's range")
                }),
        }
    }

    /// To PostgreSQL's day count.
    pub(crate) fn to_pg(self) -> i32 {
        use chrono::Datelike;
        match self {
            Date::Infinity => i32::MAX,
            Date::NegInfinity => i32::MIN,
            // chrono's day numbers stay far from i32's limits.
            Date::Value(d) => d.num_days_from_ce() - PG_EPOCH_DAYS_CE,
        }
    }
}

/// A chrono instant from PostgreSQL's microsecond count, as a naive UTC date-time.
fn naive_from_pg(usecs: i64) -> Result<NaiveDateTime, String> {
    let secs = usecs.div_euclid(USECS_PER_SEC);
    let nanos = (usecs.rem_euclid(USECS_PER_SEC) * 1000) as u32;
    secs.checked_add(PG_EPOCH_UNIX)
        .and_then(|s| DateTime::from_timestamp(s, nanos))
        .map(|dt| dt.naive_utc())
        .ok_or_else(|| format!("timestamp {usecs}µs from 2000-01-01 is out of chrono's range"))
}

/// PostgreSQL's microsecond count of a naive UTC date-time; sub-microsecond digits are
/// dropped.
fn naive_to_pg(dt: &NaiveDateTime) -> Result<i64, String> {
    let utc = dt.and_utc();
    (utc.timestamp() - PG_EPOCH_UNIX)
        .checked_mul(USECS_PER_SEC)
        .and_then(|u| u.checked_add(i64::from(utc.timestamp_subsec_micros())))
        .filter(|&u| u != i64::MAX && u != i64::MIN)
        .ok_or_else(|| format!("timestamp {dt} is out of PostgreSQL's range"))
}

impl Timestamp {
    /// From PostgreSQL's microsecond count.
    pub(crate) fn from_pg(usecs: i64) -> Result<Timestamp, String> {
        match usecs {
            i64::MAX => Ok(Timestamp::Infinity),
            i64::MIN => Ok(Timestamp::NegInfinity),
            _ => naive_from_pg(usecs).map(Timestamp::Value),
        }
    }

    /// To PostgreSQL's microsecond count.
    pub(crate) fn to_pg(self) -> Result<i64, String> {
        match self {
            Timestamp::Infinity => Ok(i64::MAX),
            Timestamp::NegInfinity => Ok(i64::MIN),
            Timestamp::Value(dt) => naive_to_pg(&dt),
        }
    }
}

impl TimestampTz {
    /// From PostgreSQL's microsecond count.
    pub(crate) fn from_pg(usecs: i64) -> Result<TimestampTz, String> {
        match usecs {
            i64::MAX => Ok(TimestampTz::Infinity),
            i64::MIN => Ok(TimestampTz::NegInfinity),
            _ => naive_from_pg(usecs).map(|n| TimestampTz::Value(n.and_utc())),
        }
    }

    /// To PostgreSQL's microsecond count.
    pub(crate) fn to_pg(self) -> Result<i64, String> {
        match self {
            TimestampTz::Infinity => Ok(i64::MAX),
            TimestampTz::NegInfinity => Ok(i64::MIN),
            TimestampTz::Value(dt) => naive_to_pg(&dt.naive_utc()),
        }
    }
}

/// A TIME from microseconds since midnight. PostgreSQL's `24:00:00` becomes chrono's
/// leap-second form of `23:59:59` plus one second, which encodes back to `24:00:00`.
pub(crate) fn time_from_pg(usecs: i64) -> Result<NaiveTime, String> {
    let out_of_range = || format!("time of {usecs}µs is out of range");
    if !(0..=USECS_PER_DAY).contains(&usecs) {
        return Err(out_of_range());
    }
    if usecs == USECS_PER_DAY {
        return NaiveTime::from_hms_nano_opt(23, 59, 59, 1_000_000_000).ok_or_else(out_of_range);
    }
    let secs = (usecs / USECS_PER_SEC) as u32;
    let nanos = (usecs % USECS_PER_SEC * 1000) as u32;
    NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).ok_or_else(out_of_range)
}

/// Microseconds since midnight of a TIME; sub-microsecond digits are dropped.
pub(crate) fn time_to_pg(t: &NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight()) * USECS_PER_SEC + i64::from(t.nanosecond() / 1000)
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Date {
        Date::Value(d)
    }
}

impl From<NaiveDateTime> for Timestamp {
    fn from(dt: NaiveDateTime) -> Timestamp {
        Timestamp::Value(dt)
    }
}

impl From<DateTime<Utc>> for TimestampTz {
    fn from(dt: DateTime<Utc>) -> TimestampTz {
        TimestampTz::Value(dt)
    }
}
