//! Helpers shared by the round-trip tests.

use bytes::BytesMut;
use pg_types::{IsNull, Numeric, Type, Value, decode, encode};

/// Encodes `v` as `ty`, decodes it back, and checks the result equals `v` (and prints the
/// same, which also compares numeric scales and float bits loosely).
pub fn rt(ty: &Type, v: Value) {
    let mut buf = BytesMut::new();
    assert!(
        matches!(encode(ty, &v, &mut buf).unwrap(), IsNull::No),
        "{v:?}"
    );
    let back = decode(ty, &buf).unwrap_or_else(|e| panic!("decoding {v:?} as {ty}: {e}"));
    assert_eq!(back, v, "round trip through {ty}");
    assert_eq!(back.to_string(), v.to_string());
    assert_eq!(back.to_pg_text(), v.to_pg_text());
}

pub fn num(s: &str) -> Value {
    Value::Numeric(Numeric::parse(s).unwrap())
}
