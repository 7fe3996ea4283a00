//! The errors of this crate, all [`pg_exceptions::Error`]s of the type I/O classes.

use std::fmt::Display;

use pg_exceptions::{ColumnError, Error, ParameterError, TypeIOError};
use postgres_types::Type;

use crate::Value;

/// A generic codec error ([`TypeIOError`]).
pub(crate) fn type_io_error(message: impl Into<String>) -> Error {
    Error::client(&TypeIOError, message)
}

/// A binary value of `ty` that cannot be decoded.
pub(crate) fn decode_error(ty: &Type, message: impl Display) -> Error {
    type_io_error(format!("cannot decode a binary {ty} value: {message}"))
}

/// A value that cannot be encoded as `ty`.
pub(crate) fn encode_error(ty: &Type, value: &Value, message: impl Display) -> Error {
    type_io_error(format!(
        "cannot encode a {} value as {ty}: {message}",
        value.kind_name()
    ))
}

/// A result column that cannot be decoded ([`ColumnError`]), naming the column and its
/// type; `cause` is kept as the error's source.
pub(crate) fn column_error(name: &str, index: usize, ty: &Type, cause: Error) -> Error {
    Error::client(
        &ColumnError,
        format!(
            "column {name:?} (#{index}) of type {ty}: {}",
            cause.message()
        ),
    )
    .with_cause(cause)
}

/// A statement parameter that cannot be encoded ([`ParameterError`]), naming its position
/// (1-based, as `$1`), the value's type and the parameter's type.
pub(crate) fn parameter_error(position: usize, ty: &Type, value: &Value, cause: Error) -> Error {
    Error::client(
        &ParameterError,
        format!(
            "parameter ${position} ({} value for type {ty}): {}",
            value.kind_name(),
            cause.message()
        ),
    )
    .with_cause(cause)
}
