//! Stored procedures against a real server: every result shape, lookup by text and OID, errors.

mod common;

use futures::StreamExt;
use pg_driver::{ProcResult, StoredProcedure};
use pg_exceptions::{OperationError, ParameterError, UndefinedFunctionError};
use pg_types::Value;

const FUNCTIONS: &str = "
    CREATE TYPE pair AS (x int, y text);
    CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
    CREATE FUNCTION series(n int) RETURNS SETOF int LANGUAGE sql AS 'SELECT generate_series(1, n)';
    CREATE FUNCTION make_pair(x int, y text) RETURNS pair LANGUAGE sql AS 'SELECT ROW(x, y)::pair';
    CREATE FUNCTION outs(i int, OUT doubled int, OUT label text) LANGUAGE sql
        AS 'SELECT i * 2, ''n'' || i';
    CREATE FUNCTION pairs(n int) RETURNS SETOF pair LANGUAGE sql
        AS 'SELECT i, ''p'' || i FROM generate_series(1, n) i';
    CREATE FUNCTION tbl(n int) RETURNS TABLE (k int, v text) LANGUAGE sql
        AS 'SELECT i, ''t'' || i FROM generate_series(1, n) i';
    CREATE FUNCTION over(int) RETURNS text LANGUAGE sql AS 'SELECT ''int''';
    CREATE FUNCTION over(text) RETURNS text LANGUAGE sql AS 'SELECT ''text''';
    CREATE FUNCTION \"Odd Name\"(t text) RETURNS text LANGUAGE sql AS 'SELECT upper(t)';
    CREATE FUNCTION vsum(VARIADIC xs int[]) RETURNS int LANGUAGE sql
        AS 'SELECT sum(x)::int FROM unnest(xs) x';
    CREATE TABLE log (v text);
    CREATE FUNCTION nothing(v text) RETURNS void LANGUAGE plpgsql
        AS 'BEGIN INSERT INTO log VALUES (v); END';
    CREATE PROCEDURE bump(INOUT n int) LANGUAGE plpgsql AS 'BEGIN n := n + 1; END';
    CREATE PROCEDURE record_it(v text) LANGUAGE sql AS 'INSERT INTO log VALUES (v)';
    CREATE FUNCTION anon() RETURNS record LANGUAGE sql AS 'SELECT 1, 2';
    CREATE TABLE keep (i int);
    CREATE DOMAIN checked_pair AS pair CHECK ((VALUE).x > 0);
    CREATE FUNCTION domain_pair() RETURNS checked_pair LANGUAGE sql AS 'SELECT ROW(1, ''d'')::pair';
";

async fn values(result: ProcResult) -> Vec<Value> {
    match result {
        ProcResult::Values(stream) => stream.map(|v| v.unwrap()).collect().await,
        other => panic!("expected values, got {other:?}"),
    }
}

async fn rows(result: ProcResult) -> Vec<(i32, String)> {
    match result {
        ProcResult::Rows(stream) => {
            stream
                .map(|r| {
                    let r = r.unwrap();
                    (r.get::<i32>(0), r.get::<String>(1))
                })
                .collect()
                .await
        }
        other => panic!("expected rows, got {other:?}"),
    }
}

fn value(result: ProcResult) -> Value {
    match result {
        ProcResult::Value(v) => v,
        other => panic!("expected a value, got {other:?}"),
    }
}

async fn call_value(proc: &StoredProcedure, args: Vec<Value>) -> Value {
    value(proc.call(args).await.unwrap())
}

#[tokio::test]
async fn scalar_functions_give_their_value() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(FUNCTIONS).await.unwrap();
    let version = db.proc("version()").await.unwrap();
    match value(version.call(()).await.unwrap()) {
        Value::Text(text) => assert!(text.starts_with("PostgreSQL"), "{text}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(version.schema(), "pg_catalog");
    let add = db.proc("add(int, int)").await.unwrap();
    assert_eq!(add.procedure_id(), "add(integer,integer)");
    assert_eq!((add.name(), add.schema()), ("add", sandbox.schema()));
    assert_eq!(add.input_names(), ["a", "b"]);
    assert_eq!(add.input_types(), [postgres_types::Type::INT4; 2]);
    assert!(!add.srf() && !add.composite());
    // The call names the function by its catalog name, quoted, never by the text given.
    assert_eq!(
        add.statement().string(),
        format!(
            "SELECT * FROM \"{}\".\"add\"($1::\"pg_catalog\".\"int4\", $2::\"pg_catalog\".\"int4\")",
            sandbox.schema()
        )
    );
    assert_eq!(value(add.call((1i32, 2i32)).await.unwrap()), Value::Int4(3));
    assert_eq!(
        add.statement()
            .first::<i32, _>((20i32, 22i32))
            .await
            .unwrap(),
        42
    );
    // NULL in, NULL out (the function is not strict, but int + NULL is NULL).
    let null: Option<i32> = None;
    assert_eq!(value(add.call((null, 1i32)).await.unwrap()), Value::Null);
    // The name alone, when not overloaded.
    let by_name = db.proc("add").await.unwrap();
    assert_eq!(by_name.oid(), add.oid());
}

#[tokio::test]
async fn by_oid_and_by_qualified_text() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(FUNCTIONS).await.unwrap();
    let oid: u32 = db
        .query_first("SELECT 'add(int,int)'::regprocedure::oid", ())
        .await
        .unwrap();
    let add = db.proc(oid).await.unwrap();
    assert_eq!(add.oid(), oid);
    assert_eq!(add.procedure_id(), "add(integer,integer)");
    let qualified = format!("{}.add(integer, integer)", sandbox.schema());
    assert_eq!(db.proc(&qualified).await.unwrap().oid(), oid);
    assert_eq!(
        call_value(&add, vec![Value::Int4(2), Value::Int4(5)]).await,
        Value::Int4(7)
    );
    let error = db.proc(4_000_000_000u32).await.unwrap_err();
    assert!(error.is_a(&UndefinedFunctionError), "{error}");
}

#[tokio::test]
async fn set_returning_functions_stream() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(FUNCTIONS).await.unwrap();
    let series = db.proc("series(int)").await.unwrap();
    assert!(series.srf() && !series.composite());
    let got = values(series.call((3i32,)).await.unwrap()).await;
    assert_eq!(got, [Value::Int4(1), Value::Int4(2), Value::Int4(3)]);
    assert!(values(series.call((0i32,)).await.unwrap()).await.is_empty());
    let pairs = db.proc("pairs(int)").await.unwrap();
    assert!(pairs.srf() && pairs.composite());
    assert_eq!(
        rows(pairs.call((2i32,)).await.unwrap()).await,
        [(1, "p1".to_owned()), (2, "p2".to_owned())]
    );
    let tbl = db.proc("tbl(int)").await.unwrap();
    assert_eq!(
        rows(tbl.call((2i32,)).await.unwrap()).await,
        [(1, "t1".to_owned()), (2, "t2".to_owned())]
    );
}

#[tokio::test]
async fn composites_and_out_parameters_give_a_row() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(FUNCTIONS).await.unwrap();
    let make_pair = db.proc("make_pair(int, text)").await.unwrap();
    assert!(make_pair.composite() && !make_pair.srf());
    let ProcResult::Row(row) = make_pair.call((7i32, "seven")).await.unwrap() else {
        panic!("a row")
    };
    assert_eq!(row.get::<i32>("x"), 7);
    assert_eq!(row.get::<String>("y"), "seven");
    let outs = db.proc("outs(int)").await.unwrap();
    assert_eq!(outs.input_names(), ["i"]);
    let ProcResult::Row(row) = outs.call((4i32,)).await.unwrap() else {
        panic!("a row")
    };
    assert_eq!(row.get::<i32>("doubled"), 8);
    assert_eq!(row.get::<String>("label"), "n4");
    let domain_pair = db.proc("domain_pair()").await.unwrap();
    assert!(domain_pair.composite());
    let ProcResult::Row(row) = domain_pair.call(()).await.unwrap() else {
        panic!("a row")
    };
    assert_eq!(
        (row.get::<i32>("x"), row.get::<String>("y")),
        (1, "d".to_owned())
    );
}

#[tokio::test]
async fn overloads_quoted_names_variadics_void_and_procedures() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(FUNCTIONS).await.unwrap();
    let over_int = db.proc("over(int)").await.unwrap();
    let over_text = db.proc("over(text)").await.unwrap();
    assert_eq!(
        value(over_int.call((1i32,)).await.unwrap()),
        Value::Text("int".into())
    );
    assert_eq!(
        value(over_text.call(("x",)).await.unwrap()),
        Value::Text("text".into())
    );
    // Overloaded: the name alone is ambiguous.
    assert!(db.proc("over").await.is_err());
    let odd = db.proc("\"Odd Name\"(text)").await.unwrap();
    assert_eq!(odd.name(), "Odd Name");
    assert_eq!(
        value(odd.call(("ab",)).await.unwrap()),
        Value::Text("AB".into())
    );
    let vsum = db.proc("vsum(int[])").await.unwrap();
    assert_eq!(
        value(vsum.call((vec![1i32, 2, 3],)).await.unwrap()),
        Value::Int4(6)
    );
    let nothing = db.proc("nothing(text)").await.unwrap();
    assert_eq!(value(nothing.call(("v",)).await.unwrap()), Value::Null);
    let bump = db.proc("bump(int)").await.unwrap();
    let ProcResult::Row(row) = bump.call((41i32,)).await.unwrap() else {
        panic!("a row")
    };
    assert_eq!(row.get::<i32>("n"), 42);
    let record_it = db.proc("record_it(text)").await.unwrap();
    assert_eq!(value(record_it.call(("p",)).await.unwrap()), Value::Null);
    let logged: i64 = db
        .query_first("SELECT count(*) FROM log", ())
        .await
        .unwrap();
    assert_eq!(logged, 2);
    // Calls that need a query of their own are refused clearly.
    let error = db.proc("anon()").await.unwrap_err();
    assert!(error.is_a(&OperationError), "{error}");
    assert!(error.message().contains("anonymous record"), "{error}");
    let error = db.proc("count(\"any\")").await.unwrap_err();
    assert!(error.message().contains("aggregate"), "{error}");
}

#[tokio::test]
async fn wrong_arguments_are_parameter_errors() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(FUNCTIONS).await.unwrap();
    let add = db.proc("add(int,int)").await.unwrap();
    let error = add.call((1i32,)).await.unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    assert!(
        error
            .message()
            .contains("add(integer,integer) takes 2 arguments, 1 were given"),
        "{error}"
    );
    let error = add.call((1i32, 2i32, 3i32)).await.unwrap_err();
    assert!(error.message().contains("3 were given"), "{error}");
    let error = add.call(("one", 2i32)).await.unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    assert!(error.message().contains("$1"), "{error}");
    // The connection is still fine.
    assert_eq!(value(add.call((1i32, 1i32)).await.unwrap()), Value::Int4(2));
}

#[tokio::test]
async fn hostile_identifiers_error_cleanly() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(FUNCTIONS).await.unwrap();
    for hostile in [
        "add(int,int); DROP TABLE keep; --",
        "add(int,int)); DROP TABLE keep; --",
        "x'; DROP TABLE keep; --",
        "pg_sleep(1) FROM keep; DROP TABLE keep",
        "",
        "no_such_function()",
    ] {
        let error = db.proc(hostile).await.unwrap_err();
        assert!(!error.message().is_empty(), "{hostile}: {error}");
    }
    let error = db.proc("no_such_function(int)").await.unwrap_err();
    assert!(error.is_a(&UndefinedFunctionError), "{error}");
    let count: i64 = db
        .query_first("SELECT count(*) FROM keep", ())
        .await
        .unwrap();
    assert_eq!(count, 0);
    assert_eq!(db.transaction_status(), pg_driver::TransactionStatus::Idle);
}

#[test]
fn blocking_procedures() {
    use pg_driver::blocking::ProcResult;
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute(FUNCTIONS).unwrap();
    let add = db.proc("add(int,int)").unwrap();
    assert!(matches!(
        add.call((2i32, 3i32)).unwrap(),
        ProcResult::Value(Value::Int4(5))
    ));
    let error = add.call((2i32,)).unwrap_err();
    assert!(error.is_a(&ParameterError), "{error}");
    let ProcResult::Values(series) = db.proc("series(int)").unwrap().call((3i32,)).unwrap() else {
        panic!("values")
    };
    let got: Vec<Value> = series.map(Result::unwrap).collect();
    assert_eq!(got, [Value::Int4(1), Value::Int4(2), Value::Int4(3)]);
    let ProcResult::Row(row) = db.proc("outs(int)").unwrap().call((5i32,)).unwrap() else {
        panic!("a row")
    };
    assert_eq!(row.get::<i32>("doubled"), 10);
    let oid = db.proc("pairs(int)").unwrap().oid();
    let ProcResult::Rows(pairs) = db.proc(oid).unwrap().call((2i32,)).unwrap() else {
        panic!("rows")
    };
    let got: Vec<String> = pairs.map(|r| r.unwrap().get::<String>("y")).collect();
    assert_eq!(got, ["p1", "p2"]);
    assert!(db.proc("x; DROP TABLE keep").is_err());
    db.execute("SELECT * FROM keep").unwrap();
}

const NAMED: &str = "
    CREATE FUNCTION greet(who text, greeting text DEFAULT 'hello', \"Punct uation\" text DEFAULT '!')
        RETURNS text LANGUAGE sql AS $$ SELECT greeting || ' ' || who || \"Punct uation\" $$;
    CREATE FUNCTION vnamed(base int, VARIADIC xs int[]) RETURNS int LANGUAGE sql
        AS 'SELECT base + sum(x)::int FROM unnest(xs) x';
    CREATE FUNCTION named_rows(n int, prefix text DEFAULT 'r') RETURNS TABLE (k int, v text)
        LANGUAGE sql AS 'SELECT i, prefix || i FROM generate_series(1, n) i';
    CREATE PROCEDURE named_proc(a int, INOUT total int, b int DEFAULT 10)
        LANGUAGE plpgsql AS 'BEGIN total := a + b; END';
";

#[tokio::test]
async fn procedures_are_called_by_argument_name() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(NAMED).await.unwrap();
    let greet = db.proc("greet(text,text,text)").await.unwrap();
    assert_eq!(greet.input_names(), ["who", "greeting", "Punct uation"]);
    // Named only, in any order; arguments with defaults may be left out.
    let ann = greet.call_named((), &[("who", &"ann")]).await.unwrap();
    assert_eq!(value(ann), Value::from("hello ann!"));
    let bob = greet
        .call_named((), &[("Punct uation", &"?"), ("who", &"bob")])
        .await
        .unwrap();
    assert_eq!(value(bob), Value::from("hello bob?"));
    // Mixed: positional first, then by name.
    let mixed = greet
        .call_named(("cy",), &[("Punct uation", &"." as _)])
        .await
        .unwrap();
    assert_eq!(value(mixed), Value::from("hello cy."));
    // Positional calls still take every argument.
    assert_eq!(
        value(greet.call(("di", "hi", "")).await.unwrap()),
        Value::from("hi di")
    );

    // Refused before anything is sent: an unknown name, a name given twice or also by
    // position, a required argument left out, too many positional values.
    for (positional, named, words) in [
        (
            vec![],
            vec![("nobody", "x")],
            "no argument named \"nobody\"",
        ),
        (
            vec![],
            vec![("who", "x"), ("who", "y")],
            "\"who\" is given twice",
        ),
        (vec!["x"], vec![("who", "y")], "\"who\" is given twice"),
        (vec![], vec![("greeting", "x")], "\"who\" is not given"),
        (
            vec!["a", "b", "c", "d"],
            vec![],
            "takes 3 arguments, 4 were given",
        ),
    ] {
        let positional: Vec<Value> = positional.into_iter().map(Value::from).collect();
        let named: Vec<(&str, &(dyn postgres_types::ToSql + Sync))> =
            named.iter().map(|(n, v)| (*n, v as _)).collect();
        let error = greet.call_named(positional, &named).await.unwrap_err();
        assert!(error.is_a(&ParameterError), "{error}");
        assert!(error.message().contains(words), "{words}: {error}");
    }

    // VARIADIC by name, set-returning functions, procedures with INOUT by name.
    let vnamed = db.proc("vnamed(int,int[])").await.unwrap();
    let sum = vnamed
        .call_named((), &[("xs", &vec![1i32, 2, 3] as _), ("base", &10i32 as _)])
        .await
        .unwrap();
    assert_eq!(value(sum), Value::Int4(16));
    let named_rows = db.proc("named_rows(int,text)").await.unwrap();
    let got = rows(
        named_rows
            .call_named((), &[("n", &2i32 as _)])
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got, [(1, "r1".to_owned()), (2, "r2".to_owned())]);
    let named_proc = db.proc("named_proc(int,int,int)").await.unwrap();
    let ProcResult::Row(row) = named_proc
        .call_named((), &[("total", &0i32 as _), ("a", &5i32 as _)])
        .await
        .unwrap()
    else {
        panic!("a row")
    };
    assert_eq!(row.get::<i32>("total"), 15);
    // The statements a named call prepared are the procedure's: no more are left behind
    // than the shapes of call used.
    drop((greet, vnamed, named_rows, named_proc));
    let left: i64 = db
        .query_first("SELECT count(*) FROM pg_prepared_statements", ())
        .await
        .unwrap();
    assert_eq!(left, 1, "only the count itself");
}

#[test]
fn blocking_procedures_by_argument_name() {
    use pg_driver::blocking::ProcResult;
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute(NAMED).unwrap();
    let greet = db.proc("greet(text,text,text)").unwrap();
    let ProcResult::Value(v) = greet
        .call_named((), &[("greeting", &"hey" as _), ("who", &"eve" as _)])
        .unwrap()
    else {
        panic!("a value")
    };
    assert_eq!(v, Value::from("hey eve!"));
}
