//! The postgres-types features a user turns on in their own Cargo.toml, through this driver
//! against a real server: `with-uuid-1`, `with-serde_json-1` (`Json<T>`), `with-time-0_3`,
//! `with-cidr-0_3` and `derive` (Rust enums ↔ PostgreSQL enums, structs ↔ composite types).
//! Each type goes in as a parameter and comes back in results, read by `Row::try_get` and
//! `query_first`. The README's "Your own types" and pg-types' crate docs point here.

mod common;

use cidr::{IpCidr, IpInet};
use pg_driver::Connection;
use pg_exceptions::ColumnError;
use postgres_types::{FromSql, Json, ToSql};
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, UtcOffset};
use uuid::Uuid;

async fn first_row(db: &Connection, sql: &str, params: impl pg_api::Params) -> pg_types::Row {
    db.query(sql, params).await.expect(sql).rows.remove(0)
}

#[tokio::test]
async fn uuid_round_trips() {
    let db = common::connect().await;
    let id = Uuid::from_u128(0x1234_5678_9abc_def0_0fed_cba9_8765_4321);
    let back: Uuid = db.query_first("SELECT $1::uuid", (id,)).await.unwrap();
    assert_eq!(back, id);
    let row = first_row(
        &db,
        "SELECT $1::uuid AS id, $1::uuid::text AS text, NULL::uuid AS none, \
         'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid AS literal",
        (id,),
    )
    .await;
    assert_eq!(row.try_get::<Uuid>("id").unwrap(), id);
    assert_eq!(row.try_get::<String>("text").unwrap(), id.to_string());
    assert_eq!(row.try_get::<Option<Uuid>>("none").unwrap(), None);
    let literal: Uuid = row.try_get("literal").unwrap();
    assert_eq!(literal.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    // Not a uuid column: an error naming the column, not a wrong value.
    let err = first_row(&db, "SELECT 'x'::text AS t", ())
        .await
        .try_get::<Uuid>("t")
        .unwrap_err();
    assert!(err.is_a(&ColumnError), "{err}");
    assert!(err.to_string().contains("\"t\""), "{err}");
}

/// A document stored as JSON by serde.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: i64,
    items: Vec<String>,
    note: Option<String>,
}

#[tokio::test]
async fn json_of_a_serde_struct_as_parameter_and_result() {
    let db = common::connect().await;
    let order = Order {
        id: 42,
        items: vec!["tea".into(), "scones ☺".into()],
        note: None,
    };
    for ty in ["json", "jsonb"] {
        let Json(back): Json<Order> = db
            .query_first(&format!("SELECT $1::{ty}"), (Json(&order),))
            .await
            .unwrap();
        assert_eq!(back, order, "{ty}");
    }
    // The server sees a document, not a string.
    let row = first_row(
        &db,
        "SELECT ($1::jsonb ->> 'id')::int8 AS id, jsonb_array_length($1::jsonb -> 'items') AS n, \
         $1::jsonb AS doc, '{\"id\": 7, \"items\": [], \"note\": \"hi\"}'::json AS literal",
        (Json(&order),),
    )
    .await;
    assert_eq!(row.try_get::<i64>("id").unwrap(), 42);
    assert_eq!(row.try_get::<i32>("n").unwrap(), 2);
    assert_eq!(row.try_get::<Json<Order>>("doc").unwrap().0, order);
    let Json(literal): Json<Order> = row.try_get("literal").unwrap();
    assert_eq!(literal.note.as_deref(), Some("hi"));
    // serde_json::Value, untyped.
    let doc: serde_json::Value = row.try_get("doc").unwrap();
    assert_eq!(doc["items"][1], "scones ☺");
    let stored: i64 = db
        .query_first(
            "SELECT ($1::jsonb -> 'x')::int8",
            (serde_json::json!({"x": 5}),),
        )
        .await
        .unwrap();
    assert_eq!(stored, 5);
}

#[tokio::test]
async fn time_offset_date_time_and_date() {
    let db = common::connect().await;
    // 2024-02-29 12:34:56.789012 UTC, given at +05:30.
    let instant = (OffsetDateTime::from_unix_timestamp(1_709_210_096).unwrap()
        + time::Duration::microseconds(789_012))
    .to_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
    let back: OffsetDateTime = db
        .query_first("SELECT $1::timestamptz", (instant,))
        .await
        .unwrap();
    assert_eq!(back, instant, "the same instant");
    assert_eq!(back.offset(), UtcOffset::UTC, "read back in UTC");
    let row = first_row(
        &db,
        "SELECT ($1::timestamptz AT TIME ZONE 'UTC')::text AS utc, \
         '2024-02-29 12:34:56.789012+00'::timestamptz AS literal, $2::date AS day",
        (
            instant,
            Date::from_calendar_date(2024, Month::February, 29).unwrap(),
        ),
    )
    .await;
    assert_eq!(
        row.try_get::<String>("utc").unwrap(),
        "2024-02-29 12:34:56.789012"
    );
    assert_eq!(row.try_get::<OffsetDateTime>("literal").unwrap(), instant);
    assert_eq!(
        row.try_get::<Date>("day").unwrap(),
        Date::from_calendar_date(2024, Month::February, 29).unwrap()
    );
}

#[tokio::test]
async fn cidr_and_inet() {
    let db = common::connect().await;
    let net: IpCidr = "10.1.0.0/16".parse().unwrap();
    let host: IpInet = "10.1.2.3/24".parse().unwrap();
    let row = first_row(
        &db,
        "SELECT $1::cidr AS net, $2::inet AS host, $2::inet << $1::cidr AS inside, \
         $1::cidr::text AS net_text, '2001:db8::1/64'::inet AS v6",
        (net, host),
    )
    .await;
    assert_eq!(row.try_get::<IpCidr>("net").unwrap(), net);
    assert_eq!(row.try_get::<IpInet>("host").unwrap(), host);
    assert!(row.try_get::<bool>("inside").unwrap());
    assert_eq!(row.try_get::<String>("net_text").unwrap(), "10.1.0.0/16");
    let v6: IpInet = row.try_get("v6").unwrap();
    assert_eq!(v6.to_string(), "2001:db8::1/64");
    let masked: IpCidr = db
        .query_first("SELECT network($1::inet)", (host,))
        .await
        .unwrap();
    assert_eq!(masked.to_string(), "10.1.2.0/24");
}

/// A PostgreSQL enum (`CREATE TYPE mood AS ENUM …`), by label.
#[derive(Debug, Clone, Copy, PartialEq, ToSql, FromSql)]
#[postgres(name = "mood", rename_all = "lowercase")]
enum Mood {
    Sad,
    Ok,
    Happy,
}

/// A composite type (`CREATE TYPE line_item AS (…)`), by attribute name.
#[derive(Debug, Clone, PartialEq, ToSql, FromSql)]
#[postgres(name = "line_item")]
struct LineItem {
    product: String,
    quantity: i32,
    mood: Mood,
    note: Option<String>,
}

#[tokio::test]
async fn derived_enums_and_composites() {
    let sandbox = common::temporal().sandbox().unwrap();
    let db = sandbox.connect().await.unwrap();
    db.execute(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); \
         CREATE TYPE line_item AS (product text, quantity int4, mood mood, note text); \
         CREATE TABLE orders (id int4, item line_item, moods mood[])",
    )
    .await
    .unwrap();
    let item = LineItem {
        product: "tea".into(),
        quantity: 3,
        mood: Mood::Happy,
        note: None,
    };
    // Parameters: a composite, an enum and an array of enums.
    db.query(
        "INSERT INTO orders VALUES (1, $1, $2), (2, ROW('scones', 1, $3, 'warm'), '{}')",
        (item.clone(), vec![Mood::Happy, Mood::Sad], Mood::Ok),
    )
    .await
    .unwrap();
    // Results: each read back by try_get, beside the server's own text of it.
    let row = first_row(
        &db,
        "SELECT item, moods, (item).mood AS mood, item::text AS text, moods::text AS moods_text \
         FROM orders WHERE id = 1",
        (),
    )
    .await;
    assert_eq!(row.try_get::<LineItem>("item").unwrap(), item);
    assert_eq!(
        row.try_get::<Vec<Mood>>("moods").unwrap(),
        [Mood::Happy, Mood::Sad]
    );
    assert_eq!(row.try_get::<Mood>("mood").unwrap(), Mood::Happy);
    assert_eq!(row.try_get::<String>("text").unwrap(), "(tea,3,happy,)");
    assert_eq!(row.try_get::<String>("moods_text").unwrap(), "{happy,sad}");
    let second: LineItem = db
        .query_first("SELECT item FROM orders WHERE id = 2", ())
        .await
        .unwrap();
    assert_eq!(second.mood, Mood::Ok);
    assert_eq!(second.note.as_deref(), Some("warm"));
    // query_first with a parameter of each, and the server's order of the enum's labels.
    let echoed: LineItem = db
        .query_first("SELECT $1::line_item", (item.clone(),))
        .await
        .unwrap();
    assert_eq!(echoed, item);
    let later: bool = db
        .query_first("SELECT $1::mood > $2::mood", (Mood::Happy, Mood::Sad))
        .await
        .unwrap();
    assert!(later);
    // A label the Rust enum lacks: an error, not a wrong variant.
    db.execute("ALTER TYPE mood ADD VALUE 'meh'").await.unwrap();
    let fresh = sandbox.connect().await.unwrap();
    let err = fresh
        .query_first::<Mood, _>("SELECT 'meh'::mood", ())
        .await
        .unwrap_err();
    assert!(err.is_a(&ColumnError), "{err}");
    assert!(err.to_string().contains("foreign_types::Mood"), "{err}");
}
