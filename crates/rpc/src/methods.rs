//! Method dispatch: native methods (group as first parameter) and `eth_*` (group from the
//! URL path). Everything here is synchronous ledger/executor work; the server runs it on
//! the blocking pool.

use crate::convert::{self, Placement};
use crate::jsonrpc::*;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rpc_types_eth::{Filter, FilterBlockOption, TransactionRequest};
use aurum_executor::CallOutcome;
use aurum_group::Group;
use aurum_ledger::StoredTx;
use aurum_primitives::state::{self, AccountInfo, NodeRole, StateReader};
use aurum_primitives::{EthTx, Transaction, TxStatus, VerifiedTx};
use aurum_txpool::AdmitError;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Filters kept at once (all clients together).
const MAX_FILTERS: usize = 10_000;

/// Limits on what one request may ask for.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_batch: usize,
    pub max_log_blocks: u64,
    pub max_logs: usize,
    pub filter_idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 8 * 1024 * 1024,
            max_batch: 1000,
            max_log_blocks: 10_000,
            max_logs: 10_000,
            filter_idle: Duration::from_secs(300),
        }
    }
}

enum FilterKind {
    Blocks { next: u64 },
    Logs { filter: Box<Filter>, next: u64 },
    PendingTxs { seen: HashSet<B256> },
}

struct FilterEntry {
    group: String,
    kind: FilterKind,
    last_poll: Instant,
}

/// Who this node is connected to, for `getPeers` and `net_peerCount` (the node's network).
pub trait PeerView: Send + Sync {
    /// One JSON object per connected peer.
    fn peers(&self) -> Vec<Value>;
}

/// Group lifecycle at run time (the node implements it); served on the admin listener only.
pub trait GroupAdmin: Send + Sync {
    /// Creates a group from its genesis (not started); returns its description.
    fn generate(&self, genesis: Value) -> Result<Value, String>;
    fn start(&self, group: &str) -> Result<(), String>;
    fn stop(&self, group: &str) -> Result<(), String>;
    /// Stops it and sets it aside; its data is kept.
    fn remove(&self, group: &str) -> Result<(), String>;
    /// Brings a removed group back (stopped; start it next).
    fn recover(&self, group: &str) -> Result<(), String>;
    /// Every group this node knows, with its status.
    fn list(&self) -> Value;
}

/// The groups a node serves, shared between its listeners and its group lifecycle.
pub type GroupMap = Arc<parking_lot::RwLock<BTreeMap<String, Arc<Group>>>>;

/// The RPC service of one node: its groups and per-client filter state.
pub struct Rpc {
    groups: GroupMap,
    peers: Option<Arc<dyn PeerView>>,
    admin: Option<Arc<dyn GroupAdmin>>,
    default_group: String,
    pub(crate) limits: Limits,
    filters: Mutex<HashMap<String, FilterEntry>>,
    client_version: String,
}

impl Rpc {
    pub fn new(groups: Vec<Arc<Group>>, default_group: String, limits: Limits) -> Self {
        let map = groups.into_iter().map(|g| (g.id().to_string(), g)).collect();
        Self::shared(Arc::new(parking_lot::RwLock::new(map)), default_group, limits)
    }

    /// An RPC service over a group map others may change (groups started and stopped).
    pub fn shared(groups: GroupMap, default_group: String, limits: Limits) -> Self {
        Rpc {
            groups,
            peers: None,
            admin: None,
            default_group,
            limits,
            filters: Mutex::new(HashMap::new()),
            client_version: format!("aurum/v{}/rust", env!("CARGO_PKG_VERSION")),
        }
    }

    /// Serves the node's peers (a node without a network has none).
    pub fn with_peers(mut self, peers: Arc<dyn PeerView>) -> Self {
        self.peers = Some(peers);
        self
    }

    /// Serves the group lifecycle methods (only for the admin listener's service).
    pub fn with_admin(mut self, admin: Arc<dyn GroupAdmin>) -> Self {
        self.admin = Some(admin);
        self
    }

    fn peer_list(&self) -> Vec<Value> {
        self.peers.as_ref().map(|p| p.peers()).unwrap_or_default()
    }

    pub fn group(&self, name: &str) -> RpcResult<Arc<Group>> {
        self.groups.read().get(name).cloned().ok_or_else(|| {
            RpcError::new(UNKNOWN_GROUP, format!("unknown group '{name}'"))
                .with_data(json!({ "group": name }))
        })
    }

    /// The group an Ethereum request is for: the URL path, or the default group.
    pub fn path_group(&self, path: Option<&str>) -> RpcResult<Arc<Group>> {
        self.group(path.unwrap_or(&self.default_group))
    }

    /// Handles one HTTP or WebSocket body: a request or a batch. None = nothing to answer
    /// (only notifications).
    pub fn handle_text(&self, path: Option<&str>, body: &[u8]) -> Option<Value> {
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Some(response(
                    Value::Null,
                    Err(RpcError::new(PARSE_ERROR, format!("parse error: {e}"))),
                ));
            }
        };
        match value {
            Value::Array(items) => {
                if let Some(err) = self.check_batch(items.len()) {
                    return Some(err);
                }
                self.prefetch_sends(&items);
                let out: Vec<Value> =
                    items.into_iter().filter_map(|v| self.handle_value(path, v)).collect();
                (!out.is_empty()).then_some(Value::Array(out))
            }
            other => self.handle_value(path, other),
        }
    }

    /// The error answer for a batch of `len` calls, if it is empty or too long.
    pub fn check_batch(&self, len: usize) -> Option<Value> {
        let message = if len == 0 {
            "invalid request: empty batch".to_string()
        } else if len > self.limits.max_batch {
            format!(
                "invalid request: a batch of {len} calls exceeds the limit of {}",
                self.limits.max_batch
            )
        } else {
            return None;
        };
        Some(response(Value::Null, Err(RpcError::new(INVALID_REQUEST, message))))
    }

    /// Handles one request object (not a batch).
    /// A batch of native `sendTransaction`s: warm the ledger's read cache for admitting them
    /// all at once (see `TxPool::prefetch`). Items that do not parse are left to the normal
    /// path, which answers them.
    fn prefetch_sends(&self, items: &[Value]) {
        let mut by_group: HashMap<String, Vec<Transaction>> = HashMap::new();
        for item in items {
            if item.get("method").and_then(Value::as_str) != Some("sendTransaction") {
                continue;
            }
            let params = item.get("params").and_then(Value::as_array);
            let group = params.and_then(|p| p.first()).and_then(Value::as_str);
            let raw = params.and_then(|p| p.get(1)).and_then(Value::as_str);
            let (Some(group), Some(raw)) = (group, raw) else { continue };
            let Ok(bytes) = hex::decode(raw.trim_start_matches("0x")) else { continue };
            if bytes.first().is_some_and(|b| *b >= 0xc0) {
                continue;
            }
            if let Ok(tx) = Transaction::decode(&bytes) {
                by_group.entry(group.to_owned()).or_default().push(tx);
            }
        }
        for (group, txs) in by_group {
            if let Ok(g) = self.group(&group) {
                g.pool().prefetch(txs.iter());
            }
        }
    }

    pub fn handle_value(&self, path: Option<&str>, value: Value) -> Option<Value> {
        match parse_request(value) {
            Err(resp) => Some(resp),
            Ok(req) => {
                let result = self.dispatch(path, &req.method, &req.params);
                req.id.map(|id| response(id, result))
            }
        }
    }

    pub fn dispatch(&self, path: Option<&str>, method: &str, p: &Params) -> RpcResult {
        if method.starts_with("eth_") || method.starts_with("net_") || method.starts_with("web3_") {
            return self.dispatch_eth(&self.path_group(path)?, method, p);
        }
        match method {
            "getGroupList" => Ok(json!(self.groups.read().keys().collect::<Vec<_>>())),
            "generateGroup" | "startGroup" | "stopGroup" | "removeGroup" | "recoverGroup"
            | "getGroupStatus" => self.lifecycle(method, p),
            "getPeers" => Ok(Value::Array(self.peer_list())),
            "getGroupInfo" => self.group_info(&self.native_group(p)?),
            "getGroupPeers" => self.group_peers(&self.native_group(p)?),
            "getGroupNodeInfo" => self.group_node_info(&self.native_group(p)?),
            "getBlockNumber" => Ok(json!(head(&*self.native_group(p)?)?)),
            "sendTransaction" => {
                let g = &self.native_group(p)?;
                let raw: Bytes = p.req(1, "tx")?;
                // A raw legacy Ethereum tx (an RLP list, first byte >= 0xc0) is taken as is;
                // typed envelopes need eth_sendRawTransaction or the 0x02 tag, since their
                // type bytes 0x01/0x02 are our format tags.
                let hash = if raw.first().is_some_and(|b| *b >= 0xc0) {
                    let tx = EthTx::decode(&raw).map_err(|e| refused(AdmitError::Decode(e)))?;
                    g.pool().submit(Transaction::Ethereum(tx)).map_err(refused)?
                } else {
                    g.pool().submit_bytes(&raw).map_err(refused)?
                };
                Ok(json!(hash))
            }
            "call" => self.native_call(&self.native_group(p)?, p),
            "getTransaction" => {
                let g = &self.native_group(p)?;
                let hash: B256 = p.req(1, "hash")?;
                Ok(self.native_tx(g, &hash)?.unwrap_or(Value::Null))
            }
            "getTransactionReceipt" => {
                let g = &self.native_group(p)?;
                let hash: B256 = p.req(1, "hash")?;
                Ok(self.native_receipt(g, &hash)?.unwrap_or(Value::Null))
            }
            "getBlockByNumber" => {
                let g = &self.native_group(p)?;
                let number: u64 = p.req(1, "number")?;
                self.native_block(g, number, p.opt(2, "onlyHeader")?, p.opt(3, "onlyTxHash")?)
            }
            "getBlockByHash" => {
                let g = &self.native_group(p)?;
                let hash: B256 = p.req(1, "hash")?;
                match g.ledger().block_number_by_hash(&hash).map_err(RpcError::internal)? {
                    Some(n) => {
                        self.native_block(g, n, p.opt(2, "onlyHeader")?, p.opt(3, "onlyTxHash")?)
                    }
                    None => Ok(Value::Null),
                }
            }
            "getBlockHashByNumber" => {
                let g = &self.native_group(p)?;
                let number: u64 = p.req(1, "number")?;
                Ok(json!(g.ledger().block_hash(number).map_err(RpcError::internal)?))
            }
            "getCode" => {
                let g = &self.native_group(p)?;
                let address: Address = p.req(1, "address")?;
                let at = p.opt::<u64>(2, "blockNumber")?;
                Ok(hex_bytes(&code_at(g, &address, at)?))
            }
            "getSystemConfigByKey" => {
                let g = &self.native_group(p)?;
                let key: String = p.req(1, "key")?;
                let next = head(g)? + 1;
                Ok(
                    match g
                        .ledger()
                        .system_config_for_block(&key, next)
                        .map_err(RpcError::internal)?
                    {
                        Some(e) => {
                            json!({ "key": key, "value": e.value, "enableNumber": e.enable_number })
                        }
                        None => Value::Null,
                    },
                )
            }
            "getTotalTransactionCount" => {
                let g = &self.native_group(p)?;
                Ok(json!({
                    "blockNumber": head(g)?,
                    "transactionCount": g.ledger().total_tx_count().map_err(RpcError::internal)?,
                }))
            }
            "getPendingTxSize" => Ok(json!(self.native_group(p)?.pool().len())),
            "getGroupStats" => {
                let g = &self.native_group(p)?;
                let stats = g.stats();
                let (admitted, admit_time) = g.pool().admission_stats();
                Ok(json!({
                    "blocks": stats.blocks,
                    "transactions": stats.txs,
                    "executeMs": stats.execute.as_secs_f64() * 1e3,
                    "commitMs": stats.commit.as_secs_f64() * 1e3,
                    "admitted": admitted,
                    "admitMs": admit_time.as_secs_f64() * 1e3,
                    "pending": g.pool().len(),
                }))
            }
            "getSealerList" => {
                let g = &self.native_group(p)?;
                let h = head(g)?;
                let nodes = g.ledger().consensus_nodes_at(h).map_err(RpcError::internal)?;
                Ok(json!(
                    nodes
                        .sealers_at(h + 1)
                        .iter()
                        .map(|n| json!({ "nodeId": hex::encode(n.node_id), "weight": n.weight }))
                        .collect::<Vec<_>>()
                ))
            }
            "getObserverList" => {
                let g = &self.native_group(p)?;
                let nodes = g.ledger().consensus_nodes_at(head(g)?).map_err(RpcError::internal)?;
                Ok(json!(
                    nodes
                        .nodes
                        .iter()
                        .filter(|n| n.role() == NodeRole::Observer)
                        .map(|n| hex::encode(n.node_id))
                        .collect::<Vec<_>>()
                ))
            }
            "getTransactionByHashWithProof" => {
                let g = &self.native_group(p)?;
                let hash: B256 = p.req(1, "hash")?;
                let Some(tx) = self.native_tx(g, &hash)? else { return Ok(Value::Null) };
                let Some((loc, path)) = g.ledger().tx_proof(&hash).map_err(RpcError::internal)?
                else {
                    return Ok(Value::Null);
                };
                let header = header_at(g, loc.number)?;
                Ok(json!({
                    "transaction": tx,
                    "proof": { "blockNumber": loc.number, "index": loc.index, "leaf": hash,
                               "root": header.tx_root, "path": path },
                }))
            }
            "getTransactionReceiptByHashWithProof" => {
                let g = &self.native_group(p)?;
                let hash: B256 = p.req(1, "hash")?;
                let Some(receipt) = self.native_receipt(g, &hash)? else { return Ok(Value::Null) };
                let Some((loc, path)) =
                    g.ledger().receipt_proof(&hash).map_err(RpcError::internal)?
                else {
                    return Ok(Value::Null);
                };
                let raw: Bytes =
                    serde_json::from_value(receipt["raw"].clone()).map_err(RpcError::internal)?;
                let header = header_at(g, loc.number)?;
                Ok(json!({
                    "receipt": receipt,
                    "proof": { "blockNumber": loc.number, "index": loc.index,
                               "leaf": g.suite().hash(&raw), "root": header.receipt_root, "path": path },
                }))
            }
            _ => {
                Err(RpcError::new(METHOD_NOT_FOUND, format!("the method {method} does not exist"))
                    .with_data(json!({ "method": method })))
            }
        }
    }

    fn native_group(&self, p: &Params) -> RpcResult<Arc<Group>> {
        let name: String = p.req(0, "group")?;
        self.group(&name)
    }

    fn group_info(&self, g: &Arc<Group>) -> RpcResult {
        let h = head(g)?;
        let nodes = g.ledger().consensus_nodes_at(h).map_err(RpcError::internal)?;
        let params = g.params(h + 1).map_err(RpcError::internal)?;
        Ok(json!({
            "groupId": g.id(),
            "chainId": g.chain_id(),
            "crypto": g.genesis().crypto,
            "web3ChainId": params.web3_chain_id,
            "genesisHash": g.genesis_hash(),
            "blockNumber": h,
            "sealers": nodes.sealers_at(h + 1).iter()
                .map(|n| json!({ "nodeId": hex::encode(n.node_id), "weight": n.weight }))
                .collect::<Vec<_>>(),
            "observers": nodes.nodes.iter().filter(|n| n.role() == NodeRole::Observer)
                .map(|n| hex::encode(n.node_id)).collect::<Vec<_>>(),
        }))
    }

    fn lifecycle(&self, method: &str, p: &Params) -> RpcResult {
        let Some(admin) = &self.admin else {
            return Err(RpcError::new(
                METHOD_NOT_FOUND,
                format!("{method} is an admin method: call it on the node's admin listener"),
            )
            .with_data(json!({ "method": method })));
        };
        let failed = |e: String| RpcError::new(-32000, e);
        if method == "getGroupStatus" {
            return Ok(admin.list());
        }
        if method == "generateGroup" {
            let genesis: Value = p.req(0, "genesis")?;
            return admin.generate(genesis).map_err(failed);
        }
        let group: String = p.req(0, "group")?;
        match method {
            "startGroup" => admin.start(&group),
            "stopGroup" => admin.stop(&group),
            "removeGroup" => admin.remove(&group),
            _ => admin.recover(&group),
        }
        .map_err(failed)?;
        Ok(json!(true))
    }

    /// The group's members (sealers and observers) this node is linked to.
    fn group_peers(&self, g: &Arc<Group>) -> RpcResult {
        let h = head(g)?;
        let nodes = g.ledger().consensus_nodes_at(h).map_err(RpcError::internal)?;
        let linked: HashSet<String> = self
            .peer_list()
            .iter()
            .filter_map(|p| p["nodeId"].as_str().map(str::to_owned))
            .collect();
        Ok(json!(
            nodes
                .nodes
                .iter()
                .map(|n| hex::encode(n.node_id))
                .filter(|id| linked.contains(id))
                .collect::<Vec<_>>()
        ))
    }

    /// This node as the group sees it: its id, its role and the group's head here.
    fn group_node_info(&self, g: &Arc<Group>) -> RpcResult {
        let h = head(g)?;
        let nodes = g.ledger().consensus_nodes_at(h).map_err(RpcError::internal)?;
        let me = g.node_id().to_hex();
        let role = match nodes.nodes.iter().find(|n| hex::encode(n.node_id) == me) {
            Some(n) if n.role() == NodeRole::Sealer => "sealer",
            Some(_) => "observer",
            None => "none",
        };
        Ok(json!({ "groupId": g.id(), "nodeId": me, "role": role, "blockNumber": h }))
    }

    fn native_call(&self, g: &Arc<Group>, p: &Params) -> RpcResult {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct CallArgs {
            #[serde(default)]
            from: Option<Address>,
            to: Address,
            #[serde(default)]
            data: Bytes,
            #[serde(default)]
            block_number: Option<u64>,
        }
        let args: CallArgs = p.req(1, "call")?;
        let (at, out) = g
            .call(args.block_number, args.from.unwrap_or_default(), Some(args.to), args.data, None)
            .map_err(RpcError::internal)?;
        Ok(json!({
            "blockNumber": at,
            "status": out.status.code(),
            "statusName": convert::status_name(out.status),
            "output": hex_bytes(&out.output),
            "gasUsed": out.gas_used,
        }))
    }

    fn native_tx(&self, g: &Arc<Group>, hash: &B256) -> RpcResult<Option<Value>> {
        if let Some(stored) = g.ledger().transaction(hash).map_err(RpcError::internal)? {
            let at = placement(g, &stored)?;
            return Ok(Some(convert::native_tx(&stored.tx, *hash, stored.sender, Some(at))));
        }
        Ok(g.pool().get(hash).map(|tx| convert::native_tx(&tx.tx, tx.hash, tx.sender, None)))
    }

    fn native_receipt(&self, g: &Arc<Group>, hash: &B256) -> RpcResult<Option<Value>> {
        let Some(stored) = g.ledger().transaction(hash).map_err(RpcError::internal)? else {
            return Ok(None);
        };
        let Some(receipt) = g.ledger().receipt(hash).map_err(RpcError::internal)? else {
            return Ok(None);
        };
        let at = placement(g, &stored)?;
        Ok(Some(convert::native_receipt(&receipt, *hash, stored.sender, stored.tx.to(), at)))
    }

    fn native_block(
        &self,
        g: &Arc<Group>,
        number: u64,
        only_header: Option<bool>,
        only_hashes: Option<bool>,
    ) -> RpcResult {
        let Some(header) = g.ledger().header(number).map_err(RpcError::internal)? else {
            return Ok(Value::Null);
        };
        let hash = header.hash(&**g.suite());
        let signatures = match g.ledger().certificate(number).map_err(RpcError::internal)? {
            Some(cert) => json!(
                cert.signatures
                    .iter()
                    .map(|s| json!({ "sealerIndex": s.sealer_index, "signature": s.signature }))
                    .collect::<Vec<_>>()
            ),
            None => json!([]),
        };
        let mut obj = convert::native_header(&header, hash, signatures);
        if !only_header.unwrap_or(false) {
            let hashes =
                g.ledger().block_tx_hashes(number).map_err(RpcError::internal)?.unwrap_or_default();
            obj["transactions"] = if only_hashes.unwrap_or(true) {
                json!(hashes)
            } else {
                let mut txs = Vec::with_capacity(hashes.len());
                for h in &hashes {
                    txs.push(self.native_tx(g, h)?.unwrap_or(Value::Null));
                }
                Value::Array(txs)
            };
        }
        Ok(obj)
    }

    // ---------------- Ethereum ----------------

    fn dispatch_eth(&self, g: &Arc<Group>, method: &str, p: &Params) -> RpcResult {
        match method {
            "eth_chainId" => Ok(quantity(self.web3_chain_id(g)?)),
            "net_version" => Ok(json!(self.web3_chain_id(g)?.to_string())),
            "net_listening" => Ok(json!(true)),
            "net_peerCount" => Ok(json!(format!("{:#x}", self.peer_list().len()))),
            "web3_clientVersion" => Ok(json!(self.client_version)),
            "web3_sha3" => {
                let data: Bytes = p.req(0, "data")?;
                Ok(json!(keccak256(&data)))
            }
            "eth_blockNumber" => Ok(quantity(head(g)?)),
            "eth_syncing" => Ok(json!(false)),
            "eth_accounts" => Ok(json!([])),
            "eth_gasPrice" | "eth_maxPriorityFeePerGas" | "eth_blobBaseFee" => Ok(json!("0x0")),
            "eth_getBlockByNumber" => {
                let tag: BlockNumberOrTag = p.req(0, "block")?;
                let full = p.opt::<bool>(1, "fullTransactions")?.unwrap_or(false);
                let Some(n) = self.tag_number(g, tag)? else { return Ok(Value::Null) };
                self.eth_block(g, n, full)
            }
            "eth_getBlockByHash" => {
                let hash: B256 = p.req(0, "hash")?;
                let full = p.opt::<bool>(1, "fullTransactions")?.unwrap_or(false);
                match g.ledger().block_number_by_hash(&hash).map_err(RpcError::internal)? {
                    Some(n) => self.eth_block(g, n, full),
                    None => Ok(Value::Null),
                }
            }
            "eth_getBlockTransactionCountByNumber" => {
                let tag: BlockNumberOrTag = p.req(0, "block")?;
                let Some(n) = self.tag_number(g, tag)? else { return Ok(Value::Null) };
                let hashes = g.ledger().block_tx_hashes(n).map_err(RpcError::internal)?;
                Ok(hashes.map_or(Value::Null, |h| quantity(h.len() as u64)))
            }
            "eth_getBlockTransactionCountByHash" => {
                let hash: B256 = p.req(0, "hash")?;
                let Some(n) = g.ledger().block_number_by_hash(&hash).map_err(RpcError::internal)?
                else {
                    return Ok(Value::Null);
                };
                let hashes = g.ledger().block_tx_hashes(n).map_err(RpcError::internal)?;
                Ok(hashes.map_or(Value::Null, |h| quantity(h.len() as u64)))
            }
            "eth_getTransactionByHash" => {
                let hash: B256 = p.req(0, "hash")?;
                let chain = self.web3_chain_id(g)?;
                if let Some(stored) = g.ledger().transaction(&hash).map_err(RpcError::internal)? {
                    let at = placement(g, &stored)?;
                    let tx = VerifiedTx { tx: stored.tx, hash, sender: stored.sender };
                    return Ok(convert::eth_tx(&tx, Some(at), chain));
                }
                Ok(g.pool().get(&hash).map_or(Value::Null, |tx| convert::eth_tx(&tx, None, chain)))
            }
            "eth_getTransactionReceipt" => {
                let hash: B256 = p.req(0, "hash")?;
                self.eth_receipt(g, &hash)
            }
            "eth_sendRawTransaction" => {
                let raw: Bytes = p.req(0, "data")?;
                if raw.len() > aurum_primitives::transaction::MAX_TX_BYTES {
                    return Err(refused(AdmitError::TooLarge {
                        size: raw.len(),
                        max: aurum_primitives::transaction::MAX_TX_BYTES,
                    }));
                }
                let tx = EthTx::decode(&raw).map_err(|e| refused(AdmitError::Decode(e)))?;
                let hash = g.pool().submit(Transaction::Ethereum(tx)).map_err(refused)?;
                Ok(json!(hash))
            }
            "eth_call" => {
                let req: TransactionRequest = p.req(0, "transaction")?;
                let at = self.state_block(g, p.opt(1, "block")?)?;
                let out = self.eth_exec(g, &req, at, req.gas)?;
                ok_or_revert(out).map(|o| hex_bytes(&o.output))
            }
            "eth_estimateGas" => {
                let req: TransactionRequest = p.req(0, "transaction")?;
                let at = self.state_block(g, p.opt(1, "block")?)?;
                self.estimate_gas(g, &req, at)
            }
            "eth_feeHistory" => self.fee_history(g, p),
            "eth_getTransactionCount" => {
                let address: Address = p.req(0, "address")?;
                let tag: Option<BlockId> = p.opt(1, "block")?;
                if matches!(tag, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
                    let n = g.pool().pending_nonce(&address).map_err(RpcError::internal)?;
                    return Ok(quantity(n));
                }
                let at = self.state_block(g, tag)?;
                Ok(quantity(account_at(g, &address, Some(at))?.map_or(0, |a| a.nonce)))
            }
            "eth_getBalance" => {
                let address: Address = p.req(0, "address")?;
                let at = self.state_block(g, p.opt(1, "block")?)?;
                let balance = account_at(g, &address, Some(at))?.map_or(U256::ZERO, |a| a.balance);
                Ok(json!(format!("{balance:#x}")))
            }
            "eth_getCode" => {
                let address: Address = p.req(0, "address")?;
                let at = self.state_block(g, p.opt(1, "block")?)?;
                Ok(hex_bytes(&code_at(g, &address, Some(at))?))
            }
            "eth_getStorageAt" => {
                let address: Address = p.req(0, "address")?;
                let slot: U256 = p.req(1, "slot")?;
                let at = self.state_block(g, p.opt(2, "block")?)?;
                let value = read_state(g, Some(at), &state::storage_key(&address, &slot))?
                    .map_or(U256::ZERO, |b| U256::from_be_slice(&b[..b.len().min(32)]));
                Ok(json!(B256::from(value)))
            }
            "eth_getLogs" => {
                let filter: Filter = p.req(0, "filter")?;
                let (from, to) = self.filter_range(g, &filter)?;
                Ok(Value::Array(self.logs(g, &filter, from, to)?))
            }
            "eth_newFilter" => {
                let filter: Filter = p.req(0, "filter")?;
                let next = head(g)? + 1;
                Ok(json!(self.add_filter(g, FilterKind::Logs { filter: Box::new(filter), next })?))
            }
            "eth_newBlockFilter" => {
                let next = head(g)? + 1;
                Ok(json!(self.add_filter(g, FilterKind::Blocks { next })?))
            }
            "eth_newPendingTransactionFilter" => {
                let seen = g.pool().waiting_hashes().into_iter().collect();
                Ok(json!(self.add_filter(g, FilterKind::PendingTxs { seen })?))
            }
            "eth_getFilterChanges" => {
                let id: String = p.req(0, "filterId")?;
                self.filter_changes(g, &id)
            }
            "eth_getFilterLogs" => {
                let id: String = p.req(0, "filterId")?;
                let filter = {
                    let mut filters = self.filters.lock();
                    match filters.get_mut(&id) {
                        Some(FilterEntry { group, .. }) if group != g.id() => {
                            return Err(filter_not_found());
                        }
                        Some(FilterEntry {
                            kind: FilterKind::Logs { filter, .. },
                            last_poll,
                            ..
                        }) => {
                            *last_poll = Instant::now();
                            filter.clone()
                        }
                        Some(_) => {
                            return Err(RpcError::invalid_params("'filterId': not a log filter"));
                        }
                        None => return Err(filter_not_found()),
                    }
                };
                let (from, to) = self.filter_range(g, &filter)?;
                Ok(Value::Array(self.logs(g, &filter, from, to)?))
            }
            "eth_uninstallFilter" => {
                let id: String = p.req(0, "filterId")?;
                Ok(json!(self.filters.lock().remove(&id).is_some()))
            }
            "eth_subscribe" | "eth_unsubscribe" => Err(RpcError::new(
                METHOD_NOT_FOUND,
                format!("{method} needs a WebSocket connection (ws:// on the same port)"),
            )),
            _ => {
                Err(RpcError::new(METHOD_NOT_FOUND, format!("the method {method} does not exist"))
                    .with_data(json!({ "method": method })))
            }
        }
    }

    fn web3_chain_id(&self, g: &Arc<Group>) -> RpcResult<u64> {
        Ok(g.params(head(g)? + 1).map_err(RpcError::internal)?.web3_chain_id)
    }

    /// A tag's block number; None if a number is beyond the head.
    fn tag_number(&self, g: &Arc<Group>, tag: BlockNumberOrTag) -> RpcResult<Option<u64>> {
        let h = head(g)?;
        Ok(match tag {
            BlockNumberOrTag::Earliest => Some(0),
            BlockNumberOrTag::Number(n) => (n <= h).then_some(n),
            // Only final blocks exist: pending, safe and finalized are the head.
            _ => Some(h),
        })
    }

    /// The block whose state a state query reads (default: latest).
    fn state_block(&self, g: &Arc<Group>, id: Option<BlockId>) -> RpcResult<u64> {
        match id {
            None => head(g),
            Some(BlockId::Number(tag)) => self.tag_number(g, tag)?.ok_or_else(|| {
                RpcError::new(TX_REFUSED, "header not found: the block is beyond the head")
            }),
            Some(BlockId::Hash(h)) => g
                .ledger()
                .block_number_by_hash(&h.block_hash)
                .map_err(RpcError::internal)?
                .ok_or_else(|| {
                    RpcError::new(TX_REFUSED, format!("header not found: block {}", h.block_hash))
                }),
        }
    }

    fn eth_exec(
        &self,
        g: &Arc<Group>,
        req: &TransactionRequest,
        at: u64,
        gas: Option<u64>,
    ) -> RpcResult<CallOutcome> {
        let to = match req.to {
            Some(alloy_primitives::TxKind::Call(a)) => Some(a),
            _ => None,
        };
        let input = req.input.input().cloned().unwrap_or_default();
        let (_, out) = g
            .call(Some(at), req.from.unwrap_or_default(), to, input, gas)
            .map_err(RpcError::internal)?;
        Ok(out)
    }

    fn estimate_gas(&self, g: &Arc<Group>, req: &TransactionRequest, at: u64) -> RpcResult {
        let cap = g.params(at + 1).map_err(RpcError::internal)?.tx_gas_limit;
        let first = ok_or_revert(self.eth_exec(g, req, at, req.gas.or(Some(cap)))?)?;
        // Refunds and the 63/64 rule mean a tx can need more than it ends up using: pad,
        // check the padded limit, and fall back to the cap if it is not enough. No gas is
        // charged, so a generous estimate costs nothing.
        let padded =
            first.gas_used.saturating_add(first.gas_used / 4).saturating_add(10_000).min(cap);
        let again = self.eth_exec(g, req, at, Some(padded))?;
        Ok(quantity(if again.status.is_success() { padded } else { cap }))
    }

    fn fee_history(&self, g: &Arc<Group>, p: &Params) -> RpcResult {
        let count: U256 = p.req(0, "blockCount")?;
        let newest: BlockNumberOrTag = p.req(1, "newestBlock")?;
        let percentiles: Option<Vec<f64>> = p.opt(2, "rewardPercentiles")?;
        if let Some(ps) = &percentiles
            && (ps.len() > 100
                || ps.iter().any(|x| !(0.0..=100.0).contains(x))
                || ps.windows(2).any(|w| w[0] > w[1]))
        {
            return Err(RpcError::invalid_params(
                "'rewardPercentiles': at most 100 ascending values within [0, 100]",
            ));
        }
        let newest = self.tag_number(g, newest)?.unwrap_or(head(g)?);
        let count = count.saturating_to::<u64>().clamp(1, 1024).min(newest + 1);
        let oldest = newest + 1 - count;
        let mut ratios = Vec::new();
        let mut rewards = Vec::new();
        for n in oldest..=newest {
            let header = header_at(g, n)?;
            // No block gas limit: report usage against the per-tx cap times the tx count limit.
            let params = g.params(n).map_err(RpcError::internal)?;
            let capacity = (params.tx_gas_limit as f64) * (params.tx_count_limit as f64);
            ratios.push(json!(if capacity > 0.0 {
                header.gas_used as f64 / capacity
            } else {
                0.0
            }));
            if let Some(ps) = &percentiles {
                rewards.push(json!(ps.iter().map(|_| "0x0").collect::<Vec<_>>()));
            }
        }
        let mut out = json!({
            "oldestBlock": quantity(oldest),
            "baseFeePerGas": vec!["0x0"; count as usize + 1],
            "gasUsedRatio": ratios,
        });
        if percentiles.is_some() {
            out["reward"] = json!(rewards);
        }
        Ok(out)
    }

    fn eth_block(&self, g: &Arc<Group>, number: u64, full: bool) -> RpcResult {
        let Some(block) = g.ledger().block(number).map_err(RpcError::internal)? else {
            return Ok(Value::Null);
        };
        let hash = block.header.hash(&**g.suite());
        let hashes =
            g.ledger().block_tx_hashes(number).map_err(RpcError::internal)?.unwrap_or_default();
        let txs = if full {
            let chain = self.web3_chain_id(g)?;
            let mut out = Vec::with_capacity(hashes.len());
            for (i, h) in hashes.iter().enumerate() {
                if let Some(stored) = g.ledger().transaction(h).map_err(RpcError::internal)? {
                    let at = Placement { block_number: number, block_hash: hash, index: i as u32 };
                    let tx = VerifiedTx { tx: stored.tx, hash: *h, sender: stored.sender };
                    out.push(convert::eth_tx(&tx, Some(at), chain));
                }
            }
            Value::Array(out)
        } else {
            json!(hashes)
        };
        let nodes =
            g.ledger().consensus_nodes_at(number.saturating_sub(1)).map_err(RpcError::internal)?;
        let miner = nodes
            .sealers_at(number)
            .get(block.header.proposer as usize)
            .map_or(Address::ZERO, |n| convert::node_address(&**g.suite(), n.node_id.as_slice()));
        let size = block.encode().len();
        Ok(convert::eth_block(&block.header, hash, miner, txs, hashes.len(), size))
    }

    fn eth_receipt(&self, g: &Arc<Group>, hash: &B256) -> RpcResult {
        let Some(stored) = g.ledger().transaction(hash).map_err(RpcError::internal)? else {
            return Ok(Value::Null);
        };
        let at = placement(g, &stored)?;
        let receipts = g
            .ledger()
            .block_receipts(at.block_number)
            .map_err(RpcError::internal)?
            .unwrap_or_default();
        let Some(receipt) = receipts.get(at.index as usize) else { return Ok(Value::Null) };
        let before = &receipts[..at.index as usize];
        let cumulative = before.iter().map(|r| r.gas_used).sum::<u64>() + receipt.gas_used;
        let first_log = before.iter().map(|r| r.logs.len()).sum();
        Ok(convert::eth_receipt(
            receipt,
            &stored.tx,
            *hash,
            stored.sender,
            at,
            cumulative,
            first_log,
        ))
    }

    /// The block range of a log query, checked against the limits.
    fn filter_range(&self, g: &Arc<Group>, filter: &Filter) -> RpcResult<(u64, u64)> {
        let h = head(g)?;
        let (from, to) = match &filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => {
                let n =
                    g.ledger().block_number_by_hash(hash).map_err(RpcError::internal)?.ok_or_else(
                        || RpcError::new(TX_REFUSED, format!("unknown block {hash}")),
                    )?;
                (n, n)
            }
            FilterBlockOption::Range { from_block, to_block } => {
                let resolve = |t: &Option<BlockNumberOrTag>| match t {
                    None => h,
                    Some(BlockNumberOrTag::Earliest) => 0,
                    Some(BlockNumberOrTag::Number(n)) => *n,
                    Some(_) => h,
                };
                // A range starting past the head is empty (not the head's logs again).
                (resolve(from_block), resolve(to_block).min(h))
            }
        };
        if from > to {
            return Ok((1, 0)); // empty
        }
        if to - from >= self.limits.max_log_blocks {
            return Err(RpcError::new(
                -32005,
                format!(
                    "query spans {} blocks; the limit is {} (narrow fromBlock/toBlock)",
                    to - from + 1,
                    self.limits.max_log_blocks
                ),
            ));
        }
        Ok((from, to))
    }

    /// Logs matching `filter` in blocks `from..=to`, in chain order.
    pub(crate) fn logs(
        &self,
        g: &Arc<Group>,
        filter: &Filter,
        from: u64,
        to: u64,
    ) -> RpcResult<Vec<Value>> {
        let mut out = Vec::new();
        if from > to {
            return Ok(out);
        }
        for n in from..=to {
            out.extend(self.block_logs(g, filter, n)?);
            if out.len() > self.limits.max_logs {
                return Err(RpcError::new(
                    -32005,
                    format!(
                        "query returned more than {} logs (narrow the range or the filter)",
                        self.limits.max_logs
                    ),
                ));
            }
        }
        Ok(out)
    }

    pub(crate) fn block_logs(
        &self,
        g: &Arc<Group>,
        filter: &Filter,
        n: u64,
    ) -> RpcResult<Vec<Value>> {
        let mut out = Vec::new();
        let Some(header) = g.ledger().header(n).map_err(RpcError::internal)? else {
            return Ok(out);
        };
        if !filter.matches_bloom(header.logs_bloom) {
            return Ok(out);
        }
        let hash = header.hash(&**g.suite());
        let receipts =
            g.ledger().block_receipts(n).map_err(RpcError::internal)?.unwrap_or_default();
        let tx_hashes =
            g.ledger().block_tx_hashes(n).map_err(RpcError::internal)?.unwrap_or_default();
        let mut log_index = 0;
        for (i, (receipt, tx_hash)) in receipts.iter().zip(&tx_hashes).enumerate() {
            for log in &receipt.logs {
                if filter.matches(log) {
                    let at = Placement { block_number: n, block_hash: hash, index: i as u32 };
                    out.push(convert::eth_log(log, at, *tx_hash, log_index));
                }
                log_index += 1;
            }
        }
        Ok(out)
    }

    fn add_filter(&self, g: &Arc<Group>, kind: FilterKind) -> RpcResult<String> {
        let id = format!("{:#x}", rand::random::<u128>());
        let mut filters = self.filters.lock();
        let idle = self.limits.filter_idle;
        filters.retain(|_, f| f.last_poll.elapsed() < idle);
        if filters.len() >= MAX_FILTERS {
            return Err(RpcError::new(
                TX_REFUSED,
                format!("too many filters ({MAX_FILTERS}); uninstall unused ones or retry later"),
            ));
        }
        filters.insert(
            id.clone(),
            FilterEntry { group: g.id().to_string(), kind, last_poll: Instant::now() },
        );
        Ok(id)
    }

    fn filter_changes(&self, g: &Arc<Group>, id: &str) -> RpcResult {
        let h = head(g)?;
        let mut filters = self.filters.lock();
        let entry = filters.get_mut(id).ok_or_else(filter_not_found)?;
        if entry.group != g.id() {
            return Err(filter_not_found());
        }
        entry.last_poll = Instant::now();
        match &mut entry.kind {
            FilterKind::Blocks { next } => {
                let mut hashes = Vec::new();
                while *next <= h {
                    hashes.push(json!(g.ledger().block_hash(*next).map_err(RpcError::internal)?));
                    *next += 1;
                }
                Ok(Value::Array(hashes))
            }
            FilterKind::Logs { filter, next } => {
                let to = match filter.block_option.get_to_block() {
                    Some(BlockNumberOrTag::Number(n)) => (*n).min(h),
                    _ => h,
                };
                let from = match filter.block_option.get_from_block() {
                    Some(BlockNumberOrTag::Number(n)) => (*n).max(*next),
                    _ => *next,
                };
                // One poll covers at most the getLogs block limit; the rest comes next poll.
                let to = to.min(from.saturating_add(self.limits.max_log_blocks - 1));
                let filter = filter.clone();
                let logs = if from <= to { self.logs(g, &filter, from, to)? } else { Vec::new() };
                if let FilterKind::Logs { next, .. } = &mut entry.kind {
                    *next = (*next).max(to + 1);
                }
                Ok(Value::Array(logs))
            }
            FilterKind::PendingTxs { seen } => {
                let mut fresh = Vec::new();
                let now: Vec<B256> = g.pool().waiting_hashes();
                for hash in &now {
                    if seen.insert(*hash) {
                        fresh.push(json!(hash));
                    }
                }
                let keep: HashSet<B256> = now.into_iter().collect();
                seen.retain(|h| keep.contains(h));
                Ok(Value::Array(fresh))
            }
        }
    }

    /// A block's header in Ethereum shape (for newHeads notifications).
    pub(crate) fn eth_head(&self, g: &Arc<Group>, n: u64) -> RpcResult {
        let mut block = self.eth_block(g, n, false)?;
        if let Value::Object(obj) = &mut block {
            obj.remove("transactions");
            obj.remove("uncles");
        }
        Ok(block)
    }
}

fn filter_not_found() -> RpcError {
    RpcError::new(TX_REFUSED, "filter not found (unknown id, or idle for more than 5 minutes)")
}

pub(crate) fn head(g: &Group) -> RpcResult<u64> {
    g.ledger().head_number().map_err(RpcError::internal)
}

fn header_at(g: &Group, n: u64) -> RpcResult<aurum_primitives::Header> {
    g.ledger()
        .header(n)
        .map_err(RpcError::internal)?
        .ok_or_else(|| RpcError::internal(format!("block {n} is missing")))
}

fn placement(g: &Group, stored: &StoredTx) -> RpcResult<Placement> {
    let block_hash =
        g.ledger().block_hash(stored.location.number).map_err(RpcError::internal)?.ok_or_else(
            || RpcError::internal(format!("block {} is missing", stored.location.number)),
        )?;
    Ok(Placement { block_number: stored.location.number, block_hash, index: stored.location.index })
}

fn read_state(g: &Group, at: Option<u64>, key: &[u8]) -> RpcResult<Option<Vec<u8>>> {
    let head = head(g)?;
    let result = match at {
        Some(n) if n < head => g.ledger().state_at(n).get(key),
        _ => g.ledger().latest_state().get(key),
    };
    result.map_err(|e| RpcError::internal(e.0))
}

fn account_at(g: &Group, address: &Address, at: Option<u64>) -> RpcResult<Option<AccountInfo>> {
    match read_state(g, at, &state::account_key(address))? {
        Some(bytes) => Ok(Some(AccountInfo::decode(&bytes).map_err(RpcError::internal)?)),
        None => Ok(None),
    }
}

fn code_at(g: &Group, address: &Address, at: Option<u64>) -> RpcResult<Vec<u8>> {
    let Some(account) = account_at(g, address, at)? else { return Ok(Vec::new()) };
    if account.code_hash == B256::ZERO || account.code_hash == alloy_primitives::KECCAK256_EMPTY {
        return Ok(Vec::new());
    }
    Ok(read_state(g, at, &state::code_key(&account.code_hash))?.unwrap_or_default())
}

fn refused(e: AdmitError) -> RpcError {
    if let AdmitError::Ledger(_) = e {
        return RpcError::internal(e);
    }
    RpcError::new(TX_REFUSED, format!("transaction refused: {e}"))
        .with_data(json!({ "reason": e.reason() }))
}

/// Success passes; a revert becomes error 3 with the revert bytes; other failures say why.
fn ok_or_revert(out: CallOutcome) -> RpcResult<CallOutcome> {
    match out.status {
        TxStatus::Success => Ok(out),
        TxStatus::Reverted => {
            use alloy_sol_types::SolError;
            // geth's wording: the bare reason string, or the panic's description.
            let message = if let Ok(revert) = alloy_sol_types::Revert::abi_decode(&out.output) {
                format!("execution reverted: {}", revert.reason)
            } else if let Ok(panic) = alloy_sol_types::Panic::abi_decode(&out.output) {
                match panic.kind() {
                    Some(kind) => format!("execution reverted: {}", kind.as_str()),
                    None => format!("execution reverted: panic code {:#x}", panic.code),
                }
            } else {
                "execution reverted".to_string()
            };
            Err(RpcError::new(EXECUTION_REVERTED, message).with_data(hex_bytes(&out.output)))
        }
        other => Err(RpcError::new(
            TX_REFUSED,
            format!(
                "execution failed: {}{}",
                convert::status_name(other),
                failure_detail(&out.output)
            ),
        )),
    }
}

fn failure_detail(output: &[u8]) -> String {
    match std::str::from_utf8(output) {
        Ok(s) if !s.is_empty() => format!(" ({s})"),
        _ => String::new(),
    }
}
