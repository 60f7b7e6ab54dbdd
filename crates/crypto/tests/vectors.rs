//! Published test vectors for every primitive the suites use. Each vector names its source;
//! none is produced by this crate itself.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use aurum_crypto::{
    Address, B256, CryptoError, CryptoSuite, KeyPair, PublicKey, SM2_DEFAULT_ID, Secp256k1Keccak,
    Sm2Sm3, SuiteKind, sm3, suite,
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("test vector hex")
}

fn h32(s: &str) -> [u8; 32] {
    h(s).try_into().expect("32 bytes")
}

// ---------------------------------------------------------------- SM3 (GM/T 0004-2012 App. A)

#[test]
fn sm3_gmt0004_example_1_abc() {
    assert_eq!(
        sm3(b"abc").0,
        h32("66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0")
    );
    assert_eq!(suite(SuiteKind::Sm2Sm3).hash(b"abc"), sm3(b"abc"));
}

#[test]
fn sm3_gmt0004_example_2_abcd_x16() {
    assert_eq!(
        sm3(&b"abcd".repeat(16)).0,
        h32("debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732")
    );
}

// ----------------------------------------------- SM2 (GM/T 0003.5-2012 Appendix A, sm2p256v1)
//
// The signature example on the recommended curve: user id "1234567812345678", message
// "message digest", fixed private key d, fixed nonce k, published e, r and s. Values as
// quoted from the standard in chenpengcong/sm2-with-openssl `test_sm2_sign_verify.c` and the
// Arm CryptoCell SM2 test vectors; the same d, k, r, s appear in DannyNiu/NJF's SM2 tests.

const GM_D: &str = "3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8";
const GM_PX: &str = "09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020";
const GM_PY: &str = "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13";
const GM_K: &str = "59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21";
const GM_E: &str = "F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640";
const GM_R: &str = "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3";
const GM_S: &str = "B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA";
const GM_MSG: &[u8] = b"message digest";

fn gm_public() -> PublicKey {
    PublicKey::from_slice(&[h(GM_PX), h(GM_PY)].concat()).expect("64 bytes")
}

#[test]
fn sm2_gmt0003_example_key_and_digest() {
    // Our key derivation gives the published public key.
    let kp = KeyPair::from_secret(SuiteKind::Sm2Sm3, &h32(GM_D)).unwrap();
    assert_eq!(kp.public(), gm_public());

    // e = SM3(Z_A || M) with Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), the
    // curve constants being those of GM/T 0003.5 §4 (sm2p256v1).
    let a = h("FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFC");
    let b = h("28E9FA9E 9D9F5E34 4D5A9E4B CF6509A7 F39789F5 15AB8F92 DDBCBD41 4D940E93");
    let gx = h("32C4AE2C 1F198119 5F990446 6A39C994 8FE30BBF F2660BE1 715A4589 334C74C7");
    let gy = h("BC3736A2 F4F6779C 59BDCEE3 6B692153 D0A9877C C62A4740 02DF32E5 2139F0A0");
    let id = SM2_DEFAULT_ID.as_bytes();
    let entl = u16::try_from(id.len() * 8).unwrap().to_be_bytes();
    let z = sm3(&[&entl[..], id, &a, &b, &gx, &gy, &h(GM_PX), &h(GM_PY)].concat());
    let e = sm3(&[z.as_slice(), GM_MSG].concat());
    assert_eq!(e.0, h32(GM_E));
}

#[test]
fn sm2_gmt0003_example_published_signature_verifies() {
    use sm2::dsa::{
        Signature, VerifyingKey,
        signature::{Verifier, hazmat::PrehashVerifier},
    };
    let vk = VerifyingKey::from_sec1_bytes(
        SM2_DEFAULT_ID,
        &[&[0x04][..], &h(GM_PX), &h(GM_PY)].concat(),
    )
    .unwrap();
    let sig = Signature::from_slice(&[h(GM_R), h(GM_S)].concat()).unwrap();
    assert!(vk.verify(GM_MSG, &sig).is_ok());
    assert!(vk.verify_prehash(&h(GM_E), &sig).is_ok());
    assert!(vk.verify(b"message digesT", &sig).is_err());
}

/// The `sm2` crate derives k by RFC 6979 and cannot take the standard's fixed k, so the
/// signing equations of GB/T 32918.2 §6.1 (A4–A6) are replayed with the crate's field and
/// group arithmetic to reproduce the published (r, s) bit for bit.
#[test]
fn sm2_gmt0003_example_fixed_k_reproduces_r_and_s() {
    use sm2::elliptic_curve::{PrimeField, ops::Reduce, point::AffineCoordinates};
    use sm2::{FieldBytes, ProjectivePoint, Scalar};
    let scalar = |s: &str| Scalar::from_repr(FieldBytes::from(h32(s))).unwrap();
    let (d, k, e) = (scalar(GM_D), scalar(GM_K), scalar(GM_E));
    let x1 = (ProjectivePoint::GENERATOR * k).to_affine().x();
    let r = e + <Scalar as Reduce<FieldBytes>>::reduce(&x1);
    let s = (d + Scalar::ONE).invert().unwrap() * (k - r * d);
    assert_eq!(r.to_repr().as_slice(), &h(GM_R)[..]);
    assert_eq!(s.to_repr().as_slice(), &h(GM_S)[..]);
}

/// SM2 interoperability at the suite level: OpenSSL 3.0 signed the 32-byte digest
/// SM3("abc") as the message with distid 1234567812345678 (`openssl pkeyutl -sign -rawin
/// -digest sm3 -pkeyopt distid:1234567812345678`) under the key of `OPENSSL_SM2_PKCS8` in
/// tests/keyfiles.rs; our recover accepts it as r || s || public key.
#[test]
fn sm2_openssl_signature_over_digest_recovers() {
    let public = PublicKey::from_hex(concat!(
        "14911951e99f8c0f3b0ceffe24d8a0b4e3254dbe1e9bb243ff13b2def6e8ee83",
        "7936a55e4cb905430a95d501a69ff15626bd9f5ad8a4108275565c54b757b4b1"
    ))
    .unwrap();
    let r = h("5F6360E544AC7F17FDACD88F3353C5B63574BAC7D90AB737C6C588B777714344");
    let s = h("C07964C6570550DE725A687F4B3CF4EF243D95B1EB1D10943562B7D119FEEF9F");
    let digest = sm3(b"abc");
    let sig = [r, s, public.0.to_vec()].concat();
    let suite = Sm2Sm3;
    assert_eq!(suite.recover(&digest, &sig), Ok(public));
    assert_eq!(suite.verify(&public, &digest, &sig), Ok(()));
    assert_eq!(suite.recover(&sm3(b"abd"), &sig), Err(CryptoError::BadSignature));
}

// ------------------------------------------------------------- SM4 (GB/T 32907-2016 App. A)

#[test]
fn sm4_gbt32907_example_1_and_2() {
    use sm4::{
        Sm4,
        cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit},
    };
    let key: [u8; 16] = h("0123456789abcdeffedcba9876543210").try_into().unwrap();
    let cipher = Sm4::new(&key.into());
    let mut block = Array::from(key);
    cipher.encrypt_block(&mut block);
    assert_eq!(block.as_slice(), &h("681edf34d206965e86b3e94f536e4246")[..]);
    cipher.decrypt_block(&mut block);
    assert_eq!(block.as_slice(), &key[..]);

    // Example 2: the same block encrypted 1,000,000 times.
    let mut block = Array::from(key);
    for _ in 0..1_000_000 {
        cipher.encrypt_block(&mut block);
    }
    assert_eq!(block.as_slice(), &h("595298c7c6fd271f0402f804c33d3f66")[..]);
}

// ------------------------------------------------------ secp256k1 (EIP-155 worked example)
//
// EIP-155 "Example" (ethereum/EIPs, EIPS/eip-155.md): nonce 9, gas price 20 gwei, gas
// 21000, to 0x3535…35, value 10^18, empty data, chain id 1, private key 0x4646…46.
// The sender address is that key's address, as also asserted by reth's
// `test_recover_signer` for the same hash and (r, s).

const EIP155_SIGNING_DATA: &str =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
const EIP155_SIGNING_HASH: &str =
    "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53";
const EIP155_CHAIN_ID: u64 = 1;
const EIP155_V: u64 = 37;
const EIP155_R: &str =
    "18515461264373351373200002665853028612451056578545711640558177340181847433846";
const EIP155_S: &str =
    "46948507304638947509940763649030358759909902576025900602547168820602576006531";
const EIP155_SIGNED_TX: &str = "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";
const EIP155_SENDER: &str = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";

fn dec32(s: &str) -> [u8; 32] {
    alloy_primitives::U256::from_str_radix(s, 10).unwrap().to_be_bytes()
}

#[test]
fn secp256k1_eip155_example_recovers_sender() {
    let s = Secp256k1Keccak;
    let digest = s.hash(&h(EIP155_SIGNING_DATA));
    assert_eq!(digest, B256::from(h32(EIP155_SIGNING_HASH)));

    let (r, sv) = (dec32(EIP155_R), dec32(EIP155_S));
    // r and s appear verbatim in the signed transaction's RLP.
    let signed = h(EIP155_SIGNED_TX);
    assert!(signed.windows(32).any(|w| w == r));
    assert!(signed.windows(32).any(|w| w == sv));

    let y_parity = EIP155_V - 35 - 2 * EIP155_CHAIN_ID == 1;
    let sender: Address = EIP155_SENDER.parse().unwrap();
    let public = s.recover_parts(&digest, &r, &sv, y_parity).unwrap();
    assert_eq!(s.address(&public), sender);

    let sig = [&r[..], &sv[..], &[u8::from(y_parity)]].concat();
    assert_eq!(s.recover_address(&digest, &sig), Ok(sender));
    let kp = KeyPair::from_secret(SuiteKind::Secp256k1Keccak, &[0x46; 32]).unwrap();
    assert_eq!(kp.address(), sender);
    assert_eq!(kp.public(), public);
    assert_eq!(s.verify(&kp.public(), &digest, &sig), Ok(()));
}

#[test]
fn secp256k1_eip155_example_signature_is_reproduced() {
    // libsecp256k1's RFC 6979 nonce gives the EIP's (r, s) exactly.
    let kp = KeyPair::from_secret(SuiteKind::Secp256k1Keccak, &[0x46; 32]).unwrap();
    let sig = suite(SuiteKind::Secp256k1Keccak).sign(&kp, &B256::from(h32(EIP155_SIGNING_HASH)));
    let expected = [&dec32(EIP155_R)[..], &dec32(EIP155_S)[..], &[0u8][..]].concat();
    assert_eq!(sig, expected);
}
