//! What the harness does with an honest node's outputs, and the invariants it checks on
//! them: every proposal and vote it ever sends (across restarts), and every block it commits.

use std::collections::BTreeSet;

use alloy_primitives::keccak256;
use aurum_consensus::{Decision, Input, Message, NodeIndex, Output};
use rand::Rng;

use super::trace::{describe, short};
use super::{Failure, PREPARE, PROPOSAL, Sim, adversary, block_hash, vote_key};

impl Sim {
    pub(super) fn honest_output(&mut self, i: usize, out: Output) {
        match out {
            Output::Persist(p) => {
                self.log(|| {
                    format!(
                        "n{i} PERSIST h={} v={} prepares={:?} commits={:?} locked={:?}",
                        p.height,
                        p.view,
                        p.prepared_votes.iter().map(|(v, d)| (v, short(d))).collect::<Vec<_>>(),
                        p.commit_votes.iter().map(|(v, d)| (v, short(d))).collect::<Vec<_>>(),
                        p.locked.as_ref().map(|c| (c.view, short(&c.digest)))
                    )
                });
                self.nodes[i].persisted = Some(p);
            }
            Output::Broadcast(m) => {
                self.log(|| format!("n{i} BROADCAST {}", describe(&m)));
                self.record_honest(i, &m);
                for j in 0..self.sc.n() {
                    self.send(i, j, None, m.clone());
                }
            }
            Output::Send { to, message } => {
                self.log(|| format!("n{i} SEND to {to} {}", describe(&message)));
                self.record_honest(i, &message);
                self.send(i, to as usize, None, message);
            }
            Output::Propose { height, view } => {
                let payload = adversary::payload(true, i, height, view, self.rng.random());
                let payload = self.sc.pad(payload);
                self.answer(i, 0, Input::Proposal { height, view, payload });
            }
            Output::Validate { height, view, digest, payload } => {
                let valid = payload.starts_with(b"OK");
                if !valid {
                    self.counters.invalid_proposals += 1;
                }
                self.answer(i, 0, Input::Validated { height, view, digest, valid });
            }
            Output::Execute { height, digest, payload } => {
                // The block is built from the payload, as a real executor would: a node asked
                // to execute other transactions than the decided ones gets another block hash.
                let built = keccak256(&payload);
                if built != digest {
                    self.fail(
                        Failure::BadCommit,
                        format!(
                            "n{i} asked to execute h={height} d={} with a payload hashing to {}",
                            short(&digest),
                            short(&built)
                        ),
                    );
                }
                let block_hash = block_hash(&built, height);
                self.answer(i, 0, Input::Executed { height, digest, block_hash });
            }
            Output::Commit(d) => self.commit(i, d),
            Output::CatchUp { peer, from_height } => {
                // The ledger keeps every decided block with its certificate: serve a batch.
                let batch: Vec<Decision> = self.nodes[i]
                    .ledger
                    .range(from_height..from_height + 8)
                    .map(|(_, d)| d.clone())
                    .collect();
                for d in batch {
                    self.log(|| format!("n{i} CATCH-UP to {peer} h={}", d.height));
                    self.send(i, peer as usize, None, Message::Decided(d));
                }
            }
            Output::ViewChanged { height, view } => {
                self.log(|| format!("n{i} VIEW CHANGED h={height} v={view}"));
                self.counters.view_changes += 1;
            }
        }
    }

    fn record_honest(&mut self, i: usize, m: &Message) {
        match m {
            Message::NewView { justification, .. }
                if justification.iter().any(|vc| vc.prepared.is_some()) =>
            {
                self.counters.reproposals += 1
            }
            Message::ViewChange { payload: Some(_), .. } => {
                self.counters.view_changes_with_payload += 1
            }
            _ => {}
        }
        let Some((kind, h, v, digest)) = vote_key(m) else { return };
        // Persist before send: a vote at the height being decided must already be in the
        // node's durable record (older heights are decided, re-sending their votes is safe).
        if kind != PROPOSAL {
            let p = self.nodes[i].persisted.as_ref();
            let recorded = p.is_some_and(|p| {
                let votes = if kind == PREPARE { &p.prepared_votes } else { &p.commit_votes };
                p.height > h || (p.height == h && votes.contains(&(v, digest)))
            });
            if !recorded {
                self.fail(
                    Failure::Unpersisted,
                    format!(
                        "honest n{i} sent {} before persisting it (record: {:?})",
                        describe(m),
                        p.map(|p| (p.height, p.view))
                    ),
                );
            }
        }
        let set = self.votes.entry((i, kind, h, v)).or_default();
        set.insert(digest);
        if set.len() > 1 {
            let what = ["proposals", "Prepares", "Commits"][kind as usize];
            let ds: Vec<String> = set.iter().map(short).collect();
            let kind = if kind == PROPOSAL { Failure::DoubleProposal } else { Failure::DoubleVote };
            self.fail(
                kind,
                format!(
                    "honest n{i} (incarnation {}) sent two different {what} at height {h} view {v}: {ds:?}",
                    self.nodes[i].incarnation
                ),
            );
        }
    }

    fn commit(&mut self, i: usize, d: Decision) {
        self.log(|| {
            format!("n{i} COMMIT h={} d={} b={}", d.height, short(&d.digest), short(&d.block_hash))
        });
        let expected = self.nodes[i].ledger_height + 1;
        if d.height != expected {
            return self.fail(
                Failure::BadCommit,
                format!("n{i} committed height {} while its ledger expects {expected}", d.height),
            );
        }
        if keccak256(&d.payload) != d.digest || d.block_hash != block_hash(&d.digest, d.height) {
            return self.fail(
                Failure::BadCommit,
                format!(
                    "n{i} committed h={} d={} b={}: not the executed block of that payload",
                    d.height,
                    short(&d.digest),
                    short(&d.block_hash)
                ),
            );
        }
        let signers: BTreeSet<NodeIndex> = d.certificate.iter().map(|v| v.node).collect();
        let weight: u64 = signers.iter().map(|&s| self.vals.weight(s)).sum();
        if signers.len() != d.certificate.len() || weight < self.vals.quorum() {
            return self.fail(
                Failure::BadCommit,
                format!(
                    "n{i} committed h={} with certificate {:?} (weight {weight} < quorum {} or repeated signer)",
                    d.height,
                    d.certificate.iter().map(|v| v.node).collect::<Vec<_>>(),
                    self.vals.quorum()
                ),
            );
        }
        self.nodes[i].ledger_height = d.height;
        self.nodes[i].ledger.insert(d.height, d.clone());
        self.counters.commits += 1;
        match self.decided.get(&d.height) {
            None => {
                self.decided.insert(d.height, (d.digest, d.block_hash, i));
            }
            Some(&(digest, hash, first)) => {
                if digest != d.digest || hash != d.block_hash {
                    self.fail(
                        Failure::Safety,
                        format!(
                            "height {}: n{first} committed d={} b={}, n{i} committed d={} b={}",
                            d.height,
                            short(&digest),
                            short(&hash),
                            short(&d.digest),
                            short(&d.block_hash)
                        ),
                    );
                }
            }
        }
    }
}
