//! The transaction pool of one group: admission and block-ordered selection.
//!
//! Admission checks everything a tx can be refused for before it costs a block slot: size,
//! encoding, signature (once, here), destination (chain, group, Ethereum chain id), duplicates
//! (pool and ledger), the native replay window (`head < block_limit <= head + 1000`, nonce
//! unused in the window) and Ethereum account nonces (not below the account's next nonce, one
//! tx per (sender, nonce)). Every refusal is a typed [`AdmitError`] that says why.
//!
//! Selection ([`TxPool::take_batch`]) returns txs in arrival order, skipping Ethereum txs whose
//! nonce is not yet next (they wait for their predecessors) and dropping txs that can no
//! longer be valid (expired block limit, stale nonce). Taken txs stay known to the pool (so a
//! resubmission during execution is still refused) until [`TxPool::on_committed`] or
//! [`TxPool::return_batch`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use alloy_primitives::{Address, B256, U256};
use aurum_crypto::CryptoSuite;
use aurum_ledger::{Ledger, Replay};
use aurum_primitives::state::{AccountInfo, StateReader, account_key};
use aurum_primitives::transaction::{BLOCK_LIMIT_WINDOW, MAX_TX_BYTES};
use aurum_primitives::{DecodeError, EthTx, Transaction, TxError, VerifiedTx};
use parking_lot::{Condvar, Mutex};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How far ahead of an account's nonce its Ethereum txs may wait (gas is free, so without
/// a bound one key could fill the pool with txs that can never run).
pub const MAX_NONCE_GAP: u64 = 64;

/// Pool capacity unless configured.
pub const DEFAULT_CAPACITY: usize = 100_000;
/// Bytes of encoded txs a pool holds at most unless configured (256 MiB).
pub const DEFAULT_CAPACITY_BYTES: usize = 256 << 20;
/// Txs one sender may hold in the pool unless configured (5% of the default capacity): one
/// key cannot crowd out everyone else.
pub const DEFAULT_SENDER_QUOTA: usize = 5_000;
/// Bytes of txs one sender may hold unless configured (5% of the default byte capacity).
pub const DEFAULT_SENDER_QUOTA_BYTES: usize = DEFAULT_CAPACITY_BYTES / 20;

/// How a client's raw tx bytes are read ([`TxPool::submit_raw`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    /// The wire encoding (`Transaction::encode`), or a legacy Ethereum tx as it is.
    Wire,
    /// An Ethereum envelope as `eth_sendRawTransaction` takes it: legacy or typed.
    Ethereum,
}

/// Why a transaction was refused. The RPC layer reports `reason()` and the message.
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    #[error("transaction is {size} bytes, over the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    #[error("transaction does not decode: {0}")]
    Decode(#[from] DecodeError),
    #[error("bad signature: {0}")]
    BadSignature(TxError),
    #[error("{0}")]
    Destination(TxError),
    #[error("transaction {0} is already in the pool")]
    AlreadyKnown(B256),
    #[error("transaction {0} is already committed")]
    AlreadyCommitted(B256),
    #[error("nonce {nonce} was already used in block {block} (inside the replay window)")]
    NonceUsedInBlock { nonce: U256, block: u64 },
    #[error("nonce {0} is already used by a pending transaction")]
    NonceUsedInPool(U256),
    #[error("nonce too low: account {sender} is at nonce {expected}, tx has {nonce}")]
    NonceTooLow { sender: Address, nonce: u64, expected: u64 },
    #[error(
        "nonce {nonce} is too far ahead: account {sender} is at nonce {expected}; at most {MAX_NONCE_GAP} may wait ahead of it"
    )]
    NonceTooHigh { sender: Address, nonce: u64, expected: u64 },
    #[error(
        "a pending transaction of {sender} already has nonce {nonce} (replacement is not supported)"
    )]
    NonceTaken { sender: Address, nonce: u64 },
    #[error(
        "block limit {block_limit} is outside the window ({head}, {}] (head {head}); set it to the current block number + at most {BLOCK_LIMIT_WINDOW}",
        head + BLOCK_LIMIT_WINDOW
    )]
    BlockLimit { block_limit: u64, head: u64 },
    #[error("the pool is full ({capacity} transactions); retry later")]
    PoolFull { capacity: usize },
    #[error("the pool is full ({capacity_bytes} bytes of transactions); retry later")]
    PoolFullBytes { capacity_bytes: usize },
    #[error(
        "sender {sender} already holds {held} transactions in the pool, its quota; retry when some have committed"
    )]
    SenderQuota { sender: Address, held: usize },
    #[error(
        "sender {sender} already holds {held} bytes of transactions in the pool (quota {quota}); retry when some have committed"
    )]
    SenderQuotaBytes { sender: Address, held: usize, quota: usize },
    #[error("the peer's share of the pool is full ({held} transactions); its gossip waits")]
    PeerShareFull { held: usize },
    #[error("reading the ledger failed: {0}")]
    Ledger(String),
}

impl AdmitError {
    /// A stable one-word reason for clients (`data.reason` in RPC errors).
    pub fn reason(&self) -> &'static str {
        match self {
            AdmitError::TooLarge { .. } => "TooLarge",
            AdmitError::Decode(_) => "Decode",
            AdmitError::BadSignature(TxError::EthOnSmChain) => "Unsupported",
            AdmitError::BadSignature(_) => "BadSignature",
            AdmitError::Destination(TxError::WrongChain { .. }) => "WrongChain",
            AdmitError::Destination(TxError::WrongGroup { .. }) => "WrongGroup",
            AdmitError::Destination(_) => "WrongEthChainId",
            AdmitError::AlreadyKnown(_) => "AlreadyKnown",
            AdmitError::AlreadyCommitted(_) => "AlreadyCommitted",
            AdmitError::NonceUsedInBlock { .. } | AdmitError::NonceUsedInPool(_) => "NonceUsed",
            AdmitError::NonceTooLow { .. } | AdmitError::NonceTaken { .. } => "NonceTooLow",
            AdmitError::NonceTooHigh { .. } => "NonceTooHigh",
            AdmitError::BlockLimit { .. } => "BlockLimit",
            AdmitError::PoolFull { .. }
            | AdmitError::PoolFullBytes { .. }
            | AdmitError::PeerShareFull { .. } => "PoolFull",
            AdmitError::SenderQuota { .. } | AdmitError::SenderQuotaBytes { .. } => "SenderQuota",
            AdmitError::Ledger(_) => "Internal",
        }
    }
}

/// Where the pool's txs must be headed.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub chain_id: String,
    pub group_id: String,
    pub capacity: usize,
    /// Encoded bytes held at most: a flood of large txs meets "pool full", not memory
    /// exhaustion.
    pub capacity_bytes: usize,
    /// Txs and bytes one sender (account) may hold, whoever delivered them.
    pub sender_quota: usize,
    pub sender_quota_bytes: usize,
}

impl PoolConfig {
    /// A pool for (chain, group) with the default capacities and quotas.
    pub fn new(chain_id: impl Into<String>, group_id: impl Into<String>) -> Self {
        PoolConfig {
            chain_id: chain_id.into(),
            group_id: group_id.into(),
            capacity: DEFAULT_CAPACITY,
            capacity_bytes: DEFAULT_CAPACITY_BYTES,
            sender_quota: DEFAULT_SENDER_QUOTA,
            sender_quota_bytes: DEFAULT_SENDER_QUOTA_BYTES,
        }
    }

    /// What one peer's gossip may hold: half the pool (txs and bytes), so a flooding peer
    /// never leaves local clients without room.
    fn peer_share(&self) -> (usize, usize) {
        (self.capacity / 2, self.capacity_bytes / 2)
    }
}

/// Who delivered a tx: a client of this node, or a peer (by node id bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Origin {
    Client,
    Peer(Arc<[u8]>),
}

impl Origin {
    fn source(&self) -> aurum_metrics::pool::Source {
        match self {
            Origin::Client => aurum_metrics::pool::Source::Client,
            Origin::Peer(_) => aurum_metrics::pool::Source::Peer,
        }
    }
}

struct Entry {
    seq: u64,
    size: usize,
    tx: Arc<VerifiedTx>,
    /// Taken into a block being sealed; not offered again.
    in_flight: bool,
    /// When a client's tx was last sent to peers (None: it came from a peer).
    gossiped: Option<std::time::Instant>,
    /// The peer that delivered it (None: a client of this node).
    peer: Option<Arc<[u8]>>,
}

/// Txs and bytes held for one sender or one peer.
#[derive(Default, Clone, Copy)]
struct Held {
    txs: usize,
    bytes: usize,
}

#[derive(Default)]
struct Inner {
    by_hash: HashMap<B256, Entry>,
    /// Arrival order of txs not in flight.
    order: BTreeMap<u64, B256>,
    next_seq: u64,
    /// Encoded bytes of the txs held.
    bytes: usize,
    /// Bumped by every `on_committed`, so admission can tell a commit raced it.
    commits: u64,
    /// Native nonces held, with the tx holding each.
    native_nonces: HashMap<U256, B256>,
    eth_nonces: HashMap<Address, BTreeMap<u64, B256>>,
    per_sender: HashMap<Address, Held>,
    per_peer: HashMap<Arc<[u8]>, Held>,
}

/// Takes one entry's share off a tally, forgetting keys that reach zero.
fn release<K: std::hash::Hash + Eq>(tally: &mut HashMap<K, Held>, key: &K, size: usize) {
    if let Some(held) = tally.get_mut(key) {
        held.txs -= 1;
        held.bytes -= size;
        if held.txs == 0 {
            tally.remove(key);
        }
    }
}

impl Inner {
    fn remove(&mut self, hash: &B256) {
        let Some(entry) = self.by_hash.remove(hash) else { return };
        self.order.remove(&entry.seq);
        self.bytes -= entry.size;
        release(&mut self.per_sender, &entry.tx.sender, entry.size);
        if let Some(peer) = &entry.peer {
            release(&mut self.per_peer, peer, entry.size);
        }
        match &entry.tx.tx {
            Transaction::Native(tx) => {
                self.native_nonces.remove(&tx.data.nonce);
            }
            Transaction::Ethereum(tx) => {
                if let Some(nonces) = self.eth_nonces.get_mut(&entry.tx.sender) {
                    nonces.remove(&tx.nonce());
                    if nonces.is_empty() {
                        self.eth_nonces.remove(&entry.tx.sender);
                    }
                }
            }
        }
    }
}

/// One group's pool. Cheap to share (`Arc<TxPool>`); all methods take `&self`.
pub struct TxPool {
    config: PoolConfig,
    ledger: Arc<Ledger>,
    suite: Arc<dyn CryptoSuite>,
    /// The group's current `web3_chain_id` (a system config value; refreshed after commits).
    eth_chain_id: AtomicU64,
    inner: Mutex<Inner>,
    arrived: Condvar,
    admitted: AtomicU64,
    admit_nanos: AtomicU64,
    /// Txs admitted from clients since the gossip task last looked (None: no gossip).
    gossip: Mutex<Option<Vec<Arc<VerifiedTx>>>>,
    metrics: aurum_metrics::pool::Pool,
}

impl TxPool {
    pub fn new(config: PoolConfig, ledger: Arc<Ledger>, eth_chain_id: u64) -> Self {
        let suite = Arc::clone(ledger.suite());
        TxPool {
            metrics: aurum_metrics::pool::Pool::new(&config.group_id),
            config,
            ledger,
            suite,
            eth_chain_id: AtomicU64::new(eth_chain_id),
            inner: Mutex::new(Inner::default()),
            arrived: Condvar::new(),
            admitted: AtomicU64::new(0),
            admit_nanos: AtomicU64::new(0),
            gossip: Mutex::new(None),
        }
    }

    pub fn set_eth_chain_id(&self, id: u64) {
        self.eth_chain_id.store(id, Ordering::Relaxed);
    }

    pub fn eth_chain_id(&self) -> u64 {
        self.eth_chain_id.load(Ordering::Relaxed)
    }

    /// Decodes, verifies and admits one encoded tx (`Transaction::encode`); its hash.
    pub fn submit_bytes(&self, bytes: &[u8]) -> Result<B256, AdmitError> {
        self.submit_raw(bytes, RawFormat::Wire)
    }

    /// The one way a client's raw bytes become a pool tx, whichever endpoint they came
    /// through: size first (before any decoding), then an exact decode, then admission.
    pub fn submit_raw(&self, bytes: &[u8], format: RawFormat) -> Result<B256, AdmitError> {
        if bytes.len() > MAX_TX_BYTES {
            self.metrics.refused(aurum_metrics::pool::Source::Client, "TooLarge");
            return Err(AdmitError::TooLarge { size: bytes.len(), max: MAX_TX_BYTES });
        }
        let envelope = match format {
            RawFormat::Ethereum => true,
            // A legacy Ethereum tx is an RLP list (first byte >= 0xc0); typed envelopes'
            // type bytes 0x01/0x02 are our own format tags, so they need `Ethereum`.
            RawFormat::Wire => bytes.first().is_some_and(|b| *b >= 0xc0),
        };
        // Decoding is exact, so the tx's encoding is `bytes` (an envelope gets our one-byte
        // tag in front): no need to encode it again to know its size.
        let (tx, size) = if envelope {
            (Transaction::Ethereum(EthTx::decode(bytes)?), bytes.len() + 1)
        } else {
            (Transaction::decode(bytes)?, bytes.len())
        };
        if size > MAX_TX_BYTES {
            return Err(AdmitError::TooLarge { size, max: MAX_TX_BYTES });
        }
        self.timed_admit(tx, size, &Origin::Client)
    }

    /// Verifies and admits a decoded tx; returns its hash.
    pub fn submit(&self, tx: Transaction) -> Result<B256, AdmitError> {
        let size = tx.encode().len();
        if size > MAX_TX_BYTES {
            self.metrics.refused(aurum_metrics::pool::Source::Client, "TooLarge");
            return Err(AdmitError::TooLarge { size, max: MAX_TX_BYTES });
        }
        self.timed_admit(tx, size, &Origin::Client)
    }

    /// Admits txs gossiped by a peer whose id is unknown (counted as one anonymous peer);
    /// see [`TxPool::submit_gossip`].
    pub fn submit_from_peer(&self, txs: Vec<Transaction>) -> usize {
        self.submit_gossip(Arc::from(&[][..]), txs)
    }

    /// Admits txs gossiped by peer `peer` (its node id bytes), verifying their signatures
    /// in parallel. They count against that peer's share of the pool, not against local
    /// clients, and are not gossiped again (every sealer is linked to every other).
    /// Returns how many were new.
    pub fn submit_gossip(&self, peer: Arc<[u8]>, txs: Vec<Transaction>) -> usize {
        use rayon::prelude::*;
        self.prefetch(txs.iter());
        let origin = Origin::Peer(peer);
        txs.into_par_iter()
            .map(|tx| (tx.encode().len(), tx))
            .filter(|(size, _)| *size <= MAX_TX_BYTES)
            .map(|(size, tx)| self.timed_admit(tx, size, &origin).is_ok() as usize)
            .sum()
    }

    /// Warms the ledger's read cache for admitting `txs` (one multi-get for their hashes and
    /// one for their native nonces, see [`Ledger::prefetch_admission`]); admission itself
    /// still asks the ledger per tx, so this changes no outcome. Failures are ignored.
    pub fn prefetch<'a>(&self, txs: impl Iterator<Item = &'a Transaction>) {
        let mut hashes = Vec::new();
        let mut nonces = Vec::new();
        for tx in txs {
            hashes.push(tx.hash(&*self.suite));
            if let Transaction::Native(n) = tx {
                nonces.push(n.data.nonce);
            }
        }
        if hashes.len() > 1 {
            let _ = self.ledger.prefetch_admission(&hashes, &nonces);
        }
    }

    /// Starts collecting client txs for gossip (see [`TxPool::take_gossip`]).
    pub fn enable_gossip(&self) {
        self.gossip.lock().get_or_insert_with(Vec::new);
    }

    /// Client txs still waiting `older_than` after they were last sent to peers (at most
    /// `max`, oldest first): said again, for peers that were down or unreachable then. Marks
    /// them as sent now.
    pub fn regossip(&self, older_than: Duration, max: usize) -> Vec<Arc<VerifiedTx>> {
        let mut inner = self.inner.lock();
        let now = std::time::Instant::now();
        let due: Vec<B256> = inner
            .order
            .values()
            .filter(|h| {
                inner
                    .by_hash
                    .get(*h)
                    .and_then(|e| e.gossiped)
                    .is_some_and(|at| now - at >= older_than)
            })
            .take(max)
            .copied()
            .collect();
        due.iter()
            .filter_map(|h| {
                let entry = inner.by_hash.get_mut(h)?;
                entry.gossiped = Some(now);
                Some(Arc::clone(&entry.tx))
            })
            .collect()
    }

    /// Client txs admitted since the last call, to send to peers.
    pub fn take_gossip(&self) -> Vec<Arc<VerifiedTx>> {
        self.gossip.lock().as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn timed_admit(
        &self,
        tx: Transaction,
        size: usize,
        origin: &Origin,
    ) -> Result<B256, AdmitError> {
        let started = std::time::Instant::now();
        let result = self.admit(tx, size, origin);
        self.metrics.record(origin.source(), result.as_ref().err().map(AdmitError::reason));
        if result.is_ok() {
            self.admitted.fetch_add(1, Ordering::Relaxed);
            self.admit_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        result
    }

    /// (txs admitted, total time spent admitting them) since start.
    pub fn admission_stats(&self) -> (u64, Duration) {
        (
            self.admitted.load(Ordering::Relaxed),
            Duration::from_nanos(self.admit_nanos.load(Ordering::Relaxed)),
        )
    }

    /// Every check but size (the caller's, from bytes it already has).
    fn admit(&self, tx: Transaction, size: usize, origin: &Origin) -> Result<B256, AdmitError> {
        let from_client = *origin == Origin::Client;
        // Signature checks are the expensive part: done before taking the lock.
        let verified = tx.verify(&*self.suite).map_err(AdmitError::BadSignature)?;
        verified
            .check_destination(&self.config.chain_id, &self.config.group_id, self.eth_chain_id())
            .map_err(AdmitError::Destination)?;
        let hash = verified.hash;
        let commits_seen = self.inner.lock().commits;
        self.ledger_checks(&verified)?;

        let mut inner = self.inner.lock();
        // A block committed since the checks above may hold this tx (or its nonce) and has
        // already left the pool: check the ledger again, now that no commit can finish.
        if inner.commits != commits_seen {
            self.ledger_checks(&verified)?;
        }
        if inner.by_hash.contains_key(&hash) {
            return Err(AdmitError::AlreadyKnown(hash));
        }
        if inner.by_hash.len() >= self.config.capacity {
            return Err(AdmitError::PoolFull { capacity: self.config.capacity });
        }
        if inner.bytes + size > self.config.capacity_bytes {
            return Err(AdmitError::PoolFullBytes { capacity_bytes: self.config.capacity_bytes });
        }
        let sender = verified.sender;
        let held = inner.per_sender.get(&sender).copied().unwrap_or_default();
        if held.txs >= self.config.sender_quota {
            return Err(AdmitError::SenderQuota { sender, held: held.txs });
        }
        if held.bytes + size > self.config.sender_quota_bytes {
            return Err(AdmitError::SenderQuotaBytes {
                sender,
                held: held.bytes,
                quota: self.config.sender_quota_bytes,
            });
        }
        let peer = match origin {
            Origin::Client => None,
            Origin::Peer(id) => {
                let (share, share_bytes) = self.config.peer_share();
                let held = inner.per_peer.get(id).copied().unwrap_or_default();
                if held.txs >= share || held.bytes + size > share_bytes {
                    return Err(AdmitError::PeerShareFull { held: held.txs });
                }
                Some(Arc::clone(id))
            }
        };
        match &verified.tx {
            Transaction::Native(tx) => {
                if inner.native_nonces.contains_key(&tx.data.nonce) {
                    return Err(AdmitError::NonceUsedInPool(tx.data.nonce));
                }
                inner.native_nonces.insert(tx.data.nonce, hash);
            }
            Transaction::Ethereum(tx) => {
                let nonces = inner.eth_nonces.entry(verified.sender).or_default();
                if nonces.contains_key(&tx.nonce()) {
                    return Err(AdmitError::NonceTaken {
                        sender: verified.sender,
                        nonce: tx.nonce(),
                    });
                }
                nonces.insert(tx.nonce(), hash);
            }
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.order.insert(seq, hash);
        let verified = Arc::new(verified);
        if from_client && let Some(outbox) = self.gossip.lock().as_mut() {
            outbox.push(Arc::clone(&verified));
        }
        inner.bytes += size;
        let tally = inner.per_sender.entry(sender).or_default();
        tally.txs += 1;
        tally.bytes += size;
        if let Some(id) = &peer {
            let tally = inner.per_peer.entry(Arc::clone(id)).or_default();
            tally.txs += 1;
            tally.bytes += size;
        }
        let gossiped = from_client.then(std::time::Instant::now);
        inner
            .by_hash
            .insert(hash, Entry { seq, size, tx: verified, in_flight: false, gossiped, peer });
        drop(inner);
        self.arrived.notify_all();
        Ok(hash)
    }

    /// What the ledger says about a verified tx: not committed, block limit inside the
    /// window, native nonce unused, Ethereum nonce not below the account's.
    fn ledger_checks(&self, verified: &VerifiedTx) -> Result<(), AdmitError> {
        let head = self.ledger.head_number().map_err(ledger_err)?;
        match self.ledger.replay_check(verified, head).map_err(ledger_err)? {
            Some(Replay::Committed(hash)) => return Err(AdmitError::AlreadyCommitted(hash)),
            Some(Replay::BlockLimit { block_limit, head }) => {
                return Err(AdmitError::BlockLimit { block_limit, head });
            }
            Some(Replay::NonceUsed { nonce, block }) => {
                return Err(AdmitError::NonceUsedInBlock { nonce, block });
            }
            None => {}
        }
        match &verified.tx {
            Transaction::Native(_) => {}
            Transaction::Ethereum(tx) => {
                let expected = self.account_nonce(&verified.sender)?;
                if tx.nonce() < expected {
                    return Err(AdmitError::NonceTooLow {
                        sender: verified.sender,
                        nonce: tx.nonce(),
                        expected,
                    });
                }
                if tx.nonce() >= expected.saturating_add(MAX_NONCE_GAP) {
                    return Err(AdmitError::NonceTooHigh {
                        sender: verified.sender,
                        nonce: tx.nonce(),
                        expected,
                    });
                }
            }
        }
        Ok(())
    }

    /// The account's next nonce in the latest committed state.
    pub fn account_nonce(&self, address: &Address) -> Result<u64, AdmitError> {
        let state = self.ledger.latest_state();
        match state.get(&account_key(address)).map_err(|e| AdmitError::Ledger(e.0))? {
            Some(bytes) => Ok(AccountInfo::decode(&bytes)?.nonce),
            None => Ok(0),
        }
    }

    /// The next nonce an Ethereum client should use: the account nonce plus the pool's
    /// consecutive txs from it (`eth_getTransactionCount(addr, "pending")`).
    pub fn pending_nonce(&self, address: &Address) -> Result<u64, AdmitError> {
        // Under the lock, so a commit cannot slip between the two reads.
        let inner = self.inner.lock();
        let mut next = self.account_nonce(address)?;
        // Native txs bump the account nonce too when they run.
        next += inner
            .by_hash
            .values()
            .filter(|e| e.tx.sender == *address && matches!(e.tx.tx, Transaction::Native(_)))
            .count() as u64;
        if let Some(nonces) = inner.eth_nonces.get(address) {
            for nonce in nonces.range(next..).map(|(n, _)| *n) {
                if nonce != next {
                    break;
                }
                next += 1;
            }
        }
        Ok(next)
    }

    /// Number of txs in the pool (waiting or being sealed).
    pub fn len(&self) -> usize {
        self.inner.lock().by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Encoded bytes of the txs in the pool.
    pub fn bytes(&self) -> usize {
        self.inner.lock().bytes
    }

    /// Txs waiting to be taken into a block.
    pub fn waiting(&self) -> usize {
        self.inner.lock().order.len()
    }

    /// Whether some waiting tx could go in the next block: any native tx, or an Ethereum tx
    /// whose nonce is its sender's next (`account_nonce` gives the committed nonce). Txs
    /// waiting behind a nonce gap are not work: they must not make sealers time out.
    pub fn has_ready(&self, mut account_nonce: impl FnMut(&Address) -> u64) -> bool {
        let (senders, native) = {
            let inner = self.inner.lock();
            let native = inner.order.values().any(|h| {
                matches!(inner.by_hash.get(h).map(|e| &e.tx.tx), Some(Transaction::Native(_)))
            });
            let senders: Vec<(Address, u64)> = if native {
                Vec::new()
            } else {
                inner
                    .eth_nonces
                    .iter()
                    .filter_map(|(sender, nonces)| {
                        // The lowest nonce not already taken into a block.
                        nonces
                            .iter()
                            .find(|(_, h)| inner.by_hash.get(*h).is_some_and(|e| !e.in_flight))
                            .map(|(n, _)| (*sender, *n))
                    })
                    .collect()
            };
            (senders, native)
        };
        native || senders.into_iter().any(|(sender, lowest)| lowest <= account_nonce(&sender))
    }

    /// Whether the pool holds `hash` (waiting or being sealed).
    pub fn contains(&self, hash: &B256) -> bool {
        self.inner.lock().by_hash.contains_key(hash)
    }

    /// A tx in the pool (waiting or being sealed).
    pub fn get(&self, hash: &B256) -> Option<Arc<VerifiedTx>> {
        self.inner.lock().by_hash.get(hash).map(|e| Arc::clone(&e.tx))
    }

    /// Hashes of the txs waiting, in arrival order (for pending-tx filters).
    pub fn waiting_hashes(&self) -> Vec<B256> {
        self.inner.lock().order.values().copied().collect()
    }

    /// Up to `max` hashes of waiting txs that arrived at or after `cursor`, in arrival order,
    /// and the cursor to pass next time (for pending-tx filters, which then copy only what
    /// is new rather than every waiting hash per poll). `waiting_since(u64::MAX, 0)` gives
    /// the cursor of "from now on".
    pub fn waiting_since(&self, cursor: u64, max: usize) -> (Vec<B256>, u64) {
        let inner = self.inner.lock();
        let mut hashes = Vec::new();
        for (seq, hash) in inner.order.range(cursor..) {
            if hashes.len() == max {
                return (hashes, *seq);
            }
            hashes.push(*hash);
        }
        (hashes, inner.next_seq)
    }

    /// Blocks until some tx is waiting or `timeout` passes; returns the waiting count.
    pub fn wait_for_txs(&self, timeout: Duration) -> usize {
        let mut inner = self.inner.lock();
        if inner.order.is_empty() {
            let _ = self.arrived.wait_for(&mut inner, timeout);
        }
        inner.order.len()
    }

    /// Wakes anyone blocked in [`TxPool::wait_for_txs`] (used on shutdown).
    pub fn wake(&self) {
        self.arrived.notify_all();
    }

    /// Takes up to `max` txs for block `number`, in arrival order. Ethereum txs go in only
    /// when their nonce is the sender's next (`account_nonce` gives the committed nonce);
    /// txs that can no longer be valid are dropped.
    pub fn take_batch(
        &self,
        max: usize,
        max_bytes: usize,
        number: u64,
        account_nonce: impl FnMut(&Address) -> u64,
    ) -> Vec<Arc<VerifiedTx>> {
        self.take_batch_within(max, max_bytes, u64::MAX, number, account_nonce)
    }

    /// [`TxPool::take_batch`] that also keeps the txs' declared gas (their own gas limits;
    /// a native tx that declares none counts 0) within `max_gas`, so a block of txs that
    /// declare their gas never reaches the block gas limit at execution.
    pub fn take_batch_within(
        &self,
        max: usize,
        max_bytes: usize,
        max_gas: u64,
        number: u64,
        mut account_nonce: impl FnMut(&Address) -> u64,
    ) -> Vec<Arc<VerifiedTx>> {
        let mut gas = 0u64;
        let mut inner = self.inner.lock();
        let mut batch = Vec::new();
        let mut next_nonce: HashMap<Address, u64> = HashMap::new();
        let mut dead = Vec::new();
        let mut taken = Vec::new();
        let mut bytes = 0;
        for (seq, hash) in inner.order.iter() {
            if batch.len() >= max {
                break;
            }
            let Some(entry) = inner.by_hash.get(hash) else { continue };
            if bytes + entry.size > max_bytes && !batch.is_empty() {
                continue; // a smaller tx may still fit
            }
            let declared = entry.tx.gas_limit();
            if gas.saturating_add(declared) > max_gas && !batch.is_empty() {
                continue; // a tx declaring less may still fit
            }
            match &entry.tx.tx {
                Transaction::Native(tx) => {
                    if tx.data.block_limit < number {
                        dead.push(*hash);
                        continue;
                    }
                    // It will bump its sender's account nonce: later Ethereum txs of the
                    // same sender in this block must expect that.
                    let sender = entry.tx.sender;
                    *next_nonce.entry(sender).or_insert_with(|| account_nonce(&sender)) += 1;
                }
                Transaction::Ethereum(tx) => {
                    let sender = entry.tx.sender;
                    let next = next_nonce.entry(sender).or_insert_with(|| account_nonce(&sender));
                    if tx.nonce() < *next {
                        dead.push(*hash);
                        continue;
                    }
                    if tx.nonce() > *next {
                        continue;
                    }
                    *next += 1;
                }
            }
            bytes += entry.size;
            gas = gas.saturating_add(declared);
            batch.push(Arc::clone(&entry.tx));
            taken.push((*seq, *hash));
        }
        for hash in dead {
            inner.remove(&hash);
        }
        for (seq, hash) in taken {
            inner.order.remove(&seq);
            if let Some(entry) = inner.by_hash.get_mut(&hash) {
                entry.in_flight = true;
            }
        }
        batch
    }

    /// Forgets committed txs.
    pub fn on_committed(&self, hashes: impl IntoIterator<Item = B256>) {
        let mut inner = self.inner.lock();
        inner.commits += 1;
        for hash in hashes {
            inner.remove(&hash);
        }
    }

    /// Drops txs that can never commit because a committed block used their native nonce
    /// (another tx with the same nonce reached another node's pool first).
    pub fn evict_used_nonces(&self, nonces: impl IntoIterator<Item = U256>) {
        let mut inner = self.inner.lock();
        for nonce in nonces {
            if let Some(hash) = inner.native_nonces.get(&nonce).copied() {
                inner.remove(&hash);
            }
        }
    }

    /// Drops txs the caller found can never commit (e.g. the ledger already holds their
    /// nonce), so they are not proposed again.
    pub fn discard(&self, hashes: impl IntoIterator<Item = B256>) {
        let mut inner = self.inner.lock();
        for hash in hashes {
            inner.remove(&hash);
        }
    }

    /// Puts back txs taken for a block that was not committed (they keep their place).
    pub fn return_batch(&self, hashes: impl IntoIterator<Item = B256>) {
        let mut inner = self.inner.lock();
        for hash in hashes {
            if let Some(entry) = inner.by_hash.get_mut(&hash)
                && entry.in_flight
            {
                entry.in_flight = false;
                let seq = entry.seq;
                inner.order.insert(seq, hash);
            }
        }
        drop(inner);
        self.arrived.notify_all();
    }
}

fn ledger_err(e: aurum_ledger::LedgerError) -> AdmitError {
    AdmitError::Ledger(e.to_string())
}
