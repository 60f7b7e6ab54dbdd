//! Chinese national-standard suite: SM2 signatures (GB/T 32918.2 / GM/T 0003.2) on the
//! recommended curve sm2p256v1 with SM3 hashing (GB/T 32905 / GM/T 0004), through the
//! RustCrypto `sm2` and `sm3` crates.
//!
//! What is signed: the message is the 32 digest bytes handed to [`CryptoSuite::sign`], with
//! user id [`SM2_DEFAULT_ID`]; the crate computes `e = SM3(Z_A || digest)` exactly as the
//! standard does, so any conforming SM2 implementation given the same id, key and 32-byte
//! message verifies our signatures and we verify theirs.
//!
//! Signature = 128 bytes `r || s || x || y`: SM2 has no public-key recovery, so the signer's
//! public key travels with the signature and [`CryptoSuite::recover`] verifies against it.

use crate::{B256, CryptoError, CryptoSuite, KeyPair, PublicKey, SuiteKind};
use rand::RngCore;
use sm2::dsa::{
    Signature, SigningKey, VerifyingKey,
    signature::{
        RandomizedSigner, Signer, Verifier,
        rand_core::{TryCryptoRng, TryRng},
    },
};
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm3::{Digest, Sm3};
use std::convert::Infallible;
use zeroize::Zeroizing;

/// The user id (distinguishing identifier) every Aurum SM2 signature uses: the default id of
/// GM/T 0009 and of FISCO BCOS, OpenSSL and GmSSL.
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

/// Length of an SM2 signature: r (32) || s (32) || public key x || y (64).
pub const SM2_SIGNATURE_LEN: usize = 128;

/// n - 1 for the sm2p256v1 group order n. A secret d = n - 1 makes 1 + d = n, which has no
/// inverse, so GB/T 32918 restricts secrets to [1, n - 2].
const ORDER_MINUS_ONE: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x22,
];

/// SM3 hash (GB/T 32905) of `data`.
pub fn sm3(data: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sm3::digest(data)))
}

/// SM2 + SM3. Stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sm2Sm3;

/// Extra input for the RFC 6979 nonce when a deterministic attempt is unusable (r = 0,
/// r + k = n or s = 0; each has probability about 2^-256). Not a source of secrecy: the
/// nonce stays derived from the secret key and the message.
struct RetryTweak(u8);

impl TryRng for RetryTweak {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::from(self.0))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(u64::from(self.0))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(self.0);
        Ok(())
    }
}

impl TryCryptoRng for RetryTweak {}

fn public_of(vk: &VerifyingKey) -> PublicKey {
    let point = vk.to_sec1_point(false);
    let mut out = [0u8; 64];
    // An uncompressed SEC1 point is 0x04 || x || y; a valid key is never the identity.
    if let Some(xy) = point.as_bytes().get(1..65) {
        out.copy_from_slice(xy);
    }
    PublicKey(out)
}

fn verifying_key(public: &PublicKey) -> Result<VerifyingKey, CryptoError> {
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..].copy_from_slice(&public.0);
    VerifyingKey::from_sec1_bytes(SM2_DEFAULT_ID, &sec1).map_err(|_| CryptoError::BadPublicKey)
}

fn length_error(got: usize) -> CryptoError {
    CryptoError::SignatureLength { suite: SuiteKind::Sm2Sm3, expected: SM2_SIGNATURE_LEN, got }
}

/// Splits `r || s || x || y` and checks r, s are in [1, n - 1].
fn parse(sig: &[u8]) -> Result<(Signature, PublicKey), CryptoError> {
    if sig.len() != SM2_SIGNATURE_LEN {
        return Err(length_error(sig.len()));
    }
    let (rs, xy) = sig.split_at(64);
    let signature = Signature::from_slice(rs).map_err(|_| {
        CryptoError::MalformedSignature("r or s is zero or not below the curve order".into())
    })?;
    Ok((signature, PublicKey::from_slice(xy)?))
}

fn signing_key(secret: &[u8; 32]) -> Result<SigningKey, CryptoError> {
    if *secret == ORDER_MINUS_ONE {
        return Err(CryptoError::BadSecretKey("n - 1 is not a valid SM2 secret".into()));
    }
    SigningKey::from_slice(SM2_DEFAULT_ID, secret).map_err(|_| {
        CryptoError::BadSecretKey("zero or not below the sm2p256v1 group order".into())
    })
}

fn sign_message(sk: &SigningKey, msg: &[u8]) -> Option<Signature> {
    if let Ok(sig) = sk.try_sign(msg) {
        return Some(sig);
    }
    (1..=8u8).find_map(|tweak| sk.try_sign_with_rng(&mut RetryTweak(tweak), msg).ok())
}

impl CryptoSuite for Sm2Sm3 {
    fn kind(&self) -> SuiteKind {
        SuiteKind::Sm2Sm3
    }

    fn hash(&self, data: &[u8]) -> B256 {
        sm3(data)
    }

    fn signature_len(&self) -> usize {
        SM2_SIGNATURE_LEN
    }

    fn sign(&self, key: &KeyPair, digest: &B256) -> Vec<u8> {
        if key.kind != SuiteKind::Sm2Sm3 {
            return Vec::new();
        }
        // Built per signature so the only long-lived copy of the secret is the KeyPair's
        // wiped buffer (the crate's SigningKey does not zeroize itself).
        let Ok(sk) = signing_key(key.secret()) else {
            return Vec::new();
        };
        let Some(sig) = sign_message(&sk, digest.as_slice()) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(SM2_SIGNATURE_LEN);
        out.extend_from_slice(&sig.to_bytes());
        out.extend_from_slice(&key.public().0);
        out
    }

    fn recover(&self, digest: &B256, sig: &[u8]) -> Result<PublicKey, CryptoError> {
        let (signature, public) = parse(sig)?;
        verifying_key(&public)?
            .verify(digest.as_slice(), &signature)
            .map_err(|_| CryptoError::BadSignature)?;
        Ok(public)
    }

    fn verify(&self, public: &PublicKey, digest: &B256, sig: &[u8]) -> Result<(), CryptoError> {
        let (signature, embedded) = parse(sig)?;
        if embedded != *public {
            return Err(CryptoError::BadSignature);
        }
        verifying_key(public)?
            .verify(digest.as_slice(), &signature)
            .map_err(|_| CryptoError::BadSignature)
    }

    fn generate(&self) -> KeyPair {
        let mut rng = rand::rng();
        let mut secret = Zeroizing::new([0u8; 32]);
        loop {
            rng.fill_bytes(secret.as_mut());
            // Fails only for the ~2^-32 share of 256-bit strings outside [1, n - 2].
            if let Ok(kp) = self.keypair_from_secret(&secret) {
                return kp;
            }
        }
    }

    fn keypair_from_secret(&self, secret: &[u8; 32]) -> Result<KeyPair, CryptoError> {
        let sk = signing_key(secret)?;
        let public = public_of(sk.verifying_key());
        Ok(KeyPair::from_parts(SuiteKind::Sm2Sm3, Zeroizing::new(*secret), public))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite;

    #[test]
    fn sign_recover_verify() {
        let s = suite(SuiteKind::Sm2Sm3);
        let kp = s.generate();
        let digest = s.hash(b"aurum");
        let sig = s.sign(&kp, &digest);
        assert_eq!(sig.len(), SM2_SIGNATURE_LEN);
        assert_eq!(&sig[64..], &kp.public().0[..]);
        assert_eq!(s.recover(&digest, &sig), Ok(kp.public()));
        assert_eq!(s.verify(&kp.public(), &digest, &sig), Ok(()));
        assert_eq!(s.recover_address(&digest, &sig), Ok(kp.address()));
        assert_eq!(kp.address().as_slice(), &sm3(&kp.public().0)[12..]);
        assert_eq!(s.sign(&kp, &digest), sig, "RFC 6979 nonces make signing deterministic");
    }

    #[test]
    fn signature_is_standard_sm2_over_the_digest_bytes() {
        // The crate's own verifier, fed the digest as the message with the default id,
        // accepts our (r, s): nothing chain-specific is mixed into what is signed.
        let kp = Sm2Sm3.generate();
        let digest = sm3(b"interop");
        let sig = Sm2Sm3.sign(&kp, &digest);
        let vk = verifying_key(&kp.public()).unwrap();
        let rs = Signature::from_slice(&sig[..64]).unwrap();
        assert!(vk.verify(digest.as_slice(), &rs).is_ok());
        let other_id = VerifyingKey::from_affine("ALICE123@YAHOO.COM", *vk.as_affine()).unwrap();
        assert!(other_id.verify(digest.as_slice(), &rs).is_err());
    }

    #[test]
    fn rejects_tampering_and_wrong_key() {
        let s = Sm2Sm3;
        let kp = s.generate();
        let other = s.generate();
        let digest = sm3(b"vote");
        let sig = s.sign(&kp, &digest);
        assert_eq!(s.verify(&other.public(), &digest, &sig), Err(CryptoError::BadSignature));
        assert_eq!(s.recover(&sm3(b"vote!"), &sig), Err(CryptoError::BadSignature));
        for i in [0, 40] {
            let mut bad = sig.clone();
            bad[i] ^= 0x01;
            assert!(s.recover(&digest, &bad).is_err());
        }
        // Swapping in another valid key breaks the signature.
        let mut swapped = sig.clone();
        swapped[64..].copy_from_slice(&other.public().0);
        assert_eq!(s.recover(&digest, &swapped), Err(CryptoError::BadSignature));
        // A point off the curve is a typed error.
        let mut off_curve = sig.clone();
        off_curve[127] ^= 0x01;
        assert_eq!(s.recover(&digest, &off_curve), Err(CryptoError::BadPublicKey));
    }

    #[test]
    fn rejects_malformed_encodings() {
        let s = Sm2Sm3;
        let digest = B256::repeat_byte(9);
        assert!(matches!(
            s.recover(&digest, &[0u8; 65]),
            Err(CryptoError::SignatureLength { expected: 128, got: 65, .. })
        ));
        let zero_rs = [0u8; 128];
        assert!(matches!(s.recover(&digest, &zero_rs), Err(CryptoError::MalformedSignature(_))));
        let mut high = [0xffu8; 128];
        high[64..].copy_from_slice(&Sm2Sm3.generate().public().0);
        assert!(matches!(s.recover(&digest, &high), Err(CryptoError::MalformedSignature(_))));
    }

    #[test]
    fn rejects_invalid_secrets() {
        let s = Sm2Sm3;
        assert!(matches!(s.keypair_from_secret(&[0; 32]), Err(CryptoError::BadSecretKey(_))));
        assert!(matches!(
            s.keypair_from_secret(&ORDER_MINUS_ONE),
            Err(CryptoError::BadSecretKey(_))
        ));
        let mut n_minus_2 = ORDER_MINUS_ONE;
        n_minus_2[31] -= 1;
        let kp = s.keypair_from_secret(&n_minus_2).unwrap();
        let digest = sm3(b"edge");
        assert_eq!(s.recover(&digest, &s.sign(&kp, &digest)), Ok(kp.public()));
        assert!(matches!(s.keypair_from_secret(&[0xff; 32]), Err(CryptoError::BadSecretKey(_))));
    }
}
