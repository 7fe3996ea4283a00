//! Blocking settings.

use pg_exceptions::Error;

use super::Connection;

/// The blocking form of [`crate::Settings`]: the session's settings as a mapping.
///
/// ```no_run
/// # fn example(db: &pg_driver::blocking::Connection) -> Result<(), pg_exceptions::Error> {
/// let settings = db.settings();
/// settings.set("work_mem", "64MB")?;
/// settings.scoped([("search_path", "archive")], |db| db.execute("SELECT * FROM old_orders"))?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Settings {
    settings: crate::Settings,
    conn: Connection,
}

impl Connection {
    /// The session's settings.
    pub fn settings(&self) -> Settings {
        Settings {
            settings: self.as_async().settings(),
            conn: self.clone(),
        }
    }
}

impl Settings {
    /// The async settings underneath.
    pub fn as_async(&self) -> &crate::Settings {
        &self.settings
    }

    /// A parameter's value as the server last reported it through ParameterStatus.
    pub fn reported(&self, name: &str) -> Option<String> {
        self.settings.reported(name)
    }

    /// A setting's value, None when there is no such setting.
    pub fn get(&self, name: &str) -> Result<Option<String>, Error> {
        self.conn.block_on(self.settings.get(name))?
    }

    /// Sets a setting for the session; the value is stored as given.
    pub fn set(&self, name: &str, value: &str) -> Result<(), Error> {
        self.conn.block_on(self.settings.set(name, value))?
    }

    /// Returns a setting to its session default.
    pub fn reset(&self, name: &str) -> Result<(), Error> {
        self.conn.block_on(self.settings.reset(name))?
    }

    /// The values of several settings in one round trip; missing ones are named in the error.
    pub fn getset<I, K>(&self, keys: I) -> Result<Vec<(String, String)>, Error>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.conn.block_on(self.settings.getset(keys))?
    }

    /// Sets several settings in one round trip, all or none.
    pub fn update<I, K, V>(&self, pairs: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.conn.block_on(self.settings.update(pairs))?
    }

    /// The names of the settings in `pg_settings`, sorted.
    pub fn keys(&self) -> Result<Vec<String>, Error> {
        self.conn.block_on(self.settings.keys())?
    }

    /// The values, in the order of [`Settings::keys`].
    pub fn values(&self) -> Result<Vec<String>, Error> {
        self.conn.block_on(self.settings.values())?
    }

    /// The settings and their values, sorted by name.
    pub fn items(&self) -> Result<Vec<(String, String)>, Error> {
        self.conn.block_on(self.settings.items())?
    }

    /// How many settings `pg_settings` shows.
    pub fn len(&self) -> Result<usize, Error> {
        self.conn.block_on(self.settings.len())?
    }

    /// Whether `pg_settings` shows no setting at all.
    pub fn is_empty(&self) -> Result<bool, Error> {
        self.conn.block_on(self.settings.is_empty())?
    }

    /// Whether a setting of that name exists.
    pub fn contains(&self, name: &str) -> Result<bool, Error> {
        self.conn.block_on(self.settings.contains(name))?
    }

    /// The schemas of `search_path`, unquoted.
    pub fn search_path(&self) -> Result<Vec<String>, Error> {
        self.conn.block_on(self.settings.search_path())?
    }

    /// Sets `search_path` to these schemas, each quoted where it needs to be.
    pub fn set_search_path<I, S>(&self, schemas: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.conn.block_on(self.settings.set_search_path(schemas))?
    }

    /// Applies the settings and returns the guard that restores the previous values.
    pub fn scope<I, K, V>(&self, pairs: I) -> Result<SettingsScope, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let scope = self.conn.block_on(self.settings.scope(pairs))??;
        Ok(SettingsScope {
            scope: Some(scope),
            conn: self.conn.clone(),
        })
    }

    /// Applies the settings, runs `f`, and restores the previous values before returning,
    /// whether `f` returned Ok or Err (`f`'s error wins over a failed restore).
    pub fn scoped<I, K, V, F, T, E>(&self, pairs: I, f: F) -> Result<T, E>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
        F: FnOnce(&Connection) -> Result<T, E>,
        E: From<Error>,
    {
        let scope = self.scope(pairs)?;
        let result = f(&self.conn);
        let restored = scope.restore();
        let value = result?;
        restored?;
        Ok(value)
    }
}

/// The blocking form of [`crate::SettingsScope`]: restores the previous values with
/// [`SettingsScope::restore`], or queues that when dropped.
#[derive(Debug)]
#[must_use = "the settings are restored when the scope is dropped"]
pub struct SettingsScope {
    scope: Option<crate::SettingsScope>,
    conn: Connection,
}

impl SettingsScope {
    /// The settings' values from before the scope, None for those that did not exist.
    pub fn previous(&self) -> &[(String, Option<String>)] {
        self.scope.as_ref().map_or(&[], |s| s.previous())
    }

    /// Puts the previous values back in one round trip.
    pub fn restore(mut self) -> Result<(), Error> {
        match self.scope.take() {
            Some(scope) => self.conn.block_on(scope.restore())?,
            None => Ok(()),
        }
    }
}
