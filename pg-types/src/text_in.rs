//! Decoding of values received in text format (types without a binary codec, or
//! columns the driver asked for as text).

use pg_exceptions::Error;
use postgres_types::Type;

use crate::codec::{Codec, codec};
use crate::error::type_io_error;
use crate::{Numeric, Value};

/// Decodes the text form of a value of type `ty`. Booleans, integers, OIDs, floats,
/// numerics, the string types (text, json, jsonb, xml, enums), `"char"`, hex-format
/// bytea and UUIDs are parsed into their [`Value`]s; every other type gives
/// [`Value::Unknown`] with the text.
pub fn decode_text(ty: &Type, text: &str) -> Result<Value, Error> {
    let fail = |why: &str| type_io_error(format!("cannot decode the text {text:?} as {ty}: {why}"));
    let unknown = || Value::Unknown {
        type_oid: ty.oid(),
        text: Some(text.to_owned()),
        binary: None,
    };
    Ok(match codec(ty) {
        Codec::Bool => match text {
            "t" | "true" => Value::Bool(true),
            "f" | "false" => Value::Bool(false),
            _ => return Err(fail("not a boolean")),
        },
        Codec::Int2 => Value::Int2(text.trim().parse().map_err(|_| fail("not a smallint"))?),
        Codec::Int4 => Value::Int4(text.trim().parse().map_err(|_| fail("not an integer"))?),
        Codec::Int8 => Value::Int8(text.trim().parse().map_err(|_| fail("not a bigint"))?),
        // The reg* types print names, not numbers.
        Codec::Oid => match text.trim().parse() {
            Ok(oid) => Value::Oid(oid),
            Err(_) => unknown(),
        },
        Codec::Float4 => {
            Value::Float4(parse_float(text).ok_or_else(|| fail("not a float"))? as f32)
        }
        Codec::Float8 => Value::Float8(parse_float(text).ok_or_else(|| fail("not a float"))?),
        Codec::Numeric => Value::Numeric(Numeric::parse(text).map_err(|e| fail(&e))?),
        Codec::Text => Value::Text(text.to_owned()),
        Codec::Json => Value::Json(text.to_owned()),
        Codec::Jsonb => Value::Jsonb(text.to_owned()),
        Codec::Xml => Value::Xml(text.to_owned()),
        Codec::Enum(e) => Value::Enum {
            type_name: e.name().to_owned(),
            label: text.to_owned(),
        },
        Codec::Char => Value::Char(parse_char(text).ok_or_else(|| fail("not a \"char\""))?),
        Codec::Bytea => match text.strip_prefix("\\x") {
            Some(hex) => Value::Bytea(parse_hex(hex).ok_or_else(|| fail("invalid hex"))?),
            None => unknown(),
        },
        Codec::Uuid => {
            let hex: String = text.trim().chars().filter(|&c| c != '-').collect();
            let bytes = parse_hex(&hex).ok_or_else(|| fail("not a uuid"))?;
            Value::Uuid(bytes.try_into().map_err(|_| fail("not a uuid"))?)
        }
        _ => unknown(),
    })
}

fn parse_float(text: &str) -> Option<f64> {
    match text.trim().to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "+infinity" | "inf" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// `"char"`'s text: the byte itself, `\ooo` for a byte with the high bit set, empty for 0.
fn parse_char(text: &str) -> Option<u8> {
    let b = text.as_bytes();
    match b {
        [] => Some(0),
        [c] => Some(*c),
        [b'\\', o @ ..] if o.len() == 3 => u8::from_str_radix(std::str::from_utf8(o).ok()?, 8).ok(),
        _ => None,
    }
}

fn parse_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks_exact(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}
