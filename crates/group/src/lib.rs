//! One group's runtime: its ledger, tx pool and executor, the block context built from the
//! group's system config, head-of-chain notifications, and the block's way from proposal to
//! ledger: building and checking proposals, executing a checked block, finalising its header
//! and committing it with its certificate in one batch. The PBFT driver
//! (`aurum-consortium`) decides which proposal commits, alone or among nodes.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use alloy_primitives::{Address, B256, Bytes};
use aurum_crypto::{CryptoSuite, KeyPair, PublicKey};
pub use aurum_executor::ExecMode;
use aurum_executor::{BlockContext, CallOutcome, ExecError, Executor};
use aurum_ledger::{Genesis, Ledger, LedgerError};
use aurum_primitives::state::StateReader;
use aurum_storage::KvStore;
use aurum_txpool::{PoolConfig, TxPool};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

mod decided;
pub use decided::{
    BlockRejected, BuiltProposal, CheckedBlock, ExecutedBlock, MAX_PROPOSAL_BYTES, Sealer,
    encode_proposal, proposal_digest,
};

/// How many ancestor hashes BLOCKHASH can see (as in Ethereum).
const BLOCKHASH_WINDOW: u64 = 256;

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    Genesis(#[from] aurum_ledger::GenesisError),
    #[error("system config {key} = {value:?} is not a valid number")]
    BadConfig { key: String, value: String },
    #[error("block {0} is not in the ledger")]
    UnknownBlock(u64),
    #[error("execution: {0}")]
    Config(String),
}

pub type Result<T, E = GroupError> = std::result::Result<T, E>;

/// Tunables of a group's runtime.
#[derive(Debug, Clone)]
pub struct GroupOptions {
    pub pool_capacity: usize,
    /// Txs one sender may hold in the pool.
    pub sender_quota: usize,
    /// How blocks execute (every mode gives the serial result) and on how many threads
    /// (0: half the cores).
    pub exec_mode: ExecMode,
    pub exec_threads: usize,
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions {
            pool_capacity: 100_000,
            sender_quota: aurum_txpool::DEFAULT_SENDER_QUOTA,
            exec_mode: ExecMode::Auto,
            exec_threads: 0,
        }
    }
}

/// Chain parameters read from the system config in effect for one block.
#[derive(Debug, Clone)]
pub struct ChainParams {
    pub tx_count_limit: u64,
    pub tx_gas_limit: u64,
    /// Gas a block may use; the leader stops filling a block when its txs' declared gas
    /// reaches it, and execution cuts a block off there (`block_gas_limit`).
    pub block_gas_limit: u64,
    pub web3_chain_id: u64,
    pub balances_enabled: bool,
}

/// Totals since the node started (for `getGroupStats` and the bench's breakdown).
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupStats {
    pub blocks: u64,
    pub txs: u64,
    pub execute: Duration,
    pub commit: Duration,
}

/// What happened in one committed block (for subscribers and metrics).
#[derive(Debug, Clone, Copy, Default)]
pub struct SealStats {
    pub number: u64,
    pub txs: usize,
    pub execute: Duration,
    pub commit: Duration,
}

pub struct Group {
    genesis: Genesis,
    genesis_hash: B256,
    ledger: Arc<Ledger>,
    pool: Arc<TxPool>,
    executor: Arc<Executor>,
    suite: Arc<dyn CryptoSuite>,
    node_key: KeyPair,
    head: watch::Sender<u64>,
    /// Hashes of the last BLOCKHASH_WINDOW blocks, for block contexts.
    recent_hashes: Mutex<BTreeMap<u64, B256>>,
    /// Consensus and sync may race to commit a height: one at a time.
    commit_lock: Mutex<()>,
    stats: Mutex<GroupStats>,
}

impl Group {
    /// Opens (or creates from `genesis`) the group's ledger in `store`.
    pub fn open(
        store: Arc<dyn KvStore>,
        genesis: Genesis,
        node_key: KeyPair,
        options: GroupOptions,
    ) -> Result<Arc<Self>> {
        let suite = aurum_crypto::suite(genesis.suite_kind()?);
        let ledger = Arc::new(Ledger::open(store, Arc::clone(&suite), &genesis)?);
        let genesis_hash = ledger.block_hash(0)?.ok_or(GroupError::UnknownBlock(0))?;
        let head = ledger.head_number()?;
        let params = chain_params(&ledger, head + 1)?;
        let pool = Arc::new(TxPool::new(
            PoolConfig {
                chain_id: genesis.chain_id.clone(),
                group_id: genesis.group_id.clone(),
                capacity: options.pool_capacity,
                capacity_bytes: aurum_txpool::DEFAULT_CAPACITY_BYTES,
                sender_quota: options.sender_quota,
                sender_quota_bytes: aurum_txpool::DEFAULT_SENDER_QUOTA_BYTES,
            },
            Arc::clone(&ledger),
            params.web3_chain_id,
        ));
        let mut recent = BTreeMap::new();
        for n in head.saturating_sub(BLOCKHASH_WINDOW - 1)..=head {
            recent.insert(n, ledger.block_hash(n)?.ok_or(GroupError::UnknownBlock(n))?);
        }
        let (head_tx, _) = watch::channel(head);
        Ok(Arc::new(Group {
            genesis,
            genesis_hash,
            executor: Arc::new(
                Executor::new(Arc::clone(&suite))
                    .with_parallelism(options.exec_mode, options.exec_threads)
                    .map_err(GroupError::Config)?,
            ),
            ledger,
            pool,
            suite,
            node_key,
            head: head_tx,
            recent_hashes: Mutex::new(recent),
            commit_lock: Mutex::new(()),
            stats: Mutex::new(GroupStats::default()),
        }))
    }

    pub fn id(&self) -> &str {
        &self.genesis.group_id
    }
    pub fn chain_id(&self) -> &str {
        &self.genesis.chain_id
    }
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }
    pub fn genesis_hash(&self) -> B256 {
        self.genesis_hash
    }
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }
    pub fn pool(&self) -> &Arc<TxPool> {
        &self.pool
    }
    pub fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }
    pub fn suite(&self) -> &Arc<dyn CryptoSuite> {
        &self.suite
    }
    pub fn node_id(&self) -> PublicKey {
        self.node_key.public()
    }
    /// This node's key (what its consensus votes and certificates are signed with).
    pub fn node_key(&self) -> &KeyPair {
        &self.node_key
    }

    /// Sealing totals since start.
    pub fn stats(&self) -> GroupStats {
        *self.stats.lock()
    }

    /// Watches the head block number; changes after each commit.
    pub fn subscribe_head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Chain parameters in effect for executing block `number`.
    pub fn params(&self, number: u64) -> Result<ChainParams> {
        chain_params(&self.ledger, number)
    }

    /// The execution context of block `number` (parent = `number - 1` must be committed).
    pub fn block_context(&self, number: u64, timestamp_ms: u64) -> Result<BlockContext> {
        let params = self.params(number)?;
        let first = number.saturating_sub(BLOCKHASH_WINDOW);
        let mut block_hashes = BTreeMap::new();
        {
            let recent = self.recent_hashes.lock();
            for n in first..number {
                if let Some(h) = recent.get(&n) {
                    block_hashes.insert(n, *h);
                }
            }
        }
        // Historical contexts (eth_call at an old block) read the ledger.
        if block_hashes.len() as u64 != number - first {
            for n in first..number {
                if let std::collections::btree_map::Entry::Vacant(e) = block_hashes.entry(n)
                    && let Some(h) = self.ledger.block_hash(n)?
                {
                    e.insert(h);
                }
            }
        }
        Ok(BlockContext {
            number,
            timestamp_ms,
            chain_id: params.web3_chain_id,
            tx_gas_limit: params.tx_gas_limit,
            block_gas_limit: params.block_gas_limit,
            balances_enabled: params.balances_enabled,
            admins: self.genesis.admins.clone(),
            block_hashes,
        })
    }

    /// A read-only call against the state after block `at` (the head if None), executed as
    /// if in the block after it.
    pub fn call(
        &self,
        at: Option<u64>,
        from: Address,
        to: Option<Address>,
        input: Bytes,
        gas: Option<u64>,
    ) -> Result<(u64, CallOutcome)> {
        self.call_at(at, |state, ctx| self.executor.call(state, ctx, from, to, input, gas))
    }

    /// [`Group::call`] stopped once `timeout` passes (`ExecError::TimedOut`), whatever gas
    /// is left: for clients' calls, never for block execution (a clock is not deterministic).
    #[allow(clippy::too_many_arguments)]
    pub fn call_within(
        &self,
        at: Option<u64>,
        from: Address,
        to: Option<Address>,
        input: Bytes,
        gas: Option<u64>,
        timeout: Duration,
    ) -> Result<(u64, CallOutcome)> {
        self.call_at(at, |state, ctx| {
            self.executor.call_with_timeout(state, ctx, from, to, input, gas, timeout)
        })
    }

    /// Runs `run` over the state after block `at` (the head if None, never past it) and the
    /// context of the block after it; returns the block read and the outcome.
    fn call_at<T>(
        &self,
        at: Option<u64>,
        run: impl FnOnce(&dyn StateReader, &BlockContext) -> std::result::Result<T, ExecError>,
    ) -> Result<(u64, T)> {
        let head = self.ledger.head_number()?;
        let at = at.unwrap_or(head).min(head);
        let header = self.ledger.header(at)?.ok_or(GroupError::UnknownBlock(at))?;
        let ctx = self.block_context(at + 1, header.timestamp_ms)?;
        let outcome = if at == head {
            run(&self.ledger.latest_state(), &ctx)?
        } else {
            run(&self.ledger.state_at(at), &ctx)?
        };
        Ok((at, outcome))
    }

    /// Bookkeeping once block `number` is durable: recent hashes, config caches, watchers.
    fn after_commit(&self, number: u64, hash: B256) {
        {
            let mut recent = self.recent_hashes.lock();
            recent.insert(number, hash);
            while recent.len() as u64 > BLOCKHASH_WINDOW {
                recent.pop_first();
            }
        }
        match self.params(number + 1) {
            Ok(params) => self.pool.set_eth_chain_id(params.web3_chain_id),
            Err(e) => {
                tracing::error!(group = self.id(), error = %e, "reading the system config after a commit")
            }
        }
        self.head.send_replace(number);
    }
}

fn chain_params(ledger: &Ledger, number: u64) -> Result<ChainParams> {
    let num = |key: &str, default: u64| -> Result<u64> {
        match ledger.system_config_for_block(key, number)? {
            Some(entry) => entry
                .value
                .trim()
                .parse::<u64>()
                .map_err(|_| GroupError::BadConfig { key: key.into(), value: entry.value }),
            None => Ok(default),
        }
    };
    Ok(ChainParams {
        tx_count_limit: num("tx_count_limit", 1000)?.max(1),
        tx_gas_limit: num("tx_gas_limit", 3_000_000_000)?,
        // Absent (a chain older than the cap): no cap, so old blocks replay identically.
        // `build-chain` writes aurum_executor::DEFAULT_BLOCK_GAS_LIMIT into new geneses.
        block_gas_limit: num("block_gas_limit", u64::MAX)?,
        web3_chain_id: num("web3_chain_id", 20200)?,
        balances_enabled: num("feature_balance", 0)? != 0,
    })
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
