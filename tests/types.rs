//! Every type pg-types supports, through the driver against a real server: `SELECT $1::T`
//! round trips and table columns (each checked three ways: the value read back, the value of
//! the same SQL literal, and the server's text of both), typed access through
//! postgres-types' `FromSql`/`ToSql`, and the errors for wrong parameter and column types.

#[path = "types/cases.rs"]
mod cases;
mod common;
#[path = "types/records.rs"]
mod records;

use std::collections::HashMap;
use std::str::FromStr;

use cases::{Case, Env, REG_EXPRESSIONS, SETUP, composite, exc, inc, range, reg_oid_sql};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use futures::StreamExt;
use pg_driver::{Connection, First};
use pg_exceptions::{CheckError, ColumnError, Error, OperationError, ParameterError};
use pg_types::{Row, Type, Value};
use postgres_types::{FromSql, IsNull, ToSql, to_sql_checked};
use rust_decimal::Decimal;

/// The tests that create the hstore extension take turns: an extension exists once per
/// database, and a sandbox's is dropped with it.
static HSTORE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const HSTORE_SQL: &str = "CREATE EXTENSION IF NOT EXISTS hstore";

fn hstore_failed(e: impl std::fmt::Display) -> ! {
    panic!(
        "CREATE EXTENSION hstore failed; the hstore cases need PostgreSQL's contrib \
         package installed on the server: {e}"
    )
}

/// Creates the sandbox's types and reads the server's reg* OIDs.
async fn setup(db: &Connection) -> Env {
    db.execute(HSTORE_SQL)
        .await
        .unwrap_or_else(|e| hstore_failed(e));
    db.execute(SETUP).await.expect("the sandbox's types");
    let mut reg_oids = HashMap::new();
    for (ty, expr) in REG_EXPRESSIONS {
        let ps = db.prepare(&reg_oid_sql(ty, expr)).await.unwrap();
        let oid: u32 = ps.first(()).await.unwrap();
        reg_oids.insert(((*ty).to_owned(), (*expr).to_owned()), oid);
    }
    Env { reg_oids }
}

/// `SELECT $1::T` beside the same value from SQL, and the server's text of both.
fn echo_sql(case: &Case) -> String {
    let Case { ty, expr, .. } = case;
    format!(
        "SELECT $1::{ty} AS echoed, ($1::{ty})::text AS echoed_text, \
         ({expr})::{ty} AS literal, (({expr})::{ty})::text AS literal_text, \
         {}::regtype::oid AS type_oid",
        cases::quote(ty)
    )
}

/// Checks one execution of [`echo_sql`]: the parameter's type is `T`'s, the value read back
/// and the literal's value are the expected value, and the server printed both alike (so
/// the server received the value meant, not merely one this side decodes back the same).
fn check_echo(case: &Case, parameter_oid: u32, row: &Row) -> Result<(), String> {
    let fail = |what: String| Err(format!("{case} sent as {:?}: {what}", case.sent));
    let type_oid: u32 = row.try_get("type_oid").map_err(|e| e.to_string())?;
    if parameter_oid != type_oid {
        return fail(format!(
            "parameter type {parameter_oid}, the type is {type_oid}"
        ));
    }
    let echoed = row.value("echoed").map_err(|e| format!("{case}: {e}"))?;
    let literal = row.value("literal").map_err(|e| format!("{case}: {e}"))?;
    let echoed_text: Option<String> = row.try_get("echoed_text").map_err(|e| e.to_string())?;
    let literal_text: Option<String> = row.try_get("literal_text").map_err(|e| e.to_string())?;
    if echoed != case.expected {
        return fail(format!(
            "read back {echoed:?}, expected {:?}",
            case.expected
        ));
    }
    if literal != case.expected {
        return fail(format!(
            "the literal reads as {literal:?}, expected {:?}",
            case.expected
        ));
    }
    if echoed_text != literal_text {
        return fail(format!(
            "the server printed the parameter as {echoed_text:?}, the literal as {literal_text:?}"
        ));
    }
    Ok(())
}

/// Fails with every failure listed, not just the first.
fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} {what} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn echo(db: &Connection, case: &Case, value: Value) -> Result<Row, String> {
    let ps = db
        .prepare(&echo_sql(case))
        .await
        .map_err(|e| format!("{case}: prepare: {e}"))?;
    let mut results = ps.call([value]).await.map_err(|e| format!("{case}: {e}"))?;
    Ok(results.rows.remove(0))
}

#[tokio::test]
async fn every_type_round_trips_as_a_parameter() {
    let _turn = HSTORE.lock().await;
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let env = setup(&db).await;
    let mut failures = Vec::new();
    let mut types_seen = Vec::new();
    for case in cases::cases(&env) {
        let ps = match db.prepare(&echo_sql(&case)).await {
            Ok(ps) => ps,
            Err(e) => {
                failures.push(format!("{case}: prepare: {e}"));
                continue;
            }
        };
        let parameter_oid = ps.pg_parameter_types()[0];
        match ps.call([case.sent.clone()]).await {
            Ok(results) => {
                if let Err(f) = check_echo(&case, parameter_oid, &results.rows[0]) {
                    failures.push(f);
                }
            }
            Err(e) => failures.push(format!("{case} sent as {:?}: {e}", case.sent)),
        }
        // NULL, once per type.
        if !types_seen.contains(&case.ty) {
            types_seen.push(case.ty.clone());
            match echo(&db, &case, Value::Null).await {
                Ok(row) => {
                    let echoed = row.value("echoed");
                    let text: Result<Option<String>, _> = row.try_get("echoed_text");
                    if !matches!(echoed, Ok(Value::Null)) || !matches!(text, Ok(None)) {
                        failures.push(format!("{}: NULL came back as {echoed:?}", case.ty));
                    }
                }
                Err(e) => failures.push(format!("NULL {e}")),
            }
        }
    }
    assert_no_failures("parameter round trips", &failures);
    assert!(types_seen.len() > 70, "{} types", types_seen.len());
}

#[tokio::test]
async fn every_type_round_trips_through_table_columns() {
    let _turn = HSTORE.lock().await;
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let env = setup(&db).await;
    let cases = cases::cases(&env);
    let columns: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| format!("c{i} {}", c.ty))
        .collect();
    db.execute(&format!(
        "CREATE TABLE everything (id int4 PRIMARY KEY, {})",
        columns.join(", ")
    ))
    .await
    .unwrap();
    let placeholders: Vec<String> = (1..=cases.len() + 1).map(|i| format!("${i}")).collect();
    let insert = db
        .prepare(&format!(
            "INSERT INTO everything VALUES ({})",
            placeholders.join(", ")
        ))
        .await
        .unwrap();
    // The parameter types come from the columns.
    let parameter_types = insert.pg_parameter_types();
    let with_id = |id: i32, values: Vec<Value>| {
        let mut row = vec![Value::Int4(id)];
        row.extend(values);
        row
    };
    let sent: Vec<Value> = cases.iter().map(|c| c.sent.clone()).collect();
    let nulls = vec![Value::Null; cases.len()];
    // One row through `call`, then a row of values and a row of NULLs through the pipelined
    // `load_rows`.
    let inserted = insert.call(with_id(1, sent.clone())).await.unwrap();
    assert_eq!(inserted.count, Some(1));
    let loaded = insert
        .load_rows([with_id(2, sent), with_id(3, nulls)])
        .await
        .unwrap();
    assert_eq!(loaded, 2);

    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let ps = db
            .prepare(&format!(
                "SELECT id, c{i} AS v, c{i}::text AS v_text, (({})::{})::text AS literal_text, \
                 {}::regtype::oid AS type_oid FROM everything ORDER BY id",
                case.expr,
                case.ty,
                cases::quote(&case.ty)
            ))
            .await
            .unwrap();
        let rows = ps.call(()).await.unwrap().rows;
        assert_eq!(rows.len(), 3);
        // The parameter's type is the column's (a domain's own, though the column
        // reads as its base type).
        let type_oid: u32 = rows[0].get("type_oid");
        if parameter_types[i + 1] != type_oid {
            failures.push(format!(
                "{case}: parameter type {} for a column of type {type_oid}",
                parameter_types[i + 1]
            ));
        }
        for row in &rows[..2] {
            let id: i32 = row.get("id");
            let v = row.value("v").map_err(|e| e.to_string());
            let v_text: Option<String> = row.get("v_text");
            let literal_text: Option<String> = row.get("literal_text");
            if v.as_ref() != Ok(&case.expected) {
                failures.push(format!(
                    "{case} in row {id}: read back {v:?}, expected {:?}",
                    case.expected
                ));
            } else if v_text != literal_text {
                failures.push(format!(
                    "{case} in row {id}: stored as {v_text:?}, the literal is {literal_text:?}"
                ));
            }
        }
        if !matches!(rows[2].value("v"), Ok(Value::Null)) {
            failures.push(format!("{}: a NULL column reads {:?}", case.ty, rows[2]));
        }
    }
    assert_no_failures("table columns", &failures);

    // The whole row at once, dynamically and as a sequence.
    let row = db
        .prepare("SELECT * FROM everything WHERE id = 1")
        .await
        .unwrap()
        .first::<First, _>(())
        .await
        .unwrap();
    let First::Row(row) = row else {
        panic!("{row:?}")
    };
    let mut expected = vec![Value::Int4(1)];
    expected.extend(cases.iter().map(|c| c.expected.clone()));
    assert!(row == expected, "{row:?}");
}

#[tokio::test]
async fn anonymous_records_decode_and_feed_composite_parameters() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(SETUP).await.unwrap();
    let ps = db
        .prepare(
            "SELECT ROW(1, 'a') AS pair, \
             ROW(1, ROW(2.5, ARRAY[1, NULL]), NULL::text, ROW()) AS nested, \
             ARRAY[ROW(1, 'x'), NULL, ROW(2, NULL)] AS records",
        )
        .await
        .unwrap();
    assert_eq!(ps.column_types()[0], Type::RECORD);
    assert_eq!(ps.column_types()[2], Type::RECORD_ARRAY);
    let row = ps.call(()).await.unwrap().rows.remove(0);
    let pair = row.value("pair").unwrap();
    assert_eq!(
        pair,
        composite(vec![Value::Int4(1), Value::from("a")]),
        "{pair:?}"
    );
    // An anonymous record's attributes are named as PostgreSQL names them.
    assert_eq!(pair.as_row().unwrap().column_names(), ["f1", "f2"]);
    assert_eq!(
        row.value("nested").unwrap(),
        composite(vec![
            Value::Int4(1),
            composite(vec![
                Value::Numeric(pg_types::Numeric::parse("2.5").unwrap()),
                Value::from(vec![Some(1), None]),
            ]),
            Value::Null,
            composite(vec![]),
        ])
    );
    assert_eq!(
        row.value("records").unwrap(),
        Value::from(vec![
            composite(vec![Value::Int4(1), Value::from("x")]),
            Value::Null,
            composite(vec![Value::Int4(2), Value::Null]),
        ])
    );
    // A record read from the server is a parameter for a composite type of the same shape.
    let echo = db
        .prepare("SELECT $1::pair AS p, ($1::pair).b AS b, ($1::pair)::text AS t")
        .await
        .unwrap();
    let back = echo.call([pair.clone()]).await.unwrap().rows.remove(0);
    assert_eq!(back.value("p").unwrap(), pair);
    assert_eq!(back.get::<&str>("b"), "a");
    assert_eq!(back.get::<&str>("t"), "(1,a)");
    // And so is one built in Rust, with NULLs.
    let built = composite(vec![Value::Int8(7), Value::Null]);
    let back = echo.call([built]).await.unwrap().rows.remove(0);
    assert_eq!(
        back.value("p").unwrap(),
        composite(vec![Value::Int4(7), Value::Null])
    );
    assert_eq!(back.get::<&str>("t"), "(7,)");
    // The wrong number of attributes is refused before anything is sent.
    let err = echo
        .call([composite(vec![Value::Int4(1)])])
        .await
        .unwrap_err();
    assert!(err.is_a(&ParameterError), "{err}");
    assert!(err.message().contains("$1"), "{err}");
}

#[tokio::test]
async fn types_without_a_binary_codec_travel_as_text() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let ps = db
        .prepare(
            "SELECT 'a fat cat'::tsvector AS v, '0/16B3748'::pg_lsn AS lsn, \
             ARRAY['x'::tsvector] AS vs, 1 AS one",
        )
        .await
        .unwrap();
    let row = ps.call(()).await.unwrap().rows.remove(0);
    let v = row.value("v").unwrap();
    assert!(
        matches!(&v, Value::Unknown { text: Some(t), .. } if t == "'a' 'cat' 'fat'"),
        "{v:?}"
    );
    assert_eq!(row.get::<String>("v"), "'a' 'cat' 'fat'");
    assert_eq!(row.get::<&str>("lsn"), "0/16B3748");
    assert_eq!(row.get::<String>("vs"), "{'x'}");
    assert_eq!(row.get::<i32>("one"), 1);
    // The text form goes back to the server as text, beside binary parameters.
    let echo = db
        .prepare("SELECT $1::tsvector::text AS t, $2::int4 AS n, $3::pg_lsn - '0/0' AS bytes")
        .await
        .unwrap();
    let lsn = row.value("lsn").unwrap();
    let back = echo
        .call(vec![v.clone(), Value::Int4(-1), lsn])
        .await
        .unwrap()
        .rows
        .remove(0);
    assert_eq!(back.get::<&str>("t"), "'a' 'cat' 'fat'");
    assert_eq!(back.get::<i32>("n"), -1);
    assert_eq!(
        back.value("bytes").unwrap(),
        Value::Numeric(pg_types::Numeric::parse("23803720").unwrap())
    );
    // And through the pipelined load.
    db.execute("CREATE TABLE docs (id int4, body tsvector)")
        .await
        .unwrap();
    let insert = db
        .prepare("INSERT INTO docs VALUES ($1, $2)")
        .await
        .unwrap();
    let loaded = insert
        .load_rows((1..=3).map(|i| [Value::Int4(i), v.clone()]))
        .await
        .unwrap();
    assert_eq!(loaded, 3);
    let bodies = db
        .prepare("SELECT count(*) FROM docs WHERE body = $1")
        .await
        .unwrap();
    assert_eq!(bodies.first::<i64, _>([v]).await.unwrap(), 3);
}

/// A user's own type, read and written through postgres-types' traits.
#[derive(Debug, PartialEq)]
struct Mood(String);

impl<'a> FromSql<'a> for Mood {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Mood, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Mood(std::str::from_utf8(raw)?.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "mood"
    }
}

impl ToSql for Mood {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "mood"
    }

    to_sql_checked!();
}

#[tokio::test]
async fn typed_access_through_from_sql_and_to_sql() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(SETUP).await.unwrap();
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let moment: NaiveDateTime = day.and_hms_micro_opt(12, 34, 56, 789_012).unwrap();
    let instant: DateTime<Utc> = moment.and_utc();
    let clock = NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap();
    let price = Decimal::from_str("-123.4500").unwrap();
    let ps = db
        .prepare(
            "SELECT $1::int8 AS big, $2::text AS name, $3::numeric AS price, $4::date AS day, \
             $5::timestamp AS moment, $6::timestamptz AS instant, $7::time AS clock, \
             $8::int4[] AS ints, $9::bytea AS bytes, $10::float8 AS ratio, $11::int4 AS nothing, \
             $12::mood AS mood",
        )
        .await
        .unwrap();
    let row = ps
        .call((
            i64::MIN,
            "héllo",
            price,
            day,
            moment,
            instant,
            clock,
            vec![1i32, -2, i32::MAX],
            vec![0u8, 255],
            0.1f64,
            None::<i32>,
            Mood("happy ☺".into()),
        ))
        .await
        .unwrap()
        .rows
        .remove(0);
    assert_eq!(row.get::<i64>("big"), i64::MIN);
    assert_eq!(row.try_get::<String>(1).unwrap(), "héllo");
    assert_eq!(row.get::<&str>("name"), "héllo");
    let read: Decimal = row.get("price");
    assert_eq!(read, price);
    assert_eq!(read.to_string(), "-123.4500", "the scale is kept");
    assert_eq!(row.get::<NaiveDate>("day"), day);
    assert_eq!(row.get::<NaiveDateTime>("moment"), moment);
    assert_eq!(row.get::<DateTime<Utc>>("instant"), instant);
    assert_eq!(row.get::<NaiveTime>("clock"), clock);
    assert_eq!(row.get::<Vec<i32>>("ints"), [1, -2, i32::MAX]);
    assert_eq!(
        row.get::<Vec<Option<i32>>>("ints"),
        [Some(1), Some(-2), Some(i32::MAX)]
    );
    assert_eq!(row.get::<Vec<u8>>("bytes"), [0, 255]);
    assert_eq!(row.get::<&[u8]>("bytes"), [0, 255]);
    assert_eq!(row.get::<f64>("ratio"), 0.1);
    assert_eq!(row.get::<Option<i32>>("nothing"), None);
    assert_eq!(row.get::<Mood>("mood"), Mood("happy ☺".into()));
    assert_eq!(row.get::<Value>("big"), Value::Int8(i64::MIN));
    assert_eq!(row.get::<Value>("nothing"), Value::Null);

    // Arrays of NULLs, and arrays with NULLs, through Vec<Option<T>>.
    let arrays = db
        .prepare("SELECT $1::int4[] AS a, $2::text[] AS t")
        .await
        .unwrap();
    let row = arrays
        .call((vec![Some(1i32), None], vec![None::<&str>, Some("b")]))
        .await
        .unwrap()
        .rows
        .remove(0);
    assert_eq!(row.get::<Vec<Option<i32>>>("a"), [Some(1), None]);
    assert_eq!(
        row.get::<Vec<Option<String>>>("t"),
        [None, Some("b".into())]
    );

    // first::<Option<T>>: a value, a NULL, and no row at all.
    let ps = db
        .prepare(
            "SELECT CASE WHEN x = 2 THEN NULL ELSE x END FROM generate_series(1, 3) x WHERE x = $1",
        )
        .await
        .unwrap();
    assert_eq!(ps.first::<Option<i32>, _>((3i32,)).await.unwrap(), Some(3));
    assert_eq!(ps.first::<Option<i32>, _>((2i32,)).await.unwrap(), None);
    assert_eq!(ps.first::<Option<i32>, _>((7i32,)).await.unwrap(), None);
    assert_eq!(ps.first::<i32, _>((1i32,)).await.unwrap(), 1);
    let err = ps.first::<i32, _>((7i32,)).await.unwrap_err();
    assert!(err.is_a(&OperationError), "{err}");
    // Typed first over the dynamic types.
    let ps = db.prepare("SELECT $1::numeric").await.unwrap();
    let huge = pg_types::Numeric::parse("340282366920938463463374607431768211456").unwrap();
    assert_eq!(
        ps.first::<Value, _>([Value::Numeric(huge.clone())])
            .await
            .unwrap(),
        Value::Numeric(huge)
    );
    assert_eq!(
        ps.first::<Decimal, _>((Decimal::MAX,)).await.unwrap(),
        Decimal::MAX
    );
}

#[tokio::test]
async fn wrong_parameter_types_name_the_position_and_both_types() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(SETUP).await.unwrap();
    let ps = db
        .prepare("SELECT $1::int4 AS a, $2::int4 AS b")
        .await
        .unwrap();
    let refused = |err: Error, position: &str, words: &[&str]| {
        assert!(err.is_a(&ParameterError), "{err}");
        assert!(err.message().contains(position), "{err}");
        for word in words {
            assert!(err.message().contains(word), "{word} in {err}");
        }
        assert_eq!(err.statement(), Some("SELECT $1::int4 AS a, $2::int4 AS b"));
    };
    // A Rust String for an int4.
    let err = ps.call(("12".to_string(), 1i32)).await.unwrap_err();
    refused(err, "$1", &["int4", "String"]);
    // A Rust i64 for an int4: postgres-types refuses the width.
    let err = ps.call((1i32, 5i64)).await.unwrap_err();
    refused(err, "$2", &["int4", "i64"]);
    // A Value::Int8 that overflows int4.
    let err = ps
        .call([Value::Int4(1), Value::Int8(5_000_000_000)])
        .await
        .unwrap_err();
    refused(err, "$2", &["int4", "int8", "out of range"]);
    // A Value::Text is not parsed into a number.
    let err = ps
        .call(vec![Value::from("1"), Value::Int4(1)])
        .await
        .unwrap_err();
    refused(err, "$1", &["int4", "text"]);
    // One value too few.
    let err = ps.call((1i32,)).await.unwrap_err();
    assert!(err.is_a(&ParameterError), "{err}");
    // Containers name the element or attribute at fault.
    let arrays = db.prepare("SELECT $1::int2[]").await.unwrap();
    let err = arrays
        .call([Value::from(vec![1i32, 70_000])])
        .await
        .unwrap_err();
    refused_any(&err, &["$1", "element 2", "70000"]);
    let composites = db.prepare("SELECT $1::inner_t").await.unwrap();
    let err = composites
        .call([composite(vec![Value::Int4(1), Value::Int4(2)])])
        .await
        .unwrap_err();
    refused_any(&err, &["$1", "inner_t", "label"]);
    let ranges = db.prepare("SELECT $1::int4range").await.unwrap();
    let err = ranges
        .call([range(inc(Value::from("a")), exc(Value::Int4(2)))])
        .await
        .unwrap_err();
    refused_any(&err, &["$1", "int4range", "lower bound"]);
    // Nothing was sent: the connection goes on.
    assert_eq!(
        ps.first::<i32, _>((4i32, 5i32)).await.unwrap(),
        4,
        "the connection is usable"
    );
    // Domain checks are the server's.
    let domain = db.prepare("SELECT $1::pct").await.unwrap();
    let err = domain.call((101i32,)).await.unwrap_err();
    assert!(err.is_a(&CheckError), "{err}");
    let err = domain.call((0i32,)).await.unwrap_err();
    assert!(err.is_a(&CheckError), "{err}");
    assert_eq!(domain.first::<i32, _>((100i32,)).await.unwrap(), 100);
}

fn refused_any(err: &Error, words: &[&str]) {
    assert!(err.is_a(&ParameterError), "{err}");
    for word in words {
        assert!(err.message().contains(word), "{word} in {err}");
    }
}

#[tokio::test]
async fn undecodable_columns_name_the_column() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    let ps = db
        .prepare(
            "SELECT 'x'::text AS label, NULL::int4 AS missing, 'NaN'::numeric AS nan, \
             'infinity'::timestamp AS forever, '{{1,2},{3,4}}'::int4[] AS matrix, \
             '5874897-12-31'::date AS last_day, 2147483647::int4 AS big",
        )
        .await
        .unwrap();
    let row = ps.call(()).await.unwrap().rows.remove(0);
    let column_error = |err: Error, column: &str, words: &[&str]| {
        assert!(err.is_a(&ColumnError), "{err}");
        assert!(err.message().contains(&format!("{column:?}")), "{err}");
        for word in words {
            assert!(err.message().contains(word), "{word} in {err}");
        }
    };
    column_error(
        row.try_get::<i32>("label").unwrap_err(),
        "label",
        &["i32", "text"],
    );
    column_error(row.try_get::<i32>(0).unwrap_err(), "label", &["i32"]);
    column_error(
        row.try_get::<i32>("missing").unwrap_err(),
        "missing",
        &["i32"],
    );
    column_error(
        row.try_get::<Decimal>("nan").unwrap_err(),
        "nan",
        &["Decimal"],
    );
    column_error(
        row.try_get::<NaiveDateTime>("forever").unwrap_err(),
        "forever",
        &["NaiveDateTime"],
    );
    column_error(
        row.try_get::<Vec<i32>>("matrix").unwrap_err(),
        "matrix",
        &["Vec<i32>"],
    );
    column_error(row.try_get::<i16>("big").unwrap_err(), "big", &["i16"]);
    // A date beyond chrono's range is an error for its column, whichever way it is read.
    column_error(row.value("last_day").unwrap_err(), "last_day", &["date"]);
    column_error(
        row.try_get::<NaiveDate>("last_day").unwrap_err(),
        "last_day",
        &[],
    );
    // The dynamic reads of the others work.
    assert_eq!(
        row.value("forever").unwrap(),
        Value::Timestamp(pg_types::Timestamp::Infinity)
    );
    assert_eq!(row.get::<Option<i32>>("missing"), None);
    let err = row.try_get::<i32>("no_such_column").unwrap_err();
    assert!(err.is_a(&ColumnError), "{err}");
    assert!(err.message().contains("no_such_column"), "{err}");
    // `first` of a type the column cannot be read as.
    let err = db
        .prepare("SELECT 'x'::text AS label")
        .await
        .unwrap()
        .first::<i64, _>(())
        .await
        .unwrap_err();
    column_error(err, "label", &["i64"]);
}

#[tokio::test]
async fn streams_decode_containers_row_by_row() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(SETUP).await.unwrap();
    let ps = db
        .prepare(
            "SELECT i, ARRAY[i, NULL] AS arr, ROW(i, i::text)::inner_t AS pair, \
             int4range(i, i + $1) AS r, ('{\"n\": ' || i || '}')::jsonb AS j \
             FROM generate_series(1, $2) i",
        )
        .await
        .unwrap();
    let n = 10_000;
    let mut rows = ps.rows((10i32, n)).unwrap();
    let mut count = 0;
    while let Some(row) = rows.next().await {
        let row = row.unwrap();
        count += 1;
        let i: i32 = row.get("i");
        assert_eq!(i, count);
        assert_eq!(row.get::<Vec<Option<i32>>>("arr"), [Some(i), None]);
        assert_eq!(
            row.value("pair").unwrap(),
            composite(vec![Value::Int4(i), Value::from(i.to_string())])
        );
        assert_eq!(
            row.value("r").unwrap(),
            range(inc(Value::Int4(i)), exc(Value::Int4(i + 10)))
        );
        assert_eq!(
            row.value("j").unwrap(),
            Value::Jsonb(format!("{{\"n\": {i}}}"))
        );
    }
    assert_eq!(count, n);
    let mut chunks = ps.chunks((1i32, n)).unwrap();
    let mut seen = 0;
    while let Some(chunk) = chunks.next().await {
        for row in chunk.unwrap() {
            seen += 1;
            assert_eq!(row.get::<i32>(0), seen);
        }
    }
    assert_eq!(seen, n);
    let column: Vec<Value> = ps
        .column((1i32, 3i32))
        .unwrap()
        .map(|v| v.unwrap())
        .collect()
        .await;
    assert_eq!(column, [Value::Int4(1), Value::Int4(2), Value::Int4(3)]);
}

/// The cases the blocking facade runs: one or more of each family.
const BLOCKING_TYPES: &[&str] = &[
    "int8",
    "numeric",
    "bytea",
    "timestamp",
    "timestamptz",
    "date",
    "interval",
    "int4[]",
    "int4range",
    "int4multirange",
    "outer_t",
    "pct",
    "hstore",
    "mood",
    "regclass",
];

#[test]
fn the_blocking_facade_round_trips_types() {
    let _turn = HSTORE.blocking_lock();
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute(HSTORE_SQL).unwrap_or_else(|e| hstore_failed(e));
    db.execute(SETUP).unwrap();
    let mut reg_oids = HashMap::new();
    for (ty, expr) in REG_EXPRESSIONS {
        let oid: u32 = db
            .prepare(&reg_oid_sql(ty, expr))
            .unwrap()
            .first(())
            .unwrap();
        reg_oids.insert(((*ty).to_owned(), (*expr).to_owned()), oid);
    }
    let cases: Vec<Case> = cases::cases(&Env { reg_oids })
        .into_iter()
        .filter(|c| BLOCKING_TYPES.contains(&c.ty.as_str()))
        .collect();
    assert!(cases.len() > 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let ps = db.prepare(&echo_sql(case)).unwrap();
        let parameter_oid = ps.pg_parameter_types()[0];
        match ps.call([case.sent.clone()]) {
            Ok(mut results) => {
                if let Err(f) = check_echo(case, parameter_oid, &results.rows.remove(0)) {
                    failures.push(f);
                }
            }
            Err(e) => failures.push(format!("{case}: {e}")),
        }
    }
    assert_no_failures("blocking round trips", &failures);

    // A table of composites, loaded in one pipelined batch and read through the iterator.
    db.execute("CREATE TABLE things (id int8 PRIMARY KEY, thing outer_t, during tstzrange)")
        .unwrap();
    let outer = cases
        .iter()
        .find(|c| c.ty == "outer_t")
        .unwrap()
        .expected
        .clone();
    let during = range(
        inc(Value::TimestampTz(pg_types::TimestampTz::NegInfinity)),
        pg_types::RangeBound::Unbounded,
    );
    let insert = db
        .prepare("INSERT INTO things VALUES ($1, $2, $3)")
        .unwrap();
    let loaded = insert
        .load_rows((0..100i64).map(|i| {
            [
                Value::Int8(i),
                if i % 2 == 0 {
                    outer.clone()
                } else {
                    Value::Null
                },
                during.clone(),
            ]
        }))
        .unwrap();
    assert_eq!(loaded, 100);
    let select = db
        .prepare("SELECT id, thing, during FROM things ORDER BY id")
        .unwrap();
    let mut count = 0;
    for row in select.rows(()).unwrap() {
        let row = row.unwrap();
        let id: i64 = row.get("id");
        assert_eq!(id, count);
        let expected = if id % 2 == 0 {
            outer.clone()
        } else {
            Value::Null
        };
        assert_eq!(row.value("thing").unwrap(), expected);
        assert_eq!(row.value(2).unwrap(), during);
        count += 1;
    }
    assert_eq!(count, 100);

    // Typed reads and both error kinds.
    let ps = db.prepare("SELECT $1::int4 AS n, $2::date AS d").unwrap();
    let day = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
    let row = ps.call((i32::MIN, day)).unwrap().rows.remove(0);
    assert_eq!(row.get::<i32>("n"), i32::MIN);
    assert_eq!(row.get::<NaiveDate>("d"), day);
    assert_eq!(
        ps.first::<Option<i32>, _>((None::<i32>, day)).unwrap(),
        None
    );
    let err = ps.call(("1", day)).unwrap_err();
    assert!(err.is_a(&ParameterError), "{err}");
    assert!(
        err.message().contains("$1") && err.message().contains("int4"),
        "{err}"
    );
    let err = row.try_get::<String>("n").unwrap_err();
    assert!(
        err.is_a(&ColumnError) && err.message().contains("\"n\""),
        "{err}"
    );
}

#[tokio::test]
async fn decimals_and_timestamps_read_as_the_server_writes_them() {
    let db = common::connect().await;
    // Each numeric with the server's text of it: what the direct decoder takes (most of
    // these) and what it leaves to rust_decimal (huge, deep, special) must read the same.
    let rows = db
        .query(
            "SELECT n, n::text AS text FROM (VALUES ('0'::numeric), ('0.000'), ('-0.50'), \
             ('123.4500'), ('1e-20'), ('10000'), ('-99999999999999999999.99999'), \
             ('12345678901234567890123456'), ('79228162514264337593543950335'), \
             ('0.1234567890123456789012345678'), ('1.00000000000000000000000000001'), \
             (NULL)) AS t(n)",
            (),
        )
        .await
        .unwrap()
        .rows;
    assert_eq!(rows.len(), 12);
    for row in &rows {
        let text: Option<String> = row.get("text");
        let read: Option<Decimal> = row.get("n");
        match text {
            None => assert_eq!(read, None),
            Some(text) => {
                let expected = Decimal::from_str(&text)
                    .or_else(|_| Decimal::from_scientific(&text))
                    .unwrap_or_else(|_| Decimal::from_str_exact(&text).unwrap());
                let read = read.unwrap();
                assert_eq!(read, expected, "{text}");
                if text.len() < 28 {
                    assert_eq!(read.to_string(), text, "the server's scale kept");
                }
                assert_eq!(row.get::<Decimal>("n"), read);
            }
        }
    }
    let rows = db
        .query(
            "SELECT t, (extract(epoch FROM t) * 1000000)::int8 AS micros FROM (VALUES \
             ('2000-01-01 00:00:00+00'::timestamptz), ('1970-01-01 00:00:00.000001+00'), \
             ('1899-12-31 23:59:59.999999+00'), ('2262-04-11 23:47:16.854775+00'), \
             ('4713-11-24 00:00:00+00 BC'), ('262000-06-15 12:00:00.5+00')) AS v(t)",
            (),
        )
        .await
        .unwrap()
        .rows;
    for row in &rows {
        let micros: i64 = row.get("micros");
        let instant: DateTime<Utc> = row.get("t");
        assert_eq!(instant.timestamp_micros(), micros);
        assert_eq!(row.get::<Option<DateTime<Utc>>>("t"), Some(instant));
        let naive: NaiveDateTime = db
            .query_first("SELECT $1::timestamptz AT TIME ZONE 'UTC'", (instant,))
            .await
            .unwrap();
        assert_eq!(naive, instant.naive_utc());
    }
    // Beyond chrono's years, and the infinities: errors, not wrong instants.
    let row = db
        .query(
            "SELECT '294276-12-31 23:59:59+00'::timestamptz AS far, \
             'infinity'::timestamptz AS inf, '-infinity'::timestamptz AS ninf",
            (),
        )
        .await
        .unwrap()
        .rows
        .remove(0);
    for name in ["far", "inf", "ninf"] {
        assert!(row.try_get::<DateTime<Utc>>(name).is_err(), "{name}");
    }
}
