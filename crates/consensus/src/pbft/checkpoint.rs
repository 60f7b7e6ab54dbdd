//! After a decision: the execution result, signed checkpoints over the final block hash (the
//! commit certificate), and moving to the next height.

use super::signing::CHECKPOINT;
use super::state::{Pbft, RECENT_DECISIONS, Round};
use crate::types::*;
use alloy_primitives::{B256, Bytes};

impl Pbft {
    pub(super) fn on_executed(
        &mut self,
        height: u64,
        digest: B256,
        block_hash: B256,
        out: &mut Vec<Output>,
    ) {
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

    pub(super) fn on_checkpoint(
        &mut self,
        from: NodeIndex,
        digest: B256,
        block_hash: B256,
        sig: Bytes,
        out: &mut Vec<Output>,
    ) {
        if !self.crypto.verify(from, &self.vote_hash(CHECKPOINT, 0, &digest, &block_hash), &sig) {
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

    /// Commit `decision` and move to the next height (fresh round, view 0), then handle what
    /// peers sent early for it.
    pub(super) fn finalize(&mut self, decision: Decision, out: &mut Vec<Output>) {
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
        self.replay_buffered(out);
    }
}
