//! [`Value`], the dynamic form of every PostgreSQL value.

use std::net::IpAddr;

use chrono::NaiveTime;
use indexmap::IndexMap;
use postgres_types::Type;
use rust_decimal::Decimal;

use crate::{
    Array, BitString, Circle, Date, GeoBox, Interval, Lseg, Numeric, Point, Range, Row, Timestamp,
    TimestampTz,
};

/// A PostgreSQL value of any type.
///
/// [`decode`](crate::decode) makes one from a binary value of a given
/// [`Type`], [`encode`](crate::encode) writes one for a given type, and `Value` is also
/// [`ToSql`](postgres_types::ToSql) / [`FromSql`](postgres_types::FromSql) for every type.
/// Domains decode as their base type; a type without a binary codec is
/// [`Value::Unknown`] carrying its text (or raw binary) form.
///
/// Equality follows PostgreSQL: floats compare by value except that NaN equals NaN
/// (`-0.0 == 0.0`); numerics compare by value (`1.0 == 1.00`); arrays compare dimensions and
/// elements (not the element type); composites compare their values (not column names).
/// Values of different variants are never equal (`Int4(1) != Int8(1)`).
///
/// `Display` is a Python-like repr, as py-postgresql prints rows: strings in single
/// quotes, NULL as `None`, numbers plain, arrays as `[…]`, composites as tuples, hstore
/// as a dict, numerics as `Decimal('…')`, other types as their quoted PostgreSQL text.
#[derive(Debug, Clone)]
pub enum Value {
    /// NULL.
    Null,
    /// BOOLEAN.
    Bool(bool),
    /// SMALLINT.
    Int2(i16),
    /// INTEGER.
    Int4(i32),
    /// BIGINT.
    Int8(i64),
    /// REAL.
    Float4(f32),
    /// DOUBLE PRECISION.
    Float8(f64),
    /// NUMERIC.
    Numeric(Numeric),
    /// TEXT, VARCHAR, BPCHAR, NAME, UNKNOWN, CITEXT.
    Text(String),
    /// `"char"`, the one-byte type.
    Char(u8),
    /// BYTEA.
    Bytea(Vec<u8>),
    /// DATE.
    Date(Date),
    /// TIME. PostgreSQL's `24:00:00` is chrono's leap second after `23:59:59`.
    Time(NaiveTime),
    /// TIME WITH TIME ZONE.
    TimeTz {
        /// The time of day.
        time: NaiveTime,
        /// The UTC offset in seconds east of Greenwich (`+05:30` is 19800).
        offset_seconds: i32,
    },
    /// TIMESTAMP.
    Timestamp(Timestamp),
    /// TIMESTAMP WITH TIME ZONE.
    TimestampTz(TimestampTz),
    /// INTERVAL.
    Interval(Interval),
    /// UUID.
    Uuid([u8; 16]),
    /// JSON, as its text.
    Json(String),
    /// JSONB, as its text.
    Jsonb(String),
    /// XML, as its text.
    Xml(String),
    /// OID and the reg* types (regclass, regtype, regproc, …), as the OID.
    Oid(u32),
    /// INET and CIDR.
    Inet {
        /// The address.
        addr: IpAddr,
        /// The network prefix length in bits.
        prefix: u8,
        /// Whether the value is a CIDR (a network) rather than an INET.
        cidr: bool,
    },
    /// MACADDR.
    MacAddr([u8; 6]),
    /// MACADDR8.
    MacAddr8([u8; 8]),
    /// BIT and BIT VARYING.
    Bit(BitString),
    /// POINT.
    Point(Point),
    /// LSEG.
    Lseg(Lseg),
    /// BOX.
    Box(GeoBox),
    /// PATH.
    Path {
        /// Whether the path is closed (a cycle) rather than open.
        closed: bool,
        /// The points.
        points: Vec<Point>,
    },
    /// POLYGON, by its points.
    Polygon(Vec<Point>),
    /// LINE `{a,b,c}`: `a·x + b·y + c = 0`.
    Line {
        /// The x coefficient.
        a: f64,
        /// The y coefficient.
        b: f64,
        /// The constant.
        c: f64,
    },
    /// CIRCLE.
    Circle(Circle),
    /// MONEY, in the currency's minor unit (cents).
    Money(i64),
    /// HSTORE (the extension type), in the server's order.
    Hstore(IndexMap<String, Option<String>>),
    /// A value of an enum type.
    Enum {
        /// The enum type's name.
        type_name: String,
        /// The label.
        label: String,
    },
    /// A range.
    Range(Range),
    /// A multirange, by its ranges.
    Multirange(Vec<Range>),
    /// An array.
    Array(Array),
    /// A composite value or anonymous record, as a row of its attributes.
    Composite(Row),
    /// A value of a type without a codec here: its text form (for a column received as
    /// text) or its binary form (for an unknown attribute of an anonymous record).
    Unknown {
        /// The type's OID.
        type_oid: u32,
        /// The text form, if received as text.
        text: Option<String>,
        /// The binary form, if received as binary.
        binary: Option<Vec<u8>>,
    },
}

impl Value {
    /// Whether the value is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A boolean's value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Any integer (`Int2`, `Int4`, `Int8`, `Oid`) as an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int2(v) => Some((*v).into()),
            Value::Int4(v) => Some((*v).into()),
            Value::Int8(v) => Some(*v),
            Value::Oid(v) => Some((*v).into()),
            _ => None,
        }
    }

    /// Any integer as an `i32`, if it fits.
    pub fn as_i32(&self) -> Option<i32> {
        self.as_i64().and_then(|v| i32::try_from(v).ok())
    }

    /// A float, or an integer converted to `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float4(v) => Some((*v).into()),
            Value::Float8(v) => Some(*v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    /// The text of a string-like value: `Text`, `Json`, `Jsonb`, `Xml`, an enum's label,
    /// an unknown value's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) | Value::Json(s) | Value::Jsonb(s) | Value::Xml(s) => Some(s),
            Value::Enum { label, .. } => Some(label),
            Value::Unknown { text: Some(t), .. } => Some(t),
            _ => None,
        }
    }

    /// The bytes of a `Bytea`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytea(b) => Some(b),
            _ => None,
        }
    }

    /// A numeric's `Decimal`, or an integer as one.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Value::Numeric(n) => n.as_decimal(),
            _ => self.as_i64().map(Decimal::from),
        }
    }

    /// An array.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A composite's row.
    pub fn as_row(&self) -> Option<&Row> {
        match self {
            Value::Composite(r) => Some(r),
            _ => None,
        }
    }

    /// A range.
    pub fn as_range(&self) -> Option<&Range> {
        match self {
            Value::Range(r) => Some(r),
            _ => None,
        }
    }

    /// The name of the variant's natural PostgreSQL type (`int4`, `text`, `array`, …), for
    /// messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Array(_) => "array",
            Value::Composite(_) => "composite",
            Value::Range(_) => "range",
            Value::Multirange(_) => "multirange",
            Value::Enum { .. } => "enum",
            Value::Hstore(_) => "hstore",
            Value::Unknown { .. } => "unknown-type value",
            Value::TimeTz { .. } => "timetz",
            Value::Inet { cidr: true, .. } => "cidr",
            Value::Inet { .. } => "inet",
            Value::Path { .. } => "path",
            Value::Line { .. } => "line",
            other => other.natural_type().map_or("value", |t| static_name(&t)),
        }
    }

    /// The builtin type a value of this variant naturally has (`Int4` → `int4`,
    /// `Text` → `text`, an array → the array type of its element type when builtin); `None`
    /// for NULL, enums, composites, ranges, hstore and unknown values.
    pub fn natural_type(&self) -> Option<Type> {
        Some(match self {
            Value::Bool(_) => Type::BOOL,
            Value::Int2(_) => Type::INT2,
            Value::Int4(_) => Type::INT4,
            Value::Int8(_) => Type::INT8,
            Value::Float4(_) => Type::FLOAT4,
            Value::Float8(_) => Type::FLOAT8,
            Value::Numeric(_) => Type::NUMERIC,
            Value::Text(_) => Type::TEXT,
            Value::Char(_) => Type::CHAR,
            Value::Bytea(_) => Type::BYTEA,
            Value::Date(_) => Type::DATE,
            Value::Time(_) => Type::TIME,
            Value::TimeTz { .. } => Type::TIMETZ,
            Value::Timestamp(_) => Type::TIMESTAMP,
            Value::TimestampTz(_) => Type::TIMESTAMPTZ,
            Value::Interval(_) => Type::INTERVAL,
            Value::Uuid(_) => Type::UUID,
            Value::Json(_) => Type::JSON,
            Value::Jsonb(_) => Type::JSONB,
            Value::Xml(_) => Type::XML,
            Value::Oid(_) => Type::OID,
            Value::Inet { cidr: true, .. } => Type::CIDR,
            Value::Inet { .. } => Type::INET,
            Value::MacAddr(_) => Type::MACADDR,
            Value::MacAddr8(_) => Type::MACADDR8,
            Value::Bit(_) => Type::VARBIT,
            Value::Point(_) => Type::POINT,
            Value::Lseg(_) => Type::LSEG,
            Value::Box(_) => Type::BOX,
            Value::Path { .. } => Type::PATH,
            Value::Polygon(_) => Type::POLYGON,
            Value::Line { .. } => Type::LINE,
            Value::Circle(_) => Type::CIRCLE,
            Value::Money(_) => Type::MONEY,
            Value::Array(a) => array_type_of(&a.element_type)?,
            _ => return None,
        })
    }
}

fn static_name(ty: &Type) -> &'static str {
    macro_rules! names {
        ($($c:ident => $n:literal),* $(,)?) => {
            match *ty { $(Type::$c => $n,)* _ => "value" }
        };
    }
    names!(BOOL => "bool", INT2 => "int2", INT4 => "int4", INT8 => "int8", FLOAT4 => "float4",
        FLOAT8 => "float8", NUMERIC => "numeric", TEXT => "text", CHAR => "\"char\"",
        BYTEA => "bytea", DATE => "date", TIME => "time", TIMESTAMP => "timestamp",
        TIMESTAMPTZ => "timestamptz", INTERVAL => "interval", UUID => "uuid", JSON => "json",
        JSONB => "jsonb", XML => "xml", OID => "oid", MACADDR => "macaddr",
        MACADDR8 => "macaddr8", VARBIT => "varbit", POINT => "point", LSEG => "lseg",
        BOX => "box", POLYGON => "polygon", CIRCLE => "circle", MONEY => "money")
}

/// The builtin array type whose elements are `element`.
pub(crate) fn array_type_of(element: &Type) -> Option<Type> {
    crate::codec::builtin_array_of(element.oid())
}
