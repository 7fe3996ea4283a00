//! Prepared statements: server-side Parse/Describe, metadata, and their lifetime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use fallible_iterator::FallibleIterator;
use pg_exceptions::{Error, OperationError, ParameterError};
use pg_types::{Column, Columns};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;
use postgres_types::{Kind, Type};

use crate::connection::Connection;
use crate::link::{Link, Unclaimed, close_statement};
use crate::typecache;
use crate::wire::hooks::{HookSlot, MessageHook};
use crate::wire::task::protocol;
use pg_api::Params;

/// A prepared statement: py-postgresql's `PreparedStatement`.
///
/// `Clone` gives another handle on the same server-side statement. A statement made by
/// [`Connection::prepare`] is closed on the server when its last handle is dropped; one from
/// [`Connection::statement_from_id`] is never closed implicitly.
///
/// [`Connection::reset`] deallocates every prepared statement (`DISCARD ALL`). A statement
/// the driver prepared ([`Connection::prepare`], [`Connection::prepare_cached`]) is prepared
/// again, under its own name, on its first use afterwards (one more round trip, once); when
/// the server now describes it otherwise — other parameter types, other result columns
/// (names or types), because the tables it reads changed — that use fails with a
/// FeatureError saying so before anything runs (as PostgreSQL refuses a cached plan whose
/// result type changed), and the next use tries again. A statement from
/// [`Connection::statement_from_id`] was prepared in SQL, which the driver does not repeat:
/// its use after a reset is a StatementNameError naming the reset. A statement closed with
/// [`Statement::close`] stays closed.
#[derive(Clone)]
pub struct Statement {
    pub(crate) inner: Arc<StatementInner>,
}

pub(crate) struct StatementInner {
    pub(crate) conn: Connection,
    pub(crate) link: Arc<Link>,
    pub(crate) name: Arc<str>,
    pub(crate) sql: Arc<str>,
    pub(crate) parameters: Arc<[Type]>,
    pub(crate) columns: Arc<Columns>,
    pub(crate) owned: bool,
    /// The unnamed statement, parsed again in every execution's request (`statement_cache=off`).
    pub(crate) reparse: bool,
    /// For an INSERT `load_rows` may batch, the OID of its table when it was prepared
    /// (`insert_target.rs`).
    pub(crate) target: Option<u32>,
    /// Shared with the cursors declared from the statement: its hook covers them.
    pub(crate) hook: Arc<HookSlot>,
    /// The statement cache's entry this handle shares (which closes the statement).
    pub(crate) cached: Option<Arc<crate::link::statements::CacheEntry>>,
    /// The link's count of resets when the server-side statement was last made (shared by
    /// the handles of a cached statement); None for the unnamed statement, which every
    /// request that runs it makes.
    pub(crate) made_in: Option<Arc<AtomicU64>>,
    /// Closed through a handle: never prepared again.
    pub(crate) closed: AtomicBool,
}

impl Drop for StatementInner {
    fn drop(&mut self) {
        if self.owned && !self.closed.load(Ordering::Relaxed) {
            self.link.queue_close(&self.name);
        }
    }
}

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement")
            .field("statement_id", &self.inner.name)
            .field("string", &self.inner.sql)
            .field("parameters", &self.pg_parameter_types())
            .field("columns", &self.column_names())
            .finish()
    }
}

/// What Parse/Describe told of a statement.
pub(crate) struct Described {
    pub(crate) parameters: Vec<u32>,
    pub(crate) fields: Option<Vec<RawField>>,
    /// The OID of an INSERT's table, when the request looked it up (`insert_target.rs`).
    pub(crate) target: Option<u32>,
}

pub(crate) struct RawField {
    pub(crate) name: String,
    table_oid: u32,
    column_id: i16,
    pub(crate) type_oid: u32,
    type_size: i16,
    type_modifier: i32,
}

/// Sends a request of Parse (or not) and Describe of statement `name`, and maybe the lookup
/// of its table (`insert_target.rs`), and reads what it tells. When the lookup fails after
/// the statement was parsed, the statement is closed and the lookup's error returned.
pub(crate) async fn describe(
    link: &Link,
    bytes: Bytes,
    name: &str,
    sql: &str,
) -> Result<Described, Error> {
    let mut responses = link.request(bytes, 1, None)?;
    let mut described = Described {
        parameters: Vec::new(),
        fields: None,
        target: None,
    };
    let mut error = None;
    // Whether the Describe was answered: an error after it is the lookup's.
    let mut answered = false;
    loop {
        match responses.next(&link.shared).await {
            Ok(Message::ParameterDescription(body)) => {
                described.parameters = body.parameters().collect().map_err(protocol)?;
            }
            Ok(Message::RowDescription(body)) => {
                let fields = body
                    .fields()
                    .map(|f| {
                        Ok(RawField {
                            name: f.name().to_owned(),
                            table_oid: f.table_oid(),
                            column_id: f.column_id(),
                            type_oid: f.type_oid(),
                            type_size: f.type_size(),
                            type_modifier: f.type_modifier(),
                        })
                    })
                    .collect()
                    .map_err(protocol)?;
                described.fields = Some(fields);
                answered = true;
            }
            Ok(Message::NoData) => answered = true,
            Ok(Message::DataRow(body)) => described.target = crate::insert_target::oid(&body)?,
            Ok(Message::ErrorResponse(body)) => {
                if answered && error.is_none() && !name.is_empty() {
                    link.queue_close(name);
                }
                error.get_or_insert(crate::wire::error::from_error_body(&body)?);
            }
            Ok(Message::ReadyForQuery(_)) => break,
            Ok(_) => {}
            Err(e) => return Err(error.unwrap_or(e).with_statement(sql)),
        }
    }
    match error {
        Some(error) => Err(error.with_statement(sql)),
        None => Ok(described),
    }
}

impl Connection {
    /// Prepares a statement on the server (Parse and Describe in one round trip).
    ///
    /// Under `statement_cache=off` (`prepared_statements=unnamed`, for transaction poolers)
    /// the unnamed statement is described, and each execution parses it again in its own
    /// request: see [`PreparedStatements`](crate::params::PreparedStatements).
    pub async fn prepare(&self, sql: &str) -> Result<Statement, Error> {
        self.prepare_as(sql, true, true).await
    }

    /// A prepared statement that is not closed when its handles are dropped (the statement
    /// cache closes it).
    pub(crate) async fn prepare_unowned(&self, sql: &str) -> Result<Statement, Error> {
        self.prepare_as(sql, false, true).await
    }

    /// A prepared statement for the query interface's single execution: never loaded, so
    /// an INSERT's table is not looked up (`insert_target.rs`).
    pub(crate) async fn prepare_once(&self, sql: &str) -> Result<Statement, Error> {
        self.prepare_as(sql, true, false).await
    }

    async fn prepare_as(&self, sql: &str, owned: bool, loads: bool) -> Result<Statement, Error> {
        let link = self.link();
        let reparse = self.unnamed_statements();
        let name = match reparse {
            true => String::new(),
            false => link.unique_name("pg_api_s"),
        };
        let mut buf = BytesMut::new();
        frontend::parse(&name, sql, std::iter::empty(), &mut buf).map_err(nul(sql))?;
        frontend::describe(b'S', &name, &mut buf).map_err(nul(sql))?;
        if loads && !reparse {
            crate::insert_target::encode_lookup(self, sql, &mut buf)?;
        }
        frontend::sync(&mut buf);
        // Registered before the Parse goes out: given up before a handle holds the statement
        // (here or in the statement cache, which takes unowned ones at once), it is closed.
        let unclaimed = (!reparse).then(|| Unclaimed::new(link.clone(), close_statement(&name)));
        // Counted before the Parse goes out: a reset queued after it is one it must outlive.
        let made_in = (!reparse).then(|| link.resets());
        let described = describe(&link, buf.freeze(), &name, sql)
            .await
            .map_err(|e| self.context(e))?;
        let made = Made {
            name,
            sql: sql.to_owned(),
            owned: owned && !reparse,
            reparse,
            made_in,
        };
        let statement = self.statement(link, made, described).await?;
        if let Some(unclaimed) = unclaimed {
            unclaimed.claim();
        }
        Ok(statement)
    }

    /// Opens a statement prepared in SQL (`PREPARE name AS …`) by its name. It is never
    /// closed implicitly.
    pub async fn statement_from_id(&self, name: &str) -> Result<Statement, Error> {
        let link = self.link();
        let made_in = Some(link.resets());
        let mut buf = BytesMut::new();
        frontend::describe(b'S', name, &mut buf).map_err(nul(name))?;
        frontend::sync(&mut buf);
        let described = describe(&link, buf.freeze(), "", name)
            .await
            .map_err(|e| self.context(e))?;
        let lookup = format!(
            "SELECT statement FROM pg_catalog.pg_prepared_statements WHERE name = {}",
            pg_string::quote_literal_portable(name)
        );
        let sql = crate::simple::simple_query(&link, &lookup)
            .await?
            .into_iter()
            .flat_map(|r| r.rows)
            .next()
            .and_then(|row| row.into_iter().next().flatten())
            .unwrap_or_default();
        let made = Made {
            name: name.to_owned(),
            sql,
            owned: false,
            reparse: false,
            made_in,
        };
        self.statement(link, made, described).await
    }

    async fn statement(
        &self,
        link: Arc<Link>,
        made: Made,
        described: Described,
    ) -> Result<Statement, Error> {
        let fields = described.fields.unwrap_or_default();
        let mut oids = described.parameters.clone();
        oids.extend(fields.iter().map(|f| f.type_oid));
        let types = typecache::resolve(&link, &oids).await?;
        let (parameters, column_types) = types.split_at(described.parameters.len());
        let columns = fields
            .into_iter()
            .zip(column_types)
            .map(|(f, ty)| Column {
                name: f.name,
                format: if pg_types::supports_binary(ty) { 1 } else { 0 },
                type_: ty.clone(),
                table_oid: f.table_oid,
                column_id: f.column_id,
                type_modifier: f.type_modifier,
                type_size: f.type_size,
            })
            .collect();
        let columns = Columns::with_types(columns, link.types.clone());
        Ok(Statement {
            inner: Arc::new(StatementInner {
                conn: self.clone(),
                link,
                name: made.name.into(),
                sql: made.sql.into(),
                parameters: parameters.into(),
                columns,
                owned: made.owned,
                reparse: made.reparse,
                target: described.target,
                hook: Arc::default(),
                cached: None,
                made_in: made.made_in.map(|n| Arc::new(AtomicU64::new(n))),
                closed: AtomicBool::new(false),
            }),
        })
    }
}

/// What a statement handle is made of, beside what Describe said.
struct Made {
    name: String,
    sql: String,
    owned: bool,
    reparse: bool,
    /// The link's count of resets before the statement was made; None for the unnamed one.
    made_in: Option<u64>,
}

fn nul(sql: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| {
        Error::client(&ParameterError, "the statement text holds a NUL byte")
            .with_cause(e)
            .with_statement(sql)
    }
}

impl Statement {
    /// A handle on the unnamed statement, for SQL run once with known result columns.
    pub(crate) fn unnamed(
        conn: Connection,
        link: Arc<Link>,
        sql: &str,
        columns: Arc<Columns>,
    ) -> Statement {
        Statement {
            inner: Arc::new(StatementInner {
                conn,
                link,
                name: "".into(),
                sql: sql.into(),
                parameters: Arc::new([]),
                columns,
                owned: false,
                reparse: false,
                target: None,
                hook: Arc::default(),
                cached: None,
                made_in: None,
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// The connection the statement belongs to.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// The statement's server-side name.
    pub fn statement_id(&self) -> &str {
        &self.inner.name
    }

    /// The SQL text.
    pub fn string(&self) -> &str {
        &self.inner.sql
    }

    /// The result columns' descriptor, shared by every row.
    pub fn columns(&self) -> &Arc<Columns> {
        &self.inner.columns
    }

    /// The result column names.
    pub fn column_names(&self) -> Vec<String> {
        described::names(&self.inner.columns)
    }

    /// The result column types.
    pub fn column_types(&self) -> Vec<Type> {
        described::types(&self.inner.columns)
    }

    /// The result column type OIDs.
    pub fn pg_column_types(&self) -> Vec<u32> {
        described::oids(&self.inner.columns)
    }

    /// The result column types by their SQL names (`INTEGER`, `CHARACTER VARYING`, or the
    /// qualified name, e.g. `pg_catalog.text` or a composite's `public.pair`).
    pub fn sql_column_types(&self) -> Vec<String> {
        described::sql_names(&self.inner.columns)
    }

    /// The parameter types.
    pub fn parameter_types(&self) -> Vec<Type> {
        self.inner.parameters.to_vec()
    }

    /// The parameter type OIDs.
    pub fn pg_parameter_types(&self) -> Vec<u32> {
        self.inner.parameters.iter().map(Type::oid).collect()
    }

    /// The parameter types by their SQL names.
    pub fn sql_parameter_types(&self) -> Vec<String> {
        self.inner.parameters.iter().map(sql_type_name).collect()
    }

    /// Sets (or removes) the statement's message hook, first in the chain for messages that
    /// arrive while it runs, and second (after the cursor's own) for those raised while a
    /// cursor declared from it is declared, read or moved (py-postgresql's
    /// `Output → Statement → Connection → …`).
    pub fn set_message_hook(&self, hook: Option<MessageHook>) {
        self.inner.hook.set(hook);
    }

    pub(crate) fn hook(&self) -> Option<MessageHook> {
        self.inner.hook.get()
    }

    /// Closes the statement on the server now. Later use is a StatementNameError, and the
    /// statement is never prepared again (not even after [`Connection::reset`]). Closing it
    /// again does nothing, and so does closing it once its connection is closed or lost: the
    /// server dropped it with the session.
    pub async fn close(&self) -> Result<(), Error> {
        let link = &self.inner.link;
        if self.inner.closed.swap(true, Ordering::AcqRel) || link.shared.is_closed() {
            return Ok(());
        }
        // Gone with the session when the connection closes meanwhile.
        let gone = |error: Error| match link.shared.is_closed() {
            true => Ok(()),
            false => Err(error),
        };
        // A protocol message: it never opens autocommit off's lazy block.
        let mut responses = match link.request_protocol(close_statement(&self.inner.name), 1) {
            Ok(responses) => responses,
            Err(error) => return gone(error),
        };
        loop {
            match responses.next(&link.shared).await {
                Ok(Message::ReadyForQuery(_)) => return Ok(()),
                Ok(Message::ErrorResponse(body)) => {
                    return Err(crate::wire::error::from_error_body(&body)?);
                }
                Ok(_) => {}
                Err(error) => return gone(error),
            }
        }
    }

    /// Prepares the same SQL again as a new, separate statement (py-postgresql's `clone()`).
    pub async fn clone_statement(&self) -> Result<Statement, Error> {
        self.inner.conn.prepare(&self.inner.sql).await
    }

    /// Checks the parameters against the statement's before anything is sent.
    pub(crate) fn check_params<P: Params + ?Sized>(&self, params: &P) -> Result<(), Error> {
        let expected = self.inner.parameters.len();
        let given = params.count();
        if expected != given {
            return Err(Error::client(
                &ParameterError,
                format!("the statement takes {expected} parameters, {given} were given"),
            )
            .with_statement(&*self.inner.sql));
        }
        if !Arc::ptr_eq(&self.inner.link, &self.inner.conn.current()) {
            return Err(Error::client(
                &OperationError,
                "the statement belongs to a session that has since been replaced by a reconnect",
            )
            .with_statement(&*self.inner.sql));
        }
        Ok(())
    }
}

/// The column metadata statements and cursors both describe.
pub(crate) mod described {
    use pg_types::Columns;
    use postgres_types::Type;

    /// The column names.
    pub(crate) fn names(columns: &Columns) -> Vec<String> {
        columns.names().map(str::to_owned).collect()
    }

    /// The column types.
    pub(crate) fn types(columns: &Columns) -> Vec<Type> {
        columns.types().cloned().collect()
    }

    /// The column type OIDs.
    pub(crate) fn oids(columns: &Columns) -> Vec<u32> {
        columns.types().map(Type::oid).collect()
    }

    /// The column types by their SQL names.
    pub(crate) fn sql_names(columns: &Columns) -> Vec<String> {
        columns.types().map(super::sql_type_name).collect()
    }
}

/// The SQL-standard name of a type where it has one, else its qualified name.
pub(crate) fn sql_type_name(ty: &Type) -> String {
    let standard = match ty.name() {
        "int2" => "SMALLINT",
        "int4" => "INTEGER",
        "int8" => "BIGINT",
        "float4" => "REAL",
        "float8" => "DOUBLE PRECISION",
        "numeric" => "NUMERIC",
        "bool" => "BOOLEAN",
        "varchar" => "CHARACTER VARYING",
        "bpchar" => "CHARACTER",
        "date" => "DATE",
        "time" => "TIME WITHOUT TIME ZONE",
        "timetz" => "TIME WITH TIME ZONE",
        "timestamp" => "TIMESTAMP WITHOUT TIME ZONE",
        "timestamptz" => "TIMESTAMP WITH TIME ZONE",
        "interval" => "INTERVAL",
        "bit" => "BIT",
        "varbit" => "BIT VARYING",
        "xml" => "XML",
        _ => "",
    };
    if !standard.is_empty() && ty.schema() == "pg_catalog" {
        return standard.to_owned();
    }
    match ty.kind() {
        Kind::Array(element) => format!("{}[]", sql_type_name(element)),
        _ => format!("{}.{}", ty.schema(), ty.name()),
    }
}
