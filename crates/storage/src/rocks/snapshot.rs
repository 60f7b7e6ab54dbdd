//! [`RocksSnapshot`]: an owned, `'static` point-in-time view of a [`super::RocksStore`].
//!
//! RocksDB's `SnapshotWithThreadMode<'a, DB>` borrows the database, but `KvStore::snapshot`
//! must return an owned `Arc<dyn KvRead>`. Soundness without `unsafe` in this crate: the
//! snapshot is stored in a [`self_cell`] together with the `Arc<Db>` it borrows. `self_cell`
//! puts the owner on the heap (so moving the cell never moves what the snapshot points at),
//! only hands out the dependent with a lifetime bounded by a borrow of the cell, and drops the
//! dependent before the owner. So the RocksDB snapshot is always released (`Drop` of
//! `SnapshotWithThreadMode`) while the database is still open, and the database closes only
//! when the last store/snapshot `Arc` goes. The dependent type is covariant in its lifetime
//! (it holds `&'a DB` and a raw pointer), which is what `#[covariant]` asserts.
//!
//! Reads go through the database with `ReadOptions::set_snapshot`, so store and snapshot share
//! one implementation ([`super::read::Reader`]).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use super::read::{Cf, Db, DbSnapshot, Reader};
use crate::{Key, KvRead, Result, Scan, StorageError, Value};

self_cell::self_cell!(
    /// The database and a RocksDB snapshot of it.
    struct SnapshotCell {
        owner: Arc<Db>,
        #[covariant]
        dependent: DbSnapshot,
    }
);

/// A consistent view of a [`super::RocksStore`] as of [`KvStore::snapshot`](crate::KvStore).
///
/// Invariants: sees exactly the batches committed before it was taken, and exactly the
/// namespaces that existed then (others are [`StorageError::UnknownNamespace`]). Holding it
/// keeps the database open and pins the versions it sees from compaction, so drop it promptly.
pub struct RocksSnapshot {
    cell: SnapshotCell,
    namespaces: Arc<BTreeSet<String>>,
}

impl fmt::Debug for RocksSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksSnapshot")
            .field("sequence_number", &self.sequence_number())
            .field("namespaces", &self.namespaces)
            .finish()
    }
}

impl RocksSnapshot {
    pub(super) fn new(db: Arc<Db>, namespaces: Arc<BTreeSet<String>>) -> Self {
        RocksSnapshot { cell: SnapshotCell::new(db, |db| db.snapshot()), namespaces }
    }

    /// The RocksDB sequence number the view is pinned at.
    pub fn sequence_number(&self) -> u64 {
        self.cell.borrow_dependent().sequence_number()
    }

    fn reader(&self, ns: &str) -> Result<(Reader<'_>, Cf<'_>)> {
        let db: &Db = self.cell.borrow_owner();
        let unknown = || StorageError::UnknownNamespace(ns.to_owned());
        if !self.namespaces.contains(ns) {
            return Err(unknown());
        }
        let cf = db.cf_handle(ns).ok_or_else(unknown)?;
        Ok((Reader { db, snapshot: Some(self.cell.borrow_dependent()) }, cf))
    }
}

impl KvRead for RocksSnapshot {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>> {
        let (reader, cf) = self.reader(ns)?;
        reader.get(&cf, key)
    }

    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        let (reader, cf) = self.reader(ns)?;
        reader.multi_get(&cf, keys)
    }

    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        let (reader, cf) = self.reader(ns)?;
        reader.scan(&cf, scan)
    }

    fn last_at_or_before(
        &self,
        ns: &str,
        key: &[u8],
        floor: &[u8],
    ) -> Result<Option<(Key, Value)>> {
        let (reader, cf) = self.reader(ns)?;
        reader.last_at_or_before(&cf, key, floor)
    }
}
