//! Chain-wide crypto suites. A chain picks one [`SuiteKind`] at genesis and every node uses
//! it for hashing, transaction signatures, consensus votes and addresses.
//!
//! This crate owns:
//! - the two suites behind [`CryptoSuite`]: [`Secp256k1Keccak`] (Ethereum-compatible,
//!   libsecp256k1 + keccak256) and [`Sm2Sm3`] (GB/T 32918 SM2 signatures, GB/T 32905 SM3);
//! - [`KeyPair`], a suite's secret key with its public key, wiped on drop, and its PEM key
//!   files ([`KeyPair::to_pem`], [`KeyPair::from_pem`], [`KeyPair::save`], [`KeyPair::load`]);
//! - [`at_rest`]: authenticated SM4-GCM (GB/T 32907 block cipher) for data at rest.
//!
//! Signature formats (what [`CryptoSuite::sign`] returns and [`CryptoSuite::recover`] takes):
//! - secp256k1: 65 bytes `r || s || v`, `v` in {0, 1} (27/28 accepted on input), `s` in the
//!   lower half of the group order (EIP-2); anything else is a typed [`CryptoError`].
//! - SM2: 128 bytes `r || s || x || y`: SM2 cannot recover a public key, so the signer's key
//!   rides along. `(r, s)` is a standard SM2 signature over the message `digest` (32 bytes)
//!   with user id [`SM2_DEFAULT_ID`], i.e. `e = SM3(Z_A || digest)`, so any GB/T 32918
//!   implementation given the same id and message verifies it.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod at_rest;
mod keyfile;
mod keypair;
mod secp;
mod sm;

pub use alloy_primitives::{Address, B256};
pub use keypair::KeyPair;
pub use secp::{SECP256K1_SIGNATURE_LEN, Secp256k1Keccak};
pub use sm::{SM2_DEFAULT_ID, SM2_SIGNATURE_LEN, Sm2Sm3, sm3};
pub use zeroize::Zeroizing;

use std::sync::{Arc, LazyLock};

/// Which suite a chain uses. Fixed at genesis; never changes for the life of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuiteKind {
    /// Ethereum-compatible: secp256k1 recoverable ECDSA, keccak256, address = keccak(pub)[12..].
    Secp256k1Keccak,
    /// Chinese national standards: SM2 signatures (user id `1234567812345678`), SM3 hashing,
    /// address = SM3(pub)[12..].
    Sm2Sm3,
}

impl SuiteKind {
    /// Both suites, for tests and tools that iterate over them.
    pub const ALL: [SuiteKind; 2] = [SuiteKind::Secp256k1Keccak, SuiteKind::Sm2Sm3];
}

/// Uncompressed public key without the 0x04 prefix: x || y, 64 bytes, for both suites.
/// Its hex form is the node id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 64]);

impl PublicKey {
    /// Lower-case hex of x || y without `0x`: the node id.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 bytes x || y. Also accepts the 65-byte SEC1 form with the 0x04 prefix.
    /// Only the length is checked here; whether the point is on a curve depends on the suite
    /// and is checked when the key is used.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let body = match bytes {
            [0x04, rest @ ..] if rest.len() == 64 => rest,
            _ => bytes,
        };
        <[u8; 64]>::try_from(body).map(PublicKey).map_err(|_| CryptoError::BadPublicKey)
    }

    /// Parses the hex node id (64 bytes, optional `0x`, optional `04` prefix).
    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        let bytes = hex::decode(s).map_err(|_| CryptoError::BadPublicKey)?;
        Self::from_slice(&bytes)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("signature has {got} bytes, the {suite:?} suite expects {expected}")]
    SignatureLength { suite: SuiteKind, expected: usize, got: usize },
    #[error("signature is malformed: {0}")]
    MalformedSignature(String),
    /// secp256k1 signature whose `s` is above n/2: a malleated twin of a valid signature,
    /// rejected as Ethereum does since EIP-2.
    #[error("signature s value is in the upper half of the curve order (rejected since EIP-2)")]
    HighS,
    #[error("signature does not verify")]
    BadSignature,
    #[error("public key is not a valid curve point")]
    BadPublicKey,
    #[error("secret key is invalid: {0}")]
    BadSecretKey(String),
    /// A key file or key pair of one suite was offered where another is required.
    #[error("key is for the {found:?} suite, expected {expected:?}")]
    WrongSuite { expected: SuiteKind, found: SuiteKind },
    #[error("key file: {0}")]
    KeyFile(String),
    #[error("decryption failed (wrong key or corrupted data)")]
    Decrypt,
    #[error("plaintext of {0} bytes is too long for SM4-GCM")]
    PlaintextTooLong(usize),
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
    ///
    /// Signing is deterministic (RFC 6979 nonces) for both suites. A `key` of the other
    /// suite is a caller bug: the result is then an empty signature, which every verifier
    /// rejects, rather than a signature under an unintended algorithm.
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

static SECP256K1_KECCAK: LazyLock<Arc<dyn CryptoSuite>> =
    LazyLock::new(|| Arc::new(Secp256k1Keccak));
static SM2_SM3: LazyLock<Arc<dyn CryptoSuite>> = LazyLock::new(|| Arc::new(Sm2Sm3));

/// The shared suite instance for a kind.
pub fn suite(kind: SuiteKind) -> Arc<dyn CryptoSuite> {
    match kind {
        SuiteKind::Secp256k1Keccak => Arc::clone(&SECP256K1_KECCAK),
        SuiteKind::Sm2Sm3 => Arc::clone(&SM2_SM3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_reports_its_kind() {
        for kind in SuiteKind::ALL {
            assert_eq!(suite(kind).kind(), kind);
        }
        assert_eq!(suite(SuiteKind::Secp256k1Keccak).signature_len(), 65);
        assert_eq!(suite(SuiteKind::Sm2Sm3).signature_len(), 128);
    }

    #[test]
    fn public_key_hex_round_trip() {
        let pk = PublicKey([0xab; 64]);
        assert_eq!(PublicKey::from_hex(&pk.to_hex()), Ok(pk));
        assert_eq!(PublicKey::from_hex(&format!("0x04{}", pk.to_hex())), Ok(pk));
        assert_eq!(PublicKey::from_hex("abcd"), Err(CryptoError::BadPublicKey));
        assert_eq!(PublicKey::from_hex("zz"), Err(CryptoError::BadPublicKey));
        assert_eq!(PublicKey::from_slice(&[0u8; 65]), Err(CryptoError::BadPublicKey));
    }
}
