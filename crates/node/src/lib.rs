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
use aurum_network::{Network, NetworkConfig, NodeId, TlsFiles};
use aurum_rpc::{Limits, Rpc};
mod abi_book;
mod explorer;
mod host;
mod metered;
mod observe;
mod storage;
pub use host::{GroupHost, Status as GroupStatus};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use storage::open_store;
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
    #[error("p2p network: {0}")]
    Network(#[from] aurum_network::NetworkError),
    #[error("group {group}: cannot start consensus: {source}")]
    Consortium { group: String, source: aurum_consortium::StartError },
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
    pub execution: ExecutionSection,
    #[serde(default)]
    pub sealer: SealerSection,
    #[serde(default)]
    pub consensus: ConsensusSection,
    #[serde(default)]
    pub storage: StorageSection,
    #[serde(default)]
    pub metrics: MetricsSection,
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
    /// Admin JSON-RPC (HTTP): everything the public listener serves plus the group lifecycle
    /// (generateGroup, startGroup, stopGroup, removeGroup, recoverGroup, getGroupStatus).
    /// Keep it on a loopback or management address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_listen: Option<String>,
    /// The rest of the RPC limits (docs/rpc.md lists each with its error).
    #[serde(default = "rpc_limit::call_gas_cap")]
    pub call_gas_cap: u64,
    #[serde(default = "rpc_limit::call_timeout_ms")]
    pub call_timeout_ms: u64,
    #[serde(default = "rpc_limit::max_expensive")]
    pub max_expensive: usize,
    #[serde(default = "rpc_limit::max_log_blocks")]
    pub max_log_blocks: u64,
    #[serde(default = "rpc_limit::max_logs")]
    pub max_logs: usize,
    #[serde(default = "rpc_limit::batch_gas")]
    pub batch_gas: u64,
    #[serde(default = "rpc_limit::batch_logs")]
    pub batch_logs: usize,
    #[serde(default = "rpc_limit::batch_log_blocks")]
    pub batch_log_blocks: u64,
    #[serde(default = "rpc_limit::max_filters")]
    pub max_filters: usize,
    #[serde(default = "rpc_limit::max_filters_per_client")]
    pub max_filters_per_client: usize,
    #[serde(default = "rpc_limit::max_subscriptions_per_connection")]
    pub max_subscriptions_per_connection: usize,
    #[serde(default = "rpc_limit::max_subscriptions_per_client")]
    pub max_subscriptions_per_client: usize,
    #[serde(default = "rpc_limit::header_timeout_ms")]
    pub header_timeout_ms: u64,
    #[serde(default = "rpc_limit::max_header_bytes")]
    pub max_header_bytes: usize,
    #[serde(default = "rpc_limit::body_timeout_ms")]
    pub body_timeout_ms: u64,
}

impl Default for RpcSection {
    fn default() -> Self {
        let l = Limits::default();
        RpcSection {
            listen: "127.0.0.1:20200".into(),
            max_body_bytes: l.max_body_bytes,
            max_batch: l.max_batch,
            admin_listen: None,
            call_gas_cap: l.call_gas_cap,
            call_timeout_ms: l.call_timeout.as_millis() as u64,
            max_expensive: l.max_expensive,
            max_log_blocks: l.max_log_blocks,
            max_logs: l.max_logs,
            batch_gas: l.batch_gas,
            batch_logs: l.batch_logs,
            batch_log_blocks: l.batch_log_blocks,
            max_filters: l.max_filters,
            max_filters_per_client: l.max_filters_per_client,
            max_subscriptions_per_connection: l.max_subscriptions_per_connection,
            max_subscriptions_per_client: l.max_subscriptions_per_client,
            header_timeout_ms: l.header_timeout.as_millis() as u64,
            max_header_bytes: l.max_header_bytes,
            body_timeout_ms: l.body_timeout.as_millis() as u64,
        }
    }
}

impl RpcSection {
    /// The limits the RPC service enforces.
    pub fn limits(&self) -> Limits {
        let ms = Duration::from_millis;
        Limits {
            max_body_bytes: self.max_body_bytes,
            max_batch: self.max_batch,
            call_gas_cap: self.call_gas_cap,
            call_timeout: ms(self.call_timeout_ms),
            max_expensive: self.max_expensive,
            max_log_blocks: self.max_log_blocks.max(1),
            max_logs: self.max_logs,
            batch_gas: self.batch_gas,
            batch_logs: self.batch_logs,
            batch_log_blocks: self.batch_log_blocks,
            max_filters: self.max_filters,
            max_filters_per_client: self.max_filters_per_client,
            max_subscriptions_per_connection: self.max_subscriptions_per_connection,
            max_subscriptions_per_client: self.max_subscriptions_per_client,
            header_timeout: ms(self.header_timeout_ms),
            max_header_bytes: self.max_header_bytes,
            body_timeout: ms(self.body_timeout_ms),
            ..Limits::default()
        }
    }
}

/// Defaults of the `[rpc]` limits (serde needs one function per field).
mod rpc_limit {
    use aurum_rpc::Limits;
    fn l() -> Limits {
        Limits::default()
    }
    pub fn call_gas_cap() -> u64 {
        l().call_gas_cap
    }
    pub fn call_timeout_ms() -> u64 {
        l().call_timeout.as_millis() as u64
    }
    pub fn max_expensive() -> usize {
        l().max_expensive
    }
    pub fn max_log_blocks() -> u64 {
        l().max_log_blocks
    }
    pub fn max_logs() -> usize {
        l().max_logs
    }
    pub fn batch_gas() -> u64 {
        l().batch_gas
    }
    pub fn batch_logs() -> usize {
        l().batch_logs
    }
    pub fn batch_log_blocks() -> u64 {
        l().batch_log_blocks
    }
    pub fn max_filters() -> usize {
        l().max_filters
    }
    pub fn max_filters_per_client() -> usize {
        l().max_filters_per_client
    }
    pub fn max_subscriptions_per_connection() -> usize {
        l().max_subscriptions_per_connection
    }
    pub fn max_subscriptions_per_client() -> usize {
        l().max_subscriptions_per_client
    }
    pub fn header_timeout_ms() -> u64 {
        l().header_timeout.as_millis() as u64
    }
    pub fn max_header_bytes() -> usize {
        l().max_header_bytes
    }
    pub fn body_timeout_ms() -> u64 {
        l().body_timeout.as_millis() as u64
    }
}

/// The peer-to-peer network. Without `listen` the node runs alone (a solo sealer).
/// `blacklist`, `whitelist`, `peers` and the certificate files are re-read while the node
/// runs: edit the file (or replace the certificate) and it applies within a second or two.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct P2pSection {
    #[serde(default)]
    pub listen: Option<String>,
    /// Peers to dial ("ip:port").
    #[serde(default)]
    pub peers: Vec<String>,
    /// Trusted CA certificates (PEM); several CAs may be trusted at once.
    #[serde(default)]
    pub ca_certs: Vec<PathBuf>,
    /// This node's certificate chain (node certificate, then its agency's).
    #[serde(default = "default_cert")]
    pub cert: PathBuf,
    /// This node's TLS key.
    #[serde(default = "default_tls_key")]
    pub key: PathBuf,
    /// Node ids refused even with a valid certificate.
    #[serde(default)]
    pub blacklist: Vec<String>,
    /// When set, only these node ids are admitted.
    #[serde(default)]
    pub whitelist: Option<Vec<String>>,
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    /// Bytes each lane (consensus, bulk) of one peer's send queue may hold; a frame that does
    /// not fit is refused, and one group may hold at most half of the bulk lane. Read at start.
    #[serde(default = "default_send_queue_bytes")]
    pub send_queue_bytes: usize,
    /// Keepalive ping interval on every link, in ms. Read at start.
    #[serde(default = "default_keepalive_ms")]
    pub keepalive_ms: u64,
    /// A link on which nothing arrives for this long (ms) is declared gone and redialed; at
    /// least twice `keepalive_ms`. Read at start.
    #[serde(default = "default_peer_timeout_ms")]
    pub peer_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusSection {
    /// PBFT view timeout at view 0, in ms (doubles per view change).
    #[serde(default = "default_view_timeout")]
    pub view_timeout_ms: u64,
    /// After a block with txs, one empty block is sealed once this long passes with no new
    /// tx, so clients waiting for "the block after" mine see one (0: never).
    #[serde(default = "default_idle_block_ms")]
    pub idle_block_ms: u64,
}

impl Default for ConsensusSection {
    fn default() -> Self {
        ConsensusSection {
            view_timeout_ms: default_view_timeout(),
            idle_block_ms: default_idle_block_ms(),
        }
    }
}

fn default_idle_block_ms() -> u64 {
    aurum_consortium::DEFAULT_IDLE_BLOCK.as_millis() as u64
}

fn default_cert() -> PathBuf {
    "ssl.crt".into()
}
fn default_tls_key() -> PathBuf {
    "ssl.key".into()
}
fn default_max_frame() -> usize {
    aurum_network::DEFAULT_MAX_FRAME_BYTES
}
fn default_send_queue_bytes() -> usize {
    aurum_network::DEFAULT_SEND_QUEUE_BYTES
}
fn default_keepalive_ms() -> u64 {
    aurum_network::DEFAULT_KEEPALIVE.as_millis() as u64
}
fn default_peer_timeout_ms() -> u64 {
    aurum_network::DEFAULT_PEER_TIMEOUT.as_millis() as u64
}
fn default_view_timeout() -> u64 {
    3000
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealerSection {
    /// A block is sealed at most this often unless a full block is waiting.
    #[serde(default = "default_min_seal_ms")]
    pub min_seal_interval_ms: u64,
    #[serde(default = "default_pool_capacity")]
    pub pool_capacity: usize,
    /// Txs one sender (account) may hold in the pool; more are refused with reason
    /// `SenderQuota` until some commit.
    #[serde(default = "default_sender_quota")]
    pub sender_quota: usize,
}

impl Default for SealerSection {
    fn default() -> Self {
        SealerSection {
            min_seal_interval_ms: default_min_seal_ms(),
            pool_capacity: default_pool_capacity(),
            sender_quota: default_sender_quota(),
        }
    }
}

fn default_sender_quota() -> usize {
    aurum_txpool::DEFAULT_SENDER_QUOTA
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// fsync the write-ahead log on every block commit (a committed block survives power loss);
    /// on PostgreSQL, `synchronous_commit` for block commits.
    #[serde(default = "yes")]
    pub sync: bool,
    /// `rocksdb` (default: `node.data_dir`) or `postgres` (everything in the database at
    /// `url`; only keys, config and a store id stay in `node.data_dir`).
    #[serde(default)]
    pub backend: StorageBackend,
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, for `backend = "postgres"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection { sync: true, backend: StorageBackend::default(), url: None }
    }
}

/// `[execution]`: how blocks execute. Every mode gives byte-identical results; they differ
/// in speed only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionSection {
    /// `auto` (declared conflicts as a DAG, the rest optimistically), `dag`, `optimistic`
    /// or `serial`.
    #[serde(default = "default_exec_mode")]
    pub mode: String,
    /// Execution threads per group (0: half the cores; on 2 cores that executes serially).
    #[serde(default)]
    pub threads: usize,
}

impl Default for ExecutionSection {
    fn default() -> Self {
        ExecutionSection { mode: default_exec_mode(), threads: 0 }
    }
}

fn default_exec_mode() -> String {
    "auto".into()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    #[default]
    Rocksdb,
    Postgres,
}

/// `[metrics]`: `/metrics`, `/readyz` (docs/metrics.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Record metrics and serve `/metrics` on the RPC port (off: every recording call is a
    /// no-op and `/metrics` answers 404).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `/readyz` fails while a group is more blocks than this behind its peers.
    #[serde(default = "default_max_blocks_behind")]
    pub max_blocks_behind: u64,
}

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection { enabled: true, max_blocks_behind: default_max_blocks_behind() }
    }
}

fn default_max_blocks_behind() -> u64 {
    10
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
    /// The admin listener (group lifecycle methods), when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_url: Option<String>,
}

/// A running node.
pub struct Node {
    host: Arc<GroupHost>,
    network: Option<Network>,
    watcher: Option<tokio::task::JoinHandle<()>>,
    admin_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    ready: ReadyInfo,
    ready_file: PathBuf,
    stop_rpc: Option<oneshot::Sender<()>>,
    rpc_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// Held while the node runs when its store is remote (see `storage`).
    _local_lock: Option<std::fs::File>,
}

impl Node {
    /// Opens storage and groups, starts sealing and the RPC server, and writes ready.json
    /// next to the config file. Call from within a tokio runtime.
    pub async fn start(config_path: &Path) -> Result<Node> {
        let config = NodeConfig::load(config_path)?;
        // Before any metric handle is made (a handle made earlier records nothing).
        let metrics_on = config.metrics.enabled && aurum_metrics::install();
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
        // The crypto suite is chain-wide: every group must agree with the first.
        for (g, section) in genesis_list.iter().zip(&config.groups).skip(1) {
            if g.crypto != first.crypto {
                return Err(NodeError::Genesis {
                    path: dir.join(&section.genesis_file),
                    reason: format!(
                        "group {} uses crypto {:?} but the chain (group {}) uses {:?}; the suite is chain-wide",
                        g.group_id, g.crypto, first.group_id, first.crypto
                    ),
                });
            }
        }
        let key_path = dir.join(&config.node.key_file);
        let key = KeyPair::load_for(kind, &key_path)
            .map_err(|e| NodeError::Key { path: key_path.clone(), reason: e.to_string() })?;

        let data_dir = dir.join(&config.node.data_dir);
        let (store, local_lock) = open_store(&config.storage, &data_dir, config_path)?;
        let storage_metrics =
            Arc::new(aurum_metrics::storage::Storage::new(match config.storage.backend {
                StorageBackend::Rocksdb => "rocksdb",
                StorageBackend::Postgres => "postgres",
            }));
        let store = metered::MeteredStore::wrap(store, Arc::clone(&storage_metrics));
        let abi_book: Arc<dyn aurum_rpc::Extension> =
            Arc::new(abi_book::AbiBook::open(Arc::clone(&store))?);
        // The storage lock is ours, so no other node serves from here: a ready file now is a
        // stale one from a killed run and must not be mistaken for this run's.
        let _ = std::fs::remove_file(&ready_file);
        let options = GroupOptions {
            pool_capacity: config.sealer.pool_capacity,
            sender_quota: config.sealer.sender_quota,
            exec_mode: config.execution.mode.parse().map_err(|e| NodeError::Config {
                path: config_path.to_path_buf(),
                reason: format!("[execution] mode: {e}"),
            })?,
            exec_threads: config.execution.threads,
        };
        let (mut network, mut watcher) = (None, None);
        if config.p2p.listen.is_some() {
            let net_config = network_config(&config.p2p, &dir, config_path)?;
            let net = Network::start(net_config, key.clone(), aurum_crypto::suite(kind)).await?;
            tracing::info!(p2p = %net.local_addr(), node_id = %key.public().to_hex(), "p2p network up");
            watcher = Some(tokio::spawn(watch_p2p_config(
                config_path.to_path_buf(),
                config.p2p.clone(),
                net.clone(),
            )));
            network = Some(net);
        }
        let sealer_options = aurum_consortium::Options {
            base_timeout_ms: config.consensus.view_timeout_ms,
            min_seal_interval: Duration::from_millis(config.sealer.min_seal_interval_ms),
            idle_block: (config.consensus.idle_block_ms > 0)
                .then(|| Duration::from_millis(config.consensus.idle_block_ms)),
        };
        let (chain_id, crypto, default_group) =
            (first.chain_id.clone(), first.crypto.clone(), first.group_id.clone());
        let first_web3 = first.system_config.get("web3_chain_id").and_then(|v| v.parse().ok());
        let host = Arc::new(
            GroupHost::new(
                dir.clone(),
                Arc::clone(&store),
                key.clone(),
                (chain_id.clone(), crypto.clone()),
                options,
                sealer_options,
                network.clone(),
            )
            .map_err(|reason| NodeError::Config { path: dir.join("groups.json"), reason })?,
        );
        for (section, genesis) in config.groups.iter().zip(&genesis_list) {
            host.adopt(section.genesis_file.clone(), genesis).map_err(|reason| {
                NodeError::Config { path: dir.join(&section.genesis_file), reason }
            })?;
        }
        host.resume()
            .map_err(|reason| NodeError::Config { path: dir.join("groups.json"), reason })?;
        let groups = host.running_groups();

        let listener = tokio::net::TcpListener::bind(&config.rpc.listen)
            .await
            .map_err(|source| NodeError::Bind { addr: config.rpc.listen.clone(), source })?;
        let rpc_addr = listener
            .local_addr()
            .map_err(|source| NodeError::Bind { addr: config.rpc.listen.clone(), source })?;
        let limits = config.rpc.limits();
        let service = |admin: bool| {
            let mut rpc = Rpc::shared(host.groups.clone(), default_group.clone(), limits.clone())
                .with_extension(Arc::clone(&abi_book));
            if let Some(net) = &network {
                rpc = rpc.with_peers(Arc::new(NetworkPeers(net.clone())));
            }
            if admin {
                rpc = rpc.with_admin(Arc::clone(&host) as Arc<dyn aurum_rpc::GroupAdmin>);
            }
            Arc::new(rpc)
        };
        let rpc = service(false);
        let mut admin_url = None;
        let mut admin_task = None;
        if let Some(addr) = &config.rpc.admin_listen {
            let admin_listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| NodeError::Bind { addr: addr.clone(), source })?;
            let bound = admin_listener
                .local_addr()
                .map_err(|source| NodeError::Bind { addr: addr.clone(), source })?;
            admin_url = Some(format!("http://{bound}"));
            admin_task = Some(tokio::spawn(aurum_rpc::serve(
                admin_listener,
                service(true),
                std::future::pending::<()>(),
            )));
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        let observe = observe::Observe {
            host: Arc::clone(&host),
            network: network.clone(),
            store: Arc::clone(&store),
            storage: storage_metrics,
            data_dir: data_dir.clone(),
            max_blocks_behind: config.metrics.max_blocks_behind,
            metrics_on,
            seen: Default::default(),
        };
        let app = aurum_rpc::router(Arc::clone(&rpc)).merge(observe::router(Arc::new(observe)));
        let rpc_task = tokio::spawn(async move {
            aurum_rpc::serve_router(listener, app, &rpc, async move {
                let _ = stop_rx.await;
            })
            .await
        });

        let g0 = groups.iter().find(|g| g.id() == default_group);
        let web3_chain_id = match g0 {
            Some(g) => {
                g.params(g.ledger().head_number().unwrap_or(0) + 1).map(|p| p.web3_chain_id).ok()
            }
            None => first_web3,
        };
        let ready = ReadyInfo {
            pid: std::process::id(),
            rpc_addr,
            rpc_url: format!("http://{rpc_addr}"),
            ws_url: format!("ws://{rpc_addr}"),
            group: default_group,
            groups: groups.iter().map(|g| g.id().to_string()).collect(),
            chain_id,
            crypto,
            web3_chain_id: web3_chain_id.unwrap_or(20200),
            node_id: key.public().to_hex(),
            admin_url,
        };
        write_atomic(&ready_file, &serde_json::to_vec_pretty(&ready).unwrap_or_default())?;
        tracing::info!(rpc = %ready.rpc_url, "node ready");
        Ok(Node {
            host,
            network,
            watcher,
            admin_task,
            ready,
            ready_file,
            stop_rpc: Some(stop_tx),
            rpc_task: Some(rpc_task),
            _local_lock: local_lock,
        })
    }

    pub fn ready(&self) -> &ReadyInfo {
        &self.ready
    }

    /// The groups running now.
    pub fn groups(&self) -> Vec<Arc<Group>> {
        self.host.running_groups()
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
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        if let Some(a) = self.admin_task.take() {
            a.abort();
        }
        let host = Arc::clone(&self.host);
        let _ = tokio::task::spawn_blocking(move || host.stop_all()).await;
        if let Some(net) = self.network.take() {
            net.shutdown().await;
        }
    }
}

/// The network as the RPC sees it (`getPeers`, `net_peerCount`).
struct NetworkPeers(Network);

impl aurum_rpc::PeerView for NetworkPeers {
    fn peers(&self) -> Vec<serde_json::Value> {
        self.0
            .peers()
            .into_iter()
            .map(|p| {
                serde_json::json!({
                    "nodeId": p.node_id.to_hex(),
                    "address": p.addr.to_string(),
                    "outbound": p.outbound,
                    "certificate": p.certificate,
                })
            })
            .collect()
    }
}

fn parse_node_ids(ids: &[String], path: &Path, what: &str) -> Result<Vec<NodeId>> {
    ids.iter()
        .map(|s| {
            NodeId::from_hex(s.trim()).map_err(|e| NodeError::Config {
                path: path.into(),
                reason: format!("{what}: {s:?} is not a node id: {e}"),
            })
        })
        .collect()
}

fn resolve_peers(peers: &[String], path: &Path) -> Result<Vec<SocketAddr>> {
    peers
        .iter()
        .map(|p| {
            p.parse::<SocketAddr>().map_err(|e| NodeError::Config {
                path: path.into(),
                reason: format!("p2p peer {p:?}: {e}"),
            })
        })
        .collect()
}

fn network_config(p2p: &P2pSection, dir: &Path, config_path: &Path) -> Result<NetworkConfig> {
    let listen = p2p.listen.as_deref().unwrap_or_default();
    let listen = listen.parse::<SocketAddr>().map_err(|e| NodeError::Config {
        path: config_path.into(),
        reason: format!("p2p listen {listen:?}: {e}"),
    })?;
    Ok(NetworkConfig {
        listen,
        peers: resolve_peers(&p2p.peers, config_path)?,
        tls: TlsFiles {
            ca_certs: p2p.ca_certs.iter().map(|c| dir.join(c)).collect(),
            cert_chain: dir.join(&p2p.cert),
            key: dir.join(&p2p.key),
        },
        blacklist: parse_node_ids(&p2p.blacklist, config_path, "blacklist")?,
        whitelist: match &p2p.whitelist {
            Some(w) => Some(parse_node_ids(w, config_path, "whitelist")?),
            None => None,
        },
        max_frame_bytes: p2p.max_frame_bytes,
        send_queue_bytes: p2p.send_queue_bytes,
        keepalive: std::time::Duration::from_millis(p2p.keepalive_ms),
        peer_timeout: std::time::Duration::from_millis(p2p.peer_timeout_ms),
    })
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Applies edits of the `[p2p]` section (lists, peers) and replaced certificate files
/// without a restart.
async fn watch_p2p_config(config_path: PathBuf, mut current: P2pSection, network: Network) {
    let dir = config_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let cert_files = |p2p: &P2pSection| [dir.join(&p2p.cert), dir.join(&p2p.key)];
    let mut config_time = modified(&config_path);
    let mut cert_times = cert_files(&current).map(|f| modified(&f));
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = modified(&config_path);
        if now != config_time {
            config_time = now;
            match NodeConfig::load(&config_path) {
                Ok(config) if config.p2p != current => {
                    let p2p = config.p2p;
                    let lists =
                        parse_node_ids(&p2p.blacklist, &config_path, "blacklist").and_then(|b| {
                            match &p2p.whitelist {
                                Some(w) => {
                                    Ok((b, Some(parse_node_ids(w, &config_path, "whitelist")?)))
                                }
                                None => Ok((b, None)),
                            }
                        });
                    match lists {
                        Ok((blacklist, whitelist)) => {
                            tracing::info!(blacklisted = blacklist.len(), whitelist = ?whitelist.as_ref().map(|w| w.len()), "p2p lists reloaded");
                            network.set_lists(blacklist, whitelist);
                        }
                        Err(e) => tracing::error!(error = %e, "p2p lists not reloaded"),
                    }
                    if let Ok(peers) = resolve_peers(&p2p.peers, &config_path) {
                        for peer in peers {
                            network.add_peer(peer);
                        }
                    }
                    current = p2p;
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "config not reloaded"),
            }
        }
        let times = cert_files(&current).map(|f| modified(&f));
        if times != cert_times {
            cert_times = times;
            match network.reload_identity() {
                Ok(()) => tracing::info!("node certificate reloaded"),
                Err(e) => tracing::error!(error = %e, "node certificate not reloaded"),
            }
        }
    }
}

/// Writes via a temp file and rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|source| NodeError::Write { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|source| NodeError::Write { path: path.into(), source })
}
