//! Named parameters in the query interface: statements written with psycopg2's `%(name)s` or
//! with `:name`, and values by name ([`NamedParams`]).
//!
//! The statement is rewritten to `$1`, `$2`, … by [`NamedQuery`] (pg-api's one mechanism, on
//! pg-string's rules), reading strings as the session does (its `standard_conforming_strings`),
//! and runs as a single-use statement with the values as its parameters: the values never
//! enter the SQL text.

use pg_api::{NamedParams, NamedQuery};
use pg_exceptions::Error;

use crate::{Connection, FromFirst, Results, RowStream};

impl Connection {
    /// `sql`, written with named placeholders, rewritten for this session with `values` bound
    /// to its positions: the statement and parameters for [`Connection::query`],
    /// [`Connection::prepare`]'s `call`, and the rest. The rules are
    /// [`pg_string::named_to_positional`]'s; a name without a value, mixed styles or a `$n`
    /// are a [`ParameterError`](pg_exceptions::ParameterError) before anything is sent.
    pub fn named_query<'a, N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &'a N,
    ) -> Result<NamedQuery<'a, N>, Error> {
        NamedQuery::with_strings(sql, values, self.standard_conforming_strings())
            .map_err(|error| self.context(error))
    }

    /// Whether the session reads `'…'` as standard strings, backslashes included (the
    /// `standard_conforming_strings` it reported; on, the server's default, unless it said
    /// off).
    pub fn standard_conforming_strings(&self) -> bool {
        self.parameter_status("standard_conforming_strings")
            .is_none_or(|value| value != "off")
    }

    /// Runs `sql`, written with named placeholders (`%(name)s` or `:name`), once with
    /// `values` by name, and returns its rows and command tag.
    ///
    /// ```no_run
    /// # async fn example(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
    /// use postgres_types::ToSql;
    ///
    /// let values: &[(&str, &(dyn ToSql + Sync))] = &[("id", &7i32), ("note", &"it's")];
    /// db.query_named("UPDATE t SET note = %(note)s WHERE id = %(id)s", values).await?;
    /// let results = db.query_named("SELECT note FROM t WHERE id = :id", values).await?;
    /// # Ok(()) }
    /// ```
    pub async fn query_named<N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Results, Error> {
        let query = self.named_query(sql, values)?;
        self.query(query.sql(), &query).await
    }

    /// The first result of `sql` with named placeholders, by py-postgresql's rules or typed
    /// (see [`Connection::query_first`]).
    pub async fn query_named_first<T: FromFirst, N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<T, Error> {
        let query = self.named_query(sql, values)?;
        self.query_first::<T, _>(query.sql(), &query).await
    }

    /// The rows of `sql` with named placeholders, streamed (see [`Connection::query_rows`]).
    pub async fn query_named_rows<N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<RowStream, Error> {
        let query = self.named_query(sql, values)?;
        self.query_rows(query.sql(), &query).await
    }
}
