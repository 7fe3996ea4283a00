//! Statement parameters: anything that can encode its values for the statement's types.

use std::fmt;

use bytes::BytesMut;
use pg_types::{Row, Value};
use postgres_types::{Format, IsNull, Kind, ToSql, Type, WrongType};

pub(crate) type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A set of parameters for one execution: a slice or `Vec` of `&dyn ToSql` values, a tuple of
/// `ToSql` values (up to 12), a slice or `Vec` of [`Value`]s, or a [`Row`] (rows of one
/// connection loaded into another: a value whose column has the parameter's type goes as the
/// bytes it arrived in, text or binary; others through [`Value`]).
///
/// ```
/// use pg_api::Params;
/// use pg_types::Value;
/// use postgres_types::ToSql;
///
/// fn count<P: Params>(params: P) -> usize {
///     params.count()
/// }
/// let slice: &[&(dyn ToSql + Sync)] = &[&1i32, &"text"]; // trait objects
/// assert_eq!(count(slice), 2);
/// assert_eq!(count((1i32, "text", 2.5f64)), 3); // a tuple
/// assert_eq!(count(vec![Value::Int4(1), Value::Null]), 2); // owned dynamic values
/// ```
pub trait Params {
    /// How many values there are.
    fn count(&self) -> usize;
    /// Encodes value `index` for the server type `ty`.
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError>;
    /// The format code (0 text, 1 binary) value `index` is encoded in for `ty`: binary unless
    /// the value says otherwise ([`ToSql::encode_format`]; a `Value::Unknown` known only by its
    /// text is sent as text).
    fn format(&self, index: usize, ty: &Type) -> i16 {
        let _ = (index, ty);
        1
    }
    /// Writes value `index` as a log would show it (its `Debug` form): what the driver records
    /// of parameters when told to (`trace_parameters=on`), never by default. A set that cannot
    /// show its values writes `?`.
    fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = index;
        f.write_str("?")
    }
}

/// A parameter set shown as a list of its values (see [`Params::fmt_value`]).
///
/// ```
/// use pg_api::{Params, ShowParams};
/// assert_eq!(format!("{:?}", ShowParams(&(1i32, "x"))), r#"[1, "x"]"#);
/// ```
pub struct ShowParams<'a, P: Params + ?Sized>(pub &'a P);

impl<P: Params + ?Sized> fmt::Debug for ShowParams<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct One<'a, P: ?Sized>(&'a P, usize);
        impl<P: Params + ?Sized> fmt::Debug for One<'_, P> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_value(self.1, f)
            }
        }
        f.debug_list()
            .entries((0..self.0.count()).map(|i| One(self.0, i)))
            .finish()
    }
}

/// [`ToSql::to_sql_checked`], except that a value refusing a domain is offered the domain's
/// base type: the server takes a domain's binary form as its base type's, so an `i32` is a
/// value of a domain over `int4`, as it is when read back (result columns of a domain type
/// are described by their base type).
pub(crate) fn to_sql(value: &dyn ToSql, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
    let mut base = ty;
    loop {
        match value.to_sql_checked(base, buf) {
            Err(e) if e.is::<WrongType>() => match base.kind() {
                Kind::Domain(inner) => base = inner,
                // Name the parameter's own type, not the last base tried.
                _ => return value.to_sql_checked(ty, buf),
            },
            other => return other,
        }
    }
}

pub(crate) fn format(value: &dyn ToSql, ty: &Type) -> i16 {
    match value.encode_format(ty) {
        Format::Text => 0,
        Format::Binary => 1,
    }
}

/// Parameters behind a pointer are the parameters pointed at.
macro_rules! params_through_pointer {
    ($($pointer:ty),*) => {$(
        impl<P: Params + ?Sized> Params for $pointer {
            fn count(&self) -> usize {
                (**self).count()
            }
            fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
                (**self).encode(index, ty, buf)
            }
            fn format(&self, index: usize, ty: &Type) -> i16 {
                (**self).format(index, ty)
            }
            fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                (**self).fmt_value(index, f)
            }
        }
    )*};
}

params_through_pointer!(&P, Box<P>);

impl Params for [&(dyn ToSql + Sync)] {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        to_sql(self[index], ty, buf)
    }
    fn format(&self, index: usize, ty: &Type) -> i16 {
        format(self[index], ty)
    }
    fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self[index], f)
    }
}

impl<const N: usize> Params for [&(dyn ToSql + Sync); N] {
    fn count(&self) -> usize {
        N
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        to_sql(self[index], ty, buf)
    }
    fn format(&self, index: usize, ty: &Type) -> i16 {
        format(self[index], ty)
    }
    fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self[index], f)
    }
}

impl Params for Vec<&(dyn ToSql + Sync)> {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        to_sql(self[index], ty, buf)
    }
    fn format(&self, index: usize, ty: &Type) -> i16 {
        format(self[index], ty)
    }
    fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self[index], f)
    }
}

impl Params for [Value] {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        to_sql(&self[index], ty, buf)
    }
    fn format(&self, index: usize, ty: &Type) -> i16 {
        format(&self[index], ty)
    }
    fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self[index], f)
    }
}

impl Params for Row {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        if self.column(index).is_some_and(|c| c.type_ == *ty)
            && let Ok(raw) = self.raw(index)
        {
            // As it came: the server's own encoding of the same type, in the format `format`
            // names.
            return Ok(match raw {
                None => IsNull::Yes,
                Some(bytes) => {
                    buf.extend_from_slice(bytes);
                    IsNull::No
                }
            });
        }
        // A row of held values (`Row::from_values`) has no bytes to pass on.
        to_sql(&self.value(index)?, ty, buf)
    }
    fn format(&self, index: usize, ty: &Type) -> i16 {
        match self.column(index) {
            Some(column) if column.type_ == *ty && self.raw(index).is_ok() => column.format,
            _ => self.value(index).map_or(1, |value| format(&value, ty)),
        }
    }
    fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value(index) {
            Ok(value) => fmt::Debug::fmt(&value, f),
            Err(_) => f.write_str("?"),
        }
    }
}

impl Params for Vec<Value> {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        to_sql(&self[index], ty, buf)
    }
    fn format(&self, index: usize, ty: &Type) -> i16 {
        format(&self[index], ty)
    }
    fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self[index], f)
    }
}

impl<const N: usize> Params for [Value; N] {
    fn count(&self) -> usize {
        N
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        to_sql(&self[index], ty, buf)
    }
    fn format(&self, index: usize, ty: &Type) -> i16 {
        format(&self[index], ty)
    }
    fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self[index], f)
    }
}

impl Params for () {
    fn count(&self) -> usize {
        0
    }
    fn encode(&self, _: usize, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Err("no parameters".into())
    }
}

macro_rules! tuple_params {
    ($n:expr; $($name:ident $idx:tt),+) => {
        impl<$($name: ToSql),+> Params for ($($name,)+) {
            fn count(&self) -> usize {
                $n
            }
            fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
                match index {
                    $($idx => to_sql(&self.$idx, ty, buf),)+
                    _ => Err("parameter index out of range".into()),
                }
            }
            fn format(&self, index: usize, ty: &Type) -> i16 {
                match index {
                    $($idx => format(&self.$idx, ty),)+
                    _ => 1,
                }
            }
            fn fmt_value(&self, index: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match index {
                    $($idx => fmt::Debug::fmt(&self.$idx, f),)+
                    _ => f.write_str("?"),
                }
            }
        }
    };
}

tuple_params!(1; A 0);
tuple_params!(2; A 0, B 1);
tuple_params!(3; A 0, B 1, C 2);
tuple_params!(4; A 0, B 1, C 2, D 3);
tuple_params!(5; A 0, B 1, C 2, D 3, E 4);
tuple_params!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_params!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_params!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_params!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_params!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_params!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_params!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
