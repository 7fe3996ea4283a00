//! The process-wide pools, by pool id.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

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

/// The pool `id`, made with these settings if there is none (an existing pool keeps its own,
/// as in `queries`).
pub(crate) fn get_or_create<C: Pooled>(id: &str, max_size: usize, ttl: Duration) -> Arc<Core<C>> {
    let mut pools = pools();
    if let Some(core) = pools
        .get(id)
        .and_then(|entry| entry.any.clone().downcast::<Core<C>>().ok())
    {
        return core;
    }
    let core = Arc::new(Core::<C>::new(id.to_owned(), max_size, ttl));
    let entry = Entry {
        ops: core.clone(),
        any: core.clone(),
    };
    pools.insert(id.to_owned(), entry);
    core
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
