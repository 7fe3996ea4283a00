//! Read-only routing: the write and read pools of a session (see the crate's notes,
//! "Read-only routing").

use pg_driver::Connector;
use pg_driver::params::{Keywords, TargetSessionAttrs};
use pg_exceptions::Error;

use crate::config::{self, pool_id};
use crate::options::Options;

/// Where a session sends read-only work.
#[derive(Clone, Debug, Default)]
pub(crate) enum ReadRoute {
    /// Where writes go.
    #[default]
    Same,
    /// To a pool on this URI.
    Uri(crate::options::SecretUri),
    /// To standbys of the session's own host list.
    Standbys,
}

/// A pool a session takes connections from: its id, and the connector for new ones.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) pid: String,
    pub(crate) connector: Connector,
}

/// The write pool and the read pool (if any) for a session of `kind` (`Session`,
/// `AsyncSession`).
pub(crate) fn routes(kind: &str, options: &Options) -> Result<(Route, Option<Route>), Error> {
    let (write, read) = routes_of(kind, options)?;
    Ok(match &options.category {
        None => (write, read),
        Some(category) => (
            write.categorised(category),
            read.map(|r| r.categorised(category)),
        ),
    })
}

impl Route {
    /// The route whose connections `category` initialises, on a pool of its own.
    fn categorised(self, category: &crate::options::SessionCategory) -> Route {
        Route {
            pid: format!("{}+category-{:x}", self.pid, category.identity()),
            connector: self.connector.with_category(category.0.clone()),
        }
    }
}

fn routes_of(kind: &str, options: &Options) -> Result<(Route, Option<Route>), Error> {
    let uri = options.uri.as_str();
    let read = |read_uri: &str, attrs: Option<TargetSessionAttrs>| -> Result<Route, Error> {
        Ok(Route {
            pid: pool_id(&format!("{kind}[read-only]"), read_uri),
            connector: connector(read_uri, attrs, true)?,
        })
    };
    Ok(match &options.readonly {
        ReadRoute::Same => (
            Route {
                pid: pool_id(kind, uri),
                connector: config::connector(uri)?,
            },
            None,
        ),
        ReadRoute::Uri(read_uri) => (
            Route {
                pid: pool_id(kind, uri),
                connector: config::connector(uri)?,
            },
            Some(read(read_uri.as_str(), None)?),
        ),
        ReadRoute::Standbys => (
            Route {
                pid: pool_id(&format!("{kind}[read-write]"), uri),
                connector: connector(uri, Some(TargetSessionAttrs::ReadWrite), false)?,
            },
            Some(read(uri, Some(TargetSessionAttrs::PreferStandby))?),
        ),
    })
}

/// The connector for `uri` with libpq's environment, `target_session_attrs` forced to
/// `attrs` (when given) or, for a read pool, defaulting to prefer-standby; a read pool's
/// sessions are read-only.
fn connector(uri: &str, attrs: Option<TargetSessionAttrs>, read: bool) -> Result<Connector, Error> {
    let mut keywords = crate::config::keep_notices(Keywords::parse(uri)?.with_process_env()?);
    match attrs {
        Some(attrs) => keywords.target_session_attrs = Some(attrs),
        None if read => {
            keywords
                .target_session_attrs
                .get_or_insert(TargetSessionAttrs::PreferStandby);
        }
        None => {}
    }
    if read {
        keywords = keywords.setting("default_transaction_read_only", "on");
    }
    Ok(Connector::new(keywords.build()?))
}

/// The routing setters both builders share.
macro_rules! routing_setters {
    () => {
        /// Sends read-only work (`query_readonly`, the read-only connection) to a second
        /// pool on `uri`, whose connections prefer a standby (`target_session_attrs=
        /// prefer-standby` unless `uri` says otherwise) and are read-only sessions; see
        /// [the routing notes](crate#read-only-routing).
        pub fn readonly_uri(mut self, uri: impl Into<String>) -> Self {
            let uri = crate::options::SecretUri::new(uri.into());
            self.options.readonly = crate::routing::ReadRoute::Uri(uri);
            self
        }

        /// With `true`, the session's URI lists a primary and its standbys: writes go to a
        /// pool that needs `target_session_attrs=read-write`, read-only work to one that
        /// prefers a standby; see [the routing notes](crate#read-only-routing). Replaces
        /// [`readonly_uri`](Self::readonly_uri); `false` routes nothing.
        pub fn standby_reads(mut self, on: bool) -> Self {
            self.options.readonly = match on {
                true => crate::routing::ReadRoute::Standbys,
                false => crate::routing::ReadRoute::Same,
            };
            self
        }
    };
}

pub(crate) use routing_setters;
