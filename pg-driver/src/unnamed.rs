//! The unnamed-statement mode for transaction poolers (`statement_cache=off`,
//! `prepared_statements=unnamed`; see [`PreparedStatements`]).
//!
//! Behind PgBouncer in transaction pooling mode, each transaction may run on another server
//! connection, so a statement prepared under a name in one transaction may be missing in the
//! next. In this mode [`Connection::prepare`] sends Parse + Describe + Sync of the unnamed
//! statement (one transaction: the description is all it keeps), and every execution sends
//! Parse(unnamed, sql, parameter types) + Bind + Execute + Sync in one request, pipelined in
//! one round trip; `load_rows` sends the Parse at the head of each batch of Bind/Execute
//! pairs. Nothing named outlives its request. The default (named) path only tests one
//! `bool` per execution.
//!
//! Cursors are SQL cursors `WITH HOLD`, which live in a server session: they are not
//! pooler-safe outside a transaction block.

use bytes::BytesMut;
use pg_exceptions::Error;
use postgres_protocol::message::frontend;
use postgres_types::Type;

use crate::connection::Connection;
use crate::params::PreparedStatements;
use crate::statement::Statement;
use crate::wire::task::protocol;

impl Connection {
    /// Whether this connection's statements are the unnamed one, parsed at every execution.
    pub(crate) fn unnamed_statements(&self) -> bool {
        self.connector().params().prepared_statements() == PreparedStatements::Unnamed
    }
}

impl Statement {
    /// Appends Parse of the unnamed statement with this statement's text and parameter types,
    /// so the Bind after it gets the statement [`Connection::prepare`] described.
    pub(crate) fn encode_parse(&self, buf: &mut BytesMut) -> Result<(), Error> {
        let oids = self.inner.parameters.iter().map(Type::oid);
        frontend::parse("", &self.inner.sql, oids, buf).map_err(protocol)
    }
}
