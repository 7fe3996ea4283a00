//! The decoders never panic, whatever the bytes.

use bytes::{BufMut, BytesMut};
use pg_types::{Column, Columns, Field, Kind, Row, Type, Value, decode, decode_text, encode};
use proptest::prelude::*;

/// Every builtin type postgres-types knows, plus custom kinds of every sort.
fn all_types() -> Vec<Type> {
    let mut types: Vec<Type> = (0..16_384).filter_map(Type::from_oid).collect();
    let s = |n: &str| n.to_owned();
    let composite = Type::new(
        s("c"),
        20_000,
        Kind::Composite(vec![
            Field::new(s("a"), Type::INT4),
            Field::new(s("b"), Type::TEXT_ARRAY),
            Field::new(s("r"), Type::INT8_RANGE),
        ]),
        s("public"),
    );
    let domain = Type::new(s("d"), 20_001, Kind::Domain(Type::NUMERIC), s("public"));
    types.extend([
        Type::new(s("hstore"), 20_002, Kind::Simple, s("public")),
        Type::new(s("e"), 20_003, Kind::Enum(vec![s("x")]), s("public")),
        Type::new(s("_c"), 20_004, Kind::Array(composite.clone()), s("public")),
        Type::new(s("dd"), 20_005, Kind::Domain(domain.clone()), s("public")),
        Type::new(s("_d"), 20_006, Kind::Array(domain), s("public")),
        Type::new(s("_rec"), 20_007, Kind::Array(Type::RECORD), s("public")),
        composite,
    ]);
    types
}

/// Valid encodings to mutate, so that the fuzzing reaches past the headers.
fn seeds() -> Vec<(Type, Vec<u8>)> {
    let cols = Columns::new(vec![
        Column::new("a", Type::INT4),
        Column::new("b", Type::TEXT_ARRAY),
    ]);
    let row = Row::from_values(
        cols,
        vec![Value::Int4(1), Value::from(vec![Some("x"), None])],
    );
    let values = [
        (
            Type::INT4_ARRAY,
            Value::from(vec![vec![Some(1), None], vec![Some(2), Some(3)]]),
        ),
        (
            Type::NUMERIC,
            Value::Numeric(pg_types::Numeric::parse("-1234.5678e-3").unwrap()),
        ),
        (Type::RECORD, Value::Composite(row)),
        (
            Type::INT4MULTI_RANGE,
            Value::Multirange(vec![pg_types::Range::half_open(1, 4)]),
        ),
        (
            Type::PATH,
            Value::Path {
                closed: true,
                points: vec![pg_types::Point::new(1.0, 2.0)],
            },
        ),
        (
            Type::INET,
            Value::Inet {
                addr: "::1".parse().unwrap(),
                prefix: 128,
                cidr: false,
            },
        ),
        (
            Type::VARBIT,
            Value::Bit(pg_types::BitString::from_bits([true, false, true])),
        ),
    ];
    values
        .into_iter()
        .map(|(ty, v)| {
            let mut buf = BytesMut::new();
            encode(&ty, &v, &mut buf).unwrap();
            (ty, buf.to_vec())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        for ty in all_types() {
            let _ = decode(&ty, &bytes);
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let _ = decode_text(&ty, text);
            }
        }
    }

    #[test]
    fn mutated_encodings_never_panic(
        seed in 0usize..7,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let (ty, mut bytes) = seeds().swap_remove(seed);
        for (at, b) in edits {
            let n = bytes.len();
            bytes[at % n] = b;
        }
        let _ = decode(&ty, &bytes);
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = decode(&ty, &bytes);
    }

    #[test]
    fn huge_counts_do_not_allocate(count in any::<i32>(), ty_index in 0usize..4) {
        // A count field claiming billions of items over a few bytes must not preallocate.
        let ty = [Type::INT4_ARRAY, Type::RECORD, Type::INT4MULTI_RANGE, Type::POLYGON][ty_index].clone();
        let mut buf = BytesMut::new();
        match ty_index {
            0 => { buf.put_i32(1); buf.put_i32(0); buf.put_u32(23); buf.put_i32(count); buf.put_i32(1); }
            _ => buf.put_i32(count),
        }
        buf.put_slice(&[0; 12]);
        prop_assert!(decode(&ty, &buf).is_err() || count <= 1);
    }
}

#[test]
fn deeply_nested_records_are_an_error_not_a_stack_overflow() {
    // record(record(record(…))) a thousand deep.
    let mut value = {
        let mut b = BytesMut::new();
        b.put_i32(0);
        b
    };
    for _ in 0..1000 {
        let mut outer = BytesMut::new();
        outer.put_i32(1);
        outer.put_u32(2249);
        outer.put_i32(value.len() as i32);
        outer.put_slice(&value);
        value = outer;
    }
    let err = decode(&Type::RECORD, &value).err().unwrap();
    assert!(err.message().contains("nested deeper"), "{err}");
}
