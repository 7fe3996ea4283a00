//! Equality of [`Value`]s, following PostgreSQL: NaN equals NaN.

use crate::{Point, Value};

pub(crate) fn float_eq(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn points_eq(a: &[Point], b: &[Point]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(p, q)| float_eq(p.x, q.x) && float_eq(p.y, q.y))
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value as V;
        match (self, other) {
            (V::Null, V::Null) => true,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::Int2(a), V::Int2(b)) => a == b,
            (V::Int4(a), V::Int4(b)) => a == b,
            (V::Int8(a), V::Int8(b)) => a == b,
            (V::Float4(a), V::Float4(b)) => float_eq(f64::from(*a), f64::from(*b)),
            (V::Float8(a), V::Float8(b)) => float_eq(*a, *b),
            (V::Numeric(a), V::Numeric(b)) => a == b,
            (V::Text(a), V::Text(b))
            | (V::Json(a), V::Json(b))
            | (V::Jsonb(a), V::Jsonb(b))
            | (V::Xml(a), V::Xml(b)) => a == b,
            (V::Char(a), V::Char(b)) => a == b,
            (V::Bytea(a), V::Bytea(b)) => a == b,
            (V::Date(a), V::Date(b)) => a == b,
            (V::Time(a), V::Time(b)) => a == b,
            (
                V::TimeTz {
                    time: a,
                    offset_seconds: x,
                },
                V::TimeTz {
                    time: b,
                    offset_seconds: y,
                },
            ) => a == b && x == y,
            (V::Timestamp(a), V::Timestamp(b)) => a == b,
            (V::TimestampTz(a), V::TimestampTz(b)) => a == b,
            (V::Interval(a), V::Interval(b)) => a == b,
            (V::Uuid(a), V::Uuid(b)) => a == b,
            (V::Oid(a), V::Oid(b)) => a == b,
            (
                V::Inet {
                    addr: a,
                    prefix: p,
                    cidr: c,
                },
                V::Inet {
                    addr: b,
                    prefix: q,
                    cidr: d,
                },
            ) => a == b && p == q && c == d,
            (V::MacAddr(a), V::MacAddr(b)) => a == b,
            (V::MacAddr8(a), V::MacAddr8(b)) => a == b,
            (V::Bit(a), V::Bit(b)) => a == b,
            (V::Point(a), V::Point(b)) => points_eq(&[*a], &[*b]),
            (V::Lseg(a), V::Lseg(b)) => points_eq(&[a.start, a.end], &[b.start, b.end]),
            (V::Box(a), V::Box(b)) => points_eq(&[a.high, a.low], &[b.high, b.low]),
            (
                V::Path {
                    closed: c,
                    points: a,
                },
                V::Path {
                    closed: d,
                    points: b,
                },
            ) => c == d && points_eq(a, b),
            (V::Polygon(a), V::Polygon(b)) => points_eq(a, b),
            (V::Line { a, b, c }, V::Line { a: x, b: y, c: z }) => {
                float_eq(*a, *x) && float_eq(*b, *y) && float_eq(*c, *z)
            }
            (V::Circle(a), V::Circle(b)) => {
                points_eq(&[a.center], &[b.center]) && float_eq(a.radius, b.radius)
            }
            (V::Money(a), V::Money(b)) => a == b,
            (V::Hstore(a), V::Hstore(b)) => a == b,
            (
                V::Enum {
                    type_name: t,
                    label: a,
                },
                V::Enum {
                    type_name: u,
                    label: b,
                },
            ) => t == u && a == b,
            (V::Range(a), V::Range(b)) => a == b,
            (V::Multirange(a), V::Multirange(b)) => a == b,
            (V::Array(a), V::Array(b)) => a == b,
            (V::Composite(a), V::Composite(b)) => a == b,
            (
                V::Unknown {
                    type_oid: o,
                    text: t,
                    binary: b,
                },
                V::Unknown {
                    type_oid: p,
                    text: u,
                    binary: c,
                },
            ) => o == p && t == u && b == c,
            _ => false,
        }
    }
}
