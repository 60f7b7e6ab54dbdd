//! The sealer set in effect at a height and the one quorum rule: a commit certificate is
//! valid when distinct sealers whose weights sum to ⌊2W/3⌋+1 (W the set's total weight)
//! signed the block's certificate digest. Consensus, sync and clients use this, so they can
//! never disagree about what a certified block is.

use crate::block::{CommitCertificate, Header, certificate_digest};
use aurum_crypto::{CryptoSuite, PublicKey};
use std::collections::BTreeSet;

/// The weight that makes a quorum out of `total`: ⌊2·total/3⌋+1 (more than two thirds, so
/// two quorums always share an honest sealer when fewer than a third by weight are faulty).
pub fn quorum_of(total: u64) -> u64 {
    total.saturating_mul(2) / 3 + 1
}

/// A sealer in effect at some height: its node id and weight, in leader-rotation order
/// (its index is what certificates and votes name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealer {
    pub node_id: PublicKey,
    pub weight: u64,
}

/// Why a commit certificate does not certify a header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("names block {named}, not {actual}")]
    WrongBlock { named: alloy_primitives::B256, actual: alloy_primitives::B256 },
    #[error("no sealer at index {0}")]
    NoSuchSealer(u32),
    #[error("sealer {0} signed twice")]
    Twice(u32),
    #[error("bad signature from sealer {0}")]
    BadSignature(u32),
    #[error("signers weigh {weight} of {total}, below the quorum")]
    BelowQuorum { weight: u64, total: u64 },
}

/// The sealers in effect at one height, in index order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SealerSet {
    pub sealers: Vec<Sealer>,
}

impl SealerSet {
    pub fn new(sealers: Vec<Sealer>) -> Self {
        SealerSet { sealers }
    }

    /// Sum of the weights.
    pub fn total_weight(&self) -> u64 {
        self.sealers.iter().map(|s| s.weight).sum()
    }

    /// The weight a certificate's signers must reach.
    pub fn quorum(&self) -> u64 {
        quorum_of(self.total_weight())
    }

    /// Checks that `certificate` certifies `header` under this set: it names the header's
    /// hash, its signers are distinct sealers of the set, every signature verifies over the
    /// certificate digest and the signers' weight reaches the quorum.
    pub fn verify_certificate(
        &self,
        suite: &dyn CryptoSuite,
        header: &Header,
        certificate: &CommitCertificate,
    ) -> Result<(), CertificateError> {
        let hash = header.hash(suite);
        if certificate.block_hash != hash {
            return Err(CertificateError::WrongBlock {
                named: certificate.block_hash,
                actual: hash,
            });
        }
        let digest = certificate_digest(suite, header);
        let mut seen = BTreeSet::new();
        let mut weight = 0u64;
        for sig in &certificate.signatures {
            let Some(sealer) = self.sealers.get(sig.sealer_index as usize) else {
                return Err(CertificateError::NoSuchSealer(sig.sealer_index));
            };
            if !seen.insert(sig.sealer_index) {
                return Err(CertificateError::Twice(sig.sealer_index));
            }
            if suite.verify(&sealer.node_id, &digest, &sig.signature).is_err() {
                return Err(CertificateError::BadSignature(sig.sealer_index));
            }
            weight = weight.saturating_add(sealer.weight);
        }
        let total = self.total_weight();
        if weight < quorum_of(total) {
            return Err(CertificateError::BelowQuorum { weight, total });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_is_more_than_two_thirds() {
        // (total, quorum): n = 3f+1 equal weights need 2f+1; weights count, not heads.
        for (total, q) in [(1, 1), (3, 3), (4, 3), (7, 5), (10, 7), (100, 67)] {
            assert_eq!(quorum_of(total), q, "total {total}");
        }
        assert_eq!(quorum_of(u64::MAX), u64::MAX / 3 + 1);
    }
}
