//! The contracts the benchmarks drive (compiled artifacts, and the DagTransfer precompile's
//! ABI) and call-data encoding through the SDK's ABI helpers.

use aurum_sdk::{Bytes, DynSolValue, JsonAbi, abi};

pub const TOKEN_ARTIFACT: &str = include_str!("../../../contracts/artifacts/AurumToken.json");
pub const PARALLEL_OK_ARTIFACT: &str = include_str!("../../../contracts/artifacts/ParallelOk.json");
const DAG_TRANSFER_ABI: &str = r#"[
  {"type":"function","name":"userAdd","stateMutability":"nonpayable","inputs":[{"name":"user","type":"string"},{"name":"balance","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
  {"type":"function","name":"userTransfer","stateMutability":"nonpayable","inputs":[{"name":"user_a","type":"string"},{"name":"user_b","type":"string"},{"name":"amount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
  {"type":"function","name":"userBalance","stateMutability":"view","inputs":[{"name":"user","type":"string"}],"outputs":[{"name":"","type":"uint256"},{"name":"","type":"uint256"}]}
]"#;

/// The DagTransfer precompile's functions the benchmarks use.
pub fn dag_transfer_abi() -> anyhow::Result<JsonAbi> {
    Ok(serde_json::from_str(DAG_TRANSFER_ABI)?)
}

/// Call data for `function` of `abi` with `args`.
pub fn encode(abi: &JsonAbi, function: &str, args: &[DynSolValue]) -> anyhow::Result<Bytes> {
    Ok(abi::encode_call(abi::find_function(abi, function, args.len())?, args)?)
}

/// A name-keyed account of DagTransfer and ParallelOk (`u3`, `v17`).
pub fn user(tag: &str, i: usize) -> String {
    format!("{tag}{i}")
}
