//! Peer-to-peer network between Aurum nodes: TLS 1.3 with mutual authentication, admission by
//! certificate authority, node id binding and framed routing by `(group, module)`.
//!
//! This crate owns:
//! - [`Network`]: the listener, the dialers (reconnect with exponential backoff), one
//!   connection per node id, bounded per-peer send queues and inbound routing;
//! - admission: a peer's certificate chain must verify to a trusted CA, be within its validity
//!   period and carry a node id (subjectAltName URI `aurum:node:<128 hex>`) that is neither our
//!   own, nor blacklisted, nor missing from the whitelist when one is set. Every refusal is
//!   logged at WARN as one plain line starting `refused peer <addr>:` and kept in
//!   [`Network::refusals`];
//! - the node id proof: TLS runs on a P-256 key (the TLS stacks cannot do secp256k1 or SM2), so
//!   after the handshake each side sends a Hello signed by its consensus key over the TLS
//!   exporter: a copied certificate without the node key cannot impersonate a node;
//! - [`pki`]: certificate generation for `aurum build-chain` (chain CA → agency → node).
//!
//! Wire format: every frame is a u32 big-endian length then the body; the first frame each way
//! is the Hello ([`frame`]), every later one is `group (u8 length + bytes) || module (u8) ||
//! payload`.
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
