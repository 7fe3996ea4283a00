//! [`RowIndex`]: a column position or name.

use std::fmt;

use crate::Columns;

mod sealed {
    pub trait Sealed {}
}

/// What a row's column can be looked up by: its position (`usize`, from 0) or its name
/// (`&str`, `String`; the first column of that name). Sealed.
pub trait RowIndex: sealed::Sealed + fmt::Display {
    /// The position this index denotes in `columns`, if any.
    #[doc(hidden)]
    fn __position(&self, columns: &Columns) -> Option<usize>;
}

impl sealed::Sealed for usize {}

impl RowIndex for usize {
    fn __position(&self, columns: &Columns) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl sealed::Sealed for str {}

impl RowIndex for str {
    fn __position(&self, columns: &Columns) -> Option<usize> {
        columns.position(self)
    }
}

impl sealed::Sealed for String {}

impl RowIndex for String {
    fn __position(&self, columns: &Columns) -> Option<usize> {
        columns.position(self)
    }
}

impl<T: RowIndex + ?Sized> sealed::Sealed for &T {}

impl<T: RowIndex + ?Sized> RowIndex for &T {
    fn __position(&self, columns: &Columns) -> Option<usize> {
        T::__position(self, columns)
    }
}
