//! Helpers for tests that run a chain of node processes: heads, waiting on conditions,
//! a token and a load that records every receipt, convergence and fork checks.

use super::{TestNode, artifact};
use aurum_sdk::{Address, Client, DynSolValue, KeyPair, TxRequest, U256, abi};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

/// (block number, block hash) each receipt named, by tx hash.
pub type Seen = Arc<Mutex<HashMap<aurum_sdk::B256, (u64, aurum_sdk::B256)>>>;

pub fn head(rt: &Runtime, url: &str) -> Option<u64> {
    head_in(rt, url, "group0")
}

pub fn head_in(rt: &Runtime, url: &str, group: &str) -> Option<u64> {
    rt.block_on(async {
        let client = Client::connect(url.to_string(), group).await.ok()?;
        client.block_number().await.ok()
    })
}

/// Waits (up to `secs`) until `cond` holds, polling every 100 ms.
pub fn wait_until(
    what: &str,
    secs: u64,
    mut cond: impl FnMut() -> bool,
    logs: impl Fn() -> String,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}\n{}", logs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn all_logs(nodes: &[TestNode]) -> String {
    nodes
        .iter()
        .map(|n| format!("--- node{} ---\n{}", n.index, n.log_tail()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Deploys the test token through `url`; returns (token, transfer call data).
pub fn deploy_token(rt: &Runtime, url: &str, key: &KeyPair) -> (Address, aurum_sdk::Bytes) {
    deploy_token_in(rt, url, "group0", key)
}

pub fn deploy_token_in(
    rt: &Runtime,
    url: &str,
    group: &str,
    key: &KeyPair,
) -> (Address, aurum_sdk::Bytes) {
    let (abi, bytecode) = aurum_sdk::load_artifact(artifact("AurumToken")).unwrap();
    let token = rt.block_on(async {
        let client = Client::connect(url.to_string(), group).await.unwrap();
        let args = [
            DynSolValue::String("Consortium".into()),
            DynSolValue::String("CT".into()),
            DynSolValue::Uint(U256::from(10u64).pow(U256::from(30u64)), 256),
        ];
        client.deploy(key, &abi, &bytecode, &args).await.unwrap().address
    });
    let recipient = Address::repeat_byte(0x42);
    let transfer = abi::find_function(&abi, "transfer", 2).unwrap().clone();
    let input = abi::encode_call(&transfer, &[recipient.into(), U256::from(1u64).into()]).unwrap();
    (token, input)
}

/// Senders keeping txs in flight against one node, recording every receipt, until stopped.
pub struct Load {
    stop: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub fn start(
        rt: &Runtime,
        url: &str,
        key: &Arc<KeyPair>,
        token: Address,
        input: &aurum_sdk::Bytes,
        seen: &Seen,
    ) -> Load {
        Self::start_in(rt, url, "group0", key, token, input, seen)
    }

    pub fn start_in(
        rt: &Runtime,
        url: &str,
        group: &str,
        key: &Arc<KeyPair>,
        token: Address,
        input: &aurum_sdk::Bytes,
        seen: &Seen,
    ) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..2)
            .map(|_| {
                let (url, group, key, input, seen, stop) = (
                    url.to_string(),
                    group.to_string(),
                    Arc::clone(key),
                    input.clone(),
                    Arc::clone(seen),
                    Arc::clone(&stop),
                );
                rt.spawn(async move {
                    let Ok(client) = Client::connect(url, group).await else { return };
                    while !stop.load(Ordering::Relaxed) {
                        let mut batch = Vec::new();
                        for _ in 0..20 {
                            match client
                                .send_transaction(&key, TxRequest::call(token, input.clone()))
                                .await
                            {
                                Ok(h) => batch.push(h),
                                Err(_) => return,
                            }
                        }
                        for h in batch {
                            match client.wait_for_receipt(h, Duration::from_secs(60)).await {
                                Ok(r) => {
                                    seen.lock().await.insert(h, (r.block_number, r.block_hash));
                                }
                                Err(_) => return,
                            }
                        }
                    }
                })
            })
            .collect();
        Load { stop, workers }
    }

    pub fn finish(self, rt: &Runtime) {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            let _ = rt.block_on(w);
        }
    }
}

/// Every node reports the same block hash at every height up to the lowest head.
pub fn assert_no_fork_in(rt: &Runtime, nodes: &[&TestNode], group: &str) -> u64 {
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    rt.block_on(async {
        let mut clients = Vec::new();
        for u in &urls {
            clients.push(Client::connect(u.clone(), group).await.unwrap());
        }
        let mut low = u64::MAX;
        for c in &clients {
            low = low.min(c.block_number().await.unwrap());
        }
        for number in 0..=low {
            let first = clients[0].block_hash_by_number(number).await.unwrap();
            for (k, c) in clients.iter().enumerate().skip(1) {
                assert_eq!(
                    c.block_hash_by_number(number).await.unwrap(),
                    first,
                    "node{k} differs from node0 at height {number}"
                );
            }
        }
        low
    })
}

/// Waits until every node has the same head (the chain idle), then checks for forks.
pub fn wait_converged(rt: &Runtime, nodes: &[TestNode], secs: u64) -> u64 {
    wait_converged_in(rt, &nodes.iter().collect::<Vec<_>>(), "group0", secs)
}

pub fn wait_converged_in(rt: &Runtime, nodes: &[&TestNode], group: &str, secs: u64) -> u64 {
    wait_until(
        &format!("all nodes of {group} to reach the same head"),
        secs,
        || {
            let heads: Vec<Option<u64>> =
                nodes.iter().map(|n| head_in(rt, &n.url(), group)).collect();
            heads.iter().all(|h| h.is_some() && *h == heads[0])
        },
        || nodes.iter().map(|n| n.log_tail()).collect::<Vec<_>>().join("\n"),
    );
    assert_no_fork_in(rt, nodes, group)
}
