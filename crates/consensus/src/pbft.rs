//! The PBFT state machine (see the crate docs for the protocol outline).

use crate::types::*;
use alloy_primitives::{B256, Bytes};
use std::collections::{BTreeMap, BTreeSet};

/// Decisions kept to answer peers that lag behind.
const RECENT_DECISIONS: u64 = 64;
/// Decisions sent to a lagging peer at once.
const CATCH_UP_BATCH: u64 = 8;
/// Messages for future heights kept until we get there.
const MAX_FUTURE: usize = 10_000;
/// Of those, from one peer at most, and with a payload (up to a block each) at most: a
/// faulty peer cannot make us buffer more than this.
const MAX_FUTURE_PER_PEER: usize = 512;
const MAX_FUTURE_PAYLOADS_PER_PEER: usize = 8;
/// Votes for views further ahead than this are ignored (a view change needs f+1 honest
/// timeouts to get there), so one peer cannot fill memory with far-future views.
const VIEW_WINDOW: u64 = 64;

const PREPARE: u8 = 1;
const COMMIT: u8 = 2;
const CHECKPOINT: u8 = 3;
const VIEW_CHANGE: u8 = 4;

#[derive(Debug, Clone)]
pub struct PbftConfig {
    pub validators: Validators,
    pub me: NodeIndex,
    /// View timeout at view 0; doubles per view (capped at 64×).
    pub base_timeout_ms: u64,
    /// The first height to decide (the ledger head + 1).
    pub start_height: u64,
}

type Votes = BTreeMap<NodeIndex, Bytes>;

/// Whether `from` already voted in `view` for a digest other than `digest`.
fn voted_otherwise(
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
struct Round {
    /// First proposal accepted per view (from that view's leader).
    proposals: BTreeMap<u64, (B256, Bytes)>,
    validated: BTreeSet<(u64, B256)>,
    prepares: BTreeMap<(u64, B256), Votes>,
    commits: BTreeMap<(u64, B256), Votes>,
    /// View changes received, per requested view, one per node.
    view_changes: BTreeMap<u64, BTreeMap<NodeIndex, ViewChange>>,
    new_view_sent: BTreeSet<u64>,
    /// The view this node proposes in once the driver answers, with the new-view
    /// justification when it is a view change.
    proposing: Option<(u64, Vec<ViewChange>)>,
    /// Decided (a quorum committed), being executed.
    decided: Option<(B256, Bytes)>,
    /// The view whose commits decided it (u64::MAX when adopted from a certificate).
    decided_view: u64,
    /// A decision adopted from a peer's certificate (catch-up).
    adopted: Option<Decision>,
    executed: Option<B256>,
    checkpoints: BTreeMap<(B256, B256), Votes>,
}

pub struct Pbft {
    cfg: PbftConfig,
    crypto: Box<dyn Crypto + Send>,
    height: u64,
    view: u64,
    /// Voting in `view` is open (view 0, or its new-view message was accepted).
    entered: bool,
    now: u64,
    view_started: u64,
    /// When our view change was last (re)sent.
    last_resend: u64,
    /// When the commit proof was last sent.
    last_proof: u64,
    /// Our view-change vote re-signed after a restart in a view > 0 (resent only).
    restored_vc: Option<ViewChange>,
    persisted: Persisted,
    round: Round,
    recent: BTreeMap<u64, Decision>,
    future: Vec<(NodeIndex, Message)>,
}

impl Pbft {
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
                let prepared = me.persisted.locked.clone();
                let sig = me.crypto.sign(&me.view_change_hash(me.view, prepared.as_ref()));
                me.restored_vc =
                    Some(ViewChange { height, new_view: me.view, from: me.cfg.me, prepared, sig });
            }
        }
        me
    }

    pub fn height(&self) -> u64 {
        self.height
    }

    pub fn view(&self) -> u64 {
        self.view
    }

    fn me(&self) -> NodeIndex {
        self.cfg.me
    }

    fn leader(&self, view: u64) -> NodeIndex {
        self.cfg.validators.leader(self.height, view)
    }

    fn weight(&self, votes: impl Iterator<Item = NodeIndex>) -> u64 {
        votes.map(|n| self.cfg.validators.weight(n)).sum()
    }

    fn has_quorum(&self, votes: &Votes) -> bool {
        self.weight(votes.keys().copied()) >= self.cfg.validators.quorum()
    }

    fn timeout(&self) -> u64 {
        self.cfg.base_timeout_ms.saturating_mul(1 << self.view.min(6))
    }

    /// Call once after `new`: starts the view timer and proposes if this node leads.
    pub fn start(&mut self, now_ms: u64) -> Vec<Output> {
        self.now = now_ms;
        self.view_started = now_ms;
        let mut out = vec![Output::Persist(self.persisted.clone())];
        self.maybe_propose(&mut out);
        out
    }

    pub fn step(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Tick { now_ms } => self.on_tick(now_ms, &mut out),
            Input::Message { from, message } => self.on_message(from, message, &mut out),
            Input::Proposal { height, view, payload } => {
                self.on_proposal(height, view, payload, &mut out)
            }
            Input::Validated { height, view, digest, valid } => {
                if valid && height == self.height {
                    self.round.validated.insert((view, digest));
                    self.try_prepare(view, digest, &mut out);
                }
            }
            Input::Executed { height, digest, block_hash } => {
                self.on_executed(height, digest, block_hash, &mut out)
            }
        }
        out
    }

    // ---------- hashing what is signed ----------

    fn vote_hash(&self, kind: u8, view: u64, a: &B256, b: &B256) -> B256 {
        let mut buf = Vec::with_capacity(1 + 16 + 64);
        buf.push(kind);
        buf.extend_from_slice(&self.height.to_be_bytes());
        buf.extend_from_slice(&view.to_be_bytes());
        buf.extend_from_slice(a.as_slice());
        buf.extend_from_slice(b.as_slice());
        self.crypto.hash(&buf)
    }

    fn view_change_hash(&self, new_view: u64, prepared: Option<&PreparedCert>) -> B256 {
        let (v, d) = prepared.map_or((u64::MAX, B256::ZERO), |c| (c.view, c.digest));
        let mut tag = [0u8; 32];
        tag[24..].copy_from_slice(&v.to_be_bytes());
        self.vote_hash(VIEW_CHANGE, new_view, &d, &B256::from(tag))
    }

    fn valid_cert(&self, cert: &PreparedCert) -> bool {
        if cert.height != self.height || self.crypto.digest(&cert.payload) != cert.digest {
            return false;
        }
        let h = self.vote_hash(PREPARE, cert.view, &cert.digest, &B256::ZERO);
        let mut seen = BTreeSet::new();
        for v in &cert.prepares {
            if !seen.insert(v.node) || !self.crypto.verify(v.node, &h, &v.sig) {
                return false;
            }
        }
        self.weight(seen.into_iter()) >= self.cfg.validators.quorum()
    }

    fn valid_view_change(&self, vc: &ViewChange) -> bool {
        vc.height == self.height
            && self.cfg.validators.weight(vc.from) > 0
            && self.crypto.verify(
                vc.from,
                &self.view_change_hash(vc.new_view, vc.prepared.as_ref()),
                &vc.sig,
            )
            && vc.prepared.as_ref().is_none_or(|c| c.view < vc.new_view && self.valid_cert(c))
    }

    fn valid_decision(&self, d: &Decision) -> bool {
        if d.height != self.height || self.crypto.digest(&d.payload) != d.digest {
            return false;
        }
        let h = self.vote_hash(CHECKPOINT, 0, &d.digest, &d.block_hash);
        let mut seen = BTreeSet::new();
        for v in &d.certificate {
            if !seen.insert(v.node) || !self.crypto.verify(v.node, &h, &v.sig) {
                return false;
            }
        }
        self.weight(seen.into_iter()) >= self.cfg.validators.quorum()
    }

    // ---------- proposing ----------

    fn maybe_propose(&mut self, out: &mut Vec<Output>) {
        if self.entered
            && self.leader(self.view) == self.me()
            && self.round.decided.is_none()
            && !self.round.proposals.contains_key(&self.view)
            && self.round.proposing.is_none()
        {
            if let Some((view, digest, payload)) = self.persisted.proposal.clone()
                && view == self.view
            {
                // Proposed before a restart: say the same thing again.
                let height = self.height;
                let message =
                    Message::PrePrepare { height, view, digest, payload: payload.clone() };
                out.push(Output::Broadcast(message));
                self.round.proposals.insert(view, (digest, payload));
                self.round.validated.insert((view, digest));
                self.try_prepare(view, digest, out);
                return;
            }
            self.round.proposing = Some((self.view, Vec::new()));
            out.push(Output::Propose { height: self.height, view: self.view });
        }
    }

    fn on_proposal(&mut self, height: u64, view: u64, payload: Bytes, out: &mut Vec<Output>) {
        let Some((pview, justification)) = self.round.proposing.clone() else { return };
        if height != self.height || view != pview || self.round.proposals.contains_key(&view) {
            return;
        }
        self.round.proposing = None;
        let digest = self.crypto.digest(&payload);
        self.persisted.proposal = Some((view, digest, payload.clone()));
        out.push(Output::Persist(self.persisted.clone()));
        if view > 0 && !justification.is_empty() {
            out.push(Output::Broadcast(Message::NewView {
                height,
                view,
                justification,
                digest,
                payload: payload.clone(),
            }));
            self.enter_view(view, out);
        } else {
            out.push(Output::Broadcast(Message::PrePrepare {
                height,
                view,
                digest,
                payload: payload.clone(),
            }));
        }
        self.round.proposals.insert(view, (digest, payload));
        // Our own proposal: the driver built it from checked txs.
        self.round.validated.insert((view, digest));
        self.try_prepare(view, digest, out);
    }

    // ---------- the three phases ----------

    fn try_prepare(&mut self, view: u64, digest: B256, out: &mut Vec<Output>) {
        if view != self.view || !self.entered || self.round.decided.is_some() {
            return;
        }
        if self.round.proposals.get(&view).map(|p| p.0) != Some(digest)
            || !self.round.validated.contains(&(view, digest))
        {
            return;
        }
        match self.persisted.prepared_votes.iter().find(|(v, _)| *v == view) {
            Some((_, d)) if *d != digest => return, // never two prepares in one view
            Some(_) => {}
            None => {
                self.persisted.prepared_votes.push((view, digest));
                out.push(Output::Persist(self.persisted.clone()));
            }
        }
        let sig = self.crypto.sign(&self.vote_hash(PREPARE, view, &digest, &B256::ZERO));
        self.round.prepares.entry((view, digest)).or_default().insert(self.cfg.me, sig.clone());
        out.push(Output::Broadcast(Message::Prepare { height: self.height, view, digest, sig }));
        self.try_commit(view, digest, out);
    }

    fn try_commit(&mut self, view: u64, digest: B256, out: &mut Vec<Output>) {
        if view != self.view || !self.entered {
            return;
        }
        let i_prepared = self.persisted.prepared_votes.contains(&(view, digest));
        let Some(prepares) = self.round.prepares.get(&(view, digest)) else { return };
        if !i_prepared || !self.has_quorum(prepares) {
            return;
        }
        if self.persisted.commit_votes.iter().any(|(v, _)| *v == view) {
            return;
        }
        let payload = match self.round.proposals.get(&view) {
            Some((d, p)) if *d == digest => p.clone(),
            _ => return,
        };
        let cert = PreparedCert {
            height: self.height,
            view,
            digest,
            payload,
            prepares: prepares.iter().map(|(n, s)| Vote { node: *n, sig: s.clone() }).collect(),
        };
        self.persisted.commit_votes.push((view, digest));
        self.persisted.locked = Some(cert);
        out.push(Output::Persist(self.persisted.clone()));
        let sig = self.crypto.sign(&self.vote_hash(COMMIT, view, &digest, &B256::ZERO));
        self.round.commits.entry((view, digest)).or_default().insert(self.cfg.me, sig.clone());
        out.push(Output::Broadcast(Message::Commit { height: self.height, view, digest, sig }));
        self.try_decide(view, digest, out);
    }

    /// A quorum committed (view, digest): whatever view we are in, it is decided.
    fn try_decide(&mut self, view: u64, digest: B256, out: &mut Vec<Output>) {
        if self.round.decided.is_some() {
            return;
        }
        let Some(commits) = self.round.commits.get(&(view, digest)) else { return };
        if !self.has_quorum(commits) {
            return;
        }
        let payload = match self.round.proposals.get(&view) {
            Some((d, p)) if *d == digest => p.clone(),
            _ => match &self.persisted.locked {
                Some(c) if c.digest == digest => c.payload.clone(),
                _ => return, // payload unknown: a peer's decision will bring it
            },
        };
        self.decide(view, digest, payload, out);
    }

    fn decide(&mut self, view: u64, digest: B256, payload: Bytes, out: &mut Vec<Output>) {
        if self.round.decided.is_some() || self.crypto.digest(&payload) != digest {
            return;
        }
        self.round.decided = Some((digest, payload.clone()));
        self.round.decided_view = view;
        out.push(Output::Execute { height: self.height, digest, payload });
    }

    /// Our quorum of commits with the payload, for peers on this height that lost some.
    fn commit_proof(&self) -> Option<Message> {
        let (digest, payload) = self.round.decided.clone()?;
        let view = self.round.decided_view;
        let votes = self.round.commits.get(&(view, digest))?;
        if !self.has_quorum(votes) {
            return None;
        }
        let commits = votes.iter().map(|(n, s)| Vote { node: *n, sig: s.clone() }).collect();
        Some(Message::Committed { height: self.height, view, digest, payload, commits })
    }

    fn on_executed(&mut self, height: u64, digest: B256, block_hash: B256, out: &mut Vec<Output>) {
        if height != self.height || self.round.decided.as_ref().map(|d| d.0) != Some(digest) {
            return;
        }
        self.round.executed = Some(block_hash);
        if let Some(adopted) = self.round.adopted.clone() {
            if adopted.block_hash == block_hash {
                self.finalize(adopted, out);
            }
            // Otherwise our execution disagrees with the certified result: stay here
            // rather than commit a block the quorum did not sign.
            return;
        }
        let sig = self.crypto.sign(&self.vote_hash(CHECKPOINT, 0, &digest, &block_hash));
        self.round
            .checkpoints
            .entry((digest, block_hash))
            .or_default()
            .insert(self.cfg.me, sig.clone());
        out.push(Output::Broadcast(Message::Checkpoint { height, digest, block_hash, sig }));
        self.try_finalize(digest, block_hash, out);
    }

    fn try_finalize(&mut self, digest: B256, block_hash: B256, out: &mut Vec<Output>) {
        if self.round.executed != Some(block_hash) {
            return;
        }
        let Some(votes) = self.round.checkpoints.get(&(digest, block_hash)) else { return };
        if !self.has_quorum(votes) {
            return;
        }
        let Some((_, payload)) = self.round.decided.clone() else { return };
        let decision = Decision {
            height: self.height,
            digest,
            payload,
            block_hash,
            certificate: votes.iter().map(|(n, s)| Vote { node: *n, sig: s.clone() }).collect(),
        };
        self.finalize(decision, out);
    }

    fn finalize(&mut self, decision: Decision, out: &mut Vec<Output>) {
        out.push(Output::Commit(decision.clone()));
        self.recent.insert(decision.height, decision);
        while self.recent.len() as u64 > RECENT_DECISIONS {
            self.recent.pop_first();
        }
        self.height += 1;
        self.view = 0;
        self.entered = true;
        self.view_started = self.now;
        self.round = Round::default();
        self.restored_vc = None;
        self.persisted = Persisted { height: self.height, ..Default::default() };
        out.push(Output::Persist(self.persisted.clone()));
        self.maybe_propose(out);
        // Messages that arrived early for this height.
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.future)
            .into_iter()
            .partition(|(_, m)| m.height() == self.height);
        self.future = later;
        for (from, message) in now {
            self.on_message(from, message, out);
        }
    }

    // ---------- messages ----------

    fn on_message(&mut self, from: NodeIndex, message: Message, out: &mut Vec<Output>) {
        if self.cfg.validators.weight(from) == 0 || from == self.me() {
            return;
        }
        let height = message.height();
        if height < self.height {
            // The peer lags: send what it needs to catch up.
            if matches!(
                message,
                Message::ViewChange(_) | Message::Checkpoint { .. } | Message::PrePrepare { .. }
            ) {
                if !self.recent.contains_key(&height) {
                    out.push(Output::CatchUp { peer: from, from_height: height });
                    return;
                }
                let last = (height + CATCH_UP_BATCH).min(self.height - 1);
                for d in self.recent.range(height..=last).map(|(_, d)| d.clone()) {
                    out.push(Output::Send { to: from, message: Message::Decided(d) });
                }
            }
            return;
        }
        if height > self.height {
            let (mut count, mut payloads) = (0, 0);
            for (_, m) in self.future.iter().filter(|(f, _)| *f == from) {
                count += 1;
                payloads += m.carries_payload() as usize;
            }
            if self.future.len() < MAX_FUTURE
                && count < MAX_FUTURE_PER_PEER
                && (!message.carries_payload() || payloads < MAX_FUTURE_PAYLOADS_PER_PEER)
            {
                self.future.push((from, message));
            }
            return;
        }
        let far = match &message {
            Message::Prepare { view, .. } | Message::Commit { view, .. } => *view,
            Message::ViewChange(vc) => vc.new_view,
            _ => self.view,
        };
        if far > self.view.saturating_add(VIEW_WINDOW) {
            return;
        }
        match message {
            Message::PrePrepare { view, digest, payload, .. } => {
                if view != self.view || !self.entered || from != self.leader(view) {
                    return;
                }
                if self.crypto.digest(&payload) != digest {
                    return;
                }
                if self.round.proposals.contains_key(&view) {
                    return; // first proposal wins; a second one is equivocation
                }
                self.round.proposals.insert(view, (digest, payload.clone()));
                out.push(Output::Validate { height, view, digest, payload });
                // Votes that arrived before the proposal.
                self.try_commit(view, digest, out);
                self.try_decide(view, digest, out);
            }
            Message::Prepare { view, digest, sig, .. } => {
                if !self.crypto.verify(
                    from,
                    &self.vote_hash(PREPARE, view, &digest, &B256::ZERO),
                    &sig,
                ) {
                    return;
                }
                // One prepare per peer and view: a second (for another digest) is a double
                // vote and only costs memory.
                if voted_otherwise(&self.round.prepares, from, view, &digest) {
                    return;
                }
                self.round.prepares.entry((view, digest)).or_default().insert(from, sig);
                self.try_commit(view, digest, out);
            }
            Message::Commit { view, digest, sig, .. } => {
                if !self.crypto.verify(
                    from,
                    &self.vote_hash(COMMIT, view, &digest, &B256::ZERO),
                    &sig,
                ) {
                    return;
                }
                if voted_otherwise(&self.round.commits, from, view, &digest) {
                    return;
                }
                self.round.commits.entry((view, digest)).or_default().insert(from, sig);
                self.try_decide(view, digest, out);
            }
            Message::Checkpoint { digest, block_hash, sig, .. } => {
                if !self.crypto.verify(
                    from,
                    &self.vote_hash(CHECKPOINT, 0, &digest, &block_hash),
                    &sig,
                ) {
                    return;
                }
                if self
                    .round
                    .checkpoints
                    .iter()
                    .any(|(key, votes)| *key != (digest, block_hash) && votes.contains_key(&from))
                {
                    return; // one checkpoint per peer and height
                }
                self.round.checkpoints.entry((digest, block_hash)).or_default().insert(from, sig);
                self.try_finalize(digest, block_hash, out);
            }
            Message::Committed { view, digest, payload, commits, .. } => {
                if self.round.decided.is_some() {
                    return;
                }
                let h = self.vote_hash(COMMIT, view, &digest, &B256::ZERO);
                let mut seen = BTreeSet::new();
                for v in &commits {
                    if !seen.insert(v.node) || !self.crypto.verify(v.node, &h, &v.sig) {
                        return;
                    }
                }
                if self.weight(seen.into_iter()) >= self.cfg.validators.quorum() {
                    let votes = self.round.commits.entry((view, digest)).or_default();
                    for v in commits {
                        votes.insert(v.node, v.sig);
                    }
                    self.decide(view, digest, payload, out);
                }
            }
            Message::ViewChange(vc) => {
                if self.round.decided.is_some() {
                    // The peer is stuck on a height we decided: help it decide too.
                    if let Some(proof) = self.commit_proof() {
                        out.push(Output::Send { to: from, message: proof });
                    }
                    return;
                }
                if vc.from != from || !self.valid_view_change(&vc) {
                    return;
                }
                let new_view = vc.new_view;
                self.round.view_changes.entry(new_view).or_default().insert(from, vc);
                self.maybe_join_view_change(out);
                self.try_new_view(new_view, out);
            }
            Message::NewView { view, justification, digest, payload, .. } => {
                self.on_new_view(from, view, justification, digest, payload, out);
            }
            Message::Decided(decision) => {
                if self.round.adopted.is_some() || !self.valid_decision(&decision) {
                    return;
                }
                if let Some((d, _)) = &self.round.decided
                    && *d != decision.digest
                {
                    return; // cannot happen with f or fewer faulty; never switch
                }
                self.round.adopted = Some(decision.clone());
                match self.round.executed {
                    Some(bh) if bh == decision.block_hash => self.finalize(decision, out),
                    Some(_) => {}
                    None if self.round.decided.is_some() => {} // executing: wait
                    None => {
                        self.round.decided = Some((decision.digest, decision.payload.clone()));
                        self.round.decided_view = u64::MAX;
                        out.push(Output::Execute {
                            height: self.height,
                            digest: decision.digest,
                            payload: decision.payload,
                        });
                    }
                }
            }
        }
    }

    // ---------- view change ----------

    fn on_tick(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        self.now = self.now.max(now_ms);
        if self.now.saturating_sub(self.view_started) < self.timeout() {
            // Decided but not final: peers that lost commits get the proof (with the
            // payload), a few times per timeout rather than on every tick.
            if self.now.saturating_sub(self.last_proof) >= self.cfg.base_timeout_ms / 4
                && let Some(proof) = self.commit_proof()
            {
                self.last_proof = self.now;
                out.push(Output::Broadcast(proof));
            }
            self.resend_view_change(out);
            return;
        }
        self.view_started = self.now;
        if let Some((digest, _)) = &self.round.decided {
            // Decided: a new view cannot change the outcome. If executed, we are waiting
            // for checkpoints only (lost ones are said again); else for the driver.
            let (digest, height) = (*digest, self.height);
            if let Some(block_hash) = self.round.executed
                && let Some(sig) = self
                    .round
                    .checkpoints
                    .get(&(digest, block_hash))
                    .and_then(|v| v.get(&self.cfg.me))
            {
                let sig = sig.clone();
                out.push(Output::Broadcast(Message::Checkpoint {
                    height,
                    digest,
                    block_hash,
                    sig,
                }));
            }
            return;
        }
        let target = self.view + 1;
        self.send_view_change(target, out);
    }

    /// Waiting for a new view: say our view change again every base timeout, so peers that
    /// were down or disconnected when we first said it (their messages lost) can join; the
    /// timeout to the next view doubles, the resends do not.
    fn resend_view_change(&mut self, out: &mut Vec<Output>) {
        if self.entered || self.now.saturating_sub(self.last_resend) < self.cfg.base_timeout_ms {
            return;
        }
        self.last_resend = self.now;
        let vc = self
            .round
            .view_changes
            .get(&self.view)
            .and_then(|v| v.get(&self.cfg.me))
            .or(self.restored_vc.as_ref().filter(|vc| vc.new_view == self.view));
        if let Some(vc) = vc {
            out.push(Output::Broadcast(Message::ViewChange(vc.clone())));
        }
    }

    fn send_view_change(&mut self, target: u64, out: &mut Vec<Output>) {
        if target <= self.view {
            return;
        }
        self.view = target;
        self.entered = false;
        self.view_started = self.now;
        self.last_resend = self.now;
        self.round.proposing = None;
        self.persisted.view = target;
        out.push(Output::Persist(self.persisted.clone()));
        let prepared = self.persisted.locked.clone();
        let sig = self.crypto.sign(&self.view_change_hash(target, prepared.as_ref()));
        let vc =
            ViewChange { height: self.height, new_view: target, from: self.me(), prepared, sig };
        self.round.view_changes.entry(target).or_default().insert(self.cfg.me, vc.clone());
        out.push(Output::Broadcast(Message::ViewChange(vc)));
        self.try_new_view(target, out);
    }

    /// Peers with more than a third of the weight want a later view: at least one honest
    /// node timed out, so join the lowest such view (PBFT's liveness rule).
    fn maybe_join_view_change(&mut self, out: &mut Vec<Output>) {
        let mut highest: BTreeMap<NodeIndex, u64> = BTreeMap::new();
        for (view, votes) in self.round.view_changes.range(self.view + 1..) {
            for node in votes.keys() {
                highest.insert(*node, *view);
            }
        }
        if self.weight(highest.keys().copied()) >= self.cfg.validators.one_honest() {
            // The smallest view such that the nodes asking for at least it weigh f+1.
            let mut views: Vec<u64> = highest.values().copied().collect();
            views.sort_unstable();
            views.dedup();
            for v in views.into_iter().rev() {
                let w = self.weight(highest.iter().filter(|(_, hv)| **hv >= v).map(|(n, _)| *n));
                if w >= self.cfg.validators.one_honest() {
                    self.send_view_change(v, out);
                    return;
                }
            }
        }
    }

    fn try_new_view(&mut self, view: u64, out: &mut Vec<Output>) {
        if self.leader(view) != self.me()
            || view < self.view
            || self.round.new_view_sent.contains(&view)
            || self.round.decided.is_some()
        {
            return;
        }
        let Some(votes) = self.round.view_changes.get(&view) else { return };
        if self.weight(votes.keys().copied()) < self.cfg.validators.quorum()
            || !votes.contains_key(&self.me())
        {
            return;
        }
        let justification: Vec<ViewChange> = votes.values().cloned().collect();
        self.round.new_view_sent.insert(view);
        let highest = justification
            .iter()
            .filter_map(|vc| vc.prepared.as_ref())
            .max_by_key(|c| c.view)
            .cloned();
        match highest {
            Some(cert) => {
                // Something may have been decided: re-propose it.
                out.push(Output::Broadcast(Message::NewView {
                    height: self.height,
                    view,
                    justification,
                    digest: cert.digest,
                    payload: cert.payload.clone(),
                }));
                self.enter_view(view, out);
                self.round.proposals.insert(view, (cert.digest, cert.payload));
                self.round.validated.insert((view, cert.digest));
                self.try_prepare(view, cert.digest, out);
            }
            None => {
                self.round.proposing = Some((view, justification));
                out.push(Output::Propose { height: self.height, view });
            }
        }
    }

    fn on_new_view(
        &mut self,
        from: NodeIndex,
        view: u64,
        justification: Vec<ViewChange>,
        digest: B256,
        payload: Bytes,
        out: &mut Vec<Output>,
    ) {
        if from != self.leader(view)
            || view < self.view
            || (view == self.view && self.entered)
            || view == 0
        {
            return;
        }
        if self.crypto.digest(&payload) != digest {
            return;
        }
        let mut seen = BTreeSet::new();
        for vc in &justification {
            if vc.new_view != view || !seen.insert(vc.from) || !self.valid_view_change(vc) {
                return;
            }
        }
        if self.weight(seen.into_iter()) < self.cfg.validators.quorum() {
            return;
        }
        // The new leader must re-propose the highest prepared proposal, if any.
        let highest =
            justification.iter().filter_map(|vc| vc.prepared.as_ref()).max_by_key(|c| c.view);
        if let Some(cert) = highest
            && cert.digest != digest
        {
            return;
        }
        let reproposal = highest.is_some();
        self.enter_view(view, out);
        self.round.proposals.insert(view, (digest, payload.clone()));
        if reproposal {
            // A quorum prepared it once: it was validated then.
            self.round.validated.insert((view, digest));
            self.try_prepare(view, digest, out);
        } else {
            out.push(Output::Validate { height: self.height, view, digest, payload });
        }
    }

    fn enter_view(&mut self, view: u64, out: &mut Vec<Output>) {
        self.view = view;
        self.entered = true;
        self.view_started = self.now;
        if self.persisted.view != view {
            self.persisted.view = view;
            out.push(Output::Persist(self.persisted.clone()));
        }
        out.push(Output::ViewChanged { height: self.height, view });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;
    use std::collections::VecDeque;

    /// Unforgeable-by-construction signatures for tests: keyed hashes, all keys known to
    /// verifiers, each node signing only with its own.
    struct KeyedHash(NodeIndex);
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
                c.iter()
                    .enumerate()
                    .all(|(i, c)| Some(i as u32) == down || c.len() as u64 >= heights)
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
                Output::Send { to, message } => {
                    queue.push_back((to, Input::Message { from, message }))
                }
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
        node.start(0);
        let payload = Bytes::from(vec![7u8; 1024]);
        // Proposals for future heights: only a few are kept per peer.
        for height in 2..100 {
            let digest = keccak256(&payload);
            let m = Message::PrePrepare { height, view: 0, digest, payload: payload.clone() };
            node.step(Input::Message { from: 3, message: m });
        }
        assert_eq!(node.future.len(), MAX_FUTURE_PAYLOADS_PER_PEER);
        // Small future votes are capped per peer too.
        for height in 2..2000 {
            let m = Message::Commit { height, view: 0, digest: B256::ZERO, sig: Bytes::new() };
            node.step(Input::Message { from: 3, message: m });
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
            node.step(Input::Message { from: 2, message: m });
        }
        assert_eq!(node.round.prepares.len(), 1);
        assert!(node.round.prepares.contains_key(&(0, B256::repeat_byte(1))));
    }
}
