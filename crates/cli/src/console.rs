//! `aurum console -c "<command>"`: one query per invocation, JSON on stdout, for scripts.

use anyhow::{Context, bail};
use aurum_rpc_api as api;
use clap::Args;
use serde_json::{Value, json};

#[derive(Args)]
pub struct ConsoleArgs {
    /// Node RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:20200")]
    url: String,
    /// Group to query.
    #[arg(long, default_value = "group0")]
    group: String,
    /// The command, e.g. "getBlockNumber" or "getBlockByNumber 3".
    #[arg(short = 'c', long = "command")]
    command: String,
}

const HELP: &str = "commands: getBlockNumber | getBlockByNumber <n> [onlyHeader] | \
getBlockByHash <hash> | getTransaction <hash> | getTransactionReceipt <hash> | \
getSystemConfigByKey <key> | getSealerList | getObserverList | getGroupList | getGroupInfo | \
getTotalTransactionCount | getPendingTxSize | getCode <address> | getGroupPeers | \
getGroupNodeInfo | admin (on the node's admin URL, see ready.json): generateGroup <genesis.json> | \
startGroup <group> | stopGroup <group> | removeGroup <group> | recoverGroup <group> | getGroupStatus";

/// Whether `method` works without the group being served (group lifecycle, lists).
fn is_node_method(method: &str) -> bool {
    api::method(method).is_some_and(|m| matches!(m.scope, api::Scope::Node | api::Scope::Admin))
}

/// The JSON-RPC call a console command stands for. Names and parameter counts come from
/// the method catalogue; only the typed arguments (numbers, files) are read here.
fn to_request(group: &str, line: &str) -> anyhow::Result<(String, Value)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&cmd, args)) = words.split_first() else { bail!("empty command; {HELP}") };
    let Some(method) = api::method(cmd).filter(|m| m.scope != api::Scope::Eth) else {
        bail!("unknown command '{cmd}'; {HELP}");
    };
    if args.len() < method.required() {
        bail!("{cmd} needs {} argument(s); {HELP}", method.required());
    }
    let params = match method.name {
        api::GENERATE_GROUP => {
            let text = std::fs::read_to_string(args[0])
                .with_context(|| format!("reading the genesis file {}", args[0]))?;
            let genesis: Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", args[0]))?;
            json!([genesis])
        }
        api::GET_BLOCK_BY_NUMBER => {
            let n: u64 =
                args[0].parse().with_context(|| format!("'{}' is not a block number", args[0]))?;
            let only_header = args.get(1).is_some_and(|a| *a == "true" || *a == "onlyHeader");
            json!([group, n, only_header, true])
        }
        api::GET_BLOCK_BY_HASH => json!([group, args[0], false, true]),
        api::GET_BLOCK_HASH_BY_NUMBER => {
            let arg = args[0].parse::<u64>().map_or_else(|_| json!(args[0]), |n| json!(n));
            json!([group, arg])
        }
        // Calls and raw sends need encoded arguments: the SDK builds those.
        api::CALL | api::SEND_TRANSACTION => bail!("unknown command '{cmd}'; {HELP}"),
        _ => {
            let rest = args.iter().take(method.params.len()).map(|a| json!(a));
            match method.scope {
                api::Scope::Group => std::iter::once(json!(group)).chain(rest).collect(),
                _ => rest.collect(),
            }
        }
    };
    Ok((cmd.to_string(), params))
}

pub fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    let (method, params) = to_request(&args.group, &args.command)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let value = if is_node_method(&method) {
        runtime.block_on(raw_request(&args.url, &method, params))
    } else {
        runtime
            .block_on(async {
                let client = aurum_sdk::Client::connect(&args.url, &args.group).await?;
                client.request::<Value>(&method, params).await
            })
            .map_err(anyhow::Error::from)
    }
    .with_context(|| format!("{method} on {}", args.url))?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// One JSON-RPC call without the SDK's group handshake (the group may not be served yet).
async fn raw_request(url: &str, method: &str, params: Value) -> anyhow::Result<Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let answer: Value = reqwest::Client::new().post(url).json(&body).send().await?.json().await?;
    if let Some(e) = answer.get("error") {
        bail!("{}", e["message"].as_str().unwrap_or("error"));
    }
    Ok(answer["result"].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_map_to_requests() {
        assert_eq!(
            to_request("g", "getBlockNumber").unwrap(),
            ("getBlockNumber".into(), json!(["g"]))
        );
        assert_eq!(to_request("g", "getBlockByNumber 3").unwrap().1, json!(["g", 3, false, true]));
        assert_eq!(to_request("g", "getGroupList").unwrap().1, json!([]));
        assert!(to_request("g", "getBlockByNumber x").is_err());
        assert!(to_request("g", "getTransaction").is_err());
        assert!(to_request("g", "dropTables").unwrap_err().to_string().contains("unknown command"));
    }
}
