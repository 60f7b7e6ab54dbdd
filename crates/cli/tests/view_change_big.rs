//! Seven sealers (f = 2) whose blocks are near the 5 MiB proposal cap: one sealer is killed
//! while such blocks are in flight, so its turn as leader comes up within seven heights and
//! the others must change view with votes and a new-view message about proposals that large
//! (a view change that cannot be sent would stall the chain). Every tx still commits, on
//! every live node, with no fork.

mod common;

use aurum_sdk::{
    Address, B256, BlockDetail, BlockTxs, Bytes, Client, KeyPair, SuiteKind, TxRequest,
};
use common::chain::*;
use common::*;
use std::sync::Arc;

const NODES: u16 = 7;
/// Txs this big fill a 5 MiB proposal with twelve (the byte cap binds before the gas limit:
/// 12 × 6.4M gas is under 100M).
const TX_BYTES: usize = 400 * 1024;
const TXS_PER_BLOCK: usize = 12;
/// Senders share the load: one sender may hold 12.8 MiB in a pool.
const SENDERS: usize = 6;

fn big_input(k: usize) -> Bytes {
    // Non-zero, varied bytes (nothing on the way compresses or dedups them).
    Bytes::from((0..TX_BYTES).map(|i| ((i * 31 + k * 7) % 251 + 1) as u8).collect::<Vec<u8>>())
}

/// Sends `count` big txs round-robin from `senders` through `url`; their hashes.
fn send_big(
    rt: &tokio::runtime::Runtime,
    url: &str,
    senders: &[Arc<KeyPair>],
    from: usize,
    count: usize,
) -> Vec<B256> {
    rt.block_on(async {
        let client = Client::connect(url.to_string(), "group0").await.unwrap();
        let mut hashes = Vec::new();
        for k in from..from + count {
            let key = &senders[k % senders.len()];
            let req = TxRequest::call(Address::repeat_byte(0x42), big_input(k));
            hashes.push(client.send_transaction(key, req).await.expect("a big tx is admitted"));
        }
        hashes
    })
}

/// Bytes of tx input in block `n` (as node `url` serves it).
fn block_bytes(rt: &tokio::runtime::Runtime, url: &str, n: u64) -> usize {
    rt.block_on(async {
        let client = Client::connect(url.to_string(), "group0").await.unwrap();
        let block = client.block_by_number(n, BlockDetail::FullTxs).await.unwrap().unwrap();
        match block.transactions {
            Some(BlockTxs::Full(txs)) => txs.iter().map(|t| t.input.len()).sum(),
            _ => 0,
        }
    })
}

fn committed_everywhere(rt: &tokio::runtime::Runtime, urls: &[String], hashes: &[B256]) -> bool {
    rt.block_on(async {
        for url in urls {
            let Ok(client) = Client::connect(url.clone(), "group0").await else { return false };
            for h in hashes.iter().rev() {
                if !matches!(client.receipt(*h).await, Ok(Some(_))) {
                    return false;
                }
            }
        }
        true
    })
}

#[test]
fn seven_sealers_with_near_cap_blocks_change_view_and_go_on() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_consortium(&dir, NODES, &["--min-seal-ms", "200", "--view-timeout-ms", "2000"]);
    let mut nodes: Vec<TestNode> =
        (0..NODES as usize).map(|k| TestNode::start_node(&dir, k)).collect();
    let rt = runtime();
    let url = nodes[0].url();
    let peers = |url: &str| {
        rt.block_on(async {
            let client = Client::connect(url.to_string(), "group0").await.unwrap();
            let list: serde_json::Value =
                client.request("getPeers", serde_json::json!([])).await.unwrap();
            list.as_array().map_or(0, |a| a.len())
        })
    };
    wait_until(
        "a full mesh of seven",
        120,
        || nodes.iter().all(|n| peers(&n.url()) == 6),
        || all_logs(&nodes),
    );
    let senders: Vec<Arc<KeyPair>> =
        (0..SENDERS).map(|_| Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak))).collect();

    // Two blocks' worth first: blocks that large commit at all.
    let first = send_big(&rt, &url, &senders, 0, 2 * TXS_PER_BLOCK);
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    wait_until(
        "the first big txs committed everywhere",
        240,
        || committed_everywhere(&rt, &urls, &first),
        || all_logs(&nodes),
    );
    let before = head(&rt, &url).unwrap();
    let largest = (1..=before).map(|n| block_bytes(&rt, &url, n)).max().unwrap_or(0);
    assert!(largest > 4 << 20, "a block of {largest} bytes of txs: not near the 5 MiB cap");

    // Kill one sealer: it is the leader of one of the next seven heights.
    let victim = 3;
    nodes[victim].kill9();
    let live: Vec<usize> = (0..NODES as usize).filter(|&k| k != victim).collect();
    let live_urls: Vec<String> = live.iter().map(|&k| nodes[k].url()).collect();
    let rest = send_big(&rt, &url, &senders, first.len(), 9 * TXS_PER_BLOCK);
    wait_until(
        "every big tx committed on every live node after the kill",
        600,
        || committed_everywhere(&rt, &live_urls, &rest),
        || all_logs(&nodes),
    );
    let after = head(&rt, &url).unwrap();
    assert!(after >= before + 8, "only {} blocks after the kill", after - before);
    let full = (before + 1..=after).filter(|&n| block_bytes(&rt, &url, n) > 4 << 20).count();
    assert!(full >= 7, "{full} near-cap blocks after the kill (heights {before}..{after})");
    let logs: String = live.iter().map(|&k| nodes[k].log()).collect();
    assert!(
        logs.contains("view change"),
        "no view change although a leader was down:\n{}",
        all_logs(&nodes)
    );
    for line in logs.lines() {
        assert!(!line.contains(" ERROR "), "an ERROR line: {line}");
        assert!(!line.contains("too large"), "a message was too large to send: {line}");
    }
    let refs: Vec<&TestNode> = live.iter().map(|&k| &nodes[k]).collect();
    assert_no_fork_in(&rt, &refs, "group0");
    for n in &mut nodes {
        n.stop();
    }
}
