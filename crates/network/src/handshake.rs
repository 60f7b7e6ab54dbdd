//! Turning a TCP stream into an admitted peer: TLS 1.3 handshake with admission, then the
//! Hello exchange proving the node key named in the certificate.

use crate::cert::{CertInfo, short_id};
use crate::frame::Hello;
use crate::metered::{LastRead, Metered};
use crate::shared::Inner;
use crate::tls::{self, EXPORTER_LABEL};
use crate::verify::PeerVerifier;
use crate::{NodeId, PROTOCOL_VERSION};
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// A link's framed TLS stream over a socket that records when bytes last arrived.
pub(crate) type Transport = Framed<TlsStream<Metered<TcpStream>>, LengthDelimitedCodec>;

/// Why a connection attempt ended before the peer was admitted.
#[derive(Debug)]
pub(crate) enum Failure {
    /// We refused the peer (logged as `refused peer …`). `node_id` is the id its certificate
    /// named, if any.
    Refused { reason: String, node_id: Option<NodeId> },
    /// Anything else: unreachable, timed out, or the peer refused us.
    Failed(String),
}

fn refused(reason: String, node_id: Option<NodeId>) -> Failure {
    Failure::Refused { reason, node_id }
}

/// A finished TLS handshake whose certificate passed admission.
struct Established {
    transport: Transport,
    last_read: LastRead,
    cert: CertInfo,
    cert_id: NodeId,
    exporter: [u8; 32],
}

/// An admitted peer after the Hello exchange.
pub(crate) struct Admitted {
    pub transport: Transport,
    /// When bytes last arrived on the socket (for the dead-peer timeout).
    pub last_read: LastRead,
    pub peer: NodeId,
    pub cert: CertInfo,
}

fn codec(inner: &Inner) -> LengthDelimitedCodec {
    // u32 big-endian length prefix (the codec's default layout).
    LengthDelimitedCodec::builder().max_frame_length(inner.limits.max_frame).new_codec()
}

/// What the TLS stack reports, read as "the peer refused us" when it carries an alert.
fn describe_io(stage: &str, e: &std::io::Error) -> String {
    let text = e.to_string();
    if text.contains("alert") {
        format!("refused our TLS certificate ({text}); its log says why")
    } else {
        format!("{stage} failed: {text}")
    }
}

/// Builds the established state from a finished handshake's certificates and exporter.
fn established(
    transport: Transport,
    last_read: LastRead,
    certs: Option<Vec<rustls_pki_types::CertificateDer<'static>>>,
    exporter: Result<[u8; 32], rustls::Error>,
) -> Result<Established, Failure> {
    // The verifiers admitted this certificate, so it parses and carries a node id.
    let cert = certs
        .and_then(|c| c.first().and_then(|c| CertInfo::parse(c)))
        .ok_or_else(|| Failure::Failed("peer presented no certificate".into()))?;
    let cert_id =
        cert.node_id.ok_or_else(|| Failure::Failed("peer certificate has no node id".into()))?;
    let exporter = exporter.map_err(|e| Failure::Failed(format!("TLS exporter: {e}")))?;
    Ok(Established { transport, last_read, cert, cert_id, exporter })
}

fn slot_or(verifier: &PeerVerifier, stage: &str, e: &std::io::Error) -> Failure {
    match verifier.slot.lock().take() {
        Some(r) => refused(r.reason, r.node_id),
        None => Failure::Failed(describe_io(stage, e)),
    }
}

async fn tls_outbound(inner: &Inner, addr: SocketAddr) -> Result<Established, Failure> {
    // Bounded by the dead-peer timeout: during a partition connects hang, and the next try
    // after the partition heals should not wait behind a stale one.
    let limit = inner.limits.peer_timeout;
    let tcp = timeout(limit, TcpStream::connect(addr))
        .await
        .map_err(|_| Failure::Failed(format!("TCP connect timed out after {limit:?}")))?
        .map_err(|e| Failure::Failed(format!("TCP connect failed: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let last_read = LastRead::new();
    let identity = inner.identity.read().clone();
    let trust = inner.trust.read().clone();
    let verifier = PeerVerifier::new(trust, inner.admission.clone());
    let config = tls::client_config(&identity, verifier.clone())
        .map_err(|e| Failure::Failed(e.to_string()))?;
    // Peers are identified by node id; the name is required by TLS but not checked.
    let name = ServerName::try_from("aurum-peer").map_err(|e| Failure::Failed(e.to_string()))?;
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, Metered::new(tcp, last_read.clone()))
        .await
        .map_err(|e| slot_or(&verifier, "the TLS handshake", &e))?;
    let conn = stream.get_ref().1;
    let certs = conn.peer_certificates().map(|c| c.to_vec());
    let exporter = conn.export_keying_material([0u8; 32], EXPORTER_LABEL, None);
    established(Framed::new(TlsStream::from(stream), codec(inner)), last_read, certs, exporter)
}

async fn tls_inbound(inner: &Inner, tcp: TcpStream) -> Result<Established, Failure> {
    let _ = tcp.set_nodelay(true);
    let last_read = LastRead::new();
    let identity = inner.identity.read().clone();
    let trust = inner.trust.read().clone();
    let verifier = PeerVerifier::new(trust, inner.admission.clone());
    let config = tls::server_config(&identity, verifier.clone())
        .map_err(|e| Failure::Failed(e.to_string()))?;
    let stream = TlsAcceptor::from(Arc::new(config))
        .accept(Metered::new(tcp, last_read.clone()))
        .await
        .map_err(|e| slot_or(&verifier, "the TLS handshake", &e))?;
    let conn = stream.get_ref().1;
    let certs = conn.peer_certificates().map(|c| c.to_vec());
    let exporter = conn.export_keying_material([0u8; 32], EXPORTER_LABEL, None);
    established(Framed::new(TlsStream::from(stream), codec(inner)), last_read, certs, exporter)
}

/// Exchanges Hellos: each side proves it holds the node key named in its certificate by
/// signing the TLS exporter, which is unique to this session (so a Hello cannot be replayed).
async fn hello(inner: &Inner, est: Established) -> Result<Admitted, Failure> {
    let Established { mut transport, last_read, cert, cert_id, exporter } = est;
    let digest = inner.suite.hash(&exporter);
    let ours = Hello::new(inner.node_id, inner.suite.sign(&inner.node_key, &digest));
    transport
        .send(ours.encode())
        .await
        .map_err(|e| Failure::Failed(describe_io("the Hello", &e)))?;
    let body = match transport.next().await {
        Some(Ok(body)) => body,
        Some(Err(e)) => return Err(Failure::Failed(describe_io("the Hello", &e))),
        None => {
            return Err(Failure::Failed(
                "closed the connection before its Hello (it may have refused our certificate; its log says why)"
                    .into(),
            ));
        }
    };
    let desc = cert.describe();
    let theirs = Hello::decode(&body)
        .map_err(|e| refused(format!("{desc}: malformed Hello: {e}"), Some(cert_id)))?;
    if theirs.version != PROTOCOL_VERSION {
        return Err(refused(
            format!(
                "{desc}: speaks protocol version {}, we speak {PROTOCOL_VERSION}",
                theirs.version
            ),
            Some(cert_id),
        ));
    }
    if theirs.node_id != cert_id {
        return Err(refused(
            format!(
                "{desc}: its Hello claims node id {}, not the one in its certificate",
                short_id(&theirs.node_id)
            ),
            Some(cert_id),
        ));
    }
    if inner.suite.verify(&cert_id, &digest, &theirs.signature).is_err() {
        return Err(refused(
            format!(
                "{desc}: its Hello signature does not verify with node id {} ({:?} suite): the peer holds the TLS certificate but not that node's key",
                short_id(&cert_id),
                inner.suite.kind()
            ),
            Some(cert_id),
        ));
    }
    // The lists may have changed while the handshake ran.
    inner
        .admission
        .check(&cert_id)
        .map_err(|reason| refused(format!("{desc}: {reason}"), Some(cert_id)))?;
    Ok(Admitted { transport, last_read, peer: cert_id, cert })
}

/// How long a TLS handshake plus the Hello exchange may take: twice the dead-peer timeout.
fn handshake_limit(inner: &Inner) -> std::time::Duration {
    inner.limits.peer_timeout * 2
}

/// TCP connect, TLS handshake and Hello for an outbound connection.
pub(crate) async fn connect(inner: &Inner, addr: SocketAddr) -> Result<Admitted, Failure> {
    let limit = handshake_limit(inner);
    let attempt = async {
        let est = tls_outbound(inner, addr).await?;
        hello(inner, est).await
    };
    timeout(limit, attempt).await.map_err(|_| {
        Failure::Failed(format!("no TLS handshake and Hello within {limit:?} of connecting"))
    })?
}

/// TLS handshake and Hello for an inbound connection.
pub(crate) async fn accept(inner: &Inner, tcp: TcpStream) -> Result<Admitted, Failure> {
    let limit = handshake_limit(inner);
    let attempt = async {
        let est = tls_inbound(inner, tcp).await?;
        hello(inner, est).await
    };
    timeout(limit, attempt)
        .await
        .map_err(|_| Failure::Failed(format!("no TLS handshake and Hello within {limit:?}")))?
}

#[cfg(test)]
mod tests {
    //! A peer that holds a node's TLS certificate and key but not its node key: the TLS
    //! handshake succeeds, the Hello must not.
    use super::*;
    use crate::pki::{Issuer, write_node_files};
    use crate::tls::{Identity, Trust};
    use crate::verify::Admission;
    use crate::{Network, NetworkConfig, TlsFiles};
    use aurum_crypto::{KeyPair, SuiteKind, suite};
    use std::time::Duration;
    use std::time::SystemTime;

    fn files(
        dir: &std::path::Path,
        agency: &Issuer,
        ca: &std::path::Path,
        name: &str,
        id: &NodeId,
    ) -> TlsFiles {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let now = SystemTime::now();
        let (chain, key) =
            agency.issue_node(name, id, now, now + Duration::from_secs(86_400)).unwrap();
        write_node_files(&d, &chain, &key).unwrap();
        TlsFiles {
            ca_certs: vec![ca.to_path_buf()],
            cert_chain: d.join("ssl.crt"),
            key: d.join("ssl.key"),
        }
    }

    /// Connects to `to` with `victim`'s TLS files and sends a Hello naming `claimed`, signed
    /// by `signer`.
    async fn impostor(
        to: SocketAddr,
        tls_files: &TlsFiles,
        victim: &NodeId,
        claimed: NodeId,
        signer: &KeyPair,
    ) {
        let identity = Identity::load(tls_files, victim).unwrap();
        let trust = Arc::new(Trust::load(&tls_files.ca_certs).unwrap());
        let verifier =
            PeerVerifier::new(trust, Arc::new(Admission::new(signer.public(), vec![], None)));
        let config = tls::client_config(&identity, verifier).unwrap();
        let tcp = TcpStream::connect(to).await.unwrap();
        let stream = TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("aurum-peer").unwrap(), tcp)
            .await
            .unwrap();
        let exporter: [u8; 32] =
            stream.get_ref().1.export_keying_material([0u8; 32], EXPORTER_LABEL, None).unwrap();
        let s = suite(signer.kind);
        let sig = s.sign(signer, &s.hash(&exporter));
        let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
        framed.send(Hello::new(claimed, sig).encode()).await.unwrap();
        // a closes the connection after refusing the Hello.
        while let Some(Ok(_)) = framed.next().await {}
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hello_without_the_node_key_is_refused() {
        for kind in SuiteKind::ALL {
            let dir = tempfile::tempdir().unwrap();
            let root = Issuer::new_ca("chain-ca", 30).unwrap();
            let agency = root.new_agency("agency-a", 30).unwrap();
            let ca = dir.path().join("ca.crt");
            std::fs::write(&ca, root.cert_pem()).unwrap();
            let a_key = KeyPair::generate(kind);
            let a_files = files(dir.path(), &agency, &ca, "node-a", &a_key.public());
            let config = NetworkConfig::new("127.0.0.1:0".parse().unwrap(), a_files);
            let a = Network::start(config, a_key, suite(kind)).await.unwrap();

            let victim = KeyPair::generate(kind);
            let thief = KeyPair::generate(kind);
            let stolen = files(dir.path(), &agency, &ca, "victim", &victim.public());
            impostor(a.local_addr(), &stolen, &victim.public(), victim.public(), &thief).await;
            impostor(a.local_addr(), &stolen, &victim.public(), thief.public(), &thief).await;
            let lines = a.refusals();
            assert!(
                lines.iter().any(|l| l.starts_with("refused peer 127.0.0.1:")
                    && l.contains("certificate \"victim\"")
                    && l.contains("Hello signature does not verify")),
                "{lines:?}"
            );
            assert!(lines.iter().any(|l| l.contains("its Hello claims node id")), "{lines:?}");
            assert!(a.connected().is_empty());
            a.shutdown().await;
        }
    }

    /// A node built before keepalive: a valid Hello, then it never sends a ping. Its link is
    /// not timed out, our pings reach it as frames of an unknown module, and its frames route.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_peer_without_keepalive_is_kept() {
        let kind = SuiteKind::Secp256k1Keccak;
        let dir = tempfile::tempdir().unwrap();
        let root = Issuer::new_ca("chain-ca", 30).unwrap();
        let agency = root.new_agency("agency-a", 30).unwrap();
        let ca = dir.path().join("ca.crt");
        std::fs::write(&ca, root.cert_pem()).unwrap();
        let a_key = KeyPair::generate(kind);
        let a_files = files(dir.path(), &agency, &ca, "node-a", &a_key.public());
        let mut config = NetworkConfig::new("127.0.0.1:0".parse().unwrap(), a_files);
        config.keepalive = Duration::from_millis(50);
        config.peer_timeout = Duration::from_millis(200);
        let a = Network::start(config, a_key, suite(kind)).await.unwrap();
        let mut rx = a.register("g", crate::Module::Sync);

        let old = KeyPair::generate(kind);
        let old_files = files(dir.path(), &agency, &ca, "node-old", &old.public());
        let identity = Identity::load(&old_files, &old.public()).unwrap();
        let trust = Arc::new(Trust::load(&old_files.ca_certs).unwrap());
        let verifier =
            PeerVerifier::new(trust, Arc::new(Admission::new(old.public(), vec![], None)));
        let config = tls::client_config(&identity, verifier).unwrap();
        let tcp = TcpStream::connect(a.local_addr()).await.unwrap();
        let stream = TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("aurum-peer").unwrap(), tcp)
            .await
            .unwrap();
        let exporter: [u8; 32] =
            stream.get_ref().1.export_keying_material([0u8; 32], EXPORTER_LABEL, None).unwrap();
        let s = suite(kind);
        let sig = s.sign(&old, &s.hash(&exporter));
        let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
        framed.send(Hello::new(old.public(), sig).encode()).await.unwrap();
        assert!(Hello::decode(&framed.next().await.unwrap().unwrap()).is_ok());
        // Ten timeouts long, reading what a sends as an old node would.
        let until = tokio::time::Instant::now() + Duration::from_secs(2);
        let mut pings = 0;
        while let Ok(Some(Ok(body))) = tokio::time::timeout_at(until, framed.next()).await {
            let m = crate::frame::decode_message(body.freeze()).unwrap();
            assert!(crate::Module::try_from(m.module).is_err(), "an unknown module to it");
            pings += 1;
        }
        assert!(pings >= 10, "{pings} pings");
        assert_eq!(a.connected(), vec![old.public()]);
        assert_eq!(a.stats().timeouts, 0);
        let body = crate::frame::encode_message("g", crate::Module::Sync, b"old").unwrap();
        framed.send(body).await.unwrap();
        let m = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.unwrap().unwrap();
        assert_eq!((m.from, &m.payload[..]), (old.public(), &b"old"[..]));
        a.shutdown().await;
    }
}
