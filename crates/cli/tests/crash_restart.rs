//! Under continuous load, kill -9 the node and restart it: every tx whose receipt was
//! returned is still there, in the same block with the same block hash, and the token
//! state agrees with the txs the ledger holds.

mod common;

use aurum_sdk::{Client, DynSolValue, KeyPair, TxRequest, U256, abi, load_artifact};
use common::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// (block number, block hash) each receipt named, by tx hash.
type Seen = Arc<Mutex<HashMap<aurum_sdk::B256, (u64, aurum_sdk::B256)>>>;

#[test]
fn kill_nine_under_load_loses_no_acknowledged_tx() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_chain(&dir, &["--min-seal-ms", "50"]);
    let rt = runtime();
    let mut node = TestNode::start(&dir);

    let (abi, bytecode) = load_artifact(artifact("AurumToken")).unwrap();
    let key = Arc::new(KeyPair::generate(aurum_sdk::SuiteKind::Secp256k1Keccak));
    let recipient = KeyPair::generate(aurum_sdk::SuiteKind::Secp256k1Keccak).address();
    let token = rt.block_on(async {
        let client = Client::connect(node.url(), "group0").await.unwrap();
        let args = [
            DynSolValue::String("Crash".into()),
            DynSolValue::String("CR".into()),
            DynSolValue::Uint(U256::from(10u64).pow(U256::from(30u64)), 256),
        ];
        client.deploy(&key, &abi, &bytecode, &args).await.unwrap().address
    });
    let transfer = abi::find_function(&abi, "transfer", 2).unwrap().clone();
    let input = abi::encode_call(&transfer, &[recipient.into(), U256::from(1u64).into()]).unwrap();

    let seen: Seen = Arc::default();
    let mut sent_total: Vec<aurum_sdk::B256> = Vec::new();
    let mut unanswered_total = 0u64;
    for round in 0..3 {
        let url = node.url();
        let stop = Arc::new(AtomicBool::new(false));
        // Load: 4 senders, each keeping 25 txs in flight and recording every receipt.
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (url, key, input, seen, stop) = (
                    url.clone(),
                    Arc::clone(&key),
                    input.clone(),
                    Arc::clone(&seen),
                    Arc::clone(&stop),
                );
                rt.spawn(async move {
                    // (accepted hashes, whether a send failed: the node may have taken that
                    // tx before it died without the answer reaching us)
                    let mut sent: Vec<aurum_sdk::B256> = Vec::new();
                    let Ok(client) = Client::connect(url, "group0").await else { return (sent, 0) };
                    while !stop.load(Ordering::Relaxed) {
                        let mut batch = Vec::new();
                        for _ in 0..25 {
                            let req = TxRequest::call(token, input.clone());
                            match client.send_transaction(&key, req).await {
                                Ok(h) => {
                                    sent.push(h);
                                    batch.push(h);
                                }
                                Err(_) => return (sent, 1),
                            }
                        }
                        for h in batch {
                            match client.wait_for_receipt(h, Duration::from_secs(30)).await {
                                Ok(r) => {
                                    seen.lock().await.insert(h, (r.block_number, r.block_hash));
                                }
                                Err(_) => return (sent, 0),
                            }
                        }
                    }
                    (sent, 0)
                })
            })
            .collect();
        // Let the load run until receipts keep coming, then kill mid-flight.
        let before = rt.block_on(async { seen.lock().await.len() });
        let deadline = Instant::now() + Duration::from_secs(120);
        while rt.block_on(async { seen.lock().await.len() }) < before + 150 {
            assert!(Instant::now() < deadline, "load made no progress:\n{}", node.log_tail());
            std::thread::sleep(Duration::from_millis(20));
        }
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            let (sent, unanswered) = rt.block_on(w).unwrap();
            sent_total.extend(sent);
            unanswered_total += unanswered;
        }

        node = TestNode::start(&dir);
        let seen_now = rt.block_on(async { seen.lock().await.clone() });
        rt.block_on(async {
            let client = Client::connect(node.url(), "group0").await.unwrap();
            for (hash, (number, block_hash)) in &seen_now {
                let r = client.receipt(*hash).await.unwrap().unwrap_or_else(|| {
                    panic!("round {round}: acknowledged tx {hash} is gone after kill -9")
                });
                assert_eq!(
                    (r.block_number, r.block_hash),
                    (*number, *block_hash),
                    "tx {hash} moved"
                );
                assert_eq!(client.block_hash_by_number(*number).await.unwrap(), Some(*block_hash));
            }
            // State agrees with the ledger: one token unit per committed transfer.
            let mut committed = 0u64;
            for hash in &sent_total {
                if client.receipt(*hash).await.unwrap().is_some() {
                    committed += 1;
                }
            }
            let balance = client.call(token, &abi, "balanceOf", &[recipient.into()]).await.unwrap();
            let DynSolValue::Uint(balance, _) = balance[0] else {
                panic!("balanceOf: {balance:?}")
            };
            // Sends that failed when the node died may or may not have been taken first.
            let (low, high) = (U256::from(committed), U256::from(committed + unanswered_total));
            assert!(
                low <= balance && balance <= high,
                "round {round}: balance {balance} outside [{low}, {high}] committed transfers"
            );
            assert!(committed as usize >= seen_now.len());
        });
    }
    // The restarted node still seals.
    rt.block_on(async {
        let client = Client::connect(node.url(), "group0").await.unwrap();
        let receipt =
            client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap();
        assert_eq!(receipt.status, 0);
    });
    node.stop();
}
