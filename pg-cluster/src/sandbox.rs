//! Per-test schemas in the test database.

use std::sync::atomic::{AtomicU64, Ordering};

use pg_driver::{Connection, Connector, SimpleResult, blocking};
use pg_string::quote_ident;

use crate::admin;
use crate::error::ClusterError;
use crate::target::{percent_encode, with_query_param};
use crate::temporal::Temporal;

/// A schema of its own for one test, first in the `search_path` of the connections it
/// makes ([`Sandbox::connect`], [`Sandbox::connect_blocking`], [`Sandbox::connector`]) and
/// of those made with [`Sandbox::iri`] or [`Sandbox::uri`]; dropped with everything in it
/// (`CASCADE`) when the sandbox is dropped.
///
/// ```no_run
/// # async fn example() -> Result<(), pg_exceptions::Error> {
/// let sandbox = pg_cluster::Temporal::get()?.sandbox()?;
/// let db = sandbox.connect().await?;
/// db.execute("CREATE TABLE t (a int)").await?; // sandbox_<pid>_<n>.t
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Sandbox<'t> {
    temporal: &'t Temporal,
    schema: String,
    connector: Connector,
}

impl Temporal {
    /// Creates a sandbox schema, `sandbox_<pid>_<n>`, unique in this process.
    pub fn sandbox(&self) -> Result<Sandbox<'_>, ClusterError> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let schema = format!(
            "sandbox_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let params = self
            .params()
            .to_keywords()
            .search_path([schema.as_str(), "public"])
            .build()
            .map_err(pg_exceptions::Error::from)?;
        self.admin_sql(&format!("CREATE SCHEMA {}", quote_ident(&schema)))?;
        Ok(Sandbox {
            temporal: self,
            schema,
            connector: Connector::new(params),
        })
    }
}

impl Sandbox<'_> {
    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The search path to use: the sandbox, then `public`.
    pub fn search_path(&self) -> String {
        format!("{},public", self.schema)
    }

    /// The cluster this sandbox lives in.
    pub fn temporal(&self) -> &Temporal {
        self.temporal
    }

    /// A connector like [`Temporal::connector`] whose connections have `search_path` set
    /// to the sandbox, then `public`, in their startup packet.
    pub fn connector(&self) -> Connector {
        self.connector.clone()
    }

    /// Connects to the test database as the superuser, the sandbox first in the search
    /// path.
    pub async fn connect(&self) -> Result<Connection, ClusterError> {
        Ok(self.connector.connect().await?)
    }

    /// [`Sandbox::connect`] through the driver's blocking facade, which refuses to run
    /// inside an async runtime: use [`Sandbox::connect`] there.
    pub fn connect_blocking(&self) -> Result<blocking::Connection, ClusterError> {
        admin::connect_blocking(self.connector())
    }

    /// The test database's IRI with the search path as a setting:
    /// `pq://test@127.0.0.1:PORT/test?search_path=sandbox_…,public`.
    pub fn iri(&self) -> String {
        with_query_param(
            self.temporal.iri(),
            &format!("search_path={}", self.search_path()),
        )
    }

    /// The libpq form, the search path given through `options`:
    /// `postgresql://…/test?options=-csearch_path%3Dsandbox_…%2Cpublic`.
    pub fn uri(&self) -> String {
        let options = format!("-csearch_path={}", self.search_path());
        with_query_param(
            &self.temporal.uri(),
            &format!("options={}", percent_encode(&options)),
        )
    }

    /// Runs SQL like [`Temporal::admin_sql`], with the sandbox first in the search path.
    pub fn admin_sql(&self, sql: &str) -> Result<String, ClusterError> {
        Ok(admin::rows_as_text(&self.admin_query(sql)?))
    }

    /// Runs SQL like [`Temporal::admin_query`], with the sandbox first in the search path.
    pub fn admin_query(&self, sql: &str) -> Result<Vec<SimpleResult>, ClusterError> {
        admin::run(self.connector.params().clone(), sql)
    }
}

impl Drop for Sandbox<'_> {
    fn drop(&mut self) {
        let sql = format!(
            "SET lock_timeout = '10s';\nDROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(&self.schema)
        );
        if let Err(e) = self.temporal.admin_sql(&sql) {
            eprintln!(
                "pg-cluster: could not drop sandbox schema {}: {e}",
                self.schema
            );
        }
    }
}
