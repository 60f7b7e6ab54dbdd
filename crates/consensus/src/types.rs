//! What goes in and out of the state machine.

use alloy_primitives::{B256, Bytes};

/// A sealer's position in the sealer list in effect at a height.
pub type NodeIndex = u32;

/// Signing and hashing, supplied by the driver (the chain's `CryptoSuite` in a node; a
/// keyed hash in the simulation). Must be deterministic.
pub trait Crypto {
    fn hash(&self, data: &[u8]) -> B256;
    /// The digest of a proposal payload (what votes name). Defaults to its hash; a node
    /// derives it from the block's proposal header so certificates can be checked against
    /// the ledger's headers alone.
    fn digest(&self, payload: &[u8]) -> B256 {
        self.hash(payload)
    }
    /// This node's signature over `digest`.
    fn sign(&self, digest: &B256) -> Bytes;
    /// Whether `sig` is `node`'s signature over `digest`.
    fn verify(&self, node: NodeIndex, digest: &B256, sig: &[u8]) -> bool;
}

/// Who votes and how much: the sealer list in effect for the heights being decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    pub weights: Vec<u64>,
    /// Blocks per leader before rotation (`consensus_leader_period`, ≥ 1).
    pub leader_period: u64,
}

impl Validators {
    pub fn equal(n: usize) -> Self {
        Validators { weights: vec![1; n], leader_period: 1 }
    }
    pub fn len(&self) -> usize {
        self.weights.len()
    }
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }
    pub fn total(&self) -> u64 {
        // Weights are bounded where they are set; saturate rather than wrap regardless.
        self.weights.iter().fold(0u64, |a, w| a.saturating_add(*w))
    }
    /// Weight a set of voters needs so that any two such sets share more weight than the
    /// faulty nodes can have: ⌊2W/3⌋ + 1 (2f+1 of 3f+1 with equal weights).
    pub fn quorum(&self) -> u64 {
        self.total() * 2 / 3 + 1
    }
    /// Weight that surely includes one honest node: ⌊W/3⌋ + 1 (f+1).
    pub fn one_honest(&self) -> u64 {
        self.total() / 3 + 1
    }
    pub fn weight(&self, node: NodeIndex) -> u64 {
        self.weights.get(node as usize).copied().unwrap_or(0)
    }
    /// Leader of `view` at `height`: rotates every `leader_period` blocks and every view.
    pub fn leader(&self, height: u64, view: u64) -> NodeIndex {
        let n = self.weights.len().max(1) as u64;
        ((view + height / self.leader_period.max(1)) % n) as NodeIndex
    }
}

/// One signature in a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vote {
    pub node: NodeIndex,
    pub sig: Bytes,
}

/// Proof that a proposal was prepared in a view: a quorum of signed prepares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedCert {
    pub height: u64,
    pub view: u64,
    pub digest: B256,
    /// The proposal itself, so a new leader can re-propose it.
    pub payload: Bytes,
    pub prepares: Vec<Vote>,
}

/// A signed view-change vote, forwarded inside a new-view message as its justification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewChange {
    pub height: u64,
    pub new_view: u64,
    pub from: NodeIndex,
    pub prepared: Option<PreparedCert>,
    pub sig: Bytes,
}

/// A block decided and executed with the same result by a quorum: the checkpoint
/// signatures over the final block hash are the block's commit certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub height: u64,
    pub digest: B256,
    pub payload: Bytes,
    pub block_hash: B256,
    pub certificate: Vec<Vote>,
}

/// Consensus messages. The network authenticates the sender (`from` in [`Input::Message`]);
/// signatures make votes transferable (certificates, view-change justification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The leader's proposal for (height, view); `digest` = hash of `payload`.
    PrePrepare {
        height: u64,
        view: u64,
        digest: B256,
        payload: Bytes,
    },
    Prepare {
        height: u64,
        view: u64,
        digest: B256,
        sig: Bytes,
    },
    Commit {
        height: u64,
        view: u64,
        digest: B256,
        sig: Bytes,
    },
    /// After executing the committed proposal: the final block hash, signed.
    Checkpoint {
        height: u64,
        digest: B256,
        block_hash: B256,
        sig: Bytes,
    },
    ViewChange(ViewChange),
    /// The new leader's proof that a quorum moved to `view`, and what it proposes there.
    NewView {
        height: u64,
        view: u64,
        justification: Vec<ViewChange>,
        digest: B256,
        payload: Bytes,
    },
    /// A decided block, sent to a peer seen working on an older height.
    Decided(Decision),
    /// A quorum's commits for (height, view, digest) with the proposal: lets a peer that
    /// lost commits (or the proposal) decide too, before the checkpoints exist.
    Committed {
        height: u64,
        view: u64,
        digest: B256,
        payload: Bytes,
        commits: Vec<Vote>,
    },
}

impl Message {
    /// Whether it carries a proposal payload (up to a block), not just a vote.
    pub fn carries_payload(&self) -> bool {
        matches!(
            self,
            Message::PrePrepare { .. }
                | Message::NewView { .. }
                | Message::Decided(_)
                | Message::Committed { .. }
        )
    }

    pub fn height(&self) -> u64 {
        match self {
            Message::PrePrepare { height, .. }
            | Message::Prepare { height, .. }
            | Message::Commit { height, .. }
            | Message::Checkpoint { height, .. }
            | Message::NewView { height, .. }
            | Message::Committed { height, .. } => *height,
            Message::ViewChange(vc) => vc.height,
            Message::Decided(d) => d.height,
        }
    }
}

/// What the persisted record holds: enough that a restarted node never votes twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Persisted {
    pub height: u64,
    pub view: u64,
    /// (view, digest) this node sent a prepare for, at `height`.
    pub prepared_votes: Vec<(u64, B256)>,
    /// (view, digest) this node sent a commit for, at `height`.
    pub commit_votes: Vec<(u64, B256)>,
    /// The highest prepared certificate at `height` (the lock).
    pub locked: Option<PreparedCert>,
    /// What this node proposed as leader: (view, digest, payload). A restarted leader
    /// proposes the same again, never something else in the same view.
    pub proposal: Option<(u64, B256, Bytes)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The current time (ms); drives timeouts. Must not go backwards.
    Tick {
        now_ms: u64,
    },
    Message {
        from: NodeIndex,
        message: Message,
    },
    /// The driver's proposal, after [`Output::Propose`].
    Proposal {
        height: u64,
        view: u64,
        payload: Bytes,
    },
    /// The driver checked a proposal (every tx signature, limits, parent).
    Validated {
        height: u64,
        view: u64,
        digest: B256,
        valid: bool,
    },
    /// The driver executed the decided proposal; `block_hash` is the final header's hash.
    Executed {
        height: u64,
        digest: B256,
        block_hash: B256,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write this durably before acting on any later output.
    Persist(Persisted),
    Broadcast(Message),
    Send {
        to: NodeIndex,
        message: Message,
    },
    /// This node leads (height, view): build a proposal and answer with [`Input::Proposal`].
    Propose {
        height: u64,
        view: u64,
    },
    /// Check a proposal and answer with [`Input::Validated`].
    Validate {
        height: u64,
        view: u64,
        digest: B256,
        payload: Bytes,
    },
    /// A quorum committed this proposal: execute it (on top of height - 1) and answer with
    /// [`Input::Executed`].
    Execute {
        height: u64,
        digest: B256,
        payload: Bytes,
    },
    /// Final: commit the executed block with its certificate.
    Commit(Decision),
    /// A peer works on `from_height`, which this node decided longer ago than it remembers:
    /// send it the decided blocks from the ledger, with their certificates, as
    /// [`Message::Decided`] (the sync module's job in a node).
    CatchUp {
        peer: NodeIndex,
        from_height: u64,
    },
    /// Entered a new view at the current height.
    ViewChanged {
        height: u64,
        view: u64,
    },
}
