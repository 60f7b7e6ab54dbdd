//! The node's store with its latency and failures recorded (`aurum_storage_*`): every
//! read and write of every group goes through here, snapshots included.

use aurum_metrics::storage::{Read, Storage};
use aurum_storage::{Key, KvRead, KvStore, Result, Scan, StorageError, Value, WriteBatch};
use std::sync::Arc;
use std::time::Instant;

/// Only a failing backend counts as an error; an unknown namespace is the caller's doing.
fn ok<T>(r: &Result<T>) -> bool {
    !matches!(r, Err(StorageError::Backend(_)))
}

/// Times the reads of `inner`.
struct Reads<R: ?Sized> {
    inner: Arc<R>,
    metrics: Arc<Storage>,
}

impl<R: KvRead + ?Sized> Reads<R> {
    fn timed<T>(&self, op: Read, f: impl FnOnce(&R) -> Result<T>) -> Result<T> {
        let started = Instant::now();
        let r = f(&self.inner);
        self.metrics.read(op, started.elapsed(), ok(&r));
        r
    }
}

impl<R: KvRead + ?Sized> KvRead for Reads<R> {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>> {
        self.timed(Read::Get, |s| s.get(ns, key))
    }
    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        self.timed(Read::MultiGet, |s| s.multi_get(ns, keys))
    }
    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        self.timed(Read::Scan, |s| s.scan(ns, scan))
    }
    fn last_at_or_before(
        &self,
        ns: &str,
        key: &[u8],
        floor: &[u8],
    ) -> Result<Option<(Key, Value)>> {
        self.timed(Read::Seek, |s| s.last_at_or_before(ns, key, floor))
    }
}

/// A [`KvStore`] whose calls are recorded in `metrics`.
pub(crate) struct MeteredStore(Reads<dyn KvStore>);

impl MeteredStore {
    pub fn wrap(inner: Arc<dyn KvStore>, metrics: Arc<Storage>) -> Arc<dyn KvStore> {
        Arc::new(MeteredStore(Reads { inner, metrics }))
    }
}

impl KvRead for MeteredStore {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>> {
        self.0.get(ns, key)
    }
    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        self.0.multi_get(ns, keys)
    }
    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        self.0.scan(ns, scan)
    }
    fn last_at_or_before(
        &self,
        ns: &str,
        key: &[u8],
        floor: &[u8],
    ) -> Result<Option<(Key, Value)>> {
        self.0.last_at_or_before(ns, key, floor)
    }
}

impl KvStore for MeteredStore {
    fn ensure_namespace(&self, ns: &str) -> Result<()> {
        self.0.inner.ensure_namespace(ns)
    }
    fn write(&self, batch: WriteBatch) -> Result<()> {
        let bytes = batch
            .ops
            .iter()
            .map(|op| match op {
                aurum_storage::Op::Put { key, value, .. } => key.len() + value.len(),
                aurum_storage::Op::Delete { key, .. } => key.len(),
            })
            .sum();
        let started = Instant::now();
        let r = self.0.inner.write(batch);
        self.0.metrics.write(bytes, started.elapsed(), ok(&r));
        r
    }
    fn snapshot(&self) -> Arc<dyn KvRead> {
        Arc::new(Reads { inner: self.0.inner.snapshot(), metrics: Arc::clone(&self.0.metrics) })
    }
}
