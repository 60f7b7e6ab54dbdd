//! The JSON-RPC contract (docs/rpc.md) against a running `aurum node`, over real HTTP and
//! WebSocket: envelope errors and limits, transaction refusals with their reasons, the
//! native flow through the SDK (receipts, blocks, proofs), reverts, subscriptions with
//! replay, an SM chain, and the console. One chain per test.

mod common;

use aurum_primitives::{SignedNativeTx, Transaction};
use aurum_sdk::proof::{verify_receipt_inclusion, verify_tx_inclusion};
use aurum_sdk::tx::{build_native_tx, sign_native_tx};
use aurum_sdk::{
    Address, B256, BlockDetail, BlockTxs, Bytes, Client, DynSolValue, JsonAbi, KeyPair, ProofError,
    RevertReason, SdkError, SuiteKind, TxRequest, U256, abi, load_artifact,
};
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How long any awaited condition may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);
const MIB: usize = 1024 * 1024;

// ---------------- HTTP helpers ----------------

/// POSTs `body`; the HTTP status, the content type and the body as JSON (Null if empty).
async fn post_raw(url: &str, body: impl Into<reqwest::Body>) -> (u16, String, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    let text = resp.text().await.expect("response body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, content_type, value)
}

/// POSTs a JSON value and requires HTTP 200; the answer (Null if none).
async fn post(url: &str, body: Value) -> Value {
    let (status, _, value) = post_raw(url, body.to_string()).await;
    assert_eq!(status, 200, "{body} -> {value}");
    value
}

/// One call with id 1; the whole response object.
async fn call(url: &str, method: &str, params: Value) -> Value {
    post(url, json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).await
}

/// The result of a call that must succeed.
async fn result(url: &str, method: &str, params: Value) -> Value {
    let v = call(url, method, params).await;
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

/// The error object of a call that must fail with `code`.
async fn error(url: &str, method: &str, params: Value, code: i64) -> Value {
    let v = call(url, method, params).await;
    assert_eq!(v["error"]["code"], code, "{method}: {v}");
    assert_eq!(v["id"], 1, "{v}");
    v["error"].clone()
}

/// `sendTransaction` of `raw` must be refused with `reason`; returns the message.
async fn refused(url: &str, raw: &[u8], reason: &str) -> String {
    let err =
        error(url, "sendTransaction", json!(["group0", format!("0x{}", hex::encode(raw))]), -32000)
            .await;
    assert_eq!(err["data"]["reason"], reason, "{err}");
    err["message"].as_str().expect("message").to_string()
}

/// Polls `eth_getTransactionReceipt` until the receipt exists.
async fn eth_receipt(url: &str, hash: &str) -> Value {
    let start = Instant::now();
    loop {
        let r = result(url, "eth_getTransactionReceipt", json!([hash])).await;
        if !r.is_null() {
            return r;
        }
        assert!(start.elapsed() < DEADLINE, "no receipt for {hash}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Starts a fresh one-node chain built with `flags`.
fn chain(tmp: &Path, flags: &[&str]) -> TestNode {
    let dir = tmp.join("chain");
    build_chain(&dir, flags);
    TestNode::start(&dir)
}

// ---------------- transactions ----------------

/// Deploys AurumToken (supply 10^24 to `key`); its ABI and the deployment.
async fn deploy_token(client: &Client, key: &KeyPair) -> (JsonAbi, aurum_sdk::Deployment) {
    let (abi, bytecode) = load_artifact(artifact("AurumToken")).unwrap();
    let args = [
        DynSolValue::String("Aurum".into()),
        DynSolValue::String("AUR".into()),
        DynSolValue::Uint(U256::from(10u64).pow(U256::from(24u64)), 256),
    ];
    let deployment = client.deploy(key, &abi, &bytecode, &args).await.unwrap();
    (abi, deployment)
}

fn transfer_input(abi: &JsonAbi, to: Address, amount: u64) -> Bytes {
    let f = abi::find_function(abi, "transfer", 2).unwrap();
    abi::encode_call(f, &[to.into(), U256::from(amount).into()]).unwrap()
}

/// The canonical encoding of `tx` with its signature replaced by zeros.
fn zero_signature(tx: &Transaction) -> Vec<u8> {
    let Transaction::Native(SignedNativeTx { data, signature }) = tx else { panic!("native") };
    let signature = Bytes::from(vec![0u8; signature.len()]);
    Transaction::Native(SignedNativeTx { data: data.clone(), signature }).encode()
}

fn rlp_header(offset: u8, len: usize) -> Vec<u8> {
    if len < 56 {
        return vec![offset + len as u8];
    }
    let be: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
    let mut out = vec![offset + 55 + be.len() as u8];
    out.extend(be);
    out
}

fn rlp_bytes(b: &[u8]) -> Vec<u8> {
    if b.len() == 1 && b[0] < 0x80 {
        return b.to_vec();
    }
    let mut out = rlp_header(0x80, b.len());
    out.extend_from_slice(b);
    out
}

fn rlp_uint(n: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = n.iter().copied().skip_while(|b| *b == 0).collect();
    rlp_bytes(&trimmed)
}

fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload = items.concat();
    let mut out = rlp_header(0xc0, payload.len());
    out.extend(payload);
    out
}

/// A legacy EIP-155 Ethereum tx (gas price 0, value 0) signed with the secp256k1 `key`.
fn eth_legacy_tx(key: &KeyPair, chain_id: u64, nonce: u64, to: Address, data: &[u8]) -> Vec<u8> {
    let fields = vec![
        rlp_uint(&nonce.to_be_bytes()),
        rlp_uint(&[]),
        rlp_uint(&100_000u64.to_be_bytes()),
        rlp_bytes(to.as_slice()),
        rlp_uint(&[]),
        rlp_bytes(data),
    ];
    let mut unsigned = fields.clone();
    unsigned.extend([rlp_uint(&chain_id.to_be_bytes()), rlp_uint(&[]), rlp_uint(&[])]);
    let digest = alloy_primitives::keccak256(rlp_list(&unsigned));
    let sig = aurum_crypto::suite(SuiteKind::Secp256k1Keccak).sign(key, &digest);
    assert_eq!(sig.len(), 65);
    let v = chain_id * 2 + 35 + u64::from(sig[64]);
    let mut signed = fields;
    signed.extend([rlp_uint(&v.to_be_bytes()), rlp_uint(&sig[..32]), rlp_uint(&sig[32..64])]);
    rlp_list(&signed)
}

// ---------------- WebSocket helper ----------------

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client that answers calls in order and keeps notifications that arrive
/// while it waits (even one that beats its subscription's answer) for `next_note`.
struct Ws {
    stream: WsStream,
    notes: Vec<Value>,
    next_id: u64,
}

impl Ws {
    async fn connect(url: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(url).await.expect("ws connect");
        Ws { stream, notes: Vec::new(), next_id: 1 }
    }

    async fn read(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(DEADLINE, self.stream.next())
                .await
                .expect("no WebSocket message within the deadline")
                .expect("WebSocket closed")
                .expect("WebSocket error");
            match msg {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected WebSocket message {other:?}"),
            }
        }
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.stream.send(Message::Text(req.to_string().into())).await.unwrap();
        loop {
            let v = self.read().await;
            if v["id"] == id {
                return v;
            }
            assert_eq!(v["method"], "eth_subscription", "unexpected message {v}");
            self.notes.push(v);
        }
    }

    async fn subscribe(&mut self, params: Value) -> String {
        let v = self.call("eth_subscribe", params.clone()).await;
        v["result"].as_str().unwrap_or_else(|| panic!("eth_subscribe {params}: {v}")).to_string()
    }

    /// The next notification of subscription `sub` (its `result`).
    async fn next_note(&mut self, sub: &str) -> Value {
        if let Some(i) = self.notes.iter().position(|n| n["params"]["subscription"] == sub) {
            return self.notes.remove(i)["params"]["result"].clone();
        }
        loop {
            let v = self.read().await;
            assert_eq!(v["method"], "eth_subscription", "unexpected message {v}");
            if v["params"]["subscription"] == sub {
                return v["params"]["result"].clone();
            }
            self.notes.push(v);
        }
    }
}

fn quantity(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a quantity: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

// ---------------- tests ----------------

#[test]
fn envelope_errors_and_limits() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &[]);
    let url = node.url();
    let url = url.as_str();
    runtime().block_on(async {
        // -32700: not JSON.
        let (status, _, v) = post_raw(url, "{\"jsonrpc\": \"2.0\", \"id\": 1,").await;
        assert_eq!(status, 200);
        assert_eq!((v["error"]["code"].clone(), v["id"].clone()), (json!(-32700), Value::Null));

        // -32600: not a 2.0 request object; the id is echoed when readable.
        for (body, id) in [
            (json!({"jsonrpc": "1.0", "id": 7, "method": "getGroupList"}), json!(7)),
            (json!({"id": 8, "method": "getGroupList"}), json!(8)),
            (json!({"jsonrpc": "2.0", "id": {}, "method": "getGroupList"}), Value::Null),
            (json!({"jsonrpc": "2.0", "id": [1], "method": "getGroupList"}), Value::Null),
            (json!({"jsonrpc": "2.0", "id": true, "method": "getGroupList"}), Value::Null),
            (json!({"jsonrpc": "2.0", "id": 9, "method": 5}), json!(9)),
            (json!({"jsonrpc": "2.0", "id": 10, "method": "getGroupList", "params": "x"}), json!(10)),
            (json!(5), Value::Null),
        ] {
            let v = post(url, body.clone()).await;
            assert_eq!(v["error"]["code"], -32600, "{body} -> {v}");
            assert_eq!(v["id"], id, "{body} -> {v}");
        }

        // -32601 names the method, native or Ethereum.
        for method in ["noSuchMethod", "eth_noSuchMethod"] {
            let err = error(url, method, json!([]), -32601).await;
            assert_eq!(err["data"]["method"], method, "{err}");
        }
        let err = error(url, "eth_subscribe", json!(["newHeads"]), -32601).await;
        assert!(err["message"].as_str().unwrap().contains("WebSocket"), "{err}");

        // -32602 names the parameter.
        for (method, params, field) in [
            ("getBlockByNumber", json!(["group0", "abc"]), "'number'"),
            ("getBlockByNumber", json!(["group0"]), "missing parameter 'number'"),
            ("getTransaction", json!(["group0", "0x1234"]), "'hash'"),
            ("getBlockNumber", json!([]), "'group'"),
            ("getBlockNumber", json!([5]), "'group'"),
            ("getCode", json!(["group0", "0xzz"]), "'address'"),
            ("call", json!(["group0", {"to": Address::ZERO, "bogus": 1}]), "'call'"),
            ("sendTransaction", json!(["group0", "0xzz"]), "'tx'"),
            ("eth_getBalance", json!(["0x12", "latest"]), "'address'"),
            ("eth_getBlockByNumber", json!(["soon"]), "'block'"),
        ] {
            let err = error(url, method, params.clone(), -32602).await;
            let message = err["message"].as_str().unwrap();
            assert!(message.contains(field), "{method} {params}: {message}");
        }
        let v = post(url, json!({"jsonrpc": "2.0", "id": 1, "method": "getGroupList", "params": {}}))
            .await;
        assert_eq!(v["error"]["code"], -32602, "{v}");

        // -32001: unknown group, as a native parameter or as the path.
        let err = error(url, "getBlockNumber", json!(["nogroup"]), -32001).await;
        assert_eq!(err["data"]["group"], "nogroup");
        let nogroup = format!("{url}/nogroup");
        let err = error(&nogroup, "eth_blockNumber", json!([]), -32001).await;
        assert_eq!(err["data"]["group"], "nogroup");
        // Native methods are served on every path; the group path serves eth_*.
        assert_eq!(result(&nogroup, "getBlockNumber", json!(["group0"])).await, 0);
        assert_eq!(result(&format!("{url}/group0"), "eth_blockNumber", json!([])).await, "0x0");

        // Batches: empty, over the limit, at the limit.
        let v = post(url, json!([])).await;
        assert_eq!(v["error"]["code"], -32600, "{v}");
        assert!(v.is_object(), "an empty batch is answered with one error: {v}");
        let batch = |n: usize| -> Value {
            Value::Array(
                (0..n)
                    .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId"}))
                    .collect(),
            )
        };
        let v = post(url, batch(1001)).await;
        assert_eq!(v["error"]["code"], -32600, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("1000"), "{v}");
        let v = post(url, batch(1000)).await;
        let answers = v.as_array().expect("batch answer");
        assert_eq!(answers.len(), 1000);
        for (i, a) in answers.iter().enumerate() {
            assert_eq!((a["id"].clone(), a["result"].clone()), (json!(i), json!("0x4ee8")));
        }

        // A mixed batch: answered in order; notifications (no id) get nothing.
        let v = post(
            url,
            json!([
                {"jsonrpc": "2.0", "id": 1, "method": "getBlockNumber", "params": ["group0"]},
                {"jsonrpc": "2.0", "method": "getGroupList"},
                {"jsonrpc": "2.0", "id": "b", "method": "nope"},
                {"jsonrpc": "1.0", "id": 3, "method": "getGroupList"},
                {"jsonrpc": "2.0", "method": "alsoNope"},
                {"jsonrpc": "2.0", "id": 4, "method": "getBlockByNumber", "params": ["group0", "x"]},
                5,
                {"jsonrpc": "2.0", "id": null, "method": "eth_chainId"},
                {"jsonrpc": "2.0", "id": 6, "method": "getGroupList"},
            ]),
        )
        .await;
        let answers = v.as_array().expect("batch answer");
        let shape: Vec<(Value, Value, Value)> = answers
            .iter()
            .map(|a| (a["id"].clone(), a["result"].clone(), a["error"]["code"].clone()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (json!(1), json!(0), Value::Null),
                (json!("b"), Value::Null, json!(-32601)),
                (json!(3), Value::Null, json!(-32600)),
                (json!(4), Value::Null, json!(-32602)),
                (Value::Null, Value::Null, json!(-32600)),
                (Value::Null, json!("0x4ee8"), Value::Null),
                (json!(6), json!(["group0"]), Value::Null),
            ],
            "{v}"
        );
        // Only notifications: no answer at all.
        let (status, _, v) = post_raw(
            url,
            json!([{"jsonrpc": "2.0", "method": "getGroupList"},
                   {"jsonrpc": "2.0", "method": "nope"}])
            .to_string(),
        )
        .await;
        assert_eq!((status, v), (200, Value::Null));
        let (status, _, v) =
            post_raw(url, json!({"jsonrpc": "2.0", "method": "getGroupList"}).to_string()).await;
        assert_eq!((status, v), (200, Value::Null));

        // Body limit: exactly 8 MiB is served, one byte more is 413 with a JSON-RPC error.
        let mut body =
            json!({"jsonrpc": "2.0", "id": 1, "method": "getGroupList"}).to_string().into_bytes();
        body.resize(8 * MIB, b' ');
        let (status, _, v) = post_raw(url, body.clone()).await;
        assert_eq!((status, v["result"].clone()), (200, json!(["group0"])), "{v}");
        body.push(b' ');
        let (status, content_type, v) = post_raw(url, body).await;
        assert_eq!(status, 413, "{v}");
        assert_eq!(content_type, "application/json");
        assert_eq!((v["error"]["code"].clone(), v["id"].clone()), (json!(-32600), Value::Null));
        assert!(v["error"]["message"].as_str().unwrap().contains("8388608"), "{v}");
        // So with the default limit a tx over 4 MiB (8 MiB as hex) never reaches the pool.
        let big = hex0x(&vec![0u8; 4 * MIB + 1]);
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "sendTransaction",
                          "params": ["group0", big]});
        let (status, _, v) = post_raw(url, body.to_string()).await;
        assert_eq!((status, v["error"]["code"].clone()), (413, json!(-32600)), "{v}");
    });
}

#[test]
fn send_transaction_refusals_name_their_reason() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_chain(&dir, &[]);
    // A body limit above twice the tx limit, so an oversized tx reaches the pool as hex.
    edit_config(&dir, 0, "max_body_bytes = 8388608", "max_body_bytes = 16777216");
    let node = TestNode::start(&dir);
    let url = node.url();
    let url = url.as_str();
    runtime().block_on(async {
        let client = Client::connect(url, "group0").await.unwrap();
        let suite = client.suite();
        let key = client.generate_key();
        let target = Address::repeat_byte(0x11);

        // A committed tx to replay.
        let first = client.sign_transaction(&key, TxRequest::call(target, vec![1])).await.unwrap();
        client.send_signed(&first).await.unwrap();
        let receipt = client.wait_for_receipt(first.hash, DEADLINE).await.unwrap();
        assert_eq!(receipt.status, 0, "{receipt:?}");
        let head = client.block_number().await.unwrap();
        let Transaction::Native(committed) = &first.tx else { unreachable!() };
        let nonce = committed.data.nonce;

        let sign = |chain: &str, group: &str, req: TxRequest| {
            sign_native_tx(suite, &key, build_native_tx(chain, group, head, req)).unwrap()
        };
        let fresh = || TxRequest::call(target, vec![2]);

        let bad = sign("chain0", "group0", fresh());
        refused(url, &zero_signature(&bad.tx), "BadSignature").await;
        let other_key = KeyPair::generate(SuiteKind::Sm2Sm3);
        let wrong_suite = Transaction::Native(
            build_native_tx("chain0", "group0", head, fresh())
                .sign(&*aurum_crypto::suite(SuiteKind::Secp256k1Keccak), &other_key),
        );
        refused(url, &wrong_suite.encode(), "BadSignature").await;
        let m = refused(url, &sign("chain9", "group0", fresh()).raw, "WrongChain").await;
        assert!(m.contains("chain9"), "{m}");
        let m = refused(url, &sign("chain0", "group9", fresh()).raw, "WrongGroup").await;
        assert!(m.contains("group9"), "{m}");
        refused(url, &first.raw, "AlreadyCommitted").await;
        let m =
            refused(url, &sign("chain0", "group0", fresh().nonce(nonce)).raw, "NonceUsed").await;
        assert!(m.contains(&format!("block {}", receipt.block_number)), "{m}");
        for limit in [0, head, head + 1001, u64::MAX] {
            let m = refused(
                url,
                &sign("chain0", "group0", fresh().block_limit(limit)).raw,
                "BlockLimit",
            )
            .await;
            assert!(m.contains(&format!("head {head}")), "{m}");
        }
        refused(url, &[0x07, 0xc0], "Decode").await;
        refused(url, &[], "Decode").await;
        let huge = sign("chain0", "group0", TxRequest::call(target, vec![0u8; 5 * MIB]));
        let m = refused(url, &huge.raw, "TooLarge").await;
        assert!(m.contains("4194304"), "{m}");
        let err =
            error(url, "eth_sendRawTransaction", json!([hex0x(&vec![0u8; 5 * MIB])]), -32000).await;
        assert_eq!(err["data"]["reason"], "TooLarge");
        assert_eq!(client.pending_tx_size().await.unwrap(), 0, "nothing refused was kept");

        // The window's far edge is accepted.
        let edge = sign("chain0", "group0", fresh().block_limit(head + 1000));
        client.send_signed(&edge).await.unwrap();
        client.wait_for_receipt(edge.hash, DEADLINE).await.unwrap();

        // Ethereum txs: wrong chain id, then the right one, replayed, nonce reused.
        let eth_key = KeyPair::generate(SuiteKind::Secp256k1Keccak);
        let wrong = eth_legacy_tx(&eth_key, 1, 0, target, b"");
        let err = error(url, "eth_sendRawTransaction", json!([hex0x(&wrong)]), -32000).await;
        assert_eq!(err["data"]["reason"], "WrongEthChainId", "{err}");
        let tx = eth_legacy_tx(&eth_key, 20200, 0, target, b"");
        let hash = result(url, "eth_sendRawTransaction", json!([hex0x(&tx)])).await;
        assert_eq!(hash, json!(alloy_primitives::keccak256(&tx)));
        let r = eth_receipt(url, hash.as_str().unwrap()).await;
        assert_eq!(
            r["from"].as_str().unwrap().to_lowercase(),
            eth_key.address().to_string().to_lowercase()
        );
        let err = error(url, "eth_sendRawTransaction", json!([hex0x(&tx)]), -32000).await;
        assert_eq!(err["data"]["reason"], "AlreadyCommitted", "{err}");
        // The native tx object's raw is the tagged form (0x02 || envelope); sendTransaction
        // takes it back.
        let served = client.transaction(hash.as_str().unwrap().parse().unwrap()).await.unwrap();
        let served = served.expect("eth tx");
        assert_eq!(served.kind, "ethereum");
        assert_eq!(served.raw.to_vec(), [&[0x02][..], &tx].concat());
        refused(url, &served.raw, "AlreadyCommitted").await;
        let again = eth_legacy_tx(&eth_key, 20200, 0, target, b"x");
        let err = error(url, "eth_sendRawTransaction", json!([hex0x(&again)]), -32000).await;
        assert_eq!(err["data"]["reason"], "NonceTooLow", "{err}");
    });
}

#[test]
fn native_flow_through_the_sdk() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &[]);
    runtime().block_on(async {
        let client = Client::connect(node.url(), "group0").await.unwrap();
        let suite = client.suite();
        let key = client.generate_key();

        // Deploy: the receipt names the creator and the contract; the constructor mints.
        let (abi, deployment) = deploy_token(&client, &key).await;
        let token = deployment.address;
        let r = &deployment.receipt;
        assert_eq!((r.status, r.status_name.as_str()), (0, "Success"));
        assert_eq!((r.from, r.to, r.contract_address), (key.address(), None, Some(token)));
        assert_eq!(r.logs.len(), 1, "mint Transfer");
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(artifact("AurumToken")).unwrap())
                .unwrap();
        let deployed =
            hex::decode(json["deployedBytecode"].as_str().unwrap().trim_start_matches("0x"))
                .unwrap();
        assert_eq!(client.code(token).await.unwrap().to_vec(), deployed);
        assert!(client.code(Address::repeat_byte(0x77)).await.unwrap().is_empty());
        assert!(client.code_at(token, 0).await.unwrap().is_empty(), "no code at genesis");

        // Transfer: status, output, logs, decoded event.
        let to = client.generate_key().address();
        let sent = client
            .send(&key, token, &abi, "transfer", &[to.into(), U256::from(10u64).into()])
            .await
            .unwrap();
        let receipt = &sent.receipt;
        let hash = receipt.transaction_hash;
        assert_eq!((receipt.status, receipt.from, receipt.to), (0, key.address(), Some(token)));
        assert_eq!(receipt.contract_address, None);
        assert!(receipt.gas_used > 0);
        assert_eq!(sent.output, vec![DynSolValue::Bool(true)]);
        assert_eq!(receipt.logs.len(), 1);
        assert_eq!(receipt.logs[0].address, token);
        let transfer_topic = alloy_primitives::keccak256("Transfer(address,address,uint256)");
        assert_eq!(receipt.logs[0].topics[0], transfer_topic);
        assert_eq!(receipt.logs[0].topics[2], B256::left_padding_from(to.as_slice()));
        let event = sent.event("Transfer").expect("Transfer decoded");
        assert_eq!(event.get("value"), Some(&DynSolValue::Uint(U256::from(10u64), 256)));
        assert_eq!(
            client.block_hash_by_number(receipt.block_number).await.unwrap(),
            Some(receipt.block_hash)
        );
        let balance = client.call(token, &abi, "balanceOf", &[to.into()]).await.unwrap();
        assert_eq!(balance, vec![DynSolValue::Uint(U256::from(10u64), 256)]);

        // getTransaction: the committed tx with its place; raw hashes to the hash.
        let tx = client.transaction(hash).await.unwrap().expect("tx");
        assert_eq!(
            (tx.hash, tx.kind.as_str(), tx.from, tx.to),
            (hash, "native", key.address(), Some(token))
        );
        assert_eq!(tx.input, transfer_input(&abi, to, 10));
        assert_eq!(
            (tx.chain_id.as_deref(), tx.group_id.as_deref()),
            (Some("chain0"), Some("group0"))
        );
        assert_eq!(
            (tx.block_number, tx.block_hash, tx.transaction_index),
            (Some(receipt.block_number), Some(receipt.block_hash), Some(receipt.transaction_index))
        );
        assert!(tx.block_limit.unwrap() > receipt.block_number);
        assert_eq!(Transaction::decode(&tx.raw).unwrap().hash(suite), hash);
        assert_eq!(client.transaction(B256::repeat_byte(3)).await.unwrap(), None);
        assert_eq!(client.receipt(B256::repeat_byte(3)).await.unwrap(), None);

        // Four transfers signed first and sent in one batch, so blocks hold several txs.
        let mut signed = Vec::new();
        for amount in 1..=4 {
            let req = TxRequest::call(token, transfer_input(&abi, to, amount));
            signed.push(client.sign_transaction(&key, req).await.unwrap());
        }
        let batch: Vec<Value> = signed
            .iter()
            .enumerate()
            .map(|(i, s)| {
                json!({"jsonrpc": "2.0", "id": i, "method": "sendTransaction",
                       "params": ["group0", s.raw_hex()]})
            })
            .collect();
        let answers = post(client.url(), Value::Array(batch)).await;
        for (i, s) in signed.iter().enumerate() {
            assert_eq!(answers[i]["result"], json!(s.hash), "{answers}");
        }
        let mut receipts = Vec::new();
        for s in &signed {
            receipts.push(client.wait_for_receipt(s.hash, DEADLINE).await.unwrap());
        }

        // Blocks: full txs, hashes, header only; by number and by hash.
        let busiest = receipts
            .iter()
            .max_by_key(|r| receipts.iter().filter(|o| o.block_number == r.block_number).count())
            .unwrap();
        let n = busiest.block_number;
        let full = client.block_by_number(n, BlockDetail::FullTxs).await.unwrap().unwrap();
        assert_eq!(full.hash, busiest.block_hash);
        let Some(BlockTxs::Full(txs)) = &full.transactions else { panic!("full txs") };
        let in_block: Vec<B256> =
            receipts.iter().filter(|r| r.block_number == n).map(|r| r.transaction_hash).collect();
        assert_eq!(txs.len(), in_block.len());
        for (i, t) in txs.iter().enumerate() {
            assert!(in_block.contains(&t.hash));
            assert_eq!(
                (t.block_number, t.block_hash, t.transaction_index),
                (Some(n), Some(full.hash), Some(i as u64))
            );
            assert_eq!(Transaction::decode(&t.raw).unwrap().hash(suite), t.hash);
        }
        let hashes = client.block_by_number(n, BlockDetail::TxHashes).await.unwrap().unwrap();
        assert_eq!(
            hashes.transactions,
            Some(BlockTxs::Hashes(txs.iter().map(|t| t.hash).collect()))
        );
        assert_eq!(hashes.header, full.header);
        let header = client.block_by_number(n, BlockDetail::Header).await.unwrap().unwrap();
        assert_eq!((header.transactions, header.header), (None, full.header.clone()));
        let raw = result(client.url(), "getBlockByNumber", json!(["group0", n, true])).await;
        assert!(raw.get("transactions").is_none(), "onlyHeader: {raw}");
        let by_hash = client.block_by_hash(full.hash, BlockDetail::FullTxs).await.unwrap().unwrap();
        assert_eq!(by_hash, full);
        let by_hash = client.block_by_hash(full.hash, BlockDetail::Header).await.unwrap().unwrap();
        assert_eq!(by_hash.transactions, None);
        assert_eq!(
            client.block_by_hash(B256::repeat_byte(5), BlockDetail::Header).await.unwrap(),
            None
        );
        assert_eq!(
            full.header.parent_hash,
            client.block_hash_by_number(n - 1).await.unwrap().unwrap()
        );
        let head = client.block_number().await.unwrap();
        assert_eq!(client.block_hash_by_number(head + 1).await.unwrap(), None);
        assert!(client.block_by_number(head + 1, BlockDetail::Header).await.unwrap().is_none());

        // The block is signed by the one sealer.
        let sealers = client.sealer_list().await.unwrap();
        assert_eq!(sealers.len(), 1);
        assert_eq!(sealers[0].node_id, node.ready["node_id"].as_str().unwrap());
        assert_eq!(sealers[0].weight, 1);
        assert_eq!(full.signatures.len(), 1);
        let sealer_key = sealers[0].public_key().unwrap();
        suite
            .verify(&sealer_key, &full.certificate_digest(suite), &full.signatures[0].signature)
            .unwrap();

        // Chain facts.
        let cfg = client.system_config("tx_count_limit").await.unwrap().unwrap();
        assert_eq!(
            (cfg.key.as_str(), cfg.value.as_str(), cfg.enable_number),
            ("tx_count_limit", "1000", 0)
        );
        assert_eq!(client.system_config("no_such_key").await.unwrap(), None);
        let total = client.total_transaction_count().await.unwrap();
        assert_eq!((total.block_number, total.transaction_count), (head, 6));
        assert_eq!(client.group_list().await.unwrap(), vec!["group0"]);
        let info = client.group_info().await.unwrap();
        assert_eq!(
            (info.group_id.as_str(), info.chain_id.as_str(), info.crypto.as_str()),
            ("group0", "chain0", "secp256k1")
        );
        assert_eq!((info.web3_chain_id, info.block_number), (20200, head));
        assert_eq!(Some(info.genesis_hash), client.block_hash_by_number(0).await.unwrap());
        assert_eq!(info.sealers, sealers);
        assert!(info.observers.is_empty());
        assert_eq!(client.pending_tx_size().await.unwrap(), 0);

        // Proofs, checked by the SDK from the bytes up to the block hash.
        for r in receipts.iter().chain([receipt]) {
            let proven = client.verify_transaction_proof(r.transaction_hash).await.unwrap();
            assert_eq!(
                (proven.block.hash, proven.proof.index),
                (r.block_hash, r.transaction_index)
            );
            let proven = client.verify_receipt_proof(r.transaction_hash).await.unwrap();
            assert_eq!(proven.decoded.logs.len(), 1);
            assert_eq!(proven.block.hash, r.block_hash);
        }

        // Tampered proofs are rejected, naming the check that failed.
        let h = busiest.transaction_hash;
        let served = client.transaction_with_proof(h).await.unwrap().unwrap();
        let block = client.raw_block_by_number(n, BlockDetail::Header).await.unwrap().unwrap();
        verify_tx_inclusion(suite, &served, &block).unwrap();
        let mut t = served.clone();
        t.proof.root = B256::repeat_byte(1);
        assert!(matches!(
            verify_tx_inclusion(suite, &t, &block),
            Err(ProofError::MerklePath { .. })
        ));
        let mut t = served.clone();
        t.proof.leaf = B256::repeat_byte(2);
        assert!(matches!(verify_tx_inclusion(suite, &t, &block), Err(ProofError::Leaf { .. })));
        let mut t = served.clone();
        t.transaction.raw = tx.raw.clone();
        let err = verify_tx_inclusion(suite, &t, &block).unwrap_err();
        assert!(matches!(err, ProofError::TxHash { .. } | ProofError::Leaf { .. }), "{err}");
        if !served.proof.path.is_empty() {
            let mut t = served.clone();
            t.proof.path[0].sibling = B256::repeat_byte(3);
            assert!(matches!(
                verify_tx_inclusion(suite, &t, &block),
                Err(ProofError::MerklePath { .. })
            ));
        }
        let mut b = block.clone();
        b.transactions_root = B256::repeat_byte(4);
        assert!(matches!(
            verify_tx_inclusion(suite, &served, &b),
            Err(ProofError::HeaderField { .. })
        ));
        let other = client.raw_block_by_number(n - 1, BlockDetail::Header).await.unwrap().unwrap();
        assert!(
            verify_tx_inclusion(suite, &served, &other).is_err(),
            "proof against another block"
        );

        let served = client.receipt_with_proof(h).await.unwrap().unwrap();
        verify_receipt_inclusion(suite, &served, &block).unwrap();
        let mut t = served.clone();
        t.receipt.status = 1;
        assert!(matches!(
            verify_receipt_inclusion(suite, &t, &block),
            Err(ProofError::ReceiptField { .. })
        ));
        let mut t = served.clone();
        t.receipt.raw = deployment.receipt.raw.clone();
        assert!(matches!(
            verify_receipt_inclusion(suite, &t, &block),
            Err(ProofError::Leaf { .. })
        ));
        let mut t = served.clone();
        t.proof.root = B256::repeat_byte(1);
        assert!(matches!(
            verify_receipt_inclusion(suite, &t, &block),
            Err(ProofError::MerklePath { .. })
        ));
    });
}

#[test]
fn reverts_over_call_and_eth_call() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &[]);
    let url = node.url();
    let url = url.as_str();
    runtime().block_on(async {
        let client = Client::connect(url, "group0").await.unwrap();
        let key = client.generate_key();
        let (abi, bytecode) = load_artifact(artifact("Reverter")).unwrap();
        let reverter = client.deploy(&key, &abi, &bytecode, &[]).await.unwrap().address;
        let fail_require = abi::find_function(&abi, "failRequire", 1).unwrap();
        let input = |x: u64| abi::encode_call(fail_require, &[U256::from(x).into()]).unwrap();
        // Error("x must exceed 10"), ABI-encoded.
        let reason = "x must exceed 10";
        let mut revert = hex::decode("08c379a0").unwrap();
        revert.extend(U256::from(32).to_be_bytes::<32>());
        revert.extend(U256::from(reason.len()).to_be_bytes::<32>());
        let mut padded = reason.as_bytes().to_vec();
        padded.resize(32, 0);
        revert.extend(padded);
        let revert_hex = hex0x(&revert);

        // Native call: never an error; the status says it reverted, the output holds why.
        let out =
            result(url, "call", json!(["group0", {"to": reverter, "data": hex0x(&input(5))}]))
                .await;
        assert_eq!(
            (out["status"].clone(), out["output"].clone()),
            (json!(1), json!(revert_hex)),
            "{out}"
        );
        assert_eq!(out["statusName"], "Reverted");
        let out = client
            .call_raw(&aurum_sdk::CallRequest {
                from: None,
                to: reverter,
                data: input(5),
                block_number: None,
            })
            .await
            .unwrap();
        assert_eq!((out.status, out.output.to_vec()), (1, revert.clone()));
        let err = client
            .call(reverter, &abi, "failRequire", &[U256::from(5u64).into()])
            .await
            .unwrap_err();
        assert_eq!(err.revert_reason(), Some(&RevertReason::Error(reason.into())), "{err}");
        let ok =
            result(url, "call", json!(["group0", {"to": reverter, "data": hex0x(&input(11))}]))
                .await;
        assert_eq!(ok["status"], 0);
        assert_eq!(ok["output"], json!(B256::from(U256::from(11))));

        // eth_call / eth_estimateGas: code 3 with the revert bytes, as geth answers.
        let call_obj = json!({"to": reverter, "data": hex0x(&input(5))});
        let err = error(url, "eth_call", json!([call_obj, "latest"]), 3).await;
        assert_eq!(err["data"], json!(revert_hex), "{err}");
        assert_eq!(err["message"], format!("execution reverted: {reason}"));
        let err = error(url, "eth_estimateGas", json!([call_obj]), 3).await;
        assert_eq!(err["data"], json!(revert_hex), "{err}");
        let ok =
            result(url, "eth_call", json!([{"to": reverter, "data": hex0x(&input(11))}, "latest"]))
                .await;
        assert_eq!(ok, json!(B256::from(U256::from(11))));

        // A reverting transaction: status 1 in the receipt, the reason decoded.
        let err = client
            .send(&key, reverter, &abi, "failRequire", &[U256::from(5u64).into()])
            .await
            .unwrap_err();
        let SdkError::Reverted { reason: why, receipt: Some(r), .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(why, &RevertReason::Error(reason.into()));
        assert_eq!((r.status, r.status_name.as_str(), r.output.to_vec()), (1, "Reverted", revert));
    });
}

#[test]
fn websocket_subscriptions_follow_and_replay() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &[]);
    let ws_url = node.ready["ws_url"].as_str().expect("ws_url").to_string();
    runtime().block_on(async {
        let client = Client::connect(node.url(), "group0").await.unwrap();
        let key = client.generate_key();
        let (abi, deployment) = deploy_token(&client, &key).await;
        let token = deployment.address;
        let to = client.generate_key().address();
        let transfer = |amount: u64| {
            let (client, key, abi) = (&client, &key, &abi);
            async move {
                let req = TxRequest::call(token, transfer_input(abi, to, amount));
                let r = client.send_and_wait(key, req).await.unwrap();
                assert_eq!(r.status, 0);
                r
            }
        };
        let mut receipts = vec![deployment.receipt.clone(), transfer(1).await];

        // newHeads follows the chain: the next block is the one with our tx.
        let mut ws = Ws::connect(&ws_url).await;
        let heads = ws.subscribe(json!(["newHeads"])).await;
        let r = transfer(2).await;
        let note = ws.next_note(&heads).await;
        assert_eq!(quantity(&note["number"]), r.block_number, "{note}");
        assert_eq!(note["hash"], json!(r.block_hash));
        assert!(note.get("transactions").is_none(), "{note}");
        receipts.push(r);

        // fromBlock replays every head from 1, in order, before following.
        let head = client.block_number().await.unwrap();
        let replay = ws.subscribe(json!(["newHeads", {"fromBlock": "0x1"}])).await;
        let mut parent = client.block_hash_by_number(0).await.unwrap().unwrap();
        for n in 1..=head {
            let note = ws.next_note(&replay).await;
            assert_eq!(quantity(&note["number"]), n, "{note}");
            assert_eq!(note["parentHash"], json!(parent));
            parent = client.block_hash_by_number(n).await.unwrap().unwrap();
            assert_eq!(note["hash"], json!(parent));
        }
        let last_seen = head;

        // Unsubscribing answers true once, then false.
        for sub in [&heads, &replay] {
            assert_eq!(ws.call("eth_unsubscribe", json!([sub])).await["result"], true);
            assert_eq!(ws.call("eth_unsubscribe", json!([sub])).await["result"], false);
        }
        assert_eq!(ws.call("eth_unsubscribe", json!(["0x1234"])).await["result"], false);
        drop(ws);

        // Resume after a reconnect: blocks made while away come first, then live ones.
        let missed = transfer(3).await;
        receipts.push(missed.clone());
        let mut ws = Ws::connect(&ws_url).await;
        let resumed = ws.subscribe(json!(["newHeads", {"fromBlock": format!("{:#x}", last_seen + 1)}])).await;
        let note = ws.next_note(&resumed).await;
        assert_eq!(quantity(&note["number"]), missed.block_number, "{note}");
        assert_eq!(missed.block_number, last_seen + 1);
        let live = transfer(4).await;
        let note = ws.next_note(&resumed).await;
        assert_eq!(quantity(&note["number"]), live.block_number, "{note}");
        receipts.push(live);

        // logs with fromBlock replays the token's Transfer logs (the mint first), then follows.
        let logs = ws
            .subscribe(json!(["logs", {"address": token, "fromBlock": "0x1"}]))
            .await;
        let transfer_topic = json!(alloy_primitives::keccak256("Transfer(address,address,uint256)"));
        for r in &receipts {
            let note = ws.next_note(&logs).await;
            assert_eq!(note["transactionHash"], json!(r.transaction_hash), "{note}");
            assert_eq!(quantity(&note["blockNumber"]), r.block_number);
            assert_eq!(note["address"].as_str().unwrap().to_lowercase(), format!("{token:#x}"));
            assert_eq!(note["topics"][0], transfer_topic);
            assert_eq!(note["data"], json!(r.logs[0].data));
        }
        // A topic filter narrows the replay: transfers to `to` only (not the mint).
        let to_topic = json!(B256::left_padding_from(to.as_slice()));
        let narrow = ws
            .subscribe(json!(["logs", {"address": token, "topics": [transfer_topic, null, to_topic], "fromBlock": "0x1"}]))
            .await;
        for r in &receipts[1..] {
            let note = ws.next_note(&narrow).await;
            assert_eq!(note["transactionHash"], json!(r.transaction_hash), "{note}");
        }
        let live = transfer(5).await;
        for sub in [&logs, &narrow] {
            let note = ws.next_note(sub).await;
            assert_eq!(note["transactionHash"], json!(live.transaction_hash), "{note}");
        }
        assert_eq!(ws.call("eth_unsubscribe", json!([logs])).await["result"], true);

        // A path names the group for eth_* over WebSocket too.
        let mut other = Ws::connect(&format!("{ws_url}/nogroup")).await;
        let v = other.call("eth_subscribe", json!(["newHeads"])).await;
        assert_eq!((v["error"]["code"].clone(), v["error"]["data"]["group"].clone()), (json!(-32001), json!("nogroup")));
        let mut group0 = Ws::connect(&format!("{ws_url}/group0")).await;
        assert_eq!(group0.call("eth_chainId", json!([])).await["result"], "0x4ee8");

        // Bad subscriptions are answered with -32602.
        let v = ws.call("eth_subscribe", json!(["pendingRocks"])).await;
        assert_eq!(v["error"]["code"], -32602, "{v}");
        // Ordinary calls work on the same socket.
        let v = ws.call("eth_blockNumber", json!([])).await;
        assert_eq!(quantity(&v["result"]), live.block_number);
    });
}

#[test]
fn sm_chain_native_flow_and_ethereum_refusal() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &["--sm"]);
    assert_eq!(node.ready["crypto"], "sm");
    let url = node.url();
    let url = url.as_str();
    runtime().block_on(async {
        let client = Client::connect(url, "group0").await.unwrap();
        assert_eq!(client.suite_kind(), SuiteKind::Sm2Sm3);
        assert_eq!(client.info().crypto, "sm");
        let key = client.generate_key();
        assert_eq!(key.kind, SuiteKind::Sm2Sm3);
        let (abi, deployment) = deploy_token(&client, &key).await;
        let token = deployment.address;
        let to = client.generate_key().address();
        let sent = client
            .send(&key, token, &abi, "transfer", &[to.into(), U256::from(7u64).into()])
            .await
            .unwrap();
        assert_eq!(sent.receipt.from, key.address());
        let balance = client.call(token, &abi, "balanceOf", &[to.into()]).await.unwrap();
        assert_eq!(balance, vec![DynSolValue::Uint(U256::from(7u64), 256)]);
        // SM3 hashes all the way up.
        let proven = client.verify_receipt_proof(sent.receipt.transaction_hash).await.unwrap();
        assert_eq!(proven.block.hash, sent.receipt.block_hash);
        let block = client
            .block_by_number(sent.receipt.block_number, BlockDetail::Header)
            .await
            .unwrap()
            .unwrap();
        let sealer = client.sealer_list().await.unwrap()[0].public_key().unwrap();
        let digest = block.certificate_digest(client.suite());
        client.suite().verify(&sealer, &digest, &block.signatures[0].signature).unwrap();

        // A secp256k1 key cannot sign for this chain: the SDK refuses, and so does the node.
        let secp = KeyPair::generate(SuiteKind::Secp256k1Keccak);
        let err = client.send_transaction(&secp, TxRequest::call(to, vec![])).await.unwrap_err();
        assert!(matches!(err, SdkError::Crypto(_)), "{err:?}");
        let head = client.block_number().await.unwrap();
        let secp_signed = Transaction::Native(
            build_native_tx("chain0", "group0", head, TxRequest::call(to, vec![]))
                .sign(&*aurum_crypto::suite(SuiteKind::Secp256k1Keccak), &secp),
        );
        refused(url, &secp_signed.encode(), "BadSignature").await;

        // An Ethereum tx (secp256k1, this group's chain id) is refused, saying why.
        let eth = eth_legacy_tx(&secp, 20200, 0, to, b"");
        let err = error(url, "eth_sendRawTransaction", json!([hex0x(&eth)]), -32000).await;
        let message = err["message"].as_str().unwrap();
        assert!(message.contains("secp256k1") && message.contains("SM2"), "{err}");
        assert!(err["data"]["reason"].is_string(), "{err}");
        assert_eq!(client.pending_tx_size().await.unwrap(), 0);
        assert_eq!(result(url, "eth_chainId", json!([])).await, "0x4ee8");
    });
}

#[test]
fn sm_chain_refuses_ethereum_txs_as_unsupported() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &["--sm"]);
    let url = node.url();
    runtime().block_on(async {
        let secp = KeyPair::generate(SuiteKind::Secp256k1Keccak);
        let eth = eth_legacy_tx(&secp, 20200, 0, Address::repeat_byte(1), b"");
        let err = error(&url, "eth_sendRawTransaction", json!([hex0x(&eth)]), -32000).await;
        assert_eq!(err["data"]["reason"], "Unsupported", "{err}");
    });
}

#[test]
fn console_prints_and_refuses() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &[]);
    let url = node.url();
    let number = runtime().block_on(async {
        let client = Client::connect(&url, "group0").await.unwrap();
        let key = client.generate_key();
        let req = TxRequest::call(Address::repeat_byte(0x22), vec![]);
        client.send_and_wait(&key, req).await.unwrap();
        client.block_number().await.unwrap()
    });
    assert!(number >= 1);
    let out = Command::new(BIN)
        .args(["console", "-c", "getBlockNumber", "--url", &url])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), number.to_string());

    let out = Command::new(BIN).args(["console", "-c", "bogus", "--url", &url]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown command"), "{stderr}");
}

#[test]
fn send_transaction_takes_a_raw_ethereum_tx() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &[]);
    let url = node.url();
    runtime().block_on(async {
        let key = KeyPair::generate(SuiteKind::Secp256k1Keccak);
        let raw = eth_legacy_tx(&key, 20200, 0, Address::repeat_byte(1), b"");
        let hash = result(&url, "sendTransaction", json!(["group0", hex0x(&raw)])).await;
        assert_eq!(hash, json!(alloy_primitives::keccak256(&raw)));
    });
}

#[test]
fn eth_subscribe_works_inside_a_websocket_batch() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &[]);
    let ws_url = node.ready["ws_url"].as_str().expect("ws_url").to_string();
    runtime().block_on(async {
        let mut ws = Ws::connect(&ws_url).await;
        let batch = json!([
            {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber"},
        ]);
        ws.stream.send(Message::Text(batch.to_string().into())).await.unwrap();
        let answer = ws.read().await;
        assert!(answer[0]["result"].is_string(), "{answer}");
        assert_eq!(answer[1]["result"], "0x0", "{answer}");
    });
}

#[test]
fn log_ranges_past_the_head_are_empty_and_fee_history_is_bounded() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = chain(tmp.path(), &[]);
    let url = node.url();
    let url = url.as_str();
    runtime().block_on(async {
        let client = Client::connect(url, "group0").await.unwrap();
        let key = client.generate_key();
        let (_, token) = deploy_token(&client, &key).await;
        let head = client.block_number().await.unwrap();
        // The deploy's mint log is at the head: a range starting after it has nothing.
        let at_head = result(
            url,
            "eth_getLogs",
            json!([{"fromBlock": format!("{head:#x}"), "address": token.address}]),
        )
        .await;
        assert_eq!(at_head.as_array().unwrap().len(), 1);
        let past = result(
            url,
            "eth_getLogs",
            json!([{"fromBlock": format!("{:#x}", head + 5), "toBlock": "latest"}]),
        )
        .await;
        assert_eq!(past, json!([]));
        let too_many: Vec<u32> = vec![50; 101];
        error(url, "eth_feeHistory", json!(["0x4", "latest", too_many]), -32602).await;
        error(url, "eth_feeHistory", json!(["0x4", "latest", [60, 10]]), -32602).await;
        let ok = result(url, "eth_feeHistory", json!(["0x4", "latest", [10, 60]])).await;
        assert_eq!(ok["reward"].as_array().unwrap()[0].as_array().unwrap().len(), 2);
    });
}
