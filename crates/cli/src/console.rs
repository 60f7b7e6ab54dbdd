//! `aurum console -c "<command>"`: one query per invocation, JSON on stdout, for scripts.

use anyhow::{Context, bail};
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

/// Methods that work without the group being served (group lifecycle, lists).
const NODE_METHODS: &[&str] = &[
    "getGroupList",
    "generateGroup",
    "startGroup",
    "stopGroup",
    "removeGroup",
    "recoverGroup",
    "getGroupStatus",
];

/// The JSON-RPC call a console command stands for.
fn to_request(group: &str, line: &str) -> anyhow::Result<(String, Value)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&cmd, args)) = words.split_first() else { bail!("empty command; {HELP}") };
    let need = |n: usize| -> anyhow::Result<()> {
        if args.len() < n {
            bail!("{cmd} needs {n} argument(s); {HELP}");
        }
        Ok(())
    };
    let params = match cmd {
        "getGroupList" | "getGroupStatus" => json!([]),
        "generateGroup" => {
            need(1)?;
            let text = std::fs::read_to_string(args[0])
                .with_context(|| format!("reading the genesis file {}", args[0]))?;
            let genesis: Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", args[0]))?;
            json!([genesis])
        }
        "startGroup" | "stopGroup" | "removeGroup" | "recoverGroup" => {
            need(1)?;
            json!([args[0]])
        }
        "getBlockNumber"
        | "getSealerList"
        | "getObserverList"
        | "getGroupInfo"
        | "getTotalTransactionCount"
        | "getGroupPeers"
        | "getGroupNodeInfo"
        | "getPendingTxSize" => json!([group]),
        "getBlockByNumber" => {
            need(1)?;
            let n: u64 =
                args[0].parse().with_context(|| format!("'{}' is not a block number", args[0]))?;
            let only_header = args.get(1).is_some_and(|a| *a == "true" || *a == "onlyHeader");
            json!([group, n, only_header, true])
        }
        "getBlockByHash" => {
            need(1)?;
            json!([group, args[0], false, true])
        }
        "getTransaction"
        | "getTransactionReceipt"
        | "getSystemConfigByKey"
        | "getCode"
        | "getBlockHashByNumber"
        | "getTransactionByHashWithProof"
        | "getTransactionReceiptByHashWithProof" => {
            need(1)?;
            let arg: Value = match args[0].parse::<u64>() {
                Ok(n) if cmd == "getBlockHashByNumber" => json!(n),
                _ => json!(args[0]),
            };
            json!([group, arg])
        }
        _ => bail!("unknown command '{cmd}'; {HELP}"),
    };
    Ok((cmd.to_string(), params))
}

pub fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    let (method, params) = to_request(&args.group, &args.command)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let value = if NODE_METHODS.contains(&method.as_str()) {
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
