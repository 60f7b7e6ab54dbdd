//! The three phases: prepare (after validation) → commit (after a quorum of prepares, which
//! locks the proposal) → decide (after a quorum of commits), and the commit proof that lets a
//! peer that lost commits decide too.

use super::signing::{COMMIT, PREPARE};
use super::state::{Pbft, voted_otherwise};
use crate::types::*;
use alloy_primitives::{B256, Bytes};
use std::collections::BTreeSet;

impl Pbft {
    pub(super) fn try_prepare(&mut self, view: u64, digest: B256, out: &mut Vec<Output>) {
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

    pub(super) fn try_commit(&mut self, view: u64, digest: B256, out: &mut Vec<Output>) {
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
        // The lock keeps the payload (in the local record only): as a later view's leader,
        // or the one handing it to that leader, this node must be able to re-propose it.
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
    pub(super) fn try_decide(&mut self, view: u64, digest: B256, out: &mut Vec<Output>) {
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

    /// `payload` is known to have `digest`: it was checked when it arrived (a proposal, a
    /// commit proof) or built here.
    pub(super) fn decide(
        &mut self,
        view: u64,
        digest: B256,
        payload: Bytes,
        out: &mut Vec<Output>,
    ) {
        if self.round.decided.is_some() {
            return;
        }
        self.round.decided = Some((digest, payload.clone()));
        self.round.decided_view = view;
        out.push(Output::Execute { height: self.height, digest, payload });
    }

    /// Our quorum of commits with the payload, for peers on this height that lost some.
    pub(super) fn commit_proof(&self) -> Option<Message> {
        let (digest, payload) = self.round.decided.clone()?;
        let view = self.round.decided_view;
        let votes = self.round.commits.get(&(view, digest))?;
        if !self.has_quorum(votes) {
            return None;
        }
        let commits = votes.iter().map(|(n, s)| Vote { node: *n, sig: s.clone() }).collect();
        Some(Message::Committed { height: self.height, view, digest, payload, commits })
    }

    pub(super) fn on_prepare(
        &mut self,
        from: NodeIndex,
        view: u64,
        digest: B256,
        sig: Bytes,
        out: &mut Vec<Output>,
    ) {
        if !self.crypto.verify(from, &self.vote_hash(PREPARE, view, &digest, &B256::ZERO), &sig) {
            return;
        }
        // One prepare per peer and view: a second (for another digest) is a double vote and
        // only costs memory.
        if voted_otherwise(&self.round.prepares, from, view, &digest) {
            return;
        }
        self.round.prepares.entry((view, digest)).or_default().insert(from, sig);
        self.try_commit(view, digest, out);
    }

    pub(super) fn on_commit(
        &mut self,
        from: NodeIndex,
        view: u64,
        digest: B256,
        sig: Bytes,
        out: &mut Vec<Output>,
    ) {
        if !self.crypto.verify(from, &self.vote_hash(COMMIT, view, &digest, &B256::ZERO), &sig) {
            return;
        }
        if voted_otherwise(&self.round.commits, from, view, &digest) {
            return;
        }
        self.round.commits.entry((view, digest)).or_default().insert(from, sig);
        self.try_decide(view, digest, out);
    }

    /// A peer's commit proof: a quorum of commits with the payload decides here too.
    pub(super) fn on_committed(
        &mut self,
        view: u64,
        digest: B256,
        payload: Bytes,
        commits: Vec<Vote>,
        out: &mut Vec<Output>,
    ) {
        if self.round.decided.is_some() {
            return;
        }
        let h = self.vote_hash(COMMIT, view, &digest, &B256::ZERO);
        if self.crypto.digest(&payload) != digest {
            return;
        }
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
}
