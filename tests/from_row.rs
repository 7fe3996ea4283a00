//! Rows into structs (`#[derive(FromRow)]`, issue 25) against a real server: mixed types
//! (int8, text, timestamptz, numeric as `Decimal`, bool, bytea, NULL into `Option`, a user's
//! `FromSql` enum and newtype), `rename`, `rename_all`, `default`, `flatten`, `try_from`,
//! tuple structs; the errors of a missing column, a wrong type, a NULL, a refused
//! conversion; through the async driver, the blocking facade and both sessions.

mod common;

use std::error::Error as StdError;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use futures::TryStreamExt;
use pg_exceptions::{ColumnError, Error};
use pg_session::{AsyncSession, Session};
use postgres_types::{FromSql, Kind, Type};
use postgresql::FromRow;
use rust_decimal::Decimal;

/// A user's enum, read through its own `FromSql` from the server's `mood` enum.
#[derive(Debug, PartialEq)]
enum Mood {
    Sad,
    Happy,
}

impl<'a> FromSql<'a> for Mood {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Mood, Box<dyn StdError + Sync + Send>> {
        match raw {
            b"sad" => Ok(Mood::Sad),
            b"happy" => Ok(Mood::Happy),
            other => Err(format!("no mood {:?}", String::from_utf8_lossy(other)).into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "mood" && matches!(ty.kind(), Kind::Enum(_))
    }
}

/// A user's newtype over text.
#[derive(Debug, PartialEq)]
struct Email(String);

impl<'a> FromSql<'a> for Email {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Email, Box<dyn StdError + Sync + Send>> {
        let text = String::from_sql(ty, raw)?;
        match text.contains('@') {
            true => Ok(Email(text)),
            false => Err(format!("{text:?} is not an email address").into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <String as FromSql>::accepts(ty)
    }
}

#[derive(FromRow, Debug, PartialEq)]
struct Address {
    city: String,
    #[pg(rename = "zip_code")]
    zip: Option<String>,
}

#[derive(FromRow, Debug, PartialEq)]
struct Person {
    id: i64,
    name: String,
    born: DateTime<Utc>,
    balance: Decimal,
    active: bool,
    avatar: Vec<u8>,
    nickname: Option<String>,
    mood: Mood,
    #[pg(rename = "email_address")]
    email: Email,
    #[pg(try_from = "i32")]
    score: u8,
    /// No query selects it.
    #[pg(default)]
    rank: i32,
    #[pg(flatten)]
    address: Address,
}

/// The same columns, by position.
#[derive(FromRow, Debug, PartialEq)]
struct Pair(i64, #[pg(try_from = "i32")] u8);

#[derive(FromRow, Debug, PartialEq)]
#[pg(rename_all = "camelCase")]
struct Camel {
    person_id: i64,
    email_address: String,
}

const SETUP: &str = "
    CREATE TYPE mood AS ENUM ('sad', 'happy');
    CREATE TABLE people (
        id int8 PRIMARY KEY, name text NOT NULL, born timestamptz NOT NULL,
        balance numeric NOT NULL, active bool NOT NULL, avatar bytea NOT NULL, nickname text,
        mood mood NOT NULL, email_address text NOT NULL, score int4 NOT NULL,
        city text NOT NULL, zip_code text
    );
    INSERT INTO people VALUES
        (1, 'Ada', '1815-12-10 12:00:00+00', 1234.5678, true, '\\x0001ff', NULL, 'happy',
         'ada@example.org', 200, 'London', 'W1'),
        (2, 'Grace', '1906-12-09 06:30:00+00', -0.01, false, '', 'Amazing', 'sad',
         'grace@example.org', 7, 'New York', NULL),
        (3, 'Edsger', '1930-05-11 00:00:00+00', 0, true, '\\x2a', NULL, 'sad',
         'edsger@example.org', 300, 'Nuenen', NULL);
";

const PEOPLE: &str = "SELECT * FROM people WHERE id < 3 ORDER BY id";

fn ada() -> Person {
    Person {
        id: 1,
        name: "Ada".into(),
        born: Utc.with_ymd_and_hms(1815, 12, 10, 12, 0, 0).unwrap(),
        balance: Decimal::from_str("1234.5678").unwrap(),
        active: true,
        avatar: vec![0, 1, 0xff],
        nickname: None,
        mood: Mood::Happy,
        email: Email("ada@example.org".into()),
        score: 200,
        rank: 0,
        address: Address {
            city: "London".into(),
            zip: Some("W1".into()),
        },
    }
}

fn grace() -> Person {
    Person {
        id: 2,
        name: "Grace".into(),
        born: Utc.with_ymd_and_hms(1906, 12, 9, 6, 30, 0).unwrap(),
        balance: Decimal::from_str("-0.01").unwrap(),
        active: false,
        avatar: vec![],
        nickname: Some("Amazing".into()),
        mood: Mood::Sad,
        email: Email("grace@example.org".into()),
        score: 7,
        rank: 0,
        address: Address {
            city: "New York".into(),
            zip: None,
        },
    }
}

/// The checks of one failure's error.
type Check = fn(&Error);

/// Queries for `Person`s that must fail, each with the checks of its error: every one a
/// ColumnError naming the field, its Rust type and the column, in the statement's context.
fn failures() -> Vec<(&'static str, Check)> {
    vec![
        // A missing column.
        ("SELECT id, born FROM people", |error| {
            assert!(
                error
                    .message()
                    .starts_with("Person.name (String): no column name"),
                "{error}"
            );
            assert_eq!(error.column(), Some("name"));
            assert_eq!(error.datatype(), None);
        }),
        // A type the field cannot take.
        (
            "SELECT 'x'::text AS id, name, born, balance, active, avatar, nickname, mood, \
             email_address, score, city, zip_code FROM people",
            |error| {
                assert!(error.message().starts_with("Person.id (i64): "), "{error}");
                assert!(
                    error
                        .message()
                        .contains("cannot be read as the Rust type i64"),
                    "{error}"
                );
                assert_eq!(error.column(), Some("id"));
                assert_eq!(error.datatype(), Some("text"));
            },
        ),
        // A NULL for a field that is not an Option.
        (
            "SELECT id, NULL::text AS name, born, balance, active, avatar, nickname, mood, \
             email_address, score, city, zip_code FROM people",
            |error| {
                assert!(
                    error.message().starts_with("Person.name (String): "),
                    "{error}"
                );
                assert_eq!(error.column(), Some("name"));
            },
        ),
        // A value try_from refuses: 300 is no u8.
        ("SELECT * FROM people WHERE id = 3", |error| {
            assert!(
                error.message().starts_with("Person.score (u8): "),
                "{error}"
            );
            assert!(
                error.message().contains(
                    "column \"score\" of type int4: the i32 value cannot be converted to u8: \
                     out of range"
                ),
                "{error}"
            );
            assert_eq!(error.column(), Some("score"));
            assert_eq!(error.datatype(), Some("int4"));
        }),
        // The user's own type refusing a value.
        (
            "SELECT id, name, born, balance, active, avatar, nickname, mood, \
             'nobody' AS email_address, score, city, zip_code FROM people",
            |error| {
                assert!(
                    error.message().starts_with("Person.email (Email): "),
                    "{error}"
                );
                assert!(
                    error
                        .message()
                        .contains("\"nobody\" is not an email address"),
                    "{error}"
                );
                assert_eq!(error.column(), Some("email_address"));
            },
        ),
        // A flattened struct's field names the outer field too.
        (
            "SELECT id, name, born, balance, active, avatar, nickname, mood, email_address, \
             score, zip_code FROM people",
            |error| {
                assert!(
                    error.message().starts_with(
                        "Person.address (Address, flattened): Address.city (String): no column city"
                    ),
                    "{error}"
                );
                assert_eq!(error.column(), Some("city"));
            },
        ),
    ]
}

/// Checks what a query of [`failures`] gave.
fn check_failure(sql: &str, check: Check, result: Result<Vec<Person>, Error>) {
    let error = result.expect_err(sql);
    assert!(error.is_a(&ColumnError), "{error}");
    assert!(error.statement().is_some(), "{error:?}");
    check(&error);
}

#[tokio::test]
async fn the_async_driver_reads_rows_into_structs() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(SETUP).await.unwrap();

    let people: Vec<Person> = db.query_as(PEOPLE, ()).await.unwrap();
    assert_eq!(people, [ada(), grace()]);

    let first: Option<Person> = db
        .query_first_as("SELECT * FROM people WHERE id = $1", (2i64,))
        .await
        .unwrap();
    assert_eq!(first, Some(grace()));
    let none: Option<Person> = db
        .query_first_as("SELECT * FROM people WHERE id = $1", (99i64,))
        .await
        .unwrap();
    assert_eq!(none, None);

    let streamed: Vec<Person> = db
        .query_rows_as(PEOPLE, ())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, [ada(), grace()]);

    let cached: Vec<Person> = db.query_cached_as(PEOPLE, ()).await.unwrap();
    assert_eq!(cached, [ada(), grace()]);

    let values: &[(&str, &(dyn postgres_types::ToSql + Sync))] = &[("id", &1i64)];
    let named: Vec<Person> = db
        .query_named_as("SELECT * FROM people WHERE id = %(id)s", values)
        .await
        .unwrap();
    assert_eq!(named, [ada()]);

    let ps = db.prepare(PEOPLE).await.unwrap();
    assert_eq!(ps.call_as::<Person, _>(()).await.unwrap(), [ada(), grace()]);
    assert_eq!(ps.first_as::<Person, _>(()).await.unwrap(), Some(ada()));
    let mut rows = ps.rows_as::<Person, _>(()).unwrap();
    assert_eq!(rows.try_next().await.unwrap(), Some(ada()));
    assert_eq!(rows.try_next().await.unwrap(), Some(grace()));
    assert_eq!(rows.try_next().await.unwrap(), None);

    // A scrollable cursor's reads.
    let cursor = db
        .query_declare("SELECT * FROM people ORDER BY id", ())
        .await
        .unwrap();
    assert_eq!(cursor.next_as::<Person>().await.unwrap(), Some(ada()));
    assert_eq!(
        cursor.read_as::<Person>(Some(1), None).await.unwrap(),
        [grace()]
    );
    let error = cursor.read_as::<Person>(None, None).await.unwrap_err();
    assert_eq!(error.column(), Some("score"), "Edsger's 300 is no u8");
    assert_eq!(cursor.next_as::<Person>().await.unwrap(), None);
    cursor.seek(0, pg_driver::Whence::Absolute).await.unwrap();
    let first: Option<(i64, String)> = cursor.next_as().await.unwrap();
    assert_eq!(first, Some((1, "Ada".to_string())));

    // By position: a tuple struct and a tuple.
    let pairs: Vec<Pair> = db
        .query_as("SELECT id, score FROM people WHERE id < 3 ORDER BY id", ())
        .await
        .unwrap();
    assert_eq!(pairs, [Pair(1, 200), Pair(2, 7)]);
    let tuples: Vec<(String, Option<String>)> = db
        .query_as("SELECT name, nickname FROM people ORDER BY id", ())
        .await
        .unwrap();
    assert_eq!(
        tuples[1],
        ("Grace".to_string(), Some("Amazing".to_string()))
    );

    // rename_all.
    let camel: Option<Camel> = db
        .query_first_as(
            r#"SELECT id AS "personId", email_address AS "emailAddress" FROM people WHERE id = 1"#,
            (),
        )
        .await
        .unwrap();
    assert_eq!(
        camel,
        Some(Camel {
            person_id: 1,
            email_address: "ada@example.org".into()
        })
    );

    // The default's column, when there, is read.
    let ranked: Vec<Person> = db
        .query_as("SELECT *, 5 AS rank FROM people WHERE id = 1", ())
        .await
        .unwrap();
    assert_eq!(ranked[0].rank, 5);

    // The stream reports a row that does not fit and goes on.
    let mut rows = db
        .query_rows_as::<Person, _>("SELECT * FROM people ORDER BY id DESC", ())
        .await
        .unwrap();
    let error = rows.try_next().await.unwrap_err();
    assert_eq!(error.column(), Some("score"));
    assert_eq!(rows.try_next().await.unwrap(), Some(grace()));

    for (sql, check) in failures() {
        check_failure(sql, check, db.query_as::<Person, _>(sql, ()).await);
        let first = db
            .query_first_as::<Person, _>(sql, ())
            .await
            .map(Vec::from_iter);
        check_failure(sql, check, first);
    }
}

#[test]
fn the_blocking_facade_reads_rows_into_structs() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect_blocking().unwrap();
    db.execute(SETUP).unwrap();

    assert_eq!(
        db.query_as::<Person, _>(PEOPLE, ()).unwrap(),
        [ada(), grace()]
    );
    let first: Option<Person> = db
        .query_first_as("SELECT * FROM people WHERE id = $1", (2i64,))
        .unwrap();
    assert_eq!(first, Some(grace()));
    let streamed = db
        .query_rows_as::<Person, _>(PEOPLE, ())
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(streamed, [ada(), grace()]);
    assert_eq!(
        db.query_cached_as::<Person, _>(PEOPLE, ()).unwrap(),
        [ada(), grace()]
    );
    let values: &[(&str, &(dyn postgres_types::ToSql + Sync))] = &[("id", &2i64)];
    let named: Vec<Person> = db
        .query_named_as("SELECT * FROM people WHERE id = :id", values)
        .unwrap();
    assert_eq!(named, [grace()]);

    let cursor = db
        .query_declare("SELECT * FROM people ORDER BY id", ())
        .unwrap();
    assert_eq!(
        cursor.read_as::<Person>(Some(2), None).unwrap(),
        [ada(), grace()]
    );
    let error = cursor.next_as::<Person>().unwrap_err();
    assert_eq!(error.column(), Some("score"), "Edsger's 300 is no u8");
    assert_eq!(cursor.next_as::<Person>().unwrap(), None);

    let ps = db.prepare(PEOPLE).unwrap();
    assert_eq!(ps.call_as::<Person, _>(()).unwrap(), [ada(), grace()]);
    assert_eq!(ps.first_as::<Person, _>(()).unwrap(), Some(ada()));
    // Pair reads columns 0 and 1 by position: here id and name, and name is no int4.
    let mut rows = ps.rows_as::<Pair, _>(()).unwrap();
    let error = rows.next().unwrap().unwrap_err();
    assert!(
        error.message().starts_with("Pair.1 (u8 from i32): "),
        "{error}"
    );
    let pairs = db
        .prepare("SELECT id, score FROM people ORDER BY id")
        .unwrap()
        .rows_as::<Pair, _>(())
        .unwrap()
        .collect::<Vec<_>>();
    assert_eq!(pairs[0].as_ref().unwrap(), &Pair(1, 200));
    let error = pairs[2].as_ref().unwrap_err();
    assert!(error.message().starts_with("Pair.1 (u8): "), "{error}");
    assert_eq!(error.column(), Some("score"));
    assert!(pairs[..2].iter().all(Result::is_ok) && pairs.len() == 3);

    for (sql, check) in failures() {
        check_failure(sql, check, db.query_as::<Person, _>(sql, ()));
        let streamed = db
            .query_rows_as::<Person, _>(sql, ())
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>());
        check_failure(sql, check, streamed);
    }
}

#[test]
fn a_session_reads_rows_into_structs() {
    let sandbox = common::temporal().sandbox().unwrap();
    sandbox.connect_blocking().unwrap().execute(SETUP).unwrap();
    // The session's rows are mappings; query_as reads the driver's rows all the same.
    let session = Session::new(&sandbox.uri()).unwrap();
    assert_eq!(
        session.query_as::<Person, _>(PEOPLE, ()).unwrap(),
        [ada(), grace()]
    );
    let values: &[(&str, &(dyn postgres_types::ToSql + Sync))] = &[("id", &1i64)];
    let named: Vec<Person> = session
        .query_named_as("SELECT * FROM people WHERE id = %(id)s", values)
        .unwrap();
    assert_eq!(named, [ada()]);
    for (sql, check) in failures() {
        check_failure(sql, check, session.query_as::<Person, _>(sql, ()));
    }
    // A row that did not fit leaves the session as it was.
    let pairs: Vec<Pair> = session
        .query_as("SELECT id, score FROM people WHERE id = $1", (2i64,))
        .unwrap();
    assert_eq!(pairs, [Pair(2, 7)]);
    assert_eq!(session.query(PEOPLE, ()).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_session_reads_rows_into_structs() {
    let sandbox = common::temporal().sandbox().unwrap();
    sandbox
        .connect()
        .await
        .unwrap()
        .execute(SETUP)
        .await
        .unwrap();
    let session = AsyncSession::new(&sandbox.uri()).unwrap();
    assert_eq!(
        session.query_as::<Person, _>(PEOPLE, ()).await.unwrap(),
        [ada(), grace()]
    );
    let values: &[(&str, &(dyn postgres_types::ToSql + Sync))] = &[("id", &2i64)];
    let named: Vec<Person> = session
        .query_named_as("SELECT * FROM people WHERE id = :id", values)
        .await
        .unwrap();
    assert_eq!(named, [grace()]);
    for (sql, check) in failures() {
        check_failure(sql, check, session.query_as::<Person, _>(sql, ()).await);
    }

    // Pipelined: the second run of a statement takes a seat on a shared connection.
    let piped = AsyncSession::builder(format!("{}&application_name=from_row_lanes", sandbox.uri()))
        .pipeline_depth(4)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            piped.query_as::<Person, _>(PEOPLE, ()).await.unwrap(),
            [ada(), grace()]
        );
    }
    let error = piped
        .query_as::<Person, _>("SELECT * FROM people WHERE id = 3", ())
        .await
        .unwrap_err();
    assert_eq!(error.column(), Some("score"));
}
