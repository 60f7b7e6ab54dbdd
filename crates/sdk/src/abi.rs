//! ABI helpers over alloy's dynamic ABI: picking a function, encoding calls and constructor
//! arguments, decoding outputs and event logs, loading compiler artifacts.

use crate::types::RpcLog;
use alloy_dyn_abi::{DynSolType, DynSolValue, EventExt, FunctionExt, JsonAbiExt};
use alloy_json_abi::{Event, Function, JsonAbi};
use alloy_primitives::{Address, Bytes};
use std::fmt;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum AbiError {
    #[error("the ABI has no function {name:?}")]
    NoFunction { name: String },
    #[error("function {name:?} takes {expected:?} arguments, {given} given")]
    ArgCount { name: String, expected: Vec<usize>, given: usize },
    #[error(
        "{name:?} with {given} arguments is overloaded ({candidates:?}): pass a full signature"
    )]
    Ambiguous { name: String, given: usize, candidates: Vec<String> },
    #[error("bad function signature {spec:?}: {reason}")]
    BadSignature { spec: String, reason: String },
    #[error("cannot encode arguments of {item}: {source}")]
    Encode {
        item: String,
        #[source]
        source: alloy_dyn_abi::Error,
    },
    #[error("cannot decode the output of {item} from {len} bytes: {source}")]
    Decode {
        item: String,
        len: usize,
        #[source]
        source: alloy_dyn_abi::Error,
    },
    #[error("argument {index} ({ty}): cannot parse {value:?}: {reason}")]
    Parse { index: usize, ty: String, value: String, reason: String },
    #[error("the ABI has no constructor but {0} constructor arguments were given")]
    NoConstructor(usize),
    #[error("no bytecode to deploy (an interface or abstract contract?)")]
    EmptyBytecode,
    #[error("artifact {path}: {reason}")]
    Artifact { path: String, reason: String },
}

/// Finds the function to call. `spec` is a name (`"transfer"`, picked among overloads by
/// argument count) or a full signature (`"transfer(address,uint256)"`, spaces and a leading
/// `function` allowed).
pub fn find_function<'a>(
    abi: &'a JsonAbi,
    spec: &str,
    arg_count: usize,
) -> Result<&'a Function, AbiError> {
    let spec = spec.trim();
    if spec.contains('(') {
        let wanted = Function::parse(spec)
            .map_err(|e| AbiError::BadSignature { spec: spec.to_owned(), reason: e.to_string() })?;
        let selector = wanted.selector();
        return abi
            .functions()
            .find(|f| f.selector() == selector)
            .ok_or_else(|| AbiError::NoFunction { name: wanted.signature() });
    }
    let overloads = abi
        .function(spec)
        .filter(|fs| !fs.is_empty())
        .ok_or_else(|| AbiError::NoFunction { name: spec.to_owned() })?;
    let mut matching = overloads.iter().filter(|f| f.inputs.len() == arg_count);
    match (matching.next(), matching.next()) {
        (Some(f), None) => Ok(f),
        (None, _) => Err(AbiError::ArgCount {
            name: spec.to_owned(),
            expected: overloads.iter().map(|f| f.inputs.len()).collect(),
            given: arg_count,
        }),
        (Some(_), Some(_)) => Err(AbiError::Ambiguous {
            name: spec.to_owned(),
            given: arg_count,
            candidates: overloads
                .iter()
                .filter(|f| f.inputs.len() == arg_count)
                .map(|f| f.signature())
                .collect(),
        }),
    }
}

/// Calldata: selector followed by the ABI-encoded arguments (types checked against the ABI).
pub fn encode_call(function: &Function, args: &[DynSolValue]) -> Result<Bytes, AbiError> {
    function
        .abi_encode_input(args)
        .map(Bytes::from)
        .map_err(|source| AbiError::Encode { item: function.signature(), source })
}

/// Creation code: the bytecode followed by the ABI-encoded constructor arguments.
pub fn encode_deploy(
    abi: &JsonAbi,
    bytecode: &[u8],
    args: &[DynSolValue],
) -> Result<Bytes, AbiError> {
    if bytecode.is_empty() {
        return Err(AbiError::EmptyBytecode);
    }
    let encoded = match &abi.constructor {
        Some(ctor) => ctor
            .abi_encode_input(args)
            .map_err(|source| AbiError::Encode { item: "constructor".into(), source })?,
        None if args.is_empty() => Vec::new(),
        None => return Err(AbiError::NoConstructor(args.len())),
    };
    let mut code = Vec::with_capacity(bytecode.len() + encoded.len());
    code.extend_from_slice(bytecode);
    code.extend_from_slice(&encoded);
    Ok(code.into())
}

/// Decodes a function's return data.
pub fn decode_output(function: &Function, data: &[u8]) -> Result<Vec<DynSolValue>, AbiError> {
    function.abi_decode_output(data).map_err(|source| AbiError::Decode {
        item: function.signature(),
        len: data.len(),
        source,
    })
}

/// Parses textual arguments (`"0x…"`, `"1000"`, `"true"`, `"[1,2]"`, …) into the values the
/// function's inputs expect: handy for command-line tools.
pub fn parse_args(function: &Function, args: &[&str]) -> Result<Vec<DynSolValue>, AbiError> {
    if args.len() != function.inputs.len() {
        return Err(AbiError::ArgCount {
            name: function.name.clone(),
            expected: vec![function.inputs.len()],
            given: args.len(),
        });
    }
    function
        .inputs
        .iter()
        .zip(args)
        .enumerate()
        .map(|(index, (param, value))| {
            let parse_err = |reason: String| AbiError::Parse {
                index,
                ty: param.ty.clone(),
                value: (*value).to_owned(),
                reason,
            };
            let ty: DynSolType = param
                .selector_type()
                .parse()
                .map_err(|e: alloy_dyn_abi::Error| parse_err(e.to_string()))?;
            ty.coerce_str(value).map_err(|e| parse_err(e.to_string()))
        })
        .collect()
}

/// An event log decoded with the contract's ABI.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedLog {
    /// The contract that emitted it.
    pub address: Address,
    pub name: String,
    /// e.g. `Transfer(address,address,uint256)`.
    pub signature: String,
    /// All parameters in declaration order, indexed or not. An indexed parameter of a
    /// dynamic type (string, bytes, arrays) holds the 32-byte hash, as the EVM stores it.
    pub params: Vec<(String, DynSolValue)>,
    pub log_index: Option<u64>,
}

impl DecodedLog {
    /// A parameter's value by name.
    pub fn get(&self, name: &str) -> Option<&DynSolValue> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl fmt::Display for DecodedLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, (name, value)) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if !name.is_empty() {
                write!(f, "{name}: ")?;
            }
            f.write_str(&format_value(value))?;
        }
        f.write_str(")")
    }
}

/// Decodes one log with the first non-anonymous event of `abi` whose topic 0 and shape
/// match; None when no event does (e.g. a log of another contract).
pub fn decode_log(abi: &JsonAbi, log: &RpcLog) -> Option<DecodedLog> {
    let topic0 = log.topics.first()?;
    abi.events()
        .filter(|e| !e.anonymous && e.selector() == *topic0)
        .find_map(|event| decode_with(event, log))
}

fn decode_with(event: &Event, log: &RpcLog) -> Option<DecodedLog> {
    let decoded = event.decode_log_parts(log.topics.iter().copied(), &log.data).ok()?;
    let mut indexed = decoded.indexed.into_iter();
    let mut body = decoded.body.into_iter();
    let params = event
        .inputs
        .iter()
        .map(|p| {
            let value = if p.indexed { indexed.next() } else { body.next() };
            value.map(|v| (p.name.clone(), v))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(DecodedLog {
        address: log.address,
        name: event.name.clone(),
        signature: event.signature(),
        params,
        log_index: log.log_index,
    })
}

/// Decodes every log the ABI knows, skipping the others.
pub fn decode_logs(abi: &JsonAbi, logs: &[RpcLog]) -> Vec<DecodedLog> {
    logs.iter().filter_map(|l| decode_log(abi, l)).collect()
}

/// A readable rendering of a value: decimal numbers, checksummed addresses, `0x` bytes,
/// quoted strings, `[…]` arrays and `(…)` tuples.
pub fn format_value(value: &DynSolValue) -> String {
    let list =
        |items: &[DynSolValue]| items.iter().map(format_value).collect::<Vec<_>>().join(", ");
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(word, size) => {
            format!("0x{}", hex::encode(&word[..(*size).min(32)]))
        }
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Function(func) => format!("0x{}", hex::encode(func.as_slice())),
        DynSolValue::Bytes(b) => format!("0x{}", hex::encode(b)),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => format!("[{}]", list(items)),
        DynSolValue::Tuple(items) => format!("({})", list(items)),
        // Other variants exist only under alloy-dyn-abi's optional features (e.g. EIP-712
        // structs), which another crate of the build may switch on.
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// Parses a compiler artifact: `{"abi": [...], "bytecode": "0x…"}` (Hardhat, and this
/// repository's contracts/artifacts) or `{"abi": …, "bytecode": {"object": "…"}}` (Foundry).
pub fn parse_artifact(json: &str) -> Result<(JsonAbi, Bytes), AbiError> {
    parse_artifact_at(json, "<string>")
}

/// Reads and parses an artifact file; see [`parse_artifact`].
pub fn load_artifact(path: impl AsRef<Path>) -> Result<(JsonAbi, Bytes), AbiError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let json = std::fs::read_to_string(path)
        .map_err(|e| AbiError::Artifact { path: shown.clone(), reason: e.to_string() })?;
    parse_artifact_at(&json, &shown)
}

fn parse_artifact_at(json: &str, path: &str) -> Result<(JsonAbi, Bytes), AbiError> {
    let err = |reason: String| AbiError::Artifact { path: path.to_owned(), reason };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| err(e.to_string()))?;
    let abi_value = value.get("abi").ok_or_else(|| err("no \"abi\" field".into()))?;
    let abi: JsonAbi =
        serde_json::from_value(abi_value.clone()).map_err(|e| err(format!("abi: {e}")))?;
    let code = match value.get("bytecode") {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(obj @ serde_json::Value::Object(_)) => obj
            .get("object")
            .and_then(|o| o.as_str())
            .ok_or_else(|| err("\"bytecode\" object has no \"object\" string".into()))?,
        Some(_) => return Err(err("\"bytecode\" is neither a string nor an object".into())),
        None => "",
    };
    let code = code.strip_prefix("0x").unwrap_or(code);
    let bytecode = hex::decode(code).map_err(|e| err(format!("bytecode: {e}")))?;
    Ok((abi, bytecode.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{B256, U256};

    fn token() -> (JsonAbi, Bytes) {
        load_artifact(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../contracts/artifacts/AurumToken.json"
        ))
        .unwrap()
    }

    #[test]
    fn artifact_loads_abi_and_bytecode() {
        let (abi, code) = token();
        assert!(code.len() > 100);
        assert_eq!(&code[..2], &[0x60, 0x80]);
        assert!(abi.constructor.is_some());
        assert!(abi.function("transfer").is_some());
        assert!(abi.event("Transfer").is_some());
        // Foundry layout
        let foundry = r#"{"abi":[],"bytecode":{"object":"0x6001"}}"#;
        assert_eq!(parse_artifact(foundry).unwrap().1, Bytes::from(vec![0x60, 0x01]));
        assert!(matches!(parse_artifact("{}"), Err(AbiError::Artifact { .. })));
        assert!(matches!(
            parse_artifact(r#"{"abi":[],"bytecode":"0xzz"}"#),
            Err(AbiError::Artifact { .. })
        ));
        assert!(matches!(load_artifact("/nonexistent.json"), Err(AbiError::Artifact { .. })));
    }

    #[test]
    fn function_by_name_or_signature() {
        let abi = JsonAbi::parse([
            "function f(uint256 a)",
            "function f(address a)",
            "function f(uint256 a, uint256 b)",
            "function g() returns (uint256)",
        ])
        .unwrap();
        assert_eq!(find_function(&abi, "g", 0).unwrap().name, "g");
        assert_eq!(find_function(&abi, "f", 2).unwrap().signature(), "f(uint256,uint256)");
        assert!(matches!(find_function(&abi, "f", 1), Err(AbiError::Ambiguous { .. })));
        assert!(matches!(find_function(&abi, "f", 3), Err(AbiError::ArgCount { .. })));
        assert!(matches!(find_function(&abi, "h", 0), Err(AbiError::NoFunction { .. })));
        let f = find_function(&abi, "f(address)", 1).unwrap();
        assert_eq!(f.signature(), "f(address)");
        let f = find_function(&abi, "function f(uint256 x, uint256 y)", 2).unwrap();
        assert_eq!(f.signature(), "f(uint256,uint256)");
        assert!(matches!(find_function(&abi, "f(bool)", 1), Err(AbiError::NoFunction { .. })));
        assert!(matches!(find_function(&abi, "f(", 1), Err(AbiError::BadSignature { .. })));
    }

    #[test]
    fn encode_and_decode_calls() {
        let (abi, code) = token();
        let transfer = find_function(&abi, "transfer", 2).unwrap();
        let to = Address::repeat_byte(0x11);
        let data = encode_call(transfer, &[to.into(), U256::from(7).into()]).unwrap();
        assert_eq!(&data[..4], &[0xa9, 0x05, 0x9c, 0xbb]); // transfer(address,uint256)
        assert_eq!(data.len(), 4 + 64);
        assert!(matches!(
            encode_call(transfer, &[U256::from(1).into(), U256::from(7).into()]),
            Err(AbiError::Encode { .. })
        ));
        let balance_of = find_function(&abi, "balanceOf", 1).unwrap();
        let out = decode_output(balance_of, &U256::from(42).to_be_bytes::<32>()).unwrap();
        assert_eq!(out, vec![DynSolValue::Uint(U256::from(42), 256)]);
        assert!(matches!(decode_output(balance_of, &[1, 2]), Err(AbiError::Decode { .. })));

        let args = [
            DynSolValue::String("Aurum Token".into()),
            DynSolValue::String("AUR".into()),
            U256::from(1000).into(),
        ];
        let creation = encode_deploy(&abi, &code, &args).unwrap();
        assert!(creation.starts_with(&code));
        let ctor = abi.constructor.as_ref().unwrap();
        assert_eq!(ctor.abi_decode_input(&creation[code.len()..]).unwrap(), args.to_vec());
        assert!(matches!(encode_deploy(&abi, &[], &args), Err(AbiError::EmptyBytecode)));
        assert!(matches!(
            encode_deploy(&JsonAbi::new(), &code, &args),
            Err(AbiError::NoConstructor(3))
        ));
    }

    #[test]
    fn parse_textual_args() {
        let (abi, _) = token();
        let transfer = find_function(&abi, "transfer", 2).unwrap();
        let to = Address::repeat_byte(0x22);
        let args = parse_args(transfer, &[&to.to_string(), "1000"]).unwrap();
        assert_eq!(args, vec![to.into(), DynSolValue::Uint(U256::from(1000), 256)]);
        assert!(matches!(parse_args(transfer, &["0x12", "1"]), Err(AbiError::Parse { .. })));
        assert!(matches!(parse_args(transfer, &["1"]), Err(AbiError::ArgCount { .. })));
    }

    #[test]
    fn transfer_log_decodes_by_name() {
        let (abi, _) = token();
        let from = Address::repeat_byte(0xaa);
        let to = Address::repeat_byte(0xbb);
        let event = &abi.event("Transfer").unwrap()[0];
        let log = RpcLog {
            address: Address::repeat_byte(0x01),
            topics: vec![event.selector(), from.into_word(), to.into_word()],
            data: U256::from(5).to_be_bytes::<32>().to_vec().into(),
            log_index: Some(3),
        };
        let unrelated = RpcLog {
            address: Address::ZERO,
            topics: vec![B256::repeat_byte(9)],
            data: Bytes::new(),
            log_index: None,
        };
        let decoded = decode_logs(&abi, &[unrelated.clone(), log.clone()]);
        assert_eq!(decoded.len(), 1);
        let d = &decoded[0];
        assert_eq!(d.name, "Transfer");
        assert_eq!(d.signature, "Transfer(address,address,uint256)");
        assert_eq!(d.get("from"), Some(&DynSolValue::Address(from)));
        assert_eq!(d.get("to"), Some(&DynSolValue::Address(to)));
        assert_eq!(d.get("value"), Some(&DynSolValue::Uint(U256::from(5), 256)));
        assert_eq!(d.log_index, Some(3));
        assert_eq!(
            d.to_string(),
            format!("Transfer(from: {}, to: {}, value: 5)", from.to_checksum(None), to)
        );
        // Wrong topic count (a differently shaped event with the same name) is skipped.
        let mut short = log;
        short.topics.pop();
        assert_eq!(decode_log(&abi, &short), None);
    }

    #[test]
    fn values_format_readably() {
        let v = DynSolValue::Tuple(vec![
            DynSolValue::Bool(true),
            DynSolValue::Int(alloy_primitives::I256::try_from(-3).unwrap(), 256),
            DynSolValue::FixedBytes(B256::repeat_byte(0xab), 2),
            DynSolValue::Bytes(vec![1, 2]),
            DynSolValue::Array(vec![DynSolValue::String("a".into())]),
        ]);
        assert_eq!(format_value(&v), "(true, -3, 0xabab, 0x0102, [\"a\"])");
    }
}
