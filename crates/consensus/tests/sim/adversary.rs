//! What byzantine nodes send besides their protocol instance's own messages: random,
//! mis-signed and mutated replayed messages. Signatures are made only with the node's own
//! [`SimCrypto`] (see the unforgeability assumption there); everything else is copied from
//! what the node has seen.

use std::collections::{BTreeMap, VecDeque};

use alloy_primitives::{B256, Bytes, keccak256};
use aurum_consensus::{
    Crypto, Decision, Message, NodeIndex, PreparedProof, Validators, ViewChange, Vote,
};
use rand::Rng;
use rand::rngs::StdRng;

use super::crypto::SimCrypto;

/// Payload prefix the simulated validator rejects.
pub const GARBAGE: &[u8] = b"GARBAGE";

/// What a byzantine node has seen (and sent): material for replays and forgeries.
#[derive(Default)]
pub struct Memory {
    pub seen: VecDeque<(NodeIndex, Message)>,
    pub payloads: BTreeMap<B256, Bytes>,
}

impl Memory {
    pub fn remember(&mut self, from: NodeIndex, m: &Message) {
        match m {
            Message::PrePrepare { digest, payload, .. }
            | Message::NewView { digest, payload, .. } => {
                self.payloads.insert(*digest, payload.clone());
                if self.payloads.len() > 64 {
                    self.payloads.pop_first();
                }
            }
            _ => {}
        }
        self.seen.push_back((from, m.clone()));
        if self.seen.len() > 128 {
            self.seen.pop_front();
        }
    }
}

fn rand_b256(rng: &mut StdRng) -> B256 {
    B256::from(rng.random::<[u8; 32]>())
}

fn rand_sig(rng: &mut StdRng) -> Bytes {
    let len = *[0usize, 1, 32, 32, 32, 65, 200].get(rng.random_range(0..7)).unwrap_or(&32);
    Bytes::from((0..len).map(|_| rng.random::<u8>()).collect::<Vec<u8>>())
}

pub fn payload(ok: bool, node: usize, height: u64, view: u64, salt: u64) -> Bytes {
    let mut p = if ok { b"OK".to_vec() } else { GARBAGE.to_vec() };
    p.extend_from_slice(&(node as u64).to_be_bytes());
    p.extend_from_slice(&height.to_be_bytes());
    p.extend_from_slice(&view.to_be_bytes());
    p.extend_from_slice(&salt.to_be_bytes());
    Bytes::from(p)
}

fn near(rng: &mut StdRng, x: u64) -> u64 {
    match rng.random_range(0..8) {
        0 => x.saturating_sub(1),
        1 => x + 1,
        2 => x + 1_000_000,
        3 => u64::MAX,
        _ => x,
    }
}

/// One bad message from `me`, which is working on (`h`, `v`).
pub fn garbage(
    rng: &mut StdRng,
    me: NodeIndex,
    crypto: &SimCrypto,
    vals: &Validators,
    h: u64,
    v: u64,
    mem: &Memory,
) -> Message {
    let n = vals.len() as u32;
    if !mem.seen.is_empty() && rng.random_bool(0.5) {
        let (from, m) = &mem.seen[rng.random_range(0..mem.seen.len())];
        if let Some(m) = mutate(rng, me, crypto, vals, *from, m, mem) {
            return m;
        }
    }
    let (hh, vv) = (near(rng, h), near(rng, v));
    let ok = payload(true, me as usize, h, v, rng.random());
    match rng.random_range(0..9) {
        0 => Message::Prepare { height: hh, view: vv, digest: rand_b256(rng), sig: rand_sig(rng) },
        1 => {
            let digest = rand_b256(rng);
            Message::Commit { height: hh, view: vv, digest, sig: crypto.sign(&digest) }
        }
        // Digest not the payload's hash.
        2 => Message::PrePrepare { height: h, view: v, digest: rand_b256(rng), payload: ok },
        3 => {
            let payload = self::payload(false, me as usize, h, v, rng.random());
            Message::PrePrepare { height: hh, view: vv, digest: keccak256(&payload), payload }
        }
        // Claims to come from someone else, or carries a cert of made-up votes.
        4 => Message::ViewChange {
            vote: ViewChange {
                height: hh,
                new_view: v.saturating_add(rng.random_range(1..4)),
                from: rng.random_range(0..n),
                prepared: None,
                sig: rand_sig(rng),
            },
            payload: None,
        },
        5 => {
            let digest = keccak256(&ok);
            let cert = PreparedProof {
                height: h,
                view: v,
                digest,
                prepares: (0..n).map(|node| Vote { node, sig: rand_sig(rng) }).collect(),
            };
            let new_view = v + 1;
            Message::ViewChange {
                vote: ViewChange {
                    height: h,
                    new_view,
                    from: me,
                    prepared: Some(cert),
                    sig: crypto.sign(&rand_b256(rng)),
                },
                payload: Some(ok),
            }
        }
        6 => Message::Decided(Decision {
            height: hh,
            digest: keccak256(&ok),
            payload: ok,
            block_hash: rand_b256(rng),
            certificate: (0..n).map(|node| Vote { node, sig: rand_sig(rng) }).collect(),
        }),
        7 => {
            let block_hash = rand_b256(rng);
            Message::Checkpoint {
                height: h,
                digest: rand_b256(rng),
                block_hash,
                sig: crypto.sign(&block_hash),
            }
        }
        _ => Message::NewView {
            height: h,
            view: v + 1,
            justification: vec![],
            digest: keccak256(&ok),
            payload: ok,
        },
    }
}

/// A seen message bent out of shape: signatures kept over changed content, duplicated votes
/// to inflate a certificate's weight, votes moved to another kind, view or height.
fn mutate(
    rng: &mut StdRng,
    me: NodeIndex,
    crypto: &SimCrypto,
    vals: &Validators,
    from: NodeIndex,
    m: &Message,
    mem: &Memory,
) -> Option<Message> {
    let n = vals.len();
    let pick = rng.random_range(0..3);
    let fresh = payload(true, me as usize, m.height(), 0, rng.random());
    Some(match m.clone() {
        Message::PrePrepare { height, view, digest, payload } => match pick {
            0 => Message::PrePrepare { height, view, digest, payload: fresh },
            1 => Message::PrePrepare { height, view, digest: keccak256(&fresh), payload: fresh },
            _ => Message::PrePrepare { height, view: view + 1, digest, payload },
        },
        Message::Prepare { height, view, digest, sig } => match pick {
            0 => Message::Prepare { height, view, digest: rand_b256(rng), sig },
            1 => Message::Commit { height, view, digest, sig },
            _ => Message::Prepare { height, view: view + 1, digest, sig },
        },
        Message::Commit { height, view, digest, sig } => match pick {
            0 => Message::Prepare { height, view, digest, sig },
            1 => Message::Commit { height: height + 1, view, digest, sig },
            _ => Message::Commit { height, view, digest: rand_b256(rng), sig },
        },
        Message::Checkpoint { height, digest, block_hash, sig } => {
            if from == me && pick != 0 {
                // Its own checkpoint (over a block hash it may have made up) as a
                // certificate of one vote counted many times.
                let payload = mem.payloads.get(&digest).cloned().unwrap_or_default();
                Message::Decided(Decision {
                    height,
                    digest,
                    payload,
                    block_hash,
                    certificate: vec![Vote { node: me, sig }; n],
                })
            } else {
                Message::Checkpoint { height, digest, block_hash: rand_b256(rng), sig }
            }
        }
        Message::ViewChange { vote: vc, payload } => {
            if vals.leader(vc.height, vc.new_view) == me && pick != 0 {
                // Lead the view on one peer's view-change counted many times, proposing
                // something new regardless of any prepared certificate.
                Message::NewView {
                    height: vc.height,
                    view: vc.new_view,
                    digest: keccak256(&fresh),
                    payload: fresh,
                    justification: vec![vc; n],
                }
            } else {
                let mut vc = vc;
                let mut payload = payload;
                match pick {
                    0 => vc.new_view += 1,
                    1 => vc.from = (vc.from + 1) % n as u32,
                    _ => {
                        if payload.is_some() && rng.random_bool(0.5) {
                            // A true vote handing the leader another payload than its
                            // certificate names.
                            payload = Some(fresh);
                        } else if let Some(cert) = vc.prepared.as_mut() {
                            if let Some(first) = cert.prepares.first().cloned() {
                                cert.prepares = vec![first; n];
                            }
                            cert.view += 1;
                        } else {
                            vc.sig = crypto.sign(&rand_b256(rng));
                        }
                    }
                }
                Message::ViewChange { vote: vc, payload }
            }
        }
        Message::NewView { height, view, justification, digest, payload } => match pick {
            0 => {
                let first = justification.first()?.clone();
                Message::NewView { height, view, justification: vec![first; n], digest, payload }
            }
            1 => Message::NewView {
                height,
                view,
                justification,
                digest: keccak256(&fresh),
                payload: fresh,
            },
            _ => Message::NewView { height, view, justification, digest, payload: fresh },
        },
        Message::Decided(mut d) => {
            match pick {
                0 => {
                    let first = d.certificate.first()?.clone();
                    d.certificate = vec![first; n];
                    d.block_hash = rand_b256(rng);
                }
                1 => d.block_hash = rand_b256(rng),
                _ => {
                    d.digest = keccak256(&fresh);
                    d.payload = fresh;
                }
            }
            Message::Decided(d)
        }
        Message::Committed { height, view, digest, payload, mut commits } => match pick {
            0 => {
                let first = commits.first()?.clone();
                Message::Committed { height, view, digest, payload, commits: vec![first; n] }
            }
            1 => Message::Committed {
                height,
                view,
                digest: keccak256(&fresh),
                payload: fresh,
                commits,
            },
            _ => {
                commits.pop();
                Message::Committed { height, view, digest, payload, commits }
            }
        },
    })
}

/// A byzantine node's second instance gets other leaders' proposals with a different
/// payload, so that it votes for a second digest in the same view.
pub fn forge_proposal(rng: &mut StdRng, me: usize, m: Message) -> Message {
    match m {
        Message::PrePrepare { height, view, .. } => {
            let payload = payload(true, me, height, view, rng.random());
            Message::PrePrepare { height, view, digest: keccak256(&payload), payload }
        }
        Message::NewView { height, view, justification, .. } => {
            let payload = payload(true, me, height, view, rng.random());
            Message::NewView { height, view, justification, digest: keccak256(&payload), payload }
        }
        m => m,
    }
}
