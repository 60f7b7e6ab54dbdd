//! What the PBFT driver records (the pure consensus core records nothing).

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use std::time::Instant;

pub const VIEW: &str = "aurum_consensus_view";
pub const VIEW_CHANGES: &str = "aurum_consensus_view_changes_total";
pub const BLOCK_INTERVAL: &str = "aurum_consensus_block_interval_seconds";
pub const BLOCK_TXS: &str = "aurum_consensus_block_txs";
pub const BLOCKS: &str = "aurum_consensus_blocks_committed_total";
pub const TXS: &str = "aurum_consensus_txs_committed_total";
pub const STEP: &str = "aurum_consensus_step_duration_seconds";
pub const MISSING: &str = "aurum_consensus_missing_sealers";
pub const COMMIT_FAILURES: &str = "aurum_consensus_commit_failures_total";

pub(crate) const HELP: &[(&str, &str)] = &[
    (VIEW, "Current PBFT view at this height (0 while the first leader leads)."),
    (VIEW_CHANGES, "View changes this node took part in."),
    (
        BLOCK_INTERVAL,
        "Time between two blocks committed by consensus on this node (one whole height: the sum of its steps).",
    ),
    (BLOCK_TXS, "Transactions per block committed by consensus."),
    (BLOCKS, "Blocks committed by consensus on this node."),
    (TXS, "Transactions committed by consensus on this node."),
    (
        STEP,
        "Time per step of a height: propose (txs gathered, proposal checked), agree (prepare and commit votes), execute, checkpoint (2f+1 agree on the result), write (ledger commit).",
    ),
    (MISSING, "Sealers whose signature is missing from the last commit certificate."),
    (COMMIT_FAILURES, "Decided blocks the ledger failed to write (the node then follows by sync)."),
];

/// The steps of one height, in order; see [`STEP`].
pub const STEPS: [&str; 5] = ["propose", "agree", "execute", "checkpoint", "write"];

/// One group's consensus handles.
pub struct Consensus {
    view: Gauge,
    view_changes: Counter,
    interval: Histogram,
    block_txs: Histogram,
    blocks: Counter,
    txs: Counter,
    steps: [Histogram; 5],
    missing: Gauge,
    commit_failures: Counter,
}

/// One committed height as the driver saw it.
#[derive(Debug, Clone, Copy)]
pub struct Committed {
    pub txs: usize,
    /// When the previous height committed (the height's start).
    pub since: Instant,
    /// When the proposal was validated, decided, executed and certified (`None`: not seen
    /// on this node); the block is written now.
    pub marks: [Option<Instant>; 4],
    pub sealers: usize,
    /// Signatures in the commit certificate.
    pub signatures: usize,
    /// The view consensus is in once the block is decided.
    pub view: u64,
}

impl Consensus {
    pub fn new(group: &str) -> Self {
        let step = |s: &'static str| histogram!(STEP, "group" => group.to_string(), "step" => s);
        Consensus {
            view: gauge!(VIEW, "group" => group.to_string()),
            view_changes: counter!(VIEW_CHANGES, "group" => group.to_string()),
            interval: histogram!(BLOCK_INTERVAL, "group" => group.to_string()),
            block_txs: histogram!(BLOCK_TXS, "group" => group.to_string()),
            blocks: counter!(BLOCKS, "group" => group.to_string()),
            txs: counter!(TXS, "group" => group.to_string()),
            steps: STEPS.map(step),
            missing: gauge!(MISSING, "group" => group.to_string()),
            commit_failures: counter!(COMMIT_FAILURES, "group" => group.to_string()),
        }
    }

    /// The group moved to `view` at the current height.
    pub fn view_changed(&self, view: u64) {
        self.view_changes.increment(1);
        self.view.set(view as f64);
    }

    /// A block went through every step and is written.
    pub fn committed(&self, c: &Committed) {
        self.view.set(c.view as f64);
        self.blocks.increment(1);
        self.txs.increment(c.txs as u64);
        self.block_txs.record(c.txs as f64);
        let now = Instant::now();
        self.interval.record(now.saturating_duration_since(c.since).as_secs_f64());
        // Step i runs from mark i-1 (the height's start for the first) to mark i (now for
        // the last).
        let starts = [Some(c.since), c.marks[0], c.marks[1], c.marks[2], c.marks[3]];
        let ends = [c.marks[0], c.marks[1], c.marks[2], c.marks[3], Some(now)];
        for ((h, a), b) in self.steps.iter().zip(starts).zip(ends) {
            if let (Some(a), Some(b)) = (a, b) {
                h.record(b.saturating_duration_since(a).as_secs_f64());
            }
        }
        self.missing.set(c.sealers.saturating_sub(c.signatures) as f64);
    }

    /// The ledger refused to write a decided block.
    pub fn commit_failed(&self) {
        self.commit_failures.increment(1);
    }
}
