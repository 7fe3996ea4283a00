//! The startup conversation: the startup packet, authentication, and the server's first reports.

use std::borrow::Cow;
use std::collections::HashMap;

use bytes::BytesMut;
use pg_exceptions::{
    AuthenticationMethodError, AuthenticationSpecificationError, ConnectionFailureError,
    EncodingError, Error, InsecurityError, Message, ProtocolError,
};
use postgres_protocol::message::{backend, frontend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::params::{ChannelBindingMode, RequireAuth, ServerEncoding};
use crate::wire::auth::{Guard, Request};
use crate::wire::error::from_error_body;
use crate::wire::scram::{
    ChannelBinding, ClientFirst, SCRAM_SHA_256, SCRAM_SHA_256_PLUS, SaltedPasswords,
};
use crate::wire::socket::Socket;
use crate::wire::task::{message_from_fields, protocol};

/// The largest message the server may send before the connection is ready.
const STARTUP_MESSAGE_LIMIT: usize = 1 << 20;

/// What the startup packet and authentication need.
pub(crate) struct Startup<'a> {
    pub(crate) user: &'a str,
    pub(crate) password: Option<&'a str>,
    pub(crate) database: Option<&'a str>,
    pub(crate) settings: Vec<(&'a str, &'a str)>,
    pub(crate) channel_binding: ChannelBindingMode,
    pub(crate) require_auth: &'a RequireAuth,
    /// What the startup values and the password are written in (py-postgresql's
    /// `server_encoding`); the names are ASCII.
    pub(crate) encoding: ServerEncoding,
    /// The connector's SCRAM salted passwords (see `scram/memo.rs`).
    pub(crate) salted_passwords: &'a SaltedPasswords,
}

pub use crate::wire::auth::AuthMethod;

/// A connection that has finished its startup.
pub(crate) struct Established {
    pub(crate) parameters: HashMap<String, String>,
    pub(crate) backend_key: Option<(i32, i32)>,
    pub(crate) notices: Vec<Message>,
    pub(crate) read_buf: BytesMut,
    pub(crate) status: u8,
    pub(crate) auth_method: AuthMethod,
}

struct Conversation<'s> {
    socket: &'s mut Socket,
    buf: BytesMut,
}

impl Conversation<'_> {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.socket.write_all(bytes).await.map_err(failure)?;
        self.socket.flush().await.map_err(failure)
    }

    async fn receive(&mut self) -> Result<backend::Message, Error> {
        loop {
            if let Some(header) = backend::Header::parse(&self.buf).map_err(protocol)? {
                let len = header.len() as usize + 1;
                if len > STARTUP_MESSAGE_LIMIT {
                    return Err(Error::client(
                        &ProtocolError,
                        format!("the server sent a {len}-byte message during startup"),
                    ));
                }
                if self.buf.len() >= len
                    && let Some(message) =
                        backend::Message::parse(&mut self.buf).map_err(protocol)?
                {
                    return Ok(message);
                }
            }
            self.buf.reserve(8 * 1024);
            let n = self.socket.read_buf(&mut self.buf).await.map_err(failure)?;
            if n == 0 {
                return Err(Error::client(
                    &ConnectionFailureError,
                    "the server closed the connection during startup",
                ));
            }
        }
    }
}

fn failure(e: std::io::Error) -> Error {
    Error::client(
        &ConnectionFailureError,
        "the connection to the server failed",
    )
    .with_cause(e)
}

/// The password in the server encoding.
fn need_password<'a>(startup: &Startup<'a>) -> Result<Cow<'a, [u8]>, Error> {
    let password = startup.password.ok_or_else(|| {
        Error::client(
            &AuthenticationSpecificationError,
            format!(
                "the server asked for a password for user \"{}\" and none was supplied",
                startup.user
            ),
        )
    })?;
    encode(startup.encoding, password, "password")
}

/// `text` in the server encoding; the error names `part`, never the text.
fn encode<'t>(encoding: ServerEncoding, text: &'t str, part: &str) -> Result<Cow<'t, [u8]>, Error> {
    encoding.encode(text).map_err(|()| {
        Error::client(
            &EncodingError,
            format!("the {part} cannot be sent in {encoding} (server_encoding)"),
        )
    })
}

/// The startup packet: protocol 3.0, then each name and value NUL-terminated, values in the
/// server encoding, then a NUL.
fn startup_packet(pairs: &[(&str, &str)], encoding: ServerEncoding) -> Result<BytesMut, Error> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&196_608i32.to_be_bytes());
    for (name, value) in pairs {
        let value = encode(encoding, value, name)?;
        if name.contains('\0') || value.contains(&0) {
            return Err(Error::client(
                &AuthenticationSpecificationError,
                "a startup parameter holds a NUL byte",
            ));
        }
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(&value);
        body.push(0);
    }
    body.push(0);
    let length = i32::try_from(body.len() + 4).map_err(|_| {
        Error::client(
            &AuthenticationSpecificationError,
            "the startup parameters are too long",
        )
    })?;
    let mut packet = BytesMut::with_capacity(body.len() + 4);
    packet.extend_from_slice(&length.to_be_bytes());
    packet.extend_from_slice(&body);
    Ok(packet)
}

fn method_error(name: &str) -> Error {
    Error::client(
        &AuthenticationMethodError,
        format!("the server asked for {name} authentication, which this driver does not support"),
    )
}

/// Runs the startup conversation on a connected (and, where asked, encrypted) socket.
///
/// `tls_end_point` is the channel-binding data of the TLS session, when there is one.
pub(crate) async fn startup(
    socket: &mut Socket,
    startup: &Startup<'_>,
    tls_end_point: Option<Vec<u8>>,
) -> Result<Established, Error> {
    let mut conv = Conversation {
        socket,
        buf: BytesMut::with_capacity(8 * 1024),
    };
    let mut pairs: Vec<(&str, &str)> = vec![("user", startup.user)];
    if let Some(database) = startup.database {
        pairs.push(("database", database));
    }
    pairs.extend(startup.settings.iter().copied());
    if !pairs
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("client_encoding"))
    {
        pairs.push(("client_encoding", "UTF8"));
    }
    let packet = startup_packet(&pairs, startup.encoding)?;
    conv.send(&packet).await?;

    let mut auth_method = AuthMethod::Trust;
    let mut guard = Guard::new(
        startup.require_auth,
        startup.channel_binding,
        startup.salted_passwords,
    );
    let mut parameters = HashMap::new();
    let mut backend_key = None;
    let mut notices = Vec::new();
    loop {
        let mut out = BytesMut::new();
        match conv.receive().await? {
            backend::Message::AuthenticationOk => guard.check_ok(auth_method)?,
            backend::Message::AuthenticationCleartextPassword => {
                guard.check_request(Request::Cleartext)?;
                auth_method = AuthMethod::Password;
                frontend::password_message(&need_password(startup)?, &mut out).map_err(protocol)?;
                guard.password_sent();
            }
            backend::Message::AuthenticationMd5Password(body) => {
                guard.check_request(Request::Md5)?;
                auth_method = AuthMethod::Md5;
                let hash = postgres_protocol::authentication::md5_hash(
                    &encode(startup.encoding, startup.user, "user")?,
                    &need_password(startup)?,
                    body.salt(),
                );
                frontend::password_message(hash.as_bytes(), &mut out).map_err(protocol)?;
                guard.password_sent();
            }
            backend::Message::AuthenticationSasl(body) => {
                guard.check_request(Request::Sasl)?;
                let mut offered = Vec::new();
                let mut mechanisms = body.mechanisms();
                while let Some(m) =
                    fallible_iterator::FallibleIterator::next(&mut mechanisms).map_err(protocol)?
                {
                    offered.push(m.to_owned());
                }
                let plus = offered.iter().any(|m| m == SCRAM_SHA_256_PLUS);
                let plain = offered.iter().any(|m| m == SCRAM_SHA_256);
                let (mechanism, binding) = match (&tls_end_point, startup.channel_binding) {
                    (Some(end_point), ChannelBindingMode::Prefer | ChannelBindingMode::Require)
                        if plus =>
                    {
                        auth_method = AuthMethod::ScramSha256Plus;
                        (
                            SCRAM_SHA_256_PLUS,
                            ChannelBinding::TlsServerEndPoint(end_point.clone()),
                        )
                    }
                    (_, ChannelBindingMode::Require) => {
                        return Err(Error::client(
                            &InsecurityError,
                            if tls_end_point.is_some() {
                                "channel binding is required, but the server does not offer SCRAM-SHA-256-PLUS"
                            } else {
                                "channel binding is required, and it needs a TLS connection"
                            },
                        ));
                    }
                    (Some(_), ChannelBindingMode::Prefer) if plain => {
                        auth_method = AuthMethod::ScramSha256;
                        (SCRAM_SHA_256, ChannelBinding::Unrequested)
                    }
                    _ if plain => {
                        auth_method = AuthMethod::ScramSha256;
                        (SCRAM_SHA_256, ChannelBinding::Unsupported)
                    }
                    _ => return Err(method_error(&format!("SASL ({})", offered.join(", ")))),
                };
                let client = ClientFirst::new(&need_password(startup)?, binding);
                frontend::sasl_initial_response(mechanism, client.message(), &mut out)
                    .map_err(protocol)?;
                guard.scram_started(client);
            }
            backend::Message::AuthenticationSaslContinue(body) => {
                let answer = guard.scram_continue(body.data())?;
                frontend::sasl_response(&answer, &mut out).map_err(protocol)?;
            }
            backend::Message::AuthenticationSaslFinal(body) => guard.scram_final(body.data())?,
            backend::Message::AuthenticationKerberosV5 => {
                guard.check_request(Request::Other)?;
                return Err(method_error("Kerberos V5"));
            }
            backend::Message::AuthenticationScmCredential => {
                guard.check_request(Request::Other)?;
                return Err(method_error("SCM credential"));
            }
            backend::Message::AuthenticationGss
            | backend::Message::AuthenticationGssContinue(_) => {
                guard.check_request(Request::Gss)?;
                return Err(method_error("GSSAPI"));
            }
            backend::Message::AuthenticationSspi => {
                guard.check_request(Request::Sspi)?;
                return Err(method_error("SSPI"));
            }
            backend::Message::BackendKeyData(body) => {
                backend_key = Some((body.process_id(), body.secret_key()));
            }
            backend::Message::ParameterStatus(body) => {
                parameters.insert(
                    body.name().map_err(protocol)?.to_owned(),
                    body.value().map_err(protocol)?.to_owned(),
                );
            }
            backend::Message::NoticeResponse(body) => {
                notices.push(message_from_fields(body.fields())?);
            }
            backend::Message::ErrorResponse(body) => return Err(from_error_body(&body)?),
            backend::Message::ReadyForQuery(body) => {
                return Ok(Established {
                    parameters,
                    backend_key,
                    notices,
                    read_buf: conv.buf,
                    status: body.status(),
                    auth_method,
                });
            }
            _ => return Err(unexpected("an unexpected message")),
        }
        if !out.is_empty() {
            conv.send(&out).await?;
        }
    }
}

fn unexpected(what: &str) -> Error {
    Error::client(
        &ProtocolError,
        format!("the server sent {what} during startup"),
    )
}
