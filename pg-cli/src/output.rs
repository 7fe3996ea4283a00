//! What results print as beside the tables of [`crate::print`]: cells' text, row counts,
//! command tags and JSON lines.

use pg_exceptions::{Error, TypeIOError};
use pg_types::{Row, Value};

/// A value as a table or CSV cell: the server's text form; `None` for NULL.
pub fn cell_text(value: &Value) -> Option<String> {
    value.to_pg_text()
}

/// `(1 row)`, `(3 rows)`: the count printed under a table of a query's rows.
pub fn row_count(rows: usize) -> String {
    if rows == 1 {
        "(1 row)".to_owned()
    } else {
        format!("({rows} rows)")
    }
}

/// The command tag as the server sent it, rebuilt from its command and count:
/// `INSERT 0 1`, `UPDATE 3`, `CREATE TABLE`.
pub fn command_tag(command: &str, count: Option<u64>) -> String {
    match count {
        Some(count) if command == "INSERT" => format!("INSERT 0 {count}"),
        Some(count) => format!("{command} {count}"),
        None => command.to_owned(),
    }
}

/// A row as one line of JSON: an object of column names to values, through pg-types'
/// `Serialize` in serde_json's form (see pg-types' crate docs, "Serde"): NULL as `null`,
/// booleans, integers, finite floats and numerics as numbers (numerics digit for digit),
/// `json`/`jsonb` as themselves (on one line), arrays as (nested) arrays, composites and
/// hstore as objects, anything else as a string of its PostgreSQL text form (`NaN`, dates,
/// intervals, `\x…` for bytea). A repeated column name is given a suffix (`?column?`,
/// `?column?_2`) so that no value is lost.
pub fn json_row(row: &Row) -> Result<String, Error> {
    serde_json::to_string(row).map_err(|e| Error::client(&TypeIOError, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pg_types::{Array, Column, Columns, Numeric, Type};

    fn row(values: Vec<(&str, Type, Value)>) -> Row {
        let columns = Columns::new(
            values
                .iter()
                .map(|(name, ty, _)| Column::new(*name, ty.clone()))
                .collect(),
        );
        Row::from_values(columns, values.into_iter().map(|(_, _, v)| v).collect())
    }

    #[test]
    fn json_uses_natural_types() {
        let array = Array::from_values(Type::INT4, vec![Value::Int4(1), Value::Null]);
        let inner = row(vec![("x", Type::INT4, Value::Int4(7))]);
        let r = row(vec![
            ("?column?", Type::INT8, Value::Int8(-5)),
            ("?column?", Type::BOOL, Value::Bool(true)),
            (
                "n",
                Type::NUMERIC,
                Value::Numeric(Numeric::parse("12.50").unwrap()),
            ),
            ("nan", Type::NUMERIC, Value::Numeric(Numeric::NaN)),
            ("f", Type::FLOAT8, Value::Float8(0.25)),
            ("s", Type::TEXT, Value::Text("quote \" and \n".into())),
            ("null", Type::TEXT, Value::Null),
            ("arr", Type::INT4_ARRAY, Value::Array(array)),
            (
                "j",
                Type::JSONB,
                Value::Json("{\"a\": [1, \"b c\"],\n \"d\": null}".into()),
            ),
            ("rec", Type::RECORD, Value::Composite(inner)),
            ("bytes", Type::BYTEA, Value::Bytea(vec![0xde, 0xad])),
        ]);
        let line = json_row(&r).unwrap();
        assert_eq!(
            line,
            r#"{"?column?":-5,"?column?_2":true,"n":12.50,"nan":"NaN","f":0.25,"#.to_owned()
                + r#""s":"quote \" and \n","null":null,"arr":[1,null],"#
                + r#""j":{"a":[1,"b c"],"d":null},"rec":{"x":7},"bytes":"\\xdead"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["arr"][0], 1);
        // Floats are serde_json's (the shortest text that reads back the same float; a
        // whole one keeps its `.0`), where the hand-written writer printed Rust's Display
        // (`1`, `0.0000001`): the same numbers.
        let floats = row(vec![
            ("whole", Type::FLOAT8, Value::Float8(1.0)),
            ("small", Type::FLOAT4, Value::Float4(1e-7)),
        ]);
        assert_eq!(json_row(&floats).unwrap(), r#"{"whole":1.0,"small":1e-7}"#);
    }

    #[test]
    fn row_counts_and_tags() {
        assert_eq!(row_count(1), "(1 row)");
        assert_eq!(row_count(0), "(0 rows)");
        assert_eq!(command_tag("INSERT", Some(1)), "INSERT 0 1");
        assert_eq!(command_tag("UPDATE", Some(3)), "UPDATE 3");
        assert_eq!(command_tag("CREATE TABLE", None), "CREATE TABLE");
    }
}
