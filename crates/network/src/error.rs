//! The crate's error type. Runtime refusals of peers are not errors of the API: they are logged
//! and kept in [`crate::Network::refusals`].

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the network could not start or reload its identity.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    /// A TLS file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile { path: PathBuf, source: std::io::Error },
    /// A TLS file was read but is not what it should be.
    #[error("{}: {reason}", path.display())]
    BadFile { path: PathBuf, reason: String },
    /// A limit or timeout of [`crate::NetworkConfig`] is out of range.
    #[error("network config: {0}")]
    BadConfig(String),
    /// The node certificate names another node than the node key given to `start`.
    #[error(
        "node certificate {} is for node id {cert_node_id} but the node key's id is {key_node_id}",
        path.display()
    )]
    NodeIdMismatch { path: PathBuf, cert_node_id: String, key_node_id: String },
    /// The node key is of another crypto suite than the chain's.
    #[error("the node key is for the {key:?} suite but the chain uses {chain:?}")]
    WrongSuite { key: aurum_crypto::SuiteKind, chain: aurum_crypto::SuiteKind },
    /// The TLS stack refused the configuration.
    #[error("TLS setup: {0}")]
    Tls(String),
}
