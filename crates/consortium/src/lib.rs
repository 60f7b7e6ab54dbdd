//! Runs one group: the PBFT driver (consensus ↔ group ↔ peers), and among several nodes tx
//! gossip between pools and block sync for lagging nodes and observers.
//!
//! There is one sealing path: a chain of one sealer is PBFT with one validator (its quorum
//! is itself), driven by the same driver with no links ([`NoPeers`]). Among nodes, three
//! threads per group — driver, sync, gossip — are fed by tasks that forward the network's
//! inbound queues. Consensus and sync both commit through [`Group::commit_executed`], which
//! takes one height at a time, so whichever comes first wins and the other sees "already
//! committed".
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod driver;
pub mod hub;
mod peers;
mod sync;
pub mod wire;

pub use driver::CONSENSUS_NAMESPACE;
pub use peers::{NoPeers, PeerSender};

use alloy_primitives::Bytes;
use aurum_group::Group;
use aurum_network::{Module, Network, NodeId};
use aurum_storage::KvStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Messages queued per (group, module) for its thread before new ones are dropped.
const INBOUND_QUEUE: usize = 16_384;
/// Gossip batches are flushed this often.
const GOSSIP_EVERY: Duration = Duration::from_millis(5);
/// Txs and bytes per gossip frame at most (well under the network's frame limit; one tx is
/// at most 4 MiB).
const GOSSIP_BATCH: usize = 2000;
const GOSSIP_BYTES: usize = 8 << 20;
/// Client txs still waiting this long after they were gossiped are gossiped again (a peer
/// may have been down; an observer's txs reach sealers only this way), checked this often.
const REGOSSIP_AFTER: Duration = Duration::from_secs(3);
const REGOSSIP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Options {
    /// View timeout at view 0 (doubles per view change).
    pub base_timeout_ms: u64,
    /// A leader gathers txs this long after the last block unless a block is full.
    pub min_seal_interval: Duration,
    /// After a block with txs, a leader seals one empty block once this long passes with no
    /// new tx (None: never). Clients that confirm a tx by waiting for the block after it
    /// (ethers' `tx.wait()` polls on new blocks) then see one; never two empty in a row.
    pub idle_block: Option<Duration>,
}

/// Default of [`Options::idle_block`].
pub const DEFAULT_IDLE_BLOCK: Duration = Duration::from_millis(1000);

impl Default for Options {
    fn default() -> Self {
        Options {
            base_timeout_ms: 3000,
            min_seal_interval: Duration::from_millis(100),
            idle_block: Some(DEFAULT_IDLE_BLOCK),
        }
    }
}

/// One message from a peer: who sent it and its bytes.
pub type Inbound = (NodeId, Bytes);

/// The receiving ends a group's threads read: one queue per module.
pub struct InboundQueues {
    consensus: mpsc::Receiver<Inbound>,
    sync: mpsc::Receiver<Inbound>,
    gossip: mpsc::Receiver<Inbound>,
}

/// Where a node's links put what arrives for one group: the network's forwarders, or the
/// in-memory [`hub::Hub`]. Cheap to clone.
#[derive(Clone)]
pub struct InboundSender {
    consensus: mpsc::SyncSender<Inbound>,
    sync: mpsc::SyncSender<Inbound>,
    gossip: mpsc::SyncSender<Inbound>,
}

/// What became of a message handed to [`InboundSender::deliver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Queued,
    /// The module's queue is full: the message is dropped (peers resend what matters).
    Full,
    /// The group stopped, or the module is not one a group listens on.
    Closed,
}

impl InboundSender {
    /// Queues `payload` from `from` for the group's thread of `module`; never blocks.
    pub fn deliver(&self, from: NodeId, module: Module, payload: Bytes) -> Delivered {
        let queue = match module {
            Module::Consensus => &self.consensus,
            Module::Sync => &self.sync,
            Module::TxGossip => &self.gossip,
            #[allow(unreachable_patterns)]
            _ => return Delivered::Closed,
        };
        match queue.try_send((from, payload)) {
            Ok(()) => Delivered::Queued,
            Err(mpsc::TrySendError::Full(_)) => Delivered::Full,
            Err(mpsc::TrySendError::Disconnected(_)) => Delivered::Closed,
        }
    }
}

/// A group's inbound queues, [`INBOUND_QUEUE`] messages each.
pub fn inbound_queues() -> (InboundSender, InboundQueues) {
    let (consensus_tx, consensus) = mpsc::sync_channel(INBOUND_QUEUE);
    let (sync_tx, sync) = mpsc::sync_channel(INBOUND_QUEUE);
    let (gossip_tx, gossip) = mpsc::sync_channel(INBOUND_QUEUE);
    (
        InboundSender { consensus: consensus_tx, sync: sync_tx, gossip: gossip_tx },
        InboundQueues { consensus, sync, gossip },
    )
}

/// A group running among several nodes. Stop with [`Consortium::stop`].
pub struct Consortium {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    forwarders: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the consensus namespace: {0}")]
    Storage(#[from] aurum_storage::StorageError),
    #[error("cannot start a thread: {0}")]
    Thread(#[from] std::io::Error),
}

impl Consortium {
    /// Starts consensus (if this node seals) for `group`, and with a `network` also gossip
    /// and sync. With a network, call from inside a tokio runtime (the network's).
    pub fn start(
        group: Arc<Group>,
        network: Option<Network>,
        store: Arc<dyn KvStore>,
        options: Options,
    ) -> Result<Consortium, StartError> {
        let Some(network) = network else {
            // Alone: nothing arrives from peers, so the driver's inbound queue stays empty
            // (its sender is kept open for as long as the driver runs).
            let (open, queues) = inbound_queues();
            let links = Arc::new(NoPeers);
            let (stop, driver) =
                Consortium::start_driver(group, links, queues.consensus, open, store, options)?;
            return Ok(Consortium { stop, threads: vec![driver], forwarders: Vec::new() });
        };
        let (sender, queues) = inbound_queues();
        let forwarders = [Module::Consensus, Module::Sync, Module::TxGossip]
            .into_iter()
            .map(|module| forward(&network, group.id(), module, sender.clone()))
            .collect();
        let mut started =
            Consortium::start_linked(group, Arc::new(network), queues, store, options)?;
        started.forwarders = forwarders;
        Ok(started)
    }

    /// Starts the driver, sync and gossip threads of `group` over any links: `links` sends
    /// to peers and `queues` receives from them (see [`inbound_queues`]). The real node
    /// passes its [`Network`]; the in-process harness a [`hub::Hub`] link.
    pub fn start_linked(
        group: Arc<Group>,
        links: Arc<dyn PeerSender>,
        queues: InboundQueues,
        store: Arc<dyn KvStore>,
        options: Options,
    ) -> Result<Consortium, StartError> {
        group.pool().enable_gossip();
        let InboundQueues { consensus, sync, gossip: gossip_rx } = queues;
        let (stop, driver) = Consortium::start_driver(
            Arc::clone(&group),
            Arc::clone(&links),
            consensus,
            (),
            store,
            options,
        )?;
        let id = group.id().to_string();
        let mut threads = vec![driver];
        let syncer = sync::Sync::new(Arc::clone(&group), Arc::clone(&links));
        let s = Arc::clone(&stop);
        threads.push(
            std::thread::Builder::new()
                .name(format!("sync-{id}"))
                .spawn(move || syncer.run(sync, s))?,
        );
        let s = Arc::clone(&stop);
        threads.push(
            std::thread::Builder::new()
                .name(format!("gossip-{id}"))
                .spawn(move || gossip(group, links, gossip_rx, s))?,
        );
        Ok(Consortium { stop, threads, forwarders: Vec::new() })
    }

    /// The PBFT driver's thread; `keep` is held by it for as long as it runs.
    fn start_driver<K: Send + 'static>(
        group: Arc<Group>,
        links: Arc<dyn PeerSender>,
        consensus: mpsc::Receiver<Inbound>,
        keep: K,
        store: Arc<dyn KvStore>,
        options: Options,
    ) -> Result<(Arc<AtomicBool>, JoinHandle<()>), StartError> {
        store.ensure_namespace(CONSENSUS_NAMESPACE)?;
        // Votes are signed with the key the group was opened with.
        let key = group.node_key().clone();
        let stop = Arc::new(AtomicBool::new(false));
        let name = format!("pbft-{}", group.id());
        let driver = driver::Driver::new(group, links, store, key, options);
        let s = Arc::clone(&stop);
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            let _keep = keep;
            driver.run(consensus, s)
        })?;
        Ok((stop, thread))
    }

    /// Stops the threads; a block being committed finishes first.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        for f in &self.forwarders {
            f.abort();
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// The group's other members (sealers and observers, as of its head): only they get the
/// group's gossip and sync traffic, and only theirs is taken. Cached per head.
pub(crate) struct Members {
    group: Arc<Group>,
    head: Option<u64>,
    ids: Vec<NodeId>,
}

impl Members {
    pub(crate) fn new(group: Arc<Group>) -> Self {
        Members { group, head: None, ids: Vec::new() }
    }

    pub(crate) fn get(&mut self) -> &[NodeId] {
        let head = self.group.ledger().head_number().unwrap_or(0);
        if self.head != Some(head) {
            let me = self.group.node_id();
            match self.group.ledger().consensus_nodes_at(head) {
                Ok(list) => {
                    self.ids = list
                        .nodes
                        .iter()
                        .map(|n| aurum_crypto::PublicKey(n.node_id.0))
                        .filter(|id| *id != me)
                        .collect();
                    self.head = Some(head);
                }
                Err(e) => {
                    tracing::error!(group = self.group.id(), error = %e, "reading the node list")
                }
            }
        }
        &self.ids
    }

    pub(crate) fn contains(&mut self, id: &NodeId) -> bool {
        self.get().contains(id)
    }

    /// Sends to every member (connected or not: the network drops what it cannot deliver).
    pub(crate) fn send_all(
        &mut self,
        network: &dyn PeerSender,
        module: Module,
        payload: bytes::Bytes,
    ) {
        let group = Arc::clone(&self.group);
        for id in self.get() {
            network.send(id, group.id(), module, payload.clone());
        }
    }
}

/// Moves one (group, module) inbound queue of the network onto the group's thread.
fn forward(
    network: &Network,
    group: &str,
    module: Module,
    to: InboundSender,
) -> tokio::task::JoinHandle<()> {
    let mut inbound = network.register(group, module);
    tokio::spawn(async move {
        let mut dropped = 0u64;
        while let Some(m) = inbound.recv().await {
            match to.deliver(m.from, module, Bytes::from(m.payload)) {
                Delivered::Queued => {}
                // A busy thread sheds load (peers resend what matters) rather than queue
                // without bound.
                Delivered::Full => {
                    dropped += 1;
                    if dropped.is_power_of_two() {
                        tracing::warn!(?module, dropped, "inbound queue full: dropping messages");
                    }
                }
                Delivered::Closed => break,
            }
        }
    })
}

/// Sends client txs to every peer in batches; admits peers' batches (signatures checked in
/// parallel, once).
fn gossip(
    group: Arc<Group>,
    network: Arc<dyn PeerSender>,
    inbound: mpsc::Receiver<Inbound>,
    stop: Arc<AtomicBool>,
) {
    let mut last_regossip = std::time::Instant::now();
    let mut members = Members::new(Arc::clone(&group));
    while !stop.load(Ordering::Acquire) {
        match inbound.recv_timeout(GOSSIP_EVERY) {
            // Txs from outside the group are not the group's business.
            Ok((from, _)) if !members.contains(&from) => {}
            Ok((from, payload)) => match wire::decode_tx_batch(&payload) {
                Ok(raw) => {
                    let txs = raw
                        .iter()
                        .filter_map(|b| aurum_primitives::Transaction::decode(b).ok())
                        .collect();
                    // Counted against the sending peer's share, not local clients'.
                    group.pool().submit_gossip(std::sync::Arc::from(from.0.as_slice()), txs);
                }
                Err(e) => {
                    tracing::debug!(group = group.id(), peer = %from, error = %e, "bad gossip")
                }
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let mut out = group.pool().take_gossip();
        if last_regossip.elapsed() >= REGOSSIP_EVERY {
            last_regossip = std::time::Instant::now();
            out.extend(group.pool().regossip(REGOSSIP_AFTER, GOSSIP_BATCH));
        }
        let mut batch: Vec<Bytes> = Vec::new();
        let mut bytes = 0;
        for tx in out {
            let raw = Bytes::from(tx.tx.encode());
            if !batch.is_empty()
                && (batch.len() >= GOSSIP_BATCH || bytes + raw.len() > GOSSIP_BYTES)
            {
                let frame = wire::encode_tx_batch(&std::mem::take(&mut batch));
                members.send_all(&*network, Module::TxGossip, frame.into());
                bytes = 0;
            }
            bytes += raw.len();
            batch.push(raw);
        }
        if !batch.is_empty() {
            let frame = wire::encode_tx_batch(&batch);
            members.send_all(&*network, Module::TxGossip, frame.into());
        }
    }
}
