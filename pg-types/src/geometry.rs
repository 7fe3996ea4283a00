//! The geometric types: POINT, LSEG, BOX, PATH, POLYGON, LINE, CIRCLE (all of `f64`).

use std::fmt;

/// A POINT `(x,y)`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    /// The x coordinate.
    pub x: f64,
    /// The y coordinate.
    pub y: f64,
}

impl Point {
    /// The point `(x, y)`.
    pub fn new(x: f64, y: f64) -> Point {
        Point { x, y }
    }
}

/// An LSEG, the line segment `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Lseg {
    /// The first end point.
    pub start: Point,
    /// The second end point.
    pub end: Point,
}

/// A BOX given by two opposite corners; PostgreSQL stores (and sends) the upper right
/// corner first.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GeoBox {
    /// The upper right corner.
    pub high: Point,
    /// The lower left corner.
    pub low: Point,
}

/// A LINE `{a,b,c}`: the points where `a·x + b·y + c = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Line {
    /// The x coefficient.
    pub a: f64,
    /// The y coefficient.
    pub b: f64,
    /// The constant.
    pub c: f64,
}

/// A CIRCLE `<(x,y),r>`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Circle {
    /// The centre.
    pub center: Point,
    /// The radius.
    pub radius: f64,
}

/// PostgreSQL's shortest round-trip float text (`extra_float_digits = 1`).
pub(crate) fn float_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        shortest_text(format!("{v:e}"), format!("{v}"), 15)
    }
}

/// A float4 as the server prints it (`float4out`): as [`float_text`], the shortest
/// digits that read back the same float4, in exponent form from 10^6 up.
pub(crate) fn float4_text(v: f32) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        shortest_text(format!("{v:e}"), format!("{v}"), 6)
    }
}

/// The server's choice between the shortest digits' positional form (`fixed`) and their
/// exponent form (`scientific`, Rust's `1.5e-7`, printed `1.5e-07`): the exponent form
/// when the decimal exponent is below -4 or at least `limit` (15 for float8, 6 for float4),
/// as printf's `%g` chooses.
fn shortest_text(scientific: String, fixed: String, limit: i32) -> String {
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return fixed;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return fixed;
    };
    if (-4..limit).contains(&exponent) {
        fixed
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    }
}

impl fmt::Display for Point {
    /// `(x,y)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", float_text(self.x), float_text(self.y))
    }
}

impl fmt::Display for Lseg {
    /// `[(x1,y1),(x2,y2)]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{},{}]", self.start, self.end)
    }
}

impl fmt::Display for GeoBox {
    /// `(x1,y1),(x2,y2)`, the upper right corner first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.high, self.low)
    }
}

impl fmt::Display for Line {
    /// `{a,b,c}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{{},{},{}}}",
            float_text(self.a),
            float_text(self.b),
            float_text(self.c)
        )
    }
}

impl fmt::Display for Circle {
    /// `<(x,y),r>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{},{}>", self.center, float_text(self.radius))
    }
}

/// The text of a PATH (`[…]` open, `(…)` closed) or POLYGON (closed).
pub(crate) fn points_text(closed: bool, points: &[Point]) -> String {
    let inner: Vec<String> = points.iter().map(Point::to_string).collect();
    let (open, close) = if closed { ('(', ')') } else { ('[', ']') };
    format!("{open}{}{close}", inner.join(","))
}
