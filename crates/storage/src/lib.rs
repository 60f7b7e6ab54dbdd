//! Namespaced, ordered key-value storage with atomic write batches across namespaces.
//! [`KvStore`] is the boundary every other crate uses; `RocksStore` is the default backend,
//! `MemStore` an in-memory one for tests, and a PostgreSQL backend comes later.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use std::ops::Bound;
use std::sync::Arc;

pub type Key = Vec<u8>;
pub type Value = Vec<u8>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The backend failed (IO, corruption, lost connection): alarm, do not answer.
    #[error("storage backend failed: {0}")]
    Backend(String),
    #[error("unknown namespace {0:?}")]
    UnknownNamespace(String),
    #[error("store at {path} has schema version {found}, this build expects {expected}")]
    SchemaMismatch { path: String, found: u32, expected: u32 },
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// One write in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put { ns: String, key: Key, value: Value },
    Delete { ns: String, key: Key },
}

/// Writes applied all-or-nothing, across namespaces.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    pub ops: Vec<Op>,
}

impl WriteBatch {
    pub fn put(&mut self, ns: &str, key: impl Into<Key>, value: impl Into<Value>) {
        self.ops.push(Op::Put { ns: ns.to_owned(), key: key.into(), value: value.into() });
    }
    pub fn delete(&mut self, ns: &str, key: impl Into<Key>) {
        self.ops.push(Op::Delete { ns: ns.to_owned(), key: key.into() });
    }
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// An ordered range scan. Keys compare as bytes.
#[derive(Debug, Clone)]
pub struct Scan {
    pub from: Bound<Key>,
    pub to: Bound<Key>,
    /// Descending order when true.
    pub reverse: bool,
    /// At most this many entries (0 = no limit).
    pub limit: usize,
}

impl Scan {
    /// All keys that start with `prefix`, ascending.
    pub fn prefix(prefix: &[u8]) -> Self {
        let to = match prefix_successor(prefix) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        Scan { from: Bound::Included(prefix.to_vec()), to, reverse: false, limit: 0 }
    }
}

/// The smallest key greater than every key starting with `prefix` (None if there is none).
pub fn prefix_successor(prefix: &[u8]) -> Option<Key> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Read access; a [`KvStore`] and its snapshots both provide it.
pub trait KvRead: Send + Sync {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>>;
    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>>;
    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>>;
    /// The entry with the greatest key `<= key` and `>= floor` (what "value as of height N"
    /// lookups need: one reverse seek).
    fn last_at_or_before(&self, ns: &str, key: &[u8], floor: &[u8]) -> Result<Option<(Key, Value)>>;
}

/// A namespaced ordered store with atomic cross-namespace batches.
pub trait KvStore: KvRead {
    /// Creates the namespace if it does not exist (idempotent).
    fn ensure_namespace(&self, ns: &str) -> Result<()>;
    /// Applies the batch atomically and durably (unless the store was opened with
    /// `sync = false`, a benchmark-only setting).
    fn write(&self, batch: WriteBatch) -> Result<()>;
    /// A consistent point-in-time view that later writes do not change.
    fn snapshot(&self) -> Arc<dyn KvRead>;
}
