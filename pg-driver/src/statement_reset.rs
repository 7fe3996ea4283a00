//! Statements across [`Connection::reset`](crate::Connection::reset), whose `DISCARD ALL`
//! deallocates every prepared statement of the session.
//!
//! A statement remembers the link's count of resets from before it was made; a handle whose
//! count is behind names a statement the server no longer has. One the driver prepared is
//! prepared again under its own name before its next execution (Close, Parse and Describe in
//! one round trip: the Close makes it harmless for two handles to do it at once) and checked
//! against what it was: the same parameter types, the same result column names and types, or
//! a FeatureError before anything runs. Its name stays the handle's, so the handle (or the
//! statement cache's entry) still closes it: nothing is left behind when the future is given
//! up after the request went out. A statement prepared in SQL (`statement_from_id`) is not
//! the driver's to repeat, and a closed one stays closed: a StatementNameError names why.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use pg_exceptions::{Error, FeatureError, StatementNameError};
use postgres_protocol::message::frontend;
use postgres_types::Type;

use crate::statement::{Described, Statement, StatementInner, describe};
use crate::wire::task::protocol;

const DISCARDED: &str = "deallocated by Connection::reset() (DISCARD ALL)";

impl Statement {
    /// Whether the server has the statement this handle binds: refused when it was closed
    /// through a handle, or deallocated by a reset and not prepared again (a statement
    /// prepared in SQL, or a use racing the reset on another task).
    pub(crate) fn current(&self) -> Result<(), Error> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::Relaxed) {
            let message = format!("statement {:?} was closed", &*inner.name);
            return Err(self.refuse(message));
        }
        match &inner.made_in {
            Some(made_in) if made_in.load(Ordering::Acquire) != inner.link.resets() => {
                let message = match prepared_by_driver(inner) {
                    true => format!("statement {:?} was {DISCARDED}", &*inner.name),
                    false => format!(
                        "prepared statement {:?} was {DISCARDED}; it was prepared in SQL, \
                         which the driver does not repeat: run its PREPARE again and open it \
                         with statement_from_id",
                        &*inner.name
                    ),
                };
                Err(self.refuse(message))
            }
            _ => Ok(()),
        }
    }

    fn refuse(&self, message: String) -> Error {
        let error = Error::client(&StatementNameError, message).with_statement(&*self.inner.sql);
        self.inner.conn.context(error)
    }

    /// Whether [`Statement::ready`] has nothing to do (one or two loads).
    pub(crate) fn is_ready(&self) -> bool {
        let inner = &self.inner;
        inner
            .made_in
            .as_ref()
            .is_none_or(|made_in| made_in.load(Ordering::Acquire) == inner.link.resets())
    }

    /// Prepares the statement again when a reset deallocated it since it was made, and the
    /// driver prepared it; does nothing otherwise (the request that follows reports a closed
    /// statement, one prepared in SQL, or a closed connection). Cancel-safe: given up after
    /// its request went out, the statement exists under the handle's name, which the handle
    /// closes, and its next use prepares it again.
    pub(crate) async fn ready(&self) -> Result<(), Error> {
        let inner = &self.inner;
        let Some(made_in) = &inner.made_in else {
            return Ok(());
        };
        // Counted before the Parse goes out: a reset queued after it is one to catch up with.
        let resets = inner.link.resets();
        if made_in.load(Ordering::Acquire) == resets
            || inner.closed.load(Ordering::Relaxed)
            || !prepared_by_driver(inner)
            || inner.link.shared.is_closed()
        {
            return Ok(());
        }
        self.prepare_again(made_in, resets).await
    }

    async fn prepare_again(&self, made_in: &AtomicU64, resets: u64) -> Result<(), Error> {
        let inner = &self.inner;
        let (name, sql) = (&*inner.name, &*inner.sql);
        let mut buf = BytesMut::new();
        frontend::close(b'S', name, &mut buf).map_err(protocol)?;
        frontend::parse(name, sql, std::iter::empty(), &mut buf).map_err(protocol)?;
        frontend::describe(b'S', name, &mut buf).map_err(protocol)?;
        frontend::sync(&mut buf);
        let described = describe(&inner.link, buf.freeze(), "", sql)
            .await
            .map_err(|e| inner.conn.context(e))?;
        if let Some(change) = changed(inner, &described) {
            let message = format!(
                "statement {name:?} was {DISCARDED} and, prepared again, {change}; nothing \
                 was run: prepare the statement anew"
            );
            let error = Error::client(&FeatureError, message).with_statement(sql);
            return Err(inner.conn.context(error));
        }
        made_in.fetch_max(resets, Ordering::AcqRel);
        Ok(())
    }
}

/// Whether the driver prepared the statement (`prepare`, `prepare_cached`), so that it can
/// prepare it again; not one opened by `statement_from_id`.
fn prepared_by_driver(inner: &StatementInner) -> bool {
    !inner.reparse && (inner.owned || inner.cached.is_some())
}

/// What differs between the statement as first described and as described now.
fn changed(inner: &StatementInner, now: &Described) -> Option<String> {
    let before: Vec<u32> = inner.parameters.iter().map(Type::oid).collect();
    if before != now.parameters {
        let list = |oids: &[u32]| oids.iter().map(|&o| type_name(o)).collect::<Vec<_>>();
        return Some(format!(
            "its parameters changed: ({}) when first prepared, ({}) now",
            list(&before).join(", "),
            list(&now.parameters).join(", ")
        ));
    }
    let before: Vec<(&str, u32)> = inner
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.type_.oid()))
        .collect();
    let fields = now.fields.as_deref().unwrap_or_default();
    let after: Vec<(&str, u32)> = fields
        .iter()
        .map(|f| (f.name.as_str(), f.type_oid))
        .collect();
    if before == after {
        return None;
    }
    let list = |columns: &[(&str, u32)]| {
        columns
            .iter()
            .map(|(name, oid)| format!("{name} {}", type_name(*oid)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(format!(
        "its result columns changed: ({}) when first prepared, ({}) now",
        list(&before),
        list(&after)
    ))
}

/// A type's name for a message: a builtin's, else its OID.
fn type_name(oid: u32) -> String {
    Type::from_oid(oid).map_or_else(|| format!("type {oid}"), |t| t.name().to_owned())
}
