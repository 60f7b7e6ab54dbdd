//! Property tests: sign/recover round trips on random keys and digests, and arbitrary bytes
//! fed to every parser come back as typed errors, never panics.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use aurum_crypto::{B256, CryptoError, KeyPair, PublicKey, SuiteKind, at_rest, suite};
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = SuiteKind> {
    prop_oneof![Just(SuiteKind::Secp256k1Keccak), Just(SuiteKind::Sm2Sm3)]
}

/// A valid key for `kind` derived from arbitrary bytes (rejecting the rare invalid scalar).
fn keypair(kind: SuiteKind, secret: [u8; 32]) -> Option<KeyPair> {
    KeyPair::from_secret(kind, &secret).ok()
}

fn is_typed_rejection(e: &CryptoError) -> bool {
    matches!(
        e,
        CryptoError::SignatureLength { .. }
            | CryptoError::MalformedSignature(_)
            | CryptoError::HighS
            | CryptoError::BadSignature
            | CryptoError::BadPublicKey
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn sign_then_recover_round_trips(kind in kind(), secret in any::<[u8; 32]>(), digest in any::<[u8; 32]>()) {
        let Some(kp) = keypair(kind, secret) else { return Ok(()) };
        let s = suite(kind);
        let digest = B256::from(digest);
        let sig = s.sign(&kp, &digest);
        prop_assert_eq!(sig.len(), s.signature_len());
        prop_assert_eq!(s.recover(&digest, &sig), Ok(kp.public()));
        prop_assert_eq!(s.verify(&kp.public(), &digest, &sig), Ok(()));
        prop_assert_eq!(s.recover_address(&digest, &sig), Ok(kp.address()));
    }

    #[test]
    fn a_flipped_bit_never_verifies(kind in kind(), secret in any::<[u8; 32]>(), digest in any::<[u8; 32]>(), bit in 0usize..(64 * 8)) {
        let Some(kp) = keypair(kind, secret) else { return Ok(()) };
        let s = suite(kind);
        let digest = B256::from(digest);
        let mut sig = s.sign(&kp, &digest);
        // Flip a bit of r || s (the part both formats share).
        sig[bit / 8] ^= 1 << (bit % 8);
        let verdict = s.verify(&kp.public(), &digest, &sig);
        prop_assert!(verdict.as_ref().is_err_and(is_typed_rejection), "{:?}", verdict);
    }

    #[test]
    fn garbage_signatures_give_typed_errors(kind in kind(), digest in any::<[u8; 32]>(), sig in proptest::collection::vec(any::<u8>(), 0..200)) {
        let s = suite(kind);
        let digest = B256::from(digest);
        if let Err(e) = s.recover(&digest, &sig) {
            prop_assert!(is_typed_rejection(&e), "{:?}", e);
        }
        let public = PublicKey([7; 64]);
        if let Err(e) = s.verify(&public, &digest, &sig) {
            prop_assert!(is_typed_rejection(&e), "{:?}", e);
        }
    }

    #[test]
    fn garbage_of_the_right_length_gives_typed_errors(kind in kind(), digest in any::<[u8; 32]>(), seed in proptest::collection::vec(any::<u8>(), 128)) {
        let s = suite(kind);
        let mut sig = seed;
        sig.truncate(s.signature_len());
        let digest = B256::from(digest);
        match s.recover(&digest, &sig) {
            // Random (r, s, v) is usually a valid secp256k1 signature of *some* key.
            Ok(_) => prop_assert_eq!(kind, SuiteKind::Secp256k1Keccak),
            Err(e) => prop_assert!(is_typed_rejection(&e), "{:?}", e),
        }
    }

    #[test]
    fn garbage_ciphertexts_fail_to_decrypt(key in any::<[u8; 16]>(), data in proptest::collection::vec(any::<u8>(), 0..100)) {
        prop_assert_eq!(at_rest::decrypt(&key, &data), Err(CryptoError::Decrypt));
    }

    #[test]
    fn sm4_gcm_round_trips(key in any::<[u8; 16]>(), aad in proptest::collection::vec(any::<u8>(), 0..40), msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        let sealed = at_rest::encrypt_with_aad(&key, &aad, &msg).unwrap();
        prop_assert_eq!(at_rest::decrypt_with_aad(&key, &aad, &sealed).unwrap(), msg);
    }

    #[test]
    fn garbage_key_files_give_typed_errors(text in ".{0,300}", body in proptest::collection::vec(any::<u8>(), 0..150)) {
        prop_assert!(matches!(KeyPair::from_pem(&text), Err(CryptoError::KeyFile(_))));
        let b64 = base64_like(&body);
        for label in ["EC PRIVATE KEY", "PRIVATE KEY", "SM2 PRIVATE KEY"] {
            let pem = format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n");
            let result = KeyPair::from_pem(&pem);
            prop_assert!(
                matches!(result, Err(CryptoError::KeyFile(_) | CryptoError::BadSecretKey(_))),
                "{:?}", result
            );
        }
    }
}

/// Standard base64 of `bytes` wrapped at 64 columns, to build PEM bodies of random DER.
fn base64_like(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out.as_bytes()
        .chunks(64)
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
