//! What the harness does with byzantine nodes' outputs: split-brain routing (one instance
//! per half of the honest nodes), wrong block hashes, garbage proposals and messages.

use alloy_primitives::keccak256;
use aurum_consensus::{Input, Message, NodeIndex, Output};
use rand::Rng;

use super::trace::describe;
use super::{Byz, Sim, adversary, block_hash, vote_key};

impl Sim {
    pub(super) fn send_garbage(&mut self, i: usize) {
        let (h, v) = (self.nodes[i].inst[0].height(), self.nodes[i].inst[0].view());
        let node = &self.nodes[i];
        let msg = adversary::garbage(
            &mut self.rng,
            i as NodeIndex,
            &node.crypto,
            &self.vals,
            h,
            v,
            &node.mem,
        );
        self.counters.garbage_sent += 1;
        if self.rng.random_bool(0.5) {
            for j in 0..self.sc.n() {
                self.send(i, j, None, msg.clone());
            }
        } else {
            let j = self.rng.random_range(0..self.sc.n());
            self.send(i, j, None, msg);
        }
    }

    pub(super) fn byz_output(&mut self, i: usize, w: usize, out: Output) {
        let byz = self.nodes[i].byz.unwrap_or(Byz::Garbage);
        match out {
            Output::Persist(_)
            | Output::Commit(_)
            | Output::ViewChanged { .. }
            | Output::CatchUp { .. } => {}
            Output::Broadcast(m) => {
                self.log(|| format!("byz n{i}.{w} BROADCAST {}", describe(&m)));
                self.record_byz(i, &m);
                if byz == Byz::Garbage {
                    self.nodes[i].mem.remember(i as NodeIndex, &m);
                }
                for j in 0..self.sc.n() {
                    self.byz_route(i, w, j, m.clone());
                }
            }
            Output::Send { to, message } => {
                self.log(|| format!("byz n{i}.{w} SEND to {to} {}", describe(&message)));
                self.record_byz(i, &message);
                if byz == Byz::Garbage {
                    self.nodes[i].mem.remember(i as NodeIndex, &message);
                }
                self.byz_route(i, w, to as usize, message);
            }
            Output::Propose { height, view } => {
                let ok = byz != Byz::Garbage || self.rng.random_bool(0.5);
                let salt = self.rng.random::<u64>() ^ w as u64;
                let payload = self.sc.pad(adversary::payload(ok, i, height, view, salt));
                self.answer(i, w, Input::Proposal { height, view, payload });
            }
            Output::Validate { height, view, digest, .. } => {
                self.answer(i, w, Input::Validated { height, view, digest, valid: true });
            }
            Output::Execute { height, digest, .. } => {
                let mut block_hash = block_hash(&digest, height);
                if byz == Byz::Garbage && self.rng.random_bool(0.5) {
                    block_hash = keccak256(block_hash);
                }
                self.answer(i, w, Input::Executed { height, digest, block_hash });
            }
        }
    }

    fn record_byz(&mut self, i: usize, m: &Message) {
        if let Some((kind, h, v, digest)) = vote_key(m) {
            self.byz_sent.entry((i, kind, h, v)).or_default().insert(digest);
        }
    }

    /// A split-brain node's instance `w` talks to the honest nodes of world `w` (and to the
    /// matching instance of a colluding split-brain node).
    fn byz_route(&mut self, i: usize, w: usize, j: usize, m: Message) {
        if j == i || j >= self.sc.n() {
            return;
        }
        match self.nodes[i].byz {
            Some(b) if b.split_brain() => match self.nodes[j].byz {
                None if self.nodes[j].world == w => self.send(i, j, None, m),
                None => {}
                Some(c) if c.split_brain() && self.sc.collusion => self.send(i, j, Some(w), m),
                Some(_) if w == 0 => self.send(i, j, None, m),
                Some(_) => {}
            },
            Some(Byz::ViewChangeSpammer) => {
                if let Message::ViewChange { vote: vc, .. } = &m {
                    self.counters.spam_view_changes += 1;
                    self.counters.spam_max_view = self.counters.spam_max_view.max(vc.new_view);
                }
                self.send(i, j, None, m);
            }
            _ => self.send(i, j, None, m),
        }
    }
}
