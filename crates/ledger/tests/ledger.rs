//! The ledger over real stores: commits, every reader, history, proofs, the replay window,
//! refusals that must leave nothing behind, and reopening.

use aurum_crypto::{CryptoSuite, KeyPair, SuiteKind, suite};
use aurum_ledger::{BlockCommit, Genesis, GenesisNode, Ledger, LedgerError};
use aurum_primitives::merkle::verify_proof;
use aurum_primitives::state::{self, StateReader};
use aurum_primitives::*;
use aurum_storage::{KvStore, MemStore, RocksConfig, RocksStore};
use std::sync::Arc;

fn genesis(s: &dyn CryptoSuite, sealer: &KeyPair) -> Genesis {
    Genesis {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        crypto: if s.kind() == SuiteKind::Sm2Sm3 { "sm".into() } else { "secp256k1".into() },
        timestamp_ms: 1_700_000_000_000,
        sealers: vec![GenesisNode { node_id: hex::encode(sealer.public().0), weight: 1 }],
        observers: vec![],
        system_config: Default::default(),
        admins: vec![Address::repeat_byte(0xad)],
        alloc: Default::default(),
    }
}

fn signed_tx(s: &dyn CryptoSuite, key: &KeyPair, nonce: u64) -> VerifiedTx {
    let tx = NativeTx {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        block_limit: 100,
        nonce: U256::from(nonce),
        to: TxKind::Call(Address::repeat_byte(1)),
        value: U256::ZERO,
        input: Bytes::from(nonce.to_be_bytes().to_vec()),
        gas_limit: 30_000,
        conflict_keys: vec![],
    };
    Transaction::Native(tx.sign(s, key)).verify(s).unwrap()
}

/// Builds, "executes" (a diff the test chooses) and commits the next block.
fn commit_next(ledger: &Ledger, txs: Vec<VerifiedTx>, diff: StateDiff) -> Header {
    let s = ledger.suite().clone();
    let parent = ledger.head().unwrap();
    let receipts: Vec<Receipt> = txs
        .iter()
        .map(|_| Receipt {
            status: TxStatus::Success,
            gas_used: 21_000,
            contract_address: None,
            logs: vec![],
            output: Bytes::new(),
        })
        .collect();
    let hashes: Vec<B256> = txs.iter().map(|t| t.hash).collect();
    let mut header = Header {
        version: 1,
        parent_hash: parent.hash(&*s),
        number: parent.number + 1,
        timestamp_ms: parent.timestamp_ms + 1000,
        tx_root: Block::tx_root(&*s, &hashes),
        ..Default::default()
    };
    let root = diff.state_root(&parent.state_root, &*s);
    header.finalize(&*s, &receipts, root, parent.sealer_list_hash);
    let certificate = CommitCertificate { block_hash: header.hash(&*s), signatures: vec![] };
    ledger
        .commit(BlockCommit {
            header: &header,
            txs: &txs,
            receipts: &receipts,
            diff: &diff,
            certificate: &certificate,
        })
        .unwrap();
    header
}

fn diff(writes: &[(&[u8], Option<&[u8]>)]) -> StateDiff {
    let mut d = StateDiff::new();
    for (k, v) in writes {
        match v {
            Some(v) => d.put(k.to_vec(), v.to_vec()),
            None => d.delete(k.to_vec()),
        }
    }
    d
}

fn check_ledger(store: Arc<dyn KvStore>, kind: SuiteKind) {
    let s = suite(kind);
    let sealer = s.generate();
    let user = s.generate();
    let g = genesis(&*s, &sealer);
    let ledger = Ledger::open(store.clone(), s.clone(), &g).unwrap();
    assert_eq!(ledger.head_number().unwrap(), 0);
    assert_eq!(ledger.genesis().unwrap(), g);
    assert_eq!(ledger.system_config_for_block("tx_count_limit", 1).unwrap().unwrap().value, "1000");
    let nodes = ledger.consensus_nodes_at(0).unwrap();
    assert_eq!(nodes.sealers_at(0).len(), 1);

    let txs: Vec<VerifiedTx> = (0..5).map(|n| signed_tx(&*s, &user, n)).collect();
    let key_a: &[u8] = b"\x05a";
    let key_ab: &[u8] = b"\x05a\x00b";
    let h1 = commit_next(&ledger, txs.clone(), diff(&[(key_a, Some(b"1")), (key_ab, Some(b"x"))]));
    let h2 = commit_next(&ledger, vec![], diff(&[(key_a, Some(b"2"))]));
    let h3 = commit_next(&ledger, vec![signed_tx(&*s, &user, 99)], diff(&[(key_a, None)]));
    assert_eq!(ledger.head_number().unwrap(), 3);
    assert_eq!(ledger.total_tx_count().unwrap(), 6);
    assert_eq!(ledger.block_number_by_hash(&h2.hash(&*s)).unwrap(), Some(2));
    assert_eq!(ledger.header(3).unwrap().unwrap(), h3);

    // Every tx: stored with sender and location, receipt, and Merkle proofs against the header.
    let block = ledger.block(1).unwrap().unwrap();
    assert_eq!(block.header, h1);
    assert_eq!(block.txs.len(), 5);
    for (i, tx) in txs.iter().enumerate() {
        let stored = ledger.transaction(&tx.hash).unwrap().unwrap();
        assert_eq!(stored.sender, tx.sender);
        assert_eq!(stored.tx, tx.tx);
        assert_eq!((stored.location.number, stored.location.index), (1, i as u32));
        let receipt = ledger.receipt(&tx.hash).unwrap().unwrap();
        let (_, proof) = ledger.tx_proof(&tx.hash).unwrap().unwrap();
        assert!(verify_proof(&*s, &h1.tx_root, &tx.hash, &proof));
        let (_, rproof) = ledger.receipt_proof(&tx.hash).unwrap().unwrap();
        assert!(verify_proof(&*s, &h1.receipt_root, &s.hash(&receipt.encode()), &rproof));
        assert!(!verify_proof(&*s, &h1.receipt_root, &tx.hash, &rproof));
    }
    assert_eq!(ledger.block_receipts(1).unwrap().unwrap().len(), 5);
    assert_eq!(ledger.certificate(2).unwrap().unwrap().block_hash, h2.hash(&*s));
    assert!(ledger.transaction(&B256::repeat_byte(9)).unwrap().is_none());

    // State now and as of every past block, point reads and prefix scans.
    assert_eq!(ledger.latest_state().get(key_a).unwrap(), None);
    assert_eq!(ledger.state_at(1).get(key_a).unwrap(), Some(b"1".to_vec()));
    assert_eq!(ledger.state_at(2).get(key_a).unwrap(), Some(b"2".to_vec()));
    assert_eq!(ledger.state_at(3).get(key_a).unwrap(), None);
    assert_eq!(ledger.state_at(0).get(key_a).unwrap(), None);
    // key_ab extends key_a with a zero byte: history must keep them apart.
    assert_eq!(ledger.state_at(2).get(key_ab).unwrap(), Some(b"x".to_vec()));
    let scan2 = ledger.state_at(2).scan_prefix(b"\x05a", 0).unwrap();
    assert_eq!(scan2, vec![(key_a.to_vec(), b"2".to_vec()), (key_ab.to_vec(), b"x".to_vec())]);
    assert_eq!(
        ledger.state_at(3).scan_prefix(b"\x05a", 0).unwrap(),
        vec![(key_ab.to_vec(), b"x".to_vec())]
    );
    assert_eq!(ledger.state_at(0).scan_prefix(b"\x05a", 0).unwrap(), vec![]);
    assert_eq!(ledger.state_at(2).scan_prefix(b"\x05a", 1).unwrap().len(), 1);
    assert_eq!(
        ledger.latest_state().scan_prefix(b"\x05", 0).unwrap(),
        vec![(key_ab.to_vec(), b"x".to_vec())]
    );
    let cfg = ledger.latest_state().get(&state::system_config_key("tx_gas_limit")).unwrap();
    assert!(cfg.is_some());

    // Refused commits leave nothing behind.
    let head = ledger.head().unwrap();
    let mut bad = head.clone();
    bad.number = 7;
    let cert = CommitCertificate { block_hash: bad.hash(&*s), signatures: vec![] };
    let err = ledger
        .commit(BlockCommit {
            header: &bad,
            txs: &[],
            receipts: &[],
            diff: &StateDiff::new(),
            certificate: &cert,
        })
        .unwrap_err();
    assert!(matches!(err, LedgerError::NotNext { number: 7, head: 3 }));
    let mut orphan = Header { number: 4, parent_hash: B256::repeat_byte(3), ..Default::default() };
    orphan.version = 1;
    let cert = CommitCertificate { block_hash: orphan.hash(&*s), signatures: vec![] };
    let err = ledger
        .commit(BlockCommit {
            header: &orphan,
            txs: &[],
            receipts: &[],
            diff: &StateDiff::new(),
            certificate: &cert,
        })
        .unwrap_err();
    assert!(matches!(err, LedgerError::WrongParent { .. }));
    let next = Header { number: 4, parent_hash: head.hash(&*s), version: 1, ..Default::default() };
    let wrong_cert = CommitCertificate { block_hash: B256::repeat_byte(1), signatures: vec![] };
    let err = ledger
        .commit(BlockCommit {
            header: &next,
            txs: &[],
            receipts: &[],
            diff: &StateDiff::new(),
            certificate: &wrong_cert,
        })
        .unwrap_err();
    assert!(matches!(err, LedgerError::CertificateMismatch { .. }));
    assert_eq!(ledger.head_number().unwrap(), 3);

    // The same store refuses a different genesis (another chain's data).
    let mut other = g.clone();
    other.admins.push(Address::repeat_byte(1));
    assert!(matches!(
        Ledger::open(store.clone(), s.clone(), &other),
        Err(LedgerError::GenesisMismatch { .. })
    ));
}

#[test]
fn ledger_on_memory_store_both_suites() {
    check_ledger(Arc::new(MemStore::new()), SuiteKind::Secp256k1Keccak);
    check_ledger(Arc::new(MemStore::new()), SuiteKind::Sm2Sm3);
}

#[test]
fn ledger_on_rocksdb_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let s = suite(SuiteKind::Secp256k1Keccak);
    let sealer = s.generate();
    let g = genesis(&*s, &sealer);
    let head = {
        let store: Arc<dyn KvStore> =
            Arc::new(RocksStore::open(dir.path(), RocksConfig::default()).unwrap());
        let ledger = Ledger::open(store, s.clone(), &g).unwrap();
        let user = s.generate();
        commit_next(&ledger, vec![signed_tx(&*s, &user, 1)], diff(&[(b"\x05k", Some(b"v"))]));
        commit_next(&ledger, vec![], diff(&[(b"\x05k", Some(b"w"))]))
    };
    let store: Arc<dyn KvStore> =
        Arc::new(RocksStore::open(dir.path(), RocksConfig::default()).unwrap());
    let ledger = Ledger::open(store, s.clone(), &g).unwrap();
    assert_eq!(ledger.head().unwrap(), head);
    assert_eq!(ledger.state_at(1).get(b"\x05k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(ledger.latest_state().get(b"\x05k").unwrap(), Some(b"w".to_vec()));
}

#[test]
fn native_nonces_are_remembered_for_the_block_limit_window_then_dropped() {
    let s = suite(SuiteKind::Secp256k1Keccak);
    let sealer = s.generate();
    let user = s.generate();
    let ledger =
        Ledger::open(Arc::new(MemStore::new()), s.clone(), &genesis(&*s, &sealer)).unwrap();
    commit_next(&ledger, vec![signed_tx(&*s, &user, 777)], StateDiff::new());
    assert_eq!(ledger.nonce_used_at(&U256::from(777)).unwrap(), Some(1));
    assert_eq!(ledger.nonce_used_at(&U256::from(778)).unwrap(), None);
    for _ in 0..1000 {
        commit_next(&ledger, vec![], StateDiff::new());
    }
    assert_eq!(ledger.nonce_used_at(&U256::from(777)).unwrap(), Some(1), "still inside the window");
    commit_next(&ledger, vec![], StateDiff::new());
    assert_eq!(ledger.nonce_used_at(&U256::from(777)).unwrap(), None, "dropped past the window");
}
