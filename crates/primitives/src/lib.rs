//! Aurum's core data types, with no IO: transactions (native and Ethereum envelopes),
//! blocks, headers and commit certificates, receipts, the state key layout and state diffs,
//! Merkle proofs, and the one canonical versioned byte encoding of each.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod block;
pub mod codec;
pub mod eth;
pub mod merkle;
pub mod receipt;
pub mod sealers;
pub mod state;
pub mod transaction;

pub use alloy_primitives::{Address, B256, Bloom, Bytes, Log, LogData, TxKind, U256, keccak256};
pub use block::{Block, CommitCertificate, Header, SealerSignature};
pub use codec::DecodeError;
pub use eth::EthTx;
pub use receipt::{Receipt, TxStatus};
pub use sealers::{CertificateError, Sealer, SealerSet, quorum_of};
pub use state::{StateDiff, StateError, StateReader};
pub use transaction::{NativeTx, SignedNativeTx, Transaction, TxError, VerifiedTx};
