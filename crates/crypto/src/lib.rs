//! Chain-wide crypto suites. A chain picks one [`SuiteKind`] at genesis and every node uses
//! it for hashing, transaction signatures, consensus votes and addresses.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use alloy_primitives::{Address, B256};
use std::sync::Arc;

/// Which suite a chain uses. Fixed at genesis; never changes for the life of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuiteKind {
    /// Ethereum-compatible: secp256k1 recoverable ECDSA, keccak256, address = keccak(pub)[12..].
    Secp256k1Keccak,
    /// Chinese national standards: SM2 signatures (user id `1234567812345678`), SM3 hashing,
    /// address = SM3(pub)[12..].
    Sm2Sm3,
}

/// Uncompressed public key without the 0x04 prefix: x || y, 64 bytes, for both suites.
/// Its hex form is the node id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 64]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("signature has {got} bytes, the {suite:?} suite expects {expected}")]
    SignatureLength { suite: SuiteKind, expected: usize, got: usize },
    #[error("signature is malformed: {0}")]
    MalformedSignature(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("public key is not a valid curve point")]
    BadPublicKey,
    #[error("secret key is invalid: {0}")]
    BadSecretKey(String),
    #[error("key file: {0}")]
    KeyFile(String),
    #[error("decryption failed (wrong key or corrupted data)")]
    Decrypt,
}

/// The operations a chain needs from its crypto suite. Implemented by `Secp256k1Keccak`
/// and `Sm2Sm3`; picked by [`suite`].
pub trait CryptoSuite: Send + Sync + std::fmt::Debug + 'static {
    fn kind(&self) -> SuiteKind;
    /// keccak256 or SM3.
    fn hash(&self, data: &[u8]) -> B256;
    /// Length in bytes of a signature produced by [`CryptoSuite::sign`]
    /// (65 = r||s||v for secp256k1; 128 = r||s||public key for SM2, which cannot recover).
    fn signature_len(&self) -> usize;
    /// Signs a 32-byte digest (already hashed with [`CryptoSuite::hash`]).
    fn sign(&self, key: &KeyPair, digest: &B256) -> Vec<u8>;
    /// Checks `sig` over `digest` and returns the signer's public key.
    fn recover(&self, digest: &B256, sig: &[u8]) -> Result<PublicKey, CryptoError>;
    /// Checks `sig` over `digest` against a known public key.
    fn verify(&self, public: &PublicKey, digest: &B256, sig: &[u8]) -> Result<(), CryptoError>;
    /// Account address of a public key: last 20 bytes of the suite hash of x||y.
    fn address(&self, public: &PublicKey) -> Address {
        Address::from_slice(&self.hash(&public.0)[12..])
    }
    /// Recovers the signer and returns its address.
    fn recover_address(&self, digest: &B256, sig: &[u8]) -> Result<Address, CryptoError> {
        Ok(self.address(&self.recover(digest, sig)?))
    }
    fn generate(&self) -> KeyPair;
    fn keypair_from_secret(&self, secret: &[u8; 32]) -> Result<KeyPair, CryptoError>;
}

/// The shared suite instance for a kind.
pub fn suite(kind: SuiteKind) -> Arc<dyn CryptoSuite> {
    todo_suite(kind)
}

/// A secret key with its public key, for one suite. The secret is wiped on drop.
pub struct KeyPair {
    pub kind: SuiteKind,
    // implementation detail of the suite module
}
