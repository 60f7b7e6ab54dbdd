//! Runs the conformance suite on both backends, plus RocksDB-only properties (persistence,
//! schema version, snapshot lifetime) and a proptest that both backends agree.

use std::ops::Bound;
use std::sync::Arc;

use proptest::prelude::*;
use tempfile::TempDir;

use crate::{
    KeyRange, KvRead, KvStore, META_NAMESPACE, MemStore, RocksConfig, RocksStore, SCHEMA_VERSION,
    Scan, StorageError, WriteBatch, conformance,
};

fn rocks() -> (TempDir, RocksStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
    (dir, store)
}

#[test]
fn conformance_mem() {
    conformance::run_all(&MemStore::new()).unwrap();
}

#[test]
fn conformance_rocks() {
    let (_dir, store) = rocks();
    conformance::run_all(&store).unwrap();
}

#[test]
fn conformance_rocks_unsynced() {
    let dir = tempfile::tempdir().unwrap();
    let config = RocksConfig { sync: false, ..RocksConfig::default() };
    conformance::run_all(&RocksStore::open(dir.path(), config).unwrap()).unwrap();
}

#[test]
fn rocks_reopen_persists_data_and_namespaces() {
    let (dir, store) = rocks();
    store.ensure_namespace("state").unwrap();
    store.ensure_namespace("empty").unwrap();
    let mut b = WriteBatch::default();
    for i in 0u32..1000 {
        b.put("state", i.to_be_bytes().to_vec(), (i * 2).to_be_bytes().to_vec());
    }
    store.write(b).unwrap();
    let mut b = WriteBatch::default();
    b.delete("state", 7u32.to_be_bytes().to_vec());
    store.write(b).unwrap();
    store.flush().unwrap();
    let mut b = WriteBatch::default();
    b.put("state", b"memtable only".to_vec(), b"yes".to_vec());
    store.write(b).unwrap();
    drop(store);

    let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
    assert_eq!(store.namespaces(), vec!["empty".to_owned(), "state".to_owned()]);
    assert_eq!(
        store.get("state", &8u32.to_be_bytes()).unwrap(),
        Some(16u32.to_be_bytes().to_vec())
    );
    assert_eq!(store.get("state", &7u32.to_be_bytes()).unwrap(), None);
    assert_eq!(store.get("state", b"memtable only").unwrap(), Some(b"yes".to_vec()));
    assert_eq!(store.scan("state", &Scan::all()).unwrap().len(), 1000);
    assert_eq!(store.scan("empty", &Scan::all()).unwrap(), vec![]);
    // Reads from SST files (after flush) give the same answers as from the memtable.
    let last = store.last_at_or_before("state", &7u32.to_be_bytes(), &[]).unwrap();
    assert_eq!(last.map(|(k, _)| k), Some(6u32.to_be_bytes().to_vec()));
}

#[test]
fn rocks_schema_version_written_and_checked() {
    let (dir, store) = rocks();
    store.ensure_namespace("state").unwrap();
    drop(store);
    // Reopening with the same version works.
    drop(RocksStore::open(dir.path(), RocksConfig::default()).unwrap());

    // Rewrite the stored version behind the store's back.
    let opts = rocksdb::Options::default();
    let cfs = rocksdb::DB::list_cf(&opts, dir.path()).unwrap();
    assert!(cfs.iter().any(|c| c == META_NAMESPACE), "{cfs:?}");
    {
        let db = rocksdb::DB::open_cf(&opts, dir.path(), &cfs).unwrap();
        let meta = db.cf_handle(META_NAMESPACE).unwrap();
        let stored = db.get_cf(&meta, b"schema_version").unwrap().unwrap();
        assert_eq!(stored, SCHEMA_VERSION.to_be_bytes());
        db.put_cf(&meta, b"schema_version", 99u32.to_be_bytes()).unwrap();
    }
    match RocksStore::open(dir.path(), RocksConfig::default()) {
        Err(StorageError::SchemaMismatch { path, found, expected }) => {
            assert_eq!((found, expected), (99, SCHEMA_VERSION));
            assert_eq!(path, dir.path().display().to_string());
        }
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
}

#[test]
fn rocks_store_without_schema_is_version_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = rocksdb::Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    drop(rocksdb::DB::open_cf(&opts, dir.path(), ["foreign"]).unwrap());
    match RocksStore::open(dir.path(), RocksConfig::default()) {
        Err(StorageError::SchemaMismatch { found: 0, expected: SCHEMA_VERSION, .. }) => {}
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
    // And it was left alone: no meta namespace was added.
    let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), dir.path()).unwrap();
    assert!(!cfs.iter().any(|c| c == META_NAMESPACE), "{cfs:?}");
}

#[test]
fn rocks_snapshot_outlives_store() {
    let (dir, store) = rocks();
    store.ensure_namespace("s").unwrap();
    let mut b = WriteBatch::default();
    b.put("s", b"k".to_vec(), b"v".to_vec());
    store.write(b).unwrap();
    let snap = store.snapshot();
    drop(store);
    assert_eq!(snap.get("s", b"k").unwrap(), Some(b"v".to_vec()));
    // The snapshot keeps the database open, so the directory stays locked ...
    assert!(RocksStore::open(dir.path(), RocksConfig::default()).is_err());
    drop(snap);
    // ... until it goes.
    let store = RocksStore::open(dir.path(), RocksConfig::default()).unwrap();
    assert_eq!(store.get("s", b"k").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn snapshots_are_usable_across_threads() {
    let (_dir, store) = rocks();
    store.ensure_namespace("s").unwrap();
    let mut b = WriteBatch::default();
    b.put("s", b"k".to_vec(), b"1".to_vec());
    store.write(b).unwrap();
    let snap: Arc<dyn KvRead> = store.snapshot();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let snap = Arc::clone(&snap);
            std::thread::spawn(move || snap.get("s", b"k").unwrap())
        })
        .collect();
    let mut b = WriteBatch::default();
    b.put("s", b"k".to_vec(), b"2".to_vec());
    store.write(b).unwrap();
    for h in handles {
        assert_eq!(h.join().unwrap(), Some(b"1".to_vec()));
    }
}

#[test]
fn key_range_canonical_form() {
    let inc = |k: &[u8]| Bound::Included(k.to_vec());
    let exc = |k: &[u8]| Bound::Excluded(k.to_vec());
    let r = KeyRange::of(&exc(b"a"), &inc(b"b")).unwrap();
    assert_eq!((r.lower, r.upper), (b"a\x00".to_vec(), Some(b"b\x00".to_vec())));
    assert_eq!(KeyRange::of(&inc(b"b"), &exc(b"b")), None);
    assert_eq!(KeyRange::of(&Bound::Unbounded, &exc(b"")), None);
    assert!(KeyRange::of(&Bound::Unbounded, &Bound::Unbounded).is_some());
    assert_eq!(crate::prefix_successor(b"a\xff"), Some(b"b".to_vec()));
    assert_eq!(crate::prefix_successor(b"\xff\xff"), None);
}

// --- proptest: RocksStore and MemStore agree on random op sequences ---

const NAMESPACES: [&str; 3] = ["n0", "n1", "n2"];

#[derive(Debug, Clone)]
enum Step {
    Ensure(usize),
    /// (namespace, key, Some(value) = put / None = delete)
    Write(Vec<(usize, Vec<u8>, Option<Vec<u8>>)>),
    Snapshot,
    Flush,
    Reopen,
}

#[derive(Debug, Clone)]
enum Query {
    Scan(usize, Bound<Vec<u8>>, Bound<Vec<u8>>, bool, usize),
    Last(usize, Vec<u8>, Vec<u8>),
    Get(usize, Vec<Vec<u8>>),
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0x7f), Just(0xff)], 0..4)
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        key().prop_map(Bound::Included),
        key().prop_map(Bound::Excluded)
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let op =
        (0..3usize, key(), prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), 0..3)));
    prop_oneof![
        2 => (0..3usize).prop_map(Step::Ensure),
        8 => prop::collection::vec(op, 1..8).prop_map(Step::Write),
        1 => Just(Step::Snapshot),
        1 => Just(Step::Flush),
        1 => Just(Step::Reopen),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    prop_oneof![
        (0..3usize, bound(), bound(), any::<bool>(), 0..4usize)
            .prop_map(|(n, f, t, r, l)| Query::Scan(n, f, t, r, l)),
        (0..3usize, key(), key()).prop_map(|(n, k, f)| Query::Last(n, k, f)),
        (0..3usize, prop::collection::vec(key(), 0..4)).prop_map(|(n, ks)| Query::Get(n, ks)),
    ]
}

/// Results with errors reduced to what the contract fixes (the kind and the namespace).
fn answer(store: &dyn KvRead, q: &Query) -> Result<String, String> {
    let err = |e: StorageError| match e {
        StorageError::UnknownNamespace(ns) => format!("unknown {ns}"),
        other => format!("other {other}"),
    };
    Ok(match q {
        Query::Scan(n, from, to, reverse, limit) => {
            let scan =
                Scan { from: from.clone(), to: to.clone(), reverse: *reverse, limit: *limit };
            format!("{:?}", store.scan(NAMESPACES[*n], &scan).map_err(err)?)
        }
        Query::Last(n, k, f) => {
            format!("{:?}", store.last_at_or_before(NAMESPACES[*n], k, f).map_err(err)?)
        }
        Query::Get(n, ks) => {
            let keys: Vec<&[u8]> = ks.iter().map(Vec::as_slice).collect();
            let multi = store.multi_get(NAMESPACES[*n], &keys).map_err(err)?;
            let single: Vec<_> = keys
                .iter()
                .map(|k| store.get(NAMESPACES[*n], k))
                .collect::<Result<_, _>>()
                .map_err(err)?;
            assert_eq!(multi, single, "multi_get and get disagree");
            format!("{multi:?}")
        }
    })
}

fn agree(rocks: &dyn KvRead, mem: &dyn KvRead, queries: &[Query]) -> Result<(), TestCaseError> {
    for n in 0..NAMESPACES.len() {
        let all = Query::Scan(n, Bound::Unbounded, Bound::Unbounded, false, 0);
        prop_assert_eq!(answer(rocks, &all), answer(mem, &all));
    }
    for q in queries {
        prop_assert_eq!(answer(rocks, q), answer(mem, q), "{:?}", q);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rocks_and_mem_agree(
        steps in prop::collection::vec(step(), 1..30),
        queries in prop::collection::vec(query(), 1..30),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let config = RocksConfig { sync: false, ..RocksConfig::default() };
        let mut rocks = RocksStore::open(dir.path(), config.clone()).unwrap();
        let mem = MemStore::new();
        let mut snaps: Vec<(Arc<dyn KvRead>, Arc<dyn KvRead>)> = Vec::new();
        for step in steps {
            match step {
                Step::Ensure(n) => {
                    rocks.ensure_namespace(NAMESPACES[n]).unwrap();
                    mem.ensure_namespace(NAMESPACES[n]).unwrap();
                }
                Step::Write(ops) => {
                    let mut batch = WriteBatch::default();
                    for (n, k, v) in ops {
                        match v {
                            Some(v) => batch.put(NAMESPACES[n], k, v),
                            None => batch.delete(NAMESPACES[n], k),
                        }
                    }
                    let r = rocks.write(batch.clone()).map_err(|e| e.to_string());
                    let m = mem.write(batch).map_err(|e| e.to_string());
                    prop_assert_eq!(r, m);
                }
                Step::Snapshot => snaps.push((rocks.snapshot(), mem.snapshot())),
                Step::Flush => rocks.flush().unwrap(),
                Step::Reopen => {
                    // Snapshots keep the database open; check and release them first.
                    for (r, m) in snaps.drain(..) {
                        agree(&*r, &*m, &queries)?;
                    }
                    drop(rocks);
                    rocks = RocksStore::open(dir.path(), config.clone()).unwrap();
                }
            }
        }
        agree(&rocks, &mem, &queries)?;
        for (r, m) in &snaps {
            agree(&**r, &**m, &queries)?;
        }
    }
}
