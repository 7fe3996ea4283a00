//! The run's context: the server, the scale, the runtime, connections for every subject,
//! and the source table the fetch and copy scenarios read.

use std::path::PathBuf;

use pg_cluster::{AuthMethod, Role, Temporal};
use tokio::runtime::Runtime;

use crate::measure::{Plan, Result};
use crate::peers::{self, Asyncpg};

/// How much work each scenario does.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Sequential executions in `roundtrip`.
    pub roundtrips: usize,
    /// Rows of the source table (`fetch`, `copy_out`, `copy_in`).
    pub source_rows: usize,
    /// INSERTs in `insert`.
    pub inserts: usize,
    /// Tasks in `concurrent`.
    pub tasks: usize,
    /// Queries per task in `concurrent`.
    pub queries_per_task: usize,
    /// Connections in `concurrent`'s pools.
    pub pool_size: usize,
    /// Rows the cursor pages through.
    pub cursor_rows: usize,
    /// Rows per cursor page.
    pub page: usize,
    /// `web`: users in the users table (each with [`WEB_ORDERS_PER_USER`] orders).
    pub web_users: usize,
    /// `web`: requests per run.
    pub web_requests: usize,
    /// `web`: tasks sending the requests.
    pub web_tasks: usize,
    /// `web`: connections in each pool.
    pub web_pool_size: usize,
    /// `big_values`: rows of the first part, and the size of each value.
    pub big: (usize, usize),
    /// `big_values`: rows of the second part, and the size of each value.
    pub huge: (usize, usize),
    /// Connections opened (and closed) in `connect`.
    pub connects: usize,
}

/// `web`: orders per user (a request reads the latest 20).
pub const WEB_ORDERS_PER_USER: usize = 24;

const MIB: usize = 1024 * 1024;

impl Scale {
    /// The scale.
    pub fn full() -> Scale {
        Scale {
            roundtrips: 20_000,
            source_rows: 1_000_000,
            inserts: 100_000,
            tasks: 32,
            queries_per_task: 2_000,
            pool_size: 4,
            cursor_rows: 100_000,
            page: 100,
            web_users: 10_000,
            web_requests: 20_000,
            web_tasks: 64,
            web_pool_size: 8,
            big: (500, MIB),
            huge: (32, 16 * MIB),
            connects: 200,
        }
    }

    /// A tiny scale that only shows everything runs (`--quick`).
    pub fn quick() -> Scale {
        Scale {
            roundtrips: 200,
            source_rows: 5_000,
            inserts: 1_000,
            tasks: 4,
            queries_per_task: 50,
            pool_size: 2,
            cursor_rows: 1_000,
            page: 100,
            web_users: 200,
            web_requests: 200,
            web_tasks: 16,
            web_pool_size: 4,
            big: (8, MIB),
            huge: (2, 16 * MIB),
            connects: 10,
        }
    }
}

/// The kind of tokio runtime the async subjects run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Flavor {
    /// Multi-threaded, a worker per core (`#[tokio::main]`); the caller's future runs on
    /// the main thread (`block_on`), connection tasks on the workers.
    Multi,
    /// One thread running the caller and every connection task.
    Current,
}

/// The programs peers run as, found once.
pub struct Tools {
    /// `pgbench`, if installed.
    pub pgbench: Option<PathBuf>,
    /// `psql`, if installed.
    pub psql: Option<PathBuf>,
    /// python3 with asyncpg, if importable.
    pub asyncpg: Option<Asyncpg>,
}

/// Everything a scenario needs.
pub struct Bench {
    /// The server (a throwaway cluster unless `--iri` named one); dropped last.
    pub server: Temporal,
    /// The IRI our driver connects with.
    pub iri: String,
    /// The same as a libpq URI, for the peers.
    pub uri: String,
    /// The runtime every async subject runs on (see [`Flavor`]).
    pub rt: Runtime,
    /// How much work.
    pub scale: Scale,
    /// Warm-up and repetitions.
    pub plan: Plan,
    /// The table `fetch` and `copy_out` read, made once.
    pub source: String,
    /// The peers' programs.
    pub tools: Tools,
    admin: pg_driver::blocking::Connection,
}

/// The columns of the source table (and of the COPY target).
pub const SOURCE_COLUMNS: &str = "i, b, t, n, ts";

/// The table `insert` fills (and empties before each run).
pub const INSERT_TABLE: &str = "pg_bench_insert";

/// The table `copy_in` fills (and empties before each run).
pub const COPY_TABLE: &str = "pg_bench_copy";

/// The login role `connect` uses on a throwaway cluster: a SCRAM-SHA-256 password, asked for
/// by its `pg_hba.conf` rules (unix socket and loopback).
pub const SCRAM_USER: &str = "bench_scram";

/// Its password (URI-safe).
const SCRAM_PASSWORD: &str = "pg-bench-scram-password";

impl Bench {
    /// Starts a throwaway cluster, with the [`SCRAM_USER`] role `connect` logs in as (or uses
    /// `iri`), makes the source table if it is missing, and finds the peers' programs (noting
    /// the ones missing in `notes`).
    pub fn start(
        iri: Option<&str>,
        scale: Scale,
        plan: Plan,
        flavor: Flavor,
        notes: &mut Vec<String>,
    ) -> Result<Bench> {
        let server = match iri {
            Some(iri) => Temporal::from_iri(iri)?,
            None => Temporal::builder()
                .role(
                    Role::new(SCRAM_USER)
                        .password(SCRAM_PASSWORD)
                        .auth(AuthMethod::ScramSha256),
                )
                .build()?,
        };
        let admin = pg_driver::blocking::open(server.iri())?;
        admin.execute("SET client_min_messages = warning")?;
        let source = format!("pg_bench_source_{}", scale.source_rows);
        let exists: bool = admin
            .prepare("SELECT to_regclass($1) IS NOT NULL")?
            .first((source.as_str(),))?;
        if !exists {
            eprintln!("making {source} ({} rows)…", scale.source_rows);
            admin.execute(&format!(
                "CREATE TABLE {source} AS SELECT i::int4 AS i, i::int8 * 1000003 AS b, \
                 md5(i::text) AS t, round(i * 3.14159, 4)::numeric AS n, \
                 timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' AS ts \
                 FROM generate_series(1, {}) AS i",
                scale.source_rows
            ))?;
            admin.execute(&format!("VACUUM ANALYZE {source}"))?;
        }
        admin.execute(&format!(
            "DROP TABLE IF EXISTS {INSERT_TABLE}, {COPY_TABLE}; \
             CREATE TABLE {INSERT_TABLE} (i int4, t text, n numeric); \
             CREATE TABLE {COPY_TABLE} (LIKE {source})"
        ))?;
        let tools = Tools {
            pgbench: peers::program("pgbench", notes),
            psql: peers::program("psql", notes),
            asyncpg: Asyncpg::find(notes),
        };
        let rt = match flavor {
            Flavor::Multi => tokio::runtime::Builder::new_multi_thread(),
            Flavor::Current => tokio::runtime::Builder::new_current_thread(),
        }
        .enable_all()
        .build()?;
        Ok(Bench {
            iri: server.iri().to_owned(),
            uri: server.uri(),
            server,
            rt,
            scale,
            plan,
            source,
            tools,
            admin,
        })
    }

    /// Runs SQL on the set-up connection (untimed work: emptying tables, …).
    pub fn sql(&self, sql: &str) -> Result<()> {
        Ok(self.admin.execute(sql)?)
    }

    /// The first column of the first row of `sql` (untimed checks), as an `i64`.
    pub fn scalar_i64(&self, sql: &str) -> Result<i64> {
        Ok(self.admin.prepare(sql)?.first(())?)
    }

    /// The server's version string.
    pub fn server_version(&self) -> String {
        self.admin.version().unwrap_or_default()
    }

    /// A connection of our driver, on the runtime.
    pub fn ours(&self) -> Result<pg_driver::Connection> {
        Ok(self.rt.block_on(pg_driver::open(&self.iri))?)
    }

    /// A connection of our driver with one more keyword set (`batch_inserts=off`).
    pub fn ours_with(&self, keyword: &str, value: &str) -> Result<pg_driver::Connection> {
        let mut keywords = pg_driver::params::Keywords::parse(&self.iri)?;
        keywords.set(keyword, value)?;
        let connector = pg_driver::Connector::new(keywords.resolve()?);
        Ok(self.rt.block_on(connector.connect())?)
    }

    /// A tokio-postgres client, its connection driven by a task on the runtime.
    pub fn tokio_postgres(&self) -> Result<tokio_postgres::Client> {
        let (client, connection) = self
            .rt
            .block_on(tokio_postgres::connect(&self.uri, tokio_postgres::NoTls))?;
        self.rt.spawn(connection);
        Ok(client)
    }

    /// The libpq URI `connect` logs in with, TLS off (`sslmode=disable`): on a throwaway
    /// cluster [`SCRAM_USER`] and its password over TCP, so that its `scram-sha-256` rule
    /// decides; on a server named by `--iri`, that IRI's user and password, authenticated as
    /// that server says.
    pub fn login_uri(&self) -> String {
        let server = &self.server;
        let (user, password) = match server.cluster() {
            Some(_) => (SCRAM_USER, Some(SCRAM_PASSWORD)),
            None => (server.user(), server.password()),
        };
        let password = password.map_or(String::new(), |p| format!(":{p}"));
        let (host, socket) = match server.host() {
            dir if dir.starts_with('/') => ("", format!("&host={dir}")),
            host => (host, String::new()),
        };
        format!(
            "postgresql://{user}{password}@{host}:{}/{}?sslmode=disable{socket}",
            server.port(),
            server.database()
        )
    }

    /// An sqlx connection.
    pub fn sqlx(&self) -> Result<sqlx::PgConnection> {
        use sqlx::Connection;
        Ok(self.rt.block_on(sqlx::PgConnection::connect(&self.uri))?)
    }

    /// Drops the tables the run made, except the source and `big_values`' (made once, kept
    /// for later runs).
    pub fn clean_up(&self) -> Result<()> {
        self.sql(&format!(
            "DROP TABLE IF EXISTS {INSERT_TABLE}, {COPY_TABLE}, {}",
            crate::web::TABLES
        ))
    }
}
