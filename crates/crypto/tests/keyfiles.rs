//! PEM key files: round trips through our own writer, and keys written by OpenSSL 3.0
//! (`openssl ecparam -name secp256k1 -genkey`, `openssl pkcs8 -topk8 -nocrypt`,
//! `openssl genpkey -algorithm SM2`, `openssl ec`), with the scalars `openssl pkey -text`
//! printed for them. These throwaway keys exist only as test fixtures.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use aurum_crypto::{CryptoError, KeyPair, SuiteKind};

const OPENSSL_K1_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MHQCAQEEINSavHLEHWDsVXAIPzys1TAIW1bDaSr6dFMZ7FjLuv8doAcGBSuBBAAK
oUQDQgAEtp64d0nz8Yc4sBGrxgO9Nkzhs37t14x0kN4HERL58+SIMzdcuxaaEdg0
NHjMp+G78gG0ik6xY42v0lCR82CGFw==
-----END EC PRIVATE KEY-----
";
const OPENSSL_K1_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQg1Jq8csQdYOxVcAg/PKzV
MAhbVsNpKvp0UxnsWMu6/x2hRANCAAS2nrh3SfPxhziwEavGA702TOGzfu3XjHSQ
3gcREvnz5IgzN1y7FpoR2DQ0eMyn4bvyAbSKTrFjja/SUJHzYIYX
-----END PRIVATE KEY-----
";
const K1_SECRET: &str = "d49abc72c41d60ec5570083f3cacd530085b56c3692afa745319ec58cbbaff1d";
const K1_PUBLIC: &str = concat!(
    "b69eb87749f3f18738b011abc603bd364ce1b37eedd78c7490de071112f9f3e4",
    "8833375cbb169a11d8343478cca7e1bbf201b48a4eb1638dafd25091f3608617"
);

/// Also the key behind the OpenSSL SM2 signature in tests/vectors.rs.
const OPENSSL_SM2_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg3zI+MBcqnBPOySRg
xNjh88Wa+tBSb5KqHYQQBCD/AFOhRANCAAQUkRlR6Z+MDzsM7/4k2KC04yVNvh6b
skP/E7Le9ujug3k2pV5MuQVDCpXVAaaf8VYmvZ9a2KQQgnVWXFS3V7Sx
-----END PRIVATE KEY-----
";
const OPENSSL_SM2_SEC1: &str = "-----BEGIN SM2 PRIVATE KEY-----
MHcCAQEEIN8yPjAXKpwTzskkYMTY4fPFmvrQUm+Sqh2EEAQg/wBToAoGCCqBHM9V
AYItoUQDQgAEFJEZUemfjA87DO/+JNigtOMlTb4em7JD/xOy3vbo7oN5NqVeTLkF
QwqV1QGmn/FWJr2fWtikEIJ1VlxUt1e0sQ==
-----END SM2 PRIVATE KEY-----
";
const SM2_SECRET: &str = "df323e30172a9c13cec92460c4d8e1f3c59afad0526f92aa1d84100420ff0053";
const SM2_PUBLIC: &str = concat!(
    "14911951e99f8c0f3b0ceffe24d8a0b4e3254dbe1e9bb243ff13b2def6e8ee83",
    "7936a55e4cb905430a95d501a69ff15626bd9f5ad8a4108275565c54b757b4b1"
);

/// `OPENSSL_K1_SEC1` with the last byte of its embedded public key flipped.
const K1_SEC1_WRONG_PUBLIC: &str = "-----BEGIN EC PRIVATE KEY-----
MHQCAQEEINSavHLEHWDsVXAIPzys1TAIW1bDaSr6dFMZ7FjLuv8doAcGBSuBBAAK
oUQDQgAEtp64d0nz8Yc4sBGrxgO9Nkzhs37t14x0kN4HERL58+SIMzdcuxaaEdg0
NHjMp+G78gG0ik6xY42v0lCR82CGFg==
-----END EC PRIVATE KEY-----
";
/// `openssl ecparam -name prime256v1 -genkey -noout`: a curve no suite uses.
const P256_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIMtDpDB7ovFS8DlLSOwi/JXNK/aeoJZATZvxSRmFey0CoAoGCCqGSM49
AwEHoUQDQgAEqXSamjmTt3o49K4uJB65/E2hxGB7EThRR6c2777k04ZrdVfwalhP
nVMZ8rRuCVmAGGy0J0dgp2J6bMHNKAcPXg==
-----END EC PRIVATE KEY-----
";
/// `openssl genpkey -algorithm ed25519`: not an EC key at all.
const ED25519_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPjgsM9/hTENWdG7zqFmggTNtH/U6B/gQa8TEWpWBCcs
-----END PRIVATE KEY-----
";

fn check(pem: &str, kind: SuiteKind, secret: &str, public: &str) {
    let kp = KeyPair::from_pem(pem).unwrap();
    assert_eq!(kp.kind, kind);
    assert_eq!(hex::encode(*kp.secret_bytes()), secret);
    assert_eq!(kp.public().to_hex(), public);
    assert_eq!(KeyPair::from_pem_for(kind, pem).unwrap().public(), kp.public());
}

#[test]
fn loads_openssl_key_files() {
    check(OPENSSL_K1_SEC1, SuiteKind::Secp256k1Keccak, K1_SECRET, K1_PUBLIC);
    check(OPENSSL_K1_PKCS8, SuiteKind::Secp256k1Keccak, K1_SECRET, K1_PUBLIC);
    check(OPENSSL_SM2_PKCS8, SuiteKind::Sm2Sm3, SM2_SECRET, SM2_PUBLIC);
    check(OPENSSL_SM2_SEC1, SuiteKind::Sm2Sm3, SM2_SECRET, SM2_PUBLIC);
}

#[test]
fn writes_the_formats_openssl_writes() {
    let k1 = KeyPair::from_pem(OPENSSL_K1_SEC1).unwrap();
    assert_eq!(k1.to_pem().unwrap().as_str(), OPENSSL_K1_SEC1);
    let sm2 = KeyPair::from_pem(OPENSSL_SM2_PKCS8).unwrap();
    assert_eq!(sm2.to_pem().unwrap().as_str(), OPENSSL_SM2_PKCS8);
}

#[test]
fn round_trips_generated_keys() {
    for kind in SuiteKind::ALL {
        let kp = KeyPair::generate(kind);
        let pem = kp.to_pem().unwrap();
        let back = KeyPair::from_pem(&pem).unwrap();
        assert_eq!(back.kind, kind);
        assert_eq!(*back.secret_bytes(), *kp.secret_bytes());
        assert_eq!(back.public(), kp.public());
    }
}

#[test]
fn wrong_suite_is_a_typed_error() {
    assert_eq!(
        KeyPair::from_pem_for(SuiteKind::Secp256k1Keccak, OPENSSL_SM2_PKCS8).unwrap_err(),
        CryptoError::WrongSuite { expected: SuiteKind::Secp256k1Keccak, found: SuiteKind::Sm2Sm3 }
    );
    assert_eq!(
        KeyPair::from_pem_for(SuiteKind::Sm2Sm3, OPENSSL_K1_SEC1).unwrap_err(),
        CryptoError::WrongSuite { expected: SuiteKind::Sm2Sm3, found: SuiteKind::Secp256k1Keccak }
    );
}

#[test]
fn malformed_files_are_typed_errors() {
    let key_file = |pem: &str| match KeyPair::from_pem(pem) {
        Err(CryptoError::KeyFile(msg)) => msg,
        other => panic!("expected a KeyFile error, got {other:?}"),
    };
    assert!(key_file("").contains("PEM"));
    assert!(key_file("not a key").contains("PEM"));
    assert!(key_file(&OPENSSL_K1_SEC1.replace("MHQC", "MHQD")).contains("EC key"));
    assert!(key_file(&OPENSSL_K1_SEC1.replace("EC PRIVATE", "RSA PRIVATE")).contains("label"));
    assert!(key_file(&OPENSSL_K1_SEC1[..100]).contains("PEM"));
    assert!(key_file(K1_SEC1_WRONG_PUBLIC).contains("does not match"));
    assert!(key_file(P256_SEC1).contains("unsupported curve"));
    assert!(key_file(ED25519_PKCS8).contains("not an elliptic-curve key"));
}

#[test]
fn save_and_load_with_owner_only_permissions() {
    let dir = tempfile::tempdir().unwrap();
    for kind in SuiteKind::ALL {
        let path = dir.path().join(format!("{kind:?}.key"));
        let kp = KeyPair::generate(kind);
        kp.save(&path).unwrap();
        // Saving again replaces the file.
        kp.save(&path).unwrap();
        let back = KeyPair::load(&path).unwrap();
        assert_eq!(back.public(), kp.public());
        assert_eq!(KeyPair::load_for(kind, &path).unwrap().kind, kind);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    assert!(matches!(KeyPair::load(dir.path().join("missing.key")), Err(CryptoError::KeyFile(_))));
}
