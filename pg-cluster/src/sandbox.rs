//! Per-test schemas in the test database.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ClusterError;
use crate::target::{percent_encode, with_query_param};
use crate::temporal::{Temporal, quote_ident};

/// A schema of its own for one test, first in the `search_path` of connections made with
/// [`Sandbox::iri`] or [`Sandbox::uri`]; dropped with everything in it (`CASCADE`) when the
/// sandbox is dropped.
#[derive(Debug)]
pub struct Sandbox<'t> {
    temporal: &'t Temporal,
    schema: String,
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
        self.admin_sql(&format!("CREATE SCHEMA {}", quote_ident(&schema)))?;
        Ok(Sandbox {
            temporal: self,
            schema,
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
        self.temporal.admin_sql(&format!(
            "SET search_path TO {}, public;\n{sql}",
            quote_ident(&self.schema)
        ))
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
