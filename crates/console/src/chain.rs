//! Chain status commands: the node's read methods under the reference console's names,
//! lists shown as tables, receipts with their logs decoded by the ABIs the console knows.

use crate::error::{CmdResult, CommandError};
use crate::{Console, Output, registry};
use aurum_rpc_api as api;
use serde_json::{Value, json};

impl Console {
    /// A chain status or group lifecycle command.
    pub(crate) fn chain(&mut self, name: &str, words: &[String]) -> CmdResult<Output> {
        match name {
            "getLatestBlock" => {
                let number = self.native(api::GET_BLOCK_NUMBER, vec![])?;
                let header_only = flag(words.first());
                let block = self.native(
                    api::GET_BLOCK_BY_NUMBER,
                    vec![number, json!(header_only), json!(true)],
                )?;
                Ok(Output::Json(block))
            }
            "getBlockByNumber" => {
                let n = block_number(&words[0])?;
                let header_only = flag(words.get(1));
                let block = self.native(
                    api::GET_BLOCK_BY_NUMBER,
                    vec![json!(n), json!(header_only), json!(true)],
                )?;
                found(block, format!("no block {n} yet"), "run getBlockNumber for the latest")
            }
            "getBlockHeaderByNumber" => {
                let n = block_number(&words[0])?;
                let block = self
                    .native(api::GET_BLOCK_BY_NUMBER, vec![json!(n), json!(true), json!(true)])?;
                found(block, format!("no block {n} yet"), "run getBlockNumber for the latest")
            }
            "getBlockByHash" => {
                let hash = hash_arg(&words[0])?;
                let header_only = flag(words.get(1));
                let block = self.native(
                    api::GET_BLOCK_BY_HASH,
                    vec![json!(hash), json!(header_only), json!(true)],
                )?;
                found(block, format!("no block with hash {hash}"), "check the hash")
            }
            "getBlockHashByNumber" => {
                let n = block_number(&words[0])?;
                let hash = self.native(api::GET_BLOCK_HASH_BY_NUMBER, vec![json!(n)])?;
                found(hash, format!("no block {n} yet"), "run getBlockNumber for the latest")
            }
            "getTransaction"
            | "getTransactionByHashWithProof"
            | "getTransactionReceiptByHashWithProof" => {
                let hash = hash_arg(&words[0])?;
                let v = self.native(name, vec![json!(hash)])?;
                found(
                    v,
                    format!("no transaction {hash}"),
                    "check the hash (a pending one has no receipt)",
                )
            }
            "getTransactionReceipt" => {
                let hash = hash_arg(&words[0])?;
                let mut receipt = self.native(api::GET_TRANSACTION_RECEIPT, vec![json!(hash)])?;
                if receipt.is_null() {
                    return Err(CommandError::new(format!("no receipt for {hash} (yet)"))
                        .next("a transaction has a receipt once its block is final; try again"));
                }
                let decoded = self.decode_receipt_logs(&receipt);
                if !decoded.is_empty() {
                    receipt["decodedLogs"] = json!(decoded);
                }
                Ok(Output::Json(receipt))
            }
            "getCode" => {
                let address = self.resolve_address(None, &words[0])?;
                Ok(Output::Json(self.native(api::GET_CODE, vec![json!(address)])?))
            }
            "listSystemConfigs" => {
                let mut rows = Vec::new();
                for key in registry::CONFIG_KEYS {
                    // A key this chain does not have answers null or an error: skip it.
                    if let Ok(v) = self.native(api::GET_SYSTEM_CONFIG_BY_KEY, vec![json!(key)])
                        && !v.is_null()
                    {
                        rows.push(vec![
                            key.to_string(),
                            scalar(&v["value"]),
                            scalar(&v["enableNumber"]),
                        ]);
                    }
                }
                Ok(Output::table(&["key", "value", "enableNumber"], rows))
            }
            "getSystemConfigByKey" => {
                let v = self.native(api::GET_SYSTEM_CONFIG_BY_KEY, vec![json!(words[0])])?;
                found(
                    v,
                    format!("no system config {}", words[0]),
                    "run listSystemConfigs for the keys",
                )
            }
            "getSealerList" => {
                let v = self.native(api::GET_SEALER_LIST, vec![])?;
                let rows = list(&v)
                    .iter()
                    .map(|s| vec![scalar(&s["nodeId"]), scalar(&s["weight"])])
                    .collect();
                Ok(Output::table(&["nodeId", "weight"], rows))
            }
            "getObserverList" => {
                let v = self.native(api::GET_OBSERVER_LIST, vec![])?;
                Ok(Output::table(&["nodeId"], list(&v).iter().map(|n| vec![scalar(n)]).collect()))
            }
            "getGroupList" => {
                let v = self.raw(api::GET_GROUP_LIST, json!([]))?;
                Ok(Output::table(&["group"], list(&v).iter().map(|g| vec![scalar(g)]).collect()))
            }
            // getPbftView, getConsensusStatus, getSyncStatus are not in the node's catalogue
            // yet: asking shows whether this node serves them.
            "getPbftView" | "getConsensusStatus" | "getSyncStatus" => {
                Ok(Output::Json(self.native(name, vec![])?))
            }
            "generateGroup" => {
                let text = std::fs::read_to_string(&words[0]).map_err(|e| {
                    CommandError::new(format!("cannot read the genesis file {}: {e}", words[0]))
                        .next("give the path of a genesis.json")
                })?;
                let genesis: Value = serde_json::from_str(&text).map_err(|e| {
                    CommandError::new(format!("{} is not JSON: {e}", words[0]))
                        .next("give the genesis.json that build-chain wrote")
                })?;
                Ok(Output::Json(self.raw(api::GENERATE_GROUP, json!([genesis]))?))
            }
            _ => self.catalogue(name, words),
        }
    }

    /// Any other method of the catalogue, its arguments passed as strings.
    fn catalogue(&mut self, name: &str, words: &[String]) -> CmdResult<Output> {
        let Some(method) = api::method(name) else {
            return Err(CommandError::new(format!("{name} has no RPC method"))
                .next("type help to list the commands"));
        };
        let args: Vec<Value> = words.iter().take(method.params.len()).map(|w| json!(w)).collect();
        let v = match method.scope {
            api::Scope::Group => self.native(name, args)?,
            _ => self.raw(name, Value::Array(args))?,
        };
        Ok(Output::Json(v))
    }

    pub(crate) fn native(&mut self, method: &str, rest: Vec<Value>) -> CmdResult<Value> {
        let session = &mut self.session;
        self.runtime.block_on(session.native(method, rest))
    }

    pub(crate) fn raw(&mut self, method: &str, params: Value) -> CmdResult<Value> {
        let session = &mut self.session;
        self.runtime.block_on(session.raw(method, params))
    }
}

/// `true` (or the old spelling `onlyHeader`) as the optional flag.
fn flag(word: Option<&String>) -> bool {
    word.is_some_and(|w| w == "true" || w == "onlyHeader")
}

fn found(v: Value, missing: String, next: &str) -> CmdResult<Output> {
    if v.is_null() { Err(CommandError::new(missing).next(next)) } else { Ok(Output::Json(v)) }
}

pub(crate) fn block_number(word: &str) -> CmdResult<u64> {
    let parsed = match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    };
    parsed.ok_or_else(|| {
        CommandError::new(format!("'{word}' is not a block number"))
            .next("give a number such as 12 or 0xc")
    })
}

fn hash_arg(word: &str) -> CmdResult<alloy_primitives::B256> {
    word.parse().map_err(|_| {
        CommandError::new(format!("'{word}' is not a hash"))
            .next("give 0x followed by 64 hex digits")
    })
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// A JSON scalar without quotes.
pub(crate) fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_before_sending() {
        assert_eq!(block_number("12").unwrap(), 12);
        assert_eq!(block_number("0xc").unwrap(), 12);
        assert!(block_number("x").unwrap_err().to_string().contains("give a number"));
        assert!(hash_arg("0x12").is_err());
        assert!(flag(Some(&"true".to_string())) && !flag(None));
        assert_eq!(scalar(&json!("a")), "a");
        assert_eq!(scalar(&json!(3)), "3");
    }
}
