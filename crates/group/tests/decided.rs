//! Blocks decided among several sealers, on two real ledgers (RocksDB): a replica checks and
//! executes the leader's proposal to the same block hash, certificates are checked against
//! the sealer list, and the attacks a client can mount through different nodes' pools are
//! defused.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use aurum_crypto::{KeyPair, SuiteKind};
use aurum_group::{Group, GroupOptions, MAX_PROPOSAL_BYTES, encode_proposal, proposal_digest};
use aurum_ledger::{Genesis, GenesisNode};
use aurum_primitives::block::certificate_digest;
use aurum_primitives::{CommitCertificate, Header, NativeTx, SealerSignature, Transaction};
use aurum_storage::{KvStore, RocksConfig, RocksStore};
use std::collections::BTreeMap;
use std::sync::Arc;

fn genesis(kind: SuiteKind, sealers: &[KeyPair]) -> Genesis {
    Genesis {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        crypto: if kind == SuiteKind::Sm2Sm3 { "sm".into() } else { "secp256k1".into() },
        timestamp_ms: 1_700_000_000_000,
        sealers: sealers
            .iter()
            .map(|k| GenesisNode { node_id: k.public().to_hex(), weight: 1 })
            .collect(),
        observers: vec![],
        system_config: BTreeMap::new(),
        admins: vec![],
        alloc: BTreeMap::new(),
    }
}

fn fields(nonce: U256, input: &'static [u8]) -> NativeTx {
    NativeTx {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        block_limit: 100,
        nonce,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::ZERO,
        input: Bytes::from_static(input),
        gas_limit: 0,
        conflict_keys: vec![],
    }
}

struct Net {
    _dirs: Vec<tempfile::TempDir>,
    sealers: Vec<KeyPair>,
    groups: Vec<Arc<Group>>,
}

/// Four sealers' genesis; two of them (0 = leader, 1 = replica) run a group each.
fn two_nodes(kind: SuiteKind) -> Net {
    let sealers: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate(kind)).collect();
    let g = genesis(kind, &sealers);
    let mut dirs = Vec::new();
    let mut groups = Vec::new();
    for key in &sealers[..2] {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn KvStore> =
            Arc::new(RocksStore::open(dir.path(), RocksConfig::default()).unwrap());
        groups.push(Group::open(store, g.clone(), key.clone(), GroupOptions::default()).unwrap());
        dirs.push(dir);
    }
    Net { _dirs: dirs, sealers, groups }
}

impl Net {
    /// Index of `node` among the sealers as the ledger orders them.
    fn index(&self, node: usize) -> u32 {
        let list = self.groups[0].sealers(1).unwrap();
        list.iter().position(|s| s.node_id == self.sealers[node].public()).unwrap() as u32
    }

    /// Leader proposes, both check and execute, a quorum certifies, both commit.
    fn decide(&self) -> (Header, Vec<u8>) {
        let (leader, replica) = (&self.groups[0], &self.groups[1]);
        let number = leader.ledger().head_number().unwrap() + 1;
        let (payload, _) = leader.build_proposal(number, self.index(0), false).unwrap().unwrap();
        let mine = leader.check_proposal(&payload).unwrap();
        let theirs = replica.check_proposal(&payload).unwrap();
        let a = leader.execute_checked(&mine).unwrap();
        let b = replica.execute_checked(&theirs).unwrap();
        assert_eq!(a.hash, b.hash, "replicas execute the same proposal to the same block");
        assert_eq!(
            a.header.proposal_hash(&**leader.suite()),
            proposal_digest(&**leader.suite(), &payload)
        );
        let digest = certificate_digest(&**leader.suite(), &a.header);
        let cert = CommitCertificate {
            block_hash: a.hash,
            signatures: (0..3)
                .map(|k| SealerSignature {
                    sealer_index: self.index(k),
                    signature: Bytes::from(self.sealers[k].sign(&digest)),
                })
                .collect(),
        };
        leader.verify_certificate(&a.header, &cert).unwrap();
        assert!(leader.commit_executed(&a, &cert).unwrap());
        assert!(replica.commit_executed(&b, &cert).unwrap());
        (a.header, payload)
    }
}

#[test]
fn a_replica_executes_the_proposal_not_its_own_twin_of_a_tx() {
    for kind in SuiteKind::ALL {
        let net = two_nodes(kind);
        let (k1, k2) = (KeyPair::generate(kind), KeyPair::generate(kind));
        let suite = net.groups[0].suite().clone();
        // The same fields signed by two keys: one hash (it does not cover the signature),
        // two senders. Each node's pool gets a different one.
        let t1 = Transaction::Native(fields(U256::from(7), b"twin").sign(&*suite, &k1));
        let t2 = Transaction::Native(fields(U256::from(7), b"twin").sign(&*suite, &k2));
        assert_eq!(t1.hash(&*suite), t2.hash(&*suite));
        // Proposals that differ only in a signature are different proposals to consensus.
        let h = net.groups[0].ledger().head().unwrap();
        let header = Header {
            version: aurum_primitives::block::HEADER_VERSION,
            parent_hash: h.hash(&*suite),
            number: 1,
            timestamp_ms: h.timestamp_ms + 1,
            ..Default::default()
        };
        assert_ne!(
            proposal_digest(&*suite, &encode_proposal(&header, std::slice::from_ref(&t1))),
            proposal_digest(&*suite, &encode_proposal(&header, std::slice::from_ref(&t2)))
        );
        net.groups[0].pool().submit(t1).unwrap();
        net.groups[1].pool().submit(t2).unwrap();
        let (_, payload) = net.decide();
        // Both ledgers hold the leader's tx, sent by k1.
        let hash = net.groups[0].ledger().block_tx_hashes(1).unwrap().unwrap()[0];
        for g in &net.groups {
            let stored = g.ledger().transaction(&hash).unwrap().unwrap();
            assert_eq!(stored.sender, suite.address(&k1.public()));
        }
        assert!(payload.len() < MAX_PROPOSAL_BYTES);
    }
}

#[test]
fn a_tx_whose_nonce_another_node_committed_leaves_every_pool() {
    let kind = SuiteKind::Secp256k1Keccak;
    let net = two_nodes(kind);
    let user = KeyPair::generate(kind);
    let suite = net.groups[0].suite().clone();
    // Two different txs with one nonce: the leader has A, the replica B.
    let a = Transaction::Native(fields(U256::from(9), b"a").sign(&*suite, &user));
    let b = Transaction::Native(fields(U256::from(9), b"b").sign(&*suite, &user));
    net.groups[0].pool().submit(a).unwrap();
    net.groups[1].pool().submit(b.clone()).unwrap();
    net.decide();
    // B can never commit now: it left the replica's pool with the block...
    assert!(net.groups[1].pool().is_empty());
    // ...and a leader that still holds such a tx drops it instead of proposing it.
    let leader = &net.groups[0];
    leader
        .pool()
        .submit(Transaction::Native(fields(U256::from(10), b"c").sign(&*suite, &user)))
        .unwrap();
    let stale = b.encode();
    assert_eq!(leader.pool().submit_from_peer(vec![Transaction::decode(&stale).unwrap()]), 0);
    let (payload, hashes) = leader.build_proposal(2, net.index(0), false).unwrap().unwrap();
    assert_eq!(hashes.len(), 1);
    net.groups[1].check_proposal(&payload).unwrap();
}

#[test]
fn replicas_refuse_bad_proposals_with_the_reason() {
    let kind = SuiteKind::Secp256k1Keccak;
    let net = two_nodes(kind);
    let replica = &net.groups[1];
    let suite = replica.suite().clone();
    let user = KeyPair::generate(kind);
    let parent = replica.ledger().head().unwrap();
    let header = |number: u64, parent_hash| Header {
        version: aurum_primitives::block::HEADER_VERSION,
        parent_hash,
        number,
        timestamp_ms: parent.timestamp_ms + 1,
        proposer: 0,
        ..Default::default()
    };
    let good = header(1, parent.hash(&*suite));
    let tx = Transaction::Native(fields(U256::from(1), b"x").sign(&*suite, &user));
    let refuse = |payload: Vec<u8>, why: &str| {
        let err = replica.check_proposal(&payload).unwrap_err().to_string();
        assert!(err.contains(why), "{err} does not say {why:?}");
    };
    refuse(vec![0x04, 0xc0], "malformed");
    refuse(encode_proposal(&header(2, parent.hash(&*suite)), &[]), "does not follow");
    refuse(encode_proposal(&good, &[tx.clone(), tx.clone()]), "twice in the block");
    let mut future = good.clone();
    future.timestamp_ms = u64::MAX / 2;
    refuse(encode_proposal(&future, &[]), "future");
    let mut stranger = good.clone();
    stranger.proposer = 9;
    refuse(encode_proposal(&stranger, &[]), "no sealer at index 9");
    let mut garbage = fields(U256::from(3), b"z").sign(&*suite, &user);
    garbage.signature = Bytes::from(vec![0u8; 65]);
    refuse(encode_proposal(&good, &[Transaction::Native(garbage)]), "tx");
    let mut late = fields(U256::from(4), b"w");
    late.block_limit = 5000;
    refuse(
        encode_proposal(&good, &[Transaction::Native(late.sign(&*suite, &user))]),
        "block limit",
    );
    let huge = vec![0u8; MAX_PROPOSAL_BYTES + 1];
    refuse(huge, "limit is");
    // A well-formed empty proposal passes.
    replica.check_proposal(&encode_proposal(&good, &[])).unwrap();
}

#[test]
fn a_built_proposal_knows_its_digest_and_checked_block() {
    let kind = SuiteKind::Secp256k1Keccak;
    let net = two_nodes(kind);
    let leader = &net.groups[0];
    let suite = leader.suite().clone();
    let user = KeyPair::generate(kind);
    for (i, input) in [b"x", b"y"].iter().enumerate() {
        let tx =
            Transaction::Native(fields(U256::from(100 + i as u64), *input).sign(&*suite, &user));
        leader.pool().submit(tx).unwrap();
    }
    let built = leader.build_checked_proposal(1, net.index(0), false).unwrap().unwrap();
    // What the leader keeps for itself is exactly what a replica derives from the bytes.
    assert_eq!(built.digest, aurum_group::proposal_digest(&*suite, &built.payload));
    let replica = net.groups[1].check_proposal(&built.payload).unwrap();
    assert_eq!(replica.header, built.block.header);
    assert_eq!(
        replica.txs.iter().map(|t| t.hash).collect::<Vec<_>>(),
        built.block.txs.iter().map(|t| t.hash).collect::<Vec<_>>()
    );
    assert_eq!(built.hashes.len(), 2);
}
