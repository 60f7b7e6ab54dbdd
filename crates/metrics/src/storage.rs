//! What the node's storage records (RocksDB or PostgreSQL, label `backend`). Reads are
//! counted and their time summed in µs (two atomic adds; a state read is too frequent for a
//! histogram sample each); block writes, one per commit, get a histogram.

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use std::time::Duration;

pub const READS: &str = "aurum_storage_reads_total";
pub const READ_MICROS: &str = "aurum_storage_read_microseconds_total";
pub const WRITE: &str = "aurum_storage_write_duration_seconds";
pub const WRITE_BYTES: &str = "aurum_storage_write_bytes_total";
pub const ERRORS: &str = "aurum_storage_errors_total";
pub const UP: &str = "aurum_storage_up";
pub const DISK_FREE: &str = "aurum_storage_disk_free_bytes";
pub const DISK_SIZE: &str = "aurum_storage_disk_size_bytes";

pub(crate) const HELP: &[(&str, &str)] = &[
    (READS, "Storage reads (get, multi-get, scan, seek) by op."),
    (
        READ_MICROS,
        "Time spent in storage reads by op, in µs; divided by the reads, the mean latency.",
    ),
    (WRITE, "Latency of one atomic write batch (a block commit is one)."),
    (WRITE_BYTES, "Bytes of keys and values written."),
    (ERRORS, "Storage calls that failed, by op (read or write)."),
    (UP, "1 when the store answered the last probe (at scrape time), 0 when it did not."),
    (DISK_FREE, "Bytes available to the node on the file system of its data directory."),
    (DISK_SIZE, "Size of the file system of the node's data directory."),
];

/// The read operations.
#[derive(Debug, Clone, Copy)]
pub enum Read {
    Get,
    MultiGet,
    Scan,
    Seek,
}

const READ_OPS: [&str; 4] = ["get", "multi_get", "scan", "seek"];

/// The handles of one store.
pub struct Storage {
    reads: [Counter; 4],
    read_micros: [Counter; 4],
    write: Histogram,
    write_bytes: Counter,
    read_errors: Counter,
    write_errors: Counter,
    up: Gauge,
    disk_free: Gauge,
    disk_size: Gauge,
}

impl Storage {
    /// `backend`: `rocksdb` or `postgres`.
    pub fn new(backend: &'static str) -> Self {
        Storage {
            reads: READ_OPS.map(|op| counter!(READS, "backend" => backend, "op" => op)),
            read_micros: READ_OPS.map(|op| counter!(READ_MICROS, "backend" => backend, "op" => op)),
            write: histogram!(WRITE, "backend" => backend),
            write_bytes: counter!(WRITE_BYTES, "backend" => backend),
            read_errors: counter!(ERRORS, "backend" => backend, "op" => "read"),
            write_errors: counter!(ERRORS, "backend" => backend, "op" => "write"),
            up: gauge!(UP, "backend" => backend),
            disk_free: gauge!(DISK_FREE),
            disk_size: gauge!(DISK_SIZE),
        }
    }

    /// One read that took `took`; `ok` false if it failed.
    pub fn read(&self, op: Read, took: Duration, ok: bool) {
        let i = op as usize;
        self.reads[i].increment(1);
        // `metrics` counters are integers: the sum is kept in µs (the name says so).
        self.read_micros[i].increment(took.as_micros() as u64);
        if !ok {
            self.read_errors.increment(1);
        }
    }

    /// One write batch of `bytes` that took `took`.
    pub fn write(&self, bytes: usize, took: Duration, ok: bool) {
        self.write.record(took.as_secs_f64());
        self.write_bytes.increment(bytes as u64);
        if !ok {
            self.write_errors.increment(1);
        }
    }

    /// The result of a liveness probe.
    pub fn probed(&self, up: bool) {
        self.up.set(if up { 1.0 } else { 0.0 });
    }

    /// Free and total bytes of the data directory's file system.
    pub fn disk(&self, free: u64, size: u64) {
        self.disk_free.set(free as f64);
        self.disk_size.set(size as f64);
    }
}
