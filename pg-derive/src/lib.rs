//! `#[derive(FromRow)]`: PostgreSQL result rows into Rust structs.
//!
//! The derive implements pg-types' `FromRow` trait. Use it through the crate you already
//! depend on — `use pg_types::FromRow;`, `use pg_driver::FromRow;` or
//! `use postgresql::FromRow;` name both the trait and the derive.
//!
//! Each field of a struct with named fields is read from the column of the same name through
//! `Row::try_get`, so any postgres-types `FromSql` type works as a field — `i32`, `String`,
//! `Vec<u8>`, chrono's date/times, `rust_decimal::Decimal`, `pg_types::Value`, `Option<T>`
//! for a column that may be NULL, and users' own `FromSql` types. Columns the struct does not
//! name are ignored. A tuple struct's fields are read by position.
//!
//! # Attributes
//!
//! On a field:
//!
//! - `#[pg(rename = "column")]`: read this column instead of the field's name.
//! - `#[pg(default)]`: a column the row **does not have** gives `Default::default()` (as
//!   sqlx's `default`). A column that is there and NULL is not missing: it is an error for
//!   a non-`Option` field, so a NULL is never silently taken for a default; make the field
//!   an `Option<T>` (or `unwrap_or_default()` it) to accept NULL.
//! - `#[pg(flatten)]`: the field is itself a `FromRow` (derived, typically), read from the
//!   same row — its columns sit beside the outer struct's.
//! - `#[pg(try_from = "Type")]`: read the column as `Type`, then convert with
//!   `TryFrom<Type>` into the field's type (`#[pg(try_from = "i64")] count: u32`). A failed
//!   conversion is an error naming the column; the conversion error's `Display` is its text.
//!   Combines with `default` and `rename`.
//!
//! On the struct:
//!
//! - `#[pg(rename_all = "...")]`: the column name of every field not renamed, by case:
//!   `"lowercase"`, `"UPPERCASE"`, `"snake_case"`, `"SCREAMING_SNAKE_CASE"`, `"camelCase"`,
//!   `"PascalCase"`, `"kebab-case"`.
//! - `#[pg(crate = "path")]`: where pg-types is, when the derive cannot tell (the crate
//!   depends on pg-types, pg-driver, `postgresql` or pg-session under another name than
//!   its package's, or through another crate's re-export): `#[pg(crate = "my_db::types")]`.
//!
//! Enums, unions, structs with a lifetime parameter (a field cannot borrow from the row),
//! unknown attributes and a `try_from` that is not a type are compile errors. A generic
//! struct's impl requires of each type parameter what its fields need.
//!
//! # Errors
//!
//! Reading never panics. Every failure is a `pg_exceptions::Error` of class `ColumnError`
//! whose message names the struct, the field and its Rust type (`User.email (String): …`),
//! followed by what went wrong: no such column (`no column email in a row of 3 columns`),
//! a column of an SQL type the field's Rust type cannot take, a NULL for a non-`Option`
//! field, a value its `try_from` conversion refused. Its `column()` is the column's name
//! and its `datatype()` the column's SQL type (when the row has the column); its cause is
//! the error `Row::try_get` gave.
//!
//! # Example
//!
//! ```
//! use pg_types::{Column, Columns, FromRow, Row, Value};
//! use postgres_types::Type;
//!
//! #[derive(FromRow, Debug, PartialEq)]
//! struct Audit {
//!     created_by: String,
//!     #[pg(default)]
//!     revision: i32,
//! }
//!
//! #[derive(FromRow, Debug, PartialEq)]
//! #[pg(rename_all = "camelCase")]
//! struct Account {
//!     account_id: i64,
//!     #[pg(rename = "name")]
//!     display_name: String,
//!     #[pg(try_from = "i32")]
//!     login_count: u16,
//!     #[pg(flatten)]
//!     audit: Audit,
//!     closed_at: Option<String>,
//! }
//!
//! let columns = Columns::new(vec![
//!     Column::new("accountId", Type::INT8),
//!     Column::new("name", Type::TEXT),
//!     Column::new("loginCount", Type::INT4),
//!     Column::new("created_by", Type::TEXT),
//!     Column::new("closedAt", Type::TEXT),
//! ]);
//! let row = Row::from_values(
//!     columns.clone(),
//!     vec![
//!         Value::Int8(1),
//!         Value::from("Ada"),
//!         Value::Int4(3),
//!         Value::from("admin"),
//!         Value::Null,
//!     ],
//! );
//! let account = Account::from_row(&row)?;
//! assert_eq!(account.display_name, "Ada");
//! assert_eq!(account.login_count, 3);
//! assert_eq!(account.audit, Audit { created_by: "admin".into(), revision: 0 });
//! assert_eq!(account.closed_at, None);
//!
//! // A login count no u16 can hold: an error naming the field and the column.
//! let row = Row::from_values(
//!     columns,
//!     vec![
//!         Value::Int8(1),
//!         Value::from("Ada"),
//!         Value::Int4(-1),
//!         Value::from("admin"),
//!         Value::Null,
//!     ],
//! );
//! let error = Account::from_row(&row).unwrap_err();
//! assert!(error.message().starts_with("Account.login_count (u16): "));
//! assert_eq!(error.column(), Some("loginCount"));
//! # Ok::<(), pg_exceptions::Error>(())
//! ```
//!
//! With the driver, the typed execution methods read every row into the struct:
//!
//! ```no_run
//! # async fn example(db: pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
//! use pg_driver::FromRow;
//!
//! #[derive(FromRow)]
//! struct Role {
//!     rolname: String,
//!     rolsuper: bool,
//! }
//!
//! let roles: Vec<Role> = db.query_as("SELECT * FROM pg_roles", ()).await?;
//! let me: Option<Role> = db
//!     .query_first_as("SELECT * FROM pg_roles WHERE rolname = current_user", ())
//!     .await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod attrs;
mod expand;

use proc_macro::TokenStream;

/// Implements pg-types' `FromRow` for a struct: fields by column name (a tuple struct's by
/// position), with the `#[pg(...)]` attributes of the [crate docs](crate).
#[proc_macro_derive(FromRow, attributes(pg))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match expand::expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}
