//! ParallelConfig (0x1006): `registerParallelFunction(address, string, uint256)` and
//! `unregisterParallelFunction(address, string)`, returning an int256 code (0 = success).
//!
//! A registration says: calls to this function of this contract conflict only through
//! their first `criticalSize` arguments. The executor schedules such calls by those keys
//! (see [`crate::parallel`]) but never trusts them: what a transaction actually read and
//! wrote decides whether its parallel result is kept. A declaration applies from the
//! next block. A contract registers its own functions (`address(this)`), or an admin does.

use super::abi::IParallelConfig;
use super::call::{PcCall, PcError, PcResult};
use alloy_primitives::{Bytes, I256, keccak256};
use alloy_sol_types::{SolCall, SolInterface};
use aurum_primitives::state::parallel_function_key;

/// The signature is malformed, or a critical parameter is not a plain value type.
pub const CODE_INVALID_FUNCTION: i64 = -51900;
/// `criticalSize` is 0 or more than the function's parameter count.
pub const CODE_INVALID_CRITICAL_SIZE: i64 = -51901;

/// How one critical argument is turned into a key.
const STATIC_WORD: u8 = 0;
const DYNAMIC_BYTES: u8 = 1;

/// 0x1006 ParallelConfig.
pub(crate) struct ParallelConfig;

impl super::registry::Precompile for ParallelConfig {
    fn run(&self, call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<alloy_primitives::Bytes> {
        run(call, input)
    }
}

pub(crate) fn run(call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<Bytes> {
    call.charge_call(input.len())?;
    use IParallelConfig::IParallelConfigCalls as C;
    let decoded = C::abi_decode(input)
        .map_err(|e| PcError::input(format!("ParallelConfig: bad call data: {e}")))?;
    call.require_write()?;
    let (contract, function, size) = match decoded {
        C::registerParallelFunction(c) => (c.contractAddress, c.functionName, Some(c.criticalSize)),
        C::registerParallelFunctionInternal(c) => {
            (c.contractAddress, c.functionName, Some(c.criticalSize))
        }
        C::unregisterParallelFunction(c) => (c.contractAddress, c.functionName, None),
        C::unregisterParallelFunctionInternal(c) => (c.contractAddress, c.functionName, None),
    };
    if call.caller != contract && !call.is_admin() {
        return Err(PcError::denied(format!(
            "ParallelConfig: {} may only declare its own functions (or be an admin) and asked \
             for {contract}",
            call.caller
        )));
    }
    let code = match parse_signature(&function) {
        None => CODE_INVALID_FUNCTION,
        Some((selector, params)) => match size {
            None => {
                call.put(parallel_function_key(&contract, selector), None)?;
                0
            }
            Some(size) => match declaration(&params, size) {
                Ok(value) => {
                    call.put(parallel_function_key(&contract, selector), Some(value))?;
                    0
                }
                Err(code) => code,
            },
        },
    };
    Ok(IParallelConfig::registerParallelFunctionCall::abi_encode_returns(
        &I256::try_from(code).unwrap_or(I256::MINUS_ONE),
    )
    .into())
}

/// `name(type,…)` → (selector, canonical parameter types). No tuples.
fn parse_signature(signature: &str) -> Option<([u8; 4], Vec<String>)> {
    let signature: String = signature.chars().filter(|c| !c.is_whitespace()).collect();
    let (name, rest) = signature.split_once('(')?;
    let params = rest.strip_suffix(')')?;
    let valid_name = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid_name || params.contains(['(', ')']) {
        return None;
    }
    let params: Vec<String> = if params.is_empty() {
        Vec::new()
    } else {
        params.split(',').map(canonical_type).collect::<Option<_>>()?
    };
    let canonical = format!("{name}({})", params.join(","));
    let hash = keccak256(canonical.as_bytes());
    Some(([hash[0], hash[1], hash[2], hash[3]], params))
}

fn canonical_type(t: &str) -> Option<String> {
    let (base, suffix) = match t.find('[') {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let base = match base {
        "uint" => "uint256",
        "int" => "int256",
        "" => return None,
        other => other,
    };
    base.chars().all(|c| c.is_ascii_alphanumeric()).then(|| format!("{base}{suffix}"))
}

/// How each critical argument becomes a key: `[size, kind…]`.
fn declaration(params: &[String], size: alloy_primitives::U256) -> Result<Vec<u8>, i64> {
    let size = usize::try_from(size).ok().filter(|s| (1..=params.len().min(32)).contains(s));
    let size = size.ok_or(CODE_INVALID_CRITICAL_SIZE)?;
    let mut out = vec![size as u8];
    for t in &params[..size] {
        out.push(match t.as_str() {
            "string" | "bytes" => DYNAMIC_BYTES,
            "address" | "bool" => STATIC_WORD,
            t if is_sized(t, "uint") || is_sized(t, "int") || is_sized(t, "bytes") => STATIC_WORD,
            _ => return Err(CODE_INVALID_FUNCTION),
        });
    }
    Ok(out)
}

fn is_sized(t: &str, prefix: &str) -> bool {
    t.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// The conflict keys of a call (`args`: the call data after the selector) under a stored
/// declaration; `None` when the call data do not fit it (then the call is undeclared).
pub(crate) fn conflict_keys(declaration: &[u8], args: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (&size, kinds) = declaration.split_first()?;
    let word = |offset: usize| args.get(offset..offset.checked_add(32)?);
    let as_index = |w: &[u8]| -> Option<usize> {
        w[..24]
            .iter()
            .all(|b| *b == 0)
            .then(|| {
                let mut n = [0u8; 8];
                n.copy_from_slice(&w[24..]);
                u64::from_be_bytes(n)
            })?
            .try_into()
            .ok()
    };
    let mut keys = Vec::with_capacity(usize::from(size));
    for (i, kind) in kinds.iter().take(usize::from(size)).enumerate() {
        let head = word(i * 32)?;
        let key = match *kind {
            STATIC_WORD => head.to_vec(),
            _ => {
                let offset = as_index(head)?;
                let len = as_index(word(offset)?)?;
                let start = offset.checked_add(32)?;
                args.get(start..start.checked_add(len)?)?.to_vec()
            }
        };
        keys.push(key);
    }
    Some(keys)
}

/// Used by tests and tools: the selector a signature registers under.
pub fn selector_of(signature: &str) -> Option<[u8; 4]> {
    parse_signature(signature).map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolValue;

    #[test]
    fn signatures_are_canonicalised() {
        let (a, p) = parse_signature("transfer(string, string, uint)").unwrap();
        let (b, _) = parse_signature("transfer(string,string,uint256)").unwrap();
        assert_eq!(a, b);
        assert_eq!(p, ["string", "string", "uint256"]);
        assert!(parse_signature("transfer(string").is_none());
        assert!(parse_signature("(uint256)").is_none());
        assert!(parse_signature("f((uint256,uint256))").is_none());
    }

    #[test]
    fn critical_size_and_types_are_checked() {
        let p: Vec<String> = vec!["string".into(), "uint256[]".into()];
        assert_eq!(declaration(&p, 1u8.try_into().unwrap()), Ok(vec![1, DYNAMIC_BYTES]));
        assert_eq!(declaration(&p, 2u8.try_into().unwrap()), Err(CODE_INVALID_FUNCTION));
        assert_eq!(declaration(&p, 3u8.try_into().unwrap()), Err(CODE_INVALID_CRITICAL_SIZE));
        assert_eq!(declaration(&p, 0u8.try_into().unwrap()), Err(CODE_INVALID_CRITICAL_SIZE));
    }

    #[test]
    fn keys_come_from_the_first_arguments() {
        let args = ("alice".to_string(), "bob".to_string(), 7u64).abi_encode_params();
        let keys = conflict_keys(&[2, DYNAMIC_BYTES, DYNAMIC_BYTES], &args).unwrap();
        assert_eq!(keys, [b"alice".to_vec(), b"bob".to_vec()]);
        // Truncated call data: undeclared, never a panic.
        assert_eq!(conflict_keys(&[2, DYNAMIC_BYTES, DYNAMIC_BYTES], &args[..70]), None);
    }
}
