//! Read views of a group's state: the latest state, or the state as of any past block,
//! each over one consistent storage snapshot.

use crate::keys::{self, Namespaces};
use aurum_primitives::state::{StateEntries, StateError, StateReader};
use aurum_storage::{KvRead, Scan, prefix_successor};
use std::ops::Bound;
use std::sync::Arc;

/// State as of a block (or the latest), implementing the executor's [`StateReader`].
#[derive(Clone)]
pub struct StateView {
    snapshot: Arc<dyn KvRead>,
    state_ns: String,
    history_ns: String,
    /// None = latest (read the current-state namespace directly).
    height: Option<u64>,
}

impl StateView {
    pub(crate) fn latest(snapshot: Arc<dyn KvRead>, ns: &Namespaces) -> Self {
        StateView {
            snapshot,
            state_ns: ns.state.clone(),
            history_ns: ns.state_history.clone(),
            height: None,
        }
    }

    pub(crate) fn at(snapshot: Arc<dyn KvRead>, ns: &Namespaces, height: u64) -> Self {
        StateView { height: Some(height), ..Self::latest(snapshot, ns) }
    }

    /// The height this view reads at (None = latest).
    pub fn height(&self) -> Option<u64> {
        self.height
    }
}

fn err(e: impl std::fmt::Display) -> StateError {
    StateError(e.to_string())
}

impl StateReader for StateView {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        let Some(height) = self.height else {
            return self.snapshot.get(&self.state_ns, key).map_err(err);
        };
        let floor = keys::history_key(key, 0);
        let ceiling = keys::history_key(key, height);
        match self.snapshot.last_at_or_before(&self.history_ns, &ceiling, &floor).map_err(err)? {
            Some((_, value)) => keys::parse_history_value(&value).ok_or_else(|| {
                StateError(format!("corrupt history value for key {}", hex::encode(key)))
            }),
            None => Ok(None),
        }
    }

    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<StateEntries, StateError> {
        let Some(height) = self.height else {
            let mut scan = Scan::prefix(prefix);
            scan.limit = limit;
            return self.snapshot.scan(&self.state_ns, &scan).map_err(err);
        };
        // Historical scan: walk every version under the prefix and keep, per key, the last
        // version at or before `height`. Costly on hot keys, but only auditors ask for it.
        let mut escaped = Vec::new();
        keys::escape(prefix, &mut escaped);
        let to = match prefix_successor(&escaped) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        let scan = Scan { from: Bound::Included(escaped), to, reverse: false, limit: 0 };
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut current: Option<(Vec<u8>, Option<Vec<u8>>)> = None;
        for (hk, hv) in self.snapshot.scan(&self.history_ns, &scan).map_err(err)? {
            let (key, h) = keys::parse_history_key(&hk)
                .ok_or_else(|| StateError(format!("corrupt history key {}", hex::encode(&hk))))?;
            if current.as_ref().is_some_and(|(k, _)| *k != key)
                && let Some((k, Some(v))) = current.take()
            {
                out.push((k, v));
                if limit != 0 && out.len() == limit {
                    return Ok(out);
                }
            }
            if h > height {
                if current.is_none() {
                    // key born after `height`: remember it so later versions are skipped too
                    current = Some((key, None));
                }
                continue;
            }
            let value = keys::parse_history_value(&hv)
                .ok_or_else(|| StateError(format!("corrupt history value {}", hex::encode(&hk))))?;
            current = Some((key, value));
        }
        if let Some((k, Some(v))) = current
            && (limit == 0 || out.len() < limit)
        {
            out.push((k, v));
        }
        Ok(out)
    }
}
