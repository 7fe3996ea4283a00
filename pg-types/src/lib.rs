//! PostgreSQL values, rows and type I/O for the PG-API client.
//!
//! - [`Value`]: the dynamic form of every PostgreSQL value — numbers, [`Numeric`] (a
//!   `Decimal`, or lossless text, NaN, ±Infinity), strings, date/times with
//!   ±infinity ([`Date`], [`Timestamp`], [`TimestampTz`]), [`Interval`] (months, days,
//!   microseconds), network addresses, [`BitString`]s, geometry, hstore, enums,
//!   [`Range`]s and multiranges, n-dimensional [`Array`]s with lower bounds, composites
//!   and anonymous records (as [`Row`]s), and [`Value::Unknown`] for types without a
//!   codec.
//! - Binary codecs: [`decode`], [`encode`], [`decode_text`] for text-format columns, and
//!   [`supports_binary`] to choose a column's format. `Value` is also postgres-types'
//!   [`ToSql`] and [`FromSql`] for every
//!   type. No input makes a decoder panic: every length is checked against the bytes that
//!   remain before it is used.
//! - [`Row`]: py-postgresql's row — a sequence and a mapping over a shared [`Columns`]
//!   descriptor — read typed (`row.get::<i64>("id")`) or dynamically (`row.value(0)`),
//!   zero-copy over the DataRow body.
//! - [`FromRow`]: a struct made from a row, `#[derive(FromRow)]` (fields by column name,
//!   `rename`, `default`, `flatten`, `try_from`), tuples by position.
//! - Type information: [`postgres_types::Type`] describes every type; the catalog query
//!   [`TYPE_CATALOG_QUERY`] and [`types_from_catalog`] build `Type`s for enums,
//!   composites, domains, ranges, multiranges and extension types; a [`TypeRegistry`]
//!   keeps them for a session, and the anonymous records of its results decode the named
//!   types inside them through it ([`unknown_record_types`] finds the OIDs a record's body
//!   names that the registry lacks).
//!
//! Errors are [`pg_exceptions::Error`](struct@pg_exceptions::Error)s: `TypeIOError` for codec failures,
//! `ColumnError` naming the column and its type for a row's values, `ParameterError`
//! naming the position and both types for parameters ([`encode_parameter`]).
//!
//! # Types from other crates: postgres-types' features
//!
//! Typed access goes through postgres-types' [`FromSql`] and [`ToSql`], so the types
//! postgres-types supports behind its features work as parameters and as
//! [`Row::try_get`] / `query_first` results once the application turns the feature on in
//! its own `Cargo.toml` (Cargo unifies it with this crate's postgres-types 0.2):
//!
//! ```toml
//! [dependencies]
//! postgres-types = { version = "0.2.14", features = ["derive", "with-uuid-1", "with-serde_json-1", "with-time-0_3", "with-cidr-0_3"] }
//! ```
//!
//! | feature | Rust types | PostgreSQL types |
//! |---|---|---|
//! | `with-uuid-1` | `uuid::Uuid` (uuid 1) | `uuid` |
//! | `with-serde_json-1` | `serde_json::Value`; `postgres_types::Json<T>` for any `T: Serialize` (parameters) / `Deserialize` (results) | `json`, `jsonb` |
//! | `with-time-0_3` | `time::OffsetDateTime`, `PrimitiveDateTime`, `Date`, `Time` (time 0.3) | `timestamptz`, `timestamp`, `date`, `time` |
//! | `with-cidr-0_3` | `cidr::IpCidr`, `cidr::IpInet` (cidr 0.3; `with-cidr-0_2` for cidr 0.2) | `cidr`, `inet` |
//! | `derive` | `#[derive(ToSql, FromSql)]` on your enums and structs | enums, composite types, domains |
//!
//! Others postgres-types offers the same way: `with-chrono-0_4` (on already, for this
//! crate's own use), `with-jiff-0_2`, `with-eui48-1` (`macaddr`), `with-geo-types-0_7`
//! (`point`, `box`, `path`), `with-bit-vec-0_8` (`bit`, `varbit`), `with-smol_str-01`.
//! Arrays come free: `Vec<T>` and `Option<T>` of any of them.
//!
//! A derived enum names its PostgreSQL type and labels (`#[postgres(name = "mood",
//! rename_all = "lowercase")]` or `#[postgres(name = "…")]` per variant); a derived struct
//! names its composite type, its fields the attributes by name (in any order; `Option`
//! for attributes that may be NULL). `accepts` compares names and labels with the type the
//! server describes — the driver reads enums' labels and composites' attributes from the
//! catalog — so a label the Rust enum lacks is an error when read, not a wrong variant.
//! The root crate's `tests/foreign_types.rs` proves each of these against a server: a uuid
//! round trip, `Json<MyStruct>` in and out of `json` and `jsonb`, `OffsetDateTime` at a
//! non-UTC offset, `cidr` and `inet`, and a derived enum and composite type (as
//! parameters, as columns, in arrays).
//!
//! ```
//! use postgres_types::{FromSql, ToSql};
//!
//! #[derive(Debug, PartialEq, ToSql, FromSql)]
//! #[postgres(name = "mood", rename_all = "lowercase")]
//! enum Mood {
//!     Sad,
//!     Happy,
//! }
//!
//! #[derive(Debug, PartialEq, ToSql, FromSql)]
//! #[postgres(name = "line_item")] // CREATE TYPE line_item AS (product text, quantity int4, mood mood)
//! struct LineItem {
//!     product: String,
//!     quantity: i32,
//!     mood: Mood,
//! }
//! // db.query("INSERT INTO orders VALUES ($1)", (item,)) and row.try_get::<LineItem>("item")
//! ```
//!
//! # Serde
//!
//! With the `serde` feature, [`Value`] and [`Row`] are `serde::Serialize`: a row is a map
//! of column name to value in column order, a repeated name suffixed so that no value is
//! lost ([`Columns::unique_names`]: `?column?`, `?column?_2`). Values map as `pgapi --json`
//! prints them:
//!
//! | value | serialized as |
//! |---|---|
//! | NULL | none (`null`) |
//! | `bool`, integers, `oid` | themselves |
//! | finite `float4`, `float8` | floats (serde_json writes the shortest text that reads back the same) |
//! | finite `numeric` | see below: exact either way |
//! | `json`, `jsonb` | see below |
//! | arrays | sequences, nested by dimension (lower bounds dropped) |
//! | composites and records | maps, like rows |
//! | `hstore` | a map of strings (NULL values `null`) |
//! | anything else | the string of its PostgreSQL text form: dates, times, intervals, `\x…` bytea, uuid, inet, ranges, enums' labels, `NaN`, `Infinity`, `-infinity` |
//!
//! Numerics and JSON documents have two forms, since serde has no "number as its digits"
//! nor "embedded document" that every format understands:
//!
//! - **Portable** (the `serde` feature alone, or the [`Portable`] wrapper whatever the
//!   features): a numeric is the string of its digits (`"12.50"`: exact in any format, as
//!   rust_decimal's own `serde` feature has it) and a `json`/`jsonb` value the string of its
//!   text.
//! - **serde_json** (the `serde_json` feature): a numeric is a JSON number digit for digit
//!   (`12.50`, and 40 digits stay 40 digits, never through `f64`), and a document is
//!   embedded as itself, white space between tokens dropped (one line) but its key order,
//!   repeated keys and long numbers kept. Both go through serde_json's `RawValue`, which
//!   serde_json's serializers write verbatim and which needs no `arbitrary_precision`
//!   (that feature would change every `serde_json::Number` of the program). A document is
//!   not parsed into a `serde_json::Value`: that would sort its keys, keep one of a
//!   repeated key and round long numbers to `f64`. Other formats (YAML, CBOR, …) would see
//!   `RawValue`'s private one-field struct: serialize through [`Portable`] for them.
//!   `serde_json::to_value` parses the raw text, so there numbers become what
//!   `serde_json::Number` holds.
//!
//! A value that cannot be decoded (a row over the server's bytes decodes as it goes) fails
//! the serialization with the decoding error's message.
//!
//! ```
//! # #[cfg(feature = "serde_json")] {
//! use pg_types::{Column, Columns, Numeric, Portable, Row, Type, Value};
//!
//! let columns = Columns::new(vec![
//!     Column::new("price", Type::NUMERIC),
//!     Column::new("doc", Type::JSONB),
//!     Column::new("price", Type::NUMERIC),
//! ]);
//! let row = Row::from_values(columns, vec![
//!     Value::Numeric(Numeric::parse("12.50").unwrap()),
//!     Value::Jsonb(r#"{"b": 1, "a": [true, null]}"#.into()),
//!     Value::Null,
//! ]);
//! assert_eq!(
//!     serde_json::to_string(&row).unwrap(),
//!     r#"{"price":12.50,"doc":{"b":1,"a":[true,null]},"price_2":null}"#
//! );
//! assert_eq!(
//!     serde_json::to_string(&Portable(&row)).unwrap(),
//!     r#"{"price":"12.50","doc":"{\"b\": 1, \"a\": [true, null]}","price_2":null}"#
//! );
//! # }
//! ```
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use pg_types::{Value, decode, encode};
//! use postgres_types::Type;
//!
//! let value = Value::from(vec![Some(1), None, Some(3)]);
//! let mut buf = BytesMut::new();
//! encode(&Type::INT4_ARRAY, &value, &mut buf).unwrap();
//! assert_eq!(decode(&Type::INT4_ARRAY, &buf).unwrap(), value);
//! assert_eq!(value.to_string(), "[1, None, 3]");
//! ```

mod array;
mod bits;
mod catalog;
mod codec;
mod convert;
mod datetime;
mod datetime_text;
mod decode;
mod decode_container;
mod display;
mod encode;
mod encode_container;
mod error;
mod fast_decode;
mod geometry;
mod numeric;
mod range;
mod registry;
mod row;
#[cfg(feature = "serde")]
mod ser;
mod sql;
mod text_in;
mod text_out;
mod value;
mod value_eq;

pub use array::{Array, Dim};
pub use bits::BitString;
pub use catalog::{TYPE_CATALOG_QUERY, type_catalog_query, types_from_catalog};
pub use codec::supports_binary;
pub use datetime::{Date, Interval, Timestamp, TimestampTz};
pub use decode::{decode, decode_opt, decode_opt_with, decode_with};
pub use encode::{encode, encode_format, encode_parameter};
pub use geometry::{Circle, GeoBox, Line, Lseg, Point};
pub use numeric::Numeric;
/// `#[derive(FromRow)]`: a struct read from a row by column name (see the [`FromRow`] trait
/// and the `pg-derive` crate for the attributes).
pub use pg_derive::FromRow;
pub use range::{Range, RangeBound};
pub use registry::{TypeRegistry, holds_records, unknown_record_types};
pub use row::{Column, Columns, FromRow, Row, RowIndex, ValueFn, Values};
#[cfg(feature = "serde")]
pub use ser::Portable;

/// What the code `#[derive(FromRow)]` generates calls: not a public interface.
#[doc(hidden)]
pub use row::derive_support as __derive;

// The derive names this crate `::pg_types`, in this crate's own tests too.
extern crate self as pg_types;
pub use text_in::decode_text;
pub use value::Value;

/// Re-exported: the type descriptor used throughout ([`Type`],
/// [`Kind`], [`Field`]) and the traits `Value`
/// implements.
pub use postgres_types::{Field, FromSql, IsNull, Kind, ToSql, Type};
