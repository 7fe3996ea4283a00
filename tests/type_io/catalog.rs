//! `TYPE_CATALOG_QUERY` / `types_from_catalog` against a real catalog, and the types it
//! builds decoding the server's values.

use pg_types::{
    Kind, Range, RangeBound, Type, Value, supports_binary, type_catalog_query, types_from_catalog,
};

use crate::copy::check;
use crate::{copy_binary_row, simple};

const SETUP: &str = "
DROP SCHEMA IF EXISTS pgtypes_catalog CASCADE;
CREATE SCHEMA pgtypes_catalog;
SET search_path = pgtypes_catalog;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN smallpos AS posint CHECK (VALUE < 100);
CREATE TYPE floatrange AS RANGE (subtype = float8, multirange_type_name = floatmultirange);
CREATE TYPE inner_t AS (x int4, m mood);
CREATE TYPE outer_t AS (name text, junk int4, inner_v inner_t, tags smallpos[], r floatrange);
ALTER TYPE outer_t DROP ATTRIBUTE junk;
";

fn oid_of(type_name: &str) -> u32 {
    let rows = simple(&format!("SELECT '{type_name}'::regtype::oid"));
    rows[0].rows[0][0].as_deref().unwrap().parse().unwrap()
}

fn find<'a>(types: &'a [Type], name: &str) -> &'a Type {
    types
        .iter()
        .find(|t| t.name() == name)
        .unwrap_or_else(|| panic!("{name} in {types:?}"))
}

#[test]
fn catalog_types_and_their_values() {
    simple(SETUP);
    let wanted = [
        oid_of("pgtypes_catalog.outer_t"),
        oid_of("pgtypes_catalog.floatmultirange"),
        oid_of("pgtypes_catalog.mood[]"),
        oid_of("int4"),
    ];
    let results = simple(&type_catalog_query(&wanted));
    let types = types_from_catalog(&results[0].rows).unwrap();

    let mood = find(&types, "mood");
    assert_eq!(mood.schema(), "pgtypes_catalog");
    assert_eq!(
        mood.kind(),
        &Kind::Enum(vec![
            "sad".into(),
            "meh".into(),
            "ok".into(),
            "happy".into()
        ])
    );
    assert_eq!(find(&types, "_mood").kind(), &Kind::Array(mood.clone()));

    let smallpos = find(&types, "smallpos");
    let Kind::Domain(posint) = smallpos.kind() else {
        panic!("a domain: {smallpos:?}")
    };
    assert_eq!(posint.name(), "posint");
    assert_eq!(posint.kind(), &Kind::Domain(Type::INT4));

    let range = find(&types, "floatrange");
    assert_eq!(range.kind(), &Kind::Range(Type::FLOAT8));
    assert_eq!(
        find(&types, "floatmultirange").kind(),
        &Kind::Multirange(Type::FLOAT8)
    );

    let outer = find(&types, "outer_t");
    let Kind::Composite(fields) = outer.kind() else {
        panic!("a composite")
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["name", "inner_v", "tags", "r"]);
    let Kind::Composite(inner) = fields[1].type_().kind() else {
        panic!("a composite")
    };
    assert_eq!(inner[1].type_(), mood);
    assert_eq!(fields[2].type_().kind(), &Kind::Array(smallpos.clone()));
    assert_eq!(fields[3].type_(), range);
    assert!(supports_binary(outer));
    assert_eq!(types.iter().filter(|t| **t == Type::INT4).count(), 1);

    // The types built decode the server's values, and encode them back byte for byte.
    let row = copy_binary_row(
        "SELECT ROW('n', ROW(1, 'meh'), ARRAY[5, NULL], '[1.5,2)')::pgtypes_catalog.outer_t, \
         '{[1,2), [3,4]}'::pgtypes_catalog.floatmultirange, \
         ARRAY['happy', 'sad']::pgtypes_catalog.mood[], 7::pgtypes_catalog.smallpos",
    );
    let value = decode_ok(outer, &row[0]);
    assert_eq!(value.to_string(), "('n', (1, 'meh'), [5, None], '[1.5,2)')");
    let Value::Composite(composite) = &value else {
        panic!()
    };
    assert_eq!(composite.get::<&str>("name"), "n");
    assert_eq!(
        composite
            .value("inner_v")
            .unwrap()
            .as_row()
            .unwrap()
            .value("m")
            .unwrap(),
        Value::Enum {
            type_name: "mood".into(),
            label: "meh".into(),
        }
    );
    check("outer_t", outer, row[0].as_deref().unwrap(), &value);

    let multi = find(&types, "floatmultirange");
    let f = |v: f64| Box::new(Value::Float8(v));
    let expected = Value::Multirange(vec![
        Range::new(RangeBound::Inclusive(f(1.0)), RangeBound::Exclusive(f(2.0))),
        Range::new(RangeBound::Inclusive(f(3.0)), RangeBound::Inclusive(f(4.0))),
    ]);
    check(
        "floatmultirange",
        multi,
        row[1].as_deref().unwrap(),
        &expected,
    );
    let moods = Value::from(vec![
        Value::Enum {
            type_name: "mood".into(),
            label: "happy".into(),
        },
        Value::Enum {
            type_name: "mood".into(),
            label: "sad".into(),
        },
    ]);
    check(
        "mood[]",
        find(&types, "_mood"),
        row[2].as_deref().unwrap(),
        &moods,
    );
    check(
        "smallpos",
        smallpos,
        row[3].as_deref().unwrap(),
        &Value::Int4(7),
    );
}

fn decode_ok(ty: &Type, raw: &Option<Vec<u8>>) -> Value {
    pg_types::decode(ty, raw.as_deref().expect("not NULL")).unwrap_or_else(|e| panic!("{ty}: {e}"))
}

#[test]
fn missing_dependencies_are_errors() {
    let row = |cells: &[Option<&str>]| {
        cells
            .iter()
            .map(|c| c.map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let rows = vec![row(&[
        Some("t"),
        Some("90000"),
        Some("d"),
        Some("public"),
        Some("d"),
        Some("90001"),
        None,
        None,
    ])];
    let err = types_from_catalog(&rows).err().unwrap();
    assert!(err.message().contains("90001"), "{err}");
    let bad = vec![row(&[Some("x"), Some("1")])];
    assert!(types_from_catalog(&bad).is_err());
}
