//! What block sync records, and what `/readyz` reads back: how far behind its peers a
//! group is.

use metrics::{Counter, Gauge, counter, gauge};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

pub const BEHIND: &str = "aurum_sync_blocks_behind";
pub const APPLIED: &str = "aurum_sync_blocks_applied_total";
pub const REFUSED: &str = "aurum_sync_blocks_refused_total";

pub(crate) const HELP: &[(&str, &str)] = &[
    (BEHIND, "Blocks between this node's head and the highest head its peers announce."),
    (APPLIED, "Blocks this node took from peers by sync (verified by their commit certificate)."),
    (REFUSED, "Blocks from peers that failed verification."),
];

/// Blocks behind, per group, as sync last saw it (read by `/readyz`).
static BEHIND_NOW: OnceLock<Mutex<HashMap<String, Arc<AtomicU64>>>> = OnceLock::new();

/// How many blocks `group` was behind its peers when sync last looked (`None`: sync does
/// not run for it, e.g. a lone node).
pub fn blocks_behind(group: &str) -> Option<u64> {
    let map = BEHIND_NOW.get()?.lock().ok()?;
    map.get(group).map(|v| v.load(Relaxed))
}

/// One group's sync handles.
pub struct Sync {
    behind_now: Arc<AtomicU64>,
    behind: Gauge,
    applied: Counter,
    refused: Counter,
}

impl Sync {
    pub fn new(group: &str) -> Self {
        let behind_now = Arc::new(AtomicU64::new(0));
        if let Ok(mut map) = BEHIND_NOW.get_or_init(Default::default).lock() {
            map.insert(group.to_string(), Arc::clone(&behind_now));
        }
        Sync {
            behind_now,
            behind: gauge!(BEHIND, "group" => group.to_string()),
            applied: counter!(APPLIED, "group" => group.to_string()),
            refused: counter!(REFUSED, "group" => group.to_string()),
        }
    }

    /// This node is at `mine`; the highest head a peer announced is `best`.
    pub fn heads(&self, mine: u64, best: u64) {
        let behind = best.saturating_sub(mine);
        self.behind_now.store(behind, Relaxed);
        self.behind.set(behind as f64);
    }

    pub fn applied(&self) {
        self.applied.increment(1);
    }

    pub fn refused(&self) {
        self.refused.increment(1);
    }
}
