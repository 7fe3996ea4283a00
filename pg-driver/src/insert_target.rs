//! Which table a batched INSERT of `load_rows` writes to.
//!
//! A prepared INSERT keeps the table its name meant when it was prepared until PostgreSQL
//! parses it again, and then reads the name with the `search_path` of that moment. It does
//! so at the next execution after `search_path` changed (a session's first temporary table
//! changes it too), after something the statement uses changed (`ALTER`, `DROP`, even
//! `ANALYZE`), and after any schema of the database was made or dropped (PostgreSQL then
//! forgets every session's plans). So neither the table as prepared nor the name's meaning
//! now says alone where the statement writes, and a batch must write exactly there:
//!
//! - `prepare` asks `to_regclass` for the table's OID in its own round trip (pipelined after
//!   Parse/Describe, only for statements `InsertShape` accepts);
//! - a load batches only while that OID is still what the name means. Then the statement
//!   means it too: for it to mean another table, that table must have come before this one
//!   in the path when the statement was last parsed and not now — and whatever took it away
//!   (a drop, a rename, a new `search_path`) made the statement be parsed again. The batch
//!   names the table by the catalog's schema and name, quoted. Otherwise the load goes row
//!   by row through the statement itself, which is right whatever PostgreSQL decides.
//!
//! Statements parsed again for every execution (`statement_cache=off`) mean what the name
//! means when the load runs. A statement whose OID is unknown (`statement_from_id`) loads
//! row by row.

use bytes::{BufMut, BytesMut};
use fallible_iterator::FallibleIterator;
use pg_exceptions::Error;
use postgres_protocol::message::backend::DataRowBody;
use postgres_protocol::message::frontend;
use postgres_types::Type;

use crate::connection::Connection;
use crate::insert_batch::InsertShape;
use crate::wire::task::protocol;

/// Servers before 9.6 have no `to_regclass(text)`.
pub(crate) const TO_REGCLASS: i32 = 90600;

/// Appends to a prepare's request (before its Sync) the lookup of the OID of the table `sql`
/// inserts into, when `load_rows` may batch it; says whether it did. Its answer is one
/// [`DataRow`](postgres_protocol::message::backend::Message::DataRow) for [`oid`].
///
/// A failure of the statement's own Parse skips the lookup (one Sync ends both). The lookup
/// reads the name as the Parse before it did (same `search_path`, same privileges), so it
/// fails only where the statement would have.
pub(crate) fn encode_lookup(
    conn: &Connection,
    sql: &str,
    buf: &mut BytesMut,
) -> Result<bool, Error> {
    if !conn.connector().params().batch_inserts()
        || conn.server_version().unwrap_or(0) < TO_REGCLASS
    {
        return Ok(false);
    }
    let Some(shape) = InsertShape::parse(sql) else {
        return Ok(false);
    };
    const LOOKUP: &str = "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid";
    frontend::parse("", LOOKUP, [Type::TEXT.oid()], buf).map_err(protocol)?;
    let bound = frontend::bind(
        "",
        "",
        [0i16],
        [shape.target()],
        |name, buf| {
            buf.put_slice(name.as_bytes());
            Ok(postgres_protocol::IsNull::No)
        },
        [0i16],
        buf,
    );
    match bound {
        Ok(()) => {}
        // The name is put as it is: nothing to convert.
        Err(frontend::BindError::Conversion(e)) => return Err(protocol(std::io::Error::other(e))),
        Err(frontend::BindError::Serialization(e)) => return Err(protocol(e)),
    }
    frontend::execute("", 0, buf).map_err(protocol)?;
    Ok(true)
}

/// The OID the lookup of [`encode_lookup`] answered, if it found a table.
pub(crate) fn oid(body: &DataRowBody) -> Result<Option<u32>, Error> {
    let mut ranges = body.ranges();
    let first = ranges.next().map_err(protocol)?.flatten();
    Ok(first
        .and_then(|range| std::str::from_utf8(&body.buffer()[range]).ok())
        .and_then(|text| text.parse().ok()))
}
