//! [`Network`]: the public handle, the shared state behind it, the listener and the dialers.

use crate::cert::short_id;
use crate::conn;
use crate::error::NetworkError;
use crate::frame;
use crate::tls::{Identity, Trust};
use crate::verify::Admission;
use crate::{Module, NetworkConfig, NodeId, TlsFiles};
use aurum_crypto::{CryptoSuite, KeyPair};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// Frames queued per peer before further sends to it are dropped.
pub(crate) const SEND_QUEUE: usize = 4096;
/// Bulk frames one group may have queued to one peer at once (half the lane).
pub(crate) const GROUP_SHARE: usize = SEND_QUEUE / 2;
/// Messages queued per `(group, module)` handler before further ones are dropped.
const INBOUND_QUEUE: usize = 65_536;
/// Refusal lines kept for [`Network::refusals`].
const REFUSALS_KEPT: usize = 64;
/// The same refusal reason is logged at WARN at most once per this window (then at DEBUG), so
/// a peer retrying every few seconds does not flood the log.
const LOG_REPEAT_WINDOW: Duration = Duration::from_secs(30);

/// A message received from a peer on a registered `(group, module)` route.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub from: NodeId,
    pub payload: Bytes,
}

/// A connected peer, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub node_id: NodeId,
    pub addr: SocketAddr,
    /// `true` if this node dialed the connection.
    pub outbound: bool,
    /// The peer's certificate as log lines describe it: subject, node id, serial, issuer.
    pub certificate: String,
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Frames not sent because the peer's send queue was full.
    pub dropped_outbound: u64,
    /// Inbound messages dropped because the handler's queue was full.
    pub dropped_inbound: u64,
    /// Inbound messages for a `(group, module)` with no registered handler, or malformed.
    pub unrouted: u64,
    /// Peers refused (handshake, Hello or list reload).
    pub refused: u64,
    /// Connections closed because the peer sent a frame over `max_frame_bytes`.
    pub oversized: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub dropped_outbound: AtomicU64,
    pub dropped_inbound: AtomicU64,
    pub unrouted: AtomicU64,
    pub refused: AtomicU64,
    pub oversized: AtomicU64,
}

/// A live, admitted connection in the peer table.
pub(crate) struct PeerConn {
    pub conn_id: u64,
    /// Bulk lane (tx gossip, sync), each frame with its group.
    pub tx: mpsc::Sender<(Arc<str>, Bytes)>,
    /// Frames each group has queued on the bulk lane: no group may hold more than
    /// [`GROUP_SHARE`] of it, so one flooded group leaves room for the others.
    pub queued: Arc<Mutex<HashMap<Arc<str>, usize>>>,
    /// Consensus lane, written first: a flood of gossip (of any group) never delays or
    /// crowds out votes.
    pub urgent: mpsc::Sender<Bytes>,
    pub cancel: CancellationToken,
    pub addr: SocketAddr,
    /// Which node dialed this connection; decides which of two duplicates survives.
    pub dialer: NodeId,
    /// The peer certificate, described for log lines.
    pub cert: String,
    pub since: Instant,
}

/// Two connections to one node registered within this time of each other are taken as a
/// mutual dial; a later one means the peer saw the old one die (it dials only when it has no
/// connection to us), so the old one is stale.
const MUTUAL_DIAL_WINDOW: Duration = Duration::from_secs(3);

/// State shared by the handle, the listener, the dialers and the connections.
pub(crate) struct Inner {
    pub node_id: NodeId,
    pub local_addr: SocketAddr,
    pub node_key: KeyPair,
    pub suite: Arc<dyn CryptoSuite>,
    pub tls_files: TlsFiles,
    pub max_frame: usize,
    pub identity: RwLock<Arc<Identity>>,
    pub trust: RwLock<Arc<Trust>>,
    pub admission: Arc<Admission>,
    pub peers: RwLock<HashMap<NodeId, PeerConn>>,
    /// Woken whenever the peer table changes (dialers wait on it while their node is connected).
    pub peers_changed: Notify,
    routes: RwLock<HashMap<String, HashMap<Module, mpsc::Sender<Inbound>>>>,
    dialing: Mutex<HashSet<SocketAddr>>,
    /// Node id last seen behind each dialed address.
    pub addr_ids: Mutex<HashMap<SocketAddr, NodeId>>,
    pub shutdown: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    runtime: tokio::runtime::Handle,
    refusals: Mutex<VecDeque<String>>,
    log_times: Mutex<HashMap<String, Instant>>,
    next_conn: AtomicU64,
    pub counters: Counters,
}

impl Inner {
    /// Records and logs that we refused a peer: `refused peer <addr>: <reason>`.
    pub fn refused(&self, addr: SocketAddr, reason: &str) {
        self.counters.refused.fetch_add(1, Relaxed);
        let line = format!("refused peer {addr}: {reason}");
        {
            let mut kept = self.refusals.lock();
            if kept.len() == REFUSALS_KEPT {
                kept.pop_front();
            }
            kept.push_back(line.clone());
        }
        if self.first_in_window(reason) {
            warn!("{line}");
        } else {
            debug!("{line}");
        }
    }

    /// Logs a failure to reach or keep a peer that was not our refusal (e.g. the peer refused
    /// us), at WARN once per window per message.
    pub fn failed(&self, addr: SocketAddr, reason: &str) {
        if self.first_in_window(reason) {
            warn!("peer {addr}: {reason}");
        } else {
            debug!("peer {addr}: {reason}");
        }
    }

    fn first_in_window(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut times = self.log_times.lock();
        if times.len() > 1024 {
            times.retain(|_, t| now.duration_since(*t) < LOG_REPEAT_WINDOW);
        }
        match times.get(key) {
            Some(t) if now.duration_since(*t) < LOG_REPEAT_WINDOW => false,
            _ => {
                times.insert(key.to_string(), now);
                true
            }
        }
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Relaxed)
    }

    pub fn is_connected(&self, id: &NodeId) -> bool {
        self.peers.read().contains_key(id)
    }

    /// Adds a connection to the peer table; `false` if it is a duplicate to be closed.
    ///
    /// With two connections to one node from a mutual dial, both ends keep the one dialed by
    /// the smaller node id, so they agree without talking. Otherwise the newer connection
    /// replaces the older one, which may be a dead link not yet noticed.
    pub fn register(&self, peer: NodeId, conn: PeerConn) -> bool {
        let mut peers = self.peers.write();
        if let Some(old) = peers.get(&peer) {
            let preferred = self.node_id.min(peer);
            let mutual = old.since.elapsed() < MUTUAL_DIAL_WINDOW;
            if mutual && old.dialer == preferred && conn.dialer != preferred {
                return false;
            }
            debug!(
                "replacing connection to {} at {} by one at {}",
                short_id(&peer),
                old.addr,
                conn.addr
            );
            old.cancel.cancel();
        }
        peers.insert(peer, conn);
        drop(peers);
        self.peers_changed.notify_waiters();
        true
    }

    pub fn unregister(&self, peer: &NodeId, conn_id: u64) {
        let mut peers = self.peers.write();
        if peers.get(peer).is_some_and(|c| c.conn_id == conn_id) {
            peers.remove(peer);
        }
        drop(peers);
        self.peers_changed.notify_waiters();
    }

    /// Hands an inbound frame body to its `(group, module)` handler.
    pub fn dispatch(&self, from: NodeId, body: Bytes) {
        let msg = match frame::decode_message(body) {
            Ok(m) => m,
            Err(e) => {
                self.counters.unrouted.fetch_add(1, Relaxed);
                debug!("dropping malformed frame from {}: {e}", short_id(&from));
                return;
            }
        };
        let Ok(module) = Module::try_from(msg.module) else {
            self.counters.unrouted.fetch_add(1, Relaxed);
            debug!("dropping frame for unknown module {} from {}", msg.module, short_id(&from));
            return;
        };
        let routes = self.routes.read();
        let Some(tx) = routes.get(&msg.group).and_then(|g| g.get(&module)) else {
            self.counters.unrouted.fetch_add(1, Relaxed);
            debug!("no handler for group {:?} module {module:?}; dropping frame", msg.group);
            return;
        };
        match tx.try_send(Inbound { from, payload: msg.payload }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters.dropped_inbound.fetch_add(1, Relaxed);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.counters.unrouted.fetch_add(1, Relaxed);
            }
        }
    }

    fn encode(&self, group: &str, module: Module, payload: &[u8]) -> Option<Bytes> {
        let Some(body) = frame::encode_message(group, module, payload) else {
            warn!("not sending: group id {group:?} is longer than {} bytes", frame::MAX_GROUP_LEN);
            return None;
        };
        if body.len() > self.max_frame {
            warn!(
                "not sending a {} byte frame for group {group:?} module {module:?}: over max_frame_bytes ({})",
                body.len(),
                self.max_frame
            );
            return None;
        }
        Some(body)
    }

    fn queue(&self, conn: &PeerConn, group: &str, module: Module, body: Bytes) -> bool {
        let full = || {
            self.counters.dropped_outbound.fetch_add(1, Relaxed);
            false
        };
        if module == Module::Consensus {
            return match conn.urgent.try_send(body) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => full(),
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            };
        }
        let group: Arc<str> = {
            let mut queued = conn.queued.lock();
            let key = match queued.get_key_value(group) {
                Some((k, _)) => Arc::clone(k),
                None => Arc::from(group),
            };
            let entry = queued.entry(Arc::clone(&key)).or_insert(0);
            if *entry >= GROUP_SHARE {
                return full();
            }
            *entry += 1;
            key
        };
        match conn.tx.try_send((Arc::clone(&group), body)) {
            Ok(()) => true,
            Err(e) => {
                if let Some(n) = conn.queued.lock().get_mut(&group) {
                    *n = n.saturating_sub(1);
                }
                match e {
                    mpsc::error::TrySendError::Full(_) => full(),
                    mpsc::error::TrySendError::Closed(_) => false,
                }
            }
        }
    }

    fn spawn_dialer(self: &Arc<Self>, addr: SocketAddr) {
        if self.shutdown.is_cancelled() || !self.dialing.lock().insert(addr) {
            return;
        }
        let handle = self.runtime.spawn(conn::dial_loop(self.clone(), addr));
        self.tasks.lock().push(handle);
    }
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
            max_frame: config.max_frame_bytes,
            identity: RwLock::new(Arc::new(identity)),
            trust: RwLock::new(Arc::new(trust)),
            admission: Arc::new(Admission::new(node_id, config.blacklist, config.whitelist)),
            peers: RwLock::default(),
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
            counters: Counters::default(),
        });
        let accept = tokio::spawn(conn::accept_loop(inner.clone(), listener));
        inner.tasks.lock().push(accept);
        for addr in config.peers {
            inner.spawn_dialer(addr);
        }
        Ok(Network { inner })
    }

    pub fn node_id(&self) -> NodeId {
        self.inner.node_id
    }

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

    /// Queues a frame to one connected peer. `false` if the peer is not connected, its queue
    /// is full (the frame is dropped and counted) or the frame is over `max_frame_bytes`.
    /// Never blocks; callable from any thread.
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
        self.inner.spawn_dialer(addr);
    }

    /// The most recent refusal lines (at most 64), oldest first; each as logged at WARN,
    /// e.g. `refused peer 127.0.0.1:40123: certificate "node4" (…) … is blacklisted`.
    pub fn refusals(&self) -> Vec<String> {
        self.inner.refusals.lock().iter().cloned().collect()
    }

    pub fn stats(&self) -> NetworkStats {
        let c = &self.inner.counters;
        NetworkStats {
            dropped_outbound: c.dropped_outbound.load(Relaxed),
            dropped_inbound: c.dropped_inbound.load(Relaxed),
            unrouted: c.unrouted.load(Relaxed),
            refused: c.refused.load(Relaxed),
            oversized: c.oversized.load(Relaxed),
        }
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
