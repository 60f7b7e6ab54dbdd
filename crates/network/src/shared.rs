//! The state shared by the [`crate::Network`] handle, the listener, the dialers and the links:
//! the peer table (with who is gone and why), inbound routing, outbound queueing, counters and
//! rate-limited log lines. It knows nothing of sockets, so every other module may use it.

use crate::cert::short_id;
use crate::frame;
use crate::queue::{Lane, Refused, SendQueue};
use crate::tls::{Identity, Trust};
use crate::verify::Admission;
use crate::{Module, NodeId, TlsFiles};
use aurum_crypto::{CryptoSuite, KeyPair};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// Messages queued per `(group, module)` handler before further ones are dropped.
pub(crate) const INBOUND_QUEUE: usize = 65_536;
/// Refusal lines kept for [`crate::Network::refusals`].
const REFUSALS_KEPT: usize = 64;
/// The same refusal reason is logged at WARN at most once per this window (then at DEBUG), so
/// a peer retrying every second does not flood the log.
const LOG_REPEAT_WINDOW: Duration = Duration::from_secs(30);
/// Two connections to one node registered within this time of each other are taken as a
/// mutual dial; a later one means the peer saw the old one die (it dials only when it has no
/// connection to us), so the old one is stale.
const MUTUAL_DIAL_WINDOW: Duration = Duration::from_secs(3);

/// A message received from a peer on a registered `(group, module)` route.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The peer it came from (authenticated by the link).
    pub from: NodeId,
    /// The module's payload.
    pub payload: Bytes,
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Frames not sent because the peer's send queue had no room for them.
    pub dropped_outbound: u64,
    /// Inbound messages dropped because the handler's queue was full.
    pub dropped_inbound: u64,
    /// Inbound messages for a `(group, module)` with no registered handler, or malformed.
    pub unrouted: u64,
    /// Peers refused (handshake, Hello or list reload).
    pub refused: u64,
    /// Connections closed because the peer sent a frame over `max_frame_bytes`.
    pub oversized: u64,
    /// Links declared gone because nothing arrived within `peer_timeout`.
    pub timeouts: u64,
    /// The most bytes one lane of one peer's send queue has held.
    pub max_queued_bytes: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub dropped_outbound: AtomicU64,
    pub dropped_inbound: AtomicU64,
    pub unrouted: AtomicU64,
    pub refused: AtomicU64,
    pub oversized: AtomicU64,
    pub timeouts: AtomicU64,
    pub max_queued_bytes: AtomicU64,
}

/// A live, admitted connection in the peer table.
pub(crate) struct PeerConn {
    pub conn_id: u64,
    /// Its outbound lanes (see [`crate::queue`]).
    pub queue: Arc<SendQueue>,
    pub cancel: CancellationToken,
    pub addr: SocketAddr,
    /// Which node dialed this connection; decides which of two duplicates survives.
    pub dialer: NodeId,
    /// The peer certificate, described for log lines.
    pub cert: String,
    pub since: Instant,
    /// Last keepalive round trip in microseconds; 0 until the first pong.
    pub rtt_us: Arc<AtomicU64>,
}

/// Why a peer's last link ended, kept until it comes back.
pub(crate) struct Gone {
    pub since: Instant,
    pub reason: String,
}

/// What [`Inner::register`] made of a new connection.
pub(crate) enum Registered {
    /// The first connection to this peer since start.
    First,
    /// The peer is back after being gone.
    Back(Gone),
    /// It replaced a live connection to the peer (which is closing).
    Replaced,
    /// A duplicate of a preferred connection: close it.
    Duplicate,
}

/// The configured limits and timeouts, read at start.
pub(crate) struct Limits {
    pub max_frame: usize,
    pub send_queue_bytes: usize,
    pub keepalive: Duration,
    pub peer_timeout: Duration,
}

/// State shared by the handle, the listener, the dialers and the connections.
pub(crate) struct Inner {
    pub node_id: NodeId,
    pub local_addr: SocketAddr,
    pub node_key: KeyPair,
    pub suite: Arc<dyn CryptoSuite>,
    pub tls_files: TlsFiles,
    pub limits: Limits,
    pub identity: RwLock<Arc<Identity>>,
    pub trust: RwLock<Arc<Trust>>,
    pub admission: Arc<Admission>,
    pub peers: RwLock<HashMap<NodeId, PeerConn>>,
    /// Peers whose last link ended, with when and why.
    pub gone: Mutex<HashMap<NodeId, Gone>>,
    /// Woken whenever the peer table changes (dialers wait on it while their node is connected).
    pub peers_changed: Notify,
    pub routes: RwLock<HashMap<String, HashMap<Module, mpsc::Sender<Inbound>>>>,
    pub dialing: Mutex<HashSet<SocketAddr>>,
    /// Node id last seen behind each dialed address.
    pub addr_ids: Mutex<HashMap<SocketAddr, NodeId>>,
    pub shutdown: CancellationToken,
    pub tasks: Mutex<Vec<JoinHandle<()>>>,
    pub runtime: tokio::runtime::Handle,
    pub refusals: Mutex<VecDeque<String>>,
    pub log_times: Mutex<HashMap<String, Instant>>,
    pub next_conn: AtomicU64,
    pub counters: Counters,
}

impl Inner {
    /// Records and logs that we refused a peer: `refused peer <addr>: <reason>`.
    pub fn refused(&self, addr: SocketAddr, reason: &str) {
        self.counters.refused.fetch_add(1, Relaxed);
        aurum_metrics::net::refused(reason);
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

    /// Logs a failure to link with a peer that was not our refusal (unreachable, or it refused
    /// us), at WARN once per window per reason and at DEBUG otherwise; `failing` is how long
    /// attempts to reach it have failed (zero if not known).
    pub fn failed(&self, addr: SocketAddr, reason: &str, failing: Duration) {
        let line = if failing.is_zero() {
            format!("peer {addr}: {reason}")
        } else {
            format!(
                "peer {addr}: {reason} (unreachable for {} s; check that it runs and that this \
                 node can reach it)",
                failing.as_secs()
            )
        };
        if self.first_in_window(reason) {
            warn!("{line}");
        } else {
            debug!("{line}");
        }
    }

    /// `true` at most once per [`LOG_REPEAT_WINDOW`] for one `key`: gates repeated WARN lines.
    pub fn first_in_window(&self, key: &str) -> bool {
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

    /// Adds a connection to the peer table, unless it is a duplicate to be closed.
    ///
    /// With two connections to one node from a mutual dial, both ends keep the one dialed by
    /// the smaller node id, so they agree without talking. Otherwise the newer connection
    /// replaces the older one, which may be a dead link not yet noticed.
    pub fn register(&self, peer: NodeId, conn: PeerConn) -> Registered {
        let mut peers = self.peers.write();
        let outcome = if let Some(old) = peers.get(&peer) {
            let preferred = self.node_id.min(peer);
            let mutual = old.since.elapsed() < MUTUAL_DIAL_WINDOW;
            if mutual && old.dialer == preferred && conn.dialer != preferred {
                return Registered::Duplicate;
            }
            debug!(
                "replacing connection to {} at {} by one at {}",
                short_id(&peer),
                old.addr,
                conn.addr
            );
            old.cancel.cancel();
            Registered::Replaced
        } else {
            match self.gone.lock().remove(&peer) {
                Some(gone) => Registered::Back(gone),
                None => Registered::First,
            }
        };
        peers.insert(peer, conn);
        drop(peers);
        self.peers_changed.notify_waiters();
        outcome
    }

    /// Removes the connection `conn_id` from the peer table if it is still the peer's; `true`
    /// if it was (the peer is then gone, for `reason`).
    pub fn unregister(&self, peer: &NodeId, conn_id: u64, reason: &str) -> bool {
        let mut peers = self.peers.write();
        let removed = peers.get(peer).is_some_and(|c| c.conn_id == conn_id);
        if removed {
            if let Some(conn) = peers.remove(peer) {
                conn.queue.close();
            }
            self.gone
                .lock()
                .insert(*peer, Gone { since: Instant::now(), reason: reason.to_string() });
        }
        drop(peers);
        self.peers_changed.notify_waiters();
        removed
    }

    /// Logs the one line saying a peer is linked: first time, or back after being gone.
    pub fn log_linked(&self, peer: &NodeId, addr: SocketAddr, how: &Registered, desc: &str) {
        match how {
            Registered::First => info!("connected to peer {} at {addr} ({desc})", short_id(peer)),
            Registered::Back(gone) => info!(
                "peer {} is back at {addr} after {:.1} s ({desc}); it had gone: {}",
                short_id(peer),
                gone.since.elapsed().as_secs_f64(),
                gone.reason
            ),
            Registered::Replaced => {
                debug!("new connection to peer {} at {addr} ({desc})", short_id(peer))
            }
            Registered::Duplicate => {}
        }
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
        let len = msg.payload.len();
        match tx.try_send(Inbound { from, payload: msg.payload }) {
            Ok(()) => aurum_metrics::net::received(metric_lane(module), len),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters.dropped_inbound.fetch_add(1, Relaxed);
                aurum_metrics::net::dropped(false);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.counters.unrouted.fetch_add(1, Relaxed);
            }
        }
    }

    /// Encodes a routed frame body, or says (at WARN: a caller bug or a misconfigured limit)
    /// why it cannot be sent.
    pub fn encode(&self, group: &str, module: Module, payload: &[u8]) -> Option<Bytes> {
        let Some(body) = frame::encode_message(group, module, payload) else {
            warn!(
                "not sending to group {group:?}: its id is longer than {} bytes",
                frame::MAX_GROUP_LEN
            );
            return None;
        };
        if body.len() > self.limits.max_frame {
            warn!(
                "not sending a {} byte {module:?} frame of group {group:?}: it is over \
                 [p2p] max_frame_bytes ({}); raise it on every node or make the message smaller",
                body.len(),
                self.limits.max_frame
            );
            return None;
        }
        Some(body)
    }

    /// Queues a frame body on its lane of `conn`; `false` (counted) if there is no room.
    pub fn queue(&self, conn: &PeerConn, group: &str, module: Module, body: Bytes) -> bool {
        let lane = if module == Module::Consensus { Lane::Consensus } else { Lane::Bulk };
        let len = body.len();
        match conn.queue.push(lane, group, body) {
            Ok(held) => {
                self.counters.max_queued_bytes.fetch_max(held as u64, Relaxed);
                aurum_metrics::net::sent(metric_lane(module), len);
                true
            }
            Err(Refused::LaneFull | Refused::GroupShare) => {
                self.counters.dropped_outbound.fetch_add(1, Relaxed);
                aurum_metrics::net::dropped(true);
                false
            }
            Err(Refused::Closed) => false,
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> NetworkStats {
        let c = &self.counters;
        NetworkStats {
            dropped_outbound: c.dropped_outbound.load(Relaxed),
            dropped_inbound: c.dropped_inbound.load(Relaxed),
            unrouted: c.unrouted.load(Relaxed),
            refused: c.refused.load(Relaxed),
            oversized: c.oversized.load(Relaxed),
            timeouts: c.timeouts.load(Relaxed),
            max_queued_bytes: c.max_queued_bytes.load(Relaxed),
        }
    }
}

/// The lane of a module's frames, as the metrics name it.
fn metric_lane(module: Module) -> aurum_metrics::net::Lane {
    match module {
        Module::Consensus => aurum_metrics::net::Lane::Consensus,
        _ => aurum_metrics::net::Lane::Bulk,
    }
}
