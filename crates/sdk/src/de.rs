//! Lenient deserializers for the wire objects. The contract says numbers are JSON numbers,
//! but a `0x` hex or decimal string means the same value; accepting both keeps the client
//! working against Ethereum-style encoders without weakening any check that matters.

use alloy_primitives::{Address, U256};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

fn hex_digits(s: &str) -> Option<&str> {
    s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))
}

pub(crate) fn value_to_u64(v: &Value) -> Result<u64, String> {
    match v {
        Value::Number(n) => {
            n.as_u64().ok_or_else(|| format!("{n} is not an unsigned 64-bit integer"))
        }
        Value::String(s) => match hex_digits(s) {
            Some(h) => u64::from_str_radix(h, 16).map_err(|e| format!("{s:?}: {e}")),
            None => s.parse().map_err(|e| format!("{s:?}: {e}")),
        },
        other => Err(format!("expected a number, got {other}")),
    }
}

fn value_to_u256(v: &Value) -> Result<U256, String> {
    match v {
        Value::Number(n) => {
            n.as_u64().map(U256::from).ok_or_else(|| format!("{n} is not an unsigned integer"))
        }
        Value::String(s) => match hex_digits(s) {
            Some("") => Ok(U256::ZERO),
            Some(h) => U256::from_str_radix(h, 16).map_err(|e| format!("{s:?}: {e}")),
            None => U256::from_str_radix(s, 10).map_err(|e| format!("{s:?}: {e}")),
        },
        other => Err(format!("expected a number, got {other}")),
    }
}

pub(crate) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    value_to_u64(&Value::deserialize(d)?).map_err(D::Error::custom)
}

pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => value_to_u64(&v).map(Some).map_err(D::Error::custom),
    }
}

pub(crate) fn u8<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let n = u64(d)?;
    u8::try_from(n).map_err(|_| D::Error::custom(format!("{n} does not fit a status code")))
}

pub(crate) fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u64(d)?;
    u32::try_from(n).map_err(|_| D::Error::custom(format!("{n} does not fit 32 bits")))
}

pub(crate) fn u256<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
    value_to_u256(&Value::deserialize(d)?).map_err(D::Error::custom)
}

/// A string, or a number rendered as one (chain ids and config values).
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(D::Error::custom(format!("expected a string, got {other}"))),
    }
}

pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(D::Error::custom(format!("expected a string, got {other}"))),
    }
}

/// An address, or nothing: `null`, `""` and `"0x"` all mean "no address" (a creation).
pub(crate) fn opt_address<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() || s == "0x" => Ok(None),
        Value::String(s) => s.parse().map(Some).map_err(D::Error::custom),
        other => Err(D::Error::custom(format!("expected an address, got {other}"))),
    }
}
