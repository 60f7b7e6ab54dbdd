//! Per-suite cost of the operations on the transaction path: hash (128-byte input), sign,
//! verify and recover; plus SM4-GCM sealing of a 4 KiB record.
//!
//! `cargo bench -p aurum-crypto --bench signatures -- --warm-up-time 1 --measurement-time 3`

use aurum_crypto::{SuiteKind, at_rest, suite};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn suites(c: &mut Criterion) {
    for kind in SuiteKind::ALL {
        let s = suite(kind);
        let key = s.generate();
        let input = [0x5au8; 128];
        let digest = s.hash(b"a transaction");
        let sig = s.sign(&key, &digest);
        let public = key.public();

        let mut group = c.benchmark_group(format!("{kind:?}"));
        group.bench_function("hash_128B", |b| b.iter(|| s.hash(black_box(&input))));
        group.bench_function("sign", |b| b.iter(|| s.sign(&key, black_box(&digest))));
        group.bench_function("verify", |b| {
            b.iter(|| s.verify(&public, black_box(&digest), black_box(&sig)))
        });
        group.bench_function("recover", |b| {
            b.iter(|| s.recover(black_box(&digest), black_box(&sig)))
        });
        group.finish();
    }
}

fn sm4_gcm(c: &mut Criterion) {
    let key = at_rest::generate_key();
    let record = vec![0x42u8; 4096];
    let sealed = at_rest::encrypt(&key, &record).unwrap_or_default();
    let mut group = c.benchmark_group("Sm4Gcm");
    group.throughput(Throughput::Bytes(record.len() as u64));
    group.bench_function("encrypt_4KiB", |b| b.iter(|| at_rest::encrypt(&key, black_box(&record))));
    group.bench_function("decrypt_4KiB", |b| b.iter(|| at_rest::decrypt(&key, black_box(&sealed))));
    group.finish();
}

criterion_group!(benches, suites, sm4_gcm);
criterion_main!(benches);
