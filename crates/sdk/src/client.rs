//! The JSON-RPC client and the typed wrappers of the native read methods.

use crate::error::{Result, RpcError, SdkError};
use crate::types::{
    Block, BlockDetail, CallRequest, CallResult, GroupInfo, ReceiptWithProof, RpcBlock, RpcReceipt,
    RpcTx, Sealer, SystemConfig, TotalTxCount, TxWithProof,
};
use alloy_primitives::{Address, B256, Bytes};
use aurum_crypto::{CryptoSuite, KeyPair, SuiteKind, suite};
use aurum_rpc_api as api;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long one HTTP request may take before it counts as a transport failure.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`Client::send_and_wait`] and the contract helpers wait for a receipt.
pub const DEFAULT_RECEIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of one group of an Aurum node. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    group: String,
    info: GroupInfo,
    suite: Arc<dyn CryptoSuite>,
    next_id: Arc<AtomicU64>,
    pub(crate) receipt_timeout: Duration,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    result: Value,
    #[serde(default)]
    error: Option<RpcError>,
}

impl Client {
    /// Connects to the node at `url` (e.g. `http://127.0.0.1:20200`) for `group`, learning
    /// the group's chain id, crypto suite and Ethereum chain id with `getGroupInfo`.
    pub async fn connect(url: impl Into<String>, group: impl Into<String>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(DEFAULT_HTTP_TIMEOUT)
            .build()
            .map_err(|source| SdkError::Transport { method: "connect".into(), source })?;
        Self::connect_with(http, url, group).await
    }

    /// [`connect`](Self::connect) with a caller-configured HTTP client (timeouts, proxies).
    pub async fn connect_with(
        http: reqwest::Client,
        url: impl Into<String>,
        group: impl Into<String>,
    ) -> Result<Self> {
        let url = url.into();
        let group = group.into();
        let info: GroupInfo =
            request_with(&http, &url, &AtomicU64::new(1), api::GET_GROUP_INFO, json!([group]))
                .await?;
        if info.group_id != group {
            return Err(SdkError::bad_response(
                api::GET_GROUP_INFO,
                format!("asked for group {group:?}, got {:?}", info.group_id),
            ));
        }
        let kind = info.suite_kind().ok_or_else(|| SdkError::UnknownCrypto(info.crypto.clone()))?;
        Ok(Client {
            http,
            url,
            group,
            info,
            suite: suite(kind),
            next_id: Arc::new(AtomicU64::new(2)),
            receipt_timeout: DEFAULT_RECEIPT_TIMEOUT,
        })
    }

    /// Sets how long [`send_and_wait`](Self::send_and_wait), [`deploy`](Self::deploy) and
    /// [`send`](Self::send) wait for a receipt.
    pub fn with_receipt_timeout(mut self, timeout: Duration) -> Self {
        self.receipt_timeout = timeout;
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }
    pub fn group(&self) -> &str {
        &self.group
    }
    /// The native chain id (as `getGroupInfo` reported it at connect time).
    pub fn chain_id(&self) -> &str {
        &self.info.chain_id
    }
    /// The group's Ethereum chain id (EIP-155).
    pub fn web3_chain_id(&self) -> u64 {
        self.info.web3_chain_id
    }
    /// The group info as of connect time; [`group_info`](Self::group_info) fetches it anew.
    pub fn info(&self) -> &GroupInfo {
        &self.info
    }
    /// The chain's crypto suite: hashes, signatures, addresses.
    pub fn suite(&self) -> &dyn CryptoSuite {
        &*self.suite
    }
    pub fn suite_kind(&self) -> SuiteKind {
        self.suite.kind()
    }
    /// A fresh random key of the chain's suite.
    pub fn generate_key(&self) -> KeyPair {
        KeyPair::generate(self.suite_kind())
    }

    /// Calls any JSON-RPC method with `params` (normally a JSON array) and decodes the
    /// result. A JSON-RPC error answer becomes [`SdkError::Rpc`].
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        params: impl serde::Serialize,
    ) -> Result<T> {
        request_with(&self.http, &self.url, &self.next_id, method, params).await
    }

    /// A native method: the group goes first, then `rest`.
    async fn native<T: DeserializeOwned>(&self, method: &str, rest: Vec<Value>) -> Result<T> {
        let mut params = Vec::with_capacity(rest.len() + 1);
        params.push(Value::String(self.group.clone()));
        params.extend(rest);
        self.request(method, params).await
    }

    pub async fn group_list(&self) -> Result<Vec<String>> {
        self.request(api::GET_GROUP_LIST, json!([])).await
    }
    pub async fn group_info(&self) -> Result<GroupInfo> {
        self.native(api::GET_GROUP_INFO, vec![]).await
    }
    /// The latest final block number.
    pub async fn block_number(&self) -> Result<u64> {
        let v: Value = self.native(api::GET_BLOCK_NUMBER, vec![]).await?;
        crate::de::value_to_u64(&v).map_err(|e| SdkError::bad_response(api::GET_BLOCK_NUMBER, e))
    }

    /// The block as served, unchecked; see [`block_by_number`](Self::block_by_number).
    pub async fn raw_block_by_number(
        &self,
        number: u64,
        detail: BlockDetail,
    ) -> Result<Option<RpcBlock>> {
        let (only_header, only_hash) = detail.flags();
        self.native(
            api::GET_BLOCK_BY_NUMBER,
            vec![json!(number), json!(only_header), json!(only_hash)],
        )
        .await
    }

    /// The block at `number`, its header decoded from `headerRaw` and checked to hash to the
    /// served hash. None if the chain is not that high yet.
    pub async fn block_by_number(&self, number: u64, detail: BlockDetail) -> Result<Option<Block>> {
        let Some(raw) = self.raw_block_by_number(number, detail).await? else {
            return Ok(None);
        };
        let block = raw.verify(self.suite())?;
        if block.header.number != number {
            return Err(SdkError::bad_response(
                api::GET_BLOCK_BY_NUMBER,
                format!("asked for block {number}, got block {}", block.header.number),
            ));
        }
        Ok(Some(block))
    }

    /// The block with `hash`, checked like [`block_by_number`](Self::block_by_number).
    pub async fn block_by_hash(&self, hash: B256, detail: BlockDetail) -> Result<Option<Block>> {
        let (only_header, only_hash) = detail.flags();
        let raw: Option<RpcBlock> = self
            .native(api::GET_BLOCK_BY_HASH, vec![json!(hash), json!(only_header), json!(only_hash)])
            .await?;
        let Some(raw) = raw else { return Ok(None) };
        if raw.hash != hash {
            return Err(SdkError::bad_response(
                api::GET_BLOCK_BY_HASH,
                format!("asked for block {hash}, got block {}", raw.hash),
            ));
        }
        Ok(Some(raw.verify(self.suite())?))
    }

    pub async fn block_hash_by_number(&self, number: u64) -> Result<Option<B256>> {
        self.native(api::GET_BLOCK_HASH_BY_NUMBER, vec![json!(number)]).await
    }
    /// A transaction by hash (pending ones too, without block fields), or None.
    pub async fn transaction(&self, hash: B256) -> Result<Option<RpcTx>> {
        self.native(api::GET_TRANSACTION, vec![json!(hash)]).await
    }
    /// The receipt of a transaction in a final block, or None (not yet, or unknown).
    pub async fn receipt(&self, hash: B256) -> Result<Option<RpcReceipt>> {
        self.native(api::GET_TRANSACTION_RECEIPT, vec![json!(hash)]).await
    }
    /// The code at `address` in the latest block (empty for accounts without code).
    pub async fn code(&self, address: Address) -> Result<Bytes> {
        self.native(api::GET_CODE, vec![json!(address)]).await
    }
    pub async fn code_at(&self, address: Address, block: u64) -> Result<Bytes> {
        self.native(api::GET_CODE, vec![json!(address), json!(block)]).await
    }
    pub async fn system_config(&self, key: &str) -> Result<Option<SystemConfig>> {
        self.native(api::GET_SYSTEM_CONFIG_BY_KEY, vec![json!(key)]).await
    }
    pub async fn total_transaction_count(&self) -> Result<TotalTxCount> {
        self.native(api::GET_TOTAL_TRANSACTION_COUNT, vec![]).await
    }
    /// Transactions waiting in the node's pool.
    pub async fn pending_tx_size(&self) -> Result<u64> {
        let v: Value = self.native(api::GET_PENDING_TX_SIZE, vec![]).await?;
        crate::de::value_to_u64(&v).map_err(|e| SdkError::bad_response(api::GET_PENDING_TX_SIZE, e))
    }
    pub async fn sealer_list(&self) -> Result<Vec<Sealer>> {
        self.native(api::GET_SEALER_LIST, vec![]).await
    }
    /// Node ids of the observers.
    pub async fn observer_list(&self) -> Result<Vec<String>> {
        self.native(api::GET_OBSERVER_LIST, vec![]).await
    }
    /// The transaction with its Merkle proof, unchecked; see
    /// [`verify_transaction_proof`](Self::verify_transaction_proof).
    pub async fn transaction_with_proof(&self, hash: B256) -> Result<Option<TxWithProof>> {
        self.native(api::GET_TRANSACTION_BY_HASH_WITH_PROOF, vec![json!(hash)]).await
    }
    /// The receipt with its Merkle proof, unchecked; see
    /// [`verify_receipt_proof`](Self::verify_receipt_proof).
    pub async fn receipt_with_proof(&self, hash: B256) -> Result<Option<ReceiptWithProof>> {
        self.native(api::GET_TRANSACTION_RECEIPT_BY_HASH_WITH_PROOF, vec![json!(hash)]).await
    }
    /// The native `call`: executes read-only and reports the status instead of failing.
    pub async fn call_raw(&self, req: &CallRequest) -> Result<CallResult> {
        self.native(api::CALL, vec![json!(req)]).await
    }
    /// `sendTransaction` with already encoded bytes (`Transaction::encode()`); returns the
    /// hash the node computed.
    pub async fn send_raw_transaction(&self, raw: &[u8]) -> Result<B256> {
        self.native(api::SEND_TRANSACTION, vec![json!(format!("0x{}", hex::encode(raw)))]).await
    }
}

async fn request_with<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    next_id: &AtomicU64,
    method: &str,
    params: impl serde::Serialize,
) -> Result<T> {
    let id = next_id.fetch_add(1, Ordering::Relaxed);
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let transport = |source| SdkError::Transport { method: method.to_owned(), source };
    let response = http.post(url).json(&body).send().await.map_err(transport)?;
    let status = response.status();
    let text = response.text().await.map_err(transport)?;
    // A JSON-RPC answer may come with a non-200 status (413 for an oversized body): the
    // error object says more than the status, so read it first.
    let parsed: Response = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) if status.is_success() => {
            return Err(SdkError::bad_response(method, format!("not a JSON-RPC answer: {e}")));
        }
        Err(_) => {
            let mut body = text;
            body.truncate(body.floor_char_boundary(200));
            return Err(SdkError::Http {
                method: method.to_owned(),
                status: status.as_u16(),
                body,
            });
        }
    };
    if let Some(error) = parsed.error {
        return Err(SdkError::Rpc { method: method.to_owned(), error });
    }
    serde_json::from_value(parsed.result)
        .map_err(|e| SdkError::bad_response(method, format!("cannot decode the result: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::ProofError;
    use crate::test_support::{Reply, chain, group_info, mock_node, ok};

    async fn with_info(info: Value) -> Result<Client> {
        let url = mock_node(move |method, _| match method {
            "getGroupInfo" => Reply::Result(info.clone()),
            _ => Reply::Error(json!({"code": -32601, "message": "method not found"})),
        })
        .await;
        Client::connect(url, "group0").await
    }

    #[tokio::test]
    async fn connect_learns_the_group() {
        for kind in SuiteKind::ALL {
            let client = with_info(group_info(kind)).await.unwrap();
            assert_eq!(client.chain_id(), "chain0");
            assert_eq!(client.group(), "group0");
            assert_eq!(client.web3_chain_id(), 20200);
            assert_eq!(client.suite_kind(), kind);
            assert_eq!(client.generate_key().kind, kind);
        }
    }

    #[tokio::test]
    async fn connect_refuses_what_it_cannot_serve() {
        let mut info = group_info(SuiteKind::Sm2Sm3);
        info["crypto"] = json!("ed25519");
        assert!(matches!(with_info(info).await, Err(SdkError::UnknownCrypto(c)) if c == "ed25519"));
        let mut info = group_info(SuiteKind::Sm2Sm3);
        info["groupId"] = json!("group1");
        assert!(matches!(with_info(info).await, Err(SdkError::BadResponse { .. })));

        let url = mock_node(|_, params| {
            Reply::Error(
                json!({"code": -32001, "message": "unknown group", "data": {"group": params[0]}}),
            )
        })
        .await;
        let err = Client::connect(url, "nope").await.unwrap_err();
        let rpc = err.rpc_error().unwrap();
        assert_eq!(rpc.code, crate::CODE_UNKNOWN_GROUP);
        assert_eq!(rpc.data, Some(json!({"group": "nope"})));
        assert!(err.to_string().contains("unknown group"), "{err}");

        // Nothing listens on a port just released.
        let port =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let err = Client::connect(format!("http://{port}"), "group0").await.unwrap_err();
        assert!(matches!(err, SdkError::Transport { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn answers_outside_the_contract_are_typed() {
        let url = mock_node(|method, _| match method {
            "getGroupInfo" => Reply::Result(group_info(SuiteKind::Secp256k1Keccak)),
            "tooBig" => Reply::Http(
                413,
                json!({"jsonrpc": "2.0", "id": null,
                       "error": {"code": -32600, "message": "body too large"}})
                .to_string(),
            ),
            "crash" => Reply::Http(500, "internal".into()),
            "garbage" => Reply::Http(200, "<html>".into()),
            "getBlockNumber" => Reply::Result(json!("0x1f")),
            "getPendingTxSize" => Reply::Result(json!({"size": 1})),
            "getGroupList" => Reply::Result(json!(["group0", "group1"])),
            _ => {
                Reply::Error(json!({"code": -32601, "message": "method not found", "data": method}))
            }
        })
        .await;
        let client = Client::connect(url, "group0").await.unwrap();
        let err = client.request::<Value>("tooBig", json!([])).await.unwrap_err();
        assert_eq!(err.rpc_error().map(|e| e.code), Some(-32600));
        let err = client.request::<Value>("crash", json!([])).await.unwrap_err();
        assert!(matches!(err, SdkError::Http { status: 500, .. }), "{err:?}");
        let err = client.request::<Value>("garbage", json!([])).await.unwrap_err();
        assert!(matches!(err, SdkError::BadResponse { .. }), "{err:?}");
        let err = client.request::<Value>("nope", json!([])).await.unwrap_err();
        assert_eq!(err.rpc_error().unwrap().data, Some(json!("nope")));
        assert_eq!(client.block_number().await.unwrap(), 31);
        assert!(matches!(client.pending_tx_size().await, Err(SdkError::BadResponse { .. })));
        assert_eq!(client.group_list().await.unwrap(), vec!["group0", "group1"]);
        assert!(matches!(client.sealer_list().await, Err(SdkError::Rpc { .. })));
        // A result of the wrong shape is a bad response, not a panic.
        assert!(matches!(
            client.request::<Vec<u64>>("getGroupList", json!([])).await,
            Err(SdkError::BadResponse { .. })
        ));
    }

    #[tokio::test]
    async fn blocks_are_checked_against_their_hash() {
        let c = chain(SuiteKind::Sm2Sm3, 4);
        let (info, good) = (c.group_info(), c.rpc_block());
        let mut bad = c.rpc_block();
        bad.state_root = B256::ZERO;
        let hash = c.hash;
        let url = mock_node(move |method, params| match (method, params.get(1)) {
            ("getGroupInfo", _) => Reply::Result(info.clone()),
            ("getBlockByNumber", Some(n)) if *n == json!(7) => ok(&good),
            ("getBlockByNumber", Some(n)) if *n == json!(8) => ok(&good), // wrong block
            ("getBlockByNumber", Some(n)) if *n == json!(9) => ok(&bad),
            ("getBlockByHash", Some(h)) if *h == json!(hash) => ok(&good),
            ("getBlockByHash", _) => ok(&good),
            _ => Reply::Result(Value::Null),
        })
        .await;
        let client = Client::connect(url, "group0").await.unwrap();
        let block = client.block_by_number(7, BlockDetail::Header).await.unwrap().unwrap();
        assert_eq!(block.header, c.header);
        assert_eq!(block.signatures.len(), 1);
        assert_eq!(client.block_by_number(100, BlockDetail::Header).await.unwrap(), None);
        assert!(matches!(
            client.block_by_number(8, BlockDetail::Header).await,
            Err(SdkError::BadResponse { .. })
        ));
        assert!(matches!(
            client.block_by_number(9, BlockDetail::Header).await,
            Err(SdkError::Proof(ProofError::HeaderField { field: "stateRoot", .. }))
        ));
        assert_eq!(
            client.block_by_hash(hash, BlockDetail::TxHashes).await.unwrap().unwrap().hash,
            hash
        );
        assert!(matches!(
            client.block_by_hash(B256::ZERO, BlockDetail::TxHashes).await,
            Err(SdkError::BadResponse { .. })
        ));
    }
}
