//! The server side of advisory locks: identifiers, modes, and the statements that take and
//! release them.

use std::sync::Arc;

use pg_exceptions::Error;
use postgres_types::{ToSql, Type};
use tokio::sync::OwnedMutexGuard;

use crate::link::Link;
use crate::oneshot;
use crate::wire::responses::Responses;

/// An advisory lock identifier: one `bigint`, or a pair of `integer`s (the server keeps the two
/// kinds apart: `Key(1)` and `Pair(0, 1)` are different locks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockId {
    /// A single 64-bit key.
    Key(i64),
    /// Two 32-bit keys.
    Pair(i32, i32),
}

impl From<i64> for LockId {
    fn from(key: i64) -> LockId {
        LockId::Key(key)
    }
}

impl From<(i32, i32)> for LockId {
    fn from((a, b): (i32, i32)) -> LockId {
        LockId::Pair(a, b)
    }
}

impl std::fmt::Display for LockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockId::Key(key) => write!(f, "{key}"),
            LockId::Pair(a, b) => write!(f, "({a}, {b})"),
        }
    }
}

/// Whether a lock is shared (py-postgresql's `ShareLock`: any number of sessions hold it at
/// once) or exclusive (`ExclusiveLock`: one session, and no shared holders).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockMode {
    /// `pg_advisory_lock_shared` and its kin.
    Share,
    /// `pg_advisory_lock` and its kin.
    Exclusive,
}

impl LockMode {
    pub(crate) fn functions(self) -> [&'static str; 3] {
        match self {
            LockMode::Share => [
                "pg_advisory_lock_shared",
                "pg_try_advisory_lock_shared",
                "pg_advisory_unlock_shared",
            ],
            LockMode::Exclusive => [
                "pg_advisory_lock",
                "pg_try_advisory_lock",
                "pg_advisory_unlock",
            ],
        }
    }
}

fn lock_sql(function: &str) -> String {
    format!(
        "SELECT CASE WHEN i.p THEN pg_catalog.{function}(i.a, i.b) ELSE pg_catalog.{function}(i.k) \
         END FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), \
         pg_catalog.unnest($2::pg_catalog.int4[]), pg_catalog.unnest($3::pg_catalog.int4[]), \
         pg_catalog.unnest($4::pg_catalog.bool[])) WITH ORDINALITY AS i(k, a, b, p, n) ORDER BY i.n"
    )
}

/// Queues one call of `function` per identifier, in order, as one statement.
pub(super) fn send(link: &Link, function: &str, ids: &[LockId]) -> Result<Responses, Error> {
    let (mut keys, mut firsts, mut seconds, mut pairs) = (vec![], vec![], vec![], vec![]);
    for id in ids {
        let (key, a, b, pair) = match *id {
            LockId::Key(key) => (key, 0, 0, false),
            LockId::Pair(a, b) => (0, a, b, true),
        };
        keys.push(key);
        firsts.push(a);
        seconds.push(b);
        pairs.push(pair);
    }
    let params: [(Type, &(dyn ToSql + Sync)); 4] = [
        (Type::INT8_ARRAY, &keys),
        (Type::INT4_ARRAY, &firsts),
        (Type::INT4_ARRAY, &seconds),
        (Type::BOOL_ARRAY, &pairs),
    ];
    oneshot::send(link, &lock_sql(function), &params)
}

/// The boolean each call returned (try and unlock functions).
pub(super) fn flags(rows: oneshot::TextRows) -> Vec<bool> {
    rows.into_iter()
        .map(|row| row.first().and_then(|v| v.as_deref()) == Some("t"))
        .collect()
}

/// Releases `ids` (last first, so a session waiting for all of them gets them as they come)
/// and returns those that were not held.
pub(super) async fn unlock(
    link: &Link,
    function: &str,
    ids: &[LockId],
) -> Result<Vec<LockId>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let reversed: Vec<LockId> = ids.iter().rev().copied().collect();
    let mut responses = send(link, function, &reversed)?;
    let released = flags(oneshot::read(link, &mut responses).await?);
    Ok(reversed
        .into_iter()
        .zip(released)
        .filter(|(_, released)| !released)
        .map(|(id, _)| id)
        .collect())
}

/// A request whose outcome is not read yet.
pub(super) struct InFlight {
    pub(super) ids: Vec<LockId>,
    pub(super) responses: Responses,
    pub(super) try_: bool,
}

/// Undoes a partial acquisition when the acquiring future is dropped: what was taken, and what
/// the request in flight turns out to take, is released once the answer arrives.
pub(super) struct Undo {
    pub(super) link: Arc<Link>,
    pub(super) unlock: &'static str,
    pub(super) taken: Vec<LockId>,
    pub(super) in_flight: Option<InFlight>,
    pub(super) op: Option<OwnedMutexGuard<()>>,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if self.taken.is_empty() && self.in_flight.is_none() {
            return;
        }
        let (link, unlock_fn, op) = (self.link.clone(), self.unlock, self.op.take());
        let mut taken = std::mem::take(&mut self.taken);
        let in_flight = self.in_flight.take();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    let _op = op;
                    if let Some(mut request) = in_flight {
                        let outcome = oneshot::read(&link, &mut request.responses).await;
                        match outcome {
                            Ok(rows) if request.try_ => taken.extend(
                                request
                                    .ids
                                    .iter()
                                    .zip(flags(rows))
                                    .filter(|f| f.1)
                                    .map(|f| *f.0),
                            ),
                            Ok(_) => taken.extend(request.ids),
                            Err(_) => {}
                        }
                    }
                    let _ = unlock(&link, unlock_fn, &taken).await;
                });
            }
            Err(_) => {
                // No runtime to wait on: release everything that may have been taken.
                taken.extend(in_flight.into_iter().flat_map(|r| r.ids));
                taken.reverse();
                let _ = send(&link, unlock_fn, &taken);
            }
        }
    }
}
