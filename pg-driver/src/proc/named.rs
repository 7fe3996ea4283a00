//! Calls by argument name: PostgreSQL's mixed notation, `"s"."f"($1, "b" => $2)`.
//!
//! The statement depends on which arguments are given, so each shape of call is prepared
//! once and kept with the procedure (a few of them; beyond that a call prepares its own and
//! drops it). Every identifier is quoted with `pg_string::quote_ident`; values are bound.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use bytes::BytesMut;
use pg_exceptions::{Error, ParameterError};
use pg_string::quote_ident;
use postgres_types::{IsNull, ToSql, Type};

use super::lookup::Arg;
use crate::{Connection, Params, Statement};

/// How many shapes of named call a procedure keeps prepared.
const KEPT: usize = 16;

/// What a procedure's calls by name need: its quoted name, its call arguments and how many
/// of their last inputs have defaults, and the statements prepared so far.
pub(super) struct NamedCalls {
    function: String,
    procedure: bool,
    args: Vec<Arg>,
    defaults: usize,
    prepared: Mutex<HashMap<String, Statement>>,
}

impl std::fmt::Debug for NamedCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedCalls")
            .field("args", &self.args)
            .field("defaults", &self.defaults)
            .finish_non_exhaustive()
    }
}

/// One call's SQL, and the order the named values take after the positional ones (indexes
/// into the caller's list).
pub(super) struct Plan {
    pub(super) sql: String,
    pub(super) order: Vec<usize>,
}

fn refused(message: String) -> Error {
    Error::client(&ParameterError, message)
}

impl NamedCalls {
    pub(super) fn new(function: String, procedure: bool, args: Vec<Arg>, defaults: usize) -> Self {
        NamedCalls {
            function,
            procedure,
            args,
            defaults,
            prepared: Mutex::new(HashMap::new()),
        }
    }

    /// The SQL of a call with `positional` values for the first inputs and `named` ones.
    pub(super) fn plan(
        &self,
        positional: usize,
        named: &[(&str, &(dyn ToSql + Sync))],
        procedure_id: &str,
    ) -> Result<Plan, Error> {
        let inputs: Vec<&Arg> = self.args.iter().filter(|a| a.mode != 'o').collect();
        if positional > inputs.len() {
            let plural = if inputs.len() == 1 { "" } else { "s" };
            return Err(refused(format!(
                "{procedure_id} takes {} argument{plural}, {positional} were given",
                inputs.len()
            )));
        }
        for (i, (name, _)) in named.iter().enumerate() {
            let Some(at) = inputs
                .iter()
                .position(|a| !a.name.is_empty() && a.name == *name)
            else {
                return Err(refused(format!(
                    "{procedure_id} has no argument named {name:?}"
                )));
            };
            if at < positional || named[..i].iter().any(|(n, _)| n == name) {
                return Err(refused(format!(
                    "{procedure_id}: argument {name:?} is given twice"
                )));
            }
        }
        // A procedure's arguments with defaults are the last of all (OUT ones included, as
        // its `proargtypes` has them); a function's the last of its inputs.
        let first_default = self.args.len().saturating_sub(self.defaults);
        let mut parts = Vec::with_capacity(self.args.len());
        let mut order = Vec::with_capacity(named.len());
        let (mut inputs_seen, mut placeholders) = (0, 0);
        for (k, arg) in self.args.iter().enumerate() {
            let variadic = if arg.mode == 'v' { "VARIADIC " } else { "" };
            if inputs_seen < positional {
                if arg.mode == 'o' {
                    parts.push(format!("NULL::{}", arg.type_ref()));
                } else {
                    inputs_seen += 1;
                    placeholders += 1;
                    parts.push(format!("{variadic}{}", arg.placeholder(placeholders)));
                }
                continue;
            }
            let given = named
                .iter()
                .position(|(n, _)| *n == arg.name && arg.mode != 'o');
            match (given, arg.mode) {
                (_, 'o') if !arg.name.is_empty() => parts.push(format!(
                    "{} => NULL::{}",
                    quote_ident(&arg.name),
                    arg.type_ref()
                )),
                (Some(i), _) => {
                    placeholders += 1;
                    order.push(i);
                    parts.push(format!(
                        "{variadic}{} => {}",
                        quote_ident(&arg.name),
                        arg.placeholder(placeholders)
                    ));
                }
                _ if k >= first_default => {}
                _ if arg.name.is_empty() => {
                    return Err(refused(format!(
                        "{procedure_id}: argument {} has no name and is not given by position",
                        k + 1
                    )));
                }
                _ => {
                    return Err(refused(format!(
                        "{procedure_id}: argument {:?} is not given and has no default",
                        arg.name
                    )));
                }
            }
        }
        let call = parts.join(", ");
        let sql = if self.procedure {
            format!("CALL {}({call})", self.function)
        } else {
            format!("SELECT * FROM {}({call})", self.function)
        };
        Ok(Plan { sql, order })
    }

    /// The prepared statement of `sql`: kept from an earlier call, or prepared now (and kept
    /// while fewer than [`KEPT`] are). Cancel-safe: a prepare given up is closed by the
    /// engine, and nothing is kept until it has finished.
    pub(super) async fn statement(&self, conn: &Connection, sql: &str) -> Result<Statement, Error> {
        let kept = self.lock().get(sql).cloned();
        if let Some(statement) = kept {
            return Ok(statement);
        }
        let statement = conn.prepare(sql).await?;
        let mut prepared = self.lock();
        if prepared.len() < KEPT {
            prepared.insert(sql.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Statement>> {
        self.prepared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// The positional values, then the named ones in the order of the call's SQL.
pub(super) struct Merged<'a, P> {
    pub(super) positional: P,
    pub(super) named: Vec<&'a (dyn ToSql + Sync)>,
}

impl<P: Params> Params for Merged<'_, P> {
    fn count(&self) -> usize {
        self.positional.count() + self.named.len()
    }

    fn encode(&self, index: usize, ty: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        match index.checked_sub(self.positional.count()) {
            None => self.positional.encode(index, ty, buf),
            Some(i) => self.named.as_slice().encode(i, ty, buf),
        }
    }

    fn format(&self, index: usize, ty: &Type) -> i16 {
        match index.checked_sub(self.positional.count()) {
            None => self.positional.format(index, ty),
            Some(i) => self.named.as_slice().format(i, ty),
        }
    }

    fn fmt_value(&self, index: usize, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match index.checked_sub(self.positional.count()) {
            None => self.positional.fmt_value(index, f),
            Some(i) => self.named.as_slice().fmt_value(i, f),
        }
    }
}
