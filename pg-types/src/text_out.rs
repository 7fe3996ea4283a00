//! PostgreSQL's text forms of values (`Value::to_pg_text`), as the server's output
//! functions print them (with default settings), quoting included for arrays, records,
//! ranges and hstore.

use std::fmt::Write;
use std::net::IpAddr;

use crate::datetime_text::{offset_text, time_text};
use crate::geometry::{float_text, float4_text, points_text};
use crate::{Array, Range, RangeBound, Value};

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + bytes.len() * 2);
    out.push_str("\\x");
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn separated(bytes: &[u8], sep: &str) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(sep)
}

fn uuid_text(u: &[u8; 16]) -> String {
    let h = separated(u, "");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn inet_text(addr: &IpAddr, prefix: u8, cidr: bool) -> String {
    let full = if addr.is_ipv4() { 32 } else { 128 };
    if cidr || prefix != full {
        format!("{addr}/{prefix}")
    } else {
        addr.to_string()
    }
}

fn money_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `s` double-quoted with `"` and `\` escaped by backslashes (arrays, hstore, ranges).
fn quote_backslash(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn needs_quotes(s: &str, specials: &str) -> bool {
    s.is_empty()
        || s.chars()
            .any(|c| c.is_ascii_whitespace() || specials.contains(c))
}

/// An array element or range bound, quoted when it must be.
fn element_text(v: &Value, specials: &str) -> String {
    match v.to_pg_text() {
        None => "NULL".into(),
        Some(t) if needs_quotes(&t, specials) || t.eq_ignore_ascii_case("null") => {
            quote_backslash(&t)
        }
        Some(t) => t,
    }
}

fn array_text(a: &Array) -> String {
    let mut out = String::new();
    if a.dims.iter().any(|d| d.lower_bound != 1) {
        for d in &a.dims {
            let upper = i64::from(d.lower_bound) + i64::from(d.len) - 1;
            let _ = write!(out, "[{}:{upper}]", d.lower_bound);
        }
        out.push('=');
    }
    if a.dims.is_empty() {
        out.push_str("{}");
        return out;
    }
    let mut elements = a.elements.iter();
    nest(&mut out, &a.dims, &mut elements);
    out
}

fn nest<'a>(out: &mut String, dims: &[crate::Dim], elements: &mut impl Iterator<Item = &'a Value>) {
    out.push('{');
    let len = dims.first().map_or(0, |d| d.len.max(0));
    for i in 0..len {
        if i > 0 {
            out.push(',');
        }
        if dims.len() > 1 {
            nest(out, &dims[1..], elements);
        } else if let Some(v) = elements.next() {
            out.push_str(&element_text(v, "{},\"\\"));
        }
    }
    out.push('}');
}

pub(crate) fn range_text(r: &Range) -> String {
    if r.empty {
        return "empty".into();
    }
    let bound = |b: &RangeBound| {
        b.value()
            .map_or(String::new(), |v| element_text(v, ",()[]\"\\"))
    };
    let open = if matches!(r.lower, RangeBound::Inclusive(_)) {
        '['
    } else {
        '('
    };
    let close = if matches!(r.upper, RangeBound::Inclusive(_)) {
        ']'
    } else {
        ')'
    };
    format!("{open}{},{}{close}", bound(&r.lower), bound(&r.upper))
}

fn record_text(row: &crate::Row) -> String {
    let mut out = String::from("(");
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let Ok(Some(t)) = v.map(|v| v.to_pg_text()) else {
            continue;
        };
        if needs_quotes(&t, "(),\"\\") {
            out.push('"');
            for c in t.chars() {
                if c == '"' || c == '\\' {
                    out.push(c);
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(&t);
        }
    }
    out.push(')');
    out
}

impl Value {
    /// The value's PostgreSQL text form, as the server prints it with default settings
    /// (`DateStyle` ISO, `IntervalStyle` postgres, timestamps with time zone in UTC);
    /// `None` for NULL. Money is printed as a plain amount with two decimals.
    pub fn to_pg_text(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => if *b { "t" } else { "f" }.into(),
            Value::Int2(v) => v.to_string(),
            Value::Int4(v) => v.to_string(),
            Value::Int8(v) => v.to_string(),
            Value::Oid(v) => v.to_string(),
            Value::Float4(v) => float4_text(*v),
            Value::Float8(v) => float_text(*v),
            Value::Numeric(n) => n.to_string(),
            Value::Text(s) | Value::Json(s) | Value::Jsonb(s) | Value::Xml(s) => s.clone(),
            Value::Enum { label, .. } => label.clone(),
            Value::Char(c) if c.is_ascii() => char::from(*c).to_string(),
            Value::Char(c) => format!("\\{c:03o}"),
            Value::Bytea(b) => hex(b),
            Value::Date(d) => d.to_string(),
            Value::Time(t) => time_text(t),
            Value::TimeTz {
                time,
                offset_seconds,
            } => {
                format!("{}{}", time_text(time), offset_text(*offset_seconds))
            }
            Value::Timestamp(t) => t.to_string(),
            Value::TimestampTz(t) => t.to_string(),
            Value::Interval(i) => i.to_string(),
            Value::Uuid(u) => uuid_text(u),
            Value::Inet { addr, prefix, cidr } => inet_text(addr, *prefix, *cidr),
            Value::MacAddr(m) => separated(m, ":"),
            Value::MacAddr8(m) => separated(m, ":"),
            Value::Bit(b) => b.to_string(),
            Value::Point(p) => p.to_string(),
            Value::Lseg(l) => l.to_string(),
            Value::Box(b) => b.to_string(),
            Value::Path { closed, points } => points_text(*closed, points),
            Value::Polygon(points) => points_text(true, points),
            Value::Line { a, b, c } => crate::Line {
                a: *a,
                b: *b,
                c: *c,
            }
            .to_string(),
            Value::Circle(c) => c.to_string(),
            Value::Money(m) => money_text(*m),
            Value::Hstore(map) => {
                let pairs: Vec<String> = map
                    .iter()
                    .map(|(k, v)| {
                        let v = v.as_deref().map_or("NULL".into(), quote_backslash);
                        format!("{}=>{v}", quote_backslash(k))
                    })
                    .collect();
                pairs.join(", ")
            }
            Value::Range(r) => range_text(r),
            Value::Multirange(ranges) => {
                let parts: Vec<String> = ranges.iter().map(range_text).collect();
                format!("{{{}}}", parts.join(","))
            }
            Value::Array(a) => array_text(a),
            Value::Composite(row) => record_text(row),
            Value::Unknown { text: Some(t), .. } => t.clone(),
            Value::Unknown {
                binary: Some(b), ..
            } => hex(b),
            Value::Unknown { .. } => return None,
        })
    }
}
