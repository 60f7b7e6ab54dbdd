//! [`PgSnapshot`]: a `REPEATABLE READ` transaction on a connection of its own, opened when
//! the snapshot is taken and rolled back when it is dropped (the connection then serves the
//! next snapshot).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use parking_lot::Mutex;
use tokio_postgres::Client;

use super::conn::{Failure, read_patience};
use super::sql::{self, Answer, Read};
use super::{IDLE_SNAPSHOT_CONNECTIONS, Inner, answer_mismatch};
use crate::{Key, KeyRange, KvRead, Result, Scan, StorageError, Value};

/// Sent as one simple query: the snapshot is fixed by the `SELECT`, before this returns.
const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1";

/// A consistent view of a [`super::PgStore`] as of when it was taken.
pub struct PgSnapshot {
    inner: Arc<Inner>,
    namespaces: Arc<BTreeSet<String>>,
    client: Mutex<Option<Arc<Client>>>,
    /// `writes_started` when taken, if no write was in flight then: while no write has
    /// started since, the database still holds exactly this view, so a lost connection can
    /// be replaced by a new transaction.
    quiet_at: Option<u64>,
    /// Why the snapshot could not be taken (every read then fails with it).
    broken: Option<String>,
}

impl PgSnapshot {
    pub(super) fn open(inner: Arc<Inner>) -> Self {
        let namespaces = inner.namespaces.read().clone();
        let started = inner.writes_started.load(Ordering::Acquire);
        let finished = inner.writes_finished.load(Ordering::Acquire);
        let quiet_at = (started == finished).then_some(started);
        let opened = inner.retry.run("snapshot", read_patience(), || begin(&inner));
        let (client, broken) = match opened {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e.to_string())),
        };
        PgSnapshot { inner, namespaces, client: Mutex::new(client), quiet_at, broken }
    }

    fn read(&self, ns: &str, req: Read) -> Result<Answer> {
        if is_unknown(ns, &self.namespaces) {
            return Err(StorageError::UnknownNamespace(ns.to_owned()));
        }
        if let Some(why) = &self.broken {
            return Err(StorageError::Backend(why.clone()));
        }
        let table = sql::table_name(ns);
        let inner = &self.inner;
        inner.retry.run("snapshot read", read_patience(), || {
            let mut slot = self.client.lock();
            let client = match slot.as_ref() {
                Some(c) if !c.is_closed() => Arc::clone(c),
                _ => {
                    *slot = None;
                    let c = self.reopen()?;
                    *slot = Some(Arc::clone(&c));
                    c
                }
            };
            drop(slot);
            inner.io.block(sql::read(client, table.clone(), req.clone()))?.map_err(|e| {
                let f = Failure::from(e);
                if matches!(f, Failure::Transient(_)) {
                    *self.client.lock() = None;
                }
                f
            })
        })
    }

    /// A new transaction showing the same state, or a final error if writes ran since.
    fn reopen(&self) -> Result<Arc<Client>, Failure> {
        let lost = || {
            Failure::Fatal(StorageError::Backend(
                "snapshot lost with its connection to storage, and the store has changed since"
                    .into(),
            ))
        };
        let Some(at) = self.quiet_at else { return Err(lost()) };
        if self.inner.writes_started.load(Ordering::Acquire) != at {
            return Err(lost());
        }
        let client = begin(&self.inner)?;
        if self.inner.writes_started.load(Ordering::Acquire) != at {
            return Err(lost());
        }
        Ok(client)
    }
}

fn is_unknown(ns: &str, namespaces: &BTreeSet<String>) -> bool {
    crate::is_reserved_namespace(ns) || !namespaces.contains(ns)
}

/// A connection (idle or new) with a repeatable-read transaction open on it.
fn begin(inner: &Inner) -> Result<Arc<Client>, Failure> {
    let reused = inner.idle.lock().pop();
    let client = match reused {
        Some(c) if !c.is_closed() => c,
        _ => inner.io.connect(&inner.config)?,
    };
    let c = Arc::clone(&client);
    inner.io.block(async move { c.batch_execute(BEGIN_SNAPSHOT).await })??;
    Ok(client)
}

impl Drop for PgSnapshot {
    fn drop(&mut self) {
        let Some(client) = self.client.get_mut().take() else { return };
        let idle = Arc::clone(&self.inner.idle);
        self.inner.io.detach(async move {
            if client.batch_execute("ROLLBACK").await.is_ok() {
                let mut idle = idle.lock();
                if idle.len() < IDLE_SNAPSHOT_CONNECTIONS {
                    idle.push(client);
                }
            }
        });
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
        if is_unknown(ns, &self.namespaces) {
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
        if is_unknown(ns, &self.namespaces) {
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
