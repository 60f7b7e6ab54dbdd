//! Receipts: the outcome of one transaction.

use crate::codec::{DecodeError, decode_exact, split_tag};
use alloy_primitives::{Address, Bloom, Bytes, Log, TxKind};
use alloy_rlp::{RlpDecodable, RlpEncodable};

/// Format tag of an encoded receipt.
pub const RECEIPT_TAG: u8 = 0x01;

/// How a transaction ended. Codes are stable: they are part of the receipt encoding, and
/// so of the receipt root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TxStatus {
    Success = 0,
    /// REVERT: `output` holds the revert data (reason string or custom error).
    Reverted = 1,
    OutOfGas = 2,
    /// An Ethereum tx whose nonce is not the sender's next account nonce.
    NonceMismatch = 3,
    /// Value transfer while balances are disabled, or insufficient balance.
    ValueTransferRefused = 4,
    /// Any other EVM halt (invalid opcode, stack error, bad jump, …).
    Halted = 5,
    /// The caller is not allowed to call this contract or method.
    PermissionDenied = 6,
    /// A precompile rejected its input.
    PrecompileError = 7,
    /// Refused before execution (e.g. gas limit below the intrinsic cost).
    InvalidTx = 8,
    /// Contract creation collided with an existing account or exceeded code limits.
    CreateFailed = 9,
    /// Not run: the block's cumulative gas had already reached `block_gas_limit`. The
    /// sender's nonce is consumed as for any failed tx; resend it in a later block.
    BlockGasLimitReached = 10,
}

impl TxStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
    pub fn from_code(code: u8) -> Option<Self> {
        use TxStatus::*;
        Some(match code {
            0 => Success,
            1 => Reverted,
            2 => OutOfGas,
            3 => NonceMismatch,
            4 => ValueTransferRefused,
            5 => Halted,
            6 => PermissionDenied,
            7 => PrecompileError,
            8 => InvalidTx,
            9 => CreateFailed,
            10 => BlockGasLimitReached,
            _ => return None,
        })
    }
    pub fn is_success(self) -> bool {
        self == TxStatus::Success
    }
}

/// The outcome of one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub status: TxStatus,
    pub gas_used: u64,
    /// Set when the tx created a contract.
    pub contract_address: Option<Address>,
    pub logs: Vec<Log>,
    /// Return data on success, revert data on revert.
    pub output: Bytes,
}

#[derive(RlpEncodable)]
struct ReceiptRlpRef<'a> {
    status: u8,
    gas_used: u64,
    contract_address: TxKind,
    logs: &'a Vec<Log>,
    output: &'a Bytes,
}

#[derive(RlpDecodable)]
struct ReceiptRlp {
    status: u8,
    gas_used: u64,
    contract_address: TxKind,
    logs: Vec<Log>,
    output: Bytes,
}

impl Receipt {
    pub fn bloom(&self) -> Bloom {
        let mut bloom = Bloom::default();
        for log in &self.logs {
            bloom.accrue_log(log);
        }
        bloom
    }

    pub fn encode(&self) -> Vec<u8> {
        let rlp = ReceiptRlpRef {
            status: self.status.code(),
            gas_used: self.gas_used,
            contract_address: match self.contract_address {
                Some(a) => TxKind::Call(a),
                None => TxKind::Create,
            },
            logs: &self.logs,
            output: &self.output,
        };
        let mut out = vec![RECEIPT_TAG];
        alloy_rlp::Encodable::encode(&rlp, &mut out);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (tag, payload) = split_tag(bytes)?;
        if tag != RECEIPT_TAG {
            return Err(DecodeError::UnknownTag { what: "receipt", tag });
        }
        let rlp: ReceiptRlp = decode_exact(payload)?;
        Ok(Receipt {
            status: TxStatus::from_code(rlp.status).ok_or(DecodeError::Invalid {
                field: "receipt status",
                reason: format!("unknown code {}", rlp.status),
            })?,
            gas_used: rlp.gas_used,
            contract_address: rlp.contract_address.to().copied(),
            logs: rlp.logs,
            output: rlp.output,
        })
    }
}
