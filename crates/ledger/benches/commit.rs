//! Commit of a 10,000-transfer block to RocksDB (WAL synced, the default): block, txs,
//! receipts, indexes, certificate, and a diff shaped like ERC20 transfers between distinct
//! accounts (10,000 sender nonces + 20,000 balance slots), each also written as a history
//! version. The real `tx_count_limit` is 1,000; this bench raises it to 10,000.

use aurum_crypto::{SuiteKind, suite};
use aurum_ledger::{BlockCommit, Genesis, GenesisNode, Ledger};
use aurum_primitives::state::{self, AccountInfo};
use aurum_primitives::*;
use aurum_storage::{KvStore, RocksConfig, RocksStore};
use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TXS: usize = 10_000;

fn bench_commit(c: &mut Criterion) {
    let s = suite(SuiteKind::Secp256k1Keccak);
    let sealer = s.generate();
    let genesis = Genesis {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        crypto: "secp256k1".into(),
        timestamp_ms: 0,
        sealers: vec![GenesisNode { node_id: hex::encode(sealer.public().0), weight: 1 }],
        observers: vec![],
        system_config: [("tx_count_limit".to_string(), TXS.to_string())].into(),
        admins: vec![],
        alloc: Default::default(),
    };
    let token = Address::repeat_byte(0x70);
    let user = s.generate();
    // Pre-signed txs (signing is not what this measures).
    let txs: Vec<VerifiedTx> = (0..TXS)
        .map(|i| {
            let tx = NativeTx {
                chain_id: "chain0".into(),
                group_id: "group0".into(),
                block_limit: 1000,
                nonce: U256::from(i),
                to: TxKind::Call(token),
                value: U256::ZERO,
                input: Bytes::from(vec![0xa9; 68]),
                gas_limit: 100_000,
                conflict_keys: vec![],
            };
            Transaction::Native(tx.sign(&*s, &user)).verify(&*s).unwrap()
        })
        .collect();
    let receipts: Vec<Receipt> = (0..TXS)
        .map(|i| Receipt {
            status: TxStatus::Success,
            gas_used: 34_000,
            contract_address: None,
            logs: vec![Log::new_unchecked(
                token,
                vec![B256::repeat_byte(0xdd), B256::with_last_byte(i as u8), B256::ZERO],
                Bytes::from(vec![0; 32]),
            )],
            output: Bytes::from(vec![0; 32]),
        })
        .collect();
    let hashes: Vec<B256> = txs.iter().map(|t| t.hash).collect();

    let mut group = c.benchmark_group("ledger");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("commit_10k_erc20_transfer_block_rocksdb_sync", |b| {
        b.iter_custom(|iters| {
            let dir = tempfile::tempdir().unwrap();
            let store: Arc<dyn KvStore> =
                Arc::new(RocksStore::open(dir.path(), RocksConfig::default()).unwrap());
            let ledger = Ledger::open(store, s.clone(), &genesis).unwrap();
            let mut total = Duration::ZERO;
            for round in 0..iters {
                let mut diff = StateDiff::new();
                for i in 0..TXS as u64 {
                    let from = Address::from_word(B256::from(U256::from(i * 2 + 1)));
                    let info = AccountInfo { nonce: round + 1, ..Default::default() };
                    diff.put(state::account_key(&from), info.encode());
                    for slot in [i * 2, i * 2 + 1] {
                        diff.put(
                            state::storage_key(&token, &U256::from(slot)),
                            U256::from(round + 7).to_be_bytes::<32>().to_vec(),
                        );
                    }
                }
                let parent = ledger.head().unwrap();
                let mut header = Header {
                    version: 1,
                    parent_hash: parent.hash(&*s),
                    number: parent.number + 1,
                    tx_root: Block::tx_root(&*s, &hashes),
                    ..Default::default()
                };
                // Unique nonces per round so the replay index sees fresh keys.
                let txs: Vec<VerifiedTx> = txs
                    .iter()
                    .map(|t| {
                        let mut t = t.clone();
                        t.hash = s.hash(&[t.hash.as_slice(), &round.to_be_bytes()].concat());
                        t
                    })
                    .collect();
                let start = Instant::now();
                let root = diff.state_root(&parent.state_root, &*s);
                header.finalize(&*s, &receipts, root, parent.sealer_list_hash);
                let certificate =
                    CommitCertificate { block_hash: header.hash(&*s), signatures: vec![] };
                ledger
                    .commit(BlockCommit {
                        header: &header,
                        txs: &txs,
                        receipts: &receipts,
                        diff: &diff,
                        certificate: &certificate,
                    })
                    .unwrap();
                total += start.elapsed();
            }
            total
        })
    });
    // The hashing part alone (state root over the diff, receipt root, header hash), to
    // show how the commit time splits between hashing and the storage write.
    group.bench_function("roots_only_10k", |b| {
        let mut diff = StateDiff::new();
        for i in 0..TXS as u64 {
            let from = Address::from_word(B256::from(U256::from(i * 2 + 1)));
            diff.put(state::account_key(&from), AccountInfo::default().encode());
            for slot in [i * 2, i * 2 + 1] {
                diff.put(state::storage_key(&token, &U256::from(slot)), vec![7; 32]);
            }
        }
        b.iter(|| {
            let mut header = Header::default();
            let root = diff.state_root(&B256::ZERO, &*s);
            header.finalize(&*s, &receipts, root, B256::ZERO);
            header.hash(&*s)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_commit);
criterion_main!(benches);
