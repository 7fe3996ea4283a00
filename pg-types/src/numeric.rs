//! NUMERIC: [`rust_decimal::Decimal`] where it holds the value exactly, with a lossless
//! decimal-text form for the values it cannot hold, and the special values.
//!
//! The binary form (`numeric_send`) is a header of four 16-bit fields — digit count,
//! weight (of the first base-10000 digit), sign (`0x0000` positive, `0x4000` negative,
//! `0xC000` NaN, `0xD000` +Infinity, `0xF000` -Infinity) and display scale — followed by
//! the base-10000 digits, without leading or trailing zero digits.

use std::fmt;

use bytes::{BufMut, BytesMut};
use rust_decimal::Decimal;

const SIGN_POS: u16 = 0x0000;
const SIGN_NEG: u16 = 0x4000;
const SIGN_NAN: u16 = 0xC000;
const SIGN_PINF: u16 = 0xD000;
const SIGN_NINF: u16 = 0xF000;
/// The largest display scale the binary form can carry.
const MAX_DSCALE: usize = 0x3FFF;
/// The most decimal digits a parsed text may expand to (NUMERIC's own limit is 131072
/// before the point plus 16383 after).
const MAX_DIGITS: usize = 131_072 + MAX_DSCALE;

/// A NUMERIC value.
///
/// Values `Decimal` can hold exactly (up to 28 digits after the point, a 96-bit
/// mantissa) are [`Numeric::Decimal`], keeping their scale (`1.50` stays `1.50`). Others
/// (`2^128`, `1e-40`, huge scales) are [`Numeric::Text`]: their canonical decimal text
/// as PostgreSQL prints it (no exponent, no leading zeros, no negative zero), so nothing
/// is lost. PostgreSQL has no negative zero: a zero is sent with a positive sign and its
/// scale.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Numeric {
    /// A value `Decimal` holds exactly.
    Decimal(Decimal),
    /// `NaN`.
    NaN,
    /// `Infinity`.
    PositiveInfinity,
    /// `-Infinity`.
    NegativeInfinity,
    /// A finite value `Decimal` cannot hold, as canonical decimal text (`-0.000…01`).
    Text(String),
}

/// A finite value as decimal digits and a scale: `digits × 10^-scale`.
struct Digits {
    negative: bool,
    /// ASCII decimal digits, possibly with leading zeros.
    digits: Vec<u8>,
    /// Digits after the point (the display scale).
    scale: usize,
}

impl Numeric {
    /// Parses PostgreSQL's text form (`NaN`, `Infinity`, `-Infinity`, `inf`) or a decimal
    /// number with an optional exponent (`-12.50`, `1e-40`); the result is a
    /// [`Numeric::Decimal`] when that holds the value exactly (keeping the scale),
    /// else [`Numeric::Text`].
    pub fn parse(text: &str) -> Result<Numeric, String> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "nan" => return Ok(Numeric::NaN),
            "infinity" | "+infinity" | "inf" | "+inf" => return Ok(Numeric::PositiveInfinity),
            "-infinity" | "-inf" => return Ok(Numeric::NegativeInfinity),
            _ => {}
        }
        Digits::parse(t).map(Digits::into_numeric)
    }

    /// The value as a `Decimal`, if it is one.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Numeric::Decimal(d) => Some(*d),
            _ => None,
        }
    }

    /// Whether the value is finite (neither NaN nor an infinity).
    pub fn is_finite(&self) -> bool {
        matches!(self, Numeric::Decimal(_) | Numeric::Text(_))
    }

    /// Decodes `numeric_send`'s binary form.
    pub fn decode(raw: &[u8]) -> Result<Numeric, String> {
        let header = |i: usize| u16::from_be_bytes([raw[i], raw[i + 1]]);
        if raw.len() < 8 {
            return Err("numeric value shorter than its header".into());
        }
        let (ndigits, weight, sign, dscale) =
            (header(0) as i16, header(2) as i16, header(4), header(6));
        match sign {
            SIGN_NAN => return Ok(Numeric::NaN),
            SIGN_PINF => return Ok(Numeric::PositiveInfinity),
            SIGN_NINF => return Ok(Numeric::NegativeInfinity),
            SIGN_POS | SIGN_NEG => {}
            other => return Err(format!("invalid numeric sign 0x{other:04X}")),
        }
        let ndigits = usize::try_from(ndigits).map_err(|_| "negative numeric digit count")?;
        if raw.len() - 8 != ndigits * 2 {
            return Err(format!(
                "numeric value of {ndigits} digits has {} bytes of digits",
                raw.len() - 8
            ));
        }
        if usize::from(dscale) > MAX_DSCALE {
            return Err(format!("invalid numeric display scale {dscale}"));
        }
        let mut groups = Vec::with_capacity(ndigits);
        for pair in raw[8..].chunks_exact(2) {
            let g = u16::from_be_bytes([pair[0], pair[1]]);
            if g > 9999 {
                return Err(format!("invalid numeric digit {g}"));
            }
            groups.push(g);
        }
        Ok(Digits::from_groups(sign == SIGN_NEG, &groups, weight, dscale.into()).into_numeric())
    }

    /// Appends the binary form (`numeric_recv`'s input).
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), String> {
        let special_sign = match self {
            Numeric::NaN => SIGN_NAN,
            Numeric::PositiveInfinity => SIGN_PINF,
            Numeric::NegativeInfinity => SIGN_NINF,
            _ => SIGN_POS,
        };
        let digits = match self {
            Numeric::NaN | Numeric::PositiveInfinity | Numeric::NegativeInfinity => {
                special(special_sign, buf);
                return Ok(());
            }
            Numeric::Decimal(d) => Digits::from_decimal(d),
            Numeric::Text(t) => Digits::parse(t.trim())?,
        };
        digits.encode(buf)
    }
}

fn special(sign: u16, buf: &mut BytesMut) {
    buf.put_u16(0);
    buf.put_u16(0);
    buf.put_u16(sign);
    // The server ignores the display scale of special values, and sends for the
    // infinities the bits its short header happens to hold there (32); send the same, so
    // that values round-trip to identical bytes.
    buf.put_u16(if sign == SIGN_NAN { 0 } else { 32 });
}

impl Digits {
    fn from_decimal(d: &Decimal) -> Digits {
        Digits {
            negative: d.is_sign_negative(),
            digits: d.mantissa().unsigned_abs().to_string().into_bytes(),
            scale: d.scale() as usize,
        }
    }

    fn parse(t: &str) -> Result<Digits, String> {
        let invalid = || format!("invalid numeric text {t:?}");
        let (negative, rest) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return Err(invalid());
        }
        let exponent: i64 = match exponent {
            Some(e) => e.parse().map_err(|_| invalid())?,
            None => 0,
        };
        if int.len() + frac.len() > MAX_DIGITS || exponent.unsigned_abs() > MAX_DIGITS as u64 {
            return Err(format!("numeric text {t:?} is out of NUMERIC's range"));
        }
        let mut digits = Vec::with_capacity(int.len() + frac.len());
        digits.extend_from_slice(int.as_bytes());
        digits.extend_from_slice(frac.as_bytes());
        let scale = frac.len() as i64 - exponent;
        let scale = if scale < 0 {
            digits.resize(digits.len() + scale.unsigned_abs() as usize, b'0');
            0
        } else {
            scale as usize
        };
        if digits.len() > MAX_DIGITS || scale > MAX_DSCALE {
            return Err(format!("numeric text {t:?} is out of NUMERIC's range"));
        }
        Ok(Digits {
            negative,
            digits,
            scale,
        })
    }

    /// The digits of base-10000 `groups` whose first has weight `weight`, to `dscale`
    /// places (digits beyond it are cut off, as `numeric_recv` does).
    fn from_groups(negative: bool, groups: &[u16], weight: i16, dscale: usize) -> Digits {
        let weight = i32::from(weight);
        let group = |i: i32| {
            usize::try_from(i)
                .ok()
                .and_then(|i| groups.get(i))
                .copied()
                .unwrap_or(0)
        };
        let mut digits = Vec::new();
        for i in 0..=weight.max(-1) {
            digits.extend_from_slice(format!("{:04}", group(i)).as_bytes());
        }
        let mut frac = Vec::with_capacity(dscale + 4);
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.extend_from_slice(format!("{:04}", group(i)).as_bytes());
            i += 1;
        }
        frac.truncate(dscale);
        digits.extend_from_slice(&frac);
        Digits {
            negative,
            digits,
            scale: dscale,
        }
    }

    fn is_zero(&self) -> bool {
        self.digits.iter().all(|&d| d == b'0')
    }

    /// PostgreSQL's text form: no leading zeros, no negative zero, `scale` places.
    fn canonical(&self) -> String {
        let n = self.digits.len();
        let mut out = String::with_capacity(n + self.scale + 3);
        if self.negative && !self.is_zero() {
            out.push('-');
        }
        let int_len = n.saturating_sub(self.scale);
        let int = &self.digits[..int_len];
        let first = int.iter().position(|&d| d != b'0').unwrap_or(int.len());
        if first == int.len() {
            out.push('0');
        } else {
            out.extend(int[first..].iter().map(|&d| char::from(d)));
        }
        if self.scale > 0 {
            out.push('.');
            out.extend(std::iter::repeat_n('0', self.scale.saturating_sub(n)));
            out.extend(self.digits[int_len..].iter().map(|&d| char::from(d)));
        }
        out
    }

    fn into_numeric(self) -> Numeric {
        let text = self.canonical();
        match Decimal::from_str_exact(&text) {
            Ok(d) if Digits::from_decimal(&d).canonical() == text => Numeric::Decimal(d),
            _ => Numeric::Text(text),
        }
    }

    fn encode(&self, buf: &mut BytesMut) -> Result<(), String> {
        let n = self.digits.len();
        let int_len = n.saturating_sub(self.scale);
        // Align both parts to base-10000 digits: zeros before the integer part and after
        // the fraction.
        let mut aligned = Vec::with_capacity(n + self.scale + 8);
        aligned.resize((4 - int_len % 4) % 4, b'0');
        aligned.extend_from_slice(&self.digits[..int_len]);
        let int_groups = aligned.len() / 4;
        aligned.resize(aligned.len() + self.scale.saturating_sub(n), b'0');
        aligned.extend_from_slice(&self.digits[int_len..]);
        aligned.resize(aligned.len().div_ceil(4) * 4, b'0');
        let groups: Vec<u16> = aligned
            .chunks_exact(4)
            .map(|c| {
                c.iter()
                    .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'))
            })
            .collect();
        let lead = groups.iter().take_while(|&&g| g == 0).count();
        let trail = groups[lead..].iter().rev().take_while(|&&g| g == 0).count();
        let kept = &groups[lead..groups.len() - trail];
        let weight = if kept.is_empty() {
            0
        } else {
            int_groups as i64 - 1 - lead as i64
        };
        let too_big = || "numeric value is out of the range of the binary format".to_string();
        let ndigits = i16::try_from(kept.len()).map_err(|_| too_big())?;
        let weight = i16::try_from(weight).map_err(|_| too_big())?;
        let dscale = u16::try_from(self.scale)
            .ok()
            .filter(|&s| usize::from(s) <= MAX_DSCALE)
            .ok_or_else(too_big)?;
        let sign = if self.negative && !kept.is_empty() {
            SIGN_NEG
        } else {
            SIGN_POS
        };
        buf.reserve(8 + kept.len() * 2);
        buf.put_i16(ndigits);
        buf.put_i16(weight);
        buf.put_u16(sign);
        buf.put_u16(dscale);
        for &g in kept {
            buf.put_u16(g);
        }
        Ok(())
    }
}

impl fmt::Display for Numeric {
    /// PostgreSQL's text form: `NaN`, `Infinity`, `-Infinity` or plain decimal notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Numeric::Decimal(d) => f.write_str(&Digits::from_decimal(d).canonical()),
            Numeric::NaN => f.write_str("NaN"),
            Numeric::PositiveInfinity => f.write_str("Infinity"),
            Numeric::NegativeInfinity => f.write_str("-Infinity"),
            Numeric::Text(t) => f.write_str(t),
        }
    }
}

impl From<Decimal> for Numeric {
    fn from(d: Decimal) -> Numeric {
        Numeric::Decimal(d)
    }
}

impl std::str::FromStr for Numeric {
    type Err = String;

    fn from_str(s: &str) -> Result<Numeric, String> {
        Numeric::parse(s)
    }
}
