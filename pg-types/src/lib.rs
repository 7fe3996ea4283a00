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
