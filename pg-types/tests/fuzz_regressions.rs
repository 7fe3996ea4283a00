//! Inputs cargo-fuzz found (`fuzz/`, target `decode`), kept as regression tests.

use bytes::BytesMut;
use pg_types::{Type, Value, decode, encode};

/// An inet whose header sets the cidr flag (PostgreSQL's `inet_send` never does, and its
/// receive ignores the flag) decoded as a cidr that encoded back as a plain inet: the type,
/// not the flag, decides.
#[test]
fn inet_cidr_flag_follows_the_type() {
    let mut raw = vec![3, 128, 2, 16];
    raw.extend_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    let value = decode(&Type::INET, &raw).unwrap();
    assert_eq!(
        value,
        Value::Inet {
            addr: "2001:db8::1".parse().unwrap(),
            prefix: 128,
            cidr: false,
        }
    );
    let mut buf = BytesMut::new();
    encode(&Type::INET, &value, &mut buf).unwrap();
    assert_eq!(decode(&Type::INET, &buf).unwrap(), value);
    raw[2] = 0;
    assert_eq!(
        decode(&Type::CIDR, &raw).unwrap(),
        Value::Inet {
            addr: "2001:db8::1".parse().unwrap(),
            prefix: 128,
            cidr: true,
        }
    );
}

/// An array whose header names another element type than its column's decoded as an array
/// of the header's type when the declared element had no codec (`tid[]`, `cstring[]`), which
/// encoded back with the declared element type: the declaration decides.
#[test]
fn array_element_type_follows_the_declaration() {
    use pg_types::{Array, Dim};

    for (declared, element, header) in [
        (Type::TID_ARRAY, Type::TID, [0, 0, 1, 13]), // table_am_handler
        (Type::CSTRING_ARRAY, Type::CSTRING, [0, 0, 0, 29]), // cid
    ] {
        // One dimension of two elements, no NULLs.
        let mut raw = vec![0, 0, 0, 1, 0, 0, 0, 0];
        raw.extend_from_slice(&header);
        raw.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 1]);
        for tid in [1u8, 2] {
            raw.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, tid]);
        }
        let unknown = |tid: u8| Value::Unknown {
            type_oid: element.oid(),
            text: None,
            binary: Some(vec![0, 0, 0, tid]),
        };
        let value = decode(&declared, &raw).unwrap();
        assert_eq!(
            value,
            Value::Array(Array {
                element_type: element.clone(),
                dims: vec![Dim {
                    len: 2,
                    lower_bound: 1
                }],
                elements: vec![unknown(1), unknown(2)],
            })
        );
        let mut buf = BytesMut::new();
        encode(&declared, &value, &mut buf).unwrap();
        assert_eq!(decode(&declared, &buf).unwrap(), value);
    }
}

/// A row of one column holding `raw`, received in binary.
fn row_of(ty: Type, raw: &[u8]) -> pg_types::Row {
    let columns = pg_types::Columns::new(vec![pg_types::Column::new("a", ty)]);
    pg_types::Row::from_raw(
        columns,
        bytes::Bytes::copy_from_slice(raw),
        vec![Some(0..raw.len())],
    )
}

/// Found through pg-driver's procedure lookup, which reads `text[]` catalog columns as
/// `Vec<String>`: postgres-types' `FromSql` for `Vec<T>` reserves room for the element count an
/// array header claims, so 20 bytes claiming 2³¹ elements asked for 48 GiB (and aborted the
/// process). Typed reads now check the count against the bytes first.
#[test]
fn typed_reads_refuse_counts_the_bytes_cannot_hold() {
    // One dimension of i32::MAX text elements, no NULLs, and no element bytes at all.
    let mut array = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25];
    array.extend_from_slice(&i32::MAX.to_be_bytes());
    array.extend_from_slice(&1i32.to_be_bytes());
    let row = row_of(Type::TEXT_ARRAY, &array);
    let error = row.try_get::<Vec<String>>(0).unwrap_err();
    assert!(
        error.to_string().contains("claiming 2147483647 items"),
        "{error}"
    );
    assert!(row.try_get::<Vec<Option<String>>>(0).is_err());
    // Dimensions whose product overflows are refused by the decoder itself.
    let mut two = vec![0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23];
    for _ in 0..2 {
        two.extend_from_slice(&i32::MAX.to_be_bytes());
        two.extend_from_slice(&1i32.to_be_bytes());
    }
    assert!(
        row_of(Type::INT4_ARRAY, &two)
            .try_get::<Vec<i32>>(0)
            .is_err()
    );

    // An hstore claiming i32::MAX entries in none.
    let hstore = Type::new(
        "hstore".into(),
        90_001,
        pg_types::Kind::Simple,
        "public".into(),
    );
    let row = row_of(hstore.clone(), &i32::MAX.to_be_bytes());
    assert!(
        row.try_get::<std::collections::HashMap<String, Option<String>>>(0)
            .is_err()
    );
    // … and as the element of an hstore[] (elements are read into maps one by one).
    let hstores = Type::new(
        "_hstore".into(),
        90_002,
        pg_types::Kind::Array(hstore),
        "public".into(),
    );
    let mut array = vec![
        0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 95, 145, 0, 0, 0, 1, 0, 0, 0, 1,
    ];
    array.extend_from_slice(&4i32.to_be_bytes());
    array.extend_from_slice(&i32::MAX.to_be_bytes());
    let row = row_of(hstores, &array);
    assert!(
        row.try_get::<Vec<std::collections::HashMap<String, Option<String>>>>(0)
            .is_err()
    );

    // Well-formed values still read.
    let mut buf = BytesMut::new();
    let value = Value::from(vec![Some("x"), None]);
    encode(&Type::TEXT_ARRAY, &value, &mut buf).unwrap();
    let row = row_of(Type::TEXT_ARRAY, &buf);
    assert_eq!(
        row.get::<Vec<Option<String>>>(0),
        [Some("x".to_owned()), None]
    );
}
