//! Storage hot paths on RocksDB: committing one block's diff (10,000 ERC20 transfers), point
//! gets of state slots, and "value as of height" lookups (`last_at_or_before`).
//!
//! Run: `cargo bench -p aurum-storage --bench commit` (add `-- --quick` for a short run).

use std::hint::black_box;
use std::time::{Duration, Instant};

use aurum_storage::{KvRead, KvStore, RocksConfig, RocksStore, WriteBatch};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const TRANSFERS: u64 = 10_000;
const ACCOUNTS: u64 = 200_000;
const NAMESPACES: [&str; 4] = ["state", "history", "txs", "receipts"];

/// splitmix64: deterministic, incompressible filler (hashes and balances look random).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn bytes(seed: u64, len: usize) -> Vec<u8> {
    (0..len.div_ceil(8) as u64)
        .flat_map(|i| mix(seed ^ (i << 56) ^ i).to_le_bytes())
        .take(len)
        .collect()
}

/// A storage slot key: 1-byte tag + 20-byte contract address + 32-byte slot = 53 bytes.
fn slot_key(account: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(53);
    key.push(0x01);
    key.extend_from_slice(&bytes(0xc0ffee, 20));
    key.extend_from_slice(&bytes(account, 32));
    key
}

/// A history key: slot key + big-endian height, so one reverse seek finds "as of height".
fn history_key(account: u64, height: u64) -> Vec<u8> {
    let mut key = slot_key(account);
    key.extend_from_slice(&height.to_be_bytes());
    key
}

/// One block's diff: 20,000 balance-slot writes (sender and receiver of each transfer),
/// 10,000 history entries, 10,000 transactions (~150 bytes) and 10,000 receipts (~180 bytes:
/// status, gas, one Transfer log).
fn block_diff(height: u64) -> WriteBatch {
    let mut batch = WriteBatch::default();
    for t in 0..TRANSFERS {
        let seed = height * TRANSFERS + t;
        let (from, to) = (mix(seed) % ACCOUNTS, mix(!seed) % ACCOUNTS);
        batch.put("state", slot_key(from), bytes(seed, 32));
        batch.put("state", slot_key(to), bytes(!seed, 32));
        batch.put("history", history_key(from, height), bytes(seed ^ 1, 32));
        let tx_hash = bytes(seed ^ 2, 32);
        batch.put("txs", tx_hash.clone(), bytes(seed ^ 3, 150));
        batch.put("receipts", tx_hash, bytes(seed ^ 4, 180));
    }
    batch
}

fn open(dir: &tempfile::TempDir, sync: bool) -> RocksStore {
    let store = RocksStore::open(dir.path(), RocksConfig { sync, ..RocksConfig::default() })
        .expect("open bench store");
    for ns in NAMESPACES {
        store.ensure_namespace(ns).expect("namespace");
    }
    store
}

fn commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("commit_block_diff");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(block_diff(0).len() as u64));
    for sync in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&dir, sync);
        let mut height = 0;
        let name = if sync { "10k_transfers_sync" } else { "10k_transfers_nosync" };
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    height += 1;
                    let batch = block_diff(height);
                    let start = Instant::now();
                    store.write(batch).expect("commit");
                    spent += start.elapsed();
                }
                spent
            })
        });
    }
    group.finish();
}

fn reads(c: &mut Criterion) {
    const HEIGHTS: u64 = 20;
    const HISTORY_ACCOUNTS: u64 = 20_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir, false);
    for chunk in 0..ACCOUNTS / 20_000 {
        let mut batch = WriteBatch::default();
        for a in chunk * 20_000..(chunk + 1) * 20_000 {
            batch.put("state", slot_key(a), bytes(a, 32));
        }
        store.write(batch).expect("prefill state");
    }
    for h in 0..HEIGHTS {
        let mut batch = WriteBatch::default();
        for a in 0..HISTORY_ACCOUNTS {
            batch.put("history", history_key(a, h * 50), bytes(a ^ h, 32));
        }
        store.write(batch).expect("prefill history");
    }
    store.flush().expect("flush");

    // Keys are made up front so the figures are the store's, not key construction's.
    const QUERIES: u64 = 8192;
    let gets: Vec<Vec<u8>> = (0..QUERIES).map(|q| slot_key(mix(q) % ACCOUNTS)).collect();
    let history: Vec<(Vec<u8>, Vec<u8>)> = (0..QUERIES)
        .map(|q| {
            let account = mix(!q) % HISTORY_ACCOUNTS;
            (history_key(account, mix(q ^ 7) % 1_000), slot_key(account))
        })
        .collect();
    let mut group = c.benchmark_group("reads");
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function("get_200k_slots", |b| {
        b.iter(|| {
            i = (i + 1) % gets.len();
            black_box(store.get("state", &gets[i]).expect("get"))
        })
    });
    group.bench_function("last_at_or_before_400k_history", |b| {
        b.iter(|| {
            i = (i + 1) % history.len();
            let (key, floor) = &history[i];
            black_box(store.last_at_or_before("history", key, floor).expect("last_at_or_before"))
        })
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("multi_get_100_slots", |b| {
        b.iter(|| {
            i = (i + 100) % (gets.len() - 100);
            let refs: Vec<&[u8]> = gets[i..i + 100].iter().map(Vec::as_slice).collect();
            black_box(store.multi_get("state", &refs).expect("multi_get"))
        })
    });
    group.finish();
}

criterion_group!(benches, commit, reads);
criterion_main!(benches);
