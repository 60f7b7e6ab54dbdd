//! The leader's proposal (fresh, or said again after a restart) and a replica's acceptance of
//! the leader's pre-prepare.

use super::state::Pbft;
use crate::types::*;
use alloy_primitives::{B256, Bytes};

impl Pbft {
    pub(super) fn maybe_propose(&mut self, out: &mut Vec<Output>) {
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

    /// The driver built the proposal we asked for: persist it, then send it (as a new-view
    /// message when it opens a view change without a prepared proposal to carry over).
    pub(super) fn on_proposal(
        &mut self,
        height: u64,
        view: u64,
        payload: Bytes,
        out: &mut Vec<Output>,
    ) {
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

    pub(super) fn on_pre_prepare(
        &mut self,
        from: NodeIndex,
        view: u64,
        digest: B256,
        payload: Bytes,
        out: &mut Vec<Output>,
    ) {
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
        out.push(Output::Validate { height: self.height, view, digest, payload });
        // Votes that arrived before the proposal.
        self.try_commit(view, digest, out);
        self.try_decide(view, digest, out);
    }
}
