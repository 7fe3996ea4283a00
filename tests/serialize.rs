//! `Serialize` for rows the server sent (the facade's `serde_json` feature, pg-types'):
//! a row of many types written as JSON, and the rows of a query beside the server's own
//! `row_to_json` of them, for the types where PostgreSQL's JSON mapping and ours agree.

mod common;

use futures::StreamExt;

#[tokio::test]
async fn a_row_of_many_types_as_json() {
    let db = common::connect().await;
    let row = db
        .query(
            "SELECT NULL::int4 AS nothing, true AS yes, (-32768)::int2 AS small, \
             9007199254740993::int8 AS big, 0.1::float4 AS f4, 'NaN'::float8 AS nan, \
             12345678901234567890.123456789012345678901::numeric AS exact, 1.50 AS scaled, \
             '-Infinity'::numeric AS ninf, \
             '{\"b\": 1, \"a\": 2,\n \"b\": 3}'::json AS json, \
             '{\"bb\": 1, \"a\": [1, 2.50]}'::jsonb AS jsonb, \
             '[0:1][-1:0]={{1,2},{3,NULL}}'::int4[] AS matrix, ROW(1, 'x') AS rec, \
             '\\xdead'::bytea AS bytes, '1 year 2 days 03:00:00'::interval AS span, \
             '2024-02-29 12:34:56.5+00'::timestamptz AS at, 'infinity'::date AS day, \
             '[1,5)'::int4range AS r, 1 AS a, 2 AS a",
            (),
        )
        .await
        .unwrap()
        .rows
        .remove(0);
    let line = serde_json::to_string(&row).unwrap();
    assert_eq!(
        line,
        r#"{"nothing":null,"yes":true,"small":-32768,"big":9007199254740993,"f4":0.1,"#.to_owned()
            + r#""nan":"NaN","exact":12345678901234567890.123456789012345678901,"#
            + r#""scaled":1.50,"ninf":"-Infinity","json":{"b":1,"a":2,"b":3},"#
            + r#""jsonb":{"a":[1,2.50],"bb":1},"matrix":[[1,2],[3,null]],"#
            + r#""rec":{"f1":1,"f2":"x"},"bytes":"\\xdead","span":"1 year 2 days 03:00:00","#
            + r#""at":"2024-02-29 12:34:56.5+00","day":"infinity","r":"[1,5)","a":1,"a_2":2}"#
    );
    // The portable form: numerics and documents as strings.
    let portable = serde_json::to_value(postgresql::types::Portable(&row)).unwrap();
    assert_eq!(
        portable["exact"],
        "12345678901234567890.123456789012345678901"
    );
    assert_eq!(portable["jsonb"], r#"{"a": [1, 2.50], "bb": 1}"#);
}

#[tokio::test]
async fn rows_agree_with_the_servers_row_to_json() {
    let db = common::connect().await;
    let sql = "SELECT g AS id, g * 1.25 AS num, g % 2 = 0 AS even, 'n\"' || g AS name, \
               NULLIF(g, 2) AS maybe, ARRAY[[g, g + 1], [g + 2, NULL]] AS matrix, \
               ROW(g, ARRAY['x', NULL], ROW(g::numeric / 8, 'in')) AS rec, \
               jsonb_build_object('k', g, 'l', ARRAY['x']) AS doc, \
               format('{\"z\": %s, \"a\": [%s]}', g, g)::json AS raw \
               FROM generate_series(1, 5) g";
    let statement = db
        .prepare(&format!(
            "SELECT row_to_json(t)::text AS server, t.* FROM ({sql}) t"
        ))
        .await
        .unwrap();
    let mut rows = statement.rows(()).unwrap();
    let mut seen = 0;
    while let Some(row) = rows.next().await {
        let row = row.unwrap();
        let server: serde_json::Value = serde_json::from_str(&row.get::<String>("server")).unwrap();
        let mut ours = serde_json::to_value(&row).unwrap();
        ours.as_object_mut().unwrap().remove("server");
        assert_eq!(ours, server);
        seen += 1;
    }
    assert_eq!(seen, 5);
}
