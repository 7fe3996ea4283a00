//! PostgreSQL string quoting and splitting, after py-postgresql's
//! `postgresql.string`.
//!
//! Simple, dependable tools for the common needs around SQL text, with no
//! attempt at real parsing:
//!
//! - quoting values and names for interpolation: [`quote_literal`],
//!   [`quote_ident`], [`quote_ident_if_needed`], [`qname`], [`qname_if_needed`],
//!   and their `escape_*` forms that add no surrounding quotes;
//! - finding the unquoted portions of a query, so that a transformation or a
//!   scan touches only those: [`split`] and [`unsplit`];
//! - cutting a script into statements, past quotes and comments: [`split_sql`],
//!   [`split_sql_str`]; finding comments: [`comment_ranges`], [`strip_comments`];
//! - rewriting named placeholders (psycopg2's `%(name)s`, or `:name`) to the server's
//!   `$1`, `$2`, … past quotes and comments, so that values go as parameters, never as
//!   text: [`named_to_positional`], [`named_to_positional_with`];
//! - reading names back: [`split_qname`], [`split_qname_n`], [`split_ident`],
//!   [`split_ident_with`] (another quote character, a maximum of splits),
//!   [`split_using`].
//!
//! Every function is total over `&str`, arbitrary Unicode and `NUL`
//! included: quoting never fails, splitting SQL reports unterminated quotes
//! in the shape of its result, and only the name parsers return errors.
//!
//! # Example
//!
//! ```
//! use pg_string::{Part, Quote, qname_if_needed, quote_literal, split, split_qname, split_sql_str, unsplit};
//!
//! // Interpolate a name and a value safely.
//! let sql = format!(
//!     "select * from {} where note = {}",
//!     qname_if_needed(["public", "Orders"]),
//!     quote_literal("it's; done"),
//! );
//! assert_eq!(sql, r#"select * from public."Orders" where note = 'it''s; done'"#);
//!
//! // The quoted sections are isolated, and nothing is lost.
//! let parts = split(&sql);
//! assert_eq!(parts[1], Part::quoted(Quote::Double, "Orders"));
//! assert_eq!(parts[3], Part::quoted(Quote::Single, "it''s; done"));
//! assert_eq!(unsplit(&parts), sql);
//!
//! // A `;` inside quotes does not end a statement.
//! let script = format!("{sql}; select $$;$$");
//! assert_eq!(split_sql_str(&script), [sql.as_str(), " select $$;$$"]);
//!
//! // Names read back the way PostgreSQL reads them.
//! assert_eq!(split_qname(r#"Public."Orders""#).unwrap(), ["public", "Orders"]);
//! ```
//!
//! # Differences from py-postgresql
//!
//! - [`quote_ident`] always quotes (py-postgresql's later versions do too);
//!   [`quote_ident_if_needed`] follows the server's `quote_ident()` function,
//!   so it also quotes upper case (`Foo`), `$` and keywords (`select`), which
//!   py-postgresql left bare.
//! - [`split`] opens quotes where PostgreSQL's lexer does: `e'…'` is an
//!   escape string as well as `E'…'`, but an `E` or `$` inside an identifier
//!   opens nothing (`somee'x'`, `a$$b`); a dollar-quote tag follows the
//!   lexer's rules (`$ $` is no quote); dollar-quoted bodies may span lines;
//!   and a section left open right after a doubled quote or a backslash
//!   escape (`'a''`, `E'a\'`) is reported as a runaway quote, not as a
//!   closed one.
//! - [`split_qname`] reports the position and reason of an error, accepts the
//!   characters PostgreSQL accepts in an unquoted identifier (including `$`),
//!   and rejects stray text after a quoted identifier (`"a"b`).
//! - [`quote_literal_portable`] is new: the server's `quote_literal()` form,
//!   safe whatever `standard_conforming_strings` is.

#![forbid(unsafe_code)]

mod comments;
mod error;
mod ident;
mod keywords;
mod literal;
mod named;
mod names;
mod part;
mod split;
mod statements;
mod using;

pub use comments::{comment_ranges, strip_comments};
pub use error::{SplitError, SplitErrorKind};
pub use ident::{
    escape_ident, needs_quoting, qname, qname_if_needed, quote_ident, quote_ident_if_needed,
};
pub use literal::{escape_literal, quote_literal, quote_literal_portable};
pub use named::{
    PlaceholderError, PlaceholderErrorKind, PlaceholderStyle, Positional, named_to_positional,
    named_to_positional_with,
};
pub use names::{split_ident, split_ident_on, split_ident_with, split_qname, split_qname_n};
pub use part::{Part, Quote, unsplit, unterminated};
pub use split::split;
pub use statements::{split_sql, split_sql_str, split_sql_str_with, split_sql_with};
pub use using::{split_using, splitn_using};
