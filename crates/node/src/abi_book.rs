//! The explorer's JSON-RPC methods: an ABI registry keyed by code hash (so every contract
//! deployed from the same code shares one entry, and a registered ABI cannot follow an
//! address to other code), and the decoding of a tx's input, events and revert reason with
//! the ABIs it finds. Served as an RPC extension on the public listener:
//!
//! - `registerAbi [group, address, abi]` → `{codeHash}`: the ABI (JSON array) of the code at
//!   `address` now;
//! - `getAbi [group, address]` → `{codeHash, abi}` or `null`;
//! - `decodeTransaction [group, hash]` → `{to, function, events, revertReason}` (see
//!   docs/metrics.md, "Explorer").

use alloy_dyn_abi::{DynSolValue, EventExt, JsonAbiExt};
use alloy_json_abi::{Event, JsonAbi};
use alloy_primitives::{Address, B256, keccak256};
use aurum_rpc::GroupRef;
use aurum_rpc::jsonrpc::{Params, RpcError, RpcResult};
use aurum_storage::{KvStore, WriteBatch};
use serde_json::{Value, json};
use std::sync::Arc;

/// Where ABIs live in the node's store: code hash → ABI JSON.
pub(crate) const ABI_NAMESPACE: &str = "explorer_abi";
/// An ABI larger than this is refused (a big contract's is ~50 KiB).
const MAX_ABI_BYTES: usize = 512 * 1024;

pub(crate) const REGISTER_ABI: &str = "registerAbi";
pub(crate) const GET_ABI: &str = "getAbi";
pub(crate) const DECODE_TRANSACTION: &str = "decodeTransaction";

/// The registry over the node's store.
pub(crate) struct AbiBook {
    store: Arc<dyn KvStore>,
}

fn backend(e: impl std::fmt::Display) -> RpcError {
    RpcError::internal(e)
}

impl AbiBook {
    pub fn open(store: Arc<dyn KvStore>) -> Result<Self, aurum_storage::StorageError> {
        store.ensure_namespace(ABI_NAMESPACE)?;
        Ok(AbiBook { store })
    }

    fn code_hash(g: &GroupRef, address: &Address) -> RpcResult<Option<B256>> {
        let code = g.code(address, g.head()?)?;
        Ok((!code.is_empty()).then(|| keccak256(&code)))
    }

    /// The ABI registered for the code at `address` (with its code hash), or the platform's
    /// own for a precompile (no code hash).
    fn abi_of(
        &self,
        g: &GroupRef,
        address: &Address,
    ) -> RpcResult<Option<(Option<B256>, JsonAbi)>> {
        if let Some(hash) = Self::code_hash(g, address)?
            && let Some(bytes) = self.store.get(ABI_NAMESPACE, hash.as_slice()).map_err(backend)?
            && let Ok(abi) = serde_json::from_slice(&bytes)
        {
            return Ok(Some((Some(hash), abi)));
        }
        Ok(precompile_abi(address).map(|abi| (None, abi)))
    }

    fn register(&self, g: &GroupRef, p: &Params) -> RpcResult {
        let address: Address = p.req(1, "address")?;
        let abi: Value = p.req(2, "abi")?;
        let text = abi.to_string();
        if text.len() > MAX_ABI_BYTES {
            return Err(RpcError::invalid_params(format!(
                "'abi': {} bytes, over the {MAX_ABI_BYTES}-byte limit",
                text.len()
            )));
        }
        serde_json::from_str::<JsonAbi>(&text)
            .map_err(|e| RpcError::invalid_params(format!("'abi' is not a contract ABI: {e}")))?;
        let Some(hash) = Self::code_hash(g, &address)? else {
            return Err(RpcError::invalid_params(format!("no contract code at {address}")));
        };
        let mut batch = WriteBatch::default();
        batch.put(ABI_NAMESPACE, hash.to_vec(), text.into_bytes());
        self.store.write(batch).map_err(backend)?;
        Ok(json!({ "codeHash": hash }))
    }

    fn get(&self, g: &GroupRef, p: &Params) -> RpcResult {
        let address: Address = p.req(1, "address")?;
        Ok(match self.abi_of(g, &address)? {
            Some((hash, abi)) => json!({ "codeHash": hash, "abi": abi }),
            None => Value::Null,
        })
    }

    fn decode(&self, g: &GroupRef, p: &Params) -> RpcResult {
        let hash: B256 = p.req(1, "hash")?;
        let Some(stored) = g.transaction(&hash)? else { return Ok(Value::Null) };
        let receipt = g.receipt(&hash)?;
        let to = stored.tx.to();
        let abi = match to {
            Some(a) => self.abi_of(g, &a)?.map(|(_, abi)| abi),
            None => None,
        };
        let function = abi.as_ref().and_then(|abi| decode_input(abi, stored.tx.input()));
        let mut events = Vec::new();
        let mut revert = None;
        if let Some(r) = &receipt {
            for (i, log) in r.logs.iter().enumerate() {
                let decoded = match to == Some(log.address) {
                    true => abi.as_ref().and_then(|abi| decode_event(abi, log)),
                    false => {
                        self.abi_of(g, &log.address)?.and_then(|(_, abi)| decode_event(&abi, log))
                    }
                };
                events.push(json!({ "logIndex": i, "address": log.address, "event": decoded }));
            }
            if !r.status.is_success() {
                revert = revert_reason(abi.as_ref(), &r.output);
            }
        }
        Ok(json!({
            "hash": hash,
            "to": to,
            "abiKnown": abi.is_some(),
            "function": function,
            "events": events,
            "revertReason": revert,
        }))
    }
}

impl aurum_rpc::Extension for AbiBook {
    fn call(&self, g: &GroupRef, method: &str, p: &Params) -> Option<RpcResult> {
        Some(match method {
            REGISTER_ABI => self.register(g, p),
            GET_ABI => self.get(g, p),
            DECODE_TRANSACTION => self.decode(g, p),
            _ => return None,
        })
    }
}

/// The precompiles whose interfaces the explorer knows without registration (REFERENCE.md
/// addresses; the ABIs are this repository's `contracts/artifacts`).
const PRECOMPILES: &[(u16, &str)] = &[
    (0x1000, include_str!("../../../contracts/artifacts/ISystemConfig.json")),
    (0x1002, include_str!("../../../contracts/artifacts/ITableManager.json")),
    (0x1003, include_str!("../../../contracts/artifacts/IConsensus.json")),
    (0x1006, include_str!("../../../contracts/artifacts/IParallelConfig.json")),
    (0x100a, include_str!("../../../contracts/artifacts/ICrypto.json")),
];

fn precompile_abi(address: &Address) -> Option<JsonAbi> {
    let (high, low) = address.as_slice().split_at(18);
    if high.iter().any(|b| *b != 0) {
        return None;
    }
    let n = u16::from_be_bytes([low[0], low[1]]);
    let (_, artifact) = PRECOMPILES.iter().find(|(a, _)| *a == n)?;
    let artifact: Value = serde_json::from_str(artifact).ok()?;
    serde_json::from_value(artifact.get("abi")?.clone()).ok()
}

/// `{name, signature, args: [{name, type, value}]}` of the function the input calls.
fn decode_input(abi: &JsonAbi, input: &[u8]) -> Option<Value> {
    let selector = input.get(..4)?;
    let f = abi.functions().find(|f| f.selector().as_slice() == selector)?;
    let values = f.abi_decode_input(&input[4..]).ok()?;
    let args =
        f.inputs.iter().zip(&values).map(|(p, v)| arg(&p.name, &p.ty, v)).collect::<Vec<_>>();
    Some(json!({ "name": f.name, "signature": f.signature(), "args": args }))
}

fn decode_event(abi: &JsonAbi, log: &alloy_primitives::Log) -> Option<Value> {
    let topic0 = log.topics().first()?;
    abi.events().filter(|e| !e.anonymous && e.selector() == *topic0).find_map(|e| event(e, log))
}

fn event(e: &Event, log: &alloy_primitives::Log) -> Option<Value> {
    let decoded = e.decode_log_parts(log.topics().iter().copied(), &log.data.data).ok()?;
    let (mut indexed, mut body) = (decoded.indexed.into_iter(), decoded.body.into_iter());
    let args = e
        .inputs
        .iter()
        .map(|p| {
            let v = if p.indexed { indexed.next() } else { body.next() }?;
            Some(arg(&p.name, &p.ty, &v))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(json!({ "name": e.name, "signature": e.signature(), "args": args }))
}

/// `Error(string)`, `Panic(uint256)` or a custom error of the ABI, in words.
fn revert_reason(abi: Option<&JsonAbi>, output: &[u8]) -> Option<String> {
    let (selector, data) = (output.get(..4)?, &output[4..]);
    if selector == [0x08, 0xc3, 0x79, 0xa0]
        && let Ok(DynSolValue::String(s)) = alloy_dyn_abi::DynSolType::String.abi_decode(data)
    {
        return Some(s);
    }
    if selector == [0x4e, 0x48, 0x7b, 0x71]
        && let Ok(DynSolValue::Uint(code, _)) =
            alloy_dyn_abi::DynSolType::Uint(256).abi_decode(data)
    {
        return Some(format!("panic 0x{code:x}"));
    }
    let error = abi?.errors().find(|e| e.selector().as_slice() == selector)?;
    let values = error.abi_decode_input(data).ok()?;
    let args: Vec<String> = values.iter().map(text).collect();
    Some(format!("{}({})", error.name, args.join(", ")))
}

fn arg(name: &str, ty: &str, v: &DynSolValue) -> Value {
    json!({ "name": name, "type": ty, "value": text(v) })
}

/// A value as people read it: decimal numbers, checksummed addresses, `0x` bytes.
fn text(v: &DynSolValue) -> String {
    let list = |items: &[DynSolValue]| items.iter().map(text).collect::<Vec<_>>().join(", ");
    match v {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(w, size) => format!("0x{}", hex(&w[..(*size).min(32)])),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Bytes(b) => format!("0x{}", hex(b)),
        DynSolValue::String(s) => s.clone(),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => format!("[{}]", list(items)),
        DynSolValue::Tuple(items) => format!("({})", list(items)),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
