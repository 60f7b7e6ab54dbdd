//! What goes in and out of the state machine.

use alloy_primitives::{B256, Bytes};

/// A sealer's position in the sealer list in effect at a height.
pub type NodeIndex = u32;

/// Signing and hashing, supplied by the driver (the chain's `CryptoSuite` in a node; a
/// keyed hash in the simulation). Must be deterministic.
pub trait Crypto {
    /// The chain's hash of `data` (what signed vote bodies are hashed with).
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
    /// Voting weight per sealer, by [`NodeIndex`]; a weight of 0 cannot vote.
    pub weights: Vec<u64>,
    /// Blocks per leader before rotation (`consensus_leader_period`, ≥ 1).
    pub leader_period: u64,
}

impl Validators {
    /// `n` sealers of weight 1, a new leader every block.
    pub fn equal(n: usize) -> Self {
        Validators { weights: vec![1; n], leader_period: 1 }
    }
    /// Number of sealers (of any weight).
    pub fn len(&self) -> usize {
        self.weights.len()
    }
    /// Whether there are no sealers at all.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }
    /// Sum of all weights.
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
    /// `node`'s weight; 0 for an index outside the list.
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
    /// Who signed.
    pub node: NodeIndex,
    /// Its signature over the vote's hash (see the vote kinds in [`Message`]).
    pub sig: Bytes,
}

/// Proof that a proposal was prepared in a view (a quorum of signed prepares), with the
/// proposal itself: this node's lock, kept in its [`Persisted`] record so that it can re-propose
/// the proposal as a new leader, or hand it to the next one. It never travels whole inside a
/// view change (see [`PreparedProof`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedCert {
    /// The height it was prepared at.
    pub height: u64,
    /// The view it was prepared in.
    pub view: u64,
    /// The proposal's digest ([`Crypto::digest`] of `payload`).
    pub digest: B256,
    /// The proposal itself, so a new leader can re-propose it.
    pub payload: Bytes,
    /// A quorum of prepares for (height, view, digest).
    pub prepares: Vec<Vote>,
}

impl PreparedCert {
    /// The certificate without its payload: what a view-change vote carries.
    pub fn proof(&self) -> PreparedProof {
        PreparedProof {
            height: self.height,
            view: self.view,
            digest: self.digest,
            prepares: self.prepares.clone(),
        }
    }
}

/// A prepared certificate as a view change carries it: the digest and the quorum of signed
/// prepares, not the payload. The prepares sign (height, view, digest), so the proof is checked
/// without the payload; the one payload a new leader re-proposes travels once, in its
/// new-view message, where every replica checks it against this digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedProof {
    /// The height it was prepared at.
    pub height: u64,
    /// The view it was prepared in.
    pub view: u64,
    /// The prepared proposal's digest.
    pub digest: B256,
    /// A quorum of prepares for (height, view, digest).
    pub prepares: Vec<Vote>,
}

/// A signed view-change vote, forwarded inside a new-view message as its justification.
/// Its size does not depend on the proposal's: at most one [`PreparedProof`] (a quorum of
/// signatures), so a new-view message holding a quorum of them stays far below a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewChange {
    /// The height being decided.
    pub height: u64,
    /// The view the sender asks to move to.
    pub new_view: u64,
    /// The sender.
    pub from: NodeIndex,
    /// The sender's highest prepared certificate at `height` (its lock), if any.
    pub prepared: Option<PreparedProof>,
    /// The sender's signature over (height, new_view, prepared view, prepared digest).
    pub sig: Bytes,
}

/// A block decided and executed with the same result by a quorum: the checkpoint
/// signatures over the final block hash are the block's commit certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The decided height.
    pub height: u64,
    /// The decided proposal's digest.
    pub digest: B256,
    /// The decided proposal.
    pub payload: Bytes,
    /// The hash of the block the proposal executed to (final header).
    pub block_hash: B256,
    /// A quorum of checkpoint signatures over (height, digest, block_hash).
    pub certificate: Vec<Vote>,
}

/// Consensus messages. The network authenticates the sender (`from` in [`Input::Message`]);
/// signatures make votes transferable (certificates, view-change justification).
///
/// Size: a message carries at most one proposal payload plus signatures (at most a quorum of
/// view-change votes, each with at most one quorum of prepares), so its encoding is bounded by
/// one proposal plus O(n²) signatures whatever happened before: it fits a network frame that
/// fits one proposal with room to spare (see [`Message::encoded_len`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The leader's proposal for (height, view); `digest` = [`Crypto::digest`] of `payload`.
    PrePrepare {
        /// The height proposed for.
        height: u64,
        /// The view proposed in.
        view: u64,
        /// The payload's digest.
        digest: B256,
        /// The proposal.
        payload: Bytes,
    },
    /// A signed prepare vote for (height, view, digest).
    Prepare {
        /// The height voted on.
        height: u64,
        /// The view voted in.
        view: u64,
        /// The proposal voted for.
        digest: B256,
        /// The sender's signature.
        sig: Bytes,
    },
    /// A signed commit vote for (height, view, digest): the sender holds a prepared
    /// certificate for it.
    Commit {
        /// The height voted on.
        height: u64,
        /// The view voted in.
        view: u64,
        /// The proposal voted for.
        digest: B256,
        /// The sender's signature.
        sig: Bytes,
    },
    /// After executing the committed proposal: the final block hash, signed.
    Checkpoint {
        /// The decided height.
        height: u64,
        /// The decided proposal.
        digest: B256,
        /// The hash of the block it executed to.
        block_hash: B256,
        /// The sender's signature.
        sig: Bytes,
    },
    /// A view-change vote. The copy sent to the leader of `vote.new_view` also carries the
    /// payload of the vote's prepared certificate, so that the leader can re-propose it even if
    /// it never saw it; every other copy carries only digests.
    ViewChange {
        /// The signed vote.
        vote: ViewChange,
        /// The payload named by `vote.prepared` (only to the new view's leader).
        payload: Option<Bytes>,
    },
    /// The new leader's proof that a quorum moved to `view`, and what it proposes there: the
    /// payload of the highest prepared certificate in `justification` if there is one (its
    /// digest is checked by every replica), else a new proposal.
    NewView {
        /// The height being decided.
        height: u64,
        /// The view being entered.
        view: u64,
        /// A quorum (by weight) of view-change votes for `view`.
        justification: Vec<ViewChange>,
        /// The proposal's digest.
        digest: B256,
        /// The proposal.
        payload: Bytes,
    },
    /// A decided block, sent to a peer seen working on an older height.
    Decided(Decision),
    /// A quorum's commits for (height, view, digest) with the proposal: lets a peer that
    /// lost commits (or the proposal) decide too, before the checkpoints exist.
    Committed {
        /// The decided height.
        height: u64,
        /// The view whose commits decided it.
        view: u64,
        /// The decided proposal's digest.
        digest: B256,
        /// The decided proposal.
        payload: Bytes,
        /// A quorum of commit votes.
        commits: Vec<Vote>,
    },
}

impl Message {
    /// Whether it carries a proposal payload (up to a block), not just votes.
    pub fn carries_payload(&self) -> bool {
        matches!(
            self,
            Message::PrePrepare { .. }
                | Message::NewView { .. }
                | Message::Decided(_)
                | Message::Committed { .. }
                | Message::ViewChange { payload: Some(_), .. }
        )
    }

    /// The height the message is about.
    pub fn height(&self) -> u64 {
        match self {
            Message::PrePrepare { height, .. }
            | Message::Prepare { height, .. }
            | Message::Commit { height, .. }
            | Message::Checkpoint { height, .. }
            | Message::NewView { height, .. }
            | Message::Committed { height, .. } => *height,
            Message::ViewChange { vote, .. } => vote.height,
            Message::Decided(d) => d.height,
        }
    }
}

/// What the persisted record holds: enough that a restarted node never votes twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Persisted {
    /// The height being decided.
    pub height: u64,
    /// The view reached at `height`.
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

/// What the driver feeds to [`crate::Pbft::step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The current time (ms); drives timeouts. Must not go backwards.
    Tick {
        /// Milliseconds on the driver's clock.
        now_ms: u64,
    },
    /// A message from a peer, authenticated by the network.
    Message {
        /// The sender's index in the sealer list.
        from: NodeIndex,
        /// What it sent.
        message: Message,
    },
    /// The driver's proposal, after [`Output::Propose`].
    Proposal {
        /// As asked in [`Output::Propose`].
        height: u64,
        /// As asked in [`Output::Propose`].
        view: u64,
        /// The encoded proposal.
        payload: Bytes,
    },
    /// The driver checked a proposal (every tx signature, limits, parent).
    Validated {
        /// As in [`Output::Validate`].
        height: u64,
        /// As in [`Output::Validate`].
        view: u64,
        /// As in [`Output::Validate`].
        digest: B256,
        /// Whether the proposal may be voted for.
        valid: bool,
    },
    /// The driver executed the decided proposal; `block_hash` is the final header's hash.
    Executed {
        /// As in [`Output::Execute`].
        height: u64,
        /// As in [`Output::Execute`].
        digest: B256,
        /// The hash of the block it executed to.
        block_hash: B256,
    },
}

/// What the state machine asks the driver to do, in order. Dropping one unperformed loses a
/// vote, a proposal or a decision.
#[must_use = "consensus outputs must be performed in order (persist before sending)"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write this durably before acting on any later output.
    Persist(Persisted),
    /// Send to every other sealer.
    Broadcast(Message),
    /// Send to one sealer.
    Send {
        /// The receiver's index in the sealer list.
        to: NodeIndex,
        /// What to send.
        message: Message,
    },
    /// This node leads (height, view): build a proposal and answer with [`Input::Proposal`].
    Propose {
        /// The height to propose for.
        height: u64,
        /// The view to propose in.
        view: u64,
    },
    /// Check a proposal and answer with [`Input::Validated`].
    Validate {
        /// The height it is proposed for.
        height: u64,
        /// The view it is proposed in.
        view: u64,
        /// Its digest.
        digest: B256,
        /// The proposal.
        payload: Bytes,
    },
    /// A quorum committed this proposal: execute it (on top of height - 1) and answer with
    /// [`Input::Executed`].
    Execute {
        /// The decided height.
        height: u64,
        /// The decided proposal's digest.
        digest: B256,
        /// The decided proposal.
        payload: Bytes,
    },
    /// Final: commit the executed block with its certificate.
    Commit(Decision),
    /// A peer works on `from_height`, which this node decided longer ago than it remembers:
    /// send it the decided blocks from the ledger, with their certificates, as
    /// [`Message::Decided`] (the sync module's job in a node).
    CatchUp {
        /// The lagging peer.
        peer: NodeIndex,
        /// The first height it lacks.
        from_height: u64,
    },
    /// Entered a new view at the current height.
    ViewChanged {
        /// The current height.
        height: u64,
        /// The view entered.
        view: u64,
    },
}
