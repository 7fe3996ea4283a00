//! `Display` for [`Value`]: a Python-like repr, as py-postgresql prints rows.

use std::fmt::{self, Write};

use crate::{Array, Numeric, Value};

/// Python's `repr` of a str: single quotes unless the text has a `'` and no `"`.
pub(crate) fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of bytes: `b'…'`.
fn py_bytes(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(char::from(quote));
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(char::from(c));
            }
            0x20..=0x7e => out.push(char::from(c)),
            c => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(char::from(quote));
    out
}

fn py_float(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{v:?}")
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Value]) -> fmt::Result {
    f.write_str("[")?;
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_str("]")
}

fn write_array(f: &mut fmt::Formatter<'_>, a: &Array) -> fmt::Result {
    write_list(f, &a.sub_arrays())
}

impl fmt::Display for Value {
    /// A Python-like repr: `None`, `True`, `1`, `1.5`, `'text'`, `b'\x00'`,
    /// `Decimal('1.50')`, `[1, None]`, `(1, 'a')`, `{'k': None}`; other types as their
    /// quoted PostgreSQL text (`'2024-01-31'`, `'[1,5)'`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("None"),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Int2(v) => write!(f, "{v}"),
            Value::Int4(v) => write!(f, "{v}"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Oid(v) => write!(f, "{v}"),
            Value::Money(_) => f.write_str(&py_str(&self.to_pg_text().unwrap_or_default())),
            Value::Float4(v) => f.write_str(&py_float(f64::from(*v))),
            Value::Float8(v) => f.write_str(&py_float(*v)),
            Value::Numeric(n) => match n {
                Numeric::NaN => f.write_str("Decimal('NaN')"),
                n => write!(f, "Decimal('{n}')"),
            },
            Value::Text(s) | Value::Json(s) | Value::Jsonb(s) | Value::Xml(s) => {
                f.write_str(&py_str(s))
            }
            Value::Enum { label, .. } => f.write_str(&py_str(label)),
            Value::Bytea(b) => f.write_str(&py_bytes(b)),
            Value::Array(a) => write_array(f, a),
            Value::Composite(row) => write!(f, "{row}"),
            Value::Hstore(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    let v = v.as_deref().map_or("None".into(), py_str);
                    write!(f, "{}: {v}", py_str(k))?;
                }
                f.write_str("}")
            }
            Value::Unknown {
                text: None,
                binary: Some(b),
                ..
            } => f.write_str(&py_bytes(b)),
            other => match other.to_pg_text() {
                Some(t) => f.write_str(&py_str(&t)),
                None => f.write_str("None"),
            },
        }
    }
}
