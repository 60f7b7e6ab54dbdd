//! Seeded faulty links: loss, delay (hence reordering), duplication, a timed partition, and
//! a byzantine sender whose messages are corrupted, truncated or replayed.

use aurum_consortium::hub::{Envelope, Handover, Links};
use aurum_network::{Module, NodeId};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// What the links do, drawn from a scenario's seed.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Chance that a consensus or sync message is lost. Gossip is never lost (its resend
    /// comes only after seconds, which would make every lossy scenario slow, not harder).
    pub loss: f64,
    /// Each copy is delayed uniformly up to this, so messages overtake each other.
    pub max_delay: Duration,
    /// Chance of a second copy.
    pub duplicate: f64,
    /// Nodes in `side` cannot reach the others during [from, to) after the start.
    pub partition: Option<Partition>,
    /// A node whose outgoing consensus messages are, at this rate, corrupted or replayed.
    pub byzantine: Option<(NodeId, f64)>,
}

#[derive(Debug, Clone)]
pub struct Partition {
    pub side: Vec<NodeId>,
    pub from: Duration,
    pub to: Duration,
}

pub struct Chaos {
    faults: Faults,
    rng: StdRng,
    start: Instant,
    /// The byzantine node's earlier messages, to replay.
    sent: Vec<Bytes>,
}

impl Chaos {
    pub fn new(seed: u64, faults: Faults) -> Chaos {
        Chaos {
            faults,
            rng: StdRng::seed_from_u64(seed ^ 0x6c69_6e6b),
            start: Instant::now(),
            sent: Vec::new(),
        }
    }

    fn cut(&self, a: &NodeId, b: &NodeId) -> bool {
        let Some(p) = &self.faults.partition else { return false };
        let now = self.start.elapsed();
        now >= p.from && now < p.to && p.side.contains(a) != p.side.contains(b)
    }

    fn delay(&mut self) -> Duration {
        let max = self.faults.max_delay.as_micros() as u64;
        if max == 0 {
            Duration::ZERO
        } else {
            Duration::from_micros(self.rng.random_range(0..=max))
        }
    }

    /// A byzantine sender's version of `payload`.
    fn tamper(&mut self, payload: &Bytes) -> Bytes {
        match self.rng.random_range(0..4) {
            // Flip a few bytes anywhere (header, signature, payload).
            0 | 1 => {
                let mut bytes = payload.to_vec();
                for _ in 0..self.rng.random_range(1..4) {
                    if bytes.is_empty() {
                        break;
                    }
                    let at = self.rng.random_range(0..bytes.len());
                    bytes[at] ^= 1 << self.rng.random_range(0..8);
                }
                Bytes::from(bytes)
            }
            // Cut it short.
            2 => payload.slice(..self.rng.random_range(0..=payload.len())),
            // An earlier message again (a stale vote, an old proposal).
            _ => {
                if self.sent.is_empty() {
                    payload.clone()
                } else {
                    self.sent[self.rng.random_range(0..self.sent.len())].clone()
                }
            }
        }
    }
}

impl Links for Chaos {
    fn reachable(&mut self, from: &NodeId, to: &NodeId) -> bool {
        !self.cut(from, to)
    }

    fn route(&mut self, m: &Envelope<'_>) -> Vec<Handover> {
        let lossy = m.module != Module::TxGossip;
        if lossy && self.rng.random_bool(self.faults.loss) {
            return Vec::new();
        }
        let mut payload = m.payload.clone();
        if let Some((node, rate)) = self.faults.byzantine
            && node == *m.from
            && m.module == Module::Consensus
        {
            if self.rng.random_bool(rate) {
                payload = self.tamper(m.payload);
            }
            if self.sent.len() < 256 {
                self.sent.push(m.payload.clone());
            }
        }
        let mut copies = vec![Handover { after: self.delay(), payload: payload.clone() }];
        if lossy && self.rng.random_bool(self.faults.duplicate) {
            copies.push(Handover { after: self.delay(), payload });
        }
        copies
    }
}
