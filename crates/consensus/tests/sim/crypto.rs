//! The simulation's signatures: a keyed hash.
//!
//! Modelling assumption — signatures are unforgeable: every node's [`SimCrypto`] knows all
//! secrets so that it can verify anyone's signature, but it signs only with its own secret, and
//! adversary code is only ever handed its own node's `SimCrypto`. A byzantine node can therefore
//! sign anything as itself and replay signatures it has seen, but it cannot produce an honest
//! node's signature over a new digest.

use std::sync::Arc;

use alloy_primitives::{B256, Bytes, keccak256};
use aurum_consensus::{Crypto, NodeIndex};

#[derive(Clone)]
pub struct SimCrypto {
    me: NodeIndex,
    secrets: Arc<Vec<B256>>,
}

impl SimCrypto {
    /// One secret per node, derived from the run's seed.
    pub fn secrets(seed: u64, n: usize) -> Arc<Vec<B256>> {
        let keys = (0..n as u64)
            .map(|i| {
                keccak256(
                    [b"aurum-sim-key".as_slice(), &seed.to_be_bytes(), &i.to_be_bytes()].concat(),
                )
            })
            .collect();
        Arc::new(keys)
    }

    pub fn new(me: NodeIndex, secrets: Arc<Vec<B256>>) -> Self {
        SimCrypto { me, secrets }
    }

    fn keyed(secret: &B256, digest: &B256) -> B256 {
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(secret.as_slice());
        buf[32..].copy_from_slice(digest.as_slice());
        keccak256(buf)
    }
}

impl Crypto for SimCrypto {
    fn hash(&self, data: &[u8]) -> B256 {
        keccak256(data)
    }

    fn sign(&self, digest: &B256) -> Bytes {
        let secret = &self.secrets[self.me as usize];
        Bytes::copy_from_slice(Self::keyed(secret, digest).as_slice())
    }

    fn verify(&self, node: NodeIndex, digest: &B256, sig: &[u8]) -> bool {
        self.secrets.get(node as usize).is_some_and(|s| Self::keyed(s, digest).as_slice() == sig)
    }
}
