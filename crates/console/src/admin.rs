//! Node administration through the system precompiles: Consensus (0x1003) for the node
//! list and SystemConfig (0x1000) for config values, signed by the current account (a
//! genesis admin). Each command shows the state after it.

use crate::error::{CmdResult, CommandError};
use crate::{Console, Output};
use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, U256};
use aurum_sdk::{DynSolValue, parse_artifact};
use serde_json::Value;

const CONSENSUS: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x03]);
const SYSTEM_CONFIG: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00]);

const CONSENSUS_ABI: &str = include_str!("../../../contracts/artifacts/IConsensus.json");
const SYSTEM_CONFIG_ABI: &str = include_str!("../../../contracts/artifacts/ISystemConfig.json");

/// What a non-zero precompile code means, and what to do.
fn explain(code: i64) -> (&'static str, &'static str) {
    match code {
        -51100 => (
            "the node id is not 128 hex digits",
            "copy it from getSealerList or the node's ready.json",
        ),
        -51101 => ("that would leave the group without a sealer", "add another sealer first"),
        -51102 => ("the weight must be a positive number", "give a weight such as 1"),
        -51103 => ("the node is not in the group", "run getSealerList and getObserverList"),
        -50000 => (
            "this account may not change it",
            "loadAccount a genesis admin key (accounts/admin.pem)",
        ),
        _ => ("the precompile refused", "see the node log"),
    }
}

fn abi(text: &str) -> CmdResult<JsonAbi> {
    Ok(parse_artifact(text)?.0)
}

fn weight(word: &str) -> CmdResult<DynSolValue> {
    word.parse::<u64>().map(|w| DynSolValue::Uint(U256::from(w), 256)).map_err(|_| {
        CommandError::new(format!("'{word}' is not a weight")).next("give a whole number such as 1")
    })
}

impl Console {
    pub(crate) fn admin(&mut self, name: &str, words: &[String]) -> CmdResult<Output> {
        let node = || DynSolValue::String(words[0].clone());
        let (target, abi_text, function, args) = match name {
            "addSealer" => {
                (CONSENSUS, CONSENSUS_ABI, "addSealer", vec![node(), weight(&words[1])?])
            }
            "addObserver" => (CONSENSUS, CONSENSUS_ABI, "addObserver", vec![node()]),
            "removeNode" => (CONSENSUS, CONSENSUS_ABI, "remove", vec![node()]),
            "setConsensusWeight" => {
                (CONSENSUS, CONSENSUS_ABI, "setWeight", vec![node(), weight(&words[1])?])
            }
            _ => (
                SYSTEM_CONFIG,
                SYSTEM_CONFIG_ABI,
                "setValueByKey",
                vec![node(), DynSolValue::String(words[1].clone())],
            ),
        };
        let abi = abi(abi_text)?;
        let key = self.accounts.signer()?.key.clone();
        let client = self.block_on_client()?;
        let outcome = self.runtime.block_on(client.send(&key, target, &abi, function, &args))?;
        let code = match outcome.output.first() {
            Some(DynSolValue::Int(i, _)) => i.as_i64(),
            _ => 0,
        };
        if code != 0 {
            let (what, next) = explain(code);
            return Err(
                CommandError::new(format!("{name} failed with code {code}: {what}")).next(next)
            );
        }
        let tx = outcome.receipt.transaction_hash;
        let after = if target == CONSENSUS {
            let sealers = self.chain("getSealerList", &[])?;
            let observers = self.native(aurum_rpc_api::GET_OBSERVER_LIST, vec![])?;
            let observers: Vec<String> = observers
                .as_array()
                .map(|a| a.iter().map(crate::chain::scalar).collect())
                .unwrap_or_default();
            format!(
                "{}\nobservers: {}",
                sealers.render(false).unwrap_or_default(),
                if observers.is_empty() { "(none)".into() } else { observers.join(", ") }
            )
        } else {
            let v: Value = self.native(
                aurum_rpc_api::GET_SYSTEM_CONFIG_BY_KEY,
                vec![Value::from(words[0].clone())],
            )?;
            format!(
                "{} = {} (from block {})",
                words[0],
                crate::chain::scalar(&v["value"]),
                v["enableNumber"]
            )
        };
        Ok(Output::Report {
            text: format!(
                "{name} succeeded in transaction {tx} (takes effect from the next block)\n{after}"
            ),
            json: serde_json::json!({ "transactionHash": tx, "code": code }),
        })
    }
}
