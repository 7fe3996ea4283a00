//! Declaring cursors: `Statement::declare`, `Connection::query_declare` and
//! `Connection::cursor_from_id`.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use pg_exceptions::{Error, ParameterError};
use pg_types::Columns;
use postgres_protocol::message::frontend;
use postgres_types::{IsNull, Type};

use crate::connection::Connection;
use crate::cursor::Cursor;
use crate::execute::Reader;
use crate::link::Unclaimed;
use crate::statement::{Statement, StatementInner};
use crate::wire::hooks::HookSlot;
use crate::wire::task::protocol;
use pg_api::Params;

/// What a cursor was declared from, kept so that `clone_cursor` can declare it again.
#[derive(Clone)]
pub(crate) struct Origin {
    /// The statement declared, kept for [`Cursor::statement`].
    pub(crate) statement: Statement,
    pub(crate) sql: String,
    parameters: Vec<Type>,
    params: Encoded,
    /// The message hook of the statement the cursor was declared from: it covers the cursor
    /// and its clones.
    pub(crate) hook: Arc<HookSlot>,
}

/// Parameters encoded once, for the DECLARE and any later clone of the cursor.
#[derive(Clone)]
struct Encoded(Vec<(i16, Option<Bytes>)>);

impl Encoded {
    fn capture<P: Params + ?Sized>(statement: &Statement, params: &P) -> Result<Encoded, Error> {
        statement.check_params(params)?;
        let types = &statement.inner.parameters;
        let mut values = Vec::with_capacity(types.len());
        for (index, ty) in types.iter().enumerate() {
            let mut buf = BytesMut::new();
            let value = match params.encode(index, ty, &mut buf) {
                Ok(IsNull::Yes) => None,
                Ok(IsNull::No) => Some(buf.freeze()),
                Err(cause) => {
                    return Err(Error::client(
                        &ParameterError,
                        format!(
                            "parameter ${} cannot be encoded as {}: {cause}",
                            index + 1,
                            ty.name()
                        ),
                    )
                    .with_statement(statement.string()));
                }
            };
            values.push((params.format(index, ty), value));
        }
        Ok(Encoded(values))
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl Params for Encoded {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn encode(&self, index: usize, _: &Type, buf: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.0[index].1 {
            Some(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
    fn format(&self, index: usize, _: &Type) -> i16 {
        self.0[index].0
    }
}

impl Statement {
    /// Declares a scrollable cursor over the statement's rows with these parameters
    /// (py-postgresql's `declare`): `DECLARE … SCROLL CURSOR WITH HOLD`, so it stays readable
    /// after the transaction that declared it commits. It is closed when its last handle drops.
    pub async fn declare<P: Params>(&self, params: P) -> Result<Cursor, Error> {
        self.declare_as(None, params).await
    }

    /// [`Statement::declare`] under the name `name` (psycopg2's named cursors), which SQL can
    /// then use too (`FETCH 10 FROM name`); a name already declared in the session fails with
    /// the server's DuplicateCursorError. It is closed when its last handle drops.
    pub async fn declare_named<P: Params>(&self, name: &str, params: P) -> Result<Cursor, Error> {
        self.declare_as(Some(name), params).await
    }

    async fn declare_as<P: Params>(&self, name: Option<&str>, params: P) -> Result<Cursor, Error> {
        // The cursor's rows are read with the statement's columns: after a reset, the
        // statement is prepared again first, which checks they are still the query's.
        self.ready().await?;
        let origin = Origin {
            statement: self.clone(),
            sql: self.string().to_owned(),
            parameters: self.inner.parameters.to_vec(),
            params: Encoded::capture(self, &params)?,
            hook: self.inner.hook.clone(),
        };
        declare(&self.inner.conn, origin, self.columns().clone(), name).await
    }
}

/// Runs the DECLARE in one round trip: Parse (typed as the statement's parameters), Bind,
/// Execute and Sync; the cursor is called `name`, or a name unique in the session.
pub(crate) async fn declare(
    conn: &Connection,
    origin: Origin,
    columns: Arc<Columns>,
    name: Option<&str>,
) -> Result<Cursor, Error> {
    let link = conn.link();
    let named = name.is_some();
    let name = match name {
        Some(name) => name.to_owned(),
        None => link.unique_name("pg_api_c"),
    };
    let quoted = pg_string::quote_ident(&name);
    let sql = format!(
        "DECLARE {quoted} SCROLL CURSOR WITH HOLD FOR {}",
        origin.sql
    );
    // The DECLARE has the statement's parameters and no result columns of its own.
    let statement = Statement {
        inner: Arc::new(StatementInner {
            conn: conn.clone(),
            link: link.clone(),
            name: "".into(),
            sql: sql.as_str().into(),
            parameters: origin.parameters.as_slice().into(),
            columns: Columns::new(Vec::new()),
            owned: false,
            reparse: false,
            target: None,
            hook: origin.hook.clone(),
            cached: None,
            made_in: None,
            closed: Default::default(),
        }),
    };
    let mut buf = BytesMut::new();
    let oids = origin.parameters.iter().map(Type::oid);
    frontend::parse("", &sql, oids, &mut buf).map_err(|e| {
        Error::client(&ParameterError, "the statement text holds a NUL byte")
            .with_cause(e)
            .with_statement(&origin.sql)
    })?;
    statement.encode_bind("", &origin.params, &mut buf)?;
    frontend::execute("", 0, &mut buf).map_err(protocol)?;
    frontend::sync(&mut buf);
    // Registered before the DECLARE goes out: given up before the cursor's handle exists, the
    // cursor (WITH HOLD, so it would live as long as the session) is closed.
    let unclaimed = Unclaimed::new(link.clone(), crate::cursor::close_portal(&name)?);
    // Counted before the DECLARE goes out: a reset queued after it closes the cursor.
    let made_in = link.session_resets();
    let responses = link.request(buf.freeze(), 1, statement.hook())?;
    let mut reader = Reader::new(&statement, responses);
    while reader.next().await.is_some() {}
    reader.finish()?;
    unclaimed.claim();
    let origin = Some(origin);
    let cursor = Cursor::new(conn, link, name, columns, origin, true, made_in);
    Ok(if named { cursor.named() } else { cursor })
}

impl Connection {
    /// Opens a cursor declared in SQL (`DECLARE name … CURSOR WITH HOLD FOR …`) by its name.
    /// It is never closed implicitly; [`Cursor::close`] closes it.
    ///
    /// Its columns come from describing `FETCH FORWARD 0 FROM name`, which does not move it;
    /// a `MOVE FORWARD 0` in the same round trip checks that it exists.
    pub async fn cursor_from_id(&self, name: &str) -> Result<Cursor, Error> {
        // Counted before the cursor is looked at: a reset queued after it closes the cursor.
        let made_in = self.link().session_resets();
        let quoted = pg_string::quote_ident(name);
        let describe = format!("FETCH FORWARD 0 FROM {quoted}");
        let check = format!("MOVE FORWARD 0 IN {quoted}");
        let (described, checked) = futures::join!(self.prepare(&describe), self.simple(&check));
        checked?;
        let described = described?;
        let link = described.inner.link.clone();
        let columns = described.columns().clone();
        Ok(Cursor::new(
            self,
            link,
            name.to_owned(),
            columns,
            None,
            false,
            made_in,
        ))
    }

    /// Declares a scrollable cursor over `sql` with `params` (a single-use statement, then
    /// [`Statement::declare`]).
    pub async fn query_declare<P: Params>(&self, sql: &str, params: P) -> Result<Cursor, Error> {
        self.prepare(sql).await?.declare(params).await
    }

    /// [`Connection::query_declare`] under the name `name`; see [`Statement::declare_named`].
    pub async fn query_declare_named<P: Params>(
        &self,
        name: &str,
        sql: &str,
        params: P,
    ) -> Result<Cursor, Error> {
        self.prepare(sql).await?.declare_named(name, params).await
    }
}
