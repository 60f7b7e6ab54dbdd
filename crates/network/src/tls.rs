//! TLS material and rustls configurations. Everything runs on the `ring` provider, TLS 1.3
//! only, without session resumption (each connection verifies the peer's certificate afresh).

use crate::cert::CertInfo;
use crate::error::NetworkError;
use crate::{NodeId, TlsFiles};
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{
    ClientHello, NoServerSessionStorage, ResolvesServerCert, WebPkiClientVerifier,
};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::{Arc, LazyLock};

/// Label of the TLS exporter whose output each side signs with its node key in the Hello.
pub(crate) const EXPORTER_LABEL: &[u8] = b"EXPORTER-aurum-node-id";

static PROVIDER: LazyLock<Arc<CryptoProvider>> =
    LazyLock::new(|| Arc::new(rustls::crypto::ring::default_provider()));

/// The `ring` provider, passed explicitly to every builder so the process default is untouched.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    PROVIDER.clone()
}

fn bad(path: &Path, reason: impl Into<String>) -> NetworkError {
    NetworkError::BadFile { path: path.to_path_buf(), reason: reason.into() }
}

fn read(path: &Path) -> Result<Vec<u8>, NetworkError> {
    std::fs::read(path)
        .map_err(|source| NetworkError::ReadFile { path: path.to_path_buf(), source })
}

/// All certificates of a PEM file, in file order; an error if it holds none.
pub(crate) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetworkError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(path, format!("not a valid PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(bad(path, "holds no PEM certificate"));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, NetworkError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| bad(path, format!("not a PEM private key (PKCS#8 P-256 expected): {e}")))
}

/// This node's TLS certificate chain and key, checked to belong to the node key.
#[derive(Debug)]
pub(crate) struct Identity {
    pub certified: Arc<CertifiedKey>,
    pub info: CertInfo,
}

impl Identity {
    pub fn load(files: &TlsFiles, node_id: &NodeId) -> Result<Identity, NetworkError> {
        let chain = load_certs(&files.cert_chain)?;
        let info = CertInfo::parse(&chain[0]).ok_or_else(|| {
            bad(&files.cert_chain, "first certificate is not a valid X.509 certificate")
        })?;
        let cert_id = info.node_id.ok_or_else(|| {
            bad(
                &files.cert_chain,
                format!(
                    "certificate \"{}\" carries no node id (subjectAltName URI {}<hex>)",
                    info.subject,
                    crate::NODE_ID_URI_PREFIX
                ),
            )
        })?;
        if cert_id != *node_id {
            return Err(NetworkError::NodeIdMismatch {
                path: files.cert_chain.clone(),
                cert_node_id: cert_id.to_hex(),
                key_node_id: node_id.to_hex(),
            });
        }
        let key = load_key(&files.key)?;
        let signing = provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| bad(&files.key, format!("unusable TLS key: {e}")))?;
        let certified = CertifiedKey::new(chain, signing);
        certified.keys_match().map_err(|e| {
            bad(
                &files.key,
                format!("does not match the certificate in {}: {e}", files.cert_chain.display()),
            )
        })?;
        Ok(Identity { certified: Arc::new(certified), info })
    }
}

/// The trusted CAs, with the client verifier built from them once.
#[derive(Debug)]
pub(crate) struct Trust {
    pub roots: Arc<RootCertStore>,
    /// Common names of the trusted CAs, for "does not chain to any trusted CA" lines.
    pub names: Vec<String>,
    pub client_verifier: Arc<dyn ClientCertVerifier>,
}

impl Trust {
    pub fn load(paths: &[std::path::PathBuf]) -> Result<Trust, NetworkError> {
        if paths.is_empty() {
            return Err(NetworkError::Tls("no trusted CA certificate file configured".into()));
        }
        let mut roots = RootCertStore::empty();
        let mut names = Vec::new();
        for path in paths {
            for cert in load_certs(path)? {
                let name = CertInfo::parse(&cert).map(|i| i.subject).unwrap_or_default();
                roots.add(cert).map_err(|e| {
                    bad(path, format!("CA certificate \"{name}\" is not usable: {e}"))
                })?;
                names.push(name);
            }
        }
        let roots = Arc::new(roots);
        let client_verifier =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
                .build()
                .map_err(|e| NetworkError::Tls(format!("client verifier: {e}")))?;
        Ok(Trust { roots, names, client_verifier })
    }

    /// `"ca-1", "ca-2"`.
    pub fn names_list(&self) -> String {
        self.names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
    }
}

/// Presents one fixed certificate on either side of the handshake.
#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

impl ResolvesClientCert for FixedCert {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn tls_err(e: rustls::Error) -> NetworkError {
    NetworkError::Tls(e.to_string())
}

/// A client config for one outbound handshake (the verifier records why it refused, so it is
/// per handshake).
pub(crate) fn client_config(
    identity: &Identity,
    verifier: Arc<dyn rustls::client::danger::ServerCertVerifier>,
) -> Result<ClientConfig, NetworkError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(FixedCert(identity.certified.clone())));
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// A server config for one inbound handshake.
pub(crate) fn server_config(
    identity: &Identity,
    verifier: Arc<dyn ClientCertVerifier>,
) -> Result<ServerConfig, NetworkError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(FixedCert(identity.certified.clone())));
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(config)
}
