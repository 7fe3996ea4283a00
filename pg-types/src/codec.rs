//! Which codec a [`Type`] has: builtins by OID, extension types by name, containers by
//! kind, domains by their base type.

use std::collections::HashMap;
use std::sync::OnceLock;

use postgres_types::{Field, Kind, Type};

/// The binary codec of a type (domains resolved to their base type).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Codec<'a> {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text,
    Char,
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Xml,
    Oid,
    Inet,
    MacAddr,
    MacAddr8,
    Bit,
    Point,
    Lseg,
    Box,
    Path,
    Polygon,
    Line,
    Circle,
    Money,
    Hstore,
    /// An enum type (itself, for its name).
    Enum(&'a Type),
    /// An array, by its element type.
    Array(&'a Type),
    /// A range, by its subtype.
    Range(&'a Type),
    /// A multirange, by its subtype (postgres-types' convention) or its range type.
    Multirange(&'a Type),
    /// A composite type, by its attributes.
    Composite(&'a [Field]),
    /// The anonymous `record`: attributes carry their own OIDs.
    Record,
    /// No binary codec: the value travels as text.
    None,
}

/// The deepest nesting of domains followed before giving up (a malformed, cyclic `Type`).
const MAX_DOMAIN_DEPTH: usize = 32;

/// The codec of `ty`, following domains to their base type.
pub(crate) fn codec(ty: &Type) -> Codec<'_> {
    let mut ty = ty;
    for _ in 0..MAX_DOMAIN_DEPTH {
        match ty.kind() {
            Kind::Domain(base) => ty = base,
            Kind::Array(elem) => return Codec::Array(elem),
            Kind::Range(sub) => return Codec::Range(sub),
            Kind::Multirange(range) => return Codec::Multirange(range),
            Kind::Composite(fields) => return Codec::Composite(fields),
            Kind::Enum(_) => return Codec::Enum(ty),
            _ => return simple_codec(ty),
        }
    }
    Codec::None
}

static RECORD: Type = Type::RECORD;

fn simple_codec(ty: &Type) -> Codec<'_> {
    match ty.oid() {
        16 => Codec::Bool,
        17 => Codec::Bytea,
        18 => Codec::Char,
        19 | 25 | 705 | 1042 | 1043 => Codec::Text,
        20 => Codec::Int8,
        21 => Codec::Int2,
        23 => Codec::Int4,
        // oid, regproc, regprocedure, regoper, regoperator, regclass, regtype, regconfig,
        // regdictionary, regnamespace, regrole, regcollation.
        26 | 24 | 2202 | 2203 | 2204 | 2205 | 2206 | 3734 | 3769 | 4089 | 4096 | 4191 => Codec::Oid,
        114 => Codec::Json,
        142 => Codec::Xml,
        600 => Codec::Point,
        601 => Codec::Lseg,
        602 => Codec::Path,
        603 => Codec::Box,
        604 => Codec::Polygon,
        628 => Codec::Line,
        650 | 869 => Codec::Inet,
        700 => Codec::Float4,
        701 => Codec::Float8,
        718 => Codec::Circle,
        774 => Codec::MacAddr8,
        790 => Codec::Money,
        829 => Codec::MacAddr,
        1082 => Codec::Date,
        1083 => Codec::Time,
        1114 => Codec::Timestamp,
        1184 => Codec::TimestampTz,
        1186 => Codec::Interval,
        1266 => Codec::TimeTz,
        1560 | 1562 => Codec::Bit,
        1700 => Codec::Numeric,
        2249 => Codec::Record,
        // postgres-types calls `_record` a pseudo-type (its typtype is 'p'), but it is a
        // real array of anonymous records: `ARRAY[ROW(1, 'a')]`.
        2287 => Codec::Array(&RECORD),
        2950 => Codec::Uuid,
        3802 => Codec::Jsonb,
        _ if matches!(ty.kind(), Kind::Simple) => match ty.name() {
            "hstore" => Codec::Hstore,
            "citext" => Codec::Text,
            _ => Codec::None,
        },
        _ => Codec::None,
    }
}

/// The deepest type nesting [`supports_binary`] follows.
const MAX_TYPE_DEPTH: usize = 64;

/// Whether a result column of `ty` should be requested in binary: true when every part of
/// the type (array elements, range subtypes, composite attributes, domain bases) has a
/// binary decoder here. Types without one are requested as text and decode to
/// [`Value::Unknown`](crate::Value::Unknown) (or, for the text-like ones, parsed text).
pub fn supports_binary(ty: &Type) -> bool {
    supports(ty, 0)
}

fn supports(ty: &Type, depth: usize) -> bool {
    if depth > MAX_TYPE_DEPTH {
        return false;
    }
    match codec(ty) {
        Codec::None => false,
        Codec::Array(t) | Codec::Range(t) | Codec::Multirange(t) => supports(t, depth + 1),
        Codec::Composite(fields) => fields.iter().all(|f| supports(f.type_(), depth + 1)),
        _ => true,
    }
}

/// The builtin array type of builtin element type `element_oid`.
pub(crate) fn builtin_array_of(element_oid: u32) -> Option<Type> {
    static TABLE: OnceLock<HashMap<u32, u32>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut map = HashMap::new();
        for oid in 0..16_384 {
            if let Some(t) = Type::from_oid(oid)
                && let Kind::Array(elem) = t.kind()
                && t.name().starts_with('_')
            {
                map.entry(elem.oid()).or_insert(oid);
            }
        }
        map
    });
    table.get(&element_oid).and_then(|&a| Type::from_oid(a))
}
