//! `Row`: positions and names, typed and dynamic reads, transform, equality, printing.

use std::ops::Range;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use pg_exceptions::ColumnError;
use pg_types::{Column, Columns, Row, Type, Value, ValueFn};
use rust_decimal::Decimal;

/// A DataRow body over `values` (binary unless the column is text), and its ranges.
fn body(values: &[Option<&[u8]>]) -> (Bytes, Vec<Option<Range<usize>>>) {
    let mut buf = BytesMut::new();
    let mut ranges = Vec::new();
    for v in values {
        match v {
            None => {
                buf.put_i32(-1);
                ranges.push(None);
            }
            Some(v) => {
                buf.put_i32(v.len() as i32);
                let start = buf.len();
                buf.put_slice(v);
                ranges.push(Some(start..buf.len()));
            }
        }
    }
    (buf.freeze(), ranges)
}

fn columns() -> Arc<Columns> {
    Columns::new(vec![
        Column::new("id", Type::INT4),
        Column::new("name", Type::TEXT),
        Column::new("id", Type::INT8),
        Column::new("amount", Type::NUMERIC).with_format(0),
        Column::new("note", Type::TEXT),
        Column::new("opaque", Type::TS_VECTOR).with_format(0),
    ])
}

fn raw_row() -> Row {
    let (b, r) = body(&[
        Some(&7i32.to_be_bytes()),
        Some(b"seven"),
        Some(&70i64.to_be_bytes()),
        Some(b"12.50"),
        None,
        Some(b"'a' 'b'"),
    ]);
    Row::from_raw(columns(), b, r)
}

#[test]
fn by_position_and_name() {
    let row = raw_row();
    assert_eq!(row.len(), 6);
    assert_eq!(row.get::<i32>(0), 7);
    assert_eq!(row.get::<&str>("name"), "seven");
    // Duplicate names: the first column wins.
    assert_eq!(row.get::<i32>("id"), 7);
    assert_eq!(row.get::<i64>(2), 70);
    assert_eq!(row.index_from_key("id"), Some(0));
    assert_eq!(row.key_from_index(2), Some("id"));
    assert_eq!(
        row.column_names(),
        ["id", "name", "id", "amount", "note", "opaque"]
    );
    assert!(row.contains("note") && !row.contains("nope"));
    assert_eq!(row.get::<Option<String>>("note"), None);
    assert_eq!(row.value("note").unwrap(), Value::Null);
    assert_eq!(row.get_or("nope", Value::Int4(0)).unwrap(), Value::Int4(0));
    assert_eq!(row.get_or("id", Value::Int4(0)).unwrap(), Value::Int4(7));
}

#[test]
fn text_columns_are_parsed_or_kept_as_text() {
    let row = raw_row();
    let amount = Value::Numeric(pg_types::Numeric::Decimal(Decimal::new(1250, 2)));
    assert_eq!(row.value("amount").unwrap(), amount);
    // A typed read of a text column goes through its parsed value.
    assert_eq!(row.get::<Value>("amount"), amount);
    assert_eq!(row.get::<String>("opaque"), "'a' 'b'");
    assert_eq!(
        row.value("opaque").unwrap(),
        Value::Unknown {
            type_oid: Type::TS_VECTOR.oid(),
            text: Some("'a' 'b'".into()),
            binary: None
        }
    );
    assert_eq!(row.get::<&str>("opaque"), "'a' 'b'");
}

#[test]
fn errors_name_the_column_and_type() {
    let row = raw_row();
    let err = row.try_get::<i32>("nope").err().unwrap();
    assert!(
        err.is_a(&ColumnError) && err.message().contains("nope"),
        "{err}"
    );
    let err = row.try_get::<i32>("name").err().unwrap();
    assert!(err.is_a(&ColumnError), "{err}");
    assert!(
        err.message().contains("\"name\"") && err.message().contains("text"),
        "{err}"
    );
    let err = row.try_get::<i32>("note").err().unwrap();
    assert!(err.message().contains("\"note\""), "{err}");
    // A malformed value: an int4 column of 3 bytes.
    let (b, r) = body(&[Some(b"abc")]);
    let bad = Row::from_raw(Columns::new(vec![Column::new("n", Type::INT4)]), b, r);
    let err = bad.value(0).err().unwrap();
    assert!(
        err.is_a(&ColumnError) && err.message().contains("\"n\"") && err.message().contains("int4"),
        "{err}"
    );
    assert!(bad.to_string().starts_with("(<error:"));
    // A range outside the body is an error, not a panic.
    let outside = Row::from_raw(
        Columns::new(vec![Column::new("n", Type::INT4)]),
        Bytes::new(),
        vec![Some(0..4)],
    );
    assert!(outside.value(0).is_err());
}

#[test]
#[should_panic(expected = "ColumnError")]
fn get_panics_with_the_error() {
    raw_row().get::<bool>("name");
}

#[test]
fn values_iteration_and_items() {
    let row = raw_row();
    let values = row.values().unwrap();
    assert_eq!(values[1], Value::from("seven"));
    let mut n = 0;
    for v in &row {
        v.unwrap();
        n += 1;
    }
    assert_eq!(n, 6);
    let items: Vec<(&str, Value)> = row.items().collect::<Result<_, _>>().unwrap();
    assert_eq!(items[2], ("id", Value::Int8(70)));
}

#[test]
fn equality_with_tuples_and_values() {
    let cols = Columns::new(vec![
        Column::new("a", Type::INT4),
        Column::new("b", Type::TEXT),
        Column::new("c", Type::FLOAT8),
    ]);
    let row = Row::from_values(cols, vec![Value::Int4(1), Value::from("x"), Value::Null]);
    assert!(row == (1, "x", None::<f64>));
    assert!(row != (1, "y", None::<f64>));
    assert!(row != (1, "x"));
    assert!(row == vec![Value::Int4(1), Value::from("x"), Value::Null]);
    let single = Row::from_values(
        Columns::new(vec![Column::new("a", Type::INT8)]),
        vec![Value::Int8(3)],
    );
    assert!(single == (3i64,));
    assert_eq!(single.to_string(), "(3,)");
}

#[test]
fn display_and_debug() {
    let row = raw_row();
    assert_eq!(
        row.to_string(),
        "(7, 'seven', 70, Decimal('12.50'), None, \"'a' 'b'\")"
    );
    let debug = format!("{row:?}");
    assert!(
        debug.starts_with("Row { id: Int4(7), name: Text(\"seven\")"),
        "{debug}"
    );
}

#[test]
fn transform_by_position_and_name() {
    let row = raw_row();
    let upper = |v: Value| Value::Text(v.as_str().unwrap_or_default().to_uppercase());
    let t = row
        .transform(&[None, Some(&upper as &dyn Fn(Value) -> Value)])
        .unwrap();
    assert_eq!(t.get::<&str>("name"), "SEVEN");
    assert_eq!(t.get::<i32>(0), 7);
    let boxed: Vec<Option<ValueFn>> = vec![Some(Box::new(|_| Value::Int4(0)))];
    assert_eq!(row.transform(&boxed).unwrap().get::<i32>(0), 0);
    // A transformed value of another type is still readable through its own type.
    let named = row
        .transform_named(&[("id", |v: Value| {
            Value::Text(format!("#{}", v.as_i64().unwrap()))
        })])
        .unwrap();
    assert_eq!(named.get::<String>("id"), "#7");
    assert_eq!(named.value(2).unwrap(), Value::Int8(70));
    assert!(row.transform_named(&[("nope", |v: Value| v)]).is_err());
    type Plain = fn(Value) -> Value;
    let too_many: Vec<Option<Plain>> = vec![None; 7];
    assert!(row.transform(&too_many).is_err());
}

#[test]
fn typed_reads_of_held_values() {
    let cols = Columns::new(vec![
        Column::new("d", Type::DATE),
        Column::new("n", Type::NUMERIC),
        Column::new("a", Type::INT4_ARRAY),
    ]);
    let date = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let row = Row::from_values(
        cols,
        vec![
            Value::from(date),
            Value::from(Decimal::new(15, 1)),
            Value::from(vec![1, 2]),
        ],
    );
    assert_eq!(row.get::<chrono::NaiveDate>("d"), date);
    assert_eq!(row.get::<Vec<i32>>("a"), vec![1, 2]);
    assert_eq!(row.get::<Value>("n"), Value::from(Decimal::new(15, 1)));
}

#[test]
fn rows_and_values_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Row>();
    send_sync::<Value>();
    send_sync::<Columns>();
}
