//! What the driver does while the scripted server answers: each operation is one use of the
//! public interface, chosen so that a real server's answers to it (recorded as seeds) cover
//! the message kinds that use decodes. Results are rendered and every value decoded, so
//! the bytes reach the row and error code as well as the framing.

use std::time::Duration;

use futures::StreamExt;
use pg_driver::{ALock, Connection, First, NotifyEvent, ProcResult, Whence};
use pg_exceptions::Error;
use pg_types::Row;

/// The operations, by name; an input's first byte picks one (modulo their number).
pub const OPS: &[&str] = &[
    "simple",
    "query",
    "first",
    "rows",
    "chunks",
    "column",
    "copy_out",
    "copy_in",
    "load_rows",
    "settings",
    "cursor",
    "notify",
    "error",
    "xact",
    "proc",
    "alock",
];

/// A query whose columns cover the binary codecs (and one text fallback, tsvector).
pub const TYPES_SQL: &str = "SELECT 1::int2 AS a, 2::int4 AS b, 3::int8 AS c, 1.5::float4 AS d, \
    'NaN'::float8 AS e, -12.345::numeric AS f, 'héllo'::text AS g, '\\xdead'::bytea AS h, \
    true AS i, '2000-02-29'::date AS j, '12:34:56.789'::time AS k, '12:00+05:30'::timetz AS l, \
    '2001-02-03 04:05:06'::timestamp AS m, 'infinity'::timestamptz AS n, \
    '1 year 2 days 00:00:03'::interval AS o, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS p, \
    '{\"a\": [1, null]}'::jsonb AS q, '10.0.0.1/8'::inet AS r, '08:00:2b:01:02:03'::macaddr AS s, \
    B'10110'::varbit AS t, '(1,2)'::point AS u, '<(1,2),3>'::circle AS v, \
    '{{1,2},{3,NULL}}'::int4[] AS w, '[1,10)'::int4range AS x, ROW(1, 'a', NULL) AS y, \
    'a fat cat'::tsvector AS z, NULL::int4 AS nul";

/// Renders every value of a row (decoding each) and the row itself.
fn touch_row(row: &Row) {
    for i in 0..row.len() {
        if let Ok(value) = row.value(i) {
            let _ = value.to_string();
        }
    }
    let _ = row.to_string();
}

fn touch_error(error: &Error) {
    let _ = error.to_string();
    let _ = format!("{error:?}");
}

thread_local! {
    static FAILURES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn report<T>(result: Result<T, Error>) -> Option<T> {
    result
        .map_err(|e| {
            touch_error(&e);
            FAILURES.set(FAILURES.get() + 1);
        })
        .ok()
}

/// Runs operation `op` (modulo [`OPS`]) on `db`; failures are rendered and counted, and the
/// count returned (the seed recorder compares a live run's count with its replay's).
pub async fn run(db: &Connection, op: u8) -> usize {
    FAILURES.set(0);
    let zero = Some(Duration::ZERO);
    match usize::from(op) % OPS.len() {
        0 => {
            let sql = "SELECT 1 AS one, 'two' AS two, NULL::text AS three; SHOW TimeZone; \
                       DO $$BEGIN RAISE NOTICE 'hello %', 1; END$$";
            if let Some(results) = report(db.simple(sql).await) {
                let _ = format!("{results:?}");
            }
        }
        1 => {
            if let Some(results) = report(db.query(TYPES_SQL, ()).await) {
                results.rows.iter().for_each(touch_row);
            }
        }
        2 => {
            if let Some(ps) = report(db.prepare("SELECT $1::int4 + 1, $2::text").await) {
                if let Some(First::Row(row)) = report(ps.first::<First, _>((41, "x")).await) {
                    touch_row(&row);
                }
                let _ = report(ps.first::<First, _>((1, "y")).await);
            }
        }
        3 => {
            let sql = "SELECT g, repeat('x', g) FROM generate_series(1, 20) g";
            if let Some(mut rows) = report(db.query_rows(sql, ()).await) {
                while let Some(row) = rows.next().await {
                    if let Some(row) = report(row) {
                        touch_row(&row);
                    }
                }
            }
        }
        4 => {
            let sql = "SELECT g FROM generate_series(1, 300) g";
            if let Some(mut chunks) = report(db.query_chunks(sql, ()).await) {
                while let Some(chunk) = chunks.next().await {
                    if let Some(chunk) = report(chunk) {
                        chunk.iter().for_each(touch_row);
                    }
                }
            }
        }
        5 => {
            let sql = "SELECT g::text || 'é' FROM generate_series(1, 5) g";
            if let Some(mut column) = report(db.query_column(sql, ()).await) {
                while let Some(value) = column.next().await {
                    if let Some(value) = report(value) {
                        let _ = value.to_string();
                    }
                }
            }
        }
        6 => {
            let sql = "COPY (SELECT g, g * 2 FROM generate_series(1, 10) g) TO STDOUT";
            if let Some(ps) = report(db.prepare(sql).await)
                && let Some(mut data) = report(ps.copy_rows(()))
            {
                while let Some(piece) = data.next().await {
                    if report(piece).is_none() {
                        break;
                    }
                }
            }
        }
        7 => {
            let _ = report(db.execute("CREATE TEMP TABLE fz_in (i int, t text)").await);
            if let Some(ps) = report(db.prepare("COPY fz_in FROM STDIN").await) {
                let _ = report(ps.copy_in_rows(["1\ta\n", "2\tb\n"]).await);
            }
        }
        8 => {
            let _ = report(
                db.execute("CREATE TEMP TABLE fz_load (i int, t text)")
                    .await,
            );
            if let Some(ps) = report(db.prepare("INSERT INTO fz_load VALUES ($1, $2)").await) {
                let _ = report(ps.load_rows([(1, "a"), (2, "b"), (3, "c")]).await);
            }
        }
        9 => {
            let settings = db.settings();
            let _ = report(settings.get("search_path").await);
            let _ = report(settings.set("application_name", "fuzz").await);
            let _ = report(settings.getset(["work_mem", "TimeZone"]).await);
            let _ = report(settings.search_path().await);
        }
        10 => {
            let sql = "SELECT g, g::text FROM generate_series(1, 30) g";
            if let Some(ps) = report(db.prepare(sql).await)
                && let Some(cursor) = report(ps.declare(()).await)
            {
                if let Some(rows) = report(cursor.read(Some(5), None).await) {
                    rows.iter().for_each(touch_row);
                }
                let _ = report(cursor.seek(20, Whence::Absolute).await);
                if let Some(Some(row)) = report(cursor.next().await) {
                    touch_row(&row);
                }
                let _ = report(cursor.close().await);
            }
        }
        11 => {
            let _ = report(db.listen(["fz"]).await);
            let _ = report(db.notify([("fz", "payload")]).await);
            let mut stream = db.iternotifies(zero);
            while let Some(NotifyEvent::Notification(n)) = stream.next().await {
                let _ = format!("{n:?}");
            }
            let _ = format!("{:?}", db.take_notifications());
        }
        12 => {
            let _ = report(db.query("SELECT 1/0", ()).await);
            let _ = report(db.prepare("SELECT * FROM fz_missing WHERE x = 1").await);
            let _ = report(db.execute("SELEC 1").await);
        }
        13 => {
            let outcome = db
                .xact()
                .run(|x| async move {
                    x.connection().execute("SELECT 1").await?;
                    x.connection()
                        .xact()
                        .run(|s| async move { s.connection().execute("SELECT 1/0").await })
                        .await
                })
                .await;
            let _ = report(outcome);
        }
        14 => {
            if let Some(proc) = report(db.proc("pg_catalog.abs(int4)").await) {
                match report(proc.call((-3,)).await) {
                    Some(ProcResult::Value(value)) => drop(value.to_string()),
                    Some(other) => drop(format!("{other:?}")),
                    None => {}
                }
            }
        }
        _ => {
            let lock = ALock::exclusive(db, [7i64, 8]);
            let _ = report(lock.acquire(false).await);
            let _ = report(lock.release().await);
        }
    }
    // What the session kept: notices, notifications, status, parameters.
    for notice in db.notices() {
        let _ = notice.to_string();
    }
    let _ = (
        db.transaction_status(),
        db.parameters(),
        db.take_notifications(),
    );
    FAILURES.get()
}
