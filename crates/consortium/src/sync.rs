//! Block sync: every node says its head twice a second; a node behind a peer (an observer,
//! or a sealer that was down) downloads the blocks it misses with their commit certificates,
//! checks each certificate against the sealer list in effect at that height, executes the
//! block and commits it only if execution gives the certified hash. Sync never votes.

use crate::Members;
use crate::PeerSender;
use crate::wire::{BlockWithCert, SyncMessage};
use alloy_primitives::Bytes;
use aurum_group::Group;
use aurum_network::{Module, NodeId};
use aurum_primitives::{Block, CommitCertificate};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const STATUS_EVERY: Duration = Duration::from_millis(500);
/// Blocks asked for at once, and the byte budget of one answer.
const REQUEST_BLOCKS: u64 = 32;
const ANSWER_BYTES: usize = 8 << 20;
/// A request not answered by then is asked of another peer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// A sealer one block behind is usually about to commit it through consensus: it syncs only
/// once peers have been ahead for this long (or it is two or more blocks behind).
const SEALER_PATIENCE: Duration = Duration::from_millis(1500);

pub(crate) struct Sync {
    group: Arc<Group>,
    network: Arc<dyn PeerSender>,
    members: Members,
    /// Peers' heads as they last said.
    peers: HashMap<NodeId, u64>,
    /// Since when a peer has said it is ahead of us (None: nobody is).
    behind_since: Option<Instant>,
    asked: Option<(NodeId, Instant)>,
    /// Peers whose blocks failed verification, ignored until then.
    distrusted: HashMap<NodeId, Instant>,
    metrics: aurum_metrics::sync::Sync,
}

impl Sync {
    pub(crate) fn new(group: Arc<Group>, network: Arc<dyn PeerSender>) -> Self {
        Sync {
            metrics: aurum_metrics::sync::Sync::new(group.id()),
            members: Members::new(Arc::clone(&group)),
            group,
            network,
            peers: HashMap::new(),
            behind_since: None,
            asked: None,
            distrusted: HashMap::new(),
        }
    }

    pub(crate) fn run(mut self, events: Receiver<(NodeId, Bytes)>, stop: Arc<AtomicBool>) {
        let mut last_status = Instant::now() - STATUS_EVERY;
        while !stop.load(Ordering::Acquire) {
            match events.recv_timeout(Duration::from_millis(50)) {
                // Only the group's members sync with us, either way.
                Ok((from, _)) if !self.members.contains(&from) => {}
                Ok((from, payload)) => match SyncMessage::decode(&payload) {
                    Ok(message) => self.on_message(from, message),
                    Err(e) => {
                        tracing::debug!(group = self.group.id(), peer = %from, error = %e, "bad sync message")
                    }
                },
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if last_status.elapsed() >= STATUS_EVERY {
                last_status = Instant::now();
                if let Ok(head) = self.group.ledger().head_number() {
                    let status = SyncMessage::Status { head }.encode();
                    self.members.send_all(&*self.network, Module::Sync, status.into());
                }
            }
            self.maybe_request();
        }
    }

    fn head(&self) -> u64 {
        self.group.ledger().head_number().unwrap_or(0)
    }

    fn on_message(&mut self, from: NodeId, message: SyncMessage) {
        match message {
            SyncMessage::Status { head } => {
                self.peers.insert(from, head);
            }
            SyncMessage::Request { from: first, count } => self.answer(from, first, count),
            SyncMessage::Blocks(blocks) => {
                if self.asked.as_ref().is_some_and(|(p, _)| *p == from) {
                    self.asked = None;
                }
                if blocks.is_empty() {
                    // It said it was ahead but has nothing to give: ask someone else.
                    self.distrusted.insert(from, Instant::now());
                }
                self.apply(from, blocks);
            }
        }
    }

    fn answer(&self, to: NodeId, first: u64, count: u64) {
        let ledger = self.group.ledger();
        let Ok(head) = ledger.head_number() else { return };
        let last = head.min(first.saturating_add(count.min(REQUEST_BLOCKS)).saturating_sub(1));
        let mut blocks = Vec::new();
        let mut bytes = 0;
        for number in first.max(1)..=last {
            let (Ok(Some(block)), Ok(Some(cert))) =
                (ledger.block(number), ledger.certificate(number))
            else {
                break;
            };
            let entry = BlockWithCert {
                block: Bytes::from(block.encode()),
                certificate: Bytes::from(cert.encode()),
            };
            bytes += entry.block.len() + entry.certificate.len();
            blocks.push(entry);
            if bytes >= ANSWER_BYTES {
                break;
            }
        }
        let answer = SyncMessage::Blocks(blocks).encode();
        self.network.send(&to, self.group.id(), Module::Sync, answer.into());
    }

    fn apply(&mut self, from: NodeId, blocks: Vec<BlockWithCert>) {
        for entry in blocks {
            let decoded = Block::decode(&entry.block).map_err(|e| e.to_string()).and_then(|b| {
                Ok((b, CommitCertificate::decode(&entry.certificate).map_err(|e| e.to_string())?))
            });
            let result = match decoded {
                Ok((block, cert)) => {
                    let number = block.header.number;
                    self.group
                        .apply_certified(&block, &cert)
                        .map(|_| number)
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(number) => {
                    self.metrics.applied();
                    tracing::debug!(group = self.group.id(), number, peer = %from, "synced block")
                }
                Err(e) => {
                    self.metrics.refused();
                    tracing::warn!(group = self.group.id(), peer = %from, error = %e, "refused a block from a peer");
                    self.distrusted.insert(from, Instant::now());
                    return;
                }
            }
        }
    }

    fn maybe_request(&mut self) {
        if let Some((peer, at)) = &self.asked {
            if at.elapsed() < REQUEST_TIMEOUT {
                return;
            }
            // No answer: ask someone else for a while.
            self.distrusted.insert(*peer, Instant::now());
            self.asked = None;
        }
        self.distrusted.retain(|_, at| at.elapsed() < Duration::from_secs(30));
        let mine = self.head();
        self.metrics.heads(mine, self.peers.values().copied().max().unwrap_or(mine));
        if self.peers.values().any(|h| *h > mine) {
            self.behind_since.get_or_insert_with(Instant::now);
        } else {
            self.behind_since = None;
        }
        let stuck = self.behind_since.is_some_and(|t| t.elapsed() >= SEALER_PATIENCE);
        let sealer = self
            .group
            .sealers(mine + 1)
            .map(|s| s.iter().any(|s| s.node_id == self.group.node_id()))
            .unwrap_or(false);
        let connected = self.network.connected();
        let best = self
            .peers
            .iter()
            .filter(|(p, head)| {
                **head > mine && !self.distrusted.contains_key(*p) && connected.contains(p)
            })
            .filter(|(_, head)| !sealer || **head >= mine + 2 || stuck)
            .max_by_key(|(_, head)| **head)
            .map(|(p, _)| *p);
        if let Some(peer) = best {
            let request = SyncMessage::Request { from: mine + 1, count: REQUEST_BLOCKS }.encode();
            if self.network.send(&peer, self.group.id(), Module::Sync, request.into()) {
                self.asked = Some((peer, Instant::now()));
            }
        }
    }
}
