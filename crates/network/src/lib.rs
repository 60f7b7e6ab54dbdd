//! Peer-to-peer network between Aurum nodes: TLS 1.3 with mutual authentication, admission by
//! certificate authority, node id binding and framed routing by `(group, module)`.
//!
//! This crate owns:
//! - [`Network`]: the listener, the dialers (redial with backoff from 100 ms to 1 s), one
//!   connection per node id, bounded per-peer send queues and inbound routing;
//! - admission: a peer's certificate chain must verify to a trusted CA, be within its validity
//!   period and carry a node id (subjectAltName URI `aurum:node:<128 hex>`) that is neither our
//!   own, nor blacklisted, nor missing from the whitelist when one is set. Every refusal is
//!   logged at WARN as one plain line starting `refused peer <addr>:` and kept in
//!   [`Network::refusals`];
//! - the node id proof: TLS runs on a P-256 key (the TLS stacks cannot do secp256k1 or SM2), so
//!   after the handshake each side sends a Hello signed by its consensus key over the TLS
//!   exporter: a copied certificate without the node key cannot impersonate a node;
//! - liveness: every link sends a keepalive ping each [`NetworkConfig::keepalive`] and answers
//!   pings with pongs (round trip in [`PeerInfo::rtt`]); a link on which no byte arrives for
//!   [`NetworkConfig::peer_timeout`] is declared gone and redialed, so a partition is noticed
//!   and a healed one bridged within a second or two. A peer going is one log line with the
//!   reason (`… is gone: timeout: …` / `closed by the peer` / `error: …`), its return another
//!   (`… is back at … after 8.1 s …`);
//! - outbound queues bounded in bytes per lane ([`NetworkConfig::send_queue_bytes`]): consensus
//!   frames on their own lane, written first; gossip and sync on the bulk lane, where one group
//!   may hold at most half. A frame that does not fit is refused at [`Network::send`] (which
//!   returns `false`), never an older one dropped;
//! - [`pki`]: certificate generation for `aurum build-chain` (chain CA → agency → node).
//!
//! Wire format: every frame is a u32 big-endian length then the body; the first frame each way
//! is the Hello ([`frame`]), every later one is `group (u8 length + bytes) || module (u8) ||
//! payload`, or a link-control frame (keepalive) laid out as one with an empty group and module
//! 0 ([`frame::Control`]). Nodes from before keepalive drop those as an unknown module and stay
//! linked; a peer that never sends one is not subject to the dead-peer timeout.
//!
//! Files are layered without import cycles (checked by `tests/module_graph.rs`): `net` (the
//! handle) → `conn` (accept loop, dialers) → `link` (one link's reader and writer) and
//! `handshake` (TLS, Hello) → `shared` (peer table, routing, counters) → `queue`, `frame`,
//! `metered`, `tls`, `verify`, `cert`, `config`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod cert;
mod config;
mod conn;
mod error;
pub mod frame;
mod handshake;
mod link;
mod metered;
mod net;
pub mod pki;
mod queue;
mod shared;
mod tls;
mod verify;

pub use cert::NODE_ID_URI_PREFIX;
pub use config::{
    DEFAULT_KEEPALIVE, DEFAULT_MAX_FRAME_BYTES, DEFAULT_PEER_TIMEOUT, DEFAULT_SEND_QUEUE_BYTES,
    Module, NetworkConfig, TlsFiles,
};
pub use error::NetworkError;
pub use net::{Network, PeerInfo};
pub use shared::{Inbound, NetworkStats};

/// A node's identity: its consensus public key (x || y, 64 bytes); hex form via `to_hex`.
pub type NodeId = aurum_crypto::PublicKey;

/// Version spoken in the Hello frame; peers with another version are refused.
pub const PROTOCOL_VERSION: u16 = 1;
