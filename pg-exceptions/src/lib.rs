//! The SQLSTATE table and the Error type.
