//! `ToSql` and `FromSql` for [`Value`]: it accepts every type in both directions.

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use postgres_types::{Format, FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::{Value, decode, encode, encode_format};

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Value {
    /// [`encode`]: the binary form for `ty`, or the text of a [`Value::Unknown`] known
    /// only as text (whose [`encode_format`](ToSql::encode_format) is text).
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if let Value::Unknown {
            text: Some(t),
            binary: None,
            ..
        } = self
        {
            out.put_slice(t.as_bytes());
            return Ok(IsNull::No);
        }
        Ok(encode(ty, self, out)?)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        match encode_format(self) {
            0 => Format::Text,
            _ => Format::Binary,
        }
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    /// [`decode`].
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Value, BoxError> {
        Ok(decode(ty, raw)?)
    }

    /// [`Value::Null`].
    fn from_sql_null(_: &Type) -> Result<Value, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
