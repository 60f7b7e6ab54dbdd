//! Decoding revert data into something a person can read: `Error(string)` reasons,
//! `Panic(uint256)` codes and the contract's own custom errors (from its ABI).

use crate::abi::format_value;
use alloy_dyn_abi::{DynSolValue, ErrorExt};
use alloy_json_abi::JsonAbi;
use alloy_primitives::{Bytes, U256};
use alloy_sol_types::{Panic, PanicKind, Revert, SolError};
use std::fmt;

/// Why execution reverted.
#[derive(Debug, Clone, PartialEq)]
pub enum RevertReason {
    /// `revert("…")` / `require(cond, "…")`: the `Error(string)` reason.
    Error(String),
    /// `Panic(uint256)`: assert failure, arithmetic overflow, division by zero, …
    Panic(U256),
    /// A custom error declared in the contract's ABI.
    Custom {
        name: String,
        /// e.g. `Insufficient(uint256,uint256)`.
        signature: String,
        /// The decoded arguments with their declared names (empty when unnamed).
        args: Vec<(String, DynSolValue)>,
    },
    /// `revert()` without data.
    Empty,
    /// Data that matches no known error (selector not in the ABI, or malformed).
    Unknown(Bytes),
}

impl RevertReason {
    /// Decodes revert data. `abi` supplies the custom errors; without it only `Error(string)`
    /// and `Panic(uint256)` are recognised.
    pub fn decode(data: &[u8], abi: Option<&JsonAbi>) -> Self {
        if data.is_empty() {
            return RevertReason::Empty;
        }
        // Both decoders check the selector first.
        if let Ok(r) = Revert::abi_decode(data) {
            return RevertReason::Error(r.reason);
        }
        if let Ok(p) = Panic::abi_decode(data) {
            return RevertReason::Panic(p.code);
        }
        if let Some(abi) = abi {
            for error in abi.errors().filter(|e| data.starts_with(e.selector().as_slice())) {
                if let Ok(decoded) = error.decode_error(data) {
                    let args =
                        error.inputs.iter().map(|p| p.name.clone()).zip(decoded.body).collect();
                    return RevertReason::Custom {
                        name: error.name.clone(),
                        signature: error.signature(),
                        args,
                    };
                }
            }
        }
        RevertReason::Unknown(Bytes::copy_from_slice(data))
    }

    /// The Solidity panic kind, for a known panic code.
    pub fn panic_kind(&self) -> Option<PanicKind> {
        match self {
            RevertReason::Panic(code) => u32::try_from(code).ok().and_then(PanicKind::from_number),
            _ => None,
        }
    }

    /// The value of a custom error's argument by name.
    pub fn arg(&self, name: &str) -> Option<&DynSolValue> {
        match self {
            RevertReason::Custom { args, .. } => {
                args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
            }
            _ => None,
        }
    }
}

impl fmt::Display for RevertReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevertReason::Error(reason) => write!(f, "{reason:?}"),
            RevertReason::Panic(code) => {
                let what = self.panic_kind().map(PanicKind::as_str).unwrap_or("unknown panic code");
                write!(f, "panic {code:#x} ({what})")
            }
            RevertReason::Custom { name, args, .. } => {
                write!(f, "{name}(")?;
                for (i, (arg, value)) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if !arg.is_empty() {
                        write!(f, "{arg}: ")?;
                    }
                    f.write_str(&format_value(value))?;
                }
                f.write_str(")")
            }
            RevertReason::Empty => f.write_str("no revert data"),
            RevertReason::Unknown(data) => write!(f, "unrecognised revert data {data}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_dyn_abi::JsonAbiExt;
    use alloy_primitives::Address;

    fn reverter_abi() -> JsonAbi {
        JsonAbi::parse([
            "error Insufficient(uint256 available, uint256 required)",
            "error Denied(address who, string why)",
            "function failCustom(uint256 available, uint256 required)",
        ])
        .unwrap()
    }

    #[test]
    fn error_string_reason() {
        let data = Revert::from("x must exceed 10").abi_encode();
        // The selector solc emits for require(cond, "…").
        assert_eq!(&data[..4], &[0x08, 0xc3, 0x79, 0xa0]);
        let reason = RevertReason::decode(&data, None);
        assert_eq!(reason, RevertReason::Error("x must exceed 10".into()));
        assert_eq!(reason.to_string(), "\"x must exceed 10\"");
    }

    #[test]
    fn panic_code() {
        let data = Panic::from(U256::from(0x12)).abi_encode();
        assert_eq!(&data[..4], &[0x4e, 0x48, 0x7b, 0x71]);
        let reason = RevertReason::decode(&data, Some(&reverter_abi()));
        assert_eq!(reason, RevertReason::Panic(U256::from(0x12)));
        assert_eq!(reason.panic_kind(), Some(PanicKind::DivisionByZero));
        assert_eq!(reason.to_string(), "panic 0x12 (division or modulo by zero)");
        let odd = RevertReason::decode(&Panic::from(U256::from(0x99)).abi_encode(), None);
        assert_eq!(odd.panic_kind(), None);
        assert!(odd.to_string().contains("unknown panic code"));
    }

    #[test]
    fn custom_error_from_abi() {
        let abi = reverter_abi();
        let error = &abi.error("Insufficient").unwrap()[0];
        let data = error.abi_encode_input(&[U256::from(5).into(), U256::from(10).into()]).unwrap();
        let reason = RevertReason::decode(&data, Some(&abi));
        let RevertReason::Custom { name, signature, args } = &reason else {
            panic!("not custom: {reason:?}");
        };
        assert_eq!(name, "Insufficient");
        assert_eq!(signature, "Insufficient(uint256,uint256)");
        assert_eq!(args.len(), 2);
        assert_eq!(reason.arg("required"), Some(&DynSolValue::Uint(U256::from(10), 256)));
        assert_eq!(reason.to_string(), "Insufficient(available: 5, required: 10)");

        // Without the ABI the same bytes are only "unknown".
        assert_eq!(RevertReason::decode(&data, None), RevertReason::Unknown(data.clone().into()));
    }

    #[test]
    fn custom_error_with_dynamic_args() {
        let abi = reverter_abi();
        let error = &abi.error("Denied").unwrap()[0];
        let who = Address::repeat_byte(0xab);
        let data = error.abi_encode_input(&[who.into(), DynSolValue::String("no".into())]).unwrap();
        let reason = RevertReason::decode(&data, Some(&abi));
        assert_eq!(reason.arg("who"), Some(&DynSolValue::Address(who)));
        assert_eq!(reason.arg("why"), Some(&DynSolValue::String("no".into())));
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(RevertReason::decode(&[], None), RevertReason::Empty);
        // Right selector, truncated body: not silently read as a reason.
        let mut data = Revert::from("hello").abi_encode();
        data.truncate(40);
        assert!(matches!(RevertReason::decode(&data, None), RevertReason::Unknown(_)));
        let abi = reverter_abi();
        let bad = abi.error("Insufficient").unwrap()[0].selector();
        assert!(matches!(
            RevertReason::decode(bad.as_slice(), Some(&abi)),
            RevertReason::Unknown(_)
        ));
    }

    #[test]
    fn real_reverter_artifact_errors() {
        let (abi, _) = crate::abi::load_artifact(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../contracts/artifacts/Reverter.json"
        ))
        .unwrap();
        let data = abi.error("Insufficient").unwrap()[0]
            .abi_encode_input(&[U256::from(1).into(), U256::from(2).into()])
            .unwrap();
        assert_eq!(
            RevertReason::decode(&data, Some(&abi)).to_string(),
            "Insufficient(available: 1, required: 2)"
        );
    }
}
