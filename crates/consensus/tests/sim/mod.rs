//! An in-memory network driving N [`Pbft`] instances on a simulated clock, from one seed:
//! loss, delay, duplication, reordering, partitions, crash/restart from the persisted record,
//! and byzantine nodes. It checks safety (no two honest nodes commit different blocks at a
//! height), that no honest node ever sends two different votes or proposals for one
//! (height, view) — across restarts — and liveness after the last fault heals.
//!
//! Determinism: everything random comes from one `StdRng` seeded per run; events are ordered
//! by (time, sequence number) in a `BTreeMap`; no wall clock, no hash-map iteration.

pub mod adversary;
mod byzantine;
mod checks;
pub mod crypto;
mod faults;
mod report;
pub mod scenario;
mod trace;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use alloy_primitives::{B256, keccak256};
use aurum_consensus::{
    Decision, Input, Message, NodeIndex, Output, Pbft, PbftConfig, Persisted, Validators,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use adversary::Memory;
use crypto::SimCrypto;
pub use report::{Counters, Failure, Outcome, Violation, replay_hint};
pub use scenario::{Byz, FRAME_HEADER, FRAME_LIMIT, Scenario};
use trace::describe_input;

/// Run one seed; a panic inside the state machine becomes a [`Failure::Panic`].
pub fn run(seed: u64, sc: Scenario, trace: bool) -> Outcome {
    let name = sc.name.clone();
    match catch_unwind(AssertUnwindSafe(|| Sim::new(seed, sc, trace).run())) {
        Ok(o) => o,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Outcome {
                seed,
                scenario: name,
                counters: Counters::default(),
                violation: Some(Violation {
                    kind: Failure::Panic,
                    at_ms: 0,
                    detail: msg,
                    also: vec![],
                }),
                decided: vec![],
            }
        }
    }
}

pub fn block_hash(digest: &B256, height: u64) -> B256 {
    keccak256([digest.as_slice(), &height.to_be_bytes()].concat())
}

#[derive(Debug)]
enum Ev {
    Tick,
    Deliver {
        from: usize,
        to: usize,
        world: Option<usize>,
        msg: Message,
    },
    /// The driver's answer to Propose/Validate/Execute, for one incarnation of a node.
    Answer {
        node: usize,
        incarnation: u64,
        inst: usize,
        input: Input,
    },
    Crash {
        node: usize,
        mid_step: bool,
    },
    /// Crash the next height's leader before it proposes.
    CrashLeader,
    Restart {
        node: usize,
    },
    PartitionStart,
    PartitionEnd,
    Heal,
}

#[derive(Debug, Clone, Copy)]
enum Arm {
    /// Crash right after the node's next Prepare/Commit leaves it.
    AfterVote,
    /// Crash before performing output #k of a step that has more than k outputs.
    Before(usize),
}

struct Node {
    byz: Option<Byz>,
    /// Honest and most byzantine nodes: one instance; split-brain nodes: one per world.
    inst: Vec<Pbft>,
    up: bool,
    incarnation: u64,
    persisted: Option<Persisted>,
    ledger_height: u64,
    /// Decided blocks with their certificates (survives crashes, as a ledger does).
    ledger: BTreeMap<u64, Decision>,
    armed: Option<Arm>,
    /// Which half of the honest nodes a split-brain node's instance `world` talks to.
    world: usize,
    fake_clock: u64,
    inbox: VecDeque<(u64, usize, Message)>,
    mem: Memory,
    crypto: SimCrypto,
}

const PROPOSAL: u8 = 0;
const PREPARE: u8 = 1;
const COMMIT: u8 = 2;

/// (kind, height, view, digest) of a proposal or vote.
fn vote_key(m: &Message) -> Option<(u8, u64, u64, B256)> {
    match m {
        Message::PrePrepare { height, view, digest, .. }
        | Message::NewView { height, view, digest, .. } => {
            Some((PROPOSAL, *height, *view, *digest))
        }
        Message::Prepare { height, view, digest, .. } => Some((PREPARE, *height, *view, *digest)),
        Message::Commit { height, view, digest, .. } => Some((COMMIT, *height, *view, *digest)),
        _ => None,
    }
}

struct Sim {
    seed: u64,
    sc: Scenario,
    trace: bool,
    rng: StdRng,
    now: u64,
    seq: u64,
    events: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    nodes: Vec<Node>,
    vals: Validators,
    /// Side of each node while a partition is on.
    side: Option<Vec<u8>>,
    faults_on: bool,
    target: Option<u64>,
    done: bool,
    decided: BTreeMap<u64, (B256, B256, usize)>,
    /// Every proposal and vote each honest node ever sent, over all its incarnations.
    votes: BTreeMap<(usize, u8, u64, u64), BTreeSet<B256>>,
    byz_sent: BTreeMap<(usize, u8, u64, u64), BTreeSet<B256>>,
    counters: Counters,
    violation: Option<Violation>,
    halted: bool,
}

impl Sim {
    fn new(seed: u64, sc: Scenario, trace: bool) -> Sim {
        let n = sc.n();
        let secrets = SimCrypto::secrets(seed, n);
        let mut rng = StdRng::seed_from_u64(seed);
        // Honest nodes in two halves (both non-empty when there are two), for split-brain
        // byzantine nodes.
        let honest: Vec<usize> = (0..n).filter(|i| !sc.byz.contains_key(i)).collect();
        let mut worlds = vec![0usize; n];
        for (k, &i) in honest.iter().enumerate() {
            worlds[i] = if k == 0 {
                0
            } else if k == 1 {
                1
            } else {
                rng.random_range(0..2)
            };
        }
        let nodes = (0..n)
            .map(|i| Node {
                byz: sc.byz.get(&i).copied(),
                inst: vec![],
                up: false,
                incarnation: 0,
                persisted: None,
                ledger_height: 0,
                ledger: BTreeMap::new(),
                armed: None,
                world: worlds[i],
                fake_clock: 0,
                inbox: VecDeque::new(),
                mem: Memory::default(),
                crypto: SimCrypto::new(i as NodeIndex, Arc::clone(&secrets)),
            })
            .collect();
        Sim {
            seed,
            vals: sc.validators.clone(),
            sc,
            trace,
            rng,
            now: 0,
            seq: 0,
            events: 0,
            queue: BTreeMap::new(),
            nodes,
            side: None,
            faults_on: true,
            target: None,
            done: false,
            decided: BTreeMap::new(),
            votes: BTreeMap::new(),
            byz_sent: BTreeMap::new(),
            counters: Counters { runs: 1, ..Counters::default() },
            violation: None,
            halted: false,
        }
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((t, self.seq), ev);
    }

    fn honest(&self, i: usize) -> bool {
        self.nodes[i].byz.is_none()
    }

    /// Records a violation; keeps the most severe (a later safety violation replaces an
    /// earlier double proposal).
    fn fail(&mut self, kind: Failure, detail: String) {
        if !matches!(kind, Failure::DoubleVote | Failure::DoubleProposal | Failure::Unpersisted) {
            self.halted = true;
        }
        if self.trace {
            println!("{:>7} VIOLATION {kind:?}: {detail}", self.now);
        }
        match self.violation.as_mut() {
            Some(v) if kind >= v.kind => {
                if kind != v.kind && !v.also.contains(&kind) {
                    v.also.push(kind);
                }
                return;
            }
            _ => {}
        }
        let also = self.violation.take().map(|v| vec![v.kind]).unwrap_or_default();
        self.violation = Some(Violation { kind, at_ms: self.now, detail, also });
    }

    /// A sent double vote or proposal is recorded and the run goes on, so that the rest of it
    /// is still checked for safety and liveness; anything else ends it.
    fn stopped(&self) -> bool {
        self.halted
    }

    fn log(&self, f: impl FnOnce() -> String) {
        if self.trace {
            println!("{:>7} {}", self.now, f());
        }
    }

    fn run(mut self) -> Outcome {
        self.plan();
        for i in 0..self.sc.n() {
            self.boot(i);
        }
        while !self.stopped() && !self.done {
            let Some(((t, _), ev)) = self.queue.pop_first() else { break };
            self.now = t;
            self.events += 1;
            if self.events > self.sc.max_events {
                self.fail(Failure::Budget, format!("more than {} events", self.sc.max_events));
                break;
            }
            self.handle(ev);
        }
        self.counters.sim_ms = self.now;
        let mut decided: Vec<(u64, B256)> =
            self.decided.iter().map(|(h, (_, b, _))| (*h, *b)).collect();
        decided.sort();
        Outcome {
            seed: self.seed,
            scenario: self.sc.name.clone(),
            counters: self.counters,
            violation: self.violation,
            decided,
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Tick => self.tick(),
            Ev::Deliver { from, to, world, msg } => self.deliver(from, to, world, msg),
            Ev::Answer { node, incarnation, inst, input } => {
                if self.nodes[node].up && self.nodes[node].incarnation == incarnation {
                    self.feed(node, inst, input);
                }
            }
            Ev::Crash { node, mid_step } => {
                if !self.faults_on || !self.nodes[node].up {
                    return;
                }
                if mid_step {
                    let arm = if self.sc.crash_after_vote && self.rng.random_ratio(3, 4) {
                        Arm::AfterVote
                    } else {
                        Arm::Before(self.rng.random_range(0..4))
                    };
                    self.nodes[node].armed = Some(arm);
                } else {
                    self.crash(node, "between steps");
                }
            }
            Ev::CrashLeader => {
                if let Some(leader) = self.next_leader()
                    && self.faults_on
                    && self.honest(leader)
                    && self.nodes[leader].up
                {
                    self.crash(leader, "as the leader awaited");
                }
            }
            Ev::Restart { node } => self.boot(node),
            Ev::PartitionStart => self.partition_start(),
            Ev::PartitionEnd => {
                self.log(|| "PARTITION healed".into());
                self.side = None;
            }
            Ev::Heal => self.heal(),
        }
    }

    fn config(&self, i: usize) -> PbftConfig {
        PbftConfig {
            validators: self.vals.clone(),
            me: i as NodeIndex,
            base_timeout_ms: self.sc.base_timeout_ms,
            start_height: self.nodes[i].ledger_height + 1,
        }
    }

    /// Start or restart a node: from its last persisted record and its ledger, nothing else.
    fn boot(&mut self, i: usize) {
        if self.nodes[i].up {
            return;
        }
        let restart = self.nodes[i].incarnation > 0;
        let count = if self.nodes[i].byz.is_some_and(Byz::split_brain) { 2 } else { 1 };
        let instances: Vec<Pbft> = (0..count)
            .map(|_| {
                let crypto = Box::new(self.nodes[i].crypto.clone());
                let restored = if self.sc.amnesia { None } else { self.nodes[i].persisted.clone() };
                Pbft::new(self.config(i), crypto, restored)
            })
            .collect();
        let node = &mut self.nodes[i];
        node.inst = instances;
        node.up = true;
        node.incarnation += 1;
        if restart {
            self.counters.restarts += 1;
            if self.sc.world_flip {
                node.world ^= 1;
            }
            let h = node.ledger_height + 1;
            let p = node.persisted.as_ref().map(|p| format!("h={} v={}", p.height, p.view));
            self.log(|| format!("RESTART n{i} at height {h} from persisted {p:?}"));
        }
        for w in 0..count {
            let outs = self.nodes[i].inst[w].start(self.now);
            self.outputs(i, w, outs);
        }
        if restart && self.sc.replay_inbox {
            let recent: Vec<(usize, Message)> = self.nodes[i]
                .inbox
                .iter()
                .filter(|(t, _, _)| t + 400 >= self.now)
                .map(|(_, f, m)| (*f, m.clone()))
                .collect();
            for (k, (from, msg)) in recent.into_iter().enumerate() {
                self.at(self.now + 1 + k as u64, Ev::Deliver { from, to: i, world: None, msg });
            }
        }
    }

    fn tick(&mut self) {
        let now = self.now;
        for i in 0..self.sc.n() {
            if !self.nodes[i].up {
                continue;
            }
            match self.nodes[i].byz {
                Some(Byz::ViewChangeSpammer) => {
                    // Time runs ahead by more than any (doubling) timeout up to view ~40: a
                    // new view-change every tick, whether or not the instance entered the view.
                    let jump = self.sc.base_timeout_ms << 40;
                    let clock = self.nodes[i].fake_clock.max(now).saturating_add(jump);
                    self.nodes[i].fake_clock = clock;
                    self.feed(i, 0, Input::Tick { now_ms: clock });
                }
                Some(Byz::Garbage) => {
                    self.feed(i, 0, Input::Tick { now_ms: now });
                    if self.rng.random_ratio(self.sc.garbage_pm, 1000) {
                        self.send_garbage(i);
                    }
                }
                _ => {
                    for w in 0..self.nodes[i].inst.len() {
                        self.feed(i, w, Input::Tick { now_ms: now });
                    }
                }
            }
        }
        self.check_progress();
        let next = now + self.sc.tick_ms;
        self.at(next, Ev::Tick);
    }

    fn check_progress(&mut self) {
        let Some(target) = self.target else { return };
        let honest: Vec<usize> = (0..self.sc.n()).filter(|&i| self.honest(i)).collect();
        if honest.iter().all(|&i| self.nodes[i].ledger_height >= target) {
            self.done = true;
        } else if self.now > self.sc.heal_at_ms + self.sc.liveness_ms {
            let mut s = format!(
                "healed at {} ms, target height {target} not reached by {} ms:",
                self.sc.heal_at_ms, self.now
            );
            for i in honest {
                let n = &self.nodes[i];
                let _ = write!(
                    s,
                    " n{i}: committed {} working on h={} v={};",
                    n.ledger_height,
                    n.inst.first().map_or(0, |p| p.height()),
                    n.inst.first().map_or(0, |p| p.view())
                );
            }
            self.fail(Failure::Liveness, s);
        }
    }
    /// Put a message on the wire: loss and partitions (before heal), random delay, duplicates.
    fn send(&mut self, from: usize, to: usize, world: Option<usize>, msg: Message) {
        if from == to || to >= self.sc.n() {
            return;
        }
        // What the real codec would put in a frame.
        let size = msg.encoded_len();
        self.counters.max_message_bytes = self.counters.max_message_bytes.max(size as u64);
        if self.honest(from) && size + FRAME_HEADER > FRAME_LIMIT {
            self.fail(
                Failure::Oversize,
                format!(
                    "honest n{from} sent {} of {size} bytes: over the {FRAME_LIMIT}-byte frame",
                    trace::describe(&msg)
                ),
            );
            return;
        }
        if self.faults_on
            && self.sc.commits_lost
            && matches!(msg, Message::Commit { .. } | Message::Committed { .. })
        {
            self.counters.dropped += 1;
            return;
        }
        if self.faults_on
            && (self.side.as_ref().is_some_and(|s| s[from] != s[to])
                || self.rng.random_ratio(self.sc.loss_pm, 1000))
        {
            self.counters.dropped += 1;
            return;
        }
        let copies = if self.rng.random_ratio(self.sc.dup_pm, 1000) {
            self.counters.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = self.rng.random_range(1..=self.sc.max_delay_ms);
            if self.faults_on && self.rng.random_ratio(self.sc.late_pm, 1000) {
                delay += self.rng.random_range(100..=2_000);
            }
            self.at(self.now + delay, Ev::Deliver { from, to, world, msg: msg.clone() });
        }
    }

    fn deliver(&mut self, from: usize, to: usize, world: Option<usize>, msg: Message) {
        if self.faults_on && self.side.as_ref().is_some_and(|s| s[from] != s[to]) {
            self.counters.dropped += 1;
            return;
        }
        if !self.nodes[to].up {
            self.counters.dropped += 1;
            return;
        }
        self.counters.delivered += 1;
        if let Some((kind, h, v, _)) = vote_key(&msg)
            && self.nodes[from].byz.is_some()
            && self.honest(to)
            && self.byz_sent.get(&(from, kind, h, v)).is_some_and(|s| s.len() > 1)
        {
            if kind == PROPOSAL {
                self.counters.equivocating_proposals_delivered += 1;
            } else {
                self.counters.double_votes_delivered += 1;
            }
        }
        // Coverage for the crash test: a restarted node hears a proposal other than the one it
        // prepared in the same (height, view) before crashing.
        if let Some((PROPOSAL, h, v, digest)) = vote_key(&msg)
            && self.nodes[to].incarnation > 1
            && self.votes.get(&(to, PREPARE, h, v)).is_some_and(|s| !s.contains(&digest))
        {
            self.counters.conflicting_proposals_after_restart += 1;
        }
        let node = &mut self.nodes[to];
        node.inbox.push_back((self.now, from, msg.clone()));
        if node.inbox.len() > 64 {
            node.inbox.pop_front();
        }
        match node.byz {
            None | Some(Byz::ViewChangeSpammer) => {
                self.feed(to, 0, Input::Message { from: from as NodeIndex, message: msg })
            }
            Some(Byz::Garbage) => {
                node.mem.remember(from as NodeIndex, &msg);
                self.feed(to, 0, Input::Message { from: from as NodeIndex, message: msg })
            }
            Some(b) => {
                let worlds = match world {
                    Some(w) => vec![w],
                    None => vec![0, 1],
                };
                for w in worlds {
                    let forged = b == Byz::DoubleVoter
                        && w == 1
                        && !self.sc.collusion
                        && matches!(msg, Message::PrePrepare { .. } | Message::NewView { .. })
                        && self.rng.random_bool(0.5);
                    let m = if forged {
                        adversary::forge_proposal(&mut self.rng, to, msg.clone())
                    } else {
                        msg.clone()
                    };
                    self.feed(to, w, Input::Message { from: from as NodeIndex, message: m });
                }
            }
        }
    }

    fn feed(&mut self, i: usize, w: usize, input: Input) {
        let node = &mut self.nodes[i];
        if !node.up || w >= node.inst.len() {
            return;
        }
        if self.trace && !matches!(input, Input::Tick { .. }) {
            println!("{:>7} n{i}.{w} <- {}", self.now, describe_input(&input));
        }
        let outs = node.inst[w].step(input);
        self.outputs(i, w, outs);
    }

    fn outputs(&mut self, i: usize, w: usize, outs: Vec<Output>) {
        if self.nodes[i].byz.is_some() {
            for out in outs {
                self.byz_output(i, w, out);
            }
            return;
        }
        for (k, out) in outs.into_iter().enumerate() {
            if matches!(self.nodes[i].armed, Some(Arm::Before(c)) if c == k) {
                self.counters.crashes_mid_step += 1;
                self.crash(i, &format!("before output #{k} of a step"));
                return;
            }
            // Crash-after-vote aims at views a byzantine node leads (when there is one): there
            // the restarted node can be offered a second proposal.
            let vote = match &out {
                Output::Broadcast(m) | Output::Send { message: m, .. } => match vote_key(m) {
                    Some((PREPARE | COMMIT, h, v, _)) => {
                        self.sc.byz.is_empty()
                            || self.sc.byz.contains_key(&(self.vals.leader(h, v) as usize))
                    }
                    _ => false,
                },
                _ => false,
            };
            self.honest_output(i, out);
            if vote && matches!(self.nodes[i].armed, Some(Arm::AfterVote)) {
                self.counters.crashes_mid_step += 1;
                self.counters.crashes_after_vote += 1;
                self.crash(i, "right after sending a vote");
                return;
            }
            if self.stopped() {
                return;
            }
        }
    }

    fn answer(&mut self, i: usize, w: usize, input: Input) {
        let t = self.now + self.rng.random_range(0..=3);
        let incarnation = self.nodes[i].incarnation;
        self.at(t, Ev::Answer { node: i, incarnation, inst: w, input });
    }
}
