//! The ledger of one group: blocks, transactions, receipts, their indexes, commit
//! certificates and versioned state, over any [`KvStore`].
//!
//! A block is committed in one atomic batch (block, txs, receipts, indexes, certificate,
//! state diff and its history versions, replay-window nonces), so a crash leaves the ledger
//! at block N or N+1, never in between. Any past block's state can be read.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod genesis;
mod keys;
mod state_view;

pub use genesis::{DEFAULT_SYSTEM_CONFIG, Genesis, GenesisError, GenesisNode};
pub use keys::Namespaces;
pub use state_view::StateView;

use aurum_crypto::CryptoSuite;
use aurum_primitives::state::{self, ConsensusNodeList, StateReader, SystemConfigEntry};
use aurum_primitives::transaction::BLOCK_LIMIT_WINDOW;
use aurum_primitives::{
    Address, B256, Block, CommitCertificate, DecodeError, Header, Receipt, StateDiff, Transaction,
    U256, VerifiedTx, merkle,
};
use aurum_storage::{KvRead, KvStore, StorageError, WriteBatch};
use parking_lot::Mutex;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Stored bytes that do not decode: corruption, never user input.
    #[error("corrupt ledger data in {what}: {reason}")]
    Corrupt { what: &'static str, reason: String },
    #[error("block {number} does not extend the head {head}")]
    NotNext { number: u64, head: u64 },
    #[error("block {number}'s parent hash {got} is not the head's hash {expected}")]
    WrongParent { number: u64, expected: B256, got: B256 },
    #[error("block {number} has {txs} txs but {receipts} receipts")]
    ReceiptCount { number: u64, txs: usize, receipts: usize },
    #[error("certificate signs {got}, the block hash is {expected}")]
    CertificateMismatch { expected: B256, got: B256 },
    #[error(
        "this store holds group {group:?} with genesis {stored}, not {given}: another chain's data"
    )]
    GenesisMismatch { group: String, stored: B256, given: B256 },
    #[error("ledger of group {0:?} has no genesis block")]
    NoGenesis(String),
    #[error(transparent)]
    Genesis(#[from] GenesisError),
}

impl From<DecodeError> for LedgerError {
    fn from(e: DecodeError) -> Self {
        LedgerError::Corrupt { what: "encoded value", reason: e.to_string() }
    }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Why the ledger rules a tx out of the block after `head`: the one replay rule that the
/// pool (admission), a leader (building), replicas (checking a proposal) and sync (applying
/// a certified block) all apply, so they can never disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Replay {
    #[error("transaction {0} is already committed")]
    Committed(B256),
    #[error(
        "block limit {block_limit} is outside the window ({head}, {}] (head {head}); set it to the current block number + at most {BLOCK_LIMIT_WINDOW}",
        head + BLOCK_LIMIT_WINDOW
    )]
    BlockLimit { block_limit: u64, head: u64 },
    #[error("nonce {nonce} was already used in block {block} (inside the replay window)")]
    NonceUsed { nonce: U256, block: u64 },
}

/// Where a transaction sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    pub number: u64,
    pub index: u32,
}

/// A stored transaction with its sender and location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTx {
    pub tx: Transaction,
    pub sender: Address,
    pub location: TxLocation,
}

/// What the node hands over to commit one block.
pub struct BlockCommit<'a> {
    /// The final header (execution results filled in).
    pub header: &'a Header,
    pub txs: &'a [VerifiedTx],
    pub receipts: &'a [Receipt],
    pub diff: &'a StateDiff,
    pub certificate: &'a CommitCertificate,
}

/// One group's ledger.
pub struct Ledger {
    store: Arc<dyn KvStore>,
    ns: Namespaces,
    group: String,
    suite: Arc<dyn CryptoSuite>,
    /// Serialises commits; readers never take it.
    commit_lock: Mutex<()>,
}

impl Ledger {
    /// Opens the ledger of `group` in `store`, writing block 0 from `genesis` if the ledger
    /// is empty, and refusing a store that holds a different genesis.
    pub fn open(
        store: Arc<dyn KvStore>,
        suite: Arc<dyn CryptoSuite>,
        genesis: &Genesis,
    ) -> Result<Self> {
        let ns = Namespaces::for_group(&genesis.group_id);
        for name in ns.all() {
            store.ensure_namespace(name)?;
        }
        let ledger = Ledger {
            store,
            ns,
            group: genesis.group_id.clone(),
            suite,
            commit_lock: Mutex::new(()),
        };
        let (header, diff) = genesis.header(&*ledger.suite)?;
        let given = header.hash(&*ledger.suite);
        match ledger.header(0)? {
            Some(stored) => {
                let stored = stored.hash(&*ledger.suite);
                if stored != given {
                    return Err(LedgerError::GenesisMismatch {
                        group: ledger.group.clone(),
                        stored,
                        given,
                    });
                }
            }
            None => {
                let mut batch = WriteBatch::default();
                ledger.add_block(&mut batch, &header, &[], &[], &diff, None)?;
                let genesis_json = serde_json::to_vec(genesis)
                    .map_err(|e| LedgerError::Corrupt { what: "genesis", reason: e.to_string() })?;
                batch.put(&ledger.ns.meta, keys::META_GENESIS, genesis_json);
                ledger.store.write(batch)?;
            }
        }
        Ok(ledger)
    }

    pub fn group(&self) -> &str {
        &self.group
    }
    pub fn suite(&self) -> &Arc<dyn CryptoSuite> {
        &self.suite
    }
    pub fn store(&self) -> &Arc<dyn KvStore> {
        &self.store
    }

    /// The genesis this ledger was created from.
    pub fn genesis(&self) -> Result<Genesis> {
        let bytes = self
            .store
            .get(&self.ns.meta, keys::META_GENESIS)?
            .ok_or_else(|| LedgerError::NoGenesis(self.group.clone()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| LedgerError::Corrupt { what: "genesis", reason: e.to_string() })
    }

    /// Number of the last final block.
    pub fn head_number(&self) -> Result<u64> {
        read_u64(&*self.store, &self.ns.meta, keys::META_HEAD, "head")
            .map(|n| n.unwrap_or_default())
    }

    pub fn head(&self) -> Result<Header> {
        let n = self.head_number()?;
        self.header(n)?.ok_or_else(|| LedgerError::NoGenesis(self.group.clone()))
    }

    pub fn total_tx_count(&self) -> Result<u64> {
        read_u64(&*self.store, &self.ns.meta, keys::META_TOTAL_TXS, "total_txs")
            .map(|n| n.unwrap_or_default())
    }

    /// Commits a final block and its certificate atomically.
    pub fn commit(&self, block: BlockCommit<'_>) -> Result<()> {
        let _guard = self.commit_lock.lock();
        let head = self.head()?;
        let number = block.header.number;
        if number != head.number + 1 {
            return Err(LedgerError::NotNext { number, head: head.number });
        }
        let head_hash = head.hash(&*self.suite);
        if block.header.parent_hash != head_hash {
            return Err(LedgerError::WrongParent {
                number,
                expected: head_hash,
                got: block.header.parent_hash,
            });
        }
        if block.txs.len() != block.receipts.len() {
            return Err(LedgerError::ReceiptCount {
                number,
                txs: block.txs.len(),
                receipts: block.receipts.len(),
            });
        }
        let hash = block.header.hash(&*self.suite);
        if block.certificate.block_hash != hash {
            return Err(LedgerError::CertificateMismatch {
                expected: hash,
                got: block.certificate.block_hash,
            });
        }
        let mut batch = WriteBatch::default();
        self.add_block(
            &mut batch,
            block.header,
            block.txs,
            block.receipts,
            block.diff,
            Some(block.certificate),
        )?;
        self.store.write(batch)?;
        Ok(())
    }

    fn add_block(
        &self,
        batch: &mut WriteBatch,
        header: &Header,
        txs: &[VerifiedTx],
        receipts: &[Receipt],
        diff: &StateDiff,
        certificate: Option<&CommitCertificate>,
    ) -> Result<()> {
        let ns = &self.ns;
        let number = header.number;
        let nkey = keys::number_key(number);
        let hash = header.hash(&*self.suite);
        batch.put(&ns.headers, nkey, header.encode());
        batch.put(&ns.block_hash, hash.to_vec(), nkey);
        if let Some(cert) = certificate {
            batch.put(&ns.certs, nkey, cert.encode());
        }
        let mut tx_hashes = Vec::with_capacity(txs.len() * 32);
        let mut block_nonces = Vec::new();
        for (index, (tx, receipt)) in txs.iter().zip(receipts).enumerate() {
            tx_hashes.extend_from_slice(tx.hash.as_slice());
            let encoded = tx.tx.encode();
            // location || sender || tx: one read answers "where, who and what".
            let mut stored = Vec::with_capacity(32 + encoded.len());
            stored.extend_from_slice(&nkey);
            stored.extend_from_slice(&(index as u32).to_be_bytes());
            stored.extend_from_slice(tx.sender.as_slice());
            stored.extend_from_slice(&encoded);
            batch.put(&ns.txs, tx.hash.to_vec(), stored);
            batch.put(&ns.receipts, tx.hash.to_vec(), receipt.encode());
            if let Transaction::Native(native) = &tx.tx {
                let nonce = native.data.nonce.to_be_bytes::<32>();
                batch.put(&ns.nonces, nonce.to_vec(), nkey);
                block_nonces.extend_from_slice(&nonce);
            }
        }
        if !block_nonces.is_empty() {
            batch.put(&ns.nonce_expiry, nkey, block_nonces);
        }
        batch.put(&ns.block_txs, nkey, tx_hashes);
        for (key, value) in &diff.writes {
            match value {
                Some(v) => batch.put(&ns.state, key.clone(), v.clone()),
                None => batch.delete(&ns.state, key.clone()),
            }
            batch.put(
                &ns.state_history,
                keys::history_key(key, number),
                keys::history_value(value.as_deref()),
            );
        }
        self.expire_nonces(batch, number)?;
        let total = self.total_tx_count()? + txs.len() as u64;
        batch.put(&ns.meta, keys::META_TOTAL_TXS, total.to_be_bytes());
        batch.put(&ns.meta, keys::META_HEAD, nkey);
        Ok(())
    }

    /// Nonces committed more than the block-limit window ago can never be replayed (their
    /// txs' block limits have passed), so they are dropped as the chain moves on.
    fn expire_nonces(&self, batch: &mut WriteBatch, number: u64) -> Result<()> {
        let Some(old) = number.checked_sub(aurum_primitives::transaction::BLOCK_LIMIT_WINDOW + 1)
        else {
            return Ok(());
        };
        let key = keys::number_key(old);
        if let Some(nonces) = self.store.get(&self.ns.nonce_expiry, &key)? {
            for nonce in nonces.chunks(32) {
                batch.delete(&self.ns.nonces, nonce.to_vec());
            }
            batch.delete(&self.ns.nonce_expiry, key);
        }
        Ok(())
    }

    /// Reads, and discards, what admitting these txs will ask ([`Ledger::tx_location`] of
    /// each hash, [`Ledger::nonce_used_at`] of each native nonce), in one multi-get per
    /// namespace: a hint for stores with a read cache (PostgreSQL), whose per-tx lookups then
    /// hit it instead of costing a round trip each. Changes no answer.
    pub fn prefetch_admission(&self, hashes: &[B256], nonces: &[U256]) -> Result<()> {
        let keys: Vec<&[u8]> = hashes.iter().map(|h| h.as_slice()).collect();
        self.store.multi_get(&self.ns.txs, &keys)?;
        let nonce_keys: Vec<[u8; 32]> = nonces.iter().map(|n| n.to_be_bytes::<32>()).collect();
        let keys: Vec<&[u8]> = nonce_keys.iter().map(|k| k.as_slice()).collect();
        self.store.multi_get(&self.ns.nonces, &keys)?;
        Ok(())
    }

    /// The replay rule against this ledger at `head` (see [`Replay`]): not committed before;
    /// a native tx inside its block-limit window (`head < block_limit <= head +
    /// BLOCK_LIMIT_WINDOW`) with a nonce unused in that window. What a block's own txs rule
    /// out for each other (the same hash or native nonce twice) is the caller's.
    pub fn replay_check(&self, tx: &VerifiedTx, head: u64) -> Result<Option<Replay>> {
        if self.tx_location(&tx.hash)?.is_some() {
            return Ok(Some(Replay::Committed(tx.hash)));
        }
        if let Transaction::Native(n) = &tx.tx {
            let block_limit = n.data.block_limit;
            if block_limit <= head || block_limit > head.saturating_add(BLOCK_LIMIT_WINDOW) {
                return Ok(Some(Replay::BlockLimit { block_limit, head }));
            }
            if let Some(block) = self.nonce_used_at(&n.data.nonce)? {
                return Ok(Some(Replay::NonceUsed { nonce: n.data.nonce, block }));
            }
        }
        Ok(None)
    }

    /// The block in which a native tx nonce was used, if it is still inside the window.
    pub fn nonce_used_at(&self, nonce: &U256) -> Result<Option<u64>> {
        read_u64(&*self.store, &self.ns.nonces, &nonce.to_be_bytes::<32>(), "nonce")
    }

    pub fn header(&self, number: u64) -> Result<Option<Header>> {
        match self.store.get(&self.ns.headers, &keys::number_key(number))? {
            Some(bytes) => Ok(Some(Header::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    pub fn block_number_by_hash(&self, hash: &B256) -> Result<Option<u64>> {
        read_u64(&*self.store, &self.ns.block_hash, hash.as_slice(), "block hash index")
    }

    pub fn block_hash(&self, number: u64) -> Result<Option<B256>> {
        Ok(self.header(number)?.map(|h| h.hash(&*self.suite)))
    }

    pub fn certificate(&self, number: u64) -> Result<Option<CommitCertificate>> {
        match self.store.get(&self.ns.certs, &keys::number_key(number))? {
            Some(bytes) => Ok(Some(CommitCertificate::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Tx hashes of a block, in order.
    pub fn block_tx_hashes(&self, number: u64) -> Result<Option<Vec<B256>>> {
        let Some(bytes) = self.store.get(&self.ns.block_txs, &keys::number_key(number))? else {
            return Ok(None);
        };
        if bytes.len() % 32 != 0 {
            return Err(LedgerError::Corrupt {
                what: "block tx list",
                reason: format!("{} bytes is not a multiple of 32", bytes.len()),
            });
        }
        Ok(Some(bytes.chunks_exact(32).map(B256::from_slice).collect()))
    }

    /// A block with its transactions.
    pub fn block(&self, number: u64) -> Result<Option<Block>> {
        let Some(header) = self.header(number)? else { return Ok(None) };
        let hashes = self.block_tx_hashes(number)?.unwrap_or_default();
        let keys: Vec<&[u8]> = hashes.iter().map(|h| h.as_slice()).collect();
        let mut txs = Vec::with_capacity(hashes.len());
        for (hash, bytes) in hashes.iter().zip(self.store.multi_get(&self.ns.txs, &keys)?) {
            let bytes = bytes.ok_or_else(|| LedgerError::Corrupt {
                what: "block txs",
                reason: format!("tx {hash} of block {number} is missing"),
            })?;
            txs.push(decode_stored_tx(&bytes)?.tx);
        }
        Ok(Some(Block { header, txs }))
    }

    pub fn tx_location(&self, hash: &B256) -> Result<Option<TxLocation>> {
        match self.store.get(&self.ns.txs, hash.as_slice())? {
            Some(bytes) => Ok(Some(parse_location(&bytes)?)),
            None => Ok(None),
        }
    }

    pub fn transaction(&self, hash: &B256) -> Result<Option<StoredTx>> {
        match self.store.get(&self.ns.txs, hash.as_slice())? {
            Some(bytes) => Ok(Some(decode_stored_tx(&bytes)?)),
            None => Ok(None),
        }
    }

    pub fn receipt(&self, hash: &B256) -> Result<Option<Receipt>> {
        match self.store.get(&self.ns.receipts, hash.as_slice())? {
            Some(bytes) => Ok(Some(Receipt::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Receipts of a block, in tx order.
    pub fn block_receipts(&self, number: u64) -> Result<Option<Vec<Receipt>>> {
        let Some(hashes) = self.block_tx_hashes(number)? else { return Ok(None) };
        let keys: Vec<&[u8]> = hashes.iter().map(|h| h.as_slice()).collect();
        let mut receipts = Vec::with_capacity(hashes.len());
        for bytes in self.store.multi_get(&self.ns.receipts, &keys)? {
            let bytes = bytes.ok_or_else(|| LedgerError::Corrupt {
                what: "receipts",
                reason: format!("a receipt of block {number} is missing"),
            })?;
            receipts.push(Receipt::decode(&bytes)?);
        }
        Ok(Some(receipts))
    }

    /// Merkle proof of a tx hash against its block's `tx_root`.
    pub fn tx_proof(&self, hash: &B256) -> Result<Option<(TxLocation, Vec<merkle::ProofStep>)>> {
        let Some(loc) = self.tx_location(hash)? else { return Ok(None) };
        let hashes = self.block_tx_hashes(loc.number)?.unwrap_or_default();
        Ok(merkle::merkle_proof(&*self.suite, &hashes, loc.index as usize).map(|p| (loc, p)))
    }

    /// Merkle proof of a receipt (its suite hash) against its block's `receipt_root`.
    pub fn receipt_proof(
        &self,
        hash: &B256,
    ) -> Result<Option<(TxLocation, Vec<merkle::ProofStep>)>> {
        let Some(loc) = self.tx_location(hash)? else { return Ok(None) };
        let receipts = self.block_receipts(loc.number)?.unwrap_or_default();
        let hashes: Vec<B256> = receipts.iter().map(|r| self.suite.hash(&r.encode())).collect();
        Ok(merkle::merkle_proof(&*self.suite, &hashes, loc.index as usize).map(|p| (loc, p)))
    }

    /// The latest state, as a consistent snapshot.
    pub fn latest_state(&self) -> StateView {
        StateView::latest(self.store.snapshot(), &self.ns)
    }

    /// The state as it was right after block `number` was committed.
    pub fn state_at(&self, number: u64) -> StateView {
        StateView::at(self.store.snapshot(), &self.ns, number)
    }

    /// The system config entry in effect for executing block `number` (the state after its
    /// parent), or None if the key was never set.
    pub fn system_config_for_block(
        &self,
        key: &str,
        number: u64,
    ) -> Result<Option<SystemConfigEntry>> {
        let view = self.state_at(number.saturating_sub(1));
        match view.get(&state::system_config_key(key)).map_err(state_err)? {
            Some(bytes) => Ok(Some(SystemConfigEntry::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The consensus node list as stored after block `number`.
    pub fn consensus_nodes_at(&self, number: u64) -> Result<ConsensusNodeList> {
        let view = self.state_at(number);
        match view.get(&state::consensus_nodes_key()).map_err(state_err)? {
            Some(bytes) => Ok(ConsensusNodeList::decode(&bytes)?),
            None => Ok(ConsensusNodeList::default()),
        }
    }
}

fn state_err(e: aurum_primitives::StateError) -> LedgerError {
    LedgerError::Storage(StorageError::Backend(e.0))
}

fn corrupt_len(what: &'static str) -> LedgerError {
    LedgerError::Corrupt { what, reason: "wrong length".into() }
}

fn read_u64(store: &dyn KvRead, ns: &str, key: &[u8], what: &'static str) -> Result<Option<u64>> {
    match store.get(ns, key)? {
        Some(bytes) => {
            let arr: [u8; 8] = bytes.as_slice().try_into().map_err(|_| corrupt_len(what))?;
            Ok(Some(u64::from_be_bytes(arr)))
        }
        None => Ok(None),
    }
}

/// Stored tx layout: `number (8) || index (4) || sender (20) || canonical tx`.
fn parse_location(bytes: &[u8]) -> Result<TxLocation> {
    let number =
        bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt_len("stored tx"))?;
    let index =
        bytes.get(8..12).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt_len("stored tx"))?;
    Ok(TxLocation { number: u64::from_be_bytes(number), index: u32::from_be_bytes(index) })
}

fn decode_stored_tx(bytes: &[u8]) -> Result<StoredTx> {
    let location = parse_location(bytes)?;
    let sender = bytes.get(12..32).ok_or_else(|| corrupt_len("stored tx"))?;
    let tx = bytes.get(32..).ok_or_else(|| corrupt_len("stored tx"))?;
    Ok(StoredTx { tx: Transaction::decode(tx)?, sender: Address::from_slice(sender), location })
}
