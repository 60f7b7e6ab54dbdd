//! Configuration types: where the TLS files live, who to dial, who to admit.

use crate::NodeId;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default largest frame accepted or sent: 32 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 32 * 1024 * 1024;
/// Default bytes each lane of one peer's send queue may hold: 64 MiB, two maximum frames, so
/// a maximum-size proposal queued to a slow peer still leaves room for the votes after it.
pub const DEFAULT_SEND_QUEUE_BYTES: usize = 64 * 1024 * 1024;
/// Default keepalive interval: a ping every 300 ms on every link.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_millis(300);
/// Default dead-peer timeout: a link on which nothing arrives for 1.5 s is declared gone
/// (five keepalive intervals, so a few delayed pings do not drop a healthy link).
pub const DEFAULT_PEER_TIMEOUT: Duration = Duration::from_millis(1500);

/// The subsystem a frame belongs to; together with the group id it picks the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Module {
    /// PBFT messages; sent on the consensus lane, ahead of everything else.
    Consensus = 1,
    /// Transaction gossip; bulk lane.
    TxGossip = 2,
    /// Block sync requests and answers; bulk lane.
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
    /// This node's certificate, key and the CAs it trusts.
    pub tls: TlsFiles,
    /// Node ids refused even with a valid certificate.
    pub blacklist: Vec<NodeId>,
    /// When `Some`, only these node ids are admitted.
    pub whitelist: Option<Vec<NodeId>>,
    /// Largest frame body accepted or sent; a peer sending a larger one is disconnected.
    pub max_frame_bytes: usize,
    /// Bytes of frames each lane (consensus, bulk) of one peer's send queue may hold; a frame
    /// that does not fit is refused (`send` returns `false`), and a group may hold at most half
    /// of the bulk lane. An empty lane takes one frame of any size up to `max_frame_bytes`.
    pub send_queue_bytes: usize,
    /// How often each link sends a keepalive ping.
    pub keepalive: Duration,
    /// A link on which nothing arrives for this long is declared gone and redialed; it also
    /// bounds a TCP connect, and twice it bounds a TLS handshake with its Hello. At least
    /// twice `keepalive`.
    pub peer_timeout: Duration,
}

impl NetworkConfig {
    /// A config with no peers, no lists and the default limits and timeouts.
    pub fn new(listen: SocketAddr, tls: TlsFiles) -> Self {
        Self {
            listen,
            peers: Vec::new(),
            tls,
            blacklist: Vec::new(),
            whitelist: None,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            send_queue_bytes: DEFAULT_SEND_QUEUE_BYTES,
            keepalive: DEFAULT_KEEPALIVE,
            peer_timeout: DEFAULT_PEER_TIMEOUT,
        }
    }

    /// Checks the limits and timeouts; the error says which value is wrong and why.
    pub fn check(&self) -> Result<(), String> {
        if self.max_frame_bytes == 0 {
            return Err("max_frame_bytes must be above 0".into());
        }
        if self.send_queue_bytes == 0 {
            return Err("send_queue_bytes must be above 0".into());
        }
        if self.keepalive.is_zero() {
            return Err("keepalive must be above 0".into());
        }
        if self.peer_timeout < self.keepalive * 2 {
            return Err(format!(
                "peer_timeout ({} ms) must be at least twice keepalive ({} ms), or a healthy \
                 link could be declared gone between two pings",
                self.peer_timeout.as_millis(),
                self.keepalive.as_millis()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked_with_a_reason() {
        let tls = TlsFiles { ca_certs: vec![], cert_chain: "c".into(), key: "k".into() };
        let mut c = NetworkConfig::new("127.0.0.1:0".parse().unwrap(), tls);
        assert_eq!(c.check(), Ok(()));
        c.peer_timeout = Duration::from_millis(500);
        let e = c.check().unwrap_err();
        assert!(
            e.contains("peer_timeout (500 ms) must be at least twice keepalive (300 ms)"),
            "{e}"
        );
        c.peer_timeout = DEFAULT_PEER_TIMEOUT;
        c.send_queue_bytes = 0;
        assert!(c.check().unwrap_err().contains("send_queue_bytes"));
        c.send_queue_bytes = 1;
        c.keepalive = Duration::ZERO;
        assert!(c.check().unwrap_err().contains("keepalive"));
    }
}
