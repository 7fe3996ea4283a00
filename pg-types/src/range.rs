//! Range and multirange values.

use crate::Value;

/// One end of a [`Range`].
#[derive(Debug, Clone, PartialEq)]
pub enum RangeBound {
    /// The bound value belongs to the range (`[` or `]`).
    Inclusive(Box<Value>),
    /// The bound value does not belong to the range (`(` or `)`).
    Exclusive(Box<Value>),
    /// No bound: the range extends without limit on this side.
    Unbounded,
}

impl RangeBound {
    /// The bound's value, if it is bounded.
    pub fn value(&self) -> Option<&Value> {
        match self {
            RangeBound::Inclusive(v) | RangeBound::Exclusive(v) => Some(v),
            RangeBound::Unbounded => None,
        }
    }
}

/// A range value. An empty range has `empty` set and both bounds unbounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// The lower bound.
    pub lower: RangeBound,
    /// The upper bound.
    pub upper: RangeBound,
    /// Whether this is the empty range.
    pub empty: bool,
}

impl Range {
    /// The range between `lower` and `upper`.
    pub fn new(lower: RangeBound, upper: RangeBound) -> Range {
        Range {
            lower,
            upper,
            empty: false,
        }
    }

    /// The empty range.
    pub fn empty() -> Range {
        Range {
            lower: RangeBound::Unbounded,
            upper: RangeBound::Unbounded,
            empty: true,
        }
    }

    /// The canonical half-open range `[lower, upper)`.
    pub fn half_open(lower: impl Into<Value>, upper: impl Into<Value>) -> Range {
        Range::new(
            RangeBound::Inclusive(Box::new(lower.into())),
            RangeBound::Exclusive(Box::new(upper.into())),
        )
    }
}
