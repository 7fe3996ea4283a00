//! Cleaning a session between a pool's users, keeping its prepared statements; and the marks
//! that tell a pool whether a session needs cleaning at all.

use bytes::BytesMut;
use pg_exceptions::{Error, ParameterError};
use postgres_protocol::message::frontend;

use crate::connection::Connection;
use crate::link::session::in_block;
use crate::wire::marks::MarkCounts;

/// What [`Connection::clean`] runs, in one simple query (one round trip): everything
/// `DISCARD ALL` does but `DEALLOCATE ALL` and `DISCARD PLANS`, and then the names of the
/// statements prepared in SQL, which are deallocated one by one (the protocol's statements,
/// the driver's, share their namespace and stay).
const CLEAN: &str = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
                     SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES; \
                     SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql";

/// The first server version with every command of [`CLEAN`] (`DISCARD SEQUENCES`, 9.4);
/// older servers get [`Connection::reset`].
const CLEAN_SINCE: u32 = 90400;

/// What the commands that ran on a connection may have left in its server session, as far as
/// their answers tell ([`Connection::session_marks`]). Compare a snapshot taken before some
/// work with one taken after it.
///
/// A command counts as leaving state unless its tag names one known to leave none once its
/// transaction ends (`SELECT` that sent rows, `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `COPY`,
/// `FETCH`, `MOVE`, `SHOW`, `NOTIFY`, `LOCK TABLE`, `CLOSE CURSOR`, `TRUNCATE TABLE`,
/// `ANALYZE`, `VACUUM`, `CHECKPOINT`, and the transaction commands). What no tag shows is a
/// function with session side effects called from a `SELECT`: `set_config` of a setting the
/// server does not report, a session-level advisory lock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionMarks {
    counts: MarkCounts,
    parameter_changes: u64,
}

impl SessionMarks {
    /// Whether, since `earlier`, a command ran that may have left state in the session (`SET`,
    /// `LISTEN`, `PREPARE`, `DECLARE`, `CREATE`, `DO`, `CALL`, a `SELECT` that made a table, or
    /// any command not known to leave none), or the server reported a setting changed.
    pub fn changed_since(&self, earlier: &SessionMarks) -> bool {
        self.counts.stateful != earlier.counts.stateful
            || self.parameter_changes != earlier.parameter_changes
    }

    /// Whether, since `earlier`, a `SELECT` ended without sending a row: an empty result, or
    /// a `CREATE TABLE … AS` or `SELECT … INTO` of no rows, which have the same tag. Whoever
    /// knows the statement's result columns can tell them apart (a table-making `SELECT` has
    /// none).
    pub fn bare_selects_since(&self, earlier: &SessionMarks) -> bool {
        self.counts.bare_selects != earlier.counts.bare_selects
    }
}

impl Connection {
    /// A snapshot of what the commands that ran so far may have left in the session; see
    /// [`SessionMarks`]. Answers count as they arrive, whether or not their callers read them.
    pub fn session_marks(&self) -> SessionMarks {
        let shared = &self.current().shared;
        SessionMarks {
            counts: shared.marks.counts(),
            parameter_changes: shared.parameter_changes(),
        }
    }

    /// Makes the session as a pool hands it to its next user while keeping its prepared
    /// statements, and so the statement cache and every [`Statement`](crate::Statement), valid
    /// (deadpool-postgres's `Clean`, and more): any transaction is rolled back, cursors are
    /// closed, `SET SESSION AUTHORIZATION DEFAULT` and `RESET ALL` undo role and settings
    /// changes (settings given at connect time stay, as defaults), listens end, advisory
    /// locks are released, temporary tables and sequence state are discarded, and statements
    /// prepared in SQL (`PREPARE`) are deallocated. Autocommit is turned back on and
    /// `set_session`'s characteristics forgotten; then the connector's category, if any,
    /// initialises the session again.
    ///
    /// One round trip (two when statements prepared in SQL are deallocated). Cursors and
    /// advisory locks of the driver learn of it as of a [`reset`](Connection::reset), when it
    /// is queued: dropped after that, the cleaning still runs (the connection task sends it
    /// whatever becomes of the caller), but statements prepared in SQL may stay. Servers
    /// older than 9.4 get a [`reset`](Connection::reset) instead.
    pub async fn clean(&self) -> Result<(), Error> {
        let old = self
            .version_info()
            .is_ok_and(|v| v.libpq_number() < CLEAN_SINCE);
        if old {
            return self.reset().await;
        }
        let link = self.link();
        // A block promised that no request began has nothing to roll back.
        link.session.forget_owed();
        let sql = match in_block(&link) {
            true => format!("ROLLBACK; {CLEAN}"),
            false => CLEAN.to_owned(),
        };
        let mut buf = BytesMut::new();
        frontend::query(&sql, &mut buf)
            .map_err(|e| Error::client(&ParameterError, "unencodable query").with_cause(e))?;
        let mut responses = link.request_unbegun(buf.freeze())?;
        // What it closes is gone once it is queued, whatever becomes of this future.
        link.cleans
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        link.xacts.clear();
        link.session.set_characteristics(Default::default());
        link.session.set_autocommit(true);
        let results = crate::simple::read_results(&link, &sql, &mut responses)
            .await
            .map_err(|e| self.context(e))?;
        let prepared: Vec<String> = results
            .last()
            .map(|names| names.rows.iter().flatten().flatten().cloned().collect())
            .unwrap_or_default();
        if !prepared.is_empty() {
            let deallocate = prepared
                .iter()
                .map(|name| format!("DEALLOCATE {}", pg_string::quote_ident(name)))
                .collect::<Vec<_>>()
                .join("; ");
            crate::simple::simple_query(&link, &deallocate)
                .await
                .map_err(|e| self.context(e))?;
        }
        self.initialize_again().await
    }
}
