//! Blocking stored procedures.

use std::sync::Arc;

use futures::StreamExt;
use pg_exceptions::Error;
use pg_types::{Row, Value};
use postgres_types::Type;

use super::{Connection, Host};
use crate::{Params, ProcId};

/// The blocking form of [`crate::StoredProcedure`].
#[derive(Clone, Debug)]
pub struct StoredProcedure {
    proc: crate::StoredProcedure,
    conn: Connection,
}

/// The blocking form of [`crate::ProcResult`]: what calling a stored procedure gives.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value a call, matched at once: boxing the rows' stream would only add an allocation"
)]
pub enum ProcResult {
    /// A function returning one value (NULL for `void` functions and procedures without
    /// output parameters).
    Value(Value),
    /// A set-returning function of one column: its values, read as the iterator is pulled.
    Values(ProcValues),
    /// A function returning a composite or having several OUT parameters: the one row.
    Row(Row),
    /// A set-returning function of a composite or `TABLE (…)`: its rows, read as pulled.
    Rows(ProcRows),
}

impl Connection {
    /// Looks up a function or procedure and prepares its call (see [`crate::Connection::proc`]).
    pub fn proc(&self, id: impl Into<ProcId>) -> Result<StoredProcedure, Error> {
        let proc = self.block_on(self.as_async().proc(id))??;
        Ok(StoredProcedure {
            proc,
            conn: self.clone(),
        })
    }
}

impl StoredProcedure {
    /// The async procedure underneath.
    pub fn as_async(&self) -> &crate::StoredProcedure {
        &self.proc
    }

    /// Calls the procedure with one parameter per input argument (see
    /// [`crate::StoredProcedure::call`]).
    pub fn call<P: Params>(&self, params: P) -> Result<ProcResult, Error> {
        let host = self.conn.host.clone();
        Ok(match self.conn.block_on(self.proc.call(params))?? {
            crate::ProcResult::Value(value) => ProcResult::Value(value),
            crate::ProcResult::Row(row) => ProcResult::Row(row),
            crate::ProcResult::Values(stream) => ProcResult::Values(ProcValues { stream, host }),
            crate::ProcResult::Rows(stream) => ProcResult::Rows(ProcRows { stream, host }),
        })
    }

    /// Calls the procedure with arguments by name after any by position (see
    /// [`crate::StoredProcedure::call_named`]).
    pub fn call_named<P: Params>(
        &self,
        positional: P,
        named: &[(&str, &(dyn postgres_types::ToSql + Sync))],
    ) -> Result<ProcResult, Error> {
        let host = self.conn.host.clone();
        Ok(
            match self
                .conn
                .block_on(self.proc.call_named(positional, named))??
            {
                crate::ProcResult::Value(value) => ProcResult::Value(value),
                crate::ProcResult::Row(row) => ProcResult::Row(row),
                crate::ProcResult::Values(stream) => {
                    ProcResult::Values(ProcValues { stream, host })
                }
                crate::ProcResult::Rows(stream) => ProcResult::Rows(ProcRows { stream, host }),
            },
        )
    }

    /// The function's OID.
    pub fn oid(&self) -> u32 {
        self.proc.oid()
    }

    /// The function as `regprocedure` text.
    pub fn procedure_id(&self) -> &str {
        self.proc.procedure_id()
    }

    /// The schema the function lives in.
    pub fn schema(&self) -> &str {
        self.proc.schema()
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        self.proc.name()
    }

    /// The input arguments' names (empty for unnamed arguments).
    pub fn input_names(&self) -> &[String] {
        self.proc.input_names()
    }

    /// The input arguments' types.
    pub fn input_types(&self) -> Vec<Type> {
        self.proc.input_types()
    }

    /// Whether the function returns a set.
    pub fn srf(&self) -> bool {
        self.proc.srf()
    }

    /// Whether a call gives rows rather than values.
    pub fn composite(&self) -> bool {
        self.proc.composite()
    }
}

macro_rules! proc_iter {
    ($(#[$doc:meta])* $name:ident, $stream:ty, $item:ty) => {
        $(#[$doc])*
        pub struct $name {
            stream: $stream,
            host: Arc<Host>,
        }

        impl Iterator for $name {
            type Item = Result<$item, Error>;

            fn next(&mut self) -> Option<Self::Item> {
                let rt = self.host.rt.as_ref()?;
                match super::run(rt, self.stream.next()) {
                    Ok(item) => item,
                    Err(refused) => Some(Err(refused)),
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

proc_iter!(
    /// The values of a set-returning function of one column.
    ProcValues,
    crate::ColumnStream,
    Value
);
proc_iter!(
    /// The rows of a set-returning function of a composite.
    ProcRows,
    crate::RowStream,
    Row
);
