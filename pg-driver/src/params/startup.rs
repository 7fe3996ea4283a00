//! What the startup packet carries beyond the user's own settings.
//!
//! As py-postgresql does, the driver lowers `client_min_messages` to `warning` unless the
//! user's settings say otherwise: NOTICE and INFO messages are mostly noise for a program
//! (py-postgresql's "adjust the volume" default), and a program that wants them asks. The
//! user says otherwise with the setting itself or with a server option in `options`
//! (`-c client_min_messages=…`, `--client-min-messages=…`), which a startup setting of the
//! same name would override.

use super::{ConnectParams, Keywords};

/// The setting the driver lowers unless the user sets it.
pub const CLIENT_MIN_MESSAGES: &str = "client_min_messages";

/// The driver's `client_min_messages` (py-postgresql's): warnings and errors only.
pub const DRIVER_CLIENT_MIN_MESSAGES: &str = "warning";

impl ConnectParams {
    /// The settings the startup packet carries: the user's ([`ConnectParams::settings`]),
    /// then `client_min_messages=warning` unless they set `client_min_messages`, as a setting
    /// or in `options`.
    pub fn startup_settings(&self) -> Vec<(&str, &str)> {
        let mut settings: Vec<(&str, &str)> = self
            .settings
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        if !names_setting(&self.settings, CLIENT_MIN_MESSAGES) {
            settings.push((CLIENT_MIN_MESSAGES, DRIVER_CLIENT_MIN_MESSAGES));
        }
        settings
    }
}

impl Keywords {
    /// Sets `name` to `value` unless this layer's settings already set it, as a setting or
    /// as a server option in `options` (pg-session keeps NOTICE this way:
    /// `client_min_messages=notice` unless its URI says otherwise).
    pub fn setting_unless_set(self, name: &str, value: impl Into<String>) -> Self {
        if names_setting(&self.settings, name) {
            self
        } else {
            self.setting(name, value)
        }
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
