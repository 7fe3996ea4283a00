//! What a session builder collects, shared by [`SessionBuilder`](crate::SessionBuilder) and
//! [`AsyncSessionBuilder`](crate::AsyncSessionBuilder).

use std::time::Duration;

/// `queries`' default idle TTL: an idle connection is closed after a minute.
pub const DEFAULT_IDLE_TTL: Duration = Duration::from_secs(60);

/// `queries`' default pool size for blocking sessions (`QUERIES_MAX_POOL_SIZE` overrides it).
pub const DEFAULT_MAX_SIZE: usize = 1;

/// `queries`' default pool size for async sessions (`TornadoSession`'s).
pub const DEFAULT_ASYNC_MAX_SIZE: usize = 25;

/// How long a pooled connection of an async session may sit idle before it is checked with
/// a round trip when taken (see `AsyncSessionBuilder::check_idle_after`).
pub const DEFAULT_CHECK_IDLE_AFTER: Duration = Duration::from_secs(5);

/// How long an [`AsyncSession`](crate::AsyncSession)'s query waits for a connection when the
/// pool is at its maximum size and every connection is busy, before it fails with a
/// pool-full error. `queries` fails at once; a service whose tasks outnumber its connections
/// expects them to wait their turn, as deadpool (no timeout) and sqlx (30 s) make them:
/// `acquire_timeout(Duration::ZERO)` gives `queries`' behaviour back. A blocking
/// [`Session`](crate::Session) holds its connection for its whole life, so waiting for
/// another is a hang more often than a turn: it fails at once by default, as in `queries`.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variable that overrides [`DEFAULT_MAX_SIZE`], as in `queries`.
pub const MAX_POOL_SIZE_VARIABLE: &str = "QUERIES_MAX_POOL_SIZE";

/// A session URI (or `pq://` IRI, or `key=value` string) as given: it may hold a password,
/// so its `Debug` shows it with every password replaced by `***`
/// ([`pg_exceptions::obscure_password`]).
#[derive(Clone)]
pub(crate) struct SecretUri(String);

impl SecretUri {
    pub(crate) fn new(uri: String) -> SecretUri {
        SecretUri(uri)
    }

    /// The URI as given, password included.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&pg_exceptions::obscure_password(&self.0), f)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) uri: SecretUri,
    /// A builder from the environment: the `PGSQL_<NAME>` name whose variable gives the URI
    /// when the session is made (a `db_url` given meanwhile clears it).
    pub(crate) env_name: Option<String>,
    pub(crate) max_size: usize,
    pub(crate) idle_ttl: Duration,
    /// Which pool settings the builder was given: only those must match an existing pool.
    pub(crate) explicit: Explicit,
    pub(crate) acquire_timeout: Duration,
    pub(crate) autocommit: bool,
    pub(crate) readonly: crate::routing::ReadRoute,
    /// Async sessions: reset every returned connection, not only those left changed.
    pub(crate) reset_always: bool,
    /// Async sessions: how long a connection may sit idle before it is checked with a round
    /// trip when taken.
    pub(crate) check_idle_after: Duration,
    /// Async sessions: how many statements known to leave no state may be in flight on one
    /// connection at once (1: each has a connection of its own).
    pub(crate) pipeline_depth: usize,
    /// What initialises every connection the session's pools make.
    pub(crate) category: Option<SessionCategory>,
}

/// A session's category, shown in `Debug` by name only.
#[derive(Clone)]
pub(crate) struct SessionCategory(pub(crate) std::sync::Arc<dyn pg_driver::Category>);

impl SessionCategory {
    /// What tells categories apart in pool ids: the category's address, which stays taken
    /// while a connector (so a session, so its pool) holds the category.
    pub(crate) fn identity(&self) -> usize {
        std::sync::Arc::as_ptr(&self.0).cast::<()>() as usize
    }
}

impl std::fmt::Debug for SessionCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Category({:#x})", self.identity())
    }
}

/// The pool settings a builder was given explicitly.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Explicit {
    pub(crate) max_size: bool,
    pub(crate) idle_ttl: bool,
}

/// What a session asks of its pool: the settings to create it with, and which of them an
/// existing pool must already have.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolRequest {
    pub(crate) max_size: usize,
    pub(crate) idle_ttl: Duration,
    pub(crate) explicit: Explicit,
}

impl Options {
    pub(crate) fn new(uri: String, max_size: usize) -> Options {
        Options {
            uri: SecretUri::new(uri),
            env_name: None,
            max_size,
            idle_ttl: DEFAULT_IDLE_TTL,
            explicit: Explicit::default(),
            acquire_timeout: Duration::ZERO,
            autocommit: true,
            readonly: crate::routing::ReadRoute::Same,
            reset_always: false,
            check_idle_after: DEFAULT_CHECK_IDLE_AFTER,
            pipeline_depth: 1,
            category: None,
        }
    }

    /// Options whose URI comes from `PGSQL_<NAME>` when the session is made.
    pub(crate) fn from_env(name: &str, max_size: usize) -> Options {
        Options {
            env_name: Some(name.to_owned()),
            ..Options::new(String::new(), max_size)
        }
    }

    /// Reads the URI from the environment when the builder was made from it (and given no
    /// `db_url`): a variable that is not set is a [`SessionError::MissingVariable`](crate::SessionError::MissingVariable).
    pub(crate) fn resolve(&mut self) -> Result<(), pg_exceptions::Error> {
        if let Some(name) = self.env_name.take() {
            self.uri = SecretUri::new(crate::config::env_uri(&name, None)?);
        }
        Ok(())
    }

    /// What the session asks of its pools.
    pub(crate) fn pool_request(&self) -> PoolRequest {
        PoolRequest {
            max_size: self.max_size,
            idle_ttl: self.idle_ttl,
            explicit: self.explicit,
        }
    }

    /// The blocking default: `QUERIES_MAX_POOL_SIZE` when it holds a positive number.
    pub(crate) fn default_max_size() -> usize {
        std::env::var(MAX_POOL_SIZE_VARIABLE)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(DEFAULT_MAX_SIZE)
    }
}

/// The setters both builders share.
macro_rules! pool_setters {
    () => {
        /// The most connections the pool holds at once. Sessions on one URI share its pool:
        /// the first to make the pool sets its size, and a later session given a different
        /// size fails with [`SessionError::PoolSettingConflict`](crate::SessionError::PoolSettingConflict)
        /// (`queries` silently kept the first size); one that does not set it takes the pool
        /// as it is. [`Pool::set_max_size`](crate::Pool::set_max_size) changes a pool's size.
        pub fn pool_max_size(mut self, max_size: usize) -> Self {
            self.options.max_size = max_size.max(1);
            self.options.explicit.max_size = true;
            self
        }

        /// How long a connection may stay idle in the pool before it is closed (default 60 s).
        /// As with [`pool_max_size`](Self::pool_max_size), an existing pool with another TTL
        /// is a [`SessionError::PoolSettingConflict`](crate::SessionError::PoolSettingConflict).
        pub fn pool_idle_ttl(mut self, ttl: std::time::Duration) -> Self {
            self.options.idle_ttl = ttl;
            self.options.explicit.idle_ttl = true;
            self
        }

        /// The URI to use instead of the `PGSQL_<NAME>` variable of a builder made by
        /// `from_env` (`sprockets.clients.postgresql`'s `db_url`); on a builder made from a
        /// URI, it replaces that URI. `None` keeps what the builder had.
        pub fn db_url(mut self, url: Option<&str>) -> Self {
            if let Some(url) = url {
                self.options.uri = crate::options::SecretUri::new(url.to_owned());
                self.options.env_name = None;
            }
            self
        }

        /// Initialises every connection the session's pools make with `category`
        /// (py-postgresql's `Category`, see [`pg_driver::category`]) before it serves
        /// anything: once when it is made, and again after each cleaning (`RESET ALL` undoes
        /// what the category set). A category that fails fails the query (or `acquire`)
        /// that needed the connection. Sessions share a pool only when they share the
        /// category (clones of one `Arc`): its pool id names it.
        pub fn category(mut self, category: std::sync::Arc<dyn pg_driver::Category>) -> Self {
            self.options.category = Some(crate::options::SessionCategory(category));
            self
        }

        /// How long to wait for a connection when the pool is at its maximum size and every
        /// connection is busy: by default [`DEFAULT_ACQUIRE_TIMEOUT`](crate::DEFAULT_ACQUIRE_TIMEOUT)
        /// (30 s) for an async session, zero for a blocking one. Zero fails at once as
        /// `queries` does (a connection already on its way back is still waited for). It is
        /// the session's own, not the pool's: sessions sharing a pool each wait as long as
        /// they asked, so it never conflicts with an existing pool.
        pub fn acquire_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.acquire_timeout = timeout;
            self
        }
    };
}

pub(crate) use pool_setters;
