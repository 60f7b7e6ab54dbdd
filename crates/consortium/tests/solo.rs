//! A chain of one sealer over real storage: PBFT with one validator (the same driver as
//! among nodes, with no links) seals blocks with certificates, honours limits and resumes
//! after a restart.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use aurum_consortium::{Consortium, Options};
use aurum_crypto::{KeyPair, SuiteKind};
use aurum_group::{Group, GroupOptions};
use aurum_ledger::{Genesis, GenesisNode};
use aurum_primitives::{Block, NativeTx, Transaction};
use aurum_storage::{KvStore, RocksConfig, RocksStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sealing options for these tests: no trailing empty block, so a block appears only for
/// txs and "nothing more is sealed" can be observed.
fn options() -> Options {
    Options { idle_block: None, ..Options::default() }
}

/// Starts the one-validator driver for `group` (no network; votes are signed with the key
/// the group was opened with).
fn start(group: &Arc<Group>, store: &Arc<dyn KvStore>) -> Consortium {
    Consortium::start(Arc::clone(group), None, Arc::clone(store), options()).unwrap()
}

/// Waits (generously: a busy 2-core machine) until the head reaches `n`.
fn wait_head(group: &Group, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while group.ledger().head_number().unwrap() < n {
        assert!(Instant::now() < deadline, "head did not reach {n}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Txs in block `n`.
fn txs_in(group: &Group, n: u64) -> usize {
    group.ledger().block_tx_hashes(n).unwrap().unwrap().len()
}

fn genesis(kind: SuiteKind, sealer: &KeyPair, config: &[(&str, &str)]) -> Genesis {
    Genesis {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        crypto: if kind == SuiteKind::Sm2Sm3 { "sm".into() } else { "secp256k1".into() },
        timestamp_ms: 1_700_000_000_000,
        sealers: vec![GenesisNode { node_id: sealer.public().to_hex(), weight: 1 }],
        observers: vec![],
        system_config: config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        admins: vec![],
        alloc: BTreeMap::new(),
    }
}

fn tx(group: &Group, key: &KeyPair, block_limit: u64) -> Transaction {
    let data = NativeTx {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        block_limit,
        nonce: U256::from_be_bytes(rand::random::<[u8; 32]>()),
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::ZERO,
        input: Bytes::from_static(b"hello"),
        gas_limit: 0,
        conflict_keys: vec![],
    };
    Transaction::Native(data.sign(&**group.suite(), key))
}

fn rocks(dir: &std::path::Path) -> Arc<dyn KvStore> {
    Arc::new(RocksStore::open(dir, RocksConfig::default()).unwrap())
}

#[test]
fn seals_signed_blocks_and_resumes_after_reopen() {
    for kind in SuiteKind::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let node = KeyPair::generate(kind);
        let user = KeyPair::generate(kind);
        let g = genesis(kind, &node, &[]);
        let hashes = {
            let store = rocks(tmp.path());
            let group =
                Group::open(Arc::clone(&store), g.clone(), node.clone(), GroupOptions::default())
                    .unwrap();
            let mut heads = group.subscribe_head();
            let txs: Vec<Transaction> = (0..3).map(|_| tx(&group, &user, 100)).collect();
            let hashes: Vec<_> =
                txs.iter().map(|t| group.pool().submit(t.clone()).unwrap()).collect();
            // Submitted before the driver starts, so the first proposal takes all three.
            let sealing = start(&group, &store);
            wait_head(&group, 1);
            assert_eq!(txs_in(&group, 1), 3);
            assert!(heads.has_changed().unwrap());
            assert_eq!(*heads.borrow_and_update(), 1);
            assert!(group.pool().is_empty());
            // Nothing left to seal: no further block while the driver keeps running.
            std::thread::sleep(Duration::from_millis(500));
            assert_eq!(group.ledger().head_number().unwrap(), 1, "nothing left to seal");

            let ledger = group.ledger();
            let header = ledger.header(1).unwrap().unwrap();
            let genesis_hash = ledger.block_hash(0).unwrap().unwrap();
            assert_eq!(header.parent_hash, genesis_hash);
            assert_eq!(header.tx_root, Block::tx_root(&**group.suite(), &hashes));
            let cert = ledger.certificate(1).unwrap().unwrap();
            assert_eq!(cert.block_hash, header.hash(&**group.suite()));
            assert_eq!(cert.signatures.len(), 1);
            let digest = aurum_primitives::block::certificate_digest(&**group.suite(), &header);
            group.suite().verify(&node.public(), &digest, &cert.signatures[0].signature).unwrap();
            group.verify_certificate(&header, &cert).unwrap();
            let mut forged = cert.clone();
            forged.signatures[0].signature = Bytes::from(node.sign(&cert.block_hash));
            assert!(group.verify_certificate(&header, &forged).is_err());
            for h in &hashes {
                assert!(ledger.receipt(h).unwrap().unwrap().status.is_success());
            }
            // A committed tx cannot come back.
            let again = group
                .pool()
                .submit(ledger.transaction(&hashes[0]).unwrap().unwrap().tx)
                .unwrap_err();
            assert_eq!(again.reason(), "AlreadyCommitted");
            sealing.stop();
            hashes
        };
        // Reopen over the same storage: same head, and sealing continues from it.
        let store = rocks(tmp.path());
        let group =
            Group::open(Arc::clone(&store), g, node.clone(), GroupOptions::default()).unwrap();
        assert_eq!(group.ledger().head_number().unwrap(), 1);
        assert_eq!(group.ledger().tx_location(&hashes[2]).unwrap().unwrap().number, 1);
        let ctx = group.block_context(2, 0).unwrap();
        assert_eq!(ctx.block_hashes.len(), 2, "hashes of blocks 0 and 1");
        group.pool().submit(tx(&group, &user, 100)).unwrap();
        let sealing = start(&group, &store);
        wait_head(&group, 2);
        assert_eq!(txs_in(&group, 2), 1);
        sealing.stop();
        assert_eq!(
            group.ledger().header(2).unwrap().unwrap().parent_hash,
            group.ledger().block_hash(1).unwrap().unwrap()
        );
    }
}

#[test]
fn honours_tx_count_limit_and_expires_block_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let node = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let g = genesis(SuiteKind::Secp256k1Keccak, &node, &[("tx_count_limit", "2")]);
    let store = rocks(tmp.path());
    let group = Group::open(Arc::clone(&store), g, node.clone(), GroupOptions::default()).unwrap();
    // Valid only for block 1: left behind once block 1 is sealed without it.
    let short = tx(&group, &node, 1);
    for _ in 0..3 {
        group.pool().submit(tx(&group, &node, 100)).unwrap();
    }
    let short_hash = group.pool().submit(short).unwrap();
    let sealing = start(&group, &store);
    wait_head(&group, 2);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !group.pool().is_empty() {
        assert!(Instant::now() < deadline, "the expired tx stayed in the pool");
        std::thread::sleep(Duration::from_millis(5));
    }
    sealing.stop();
    assert_eq!(txs_in(&group, 1), 2);
    assert_eq!(txs_in(&group, 2), 1, "the expired tx is dropped, not sealed");
    assert_eq!(group.ledger().head_number().unwrap(), 2);
    assert!(group.ledger().tx_location(&short_hash).unwrap().is_none());
    assert!(group.pool().is_empty());
}

#[test]
fn a_node_outside_the_sealer_list_never_seals() {
    let tmp = tempfile::tempdir().unwrap();
    let sealer = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let other = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let g = genesis(SuiteKind::Secp256k1Keccak, &sealer, &[]);
    let store = rocks(tmp.path());
    let group = Group::open(Arc::clone(&store), g, other.clone(), GroupOptions::default()).unwrap();
    group.pool().submit(tx(&group, &other, 100)).unwrap();
    let following = start(&group, &store);
    std::thread::sleep(Duration::from_millis(1000));
    following.stop();
    assert_eq!(group.ledger().head_number().unwrap(), 0);
    assert_eq!(group.pool().len(), 1, "the tx still waits for a sealer");
}
