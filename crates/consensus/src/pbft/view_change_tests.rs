//! View changes with proposals at the size cap: the worst case (every node prepared, so every
//! view-change vote names a certificate) measured with the real codec against the network's
//! frame limit, before (wire version 1: certificates with payloads) and after; a new leader
//! that never saw the proposal; a vote handing the leader a false payload.

use super::tests::KeyedHash;
use super::*;
use crate::codec::v1;
use crate::types::*;
use alloy_primitives::{B256, Bytes, keccak256};
use std::collections::{BTreeMap, VecDeque};

/// The network's frame limit (`aurum_network::DEFAULT_MAX_FRAME_BYTES`), and its routing
/// header at most (group id length byte, a group id of up to 255 bytes, module byte).
const FRAME_LIMIT: usize = 32 << 20;
const FRAME_HEADER: usize = 2 + 255;
/// The largest proposal (`aurum_group::MAX_PROPOSAL_BYTES`).
const MAX_PROPOSAL: usize = 5 << 20;
const TIMEOUT_MS: u64 = 1_000;

/// Signatures as wide as the widest suite's (an SM2 signature with its public key) so the
/// measured sizes are not flattered: a keyed hash, repeated.
struct WideSig(KeyedHash);
impl Crypto for WideSig {
    fn hash(&self, data: &[u8]) -> B256 {
        self.0.hash(data)
    }
    fn sign(&self, digest: &B256) -> Bytes {
        self.0.sign(digest).repeat(4).into()
    }
    fn verify(&self, node: NodeIndex, digest: &B256, sig: &[u8]) -> bool {
        sig.len() == 128 && self.0.verify(node, digest, &sig[..32]) && sig[..64] == sig[64..]
    }
}

/// The largest message seen, now and as wire version 1 would have encoded it.
#[derive(Default, Debug)]
struct Largest {
    after: (usize, String),
    before: (usize, String),
}

/// `n` nodes over an in-order network that the test filters; every payload is known by
/// digest (to measure wire version 1, whose certificates carried them).
struct Net {
    nodes: Vec<Pbft>,
    queue: VecDeque<(NodeIndex, NodeIndex, Message)>,
    payloads: BTreeMap<B256, Bytes>,
    committed: Vec<Option<B256>>,
    entered: Vec<u64>,
    /// Every new-view message sent: (leader, view, digest).
    new_views: Vec<(NodeIndex, u64, B256)>,
    largest: Largest,
}

fn name(m: &Message) -> String {
    format!("{m:?}").split([' ', '(', '{']).next().unwrap_or_default().to_string()
}

impl Net {
    fn new(n: usize) -> Net {
        let nodes = (0..n as u32)
            .map(|me| {
                let cfg = PbftConfig {
                    validators: Validators::equal(n),
                    me,
                    base_timeout_ms: TIMEOUT_MS,
                    start_height: 1,
                };
                Pbft::new(cfg, Box::new(WideSig(KeyedHash(me))), None)
            })
            .collect();
        Net {
            nodes,
            queue: VecDeque::new(),
            payloads: BTreeMap::new(),
            committed: vec![None; n],
            entered: vec![0; n],
            new_views: Vec::new(),
            largest: Largest::default(),
        }
    }

    fn measure(&mut self, m: &Message) {
        let after = m.encoded_len();
        let payload_of = |d: &B256| self.payloads.get(d).cloned();
        let before = match m {
            // Version 1 sent the certificate's payload in every copy of a view-change vote,
            // and in every vote of a new-view justification.
            Message::ViewChange { vote, .. } => {
                let p = vote.prepared.as_ref().and_then(|p| payload_of(&p.digest));
                v1::view_change(vote, p.as_ref()).len()
            }
            Message::NewView { height, view, justification, digest, payload } => {
                v1::new_view(*height, *view, justification, payload_of, *digest, payload).len()
            }
            m => v1::unchanged(m).len(),
        };
        if after > self.largest.after.0 {
            self.largest.after = (after, name(m));
        }
        if before > self.largest.before.0 {
            self.largest.before = (before, name(m));
        }
    }

    fn perform(&mut self, from: NodeIndex, outs: Vec<Output>) {
        for o in outs {
            match o {
                Output::Broadcast(m) => {
                    self.measure(&m);
                    if let Message::NewView { view, digest, .. } = &m {
                        self.new_views.push((from, *view, *digest));
                    }
                    for to in (0..self.nodes.len() as u32).filter(|t| *t != from) {
                        self.queue.push_back((from, to, m.clone()));
                    }
                }
                Output::Send { to, message } => {
                    self.measure(&message);
                    self.queue.push_back((from, to, message));
                }
                // Height 1 is what is tested: no proposals after it.
                Output::Propose { height, .. } if height > 1 => {}
                Output::Propose { height, view } => {
                    // A proposal at the cap, different per (leader, view).
                    let mut p = vec![0u8; MAX_PROPOSAL];
                    p[..24].copy_from_slice(
                        &[height.to_be_bytes(), view.to_be_bytes(), u64::from(from).to_be_bytes()]
                            .concat(),
                    );
                    let payload = Bytes::from(p);
                    self.payloads.insert(keccak256(&payload), payload.clone());
                    let outs =
                        self.nodes[from as usize].step(Input::Proposal { height, view, payload });
                    self.perform(from, outs);
                }
                Output::Validate { height, view, digest, .. } => {
                    let outs = self.nodes[from as usize].step(Input::Validated {
                        height,
                        view,
                        digest,
                        valid: true,
                    });
                    self.perform(from, outs);
                }
                Output::Execute { height, digest, .. } => {
                    let block_hash = keccak256([digest.as_slice(), &height.to_be_bytes()].concat());
                    let outs = self.nodes[from as usize].step(Input::Executed {
                        height,
                        digest,
                        block_hash,
                    });
                    self.perform(from, outs);
                }
                Output::Commit(d) => self.committed[from as usize] = Some(d.digest),
                Output::ViewChanged { view, .. } => self.entered[from as usize] = view,
                Output::Persist(_) | Output::CatchUp { .. } => {}
            }
        }
    }

    /// Delivers until the queue is empty; `keep` filters (from, to, message).
    fn deliver(&mut self, keep: impl Fn(NodeIndex, NodeIndex, &Message) -> bool) {
        while let Some((from, to, m)) = self.queue.pop_front() {
            if keep(from, to, &m) {
                let outs = self.nodes[to as usize].step(Input::Message { from, message: m });
                self.perform(to, outs);
            }
        }
    }

    fn tick(&mut self, node: NodeIndex, now_ms: u64) {
        let outs = self.nodes[node as usize].step(Input::Tick { now_ms });
        self.perform(node, outs);
    }

    fn start(&mut self) {
        for i in 0..self.nodes.len() {
            let outs = self.nodes[i].start(0);
            self.perform(i as NodeIndex, outs);
        }
    }
}

fn no_commits(_: NodeIndex, _: NodeIndex, m: &Message) -> bool {
    !matches!(m, Message::Commit { .. } | Message::Committed { .. })
}

/// Commits of view 0 stay lost; later views' go through.
fn no_view_0_commits(_: NodeIndex, _: NodeIndex, m: &Message) -> bool {
    !matches!(m, Message::Commit { view: 0, .. } | Message::Committed { view: 0, .. })
}

/// Height 1 is proposed and prepared by `prepared` nodes (the others hear nothing), commits
/// are lost, everyone times out; then the network heals. Returns the view-0 digest.
fn prepared_then_view_change(net: &mut Net, cut_off: &[NodeIndex]) -> B256 {
    let n = net.nodes.len();
    net.start();
    let cut = cut_off.to_vec();
    net.deliver(|f, t, m| no_commits(f, t, m) && !cut.contains(&t) && !cut.contains(&f));
    let d0 = *net.payloads.keys().next().expect("the view-0 leader proposed");
    for (i, node) in net.nodes.iter().enumerate() {
        let locked = node.persisted.locked.as_ref().map(|c| c.digest);
        let expect = (!cut_off.contains(&(i as u32))).then_some(d0);
        assert_eq!(locked, expect, "node {i}'s lock after view 0");
    }
    // Every node times out (the new leader last, so its votes are all in when it decides
    // to lead), commits of view 0 still lost.
    let leader = net.nodes[0].cfg.validators.leader(1, 1);
    for i in (0..n as u32).filter(|i| *i != leader).chain([leader]) {
        net.tick(i, TIMEOUT_MS + 1);
    }
    net.deliver(no_view_0_commits);
    d0
}

fn worst_case(n: usize) -> Largest {
    let mut net = Net::new(n);
    let d0 = prepared_then_view_change(&mut net, &[]);
    assert!(net.entered.iter().all(|v| *v == 1), "n = {n}: every node entered view 1");
    assert!(
        net.committed.iter().all(|c| *c == Some(d0)),
        "n = {n}: every node committed the proposal prepared in view 0: {:?}",
        net.committed
    );
    net.largest
}

#[test]
fn worst_case_view_change_fits_a_frame_before_vs_after() {
    for n in [7, 10] {
        let largest = worst_case(n);
        let mib = |b: usize| b as f64 / (1 << 20) as f64;
        println!(
            "n = {n}, every node prepared a {} MiB proposal: largest message before (wire v1) \
             {} bytes ({:.2} MiB, {}), after {} bytes ({:.2} MiB, {}); frame limit {} bytes",
            MAX_PROPOSAL >> 20,
            largest.before.0,
            mib(largest.before.0),
            largest.before.1,
            largest.after.0,
            mib(largest.after.0),
            largest.after.1,
            FRAME_LIMIT
        );
        assert!(largest.after.0 + FRAME_HEADER <= FRAME_LIMIT, "n = {n}: {largest:?}");
        // One payload plus signatures, however many nodes prepared.
        assert!(largest.after.0 < MAX_PROPOSAL + 64 * 1024, "n = {n}: {largest:?}");
        assert!(largest.before.0 > largest.after.0 * 5, "n = {n}: {largest:?}");
        if n == 10 {
            assert!(largest.before.0 + FRAME_HEADER > FRAME_LIMIT, "n = {n}: {largest:?}");
        }
    }
}

#[test]
fn a_new_leader_that_never_saw_the_proposal_gets_it_with_the_view_changes() {
    let n = 7;
    let mut net = Net::new(n);
    let leader = net.nodes[0].cfg.validators.leader(1, 1);
    let d0 = prepared_then_view_change(&mut net, &[leader]);
    // It had nothing of view 0, yet re-proposed it: the payload came with a vote.
    assert_eq!(net.new_views, vec![(leader, 1, d0)]);
    assert!(net.entered.iter().all(|v| *v == 1), "every node entered view 1");
    assert!(net.committed.iter().all(|c| *c == Some(d0)), "{:?}", net.committed);
}

#[test]
fn a_view_change_handing_the_leader_a_false_payload_is_dropped() {
    let n = 7;
    let mut net = Net::new(n);
    let leader = net.nodes[0].cfg.validators.leader(1, 1);
    net.start();
    net.deliver(|f, t, m| no_commits(f, t, m) && t != leader && f != leader);
    let d0 = *net.payloads.keys().next().expect("proposed");
    // A prepared node's vote for view 1, to the leader, with another payload than its
    // certificate names: dropped whole (vote and payload).
    let sender = (0..n as u32).find(|i| *i != leader).unwrap_or_default();
    let tick = net.nodes[sender as usize].step(Input::Tick { now_ms: TIMEOUT_MS + 1 });
    let vote = tick
        .into_iter()
        .find_map(|o| match o {
            Output::Send { to, message: Message::ViewChange { vote, payload: Some(p) } }
                if to == leader =>
            {
                assert_eq!(keccak256(&p), d0);
                Some(vote)
            }
            _ => None,
        })
        .expect("the vote to the new leader carries the locked payload");
    let forged =
        Message::ViewChange { vote: vote.clone(), payload: Some(Bytes::from_static(b"x")) };
    let l = &mut net.nodes[leader as usize];
    let _ = l.step(Input::Message { from: sender, message: forged });
    assert!(l.round.view_changes.get(&1).is_none_or(|v| !v.contains_key(&sender)));
    assert!(l.round.payloads.is_empty());
    // Without a payload the vote counts, but the leader still lacks the proposal.
    let _ = l.step(Input::Message {
        from: sender,
        message: Message::ViewChange { vote: vote.clone(), payload: None },
    });
    assert!(l.round.view_changes[&1].contains_key(&sender));
    assert!(l.known_payload(&d0).is_none());
    // The true payload is kept.
    let payload = net.payloads[&d0].clone();
    let _ = l.step(Input::Message {
        from: sender,
        message: Message::ViewChange { vote, payload: Some(payload) },
    });
    assert!(l.known_payload(&d0).is_some());
}

/// View 0 with the new view's leader cut off and prepares reaching only `lockers` (so only
/// they lock), commits lost; then everyone times out and the votes reach the leader without
/// their payloads (as if the payload-carrying copies were lost). Returns the view-0 digest.
fn locked_by_some_payloads_lost(net: &mut Net, lockers: &[NodeIndex]) -> B256 {
    let n = net.nodes.len();
    let leader = net.nodes[0].cfg.validators.leader(1, 1);
    net.start();
    let lockers = lockers.to_vec();
    net.deliver(|f, t, m| {
        no_commits(f, t, m)
            && t != leader
            && f != leader
            && (!matches!(m, Message::Prepare { .. }) || lockers.contains(&t))
    });
    let d0 = *net.payloads.keys().next().expect("proposed");
    for i in 0..n as u32 {
        let locked = net.nodes[i as usize].persisted.locked.is_some();
        assert_eq!(locked, lockers.contains(&i), "node {i}'s lock");
    }
    for i in (0..n as u32).filter(|i| *i != leader).chain([leader]) {
        net.tick(i, TIMEOUT_MS + 1);
    }
    let queued: Vec<_> = net.queue.drain(..).collect();
    for (from, to, m) in queued {
        let m = match m {
            Message::ViewChange { vote, .. } => Message::ViewChange { vote, payload: None },
            m => m,
        };
        net.queue.push_back((from, to, m));
    }
    net.deliver(no_view_0_commits);
    d0
}

#[test]
fn a_leader_without_the_locked_payload_waits_while_every_quorum_names_it() {
    // n = 4, the three others locked: every quorum of votes includes a certificate for d0,
    // so the leader may neither re-propose it (no payload) nor propose anew. The locked
    // nodes say their votes again a base timeout later, with the payload.
    let mut net = Net::new(4);
    let leader = net.nodes[0].cfg.validators.leader(1, 1);
    let others: Vec<NodeIndex> = (0..4).filter(|i| *i != leader).collect();
    let d0 = locked_by_some_payloads_lost(&mut net, &others);
    assert_eq!(net.entered[leader as usize], 0, "no new view without the payload");
    assert!(net.nodes[leader as usize].round.new_view_sent.is_empty());
    for i in 0..4 {
        net.tick(i, 2 * TIMEOUT_MS + 2);
    }
    net.deliver(no_view_0_commits);
    assert!(net.entered.iter().all(|v| *v == 1), "{:?}", net.entered);
    assert_eq!(net.new_views, vec![(leader, 1, d0)]);
    assert!(net.committed.iter().all(|c| *c == Some(d0)), "{:?}", net.committed);
}

#[test]
fn a_leader_leaves_out_a_certificate_it_cannot_re_propose_while_a_quorum_remains() {
    // n = 4, one node locked (the others lost the prepares): nothing can have been decided,
    // and the other three votes are a quorum without the certificate, so the leader
    // proposes anew rather than wait for the payload.
    let mut net = Net::new(4);
    let leader = net.nodes[0].cfg.validators.leader(1, 1);
    let locker = (0..4).find(|i| *i != leader).unwrap_or_default();
    let d0 = locked_by_some_payloads_lost(&mut net, &[locker]);
    assert!(net.entered.iter().all(|v| *v == 1), "{:?}", net.entered);
    let [(from, 1, d1)] = net.new_views[..] else { panic!("{:?}", net.new_views) };
    assert_eq!(from, leader);
    assert_ne!(d1, d0);
    assert!(net.committed.iter().all(|c| *c == Some(d1)), "{:?}", net.committed);
}
