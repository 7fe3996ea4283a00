//! Test certificates: a throwaway certificate authority and a server certificate it signs.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use crate::error::ClusterError;
use crate::privileges::{self, Account};

/// The files written by [`write_test_certificates`].
#[derive(Debug, Clone)]
pub struct TestCertificates {
    /// The CA certificate (PEM) clients use to verify the server (`sslrootcert`).
    pub ca_cert: PathBuf,
    /// The server certificate (PEM), valid for `localhost`, `127.0.0.1` and `::1`.
    pub server_cert: PathBuf,
    /// The server's private key (PEM, mode 0600).
    pub server_key: PathBuf,
    /// The CA certificate's PEM text.
    pub ca_pem: String,
}

fn cert_error(what: &str, err: rcgen::Error) -> ClusterError {
    ClusterError::other(format!("could not generate the {what}: {err}"))
}

/// Generates a CA and a server certificate for `localhost`, `127.0.0.1` and `::1`, and
/// writes `ca.crt`, `server.crt` and `server.key` (mode 0600) into `dir`, owned by
/// `account` when given (the server insists on owning its key).
pub fn write_test_certificates(
    dir: &Path,
    account: Option<&Account>,
) -> Result<TestCertificates, ClusterError> {
    let ca_key = KeyPair::generate().map_err(|e| cert_error("CA key", e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())
        .map_err(|e| cert_error("CA certificate", e))?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "pg-cluster test CA");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| cert_error("CA certificate", e))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(|e| cert_error("server key", e))?;
    let mut server_params = CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(|e| cert_error("server certificate", e))?;
    for ip in [[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()] {
        server_params.subject_alt_names.push(SanType::IpAddress(ip));
    }
    let mut server_name = DistinguishedName::new();
    server_name.push(DnType::CommonName, "localhost");
    server_params.distinguished_name = server_name;
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(|e| cert_error("server certificate", e))?;

    let certs = TestCertificates {
        ca_cert: dir.join("ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
        ca_pem: ca_cert.pem(),
    };
    write_private(&certs.ca_cert, certs.ca_pem.as_bytes(), account)?;
    write_private(&certs.server_cert, server_cert.pem().as_bytes(), account)?;
    write_private(
        &certs.server_key,
        server_key.serialize_pem().as_bytes(),
        account,
    )?;
    Ok(certs)
}

/// Writes a new mode-0600 file and hands it to `account`.
fn write_private(path: &Path, bytes: &[u8], account: Option<&Account>) -> Result<(), ClusterError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ClusterError::io_path("create", path, e))?;
    file.write_all(bytes)
        .map_err(|e| ClusterError::io_path("write", path, e))?;
    privileges::give_to(account, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_private_pem_files() {
        let dir = tempfile::tempdir().unwrap();
        let certs = write_test_certificates(dir.path(), None).unwrap();
        let key = fs::read_to_string(&certs.server_key).unwrap();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
        let cert = fs::read_to_string(&certs.server_cert).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(fs::read_to_string(&certs.ca_cert).unwrap(), certs.ca_pem);
        let mode = fs::metadata(&certs.server_key)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_ne!(certs.ca_pem, cert);
    }
}
