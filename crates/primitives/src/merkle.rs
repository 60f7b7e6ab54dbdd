//! Binary Merkle trees over 32-byte items (tx hashes, receipt hashes), with inclusion proofs
//! that a light client checks against a header root.
//!
//! Leaves and inner nodes are domain-separated (`H(0x00 || leaf)`, `H(0x01 || l || r)`) so an
//! inner node can never pass for a leaf; an odd node is carried up unchanged rather than
//! duplicated, which avoids Bitcoin's duplicate-leaf ambiguity (CVE-2012-2459).

use alloy_primitives::B256;
use aurum_crypto::CryptoSuite;
use serde::{Deserialize, Serialize};

fn leaf_hash(suite: &dyn CryptoSuite, item: &B256) -> B256 {
    let mut buf = [0u8; 33];
    buf[1..].copy_from_slice(item.as_slice());
    suite.hash(&buf)
}

fn node_hash(suite: &dyn CryptoSuite, left: &B256, right: &B256) -> B256 {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left.as_slice());
    buf[33..].copy_from_slice(right.as_slice());
    suite.hash(&buf)
}

/// Root of the tree over `items`; zero for an empty list.
pub fn merkle_root(suite: &dyn CryptoSuite, items: &[B256]) -> B256 {
    if items.is_empty() {
        return B256::ZERO;
    }
    let mut level: Vec<B256> = items.iter().map(|i| leaf_hash(suite, i)).collect();
    while level.len() > 1 {
        level = next_level(suite, &level);
    }
    level[0]
}

fn next_level(suite: &dyn CryptoSuite, level: &[B256]) -> Vec<B256> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node_hash(suite, l, r),
            [single] => *single,
            _ => B256::ZERO, // chunks(2) never yields other lengths
        })
        .collect()
}

/// One step of a proof: the sibling hash and whether it sits on the left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofStep {
    pub sibling: B256,
    pub sibling_is_left: bool,
}

/// Inclusion proof of the item at `index` among `items`; None if out of range.
pub fn merkle_proof(
    suite: &dyn CryptoSuite,
    items: &[B256],
    index: usize,
) -> Option<Vec<ProofStep>> {
    if index >= items.len() {
        return None;
    }
    let mut level: Vec<B256> = items.iter().map(|i| leaf_hash(suite, i)).collect();
    let mut pos = index;
    let mut proof = Vec::new();
    while level.len() > 1 {
        let sibling = pos ^ 1;
        if sibling < level.len() {
            proof.push(ProofStep { sibling: level[sibling], sibling_is_left: sibling < pos });
        }
        level = next_level(suite, &level);
        pos /= 2;
    }
    Some(proof)
}

/// Checks that `item` is included under `root`.
pub fn verify_proof(
    suite: &dyn CryptoSuite,
    root: &B256,
    item: &B256,
    proof: &[ProofStep],
) -> bool {
    let mut acc = leaf_hash(suite, item);
    for step in proof {
        acc = if step.sibling_is_left {
            node_hash(suite, &step.sibling, &acc)
        } else {
            node_hash(suite, &acc, &step.sibling)
        };
    }
    acc == *root
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurum_crypto::{SuiteKind, suite};
    use proptest::prelude::*;

    fn items(n: usize) -> Vec<B256> {
        (0..n).map(|i| B256::with_last_byte(i as u8)).collect()
    }

    #[test]
    fn every_item_proves_and_others_do_not() {
        for kind in [SuiteKind::Secp256k1Keccak, SuiteKind::Sm2Sm3] {
            let s = suite(kind);
            for n in 1..=17 {
                let its = items(n);
                let root = merkle_root(&*s, &its);
                for (i, item) in its.iter().enumerate() {
                    let proof = merkle_proof(&*s, &its, i).unwrap();
                    assert!(verify_proof(&*s, &root, item, &proof), "n={n} i={i}");
                    assert!(!verify_proof(&*s, &root, &B256::repeat_byte(0xee), &proof));
                }
                assert!(merkle_proof(&*s, &its, n).is_none());
            }
        }
    }

    #[test]
    fn root_depends_on_order_and_content() {
        let s = suite(SuiteKind::Secp256k1Keccak);
        let mut its = items(5);
        let root = merkle_root(&*s, &its);
        its.swap(0, 1);
        assert_ne!(root, merkle_root(&*s, &its));
        assert_eq!(merkle_root(&*s, &[]), B256::ZERO);
        // a one-item tree is not the item itself (leaves are domain-separated)
        assert_ne!(merkle_root(&*s, &its[..1]), its[0]);
    }

    proptest! {
        #[test]
        fn random_trees_prove(n in 1usize..200, pick in any::<prop::sample::Index>()) {
            let s = suite(SuiteKind::Secp256k1Keccak);
            let its: Vec<B256> = (0..n).map(|i| s.hash(&(i as u64).to_be_bytes())).collect();
            let i = pick.index(n);
            let root = merkle_root(&*s, &its);
            let proof = merkle_proof(&*s, &its, i).unwrap();
            prop_assert!(verify_proof(&*s, &root, &its[i], &proof));
        }
    }
}
