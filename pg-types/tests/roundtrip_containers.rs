//! Binary round trips (encode, then decode) of containers and custom types: hstore,
//! enums, unknown types, arrays, ranges, multiranges, composites, records, domains.

mod common;

use bytes::BytesMut;
use common::{num, rt};
use indexmap::IndexMap;
use pg_types::{
    Array, Column, Columns, Dim, IsNull, Kind, Range, RangeBound, Row, Timestamp, Type, Value,
    decode, encode,
};

fn hstore_type() -> Type {
    Type::new("hstore".into(), 16_500, Kind::Simple, "public".into())
}

#[test]
fn hstore_enum_unknown() {
    let mut map = IndexMap::new();
    map.insert("a".to_owned(), Some("1".to_owned()));
    map.insert("n".to_owned(), None);
    map.insert("".to_owned(), Some("".to_owned()));
    rt(&hstore_type(), Value::Hstore(map));
    let mood = Type::new(
        "mood".into(),
        16_600,
        Kind::Enum(vec!["sad".into(), "ok".into()]),
        "public".into(),
    );
    rt(
        &mood,
        Value::Enum {
            type_name: "mood".into(),
            label: "ok".into(),
        },
    );
    let mut buf = BytesMut::new();
    encode(&mood, &Value::from("sad"), &mut buf).unwrap();
    assert_eq!(&buf[..], b"sad");
    let opaque = Type::new("opaque".into(), 16_700, Kind::Simple, "public".into());
    rt(
        &opaque,
        Value::Unknown {
            type_oid: 16_700,
            text: None,
            binary: Some(vec![1, 2]),
        },
    );
    assert!(!pg_types::supports_binary(&opaque));
    assert!(pg_types::supports_binary(&hstore_type()));
}

#[test]
fn arrays() {
    rt(&Type::INT4_ARRAY, Value::from(Vec::<i32>::new()));
    rt(
        &Type::INT4_ARRAY,
        Value::from(vec![Some(1), None, Some(i32::MIN)]),
    );
    rt(
        &Type::TEXT_ARRAY,
        Value::from(vec![Some("a,b"), None, Some("NULL"), Some("")]),
    );
    let grid = Value::from(vec![
        vec![Some(1i64), None],
        vec![Some(3), Some(4)],
        vec![None, None],
    ]);
    let Value::Array(a) = &grid else { panic!() };
    assert_eq!(a.dims, vec![Dim::new(3), Dim::new(2)]);
    assert_eq!(a.get(&[2, 1]), Some(&Value::Int8(3)));
    rt(&Type::INT8_ARRAY, grid.clone());
    assert_eq!(grid.to_string(), "[[1, None], [3, 4], [None, None]]");
    assert_eq!(grid.to_pg_text().unwrap(), "{{1,NULL},{3,4},{NULL,NULL}}");
    let bounded = Array::new(
        Type::INT2,
        vec![
            Dim {
                len: 2,
                lower_bound: -3,
            },
            Dim {
                len: 1,
                lower_bound: 7,
            },
        ],
        vec![Value::Int2(1), Value::Null],
    )
    .unwrap();
    assert_eq!(bounded.get(&[-2, 7]), Some(&Value::Null));
    rt(&Type::INT2_ARRAY, Value::Array(bounded.clone()));
    assert_eq!(
        Value::Array(bounded).to_pg_text().unwrap(),
        "[-3:-2][7:7]={{1},{NULL}}"
    );
    rt(
        &Type::NUMERIC_ARRAY,
        Value::from(vec![num("NaN"), num("1.0")]),
    );
    assert!(Array::new(Type::INT4, vec![Dim::new(3)], vec![Value::Int4(1)]).is_err());
    let ragged = Value::from(vec![vec![1], vec![1, 2]]);
    assert!(encode(&Type::INT4_ARRAY, &ragged, &mut BytesMut::new()).is_err());
}

fn int4_range(lower: RangeBound, upper: RangeBound) -> Value {
    Value::Range(Range::new(lower, upper))
}

#[test]
fn ranges_and_multiranges() {
    let inc = |v: i32| RangeBound::Inclusive(Box::new(Value::Int4(v)));
    let exc = |v: i32| RangeBound::Exclusive(Box::new(Value::Int4(v)));
    rt(&Type::INT4_RANGE, int4_range(inc(1), exc(10)));
    rt(&Type::INT4_RANGE, int4_range(RangeBound::Unbounded, inc(3)));
    rt(
        &Type::INT4_RANGE,
        int4_range(RangeBound::Unbounded, RangeBound::Unbounded),
    );
    rt(&Type::INT4_RANGE, Value::Range(Range::empty()));
    let ts = |t| RangeBound::Inclusive(Box::new(Value::Timestamp(t)));
    rt(
        &Type::TS_RANGE,
        int4_range(ts(Timestamp::NegInfinity), ts(Timestamp::Infinity)),
    );
    rt(
        &Type::NUM_RANGE,
        Value::Range(Range::half_open(num("1.5"), num("2e40"))),
    );
    let multi = Value::Multirange(vec![Range::half_open(1, 3), Range::half_open(5, 8)]);
    rt(&Type::INT4MULTI_RANGE, multi.clone());
    rt(&Type::INT4MULTI_RANGE, Value::Multirange(vec![]));
    assert_eq!(multi.to_pg_text().unwrap(), "{[1,3),[5,8)}");
    assert_eq!(Value::Range(Range::empty()).to_string(), "'empty'");
    let null_bound = int4_range(
        RangeBound::Inclusive(Box::new(Value::Null)),
        RangeBound::Unbounded,
    );
    assert!(encode(&Type::INT4_RANGE, &null_bound, &mut BytesMut::new()).is_err());
}

#[test]
fn composites_and_records() {
    let inner_ty = Type::new(
        "inner".into(),
        16_800,
        Kind::Composite(vec![
            pg_types::Field::new("x".into(), Type::INT4),
            pg_types::Field::new("tags".into(), Type::TEXT_ARRAY),
        ]),
        "public".into(),
    );
    let outer_ty = Type::new(
        "outer".into(),
        16_801,
        Kind::Composite(vec![
            pg_types::Field::new("name".into(), Type::TEXT),
            pg_types::Field::new("inner".into(), inner_ty.clone()),
        ]),
        "public".into(),
    );
    let inner_cols = Columns::new(vec![
        Column::new("x", Type::INT4),
        Column::new("tags", Type::TEXT_ARRAY),
    ]);
    let inner = Row::from_values(
        inner_cols,
        vec![Value::Int4(7), Value::from(vec![Some("a"), None])],
    );
    let outer_cols = Columns::new(vec![
        Column::new("name", Type::TEXT),
        Column::new("inner", inner_ty),
    ]);
    let outer = Row::from_values(outer_cols, vec![Value::from("o"), Value::Composite(inner)]);
    rt(&outer_ty, Value::Composite(outer.clone()));
    assert_eq!(
        Value::Composite(outer.clone()).to_string(),
        "('o', (7, ['a', None]))"
    );
    assert_eq!(
        Value::Composite(outer.clone()).to_pg_text().unwrap(),
        "(o,\"(7,\"\"{a,NULL}\"\")\")"
    );

    // An anonymous record: attributes typed by their OIDs; unknown ones stay binary.
    let mut buf = BytesMut::new();
    encode(&Type::RECORD, &Value::Composite(outer), &mut buf).unwrap();
    let Value::Composite(rec) = decode(&Type::RECORD, &buf).unwrap() else {
        panic!()
    };
    assert_eq!(rec.value(0).unwrap(), Value::from("o"));
    assert_eq!(rec.key_from_index(1), Some("f2"));
    assert!(matches!(
        rec.value(1).unwrap(),
        Value::Unknown {
            type_oid: 16_800,
            binary: Some(_),
            ..
        }
    ));
    let cols = Columns::new(vec![
        Column::new("a", Type::INT4),
        Column::new("b", Type::TEXT),
    ]);
    let rec = Row::from_values(cols, vec![Value::Int4(1), Value::Null]);
    rt(&Type::RECORD, Value::Composite(rec.clone()));
    // `record[]`, which postgres-types calls a pseudo-type, is an array of records.
    assert!(pg_types::supports_binary(&Type::RECORD_ARRAY));
    let records =
        pg_types::Array::from_values(Type::RECORD, vec![Value::Composite(rec), Value::Null]);
    rt(&Type::RECORD_ARRAY, Value::Array(records));
}

#[test]
fn domains_decode_as_their_base() {
    let base = Type::new(
        "posint".into(),
        16_900,
        Kind::Domain(Type::INT4),
        "public".into(),
    );
    let outer = Type::new("small".into(), 16_901, Kind::Domain(base), "public".into());
    rt(&outer, Value::Int4(5));
    assert!(pg_types::supports_binary(&outer));
}

#[test]
fn null_encodes_for_every_type() {
    let mut buf = BytesMut::new();
    assert!(matches!(
        encode(&Type::INT4, &Value::Null, &mut buf).unwrap(),
        IsNull::Yes
    ));
    assert!(buf.is_empty());
    assert_eq!(
        pg_types::decode_opt(&Type::INT4, None).unwrap(),
        Value::Null
    );
}
