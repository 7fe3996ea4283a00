//! Equality of rows (with rows, tuples and value slices), `Display` and `Debug`.

use std::fmt;

use super::Row;
use crate::Value;

impl PartialEq for Row {
    /// Rows are equal when their values are (column names are not compared); a value
    /// that cannot be decoded makes them unequal.
    fn eq(&self, other: &Row) -> bool {
        self.len() == other.len()
            && (0..self.len()).all(|i| match (self.value_at(i), other.value_at(i)) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            })
    }
}

impl PartialEq<[Value]> for Row {
    fn eq(&self, other: &[Value]) -> bool {
        self.len() == other.len()
            && other
                .iter()
                .enumerate()
                .all(|(i, b)| self.value_at(i).is_ok_and(|a| a == *b))
    }
}

impl PartialEq<Vec<Value>> for Row {
    fn eq(&self, other: &Vec<Value>) -> bool {
        *self == other[..]
    }
}

macro_rules! tuple_eq {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Clone + Into<Value>),+> PartialEq<($($t,)+)> for Row {
            /// Equal when the row has as many values and each equals the tuple's element
            /// converted to a [`Value`]: `row == (1, "a", None::<i32>)`.
            fn eq(&self, other: &($($t,)+)) -> bool {
                let expected = [$(other.$i.clone().into()),+];
                *self == expected[..]
            }
        }
    };
}

tuple_eq!(A 0);
tuple_eq!(A 0, B 1);
tuple_eq!(A 0, B 1, C 2);
tuple_eq!(A 0, B 1, C 2, D 3);
tuple_eq!(A 0, B 1, C 2, D 3, E 4);
tuple_eq!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_eq!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_eq!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_eq!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_eq!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_eq!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_eq!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

impl fmt::Display for Row {
    /// py-postgresql's tuple form: `(1, 'a', None)`, `(1,)` for one value; a value that
    /// cannot be decoded shows as `<error: …>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for i in 0..self.len() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match self.value_at(i) {
                Ok(v) => write!(f, "{v}")?,
                Err(e) => write!(f, "<error: {}>", e.message())?,
            }
        }
        f.write_str(if self.len() == 1 { ",)" } else { ")" })
    }
}

impl fmt::Debug for Row {
    /// The column names with their values: `Row { id: Int4(1), name: Text("a") }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Row");
        for i in 0..self.len() {
            let value = self.value_at(i).map_err(|e| e.message().to_owned());
            out.field(&self.columns[i].name, &DebugValue(value));
        }
        out.finish()
    }
}

struct DebugValue(Result<Value, String>);

impl fmt::Debug for DebugValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(v) => fmt::Debug::fmt(v, f),
            Err(e) => write!(f, "<error: {e}>"),
        }
    }
}
