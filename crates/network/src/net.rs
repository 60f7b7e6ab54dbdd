//! [`Network`]: the public handle, the shared state behind it, the listener and the dialers.

use crate::cert::short_id;
use crate::conn;
use crate::error::NetworkError;
use crate::shared::{INBOUND_QUEUE, Inbound, Inner, Limits, NetworkStats};
use crate::tls::{Identity, Trust};
use crate::verify::Admission;
use crate::{Module, NetworkConfig, NodeId};
use aurum_crypto::{CryptoSuite, KeyPair};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// A connected peer, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's node id (its consensus public key).
    pub node_id: NodeId,
    /// The remote address of the connection.
    pub addr: SocketAddr,
    /// `true` if this node dialed the connection.
    pub outbound: bool,
    /// The peer's certificate as log lines describe it: subject, node id, serial, issuer.
    pub certificate: String,
    /// The last keepalive round trip; `None` until the first pong (or for a peer without
    /// keepalive).
    pub rtt: Option<Duration>,
    /// Bytes queued to this peer, both lanes together.
    pub queued_bytes: usize,
}

fn spawn_dialer(inner: &Arc<Inner>, addr: SocketAddr) {
    if inner.shutdown.is_cancelled() || !inner.dialing.lock().insert(addr) {
        return;
    }
    let handle = inner.runtime.spawn(conn::dial_loop(inner.clone(), addr));
    inner.tasks.lock().push(handle);
}

fn warn_own_chain(identity: &Identity, trust: &Trust) {
    if let Some(problem) = crate::verify::own_chain_problem(&identity.certified.cert, trust) {
        warn!("our own {problem}: peers that trust the same CAs will refuse this node");
    }
}

/// The peer-to-peer network of one node. Cheap to clone; all clones share one network.
/// Its tasks run until [`Network::shutdown`]; dropping the handles does not stop them.
#[derive(Clone)]
pub struct Network {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("node_id", &self.inner.node_id)
            .field("local_addr", &self.inner.local_addr)
            .finish_non_exhaustive()
    }
}

impl Network {
    /// Binds, loads the TLS files (clear error naming the file if unreadable or invalid, or if
    /// the node certificate's node id is not `node_key`'s public key) and starts dialing the
    /// configured peers. Must be called inside a tokio runtime.
    pub async fn start(
        config: NetworkConfig,
        node_key: KeyPair,
        suite: Arc<dyn CryptoSuite>,
    ) -> Result<Network, NetworkError> {
        if node_key.kind != suite.kind() {
            return Err(NetworkError::WrongSuite { key: node_key.kind, chain: suite.kind() });
        }
        config.check().map_err(NetworkError::BadConfig)?;
        let node_id = node_key.public();
        let identity = Identity::load(&config.tls, &node_id)?;
        let trust = Trust::load(&config.tls.ca_certs)?;
        warn_own_chain(&identity, &trust);
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| NetworkError::Bind { addr: config.listen, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| NetworkError::Bind { addr: config.listen, source })?;
        info!(
            "network listening on {local_addr} as node {} with {}; trusting {}",
            short_id(&node_id),
            identity.info.describe(),
            trust.names_list()
        );
        let inner = Arc::new(Inner {
            node_id,
            local_addr,
            node_key,
            suite,
            tls_files: config.tls,
            limits: Limits {
                max_frame: config.max_frame_bytes,
                send_queue_bytes: config.send_queue_bytes,
                keepalive: config.keepalive,
                peer_timeout: config.peer_timeout,
            },
            identity: RwLock::new(Arc::new(identity)),
            trust: RwLock::new(Arc::new(trust)),
            admission: Arc::new(Admission::new(node_id, config.blacklist, config.whitelist)),
            peers: RwLock::default(),
            gone: Mutex::default(),
            peers_changed: Notify::new(),
            routes: RwLock::default(),
            dialing: Mutex::default(),
            addr_ids: Mutex::default(),
            shutdown: CancellationToken::new(),
            tasks: Mutex::default(),
            runtime: tokio::runtime::Handle::current(),
            refusals: Mutex::default(),
            log_times: Mutex::default(),
            next_conn: AtomicU64::new(1),
            counters: Default::default(),
        });
        let accept = tokio::spawn(conn::accept_loop(inner.clone(), listener));
        inner.tasks.lock().push(accept);
        for addr in config.peers {
            spawn_dialer(&inner, addr);
        }
        Ok(Network { inner })
    }

    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        self.inner.node_id
    }

    /// The address the listener is bound to (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// The receiver of messages on `(group, module)`; registering again replaces the previous
    /// receiver. The queue holds 65,536 messages; further ones are dropped and counted.
    pub fn register(&self, group: &str, module: Module) -> mpsc::Receiver<Inbound> {
        let (tx, rx) = mpsc::channel(INBOUND_QUEUE);
        self.inner.routes.write().entry(group.to_string()).or_default().insert(module, tx);
        rx
    }

    /// Queues a frame to one connected peer: `Consensus` frames on the consensus lane, others on
    /// the bulk lane. `false` if the peer is not connected, the lane has no room (the frame is
    /// refused and counted; see [`NetworkConfig::send_queue_bytes`]) or the frame is over
    /// `max_frame_bytes`. Never blocks; callable from any thread.
    pub fn send(&self, to: &NodeId, group: &str, module: Module, payload: Bytes) -> bool {
        let Some(body) = self.inner.encode(group, module, &payload) else {
            return false;
        };
        match self.inner.peers.read().get(to) {
            Some(conn) => self.inner.queue(conn, group, module, body),
            None => false,
        }
    }

    /// Queues a frame to every connected peer (same rules as [`Network::send`]).
    pub fn broadcast(&self, group: &str, module: Module, payload: Bytes) {
        let Some(body) = self.inner.encode(group, module, &payload) else {
            return;
        };
        for conn in self.inner.peers.read().values() {
            self.inner.queue(conn, group, module, body.clone());
        }
    }

    /// Node ids with a live, admitted connection.
    pub fn connected(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = self.inner.peers.read().keys().copied().collect();
        ids.sort();
        ids
    }

    /// The connected peers with their address and certificate, sorted by node id.
    pub fn peers(&self) -> Vec<PeerInfo> {
        let mut peers: Vec<PeerInfo> = self
            .inner
            .peers
            .read()
            .iter()
            .map(|(id, c)| PeerInfo {
                node_id: *id,
                addr: c.addr,
                outbound: c.dialer == self.inner.node_id,
                certificate: c.cert.clone(),
                rtt: match c.rtt_us.load(Relaxed) {
                    0 => None,
                    us => Some(Duration::from_micros(us)),
                },
                queued_bytes: {
                    let (consensus, bulk) = c.queue.queued_bytes();
                    consensus + bulk
                },
            })
            .collect();
        peers.sort_by_key(|p| p.node_id);
        peers
    }

    /// Replaces the blacklist and whitelist. Takes effect for every new handshake at once and
    /// disconnects connected peers that the new lists refuse (each logged as a refusal).
    pub fn set_lists(&self, blacklist: Vec<NodeId>, whitelist: Option<Vec<NodeId>>) {
        self.inner.admission.set(blacklist, whitelist);
        for (id, conn) in self.inner.peers.read().iter() {
            if let Err(reason) = self.inner.admission.check(id) {
                self.inner.refused(
                    conn.addr,
                    &format!("{}: {reason}; disconnecting (lists reloaded)", conn.cert),
                );
                conn.cancel.cancel();
            }
        }
    }

    /// Re-reads this node's certificate chain and TLS key (and the trusted CA files) and uses
    /// them for every new handshake; live connections stay up. On error nothing changes.
    pub fn reload_identity(&self) -> Result<(), NetworkError> {
        let identity = Identity::load(&self.inner.tls_files, &self.inner.node_id)?;
        let trust = Trust::load(&self.inner.tls_files.ca_certs)?;
        info!(
            "reloaded TLS identity: now presenting {}; trusting {}",
            identity.info.describe(),
            trust.names_list()
        );
        warn_own_chain(&identity, &trust);
        *self.inner.identity.write() = Arc::new(identity);
        *self.inner.trust.write() = Arc::new(trust);
        Ok(())
    }

    /// Adds a peer address to dial and keep connected (no-op if already dialed).
    pub fn add_peer(&self, addr: SocketAddr) {
        spawn_dialer(&self.inner, addr);
    }

    /// The most recent refusal lines (at most 64), oldest first; each as logged at WARN,
    /// e.g. `refused peer 127.0.0.1:40123: certificate "node4" (…) … is blacklisted`.
    pub fn refusals(&self) -> Vec<String> {
        self.inner.refusals.lock().iter().cloned().collect()
    }

    /// Counters since start.
    pub fn stats(&self) -> NetworkStats {
        self.inner.stats()
    }

    /// Closes the listener (its port is free when this returns), stops dialing and closes all
    /// connections.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.inner.tasks.lock());
        for task in tasks {
            let _ = task.await;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.inner.peers.read().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        info!("network of node {} shut down", short_id(&self.inner.node_id));
    }
}
