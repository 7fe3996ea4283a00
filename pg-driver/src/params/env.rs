//! libpq's `PG*` environment variables as a keyword layer.

use super::{Keywords, ParamsError};

/// Each variable and the libpq keyword (or startup setting) it supplies.
const VARIABLES: &[(&str, Target)] = &[
    ("PGHOST", Target::Keyword("host")),
    ("PGHOSTADDR", Target::Keyword("hostaddr")),
    ("PGPORT", Target::Keyword("port")),
    ("PGDATABASE", Target::Keyword("dbname")),
    ("PGUSER", Target::Keyword("user")),
    ("PGPASSWORD", Target::Keyword("password")),
    ("PGPASSFILE", Target::Keyword("passfile")),
    ("PGCHANNELBINDING", Target::Keyword("channel_binding")),
    ("PGSSLMODE", Target::Keyword("sslmode")),
    ("PGSSLROOTCERT", Target::Keyword("sslrootcert")),
    ("PGSSLCERT", Target::Keyword("sslcert")),
    ("PGSSLKEY", Target::Keyword("sslkey")),
    ("PGCONNECT_TIMEOUT", Target::Keyword("connect_timeout")),
    (
        "PGTARGETSESSIONATTRS",
        Target::Keyword("target_session_attrs"),
    ),
    ("PGLOADBALANCEHOSTS", Target::Keyword("load_balance_hosts")),
    ("PGREQUIREAUTH", Target::Keyword("require_auth")),
    ("PGAPPNAME", Target::Keyword("application_name")),
    ("PGOPTIONS", Target::Keyword("options")),
    ("PGCLIENTENCODING", Target::Keyword("client_encoding")),
    ("PGTZ", Target::Setting("timezone")),
    ("PGDATESTYLE", Target::Setting("datestyle")),
    ("PGGEQO", Target::Setting("geqo")),
    // Known to libpq, kept in `extra` for the driver.
    ("PGSSLNEGOTIATION", Target::Keyword("sslnegotiation")),
    ("PGSSLCOMPRESSION", Target::Keyword("sslcompression")),
    ("PGSSLCERTMODE", Target::Keyword("sslcertmode")),
    ("PGSSLCRL", Target::Keyword("sslcrl")),
    ("PGSSLCRLDIR", Target::Keyword("sslcrldir")),
    ("PGSSLSNI", Target::Keyword("sslsni")),
    ("PGREQUIREPEER", Target::Keyword("requirepeer")),
    (
        "PGSSLMINPROTOCOLVERSION",
        Target::Keyword("ssl_min_protocol_version"),
    ),
    (
        "PGSSLMAXPROTOCOLVERSION",
        Target::Keyword("ssl_max_protocol_version"),
    ),
    ("PGGSSENCMODE", Target::Keyword("gssencmode")),
    ("PGKRBSRVNAME", Target::Keyword("krbsrvname")),
    ("PGGSSLIB", Target::Keyword("gsslib")),
    ("PGGSSDELEGATION", Target::Keyword("gssdelegation")),
    ("PGSERVICE", Target::Keyword("service")),
];

#[derive(Clone, Copy)]
enum Target {
    Keyword(&'static str),
    Setting(&'static str),
}

/// Reads libpq's environment variables through `lookup` (so tests can pass a
/// map instead of touching the process environment) into a keyword layer.
/// Unset and empty variables are skipped. `PGTZ`, `PGDATESTYLE` and `PGGEQO` become the
/// `timezone`, `datestyle` and `geqo` settings; `PGAPPNAME`, `PGOPTIONS` and
/// `PGCLIENTENCODING` the `application_name`, `options` and
/// `client_encoding` settings.
pub fn env_keywords(lookup: impl Fn(&str) -> Option<String>) -> Result<Keywords, ParamsError> {
    let mut kw = Keywords::new();
    for &(variable, target) in VARIABLES {
        let Some(value) = lookup(variable).filter(|v| !v.is_empty()) else {
            continue;
        };
        match target {
            Target::Setting(name) => kw.set_setting(name.to_owned(), value),
            Target::Keyword(keyword) => {
                kw.set(keyword, &value)
                    .map_err(|error| ParamsError::Environment {
                        variable: variable.to_owned(),
                        error: Box::new(error),
                    })?;
            }
        }
    }
    Ok(kw)
}

impl Keywords {
    /// Fills what this layer leaves unset from the connection service it (or `PGSERVICE`)
    /// names, then from the environment read through `lookup` (see [`env_keywords`] and
    /// [`super::service`]): this layer wins everywhere it has a value, settings included,
    /// and the service's values win over the environment's, as in libpq. The service files
    /// are found through `lookup` too (`PGSERVICEFILE`, `PGSYSCONFDIR`, `HOME`).
    pub fn with_env(
        self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Keywords, ParamsError> {
        let env = env_keywords(&lookup)?;
        super::service::layer_with_env(self, env, lookup)
    }

    /// [`Keywords::with_env`] over the process environment.
    pub fn with_process_env(self) -> Result<Keywords, ParamsError> {
        self.with_env(|name| std::env::var(name).ok())
    }

    /// The whole libpq resolution over this layer: the process environment,
    /// then the system [`Defaults`](super::Defaults).
    pub fn resolve(self) -> Result<super::ConnectParams, ParamsError> {
        self.with_process_env()?.build()
    }
}
