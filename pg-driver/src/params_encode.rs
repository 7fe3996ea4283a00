//! Statement parameters: anything that can encode its values for the statement's types.

use bytes::BytesMut;
use pg_types::Value;
use postgres_types::{IsNull, ToSql, Type};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A set of parameters for one execution: a slice or `Vec` of `&dyn ToSql` values, a tuple of
/// `ToSql` values (up to 12), or a slice or `Vec` of [`Value`]s.
///
/// ```no_run
/// # async fn f(ps: &pg_driver::Statement) -> Result<(), pg_exceptions::Error> {
/// use pg_types::Value;
/// ps.call(&[&1i32, &"text"]).await?;          // slice of trait objects
/// ps.call((1i32, "text")).await?;              // tuple
/// ps.call(vec![Value::Int4(1), Value::Null]).await?; // owned dynamic values
/// # Ok(()) }
/// ```
pub trait Params {
    /// How many values there are.
    fn count(&self) -> usize;
    /// Encodes value `index` for the server type `ty`.
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError>;
}

impl<P: Params + ?Sized> Params for &P {
    fn count(&self) -> usize {
        (**self).count()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        (**self).encode(index, ty, buf)
    }
}

impl Params for [&(dyn ToSql + Sync)] {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        self[index].to_sql_checked(ty, buf)
    }
}

impl<const N: usize> Params for [&(dyn ToSql + Sync); N] {
    fn count(&self) -> usize {
        N
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        self[index].to_sql_checked(ty, buf)
    }
}

impl Params for Vec<&(dyn ToSql + Sync)> {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        self[index].to_sql_checked(ty, buf)
    }
}

impl Params for [Value] {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        self[index].to_sql_checked(ty, buf)
    }
}

impl Params for Vec<Value> {
    fn count(&self) -> usize {
        self.len()
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        self[index].to_sql_checked(ty, buf)
    }
}

impl<const N: usize> Params for [Value; N] {
    fn count(&self) -> usize {
        N
    }
    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        self[index].to_sql_checked(ty, buf)
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
                    $($idx => self.$idx.to_sql_checked(ty, buf),)+
                    _ => Err("parameter index out of range".into()),
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
