//! py-postgresql's `server_encoding`: the encoding the startup packet's values (user,
//! database, settings) and the password are sent in.
//!
//! The server reads those before any `client_encoding` applies, so a password that is not
//! ASCII must reach it in the bytes it was set in: for a LATIN1 server, its Latin-1 bytes.
//! py-postgresql sends them in the encoding `server_encoding` names (UTF-8 by default); so
//! does this driver, for the encodings it can write: UTF-8 (also for `SQL_ASCII`, which
//! takes bytes as given), Latin-1 and ASCII. Any other name is kept in
//! [`ConnectParams::extra`](super::ConnectParams::extra), the values go as UTF-8, and the
//! connection reports `server_encoding` as ignored. Once the session is up, the driver
//! speaks UTF-8 (`client_encoding`) whatever the server's encoding.

use std::borrow::Cow;

use super::{ConnectParams, Keywords, ParamsError};

/// The keyword this module reads.
pub(crate) const KEYWORD: &str = "server_encoding";

/// An encoding the startup packet's values and the password can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ServerEncoding {
    /// UTF-8, the default (and what a `SQL_ASCII` server takes as given).
    #[default]
    Utf8,
    /// ISO 8859-1 (PostgreSQL's `LATIN1`): code points up to U+00FF, one byte each.
    Latin1,
    /// 7-bit ASCII.
    Ascii,
}

impl ServerEncoding {
    /// PostgreSQL's name of the encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF8",
            Self::Latin1 => "LATIN1",
            Self::Ascii => "SQL_ASCII",
        }
    }

    /// Reads PostgreSQL's and Python's names of the encodings the driver writes (case, `-`
    /// and `_` ignored): `UTF8`, `utf-8`, `unicode`, `SQL_ASCII`; `LATIN1`, `latin-1`,
    /// `iso8859-1`, `l1`; `ascii`, `us-ascii`. `None` for any other.
    pub fn parse(name: &str) -> Option<ServerEncoding> {
        let folded: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        match folded.as_str() {
            "utf8" | "unicode" | "sqlascii" => Some(Self::Utf8),
            "latin1" | "iso88591" | "l1" | "8859" | "cp819" => Some(Self::Latin1),
            "ascii" | "usascii" | "646" => Some(Self::Ascii),
            _ => None,
        }
    }

    /// `text` in this encoding; `Err(())` when a character has no place in it.
    #[allow(clippy::result_unit_err)]
    pub fn encode(self, text: &str) -> Result<Cow<'_, [u8]>, ()> {
        match self {
            Self::Utf8 => Ok(Cow::Borrowed(text.as_bytes())),
            _ if text.is_ascii() => Ok(Cow::Borrowed(text.as_bytes())),
            Self::Ascii => Err(()),
            Self::Latin1 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).map_err(drop))
                .collect::<Result<Vec<u8>, ()>>()
                .map(Cow::Owned),
        }
    }
}

impl std::fmt::Display for ServerEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a value of [`KEYWORD`]: any name is kept (an encoding the driver cannot write is
/// reported as ignored), an empty one is refused.
pub(crate) fn check(value: &str) -> Result<(), ParamsError> {
    match value.trim().is_empty() {
        true => Err(ParamsError::invalid(KEYWORD, value, "an encoding name")),
        false => Ok(()),
    }
}

/// Whether the driver acts on this value of [`KEYWORD`].
pub(crate) fn honoured(value: &str) -> bool {
    ServerEncoding::parse(value.trim()).is_some()
}

impl Keywords {
    /// Sets py-postgresql's `server_encoding`: the encoding of the startup packet's values
    /// and of the password (see [`ServerEncoding`]).
    pub fn server_encoding(mut self, encoding: ServerEncoding) -> Self {
        self.extra.insert(KEYWORD.into(), encoding.as_str().into());
        self
    }
}

impl ConnectParams {
    /// The encoding the startup packet's values and the password are sent in: py-postgresql's
    /// `server_encoding` when the driver can write it, else UTF-8.
    pub fn server_encoding(&self) -> ServerEncoding {
        self.extra
            .get(KEYWORD)
            .and_then(|name| ServerEncoding::parse(name.trim()))
            .unwrap_or_default()
    }

    /// Refuses what the server encoding cannot hold, by part, never showing the value.
    pub(crate) fn check_encodable(&self) -> Result<(), ParamsError> {
        let encoding = self.server_encoding();
        if encoding == ServerEncoding::Utf8 {
            return Ok(());
        }
        let refuse = |part: &str| ParamsError::Unencodable {
            part: part.to_owned(),
            encoding: encoding.as_str(),
        };
        encoding.encode(&self.user).map_err(|()| refuse("user"))?;
        encoding
            .encode(&self.database)
            .map_err(|()| refuse("database"))?;
        if let Some(password) = &self.password {
            encoding
                .encode(password.expose())
                .map_err(|()| refuse("password"))?;
        }
        for (name, value) in &self.settings {
            encoding.encode(value).map_err(|()| refuse(name))?;
        }
        Ok(())
    }
}
