//! Where the values of a DataRow body are: the offset of each value's length word, found once
//! when the row is made and kept with it. Narrow rows (the usual kind) keep them inline, so a
//! row costs no allocation of its own; wider or longer ones keep them in one allocation.

use std::io;
use std::ops::Range;

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::DataRowBody;

/// The most values whose positions a row keeps inline (in a body under 64 KiB).
const SHORT: usize = 15;

/// The offset in a DataRow body of each value's length word (`i32`, -1 for NULL).
#[derive(Clone, Debug)]
pub(super) enum Positions {
    /// Up to [`SHORT`] values of a body under 64 KiB; `len` values are used.
    Short { len: u8, at: [u16; SHORT] },
    /// Any other body.
    Long(Box<[u32]>),
}

impl Positions {
    /// Where value `i`'s length word is.
    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<usize> {
        match self {
            Positions::Short { len, at } if i < usize::from(*len) => at.get(i).map(|&p| p.into()),
            Positions::Short { .. } => None,
            Positions::Long(at) => at.get(i).map(|&p| p as usize),
        }
    }
}

/// How many values a DataRow body parsed by postgres-protocol says it has.
pub(super) fn count(body: &DataRowBody) -> usize {
    body.ranges().size_hint().0
}

/// Where each of the `count` values of `buf` (a DataRow body after its count word) is. The
/// body is checked as postgres-protocol's `ranges()` checks it, with its errors: every
/// length word and value within the body, no bytes left over.
#[inline]
pub(super) fn positions(buf: &[u8], count: usize) -> io::Result<Positions> {
    // A narrow row is walked here; anything else (and any body this walk does not accept,
    // whose error is worded below) by the general walk.
    if count <= SHORT
        && let Some(at) = walk_short(buf, count)
    {
        // At most SHORT.
        let len = count as u8;
        return Ok(Positions::Short { len, at });
    }
    positions_by_walk(buf, count)
}

/// Where the `count` values of `buf` (under 64 KiB) are; `None` unless they are exactly all
/// of `buf`, each value's bytes within it.
#[inline]
fn walk_short(buf: &[u8], count: usize) -> Option<[u16; SHORT]> {
    if buf.len() > usize::from(u16::MAX) {
        return None;
    }
    let mut at = [0u16; SHORT];
    let mut word = 0usize;
    for slot in &mut at[..count.min(SHORT)] {
        // Under 64 KiB, so is every offset in it.
        *slot = word as u16;
        word = step(buf, word).ok()?.1;
    }
    (word == buf.len()).then_some(at)
}

/// [`positions`] for any body.
#[inline(never)]
fn positions_by_walk(buf: &[u8], count: usize) -> io::Result<Positions> {
    let short = buf.len() <= usize::from(u16::MAX);
    let (mut at, mut long) = ([0u16; SHORT], Vec::new());
    let mut word = 0usize;
    for i in 0..count {
        if short && i < SHORT {
            // The body is under 64 KiB, so is every offset in it.
            at[i] = word as u16;
        } else {
            if long.is_empty() {
                long.reserve(i + 1 + claimed(count - i, buf.len() - word));
                long.extend(at[..i].iter().map(|&p| u32::from(p)));
            }
            long.push(u32::try_from(word).map_err(|_| too_long())?);
        }
        word = step(buf, word)?.1;
    }
    ended(buf, word)?;
    Ok(if long.is_empty() {
        Positions::Short {
            // At most SHORT.
            len: count as u8,
            at,
        }
    } else {
        Positions::Long(long.into_boxed_slice())
    })
}

/// The byte ranges of the `count` values of `buf` (`None` for NULL), checked as
/// [`positions`] checks them.
pub(super) fn ranges(buf: &[u8], count: usize) -> io::Result<Vec<Option<Range<usize>>>> {
    let mut all = Vec::with_capacity(claimed(count, buf.len()));
    let mut word = 0;
    for _ in 0..count {
        let (range, next) = step(buf, word)?;
        all.push(range);
        word = next;
    }
    ended(buf, word)?;
    Ok(all)
}

/// The value whose length word is at `word` in `buf` (`None` for NULL) and where the next
/// length word is; postgres-protocol's errors for a cut length word or value.
#[inline]
fn step(buf: &[u8], word: usize) -> io::Result<(Option<Range<usize>>, usize)> {
    let Some(len) = buf.get(word..word + 4) else {
        return Err(cut("failed to fill whole buffer"));
    };
    let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    let start = word + 4;
    match usize::try_from(len) {
        Err(_) => Ok((None, start)),
        Ok(len) if buf.len() - start < len => Err(cut("unexpected EOF")),
        Ok(len) => Ok((Some(start..start + len), start + len)),
    }
}

/// No bytes after the last value, as postgres-protocol asks.
fn ended(buf: &[u8], word: usize) -> io::Result<()> {
    if word == buf.len() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "invalid message length: datarowrange is not empty",
    ))
}

/// How many more values may follow in the `rest` bytes of a body: as many as its count says
/// (a count the server sends), but no more than the bytes can hold (every value takes at
/// least its 4-byte length), so that a body claiming 65,535 values in a few bytes reserves
/// room for a few.
fn claimed(count: usize, rest: usize) -> usize {
    count.min(rest / 4)
}

#[cold]
fn cut(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what)
}

#[cold]
fn too_long() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "DataRow body over 4 GiB")
}

/// The bytes of the value whose length word is at `word` in `body` (`Some(None)` for NULL);
/// `None` when they are not within the body (never for positions [`positions`] found in it).
#[inline]
pub(super) fn value(body: &[u8], word: usize) -> Option<Option<&[u8]>> {
    let len = body.get(word..word + 4)?;
    let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    match usize::try_from(len) {
        Ok(len) => body.get(word + 4..word + 4 + len).map(Some),
        Err(_) => Some(None),
    }
}

#[cfg(test)]
mod tests {
    use std::ops::Range;

    use bytes::{BufMut, BytesMut};
    use fallible_iterator::FallibleIterator;
    use pg_exceptions::ColumnError;
    use postgres_protocol::message::backend::{DataRowBody, Message};
    use postgres_types::{Kind, Type};
    use proptest::prelude::*;

    use super::{Positions, SHORT, positions, value};
    use crate::{Column, Columns, Row, Value};

    /// A DataRow message claiming `count` values over `bytes`, parsed as the driver parses it.
    fn data_row(count: u16, bytes: &[u8]) -> DataRowBody {
        let mut frame = BytesMut::new();
        frame.put_u8(b'D');
        frame.put_i32(i32::try_from(4 + 2 + bytes.len()).unwrap());
        frame.put_u16(count);
        frame.put_slice(bytes);
        match Message::parse(&mut frame) {
            Ok(Some(Message::DataRow(body))) => body,
            _ => panic!("not a DataRow"),
        }
    }

    /// The bytes of a well-formed body of `values`.
    fn encode(values: &[Option<Vec<u8>>]) -> Vec<u8> {
        let mut buf = Vec::new();
        for v in values {
            match v {
                None => buf.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    buf.extend_from_slice(&i32::try_from(v.len()).unwrap().to_be_bytes());
                    buf.extend_from_slice(v);
                }
            }
        }
        buf
    }

    fn well_formed(values: &[Option<Vec<u8>>]) -> DataRowBody {
        data_row(u16::try_from(values.len()).unwrap(), &encode(values))
    }

    /// `positions` agrees with postgres-protocol's `ranges()`: the same values, or an error
    /// (the same one) for the same bodies.
    fn agrees(body: &DataRowBody) {
        let expected: Result<Vec<Option<Range<usize>>>, _> = body.ranges().collect();
        let count = body.ranges().size_hint().0;
        match (positions(body.buffer(), count), expected) {
            (Ok(at), Ok(ranges)) => {
                assert_eq!(count, ranges.len());
                let buf = body.buffer();
                for (i, range) in ranges.iter().enumerate() {
                    let word = at.get(i).expect("a position for every value");
                    assert_eq!(value(buf, word), Some(range.clone().map(|r| &buf[r])));
                }
                assert_eq!(at.get(count), None);
                let short = matches!(at, Positions::Short { .. });
                assert_eq!(short, count <= SHORT && buf.len() <= usize::from(u16::MAX));
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                assert_eq!(a.kind(), b.kind());
            }
            (a, b) => panic!(
                "positions: {:?}, ranges: {:?}",
                a.is_ok(),
                b.map(|r| r.len())
            ),
        }
        // The ranges of a row of another count agree too.
        match (
            super::ranges(body.buffer(), count),
            body.ranges().collect::<Vec<_>>(),
        ) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!((a.kind(), a.to_string()), (b.kind(), b.to_string())),
            (a, b) => panic!(
                "ranges: {:?}, postgres-protocol: {:?}",
                a.is_ok(),
                b.is_ok()
            ),
        }
    }

    #[test]
    fn positions_agree_with_ranges() {
        let small = |n: usize| {
            (0..n)
                .map(|i| Some(vec![i as u8; i % 5]))
                .collect::<Vec<_>>()
        };
        for n in [0, 1, 5, SHORT - 1, SHORT, SHORT + 1, 40, 300] {
            agrees(&well_formed(&small(n)));
        }
        // NULLs and empty values.
        agrees(&well_formed(&[
            None,
            Some(vec![]),
            None,
            Some(vec![1]),
            None,
        ]));
        // Bodies of 64 KiB and more: positions no longer fit 16 bits.
        for len in [65_535 - 8, 65_535 - 4, 65_535, 70_000] {
            agrees(&well_formed(&[Some(vec![7; len]), None]));
            let mut wide = small(SHORT + 3);
            wide.push(Some(vec![9; len]));
            agrees(&well_formed(&wide));
        }
        let good = encode(&small(5));
        // Malformed: a value running past the end, a cut length word, bytes left over, more
        // or fewer values claimed than there are, a length below -1.
        let mut long_value = good.clone();
        long_value[3] = 200;
        for (count, bytes) in [
            (5, long_value.as_slice()),
            (5, &good[..good.len() - 1]),
            (6, &good[..good.len()]),
            (4, &good[..]),
            (1, &[0, 0, 0][..]),
            (0, &[0][..]),
        ] {
            agrees(&data_row(count, bytes));
        }
        let mut trailing = good.clone();
        trailing.push(0);
        agrees(&data_row(5, &trailing));
        agrees(&data_row(2, &[0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 42]));
    }

    proptest! {
        #[test]
        fn positions_agree_on_any_body(
            count in 0u16..40,
            values in proptest::collection::vec(
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
                0..40,
            ),
            cut in any::<prop::sample::Index>(),
            flip in any::<Option<(prop::sample::Index, u8)>>(),
        ) {
            let mut bytes = encode(&values);
            if let Some((at, byte)) = flip && !bytes.is_empty() {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            agrees(&data_row(count, &bytes));
            agrees(&data_row(count, &bytes[..cut.index(bytes.len() + 1)]));
            agrees(&well_formed(&values));
        }
    }

    fn columns(types: &[Type]) -> std::sync::Arc<Columns> {
        Columns::new(
            types
                .iter()
                .enumerate()
                .map(|(i, t)| Column::new(format!("c{i}"), t.clone()))
                .collect(),
        )
    }

    #[test]
    fn rows_over_bodies_read_as_rows_over_ranges() {
        let values = [
            Some(7i32.to_be_bytes().to_vec()),
            None,
            Some(b"seven".to_vec()),
            Some(70i64.to_be_bytes().to_vec()),
        ];
        let types = [Type::INT4, Type::INT4, Type::TEXT, Type::INT8];
        let body = well_formed(&values);
        let ranges: Vec<_> = body.ranges().collect().unwrap();
        let by_ranges = Row::from_raw(columns(&types), body.buffer_bytes().clone(), ranges);
        let strict = Row::from_data_row(columns(&types), &body).unwrap();
        let taken = Row::from_data_row_body(columns(&types), body).unwrap();
        for row in [&strict, &taken] {
            assert_eq!(row.values().unwrap(), by_ranges.values().unwrap());
            assert_eq!(row.get::<i32>(0), 7);
            assert_eq!(row.get::<Option<i32>>(1), None);
            assert!(row.try_get::<i32>(1).is_err());
            assert_eq!(row.get::<&str>(2), "seven");
            assert_eq!(row.get::<i64>("c3"), 70);
            assert_eq!(row.raw(2).unwrap(), Some(&b"seven"[..]));
            assert!(row.try_get::<String>(0).is_err());
            assert_eq!(row.to_string(), by_ranges.to_string());
        }
        // Wide and long rows keep their positions elsewhere, and read the same.
        let wide: Vec<_> = (0..40i32).map(|i| Some(i.to_be_bytes().to_vec())).collect();
        let row = Row::from_data_row_body(columns(&[Type::INT4; 40]), well_formed(&wide)).unwrap();
        assert_eq!((0..40).map(|i| row.get::<i32>(i)).sum::<i32>(), 780);
        let long = [Some(vec![b'x'; 100_000]), Some(1i32.to_be_bytes().to_vec())];
        let row = Row::from_data_row_body(columns(&[Type::TEXT, Type::INT4]), well_formed(&long))
            .unwrap();
        assert_eq!(row.get::<&str>(0).len(), 100_000);
        assert_eq!(row.get::<i32>(1), 1);
    }

    #[test]
    fn a_body_of_another_count_makes_a_row_as_from_raw_does() {
        let types = [Type::INT4, Type::INT4];
        let one = well_formed(&[Some(1i32.to_be_bytes().to_vec())]);
        assert!(Row::from_data_row(columns(&types), &one).is_err());
        let row = Row::from_data_row_body(columns(&types), one).unwrap();
        assert_eq!(row.get::<i32>(0), 1);
        let error = row.try_get::<i32>(1).unwrap_err();
        assert!(error.is_a(&ColumnError), "{error}");
        assert!(row.value(1).is_err());
        let three = well_formed(&[Some(vec![0, 0, 0, 1]), Some(vec![0, 0, 0, 2]), None]);
        let row = Row::from_data_row_body(columns(&types), three).unwrap();
        assert_eq!(row.values().unwrap(), [Value::Int4(1), Value::Int4(2)]);
        // A malformed body is postgres-protocol's error.
        assert!(Row::from_data_row_body(columns(&types), data_row(2, &[0, 0, 0, 9])).is_err());
    }

    #[test]
    fn typed_reads_of_data_rows_still_refuse_counts_the_bytes_cannot_hold() {
        // One dimension of i32::MAX text elements, no NULLs, and no element bytes at all.
        let mut array = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25];
        array.extend_from_slice(&i32::MAX.to_be_bytes());
        array.extend_from_slice(&1i32.to_be_bytes());
        let hstore = Type::new("hstore".into(), 90_001, Kind::Simple, "public".into());
        let bomb = i32::MAX.to_be_bytes().to_vec();
        let body = well_formed(&[Some(array.clone()), Some(bomb)]);
        let row = Row::from_data_row_body(columns(&[Type::TEXT_ARRAY, hstore]), body).unwrap();
        let error = row.try_get::<Vec<String>>(0).unwrap_err();
        assert!(
            error.to_string().contains("claiming 2147483647 items"),
            "{error}"
        );
        let error = row
            .try_get::<std::collections::HashMap<String, Option<String>>>(1)
            .unwrap_err();
        assert!(
            error.to_string().contains("claiming 2147483647 items"),
            "{error}"
        );
        // … beyond the 64 columns whose plainness is kept as bits too.
        let mut values: Vec<_> = (0..70i32).map(|i| Some(i.to_be_bytes().to_vec())).collect();
        values[66] = Some(array);
        let mut types = vec![Type::INT4; 70];
        types[66] = Type::TEXT_ARRAY;
        let row = Row::from_data_row_body(columns(&types), well_formed(&values)).unwrap();
        assert_eq!(row.get::<i32>(65) + row.get::<i32>(69), 134);
        let error = row.try_get::<Vec<String>>(66).unwrap_err();
        assert!(
            error.to_string().contains("claiming 2147483647 items"),
            "{error}"
        );
    }

    #[test]
    fn columns_print_as_before() {
        let debug = format!("{:?}", columns(&[Type::INT4]));
        assert!(debug.starts_with("Columns { columns: [") && !debug.contains("plain"));
    }
}
