//! Named parameters (`queries`' and psycopg2's `%(name)s`, and `:name`) through `Session` and
//! `AsyncSession`, against a real server.

mod common;

use common::{R, temporal, uri};
use pg_exceptions::ParameterError;
use pg_session::{AsyncSession, Record, Session};
use pg_string::{PlaceholderError, PlaceholderErrorKind};
use pg_types::{ToSql, Value};

const HOSTILE: &str = "'; DROP TABLE notes; -- \\' %(id)s :id %% $1";

/// Placeholder look-alikes in every kind of quote and comment, and real ones among them.
const LOOK_ALIKES: &str = "SELECT %(id)s::int AS id, '%(id)s :id %%' AS single, \
    E'\\\\ %(id)s' AS escape, $$ :id $$ AS dollar, 1 AS \":id\", 10 %% 4 AS modulo, \
    %(id)s::int * 2 AS twice -- %(gone)s\n/* :gone /* %(gone)s */ */";

fn placeholder_kind(error: &pg_exceptions::Error) -> PlaceholderErrorKind {
    assert!(error.is_a(&ParameterError), "{error}");
    error
        .cause()
        .and_then(|cause| cause.downcast_ref::<PlaceholderError>())
        .unwrap_or_else(|| panic!("a placeholder error: {error:?}"))
        .kind()
        .clone()
}

fn check_look_alikes(record: &Record) {
    assert_eq!(record["id"], Value::Int4(3));
    assert_eq!(record["single"], Value::Text("%(id)s :id %%".into()));
    assert_eq!(record["escape"], Value::Text("\\ %(id)s".into()));
    assert_eq!(record["dollar"], Value::Text(" :id ".into()));
    assert_eq!(record[":id"], Value::Int4(1));
    assert_eq!(record["modulo"], Value::Int4(2));
    assert_eq!(record["twice"], Value::Int4(6));
}

#[test]
fn a_session_takes_named_parameters() -> R {
    let sandbox = temporal().sandbox()?;
    let session = Session::new(&uri(&sandbox, "named_session"))?;
    session.query("CREATE TABLE notes (id int PRIMARY KEY, note text)", ())?;

    let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &3i32), ("unused", &"x")];
    let results = session.query_named(LOOK_ALIKES, values)?;
    check_look_alikes(&results.as_dict()?);
    assert!(
        results
            .query()
            .starts_with("SELECT $1::int AS id, '%(id)s :id %%'")
    );

    // A value that would do harm as text goes as data, and reads back whole.
    let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &1i32), ("note", &HOSTILE)];
    session.query_named("INSERT INTO notes VALUES (%(id)s, %(note)s)", values)?;
    let back = session.query_named("SELECT * FROM notes WHERE id = :id", values)?;
    let record = back.as_dict()?;
    assert_eq!(record["note"], Value::Text(HOSTILE.into()));

    // A row of one query, as a Record, gives the next its values by name.
    let copied = session.query_named(
        "INSERT INTO notes VALUES (%(id)s + 1, %(note)s::text || '!') RETURNING note",
        &record,
    )?;
    assert_eq!(
        copied.as_dict()?["note"],
        Value::Text(format!("{HOSTILE}!"))
    );
    assert_eq!(
        session
            .query("SELECT count(*) AS n FROM notes", ())?
            .as_dict()?["n"],
        Value::Int8(2)
    );

    let error = session
        .query_named("SELECT %(id)s, %(nope)s", values)
        .unwrap_err();
    assert_eq!(
        placeholder_kind(&error),
        PlaceholderErrorKind::MissingValue("nope".into())
    );
    let error = session
        .query_named("SELECT :id, %(id)s", values)
        .unwrap_err();
    assert_eq!(placeholder_kind(&error), PlaceholderErrorKind::MixedStyles);
    // Nothing reached the server; the session goes on.
    assert_eq!(
        session
            .query_named("SELECT :id::int AS id", values)?
            .as_dict()?["id"],
        Value::Int4(1)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_session_takes_named_parameters() -> R {
    let sandbox = temporal().sandbox()?;
    let session = AsyncSession::builder(uri(&sandbox, "named_async"))
        .pipeline_depth(4)
        .build()?;
    session
        .query("CREATE TABLE notes (id int PRIMARY KEY, note text)", ())
        .await?;

    // The look-alikes hold a backslash: rewritten on the connection that runs them.
    let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &3i32)];
    let results = session.query_named(LOOK_ALIKES, values).await?;
    check_look_alikes(&results.as_dict()?);
    drop(results);

    let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &1i32), ("note", &HOSTILE)];
    session
        .query_named("INSERT INTO notes VALUES (:id, :note)", values)
        .await?;
    // Run often enough to be learnt and pipelined: the rewritten text is what the session
    // knows.
    for _ in 0..3 {
        let back = session
            .query_named("SELECT note FROM notes WHERE id = %(id)s", values)
            .await?;
        assert_eq!(back.as_dict()?["note"], Value::Text(HOSTILE.into()));
    }

    let mut map = std::collections::HashMap::new();
    map.insert("id".to_string(), Value::Int4(1));
    let count = session
        .query_named("SELECT count(*) AS n FROM notes WHERE id = :id", &map)
        .await?;
    assert_eq!(count.as_dict()?["n"], Value::Int8(1));
    drop(count);

    let error = session
        .query_named("SELECT :id, :nope", &map)
        .await
        .unwrap_err();
    assert_eq!(
        placeholder_kind(&error),
        PlaceholderErrorKind::MissingValue("nope".into())
    );
    let error = session
        .query_named(r"SELECT E'\\', :id, $1", &map)
        .await
        .unwrap_err();
    assert_eq!(
        placeholder_kind(&error),
        PlaceholderErrorKind::PositionalParameter
    );
    // The connection taken for the statement with a backslash goes back.
    let mut waited = 0;
    while session.pool().report().busy > 0 {
        waited += 1;
        assert!(waited < 250, "the connection went back");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}
