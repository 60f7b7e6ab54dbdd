//! Unit tests over a lossless in-order network, and the bounds against a faulty peer.

use super::signing::PREPARE;
use super::state::{MAX_FUTURE_PAYLOADS_PER_PEER, MAX_FUTURE_PER_PEER, VIEW_WINDOW};
use super::*;
use crate::types::*;
use alloy_primitives::{B256, Bytes, keccak256};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Unforgeable-by-construction signatures for tests: keyed hashes, all keys known to
/// verifiers, each node signing only with its own.
pub(super) struct KeyedHash(pub(super) NodeIndex);
impl Crypto for KeyedHash {
    fn hash(&self, data: &[u8]) -> B256 {
        keccak256(data)
    }
    fn sign(&self, digest: &B256) -> Bytes {
        self.sig_of(self.0, digest)
    }
    fn verify(&self, node: NodeIndex, digest: &B256, sig: &[u8]) -> bool {
        self.sig_of(node, digest).as_ref() == sig
    }
}
impl KeyedHash {
    fn sig_of(&self, node: NodeIndex, digest: &B256) -> Bytes {
        let mut buf = node.to_be_bytes().to_vec();
        buf.extend_from_slice(digest.as_slice());
        Bytes::from(keccak256(&buf).to_vec())
    }
}

/// Runs `n` nodes over a lossless in-order network; `down` never receives or sends.
fn run(n: usize, down: Option<NodeIndex>, heights: u64) -> Vec<BTreeMap<u64, B256>> {
    let validators = Validators::equal(n);
    let mut nodes: Vec<Pbft> = (0..n as u32)
        .map(|me| {
            let cfg = PbftConfig {
                validators: validators.clone(),
                me,
                base_timeout_ms: 100,
                start_height: 1,
            };
            Pbft::new(cfg, Box::new(KeyedHash(me)), None)
        })
        .collect();
    let mut committed = vec![BTreeMap::new(); n];
    let mut queue: VecDeque<(NodeIndex, Input)> = VecDeque::new();
    for (i, node) in nodes.iter_mut().enumerate() {
        let outs = node.start(0);
        route(i as NodeIndex, outs, n, &mut queue, &mut committed);
    }
    let mut now = 0;
    while now < 60_000 {
        let done = |c: &[BTreeMap<u64, B256>]| {
            c.iter().enumerate().all(|(i, c)| Some(i as u32) == down || c.len() as u64 >= heights)
        };
        while let Some((to, input)) = queue.pop_front() {
            if done(&committed) {
                return committed;
            }
            if Some(to) == down {
                continue;
            }
            let outs = nodes[to as usize].step(input);
            if Some(to) != down {
                route(to, outs, n, &mut queue, &mut committed);
            }
        }
        if committed
            .iter()
            .enumerate()
            .all(|(i, c)| Some(i as u32) == down || c.len() as u64 >= heights)
        {
            break;
        }
        now += 20;
        for i in 0..n as u32 {
            queue.push_back((i, Input::Tick { now_ms: now }));
        }
    }
    committed
}

fn route(
    from: NodeIndex,
    outs: Vec<Output>,
    n: usize,
    queue: &mut VecDeque<(NodeIndex, Input)>,
    committed: &mut [BTreeMap<u64, B256>],
) {
    for o in outs {
        match o {
            Output::Broadcast(m) => {
                for to in (0..n as u32).filter(|t| *t != from) {
                    queue.push_back((to, Input::Message { from, message: m.clone() }));
                }
            }
            Output::Send { to, message } => queue.push_back((to, Input::Message { from, message })),
            Output::Propose { height, view } => {
                let payload =
                    Bytes::from(format!("block {height} view {view} by {from}").into_bytes());
                queue.push_back((from, Input::Proposal { height, view, payload }));
            }
            Output::Validate { height, view, digest, .. } => {
                queue.push_back((from, Input::Validated { height, view, digest, valid: true }))
            }
            Output::Execute { height, digest, .. } => {
                let mut buf = digest.to_vec();
                buf.extend_from_slice(&height.to_be_bytes());
                queue.push_back((
                    from,
                    Input::Executed { height, digest, block_hash: keccak256(&buf) },
                ));
            }
            Output::Commit(d) => {
                committed[from as usize].insert(d.height, d.block_hash);
            }
            Output::Persist(_) | Output::ViewChanged { .. } | Output::CatchUp { .. } => {}
        }
    }
}

#[test]
fn four_honest_nodes_agree_on_every_height() {
    let committed = run(4, None, 10);
    for c in &committed {
        assert!(c.len() >= 10, "only {} heights", c.len());
    }
    for h in 1..=10 {
        let hashes: BTreeSet<_> = committed.iter().map(|c| c[&h]).collect();
        assert_eq!(hashes.len(), 1, "height {h}");
    }
}

#[test]
fn a_crashed_leader_is_replaced_by_view_change() {
    // Node 1 leads height 1 in view 0 and is down: the rest change view and go on.
    let committed = run(4, Some(1), 6);
    for (i, c) in committed.iter().enumerate().filter(|(i, _)| *i != 1) {
        assert!(c.len() >= 6, "node {i} committed {} heights", c.len());
    }
    for h in 1..=6 {
        let hashes: BTreeSet<_> =
            committed.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, c)| c[&h]).collect();
        assert_eq!(hashes.len(), 1, "height {h}");
    }
}

#[test]
fn quorum_and_leader_arithmetic() {
    let v = Validators::equal(4);
    assert_eq!((v.quorum(), v.one_honest()), (3, 2));
    let v = Validators::equal(7);
    assert_eq!((v.quorum(), v.one_honest()), (5, 3));
    let v = Validators { weights: vec![3, 1, 1, 1], leader_period: 2 };
    assert_eq!(v.quorum(), 5);
    assert_eq!((v.leader(0, 0), v.leader(1, 0), v.leader(2, 0), v.leader(2, 1)), (0, 0, 1, 2));
}

#[test]
fn a_faulty_peer_cannot_make_a_node_buffer_without_bound() {
    let cfg = PbftConfig {
        validators: Validators::equal(4),
        me: 0,
        base_timeout_ms: 1000,
        start_height: 1,
    };
    let mut node = Pbft::new(cfg, Box::new(KeyedHash(0)), None);
    let _ = node.start(0);
    let payload = Bytes::from(vec![7u8; 1024]);
    // Proposals for future heights: only a few are kept per peer.
    for height in 2..100 {
        let digest = keccak256(&payload);
        let m = Message::PrePrepare { height, view: 0, digest, payload: payload.clone() };
        let _ = node.step(Input::Message { from: 3, message: m });
    }
    assert_eq!(node.future.len(), MAX_FUTURE_PAYLOADS_PER_PEER);
    // Small future votes are capped per peer too.
    for height in 2..2000 {
        let m = Message::Commit { height, view: 0, digest: B256::ZERO, sig: Bytes::new() };
        let _ = node.step(Input::Message { from: 3, message: m });
    }
    assert_eq!(node.future.len(), MAX_FUTURE_PER_PEER);
    // Votes for far-future views and second votes in a view are dropped.
    let vote = |view: u64, digest: B256| {
        let h = node.vote_hash(PREPARE, view, &digest, &B256::ZERO);
        Message::Prepare { height: 1, view, digest, sig: KeyedHash(2).sign(&h) }
    };
    let far = vote(VIEW_WINDOW + 5, B256::repeat_byte(1));
    let first = vote(0, B256::repeat_byte(1));
    let second = vote(0, B256::repeat_byte(2));
    for m in [far, first, second] {
        let _ = node.step(Input::Message { from: 2, message: m });
    }
    assert_eq!(node.round.prepares.len(), 1);
    assert!(node.round.prepares.contains_key(&(0, B256::repeat_byte(1))));
}
