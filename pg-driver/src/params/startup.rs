//! What the startup packet carries beyond the user's own settings.
//!
//! As py-postgresql does, the driver lowers `client_min_messages` to `warning` unless the
//! user's settings say otherwise: NOTICE and INFO messages are mostly noise for a program
//! (py-postgresql's "adjust the volume" default), and a program that wants them asks. The
//! user says otherwise with the setting itself or with a server option in `options`
//! (`-c client_min_messages=…`, `--client-min-messages=…`), which a startup setting of the
//! same name would override. This driver's keyword `default_client_min_messages` changes
//! the level the driver sends (`notice` for pg-session's sessions; empty for none).
//!
//! The level is the driver's default, not the user's setting: a server that refuses it as
//! a startup parameter (PgBouncer refuses any it does not know, unless told to ignore it)
//! is connected to again without it, and the session keeps the server's level.

use super::{ConnectParams, Keywords, ParamsError};

/// The setting the driver lowers unless the user sets it.
pub const CLIENT_MIN_MESSAGES: &str = "client_min_messages";

/// The driver's `client_min_messages` (py-postgresql's): warnings and errors only.
pub const DRIVER_CLIENT_MIN_MESSAGES: &str = "warning";

/// This driver's keyword for the level it sends when the user sets none.
pub(crate) const KEYWORD: &str = "default_client_min_messages";

/// Checks a value of [`KEYWORD`]: a level name, or empty for none.
pub(crate) fn check(value: &str) -> Result<(), ParamsError> {
    let ok = value.is_empty() || value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match ok {
        true => Ok(()),
        false => Err(ParamsError::invalid(
            KEYWORD,
            value,
            "a message level (debug5 … error), or nothing",
        )),
    }
}

impl ConnectParams {
    /// The settings the startup packet carries: the user's ([`ConnectParams::settings`]),
    /// then the driver's `client_min_messages` (`warning`, or what
    /// `default_client_min_messages` says) unless they set `client_min_messages`, as a
    /// setting or in `options`.
    pub fn startup_settings(&self) -> Vec<(&str, &str)> {
        let mut settings: Vec<(&str, &str)> = self
            .settings
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        if let Some(level) = self.driver_client_min_messages() {
            settings.push((CLIENT_MIN_MESSAGES, level));
        }
        settings
    }

    /// The user's settings only: what the startup packet carries for a server that refused
    /// the driver's `client_min_messages`.
    pub(crate) fn startup_settings_without_level(&self) -> Vec<(&str, &str)> {
        self.settings
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// The `client_min_messages` the driver adds to the startup packet, if any: none when
    /// the user set one.
    pub fn driver_client_min_messages(&self) -> Option<&str> {
        if names_setting(&self.settings, CLIENT_MIN_MESSAGES) {
            return None;
        }
        let level = self
            .extra
            .get(KEYWORD)
            .map_or(DRIVER_CLIENT_MIN_MESSAGES, String::as_str);
        Some(level).filter(|l| !l.is_empty())
    }
}

impl Keywords {
    /// Sets the `client_min_messages` the driver sends when the user sets none
    /// (`default_client_min_messages`; [`DRIVER_CLIENT_MIN_MESSAGES`] unless set, empty for
    /// none). Unlike a setting, it gives way when a server (a pooler) refuses it.
    pub fn default_client_min_messages(mut self, level: impl Into<String>) -> Self {
        self.extra.insert(KEYWORD.into(), level.into());
        self
    }
}

/// Whether `settings` set the server setting `name` (names compare as the server compares
/// them: without regard to ASCII case), directly or in `options`.
pub(crate) fn names_setting(settings: &[(String, String)], name: &str) -> bool {
    settings.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case(name) || (n == "options" && options_set(v).any(|o| same(&o, name)))
    })
}

fn same(option: &str, name: &str) -> bool {
    option.replace('-', "_").eq_ignore_ascii_case(name)
}

/// The names of the settings a server `options` string assigns: `-c name=value`,
/// `-cname=value` and `--name=value`, split as the server splits them (white space
/// separates, a backslash takes the next character literally).
fn options_set(options: &str) -> impl Iterator<Item = String> + '_ {
    let mut words = split_options(options).into_iter();
    std::iter::from_fn(move || {
        loop {
            let word = words.next()?;
            let assignment = match word.as_str() {
                "-c" => words.next()?,
                w if w.starts_with("-c") => w[2..].to_owned(),
                w if w.starts_with("--") => w[2..].to_owned(),
                _ => continue,
            };
            if let Some((name, _)) = assignment.split_once('=') {
                return Some(name.to_owned());
            }
        }
    })
}

fn split_options(options: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.extend(chars.next()),
            c if c.is_ascii_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
