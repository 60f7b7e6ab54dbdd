//! Every console command once: its name (the reference console's), usage, what it does and an
//! example. Help, "did you mean", argument-count checks and tab completion all read this table.

/// What kind of value an argument takes, so completion offers the right names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Nothing to complete (numbers, hashes, free text).
    Free,
    /// A command name (for `help`).
    Command,
    /// An account name in the accounts folder.
    Account,
    /// A contract name (contracts folder) or artifact path.
    Contract,
    /// An address the console deployed or registered.
    Address,
    /// A method of the contract named earlier on the line.
    Method,
    /// A group id.
    Group,
    /// A system config key.
    ConfigKey,
}

/// One console command.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    /// Arguments after the name; `[x]` optional, `x...` any number.
    pub usage: &'static str,
    pub about: &'static str,
    pub example: &'static str,
    /// Fewest and most arguments (`usize::MAX`: open ended).
    pub min: usize,
    pub max: usize,
    /// The kind of each positional argument, for completion.
    pub args: &'static [ArgKind],
}

use ArgKind::*;

const MANY: usize = usize::MAX;

macro_rules! spec {
    ($name:literal, $usage:literal, $min:expr, $max:expr, [$($k:ident),*], $about:literal, $example:literal) => {
        Spec { name: $name, usage: $usage, about: $about, example: $example, min: $min, max: $max, args: &[$($k),*] }
    };
}

/// The commands, grouped as `help` lists them.
pub const COMMANDS: &[Spec] = &[
    // Basics
    spec!("help", "[command]", 0, 1, [Command], "list the commands, or explain one", "help deploy"),
    spec!("quit", "", 0, 0, [], "leave the console (also exit, Ctrl-D)", "quit"),
    spec!("exit", "", 0, 0, [], "leave the console (also quit, Ctrl-D)", "exit"),
    spec!(
        "switch",
        "group|account name",
        1,
        2,
        [Free, Group],
        "use another group or another loaded account",
        "switch group0"
    ),
    // Chain status
    spec!("getBlockNumber", "", 0, 0, [], "the latest block number", "getBlockNumber"),
    spec!(
        "getLatestBlock",
        "[true]",
        0,
        1,
        [Free],
        "the latest block; true lists full transactions",
        "getLatestBlock"
    ),
    spec!(
        "getBlockByNumber",
        "number [true]",
        1,
        2,
        [Free, Free],
        "a block by number; true lists full transactions",
        "getBlockByNumber 1 true"
    ),
    spec!(
        "getBlockHeaderByNumber",
        "number",
        1,
        1,
        [Free],
        "a block header by number",
        "getBlockHeaderByNumber 1"
    ),
    spec!(
        "getBlockByHash",
        "hash [true]",
        1,
        2,
        [Free, Free],
        "a block by hash",
        "getBlockByHash 0x3f…"
    ),
    spec!(
        "getBlockHashByNumber",
        "number",
        1,
        1,
        [Free],
        "the hash of a block",
        "getBlockHashByNumber 1"
    ),
    spec!("getTransaction", "hash", 1, 1, [Free], "a transaction by hash", "getTransaction 0x9a…"),
    spec!(
        "getTransactionReceipt",
        "hash",
        1,
        1,
        [Free],
        "a receipt, its logs decoded with known ABIs",
        "getTransactionReceipt 0x9a…"
    ),
    spec!(
        "getTransactionByHashWithProof",
        "hash",
        1,
        1,
        [Free],
        "a transaction and its Merkle proof",
        "getTransactionByHashWithProof 0x9a…"
    ),
    spec!(
        "getTransactionReceiptByHashWithProof",
        "hash",
        1,
        1,
        [Free],
        "a receipt and its Merkle proof",
        "getTransactionReceiptByHashWithProof 0x9a…"
    ),
    spec!("getCode", "address", 1, 1, [Address], "the code at an address", "getCode 0x5fbd…"),
    spec!(
        "getSystemConfigByKey",
        "key",
        1,
        1,
        [ConfigKey],
        "one system config value",
        "getSystemConfigByKey tx_count_limit"
    ),
    spec!(
        "listSystemConfigs",
        "",
        0,
        0,
        [],
        "every system config key with its value",
        "listSystemConfigs"
    ),
    spec!("getSealerList", "", 0, 0, [], "the sealers and their weights", "getSealerList"),
    spec!("getObserverList", "", 0, 0, [], "the observers", "getObserverList"),
    spec!("getPbftView", "", 0, 0, [], "the PBFT view (when the node serves it)", "getPbftView"),
    spec!(
        "getConsensusStatus",
        "",
        0,
        0,
        [],
        "consensus status (when the node serves it)",
        "getConsensusStatus"
    ),
    spec!(
        "getSyncStatus",
        "",
        0,
        0,
        [],
        "block sync status (when the node serves it)",
        "getSyncStatus"
    ),
    spec!("getPendingTxSize", "", 0, 0, [], "transactions waiting in the pool", "getPendingTxSize"),
    spec!(
        "getTotalTransactionCount",
        "",
        0,
        0,
        [],
        "transactions committed so far",
        "getTotalTransactionCount"
    ),
    spec!("getPeers", "", 0, 0, [], "the node's connected peers", "getPeers"),
    spec!("getGroupPeers", "", 0, 0, [], "peers serving this group", "getGroupPeers"),
    spec!("getGroupNodeInfo", "", 0, 0, [], "this node in the group", "getGroupNodeInfo"),
    spec!("getGroupInfo", "", 0, 0, [], "chain id, crypto, genesis, sealers", "getGroupInfo"),
    spec!("getGroupList", "", 0, 0, [], "the groups the node serves", "getGroupList"),
    spec!("getGroupStats", "", 0, 0, [], "group statistics", "getGroupStats"),
    // Group lifecycle (admin listener)
    spec!(
        "generateGroup",
        "genesis.json",
        1,
        1,
        [Free],
        "create a group from a genesis file (admin URL)",
        "generateGroup group2.json"
    ),
    spec!("startGroup", "group", 1, 1, [Group], "start a group (admin URL)", "startGroup group2"),
    spec!("stopGroup", "group", 1, 1, [Group], "stop a group (admin URL)", "stopGroup group2"),
    spec!(
        "removeGroup",
        "group",
        1,
        1,
        [Group],
        "remove a stopped group (admin URL)",
        "removeGroup group2"
    ),
    spec!(
        "recoverGroup",
        "group",
        1,
        1,
        [Group],
        "recover a removed group (admin URL)",
        "recoverGroup group2"
    ),
    spec!("getGroupStatus", "", 0, 0, [], "the state of each group (admin URL)", "getGroupStatus"),
    // Accounts
    spec!(
        "newAccount",
        "[--sm] [name] [--password pw]",
        0,
        4,
        [Free],
        "create a key, save it in the accounts folder and use it",
        "newAccount alice --password s3cret"
    ),
    spec!(
        "loadAccount",
        "path|name [--password pw]",
        1,
        3,
        [Account],
        "load a key file (PEM or keystore) and use it",
        "loadAccount alice"
    ),
    spec!("listAccount", "", 0, 0, [], "the accounts in the accounts folder", "listAccount"),
    spec!(
        "getCurrentAccount",
        "",
        0,
        0,
        [],
        "the account that signs transactions",
        "getCurrentAccount"
    ),
    // Contracts
    spec!(
        "deploy",
        "Name|artifact.json|path.sol args...",
        1,
        MANY,
        [Contract],
        "deploy a contract; constructor args are parsed with its ABI",
        "deploy AurumToken \"Aurum Token\" AUR 1000000"
    ),
    spec!(
        "call",
        "Name address|latest method args...",
        3,
        MANY,
        [Contract, Address, Method],
        "call a method: a view is a read, anything else a signed transaction",
        "call AurumToken latest transfer 0x1111111111111111111111111111111111111111 10"
    ),
    spec!(
        "listAbi",
        "Name|address",
        1,
        1,
        [Contract],
        "the methods and events of a contract",
        "listAbi AurumToken"
    ),
    spec!(
        "getDeployLog",
        "[n]",
        0,
        1,
        [Free],
        "the last n deployments (at most 100)",
        "getDeployLog 5"
    ),
    spec!(
        "listDeployContractAddress",
        "Name [n]",
        1,
        2,
        [Contract, Free],
        "addresses a contract was deployed at, newest first",
        "listDeployContractAddress AurumToken"
    ),
    spec!(
        "registerContract",
        "Name address",
        2,
        2,
        [Contract, Free],
        "name a contract deployed elsewhere so later commands can use it",
        "registerContract AurumToken 0x5fbd…"
    ),
    // Node administration (precompiles)
    spec!(
        "addSealer",
        "nodeId weight",
        2,
        2,
        [Free, Free],
        "make a node a sealer with a weight",
        "addSealer 0x1a2b… 1"
    ),
    spec!("addObserver", "nodeId", 1, 1, [Free], "make a node an observer", "addObserver 0x1a2b…"),
    spec!(
        "removeNode",
        "nodeId",
        1,
        1,
        [Free],
        "take a node out of the group",
        "removeNode 0x1a2b…"
    ),
    spec!(
        "setConsensusWeight",
        "nodeId weight",
        2,
        2,
        [Free, Free],
        "change a sealer's weight",
        "setConsensusWeight 0x1a2b… 2"
    ),
    spec!(
        "setSystemConfigByKey",
        "key value",
        2,
        2,
        [ConfigKey, Free],
        "change a system config value",
        "setSystemConfigByKey tx_count_limit 2000"
    ),
    // Tables
    spec!(
        "create",
        "table t(k varchar, v varchar, primary key(k))",
        1,
        MANY,
        [],
        "create a table (SQL)",
        "create table t_demo(name varchar, age varchar, primary key(name))"
    ),
    spec!(
        "alter",
        "table t add c varchar",
        1,
        MANY,
        [],
        "add a column (SQL)",
        "alter table t_demo add city varchar"
    ),
    spec!("desc", "t", 1, 1, [], "a table's key and columns", "desc t_demo"),
    spec!(
        "insert",
        "into t (k, v) values (x, y)",
        1,
        MANY,
        [],
        "insert a row (SQL)",
        "insert into t_demo (name, age) values (fred, 20)"
    ),
    spec!(
        "select",
        "*|cols from t where k op v [limit [off,]n]",
        1,
        MANY,
        [],
        "query rows by key (SQL)",
        "select * from t_demo where name = fred"
    ),
    spec!(
        "update",
        "t set c = v where k = x",
        1,
        MANY,
        [],
        "change rows by key (SQL)",
        "update t_demo set age = 21 where name = fred"
    ),
    spec!(
        "delete",
        "from t where k = x",
        1,
        MANY,
        [],
        "remove rows by key (SQL)",
        "delete from t_demo where name = fred"
    ),
];

/// The system config keys the reference platform defines.
pub const CONFIG_KEYS: &[&str] = &[
    "tx_count_limit",
    "tx_gas_limit",
    "consensus_leader_period",
    "compatibility_version",
    "auth_check_status",
    "tx_gas_price",
    "web3_chain_id",
];

/// Whether `name` is a SQL statement keyword (the whole line goes to the SQL parser).
pub fn is_sql(name: &str) -> bool {
    matches!(name, "create" | "alter" | "desc" | "insert" | "select" | "update" | "delete")
}

/// The command called `name`.
pub fn find(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|s| s.name == name)
}

/// Up to three command names close to `name` (edit distance, or a shared prefix), nearest first.
pub fn suggest(name: &str) -> Vec<&'static str> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, &'static str)> = COMMANDS
        .iter()
        .map(|s| {
            let candidate = s.name.to_lowercase();
            let distance = strsim::levenshtein(&lower, &candidate);
            let prefix = !lower.is_empty() && candidate.starts_with(&lower);
            (if prefix { 0 } else { distance }, s.name)
        })
        .filter(|(d, n)| *d <= (n.len() / 3).max(2))
        .collect();
    scored.sort();
    scored.into_iter().map(|(_, n)| n).take(3).collect()
}

/// `help <command>`: usage, what it does and an example.
pub fn explain(spec: &Spec) -> String {
    format!(
        "{name} {usage}\n  {about}\n  example: {example}",
        name = spec.name,
        usage = spec.usage,
        about = spec.about,
        example = spec.example
    )
}

/// One line per command, aligned.
pub fn overview() -> String {
    let width = COMMANDS.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out = String::from("Commands (help <command> for usage and an example):\n");
    for spec in COMMANDS {
        out.push_str(&format!("  {:width$}  {}\n", spec.name, spec.about));
    }
    out.push_str(
        "Values: numbers in decimal or 0x, strings quoted when they have spaces, arrays as [1,2].",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_examples_use_their_command() {
        let mut names: Vec<_> = COMMANDS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
        for s in COMMANDS {
            assert!(s.example.starts_with(s.name), "{}", s.name);
            assert!(s.min <= s.max, "{}", s.name);
        }
    }

    #[test]
    fn near_names_are_suggested() {
        assert_eq!(suggest("getBlockNumbr")[0], "getBlockNumber");
        assert_eq!(suggest("getsealerlist")[0], "getSealerList");
        assert!(suggest("deploi").contains(&"deploy"));
        assert!(suggest("zzzzzzzzzzzz").is_empty());
        assert!(explain(find("deploy").unwrap()).contains("example: deploy AurumToken"));
    }
}
