//! Direct decoders for [`Row::try_get`](crate::Row::try_get) of the types a fetch spends its
//! time on: binary `numeric` into `rust_decimal::Decimal`, `timestamptz` into
//! `chrono::DateTime<Utc>` and `timestamp` into `NaiveDateTime` (and their `Option`s).
//!
//! postgres-types' chrono decoders add the microseconds to 2000-01-01 through a checked
//! duration add, about 270 instructions a value; the epoch arithmetic below takes a third of
//! that and gives the same instant, and values out of its range (the infinities among them)
//! go to postgres-types for the same error.
//!
//! rust_decimal's own `FromSql` gathers the base-10000 digits into two vectors and builds
//! the value with a checked decimal multiply, add or divide per digit: about 1,400
//! instructions and two allocations a value, most of a fetched row's decoding. Here the
//! digits become one integer mantissa at the value's display scale. Only values that
//! decoder gives exactly are taken (at most 25 significant digits, a scale of at most 28,
//! nothing beyond the scale, no negative zero); anything else — NaN, infinities, huge or
//! malformed values — goes to rust_decimal's `FromSql`, so results and errors are its own
//! (except that its panics on some malformed values become errors).

use chrono::{DateTime, NaiveDateTime, Utc};
use postgres_types::{FromSql, Type};
use rust_decimal::Decimal;

/// Mantissas from here up are left to rust_decimal: its digit-by-digit build carries up to
/// three digits more than the scale, and under 10^25 those always fit its 96 bits.
const MANTISSA_LIMIT: u128 = 10u128.pow(25);
/// Base-10000 digits that fit the u128 accumulator with room to spare (10^36).
const MAX_DIGITS: usize = 9;

/// `raw` (a binary `numeric`) as a Decimal, when this decoder gives it exactly.
pub(crate) fn decimal_from_binary(raw: &[u8]) -> Option<Decimal> {
    let header: &[u8; 8] = raw.get(..8)?.try_into().ok()?;
    let ndigits = usize::from(u16::from_be_bytes([header[0], header[1]]));
    let weight = i32::from(i16::from_be_bytes([header[2], header[3]]));
    let negative = match u16::from_be_bytes([header[4], header[5]]) {
        0x0000 => false,
        0x4000 => true,
        _ => return None,
    };
    let scale = u32::from(u16::from_be_bytes([header[6], header[7]]));
    if scale > 28 || ndigits > MAX_DIGITS || raw.len() != 8 + 2 * ndigits {
        return None;
    }
    let mut digits: u128 = 0;
    for pair in raw[8..].chunks_exact(2) {
        let digit = u16::from_be_bytes([pair[0], pair[1]]);
        if digit >= 10_000 {
            return None;
        }
        digits = digits * 10_000 + u128::from(digit);
    }
    // The last digit counts 10000^(weight - ndigits + 1); the mantissa is the value times
    // 10^scale.
    let exponent = 4 * (weight - ndigits as i32 + 1) + scale as i32;
    let mantissa = if exponent >= 0 {
        digits.checked_mul(10u128.checked_pow(exponent as u32)?)?
    } else {
        let divisor = 10u128.checked_pow(exponent.unsigned_abs())?;
        if !digits.is_multiple_of(divisor) {
            return None;
        }
        digits / divisor
    };
    if mantissa >= MANTISSA_LIMIT || (negative && mantissa == 0) {
        return None;
    }
    let mantissa = mantissa as i128;
    Decimal::try_from_i128_with_scale(if negative { -mantissa } else { mantissa }, scale).ok()
}

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00:00 UTC.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// `raw` (a binary `timestamp` or `timestamptz`: microseconds since 2000-01-01) as a UTC
/// date-time, when it is within chrono's range.
pub(crate) fn timestamp_from_binary(raw: &[u8]) -> Option<DateTime<Utc>> {
    let micros = i64::from_be_bytes(raw.try_into().ok()?);
    DateTime::from_timestamp_micros(micros.checked_add(POSTGRES_EPOCH_MICROS)?)
}

/// What `FromSql` fails with.
pub(crate) type DecodeError = Box<dyn std::error::Error + Sync + Send>;

/// A numeric as a Decimal: directly when it is on that path, else through rust_decimal's
/// `FromSql`, whose panics on some malformed values (a zero with a large weight overflows
/// its power of ten) become an error: server bytes must not crash the reader.
fn decimal(raw: &[u8]) -> Result<Decimal, DecodeError> {
    if let Some(value) = decimal_from_binary(raw) {
        return Ok(value);
    }
    std::panic::catch_unwind(|| Decimal::from_sql(&Type::NUMERIC, raw))
        .unwrap_or_else(|_| Err("malformed numeric value".into()))
}

/// A timestamp directly when it is on that path; `None` leaves it to postgres-types (whose
/// error for the infinities and years beyond chrono's is then the one given).
fn timestamp<V>(raw: &[u8], convert: fn(DateTime<Utc>) -> V) -> Option<Result<V, DecodeError>> {
    Some(Ok(convert(timestamp_from_binary(raw)?)))
}

/// `T` read by this module, when `T` is the Rust type it decodes `ty` into (or its `Option`):
/// the value or the error. `None` sends the caller to `T`'s own `FromSql` (another type, a
/// NULL read as a plain value, a timestamp off the direct path).
#[inline]
pub(crate) fn try_decode<'a, T: FromSql<'a>>(
    ty: &Type,
    raw: Option<&[u8]>,
) -> Option<Result<T, DecodeError>> {
    if *ty == Type::NUMERIC {
        decoded::<T, Decimal>(raw, |raw| Some(decimal(raw)))
    } else if *ty == Type::TIMESTAMPTZ {
        decoded::<T, DateTime<Utc>>(raw, |raw| timestamp(raw, |utc| utc))
    } else if *ty == Type::TIMESTAMP {
        decoded::<T, NaiveDateTime>(raw, |raw| timestamp(raw, |utc| utc.naive_utc()))
    } else {
        None
    }
}

/// `decode(raw)` as `T`, when `T` is `V` or `Option<V>`.
#[inline]
fn decoded<'a, T: FromSql<'a>, V: Copy + 'static>(
    raw: Option<&[u8]>,
    decode: impl FnOnce(&[u8]) -> Option<Result<V, DecodeError>>,
) -> Option<Result<T, DecodeError>> {
    let id = typeid::of::<T>();
    if id == typeid::of::<V>() {
        let value = match decode(raw?)? {
            Ok(value) => value,
            Err(e) => return Some(Err(e)),
        };
        // SAFETY: T has V's type id, lifetimes erased, and V is 'static (no lifetime
        // parameters), so T is V. V is Copy: nothing is dropped twice.
        Some(Ok(unsafe { std::mem::transmute_copy::<V, T>(&value) }))
    } else if id == typeid::of::<Option<V>>() {
        let value = match raw {
            None => None,
            Some(raw) => match decode(raw)? {
                Ok(value) => Some(value),
                Err(e) => return Some(Err(e)),
            },
        };
        // SAFETY: as above, T is Option<V>, which is Copy.
        Some(Ok(unsafe {
            std::mem::transmute_copy::<Option<V>, T>(&value)
        }))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use postgres_types::ToSql;
    use proptest::prelude::*;

    /// rust_decimal's own reading of `raw`; `None` for its errors, `Err` where it panics
    /// (some malformed values: a zero with a large weight overflows its power of ten).
    fn theirs(raw: &[u8]) -> Result<Option<Decimal>, ()> {
        std::panic::catch_unwind(|| Decimal::from_sql(&Type::NUMERIC, raw).ok()).map_err(|_| ())
    }

    /// A binary numeric from its parts.
    fn numeric(digits: &[u16], weight: i16, sign: u16, scale: u16) -> Vec<u8> {
        let mut raw = Vec::new();
        raw.extend_from_slice(&(digits.len() as u16).to_be_bytes());
        raw.extend_from_slice(&weight.to_be_bytes());
        raw.extend_from_slice(&sign.to_be_bytes());
        raw.extend_from_slice(&scale.to_be_bytes());
        for digit in digits {
            raw.extend_from_slice(&digit.to_be_bytes());
        }
        raw
    }

    /// Where this decoder gives a value, it is rust_decimal's to the bit (value and scale).
    fn agrees(raw: &[u8]) -> Result<(), TestCaseError> {
        if let (Some(ours), Ok(theirs)) = (decimal_from_binary(raw), theirs(raw)) {
            prop_assert_eq!(
                Some(ours.serialize()),
                theirs.map(|d| d.serialize()),
                "{:?} vs {:?} from {:?}",
                ours,
                theirs,
                raw
            );
        }
        Ok(())
    }

    #[test]
    fn everyday_values_take_the_direct_path() {
        for text in [
            "0",
            "0.00",
            "1",
            "-1",
            "123.45",
            "-0.5",
            "1.50",
            "10000",
            "12345678.9",
            "0.0001",
            "-99999999999999.99",
            "3.1415926535897932384626",
        ] {
            let value: Decimal = text.parse().unwrap();
            let mut raw = BytesMut::new();
            value.to_sql(&Type::NUMERIC, &mut raw).unwrap();
            let ours = decimal_from_binary(&raw).unwrap_or_else(|| panic!("{text} not direct"));
            let theirs = theirs(&raw).unwrap().unwrap();
            assert_eq!(ours.serialize(), theirs.serialize(), "{text}");
            assert_eq!(ours, value, "{text}");
        }
    }

    #[test]
    fn specials_huge_and_malformed_values_are_left_to_rust_decimal() {
        let nan = numeric(&[], 0, 0xC000, 0);
        let infinity = numeric(&[], 0, 0xD000, 0);
        let big = numeric(&[1, 0, 0, 0, 0, 0, 0], 6, 0, 1); // 10^24, at scale 1
        let deep = numeric(&[0, 1], -1, 0, 30); // scale beyond 28
        let rounded = numeric(&[1, 2345], 0, 0, 2); // digits beyond the scale
        let short = numeric(&[1, 2], 1, 0, 0)[..10].to_vec();
        let bad_digit = numeric(&[10_000], 0, 0, 0);
        let negative_zero = numeric(&[], 0, 0x4000, 2);
        for raw in [
            nan,
            infinity,
            big,
            deep,
            rounded,
            short,
            bad_digit,
            negative_zero,
        ] {
            assert_eq!(decimal_from_binary(&raw), None, "{raw:?}");
        }
    }

    #[test]
    fn only_decimal_and_its_option_are_decoded_here() {
        let mut raw = BytesMut::new();
        Decimal::new(-12345, 2)
            .to_sql(&Type::NUMERIC, &mut raw)
            .unwrap();
        let got = try_decode::<Decimal>(&Type::NUMERIC, Some(&raw)).map(Result::unwrap);
        assert_eq!(got, Some(Decimal::new(-12345, 2)));
        let got = try_decode::<Option<Decimal>>(&Type::NUMERIC, Some(&raw)).map(Result::unwrap);
        assert_eq!(got, Some(Some(Decimal::new(-12345, 2))));
        let got = try_decode::<Option<Decimal>>(&Type::NUMERIC, None).map(Result::unwrap);
        assert_eq!(got, Some(None));
        // NULL as a plain Decimal, other types, other columns: the caller's FromSql decides.
        assert!(try_decode::<Decimal>(&Type::NUMERIC, None).is_none());
        assert!(try_decode::<f64>(&Type::NUMERIC, Some(&raw)).is_none());
        assert!(try_decode::<Decimal>(&Type::INT4, Some(&raw)).is_none());
        // Off the direct path: rust_decimal's value, its error, and an error for its panics.
        let huge = numeric(&[7, 9228, 1625, 1426, 4337, 5935, 4395, 335], 7, 0, 0);
        let got = try_decode::<Decimal>(&Type::NUMERIC, Some(&huge)).unwrap();
        assert_eq!(got.unwrap(), Decimal::MAX);
        let nan = numeric(&[], 0, 0xC000, 0);
        assert!(
            try_decode::<Decimal>(&Type::NUMERIC, Some(&nan))
                .unwrap()
                .is_err()
        );
        let overflowing = numeric(&[1], 8, 0, 0); // 10^32: rust_decimal panics on it
        assert!(decimal_from_binary(&overflowing).is_none());
        let got = try_decode::<Decimal>(&Type::NUMERIC, Some(&overflowing)).unwrap();
        assert_eq!(got.unwrap_err().to_string(), "malformed numeric value");
    }

    #[test]
    fn timestamps_are_postgres_types_own_and_the_infinities_are_left_to_it() {
        let raw = |micros: i64| micros.to_be_bytes();
        for micros in [
            0,
            1,
            -1,
            86_400_000_000 * 365 * 30 + 123_456,
            -946_684_800_000_000,
        ] {
            let utc = DateTime::<Utc>::from_sql(&Type::TIMESTAMPTZ, &raw(micros)).unwrap();
            assert_eq!(timestamp_from_binary(&raw(micros)), Some(utc));
            let got = try_decode::<NaiveDateTime>(&Type::TIMESTAMP, Some(&raw(micros)));
            assert_eq!(
                got.map(Result::unwrap),
                Some(NaiveDateTime::from_sql(&Type::TIMESTAMP, &raw(micros)).unwrap())
            );
        }
        assert_eq!(
            timestamp_from_binary(&raw(0)).unwrap().to_rfc3339(),
            "2000-01-01T00:00:00+00:00"
        );
        for infinity in [i64::MAX, i64::MIN] {
            assert_eq!(timestamp_from_binary(&raw(infinity)), None);
            let got = try_decode::<DateTime<Utc>>(&Type::TIMESTAMPTZ, Some(&raw(infinity)));
            assert!(got.is_none(), "left to postgres-types' error");
        }
        // chrono's first and last instants, and one microsecond beyond each.
        for edge in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let micros = edge.timestamp_micros() - POSTGRES_EPOCH_MICROS;
            for micros in [micros - 1, micros, micros + 1] {
                let theirs = DateTime::<Utc>::from_sql(&Type::TIMESTAMPTZ, &raw(micros)).ok();
                assert_eq!(timestamp_from_binary(&raw(micros)), theirs, "{micros}");
            }
        }
        assert_eq!(timestamp_from_binary(&[0; 7]), None, "short");
        let got = try_decode::<Option<DateTime<Utc>>>(&Type::TIMESTAMPTZ, None);
        assert_eq!(got.map(Result::unwrap), Some(None));
        // A timestamptz read as a NaiveDateTime is not this module's: FromSql refuses it.
        assert!(try_decode::<NaiveDateTime>(&Type::TIMESTAMPTZ, Some(&raw(0))).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn timestamps_agree_with_postgres_types(micros in any::<i64>()) {
            let raw = micros.to_be_bytes();
            let theirs = DateTime::<Utc>::from_sql(&Type::TIMESTAMPTZ, &raw).ok();
            prop_assert_eq!(timestamp_from_binary(&raw), theirs);
        }

        #[test]
        fn timestamps_in_chronos_range_agree_with_postgres_types(
            micros in -200_000_000_000_000_000i64..200_000_000_000_000_000,
        ) {
            let raw = micros.to_be_bytes();
            let theirs = DateTime::<Utc>::from_sql(&Type::TIMESTAMPTZ, &raw).unwrap();
            prop_assert_eq!(timestamp_from_binary(&raw), Some(theirs));
        }

        #[test]
        fn agrees_with_rust_decimal_on_its_own_encodings(
            lo in any::<u32>(), mid in any::<u32>(), hi in any::<u32>(),
            negative in any::<bool>(), scale in 0u32..=28,
        ) {
            let value = Decimal::from_parts(lo, mid, hi, negative, scale);
            let mut raw = BytesMut::new();
            value.to_sql(&Type::NUMERIC, &mut raw).unwrap();
            agrees(&raw)?;
        }

        #[test]
        fn agrees_with_rust_decimal_on_any_digits(
            digits in proptest::collection::vec(
                prop_oneof![Just(0u16), Just(9999u16), 0u16..10_000], 0..11),
            weight in -12i16..12,
            negative in any::<bool>(),
            scale in 0u16..34,
        ) {
            agrees(&numeric(&digits, weight, if negative { 0x4000 } else { 0 }, scale))?;
        }

        #[test]
        fn agrees_with_rust_decimal_on_small_values(
            mantissa in -10i64.pow(12)..10i64.pow(12), scale in 0u32..=12,
        ) {
            let value = Decimal::new(mantissa, scale);
            let mut raw = BytesMut::new();
            value.to_sql(&Type::NUMERIC, &mut raw).unwrap();
            prop_assert!(decimal_from_binary(&raw).is_some(), "{} not direct", value);
            agrees(&raw)?;
        }
    }
}
