//! What a run reports: coverage counters, the failure kinds the harness checks, the outcome.

use alloy_primitives::B256;

/// Summed over runs; the sweep asserts each is non-zero.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub runs: u64,
    pub commits: u64,
    pub view_changes: u64,
    pub equivocating_proposals_delivered: u64,
    pub double_votes_delivered: u64,
    pub crashes: u64,
    pub crashes_mid_step: u64,
    pub crashes_after_vote: u64,
    pub restarts: u64,
    pub partitions: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub delivered: u64,
    pub garbage_sent: u64,
    pub spam_view_changes: u64,
    /// Highest view a spammer asked for (a maximum, not a sum).
    pub spam_max_view: u64,
    pub invalid_proposals: u64,
    pub conflicting_proposals_after_restart: u64,
    /// New-view messages an honest leader sent re-proposing a prepared proposal.
    pub reproposals: u64,
    /// View-change votes that carried a payload (to the new view's leader).
    pub view_changes_with_payload: u64,
    /// Largest encoded message put on the wire (a maximum, not a sum).
    pub max_message_bytes: u64,
    pub sim_ms: u64,
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        self.runs += o.runs;
        self.commits += o.commits;
        self.view_changes += o.view_changes;
        self.equivocating_proposals_delivered += o.equivocating_proposals_delivered;
        self.double_votes_delivered += o.double_votes_delivered;
        self.crashes += o.crashes;
        self.crashes_mid_step += o.crashes_mid_step;
        self.crashes_after_vote += o.crashes_after_vote;
        self.restarts += o.restarts;
        self.partitions += o.partitions;
        self.dropped += o.dropped;
        self.duplicated += o.duplicated;
        self.delivered += o.delivered;
        self.garbage_sent += o.garbage_sent;
        self.spam_view_changes += o.spam_view_changes;
        self.spam_max_view = self.spam_max_view.max(o.spam_max_view);
        self.invalid_proposals += o.invalid_proposals;
        self.conflicting_proposals_after_restart += o.conflicting_proposals_after_restart;
        self.reproposals += o.reproposals;
        self.view_changes_with_payload += o.view_changes_with_payload;
        self.max_message_bytes = self.max_message_bytes.max(o.max_message_bytes);
        self.sim_ms += o.sim_ms;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// Two honest nodes committed different blocks at one height.
    Safety,
    /// An honest node sent two different Prepares or Commits for one (height, view).
    DoubleVote,
    /// An honest leader sent two different proposals (PrePrepare/NewView) for one
    /// (height, view).
    DoubleProposal,
    /// An honest node sent a Prepare/Commit that its persisted record did not hold yet.
    Unpersisted,
    /// An honest node sent a message whose encoding does not fit a network frame.
    Oversize,
    /// A commit that no ledger could apply: out of order, wrong hash, thin certificate.
    BadCommit,
    Liveness,
    /// The state machine panicked.
    Panic,
    /// Too many events: a message storm.
    Budget,
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub kind: Failure,
    pub at_ms: u64,
    pub detail: String,
    /// Less severe failures the same run also showed.
    pub also: Vec<Failure>,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub seed: u64,
    pub scenario: String,
    pub counters: Counters,
    pub violation: Option<Violation>,
    /// (height, block hash) as committed by honest nodes: compared across replays.
    pub decided: Vec<(u64, B256)>,
}

/// Replay hint printed with every failure.
pub fn replay_hint(seed: u64, mode: &str) -> String {
    format!(
        "SIM_SEED={seed} SIM_MODE={mode} cargo test --release --workspace --test simulation replay -- --nocapture"
    )
}
