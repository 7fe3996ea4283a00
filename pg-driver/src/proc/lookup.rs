//! Finding a function in `pg_proc` and preparing its call.

use std::sync::Arc;

use pg_exceptions::{Error, OperationError, UndefinedFunctionError};
use pg_string::quote_ident;
use pg_types::Row;

use super::{ProcInner, Shape, StoredProcedure};
use crate::Connection;

/// How a stored procedure is named: its `regprocedure` text (`"version()"`,
/// `"public.add(integer, integer)"`; a name alone, `"version"`, when it is not overloaded) or
/// its OID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcId {
    /// A `regprocedure` text (or a `regproc` name when it has no argument list).
    Text(String),
    /// The function's OID in `pg_proc`.
    Oid(u32),
}

impl From<&str> for ProcId {
    fn from(text: &str) -> ProcId {
        ProcId::Text(text.to_owned())
    }
}

impl From<String> for ProcId {
    fn from(text: String) -> ProcId {
        ProcId::Text(text)
    }
}

impl From<&String> for ProcId {
    fn from(text: &String) -> ProcId {
        ProcId::Text(text.clone())
    }
}

impl From<u32> for ProcId {
    fn from(oid: u32) -> ProcId {
        ProcId::Oid(oid)
    }
}

/// One argument as `pg_proc` declares it.
#[derive(Debug)]
pub(super) struct Arg {
    /// `proargmodes`: `i`, `o`, `b` (INOUT), `v` (VARIADIC), `t` (TABLE column).
    pub(super) mode: char,
    /// Its name, empty when it has none.
    pub(super) name: String,
    schema: String,
    type_name: String,
    pseudo: bool,
}

impl Arg {
    /// `$n::"schema"."type"`, without the cast for pseudo-types (`anyelement`…), which the
    /// server resolves from the call.
    pub(super) fn placeholder(&self, n: usize) -> String {
        if self.pseudo {
            format!("${n}")
        } else {
            format!("${n}::{}", self.type_ref())
        }
    }

    pub(super) fn type_ref(&self) -> String {
        format!(
            "{}.{}",
            quote_ident(&self.schema),
            quote_ident(&self.type_name)
        )
    }
}

/// The arrays of the arguments' type schemas, names and kinds, aligned with
/// `COALESCE(proallargtypes, proargtypes)`.
fn arg_types_column(expression: &str, alias: &str) -> String {
    format!(
        "ARRAY(SELECT {expression} FROM pg_catalog.unnest(COALESCE(p.proallargtypes, \
         p.proargtypes::pg_catalog.oid[])) WITH ORDINALITY AS a(t, i) \
         JOIN pg_catalog.pg_type y ON y.oid = a.t \
         JOIN pg_catalog.pg_namespace yn ON yn.oid = y.typnamespace ORDER BY a.i) AS {alias}"
    )
}

fn lookup_sql(condition: &str) -> String {
    format!(
        "SELECT p.oid, n.nspname::text AS schema, p.proname::text AS name, \
         p.prokind::text AS kind, p.proretset AS retset, p.prorettype AS rettype, \
         t.typtype::text AS rettyptype, p.oid::pg_catalog.regprocedure::text AS procedure_id, \
         COALESCE(p.proargmodes::text[], '{{}}') AS modes, \
         COALESCE(p.proargnames, '{{}}') AS argnames, p.pronargdefaults::pg_catalog.int4 AS defaults, \
         {}, {}, {} \
         FROM pg_catalog.pg_proc p \
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
         JOIN pg_catalog.pg_type t ON t.oid = p.prorettype \
         WHERE p.oid = {condition}",
        arg_types_column("yn.nspname::text", "type_schemas"),
        arg_types_column("y.typname::text", "type_names"),
        arg_types_column("y.typtype = 'p'", "type_pseudo"),
    )
}

const RECORD: u32 = 2249;
const VOID: u32 = 2278;

impl Connection {
    /// Looks up a function or procedure and prepares its call (py-postgresql's `db.proc`).
    ///
    /// ```no_run
    /// # async fn f(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
    /// use pg_driver::ProcResult;
    /// let version = db.proc("version()").await?;
    /// if let ProcResult::Value(v) = version.call(()).await? {
    ///     println!("{v}");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// An unknown function is an UndefinedFunctionError; aggregates, window functions and
    /// functions returning an anonymous `record` (which need a column definition list) cannot
    /// be called this way (OperationError). Arguments with defaults must still be given.
    pub async fn proc(&self, id: impl Into<ProcId>) -> Result<StoredProcedure, Error> {
        let id = id.into();
        let found = match &id {
            ProcId::Text(text) => {
                let cast = if text.contains('(') {
                    "regprocedure"
                } else {
                    "regproc"
                };
                let sql = lookup_sql(&format!("$1::pg_catalog.text::pg_catalog.{cast}"));
                self.query(&sql, (text.as_str(),)).await?.rows
            }
            ProcId::Oid(oid) => {
                let sql = lookup_sql("$1::pg_catalog.oid");
                self.query(&sql, (*oid,)).await?.rows
            }
        };
        let Some(row) = found.into_iter().next() else {
            let message = match &id {
                ProcId::Oid(oid) => format!("no function has the OID {oid}"),
                ProcId::Text(text) => format!("no function is named {text:?}"),
            };
            return Err(self.context(Error::client(&UndefinedFunctionError, message)));
        };
        self.prepare_proc(&row).await
    }

    async fn prepare_proc(&self, row: &Row) -> Result<StoredProcedure, Error> {
        let oid: u32 = row.try_get("oid")?;
        let schema: String = row.try_get("schema")?;
        let name: String = row.try_get("name")?;
        let kind: String = row.try_get("kind")?;
        let retset: bool = row.try_get("retset")?;
        let rettype: u32 = row.try_get("rettype")?;
        let rettyptype: String = row.try_get("rettyptype")?;
        let procedure_id: String = row.try_get("procedure_id")?;
        let modes: Vec<String> = row.try_get("modes")?;
        let names: Vec<String> = row.try_get("argnames")?;
        let defaults: i32 = row.try_get("defaults")?;
        let type_schemas: Vec<String> = row.try_get("type_schemas")?;
        let type_names: Vec<String> = row.try_get("type_names")?;
        let type_pseudo: Vec<bool> = row.try_get("type_pseudo")?;
        let args: Vec<Arg> = (0..type_names.len())
            .map(|i| Arg {
                mode: modes.get(i).and_then(|m| m.chars().next()).unwrap_or('i'),
                name: names.get(i).cloned().unwrap_or_default(),
                schema: type_schemas[i].clone(),
                type_name: type_names[i].clone(),
                pseudo: type_pseudo[i],
            })
            .collect();
        let unusable = |what: &str| {
            Err(self.context(Error::client(
                &OperationError,
                format!("{procedure_id} {what}; call it through a query"),
            )))
        };
        let outputs = args.iter().filter(|a| "obt".contains(a.mode)).count();
        let function = format!("{}.{}", quote_ident(&schema), quote_ident(&name));
        let mut placeholders = Vec::new();
        let mut input_names = Vec::new();
        let (sql, shape) = match kind.as_str() {
            "a" => return unusable("is an aggregate function"),
            "w" => return unusable("is a window function"),
            "p" => {
                for arg in &args {
                    if arg.mode == 'o' {
                        placeholders.push(format!("NULL::{}", arg.type_ref()));
                    } else {
                        input_names.push(arg.name.clone());
                        placeholders.push(arg.placeholder(input_names.len()));
                    }
                }
                let shape = if outputs > 0 { Shape::Row } else { Shape::Void };
                (
                    format!("CALL {function}({})", placeholders.join(", ")),
                    shape,
                )
            }
            _ => {
                if rettype == RECORD && outputs == 0 {
                    return unusable(
                        "returns an anonymous record, which needs a column definition list",
                    );
                }
                for arg in args.iter().filter(|a| "ibv".contains(a.mode)) {
                    input_names.push(arg.name.clone());
                    let placeholder = arg.placeholder(input_names.len());
                    placeholders.push(match arg.mode {
                        'v' => format!("VARIADIC {placeholder}"),
                        _ => placeholder,
                    });
                }
                let composite = rettype == RECORD || rettyptype == "c";
                let shape = match (retset, composite) {
                    _ if rettype == VOID && !retset => Shape::Void,
                    (true, true) => Shape::Rows,
                    (true, false) => Shape::Values,
                    (false, true) => Shape::Row,
                    (false, false) => Shape::Value,
                };
                let sql = format!("SELECT * FROM {function}({})", placeholders.join(", "));
                (sql, shape)
            }
        };
        let statement = self.prepare(&sql).await?;
        // A domain over a composite type expands into its columns too.
        let shape = match shape {
            Shape::Value if statement.columns().len() > 1 => Shape::Row,
            Shape::Values if statement.columns().len() > 1 => Shape::Rows,
            shape => shape,
        };
        let procedure = kind == "p";
        // The arguments of a call: a procedure's every one (OUT ones are given as NULL), a
        // function's inputs.
        let call_args: Vec<Arg> = args
            .into_iter()
            .filter(|a| procedure || "ibv".contains(a.mode))
            .collect();
        Ok(StoredProcedure {
            inner: Arc::new(ProcInner {
                oid,
                procedure_id,
                schema,
                name,
                input_names,
                shape,
                statement,
                named: super::named::NamedCalls::new(
                    function,
                    procedure,
                    call_args,
                    usize::try_from(defaults).unwrap_or_default(),
                ),
            }),
        })
    }
}
