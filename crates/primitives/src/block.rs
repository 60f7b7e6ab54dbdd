//! Blocks, headers and commit certificates — and what signs what.
//!
//! - PBFT orders *proposals*: the proposal hash covers version, parent hash, number,
//!   timestamp, proposer and the tx root (a Merkle root over the tx hashes, so the tx list).
//! - After execution the *final header* adds receipt root, state root, sealer list hash,
//!   gas used and logs bloom; the block hash is the suite hash of the whole header.
//! - The *commit certificate* (2f+1 sealer signatures over [`certificate_digest`], which
//!   binds the proposal hash and the block hash) is stored beside the header, never inside
//!   what it signs. A block is final once its certificate exists.

use crate::codec::{DecodeError, decode_exact, split_tag};
use crate::merkle::merkle_root;
use crate::receipt::Receipt;
use crate::transaction::Transaction;
use alloy_primitives::{B256, Bloom, Bytes};
use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};
use aurum_crypto::CryptoSuite;
use rayon::prelude::*;

pub const HEADER_TAG: u8 = 0x01;
pub const BLOCK_TAG: u8 = 0x01;
pub const CERTIFICATE_TAG: u8 = 0x01;
/// Header format version; consensus-visible changes bump it under `compatibility_version`.
pub const HEADER_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Header {
    pub version: u32,
    pub parent_hash: B256,
    pub number: u64,
    /// Milliseconds since the Unix epoch, proposed by the leader and bounded by replicas.
    pub timestamp_ms: u64,
    /// Index of the proposing sealer in the sealer list in effect at `number`.
    pub proposer: u32,
    /// Merkle root over the tx hashes, in block order.
    pub tx_root: B256,
    // --- filled in after execution ---
    pub receipt_root: B256,
    pub state_root: B256,
    /// Hash of the sealer set (ids and weights) that must certify this block.
    pub sealer_list_hash: B256,
    pub gas_used: u64,
    pub logs_bloom: Bloom,
    /// Genesis: the chain's identity hash. Later blocks: [`Block::tx_bytes_root`], which
    /// binds the txs' exact encodings (signatures included: a native tx hash does not cover
    /// its signature). Part of what PBFT orders.
    pub extra_data: Bytes,
}

#[derive(RlpEncodable)]
struct ProposalFields<'a> {
    version: u32,
    parent_hash: &'a B256,
    number: u64,
    timestamp_ms: u64,
    proposer: u32,
    tx_root: &'a B256,
    extra_data: &'a Bytes,
}

impl Header {
    /// What PBFT orders:
    /// `H(0x02 || rlp(version, parent, number, timestamp, proposer, tx_root, extra_data))`.
    pub fn proposal_hash(&self, suite: &dyn CryptoSuite) -> B256 {
        let fields = ProposalFields {
            version: self.version,
            parent_hash: &self.parent_hash,
            number: self.number,
            timestamp_ms: self.timestamp_ms,
            proposer: self.proposer,
            tx_root: &self.tx_root,
            extra_data: &self.extra_data,
        };
        let mut buf = vec![0x02];
        fields.encode(&mut buf);
        suite.hash(&buf)
    }

    /// The block hash: the suite hash of the full header encoding. What certificates sign.
    pub fn hash(&self, suite: &dyn CryptoSuite) -> B256 {
        suite.hash(&self.encode())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![HEADER_TAG];
        Encodable::encode(self, &mut out);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (tag, payload) = split_tag(bytes)?;
        if tag != HEADER_TAG {
            return Err(DecodeError::UnknownTag { what: "header", tag });
        }
        decode_exact(payload)
    }

    /// Fills in the execution results, turning a proposal header into a final header.
    pub fn finalize(
        &mut self,
        suite: &dyn CryptoSuite,
        receipts: &[Receipt],
        state_root: B256,
        sealer_list_hash: B256,
    ) {
        // Receipt hashes and blooms are independent per receipt: compute them in parallel
        // (the result is the same whatever the thread count; only the merge is ordered).
        let (receipt_hashes, blooms): (Vec<B256>, Vec<Bloom>) =
            receipts.par_iter().map(|r| (suite.hash(&r.encode()), r.bloom())).unzip();
        self.receipt_root = merkle_root(suite, &receipt_hashes);
        self.state_root = state_root;
        self.sealer_list_hash = sealer_list_hash;
        self.gas_used = receipts.iter().map(|r| r.gas_used).sum();
        let mut bloom = Bloom::default();
        for b in &blooms {
            bloom.accrue_bloom(b);
        }
        self.logs_bloom = bloom;
    }
}

/// A header with its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub txs: Vec<Transaction>,
}

impl Block {
    /// Tx root over the given tx hashes (computed once by whoever verified the txs).
    pub fn tx_root(suite: &dyn CryptoSuite, tx_hashes: &[B256]) -> B256 {
        merkle_root(suite, tx_hashes)
    }

    /// A hash over the txs' exact encodings in block order (`H(0x05 || H(tx_1) || …)`):
    /// two blocks with the same tx hashes but other signatures differ here.
    pub fn tx_bytes_root<'a>(
        suite: &dyn CryptoSuite,
        encodings: impl IntoIterator<Item = &'a [u8]>,
    ) -> Bytes {
        let mut buf = vec![0x05];
        for e in encodings {
            buf.extend_from_slice(suite.hash(e).as_slice());
        }
        Bytes::from(suite.hash(&buf).to_vec())
    }

    /// `0x01 || rlp([header bytes, [tx bytes...]])`.
    pub fn encode(&self) -> Vec<u8> {
        let header = Bytes::from(self.header.encode());
        let txs: Vec<Bytes> = self.txs.iter().map(|t| Bytes::from(t.encode())).collect();
        let mut out = vec![BLOCK_TAG];
        BlockRlp { header, txs }.encode(&mut out);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (tag, payload) = split_tag(bytes)?;
        if tag != BLOCK_TAG {
            return Err(DecodeError::UnknownTag { what: "block", tag });
        }
        let raw: BlockRlp = decode_exact(payload)?;
        let header = Header::decode(&raw.header)?;
        let txs = raw.txs.iter().map(|t| Transaction::decode(t)).collect::<Result<_, _>>()?;
        Ok(Block { header, txs })
    }
}

#[derive(RlpEncodable, RlpDecodable)]
struct BlockRlp {
    header: Bytes,
    txs: Vec<Bytes>,
}

/// What each sealer signs to certify a final header: the PBFT checkpoint vote,
/// `H(0x03 || number || 0u64 || proposal_hash || block_hash)` (big-endian numbers). It names
/// both what was ordered and what executing it produced, and is computable from the header
/// alone, so anyone holding a header and its certificate can check it.
pub fn certificate_digest(suite: &dyn CryptoSuite, header: &Header) -> B256 {
    certificate_digest_parts(
        suite,
        header.number,
        &header.proposal_hash(suite),
        &header.hash(suite),
    )
}

/// [`certificate_digest`] from its parts.
pub fn certificate_digest_parts(
    suite: &dyn CryptoSuite,
    number: u64,
    proposal_hash: &B256,
    block_hash: &B256,
) -> B256 {
    let mut buf = Vec::with_capacity(1 + 16 + 64);
    buf.push(0x03);
    buf.extend_from_slice(&number.to_be_bytes());
    buf.extend_from_slice(&0u64.to_be_bytes());
    buf.extend_from_slice(proposal_hash.as_slice());
    buf.extend_from_slice(block_hash.as_slice());
    suite.hash(&buf)
}

/// One sealer's signature over a block's [`certificate_digest`].
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SealerSignature {
    /// Index in the sealer list in effect at the block's height.
    pub sealer_index: u32,
    pub signature: Bytes,
}

/// 2f+1 (by weight) sealer signatures over the block's [`certificate_digest`]; stored beside
/// the header.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct CommitCertificate {
    pub block_hash: B256,
    pub signatures: Vec<SealerSignature>,
}

impl CommitCertificate {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![CERTIFICATE_TAG];
        Encodable::encode(self, &mut out);
        out
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (tag, payload) = split_tag(bytes)?;
        if tag != CERTIFICATE_TAG {
            return Err(DecodeError::UnknownTag { what: "commit certificate", tag });
        }
        decode_exact(payload)
    }
}
