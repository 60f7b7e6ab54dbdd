//! Ethereum-compatible suite: recoverable ECDSA over secp256k1 (libsecp256k1 through the
//! `secp256k1` crate, the same library revm links) with keccak256 hashing.
//!
//! Signature = 65 bytes `r || s || v`, `v` in {0, 1}; 27/28 are accepted on input. Like
//! Ethereum since EIP-2, a signature whose `s` is above n/2 is rejected
//! ([`CryptoError::HighS`]): it is the malleated twin of a valid low-s signature, and
//! accepting both would give one transaction two valid encodings.

use crate::{B256, CryptoError, CryptoSuite, KeyPair, PublicKey, SuiteKind};
use secp256k1::{
    Message, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};
use zeroize::Zeroizing;

/// Length of a secp256k1 signature: r (32) || s (32) || v (1).
pub const SECP256K1_SIGNATURE_LEN: usize = 65;

/// n/2 for the secp256k1 group order n, big-endian; `s` must not exceed it (EIP-2).
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// secp256k1 + keccak256. Stateless; the libsecp256k1 context is the crate's global one.
#[derive(Debug, Default, Clone, Copy)]
pub struct Secp256k1Keccak;

impl Secp256k1Keccak {
    /// Recovers the signer from Ethereum-style signature parts: `y_parity` is the recovery
    /// id (0/1), i.e. `v - 27` for legacy or `v - 35 - 2 * chain_id` for EIP-155 txs.
    /// Applies the same checks as [`CryptoSuite::recover`], including low-s.
    pub fn recover_parts(
        &self,
        digest: &B256,
        r: &[u8; 32],
        s: &[u8; 32],
        y_parity: bool,
    ) -> Result<PublicKey, CryptoError> {
        let mut sig = [0u8; SECP256K1_SIGNATURE_LEN];
        sig[..32].copy_from_slice(r);
        sig[32..64].copy_from_slice(s);
        sig[64] = u8::from(y_parity);
        self.recover(digest, &sig)
    }
}

/// Parses `r || s || v`, enforcing the length, v in {0, 1, 27, 28}, 0 < r, s < n and s <= n/2.
fn parse(sig: &[u8]) -> Result<RecoverableSignature, CryptoError> {
    let [rs @ .., v] = sig else {
        return Err(length_error(sig.len()));
    };
    if sig.len() != SECP256K1_SIGNATURE_LEN {
        return Err(length_error(sig.len()));
    }
    let recid = match v {
        0 | 27 => RecoveryId::Zero,
        1 | 28 => RecoveryId::One,
        other => {
            return Err(CryptoError::MalformedSignature(format!(
                "recovery id v = {other}, expected 0, 1, 27 or 28"
            )));
        }
    };
    let (r, s) = rs.split_at(32);
    if r.iter().all(|&b| b == 0) || s.iter().all(|&b| b == 0) {
        return Err(CryptoError::MalformedSignature("r or s is zero".into()));
    }
    // Both are 32-byte big-endian, so lexicographic order is numeric order.
    if s > &HALF_ORDER[..] {
        return Err(CryptoError::HighS);
    }
    RecoverableSignature::from_compact(rs, recid)
        .map_err(|_| CryptoError::MalformedSignature("r is not below the curve order".into()))
}

fn length_error(got: usize) -> CryptoError {
    CryptoError::SignatureLength {
        suite: SuiteKind::Secp256k1Keccak,
        expected: SECP256K1_SIGNATURE_LEN,
        got,
    }
}

fn public_of(pk: &secp256k1::PublicKey) -> PublicKey {
    let full = pk.serialize_uncompressed();
    let mut out = [0u8; 64];
    out.copy_from_slice(&full[1..]);
    PublicKey(out)
}

fn keypair_of(mut sk: SecretKey) -> KeyPair {
    let public = public_of(&secp256k1::PublicKey::from_secret_key_global(&sk));
    let secret = Zeroizing::new(sk.secret_bytes());
    sk.non_secure_erase();
    KeyPair::from_parts(SuiteKind::Secp256k1Keccak, secret, public)
}

impl CryptoSuite for Secp256k1Keccak {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Secp256k1Keccak
    }

    fn hash(&self, data: &[u8]) -> B256 {
        alloy_primitives::keccak256(data)
    }

    fn signature_len(&self) -> usize {
        SECP256K1_SIGNATURE_LEN
    }

    fn sign(&self, key: &KeyPair, digest: &B256) -> Vec<u8> {
        if key.kind != SuiteKind::Secp256k1Keccak {
            return Vec::new();
        }
        let Ok(mut sk) = SecretKey::from_byte_array(*key.secret()) else {
            return Vec::new();
        };
        // libsecp256k1 signs with an RFC 6979 nonce and always emits low-s.
        let sig = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(digest.0), &sk);
        sk.non_secure_erase();
        // Recovery ids 2 and 3 (R.x >= n) occur with probability ~2^-127 and have no
        // Ethereum encoding; like Ethereum signers we emit 0/1 only.
        let (recid, rs) = sig.serialize_compact();
        let mut out = Vec::with_capacity(SECP256K1_SIGNATURE_LEN);
        out.extend_from_slice(&rs);
        out.push(if recid == RecoveryId::One { 1 } else { 0 });
        out
    }

    fn recover(&self, digest: &B256, sig: &[u8]) -> Result<PublicKey, CryptoError> {
        let sig = parse(sig)?;
        SECP256K1
            .recover_ecdsa(Message::from_digest(digest.0), &sig)
            .map(|pk| public_of(&pk))
            .map_err(|_| CryptoError::BadSignature)
    }

    fn verify(&self, public: &PublicKey, digest: &B256, sig: &[u8]) -> Result<(), CryptoError> {
        // Recover-and-compare (rather than plain ECDSA verify) so that `verify` accepts
        // exactly the signatures `recover` attributes to `public`, v included.
        if self.recover(digest, sig)? == *public { Ok(()) } else { Err(CryptoError::BadSignature) }
    }

    fn generate(&self) -> KeyPair {
        keypair_of(SecretKey::new(&mut rand::rng()))
    }

    fn keypair_from_secret(&self, secret: &[u8; 32]) -> Result<KeyPair, CryptoError> {
        SecretKey::from_byte_array(*secret).map(keypair_of).map_err(|_| {
            CryptoError::BadSecretKey("zero or not below the secp256k1 group order".into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite;

    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ];

    /// n - s, big-endian, for 0 < s < n.
    fn negate(s: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let mut d = i16::from(N[i]) - i16::from(s[i]) - borrow;
            borrow = i16::from(d < 0);
            if d < 0 {
                d += 256;
            }
            out[i] = d as u8;
        }
        out
    }

    #[test]
    fn half_order_is_n_shifted_right() {
        // n is odd, so n/2 (floor) doubled plus one is n.
        let mut doubled = [0u8; 32];
        let mut carry = 1u16;
        for i in (0..32).rev() {
            let v = u16::from(HALF_ORDER[i]) * 2 + carry;
            doubled[i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(doubled, N);
    }

    #[test]
    fn sign_recover_verify() {
        let s = suite(SuiteKind::Secp256k1Keccak);
        let kp = s.generate();
        let digest = s.hash(b"aurum");
        let sig = s.sign(&kp, &digest);
        assert_eq!(sig.len(), 65);
        assert!(sig[64] <= 1);
        assert!(sig[32..64] <= HALF_ORDER[..]);
        assert_eq!(s.recover(&digest, &sig), Ok(kp.public()));
        assert_eq!(s.verify(&kp.public(), &digest, &sig), Ok(()));
        assert_eq!(s.recover_address(&digest, &sig), Ok(kp.address()));
        // Deterministic (RFC 6979).
        assert_eq!(s.sign(&kp, &digest), sig);
        // v as 27/28 is the same signature.
        let mut legacy = sig.clone();
        legacy[64] += 27;
        assert_eq!(s.recover(&digest, &legacy), Ok(kp.public()));
    }

    #[test]
    fn rejects_tampering_and_wrong_key() {
        let s = Secp256k1Keccak;
        let kp = s.generate();
        let other = s.generate();
        let digest = s.hash(b"vote");
        let sig = s.sign(&kp, &digest);
        assert_eq!(s.verify(&other.public(), &digest, &sig), Err(CryptoError::BadSignature));
        let wrong_digest = s.hash(b"vote!");
        assert_ne!(s.recover(&wrong_digest, &sig), Ok(kp.public()));
        let mut flipped = sig.clone();
        flipped[64] ^= 1;
        assert_ne!(s.recover(&digest, &flipped), Ok(kp.public()));
        let mut bad_r = sig.clone();
        bad_r[3] ^= 0x40;
        assert_ne!(s.recover(&digest, &bad_r), Ok(kp.public()));
    }

    #[test]
    fn rejects_high_s_twin() {
        let s = Secp256k1Keccak;
        let kp = s.generate();
        let digest = s.hash(b"malleable");
        let sig = s.sign(&kp, &digest);
        // (r, n - s, v ^ 1) is the same point's other valid ECDSA signature.
        let mut twin = sig.clone();
        twin[32..64].copy_from_slice(&negate(&sig[32..64]));
        twin[64] ^= 1;
        assert_eq!(s.recover(&digest, &twin), Err(CryptoError::HighS));
        assert_eq!(s.verify(&kp.public(), &digest, &twin), Err(CryptoError::HighS));
    }

    #[test]
    fn rejects_malformed_encodings() {
        let s = Secp256k1Keccak;
        let digest = B256::repeat_byte(1);
        assert!(matches!(
            s.recover(&digest, &[0u8; 64]),
            Err(CryptoError::SignatureLength { expected: 65, got: 64, .. })
        ));
        assert!(matches!(
            s.recover(&digest, &[]),
            Err(CryptoError::SignatureLength { got: 0, .. })
        ));
        let mut sig = [1u8; 65];
        sig[64] = 2;
        assert!(matches!(s.recover(&digest, &sig), Err(CryptoError::MalformedSignature(_))));
        sig[64] = 0;
        sig[..32].copy_from_slice(&N);
        assert!(matches!(s.recover(&digest, &sig), Err(CryptoError::MalformedSignature(_))));
        sig[..32].fill(0);
        assert!(matches!(s.recover(&digest, &sig), Err(CryptoError::MalformedSignature(_))));
    }

    #[test]
    fn rejects_invalid_secrets() {
        let s = Secp256k1Keccak;
        assert!(matches!(s.keypair_from_secret(&[0; 32]), Err(CryptoError::BadSecretKey(_))));
        assert!(matches!(s.keypair_from_secret(&N), Err(CryptoError::BadSecretKey(_))));
        let mut one = [0u8; 32];
        one[31] = 1;
        assert!(s.keypair_from_secret(&one).is_ok());
        assert!(s.keypair_from_secret(&negate(&one)).is_ok(), "n - 1 is a valid secret");
    }
}
