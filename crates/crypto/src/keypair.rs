//! [`KeyPair`]: a suite's 32-byte secret scalar with its public key.
//!
//! The secret is kept once, in a [`Zeroizing`] buffer wiped on drop. Signing builds the
//! backend's key object from it for the duration of one signature, so no long-lived copy
//! sits inside a library type that does not wipe itself.

use crate::{Address, B256, CryptoError, PublicKey, SuiteKind, suite};
use zeroize::Zeroizing;

/// A secret key with its public key, for one suite. The secret is wiped on drop.
#[derive(Clone)]
pub struct KeyPair {
    /// The suite this key belongs to. Signing with another suite's [`crate::CryptoSuite`]
    /// yields an empty (always rejected) signature.
    pub kind: SuiteKind,
    secret: Zeroizing<[u8; 32]>,
    public: PublicKey,
}

impl KeyPair {
    /// Assembles a key pair whose `public` the suite module derived from `secret`.
    pub(crate) fn from_parts(
        kind: SuiteKind,
        secret: Zeroizing<[u8; 32]>,
        public: PublicKey,
    ) -> Self {
        Self { kind, secret, public }
    }

    /// A fresh random key pair from the operating system's CSPRNG (via `rand::rng()`).
    pub fn generate(kind: SuiteKind) -> Self {
        suite(kind).generate()
    }

    /// The key pair for a big-endian secret scalar. Fails if the scalar is not a valid
    /// secret for the suite (zero, or not below the group order; for SM2 also n-1).
    pub fn from_secret(kind: SuiteKind, secret: &[u8; 32]) -> Result<Self, CryptoError> {
        suite(kind).keypair_from_secret(secret)
    }

    /// The public key, x || y.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// A copy of the big-endian secret scalar, wiped when the returned value drops.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.secret.clone()
    }

    /// Borrow of the secret scalar for the suite modules.
    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The account address of this key under its suite.
    pub fn address(&self) -> Address {
        suite(self.kind).address(&self.public)
    }

    /// Signs `digest` with this key's own suite; see [`crate::CryptoSuite::sign`].
    pub fn sign(&self, digest: &B256) -> Vec<u8> {
        suite(self.kind).sign(self, digest)
    }

    /// Fails with [`CryptoError::WrongSuite`] unless this key belongs to `expected`.
    pub fn expect_kind(&self, expected: SuiteKind) -> Result<(), CryptoError> {
        if self.kind == expected {
            Ok(())
        } else {
            Err(CryptoError::WrongSuite { expected, found: self.kind })
        }
    }
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kind", &self.kind)
            .field("public", &self.public)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_secret() {
        for kind in SuiteKind::ALL {
            let kp = KeyPair::from_secret(kind, &[0x11; 32]).unwrap();
            let shown = format!("{kp:?} {kp:#?}");
            assert!(!shown.contains(&hex::encode([0x11u8; 32])), "{shown}");
            assert!(!shown.contains("17, 17"), "{shown}");
            assert!(shown.contains("<redacted>"));
            assert!(shown.contains(&kp.public().to_hex()));
        }
    }

    #[test]
    fn secret_round_trips_and_address_matches_suite() {
        for kind in SuiteKind::ALL {
            let kp = KeyPair::generate(kind);
            let again = KeyPair::from_secret(kind, &kp.secret_bytes()).unwrap();
            assert_eq!(kp.public(), again.public());
            assert_eq!(kp.address(), suite(kind).address(&kp.public()));
            assert!(kp.expect_kind(kind).is_ok());
        }
        let kp = KeyPair::generate(SuiteKind::Sm2Sm3);
        assert_eq!(
            kp.expect_kind(SuiteKind::Secp256k1Keccak),
            Err(CryptoError::WrongSuite {
                expected: SuiteKind::Secp256k1Keccak,
                found: SuiteKind::Sm2Sm3
            })
        );
    }

    #[test]
    fn sign_with_other_suite_gives_rejected_empty_signature() {
        let sm2_key = KeyPair::generate(SuiteKind::Sm2Sm3);
        let secp = suite(SuiteKind::Secp256k1Keccak);
        let digest = B256::repeat_byte(7);
        let sig = secp.sign(&sm2_key, &digest);
        assert!(sig.is_empty());
        assert!(matches!(secp.recover(&digest, &sig), Err(CryptoError::SignatureLength { .. })));
    }
}
