//! The process-wide pools, by pool id.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pg_exceptions::Error;

use crate::error::SessionError;
use crate::options::PoolRequest;
use crate::pool::{Core, Pooled};
use crate::report::PoolReport;

/// What the public [`Pool`](crate::Pool) handle and the reaper need of a pool, whatever
/// its connections' type.
pub(crate) trait PoolOps: Send + Sync {
    fn id(&self) -> &str;
    fn report(&self) -> PoolReport;
    fn shutdown(&self);
    fn set_max_size(&self, max_size: usize);
    fn set_idle_ttl(&self, ttl: Duration);
    fn sweep(&self) -> Option<Instant>;
}

impl<C: Pooled> PoolOps for Core<C> {
    fn id(&self) -> &str {
        &self.id
    }
    fn report(&self) -> PoolReport {
        Core::report(self)
    }
    fn shutdown(&self) {
        Core::shutdown(self)
    }
    fn set_max_size(&self, max_size: usize) {
        Core::set_max_size(self, max_size)
    }
    fn set_idle_ttl(&self, ttl: Duration) {
        Core::set_idle_ttl(self, ttl)
    }
    fn sweep(&self) -> Option<Instant> {
        Core::sweep(self)
    }
}

struct Entry {
    ops: Arc<dyn PoolOps>,
    any: Arc<dyn Any + Send + Sync>,
}

static POOLS: LazyLock<Mutex<HashMap<String, Entry>>> = LazyLock::new(Mutex::default);

fn pools() -> MutexGuard<'static, HashMap<String, Entry>> {
    POOLS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pool `id`, made with the request's settings if there is none. An existing pool keeps
/// its own: a request that set a setting explicitly to something else is a
/// [`SessionError::PoolSettingConflict`], one that left it unset takes the pool as it is.
pub(crate) fn get_or_create<C: Pooled>(
    id: &str,
    request: PoolRequest,
) -> Result<Arc<Core<C>>, Error> {
    let mut pools = pools();
    if let Some(core) = pools
        .get(id)
        .and_then(|entry| entry.any.clone().downcast::<Core<C>>().ok())
    {
        let (max_size, idle_ttl) = core.settings();
        let conflict = |setting, asked: String, existing: String| {
            Err(SessionError::PoolSettingConflict {
                pool_id: id.to_owned(),
                setting,
                asked,
                existing,
            }
            .into())
        };
        if request.explicit.max_size && request.max_size != max_size {
            let (asked, existing) = (request.max_size.to_string(), max_size.to_string());
            return conflict("pool_max_size", asked, existing);
        }
        if request.explicit.idle_ttl && request.idle_ttl != idle_ttl {
            let (asked, existing) = (format!("{:?}", request.idle_ttl), format!("{idle_ttl:?}"));
            return conflict("pool_idle_ttl", asked, existing);
        }
        return Ok(core);
    }
    let core = Arc::new(Core::<C>::new(
        id.to_owned(),
        request.max_size,
        request.idle_ttl,
    ));
    let entry = Entry {
        ops: core.clone(),
        any: core.clone(),
    };
    pools.insert(id.to_owned(), entry);
    Ok(core)
}

/// The pool `id`, if it exists.
pub(crate) fn lookup(id: &str) -> Option<Arc<dyn PoolOps>> {
    pools().get(id).map(|entry| entry.ops.clone())
}

/// Every pool.
pub(crate) fn all() -> Vec<Arc<dyn PoolOps>> {
    pools().values().map(|entry| entry.ops.clone()).collect()
}

/// Forgets `pool`, unless its id already names a newer pool.
pub(crate) fn remove(pool: &Arc<dyn PoolOps>) {
    let mut pools = pools();
    let same = pools
        .get(pool.id())
        .is_some_and(|entry| std::ptr::addr_eq(Arc::as_ptr(&entry.ops), Arc::as_ptr(pool)));
    if same {
        pools.remove(pool.id());
    }
}
