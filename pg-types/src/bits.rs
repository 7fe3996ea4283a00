//! BIT and BIT VARYING values.

use std::fmt;

/// A bit string: `len_bits` bits, most significant bit of `bytes[0]` first; the unused
/// low bits of the last byte are zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BitString {
    /// The number of bits.
    pub len_bits: usize,
    /// The bits, packed 8 to a byte, `len_bits.div_ceil(8)` bytes.
    pub bytes: Vec<u8>,
}

impl BitString {
    /// A bit string of `len_bits` bits packed in `bytes`; `None` unless `bytes` has exactly
    /// `len_bits.div_ceil(8)` bytes. Unused trailing bits are cleared.
    pub fn new(len_bits: usize, mut bytes: Vec<u8>) -> Option<BitString> {
        if bytes.len() != len_bits.div_ceil(8) {
            return None;
        }
        if let Some(last) = bytes.last_mut()
            && !len_bits.is_multiple_of(8)
        {
            *last &= 0xFF << (8 - len_bits % 8);
        }
        Some(BitString { len_bits, bytes })
    }

    /// The bit string of the given bits, first bit first.
    pub fn from_bits(bits: impl IntoIterator<Item = bool>) -> BitString {
        let mut out = BitString::default();
        for bit in bits {
            if out.len_bits % 8 == 0 {
                out.bytes.push(0);
            }
            if bit && let Some(last) = out.bytes.last_mut() {
                *last |= 0x80 >> (out.len_bits % 8);
            }
            out.len_bits += 1;
        }
        out
    }

    /// Bit `i` (0 is the first), if there is one.
    pub fn get(&self, i: usize) -> Option<bool> {
        (i < self.len_bits).then(|| {
            self.bytes
                .get(i / 8)
                .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
        })
    }

    /// The bits, first bit first.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len_bits).map(|i| self.get(i).unwrap_or(false))
    }
}

impl fmt::Display for BitString {
    /// The bits as `0`s and `1`s, PostgreSQL's text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.iter()
            .try_for_each(|b| f.write_str(if b { "1" } else { "0" }))
    }
}
