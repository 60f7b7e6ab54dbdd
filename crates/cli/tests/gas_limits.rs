//! The block gas limit on a running four-node chain: a flood of txs that each loop until the
//! tx gas cap (30M) is packed three to a block under the 100M block limit, every one ends
//! out of gas, ordinary txs sent meanwhile are not starved, and blocks keep coming. Prints
//! the block intervals before and during the flood.

mod common;

use aurum_sdk::{Address, B256, BlockDetail, Bytes, Client, KeyPair, SuiteKind, TxRequest};
use common::chain::*;
use common::*;
use std::sync::Arc;

/// `JUMPDEST PUSH1 0 JUMP`: loops until its gas runs out.
const SPIN: &[u8] = &[0x5b, 0x60, 0x00, 0x56];
const TX_GAS_CAP: u64 = 30_000_000;
const BLOCK_GAS_LIMIT: u64 = aurum_executor::DEFAULT_BLOCK_GAS_LIMIT;
const LOOPS: usize = 24;
const ORDINARY: usize = 24;

/// Creation code that deploys `runtime` as is.
fn init_code(runtime: &[u8]) -> Bytes {
    let len = u8::try_from(runtime.len()).expect("short runtime");
    let mut code = vec![0x60, len, 0x60, 12, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xf3];
    code.extend_from_slice(runtime);
    code.into()
}

/// (gas used, timestamp ms) of block `n`.
fn block_gas_and_time(client: &Client, rt: &tokio::runtime::Runtime, n: u64) -> (u64, u64) {
    let block = rt.block_on(client.block_by_number(n, BlockDetail::Header)).unwrap().unwrap();
    (block.header.gas_used, block.header.timestamp_ms)
}

fn intervals_ms(times: &[u64]) -> (f64, u64) {
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1].saturating_sub(w[0])).collect();
    let mean = gaps.iter().sum::<u64>() as f64 / gaps.len().max(1) as f64;
    (mean, gaps.iter().copied().max().unwrap_or(0))
}

#[test]
fn looping_txs_at_the_tx_gas_cap_fill_blocks_only_to_the_block_gas_limit() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_consortium(&dir, 4, &["--min-seal-ms", "50", "--view-timeout-ms", "3000"]);
    for k in 0..4 {
        let path = dir.join(format!("node{k}/genesis.json"));
        let mut genesis: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        genesis["system_config"]["tx_gas_limit"] = TX_GAS_CAP.to_string().into();
        std::fs::write(&path, genesis.to_string()).unwrap();
    }
    let mut nodes: Vec<TestNode> = (0..4).map(|k| TestNode::start_node(&dir, k)).collect();
    let rt = runtime();
    let url = nodes[0].url();
    let client = rt.block_on(Client::connect(url.clone(), "group0")).unwrap();
    let cap = rt.block_on(client.system_config("tx_gas_limit")).unwrap().unwrap();
    assert_eq!(cap.value, TX_GAS_CAP.to_string());
    let deployer = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let spin = rt
        .block_on(client.send_and_wait(&deployer, TxRequest::create(init_code(SPIN))))
        .unwrap()
        .contract_address
        .expect("the loop contract is deployed");

    // Pace before the flood: ordinary txs alone.
    let senders: Vec<Arc<KeyPair>> =
        (0..8).map(|_| Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak))).collect();
    let ordinary = |k: usize| TxRequest::call(Address::repeat_byte(0x42), vec![k as u8; 8]);
    let calm_from = head(&rt, &url).unwrap();
    for (k, sender) in senders.iter().enumerate() {
        rt.block_on(client.send_and_wait(sender, ordinary(k))).unwrap();
    }
    let calm_to = head(&rt, &url).unwrap();

    // The flood: loops at the cap, ordinary txs between them.
    let flood_from = calm_to;
    let mut loops: Vec<B256> = Vec::new();
    let mut plain: Vec<B256> = Vec::new();
    rt.block_on(async {
        for k in 0..LOOPS.max(ORDINARY) {
            let key = &senders[k % senders.len()];
            if k < LOOPS {
                let req =
                    TxRequest { gas_limit: TX_GAS_CAP, ..TxRequest::call(spin, Bytes::new()) };
                loops.push(client.send_transaction(key, req).await.unwrap());
            }
            if k < ORDINARY {
                plain.push(client.send_transaction(key, ordinary(k)).await.unwrap());
            }
        }
    });
    let receipt = |h: &B256| rt.block_on(client.receipt(*h)).ok().flatten();
    wait_until(
        "every looping and ordinary tx committed",
        300,
        || loops.iter().chain(&plain).all(|h| receipt(h).is_some()),
        || all_logs(&nodes),
    );
    for h in &loops {
        let r = receipt(h).unwrap();
        assert_eq!(r.status, 2, "a loop at the cap ends out of gas: {r:?}");
        assert_eq!(r.gas_used, TX_GAS_CAP);
    }
    for h in &plain {
        assert_eq!(receipt(h).unwrap().status, 0, "ordinary txs succeed beside the loops");
    }
    let flood_to = head(&rt, &url).unwrap();
    let mut times = Vec::new();
    for n in flood_from + 1..=flood_to {
        let (gas, time) = block_gas_and_time(&client, &rt, n);
        assert!(gas <= BLOCK_GAS_LIMIT, "block {n} used {gas} gas, over {BLOCK_GAS_LIMIT}");
        times.push(time);
    }
    // Three loops fit under the limit: the flood takes at least LOOPS / 3 blocks.
    assert!(flood_to - flood_from >= (LOOPS / 3) as u64, "{} blocks", flood_to - flood_from);
    let calm: Vec<u64> =
        (calm_from..=calm_to).map(|n| block_gas_and_time(&client, &rt, n).1).collect();
    let (calm_mean, calm_max) = intervals_ms(&calm);
    let (flood_mean, flood_max) = intervals_ms(&times);
    println!(
        "block interval: calm mean {calm_mean:.0} ms (max {calm_max}), flood of {LOOPS} × {} Mgas loops mean {flood_mean:.0} ms (max {flood_max}) over {} blocks",
        TX_GAS_CAP / 1_000_000,
        flood_to - flood_from
    );
    wait_converged(&rt, &nodes, 120);
    let refs: Vec<&TestNode> = nodes.iter().collect();
    assert_no_fork_in(&rt, &refs, "group0");
    for n in &mut nodes {
        n.stop();
    }
}
