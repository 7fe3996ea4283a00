//! Scrolling a cursor: the direction it reads in, and `seek` with py-postgresql's whence values.
//!
//! Positions are PostgreSQL's: before the first row, on row *n*, or after the last row; a
//! forward read returns the rows after the position. So `seek(n, Whence::Absolute)` followed by
//! a forward read returns the rows from the *n*-th (counting from 0) on.

use std::str::FromStr;

use pg_exceptions::{Error, OperationError};

use crate::cursor::Cursor;

/// How a seek's offset is taken (py-postgresql's `whence`: `0`…`4` or their names).
///
/// ```
/// use pg_driver::Whence;
/// assert_eq!("FROM_END".parse::<Whence>().unwrap(), Whence::FromEnd);
/// assert_eq!(Whence::try_from(1).unwrap(), Whence::Relative);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Whence {
    /// `0`: from the start; the next forward read begins at row `offset` (0-based).
    #[default]
    Absolute,
    /// `1`: from the current position; negative offsets move backward.
    Relative,
    /// `2`: past the last row, then `offset` rows back.
    FromEnd,
    /// `3`: forward by `offset` rows (backward when negative).
    Forward,
    /// `4`: backward by `offset` rows (forward when negative).
    Backward,
}

impl Whence {
    /// The name py-postgresql gives it (`ABSOLUTE`, `RELATIVE`, `FROM_END`, `FORWARD`, `BACKWARD`).
    pub fn name(self) -> &'static str {
        match self {
            Whence::Absolute => "ABSOLUTE",
            Whence::Relative => "RELATIVE",
            Whence::FromEnd => "FROM_END",
            Whence::Forward => "FORWARD",
            Whence::Backward => "BACKWARD",
        }
    }

    /// The same movement seen from a cursor read backward (py-postgresql's inversion).
    fn inverted(self, offset: i64) -> (Whence, i64) {
        match self {
            Whence::Absolute => (Whence::FromEnd, offset),
            Whence::FromEnd => (Whence::Absolute, offset),
            Whence::Relative => (Whence::Relative, offset.saturating_neg()),
            Whence::Forward => (Whence::Backward, offset),
            Whence::Backward => (Whence::Forward, offset),
        }
    }
}

impl std::fmt::Display for Whence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Whence {
    type Err = Error;

    /// A name, in any case, or a number as text.
    fn from_str(s: &str) -> Result<Whence, Error> {
        let whence = match s.trim().to_ascii_uppercase().as_str() {
            "ABSOLUTE" | "0" => Whence::Absolute,
            "RELATIVE" | "1" => Whence::Relative,
            "FROM_END" | "2" => Whence::FromEnd,
            "FORWARD" | "3" => Whence::Forward,
            "BACKWARD" | "4" => Whence::Backward,
            _ => return Err(unknown("whence", s)),
        };
        Ok(whence)
    }
}

impl TryFrom<i32> for Whence {
    type Error = Error;

    fn try_from(n: i32) -> Result<Whence, Error> {
        match n {
            0 => Ok(Whence::Absolute),
            1 => Ok(Whence::Relative),
            2 => Ok(Whence::FromEnd),
            3 => Ok(Whence::Forward),
            4 => Ok(Whence::Backward),
            _ => Err(unknown("whence", &n.to_string())),
        }
    }
}

/// The direction a cursor reads in (py-postgresql's `direction`: `True`/`'FORWARD'` or
/// `False`/`'BACKWARD'`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Reads fetch forward; the default.
    #[default]
    Forward,
    /// Reads fetch backward, and seeks are inverted: the cursor acts as if its rows were in
    /// reverse order.
    Backward,
}

impl Direction {
    /// `FORWARD` or `BACKWARD`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Forward => "FORWARD",
            Direction::Backward => "BACKWARD",
        }
    }

    /// The other direction.
    pub fn reversed(self) -> Direction {
        match self {
            Direction::Forward => Direction::Backward,
            Direction::Backward => Direction::Forward,
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<bool> for Direction {
    /// `true` is forward, as in py-postgresql.
    fn from(forward: bool) -> Direction {
        if forward {
            Direction::Forward
        } else {
            Direction::Backward
        }
    }
}

impl FromStr for Direction {
    type Err = Error;

    /// `FORWARD` or `BACKWARD`, in any case.
    fn from_str(s: &str) -> Result<Direction, Error> {
        match s.trim().to_ascii_uppercase().as_str() {
            "FORWARD" => Ok(Direction::Forward),
            "BACKWARD" => Ok(Direction::Backward),
            _ => Err(unknown("direction", s)),
        }
    }
}

fn unknown(what: &str, given: &str) -> Error {
    Error::client(&OperationError, format!("unknown {what} {given:?}"))
}

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
        let results = self
            .connection()
            .simple(&sql)
            .await
            .map_err(|e| self.fail(e))?;
        let tag = results.last().map(|r| r.tag.as_str()).unwrap_or_default();
        Ok(crate::execute::parse_tag(tag).1.unwrap_or(0))
    }
}
