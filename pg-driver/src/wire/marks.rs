//! What the answers say about state left in the server session.
//!
//! Every CommandComplete passes through the task's routing or a handle's own reading of its
//! answer, and both show its tag here. A tag names the command that ran, which is enough to
//! tell most commands that leave nothing behind in the session once their transaction ends
//! (`SELECT`, `INSERT`, `BEGIN`, `COMMIT`…) from those that may (`SET`, `LISTEN`, `PREPARE`,
//! `DECLARE`, `CREATE` of what may be a temporary object, `DO`, `CALL`…). A pool uses the
//! counts to give a connection back without a reset when nothing that may leave state ran.
//!
//! `SELECT n` is also the tag of `CREATE TABLE … AS` and `SELECT … INTO`, which send no
//! rows: a `SELECT` that sent rows is known harmless, one that made rows without sending them
//! is known to have made a table, and one of no rows at all cannot be told apart from an
//! empty query result here (`bare_selects`: whoever knows the statement's columns can).
//! What no tag shows is a function with session side effects called from a `SELECT`
//! (`set_config`, a session advisory lock): the pool documents that.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Commands that leave no state in the session (their effects are the transaction's, or the
/// database's). Matched against the tag's words; anything else counts as leaving state.
const STATELESS: &[&[u8]] = &[
    b"INSERT",
    b"UPDATE",
    b"DELETE",
    b"MERGE",
    b"COPY",
    b"FETCH",
    b"MOVE",
    b"SHOW",
    b"BEGIN",
    b"START TRANSACTION",
    b"COMMIT",
    b"ROLLBACK",
    b"SAVEPOINT",
    b"RELEASE",
    b"NOTIFY",
    b"LOCK TABLE",
    b"CLOSE CURSOR",
    b"PREPARE TRANSACTION",
    b"COMMIT PREPARED",
    b"ROLLBACK PREPARED",
    b"TRUNCATE TABLE",
    b"ANALYZE",
    b"VACUUM",
    b"CHECKPOINT",
];

/// Counts of commands by what they may have left in the session; see the module's notes.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    /// Commands that may have left state.
    stateful: AtomicU64,
    /// `SELECT` tags that came with no rows: an empty result, or a table made.
    bare_selects: AtomicU64,
    /// Whether a DataRow came since the last CommandComplete.
    rows: AtomicBool,
}

/// A snapshot of [`Marks`], to compare with a later one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MarkCounts {
    pub(crate) stateful: u64,
    pub(crate) bare_selects: u64,
}

impl Marks {
    /// Looks at one whole frame of an answer: `tag` is its type byte, `body` what follows its
    /// length.
    #[inline]
    pub(crate) fn frame(&self, tag: u8, body: &[u8]) {
        match tag {
            // Stored only when it changes: no write to the shared line per row.
            b'D' if !self.rows.load(Ordering::Relaxed) => self.rows.store(true, Ordering::Relaxed),
            b'C' => self.command(body),
            _ => {}
        }
    }

    #[cold]
    fn command(&self, body: &[u8]) {
        let tag = body.strip_suffix(b"\0").unwrap_or(body);
        let rows = self.rows.swap(false, Ordering::Relaxed);
        match classify(tag, rows) {
            Kind::Stateless => {}
            Kind::BareSelect => {
                self.bare_selects.fetch_add(1, Ordering::Relaxed);
            }
            Kind::Stateful => {
                self.stateful.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn counts(&self) -> MarkCounts {
        MarkCounts {
            stateful: self.stateful.load(Ordering::Relaxed),
            bare_selects: self.bare_selects.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Stateless,
    BareSelect,
    Stateful,
}

/// What a command tag says; `rows` whether DataRows came with it.
fn classify(tag: &[u8], rows: bool) -> Kind {
    if let Some(count) = tag.strip_prefix(b"SELECT ") {
        return match (rows, count) {
            (true, _) => Kind::Stateless,
            // Rows made and none sent: CREATE TABLE AS, SELECT INTO.
            (false, b"0") => Kind::BareSelect,
            (false, _) => Kind::Stateful,
        };
    }
    let known = STATELESS.iter().any(|command| {
        tag.strip_prefix(*command)
            .is_some_and(|rest| rest.is_empty() || rest[0] == b' ')
    });
    match known {
        true => Kind::Stateless,
        false => Kind::Stateful,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_classified_by_their_command() {
        let cases: &[(&[u8], bool, Kind)] = &[
            (b"SELECT 3", true, Kind::Stateless),
            (b"SELECT 0", false, Kind::BareSelect),
            (b"SELECT 5", false, Kind::Stateful),
            (b"INSERT 0 1", false, Kind::Stateless),
            (b"UPDATE 2", false, Kind::Stateless),
            (b"COMMIT", false, Kind::Stateless),
            (b"ROLLBACK", false, Kind::Stateless),
            (b"START TRANSACTION", false, Kind::Stateless),
            (b"LOCK TABLE", false, Kind::Stateless),
            (b"SET", false, Kind::Stateful),
            (b"RESET", false, Kind::Stateful),
            (b"LISTEN", false, Kind::Stateful),
            (b"PREPARE", false, Kind::Stateful),
            (b"DECLARE CURSOR", false, Kind::Stateful),
            (b"CREATE TABLE", false, Kind::Stateful),
            (b"DO", false, Kind::Stateful),
            (b"CALL", false, Kind::Stateful),
            (b"DISCARD ALL", false, Kind::Stateful),
            // A word that only starts like a known one.
            (b"COMMITTED", false, Kind::Stateful),
            (b"", false, Kind::Stateful),
        ];
        for (tag, rows, kind) in cases {
            assert_eq!(
                &classify(tag, *rows),
                kind,
                "{}",
                String::from_utf8_lossy(tag)
            );
        }
    }

    #[test]
    fn rows_belong_to_the_command_they_came_before() {
        let marks = Marks::default();
        marks.frame(b'D', b"");
        marks.frame(b'C', b"SELECT 1\0");
        marks.frame(b'C', b"SELECT 0\0");
        marks.frame(b'C', b"SET\0");
        assert_eq!(
            marks.counts(),
            MarkCounts {
                stateful: 1,
                bare_selects: 1
            }
        );
    }
}
