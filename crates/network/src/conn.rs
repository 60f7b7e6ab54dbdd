//! One connection's life: TCP, TLS handshake with admission, Hello exchange proving the node
//! key, registration, then the read and write loops. Also the accept loop and the dialers.

use crate::cert::{CertInfo, short_id};
use crate::frame::Hello;
use crate::net::{Inner, PeerConn, SEND_QUEUE};
use crate::tls::{self, EXPORTER_LABEL};
use crate::verify::PeerVerifier;
use crate::{NodeId, PROTOCOL_VERSION};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};
use tokio_util::codec::{Framed, LengthDelimitedCodec, LengthDelimitedCodecError};
use tracing::{debug, info, warn};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// TLS handshake plus Hello exchange.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A connection that lasted this long resets the dialer's backoff.
const STABLE_AFTER: Duration = Duration::from_secs(2);

type Transport = Framed<TlsStream<TcpStream>, LengthDelimitedCodec>;

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
    cert: CertInfo,
    cert_id: NodeId,
    exporter: [u8; 32],
}

/// An admitted peer after the Hello exchange.
pub(crate) struct Admitted {
    transport: Transport,
    peer: NodeId,
    cert: CertInfo,
}

fn codec(inner: &Inner) -> LengthDelimitedCodec {
    // u32 big-endian length prefix (the codec's default layout).
    LengthDelimitedCodec::builder().max_frame_length(inner.max_frame).new_codec()
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
    Ok(Established { transport, cert, cert_id, exporter })
}

fn slot_or(verifier: &PeerVerifier, stage: &str, e: &std::io::Error) -> Failure {
    match verifier.slot.lock().take() {
        Some(r) => refused(r.reason, r.node_id),
        None => Failure::Failed(describe_io(stage, e)),
    }
}

async fn tls_outbound(inner: &Inner, addr: SocketAddr) -> Result<Established, Failure> {
    let tcp = timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| Failure::Failed("TCP connect timed out".into()))?
        .map_err(|e| Failure::Failed(format!("TCP connect failed: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let identity = inner.identity.read().clone();
    let trust = inner.trust.read().clone();
    let verifier = PeerVerifier::new(trust, inner.admission.clone());
    let config = tls::client_config(&identity, verifier.clone())
        .map_err(|e| Failure::Failed(e.to_string()))?;
    // Peers are identified by node id; the name is required by TLS but not checked.
    let name = ServerName::try_from("aurum-peer").map_err(|e| Failure::Failed(e.to_string()))?;
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| slot_or(&verifier, "the TLS handshake", &e))?;
    let conn = stream.get_ref().1;
    let certs = conn.peer_certificates().map(|c| c.to_vec());
    let exporter = conn.export_keying_material([0u8; 32], EXPORTER_LABEL, None);
    established(Framed::new(TlsStream::from(stream), codec(inner)), certs, exporter)
}

async fn tls_inbound(inner: &Inner, tcp: TcpStream) -> Result<Established, Failure> {
    let _ = tcp.set_nodelay(true);
    let identity = inner.identity.read().clone();
    let trust = inner.trust.read().clone();
    let verifier = PeerVerifier::new(trust, inner.admission.clone());
    let config = tls::server_config(&identity, verifier.clone())
        .map_err(|e| Failure::Failed(e.to_string()))?;
    let stream = TlsAcceptor::from(Arc::new(config))
        .accept(tcp)
        .await
        .map_err(|e| slot_or(&verifier, "the TLS handshake", &e))?;
    let conn = stream.get_ref().1;
    let certs = conn.peer_certificates().map(|c| c.to_vec());
    let exporter = conn.export_keying_material([0u8; 32], EXPORTER_LABEL, None);
    established(Framed::new(TlsStream::from(stream), codec(inner)), certs, exporter)
}

/// Exchanges Hellos: each side proves it holds the node key named in its certificate by
/// signing the TLS exporter, which is unique to this session (so a Hello cannot be replayed).
async fn hello(inner: &Inner, est: Established) -> Result<Admitted, Failure> {
    let Established { mut transport, cert, cert_id, exporter } = est;
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
    Ok(Admitted { transport, peer: cert_id, cert })
}

/// TLS handshake and Hello for an outbound connection.
async fn connect(inner: &Inner, addr: SocketAddr) -> Result<Admitted, Failure> {
    let est = tls_outbound(inner, addr).await?;
    timeout(HANDSHAKE_TIMEOUT, hello(inner, est))
        .await
        .map_err(|_| Failure::Failed("no Hello within 10 s".into()))?
}

/// TLS handshake and Hello for an inbound connection.
async fn accept(inner: &Inner, tcp: TcpStream) -> Result<Admitted, Failure> {
    let est = timeout(HANDSHAKE_TIMEOUT, tls_inbound(inner, tcp))
        .await
        .map_err(|_| Failure::Failed("TLS handshake timed out".into()))??;
    timeout(HANDSHAKE_TIMEOUT, hello(inner, est))
        .await
        .map_err(|_| Failure::Failed("no Hello within 10 s".into()))?
}

/// Registers an admitted connection and runs it until it closes. Returns `false` if it was a
/// duplicate of a preferred connection and was closed at once.
async fn run(inner: Arc<Inner>, admitted: Admitted, addr: SocketAddr, outbound: bool) -> bool {
    let Admitted { transport, peer, cert } = admitted;
    let cancel = inner.shutdown.child_token();
    if cancel.is_cancelled() {
        return false;
    }
    let (tx, mut rx) = mpsc::channel::<(Arc<str>, Bytes)>(SEND_QUEUE);
    let queued: Arc<parking_lot::Mutex<std::collections::HashMap<Arc<str>, usize>>> =
        Arc::default();
    let (urgent, mut urgent_rx) = mpsc::channel::<Bytes>(SEND_QUEUE);
    let conn_id = inner.next_conn_id();
    let dialer = if outbound { inner.node_id } else { peer };
    let entry = PeerConn {
        conn_id,
        tx,
        urgent,
        queued: Arc::clone(&queued),
        cancel: cancel.clone(),
        addr,
        dialer,
        cert: cert.describe(),
        since: Instant::now(),
    };
    if !inner.register(peer, entry) {
        debug!(
            "closing duplicate connection to {} at {addr}; keeping the other one",
            short_id(&peer)
        );
        return false;
    }
    let direction = if outbound { "outbound" } else { "inbound" };
    info!("connected to peer {} at {addr} ({direction}, {})", short_id(&peer), cert.describe());
    let (mut sink, mut stream) = transport.split();

    let reader = async {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                item = stream.next() => match item {
                    Some(Ok(body)) => inner.dispatch(peer, body.freeze()),
                    Some(Err(e)) => {
                        if e.get_ref().is_some_and(|i| i.is::<LengthDelimitedCodecError>()) {
                            inner.counters.oversized.fetch_add(1, Relaxed);
                            warn!(
                                "closing connection to peer {} at {addr}: it sent a frame over max_frame_bytes ({})",
                                short_id(&peer),
                                inner.max_frame
                            );
                        } else {
                            debug!("connection to peer {} at {addr} failed: {e}", short_id(&peer));
                        }
                        break;
                    }
                    None => break,
                },
            }
        }
        cancel.cancel();
    };
    let writer = async {
        'outer: loop {
            // Consensus frames first, then bulk; whatever is queued goes out in one flush.
            // A bulk frame leaving the queue frees its group's share.
            let take = |item: (Arc<str>, Bytes)| {
                if let Some(n) = queued.lock().get_mut(&item.0) {
                    *n = n.saturating_sub(1);
                }
                item.1
            };
            let first = tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                msg = urgent_rx.recv() => msg,
                msg = rx.recv() => msg.map(take),
            };
            let Some(body) = first else { break };
            if sink.feed(body).await.is_err() {
                break;
            }
            // At most this many frames per flush, so a steady flood still gets flushed.
            for _ in 0..256 {
                let next = match urgent_rx.try_recv() {
                    Ok(body) => body,
                    Err(_) => match rx.try_recv() {
                        Ok(item) => take(item),
                        Err(_) => break,
                    },
                };
                if sink.feed(next).await.is_err() {
                    break 'outer;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        cancel.cancel();
        // Sends close_notify; bounded so a stuck peer cannot hold the task.
        let _ = timeout(Duration::from_secs(1), sink.close()).await;
    };
    tokio::join!(reader, writer);
    inner.unregister(&peer, conn_id);
    info!("disconnected from peer {} at {addr}", short_id(&peer));
    true
}

pub(crate) async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        tokio::select! {
            _ = inner.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, addr)) => {
                    tokio::spawn(inbound(inner.clone(), tcp, addr));
                }
                Err(e) => {
                    warn!("accepting a connection on {} failed: {e}", inner.local_addr);
                    sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

async fn inbound(inner: Arc<Inner>, tcp: TcpStream, addr: SocketAddr) {
    let admitted = tokio::select! {
        _ = inner.shutdown.cancelled() => return,
        r = accept(&inner, tcp) => r,
    };
    match admitted {
        Ok(admitted) => {
            run(inner, admitted, addr, false).await;
        }
        Err(Failure::Refused { reason, .. }) => inner.refused(addr, &reason),
        Err(Failure::Failed(reason)) => {
            // Strangers probing the port are not worth a WARN; a peer refusing us is.
            if reason.contains("refused our") {
                inner.failed(addr, &reason);
            } else {
                debug!("inbound connection from {addr}: {reason}");
            }
        }
    }
}

/// Keeps `addr` connected: dial, run, and redial with backoff (100 ms doubling to 5 s).
pub(crate) async fn dial_loop(inner: Arc<Inner>, addr: SocketAddr) {
    let mut backoff = MIN_BACKOFF;
    loop {
        if inner.shutdown.is_cancelled() {
            return;
        }
        // While the node behind this address is connected (perhaps through its own dial to
        // us), there is nothing to do; wait for the peer table to change.
        let known = inner.addr_ids.lock().get(&addr).copied();
        if let Some(id) = known {
            if id == inner.node_id {
                warn!("not dialing {addr}: it is this node's own address");
                return;
            }
            if inner.is_connected(&id) {
                let changed = inner.peers_changed.notified();
                tokio::select! {
                    _ = inner.shutdown.cancelled() => return,
                    _ = changed => {}
                    _ = sleep(Duration::from_secs(1)) => {}
                }
                backoff = MIN_BACKOFF;
                continue;
            }
        }
        let attempt = tokio::select! {
            _ = inner.shutdown.cancelled() => return,
            r = connect(&inner, addr) => r,
        };
        match attempt {
            Ok(admitted) => {
                inner.addr_ids.lock().insert(addr, admitted.peer);
                let started = Instant::now();
                if run(inner.clone(), admitted, addr, true).await
                    && started.elapsed() >= STABLE_AFTER
                {
                    backoff = MIN_BACKOFF;
                }
            }
            Err(Failure::Refused { reason, node_id }) => {
                if let Some(id) = node_id {
                    inner.addr_ids.lock().insert(addr, id);
                }
                inner.refused(addr, &reason);
            }
            Err(Failure::Failed(reason)) => inner.failed(addr, &reason),
        }
        tokio::select! {
            _ = inner.shutdown.cancelled() => return,
            _ = sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
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
}
