//! Peers at other heights: one behind us gets the decided blocks it lacks (from memory, or
//! from the ledger through [`Output::CatchUp`]); messages for heights ahead of us wait, within
//! per-peer bounds; a decision certified by a quorum is adopted.

use super::state::{
    CATCH_UP_BATCH, MAX_FUTURE, MAX_FUTURE_PAYLOADS_PER_PEER, MAX_FUTURE_PER_PEER, Pbft,
};
use crate::types::*;

impl Pbft {
    /// A message from a peer working on `height`, which we decided already.
    pub(super) fn help_lagging_peer(
        &mut self,
        from: NodeIndex,
        height: u64,
        message: &Message,
        out: &mut Vec<Output>,
    ) {
        // Only what a stuck peer keeps saying (a view change, its checkpoint, a proposal)
        // earns it blocks: not every stale vote.
        if !matches!(
            message,
            Message::ViewChange { .. } | Message::Checkpoint { .. } | Message::PrePrepare { .. }
        ) {
            return;
        }
        if !self.recent.contains_key(&height) {
            out.push(Output::CatchUp { peer: from, from_height: height });
            return;
        }
        let last = (height + CATCH_UP_BATCH).min(self.height - 1);
        for d in self.recent.range(height..=last).map(|(_, d)| d.clone()) {
            out.push(Output::Send { to: from, message: Message::Decided(d) });
        }
    }

    /// A message for a later height: kept (bounded per peer) until we get there.
    pub(super) fn keep_for_later(&mut self, from: NodeIndex, message: Message) {
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
    }

    /// Messages that arrived early for the height we just moved to.
    pub(super) fn replay_buffered(&mut self, out: &mut Vec<Output>) {
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.future)
            .into_iter()
            .partition(|(_, m)| m.height() == self.height);
        self.future = later;
        for (from, message) in now {
            self.on_message(from, message, out);
        }
    }

    /// A peer's decided block with its commit certificate: execute it (unless we are already)
    /// and commit it if our result matches the certified one.
    pub(super) fn on_decided(&mut self, decision: Decision, out: &mut Vec<Output>) {
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
