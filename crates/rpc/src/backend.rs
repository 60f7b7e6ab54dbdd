//! The narrow seams RPC serves through, and their implementation for [`Group`]. Method
//! handlers see only these traits: they never open a ledger view or build a state key, so
//! the storage layout can change under them and a test can serve RPC over any group.

use crate::jsonrpc::{Params, RpcError, RpcResult};
use alloy_primitives::{Address, B256, Bytes, U256};
use aurum_crypto::CryptoSuite;
use aurum_executor::CallOutcome;
use aurum_group::{ChainParams, Group, GroupStats};
use aurum_ledger::{StoredTx, TxLocation};
use aurum_primitives::merkle::ProofStep;
use aurum_primitives::state::{
    self, AccountInfo, ConsensusNodeList, StateReader, SystemConfigEntry,
};
use aurum_primitives::{Block, CommitCertificate, Header, Receipt, Transaction, VerifiedTx};
use aurum_txpool::{AdmitError, RawFormat};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Committed blocks and their parts.
pub trait BlockReader {
    /// The head block number.
    fn head(&self) -> RpcResult<u64>;
    /// Watches the head number; changes after each commit.
    fn subscribe_head(&self) -> watch::Receiver<u64>;
    fn header(&self, number: u64) -> RpcResult<Option<Header>>;
    /// A header's hash under the group's suite.
    fn header_hash(&self, header: &Header) -> B256;
    fn block(&self, number: u64) -> RpcResult<Option<Block>>;
    fn block_hash(&self, number: u64) -> RpcResult<Option<B256>>;
    fn block_number(&self, hash: &B256) -> RpcResult<Option<u64>>;
    fn block_tx_hashes(&self, number: u64) -> RpcResult<Option<Vec<B256>>>;
    fn block_receipts(&self, number: u64) -> RpcResult<Option<Vec<Receipt>>>;
    fn certificate(&self, number: u64) -> RpcResult<Option<CommitCertificate>>;
}

/// Transactions: committed (with receipts and proofs) and waiting in the pool.
pub trait TxReader {
    fn transaction(&self, hash: &B256) -> RpcResult<Option<StoredTx>>;
    fn receipt(&self, hash: &B256) -> RpcResult<Option<Receipt>>;
    fn tx_proof(&self, hash: &B256) -> RpcResult<Option<(TxLocation, Vec<ProofStep>)>>;
    fn receipt_proof(&self, hash: &B256) -> RpcResult<Option<(TxLocation, Vec<ProofStep>)>>;
    fn total_tx_count(&self) -> RpcResult<u64>;
    /// A tx in the pool (waiting or being sealed).
    fn pending(&self, hash: &B256) -> Option<Arc<VerifiedTx>>;
    /// The next nonce of `address` counting the pool's txs.
    fn pending_nonce(&self, address: &Address) -> RpcResult<u64>;
    /// Txs the pool holds.
    fn pending_count(&self) -> usize;
    /// Up to `max` waiting tx hashes from `cursor` on, and the next cursor
    /// (`pending_since(u64::MAX, 0)`: the cursor of "now").
    fn pending_since(&self, cursor: u64, max: usize) -> (Vec<B256>, u64);
}

/// State after a committed block (`at`, clamped to the head).
pub trait StateAt {
    fn account(&self, address: &Address, at: u64) -> RpcResult<Option<AccountInfo>>;
    /// The account's code (empty for none).
    fn code(&self, address: &Address, at: u64) -> RpcResult<Vec<u8>>;
    fn storage(&self, address: &Address, slot: &U256, at: u64) -> RpcResult<U256>;
}

/// Admission of client txs into the pool.
pub trait TxSubmit {
    fn submit(&self, tx: Transaction) -> Result<B256, AdmitError>;
    /// A client's raw tx: size checked, decoded as `format` says, admitted.
    fn submit_raw(&self, raw: &[u8], format: RawFormat) -> Result<B256, AdmitError>;
    /// Warms read caches before admitting many txs at once.
    fn prefetch(&self, txs: &[Transaction]);
    /// Txs admitted and the time spent admitting them, since start.
    fn admission_stats(&self) -> (u64, Duration);
}

/// What a read-only call runs.
#[derive(Debug, Clone)]
pub struct CallRequest {
    /// The block whose state it reads (None: the head).
    pub at: Option<u64>,
    pub from: Address,
    pub to: Option<Address>,
    pub input: Bytes,
    /// Already capped by the RPC's gas cap.
    pub gas: u64,
    /// When the caller stops waiting for the answer.
    pub deadline: Instant,
}

/// Read-only execution.
pub trait Call {
    /// Runs `req` against the state after its block; returns that block's number and the
    /// outcome.
    fn call(&self, req: CallRequest) -> RpcResult<(u64, CallOutcome)>;
}

/// Who the group is and the rules in force.
pub trait GroupMeta {
    fn id(&self) -> &str;
    fn chain_id(&self) -> &str;
    /// The crypto suite's name in the genesis ("secp256k1" or "sm").
    fn crypto(&self) -> &str;
    fn genesis_hash(&self) -> B256;
    /// This node's id (hex).
    fn node_id_hex(&self) -> String;
    fn suite(&self) -> &dyn CryptoSuite;
    /// Chain parameters for executing block `number`.
    fn params(&self, number: u64) -> RpcResult<ChainParams>;
    /// The consensus node list in the state after block `number`.
    fn consensus_nodes_at(&self, number: u64) -> RpcResult<ConsensusNodeList>;
    fn system_config(&self, key: &str, number: u64) -> RpcResult<Option<SystemConfigEntry>>;
    fn stats(&self) -> GroupStats;
}

/// Everything RPC needs of a group.
pub trait Backend:
    BlockReader + TxReader + StateAt + TxSubmit + Call + GroupMeta + Send + Sync
{
}
impl<T: BlockReader + TxReader + StateAt + TxSubmit + Call + GroupMeta + Send + Sync> Backend
    for T
{
}

/// A group as RPC serves it.
pub type GroupRef = Arc<dyn Backend>;

/// Group methods of the catalogue served outside this crate (the node's explorer methods).
pub trait Extension: Send + Sync {
    /// Serves `method` for group `g`; `None` if it is not this extension's.
    fn call(&self, g: &GroupRef, method: &str, p: &Params) -> Option<RpcResult>;
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::internal(e)
}

impl BlockReader for Group {
    fn head(&self) -> RpcResult<u64> {
        self.ledger().head_number().map_err(internal)
    }
    fn subscribe_head(&self) -> watch::Receiver<u64> {
        Group::subscribe_head(self)
    }
    fn header(&self, number: u64) -> RpcResult<Option<Header>> {
        self.ledger().header(number).map_err(internal)
    }
    fn header_hash(&self, header: &Header) -> B256 {
        header.hash(&**Group::suite(self))
    }
    fn block(&self, number: u64) -> RpcResult<Option<Block>> {
        self.ledger().block(number).map_err(internal)
    }
    fn block_hash(&self, number: u64) -> RpcResult<Option<B256>> {
        self.ledger().block_hash(number).map_err(internal)
    }
    fn block_number(&self, hash: &B256) -> RpcResult<Option<u64>> {
        self.ledger().block_number_by_hash(hash).map_err(internal)
    }
    fn block_tx_hashes(&self, number: u64) -> RpcResult<Option<Vec<B256>>> {
        self.ledger().block_tx_hashes(number).map_err(internal)
    }
    fn block_receipts(&self, number: u64) -> RpcResult<Option<Vec<Receipt>>> {
        self.ledger().block_receipts(number).map_err(internal)
    }
    fn certificate(&self, number: u64) -> RpcResult<Option<CommitCertificate>> {
        self.ledger().certificate(number).map_err(internal)
    }
}

impl TxReader for Group {
    fn transaction(&self, hash: &B256) -> RpcResult<Option<StoredTx>> {
        self.ledger().transaction(hash).map_err(internal)
    }
    fn receipt(&self, hash: &B256) -> RpcResult<Option<Receipt>> {
        self.ledger().receipt(hash).map_err(internal)
    }
    fn tx_proof(&self, hash: &B256) -> RpcResult<Option<(TxLocation, Vec<ProofStep>)>> {
        self.ledger().tx_proof(hash).map_err(internal)
    }
    fn receipt_proof(&self, hash: &B256) -> RpcResult<Option<(TxLocation, Vec<ProofStep>)>> {
        self.ledger().receipt_proof(hash).map_err(internal)
    }
    fn total_tx_count(&self) -> RpcResult<u64> {
        self.ledger().total_tx_count().map_err(internal)
    }
    fn pending(&self, hash: &B256) -> Option<Arc<VerifiedTx>> {
        self.pool().get(hash)
    }
    fn pending_nonce(&self, address: &Address) -> RpcResult<u64> {
        self.pool().pending_nonce(address).map_err(internal)
    }
    fn pending_count(&self) -> usize {
        self.pool().len()
    }
    fn pending_since(&self, cursor: u64, max: usize) -> (Vec<B256>, u64) {
        self.pool().waiting_since(cursor, max)
    }
}

/// One key of the state after block `at` (the latest view at or past the head).
fn read_state(g: &Group, at: u64, key: &[u8]) -> RpcResult<Option<Vec<u8>>> {
    let head = BlockReader::head(g)?;
    let result = if at < head {
        g.ledger().state_at(at).get(key)
    } else {
        g.ledger().latest_state().get(key)
    };
    result.map_err(|e| internal(e.0))
}

impl StateAt for Group {
    fn account(&self, address: &Address, at: u64) -> RpcResult<Option<AccountInfo>> {
        match read_state(self, at, &state::account_key(address))? {
            Some(bytes) => Ok(Some(AccountInfo::decode(&bytes).map_err(internal)?)),
            None => Ok(None),
        }
    }
    fn code(&self, address: &Address, at: u64) -> RpcResult<Vec<u8>> {
        let Some(account) = self.account(address, at)? else { return Ok(Vec::new()) };
        if account.code_hash == B256::ZERO || account.code_hash == alloy_primitives::KECCAK256_EMPTY
        {
            return Ok(Vec::new());
        }
        Ok(read_state(self, at, &state::code_key(&account.code_hash))?.unwrap_or_default())
    }
    fn storage(&self, address: &Address, slot: &U256, at: u64) -> RpcResult<U256> {
        Ok(read_state(self, at, &state::storage_key(address, slot))?
            .map_or(U256::ZERO, |b| U256::from_be_slice(&b[..b.len().min(32)])))
    }
}

impl TxSubmit for Group {
    fn submit(&self, tx: Transaction) -> Result<B256, AdmitError> {
        self.pool().submit(tx)
    }
    fn submit_raw(&self, raw: &[u8], format: RawFormat) -> Result<B256, AdmitError> {
        self.pool().submit_raw(raw, format)
    }
    fn prefetch(&self, txs: &[Transaction]) {
        self.pool().prefetch(txs.iter());
    }
    fn admission_stats(&self) -> (u64, Duration) {
        self.pool().admission_stats()
    }
}

impl Call for Group {
    fn call(&self, req: CallRequest) -> RpcResult<(u64, CallOutcome)> {
        // The EVM itself stops at the deadline (checked every few thousand instructions),
        // so a runaway call frees its thread and its concurrency permit on time; the RPC
        // also answers at the deadline in case the stop comes a little late.
        let timeout = req.deadline.saturating_duration_since(Instant::now());
        match Group::call_within(self, req.at, req.from, req.to, req.input, Some(req.gas), timeout)
        {
            Err(aurum_group::GroupError::Exec(aurum_executor::ExecError::TimedOut { ms })) => {
                Err(crate::limits::timeout_error("the call", Duration::from_millis(ms)))
            }
            other => other.map_err(internal),
        }
    }
}

impl GroupMeta for Group {
    fn id(&self) -> &str {
        Group::id(self)
    }
    fn chain_id(&self) -> &str {
        Group::chain_id(self)
    }
    fn crypto(&self) -> &str {
        &self.genesis().crypto
    }
    fn genesis_hash(&self) -> B256 {
        Group::genesis_hash(self)
    }
    fn node_id_hex(&self) -> String {
        self.node_id().to_hex()
    }
    fn suite(&self) -> &dyn CryptoSuite {
        &**Group::suite(self)
    }
    fn params(&self, number: u64) -> RpcResult<ChainParams> {
        Group::params(self, number).map_err(internal)
    }
    fn consensus_nodes_at(&self, number: u64) -> RpcResult<ConsensusNodeList> {
        self.ledger().consensus_nodes_at(number).map_err(internal)
    }
    fn system_config(&self, key: &str, number: u64) -> RpcResult<Option<SystemConfigEntry>> {
        self.ledger().system_config_for_block(key, number).map_err(internal)
    }
    fn stats(&self) -> GroupStats {
        Group::stats(self)
    }
}

/// Who this node is connected to, for `getPeers` and `net_peerCount` (the node's network).
pub trait PeerView: Send + Sync {
    /// One JSON object per connected peer.
    fn peers(&self) -> Vec<serde_json::Value>;
}

/// Group lifecycle at run time (the node implements it); served on the admin listener only.
pub trait GroupAdmin: Send + Sync {
    /// Creates a group from its genesis (not started); returns its description.
    fn generate(&self, genesis: serde_json::Value) -> Result<serde_json::Value, String>;
    fn start(&self, group: &str) -> Result<(), String>;
    fn stop(&self, group: &str) -> Result<(), String>;
    /// Stops it and sets it aside; its data is kept.
    fn remove(&self, group: &str) -> Result<(), String>;
    /// Brings a removed group back (stopped; start it next).
    fn recover(&self, group: &str) -> Result<(), String>;
    /// Every group this node knows, with its status.
    fn list(&self) -> serde_json::Value;
}
