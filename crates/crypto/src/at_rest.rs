//! Authenticated encryption for data at rest (node keys, state snapshots): SM4-GCM.
//!
//! The block cipher is SM4 (GB/T 32907, RustCrypto `sm4`); the mode is the generic GCM of
//! RustCrypto `aes-gcm` instantiated with SM4, which is the SM4-GCM of RFC 8998. Output is
//! `nonce (12) || ciphertext || tag (16)`, with a fresh random nonce per call. With random
//! 96-bit nonces a single key should encrypt at most 2^32 messages (NIST SP 800-38D §8.3).

use crate::CryptoError;
use aes_gcm::{
    AesGcm, KeyInit,
    aead::{Aead, Payload, consts::U12},
};
use rand::RngCore;
use sm4::Sm4;
use zeroize::Zeroizing;

type Sm4Gcm = AesGcm<Sm4, U12>;

/// SM4 key length in bytes.
pub const KEY_LEN: usize = 16;
/// GCM nonce length in bytes, stored in front of the ciphertext.
pub const NONCE_LEN: usize = 12;
/// GCM tag length in bytes, stored after the ciphertext.
pub const TAG_LEN: usize = 16;
/// Bytes [`encrypt`] adds to the plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// A fresh random SM4 key, wiped on drop.
pub fn generate_key() -> Zeroizing<[u8; KEY_LEN]> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    rand::rng().fill_bytes(key.as_mut());
    key
}

/// Encrypts and authenticates `plaintext` under `key`.
pub fn encrypt(key: &[u8; KEY_LEN], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    encrypt_with_aad(key, &[], plaintext)
}

/// Reverses [`encrypt`]; any change to the data or a wrong key is [`CryptoError::Decrypt`].
pub fn decrypt(key: &[u8; KEY_LEN], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    decrypt_with_aad(key, &[], data)
}

/// Like [`encrypt`], also authenticating (not encrypting) `aad`, e.g. a file name or record
/// key, so a ciphertext cannot be moved to another context unnoticed.
pub fn encrypt_with_aad(
    key: &[u8; KEY_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = seal(key, &nonce, aad, plaintext)?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Reverses [`encrypt_with_aad`] given the same `aad`.
pub fn decrypt_with_aad(
    key: &[u8; KEY_LEN],
    aad: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if data.len() < OVERHEAD {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, sealed) = data.split_at(NONCE_LEN);
    let mut n = [0u8; NONCE_LEN];
    n.copy_from_slice(nonce);
    open(key, &n, aad, sealed)
}

/// GCM encryption with an explicit nonce: `ciphertext || tag`. The nonce must never repeat
/// under one key, hence private; the public API draws it at random.
fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    Sm4Gcm::new(key.into())
        .encrypt(nonce.into(), Payload { msg: plaintext, aad })
        .map_err(|_| CryptoError::PlaintextTooLong(plaintext.len()))
}

fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    Sm4Gcm::new(key.into())
        .decrypt(nonce.into(), Payload { msg: sealed, aad })
        .map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// RFC 8998 Appendix A.1 (SM4-GCM), as also used by GmSSL `tests/sm4test.c`.
    #[test]
    fn rfc8998_sm4_gcm_vector() {
        let key: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
        let nonce: [u8; 12] = h("00001234567800000000ABCD").try_into().unwrap();
        let aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let plaintext = h(concat!(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
        ));
        let expected = h(concat!(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
            "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
            "83DE3541E4C2B58177E065A9BF7B62EC"
        ));
        let sealed = seal(&key, &nonce, &aad, &plaintext).unwrap();
        assert_eq!(sealed, expected);
        assert_eq!(open(&key, &nonce, &aad, &sealed).unwrap(), plaintext);
        // The framed form is nonce || sealed.
        let framed = [&nonce[..], &sealed[..]].concat();
        assert_eq!(decrypt_with_aad(&key, &aad, &framed).unwrap(), plaintext);
    }

    #[test]
    fn round_trip_and_fresh_nonces() {
        let key = generate_key();
        for len in [0usize, 1, 15, 16, 17, 1000] {
            let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let a = encrypt(&key, &msg).unwrap();
            let b = encrypt(&key, &msg).unwrap();
            assert_eq!(a.len(), msg.len() + OVERHEAD);
            assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN], "nonces must differ");
            assert_eq!(decrypt(&key, &a).unwrap(), msg);
            assert_eq!(decrypt(&key, &b).unwrap(), msg);
        }
    }

    #[test]
    fn detects_tampering_wrong_key_and_wrong_aad() {
        let key = generate_key();
        let data = encrypt_with_aad(&key, b"node.key", b"secret scalar").unwrap();
        for i in [0, NONCE_LEN, data.len() - 1] {
            let mut bad = data.clone();
            bad[i] ^= 0x80;
            assert_eq!(decrypt_with_aad(&key, b"node.key", &bad), Err(CryptoError::Decrypt));
        }
        let other = generate_key();
        assert_eq!(decrypt_with_aad(&other, b"node.key", &data), Err(CryptoError::Decrypt));
        assert_eq!(decrypt_with_aad(&key, b"other", &data), Err(CryptoError::Decrypt));
        assert_eq!(decrypt(&key, &data), Err(CryptoError::Decrypt));
        assert_eq!(decrypt(&key, &data[..OVERHEAD - 1]), Err(CryptoError::Decrypt));
        assert_eq!(decrypt(&key, &[]), Err(CryptoError::Decrypt));
        assert_eq!(decrypt_with_aad(&key, b"node.key", &data).unwrap(), b"secret scalar");
    }
}
