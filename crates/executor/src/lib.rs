//! Aurum's executor: runs a block's transactions on revm (Cancun rules, no gas fees, gas
//! still metered and capped per transaction) and returns receipts and the block's
//! [`StateDiff`]. It never writes storage: the ledger commits the diff.
//!
//! What it owns:
//! - revm behind its `Database` trait over a [`StateReader`] snapshot of the parent state,
//!   with a per-block cache so each key is read from storage at most once;
//! - the platform precompiles with FISCO BCOS 3.x ABIs — SystemConfig (0x1000),
//!   TableManager (0x1002) and the tables it opens, Consensus (0x1003), KVTable (0x1009),
//!   Crypto (0x100a) — whose data are ordinary state keys, journaled with the EVM so that
//!   reverts undo them;
//! - nonce rules (Ethereum txs carry the account's next nonce; native txs, whose random
//!   nonces are checked at admission, run with the account's current one) and the
//!   `feature_balance` switch.
//!
//! Determinism: nothing that depends on hash-map iteration order reaches a receipt or the
//! diff (the diff is a `BTreeMap`); executing the same block twice gives identical bytes.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod block;
mod code_cache;
mod diff;
pub mod precompiles;
mod state_db;

use alloy_primitives::{Address, B256, Bytes, Log};
use aurum_crypto::{CryptoSuite, SuiteKind};
use aurum_primitives::{Receipt, StateDiff, StateError, StateReader, TxStatus, VerifiedTx};
use code_cache::CodeCache;
use precompiles::PrecompileEnv;
use state_db::StateDb;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use precompiles::consensus::{
    CODE_INVALID_NODE_ID, CODE_INVALID_WEIGHT, CODE_LAST_SEALER, CODE_NODE_NOT_EXIST,
};
pub use precompiles::system_config::{
    CODE_INVALID_CONFIGURATION_VALUES, validate as validate_system_config,
};
pub use precompiles::table_manager::{table_address, table_path};
pub use precompiles::{
    CONSENSUS_ADDRESS, CRYPTO_ADDRESS, KV_TABLE_ADDRESS, PLATFORM_PRECOMPILES,
    SYSTEM_CONFIG_ADDRESS, TABLE_ADDRESS, TABLE_MANAGER_ADDRESS,
};

/// What a block's execution depends on besides the parent state and its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockContext {
    pub number: u64,
    /// Header timestamp in milliseconds; `block.timestamp` in the EVM is in seconds.
    pub timestamp_ms: u64,
    /// The group's Ethereum chain id (`block.chainid`).
    pub chain_id: u64,
    /// SystemConfig `tx_gas_limit`: caps each transaction's gas.
    pub tx_gas_limit: u64,
    /// `feature_balance`; when false, value transfers are refused.
    pub balances_enabled: bool,
    /// Genesis admin accounts allowed to call the Consensus and SystemConfig setters.
    pub admins: Vec<Address>,
    /// Hashes of recent ancestors by number (the node passes up to the last 256), what
    /// `BLOCKHASH` answers; any other number yields zero, as on Ethereum.
    pub block_hashes: BTreeMap<u64, B256>,
}

/// The outcome of a block: one receipt per transaction, in order, and the state writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutedBlock {
    pub receipts: Vec<Receipt>,
    pub diff: StateDiff,
    /// Sum of the receipts' gas.
    pub gas_used: u64,
}

/// The outcome of a read-only call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    pub status: TxStatus,
    /// Return data, or revert data when `status` is `Reverted`.
    pub output: Bytes,
    pub gas_used: u64,
    pub logs: Vec<Log>,
}

/// Execution could not produce a result. Never caused by a transaction: an invalid
/// transaction gets a failed receipt instead.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ExecError {
    /// The state backend failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The EVM failed in a way no transaction can cause (a bug or misconfiguration).
    #[error("EVM failure: {0}")]
    Evm(String),
}

/// Executes blocks and calls. Cheap to share: holds the crypto suites and a cache of
/// analysed contract code (immutable by hash, so valid across blocks).
#[derive(Debug, Clone)]
pub struct Executor {
    suite: Arc<dyn CryptoSuite>,
    sm: Arc<dyn CryptoSuite>,
    code_cache: Arc<CodeCache>,
}

impl Executor {
    pub fn new(suite: Arc<dyn CryptoSuite>) -> Self {
        let sm = if suite.kind() == SuiteKind::Sm2Sm3 {
            Arc::clone(&suite)
        } else {
            aurum_crypto::suite(SuiteKind::Sm2Sm3)
        };
        Self { suite, sm, code_cache: Arc::new(CodeCache::default()) }
    }

    /// The chain's crypto suite.
    pub fn suite(&self) -> &Arc<dyn CryptoSuite> {
        &self.suite
    }

    fn env(&self, ctx: &BlockContext) -> PrecompileEnv {
        PrecompileEnv {
            block_number: ctx.number,
            admins: ctx.admins.clone(),
            sm: Arc::clone(&self.sm),
        }
    }

    /// Executes `txs` in order over `state` (the parent block's state). Never writes
    /// storage; fails only if reading state fails.
    pub fn execute_block(
        &self,
        state: &dyn StateReader,
        ctx: &BlockContext,
        txs: &[VerifiedTx],
    ) -> Result<ExecutedBlock, ExecError> {
        let db = StateDb::new(state, Arc::clone(&self.code_cache), &ctx.block_hashes);
        let mut evm = block::build_evm(db, ctx, self.env(ctx));
        let mut receipts = Vec::with_capacity(txs.len());
        let mut gas_used = 0u64;
        for tx in txs {
            let receipt = block::execute_tx(&mut evm, ctx, tx)?;
            gas_used = gas_used.saturating_add(receipt.gas_used);
            receipts.push(receipt);
        }
        let diff = evm.ctx.journaled_state.database.build_diff()?;
        Ok(ExecutedBlock { receipts, diff, gas_used })
    }

    /// A read-only call (eth_call / native call) against `state`: nothing is persisted.
    /// `gas` defaults to, and is capped by, `ctx.tx_gas_limit`.
    pub fn call(
        &self,
        state: &dyn StateReader,
        ctx: &BlockContext,
        from: Address,
        to: Option<Address>,
        input: Bytes,
        gas: Option<u64>,
    ) -> Result<CallOutcome, ExecError> {
        let db = StateDb::new(state, Arc::clone(&self.code_cache), &ctx.block_hashes);
        let mut evm = block::build_evm(db, ctx, self.env(ctx));
        block::call(&mut evm, ctx, from, to, input, gas)
    }
}
