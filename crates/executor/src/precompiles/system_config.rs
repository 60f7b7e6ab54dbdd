//! SystemConfig (0x1000): `setValueByKey(string,string) returns (int32)` and
//! `getValueByKey(string) view returns (string,int256)`.
//!
//! Values are stored as [`SystemConfigEntry`] under `system_config_key(key)`; a new value
//! applies from the next block (`enable_number = number + 1`). Only the genesis admins may
//! set values until governance takes over.

use super::abi::ISystemConfig;
use super::call::{PcCall, PcError, PcResult};
use alloy_primitives::{Bytes, I256};
use alloy_sol_types::{SolCall, SolInterface};
use aurum_primitives::state::{SystemConfigEntry, system_config_key};

/// Returned when a value is out of range or malformed.
pub const CODE_INVALID_CONFIGURATION_VALUES: i32 = -51300;

/// The keys this chain understands.
pub const KEYS: &[&str] = &[
    "tx_count_limit",
    "tx_gas_limit",
    "block_gas_limit",
    "consensus_leader_period",
    "compatibility_version",
    "web3_chain_id",
    "feature_balance",
    "auth_check_status",
];

/// 0x1000 SystemConfig.
pub(crate) struct SystemConfig;

impl super::registry::Precompile for SystemConfig {
    fn run(&self, call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<alloy_primitives::Bytes> {
        run(call, input)
    }
}

pub(crate) fn run(call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<Bytes> {
    call.charge_call(input.len())?;
    let decoded = ISystemConfig::ISystemConfigCalls::abi_decode(input)
        .map_err(|e| PcError::input(format!("SystemConfig: bad call data: {e}")))?;
    match decoded {
        ISystemConfig::ISystemConfigCalls::setValueByKey(c) => {
            call.require_write()?;
            if !call.is_admin() {
                return Err(PcError::denied(format!(
                    "SystemConfig: {} is not an admin account; only admins may change system config",
                    call.caller
                )));
            }
            let code = set(call, &c.key, &c.value)?;
            Ok(ISystemConfig::setValueByKeyCall::abi_encode_returns(&code).into())
        }
        ISystemConfig::ISystemConfigCalls::getValueByKey(c) => {
            let (value, number) = match read(call, &c.key)? {
                Some(e) => (e.value, I256::try_from(e.enable_number).unwrap_or(I256::MAX)),
                None => (String::new(), I256::MINUS_ONE),
            };
            Ok(ISystemConfig::getValueByKeyCall::abi_encode_returns_tuple(&(value, number)).into())
        }
    }
}

fn read(call: &mut PcCall<'_, '_>, key: &str) -> PcResult<Option<SystemConfigEntry>> {
    match call.get(&system_config_key(key))? {
        None => Ok(None),
        Some(bytes) => SystemConfigEntry::decode(&bytes).map(Some).map_err(|e| {
            PcError::Db(aurum_primitives::StateError(format!(
                "system config {key:?} is stored in an unreadable form: {e}"
            )))
        }),
    }
}

fn set(call: &mut PcCall<'_, '_>, key: &str, value: &str) -> PcResult<i32> {
    if !KEYS.contains(&key) {
        return Err(PcError::input(format!(
            "SystemConfig: unsupported key {key:?} (supported: {})",
            KEYS.join(", ")
        )));
    }
    let current = read(call, key)?;
    if validate(key, value, current.as_ref().map(|e| e.value.as_str())).is_err() {
        return Ok(CODE_INVALID_CONFIGURATION_VALUES);
    }
    let entry = SystemConfigEntry {
        value: value.to_string(),
        enable_number: call.env.block_number.saturating_add(1),
    };
    call.put(system_config_key(key), Some(entry.encode()))?;
    Ok(0)
}

/// Checks a value for a key; `current` is the value stored now, if any.
pub fn validate(key: &str, value: &str, current: Option<&str>) -> Result<(), String> {
    let number = |min: u64, max: u64| -> Result<(), String> {
        let n = parse_decimal(value).ok_or_else(|| format!("{key} must be a decimal integer"))?;
        if (min..=max).contains(&n) {
            Ok(())
        } else {
            Err(format!("{key} must be within {min}..={max}"))
        }
    };
    match key {
        "tx_count_limit" => number(1, u32::MAX as u64),
        "tx_gas_limit" => number(100_000, u64::MAX),
        // Also caps each tx; below 100,000 hardly a contract call would fit.
        "block_gas_limit" => number(100_000, u64::MAX),
        "consensus_leader_period" => number(1, u32::MAX as u64),
        "web3_chain_id" => number(0, u64::MAX),
        "auth_check_status" => number(0, 1),
        // Feature switches can only be turned on.
        "feature_balance" => {
            if value == "1" {
                Ok(())
            } else {
                Err(format!("{key} can only be set to 1 (switches cannot be turned off)"))
            }
        }
        "compatibility_version" => {
            let new = parse_version(value).ok_or("version must look like 3.6.0")?;
            match current.and_then(parse_version) {
                Some(old) if new < old => Err(format!("cannot lower the version below {old:?}")),
                _ => Ok(()),
            }
        }
        _ => Err(format!("unsupported key {key}")),
    }
}

/// A canonical decimal (no sign, no leading zeros, no spaces).
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

fn parse_version(s: &str) -> Option<(u64, u64, u64)> {
    let mut parts = s.split('.').map(parse_decimal);
    let v = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() { None } else { Some(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ranges_and_formats() {
        assert!(validate("tx_gas_limit", "100000", None).is_ok());
        assert!(validate("tx_gas_limit", "99999", None).is_err());
        assert!(validate("tx_gas_limit", "18446744073709551616", None).is_err());
        assert!(validate("tx_count_limit", "1", None).is_ok());
        assert!(validate("block_gas_limit", "300000000", None).is_ok());
        assert!(validate("block_gas_limit", "99999", None).is_err());
        assert!(validate("block_gas_limit", "1e9", None).is_err());
        assert!(validate("tx_count_limit", " 1", None).is_err());
        assert!(validate("compatibility_version", "3.6.1", Some("3.6.0")).is_ok());
        assert!(validate("compatibility_version", "3.6", None).is_err());
        assert!(validate("compatibility_version", "3.5.0", Some("3.6.0")).is_err());
        assert!(validate("feature_balance", "1", None).is_ok());
        assert!(validate("feature_balance", "0", Some("1")).is_err());
    }
}
