//! PEM key files in the formats OpenSSL and GmSSL read and write.
//!
//! - secp256k1 keys are written as SEC1 `EC PRIVATE KEY` (RFC 5915) with the named curve
//!   secp256k1 (1.3.132.0.10) and the public key: what `openssl ecparam -name secp256k1
//!   -genkey` produces.
//! - SM2 keys are written as PKCS#8 `PRIVATE KEY` (RFC 5208) with algorithm id-ecPublicKey
//!   and curve SM2 (1.2.156.10197.1.301): what `openssl genpkey -algorithm SM2` produces.
//!
//! Reading accepts either container for either curve (also OpenSSL 3's `SM2 PRIVATE KEY`
//! label for SEC1 SM2 keys, and the older GmSSL form whose PKCS#8 algorithm OID is the SM2
//! OID itself), detects the suite from the curve OID and, if
//! the file carries a public key, checks that it belongs to the private key.

use crate::{CryptoError, KeyPair, PublicKey, SuiteKind};
use pkcs8::{
    LineEnding, ObjectIdentifier, PrivateKeyInfoRef,
    der::{Decode, Encode, pem},
};
use sec1::{EcParameters, EcPrivateKey};
use sm2::pkcs8::EncodePrivateKey;
use std::{fs, io::Write, path::Path};
use zeroize::Zeroizing;

/// id-ecPublicKey, the PKCS#8 algorithm of every EC key.
const EC_PUBLIC_KEY_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// SECG curve secp256k1.
const SECP256K1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
/// GM/T 0006 curve sm2p256v1 ("SM2").
const SM2_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");

fn key_file(msg: impl Into<String>) -> CryptoError {
    CryptoError::KeyFile(msg.into())
}

fn kind_of(curve: ObjectIdentifier) -> Result<SuiteKind, CryptoError> {
    if curve == SECP256K1_OID {
        Ok(SuiteKind::Secp256k1Keccak)
    } else if curve == SM2_OID {
        Ok(SuiteKind::Sm2Sm3)
    } else {
        Err(key_file(format!(
            "unsupported curve {curve}; expected secp256k1 ({SECP256K1_OID}) or SM2 ({SM2_OID})"
        )))
    }
}

fn encode_pem(kp: &KeyPair) -> Result<Zeroizing<String>, CryptoError> {
    match kp.kind {
        SuiteKind::Secp256k1Keccak => {
            let mut public = [0u8; 65];
            public[0] = 0x04;
            public[1..].copy_from_slice(&kp.public().0);
            let secret = kp.secret_bytes();
            let ec = EcPrivateKey {
                private_key: &secret[..],
                parameters: Some(EcParameters::NamedCurve(SECP256K1_OID)),
                public_key: Some(&public),
            };
            let der = Zeroizing::new(ec.to_der().map_err(|e| key_file(e.to_string()))?);
            pem::encode_string("EC PRIVATE KEY", LineEnding::LF, &der)
                .map(Zeroizing::new)
                .map_err(|e| key_file(e.to_string()))
        }
        SuiteKind::Sm2Sm3 => sm2::SecretKey::from_slice(&kp.secret_bytes()[..])
            .map_err(|_| CryptoError::BadSecretKey("not an SM2 scalar".into()))?
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| key_file(e.to_string())),
    }
}

fn decode_pem(text: &str) -> Result<KeyPair, CryptoError> {
    let (label, der) = pem::decode_vec(text.trim().as_bytes())
        .map_err(|e| key_file(format!("not a PEM document: {e}")))?;
    let der = Zeroizing::new(der);
    match label {
        // OpenSSL 3 labels SEC1-encoded SM2 keys "SM2 PRIVATE KEY".
        "EC PRIVATE KEY" | "SM2 PRIVATE KEY" => decode_sec1(&der, None),
        "PRIVATE KEY" => decode_pkcs8(&der),
        "ENCRYPTED PRIVATE KEY" => Err(key_file("encrypted PKCS#8 key files are not supported")),
        other => Err(key_file(format!(
            "PEM label {other:?}; expected \"EC PRIVATE KEY\" or \"PRIVATE KEY\""
        ))),
    }
}

fn decode_pkcs8(der: &[u8]) -> Result<KeyPair, CryptoError> {
    let info =
        PrivateKeyInfoRef::from_der(der).map_err(|e| key_file(format!("bad PKCS#8: {e}")))?;
    let curve = if info.algorithm.oid == EC_PUBLIC_KEY_OID {
        info.algorithm
            .parameters_oid()
            .map_err(|_| key_file("PKCS#8 EC key without a named curve"))?
    } else if info.algorithm.oid == SM2_OID {
        SM2_OID
    } else {
        return Err(key_file(format!(
            "PKCS#8 algorithm {} is not an elliptic-curve key",
            info.algorithm.oid
        )));
    };
    let kp = decode_sec1(info.private_key.as_bytes(), Some(curve))?;
    if let Some(public) = info.public_key {
        let bytes =
            public.as_bytes().ok_or_else(|| key_file("PKCS#8 public key is not whole bytes"))?;
        check_public(&kp.public(), bytes)?;
    }
    Ok(kp)
}

/// Decodes an RFC 5915 ECPrivateKey; `outer` is the curve named by an enclosing PKCS#8.
fn decode_sec1(der: &[u8], outer: Option<ObjectIdentifier>) -> Result<KeyPair, CryptoError> {
    let ec = EcPrivateKey::from_der(der).map_err(|e| key_file(format!("bad EC key: {e}")))?;
    let inner = ec.parameters.and_then(EcParameters::named_curve);
    let curve = match (outer, inner) {
        (Some(a), Some(b)) if a != b => {
            return Err(key_file(format!("curve {a} in PKCS#8 but {b} in the EC key")));
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(key_file("EC key without a named curve")),
    };
    let kind = kind_of(curve)?;
    let scalar = ec.private_key;
    if scalar.len() > 32 {
        return Err(key_file(format!("private key of {} bytes, expected 32", scalar.len())));
    }
    // RFC 5915 fixes the length at 32, but some encoders drop leading zero bytes.
    let mut secret = Zeroizing::new([0u8; 32]);
    secret[32 - scalar.len()..].copy_from_slice(scalar);
    let kp = KeyPair::from_secret(kind, &secret)?;
    if let Some(public) = ec.public_key {
        check_public(&kp.public(), public)?;
    }
    Ok(kp)
}

/// Checks a SEC1-encoded public key (uncompressed or compressed) from a key file.
fn check_public(derived: &PublicKey, encoded: &[u8]) -> Result<(), CryptoError> {
    let (x, y) = derived.0.split_at(32);
    let matches = match encoded {
        [0x04, xy @ ..] => xy == &derived.0[..],
        [prefix @ (0x02 | 0x03), ex @ ..] => ex == x && (y[31] & 1) == (prefix & 1),
        _ => return Err(key_file("public key in key file has an unknown encoding")),
    };
    if matches {
        Ok(())
    } else {
        Err(key_file("public key in key file does not match its private key"))
    }
}

impl KeyPair {
    /// The key as a PEM document: SEC1 `EC PRIVATE KEY` for secp256k1, PKCS#8
    /// `PRIVATE KEY` for SM2. Wiped on drop, as it holds the secret.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, CryptoError> {
        encode_pem(self)
    }

    /// Parses a PEM key of either suite (SEC1 or PKCS#8, unencrypted); the suite comes from
    /// the curve OID in the file.
    pub fn from_pem(pem: &str) -> Result<KeyPair, CryptoError> {
        decode_pem(pem)
    }

    /// [`KeyPair::from_pem`], failing with [`CryptoError::WrongSuite`] unless the key is of
    /// `kind`.
    pub fn from_pem_for(kind: SuiteKind, pem: &str) -> Result<KeyPair, CryptoError> {
        let kp = decode_pem(pem)?;
        kp.expect_kind(kind)?;
        Ok(kp)
    }

    /// Writes [`KeyPair::to_pem`] to `path`, readable by the owner only (0600 on unix).
    /// Writes a sibling temporary file and renames it over `path`, so a crash never leaves
    /// a truncated key behind.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CryptoError> {
        let path = path.as_ref();
        let pem = self.to_pem()?;
        let io = |e: std::io::Error| key_file(format!("{}: {e}", path.display()));
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let mut file = options.open(&tmp).map_err(io)?;
            // `mode` only applies to newly created files; tighten a leftover one too.
            file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(io)?;
            file.write_all(pem.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        #[cfg(not(unix))]
        {
            let mut file = options.open(&tmp).map_err(io)?;
            file.write_all(pem.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a key file written by [`KeyPair::save`], OpenSSL or GmSSL.
    pub fn load(path: impl AsRef<Path>) -> Result<KeyPair, CryptoError> {
        let path = path.as_ref();
        let text = Zeroizing::new(
            fs::read_to_string(path).map_err(|e| key_file(format!("{}: {e}", path.display())))?,
        );
        decode_pem(&text)
    }

    /// [`KeyPair::load`], failing with [`CryptoError::WrongSuite`] unless the key is of `kind`.
    pub fn load_for(kind: SuiteKind, path: impl AsRef<Path>) -> Result<KeyPair, CryptoError> {
        let kp = Self::load(path)?;
        kp.expect_kind(kind)?;
        Ok(kp)
    }
}
