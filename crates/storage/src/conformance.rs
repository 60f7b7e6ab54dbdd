//! The behaviour every [`KvStore`] backend must have, as one suite over `&dyn KvStore`.
//! Each check uses its own namespaces, so [`run_all`] can run on one fresh store. Checks
//! panic (assert) on a semantic mismatch and return `Err` when the backend fails.
// Test utility: failing loudly is the point.
#![allow(clippy::panic)]

use std::ops::Bound;

use crate::{KvStore, Result, Scan, StorageError, WriteBatch};

/// Runs every check on `store`, which must not yet have namespaces named `cf_*`.
pub fn run_all(store: &dyn KvStore) -> Result<()> {
    get_put_delete(store)?;
    multi_get(store)?;
    atomic_cross_namespace_batch(store)?;
    scans(store)?;
    last_at_or_before_edges(store)?;
    snapshot_isolation(store)?;
    unknown_and_reserved_namespaces(store)?;
    Ok(())
}

fn kv(k: &[u8], v: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (k.to_vec(), v.to_vec())
}

/// Put, overwrite, delete, delete of a missing key, last op on a key in a batch wins.
pub fn get_put_delete(store: &dyn KvStore) -> Result<()> {
    let ns = "cf_basic";
    store.ensure_namespace(ns)?;
    store.ensure_namespace(ns)?; // idempotent
    assert_eq!(store.get(ns, b"a")?, None);
    let mut b = WriteBatch::default();
    b.put(ns, b"a".to_vec(), b"1".to_vec());
    b.put(ns, Vec::new(), b"empty key".to_vec());
    store.write(b)?;
    assert_eq!(store.get(ns, b"a")?, Some(b"1".to_vec()));
    assert_eq!(store.get(ns, b"")?, Some(b"empty key".to_vec()));
    let mut b = WriteBatch::default();
    b.put(ns, b"a".to_vec(), b"2".to_vec());
    b.put(ns, b"b".to_vec(), Vec::new());
    store.write(b)?;
    assert_eq!(store.get(ns, b"a")?, Some(b"2".to_vec()));
    assert_eq!(store.get(ns, b"b")?, Some(Vec::new()), "empty value is not absence");
    let mut b = WriteBatch::default();
    b.delete(ns, b"a".to_vec());
    b.delete(ns, b"never".to_vec());
    b.put(ns, b"c".to_vec(), b"x".to_vec());
    b.delete(ns, b"c".to_vec());
    b.delete(ns, b"d".to_vec());
    b.put(ns, b"d".to_vec(), b"y".to_vec());
    store.write(b)?;
    assert_eq!(store.get(ns, b"a")?, None);
    assert_eq!(store.get(ns, b"c")?, None, "delete after put in one batch wins");
    assert_eq!(store.get(ns, b"d")?, Some(b"y".to_vec()), "put after delete in one batch wins");
    store.write(WriteBatch::default())?; // empty batch is a no-op
    Ok(())
}

/// Answers in key order, duplicates and misses included.
pub fn multi_get(store: &dyn KvStore) -> Result<()> {
    let ns = "cf_multi";
    store.ensure_namespace(ns)?;
    let mut b = WriteBatch::default();
    for i in 0u8..50 {
        b.put(ns, vec![i], vec![i, i]);
    }
    store.write(b)?;
    let keys: Vec<&[u8]> = vec![&[49], &[7], &[200], &[7], &[0]];
    let got = store.multi_get(ns, &keys)?;
    assert_eq!(
        got,
        vec![Some(vec![49, 49]), Some(vec![7, 7]), None, Some(vec![7, 7]), Some(vec![0, 0])]
    );
    assert_eq!(store.multi_get(ns, &[])?, Vec::<Option<Vec<u8>>>::new());
    Ok(())
}

/// A batch spanning namespaces applies whole; one naming an unknown namespace applies nothing.
pub fn atomic_cross_namespace_batch(store: &dyn KvStore) -> Result<()> {
    let (a, b) = ("cf_atomic_a", "cf_atomic_b");
    store.ensure_namespace(a)?;
    store.ensure_namespace(b)?;
    let mut batch = WriteBatch::default();
    batch.put(a, b"k".to_vec(), b"1".to_vec());
    batch.put(b, b"k".to_vec(), b"1".to_vec());
    store.write(batch)?;
    assert_eq!(store.get(a, b"k")?, Some(b"1".to_vec()));
    assert_eq!(store.get(b, b"k")?, Some(b"1".to_vec()));

    let mut bad = WriteBatch::default();
    bad.put(a, b"k".to_vec(), b"2".to_vec());
    bad.delete(b, b"k".to_vec());
    bad.put("cf_atomic_missing", b"k".to_vec(), b"2".to_vec());
    match store.write(bad) {
        Err(StorageError::UnknownNamespace(ns)) => assert_eq!(ns, "cf_atomic_missing"),
        other => panic!("batch with unknown namespace: {other:?}"),
    }
    assert_eq!(store.get(a, b"k")?, Some(b"1".to_vec()), "rejected batch wrote namespace a");
    assert_eq!(store.get(b, b"k")?, Some(b"1".to_vec()), "rejected batch wrote namespace b");
    Ok(())
}

/// Prefix and range scans, both directions, limits, inclusive/exclusive/empty bounds.
pub fn scans(store: &dyn KvStore) -> Result<()> {
    let ns = "cf_scan";
    store.ensure_namespace(ns)?;
    let keys: [&[u8]; 9] =
        [b"a", b"ab", b"ab\x00", b"abc", b"abd", b"ab\xff", b"ab\xff\xff", b"ac", b"\xff\xff"];
    let mut b = WriteBatch::default();
    for k in keys {
        b.put(ns, k.to_vec(), [k, b"!"].concat());
    }
    store.write(b)?;
    let ks = |v: Vec<(Vec<u8>, Vec<u8>)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    let owned = |ks: &[&[u8]]| ks.iter().map(|k| k.to_vec()).collect::<Vec<_>>();

    let prefix_ab = owned(&[b"ab", b"ab\x00", b"abc", b"abd", b"ab\xff", b"ab\xff\xff"]);
    let got = store.scan(ns, &Scan::prefix(b"ab"))?;
    assert_eq!(got[0], kv(b"ab", b"ab!"), "values come with keys");
    assert_eq!(ks(got), prefix_ab);
    let mut rev = prefix_ab.clone();
    rev.reverse();
    assert_eq!(ks(store.scan(ns, &Scan::prefix(b"ab").reversed())?), rev);
    assert_eq!(ks(store.scan(ns, &Scan::prefix(b"ab").with_limit(2))?), prefix_ab[..2].to_vec());
    assert_eq!(
        ks(store.scan(ns, &Scan::prefix(b"ab").reversed().with_limit(2))?),
        rev[..2].to_vec()
    );
    assert_eq!(ks(store.scan(ns, &Scan::prefix(b"ab").with_limit(100))?), prefix_ab);
    assert_eq!(ks(store.scan(ns, &Scan::prefix(b"\xff\xff"))?), owned(&[b"\xff\xff"]));
    assert_eq!(store.scan(ns, &Scan::prefix(b"zz"))?, vec![]);
    assert_eq!(ks(store.scan(ns, &Scan::prefix(b""))?).len(), keys.len());
    assert_eq!(ks(store.scan(ns, &Scan::all().reversed().with_limit(1))?), owned(&[b"\xff\xff"]));

    let range = |from, to, reverse| Scan { from, to, reverse, limit: 0 };
    let inc = |k: &[u8]| Bound::Included(k.to_vec());
    let exc = |k: &[u8]| Bound::Excluded(k.to_vec());
    for reverse in [false, true] {
        let check = |scan: Scan, expect: &[&[u8]]| -> Result<()> {
            let mut expect = owned(expect);
            if reverse {
                expect.reverse();
            }
            assert_eq!(ks(store.scan(ns, &scan)?), expect, "{scan:?}");
            Ok(())
        };
        check(range(inc(b"ab"), inc(b"abd"), reverse), &[b"ab", b"ab\x00", b"abc", b"abd"])?;
        check(range(exc(b"ab"), exc(b"abd"), reverse), &[b"ab\x00", b"abc"])?;
        check(range(exc(b"ab"), inc(b"abd"), reverse), &[b"ab\x00", b"abc", b"abd"])?;
        check(
            range(inc(b"ab\xff"), Bound::Unbounded, reverse),
            &[b"ab\xff", b"ab\xff\xff", b"ac", b"\xff\xff"],
        )?;
        check(range(Bound::Unbounded, exc(b"ab"), reverse), &[b"a"])?;
        check(range(inc(b"abc"), inc(b"abc"), reverse), &[b"abc"])?;
        check(range(inc(b"abc"), exc(b"abc"), reverse), &[])?;
        check(range(exc(b"abc"), exc(b"abc"), reverse), &[])?;
        check(range(exc(b"abc"), inc(b"abc"), reverse), &[])?;
        check(range(inc(b"b"), inc(b"a"), reverse), &[])?; // from > to is empty, not a panic
        check(range(Bound::Unbounded, exc(b""), reverse), &[])?;
        check(range(exc(b"ab"), exc(b"ab\x00"), reverse), &[])?;
    }
    Ok(())
}

/// Exact hit, key before floor, empty namespace, floor boundary, floor above key.
pub fn last_at_or_before_edges(store: &dyn KvStore) -> Result<()> {
    let ns = "cf_history";
    store.ensure_namespace(ns)?;
    assert_eq!(store.last_at_or_before(ns, b"k\x05", b"k")?, None, "empty namespace");
    let mut b = WriteBatch::default();
    for (k, v) in
        [(&b"j\x09"[..], &b"j9"[..]), (b"k\x02", b"2"), (b"k\x05", b"5"), (b"l\x01", b"l1")]
    {
        b.put(ns, k.to_vec(), v.to_vec());
    }
    store.write(b)?;
    let q = |key: &[u8], floor: &[u8]| store.last_at_or_before(ns, key, floor);
    assert_eq!(q(b"k\x05", b"k")?, Some(kv(b"k\x05", b"5")), "exact hit");
    assert_eq!(q(b"k\x04", b"k")?, Some(kv(b"k\x02", b"2")), "between entries");
    assert_eq!(q(b"k\xff", b"k")?, Some(kv(b"k\x05", b"5")), "past the last entry");
    assert_eq!(q(b"k\x01", b"k")?, None, "key before the first entry above floor");
    assert_eq!(q(b"k\x01", b"")?, Some(kv(b"j\x09", b"j9")), "no floor reaches other keys");
    assert_eq!(q(b"k\x02", b"k\x02")?, Some(kv(b"k\x02", b"2")), "entry at floor counts");
    assert_eq!(q(b"k\x04", b"k\x03")?, None, "entry below floor does not");
    assert_eq!(q(b"k\x02", b"k\x03")?, None, "floor above key");
    assert_eq!(q(b"z", b"")?, Some(kv(b"l\x01", b"l1")), "last key overall");
    assert_eq!(q(b"", b"")?, None);
    Ok(())
}

/// Writes, deletes and namespaces created after a snapshot are invisible to it.
pub fn snapshot_isolation(store: &dyn KvStore) -> Result<()> {
    let ns = "cf_snap";
    store.ensure_namespace(ns)?;
    let mut b = WriteBatch::default();
    b.put(ns, b"a".to_vec(), b"1".to_vec());
    b.put(ns, b"b".to_vec(), b"1".to_vec());
    store.write(b)?;
    let snap = store.snapshot();
    let mut b = WriteBatch::default();
    b.put(ns, b"a".to_vec(), b"2".to_vec());
    b.delete(ns, b"b".to_vec());
    b.put(ns, b"c".to_vec(), b"2".to_vec());
    store.write(b)?;
    store.ensure_namespace("cf_snap_later")?;

    assert_eq!(snap.get(ns, b"a")?, Some(b"1".to_vec()));
    assert_eq!(snap.get(ns, b"b")?, Some(b"1".to_vec()));
    assert_eq!(snap.get(ns, b"c")?, None);
    assert_eq!(
        snap.multi_get(ns, &[b"a", b"b", b"c"])?,
        vec![Some(b"1".to_vec()), Some(b"1".to_vec()), None]
    );
    assert_eq!(snap.scan(ns, &Scan::all())?, vec![kv(b"a", b"1"), kv(b"b", b"1")]);
    assert_eq!(snap.scan(ns, &Scan::all().reversed().with_limit(1))?, vec![kv(b"b", b"1")]);
    assert_eq!(snap.last_at_or_before(ns, b"z", b"")?, Some(kv(b"b", b"1")));
    assert!(matches!(snap.get("cf_snap_later", b"a"), Err(StorageError::UnknownNamespace(_))));

    assert_eq!(store.get(ns, b"a")?, Some(b"2".to_vec()));
    assert_eq!(store.scan(ns, &Scan::all())?, vec![kv(b"a", b"2"), kv(b"c", b"2")]);
    drop(snap);
    Ok(())
}

/// Every operation on a missing or reserved namespace fails with the right error.
pub fn unknown_and_reserved_namespaces(store: &dyn KvStore) -> Result<()> {
    let unknown = |r: Result<()>, ns: &str| match r {
        Err(StorageError::UnknownNamespace(n)) => assert_eq!(n, ns),
        other => panic!("{ns}: expected UnknownNamespace, got {other:?}"),
    };
    for ns in ["cf_nope", "__meta", "default", ""] {
        unknown(store.get(ns, b"k").map(drop), ns);
        unknown(store.multi_get(ns, &[b"k"]).map(drop), ns);
        unknown(store.scan(ns, &Scan::all()).map(drop), ns);
        unknown(store.last_at_or_before(ns, b"k", b"").map(drop), ns);
        let mut b = WriteBatch::default();
        b.put(ns, b"k".to_vec(), b"v".to_vec());
        unknown(store.write(b), ns);
        unknown(store.snapshot().get(ns, b"k").map(drop), ns);
    }
    for ns in ["__meta", "__anything", "default", ""] {
        match store.ensure_namespace(ns) {
            Err(StorageError::InvalidNamespace(n)) => assert_eq!(n, ns),
            other => panic!("ensure_namespace({ns:?}): {other:?}"),
        }
    }
    Ok(())
}
