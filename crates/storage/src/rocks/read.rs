//! Reads shared by [`super::RocksStore`] and [`super::RocksSnapshot`]: the same code runs
//! against the live database or, with `ReadOptions::set_snapshot`, against a snapshot.

use std::sync::Arc;

use rocksdb::{
    BoundColumnFamily, DBWithThreadMode, MultiThreaded, ReadOptions, SnapshotWithThreadMode,
};

use crate::{Key, KeyRange, Result, Scan, StorageError, Value};

/// The database type: multi-threaded column-family mode, so `create_cf` takes `&self`.
pub(crate) type Db = DBWithThreadMode<MultiThreaded>;
/// A RocksDB snapshot borrowing the database.
pub(crate) type DbSnapshot<'a> = SnapshotWithThreadMode<'a, Db>;
/// A column family handle borrowing the database.
pub(crate) type Cf<'a> = Arc<BoundColumnFamily<'a>>;

pub(crate) fn backend(e: rocksdb::Error) -> StorageError {
    StorageError::Backend(e.into_string())
}

/// The database plus, optionally, the snapshot every read goes through.
pub(crate) struct Reader<'a> {
    pub db: &'a Db,
    pub snapshot: Option<&'a DbSnapshot<'a>>,
}

impl<'a> Reader<'a> {
    fn opts(&self) -> ReadOptions {
        let mut opts = ReadOptions::default();
        if let Some(snapshot) = self.snapshot {
            // The options only carry the snapshot's pointer; `self` borrows the snapshot for
            // longer than any read issued through these options.
            opts.set_snapshot(snapshot);
        }
        opts
    }

    pub fn get(&self, cf: &Cf<'_>, key: &[u8]) -> Result<Option<Value>> {
        let value = self.db.get_pinned_cf_opt(cf, key, &self.opts()).map_err(backend)?;
        Ok(value.map(|v| v.to_vec()))
    }

    pub fn multi_get(&self, cf: &Cf<'_>, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        let opts = self.opts();
        self.db
            .batched_multi_get_cf_opt(cf, keys.iter(), false, &opts)
            .into_iter()
            .map(|r| r.map(|v| v.map(|v| v.to_vec())).map_err(backend))
            .collect()
    }

    /// One bounded raw iterator: the bounds go into `ReadOptions` so RocksDB stops at them
    /// (and skips tombstones past them) instead of us filtering afterwards.
    pub fn scan(&self, cf: &Cf<'_>, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        let Some(range) = KeyRange::of(&scan.from, &scan.to) else {
            return Ok(Vec::new());
        };
        let mut opts = self.opts();
        opts.set_iterate_lower_bound(range.lower.clone());
        if let Some(upper) = &range.upper {
            opts.set_iterate_upper_bound(upper.clone());
        }
        let mut iter = self.db.raw_iterator_cf_opt(cf, opts);
        if scan.reverse {
            match &range.upper {
                // The upper bound is exclusive: step off it if it exists.
                Some(upper) => {
                    iter.seek_for_prev(upper);
                    if iter.key() == Some(upper.as_slice()) {
                        iter.prev();
                    }
                }
                None => iter.seek_to_last(),
            }
        } else {
            iter.seek(&range.lower);
        }
        let limit = if scan.limit == 0 { usize::MAX } else { scan.limit };
        let mut out = Vec::new();
        while out.len() < limit {
            let Some((k, v)) = iter.item() else { break };
            out.push((k.to_vec(), v.to_vec()));
            if scan.reverse {
                iter.prev();
            } else {
                iter.next();
            }
        }
        iter.status().map_err(backend)?;
        Ok(out)
    }

    /// One `seek_for_prev(key)` with `floor` as the iterator's lower bound.
    pub fn last_at_or_before(
        &self,
        cf: &Cf<'_>,
        key: &[u8],
        floor: &[u8],
    ) -> Result<Option<(Key, Value)>> {
        if floor > key {
            return Ok(None);
        }
        let mut opts = self.opts();
        opts.set_iterate_lower_bound(floor.to_vec());
        let mut iter = self.db.raw_iterator_cf_opt(cf, opts);
        iter.seek_for_prev(key);
        let found = match iter.item() {
            Some((k, v)) if k >= floor && k <= key => Some((k.to_vec(), v.to_vec())),
            _ => None,
        };
        iter.status().map_err(backend)?;
        Ok(found)
    }
}
