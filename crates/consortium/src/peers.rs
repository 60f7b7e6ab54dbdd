//! What the runtime needs of the links to other nodes: send a frame to a peer and list the
//! connected ones. [`aurum_network::Network`] is the real thing; [`NoPeers`] is a node that
//! has no links (a chain of one sealer), for which sending is "peer unreachable", exactly as
//! the network answers for a peer it is not connected to.

use aurum_network::{Module, Network, NodeId};
use bytes::Bytes;

/// Outbound side of the node's links, as the driver, sync and gossip use it.
pub trait PeerSender: Send + Sync + 'static {
    /// Queues `payload` for `to` on (group, module); false if it cannot be delivered now
    /// (not connected, queue full, too large). Never blocks.
    fn send(&self, to: &NodeId, group: &str, module: Module, payload: Bytes) -> bool;
    /// The peers connected now, sorted.
    fn connected(&self) -> Vec<NodeId>;
}

impl PeerSender for Network {
    fn send(&self, to: &NodeId, group: &str, module: Module, payload: Bytes) -> bool {
        Network::send(self, to, group, module, payload)
    }
    fn connected(&self) -> Vec<NodeId> {
        Network::connected(self)
    }
}

/// A node without links: nothing is ever delivered.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPeers;

impl PeerSender for NoPeers {
    fn send(&self, _to: &NodeId, _group: &str, _module: Module, _payload: Bytes) -> bool {
        false
    }
    fn connected(&self) -> Vec<NodeId> {
        Vec::new()
    }
}
