//! The `decode` and `data_row` targets: value decoders and rows over fuzzed bytes.

use std::collections::HashMap;

use bytes::{BufMut, BytesMut};
use pg_types::{Column, Columns, Row, Value};
use postgres_protocol::message::backend::Message;
use postgres_types::{IsNull, Type};

use crate::types::type_for;

/// Input: a mode byte (bit 0: the value is in text format), a big-endian type OID
/// ([`type_for`]), then the value's bytes.
///
/// Checks that decoding never panics, and that what decodes renders, encodes without
/// panicking, and — when it encodes — decodes back to an equal value.
pub fn decode(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((oid, raw)) = rest.split_first_chunk::<4>() else {
        return;
    };
    let ty = type_for(u32::from_be_bytes(*oid));
    let decoded = if mode & 1 == 0 {
        pg_types::decode(&ty, raw)
    } else {
        let Ok(text) = std::str::from_utf8(raw) else {
            return;
        };
        pg_types::decode_text(&ty, text)
    };
    match decoded {
        Ok(value) => round_trip(&ty, &value),
        Err(error) => drop(error.to_string()),
    }
}

/// Renders `value`, encodes it as `ty` and checks a binary encoding decodes back to it (a
/// value known only as text encodes as that text, for a text-format parameter).
pub fn round_trip(ty: &Type, value: &Value) {
    let _ = value.to_string();
    let _ = format!("{value:?}");
    let mut buf = BytesMut::new();
    let binary = pg_types::encode_format(value) == 1;
    match pg_types::encode(ty, value, &mut buf) {
        Ok(IsNull::No) if binary => {
            let again = pg_types::decode(ty, &buf)
                .unwrap_or_else(|e| panic!("{value:?} encoded as {ty} does not decode: {e}"));
            assert_eq!(&again, value, "{ty} round trip through {buf:?}");
        }
        Ok(_) => {}
        Err(error) => drop(error.to_string()),
    }
}

/// The most columns a fuzzed row has.
const MAX_COLUMNS: usize = 8;

/// Input: a column count (low bits of the first byte), then for each column a big-endian
/// type OID and a format byte (bit 0: text), then a DataRow message body.
///
/// Reads the row every way the interface offers: dynamic values, raw bytes, typed reads
/// through postgres-types' `FromSql`, rendering, mappings, transforms.
pub fn data_row(data: &[u8]) {
    let Some((&count, mut rest)) = data.split_first() else {
        return;
    };
    let mut columns = Vec::new();
    for i in 0..usize::from(count) % (MAX_COLUMNS + 1) {
        let Some((spec, tail)) = rest.split_first_chunk::<5>() else {
            return;
        };
        rest = tail;
        let oid = u32::from_be_bytes([spec[0], spec[1], spec[2], spec[3]]);
        columns
            .push(Column::new(format!("c{i}"), type_for(oid)).with_format(i16::from(spec[4] & 1)));
    }
    let columns = Columns::new(columns);
    let Ok(len) = i32::try_from(rest.len() + 4) else {
        return;
    };
    let mut frame = BytesMut::with_capacity(rest.len() + 5);
    frame.put_u8(b'D');
    frame.put_i32(len);
    frame.put_slice(rest);
    let Ok(Some(Message::DataRow(body))) = Message::parse(&mut frame) else {
        return;
    };
    match Row::from_data_row(columns, &body) {
        Ok(row) => read_row(&row),
        Err(error) => drop(error.to_string()),
    }
}

type Transform = fn(Value) -> Value;

fn read_row(row: &Row) {
    for i in 0..row.len() {
        let _ = row.raw(i);
        match row.value(i) {
            Ok(value) => drop(value.to_string()),
            Err(error) => drop(error.to_string()),
        }
        typed_reads(row, i);
    }
    let _ = row.to_string();
    let _ = format!("{row:?}");
    let _ = row.values();
    let _ = row.items().count();
    let _ = row.get_or("c0", Value::Null);
    let identity: [Option<Transform>; 2] = [Some(|v| v), None];
    if let Ok(copy) = row.transform(&identity) {
        let _ = copy.to_string();
        let _ = copy == *row;
    }
}

macro_rules! try_all {
    ($row:expr, $i:expr, $($t:ty),* $(,)?) => {
        $(
            if let Err(error) = $row.try_get::<$t>($i) {
                drop(error.to_string());
            }
        )*
    };
}

/// Typed reads: each is a value or an error, whatever the column's type and bytes.
fn typed_reads(row: &Row, i: usize) {
    try_all!(
        row,
        i,
        Value,
        Option<i16>,
        i32,
        i64,
        f32,
        f64,
        bool,
        u32,
        String,
        &str,
        Vec<u8>,
        &[u8],
        Option<String>,
        chrono::NaiveDate,
        chrono::NaiveTime,
        chrono::NaiveDateTime,
        chrono::DateTime<chrono::Utc>,
        std::net::IpAddr,
        Vec<Option<i32>>,
        Vec<Option<String>>,
        Vec<Vec<u8>>,
        HashMap<String, Option<String>>,
        Vec<HashMap<String, Option<String>>>,
    );
}
