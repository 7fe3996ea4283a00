//! TLS client configuration for each `sslmode`, and the channel-binding data of SCRAM-SHA-256-PLUS.

use std::path::Path;
use std::sync::Arc;

use pg_exceptions::{Error, InsecurityError};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::params::SslMode;
pub(crate) use crate::wire::transport::TlsFiles;

/// What the client checks of the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verification {
    /// Encrypt only (require, prefer, allow without a root certificate).
    None,
    /// The chain must lead to a trusted root; the host name is not checked.
    Chain,
    /// The chain and the host name.
    Full,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(message: impl Into<String>) -> Error {
    Error::client(&InsecurityError, message.into())
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem = std::fs::read(path).map_err(|e| {
        tls_error(format!("cannot read certificate file {}", path.display())).with_cause(e)
    })?;
    let certs: Result<Vec<_>, _> = rustls_pemfile::certs(&mut pem.as_slice()).collect();
    let certs = certs.map_err(|e| {
        tls_error(format!("malformed certificate file {}", path.display())).with_cause(e)
    })?;
    if certs.is_empty() {
        return Err(tls_error(format!("no certificate in {}", path.display())));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let pem = std::fs::read(path)
        .map_err(|e| tls_error(format!("cannot read key file {}", path.display())).with_cause(e))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| tls_error(format!("malformed key file {}", path.display())).with_cause(e))?
        .ok_or_else(|| tls_error(format!("no private key in {}", path.display())))
}

fn home_postgresql(file: &str) -> Option<std::path::PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".postgresql").join(file);
    path.is_file().then_some(path)
}

/// Builds the client configuration for one connection attempt.
pub(crate) fn client_config(
    files: &TlsFiles<'_>,
) -> Result<(Arc<ClientConfig>, Verification), Error> {
    let default_root = home_postgresql("root.crt");
    let rootcert = files.sslrootcert.or(default_root.as_deref());
    let verification = match files.sslmode {
        SslMode::VerifyFull => Verification::Full,
        SslMode::VerifyCa => Verification::Chain,
        // libpq: with a root certificate at hand, require behaves as verify-ca.
        SslMode::Require if files.sslrootcert.is_some() => Verification::Chain,
        _ => Verification::None,
    };
    let mut roots = RootCertStore::empty();
    if verification != Verification::None {
        match rootcert {
            Some(path) if path != Path::new("system") => {
                for cert in read_certs(path)? {
                    roots.add(cert).map_err(|e| {
                        tls_error(format!("unusable root certificate in {}", path.display()))
                            .with_cause(e)
                    })?;
                }
            }
            _ => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
    }
    let webpki = if verification == Verification::None {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| tls_error("cannot build the certificate verifier").with_cause(e))?,
        )
    };
    let verifier = Arc::new(Verifier {
        webpki,
        verification,
        provider: provider(),
    });
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("no usable TLS protocol version").with_cause(e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let default_cert = home_postgresql("postgresql.crt");
    let default_key = home_postgresql("postgresql.key");
    let cert = files.sslcert.or(default_cert.as_deref());
    let key = files.sslkey.or(default_key.as_deref());
    let config = match (cert, key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(read_certs(cert)?, read_key(key)?)
            .map_err(|e| tls_error("the client certificate and key do not match").with_cause(e))?,
        (Some(cert), None) if files.sslcert.is_some() => {
            return Err(tls_error(format!(
                "client certificate {} given without sslkey",
                cert.display()
            )));
        }
        _ => builder.with_no_client_auth(),
    };
    Ok((Arc::new(config), verification))
}

/// The name the handshake presents and, under verify-full, checks.
pub(crate) fn server_name(host: &str) -> ServerName<'static> {
    ServerName::try_from(host.to_owned())
        .unwrap_or_else(|_| ServerName::try_from("localhost").expect("a valid DNS name"))
}

/// Checks the server's certificate as far as the sslmode asks.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    verification: Verification,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Ok(ok) => Ok(ok),
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) if self.verification == Verification::Chain => Ok(ServerCertVerified::assertion()),
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The `tls-server-end-point` channel binding (RFC 5929): a hash of the server's certificate,
/// by the hash of its signature algorithm, with MD5 and SHA-1 raised to SHA-256.
pub(crate) fn server_end_point(cert_der: &[u8]) -> Vec<u8> {
    match signature_hash(cert_der) {
        SignatureHash::Sha384 => Sha384::digest(cert_der).to_vec(),
        SignatureHash::Sha512 => Sha512::digest(cert_der).to_vec(),
        SignatureHash::Sha256 => Sha256::digest(cert_der).to_vec(),
    }
}

enum SignatureHash {
    Sha256,
    Sha384,
    Sha512,
}

/// Reads the signature algorithm OID of a DER certificate; anything unknown or malformed counts as SHA-256.
fn signature_hash(der: &[u8]) -> SignatureHash {
    const SHA384: [&[u8]; 2] = [
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
    ];
    const SHA512: [&[u8]; 2] = [
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
    ];
    let oid = der_element(der, 0x30)
        .and_then(|(certificate, _)| der_element(certificate, 0x30))
        .and_then(|(_, after_tbs)| der_element(after_tbs, 0x30))
        .and_then(|(algorithm, _)| der_element(algorithm, 0x06))
        .map(|(oid, _)| oid);
    match oid {
        Some(oid) if SHA384.contains(&oid) => SignatureHash::Sha384,
        Some(oid) if SHA512.contains(&oid) => SignatureHash::Sha512,
        _ => SignatureHash::Sha256,
    }
}

/// Splits one DER element of the expected tag off `input`: (its contents, the rest).
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&len0, rest) = rest.split_first()?;
    let (len, rest) = if len0 < 0x80 {
        (len0 as usize, rest)
    } else {
        let n = (len0 & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_walk_survives_garbage() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x05, 0x30],
        ] {
            assert!(matches!(signature_hash(input), SignatureHash::Sha256));
        }
    }

    #[test]
    fn sha384_signature_is_recognised() {
        // SEQUENCE { SEQUENCE {} (tbs), SEQUENCE { OID ecdsa-with-SHA384 } }
        let cert = [
            0x30, 0x0e, 0x30, 0x00, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
            0x03, 0x03,
        ];
        assert!(matches!(signature_hash(&cert), SignatureHash::Sha384));
        assert_eq!(server_end_point(&cert).len(), 48);
    }
}
