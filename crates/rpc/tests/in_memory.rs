//! The RPC service over an in-memory group (`Group::open` on `MemStore`): dispatch by
//! domain, the execution limits (gas cap, timeout, batch work), log paging, filter quotas
//! per client and the pending-tx cursor. No sockets: requests go through `handle_text`.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use aurum_crypto::{KeyPair, SuiteKind};
use aurum_group::{Group, GroupOptions};
use aurum_ledger::{Genesis, GenesisNode};
use aurum_primitives::{NativeTx, Transaction};
use aurum_rpc::{Limits, Rpc};
use aurum_storage::MemStore;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runtime code of an endless loop: JUMPDEST PUSH1 0 JUMP. As a creation's input it loops.
const LOOP: &str = "0x5b600056";

fn open_group() -> (Arc<Group>, KeyPair) {
    let node = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let genesis = Genesis {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        crypto: "secp256k1".into(),
        timestamp_ms: 1_700_000_000_000,
        sealers: vec![GenesisNode { node_id: node.public().to_hex(), weight: 1 }],
        observers: vec![],
        system_config: BTreeMap::new(),
        admins: vec![],
        alloc: BTreeMap::new(),
    };
    let group =
        Group::open(Arc::new(MemStore::new()), genesis, node, GroupOptions::default()).unwrap();
    (group, KeyPair::generate(SuiteKind::Secp256k1Keccak))
}

/// Seals the pool's waiting txs into the next block: the node's one-validator PBFT driver
/// (the only sealing path) runs until the head moves, then stops.
fn seal_next(group: &Arc<Group>) {
    let head = group.ledger().head_number().unwrap();
    let options = aurum_consortium::Options { idle_block: None, ..Default::default() };
    let store = Arc::clone(group.ledger().store());
    let sealing =
        aurum_consortium::Consortium::start(Arc::clone(group), None, store, options).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while group.ledger().head_number().unwrap() == head {
        assert!(Instant::now() < deadline, "no block sealed after {head}");
        std::thread::sleep(Duration::from_millis(2));
    }
    sealing.stop();
}

fn native_tx(group: &Group, key: &KeyPair, to: TxKind, input: Bytes) -> Transaction {
    let data = NativeTx {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        block_limit: 100,
        nonce: U256::from_be_bytes(rand::random::<[u8; 32]>()),
        to,
        value: U256::ZERO,
        input,
        gas_limit: 0,
        conflict_keys: vec![],
    };
    Transaction::Native(data.sign(&**group.suite(), key))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

/// One request; the whole response object.
fn call(rpc: &Rpc, client: Option<IpAddr>, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    rpc.handle_text(None, body.to_string().as_bytes(), client).expect("an answer")
}

fn result(rpc: &Rpc, method: &str, params: Value) -> Value {
    let v = call(rpc, ip("127.0.0.1"), method, params);
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

#[test]
fn serves_native_and_eth_methods_by_domain() {
    let (group, user) = open_group();
    let rpc = Rpc::new(vec![Arc::clone(&group)], "group0".into(), Limits::default());
    assert_eq!(result(&rpc, "getBlockNumber", json!(["group0"])), 0);
    assert_eq!(result(&rpc, "getGroupList", json!([])), json!(["group0"]));
    // A contract whose runtime is the loop, deployed by a native tx.
    let init = Bytes::from(hex::decode("635b6000566000526004601cf3").unwrap());
    let tx = native_tx(&group, &user, TxKind::Create, init);
    let raw = format!("0x{}", hex::encode(tx.encode()));
    let hash = result(&rpc, "sendTransaction", json!(["group0", raw]));
    assert_eq!(result(&rpc, "getPendingTxSize", json!(["group0"])), 1);
    seal_next(&group);
    let receipt = result(&rpc, "getTransactionReceipt", json!(["group0", hash]));
    assert_eq!(receipt["status"], 0, "{receipt}");
    let contract = receipt["contractAddress"].as_str().unwrap().to_string();
    assert_eq!(result(&rpc, "getCode", json!(["group0", contract])), LOOP);
    assert_eq!(result(&rpc, "eth_getCode", json!([contract, "latest"])), LOOP);
    assert_eq!(result(&rpc, "eth_blockNumber", json!([])), "0x1");
    let block = result(&rpc, "eth_getBlockByNumber", json!(["0x1", false]));
    assert_eq!(block["transactions"], json!([hash]));
    let eth_receipt = result(&rpc, "eth_getTransactionReceipt", json!([hash]));
    assert_eq!(eth_receipt["contractAddress"], json!(contract));
    let slot = result(&rpc, "eth_getStorageAt", json!([contract, "0x0", "latest"]));
    assert_eq!(slot, json!(format!("0x{}", "0".repeat(64))));
    let proof = result(&rpc, "getTransactionByHashWithProof", json!(["group0", hash]));
    assert_eq!(proof["proof"]["blockNumber"], 1);
    // Unknown names, wrong scopes, admin methods on the public service: typed errors.
    assert_eq!(call(&rpc, None, "nope", json!([]))["error"]["code"], -32601);
    let admin = call(&rpc, None, "startGroup", json!(["g"]));
    assert!(admin["error"]["message"].as_str().unwrap().contains("admin listener"), "{admin}");
    assert_eq!(call(&rpc, None, "getBlockNumber", json!(["nogroup"]))["error"]["code"], -32001);
}

#[test]
fn an_endless_call_meets_the_gas_cap_or_the_timeout_and_keeps_its_place() {
    let (group, _) = open_group();
    // Default cap: the loop runs out of its 50M gas fast and says so.
    let rpc = Rpc::new(vec![Arc::clone(&group)], "group0".into(), Limits::default());
    let v = call(&rpc, None, "eth_call", json!([{"data": LOOP}, "latest"]));
    assert!(v["error"]["message"].as_str().unwrap().contains("OutOfGas"), "{v}");
    let v = call(&rpc, None, "eth_call", json!([{"data": LOOP, "gas": "0xffffffffffff"}]));
    assert!(v["error"]["message"].as_str().unwrap().contains("OutOfGas"), "cap applies: {v}");

    // A cap high enough that only the clock stops it.
    let limits = Limits {
        call_gas_cap: 3_000_000_000,
        call_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let rpc = Rpc::new(vec![group], "group0".into(), limits);
    let start = Instant::now();
    let v = call(&rpc, None, "eth_call", json!([{"data": LOOP}]));
    let took = start.elapsed();
    let message = v["error"]["message"].as_str().unwrap_or_default().to_string();
    if message.contains("timeout") {
        assert_eq!(v["error"]["data"]["reason"], "Timeout", "{v}");
        assert!(took < Duration::from_secs(3), "answered at the deadline, took {took:?}");
        // The EVM stops at the deadline too, so the run gives its place back (it holds it
        // until it really ends, never less).
        let deadline = Instant::now() + Duration::from_secs(120);
        while rpc.expensive_in_flight() > 0 {
            assert!(Instant::now() < deadline, "the timed-out call never released its place");
            std::thread::sleep(Duration::from_millis(20));
        }
    } else {
        // A machine fast enough to burn 3e9 gas in 200 ms would end here.
        assert!(message.contains("OutOfGas"), "{v}");
    }
    println!("endless eth_call at a 3e9 gas cap answered in {took:?}: {message}");
}

#[test]
fn batch_work_is_counted_by_gas_not_entries() {
    let (group, _) = open_group();
    let limits = Limits { call_gas_cap: 1_000_000, batch_gas: 2_000_000, ..Limits::default() };
    let rpc = Rpc::new(vec![group], "group0".into(), limits);
    let batch: Vec<Value> = (0..10)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [{"data": LOOP}]}))
        .chain([json!({"jsonrpc": "2.0", "id": 10, "method": "eth_chainId"})])
        .collect();
    let v = rpc.handle_text(None, Value::Array(batch).to_string().as_bytes(), None).unwrap();
    let answers = v.as_array().unwrap();
    let reasons: Vec<&str> =
        answers.iter().map(|a| a["error"]["data"]["reason"].as_str().unwrap_or("")).collect();
    // Two loops spend the batch's gas; the rest are refused; cheap calls still answered.
    assert!(answers[0]["error"]["message"].as_str().unwrap().contains("OutOfGas"));
    assert!(answers[1]["error"]["message"].as_str().unwrap().contains("OutOfGas"));
    assert!(reasons[2..10].iter().all(|r| *r == "BatchWork"), "{reasons:?}");
    assert!(answers[2]["error"]["message"].as_str().unwrap().contains("another batch"));
    assert!(answers[10]["result"].is_string(), "{}", answers[10]);
}

#[test]
fn log_queries_page_by_range_and_count() {
    let (group, user) = open_group();
    // A contract that emits one log per call: LOG0 of empty data, then STOP.
    let runtime = "60006000a000";
    let init = format!("65{runtime}6000526006601af3");
    let limits = Limits { max_log_blocks: 3, max_logs: 2, ..Limits::default() };
    let rpc = Rpc::new(vec![Arc::clone(&group)], "group0".into(), limits);
    let deploy = native_tx(&group, &user, TxKind::Create, Bytes::from(hex::decode(init).unwrap()));
    let h = group.pool().submit(deploy).unwrap();
    seal_next(&group);
    let address: Address = group.ledger().receipt(&h).unwrap().unwrap().contract_address.unwrap();
    let filter = result(&rpc, "eth_newFilter", json!([{}]));
    for _ in 0..2 {
        for _ in 0..2 {
            group
                .pool()
                .submit(native_tx(&group, &user, TxKind::Call(address), Bytes::new()))
                .unwrap();
        }
        seal_next(&group);
    }
    // Blocks 2 and 3 hold two logs each.
    let wide = call(&rpc, None, "eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "0x3"}]));
    assert_eq!(wide["error"]["code"], -32005, "{wide}");
    assert!(wide["error"]["message"].as_str().unwrap().contains("page"), "{wide}");
    let two = result(&rpc, "eth_getLogs", json!([{"fromBlock": "0x1", "toBlock": "0x2"}]));
    assert_eq!(two.as_array().unwrap().len(), 2);
    let many = call(&rpc, None, "eth_getLogs", json!([{"fromBlock": "0x1", "toBlock": "0x3"}]));
    assert_eq!(many["error"]["data"]["resumeFrom"], 3, "{many}");
    assert!(many["error"]["message"].as_str().unwrap().contains("fromBlock=0x3"), "{many}");
    // A filter poll past the log limit returns whole blocks and resumes next poll.
    let poll = |n: usize| {
        let logs = result(&rpc, "eth_getFilterChanges", json!([filter]));
        assert_eq!(logs.as_array().unwrap().len(), n, "{logs}");
        logs
    };
    assert_eq!(poll(2)[0]["blockNumber"], "0x2");
    assert_eq!(poll(2)[0]["blockNumber"], "0x3");
    poll(0);
}

#[test]
fn filter_quotas_are_per_client_and_pending_filters_keep_a_cursor() {
    let (group, user) = open_group();
    let limits = Limits { max_filters: 10, max_filters_per_client: 4, ..Limits::default() };
    let rpc = Rpc::new(vec![Arc::clone(&group)], "group0".into(), limits);
    let (a, b) = (ip("127.0.0.1"), ip("127.0.0.2"));
    for _ in 0..4 {
        assert!(call(&rpc, a, "eth_newBlockFilter", json!([]))["result"].is_string());
    }
    let refused = call(&rpc, a, "eth_newBlockFilter", json!([]));
    assert_eq!(refused["error"]["data"]["reason"], "FilterQuota", "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("127.0.0.1"));
    let other = call(&rpc, b, "eth_newPendingTransactionFilter", json!([]));
    let id = other["result"].as_str().expect("another client still gets a filter").to_string();

    let first: Vec<_> = (0..3)
        .map(|_| {
            group
                .pool()
                .submit(native_tx(&group, &user, TxKind::Call(Address::ZERO), Bytes::new()))
                .unwrap()
        })
        .collect();
    let seen = call(&rpc, b, "eth_getFilterChanges", json!([id]))["result"].clone();
    assert_eq!(seen, json!(first));
    assert_eq!(call(&rpc, b, "eth_getFilterChanges", json!([id]))["result"], json!([]));
    let next = group
        .pool()
        .submit(native_tx(&group, &user, TxKind::Call(Address::ZERO), Bytes::new()))
        .unwrap();
    assert_eq!(call(&rpc, b, "eth_getFilterChanges", json!([id]))["result"], json!([next]));
    assert_eq!(call(&rpc, b, "eth_uninstallFilter", json!([id]))["result"], true);
}
