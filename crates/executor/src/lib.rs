//! Aurum's executor: runs a block's transactions on revm (Cancun rules, no gas fees, gas
//! still metered and capped per transaction) and returns receipts and the block's
//! [`StateDiff`]. It never writes storage: the ledger commits the diff.
//!
//! What it owns:
//! - revm behind its `Database` trait over a [`StateReader`] snapshot of the parent state,
//!   with a per-block cache so each key is read from storage at most once;
//! - the platform precompiles with FISCO BCOS 3.x ABIs — SystemConfig (0x1000),
//!   TableManager (0x1002) and the tables it opens, Consensus (0x1003), ParallelConfig
//!   (0x1006), KVTable (0x1009), Crypto (0x100a), DagTransfer (0x100c) — whose data are
//!   ordinary state keys, journaled with the EVM so that reverts undo them. Each is one
//!   file implementing `Precompile` plus one row of the registry
//!   (`precompiles/registry.rs`), which says from which `compatibility_version` it exists
//!   ([`Rules`], read from the parent state, so every node agrees);
//! - the limits that bound a block's and a call's work: `block_gas_limit`
//!   ([`BlockContext::block_gas_limit`], deterministic, by gas), a wall-clock deadline for
//!   read-only calls only ([`Executor::call_with_timeout`]), and table scans read only as
//!   deep as the gas pays for, selects materialising at most 500 rows and 4 MiB;
//! - nonce rules (Ethereum txs carry the account's next nonce; native txs, whose random
//!   nonces are checked at admission, run with the account's current one) and the
//!   `feature_balance` switch.
//!
//! Parallelism ([`ExecMode`], `parallel.rs`): transactions are speculated on a thread pool
//! and committed in block order, a speculative result kept only if nothing it read changed
//! since its snapshot; so every mode's receipts and diff are the serial ones, byte for byte.
//!
//! Determinism: nothing that depends on hash-map iteration order reaches a receipt or the
//! diff (the diff is a `BTreeMap`); executing the same block twice gives identical bytes.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod block;
mod code_cache;
mod deadline;
mod diff;
mod parallel;
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

pub use parallel::{ExecMode, ParallelStats};
pub use precompiles::consensus::{
    CODE_INVALID_NODE_ID, CODE_INVALID_WEIGHT, CODE_LAST_SEALER, CODE_NODE_NOT_EXIST,
};
pub use precompiles::dag_transfer::{
    CODE_BALANCE_OVERFLOW, CODE_INSUFFICIENT_BALANCE, CODE_INVALID_USER_NAME, CODE_USER_EXISTS,
    CODE_USER_NOT_FOUND,
};
pub use precompiles::parallel_config::{
    CODE_INVALID_CRITICAL_SIZE, CODE_INVALID_FUNCTION, selector_of,
};
pub use precompiles::registry::{Rules, Version};
pub use precompiles::system_config::{
    CODE_INVALID_CONFIGURATION_VALUES, validate as validate_system_config,
};
pub use precompiles::table_manager::{table_address, table_path};
pub use precompiles::{
    CONSENSUS_ADDRESS, CRYPTO_ADDRESS, DAG_TRANSFER_ADDRESS, KV_TABLE_ADDRESS,
    PARALLEL_CONFIG_ADDRESS, PLATFORM_PRECOMPILES, SYSTEM_CONFIG_ADDRESS, TABLE_ADDRESS,
    TABLE_MANAGER_ADDRESS,
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
    /// SystemConfig `block_gas_limit`: caps each transaction's gas too, and once the
    /// block's cumulative gas used has reached it every later transaction of the block is
    /// not run ([`TxStatus::BlockGasLimitReached`]). A block's work is thus bounded by
    /// about twice this (the last tx run may start just under it). Deterministic: gas is
    /// the meter, so every node and every [`ExecMode`] cuts the block at the same tx.
    pub block_gas_limit: u64,
    /// `feature_balance`; when false, value transfers are refused.
    pub balances_enabled: bool,
    /// Genesis admin accounts allowed to call the Consensus and SystemConfig setters.
    pub admins: Vec<Address>,
    /// Hashes of recent ancestors by number (the node passes up to the last 256), what
    /// `BLOCKHASH` answers; any other number yields zero, as on Ethereum.
    pub block_hashes: BTreeMap<u64, B256>,
}

/// The default `block_gas_limit`, sized from looping contracts measured on the 2-core
/// development machine under its usual shared load (`cargo test --release --workspace
/// --test limits -- --ignored --nocapture gas_per_second`): a JUMP loop runs ~600–930
/// Mgas/s, an SLOAD/SSTORE loop ~640–720 Mgas/s, a KECCAK256 loop (the slowest per gas)
/// ~42–54 Mgas/s. At 100 M gas a full block of the hash loop takes ~2 s there (~1 s with
/// the cores to itself) and of the others ~0.15 s, while 1,000 first-time ERC-20
/// transfers (~52 k gas each, the `tx_count_limit` default) still fit one block.
pub const DEFAULT_BLOCK_GAS_LIMIT: u64 = 100_000_000;

impl BlockContext {
    /// The most gas one transaction (or call) may use in this block.
    pub fn gas_cap(&self) -> u64 {
        self.tx_gas_limit.min(self.block_gas_limit)
    }
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
    /// A read-only call ran past its wall-clock deadline ([`Executor::call_with_timeout`]);
    /// never returned by block execution, which is bounded by gas alone.
    #[error("execution timed out after {ms} ms")]
    TimedOut {
        /// The deadline the call was given, in milliseconds.
        ms: u64,
    },
}

/// Executes blocks and calls. Cheap to share: holds the crypto suites, a cache of
/// analysed contract code (immutable by hash, so valid across blocks) and the thread pool
/// parallel execution speculates on.
#[derive(Debug, Clone)]
pub struct Executor {
    suite: Arc<dyn CryptoSuite>,
    sm: Arc<dyn CryptoSuite>,
    code_cache: Arc<CodeCache>,
    mode: ExecMode,
    pool: Option<Arc<rayon::ThreadPool>>,
    /// The optimistic window the last block ended with (see `parallel::execute`).
    window: Arc<std::sync::atomic::AtomicUsize>,
}

impl Executor {
    pub fn new(suite: Arc<dyn CryptoSuite>) -> Self {
        let sm = if suite.kind() == SuiteKind::Sm2Sm3 {
            Arc::clone(&suite)
        } else {
            aurum_crypto::suite(SuiteKind::Sm2Sm3)
        };
        Self {
            suite,
            sm,
            code_cache: Arc::new(CodeCache::default()),
            mode: ExecMode::Serial,
            pool: None,
            window: Arc::new(std::sync::atomic::AtomicUsize::new(parallel::FIRST_WINDOW)),
        }
    }

    /// Executes blocks in `mode` on `threads` threads (0: half the cores, so that
    /// admission, the network and the commit keep the other half; on 2 cores that is one
    /// thread, i.e. serial — measured: speculating there only moves CPU from admission to
    /// execution). One thread, or [`ExecMode::Serial`], executes serially.
    pub fn with_parallelism(mut self, mode: ExecMode, threads: usize) -> Result<Self, String> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| usize::from(n) / 2)
        } else {
            threads
        };
        self.mode = mode;
        self.pool = None;
        if mode != ExecMode::Serial && threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("aurum-exec-{i}"))
                .build()
                .map_err(|e| format!("cannot start {threads} execution threads: {e}"))?;
            self.pool = Some(Arc::new(pool));
        }
        Ok(self)
    }

    /// The execution mode and thread count blocks run with.
    pub fn parallelism(&self) -> (ExecMode, usize) {
        match &self.pool {
            Some(pool) => (self.mode, pool.current_num_threads()),
            None => (ExecMode::Serial, 1),
        }
    }

    /// The chain's crypto suite.
    pub fn suite(&self) -> &Arc<dyn CryptoSuite> {
        &self.suite
    }

    /// What the precompiles see of this block: its number, the admins, and the rules of
    /// the group's `compatibility_version` as the parent state holds it.
    fn env(&self, state: &dyn StateReader, ctx: &BlockContext) -> Result<PrecompileEnv, ExecError> {
        Ok(PrecompileEnv {
            block_number: ctx.number,
            admins: ctx.admins.clone(),
            sm: Arc::clone(&self.sm),
            rules: precompiles::registry::Rules::from_state(state)?,
        })
    }

    /// Executes `txs` in order over `state` (the parent block's state). Never writes
    /// storage; fails only if reading state fails.
    pub fn execute_block(
        &self,
        state: &dyn StateReader,
        ctx: &BlockContext,
        txs: &[VerifiedTx],
    ) -> Result<ExecutedBlock, ExecError> {
        self.execute_block_with_stats(state, ctx, txs).map(|(block, _)| block)
    }

    /// [`Executor::execute_block`], also saying how much of it ran in parallel.
    pub fn execute_block_with_stats(
        &self,
        state: &dyn StateReader,
        ctx: &BlockContext,
        txs: &[VerifiedTx],
    ) -> Result<(ExecutedBlock, ParallelStats), ExecError> {
        let env = self.env(state, ctx)?;
        let db = StateDb::new(state, Arc::clone(&self.code_cache), &ctx.block_hashes);
        let mut evm = block::build_evm(db, ctx, env.clone());
        let (receipts, stats) = match &self.pool {
            Some(pool) if self.mode != ExecMode::Serial && txs.len() > 1 => {
                let mut keys = Vec::with_capacity(txs.len());
                for tx in txs {
                    let declared = match self.mode {
                        ExecMode::Optimistic => None,
                        _ => parallel::declared_keys(block::db(&mut evm), &env.rules, tx)?,
                    };
                    keys.push(declared);
                }
                let plan = parallel::Plan::build(txs, keys, self.mode);
                let ordering = std::sync::atomic::Ordering::Relaxed;
                let mut window = self.window.load(ordering);
                let out = parallel::execute(&mut evm, ctx, &env, txs, &plan, pool, &mut window)?;
                self.window.store(window, ordering);
                out
            }
            _ => {
                let mut receipts = Vec::with_capacity(txs.len());
                let mut gas_used = 0u64;
                for tx in txs {
                    let receipt = if gas_used >= ctx.block_gas_limit {
                        block::skip_tx(&mut evm, ctx, tx, gas_used)?
                    } else {
                        block::execute_tx(&mut evm, ctx, tx)?
                    };
                    gas_used = gas_used.saturating_add(receipt.gas_used);
                    receipts.push(receipt);
                }
                let stats = ParallelStats { direct: txs.len(), ..Default::default() };
                (receipts, stats)
            }
        };
        let gas_used = receipts.iter().fold(0u64, |sum, r| sum.saturating_add(r.gas_used));
        let diff = evm.ctx.journaled_state.database.build_diff()?;
        Ok((ExecutedBlock { receipts, diff, gas_used }, stats))
    }

    /// A read-only call (eth_call / native call) against `state`: nothing is persisted.
    /// `gas` defaults to, and is capped by, [`BlockContext::gas_cap`].
    pub fn call(
        &self,
        state: &dyn StateReader,
        ctx: &BlockContext,
        from: Address,
        to: Option<Address>,
        input: Bytes,
        gas: Option<u64>,
    ) -> Result<CallOutcome, ExecError> {
        let env = self.env(state, ctx)?;
        let db = StateDb::new(state, Arc::clone(&self.code_cache), &ctx.block_hashes);
        let mut evm = block::build_evm_with(db, ctx, env, revm::inspector::NoOpInspector);
        block::call(&mut evm, ctx, from, to, input, gas, false)
    }

    /// [`Executor::call`] stopped by the wall clock: past `timeout` it fails with
    /// [`ExecError::TimedOut`] ("execution timed out after N ms"), whatever gas is left.
    /// For RPC calls only (`eth_call`, `eth_estimateGas`): a block never runs on a clock,
    /// or nodes would disagree.
    #[allow(clippy::too_many_arguments)]
    pub fn call_with_timeout(
        &self,
        state: &dyn StateReader,
        ctx: &BlockContext,
        from: Address,
        to: Option<Address>,
        input: Bytes,
        gas: Option<u64>,
        timeout: std::time::Duration,
    ) -> Result<CallOutcome, ExecError> {
        let env = self.env(state, ctx)?;
        let db = StateDb::new(state, Arc::clone(&self.code_cache), &ctx.block_hashes);
        let inspector = deadline::Deadline::new(timeout);
        let mut evm = block::build_evm_with(db, ctx, env, inspector);
        let outcome = block::call(&mut evm, ctx, from, to, input, gas, true);
        if evm.inspector.expired() {
            return Err(ExecError::TimedOut { ms: evm.inspector.millis() });
        }
        outcome
    }
}
