//! A typed async client for Aurum nodes: the native JSON-RPC methods (docs/rpc.md),
//! native transactions built and signed with the chain's own crypto suite, contract
//! deployment and calls with ABI encoding, decoding of return values, events and revert
//! reasons, and verification of what a node serves (block headers, tx and receipt proofs).
//!
//! This crate owns:
//! - [`Client`]: one group of one node over HTTP; [`Client::request`] for any method, typed
//!   wrappers for the native ones;
//! - [`tx`]: building and signing native transactions without a node;
//! - [`abi`] and [`revert`]: alloy's dynamic ABI put to work (function lookup by name or
//!   signature, artifacts, events, `Error(string)` / `Panic(uint256)` / custom errors);
//! - [`proof`]: header and Merkle-proof checks, each failure naming the check.
//!
//! ```no_run
//! use aurum_sdk::{Client, DynSolValue, U256, load_artifact};
//!
//! # async fn demo() -> aurum_sdk::Result<()> {
//! let client = Client::connect("http://127.0.0.1:20200", "group0").await?;
//! let key = client.generate_key(); // a key of the chain's suite (secp256k1 or SM2)
//! let (abi, bytecode) = load_artifact("contracts/artifacts/AurumToken.json")?;
//!
//! let args = [
//!     DynSolValue::String("Aurum Token".into()),
//!     DynSolValue::String("AUR".into()),
//!     DynSolValue::Uint(U256::from(1_000_000u64), 256),
//! ];
//! let token = client.deploy(&key, &abi, &bytecode, &args).await?.address;
//!
//! let to = client.generate_key().address();
//! let sent = client
//!     .send(&key, token, &abi, "transfer", &[to.into(), U256::from(10u64).into()])
//!     .await?;
//! println!("{}", sent.event("Transfer").expect("emitted")); // Transfer(from: …, to: …, value: 10)
//!
//! let balance = client.call(token, &abi, "balanceOf(address)", &[to.into()]).await?;
//! assert_eq!(balance[0], DynSolValue::Uint(U256::from(10u64), 256));
//!
//! // A revert comes back typed, its reason decoded with the ABI.
//! match client.send(&key, token, &abi, "transfer", &[to.into(), U256::MAX.into()]).await {
//!     Err(aurum_sdk::SdkError::Reverted { reason, .. }) => println!("reverted: {reason}"),
//!     other => println!("unexpected: {other:?}"),
//! }
//!
//! // The receipt is in a block whose header hashes to the block hash.
//! let proven = client.verify_receipt_proof(sent.receipt.transaction_hash).await?;
//! println!("in block {} ({})", proven.block.header.number, proven.block.hash);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod abi;
mod client;
mod de;
mod error;
pub mod proof;
pub mod revert;
mod transact;
pub mod tx;
pub mod types;

pub use abi::{
    AbiError, DecodedLog, decode_log, decode_logs, find_function, format_value, load_artifact,
    parse_artifact,
};
pub use client::{Client, DEFAULT_HTTP_TIMEOUT, DEFAULT_RECEIPT_TIMEOUT};
pub use error::{CODE_REVERTED, CODE_TX_REFUSED, CODE_UNKNOWN_GROUP, Result, RpcError, SdkError};
pub use proof::{ProofError, ProvenReceipt, ProvenTx};
pub use revert::RevertReason;
pub use transact::{Contract, Deployment, TxOutcome, check_status};
pub use tx::{SignedTx, TxRequest};
pub use types::{
    Block, BlockDetail, BlockTxs, CallRequest, CallResult, GroupInfo, MerkleProof,
    ReceiptWithProof, RpcBlock, RpcLog, RpcReceipt, RpcTx, Sealer, SystemConfig, TotalTxCount,
    TxWithProof,
};

pub use alloy_dyn_abi::DynSolValue;
pub use alloy_json_abi::JsonAbi;
pub use alloy_primitives::{Address, B256, Bytes, U256};
pub use aurum_crypto::{KeyPair, SuiteKind};

#[cfg(test)]
mod test_support;
