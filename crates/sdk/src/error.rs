//! The SDK's error type. Node refusals ([`SdkError::Rpc`]), failed executions
//! ([`SdkError::Reverted`], [`SdkError::Failed`]) and failed proofs ([`SdkError::Proof`]) are
//! answers about the request; transport and bad-response errors say the node could not be
//! reached or spoke outside the contract.

use crate::abi::AbiError;
use crate::revert::RevertReason;
use crate::types::RpcReceipt;
use alloy_primitives::B256;
use aurum_crypto::CryptoError;
use aurum_primitives::DecodeError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub type Result<T, E = SdkError> = std::result::Result<T, E>;

/// JSON-RPC error code of a refused transaction (`data.reason` says why).
pub const CODE_TX_REFUSED: i64 = -32000;
/// JSON-RPC error code of an unknown group.
pub const CODE_UNKNOWN_GROUP: i64 = -32001;
/// JSON-RPC error code of an execution revert (`eth_call`, `eth_estimateGas`).
pub const CODE_REVERTED: i64 = 3;

/// A JSON-RPC error object, exactly as the node answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} (code {code}{})", data_suffix(.data))]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

fn data_suffix(data: &Option<serde_json::Value>) -> String {
    match data {
        Some(d) => format!(", data {d}"),
        None => String::new(),
    }
}

impl RpcError {
    /// For a refused transaction (-32000): `data.reason`, e.g. `"NonceUsed"` or `"BlockLimit"`.
    pub fn refusal_reason(&self) -> Option<&str> {
        self.data.as_ref()?.get("reason")?.as_str()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("{method}: cannot reach the node: {source}")]
    Transport {
        method: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{method}: HTTP {status} without a JSON-RPC answer: {body}")]
    Http { method: String, status: u16, body: String },
    /// The node answered with a JSON-RPC error.
    #[error("{method}: {error}")]
    Rpc { method: String, error: RpcError },
    /// The node answered outside the documented contract.
    #[error("{method}: unexpected answer: {reason}")]
    BadResponse { method: String, reason: String },
    #[error("the group uses crypto {0:?}; this SDK knows \"secp256k1\" and \"sm\"")]
    UnknownCrypto(String),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// Typically a key of the wrong suite for this chain.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Abi(#[from] AbiError),
    /// The transaction or call reverted (status 1); `reason` is the decoded revert data.
    #[error("execution reverted: {reason}{}", tx_suffix(.tx_hash))]
    Reverted {
        /// None for a call.
        tx_hash: Option<B256>,
        reason: RevertReason,
        /// The receipt of a sent transaction (boxed: errors should stay small).
        receipt: Option<Box<RpcReceipt>>,
    },
    /// Execution ended with a status other than success or revert (out of gas, permission
    /// denied, …).
    #[error("execution failed with status {status} ({status_name}){}{}", message_suffix(.message), tx_suffix(.tx_hash))]
    Failed {
        tx_hash: Option<B256>,
        status: u8,
        status_name: String,
        /// The node's explanation when the output carries one (`Error(string)`), e.g. why a
        /// precompile denied the call.
        message: Option<String>,
        receipt: Option<Box<RpcReceipt>>,
    },
    #[error("no receipt for transaction {hash} after {waited:?}")]
    Timeout { hash: B256, waited: Duration },
    #[error("proof check failed: {0}")]
    Proof(#[from] ProofError),
}

fn message_suffix(message: &Option<String>) -> String {
    match message {
        Some(m) => format!(": {m}"),
        None => String::new(),
    }
}

fn tx_suffix(hash: &Option<B256>) -> String {
    match hash {
        Some(h) => format!(" (transaction {h})"),
        None => String::new(),
    }
}

impl SdkError {
    /// The JSON-RPC error, if the node answered with one.
    pub fn rpc_error(&self) -> Option<&RpcError> {
        match self {
            SdkError::Rpc { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The decoded revert reason, if execution reverted.
    pub fn revert_reason(&self) -> Option<&RevertReason> {
        match self {
            SdkError::Reverted { reason, .. } => Some(reason),
            _ => None,
        }
    }

    pub(crate) fn bad_response(method: &str, reason: impl Into<String>) -> Self {
        SdkError::BadResponse { method: method.to_owned(), reason: reason.into() }
    }
}

/// Which check failed, with the values that disagreed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("headerRaw of block {hash} does not decode: {error}")]
    HeaderDecode { hash: B256, error: DecodeError },
    #[error("headerRaw hashes to {computed}, the node served block hash {served}")]
    HeaderHash { served: B256, computed: B256 },
    #[error("the header's {field} is {in_header}, the node served {served}")]
    HeaderField { field: &'static str, in_header: String, served: String },
    #[error("the served transaction raw does not decode: {0}")]
    TxDecode(DecodeError),
    #[error("the transaction raw hashes to {computed}, the node served hash {served}")]
    TxHash { served: B256, computed: B256 },
    #[error("the served receipt raw does not decode: {0}")]
    ReceiptDecode(DecodeError),
    #[error("the receipt's {field} is {in_raw} in its raw encoding, the node served {served}")]
    ReceiptField { field: &'static str, in_raw: String, served: String },
    #[error("the proof's leaf is {leaf}, expected the {what} {expected}")]
    Leaf { what: &'static str, leaf: B256, expected: B256 },
    #[error("the Merkle path does not lead from leaf {leaf} to root {root}")]
    MerklePath { leaf: B256, root: B256 },
    #[error("the proof's root {proof_root} is not the header's {field} {header_root}")]
    Root { field: &'static str, proof_root: B256, header_root: B256 },
    #[error("the proof is for block {proof}, but the {what} is block {other}")]
    BlockNumber { what: &'static str, proof: u64, other: u64 },
    #[error("the {what} says block hash {served}, the proven header hashes to {header}")]
    BlockHash { what: &'static str, served: B256, header: B256 },
    #[error("the {what} says index {served}, the proof says index {proof}")]
    Index { what: &'static str, served: u64, proof: u64 },
    #[error("the receipt and transaction proofs are for different positions in block {block}")]
    Position { block: u64 },
}
