//! `web`: what a web application's request handlers do. Many tasks share a small pool; each
//! request reads a user by primary key, reads that user's 20 latest orders, and runs a short
//! transaction (count the visit, write an audit row). Reported: requests/s, client CPU and
//! the request latencies' 50th and 99th percentiles.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{ManagerConfig, RecyclingMethod};
use pg_session::{AsyncSession, Tuple};
use rust_decimal::Decimal;

use crate::bench::{Bench, WEB_ORDERS_PER_USER};
use crate::measure::{BoxError, Result, Sample, Subject, in_process_value, interleave};
use crate::peers::pgbench;
use crate::pools::{Driver, all_tasks, ours_in_deadpool};
use crate::report::Report;

const USERS: &str = "pg_bench_users";
const ORDERS: &str = "pg_bench_orders";
const AUDIT: &str = "pg_bench_audit";
/// The scenario's tables, made for each run of pg-bench and dropped at its end.
pub const TABLES: &str = "pg_bench_audit, pg_bench_orders, pg_bench_users";

const USER_SQL: &str = "SELECT id, name, email, created, active, balance, visits, score, \
                        birthday, country, flags, avatar FROM pg_bench_users WHERE id = $1";
const ORDERS_SQL: &str = "SELECT id, user_id, created, amount, status, items \
                          FROM pg_bench_orders WHERE user_id = $1 \
                          ORDER BY created DESC LIMIT 20";
const VISIT_SQL: &str = "UPDATE pg_bench_users SET visits = visits + 1 WHERE id = $1";
const AUDIT_SQL: &str = "INSERT INTO pg_bench_audit (user_id, action) VALUES ($1, $2)";

/// The orders a request reads.
const LATEST: usize = 20;
/// The size of each user's avatar.
const AVATAR: usize = 128;
/// Seeds the choice of users: every subject sends the same requests.
const SEED: u64 = 0x5eed_0000_f1eb;

/// A user row, every column decoded into what an application would keep.
#[derive(Debug)]
#[allow(dead_code)] // read through Debug and black_box only: the decoding is the point
struct User {
    id: i64,
    name: String,
    email: String,
    created: DateTime<Utc>,
    active: bool,
    balance: Decimal,
    visits: i32,
    score: f64,
    birthday: NaiveDate,
    country: String,
    flags: i16,
    avatar: Vec<u8>,
}

/// An order row, decoded.
#[derive(Debug)]
#[allow(dead_code)]
struct Order {
    id: i64,
    user_id: i64,
    created: DateTime<Utc>,
    amount: Decimal,
    status: String,
    items: i32,
}

/// Decodes a user from any driver's row (all three have `try_get(index)`).
macro_rules! user_from {
    ($row:expr) => {{
        let row = $row;
        User {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            email: row.try_get(2)?,
            created: row.try_get(3)?,
            active: row.try_get(4)?,
            balance: row.try_get(5)?,
            visits: row.try_get(6)?,
            score: row.try_get(7)?,
            birthday: row.try_get(8)?,
            country: row.try_get(9)?,
            flags: row.try_get(10)?,
            avatar: row.try_get(11)?,
        }
    }};
}

/// Decodes an order from any driver's row.
macro_rules! order_from {
    ($row:expr) => {{
        let row = $row;
        Order {
            id: row.try_get(0)?,
            user_id: row.try_get(1)?,
            created: row.try_get(2)?,
            amount: row.try_get(3)?,
            status: row.try_get(4)?,
            items: row.try_get(5)?,
        }
    }};
}

/// Decodes every order of any driver's rows and checks them for `user`.
macro_rules! check_orders_of {
    ($rows:expr, $user:expr) => {{
        let orders: Result<Vec<Order>> = $rows
            .iter()
            .map(|row| -> Result<Order> { Ok(order_from!(row)) })
            .collect();
        check_orders(orders?, $user)
    }};
}

impl User {
    fn check(self, id: i64) -> Result<()> {
        if self.id != id || self.avatar.len() != AVATAR || !self.email.ends_with("@example.com") {
            return Err(format!("user {id}: read {self:?}").into());
        }
        std::hint::black_box(self);
        Ok(())
    }
}

/// Checks a user's latest orders: 20 of theirs, newest first.
fn check_orders(orders: Vec<Order>, user: i64) -> Result<()> {
    let ordered = orders.windows(2).all(|w| w[0].created >= w[1].created);
    if orders.len() != LATEST || !ordered || orders.iter().any(|o| o.user_id != user) {
        return Err(format!("user {user}: orders {orders:?}").into());
    }
    std::hint::black_box(orders);
    Ok(())
}

/// Checks that a statement of the transaction touched one row.
fn one_row(count: Option<u64>, what: &str, user: i64) -> Result<()> {
    match count {
        Some(1) => Ok(()),
        other => Err(format!("user {user}: {what} touched {other:?} rows").into()),
    }
}

/// The user request `i` is for: the same sequence for every subject.
fn user_of(i: usize, users: usize) -> i64 {
    // splitmix64
    let mut z = SEED.wrapping_add((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % users as u64) as i64 + 1
}

/// Makes the tables: users of 12 columns of mixed types, their orders (indexed by user and
/// time), and the audit log the transactions write.
fn make_tables(bench: &Bench) -> Result<()> {
    let users = bench.scale.web_users;
    eprintln!("making {USERS} ({users} users, {WEB_ORDERS_PER_USER} orders each)…");
    bench.sql(&format!(
        "DROP TABLE IF EXISTS {AUDIT}, {ORDERS}, {USERS};
         CREATE TABLE {USERS} (
             id int8 PRIMARY KEY, name text NOT NULL, email text NOT NULL,
             created timestamptz NOT NULL, active bool NOT NULL, balance numeric(12, 2) NOT NULL,
             visits int4 NOT NULL, score float8 NOT NULL, birthday date NOT NULL,
             country text NOT NULL, flags int2 NOT NULL, avatar bytea NOT NULL
         ) WITH (fillfactor = 90);
         INSERT INTO {USERS}
         SELECT i, 'User ' || i, 'user' || i || '@example.com',
                timestamptz '2020-01-01 00:00:00+00' + i * interval '37 minutes', i % 7 <> 0,
                round((i * 12.37) % 10000, 2), 0, (i % 1000) / 10.0,
                date '1950-01-01' + (i * 7) % 20000,
                (ARRAY['DE', 'FR', 'US', 'JP', 'BR', 'IN'])[1 + i % 6], (i % 32)::int2,
                decode(repeat(lpad(to_hex(i), 8, '0'), {quads}), 'hex')
         FROM generate_series(1, {users}) AS i;
         CREATE TABLE {ORDERS} (
             id int8 PRIMARY KEY, user_id int8 NOT NULL REFERENCES {USERS},
             created timestamptz NOT NULL, amount numeric(10, 2) NOT NULL, status text NOT NULL,
             items int4 NOT NULL
         );
         INSERT INTO {ORDERS}
         SELECT u * 100 + k, u,
                timestamptz '2023-01-01 00:00:00+00'
                    + ((u * 7919 + k * 104729) % 31536000) * interval '1 second',
                round(((u * k * 7.31) % 500)::numeric, 2) + 1,
                (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + (u + k) % 4],
                1 + (u * k) % 9
         FROM generate_series(1, {users}) AS u, generate_series(1, {WEB_ORDERS_PER_USER}) AS k;
         CREATE INDEX ON {ORDERS} (user_id, created DESC);
         CREATE TABLE {AUDIT} (
             id bigserial PRIMARY KEY, user_id int8 NOT NULL REFERENCES {USERS},
             at timestamptz NOT NULL DEFAULT now(), action text NOT NULL
         )",
        quads = AVATAR / 4,
    ))?;
    // Not in the same simple query: its statements run as one block, and VACUUM refuses one.
    bench.sql(&format!("VACUUM ANALYZE {USERS}, {ORDERS}, {AUDIT}"))
}

/// What a run must leave behind: every request counted once on its user and audited once.
struct Expected {
    requests: usize,
    /// The sum of the users' ids over all requests.
    user_sum: i64,
}

/// Runs one subject's requests: `request(user)` for each of the run's requests, from the
/// scenario's tasks; checks the tables afterwards.
fn run_requests<F, Fut>(bench: &Bench, expected: &Expected, request: F) -> Result<Sample>
where
    F: Fn(i64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let scale = bench.scale;
    let (requests, users, tasks) = (scale.web_requests, scale.web_users, scale.web_tasks);
    bench.sql(&format!("TRUNCATE {AUDIT} RESTART IDENTITY"))?;
    let visits_sql = format!("SELECT sum(visits)::int8 FROM {USERS}");
    let visits = bench.scalar_i64(&visits_sql)?;
    let (sample, latencies) = in_process_value(false, || {
        bench.rt.block_on(async {
            let next = Arc::new(AtomicUsize::new(0));
            let latencies = all_tasks(tasks, |_| {
                let (request, next) = (request.clone(), next.clone());
                async move {
                    let mut latencies = Vec::with_capacity(requests / tasks + 1);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= requests {
                            return Ok::<_, BoxError>(latencies);
                        }
                        let start = Instant::now();
                        request(user_of(i, users)).await?;
                        latencies.push(start.elapsed().as_secs_f64());
                    }
                }
            })
            .await?;
            Ok(latencies.concat())
        })
    })?;
    let counted = bench.scalar_i64(&visits_sql)? - visits;
    let audited = bench.scalar_i64(&format!("SELECT count(*) FROM {AUDIT}"))?;
    let audited_sum = bench.scalar_i64(&format!("SELECT sum(user_id)::int8 FROM {AUDIT}"))?;
    let n = expected.requests as i64;
    if counted != n || audited != n || audited_sum != expected.user_sum {
        return Err(format!(
            "{n} requests counted {counted} visits and wrote {audited} audit rows (user sum \
             {audited_sum}, not {})",
            expected.user_sum
        )
        .into());
    }
    Ok(sample.with_latencies(latencies))
}

/// The request as a pgbench script: the same statements, the user drawn by pgbench
/// (`random`, uniform like the seeded sequence, not the same one). With `pipelined`, the
/// transaction's four statements go out under one Sync (`\startpipeline`): what a block whose
/// statements are all known up front costs the server, three cycles a request instead of six.
fn pgbench_script(users: usize, pipelined: bool) -> String {
    let (open, close) = if pipelined {
        ("\\startpipeline\n", "\\endpipeline\n")
    } else {
        ("", "")
    };
    format!(
        "\\set u random(1, {users})\n\
         {user};\n\
         {orders};\n\
         {open}BEGIN;\n\
         {visit};\n\
         {audit};\n\
         COMMIT;\n{close}",
        user = USER_SQL.replace("$1", ":u"),
        orders = ORDERS_SQL.replace("$1", ":u"),
        visit = VISIT_SQL.replace("$1", ":u"),
        audit = AUDIT_SQL.replace("$1", ":u").replace("$2", "'visit'"),
    )
}

/// Runs the scenario's requests as pgbench transactions on `clients` connections (a client
/// per connection, as a pool whose every connection is busy) and checks the tables as
/// [`run_requests`] does, but for the users' sum: pgbench draws its own users, so the audit
/// rows must instead match the visits counted user by user.
fn pgbench_requests(
    bench: &Bench,
    program: &std::path::Path,
    script: &std::path::Path,
    clients: usize,
) -> Result<Sample> {
    let requests = bench.scale.web_requests;
    bench.sql(&format!("TRUNCATE {AUDIT} RESTART IDENTITY"))?;
    let weighted_sql = format!("SELECT coalesce(sum(visits::int8 * id), 0)::int8 FROM {USERS}");
    let visits_sql = format!("SELECT sum(visits)::int8 FROM {USERS}");
    let (visits, weighted) = (
        bench.scalar_i64(&visits_sql)?,
        bench.scalar_i64(&weighted_sql)?,
    );
    let sample = pgbench::run_clients(program, &bench.uri, script, clients, requests)?;
    let counted = bench.scalar_i64(&visits_sql)? - visits;
    let weighted = bench.scalar_i64(&weighted_sql)? - weighted;
    let audited = bench.scalar_i64(&format!("SELECT count(*) FROM {AUDIT}"))?;
    let audited_sum = bench.scalar_i64(&format!("SELECT sum(user_id)::int8 FROM {AUDIT}"))?;
    let n = requests as i64;
    if counted != n || audited != n || audited_sum != weighted {
        return Err(format!(
            "pgbench's {n} requests counted {counted} visits (weighted by user {weighted}) and \
             wrote {audited} audit rows (user sum {audited_sum})"
        )
        .into());
    }
    Ok(sample)
}

/// One request through pg-session: each statement takes a connection from the pool (and
/// gives it back when its results are dropped).
async fn ours_session_request(session: AsyncSession<Tuple>, user: i64) -> Result<()> {
    let found = session.query(USER_SQL, (user,)).await?;
    let [row] = found.items() else {
        return Err(format!("user {user}: {} rows", found.len()).into());
    };
    user_from!(row).check(user)?;
    drop(found);
    let orders = session.query(ORDERS_SQL, (user,)).await?;
    check_orders_of!(orders.items(), user)?;
    drop(orders);
    ours_session_xact(&session, user).await
}

/// The request's transaction through pg-session: `AsyncSession::xact` runs it on one
/// connection of the pool, its BEGIN pipelined with the UPDATE, and the connection goes back
/// without a reset (the statements leave no session state).
async fn ours_session_xact(session: &AsyncSession<Tuple>, user_id: i64) -> Result<()> {
    session
        .xact(async |conn| {
            let visit = conn.query_cached(VISIT_SQL, (user_id,)).await?;
            one_row(visit.count, "UPDATE", user_id)?;
            let audit = conn.query_cached(AUDIT_SQL, (user_id, "visit")).await?;
            one_row(audit.count, "INSERT", user_id)
        })
        .await
}

/// One request through pg-session with the statements it knows up front run together: the
/// two reads as one batch (one round trip, one connection of the pool), the transaction's
/// UPDATE and INSERT as one batch inside `AsyncSession::xact` (its BEGIN carried in front),
/// both checked before the COMMIT. Three round trips a request.
async fn ours_session_batched_request(session: AsyncSession<Tuple>, user: i64) -> Result<()> {
    let [found, orders] = <[_; 2]>::try_from(
        session
            .batch()
            .query(USER_SQL, (user,))
            .query(ORDERS_SQL, (user,))
            .run()
            .await?,
    )
    .map_err(|r| format!("{} results for 2 reads", r.len()))?;
    let [row] = found.items() else {
        return Err(format!("user {user}: {} rows", found.len()).into());
    };
    user_from!(row).check(user)?;
    check_orders_of!(orders.items(), user)?;
    session
        .xact(async |conn| {
            let written = conn
                .batch()
                .query(VISIT_SQL, (user,))
                .query(AUDIT_SQL, (user, "visit"))
                .run()
                .await?;
            one_row(written[0].count, "UPDATE", user)?;
            one_row(written[1].count, "INSERT", user)
        })
        .await
}

/// One request through deadpool's pool of our driver's connections: one connection for
/// the request, statements from its cache, the driver's transaction.
async fn ours_in_deadpool_request(pool: deadpool::managed::Pool<Driver>, user: i64) -> Result<()> {
    let conn = pool.get().await.map_err(|e| format!("{e:?}"))?;
    let found = conn.query_cached(USER_SQL, (user,)).await?;
    let [row] = &found.rows[..] else {
        return Err(format!("user {user}: {} rows", found.rows.len()).into());
    };
    user_from!(row).check(user)?;
    let orders = conn.query_cached(ORDERS_SQL, (user,)).await?;
    check_orders_of!(orders.rows, user)?;
    conn.xact()
        .run(|x| async move {
            let visit = x.query_cached(VISIT_SQL, (user,)).await?;
            one_row(visit.count, "UPDATE", user)?;
            let audit = x.query_cached(AUDIT_SQL, (user, "visit")).await?;
            one_row(audit.count, "INSERT", user)
        })
        .await
}

/// One request through deadpool-postgres: one connection for the request, `prepare_cached`
/// statements, its transaction.
async fn deadpool_postgres_request(pool: deadpool_postgres::Pool, user: i64) -> Result<()> {
    let mut client = pool.get().await?;
    let statement = client.prepare_cached(USER_SQL).await?;
    let row = client.query_one(&statement, &[&user]).await?;
    user_from!(&row).check(user)?;
    let statement = client.prepare_cached(ORDERS_SQL).await?;
    let rows = client.query(&statement, &[&user]).await?;
    check_orders_of!(rows, user)?;
    let transaction = client.transaction().await?;
    let statement = transaction.prepare_cached(VISIT_SQL).await?;
    let visit = transaction.execute(&statement, &[&user]).await?;
    one_row(Some(visit), "UPDATE", user)?;
    let statement = transaction.prepare_cached(AUDIT_SQL).await?;
    let audit = transaction.execute(&statement, &[&user, &"visit"]).await?;
    one_row(Some(audit), "INSERT", user)?;
    transaction.commit().await?;
    Ok(())
}

/// One request through deadpool-postgres with tokio-postgres' pipelining: the two reads
/// awaited together, and so the UPDATE and INSERT inside the transaction (each statement
/// still under a Sync of its own), both checked before the COMMIT.
async fn deadpool_postgres_pipelined_request(
    pool: deadpool_postgres::Pool,
    user: i64,
) -> Result<()> {
    let mut client = pool.get().await?;
    let (user_statement, orders_statement) = futures::try_join!(
        client.prepare_cached(USER_SQL),
        client.prepare_cached(ORDERS_SQL)
    )?;
    let by_user: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&user];
    let (row, rows) = futures::try_join!(
        client.query_one(&user_statement, &by_user),
        client.query(&orders_statement, &by_user)
    )?;
    user_from!(&row).check(user)?;
    check_orders_of!(rows, user)?;
    let transaction = client.transaction().await?;
    let (visit_statement, audit_statement) = futures::try_join!(
        transaction.prepare_cached(VISIT_SQL),
        transaction.prepare_cached(AUDIT_SQL)
    )?;
    let audit_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&user, &"visit"];
    let (visit, audit) = futures::try_join!(
        transaction.execute(&visit_statement, &by_user),
        transaction.execute(&audit_statement, &audit_params)
    )?;
    one_row(Some(visit), "UPDATE", user)?;
    one_row(Some(audit), "INSERT", user)?;
    transaction.commit().await?;
    Ok(())
}

/// One request through sqlx's pool: each statement takes a connection from the pool (its
/// statement cache per connection), its transaction.
async fn sqlx_request(pool: sqlx::PgPool, user: i64) -> Result<()> {
    use sqlx::Row;
    let row = sqlx::query(USER_SQL).bind(user).fetch_one(&pool).await?;
    user_from!(&row).check(user)?;
    let rows = sqlx::query(ORDERS_SQL).bind(user).fetch_all(&pool).await?;
    check_orders_of!(rows, user)?;
    let mut transaction = pool.begin().await?;
    let visit = sqlx::query(VISIT_SQL)
        .bind(user)
        .execute(&mut *transaction)
        .await?;
    one_row(Some(visit.rows_affected()), "UPDATE", user)?;
    let audit = sqlx::query(AUDIT_SQL)
        .bind(user)
        .bind("visit")
        .execute(&mut *transaction)
        .await?;
    one_row(Some(audit.rows_affected()), "INSERT", user)?;
    transaction.commit().await?;
    Ok(())
}

/// `uri` with one more query parameter.
fn with_param(uri: &str, param: &str) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{param}")
}

/// Runs the scenario.
pub fn run(bench: &Bench) -> Result<Report> {
    let scale = bench.scale;
    let (requests, users, tasks, size) = (
        scale.web_requests,
        scale.web_users,
        scale.web_tasks,
        scale.web_pool_size,
    );
    make_tables(bench)?;
    let expected = Expected {
        requests,
        user_sum: (0..requests).map(|i| user_of(i, users)).sum(),
    };
    let expected = &expected;
    let rt = &bench.rt;
    let mut notes = Vec::new();
    let mut subjects = Vec::new();

    // The sessions' pool is this scenario's own (pg-session keys pools by URI, and a builder
    // asking another size of an existing pool fails: `concurrent` makes one of 4 on the plain
    // URI). Otherwise
    // the defaults: a query waits its turn (up to 30 s) while all 8 connections are busy.
    let uri = with_param(&bench.uri, "application_name=pg-bench-web");
    for (name, depth) in [("ours AsyncSession", 1), ("ours AsyncSession pipelined", 8)] {
        let session = AsyncSession::builder(uri.clone())
            .pool_max_size(size)
            .pipeline_depth(depth)
            .row_form::<Tuple>()
            .build()?;
        subjects.push(Subject::ours(name, move || {
            run_requests(bench, expected, {
                let session = session.clone();
                move |user| ours_session_request(session.clone(), user)
            })
        }));
    }

    let session = AsyncSession::builder(uri.clone())
        .pool_max_size(size)
        .row_form::<Tuple>()
        .build()?;
    subjects.push(Subject::ours("ours AsyncSession batched", move || {
        run_requests(bench, expected, {
            let session = session.clone();
            move |user| ours_session_batched_request(session.clone(), user)
        })
    }));

    let pool = ours_in_deadpool(bench, size)?;
    subjects.push(Subject::peer("deadpool with our driver", move || {
        run_requests(bench, expected, {
            let pool = pool.clone();
            move |user| ours_in_deadpool_request(pool.clone(), user)
        })
    }));

    let mut config = deadpool_postgres::Config::new();
    config.url = Some(bench.uri.clone());
    config.pool = Some(deadpool_postgres::PoolConfig::new(size));
    config.manager = Some(ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    });
    let pool = config.create_pool(
        Some(deadpool_postgres::Runtime::Tokio1),
        tokio_postgres::NoTls,
    )?;
    let pipelined = pool.clone();
    subjects.push(Subject::peer("deadpool-postgres", move || {
        run_requests(bench, expected, {
            let pool = pool.clone();
            move |user| deadpool_postgres_request(pool.clone(), user)
        })
    }));
    subjects.push(Subject::peer("deadpool-postgres pipelined", move || {
        run_requests(bench, expected, {
            let pool = pipelined.clone();
            move |user| deadpool_postgres_pipelined_request(pool.clone(), user)
        })
    }));

    let pool = rt.block_on(
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(size as u32)
            .connect(&bench.uri),
    )?;
    subjects.push(Subject::peer("sqlx PgPool", move || {
        run_requests(bench, expected, {
            let pool = pool.clone();
            move |user| sqlx_request(pool.clone(), user)
        })
    }));

    // The floor a client adds nothing to: pgbench (libpq, C) running the same statements on
    // as many connections as the pools hold, its results in text, nothing decoded. Kept in
    // scope until the subjects have run.
    let scripts = [false, true].map(|pipelined| pgbench::script(&pgbench_script(users, pipelined)));
    match &bench.tools.pgbench {
        Some(program) if requests.is_multiple_of(size) => {
            for (script, name) in scripts.iter().zip([
                "pgbench -M prepared",
                "pgbench -M prepared, transaction pipelined",
            ]) {
                let path = script
                    .as_ref()
                    .map_err(|e| e.to_string())?
                    .path()
                    .to_owned();
                subjects.push(Subject::peer(name, move || {
                    pgbench_requests(bench, program, &path, size)
                }));
            }
        }
        Some(_) => notes.push(format!(
            "pgbench skipped: {size} connections cannot share {requests} requests evenly"
        )),
        None => notes.push("pgbench skipped: not installed".to_owned()),
    }

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    Ok(Report {
        scenario: "web",
        description: format!(
            "{tasks} tasks, a pool of {size} connections, {requests} requests: a user by \
             primary key (12 columns), their {LATEST} latest orders, and a transaction \
             (UPDATE a counter, INSERT an audit row, COMMIT); {users} users. pg-session: a \
             connection per statement, the transaction with AsyncSession::xact (its BEGIN \
             pipelined, no reset when it ends cleanly), Tuple rows, default settings; \
             deadpool: a connection per request; sqlx: a connection per statement (its \
             defaults: a ping on every acquire); pgbench: the same statements on {size} \
             connections, one client each, text results not decoded, its own random users; \
             pipelined: the transaction's four statements under one Sync"
        ),
        unit: "requests/s",
        work: requests as f64,
        outcomes,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_spread_and_repeatable() {
        let picks: Vec<i64> = (0..10_000).map(|i| user_of(i, 100)).collect();
        assert!(picks.iter().all(|u| (1..=100).contains(u)));
        let distinct: std::collections::BTreeSet<_> = picks.iter().collect();
        assert_eq!(distinct.len(), 100);
        assert_eq!(
            picks[..10],
            (0..10).map(|i| user_of(i, 100)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn params_join_the_query_string() {
        assert_eq!(
            with_param("postgresql://h/d", "a=b"),
            "postgresql://h/d?a=b"
        );
        assert_eq!(
            with_param("postgresql://h/d?x=y", "a=b"),
            "postgresql://h/d?x=y&a=b"
        );
    }

    #[test]
    fn pgbench_scripts_bind_the_drawn_user() {
        let plain = pgbench_script(10, false);
        assert!(plain.starts_with("\\set u random(1, 10)\n"), "{plain}");
        assert!(!plain.contains('$'), "{plain}");
        assert_eq!(plain.matches(":u").count(), 4, "{plain}");
        assert!(plain.contains("VALUES (:u, 'visit')"), "{plain}");
        assert!(!plain.contains("pipeline"), "{plain}");
        let pipelined = pgbench_script(10, true);
        let open = pipelined
            .find("\\startpipeline\nBEGIN;")
            .expect("opens before BEGIN");
        let close = pipelined
            .find("COMMIT;\n\\endpipeline\n")
            .expect("closes after COMMIT");
        assert!(open < close, "{pipelined}");
    }
}
