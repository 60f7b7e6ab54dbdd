//! Namespaced, ordered key-value storage with atomic write batches across namespaces.
//! [`KvStore`] is the boundary every other crate uses; [`RocksStore`] is the default backend,
//! [`PgStore`] keeps everything in a PostgreSQL database (storage apart from compute), and
//! [`MemStore`] is an in-memory one for tests and in-process use. Every backend must pass the
//! suite in `conformance` (feature `test-utils`; `pg::testing` starts a throwaway server).
//!
//! Namespaces are created explicitly with [`KvStore::ensure_namespace`]; reading or writing a
//! namespace that does not exist is [`StorageError::UnknownNamespace`], never an implicit create.
//! Names that are empty, equal to `default` or start with `__` are reserved for the backend
//! (see [`is_reserved_namespace`]).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use std::ops::Bound;
use std::sync::Arc;

#[cfg(any(test, feature = "test-utils"))]
pub mod conformance;
mod mem;
pub mod pg;
mod rocks;
#[cfg(test)]
mod tests;

pub use mem::{MemSnapshot, MemStore};
pub use pg::{PgConfig, PgSnapshot, PgStore};
pub use rocks::{RocksConfig, RocksSnapshot, RocksStore, SCHEMA_VERSION};

/// The backend's own namespace (schema version and other bookkeeping); never user-visible.
pub const META_NAMESPACE: &str = "__meta";

/// Whether `ns` is reserved for the backend: empty, `default` (RocksDB's built-in column
/// family) or starting with `__` (backend bookkeeping such as [`META_NAMESPACE`]).
/// `ensure_namespace` rejects these with [`StorageError::InvalidNamespace`], and reads and
/// writes of them are [`StorageError::UnknownNamespace`].
pub fn is_reserved_namespace(ns: &str) -> bool {
    ns.is_empty() || ns == "default" || ns.starts_with("__")
}

pub type Key = Vec<u8>;
pub type Value = Vec<u8>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The backend failed (IO, corruption, lost connection): alarm, do not answer.
    #[error("storage backend failed: {0}")]
    Backend(String),
    #[error("unknown namespace {0:?}")]
    UnknownNamespace(String),
    /// `ensure_namespace` was given a reserved name (see [`is_reserved_namespace`]).
    #[error("namespace name {0:?} is reserved")]
    InvalidNamespace(String),
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
    /// Made durable before `write` returns even if the store does not sync every write
    /// (consensus votes: losing one after sending it could make a node vote twice).
    pub durable: bool,
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

    /// Every key, ascending.
    pub fn all() -> Self {
        Scan { from: Bound::Unbounded, to: Bound::Unbounded, reverse: false, limit: 0 }
    }

    /// Keys in `[from, to)`, ascending.
    pub fn range(from: &[u8], to: &[u8]) -> Self {
        Scan {
            from: Bound::Included(from.to_vec()),
            to: Bound::Excluded(to.to_vec()),
            reverse: false,
            limit: 0,
        }
    }

    /// The same range, descending.
    pub fn reversed(mut self) -> Self {
        self.reverse = true;
        self
    }

    /// The same range, at most `limit` entries (0 = no limit).
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}

/// A [`Scan`]'s bounds in canonical form: inclusive `lower`, exclusive `upper` (`None` means
/// unbounded). Invariant: `lower < upper` whenever `upper` is `Some`, so backends can hand the
/// range to `BTreeMap::range` or RocksDB iterator bounds without special cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub lower: Key,
    pub upper: Option<Key>,
}

impl KeyRange {
    /// `None` when the bounds select no key at all (e.g. `from > to`).
    pub(crate) fn of(from: &Bound<Key>, to: &Bound<Key>) -> Option<Self> {
        // The smallest key greater than `k` is `k ++ [0]`, so exclusive/inclusive bounds
        // convert exactly into the inclusive-lower/exclusive-upper form.
        let lower = match from {
            Bound::Unbounded => Vec::new(),
            Bound::Included(k) => k.clone(),
            Bound::Excluded(k) => successor(k),
        };
        let upper = match to {
            Bound::Unbounded => None,
            Bound::Excluded(k) => Some(k.clone()),
            Bound::Included(k) => Some(successor(k)),
        };
        match &upper {
            Some(u) if lower >= *u => None,
            _ => Some(KeyRange { lower, upper }),
        }
    }
}

/// The smallest key strictly greater than `key`.
fn successor(key: &[u8]) -> Key {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
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
///
/// Every method fails with [`StorageError::UnknownNamespace`] when `ns` does not exist (for a
/// snapshot: did not exist when the snapshot was taken).
pub trait KvRead: Send + Sync {
    /// The value stored under `key`, if any.
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>>;
    /// One answer per key, in the order of `keys` (duplicates allowed).
    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>>;
    /// The entries within both bounds, ascending (or descending when `scan.reverse`), at most
    /// `scan.limit` of them (the first ones in scan order). Empty when the bounds are empty.
    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>>;
    /// The entry with the greatest key `<= key` and `>= floor` (what "value as of height N"
    /// lookups need: one reverse seek). `None` when there is none, including `floor > key`.
    fn last_at_or_before(&self, ns: &str, key: &[u8], floor: &[u8])
    -> Result<Option<(Key, Value)>>;
}

/// A namespaced ordered store with atomic cross-namespace batches.
pub trait KvStore: KvRead {
    /// Creates the namespace if it does not exist (idempotent). Reserved names (see
    /// [`is_reserved_namespace`]) fail with [`StorageError::InvalidNamespace`].
    fn ensure_namespace(&self, ns: &str) -> Result<()>;
    /// Applies the batch atomically and durably (unless the store was opened with
    /// `sync = false`, a benchmark-only setting). Ops apply in order, so a later op on the same
    /// key wins. If any op names an unknown namespace nothing is written and the error is
    /// [`StorageError::UnknownNamespace`].
    fn write(&self, batch: WriteBatch) -> Result<()>;
    /// A consistent point-in-time view that later writes do not change.
    fn snapshot(&self) -> Arc<dyn KvRead>;
}
