//! What readers and the writer agree on: a read cache, the live snapshots and a version
//! counter, all under one lock.
//!
//! The store is its database's only writer, so it knows when the database changes: exactly
//! while one of its writes is in flight. That makes two things cheap and still exact:
//!
//! - **Read cache.** A read that missed may fill the cache only if `version` did not move
//!   while it ran (no write began or ended); a write puts what it wrote into the cache when it
//!   commits, or drops those keys if its outcome is unknown. So the cache never holds a value
//!   older than the last write that returned.
//! - **Snapshots that cost nothing until a write.** A snapshot starts `Unpinned` and reads
//!   the live database (and the cache): nothing has changed since it was taken. A write
//!   first pins every unpinned snapshot, opening a `REPEATABLE READ` transaction for each
//!   before it sends its own, so those transactions see the state the snapshot was taken at.
//!   A read that raced with a write starting is detected (its snapshot is no longer
//!   unpinned when the answer arrives) and repeated inside the pinned transaction.

use std::collections::HashMap;
use std::sync::Arc;

use super::conn::Conn;

use super::sql::TableWrites;
use crate::{Key, Value};

/// Above this many cached bytes the cache starts again empty.
const CACHE_BYTES: usize = 64 << 20;

pub(crate) enum Pin {
    /// Nothing written since the snapshot was taken: read the live database.
    Unpinned,
    /// A write is opening this snapshot's transaction; wait for it.
    Pinning,
    /// Read inside this connection's transaction.
    Pinned(Arc<Conn>),
    /// The transaction could not be opened or was lost; reads fail with this.
    Broken(String),
}

#[derive(Default)]
pub(crate) struct Gate {
    /// Bumped when a data write begins and when it ends.
    pub version: u64,
    /// Data writes in flight.
    pub writing: u32,
    pub snapshots: HashMap<u64, Pin>,
    pub next_snapshot: u64,
    cache: HashMap<String, HashMap<Key, Option<Value>>>,
    cache_bytes: usize,
}

impl Gate {
    /// A cached answer for `key` of `table`: `Some(None)` is a cached absence.
    pub fn cached(&self, table: &str, key: &[u8]) -> Option<Option<Value>> {
        self.cache.get(table)?.get(key).cloned()
    }

    /// Caches what a read found (callers check `version` first).
    pub fn remember(&mut self, table: &str, key: &[u8], value: Option<&Value>) {
        let size = key.len() + value.map_or(0, Vec::len) + 64;
        if self.cache_bytes + size > CACHE_BYTES {
            self.cache.clear();
            self.cache_bytes = 0;
        }
        self.cache_bytes += size;
        self.cache.entry(table.to_owned()).or_default().insert(key.to_vec(), value.cloned());
    }

    /// A committed write: its values are now the database's.
    pub fn apply(&mut self, writes: &[TableWrites]) {
        for w in writes {
            for (k, v) in w.put_keys.iter().zip(&w.put_values) {
                self.remember(&w.table, k, Some(v));
            }
            for k in &w.deletes {
                self.remember(&w.table, k, None);
            }
        }
    }

    /// A write whose outcome is unknown: forget every key it touched.
    pub fn forget(&mut self, writes: &[TableWrites]) {
        for w in writes {
            if let Some(map) = self.cache.get_mut(&w.table) {
                for k in w.put_keys.iter().chain(&w.deletes) {
                    map.remove(k);
                }
            }
        }
    }
}
