//! The server's binary forms of a value of every type decode to the expected `Value`, and
//! encoding that `Value` gives back the server's bytes exactly.

use bytes::BytesMut;
use pg_types::{Type, Value, decode, encode};

use crate::cases::cases;
use crate::copy_binary_row;

/// Checks one field: decodes to `expected`, and encodes back to the same bytes.
pub fn check(expr: &str, ty: &Type, raw: &[u8], expected: &Value) {
    let value = decode(ty, raw).unwrap_or_else(|e| panic!("{expr}: {e}"));
    assert_eq!(&value, expected, "{expr}");
    assert_eq!(value.to_pg_text(), expected.to_pg_text(), "{expr}");
    let mut buf = BytesMut::new();
    encode(ty, &value, &mut buf).unwrap_or_else(|e| panic!("{expr}: {e}"));
    assert_eq!(&buf[..], raw, "{expr}: re-encoded bytes differ");
}

#[test]
fn server_binary_forms_decode_and_encode_back() {
    let cases = cases();
    let exprs: Vec<&str> = cases.iter().map(|(e, _, _)| *e).collect();
    let row = copy_binary_row(&format!("SELECT {}", exprs.join(", ")));
    assert_eq!(row.len(), cases.len());
    for ((expr, ty, expected), raw) in cases.iter().zip(&row) {
        check(expr, ty, raw.as_deref().expect("not NULL"), expected);
    }
}

#[test]
fn anonymous_records() {
    let row = copy_binary_row(
        "SELECT ROW(1, 'a'::text, NULL::int4), ROW(1, ROW(2.5::float8, 'x'::text))",
    );
    let Value::Composite(flat) = decode(&Type::RECORD, row[0].as_deref().unwrap()).unwrap() else {
        panic!("a record")
    };
    assert!(flat == (1, "a", None::<i32>));
    assert_eq!(flat.column_names(), ["f1", "f2", "f3"]);
    assert_eq!(Value::Composite(flat.clone()).to_string(), "(1, 'a', None)");
    check(
        "ROW(1, 'a', NULL)",
        &Type::RECORD,
        row[0].as_deref().unwrap(),
        &Value::Composite(flat),
    );
    let nested = decode(&Type::RECORD, row[1].as_deref().unwrap()).unwrap();
    assert_eq!(nested.to_string(), "(1, (2.5, 'x'))");
    check(
        "nested ROW",
        &Type::RECORD,
        row[1].as_deref().unwrap(),
        &nested,
    );
}
