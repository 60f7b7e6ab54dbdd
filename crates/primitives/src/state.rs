//! The state layout: every piece of world state is one key in a single ordered key space,
//! so a block's effect is one sorted [`StateDiff`] that the ledger writes atomically and
//! versions by height. Accounts, contract storage, code, precompile tables, system config
//! and the consensus node list all live here, so all of them are covered by the state root
//! and by history ("value as of block N").

use crate::codec::{DecodeError, decode_exact};
use alloy_primitives::{Address, B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use aurum_crypto::CryptoSuite;
use std::collections::BTreeMap;

/// Key-space tags: the first byte of every state key.
pub mod tag {
    pub const ACCOUNT: u8 = 0x01;
    pub const STORAGE: u8 = 0x02;
    pub const CODE: u8 = 0x03;
    pub const TABLE_META: u8 = 0x04;
    pub const TABLE_ROW: u8 = 0x05;
    pub const SYSTEM_CONFIG: u8 = 0x06;
    pub const CONSENSUS_NODES: u8 = 0x07;
    pub const PARALLEL_FUNCTION: u8 = 0x08;
    pub const DAG_USER: u8 = 0x09;
}

/// `0x01 || address` → [`AccountInfo`].
pub fn account_key(address: &Address) -> Vec<u8> {
    let mut k = Vec::with_capacity(21);
    k.push(tag::ACCOUNT);
    k.extend_from_slice(address.as_slice());
    k
}

/// `0x02 || address || slot` → 32-byte big-endian value; absent means zero.
pub fn storage_key(address: &Address, slot: &U256) -> Vec<u8> {
    let mut k = Vec::with_capacity(53);
    k.push(tag::STORAGE);
    k.extend_from_slice(address.as_slice());
    k.extend_from_slice(&slot.to_be_bytes::<32>());
    k
}

/// `0x03 || code hash` → bytecode.
pub fn code_key(code_hash: &B256) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(tag::CODE);
    k.extend_from_slice(code_hash.as_slice());
    k
}

/// `0x04 || table path` → table definition (owned by the executor's table precompile).
pub fn table_meta_key(path: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + path.len());
    k.push(tag::TABLE_META);
    k.extend_from_slice(path.as_bytes());
    k
}

/// Prefix of all rows of a table: `0x05 || u16 path length || path`. The length prefix
/// keeps one table's rows contiguous and apart from any table whose path extends this one.
pub fn table_rows_prefix(path: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + path.len());
    k.push(tag::TABLE_ROW);
    k.extend_from_slice(&(path.len().min(u16::MAX as usize) as u16).to_be_bytes());
    k.extend_from_slice(path.as_bytes());
    k
}

/// `table_rows_prefix(path) || row key` → encoded row.
pub fn table_row_key(path: &str, row_key: &[u8]) -> Vec<u8> {
    let mut k = table_rows_prefix(path);
    k.extend_from_slice(row_key);
    k
}

/// `0x06 || config key` → [`SystemConfigEntry`].
pub fn system_config_key(key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(tag::SYSTEM_CONFIG);
    k.extend_from_slice(key.as_bytes());
    k
}

/// The single key holding the consensus node list ([`ConsensusNodeList`]).
pub fn consensus_nodes_key() -> Vec<u8> {
    vec![tag::CONSENSUS_NODES]
}

/// `0x08 || contract || selector` → a ParallelConfig declaration (owned by the executor).
pub fn parallel_function_key(contract: &Address, selector: [u8; 4]) -> Vec<u8> {
    let mut k = Vec::with_capacity(25);
    k.push(tag::PARALLEL_FUNCTION);
    k.extend_from_slice(contract.as_slice());
    k.extend_from_slice(&selector);
    k
}

/// `0x09 || user name` → a DagTransfer balance (32-byte big-endian).
pub fn dag_user_key(user: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + user.len());
    k.push(tag::DAG_USER);
    k.extend_from_slice(user.as_bytes());
    k
}

/// An account as stored. Code lives under [`code_key`]; `code_hash` is keccak256 of the
/// code (EVM semantics for EXTCODEHASH, whatever the chain's suite) or zero for none.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct AccountInfo {
    pub nonce: u64,
    pub balance: U256,
    pub code_hash: B256,
}

impl AccountInfo {
    pub fn encode(&self) -> Vec<u8> {
        alloy_rlp::encode(self)
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes)
    }
}

/// A system config value and the block number from which it applies.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SystemConfigEntry {
    pub value: String,
    pub enable_number: u64,
}

impl SystemConfigEntry {
    pub fn encode(&self) -> Vec<u8> {
        alloy_rlp::encode(self)
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes)
    }
}

/// Role of a node in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeRole {
    Sealer,
    Observer,
}

/// One entry of the consensus node list.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct ConsensusNode {
    /// Node public key (x || y), whose hex is the node id.
    pub node_id: B512Bytes,
    /// 0 = sealer, 1 = observer.
    pub role: u8,
    /// Voting weight (sealers only).
    pub weight: u64,
    /// The block number from which this entry applies.
    pub enable_number: u64,
}

/// A 64-byte node id, RLP-encoded as a byte string.
pub type B512Bytes = alloy_primitives::FixedBytes<64>;

impl ConsensusNode {
    pub fn role(&self) -> NodeRole {
        if self.role == 0 { NodeRole::Sealer } else { NodeRole::Observer }
    }
}

/// The node list as stored, ordered by node id so every node encodes it identically.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct ConsensusNodeList {
    pub nodes: Vec<ConsensusNode>,
}

impl ConsensusNodeList {
    pub fn encode(&self) -> Vec<u8> {
        alloy_rlp::encode(self)
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes)
    }
    /// Sealers in effect at `height`, in node-id order (the order leader rotation uses).
    pub fn sealers_at(&self, height: u64) -> Vec<&ConsensusNode> {
        self.nodes
            .iter()
            .filter(|n| n.role() == NodeRole::Sealer && n.enable_number <= height)
            .collect()
    }
    /// Hash committed in each header, so a header names the sealer set that must sign it.
    pub fn sealer_list_hash(&self, height: u64, suite: &dyn CryptoSuite) -> B256 {
        let mut buf = Vec::new();
        for n in self.sealers_at(height) {
            buf.extend_from_slice(n.node_id.as_slice());
            buf.extend_from_slice(&n.weight.to_be_bytes());
        }
        suite.hash(&buf)
    }
}

/// The writes of a block (or of one transaction), sorted by key. `None` deletes.
/// Sorting makes the encoding, the state root and the storage batch identical on every node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateDiff {
    pub writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl StateDiff {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }
    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }
    pub fn len(&self) -> usize {
        self.writes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
    /// Later writes win (used to merge per-tx diffs in block order).
    pub fn extend(&mut self, later: StateDiff) {
        self.writes.extend(later.writes);
    }

    /// The state root after applying this diff on top of `parent_root`:
    /// `H(parent_root || diff encoding)`. A hash chain over sorted write sets, as
    /// FISCO BCOS 3.x does: O(size of the diff) per block, identical on every node, and no
    /// trie to maintain. It commits to the whole history of writes (so two nodes with equal
    /// roots hold equal state), at the cost of no per-key state proofs.
    pub fn state_root(&self, parent_root: &B256, suite: &dyn CryptoSuite) -> B256 {
        let mut buf = parent_root.to_vec();
        self.encode_into(&mut buf);
        suite.hash(&buf)
    }

    /// Canonical encoding: for each write in key order, `u32 key len || key || flag ||
    /// [u32 value len || value]` (flag 1 = put, 0 = delete).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        let size: usize =
            self.writes.iter().map(|(k, v)| 9 + k.len() + v.as_ref().map_or(0, Vec::len)).sum();
        out.reserve(size);
        for (k, v) in &self.writes {
            out.extend_from_slice(&(k.len() as u32).to_be_bytes());
            out.extend_from_slice(k);
            match v {
                Some(v) => {
                    out.push(1);
                    out.extend_from_slice(&(v.len() as u32).to_be_bytes());
                    out.extend_from_slice(v);
                }
                None => out.push(0),
            }
        }
    }
}

/// A backend failure while reading state (answered as an internal error, never as "absent").
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("state read failed: {0}")]
pub struct StateError(pub String);

/// Key-value pairs in key order, as returned by [`StateReader::scan_prefix`].
pub type StateEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// Read access to the state as of some block; the ledger implements it, the executor reads
/// through it. Implementations must be consistent for their whole lifetime (a snapshot).
pub trait StateReader: Send + Sync {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// All entries whose key starts with `prefix`, ascending, at most `limit` (0 = all).
    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<StateEntries, StateError>;
}

/// An in-memory state, for tests and genesis building.
#[derive(Debug, Default, Clone)]
pub struct MemState {
    pub entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemState {
    pub fn apply(&mut self, diff: &StateDiff) {
        for (k, v) in &diff.writes {
            match v {
                Some(v) => {
                    self.entries.insert(k.clone(), v.clone());
                }
                None => {
                    self.entries.remove(k);
                }
            }
        }
    }
}

impl StateReader for MemState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.entries.get(key).cloned())
    }
    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<StateEntries, StateError> {
        let iter = self
            .entries
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()));
        Ok(if limit == 0 { iter.collect() } else { iter.take(limit).collect() })
    }
}
