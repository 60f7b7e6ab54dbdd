//! The new view: its leader justifies it with a quorum of view-change votes and re-proposes
//! the highest prepared proposal among them (or proposes anew if none prepared); a replica
//! checks the justification and that the proposal is that highest prepared one, by digest.
//!
//! Safety does not depend on which quorum the leader picks: every quorum of view-change votes
//! includes an honest node locked on anything that may have been decided, and no higher
//! certificate can name another digest. So a leader missing the payload of the highest
//! certificate may leave those votes out while a quorum remains; the payload it sends is
//! checked against the digest by every replica.

use super::state::Pbft;
use crate::types::*;
use alloy_primitives::{B256, Bytes};
use std::collections::BTreeSet;

/// The highest prepared certificate among `votes`: the one the new view must re-propose
/// (the last of equal views, the same rule on both sides).
fn highest(votes: &[ViewChange]) -> Option<&PreparedProof> {
    votes.iter().filter_map(|vc| vc.prepared.as_ref()).max_by_key(|c| c.view)
}

impl Pbft {
    pub(super) fn try_new_view(&mut self, view: u64, out: &mut Vec<Output>) {
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
        let mut justification: Vec<ViewChange> = votes.values().cloned().collect();
        // The highest certificate whose payload we hold, leaving out votes with higher ones
        // we cannot re-propose (yet: their senders say them again, with the payload).
        let reproposal = loop {
            let Some(top) = highest(&justification).map(|c| (c.view, c.digest)) else {
                break None;
            };
            if let Some(payload) = self.known_payload(&top.1) {
                break Some((top.1, payload));
            }
            justification
                .retain(|vc| vc.prepared.as_ref().is_none_or(|c| (c.view, c.digest) != top));
            if self.weight(justification.iter().map(|vc| vc.from)) < self.cfg.validators.quorum() {
                return;
            }
        };
        self.round.new_view_sent.insert(view);
        match reproposal {
            Some((digest, payload)) => {
                // Something may have been decided: re-propose it.
                out.push(Output::Broadcast(Message::NewView {
                    height: self.height,
                    view,
                    justification,
                    digest,
                    payload: payload.clone(),
                }));
                self.enter_view(view, out);
                self.round.proposals.insert(view, (digest, payload));
                self.round.validated.insert((view, digest));
                self.try_prepare(view, digest, out);
            }
            None => {
                self.round.proposing = Some((view, justification));
                out.push(Output::Propose { height: self.height, view });
            }
        }
    }

    pub(super) fn on_new_view(
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
        // The new leader must re-propose the highest prepared proposal, if any: its digest
        // is what the quorum's prepares signed, and the payload hashes to it (checked above).
        let top = highest(&justification);
        if let Some(cert) = top
            && cert.digest != digest
        {
            return;
        }
        let reproposal = top.is_some();
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
}
