//! What the client accepts of the server's side of authentication, as libpq's
//! `check_expected_areq` does: `require_auth`, `channel_binding=require` and SCRAM
//! completeness.
//!
//! Every request is checked before it is answered, so a password never goes to a server the
//! client would refuse; AuthenticationOk is checked before the session is accepted. A SCRAM
//! exchange is complete only once AuthenticationSASLFinal arrived and the server's signature
//! in it was verified: until then the server has not shown that it knows the password, and
//! a SCRAM-SHA-256-PLUS exchange has not shown that the channel is bound.

use pg_exceptions::{AuthenticationMethodError, Error, InsecurityError, ProtocolError};

use crate::params::{AuthRequirement, ChannelBindingMode, RequireAuth};
use crate::wire::scram::{ClientFinal, ClientFirst, SaltedPasswords, ScramError};

/// How the server authenticated the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// No password was asked for (trust, peer, or a client certificate).
    Trust,
    /// A cleartext password.
    Password,
    /// An MD5-hashed password.
    Md5,
    /// SCRAM-SHA-256 without channel binding.
    ScramSha256,
    /// SCRAM-SHA-256-PLUS: SCRAM bound to the TLS channel.
    ScramSha256Plus,
}

/// What the server asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// AuthenticationCleartextPassword.
    Cleartext,
    /// AuthenticationMD5Password.
    Md5,
    /// AuthenticationSASL.
    Sasl,
    /// AuthenticationGSS or AuthenticationGSSContinue.
    Gss,
    /// AuthenticationSSPI.
    Sspi,
    /// AuthenticationKerberosV5 or AuthenticationSCMCredential.
    Other,
}

impl Request {
    /// How an error message names the request.
    fn described(self) -> &'static str {
        match self {
            Request::Cleartext => "a cleartext password",
            Request::Md5 => "an MD5 password",
            Request::Sasl => "SASL authentication",
            Request::Gss => "GSSAPI authentication",
            Request::Sspi => "SSPI authentication",
            Request::Other => "an unsupported authentication method",
        }
    }

    /// The `require_auth` method it is; `None` for one the list has no name for.
    fn requirement(self) -> Option<AuthRequirement> {
        match self {
            Request::Cleartext => Some(AuthRequirement::Password),
            Request::Md5 => Some(AuthRequirement::Md5),
            Request::Sasl => Some(AuthRequirement::ScramSha256),
            Request::Gss => Some(AuthRequirement::Gss),
            Request::Sspi => Some(AuthRequirement::Sspi),
            Request::Other => None,
        }
    }
}

/// Where a SCRAM exchange stands.
enum Scram {
    /// Not started.
    Idle,
    /// The client-first message was sent; the server-first one (SASLContinue) is awaited.
    First(Box<ClientFirst>),
    /// The client-final message was sent; the server-final one (SASLFinal) is awaited.
    Final(ClientFinal),
    /// The server's signature was verified.
    Verified,
}

/// The client's side of the rules, through one startup conversation.
pub(crate) struct Guard<'a> {
    require_auth: &'a RequireAuth,
    channel_binding: ChannelBindingMode,
    /// The connector's salted passwords, which a SCRAM exchange reads and adds to.
    salted_passwords: &'a SaltedPasswords,
    scram: Scram,
    /// The client finished its side of an exchange: a password sent, or SCRAM verified.
    finished: bool,
}

impl<'a> Guard<'a> {
    pub(crate) fn new(
        require_auth: &'a RequireAuth,
        channel_binding: ChannelBindingMode,
        salted_passwords: &'a SaltedPasswords,
    ) -> Self {
        Guard {
            require_auth,
            channel_binding,
            salted_passwords,
            scram: Scram::Idle,
            finished: false,
        }
    }

    /// The `require_auth` refusal: what libpq reports as "authentication method requirement
    /// failed".
    fn refused(&self, reason: &str) -> Error {
        Error::client(
            &AuthenticationMethodError,
            format!(
                "authentication method requirement require_auth=\"{}\" failed: {reason}",
                self.require_auth
            ),
        )
    }

    /// Before answering `request`: refuses what the rules forbid, and a second SASL
    /// exchange in the middle of one.
    pub(crate) fn check_request(&self, request: Request) -> Result<(), Error> {
        if request == Request::Sasl && !matches!(self.scram, Scram::Idle) {
            return Err(Error::client(
                &ProtocolError,
                "the server started SASL authentication again in the middle of an exchange",
            ));
        }
        let allowed = match request.requirement() {
            Some(method) => self.require_auth.allows(method),
            None => self.require_auth.allows_unnamed(),
        };
        if !allowed {
            return Err(self.refused(&format!("the server asked for {}", request.described())));
        }
        // channel_binding=require: a method that cannot bind to the channel is refused before
        // it is answered (as libpq does): a server in the middle could relay the answer to the
        // real server and log in with it.
        if self.channel_binding == ChannelBindingMode::Require && request != Request::Sasl {
            return Err(Error::client(
                &InsecurityError,
                format!(
                    "channel binding is required, but the server asked for {}, which cannot bind to the channel",
                    request.described()
                ),
            ));
        }
        Ok(())
    }

    /// The client answered a password request: its side of the exchange is done.
    pub(crate) fn password_sent(&mut self) {
        self.finished = true;
    }

    /// The client sent its first SCRAM message.
    pub(crate) fn scram_started(&mut self, client: ClientFirst) {
        self.scram = Scram::First(Box::new(client));
    }

    /// AuthenticationSASLContinue: the server-first message; returns the client's answer.
    pub(crate) fn scram_continue(&mut self, data: &[u8]) -> Result<Vec<u8>, Error> {
        let Scram::First(client) = std::mem::replace(&mut self.scram, Scram::Idle) else {
            return Err(out_of_order("AuthenticationSASLContinue"));
        };
        let client = client.answer(data, self.salted_passwords).map_err(|e| {
            Error::client(&ProtocolError, "invalid SCRAM server-first message").with_cause(e)
        })?;
        let answer = client.message().to_vec();
        self.scram = Scram::Final(client);
        Ok(answer)
    }

    /// AuthenticationSASLFinal: the server-final message, whose signature proves the server
    /// knows the password.
    pub(crate) fn scram_final(&mut self, data: &[u8]) -> Result<(), Error> {
        let Scram::Final(client) = std::mem::replace(&mut self.scram, Scram::Idle) else {
            return Err(out_of_order("AuthenticationSASLFinal"));
        };
        client.verify(data, self.salted_passwords).map_err(|e| {
            let message = match e {
                ScramError::WrongSignature => {
                    "the server's SCRAM signature is wrong: it does not know the password"
                }
                ScramError::Server(_) => {
                    "the server ended SCRAM authentication with an error instead of its signature"
                }
                _ => "the server's SCRAM final message holds no valid signature",
            };
            Error::client(&InsecurityError, message).with_cause(e)
        })?;
        self.scram = Scram::Verified;
        self.finished = true;
        Ok(())
    }

    /// AuthenticationOk, after the client authenticated with `method` (Trust when nothing
    /// was asked): refuses a session the rules forbid.
    pub(crate) fn check_ok(&self, method: AuthMethod) -> Result<(), Error> {
        if matches!(self.scram, Scram::First(_) | Scram::Final(_)) {
            return Err(Error::client(
                &InsecurityError,
                "the server accepted the client before it finished SCRAM authentication, \
                 without proving that it knows the password (no server signature)",
            ));
        }
        // require_auth without `none`: the server must have run an exchange to its end.
        if !self.finished && !self.require_auth.allows(AuthRequirement::None) {
            return Err(self.refused("the server did not complete authentication"));
        }
        let bound = matches!(self.scram, Scram::Verified) && method == AuthMethod::ScramSha256Plus;
        if self.channel_binding == ChannelBindingMode::Require && !bound {
            return Err(Error::client(
                &InsecurityError,
                "channel binding is required, but the server authenticated the client without it",
            ));
        }
        Ok(())
    }
}

fn out_of_order(what: &str) -> Error {
    Error::client(
        &ProtocolError,
        format!("the server sent {what} out of order in the SCRAM exchange"),
    )
}
