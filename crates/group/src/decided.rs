//! Blocks decided by several sealers: the proposal a leader sends, the checks every replica
//! makes before voting for it, executing a decided proposal, and committing with a commit
//! certificate — one from consensus, or one downloaded by sync and checked against the
//! sealer list in effect at that height.
//!
//! A proposal carries the txs themselves (not only their hashes), so a replica or a lagging
//! node never depends on the leader for data it has to vote on. Its digest (what votes name)
//! is the proposal hash of the header it implies, so a stored header alone lets anyone check
//! a certificate.

use crate::{Group, GroupError, Result, now_ms};
use alloy_primitives::{B256, Bytes};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use aurum_crypto::{CryptoSuite, PublicKey};
use aurum_executor::BlockContext;
use aurum_ledger::BlockCommit;
use aurum_primitives::block::HEADER_VERSION;
use aurum_primitives::codec::{decode_exact, split_tag};
use aurum_primitives::{
    Block, CommitCertificate, Header, Receipt, StateDiff, Transaction, VerifiedTx,
};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::time::Instant;

const PROPOSAL_TAG: u8 = 0x04;
/// Largest proposal payload: one maximal tx fits, and a new-view message carrying the
/// proposal and a few prepared certificates (each with the payload) stays under the
/// network's frame limit.
pub const MAX_PROPOSAL_BYTES: usize = 5 << 20;
/// Room left in a proposal for the header fields and per-tx framing.
const PROPOSAL_OVERHEAD: usize = 64 << 10;
/// How far ahead of a replica's clock a proposal's timestamp may be.
const MAX_CLOCK_AHEAD_MS: u64 = 15_000;

#[derive(RlpEncodable, RlpDecodable)]
struct ProposalRlp {
    version: u32,
    parent_hash: B256,
    number: u64,
    timestamp_ms: u64,
    proposer: u32,
    txs: Vec<Bytes>,
}

pub use aurum_primitives::Sealer;

/// A proposal that passed every check: its header (proposal fields) and verified txs.
#[derive(Debug, Clone)]
pub struct CheckedBlock {
    pub header: Header,
    pub txs: Vec<VerifiedTx>,
}

/// A proposal this node built: the payload to send, its txs' hashes, the digest consensus
/// names it by (what [`proposal_digest`] gives for the payload) and the block it implies,
/// already checked (its txs come verified from the pool and passed the replay rule), so the
/// leader need not decode and check its own payload again.
#[derive(Debug, Clone)]
pub struct BuiltProposal {
    pub payload: Vec<u8>,
    pub hashes: Vec<B256>,
    pub digest: B256,
    pub block: CheckedBlock,
}

/// A checked block after execution: the final header and what to commit.
#[derive(Debug, Clone)]
pub struct ExecutedBlock {
    pub header: Header,
    pub hash: B256,
    pub txs: Vec<VerifiedTx>,
    pub receipts: Vec<Receipt>,
    pub diff: StateDiff,
}

/// Why a proposal or a downloaded block was refused.
#[derive(Debug, thiserror::Error)]
pub enum BlockRejected {
    #[error("malformed proposal: {0}")]
    Malformed(String),
    #[error("block {number} does not follow the head {head} (parent hash or number differs)")]
    NotNext { number: u64, head: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error(transparent)]
    Group(#[from] GroupError),
}

fn decode_proposal(payload: &[u8]) -> std::result::Result<ProposalRlp, BlockRejected> {
    let (tag, body) = split_tag(payload).map_err(|e| BlockRejected::Malformed(e.to_string()))?;
    if tag != PROPOSAL_TAG {
        return Err(BlockRejected::Malformed(format!("unknown proposal tag {tag}")));
    }
    decode_exact(body).map_err(|e| BlockRejected::Malformed(e.to_string()))
}

/// The header a payload implies: roots computed here from its txs, never taken from the
/// sender.
fn proposal_header(suite: &dyn CryptoSuite, p: &ProposalRlp, tx_root: B256) -> Header {
    Header {
        version: p.version,
        parent_hash: p.parent_hash,
        number: p.number,
        timestamp_ms: p.timestamp_ms,
        proposer: p.proposer,
        tx_root,
        extra_data: Block::tx_bytes_root(suite, p.txs.iter().map(|t| t.as_ref())),
        ..Default::default()
    }
}

/// Encodes a proposal for (header's proposal fields, txs).
pub fn encode_proposal(header: &Header, txs: &[Transaction]) -> Vec<u8> {
    ProposalRlp::new(header, txs.iter().map(|t| Bytes::from(t.encode())).collect()).encode()
}

impl ProposalRlp {
    /// The proposal fields of `header` with the txs' exact encodings.
    fn new(header: &Header, txs: Vec<Bytes>) -> Self {
        ProposalRlp {
            version: header.version,
            parent_hash: header.parent_hash,
            number: header.number,
            timestamp_ms: header.timestamp_ms,
            proposer: header.proposer,
            txs,
        }
    }

    /// The payload: the format tag, then the RLP.
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![PROPOSAL_TAG];
        alloy_rlp::Encodable::encode(self, &mut out);
        out
    }
}

/// What consensus votes name for a payload: the proposal hash of the header it implies (tx
/// root computed here from the txs, never taken from the sender). Unparseable payloads get a
/// hash of their bytes under another domain, so they can never collide with a real block.
pub fn proposal_digest(suite: &dyn CryptoSuite, payload: &[u8]) -> B256 {
    let Ok(p) = decode_proposal(payload) else {
        let mut buf = vec![0xff];
        buf.extend_from_slice(payload);
        return suite.hash(&buf);
    };
    let hashes: Option<Vec<B256>> =
        p.txs.iter().map(|t| Transaction::decode(t).ok().map(|t| t.hash(suite))).collect();
    match hashes {
        Some(hashes) => {
            proposal_header(suite, &p, Block::tx_root(suite, &hashes)).proposal_hash(suite)
        }
        None => {
            let mut buf = vec![0xfe];
            buf.extend_from_slice(payload);
            suite.hash(&buf)
        }
    }
}

impl Group {
    /// The sealers in effect for block `number` (its parent must be committed), in the
    /// order leader rotation and certificate indexes use.
    pub fn sealers(&self, number: u64) -> Result<Vec<Sealer>> {
        let nodes = self.ledger.consensus_nodes_at(number.saturating_sub(1))?;
        Ok(nodes
            .sealers_at(number)
            .into_iter()
            .map(|n| Sealer { node_id: PublicKey(n.node_id.0), weight: n.weight.max(1) })
            .collect())
    }

    /// Takes waiting txs from the pool and builds the proposal for block `number` by sealer
    /// `proposer`. None if the head moved, or if no tx is ready and `allow_empty` is false. The txs stay in flight until
    /// their block commits or [`aurum_txpool::TxPool::return_batch`] gives them back.
    pub fn build_checked_proposal(
        &self,
        number: u64,
        proposer: u32,
        allow_empty: bool,
    ) -> Result<Option<BuiltProposal>> {
        let parent = self.ledger.head()?;
        if parent.number + 1 != number {
            return Ok(None);
        }
        let params = self.params(number)?;
        let mut taken = self.pool.take_batch_within(
            params.tx_count_limit as usize,
            MAX_PROPOSAL_BYTES - PROPOSAL_OVERHEAD,
            params.block_gas_limit,
            number,
            |address| self.pool.account_nonce(address).unwrap_or(0),
        );
        // Txs the ledger already rules out (their nonce was used by a tx that reached
        // another node first) would make every replica refuse the proposal: drop them.
        let (mut hashes, mut nonces, mut dead) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
        taken.retain(|t| {
            // A ledger read error keeps the tx: replicas will judge it.
            let why = self.replay_error(t, parent.number, &mut hashes, &mut nonces);
            if let Ok(Some(_)) = why {
                dead.push(t.hash);
                return false;
            }
            true
        });
        if !dead.is_empty() {
            tracing::info!(
                group = self.id(),
                dropped = dead.len(),
                "dropped txs the ledger rules out"
            );
            self.pool.discard(dead);
        }
        if taken.is_empty() && !allow_empty {
            return Ok(None);
        }
        let header = Header {
            version: HEADER_VERSION,
            parent_hash: parent.hash(&*self.suite),
            number,
            timestamp_ms: now_ms().max(parent.timestamp_ms),
            proposer,
            ..Default::default()
        };
        // Each tx encoded once: for the payload and for the root over exact encodings.
        let encodings: Vec<Bytes> = taken.iter().map(|t| Bytes::from(t.tx.encode())).collect();
        let hashes: Vec<B256> = taken.iter().map(|t| t.hash).collect();
        let rlp = ProposalRlp::new(&header, encodings);
        let payload = rlp.encode();
        let header = proposal_header(&*self.suite, &rlp, Block::tx_root(&*self.suite, &hashes));
        let digest = header.proposal_hash(&*self.suite);
        let block =
            CheckedBlock { header, txs: taken.iter().map(|t| VerifiedTx::clone(t)).collect() };
        Ok(Some(BuiltProposal { payload, hashes, digest, block }))
    }

    /// Takes waiting txs and builds the proposal for block `number` (see
    /// [`Group::build_checked_proposal`]): the payload and its txs' hashes.
    pub fn build_proposal(
        &self,
        number: u64,
        proposer: u32,
        allow_empty: bool,
    ) -> Result<Option<(Vec<u8>, Vec<B256>)>> {
        Ok(self
            .build_checked_proposal(number, proposer, allow_empty)?
            .map(|b| (b.payload, b.hashes)))
    }

    /// Every check a replica makes before voting for a proposal: it extends our head, its
    /// fields are sane, and every tx verifies (signature, destination, replay) here, not on
    /// the leader's word. Txs this node's pool already verified are not verified again.
    pub fn check_proposal(
        &self,
        payload: &[u8],
    ) -> std::result::Result<CheckedBlock, BlockRejected> {
        if payload.len() > MAX_PROPOSAL_BYTES {
            return Err(BlockRejected::Invalid(format!(
                "proposal of {} bytes, the limit is {MAX_PROPOSAL_BYTES}",
                payload.len()
            )));
        }
        let p = decode_proposal(payload)?;
        let parent = self.ledger.head().map_err(GroupError::from)?;
        if p.number != parent.number + 1 || p.parent_hash != parent.hash(&*self.suite) {
            return Err(BlockRejected::NotNext { number: p.number, head: parent.number });
        }
        if p.version != HEADER_VERSION {
            return Err(BlockRejected::Invalid(format!("header version {}", p.version)));
        }
        if p.timestamp_ms < parent.timestamp_ms {
            return Err(BlockRejected::Invalid("timestamp before the parent's".into()));
        }
        if p.timestamp_ms > now_ms() + MAX_CLOCK_AHEAD_MS {
            return Err(BlockRejected::Invalid("timestamp too far in the future".into()));
        }
        let sealers = self.sealers(p.number)?;
        if p.proposer as usize >= sealers.len() {
            return Err(BlockRejected::Invalid(format!("no sealer at index {}", p.proposer)));
        }
        let params = self.params(p.number)?;
        if p.txs.len() as u64 > params.tx_count_limit {
            return Err(BlockRejected::Invalid(format!(
                "{} txs, the limit is {}",
                p.txs.len(),
                params.tx_count_limit
            )));
        }
        let txs = self.verify_block_txs(&p.txs)?;
        self.check_block_txs(&txs, parent.number)?;
        let hashes: Vec<B256> = txs.iter().map(|t| t.hash).collect();
        let header = proposal_header(&*self.suite, &p, Block::tx_root(&*self.suite, &hashes));
        Ok(CheckedBlock { header, txs })
    }

    /// Decodes and verifies txs in parallel; reuses the pool's verification when it has one.
    fn verify_block_txs(
        &self,
        raw: &[Bytes],
    ) -> std::result::Result<Vec<VerifiedTx>, BlockRejected> {
        raw.par_iter()
            .map(|bytes| {
                let tx = Transaction::decode(bytes)
                    .map_err(|e| BlockRejected::Invalid(format!("undecodable tx: {e}")))?;
                self.verify_block_tx(tx)
            })
            .collect()
    }

    /// One tx of a block: its signature (the pool's check reused for the very same tx) and
    /// its destination.
    fn verify_block_tx(&self, tx: Transaction) -> std::result::Result<VerifiedTx, BlockRejected> {
        let suite = &*self.suite;
        let hash = tx.hash(suite);
        // A native tx's hash does not cover its signature: reuse the pool's check only for
        // the very same tx, never for another signature over the same fields.
        let verified = match self.pool.get(&hash) {
            Some(known) if known.tx == tx => VerifiedTx::clone(&known),
            _ => tx.verify(suite).map_err(|e| BlockRejected::Invalid(format!("tx {hash}: {e}")))?,
        };
        verified
            .check_destination(self.chain_id(), self.id(), self.pool.eth_chain_id())
            .map_err(|e| BlockRejected::Invalid(format!("tx {hash}: {e}")))?;
        Ok(verified)
    }

    /// Replay checks against the ledger at `head`: no tx committed before or twice in the
    /// block; native txs inside their block-limit window with unused nonces.
    fn check_block_txs(
        &self,
        txs: &[VerifiedTx],
        head: u64,
    ) -> std::result::Result<(), BlockRejected> {
        let (mut hashes, mut nonces) = (BTreeSet::new(), BTreeSet::new());
        for t in txs {
            if let Some(why) = self.replay_error(t, head, &mut hashes, &mut nonces)? {
                return Err(BlockRejected::Invalid(why));
            }
        }
        Ok(())
    }

    /// Why `t` cannot go in a block on top of `head` after the txs already seen (their
    /// hashes and native nonces), if it cannot.
    fn replay_error(
        &self,
        t: &VerifiedTx,
        head: u64,
        hashes: &mut BTreeSet<B256>,
        nonces: &mut BTreeSet<alloy_primitives::U256>,
    ) -> Result<Option<String>> {
        if !hashes.insert(t.hash) {
            return Ok(Some(format!("tx {} twice in the block", t.hash)));
        }
        if let Some(why) = self.ledger.replay_check(t, head)? {
            return Ok(Some(format!("tx {}: {why}", t.hash)));
        }
        if let Transaction::Native(n) = &t.tx
            && !nonces.insert(n.data.nonce)
        {
            return Ok(Some(format!("tx {} reuses nonce {}", t.hash, n.data.nonce)));
        }
        Ok(None)
    }

    /// Executes a checked block on top of the head (its parent) and finalises its header.
    pub fn execute_checked(&self, block: &CheckedBlock) -> Result<ExecutedBlock> {
        let number = block.header.number;
        // The head and the state snapshot are read together, so a commit by another thread
        // cannot slip between them.
        let (parent, state) = {
            let _no_commit = self.commit_lock.lock();
            (self.ledger.head()?, self.ledger.latest_state())
        };
        if parent.number + 1 != number {
            return Err(GroupError::UnknownBlock(number - 1));
        }
        let started = Instant::now();
        let ctx: BlockContext = self.block_context(number, block.header.timestamp_ms)?;
        let (executed, parallel) =
            self.executor.execute_block_with_stats(&state, &ctx, &block.txs)?;
        if parallel.rounds > 0 {
            tracing::debug!(
                group = %self.id(), number, txs = block.txs.len(), kept = parallel.kept,
                rerun = parallel.rerun, in_order = parallel.direct,
                speculate_ms = parallel.speculate.as_secs_f64() * 1e3,
                commit_ms = parallel.commit.as_secs_f64() * 1e3,
                "parallel execution"
            );
        }
        let mut header = block.header.clone();
        let nodes = self.ledger.consensus_nodes_at(parent.number)?;
        let state_root = executed.diff.state_root(&parent.state_root, &*self.suite);
        header.finalize(
            &*self.suite,
            &executed.receipts,
            state_root,
            nodes.sealer_list_hash(number, &*self.suite),
        );
        let hash = header.hash(&*self.suite);
        self.stats.lock().execute += started.elapsed();
        Ok(ExecutedBlock {
            header,
            hash,
            txs: block.txs.clone(),
            receipts: executed.receipts,
            diff: executed.diff,
        })
    }

    /// Commits an executed block with its certificate, if it is still the next block (a
    /// block sync or consensus committed first is not an error: returns false).
    pub fn commit_executed(
        &self,
        block: &ExecutedBlock,
        certificate: &CommitCertificate,
    ) -> Result<bool> {
        let _one_at_a_time = self.commit_lock.lock();
        let number = block.header.number;
        if self.ledger.head_number()? + 1 != number {
            return Ok(false);
        }
        let started = Instant::now();
        self.ledger.commit(BlockCommit {
            header: &block.header,
            txs: &block.txs,
            receipts: &block.receipts,
            diff: &block.diff,
            certificate,
        })?;
        {
            let mut stats = self.stats.lock();
            stats.blocks += 1;
            stats.txs += block.txs.len() as u64;
            stats.commit += started.elapsed();
        }
        // Durable from here on: bookkeeping must not make the caller treat it as failed.
        self.pool.on_committed(block.txs.iter().map(|t| t.hash));
        self.pool.evict_used_nonces(block.txs.iter().filter_map(|t| match &t.tx {
            Transaction::Native(n) => Some(n.data.nonce),
            Transaction::Ethereum(_) => None,
        }));
        self.after_commit(number, block.hash);
        Ok(true)
    }

    /// Checks a certificate for a header against the sealer list in effect at its height
    /// ([`aurum_primitives::SealerSet::verify_certificate`]: the one quorum rule).
    pub fn verify_certificate(
        &self,
        header: &Header,
        certificate: &CommitCertificate,
    ) -> std::result::Result<(), BlockRejected> {
        let set = aurum_primitives::SealerSet::new(self.sealers(header.number)?);
        set.verify_certificate(&*self.suite, header, certificate)
            .map_err(|e| BlockRejected::Certificate(e.to_string()))
    }

    /// Applies a block downloaded from a peer: its certificate must verify against the
    /// sealer list at its height, and executing its txs here must give the certified block
    /// hash. Returns false if the block is not the next one (already have it).
    pub fn apply_certified(
        &self,
        block: &Block,
        certificate: &CommitCertificate,
    ) -> std::result::Result<bool, BlockRejected> {
        let head = self.ledger.head().map_err(GroupError::from)?;
        if block.header.number <= head.number {
            return Ok(false);
        }
        if block.header.number != head.number + 1
            || block.header.parent_hash != head.hash(&*self.suite)
        {
            return Err(BlockRejected::NotNext { number: block.header.number, head: head.number });
        }
        self.verify_certificate(&block.header, certificate)?;
        // Already decoded: verify each tx as it is (no encode/decode round trip).
        let txs = block
            .txs
            .par_iter()
            .map(|t| self.verify_block_tx(t.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let encodings: Vec<Vec<u8>> = block.txs.iter().map(|t| t.encode()).collect();
        let mut header = block.header.clone();
        let hashes: Vec<B256> = txs.iter().map(|t| t.hash).collect();
        header.tx_root = Block::tx_root(&*self.suite, &hashes);
        header.extra_data = Block::tx_bytes_root(&*self.suite, encodings.iter().map(Vec::as_slice));
        let executed = self.execute_checked(&CheckedBlock { header, txs })?;
        if executed.hash != certificate.block_hash {
            return Err(BlockRejected::Invalid(format!(
                "executing block {} here gives hash {}, the certificate says {}",
                block.header.number, executed.hash, certificate.block_hash
            )));
        }
        Ok(self.commit_executed(&executed, certificate)?)
    }
}
