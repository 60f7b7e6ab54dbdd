//! Configuration types: where the TLS files live, who to dial, who to admit.

use crate::NodeId;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Default largest frame accepted or sent: 32 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 32 * 1024 * 1024;

/// The subsystem a frame belongs to; together with the group id it picks the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Module {
    Consensus = 1,
    TxGossip = 2,
    Sync = 3,
}

impl TryFrom<u8> for Module {
    type Error = u8;

    fn try_from(b: u8) -> Result<Self, u8> {
        match b {
            1 => Ok(Module::Consensus),
            2 => Ok(Module::TxGossip),
            3 => Ok(Module::Sync),
            other => Err(other),
        }
    }
}

/// The TLS files of one node.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Trusted CA certificates (PEM files; each may hold several certs). Several CAs may be
    /// trusted at once.
    pub ca_certs: Vec<PathBuf>,
    /// This node's certificate chain (PEM): node cert first, then the agency cert.
    pub cert_chain: PathBuf,
    /// This node's TLS private key (PEM, PKCS#8 P-256).
    pub key: PathBuf,
}

/// Everything [`crate::Network::start`] needs besides the node key and the crypto suite.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Address to listen on; port 0 picks a free port (see [`crate::Network::local_addr`]).
    pub listen: SocketAddr,
    /// Addresses dialed and kept connected (reconnect with backoff).
    pub peers: Vec<SocketAddr>,
    pub tls: TlsFiles,
    /// Node ids refused even with a valid certificate.
    pub blacklist: Vec<NodeId>,
    /// When `Some`, only these node ids are admitted.
    pub whitelist: Option<Vec<NodeId>>,
    /// Largest frame body accepted or sent; a peer sending a larger one is disconnected.
    pub max_frame_bytes: usize,
}

impl NetworkConfig {
    /// A config with no peers, no lists and the default frame limit.
    pub fn new(listen: SocketAddr, tls: TlsFiles) -> Self {
        Self {
            listen,
            peers: Vec::new(),
            tls,
            blacklist: Vec::new(),
            whitelist: None,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
        }
    }
}
