//! The state a [`Pbft`] instance keeps, its bounds, and construction (including what a
//! restarted node restores from its persisted record).

use crate::types::*;
use alloy_primitives::{B256, Bytes};
use std::collections::{BTreeMap, BTreeSet};

/// Decisions kept to answer peers that lag behind.
pub(super) const RECENT_DECISIONS: u64 = 64;
/// Decisions sent to a lagging peer at once.
pub(super) const CATCH_UP_BATCH: u64 = 8;
/// Messages for future heights kept until we get there.
pub(super) const MAX_FUTURE: usize = 10_000;
/// Of those, from one peer at most, and with a payload (up to a block each) at most: a
/// faulty peer cannot make us buffer more than this.
pub(super) const MAX_FUTURE_PER_PEER: usize = 512;
pub(super) const MAX_FUTURE_PAYLOADS_PER_PEER: usize = 8;
/// Votes for views further ahead than this are ignored (a view change needs f+1 honest
/// timeouts to get there), so one peer cannot fill memory with far-future views.
pub(super) const VIEW_WINDOW: u64 = 64;

/// How an instance is set up: who votes, who it is, how patient it is, where it starts.
#[derive(Debug, Clone)]
pub struct PbftConfig {
    /// The sealer list in effect for the heights this instance decides.
    pub validators: Validators,
    /// This node's index in `validators`.
    pub me: NodeIndex,
    /// View timeout at view 0; doubles per view (capped at 64×).
    pub base_timeout_ms: u64,
    /// The first height to decide (the ledger head + 1).
    pub start_height: u64,
}

/// Signatures per voter for one (view, digest).
pub(super) type Votes = BTreeMap<NodeIndex, Bytes>;

/// Whether `from` already voted in `view` for a digest other than `digest`.
pub(super) fn voted_otherwise(
    votes: &BTreeMap<(u64, B256), Votes>,
    from: NodeIndex,
    view: u64,
    digest: &B256,
) -> bool {
    votes
        .range((view, B256::ZERO)..=(view, B256::repeat_byte(0xff)))
        .any(|((_, d), v)| d != digest && v.contains_key(&from))
}

/// Per-height state, dropped when the height is decided.
#[derive(Default)]
pub(super) struct Round {
    /// First proposal accepted per view (from that view's leader).
    pub(super) proposals: BTreeMap<u64, (B256, Bytes)>,
    pub(super) validated: BTreeSet<(u64, B256)>,
    pub(super) prepares: BTreeMap<(u64, B256), Votes>,
    pub(super) commits: BTreeMap<(u64, B256), Votes>,
    /// View changes received, per requested view, one per node (digests only).
    pub(super) view_changes: BTreeMap<u64, BTreeMap<NodeIndex, ViewChange>>,
    /// Prepared payloads handed to us with view-change votes for a view we lead, by digest
    /// (each checked against a valid proof's digest; one per digest).
    pub(super) payloads: BTreeMap<B256, Bytes>,
    pub(super) new_view_sent: BTreeSet<u64>,
    /// The view this node proposes in once the driver answers, with the new-view
    /// justification when it is a view change.
    pub(super) proposing: Option<(u64, Vec<ViewChange>)>,
    /// Decided (a quorum committed), being executed.
    pub(super) decided: Option<(B256, Bytes)>,
    /// The view whose commits decided it (u64::MAX when adopted from a certificate).
    pub(super) decided_view: u64,
    /// A decision adopted from a peer's certificate (catch-up).
    pub(super) adopted: Option<Decision>,
    pub(super) executed: Option<B256>,
    pub(super) checkpoints: BTreeMap<(B256, B256), Votes>,
}

/// One node's PBFT instance: feed it [`Input`]s with [`Pbft::step`], perform the [`Output`]s
/// it returns, in order.
pub struct Pbft {
    pub(super) cfg: PbftConfig,
    pub(super) crypto: Box<dyn Crypto + Send>,
    pub(super) height: u64,
    pub(super) view: u64,
    /// Voting in `view` is open (view 0, or its new-view message was accepted).
    pub(super) entered: bool,
    pub(super) now: u64,
    pub(super) view_started: u64,
    /// When our view change was last (re)sent.
    pub(super) last_resend: u64,
    /// When the commit proof was last sent.
    pub(super) last_proof: u64,
    /// Our view-change vote re-signed after a restart in a view > 0 (resent only).
    pub(super) restored_vc: Option<ViewChange>,
    pub(super) persisted: Persisted,
    pub(super) round: Round,
    pub(super) recent: BTreeMap<u64, Decision>,
    pub(super) future: Vec<(NodeIndex, Message)>,
}

impl Pbft {
    /// An instance for `cfg`, resuming from `restored` (the last record the driver persisted)
    /// when that record is for `cfg.start_height`. Call [`Pbft::start`] next.
    pub fn new(
        cfg: PbftConfig,
        crypto: Box<dyn Crypto + Send>,
        restored: Option<Persisted>,
    ) -> Self {
        let height = cfg.start_height;
        let mut me = Pbft {
            cfg,
            crypto,
            height,
            view: 0,
            entered: true,
            now: 0,
            view_started: 0,
            last_resend: 0,
            last_proof: 0,
            restored_vc: None,
            persisted: Persisted { height, ..Default::default() },
            round: Round::default(),
            recent: BTreeMap::new(),
            future: Vec::new(),
        };
        if let Some(p) = restored.filter(|p| p.height == height) {
            // Back in the view we had reached; if it is a later view we may have missed its
            // new-view message, so we wait for it (or time out) before voting.
            me.view = p.view;
            me.entered = p.view == 0;
            me.persisted = p;
            if me.view > 0 {
                // Our view-change vote for it was lost with the process: sign it again (the
                // same vote: same view, same lock) so peers that missed it get it resent. It
                // does not count towards a new view of our own: leading a view we may have
                // proposed in before the crash must go through the persisted proposal (the
                // simulation finds double proposals otherwise).
                me.restored_vc = Some(me.own_view_change(me.view));
            }
        }
        me
    }

    /// The height being decided.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The view reached at the current height (maybe not entered yet).
    pub fn view(&self) -> u64 {
        self.view
    }

    pub(super) fn me(&self) -> NodeIndex {
        self.cfg.me
    }

    pub(super) fn leader(&self, view: u64) -> NodeIndex {
        self.cfg.validators.leader(self.height, view)
    }

    pub(super) fn weight(&self, votes: impl Iterator<Item = NodeIndex>) -> u64 {
        votes.map(|n| self.cfg.validators.weight(n)).sum()
    }

    pub(super) fn has_quorum(&self, votes: &Votes) -> bool {
        self.weight(votes.keys().copied()) >= self.cfg.validators.quorum()
    }

    pub(super) fn timeout(&self) -> u64 {
        self.cfg.base_timeout_ms.saturating_mul(1 << self.view.min(6))
    }
}
