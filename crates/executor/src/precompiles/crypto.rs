//! Crypto (0x100a): `sm3(bytes)`, `keccak256Hash(bytes)` and
//! `sm2Verify(bytes32 message, bytes publicKey, bytes32 r, bytes32 s) returns (bool, address)`.
//!
//! SM2/SM3 are available on every chain, whatever its own suite. `sm2Verify` checks an SM2
//! signature (default user id) over the 32-byte message hash and returns the SM account
//! address of the key (`SM3(x||y)[12..]`), or `(false, 0)`.

use super::abi::ICrypto;
use super::call::{PcCall, PcError, PcResult, words};
use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_sol_types::{SolCall, SolInterface};
use aurum_crypto::PublicKey;

const SM3_BASE: u64 = 60;
const SM3_WORD: u64 = 20;
const KECCAK_BASE: u64 = 30;
const KECCAK_WORD: u64 = 6;
/// SM2 verification costs ~50× a keccak of its input; priced like a few ecrecovers.
const SM2_VERIFY: u64 = 10_000;

/// 0x100a Crypto.
pub(crate) struct Crypto;

impl super::registry::Precompile for Crypto {
    fn run(&self, call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<alloy_primitives::Bytes> {
        run(call, input)
    }
}

pub(crate) fn run(call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<Bytes> {
    call.charge_call(input.len())?;
    let decoded = ICrypto::ICryptoCalls::abi_decode(input)
        .map_err(|e| PcError::input(format!("Crypto: bad call data: {e}")))?;
    match decoded {
        ICrypto::ICryptoCalls::sm3(c) => {
            call.charge(SM3_BASE.saturating_add(words(c.data.len()).saturating_mul(SM3_WORD)))?;
            let digest = call.env.sm.hash(&c.data);
            Ok(ICrypto::sm3Call::abi_encode_returns(&digest).into())
        }
        ICrypto::ICryptoCalls::keccak256Hash(c) => {
            call.charge(
                KECCAK_BASE.saturating_add(words(c.data.len()).saturating_mul(KECCAK_WORD)),
            )?;
            Ok(ICrypto::keccak256HashCall::abi_encode_returns(&keccak256(&c.data)).into())
        }
        ICrypto::ICryptoCalls::sm2Verify(c) => {
            call.charge(SM2_VERIFY)?;
            let result = sm2_verify(call, c.message, &c.publicKey, c.r, c.s);
            let (ok, address) = match result {
                Some(address) => (true, address),
                None => (false, Address::ZERO),
            };
            Ok(ICrypto::sm2VerifyCall::abi_encode_returns_tuple(&(ok, address)).into())
        }
    }
}

fn sm2_verify(
    call: &PcCall<'_, '_>,
    message: B256,
    public_key: &[u8],
    r: B256,
    s: B256,
) -> Option<Address> {
    // Accept x||y (64 bytes) or the SEC1 uncompressed form 04||x||y.
    let raw = match public_key.len() {
        64 => public_key,
        65 if public_key[0] == 0x04 => &public_key[1..],
        _ => return None,
    };
    let public = PublicKey::from_slice(raw).ok()?;
    // The SM2 suite's signature layout: r || s || public key.
    let mut sig = Vec::with_capacity(128);
    sig.extend_from_slice(r.as_slice());
    sig.extend_from_slice(s.as_slice());
    sig.extend_from_slice(raw);
    call.env.sm.verify(&public, &message, &sig).ok()?;
    Some(call.env.sm.address(&public))
}
