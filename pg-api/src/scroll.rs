//! Cursor scrolling words: the direction a cursor reads in and py-postgresql's `whence`.

use std::str::FromStr;

use pg_exceptions::{Error, OperationError};

/// How a seek's offset is taken (py-postgresql's `whence`: `0`…`4` or their names).
///
/// ```
/// use pg_api::Whence;
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

    /// The same movement seen from a cursor read backward (py-postgresql's inversion:
    /// ABSOLUTE acts as FROM_END, FROM_END as ABSOLUTE, RELATIVE is negated, FORWARD and
    /// BACKWARD trade places).
    pub fn inverted(self, offset: i64) -> (Whence, i64) {
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
