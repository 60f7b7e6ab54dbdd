//! What each vote signs, and checking certificates, view-change votes and decisions. A vote
//! signs the hash of (kind, height, view, two 32-byte fields); nothing here needs a payload,
//! so proofs travel without one.

use super::state::Pbft;
use crate::types::*;
use alloy_primitives::B256;
use std::collections::BTreeSet;

pub(super) const PREPARE: u8 = 1;
pub(super) const COMMIT: u8 = 2;
pub(super) const CHECKPOINT: u8 = 3;
pub(super) const VIEW_CHANGE: u8 = 4;

impl Pbft {
    pub(super) fn vote_hash(&self, kind: u8, view: u64, a: &B256, b: &B256) -> B256 {
        let mut buf = Vec::with_capacity(1 + 16 + 64);
        buf.push(kind);
        buf.extend_from_slice(&self.height.to_be_bytes());
        buf.extend_from_slice(&view.to_be_bytes());
        buf.extend_from_slice(a.as_slice());
        buf.extend_from_slice(b.as_slice());
        self.crypto.hash(&buf)
    }

    /// What a view-change vote signs: the view asked for and the (view, digest) of the
    /// sender's prepared certificate — the same bytes whether or not the payload travels.
    pub(super) fn view_change_hash(&self, new_view: u64, prepared: Option<&PreparedProof>) -> B256 {
        let (v, d) = prepared.map_or((u64::MAX, B256::ZERO), |c| (c.view, c.digest));
        let mut tag = [0u8; 32];
        tag[24..].copy_from_slice(&v.to_be_bytes());
        self.vote_hash(VIEW_CHANGE, new_view, &d, &B256::from(tag))
    }

    /// Whether `votes` are distinct, valid signatures over `hash` from a quorum by weight.
    pub(super) fn valid_quorum(&self, hash: &B256, votes: &[Vote]) -> bool {
        let mut seen = BTreeSet::new();
        for v in votes {
            if !seen.insert(v.node) || !self.crypto.verify(v.node, hash, &v.sig) {
                return false;
            }
        }
        self.weight(seen.into_iter()) >= self.cfg.validators.quorum()
    }

    /// A quorum prepared (height, view, digest): checked on signatures alone.
    pub(super) fn valid_proof(&self, proof: &PreparedProof) -> bool {
        proof.height == self.height
            && self.valid_quorum(
                &self.vote_hash(PREPARE, proof.view, &proof.digest, &B256::ZERO),
                &proof.prepares,
            )
    }

    pub(super) fn valid_view_change(&self, vc: &ViewChange) -> bool {
        vc.height == self.height
            && self.cfg.validators.weight(vc.from) > 0
            && self.crypto.verify(
                vc.from,
                &self.view_change_hash(vc.new_view, vc.prepared.as_ref()),
                &vc.sig,
            )
            && vc.prepared.as_ref().is_none_or(|c| c.view < vc.new_view && self.valid_proof(c))
    }

    pub(super) fn valid_decision(&self, d: &Decision) -> bool {
        d.height == self.height
            && self.crypto.digest(&d.payload) == d.digest
            && self.valid_quorum(
                &self.vote_hash(CHECKPOINT, 0, &d.digest, &d.block_hash),
                &d.certificate,
            )
    }

    /// This node's view-change vote for `new_view`, carrying its lock as a proof.
    pub(super) fn own_view_change(&self, new_view: u64) -> ViewChange {
        let prepared = self.persisted.locked.as_ref().map(PreparedCert::proof);
        let sig = self.crypto.sign(&self.view_change_hash(new_view, prepared.as_ref()));
        ViewChange { height: self.height, new_view, from: self.me(), prepared, sig }
    }
}
