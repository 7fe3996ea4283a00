//! Settings (py-postgresql's `Settings`): the session's configuration parameters as a mapping.
//!
//! Names and values travel as parameters of `current_setting` and `set_config`, never as SQL
//! text. Each call is one round trip: Parse, Bind, Execute and Sync of the unnamed statement go
//! together. Parameters the server reports through ParameterStatus (`application_name`,
//! `TimeZone`, `DateStyle`, `client_encoding`, …) are read from the connection without a query.

use bytes::Bytes;
use pg_exceptions::{Error, UndefinedObjectError};
use postgres_types::{ToSql, Type};

use crate::connection::Connection;
use crate::link::Link;

/// A session's settings: py-postgresql's `db.settings`, made by [`Connection::settings`].
///
/// ```no_run
/// # async fn example(db: &pg_driver::Connection) -> Result<(), pg_exceptions::Error> {
/// let settings = db.settings();
/// settings.set("application_name", "reporter").await?;
/// assert_eq!(settings.get("application_name").await?.as_deref(), Some("reporter"));
/// settings
///     .scoped([("search_path", "archive, public")], |db| async move {
///         db.execute("SELECT * FROM old_orders").await
///     })
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Settings {
    pub(crate) conn: Connection,
}

impl Connection {
    /// The session's settings.
    pub fn settings(&self) -> Settings {
        Settings { conn: self.clone() }
    }
}

/// A text row of a one-shot query.
pub(crate) type TextRow = Vec<Option<String>>;

/// Parse, Bind (parameters in binary, results as text), Execute and Sync of the unnamed
/// statement: one request, so nothing another user of the connection sends comes between.
pub(crate) fn encode_one_shot(
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Bytes, Error> {
    let params: Vec<(Type, &(dyn ToSql + Sync))> = params
        .iter()
        .map(|(value, ty)| (ty.clone(), *value))
        .collect();
    crate::oneshot::encode(sql, &params, 0)
}

/// Runs a one-shot query and returns its rows as text.
pub(crate) async fn one_shot(
    conn: &Connection,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Vec<TextRow>, Error> {
    let link = conn.link();
    read_text_rows(&link, encode_one_shot(sql, params)?)
        .await
        .map_err(|e| conn.context(e.with_statement(sql)))
}

async fn read_text_rows(link: &Link, bytes: Bytes) -> Result<Vec<TextRow>, Error> {
    let mut responses = link.request(bytes, 1, None)?;
    crate::oneshot::read(link, &mut responses).await
}

/// Sets every `(name, value)` pair in one statement; a NULL value resets its parameter.
pub(crate) const SET_MANY: &str = "SELECT pg_catalog.set_config(s.name, s.value, false) \
     FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), \
                     pg_catalog.unnest($2::pg_catalog.text[])) AS s(name, value)";

/// The first column of each row, NULL as empty.
fn column(rows: Vec<TextRow>) -> Vec<String> {
    rows.into_iter()
        .map(|row| row.into_iter().next().flatten().unwrap_or_default())
        .collect()
}

impl Settings {
    /// The connection whose settings these are.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A parameter's value as the server last reported it through ParameterStatus, the name
    /// in any case (`timezone` finds `TimeZone`); None for parameters it does not report.
    pub fn reported(&self, name: &str) -> Option<String> {
        self.conn.parameter_status(name).or_else(|| {
            self.conn
                .parameters()
                .into_iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        })
    }

    /// A setting's value (`current_setting(name, true)`), None when there is no such setting.
    /// Reported parameters are read without a query.
    pub async fn get(&self, name: &str) -> Result<Option<String>, Error> {
        if let Some(value) = self.reported(name) {
            return Ok(Some(value));
        }
        let rows = one_shot(
            &self.conn,
            "SELECT pg_catalog.current_setting($1, true)",
            &[(&name, Type::TEXT)],
        )
        .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten()))
    }

    /// Sets a setting for the session (`set_config(name, value, false)`): the value is stored
    /// as given, whatever quotes or semicolons it holds. Inside a transaction block, a rollback
    /// undoes it.
    pub async fn set(&self, name: &str, value: &str) -> Result<(), Error> {
        one_shot(
            &self.conn,
            "SELECT pg_catalog.set_config($1, $2, false)",
            &[(&name, Type::TEXT), (&value, Type::TEXT)],
        )
        .await
        .map(drop)
    }

    /// Returns a setting to its session default (`RESET name`).
    pub async fn reset(&self, name: &str) -> Result<(), Error> {
        self.conn
            .execute(&format!("RESET {}", pg_string::quote_ident(name)))
            .await
    }

    /// The values of several settings in one round trip, in the order of `keys`. When some
    /// do not exist, the error (UndefinedObjectError) names them.
    pub async fn getset<I, K>(&self, keys: I) -> Result<Vec<(String, String)>, Error>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        let keys: Vec<String> = keys.into_iter().map(|k| k.as_ref().to_owned()).collect();
        let mut values: Vec<Option<String>> = keys.iter().map(|k| self.reported(k)).collect();
        let asked: Vec<&str> = keys
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.as_str())
            .collect();
        if !asked.is_empty() {
            let rows = one_shot(
                &self.conn,
                "SELECT pg_catalog.current_setting(k.name, true) \
                 FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS k(name, n) \
                 ORDER BY k.n",
                &[(&asked, Type::TEXT_ARRAY)],
            )
            .await?;
            let mut found = column_options(rows).into_iter();
            for value in values.iter_mut().filter(|v| v.is_none()) {
                *value = found.next().flatten();
            }
        }
        let missing: Vec<String> = keys
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| format!("{k:?}"))
            .collect();
        if !missing.is_empty() {
            return Err(self.conn.context(Error::client(
                &UndefinedObjectError,
                format!(
                    "unrecognized configuration parameters: {}",
                    missing.join(", ")
                ),
            )));
        }
        Ok(keys.into_iter().zip(values.into_iter().flatten()).collect())
    }

    /// Sets several settings in one round trip, all or none.
    pub async fn update<I, K, V>(&self, pairs: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let (names, values): (Vec<String>, Vec<String>) = pairs
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .unzip();
        if names.is_empty() {
            return Ok(());
        }
        one_shot(
            &self.conn,
            SET_MANY,
            &[(&names, Type::TEXT_ARRAY), (&values, Type::TEXT_ARRAY)],
        )
        .await
        .map(drop)
    }

    /// The names of the settings in `pg_settings`, sorted.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        let rows = one_shot(
            &self.conn,
            "SELECT name FROM pg_catalog.pg_settings ORDER BY name",
            &[],
        )
        .await?;
        Ok(column(rows))
    }

    /// The values of the settings in `pg_settings` as `current_setting` gives them, in the
    /// order of [`Settings::keys`].
    pub async fn values(&self) -> Result<Vec<String>, Error> {
        Ok(self.items().await?.into_iter().map(|(_, v)| v).collect())
    }

    /// The settings in `pg_settings` and their values, sorted by name.
    pub async fn items(&self) -> Result<Vec<(String, String)>, Error> {
        let rows = one_shot(
            &self.conn,
            "SELECT name, pg_catalog.current_setting(name, true) \
             FROM pg_catalog.pg_settings ORDER BY name",
            &[],
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let name = row.next().flatten().unwrap_or_default();
                (name, row.next().flatten().unwrap_or_default())
            })
            .collect())
    }

    /// How many settings `pg_settings` shows.
    pub async fn len(&self) -> Result<usize, Error> {
        let rows = one_shot(
            &self.conn,
            "SELECT count(*) FROM pg_catalog.pg_settings",
            &[],
        )
        .await?;
        let count = column(rows).into_iter().next().unwrap_or_default();
        Ok(count.parse().unwrap_or(0))
    }

    /// Whether `pg_settings` shows no setting at all (never, on a real server).
    pub async fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len().await? == 0)
    }

    /// Whether a setting of that name exists (custom `prefix.name` settings once set too).
    pub async fn contains(&self, name: &str) -> Result<bool, Error> {
        Ok(self.get(name).await?.is_some())
    }

    /// The schemas of `search_path`, unquoted (py-postgresql's `settings.path`).
    pub async fn search_path(&self) -> Result<Vec<String>, Error> {
        let path = self.get("search_path").await?.unwrap_or_default();
        pg_string::split_ident(&path).map_err(|e| {
            Error::client(
                &pg_exceptions::DriverError,
                format!("unreadable search_path {path:?}"),
            )
            .with_cause(e)
        })
    }

    /// Sets `search_path` to these schemas, each quoted where it needs to be.
    pub async fn set_search_path<I, S>(&self, schemas: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let path: Vec<String> = schemas
            .into_iter()
            .map(|s| pg_string::quote_ident_if_needed(s.as_ref()).into_owned())
            .collect();
        self.set("search_path", &path.join(", ")).await
    }
}

fn column_options(rows: Vec<TextRow>) -> Vec<Option<String>> {
    rows.into_iter()
        .map(|row| row.into_iter().next().flatten())
        .collect()
}
