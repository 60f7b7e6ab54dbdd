//! Certificate generation for `aurum build-chain`: chain CA → agency → node, all with ECDSA
//! P-256 keys (what the TLS stack signs with; the node's consensus key is separate and is bound
//! by the node id in the node certificate).

use crate::cert::CertInfo;
use crate::{NODE_ID_URI_PREFIX, NodeId};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {reason}", path.display())]
    BadFile { path: PathBuf, reason: String },
    #[error("validity of {days} days from now is out of range")]
    Validity { days: u32 },
}

/// A certificate authority (the chain CA or an agency): its certificate and signing key.
pub struct Issuer {
    issuer: rcgen::Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of debug output.
        f.debug_struct("Issuer").field("cert_pem", &self.cert_pem).finish_non_exhaustive()
    }
}

/// Certificates start an hour back so peers with slightly slow clocks accept them at once.
const BACKDATE: Duration = Duration::from_secs(3600);

fn params(name: &str, not_before: SystemTime, not_after: SystemTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, name);
    p.not_before = not_before.into();
    p.not_after = not_after.into();
    p
}

fn window(days: u32) -> Result<(SystemTime, SystemTime), PkiError> {
    let now = SystemTime::now();
    let after = now
        .checked_add(Duration::from_secs(u64::from(days) * 86_400))
        .ok_or(PkiError::Validity { days })?;
    Ok((now.checked_sub(BACKDATE).unwrap_or(now), after))
}

fn ca_params(
    name: &str,
    days: u32,
    constraint: BasicConstraints,
) -> Result<CertificateParams, PkiError> {
    let (nb, na) = window(days)?;
    let mut p = params(name, nb, na);
    p.is_ca = IsCa::Ca(constraint);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(p)
}

impl Issuer {
    /// Self-signed chain CA, valid `days` days from now.
    pub fn new_ca(name: &str, days: u32) -> Result<Issuer, PkiError> {
        let key = KeyPair::generate()?;
        let p = ca_params(name, days, BasicConstraints::Unconstrained)?;
        let cert = p.self_signed(&key)?;
        Ok(Issuer { issuer: rcgen::Issuer::new(p, key), cert_pem: cert.pem() })
    }

    /// An agency CA signed by `self` (path length 0: it signs node certificates only).
    pub fn new_agency(&self, name: &str, days: u32) -> Result<Issuer, PkiError> {
        let key = KeyPair::generate()?;
        let mut p = ca_params(name, days, BasicConstraints::Constrained(0))?;
        p.use_authority_key_identifier_extension = true;
        let cert = p.signed_by(&key, &self.issuer)?;
        Ok(Issuer { issuer: rcgen::Issuer::new(p, key), cert_pem: cert.pem() })
    }

    /// Writes `<stem>.crt` and `<stem>.key` (key file mode 0600) into `dir`.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<(), PkiError> {
        write_file(&dir.join(format!("{stem}.crt")), &self.cert_pem, false)?;
        write_file(&dir.join(format!("{stem}.key")), &self.issuer.key().serialize_pem(), true)
    }

    /// Loads what [`Issuer::save`] wrote.
    pub fn load(dir: &Path, stem: &str) -> Result<Issuer, PkiError> {
        let crt = dir.join(format!("{stem}.crt"));
        let key_path = dir.join(format!("{stem}.key"));
        let cert_pem = read_file(&crt)?;
        let key = KeyPair::from_pem(&read_file(&key_path)?).map_err(|e| PkiError::BadFile {
            path: key_path.clone(),
            reason: format!("not a PEM private key: {e}"),
        })?;
        let issuer =
            rcgen::Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|e| PkiError::BadFile {
                path: crt.clone(),
                reason: format!("not a usable CA certificate: {e}"),
            })?;
        Ok(Issuer { issuer, cert_pem })
    }

    /// This issuer's certificate (PEM).
    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// A node certificate for `node_id` (subjectAltName URI `aurum:node:<hex>`, CN `name`,
    /// serverAuth + clientAuth), signed by this agency and valid from `not_before` to
    /// `not_after`. Returns (chain PEM = node cert then this agency's cert, TLS key PEM PKCS#8).
    pub fn issue_node(
        &self,
        name: &str,
        node_id: &NodeId,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<(String, String), PkiError> {
        let key = KeyPair::generate()?;
        let mut p = params(name, not_before, not_after);
        let uri = format!("{NODE_ID_URI_PREFIX}{}", node_id.to_hex());
        p.subject_alt_names = vec![SanType::URI(uri.try_into()?)];
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages =
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        p.use_authority_key_identifier_extension = true;
        let cert = p.signed_by(&key, &self.issuer)?;
        Ok((format!("{}{}", cert.pem(), self.cert_pem), key.serialize_pem()))
    }
}

/// Convenience: writes `ssl.crt` (chain) and `ssl.key` (mode 0600) for a node into `dir`.
pub fn write_node_files(dir: &Path, chain_pem: &str, key_pem: &str) -> Result<(), PkiError> {
    write_file(&dir.join("ssl.crt"), chain_pem, false)?;
    write_file(&dir.join("ssl.key"), key_pem, true)
}

/// The node id in the first certificate of a PEM chain, if it carries one.
pub fn cert_node_id(chain_pem: &str) -> Option<NodeId> {
    use rustls_pki_types::{CertificateDer, pem::PemObject};
    let der = CertificateDer::from_pem_slice(chain_pem.as_bytes()).ok()?;
    CertInfo::parse(&der)?.node_id
}

fn read_file(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path)
        .map_err(|source| PkiError::Io { path: path.to_path_buf(), source })
}

fn write_file(path: &Path, contents: &str, secret: bool) -> Result<(), PkiError> {
    use std::io::Write;
    let io = |source| PkiError::Io { path: path.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(io)?;
    // `mode` only applies on creation; tighten an existing key file too.
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    file.write_all(contents.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_agency_node_roundtrip_through_files() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Issuer::new_ca("chain-ca", 365).unwrap();
        ca.save(dir.path(), "ca").unwrap();
        let ca = Issuer::load(dir.path(), "ca").unwrap();
        let agency = ca.new_agency("agency-a", 365).unwrap();
        agency.save(dir.path(), "agency").unwrap();
        let agency = Issuer::load(dir.path(), "agency").unwrap();
        let id = aurum_crypto::KeyPair::generate(aurum_crypto::SuiteKind::Secp256k1Keccak).public();
        let now = SystemTime::now();
        let (chain, key) =
            agency.issue_node("node0", &id, now, now + Duration::from_secs(86_400)).unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(key.contains("BEGIN PRIVATE KEY"));
        assert_eq!(cert_node_id(&chain), Some(id));
        write_node_files(dir.path(), &chain, &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in ["ssl.key", "ca.key", "agency.key"] {
                let mode = std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
    }
}
