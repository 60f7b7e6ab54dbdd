//! Timeouts and view-change votes: asking for the next view, saying it again while waiting,
//! joining a view change that more than a third of the weight asked for, and receiving votes.
//!
//! What a vote carries: a proof of the sender's lock (digests and signatures, see
//! [`PreparedProof`]); only the copy sent to the new view's leader carries the locked payload,
//! so that leader can re-propose it without having seen it. No message here grows with the
//! number of prepared nodes times the payload.

use super::state::Pbft;
use crate::types::*;
use alloy_primitives::{B256, Bytes};
use std::collections::BTreeMap;

impl Pbft {
    pub(super) fn on_tick(&mut self, now_ms: u64, out: &mut Vec<Output>) {
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
            .or(self.restored_vc.as_ref().filter(|vc| vc.new_view == self.view))
            .cloned();
        if let Some(vc) = vc {
            self.say_view_change(&vc, out);
        }
    }

    pub(super) fn send_view_change(&mut self, target: u64, out: &mut Vec<Output>) {
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
        let vc = self.own_view_change(target);
        self.round.view_changes.entry(target).or_default().insert(self.cfg.me, vc.clone());
        self.say_view_change(&vc, out);
        self.try_new_view(target, out);
    }

    /// Our vote to every peer: digests only, except to the new view's leader, who also gets
    /// the locked payload (it may have to re-propose it).
    fn say_view_change(&self, vc: &ViewChange, out: &mut Vec<Output>) {
        let leader = self.leader(vc.new_view);
        let payload = vc.prepared.as_ref().and_then(|p| self.known_payload(&p.digest));
        for to in (0..self.cfg.validators.len() as NodeIndex).filter(|to| *to != self.me()) {
            let payload = if to == leader { payload.clone() } else { None };
            out.push(Output::Send {
                to,
                message: Message::ViewChange { vote: vc.clone(), payload },
            });
        }
    }

    /// The payload with this digest, if this node has it: its lock, a proposal it saw at this
    /// height, or one handed to it with a view-change vote.
    pub(super) fn known_payload(&self, digest: &B256) -> Option<Bytes> {
        if let Some(c) = &self.persisted.locked
            && c.digest == *digest
        {
            return Some(c.payload.clone());
        }
        self.round
            .proposals
            .values()
            .find(|(d, _)| d == digest)
            .map(|(_, p)| p.clone())
            .or_else(|| self.round.payloads.get(digest).cloned())
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

    pub(super) fn on_view_change(
        &mut self,
        from: NodeIndex,
        vc: ViewChange,
        payload: Option<Bytes>,
        out: &mut Vec<Output>,
    ) {
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
        if let (Some(payload), Some(proof)) = (payload, &vc.prepared)
            && self.leader(new_view) == self.me()
            && self.known_payload(&proof.digest).is_none()
        {
            // Kept only if it is what the (valid) proof names: a vote with a false payload
            // is dropped whole, so nothing but the prepared proposal can be re-proposed.
            if self.crypto.digest(&payload) != proof.digest {
                return;
            }
            self.round.payloads.insert(proof.digest, payload);
        }
        self.round.view_changes.entry(new_view).or_default().insert(from, vc);
        self.maybe_join_view_change(out);
        self.try_new_view(new_view, out);
    }

    pub(super) fn enter_view(&mut self, view: u64, out: &mut Vec<Output>) {
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
