//! The client's side of SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677) as
//! PostgreSQL speaks it: an empty user name (the server takes the startup packet's), the
//! `tls-server-end-point` channel binding, and the server's signature checked before the
//! exchange counts as done.
//!
//! The costly part is PBKDF2 (`Hi`): 4,096 HMAC-SHA-256 rounds by PostgreSQL's default, on
//! every connect. postgres-protocol keys a fresh HMAC each round (two SHA-256 blocks for the
//! key pads, two for the message); here the password is keyed once per exchange and each round
//! hashes only its two message blocks (`scram/pbkdf2.rs`). A connector keeps the salted
//! passwords its servers' signatures confirmed, and connecting again to a server with the same
//! salt skips PBKDF2 altogether (`scram/memo.rs`).

mod memo;
mod pbkdf2;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use self::memo::Entry;
pub(crate) use self::memo::SaltedPasswords;
use self::pbkdf2::{Pads, first_round, hi};

/// The SASL name of SCRAM-SHA-256.
pub(crate) const SCRAM_SHA_256: &str = "SCRAM-SHA-256";
/// The SASL name of SCRAM-SHA-256-PLUS (bound to the TLS channel).
pub(crate) const SCRAM_SHA_256_PLUS: &str = "SCRAM-SHA-256-PLUS";

/// The most PBKDF2 rounds a server may ask for: the count comes from the server, which could
/// otherwise keep the client hashing for as long as it likes before proving anything
/// (postgres-protocol's and pgjdbc's cap, ~24 times PostgreSQL's default).
const MAX_ITERATIONS: u32 = 100_000;

/// Random bytes in the client nonce: base64 makes them 24 printable characters, none a comma
/// (libpq sends 18 as well).
const NONCE_BYTES: usize = 18;

type HmacSha256 = Hmac<Sha256>;

/// What the client's GS2 header says of channel binding.
pub(crate) enum ChannelBinding {
    /// `n`: the client does not bind (no TLS, or `channel_binding=disable`).
    Unsupported,
    /// `y`: the client could bind, but the server did not offer SCRAM-SHA-256-PLUS (so a
    /// server that did offer it and was stripped of it by a man in the middle refuses).
    Unrequested,
    /// `p=tls-server-end-point`: bound to this hash of the server's certificate.
    TlsServerEndPoint(Vec<u8>),
}

impl ChannelBinding {
    fn gs2_header(&self) -> &'static str {
        match self {
            ChannelBinding::Unsupported => "n,,",
            ChannelBinding::Unrequested => "y,,",
            ChannelBinding::TlsServerEndPoint(_) => "p=tls-server-end-point,,",
        }
    }

    /// The `c=` attribute of the client-final message: the header and the binding data.
    fn cbind_input(&self) -> String {
        let mut input = self.gs2_header().as_bytes().to_vec();
        if let ChannelBinding::TlsServerEndPoint(data) = self {
            input.extend_from_slice(data);
        }
        BASE64.encode(input)
    }
}

/// Why an exchange failed on the client's side. Nothing in it comes from the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScramError {
    /// A server message does not follow the grammar: which message, and what is wrong.
    Malformed(&'static str, &'static str),
    /// The server's nonce does not start with the client's.
    NonceMismatch,
    /// The server asked for no PBKDF2 rounds, or for more than [`MAX_ITERATIONS`].
    IterationCount(u32),
    /// The server-final message is an error (`e=`) instead of a signature.
    Server(String),
    /// The server's signature is not the one its knowledge of the password gives.
    WrongSignature,
}

impl std::fmt::Display for ScramError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScramError::Malformed(message, what) => write!(f, "malformed {message}: {what}"),
            ScramError::NonceMismatch => {
                f.write_str("the server's nonce does not start with the client's")
            }
            ScramError::IterationCount(n) => write!(
                f,
                "the server asked for {n} PBKDF2 iterations (1 to {MAX_ITERATIONS} accepted)"
            ),
            ScramError::Server(e) => write!(f, "the server ended the exchange with error {e:?}"),
            ScramError::WrongSignature => f.write_str("the server signature does not match"),
        }
    }
}

impl std::error::Error for ScramError {}

const SERVER_FIRST: &str = "SCRAM server-first message";
const SERVER_FINAL: &str = "SCRAM server-final message";

/// The exchange after the client-first message: the password, keyed into HMAC-SHA-256.
pub(crate) struct ClientFirst {
    /// HMAC-SHA-256 keyed with the normalised password, in the two forms PBKDF2 uses: the
    /// only forms the password is kept in.
    password: HmacSha256,
    pads: Pads,
    nonce: String,
    binding: ChannelBinding,
    message: String,
}

impl std::fmt::Debug for ClientFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientFirst")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl ClientFirst {
    /// Starts an exchange with a fresh random nonce. `password` is in the server encoding.
    pub(crate) fn new(password: &[u8], binding: ChannelBinding) -> ClientFirst {
        let mut random = [0u8; NONCE_BYTES];
        rand::fill(&mut random[..]);
        ClientFirst::with_nonce(password, binding, BASE64.encode(random))
    }

    fn with_nonce(password: &[u8], binding: ChannelBinding, nonce: String) -> ClientFirst {
        let password = normalize(password);
        ClientFirst {
            message: format!("{}n=,r={nonce}", binding.gs2_header()),
            pads: Pads::new(&password),
            password: HmacSha256::new_from_slice(&password).expect("HMAC takes keys of any length"),
            nonce,
            binding,
        }
    }

    /// The client-first message (the SASLInitialResponse's data).
    pub(crate) fn message(&self) -> &[u8] {
        self.message.as_bytes()
    }

    /// Reads the server-first message (AuthenticationSASLContinue) and proves the client knows
    /// the password; the salted password comes from `kept` when it holds it.
    pub(crate) fn answer(
        self,
        server_first: &[u8],
        kept: &SaltedPasswords,
    ) -> Result<ClientFinal, ScramError> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| ScramError::Malformed(SERVER_FIRST, "not UTF-8"))?;
        let (nonce, salt, iterations) = parse_server_first(server_first)?;
        if !nonce.starts_with(&self.nonce) {
            return Err(ScramError::NonceMismatch);
        }
        if !(1..=MAX_ITERATIONS).contains(&iterations) {
            return Err(ScramError::IterationCount(iterations));
        }
        let salt = BASE64
            .decode(salt)
            .map_err(|_| ScramError::Malformed(SERVER_FIRST, "the salt is not base64"))?;
        let first = first_round(&self.password, &salt);
        let (salted, derived) = match kept.find(&first, iterations) {
            Some(salted) => (salted, None),
            None => {
                let salted = hi(&self.pads, &first, iterations);
                let entry = Entry {
                    first_round: first,
                    iterations,
                    salted,
                };
                (salted, Some(entry))
            }
        };

        let mut message = format!("c={},r={nonce}", self.binding.cbind_input());
        let auth_message = format!(
            "{},{server_first},{message}",
            &self.message[self.binding.gs2_header().len()..]
        );
        let keyed = HmacSha256::new_from_slice(&salted).expect("any key length");
        let client_key = mac(&keyed, b"Client Key");
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let signature = mac(
            &HmacSha256::new_from_slice(&stored_key).expect("any key length"),
            auth_message.as_bytes(),
        );
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature)
            .map(|(k, s)| k ^ s)
            .collect();
        message.push_str(",p=");
        BASE64.encode_string(proof, &mut message);

        let server_key = mac(&keyed, b"Server Key");
        let server_signature = mac(
            &HmacSha256::new_from_slice(&server_key).expect("any key length"),
            auth_message.as_bytes(),
        );
        Ok(ClientFinal {
            message,
            server_signature,
            derived,
        })
    }
}

/// The exchange after the client-final message: what the server's signature must be.
pub(crate) struct ClientFinal {
    message: String,
    server_signature: [u8; 32],
    /// The salted password this exchange derived, to keep once the server's signature confirms it.
    derived: Option<Entry>,
}

impl std::fmt::Debug for ClientFinal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientFinal").finish_non_exhaustive()
    }
}

impl ClientFinal {
    /// The client-final message (the SASLResponse's data).
    pub(crate) fn message(&self) -> &[u8] {
        self.message.as_bytes()
    }

    /// Checks the server-final message (AuthenticationSASLFinal): only a signature made with
    /// the password's server key shows the server knows the password. Then `kept` keeps the
    /// salted password the exchange derived.
    pub(crate) fn verify(
        &self,
        server_final: &[u8],
        kept: &SaltedPasswords,
    ) -> Result<(), ScramError> {
        let server_final = std::str::from_utf8(server_final)
            .map_err(|_| ScramError::Malformed(SERVER_FINAL, "not UTF-8"))?;
        if let Some(error) = server_final.strip_prefix("e=") {
            if error.contains([',', '=', '\0']) {
                return Err(ScramError::Malformed(SERVER_FINAL, "a bad error value"));
            }
            return Err(ScramError::Server(error.to_owned()));
        }
        let verifier = server_final
            .strip_prefix("v=")
            .ok_or(ScramError::Malformed(SERVER_FINAL, "no verifier (v=)"))?;
        let verifier = BASE64
            .decode(verifier)
            .map_err(|_| ScramError::Malformed(SERVER_FINAL, "the verifier is not base64"))?;
        // Compared in constant time, as an HMAC check should be.
        let differs = verifier.len() != self.server_signature.len()
            || verifier
                .iter()
                .zip(self.server_signature)
                .fold(0u8, |d, (a, b)| d | (a ^ b))
                != 0;
        if differs {
            return Err(ScramError::WrongSignature);
        }
        if let Some(entry) = &self.derived {
            kept.keep(entry.clone());
        }
        Ok(())
    }
}

/// `r=<nonce>,s=<salt>,i=<count>`, nothing before, between or after (PostgreSQL sends no
/// extensions, and libpq refuses them too).
fn parse_server_first(message: &str) -> Result<(&str, &str, u32), ScramError> {
    let malformed = |what| ScramError::Malformed(SERVER_FIRST, what);
    let mut attributes = message.split(',');
    let mut attribute = |name: &'static str, missing: &'static str| {
        attributes
            .next()
            .and_then(|a| a.strip_prefix(name))
            .ok_or(malformed(missing))
    };
    let nonce = attribute("r=", "no nonce (r=) first")?;
    let salt = attribute("s=", "no salt (s=) second")?;
    let count = attribute("i=", "no iteration count (i=) third")?;
    if attributes.next().is_some() {
        return Err(malformed("more than r=, s= and i="));
    }
    // Printable ASCII but the comma (RFC 5802's `printable`), which the split took care of.
    if !nonce.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(malformed("the nonce is not printable"));
    }
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("the iteration count is not a number"));
    }
    let count = count
        .parse()
        .map_err(|_| malformed("the iteration count is too large"))?;
    Ok((nonce, salt, count))
}

/// SASLprep (RFC 4013) when the password is UTF-8 and allowed by it, else the password as it
/// is: PostgreSQL does not require passwords to pass SASLprep, and its server normalises the
/// same way (postgres-protocol and libpq do too).
fn normalize(password: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(password).map(stringprep::saslprep) {
        Ok(Ok(prepared)) => prepared.into_owned().into_bytes(),
        _ => password.to_vec(),
    }
}

/// HMAC of `message` under a keyed state, which is left as it was.
fn mac(keyed: &HmacSha256, message: &[u8]) -> [u8; 32] {
    let mut mac = keyed.clone();
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests;
