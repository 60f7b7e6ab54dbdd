//! Ethereum transaction envelopes as sent by ethers, web3.py and wallets: decoded with
//! alloy-consensus, sender recovered with the chain's secp256k1 suite (libsecp256k1).

use crate::codec::DecodeError;
use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Typed2718};
use alloy_primitives::{Address, B256, Bytes, U256};
use aurum_crypto::{CryptoError, CryptoSuite};

/// A decoded Ethereum envelope (legacy with EIP-155, EIP-2930 or EIP-1559) together with
/// the exact raw bytes, which are what is stored and hashed.
#[derive(Debug, Clone)]
pub struct EthTx {
    raw: Bytes,
    envelope: TxEnvelope,
}

impl PartialEq for EthTx {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl Eq for EthTx {}

impl EthTx {
    /// Decodes an EIP-2718 envelope (a legacy tx is its RLP list). Blob (4844) and
    /// set-code (7702) transactions are refused: a consortium chain has no use for them.
    pub fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        let envelope = TxEnvelope::decode_2718_exact(raw).map_err(|e| DecodeError::Invalid {
            field: "ethereum envelope",
            reason: e.to_string(),
        })?;
        match envelope {
            TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_) => {}
            other => {
                return Err(DecodeError::Invalid {
                    field: "ethereum envelope",
                    reason: format!(
                        "transaction type {} is not accepted (legacy, 2930 and 1559 are)",
                        other.ty()
                    ),
                });
            }
        }
        Ok(EthTx { raw: Bytes::copy_from_slice(raw), envelope })
    }

    pub fn raw(&self) -> &Bytes {
        &self.raw
    }
    pub fn envelope(&self) -> &TxEnvelope {
        &self.envelope
    }
    /// keccak256 of the raw envelope (computed once, at decode).
    pub fn hash(&self) -> B256 {
        *self.envelope.tx_hash()
    }
    pub fn tx_type(&self) -> u8 {
        self.envelope.ty()
    }
    pub fn chain_id(&self) -> Option<u64> {
        self.envelope.chain_id()
    }
    pub fn nonce(&self) -> u64 {
        self.envelope.nonce()
    }
    pub fn to(&self) -> Option<Address> {
        self.envelope.to()
    }
    pub fn value(&self) -> U256 {
        self.envelope.value()
    }
    pub fn input(&self) -> &Bytes {
        self.envelope.input()
    }
    pub fn gas_limit(&self) -> u64 {
        self.envelope.gas_limit()
    }
    pub fn max_fee_per_gas(&self) -> u128 {
        self.envelope.max_fee_per_gas()
    }

    /// Recovers the sender from the signing hash and (r, s, y-parity) with the chain suite.
    pub fn recover_sender(&self, suite: &dyn CryptoSuite) -> Result<Address, CryptoError> {
        let sig = self.envelope.signature();
        let mut bytes = [0u8; 65];
        bytes[..32].copy_from_slice(&sig.r().to_be_bytes::<32>());
        bytes[32..64].copy_from_slice(&sig.s().to_be_bytes::<32>());
        bytes[64] = u8::from(sig.v());
        suite.recover_address(&self.envelope.signature_hash(), &bytes)
    }
}
