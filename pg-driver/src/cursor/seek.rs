//! Scrolling a cursor: the direction it reads in, and `seek` with py-postgresql's whence values.
//!
//! Positions are PostgreSQL's: before the first row, on row *n*, or after the last row; a
//! forward read returns the rows after the position. So `seek(n, Whence::Absolute)` followed by
//! a forward read returns the rows from the *n*-th (counting from 0) on.

use pg_exceptions::Error;

use crate::cursor::Cursor;
pub use pg_api::{Direction, Whence};

/// The MOVE commands for a seek, after the cursor's direction has been applied.
///
/// Each whence maps to the commands py-postgresql's `Cursor.seek` sends, except that relative
/// moves and moves from the end use PostgreSQL's single-row forms (`MOVE RELATIVE -n`,
/// `MOVE ABSOLUTE -n`): they position the cursor exactly where py-postgresql's `MOVE BACKWARD n`
/// and `MOVE LAST; MOVE NEXT; MOVE BACKWARD n` do, and their counts mirror those of
/// `MOVE RELATIVE n` and `MOVE ABSOLUTE n`, so a backward cursor reports what a forward one does.
/// (A negative offset from the end is the mirror of a negative absolute one; py-postgresql's
/// `MOVE BACKWARD -n` from past the end leaves the cursor there.)
fn moves(whence: Whence, offset: i64) -> Vec<String> {
    let n = offset.unsigned_abs();
    let one = |command: String| vec![command];
    match whence {
        Whence::Absolute => one(format!("ABSOLUTE {offset}")),
        Whence::Relative => one(format!("RELATIVE {offset}")),
        Whence::FromEnd if offset == 0 => vec!["LAST".to_owned(), "NEXT".to_owned()],
        Whence::FromEnd => one(format!("ABSOLUTE {}", offset.saturating_neg())),
        Whence::Forward if offset >= 0 => one(format!("FORWARD {n}")),
        Whence::Forward => one(format!("BACKWARD {n}")),
        Whence::Backward if offset >= 0 => one(format!("BACKWARD {n}")),
        Whence::Backward => one(format!("FORWARD {n}")),
    }
}

impl Cursor {
    /// Moves the cursor (py-postgresql's `seek(offset, whence)`) and returns the server's
    /// count for the move.
    ///
    /// * [`Whence::Absolute`]: a forward read then starts at row `offset` (0-based); `0` is
    ///   before the first row. Negative offsets count from the end (`-1`: on the last row).
    /// * [`Whence::Relative`]: `offset` rows on from the current position (back when negative).
    /// * [`Whence::FromEnd`]: past the last row, then `offset` rows back: `0` leaves nothing
    ///   to read forward, and a backward read then starts `offset` rows before the last one
    ///   (the mirror of `Absolute`).
    /// * [`Whence::Forward`] / [`Whence::Backward`]: that many rows in that direction.
    ///
    /// The count is what PostgreSQL's `MOVE` reports: for `Forward` and `Backward` the rows
    /// moved over; for `Absolute`, `Relative` and `FromEnd` 1 when the cursor lands on a row
    /// and 0 when it lands before the first or after the last.
    ///
    /// With [`Direction::Backward`] the cursor acts as if its rows were reversed: `Absolute`
    /// acts as `FromEnd`, `FromEnd` as `Absolute`, `Relative` offsets are negated, and
    /// `Forward` and `Backward` trade places.
    pub async fn seek(&self, offset: i64, whence: Whence) -> Result<u64, Error> {
        let (whence, offset) = match self.direction() {
            Direction::Forward => (whence, offset),
            Direction::Backward => whence.inverted(offset),
        };
        self.run_moves(moves(whence, offset)).await
    }

    /// Moves to one end of the cursor (py-postgresql's `seek('ALL', whence)`) and returns the
    /// number of rows moved over: with `Forward` or `Backward`, to that end (as seen in the
    /// cursor's direction); with any other whence, to the end the cursor reads toward.
    pub async fn seek_all(&self, whence: Whence) -> Result<u64, Error> {
        let toward = match whence {
            Whence::Forward => Direction::Forward,
            Whence::Backward => Direction::Backward,
            _ => Direction::Forward,
        };
        let real = match self.direction() {
            Direction::Forward => toward,
            Direction::Backward => toward.reversed(),
        };
        self.run_moves(vec![format!("{real} ALL")]).await
    }

    /// Runs MOVE commands in one round trip and returns the last one's count.
    async fn run_moves(&self, moves: Vec<String>) -> Result<u64, Error> {
        self.usable()?;
        let name = self.quoted_id();
        let sql = moves
            .iter()
            .map(|m| format!("MOVE {m} IN {name}"))
            .collect::<Vec<_>>()
            .join("; ");
        let link = self.connection().link();
        let results = crate::simple::simple_query_hooked(&link, &sql, self.hook())
            .await
            .map_err(|e| self.fail(self.connection().context(e)))?;
        let tag = results.last().map(|r| r.tag.as_str()).unwrap_or_default();
        Ok(crate::execute::tag_parts(tag).1.unwrap_or(0))
    }
}
