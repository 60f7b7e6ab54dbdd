//! [`MemStore`]: an in-memory [`KvStore`] with the same semantics as the RocksDB backend, for
//! tests and in-process use (the executor's tests, proptest references). Nothing is persisted.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::{
    Key, KeyRange, KvRead, KvStore, Op, Result, Scan, StorageError, Value, WriteBatch,
    is_reserved_namespace,
};

/// One namespace's entries. Shared copy-on-write between the store and its snapshots.
type Table = Arc<BTreeMap<Key, Value>>;
/// All namespaces by name.
type Tables = BTreeMap<String, Table>;

/// An in-memory store: one ordered map per namespace behind a single lock.
///
/// Invariants: a batch is applied under the write lock after every namespace it names was
/// checked, so readers see all of a batch or none of it. A snapshot clones the namespace map
/// (one `Arc` per namespace); the first write to a namespace after a snapshot copies that
/// namespace's map, so snapshots never observe later writes.
#[derive(Debug, Default)]
pub struct MemStore {
    tables: RwLock<Tables>,
}

impl MemStore {
    /// An empty store with no namespaces.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with the given namespaces already created.
    pub fn with_namespaces(namespaces: &[&str]) -> Result<Self> {
        let store = Self::new();
        for ns in namespaces {
            store.ensure_namespace(ns)?;
        }
        Ok(store)
    }

    /// The user namespaces, sorted.
    pub fn namespaces(&self) -> Vec<String> {
        self.tables.read().keys().cloned().collect()
    }
}

/// A point-in-time view of a [`MemStore`].
#[derive(Debug, Clone)]
pub struct MemSnapshot {
    tables: Tables,
}

impl KvRead for MemStore {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>> {
        get(&self.tables.read(), ns, key)
    }

    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        multi_get(&self.tables.read(), ns, keys)
    }

    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        scan_table(&self.tables.read(), ns, scan)
    }

    fn last_at_or_before(
        &self,
        ns: &str,
        key: &[u8],
        floor: &[u8],
    ) -> Result<Option<(Key, Value)>> {
        last_at_or_before(&self.tables.read(), ns, key, floor)
    }
}

impl KvStore for MemStore {
    fn ensure_namespace(&self, ns: &str) -> Result<()> {
        if is_reserved_namespace(ns) {
            return Err(StorageError::InvalidNamespace(ns.to_owned()));
        }
        self.tables.write().entry(ns.to_owned()).or_default();
        Ok(())
    }

    fn write(&self, batch: WriteBatch) -> Result<()> {
        let mut tables = self.tables.write();
        // Validate first so a bad batch leaves the store untouched.
        for op in &batch.ops {
            let ns = match op {
                Op::Put { ns, .. } | Op::Delete { ns, .. } => ns,
            };
            if !tables.contains_key(ns) {
                return Err(StorageError::UnknownNamespace(ns.clone()));
            }
        }
        for op in batch.ops {
            match op {
                Op::Put { ns, key, value } => {
                    if let Some(table) = tables.get_mut(&ns) {
                        Arc::make_mut(table).insert(key, value);
                    }
                }
                Op::Delete { ns, key } => {
                    if let Some(table) = tables.get_mut(&ns) {
                        // Skip the copy-on-write clone when there is nothing to delete.
                        if table.contains_key(&key) {
                            Arc::make_mut(table).remove(&key);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn snapshot(&self) -> Arc<dyn KvRead> {
        Arc::new(MemSnapshot { tables: self.tables.read().clone() })
    }
}

impl KvRead for MemSnapshot {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>> {
        get(&self.tables, ns, key)
    }

    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        multi_get(&self.tables, ns, keys)
    }

    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        scan_table(&self.tables, ns, scan)
    }

    fn last_at_or_before(
        &self,
        ns: &str,
        key: &[u8],
        floor: &[u8],
    ) -> Result<Option<(Key, Value)>> {
        last_at_or_before(&self.tables, ns, key, floor)
    }
}

fn table<'a>(tables: &'a Tables, ns: &str) -> Result<&'a BTreeMap<Key, Value>> {
    tables.get(ns).map(|t| &**t).ok_or_else(|| StorageError::UnknownNamespace(ns.to_owned()))
}

fn get(tables: &Tables, ns: &str, key: &[u8]) -> Result<Option<Value>> {
    Ok(table(tables, ns)?.get(key).cloned())
}

fn multi_get(tables: &Tables, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
    let table = table(tables, ns)?;
    Ok(keys.iter().map(|k| table.get(*k).cloned()).collect())
}

fn scan_table(tables: &Tables, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
    let table = table(tables, ns)?;
    // `KeyRange` guarantees lower < upper, so `BTreeMap::range` cannot panic.
    let Some(range) = KeyRange::of(&scan.from, &scan.to) else {
        return Ok(Vec::new());
    };
    let upper = match range.upper {
        Some(u) => Bound::Excluded(u),
        None => Bound::Unbounded,
    };
    let iter = table.range((Bound::Included(range.lower), upper));
    let limit = if scan.limit == 0 { usize::MAX } else { scan.limit };
    let pairs = |(k, v): (&Key, &Value)| (k.clone(), v.clone());
    Ok(if scan.reverse {
        iter.rev().take(limit).map(pairs).collect()
    } else {
        iter.take(limit).map(pairs).collect()
    })
}

fn last_at_or_before(
    tables: &Tables,
    ns: &str,
    key: &[u8],
    floor: &[u8],
) -> Result<Option<(Key, Value)>> {
    let table = table(tables, ns)?;
    if floor > key {
        return Ok(None);
    }
    let range = (Bound::Included(floor), Bound::Included(key));
    Ok(table.range::<[u8], _>(range).next_back().map(|(k, v)| (k.clone(), v.clone())))
}
