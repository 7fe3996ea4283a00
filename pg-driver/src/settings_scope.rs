//! Scoped settings: the values they replace are read, then the settings applied, and put back
//! when the scope ends — explicitly, after a closure, or by the guard's drop.

use std::future::Future;
use std::sync::Arc;

use pg_exceptions::Error;
use postgres_types::Type;

use crate::connection::Connection;
use crate::link::{Link, Unclaimed};
use crate::settings::{SET_MANY, Settings, encode_one_shot, one_shot};

/// Reads each setting's value (NULL for one that does not exist), in the order given.
const READ: &str = "SELECT pg_catalog.current_setting(k.name, true) \
     FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS k(name, n) \
     ORDER BY k.n";

/// Settings applied for a while (py-postgresql's `with db.settings(**values):`), made by
/// [`Settings::scope`]. [`SettingsScope::restore`] puts the previous values back; a scope
/// dropped without it queues the restore, so it happens before the connection's next use.
/// A setting that did not exist before the scope is reset.
#[must_use = "the settings are restored when the scope is dropped"]
pub struct SettingsScope {
    conn: Connection,
    link: Arc<Link>,
    previous: Vec<(String, Option<String>)>,
    restored: bool,
}

impl std::fmt::Debug for SettingsScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsScope")
            .field("previous", &self.previous)
            .field("restored", &self.restored)
            .finish()
    }
}

fn restore_params(previous: &[(String, Option<String>)]) -> (Vec<&str>, Vec<Option<&str>>) {
    previous
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_deref()))
        .unzip()
}

impl Settings {
    /// Reads the values the settings replace, applies the settings (two round trips), and
    /// returns the guard that puts those back. A name given twice takes its last value (names
    /// are compared as PostgreSQL does, without regard to case). Given up once the settings
    /// are on their way (a timeout, `select!`), the previous values are put back as if the
    /// guard had been dropped.
    pub async fn scope<I, K, V>(&self, pairs: I) -> Result<SettingsScope, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut names: Vec<String> = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for (name, value) in pairs {
            let (name, value) = (name.as_ref(), value.as_ref().to_owned());
            match names.iter().position(|n| n.eq_ignore_ascii_case(name)) {
                Some(at) => values[at] = value,
                None => {
                    names.push(name.to_owned());
                    values.push(value);
                }
            }
        }
        let link = self.conn.link();
        let previous = if names.is_empty() {
            Vec::new()
        } else {
            // Read first, so that the restore is known before anything is set: a scope given
            // up after its settings went out is undone.
            let rows = one_shot(&self.conn, READ, &[(&names, Type::TEXT_ARRAY)]).await?;
            let old: Vec<Option<String>> = rows
                .into_iter()
                .map(|row| row.into_iter().next().flatten())
                .collect();
            let previous: Vec<(String, Option<String>)> = names.iter().cloned().zip(old).collect();
            let unclaimed = Unclaimed::new(link.clone(), restore_bytes(&previous)?);
            one_shot(
                &self.conn,
                SET_MANY,
                &[(&names, Type::TEXT_ARRAY), (&values, Type::TEXT_ARRAY)],
            )
            .await?;
            unclaimed.claim();
            previous
        };
        Ok(SettingsScope {
            conn: self.conn.clone(),
            link,
            previous,
            restored: false,
        })
    }

    /// Applies the settings, runs `f` with the connection, and restores the previous values
    /// before returning, whether `f` returned Ok or Err. `f`'s error wins over a failed
    /// restore; after Ok, a failed restore's error is returned.
    pub async fn scoped<I, K, V, F, Fut, T, E>(&self, pairs: I, f: F) -> Result<T, E>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        let scope = self.scope(pairs).await?;
        let result = f(self.conn.clone()).await;
        let restored = scope.restore().await;
        let value = result?;
        restored?;
        Ok(value)
    }
}

impl SettingsScope {
    /// The settings' values from before the scope, None for those that did not exist.
    pub fn previous(&self) -> &[(String, Option<String>)] {
        &self.previous
    }

    /// Whether the scope's session is gone (closed, or replaced by a reconnect), and its
    /// settings with it.
    fn session_gone(&self) -> bool {
        self.link.shared.is_closed() || !Arc::ptr_eq(&self.link, &self.conn.link())
    }

    /// Puts the previous values back in one round trip. When the session is gone, its
    /// settings went with it and there is nothing to do.
    pub async fn restore(mut self) -> Result<(), Error> {
        self.restored = true;
        if self.previous.is_empty() || self.session_gone() {
            return Ok(());
        }
        let (names, values) = restore_params(&self.previous);
        one_shot(
            &self.conn,
            SET_MANY,
            &[(&names, Type::TEXT_ARRAY), (&values, Type::TEXT_ARRAY)],
        )
        .await
        .map(drop)
    }
}

impl Drop for SettingsScope {
    fn drop(&mut self) {
        if self.restored || self.previous.is_empty() || self.session_gone() {
            return;
        }
        if let Ok(bytes) = restore_bytes(&self.previous) {
            // Nobody waits for the answer: the task reads and drops it before the next request.
            let _ = self.link.request(bytes, 1, None);
        }
    }
}

/// The request that puts `previous` back.
fn restore_bytes(previous: &[(String, Option<String>)]) -> Result<bytes::Bytes, Error> {
    let (names, values) = restore_params(previous);
    let params: [(&(dyn postgres_types::ToSql + Sync), Type); 2] =
        [(&names, Type::TEXT_ARRAY), (&values, Type::TEXT_ARRAY)];
    encode_one_shot(SET_MANY, &params)
}
