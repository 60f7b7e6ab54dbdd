//! A node: its configuration file, storage, groups, RPC server, ready file and clean
//! shutdown.
//!
//! Layout of a node directory (what `aurum build-chain` writes):
//! ```text
//! node0/config.toml   this file's [`NodeConfig`]
//! node0/node.pem      the node key (its public key is the node id)
//! node0/genesis.json  the genesis of each group the node joins (one per [[group]])
//! node0/data/         RocksDB
//! node0/ready.json    written once the node serves: bound addresses and pid
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use aurum_crypto::KeyPair;
use aurum_group::{Group, GroupOptions};
use aurum_ledger::Genesis;
use aurum_rpc::{Limits, Rpc};
use aurum_storage::{KvStore, RocksConfig, RocksStore};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid node config: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("{path} is not a valid genesis file: {reason}")]
    Genesis { path: PathBuf, reason: String },
    #[error("node key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("storage: {0}")]
    Storage(#[from] aurum_storage::StorageError),
    #[error("{path} is in use by another process: is this node already running?")]
    InUse { path: PathBuf },
    #[error("group {group}: {source}")]
    Group { group: String, source: aurum_group::GroupError },
    #[error("cannot listen on {addr}: {source} (is another node using the port?)")]
    Bind { addr: String, source: std::io::Error },
}

pub type Result<T, E = NodeError> = std::result::Result<T, E>;

/// `config.toml`. Relative paths are relative to the file's directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub node: NodeSection,
    pub rpc: RpcSection,
    #[serde(default)]
    pub p2p: P2pSection,
    #[serde(default)]
    pub sealer: SealerSection,
    #[serde(default)]
    pub storage: StorageSection,
    #[serde(rename = "group")]
    pub groups: Vec<GroupSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// Node key file (PEM).
    pub key_file: PathBuf,
    /// Storage directory.
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcSection {
    /// Public JSON-RPC (HTTP + WebSocket). Port 0 picks a free port (see ready.json).
    pub listen: String,
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pSection {
    /// Peer-to-peer listener (used once the consortium network lands).
    #[serde(default)]
    pub listen: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealerSection {
    /// A block is sealed at most this often unless a full block is waiting.
    #[serde(default = "default_min_seal_ms")]
    pub min_seal_interval_ms: u64,
    #[serde(default = "default_pool_capacity")]
    pub pool_capacity: usize,
}

impl Default for SealerSection {
    fn default() -> Self {
        SealerSection {
            min_seal_interval_ms: default_min_seal_ms(),
            pool_capacity: default_pool_capacity(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// fsync the write-ahead log on every block commit (a committed block survives power loss).
    #[serde(default = "yes")]
    pub sync: bool,
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection { sync: true }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSection {
    pub genesis_file: PathBuf,
}

fn default_max_body() -> usize {
    Limits::default().max_body_bytes
}
fn default_max_batch() -> usize {
    Limits::default().max_batch
}
fn default_min_seal_ms() -> u64 {
    100
}
fn default_pool_capacity() -> usize {
    aurum_txpool::DEFAULT_CAPACITY
}
fn yes() -> bool {
    true
}

impl NodeConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| NodeError::Read { path: path.into(), source })?;
        toml::from_str(&text)
            .map_err(|e| NodeError::Config { path: path.into(), reason: e.to_string() })
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// What `ready.json` holds once the node serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadyInfo {
    pub pid: u32,
    pub rpc_addr: SocketAddr,
    pub rpc_url: String,
    pub ws_url: String,
    pub group: String,
    pub groups: Vec<String>,
    pub chain_id: String,
    pub crypto: String,
    pub web3_chain_id: u64,
    pub node_id: String,
}

/// A running node.
pub struct Node {
    groups: Vec<Arc<Group>>,
    ready: ReadyInfo,
    ready_file: PathBuf,
    stop_rpc: Option<oneshot::Sender<()>>,
    rpc_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Node {
    /// Opens storage and groups, starts sealing and the RPC server, and writes ready.json
    /// next to the config file. Call from within a tokio runtime.
    pub async fn start(config_path: &Path) -> Result<Node> {
        let config = NodeConfig::load(config_path)?;
        let dir = config_path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let ready_file = dir.join("ready.json");

        let mut genesis_list = Vec::new();
        for g in &config.groups {
            let path = dir.join(&g.genesis_file);
            let text = std::fs::read_to_string(&path)
                .map_err(|source| NodeError::Read { path: path.clone(), source })?;
            let genesis: Genesis = serde_json::from_str(&text)
                .map_err(|e| NodeError::Genesis { path: path.clone(), reason: e.to_string() })?;
            genesis_list.push(genesis);
        }
        let Some(first) = genesis_list.first() else {
            return Err(NodeError::Config {
                path: config_path.into(),
                reason: "no [[group]] section".into(),
            });
        };
        let kind = first.suite_kind().map_err(|e| NodeError::Genesis {
            path: dir.join(&config.groups[0].genesis_file),
            reason: e.to_string(),
        })?;
        let key_path = dir.join(&config.node.key_file);
        let key = KeyPair::load_for(kind, &key_path)
            .map_err(|e| NodeError::Key { path: key_path.clone(), reason: e.to_string() })?;

        let data_dir = dir.join(&config.node.data_dir);
        let store: Arc<dyn KvStore> = Arc::new(
            RocksStore::open(
                &data_dir,
                RocksConfig { sync: config.storage.sync, ..Default::default() },
            )
            .map_err(|e| match e.to_string().contains("LOCK") {
                true => NodeError::InUse { path: data_dir.clone() },
                false => NodeError::Storage(e),
            })?,
        );
        // The storage lock is ours, so no other node serves from here: a ready file now is a
        // stale one from a killed run and must not be mistaken for this run's.
        let _ = std::fs::remove_file(&ready_file);
        let options = GroupOptions {
            min_seal_interval: Duration::from_millis(config.sealer.min_seal_interval_ms),
            pool_capacity: config.sealer.pool_capacity,
        };
        let mut groups = Vec::new();
        for genesis in genesis_list {
            let id = genesis.group_id.clone();
            let group = Group::open(Arc::clone(&store), genesis, key.clone(), options.clone())
                .map_err(|source| NodeError::Group { group: id.clone(), source })?;
            group
                .start_sealer()
                .map_err(|source| NodeError::Group { group: id.clone(), source })?;
            tracing::info!(group = %id, head = group.ledger().head_number().unwrap_or(0), "group open");
            groups.push(group);
        }
        let default_group = groups[0].id().to_string();

        let listener = tokio::net::TcpListener::bind(&config.rpc.listen)
            .await
            .map_err(|source| NodeError::Bind { addr: config.rpc.listen.clone(), source })?;
        let rpc_addr = listener
            .local_addr()
            .map_err(|source| NodeError::Bind { addr: config.rpc.listen.clone(), source })?;
        let limits = Limits {
            max_body_bytes: config.rpc.max_body_bytes,
            max_batch: config.rpc.max_batch,
            ..Default::default()
        };
        let rpc = Arc::new(Rpc::new(groups.clone(), default_group.clone(), limits));
        let (stop_tx, stop_rx) = oneshot::channel();
        let rpc_task = tokio::spawn(aurum_rpc::serve(listener, rpc, async move {
            let _ = stop_rx.await;
        }));

        let g0 = &groups[0];
        let ready = ReadyInfo {
            pid: std::process::id(),
            rpc_addr,
            rpc_url: format!("http://{rpc_addr}"),
            ws_url: format!("ws://{rpc_addr}"),
            group: default_group,
            groups: groups.iter().map(|g| g.id().to_string()).collect(),
            chain_id: g0.chain_id().to_string(),
            crypto: g0.genesis().crypto.clone(),
            web3_chain_id: g0
                .params(g0.ledger().head_number().unwrap_or(0) + 1)
                .map(|p| p.web3_chain_id)
                .unwrap_or(20200),
            node_id: g0.node_id().to_hex(),
        };
        write_atomic(&ready_file, &serde_json::to_vec_pretty(&ready).unwrap_or_default())?;
        tracing::info!(rpc = %ready.rpc_url, "node ready");
        Ok(Node { groups, ready, ready_file, stop_rpc: Some(stop_tx), rpc_task: Some(rpc_task) })
    }

    pub fn ready(&self) -> &ReadyInfo {
        &self.ready
    }

    pub fn groups(&self) -> &[Arc<Group>] {
        &self.groups
    }

    /// Stops serving, lets the block in progress commit, closes storage.
    pub async fn shutdown(mut self) {
        let _ = std::fs::remove_file(&self.ready_file);
        if let Some(stop) = self.stop_rpc.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.rpc_task.take() {
            // Open WebSocket sessions do not hold up shutdown for long.
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                // Sessions still open must not take txs the stopped sealer will never seal.
                abort.abort();
            }
        }
        let groups = std::mem::take(&mut self.groups);
        let _ = tokio::task::spawn_blocking(move || {
            for g in &groups {
                g.stop();
            }
        })
        .await;
    }
}

/// Writes via a temp file and rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|source| NodeError::Write { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|source| NodeError::Write { path: path.into(), source })
}
