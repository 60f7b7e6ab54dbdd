//! [`PgSnapshot`]: reads the live database (through the cache) until a write begins; the
//! write first pins it to a `REPEATABLE READ` transaction on a connection of its own (see
//! `gate`). Dropping a pinned snapshot rolls its transaction back and keeps the connection
//! for the next one.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use super::conn::{Conn, Failure, read_patience};
use super::gate::Pin;
use super::sql::{self, Answer, Read};
use super::{IDLE_SNAPSHOT_CONNECTIONS, Inner, answer_mismatch};
use crate::{Key, KeyRange, KvRead, Result, Scan, StorageError, Value};

/// Sent as one simple query: the snapshot is fixed by the `SELECT`, before this returns.
const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1";

/// A consistent view of a [`super::PgStore`] as of when it was taken.
pub struct PgSnapshot {
    inner: Arc<Inner>,
    id: u64,
    namespaces: Arc<BTreeSet<String>>,
}

impl PgSnapshot {
    pub(super) fn open(inner: Arc<Inner>) -> Self {
        let namespaces = inner.namespaces.read().clone();
        let mut gate = inner.gate.lock();
        let id = gate.next_snapshot;
        gate.next_snapshot += 1;
        if gate.writing == 0 {
            gate.snapshots.insert(id, Pin::Unpinned);
            drop(gate);
            return PgSnapshot { inner, id, namespaces };
        }
        // A write is in flight: the database may change under us any moment, so take the
        // transaction now (it shows the state before or after that write, both consistent).
        gate.snapshots.insert(id, Pin::Pinning);
        drop(gate);
        let pinned = inner.retry.run("snapshot", read_patience(), || begin(&inner));
        settle(&inner, id, pinned);
        PgSnapshot { inner, id, namespaces }
    }

    fn read(&self, ns: &str, req: Read) -> Result<Answer> {
        if crate::is_reserved_namespace(ns) || !self.namespaces.contains(ns) {
            return Err(StorageError::UnknownNamespace(ns.to_owned()));
        }
        let table = sql::table_name(ns);
        let inner = &self.inner;
        let patience = read_patience();
        let started = Instant::now();
        loop {
            let mut gate = inner.gate.lock();
            match gate.snapshots.get(&self.id) {
                Some(Pin::Unpinned) => {
                    if let Some(hit) = super::cache_hit(&gate, &table, &req) {
                        return Ok(hit);
                    }
                    let version = gate.version;
                    drop(gate);
                    let answer = inner.read_db(&table, &req)?;
                    let mut gate = inner.gate.lock();
                    if matches!(gate.snapshots.get(&self.id), Some(Pin::Unpinned)) {
                        if gate.version == version {
                            super::fill_cache(&mut gate, &table, &req, &answer);
                        }
                        return Ok(answer);
                    }
                    // A write began meanwhile: read again inside the pinned transaction.
                }
                Some(Pin::Pinning) => {
                    let waited = match patience {
                        Some(p) => {
                            let left = p.saturating_sub(started.elapsed());
                            inner.changed.wait_for(&mut gate, left).timed_out()
                        }
                        None => {
                            inner.changed.wait(&mut gate);
                            false
                        }
                    };
                    if waited && matches!(gate.snapshots.get(&self.id), Some(Pin::Pinning)) {
                        return Err(StorageError::Backend(format!(
                            "storage unavailable: snapshot of {} not ready",
                            inner.retry.target
                        )));
                    }
                }
                Some(Pin::Pinned(client)) => {
                    let client = Arc::clone(client);
                    drop(gate);
                    return self.read_pinned(client, table, req);
                }
                Some(Pin::Broken(why)) => return Err(StorageError::Backend(why.clone())),
                None => return Err(StorageError::Backend("snapshot released".into())),
            }
        }
    }

    /// A read inside the snapshot's transaction: no retry, as a new connection could not
    /// show the same state once writes have run.
    fn read_pinned(&self, client: Arc<Conn>, table: String, req: Read) -> Result<Answer> {
        let outcome = match self.inner.io.block(sql::read(client, table, req)) {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(e)) => Failure::from(e),
            Err(f) => f,
        };
        let why = match outcome {
            Failure::Transient(t) => format!(
                "storage unavailable: snapshot lost with its connection to {}: {t}",
                self.inner.retry.target
            ),
            Failure::Fatal(e) => return Err(e),
        };
        self.inner.gate.lock().snapshots.insert(self.id, Pin::Broken(why.clone()));
        Err(StorageError::Backend(why))
    }
}

/// A connection (idle or new) with a repeatable-read transaction open on it.
pub(super) fn begin(inner: &Inner) -> Result<Arc<Conn>, Failure> {
    let reused = inner.idle.lock().pop();
    let client = match reused {
        Some(c) if !c.is_closed() => c,
        _ => inner.io.connect(&inner.config)?,
    };
    let c = Arc::clone(&client);
    inner.io.block(async move { c.batch_execute(BEGIN_SNAPSHOT).await })??;
    Ok(client)
}

/// Records how pinning snapshot `id` went; a snapshot dropped meanwhile gives its
/// connection back.
pub(super) fn settle(inner: &Inner, id: u64, pinned: Result<Arc<Conn>>) {
    let mut gate = inner.gate.lock();
    let state = match pinned {
        Ok(client) => Pin::Pinned(client),
        Err(e) => Pin::Broken(e.to_string()),
    };
    match gate.snapshots.get_mut(&id) {
        Some(slot) => *slot = state,
        None => {
            if let Pin::Pinned(client) = state {
                release(inner, client);
            }
        }
    }
    drop(gate);
    inner.changed.notify_all();
}

/// Ends a snapshot's transaction and keeps its connection for a later one.
fn release(inner: &Inner, client: Arc<Conn>) {
    let idle = Arc::clone(&inner.idle);
    inner.io.detach(async move {
        if client.batch_execute("ROLLBACK").await.is_ok() {
            let mut idle = idle.lock();
            if idle.len() < IDLE_SNAPSHOT_CONNECTIONS {
                idle.push(client);
            }
        }
    });
}

impl Drop for PgSnapshot {
    fn drop(&mut self) {
        let state = self.inner.gate.lock().snapshots.remove(&self.id);
        if let Some(Pin::Pinned(client)) = state {
            release(&self.inner, client);
        }
    }
}

impl KvRead for PgSnapshot {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>> {
        match self.read(ns, Read::Get(key.to_vec()))? {
            Answer::One(v) => Ok(v),
            _ => Err(answer_mismatch()),
        }
    }

    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        let keys = keys.iter().map(|k| k.to_vec()).collect();
        match self.read(ns, Read::Multi(keys))? {
            Answer::Many(v) => Ok(v),
            _ => Err(answer_mismatch()),
        }
    }

    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        if crate::is_reserved_namespace(ns) || !self.namespaces.contains(ns) {
            return Err(StorageError::UnknownNamespace(ns.to_owned()));
        }
        let Some(range) = KeyRange::of(&scan.from, &scan.to) else { return Ok(Vec::new()) };
        match self.read(ns, Read::Scan { range, reverse: scan.reverse, limit: scan.limit })? {
            Answer::Entries(v) => Ok(v),
            _ => Err(answer_mismatch()),
        }
    }

    fn last_at_or_before(
        &self,
        ns: &str,
        key: &[u8],
        floor: &[u8],
    ) -> Result<Option<(Key, Value)>> {
        if crate::is_reserved_namespace(ns) || !self.namespaces.contains(ns) {
            return Err(StorageError::UnknownNamespace(ns.to_owned()));
        }
        if floor > key {
            return Ok(None);
        }
        match self.read(ns, Read::Last { key: key.to_vec(), floor: floor.to_vec() })? {
            Answer::Entry(v) => Ok(v),
            _ => Err(answer_mismatch()),
        }
    }
}
