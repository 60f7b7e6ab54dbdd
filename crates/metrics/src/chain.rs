//! Per-group figures read from the ledger and pool when `/metrics` is scraped (they exist
//! anyway, so tracking them as they change would cost the hot path for nothing).

use metrics::gauge;

pub const HEIGHT: &str = "aurum_chain_height";
pub const HEAD_TIMESTAMP: &str = "aurum_chain_head_timestamp_seconds";
pub const POOL_SIZE: &str = "aurum_txpool_size";
pub const POOL_BYTES: &str = "aurum_txpool_bytes";
pub const SEALERS: &str = "aurum_consensus_sealers";
pub const OBSERVERS: &str = "aurum_consensus_observers";
pub const GROUP_UP: &str = "aurum_group_running";

pub(crate) const HELP: &[(&str, &str)] = &[
    (HEIGHT, "Number of the group's head block."),
    (HEAD_TIMESTAMP, "Timestamp of the group's head block (Unix seconds)."),
    (POOL_SIZE, "Transactions waiting in the group's pool."),
    (POOL_BYTES, "Encoded bytes of the transactions waiting in the group's pool."),
    (SEALERS, "Sealers (voting nodes) of the group for the next block."),
    (OBSERVERS, "Observers (non-voting nodes) of the group for the next block."),
    (GROUP_UP, "1 while the group runs on this node."),
];

/// One group's figures at scrape time.
#[derive(Debug, Clone, Default)]
pub struct GroupSnapshot {
    pub height: u64,
    /// Head block timestamp in ms (as blocks carry it).
    pub head_timestamp_ms: u64,
    pub pool_size: usize,
    pub pool_bytes: usize,
    pub sealers: usize,
    pub observers: usize,
}

/// Sets the scrape-time gauges of `group`.
pub fn set(group: &str, s: &GroupSnapshot) {
    let g = group.to_string();
    gauge!(HEIGHT, "group" => g.clone()).set(s.height as f64);
    gauge!(HEAD_TIMESTAMP, "group" => g.clone()).set(s.head_timestamp_ms as f64 / 1e3);
    gauge!(POOL_SIZE, "group" => g.clone()).set(s.pool_size as f64);
    gauge!(POOL_BYTES, "group" => g.clone()).set(s.pool_bytes as f64);
    gauge!(SEALERS, "group" => g.clone()).set(s.sealers as f64);
    gauge!(OBSERVERS, "group" => g.clone()).set(s.observers as f64);
    gauge!(GROUP_UP, "group" => g).set(1.0);
}

/// Marks `group` as not running (stopped since the last scrape).
pub fn set_stopped(group: &str) {
    gauge!(GROUP_UP, "group" => group.to_string()).set(0.0);
}
