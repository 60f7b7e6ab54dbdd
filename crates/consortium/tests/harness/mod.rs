//! The in-process multi-node harness: N whole nodes (pool, PBFT driver, sync, gossip,
//! executor, ledger on `MemStore`) in one process, linked by the in-memory [`Hub`] whose
//! [`Chaos`] links lose, delay, reorder, duplicate and corrupt messages and cut nodes off,
//! all drawn from one seed. A scenario is a seed: the same seed gives the same fault plan,
//! workload and keys (thread timing still varies from run to run, which is the point of
//! running many).
#![allow(dead_code)]

pub mod chaos;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use aurum_consortium::hub::{Hub, Links};
use aurum_consortium::{Consortium, Options, inbound_queues};
use aurum_crypto::{KeyPair, SuiteKind};
use aurum_executor::ExecMode;
use aurum_group::{Group, GroupOptions};
use aurum_ledger::{Genesis, GenesisNode};
use aurum_network::NodeId;
use aurum_primitives::{NativeTx, Transaction};
use aurum_storage::{KvStore, MemStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const GROUP: &str = "group0";

/// Fast timings: a scenario lasts about a second unless a fault holds it up.
pub fn options() -> Options {
    Options { base_timeout_ms: 400, min_seal_interval: Duration::from_millis(20), idle_block: None }
}

/// Node `i` executes in its own mode, so every block is also a cross-mode determinism check.
fn exec_mode(i: usize) -> (ExecMode, usize) {
    match i % 4 {
        0 => (ExecMode::Serial, 1),
        1 => (ExecMode::Dag, 2),
        2 => (ExecMode::Optimistic, 2),
        _ => (ExecMode::Auto, 2),
    }
}

/// A key drawn from the seed (replays see the same node ids and senders).
pub fn seeded_key(seed: u64, index: u64) -> KeyPair {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&seed.to_be_bytes());
    secret[8..16].copy_from_slice(&index.to_be_bytes());
    secret[31] = 1;
    KeyPair::from_secret(SuiteKind::Secp256k1Keccak, &secret).expect("a valid secret")
}

pub struct Node {
    pub key: KeyPair,
    store: Arc<dyn KvStore>,
    group: Option<Arc<Group>>,
    running: Option<Consortium>,
}

/// N sealers of one group over one hub.
pub struct Cluster {
    pub hub: Hub,
    pub genesis: Genesis,
    pub nodes: Vec<Node>,
    options: Options,
}

impl Cluster {
    /// `n` sealers with keys from `seed`, linked by `links`; none started yet.
    pub fn new(seed: u64, n: usize, links: impl Links) -> Cluster {
        let keys: Vec<KeyPair> = (0..n as u64).map(|i| seeded_key(seed, i)).collect();
        let genesis = Genesis {
            chain_id: "chain0".into(),
            group_id: GROUP.into(),
            crypto: "secp256k1".into(),
            timestamp_ms: 1_700_000_000_000,
            sealers: keys
                .iter()
                .map(|k| GenesisNode { node_id: k.public().to_hex(), weight: 1 })
                .collect(),
            observers: vec![],
            system_config: BTreeMap::new(),
            admins: vec![],
            alloc: BTreeMap::new(),
        };
        let nodes = keys
            .into_iter()
            .map(|key| Node { key, store: Arc::new(MemStore::new()), group: None, running: None })
            .collect();
        Cluster { hub: Hub::new(links), genesis, nodes, options: options() }
    }

    pub fn id(&self, i: usize) -> NodeId {
        self.nodes[i].key.public()
    }

    pub fn ids(&self) -> Vec<NodeId> {
        (0..self.nodes.len()).map(|i| self.id(i)).collect()
    }

    /// Opens node `i`'s group over its storage (as a restarted process would) and starts it.
    pub fn start(&mut self, i: usize) {
        let (mode, threads) = exec_mode(i);
        let options = GroupOptions { exec_mode: mode, exec_threads: threads, ..Default::default() };
        let node = &mut self.nodes[i];
        assert!(node.running.is_none(), "node {i} is already running");
        let group =
            Group::open(Arc::clone(&node.store), self.genesis.clone(), node.key.clone(), options)
                .expect("open the group");
        let (inbound, queues) = inbound_queues();
        self.hub.attach(node.key.public(), GROUP, inbound);
        let link = self.hub.link(node.key.public());
        let running = Consortium::start_linked(
            Arc::clone(&group),
            link,
            queues,
            Arc::clone(&node.store),
            self.options.clone(),
        )
        .expect("start the node");
        node.group = Some(group);
        node.running = Some(running);
    }

    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// Stops node `i` at once, as a crash would (its pool is lost, its storage kept).
    pub fn crash(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        self.hub.detach(&node.key.public(), GROUP);
        if let Some(running) = node.running.take() {
            running.stop();
        }
        node.group = None;
    }

    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i].running.is_some()
    }

    pub fn group(&self, i: usize) -> &Arc<Group> {
        self.nodes[i].group.as_ref().expect("node is running")
    }

    pub fn head(&self, i: usize) -> u64 {
        self.group(i).ledger().head_number().expect("read the head")
    }

    /// Stops every node (the hub stops when the cluster is dropped).
    pub fn stop_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.crash(i);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// A cheap native tx from `sender` (a call to an empty account).
pub fn transfer(group: &Group, sender: &KeyPair, nonce: u64) -> Transaction {
    let data = NativeTx {
        chain_id: "chain0".into(),
        group_id: GROUP.into(),
        block_limit: 1_000,
        nonce: U256::from(nonce),
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::ZERO,
        input: Bytes::from_static(b"hello"),
        gas_limit: 0,
        conflict_keys: vec![],
    };
    Transaction::Native(data.sign(&**group.suite(), sender))
}

/// Waits until `done` holds, polling; false at the deadline.
pub fn wait_for(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Safety across the running nodes: the same block hash at every height all of them have,
/// and every given tx in the same block on each. Returns the first disagreement.
pub fn check_agreement(cluster: &Cluster, txs: &[B256]) -> Result<(), String> {
    let running: Vec<usize> = (0..cluster.nodes.len()).filter(|&i| cluster.is_running(i)).collect();
    let common = running.iter().map(|&i| cluster.head(i)).min().unwrap_or(0);
    for height in 0..=common {
        let hashes: Vec<Option<B256>> = running
            .iter()
            .map(|&i| cluster.group(i).ledger().block_hash(height).expect("read a block hash"))
            .collect();
        if hashes.windows(2).any(|w| w[0] != w[1]) {
            return Err(format!("fork at height {height}: {hashes:?}"));
        }
    }
    for tx in txs {
        let places: Vec<Option<u64>> = running
            .iter()
            .map(|&i| {
                cluster.group(i).ledger().tx_location(tx).expect("read a tx").map(|l| l.number)
            })
            .collect();
        if places.windows(2).any(|w| w[0] != w[1]) {
            return Err(format!("tx {tx} in different blocks: {places:?}"));
        }
    }
    Ok(())
}
