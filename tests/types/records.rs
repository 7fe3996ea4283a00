//! Named types inside anonymous records: the record's binary body names each attribute's
//! type by OID, and a type the session has not met is read from the catalog before the row
//! is handed over, so `SELECT ROW(1, (2, 'x')::pair)` decodes `pair` as a composite.

use futures::StreamExt;
use pg_types::{Row, Value};

use crate::cases::{SETUP, composite};
use crate::common;

/// The attribute names and type names of a composite value.
fn shape(value: &Value) -> (Vec<String>, Vec<String>) {
    let row = value
        .as_row()
        .unwrap_or_else(|| panic!("{value:?} is no composite"));
    (
        row.column_names().iter().map(|n| n.to_string()).collect(),
        row.columns().types().map(|t| t.name().to_owned()).collect(),
    )
}

fn pair(a: i32, b: &str) -> Value {
    composite(vec![Value::Int4(a), Value::from(b)])
}

const SQL: &str = "SELECT ROW(1, (2, 'x')::pair) AS r, \
     ROW(1, ARRAY[(2, 'x')::pair, NULL]) AS arr, \
     ARRAY[ROW((3, 'y')::pair), NULL] AS recs, \
     ROW(ROW((4, 'z')::pair), 'happy ☺'::mood) AS deep";

/// Checks a row of [`SQL`].
fn check(row: &Row) {
    let r = row.value("r").unwrap();
    assert_eq!(r, composite(vec![Value::Int4(1), pair(2, "x")]), "{r:?}");
    let inner = r.as_row().unwrap().value(1).unwrap();
    assert_eq!(
        shape(&inner),
        (
            vec!["a".into(), "b".into()],
            vec!["int4".into(), "text".into()]
        )
    );
    assert_eq!(shape(&r).1[1], "pair");

    let arr = row.value("arr").unwrap();
    let elements = arr.as_row().unwrap().value(1).unwrap();
    assert_eq!(elements, Value::from(vec![pair(2, "x"), Value::Null]));
    assert_eq!(shape(&arr).1[1], "_pair");

    let recs = row.value("recs").unwrap();
    assert_eq!(
        recs,
        Value::from(vec![composite(vec![pair(3, "y")]), Value::Null])
    );
    let Value::Array(recs) = recs else {
        panic!("{recs:?}")
    };
    assert_eq!(shape(&recs.elements[0]).1, ["pair"]);

    let deep = row.value("deep").unwrap();
    let mood = Value::Enum {
        type_name: "mood".into(),
        label: "happy ☺".into(),
    };
    assert_eq!(
        deep,
        composite(vec![composite(vec![pair(4, "z")]), mood]),
        "{deep:?}"
    );
}

#[tokio::test]
async fn named_types_inside_records_decode_with_their_catalog_types() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(SETUP).await.unwrap();
    // The session has met none of the nested types: the statement's columns are records.
    let ps = db.prepare(SQL).await.unwrap();
    check(&ps.call(()).await.unwrap().rows.remove(0));
    // Streamed, and through a scrollable cursor.
    let mut rows = ps.rows(()).unwrap();
    check(&rows.next().await.unwrap().unwrap());
    assert!(rows.next().await.is_none());
    let cursor = ps.declare(()).await.unwrap();
    check(&cursor.next().await.unwrap().unwrap());

    // A type made after the session started, met first inside a record read in chunks.
    db.execute("CREATE TYPE fresh AS (n int8, p pair)")
        .await
        .unwrap();
    let ps = db
        .prepare("SELECT ROW(i, (i, (i, 'q')::pair)::fresh) AS r FROM generate_series(1, 3) i")
        .await
        .unwrap();
    let mut chunks = ps.chunks(()).unwrap();
    let mut seen = 0;
    while let Some(chunk) = chunks.next().await {
        for row in chunk.unwrap() {
            seen += 1;
            let r = row.value("r").unwrap();
            let fresh = r.as_row().unwrap().value(1).unwrap();
            assert_eq!(
                shape(&fresh),
                (
                    vec!["n".into(), "p".into()],
                    vec!["int8".into(), "pair".into()]
                )
            );
            assert_eq!(
                fresh,
                composite(vec![Value::Int8(seen), pair(seen as i32, "q")])
            );
        }
    }
    assert_eq!(seen, 3);
}

#[test]
fn the_blocking_facade_decodes_named_types_inside_records() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute(SETUP).unwrap();
    let ps = db.prepare(SQL).unwrap();
    check(&ps.call(()).unwrap().rows.remove(0));
    let cursor = ps.declare(()).unwrap();
    check(&cursor.next_row().unwrap().unwrap());
}
