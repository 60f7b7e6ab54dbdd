//! Transactions: the native kind (FISCO BCOS style: random nonce + block limit, signed with
//! the chain's suite) and Ethereum envelopes (legacy EIP-155, EIP-2930, EIP-1559) accepted
//! from Ethereum clients on secp256k1 chains.
//!
//! Canonical encoding: one format tag byte, then the payload.
//! - `0x01 || rlp([NativeTx, signature])` — native, format 1.
//! - `0x02 || EIP-2718 envelope` — Ethereum, exactly the bytes the client signed and sent.

use crate::codec::{DecodeError, decode_exact, split_tag};
use crate::eth::EthTx;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use aurum_crypto::{CryptoError, CryptoSuite, KeyPair, SuiteKind};

/// Format tag of a native transaction (and of its signing payload).
pub const NATIVE_TX_TAG: u8 = 0x01;
/// Format tag of an Ethereum envelope.
pub const ETH_TX_TAG: u8 = 0x02;
/// Hard upper bound on an encoded transaction, checked before any decoding.
pub const MAX_TX_BYTES: usize = 4 * 1024 * 1024;
/// A native tx is valid while `head < block_limit <= head + BLOCK_LIMIT_WINDOW`.
pub const BLOCK_LIMIT_WINDOW: u64 = 1000;

/// The signed fields of a native transaction.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct NativeTx {
    pub chain_id: String,
    pub group_id: String,
    /// Valid while `head < block_limit <= head + 1000`; with `nonce` it bounds replay.
    pub block_limit: u64,
    /// A unique random number: duplicates within the block-limit window are refused.
    pub nonce: U256,
    pub to: TxKind,
    pub value: U256,
    pub input: Bytes,
    pub gas_limit: u64,
    /// Optional explicit conflict keys, a scheduling hint for parallel execution.
    pub conflict_keys: Vec<Bytes>,
}

impl NativeTx {
    /// The bytes that are hashed and signed: `0x01 || rlp(self)`.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut out = vec![NATIVE_TX_TAG];
        alloy_rlp::Encodable::encode(self, &mut out);
        out
    }

    /// The transaction hash: the chain suite's hash of the signing payload. It does not
    /// cover the signature, so a re-signed (malleated) signature cannot make a new hash.
    pub fn hash(&self, suite: &dyn CryptoSuite) -> B256 {
        suite.hash(&self.signing_payload())
    }

    pub fn sign(self, suite: &dyn CryptoSuite, key: &KeyPair) -> SignedNativeTx {
        let signature = suite.sign(key, &self.hash(suite)).into();
        SignedNativeTx { data: self, signature }
    }
}

/// A native transaction with its signature (65 bytes secp256k1, 128 bytes SM2).
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SignedNativeTx {
    pub data: NativeTx,
    pub signature: Bytes,
}

/// Any transaction the chain accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transaction {
    Native(SignedNativeTx),
    Ethereum(EthTx),
}

/// Why a transaction was refused. Every variant is an input error answered to the client.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("malformed transaction: {0}")]
    Decode(#[from] DecodeError),
    #[error("bad signature: {0}")]
    Signature(#[from] CryptoError),
    #[error("Ethereum transactions are accepted only on secp256k1 chains; this chain uses SM2")]
    EthOnSmChain,
    #[error(
        "unsupported Ethereum transaction type {0} (legacy, EIP-2930 and EIP-1559 are accepted)"
    )]
    UnsupportedEthType(u8),
    #[error(
        "Ethereum transaction has no chain id (pre-EIP-155); it could be replayed on any chain"
    )]
    MissingChainId,
    #[error("wrong chain: transaction is for {got:?}, this is {expected:?}")]
    WrongChain { expected: String, got: String },
    #[error("wrong group: transaction is for {got:?}, this is {expected:?}")]
    WrongGroup { expected: String, got: String },
    #[error("wrong Ethereum chain id {got}, this group's is {expected}")]
    WrongEthChainId { expected: u64, got: u64 },
}

impl Transaction {
    /// Decodes the canonical encoding (tag + payload). Size is checked before anything else.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(DecodeError::TooLarge { size: bytes.len(), limit: MAX_TX_BYTES });
        }
        let (tag, payload) = split_tag(bytes)?;
        match tag {
            NATIVE_TX_TAG => Ok(Transaction::Native(decode_exact(payload)?)),
            ETH_TX_TAG => Ok(Transaction::Ethereum(EthTx::decode(payload)?)),
            tag => Err(DecodeError::UnknownTag { what: "transaction", tag }),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            Transaction::Native(tx) => {
                let mut out = vec![NATIVE_TX_TAG];
                alloy_rlp::Encodable::encode(tx, &mut out);
                out
            }
            Transaction::Ethereum(tx) => {
                let mut out = Vec::with_capacity(1 + tx.raw().len());
                out.push(ETH_TX_TAG);
                out.extend_from_slice(tx.raw());
                out
            }
        }
    }

    /// Native: the suite hash of the signing payload. Ethereum: keccak256 of the raw
    /// envelope, as every Ethereum client computes it.
    pub fn hash(&self, suite: &dyn CryptoSuite) -> B256 {
        match self {
            Transaction::Native(tx) => tx.data.hash(suite),
            Transaction::Ethereum(tx) => tx.hash(),
        }
    }

    /// Checks the signature and returns the transaction with its hash and sender.
    /// This is the expensive step (a signature recovery): do it once per tx, in parallel.
    pub fn verify(self, suite: &dyn CryptoSuite) -> Result<VerifiedTx, TxError> {
        let hash = self.hash(suite);
        let sender = match &self {
            Transaction::Native(tx) => suite.recover_address(&hash, &tx.signature)?,
            Transaction::Ethereum(tx) => {
                if suite.kind() != SuiteKind::Secp256k1Keccak {
                    return Err(TxError::EthOnSmChain);
                }
                tx.recover_sender(suite)?
            }
        };
        Ok(VerifiedTx { tx: self, hash, sender })
    }

    pub fn to(&self) -> Option<Address> {
        match self {
            Transaction::Native(tx) => tx.data.to.to().copied(),
            Transaction::Ethereum(tx) => tx.to(),
        }
    }
    pub fn value(&self) -> U256 {
        match self {
            Transaction::Native(tx) => tx.data.value,
            Transaction::Ethereum(tx) => tx.value(),
        }
    }
    pub fn input(&self) -> &Bytes {
        match self {
            Transaction::Native(tx) => &tx.data.input,
            Transaction::Ethereum(tx) => tx.input(),
        }
    }
    pub fn gas_limit(&self) -> u64 {
        match self {
            Transaction::Native(tx) => tx.data.gas_limit,
            Transaction::Ethereum(tx) => tx.gas_limit(),
        }
    }
    /// The account nonce an Ethereum tx must carry; None for native txs (random nonce).
    pub fn eth_nonce(&self) -> Option<u64> {
        match self {
            Transaction::Native(_) => None,
            Transaction::Ethereum(tx) => Some(tx.nonce()),
        }
    }
    /// Declared conflict keys (native txs only).
    pub fn conflict_keys(&self) -> &[Bytes] {
        match self {
            Transaction::Native(tx) => &tx.data.conflict_keys,
            Transaction::Ethereum(_) => &[],
        }
    }
}

/// A transaction whose signature has been checked, with its hash and sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTx {
    pub tx: Transaction,
    pub hash: B256,
    pub sender: Address,
}

impl VerifiedTx {
    pub fn to(&self) -> Option<Address> {
        self.tx.to()
    }
    pub fn value(&self) -> U256 {
        self.tx.value()
    }
    pub fn input(&self) -> &Bytes {
        self.tx.input()
    }
    pub fn gas_limit(&self) -> u64 {
        self.tx.gas_limit()
    }
    pub fn eth_nonce(&self) -> Option<u64> {
        self.tx.eth_nonce()
    }

    /// Checks that the tx is meant for this chain and group (native: chain and group ids;
    /// Ethereum: the group's Ethereum chain id, so a tx cannot be replayed in another group).
    pub fn check_destination(
        &self,
        chain_id: &str,
        group_id: &str,
        eth_chain_id: u64,
    ) -> Result<(), TxError> {
        match &self.tx {
            Transaction::Native(tx) => {
                if tx.data.chain_id != chain_id {
                    return Err(TxError::WrongChain {
                        expected: chain_id.into(),
                        got: tx.data.chain_id.clone(),
                    });
                }
                if tx.data.group_id != group_id {
                    return Err(TxError::WrongGroup {
                        expected: group_id.into(),
                        got: tx.data.group_id.clone(),
                    });
                }
            }
            Transaction::Ethereum(tx) => match tx.chain_id() {
                None => return Err(TxError::MissingChainId),
                Some(got) if got != eth_chain_id => {
                    return Err(TxError::WrongEthChainId { expected: eth_chain_id, got });
                }
                Some(_) => {}
            },
        }
        Ok(())
    }
}
