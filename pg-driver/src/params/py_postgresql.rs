//! py-postgresql's own connection parameter names, as `pq://` driver parameters
//! (`[name]=value`) take them.
//!
//! Some are libpq's under another name (`[sslrootcrtfile]` is `sslrootcert`,
//! `[pgpassfile]` is `passfile`, …: [`RENAMED`]); `server_encoding` and `ipv` are this
//! driver's keywords too (`server_encoding.rs`, `ip_version.rs`); the rest of what
//! py-postgresql's `open()` accepts asks for what a library cannot do (prompting for a
//! password: `prompt_password`, `prompt_title`), for what PostgreSQL no longer has
//! (`kerberos4_realm`), for a Python object (`address_family`; `ipv` says the same), or
//! for nothing (`sslrootkeyfile`, which py-postgresql reads nowhere): kept in
//! [`ConnectParams::extra`](super::ConnectParams::extra) and reported as ignored on
//! connecting, like any other unknown driver parameter. `category` is an object, not a
//! text parameter: [`crate::Connector::with_category`].

/// py-postgresql's names for libpq keywords.
const RENAMED: &[(&str, &str)] = &[
    ("sslrootcrtfile", "sslrootcert"),
    ("sslcrtfile", "sslcert"),
    ("sslkeyfile", "sslkey"),
    ("sslrootcrlfile", "sslcrl"),
    ("pgpassfile", "passfile"),
    ("kerberos5_service", "krbsrvname"),
];

/// py-postgresql's `ssl…` names that mean nothing: kept and reported as ignored, where
/// any other unknown `ssl…` name refuses to connect.
pub(crate) const INERT_TLS: &[&str] = &["sslrootkeyfile"];

/// The libpq keyword a py-postgresql driver parameter means, if it has another name.
pub(crate) fn libpq_name(key: &str) -> Option<&'static str> {
    RENAMED
        .iter()
        .find(|(py, _)| *py == key)
        .map(|(_, libpq)| *libpq)
}
