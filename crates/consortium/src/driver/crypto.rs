//! Signing and hashing for the state machine.

use alloy_primitives::{B256, Bytes};
use aurum_consensus::{Crypto, NodeIndex};
use aurum_crypto::{CryptoSuite, KeyPair, PublicKey};
use aurum_group::proposal_digest;
use std::sync::Arc;

/// Signing and hashing for the state machine: the chain's suite and this node's key; the
/// digest of a payload is the proposal hash of the block it implies.
pub(super) struct NodeCrypto {
    pub(super) suite: Arc<dyn CryptoSuite>,
    pub(super) key: KeyPair,
    pub(super) sealers: Vec<PublicKey>,
    /// The digest of this node's own latest proposal, known when it was built: the state
    /// machine asks for it right away, and decoding and hashing every tx again would only
    /// repeat what building did.
    pub(super) own: OwnProposal,
}

/// (payload, digest) of the proposal this node built last.
pub(super) type OwnProposal = Arc<std::sync::Mutex<Option<(Bytes, B256)>>>;

impl Crypto for NodeCrypto {
    fn hash(&self, data: &[u8]) -> B256 {
        self.suite.hash(data)
    }
    fn digest(&self, payload: &[u8]) -> B256 {
        if let Ok(own) = self.own.lock()
            && let Some((built, digest)) = own.as_ref()
            && built.as_ref() == payload
        {
            return *digest;
        }
        proposal_digest(&*self.suite, payload)
    }
    fn sign(&self, digest: &B256) -> Bytes {
        Bytes::from(self.suite.sign(&self.key, digest))
    }
    fn verify(&self, node: NodeIndex, digest: &B256, sig: &[u8]) -> bool {
        self.sealers.get(node as usize).is_some_and(|pk| self.suite.verify(pk, digest, sig).is_ok())
    }
}
