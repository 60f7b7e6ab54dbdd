//! What a run injects, drawn from its seed. Probabilities are per mille (integers keep the
//! harness free of float rounding questions).

use std::collections::BTreeMap;

use alloy_primitives::Bytes;
use aurum_consensus::Validators;

/// The largest proposal (`aurum_group::MAX_PROPOSAL_BYTES`).
pub const BIG_PAYLOAD: usize = 5 << 20;
/// The network's frame limit (`aurum_network::DEFAULT_MAX_FRAME_BYTES`) and the most its
/// routing header adds to a consensus message (group id of up to 255 bytes, two bytes).
pub const FRAME_LIMIT: usize = 32 << 20;
pub const FRAME_HEADER: usize = 2 + 255;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

/// How a byzantine node misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Byz {
    /// Two instances with the node's key, each talking to its own half of the honest nodes:
    /// as leader it proposes different payloads to the two halves (equivocating PrePrepare /
    /// NewView) and votes for both.
    Equivocator,
    /// Like [`Byz::Equivocator`], and its second instance is fed forged copies of other
    /// leaders' proposals, so it Prepares/Commits two digests in one view.
    DoubleVoter,
    /// Runs its clock far ahead, so it keeps broadcasting ViewChange for ever-higher views.
    ViewChangeSpammer,
    /// Follows the protocol, but also sends random, mis-signed and mutated replayed messages,
    /// proposes payloads the validator rejects and signs wrong block hashes.
    Garbage,
}

impl Byz {
    pub fn split_brain(self) -> bool {
        matches!(self, Byz::Equivocator | Byz::DoubleVoter)
    }
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub validators: Validators,
    pub byz: BTreeMap<usize, Byz>,
    /// Split-brain byzantine nodes pair their instances world by world (the f+1 attack).
    pub collusion: bool,
    pub base_timeout_ms: u64,
    pub tick_ms: u64,
    /// Every message takes 1..=max_delay_ms (random, so messages reorder).
    pub max_delay_ms: u64,
    pub dup_pm: u32,
    /// Until heal: loss, rare very late messages, partitions, crashes.
    pub loss_pm: u32,
    pub late_pm: u32,
    pub partitions: bool,
    pub crashes: u32,
    /// Share of crashes taken in the middle of a step's outputs.
    pub mid_step_pm: u32,
    /// A mid-step crash happens right after the node sent a Prepare/Commit.
    pub crash_after_vote: bool,
    pub downtime_ms: (u64, u64),
    /// On restart a node changes sides between a split-brain node's two worlds, so it hears
    /// the other proposal of the view it voted in.
    pub world_flip: bool,
    /// On restart, messages the node received shortly before crashing are delivered again.
    pub replay_inbox: bool,
    /// Negative control only: restart with no persisted record (a node that forgot its votes).
    pub amnesia: bool,
    pub garbage_pm: u32,
    /// Proposals are padded to this many bytes (0: as small as they come).
    pub payload_bytes: usize,
    /// Crashes aimed at the next height's leader before it proposes (in the first half of the
    /// time before heal).
    pub leader_crashes: u32,
    /// Until heal every Commit and commit proof is lost: heights prepare (every node locks)
    /// but do not decide, so view changes carry certificates from every node.
    pub commits_lost: bool,
    pub heal_at_ms: u64,
    /// Liveness: by heal + liveness_ms every honest node has committed
    /// max(min_target, highest honest height at heal + after_heal).
    pub min_target: u64,
    pub after_heal: u64,
    pub liveness_ms: u64,
    pub max_events: u64,
}

/// Largest byzantine weight the protocol tolerates for safety and liveness.
pub fn max_faulty(v: &Validators) -> u64 {
    let (w, q) = (v.total(), v.quorum());
    (2 * q - w - 1).min(w - q)
}

impl Scenario {
    fn base(name: &str, weights: Vec<u64>) -> Scenario {
        Scenario {
            name: name.to_string(),
            validators: Validators { weights, leader_period: 1 },
            byz: BTreeMap::new(),
            collusion: false,
            base_timeout_ms: 300,
            tick_ms: 20,
            max_delay_ms: 20,
            dup_pm: 0,
            loss_pm: 0,
            late_pm: 0,
            partitions: false,
            crashes: 0,
            mid_step_pm: 0,
            crash_after_vote: false,
            downtime_ms: (50, 1500),
            world_flip: false,
            replay_inbox: false,
            amnesia: false,
            garbage_pm: 300,
            payload_bytes: 0,
            leader_crashes: 0,
            commits_lost: false,
            heal_at_ms: 0,
            min_target: 10,
            after_heal: 4,
            liveness_ms: 120_000,
            max_events: 3_000_000,
        }
    }

    /// Network faults and crashes with random intensity.
    fn with_faults(mut self, rng: &mut StdRng) -> Scenario {
        self.base_timeout_ms = rng.random_range(200..=500);
        self.tick_ms = rng.random_range(10..=50);
        self.max_delay_ms = rng.random_range(2..=60);
        self.dup_pm = rng.random_range(0..=100);
        self.loss_pm = rng.random_range(0..=150);
        self.late_pm = rng.random_range(0..=20);
        self.partitions = rng.random_ratio(2, 3);
        self.crashes = rng.random_range(0..=4);
        self.mid_step_pm = rng.random_range(0..=700);
        self.crash_after_vote = rng.random_bool(0.5);
        self.replay_inbox = rng.random_bool(0.5);
        self.heal_at_ms = rng.random_range(1_000..=4_000);
        if rng.random_ratio(1, 5) {
            self.validators.leader_period = rng.random_range(2..=3);
        }
        let mut tags = vec![];
        if self.loss_pm > 0 {
            tags.push("loss");
        }
        if self.partitions {
            tags.push("partition");
        }
        if self.crashes > 0 {
            tags.push("crash");
        }
        for t in tags {
            self.name.push('+');
            self.name.push_str(t);
        }
        self
    }

    /// The mix checked by the seed sweep; the seed alone reproduces the scenario.
    pub fn random(seed: u64) -> Scenario {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5ce7_a210_0000_0000);
        let any_byz = |rng: &mut StdRng| {
            *[Byz::Equivocator, Byz::DoubleVoter, Byz::ViewChangeSpammer, Byz::Garbage]
                .choose(rng)
                .unwrap_or(&Byz::Garbage)
        };
        let shape = seed % 10;
        let mut sc = match shape {
            0 | 1 => Scenario::base("n4_honest", vec![1; 4]),
            2 => Scenario::base("n4_f1_equivocating_leader", vec![1; 4]).byz(3, Byz::Equivocator),
            3 => Scenario::base("n4_f1_double_voter", vec![1; 4]).byz(1, Byz::DoubleVoter),
            4 => Scenario::base("n4_f1_view_change_spammer", vec![1; 4])
                .byz(2, Byz::ViewChangeSpammer),
            5 => Scenario::base("n4_f1_garbage", vec![1; 4]).byz(0, Byz::Garbage),
            6 => {
                let (a, b) = (any_byz(&mut rng), any_byz(&mut rng));
                Scenario::base(&format!("n7_f2_{a:?}_{b:?}"), vec![1; 7]).byz(5, a).byz(6, b)
            }
            7 => {
                let weights: Vec<u64> = (0..7).map(|_| rng.random_range(1..=4)).collect();
                let mut sc = Scenario::base(&format!("n7_weighted_{weights:?}"), weights);
                let budget = max_faulty(&sc.validators);
                let mut order: Vec<usize> = (0..7).collect();
                order.shuffle(&mut rng);
                let mut used = 0;
                for i in order {
                    let w = sc.validators.weights[i];
                    if used + w <= budget {
                        used += w;
                        let b = any_byz(&mut rng);
                        sc = sc.byz(i, b);
                    }
                }
                let kinds: Vec<String> = sc.byz.iter().map(|(i, b)| format!("{i}:{b:?}")).collect();
                sc.name.push_str(&format!("_byz[{}]", kinds.join(",")));
                sc
            }
            8 => Scenario::base("n4_f1_crash_after_vote", vec![1; 4]).byz(0, Byz::Equivocator),
            _ => {
                let b = any_byz(&mut rng);
                Scenario::base(&format!("n5_f1_{b:?}"), vec![1; 5]).byz(4, b)
            }
        };
        sc = sc.with_faults(&mut rng);
        if shape == 8 {
            sc.crashes = rng.random_range(4..=12);
            sc.crash_after_vote = true;
            sc.mid_step_pm = 900;
            sc.world_flip = true;
            sc.replay_inbox = true;
            sc.downtime_ms = (1, 80);
        }
        sc
    }

    /// Crash-recovery: nodes crash right after sending a vote, restart within a few ms from
    /// their persisted record, hear the other half of an equivocating leader's proposals and
    /// get their recent messages again.
    pub fn crash_after_vote(seed: u64) -> Scenario {
        let mut rng = StdRng::seed_from_u64(seed ^ 0xc4a5_0000_0000_0000);
        let leader = rng.random_range(0..4);
        let mut sc =
            Scenario::base("n4_f1_crash_after_vote", vec![1; 4]).byz(leader, Byz::Equivocator);
        sc.base_timeout_ms = rng.random_range(200..=400);
        sc.tick_ms = rng.random_range(10..=30);
        sc.max_delay_ms = rng.random_range(2..=30);
        sc.dup_pm = rng.random_range(0..=100);
        sc.crashes = rng.random_range(8..=20);
        sc.mid_step_pm = 1000;
        sc.crash_after_vote = true;
        sc.world_flip = true;
        sc.replay_inbox = true;
        sc.downtime_ms = (1, 60);
        sc.heal_at_ms = rng.random_range(1_500..=3_000);
        sc
    }

    /// Negative control: f+1 colluding byzantine nodes (n = 4: two), both split-brain and
    /// paired world by world, so each half of the honest nodes sees a quorum for a different
    /// proposal whenever one of them leads. Safety must break.
    pub fn collusion(seed: u64) -> Scenario {
        let mut rng = StdRng::seed_from_u64(seed ^ 0xc011_0000_0000_0000);
        let mut sc = Scenario::base("n4_f2_colluding_equivocation", vec![1; 4])
            .byz(2, Byz::Equivocator)
            .byz(3, Byz::DoubleVoter);
        sc.collusion = true;
        sc.max_delay_ms = rng.random_range(2..=20);
        sc.heal_at_ms = 0;
        sc.liveness_ms = 10_000;
        sc
    }

    /// Seven honest nodes, proposals at the 5 MiB cap, view changes forced by leader crashes
    /// and loss (even seeds) or by commits lost until heal, so that every node is locked when
    /// it asks for a view change (odd seeds).
    pub fn big_payloads(seed: u64) -> Scenario {
        let mut rng = StdRng::seed_from_u64(seed ^ 0xb16_0000_0000_0000);
        let name =
            if seed.is_multiple_of(2) { "n7_big_leader_crash" } else { "n7_big_commits_lost" };
        let mut sc = Scenario::base(name, vec![1; 7]);
        sc.payload_bytes = BIG_PAYLOAD;
        sc.base_timeout_ms = rng.random_range(300..=500);
        sc.tick_ms = rng.random_range(10..=30);
        // Slow enough links that few heights (each hashing payloads at the cap) go by.
        sc.max_delay_ms = rng.random_range(20..=60);
        sc.loss_pm = rng.random_range(10..=50);
        sc.dup_pm = rng.random_range(0..=30);
        // Down for longer than a view timeout: its view changes.
        sc.downtime_ms = (1_000, 1_500);
        sc.heal_at_ms = rng.random_range(1_000..=1_600);
        if seed.is_multiple_of(2) {
            sc.leader_crashes = rng.random_range(1..=2);
        } else {
            sc.commits_lost = true;
            sc.leader_crashes = rng.random_range(0..=1);
        }
        sc.min_target = 3;
        sc.after_heal = 2;
        sc
    }

    /// `payload` padded to the scenario's payload size.
    pub fn pad(&self, payload: Bytes) -> Bytes {
        if payload.len() >= self.payload_bytes {
            return payload;
        }
        let mut p = payload.to_vec();
        p.resize(self.payload_bytes, 0);
        Bytes::from(p)
    }

    fn byz(mut self, node: usize, b: Byz) -> Scenario {
        self.byz.insert(node, b);
        self
    }

    pub fn n(&self) -> usize {
        self.validators.len()
    }
}
