//! Named parameters in the blocking query interface (see [`crate::Connection::query_named`]).

use pg_api::{NamedParams, NamedQuery};
use pg_exceptions::Error;

use super::Connection;
use super::statement::Rows;
use crate::{FromFirst, Results};

impl Connection {
    /// `sql`, written with named placeholders, rewritten for this session with `values` bound
    /// to its positions (see [`crate::Connection::named_query`]).
    pub fn named_query<'a, N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &'a N,
    ) -> Result<NamedQuery<'a, N>, Error> {
        self.as_async().named_query(sql, values)
    }

    /// Whether the session reads `'…'` as standard strings (see
    /// [`crate::Connection::standard_conforming_strings`]).
    pub fn standard_conforming_strings(&self) -> bool {
        self.as_async().standard_conforming_strings()
    }

    /// Runs `sql`, written with named placeholders (`%(name)s` or `:name`), once with
    /// `values` by name (see [`crate::Connection::query_named`]).
    pub fn query_named<N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Results, Error> {
        let query = self.named_query(sql, values)?;
        self.query(query.sql(), &query)
    }

    /// The first result of `sql` with named placeholders, by py-postgresql's rules or typed.
    pub fn query_named_first<T: FromFirst, N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<T, Error> {
        let query = self.named_query(sql, values)?;
        self.query_first::<T, _>(query.sql(), &query)
    }

    /// The rows of `sql` with named placeholders, read as the iterator is pulled.
    pub fn query_named_rows<N: NamedParams + ?Sized>(
        &self,
        sql: &str,
        values: &N,
    ) -> Result<Rows, Error> {
        let query = self.named_query(sql, values)?;
        self.query_rows(query.sql(), &query)
    }
}
