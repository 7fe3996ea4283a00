//! Stored procedures: py-postgresql's `StoredProcedure`, a server function called like a Rust one.
//!
//! [`crate::Connection::proc`] looks the function up in `pg_proc` (by `regprocedure` text or
//! OID) and prepares a statement calling it by its qualified, quoted name, each argument cast to
//! its declared type (`SELECT * FROM "public"."add"($1::"pg_catalog"."int4", …)`): the user's
//! text is only ever a bound parameter of the lookup, never part of the SQL. What a call gives
//! depends on the function's result ([`ProcResult`]). [`StoredProcedure::call_named`] calls it
//! by argument name too (`"public"."greet"($1, "greeting" => $2)`), leaving out arguments with
//! defaults.

mod lookup;
mod named;

use std::sync::Arc;

use pg_exceptions::{Error, OperationError, ParameterError};
use pg_types::{Row, Value};
use postgres_types::Type;

use crate::{ColumnStream, Params, RowStream, Statement};
pub use lookup::ProcId;

/// What calling a stored procedure gives, by the shape of its result (py-postgresql's rules).
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value a call, matched at once: boxing the rows' stream would only add an allocation"
)]
pub enum ProcResult {
    /// A function returning one value (NULL for `void` functions and procedures without
    /// output parameters).
    Value(Value),
    /// A set-returning function of one column: its values, read as they are pulled.
    Values(ColumnStream),
    /// A function returning a composite or having several OUT parameters (or a procedure with
    /// INOUT / OUT parameters): the one row.
    Row(Row),
    /// A set-returning function of a composite or `TABLE (…)`: its rows, read as they are pulled.
    Rows(RowStream),
}

/// The shape of a procedure's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Value,
    Values,
    Row,
    Rows,
    Void,
}

/// A server function or procedure, callable with arguments: py-postgresql's `StoredProcedure`.
///
/// `Clone` gives another handle on the same prepared call, closed on the server when the last
/// handle is dropped.
#[derive(Clone, Debug)]
pub struct StoredProcedure {
    inner: Arc<ProcInner>,
}

#[derive(Debug)]
struct ProcInner {
    oid: u32,
    procedure_id: String,
    schema: String,
    name: String,
    input_names: Vec<String>,
    shape: Shape,
    statement: Statement,
    /// What calls by argument name need, and the statements they prepared.
    named: named::NamedCalls,
}

impl StoredProcedure {
    /// Calls the procedure with `params` (a tuple, a slice of `&dyn ToSql`, or `Vec<Value>`),
    /// one per input argument in order.
    ///
    /// A wrong number of arguments is a ParameterError naming the procedure and both counts;
    /// a value that cannot be encoded as its argument's type is a ParameterError too.
    pub async fn call<P: Params>(&self, params: P) -> Result<ProcResult, Error> {
        self.check_count(&params)?;
        self.run(&self.inner.statement, params).await
    }

    /// Calls the procedure with arguments by name, after any given by position
    /// (`positional`, the first input arguments in order): `SELECT * FROM "s"."f"($1, "b" => $2)`,
    /// PostgreSQL's mixed notation. Arguments with defaults may be left out; the rest must be
    /// given once, by position or by name (names as declared, matched exactly).
    ///
    /// ```no_run
    /// # async fn f(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
    /// // CREATE FUNCTION greet(who text, greeting text DEFAULT 'hello') …
    /// let greet = db.proc("greet(text,text)").await?;
    /// let hi = greet.call_named((), &[("who", &"ann")]).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// An unknown name, a name given twice (or also by position), a required argument left
    /// out and too many positional values are ParameterErrors, found before anything is sent.
    /// Each shape of call (how many positional values, which names) prepares a statement of
    /// its own once; the procedure keeps up to 16 of them, closed when it is dropped.
    pub async fn call_named<P: Params>(
        &self,
        positional: P,
        named: &[(&str, &(dyn postgres_types::ToSql + Sync))],
    ) -> Result<ProcResult, Error> {
        let conn = self.inner.statement.connection();
        let call = self
            .inner
            .named
            .plan(positional.count(), named, &self.inner.procedure_id)
            .map_err(|e| conn.context(e))?;
        let statement = self.inner.named.statement(conn, &call.sql).await?;
        let values = named::Merged {
            positional,
            named: call.order.iter().map(|&i| named[i].1).collect(),
        };
        self.run(&statement, values).await
    }

    async fn run<P: Params>(&self, statement: &Statement, params: P) -> Result<ProcResult, Error> {
        Ok(match self.inner.shape {
            Shape::Values => ProcResult::Values(statement.column(params)?),
            Shape::Rows => ProcResult::Rows(statement.rows(params)?),
            Shape::Void => {
                statement.call(params).await?;
                ProcResult::Value(Value::Null)
            }
            Shape::Value | Shape::Row => {
                let results = statement.call(params).await?;
                let Some(row) = results.rows.into_iter().next() else {
                    return Err(Error::client(
                        &OperationError,
                        format!("{} returned no row", self.inner.procedure_id),
                    ));
                };
                if self.inner.shape == Shape::Row {
                    ProcResult::Row(row)
                } else {
                    ProcResult::Value(row.value(0)?)
                }
            }
        })
    }

    fn check_count<P: Params + ?Sized>(&self, params: &P) -> Result<(), Error> {
        let expected = self.inner.input_names.len();
        let given = params.count();
        if expected == given {
            return Ok(());
        }
        let plural = if expected == 1 { "" } else { "s" };
        Err(self.inner.statement.connection().context(Error::client(
            &ParameterError,
            format!(
                "{} takes {expected} argument{plural}, {given} were given",
                self.inner.procedure_id
            ),
        )))
    }

    /// The function's OID.
    pub fn oid(&self) -> u32 {
        self.inner.oid
    }

    /// The function as `regprocedure` text: `add(integer,integer)`, qualified when its schema
    /// is not on the search path.
    pub fn procedure_id(&self) -> &str {
        &self.inner.procedure_id
    }

    /// The schema the function lives in.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The input arguments' names, in order (empty for unnamed arguments).
    pub fn input_names(&self) -> &[String] {
        &self.inner.input_names
    }

    /// The input arguments' types, in order.
    pub fn input_types(&self) -> Vec<Type> {
        self.inner.statement.parameter_types()
    }

    /// Whether the function returns a set (its calls give [`ProcResult::Values`] or
    /// [`ProcResult::Rows`]).
    pub fn srf(&self) -> bool {
        matches!(self.inner.shape, Shape::Values | Shape::Rows)
    }

    /// Whether a call gives rows ([`ProcResult::Row`] or [`ProcResult::Rows`]) rather than values.
    pub fn composite(&self) -> bool {
        matches!(self.inner.shape, Shape::Row | Shape::Rows)
    }

    /// The prepared statement that calls the function, for its typed methods
    /// (`proc.statement().first::<i64, _>((1,))`).
    pub fn statement(&self) -> &Statement {
        &self.inner.statement
    }
}
