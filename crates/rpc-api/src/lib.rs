//! The JSON-RPC method catalogue: every method name the node serves, once, with the shape of
//! its parameters. The server (`aurum-rpc`) dispatches on these constants, the SDK and the
//! console send them, so a name is spelled in one place. Dependency-free on purpose: the SDK
//! must not pull in the server.
#![forbid(unsafe_code)]

/// Who a method is for, which decides where its group comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Native method: the group is parameter 0.
    Group,
    /// Node-wide: no group parameter (lists, peers).
    Node,
    /// Group lifecycle: served on the admin listener only.
    Admin,
    /// Ethereum method: the group is the URL path.
    Eth,
}

/// One method: its name, where its group comes from, and its positional parameters after
/// the group (a trailing `?` marks an optional one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    pub name: &'static str,
    pub scope: Scope,
    pub params: &'static [&'static str],
}

impl Method {
    /// How many parameters (after the group) a call must give.
    pub fn required(&self) -> usize {
        self.params.iter().filter(|p| !p.ends_with('?')).count()
    }
}

macro_rules! catalogue {
    ($($(#[$doc:meta])* $konst:ident = $name:literal, $scope:ident, [$($p:literal),*];)*) => {
        $($(#[$doc])* pub const $konst: &str = $name;)*
        /// Every method, in the order docs/rpc.md lists them.
        pub const METHODS: &[Method] = &[
            $(Method { name: $name, scope: Scope::$scope, params: &[$($p),*] },)*
        ];
    };
}

catalogue! {
    /// `[]` → group ids.
    GET_GROUP_LIST = "getGroupList", Node, [];
    /// Connected peers of this node.
    GET_PEERS = "getPeers", Node, [];
    GET_GROUP_INFO = "getGroupInfo", Group, [];
    GET_GROUP_PEERS = "getGroupPeers", Group, [];
    GET_GROUP_NODE_INFO = "getGroupNodeInfo", Group, [];
    GET_BLOCK_NUMBER = "getBlockNumber", Group, [];
    SEND_TRANSACTION = "sendTransaction", Group, ["tx"];
    CALL = "call", Group, ["call"];
    GET_TRANSACTION = "getTransaction", Group, ["hash"];
    GET_TRANSACTION_RECEIPT = "getTransactionReceipt", Group, ["hash"];
    GET_BLOCK_BY_NUMBER = "getBlockByNumber", Group, ["number", "onlyHeader?", "onlyTxHash?"];
    GET_BLOCK_BY_HASH = "getBlockByHash", Group, ["hash", "onlyHeader?", "onlyTxHash?"];
    GET_BLOCK_HASH_BY_NUMBER = "getBlockHashByNumber", Group, ["number"];
    GET_CODE = "getCode", Group, ["address", "blockNumber?"];
    GET_SYSTEM_CONFIG_BY_KEY = "getSystemConfigByKey", Group, ["key"];
    GET_TOTAL_TRANSACTION_COUNT = "getTotalTransactionCount", Group, [];
    GET_PENDING_TX_SIZE = "getPendingTxSize", Group, [];
    GET_GROUP_STATS = "getGroupStats", Group, [];
    GET_SEALER_LIST = "getSealerList", Group, [];
    GET_OBSERVER_LIST = "getObserverList", Group, [];
    GET_TRANSACTION_BY_HASH_WITH_PROOF = "getTransactionByHashWithProof", Group, ["hash"];
    GET_TRANSACTION_RECEIPT_BY_HASH_WITH_PROOF = "getTransactionReceiptByHashWithProof", Group, ["hash"];
    /// The explorer's (served by the node, docs/metrics.md): the ABI of the code at an address.
    REGISTER_ABI = "registerAbi", Group, ["address", "abi"];
    GET_ABI = "getAbi", Group, ["address"];
    /// A tx's input, events and revert reason, decoded with the registered ABIs.
    DECODE_TRANSACTION = "decodeTransaction", Group, ["hash"];
    GENERATE_GROUP = "generateGroup", Admin, ["genesis"];
    START_GROUP = "startGroup", Admin, ["group"];
    STOP_GROUP = "stopGroup", Admin, ["group"];
    REMOVE_GROUP = "removeGroup", Admin, ["group"];
    RECOVER_GROUP = "recoverGroup", Admin, ["group"];
    GET_GROUP_STATUS = "getGroupStatus", Admin, [];
    ETH_CHAIN_ID = "eth_chainId", Eth, [];
    NET_VERSION = "net_version", Eth, [];
    NET_LISTENING = "net_listening", Eth, [];
    NET_PEER_COUNT = "net_peerCount", Eth, [];
    WEB3_CLIENT_VERSION = "web3_clientVersion", Eth, [];
    WEB3_SHA3 = "web3_sha3", Eth, ["data"];
    ETH_BLOCK_NUMBER = "eth_blockNumber", Eth, [];
    ETH_SYNCING = "eth_syncing", Eth, [];
    ETH_ACCOUNTS = "eth_accounts", Eth, [];
    ETH_GAS_PRICE = "eth_gasPrice", Eth, [];
    ETH_MAX_PRIORITY_FEE_PER_GAS = "eth_maxPriorityFeePerGas", Eth, [];
    ETH_BLOB_BASE_FEE = "eth_blobBaseFee", Eth, [];
    ETH_GET_BLOCK_BY_NUMBER = "eth_getBlockByNumber", Eth, ["block", "fullTransactions?"];
    ETH_GET_BLOCK_BY_HASH = "eth_getBlockByHash", Eth, ["hash", "fullTransactions?"];
    ETH_GET_BLOCK_TRANSACTION_COUNT_BY_NUMBER = "eth_getBlockTransactionCountByNumber", Eth, ["block"];
    ETH_GET_BLOCK_TRANSACTION_COUNT_BY_HASH = "eth_getBlockTransactionCountByHash", Eth, ["hash"];
    ETH_GET_TRANSACTION_BY_HASH = "eth_getTransactionByHash", Eth, ["hash"];
    ETH_GET_TRANSACTION_RECEIPT = "eth_getTransactionReceipt", Eth, ["hash"];
    ETH_SEND_RAW_TRANSACTION = "eth_sendRawTransaction", Eth, ["data"];
    ETH_CALL = "eth_call", Eth, ["transaction", "block?"];
    ETH_ESTIMATE_GAS = "eth_estimateGas", Eth, ["transaction", "block?"];
    ETH_FEE_HISTORY = "eth_feeHistory", Eth, ["blockCount", "newestBlock", "rewardPercentiles?"];
    ETH_GET_TRANSACTION_COUNT = "eth_getTransactionCount", Eth, ["address", "block?"];
    ETH_GET_BALANCE = "eth_getBalance", Eth, ["address", "block?"];
    ETH_GET_CODE = "eth_getCode", Eth, ["address", "block?"];
    ETH_GET_STORAGE_AT = "eth_getStorageAt", Eth, ["address", "slot", "block?"];
    ETH_GET_LOGS = "eth_getLogs", Eth, ["filter"];
    ETH_NEW_FILTER = "eth_newFilter", Eth, ["filter"];
    ETH_NEW_BLOCK_FILTER = "eth_newBlockFilter", Eth, [];
    ETH_NEW_PENDING_TRANSACTION_FILTER = "eth_newPendingTransactionFilter", Eth, [];
    ETH_GET_FILTER_CHANGES = "eth_getFilterChanges", Eth, ["filterId"];
    ETH_GET_FILTER_LOGS = "eth_getFilterLogs", Eth, ["filterId"];
    ETH_UNINSTALL_FILTER = "eth_uninstallFilter", Eth, ["filterId"];
    /// WebSocket only.
    ETH_SUBSCRIBE = "eth_subscribe", Eth, ["subscription", "options?"];
    /// WebSocket only.
    ETH_UNSUBSCRIBE = "eth_unsubscribe", Eth, ["subscriptionId"];
    /// The notification method of subscription pushes.
    ETH_SUBSCRIPTION = "eth_subscription", Eth, [];
}

/// The catalogue entry of `name`, if the node serves such a method.
pub fn method(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_scopes_follow_the_prefixes() {
        let mut names: Vec<_> = METHODS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METHODS.len());
        for m in METHODS {
            let eth = ["eth_", "net_", "web3_"].iter().any(|p| m.name.starts_with(p));
            assert_eq!(eth, m.scope == Scope::Eth, "{}", m.name);
        }
        assert_eq!(method(GET_BLOCK_BY_NUMBER).map(Method::required), Some(1));
        assert!(method("nope").is_none());
    }
}
