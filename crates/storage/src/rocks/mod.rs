//! [`RocksStore`]: the RocksDB backend. One column family per namespace, one RocksDB
//! `WriteBatch` per [`KvStore::write`] (atomic across column families through the single WAL),
//! and a schema version in the reserved [`META_NAMESPACE`] checked on every open.

mod read;
mod snapshot;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use rocksdb::{BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, Options};
use rocksdb::{WriteBatch as RocksBatch, WriteOptions};

use self::read::{Cf, Db, Reader, backend};
pub use self::snapshot::RocksSnapshot;
use crate::{
    Key, KvRead, KvStore, META_NAMESPACE, Op, Result, Scan, StorageError, Value, WriteBatch,
    is_reserved_namespace,
};

/// The on-disk layout version this build reads and writes. Bump it whenever key or value
/// encodings of any namespace change; `open` refuses stores written with another version.
pub const SCHEMA_VERSION: u32 = 1;
const SCHEMA_KEY: &[u8] = b"schema_version";

/// How a [`RocksStore`] is opened. Defaults suit a 2-core node; see the field docs.
#[derive(Debug, Clone)]
pub struct RocksConfig {
    /// fsync the WAL before `write` returns (default `true`): a committed batch survives power
    /// loss, not just a process crash. `false` is for benchmarks only.
    pub sync: bool,
    /// Block cache shared by all namespaces, in bytes (default 64 MiB). Index and filter blocks
    /// live in it too, so memory stays bounded by this plus the memtables.
    pub block_cache_bytes: usize,
    /// Memtable size per namespace before it is flushed, in bytes (default 32 MiB).
    pub write_buffer_bytes: usize,
    /// Cap on all memtables together, in bytes (default 128 MiB); the largest is flushed early.
    pub total_write_buffer_bytes: usize,
    /// Background flush and compaction threads (default 2).
    pub background_jobs: i32,
}

impl Default for RocksConfig {
    fn default() -> Self {
        RocksConfig {
            sync: true,
            block_cache_bytes: 64 << 20,
            write_buffer_bytes: 32 << 20,
            total_write_buffer_bytes: 128 << 20,
            background_jobs: 2,
        }
    }
}

/// A [`KvStore`] on RocksDB.
///
/// Invariants: every user namespace is a column family of the same name; the `default` column
/// family is unused and [`META_NAMESPACE`] holds `schema_version` (u32, big-endian) equal to
/// [`SCHEMA_VERSION`]. The database is shared through an `Arc` with every
/// [`RocksSnapshot`], so it stays open (and its directory locked) until the store and all its
/// snapshots are dropped.
pub struct RocksStore {
    db: Arc<Db>,
    path: PathBuf,
    config: RocksConfig,
    /// Options for column families created later (same tuning, same block cache).
    cf_opts: Options,
    write_opts: WriteOptions,
    /// For batches marked durable when `write_opts` does not sync.
    sync_opts: WriteOptions,
    /// User namespaces; replaced wholesale on creation so snapshots can keep the old set.
    namespaces: RwLock<Arc<BTreeSet<String>>>,
}

impl fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.path)
            .field("config", &self.config)
            .finish()
    }
}

impl RocksStore {
    /// Opens the store at `path`, creating it if missing. Opens every existing namespace;
    /// writes [`SCHEMA_VERSION`] into a new store and fails with
    /// [`StorageError::SchemaMismatch`] if an existing one has another version (a store with
    /// namespaces but no version counts as version 0).
    pub fn open(path: impl AsRef<Path>, config: RocksConfig) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let cache = Cache::new_lru_cache(config.block_cache_bytes);
        let cf_opts = cf_options(&config, &cache);
        let db_opts = db_options(&config, &cf_opts);

        let existing = if path.join("CURRENT").exists() {
            Db::list_cf(&db_opts, &path).map_err(backend)?
        } else {
            Vec::new()
        };
        let user: BTreeSet<String> =
            existing.iter().filter(|n| !is_reserved_namespace(n)).cloned().collect();
        if !user.is_empty() && !existing.iter().any(|n| n == META_NAMESPACE) {
            // Refuse before opening, so a foreign store is not modified.
            return Err(mismatch(&path, 0));
        }
        let mut names: BTreeSet<String> = existing.into_iter().collect();
        names.insert("default".to_owned());
        names.insert(META_NAMESPACE.to_owned());
        let descriptors =
            names.iter().map(|n| ColumnFamilyDescriptor::new(n.as_str(), cf_opts.clone()));
        let db = Db::open_cf_descriptors(&db_opts, &path, descriptors).map_err(backend)?;
        check_schema(&db, &path, user.is_empty())?;

        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(config.sync);
        // A block's batch inserts long runs of ascending keys per column family (sorted
        // diffs, history versions): hinting the memtable position saves a skip-list search.
        write_opts.set_memtable_insert_hint_per_batch(true);
        let mut sync_opts = WriteOptions::default();
        sync_opts.set_sync(true);
        Ok(RocksStore {
            db: Arc::new(db),
            path,
            config,
            cf_opts,
            write_opts,
            sync_opts,
            namespaces: RwLock::new(Arc::new(user)),
        })
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &RocksConfig {
        &self.config
    }

    /// The user namespaces, sorted.
    pub fn namespaces(&self) -> Vec<String> {
        self.namespaces.read().iter().cloned().collect()
    }

    /// Flushes every memtable to SST files (tests use it to read from disk, not memory).
    pub fn flush(&self) -> Result<()> {
        let names = self.namespaces.read().clone();
        for ns in names.iter().map(String::as_str).chain([META_NAMESPACE]) {
            if let Some(cf) = self.db.cf_handle(ns) {
                self.db.flush_cf(&cf).map_err(backend)?;
            }
        }
        Ok(())
    }

    fn cf(&self, ns: &str) -> Result<Cf<'_>> {
        if is_reserved_namespace(ns) {
            return Err(StorageError::UnknownNamespace(ns.to_owned()));
        }
        self.db.cf_handle(ns).ok_or_else(|| StorageError::UnknownNamespace(ns.to_owned()))
    }

    fn reader(&self) -> Reader<'_> {
        Reader { db: &self.db, snapshot: None }
    }
}

impl KvRead for RocksStore {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>> {
        self.reader().get(&self.cf(ns)?, key)
    }

    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        self.reader().multi_get(&self.cf(ns)?, keys)
    }

    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        self.reader().scan(&self.cf(ns)?, scan)
    }

    fn last_at_or_before(
        &self,
        ns: &str,
        key: &[u8],
        floor: &[u8],
    ) -> Result<Option<(Key, Value)>> {
        self.reader().last_at_or_before(&self.cf(ns)?, key, floor)
    }
}

impl KvStore for RocksStore {
    fn ensure_namespace(&self, ns: &str) -> Result<()> {
        if is_reserved_namespace(ns) {
            return Err(StorageError::InvalidNamespace(ns.to_owned()));
        }
        if self.namespaces.read().contains(ns) {
            return Ok(());
        }
        // The write lock serialises creators, so a column family is created once.
        let mut namespaces = self.namespaces.write();
        if namespaces.contains(ns) {
            return Ok(());
        }
        self.db.create_cf(ns, &self.cf_opts).map_err(backend)?;
        let mut next = BTreeSet::clone(&namespaces);
        next.insert(ns.to_owned());
        *namespaces = Arc::new(next);
        Ok(())
    }

    fn write(&self, batch: WriteBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let bytes: usize = batch
            .ops
            .iter()
            .map(|op| match op {
                Op::Put { key, value, .. } => key.len() + value.len() + 16,
                Op::Delete { key, .. } => key.len() + 8,
            })
            .sum();
        let mut rocks = RocksBatch::with_capacity_bytes(bytes + 64);
        // Few namespaces per batch: a linear cache beats a map and avoids one handle lookup
        // (a lock plus an `Arc` clone) per op.
        let mut handles: Vec<(&str, Cf<'_>)> = Vec::new();
        for op in &batch.ops {
            let ns = match op {
                Op::Put { ns, .. } | Op::Delete { ns, .. } => ns.as_str(),
            };
            let idx = match handles.iter().position(|(name, _)| *name == ns) {
                Some(idx) => idx,
                None => {
                    handles.push((ns, self.cf(ns)?));
                    handles.len() - 1
                }
            };
            let cf = &handles[idx].1;
            match op {
                Op::Put { key, value, .. } => rocks.put_cf(cf, key, value),
                Op::Delete { key, .. } => rocks.delete_cf(cf, key),
            }
        }
        let opts = if batch.durable { &self.sync_opts } else { &self.write_opts };
        self.db.write_opt(rocks, opts).map_err(backend)
    }

    fn snapshot(&self) -> Arc<dyn KvRead> {
        Arc::new(RocksSnapshot::new(Arc::clone(&self.db), self.namespaces.read().clone()))
    }
}

fn mismatch(path: &Path, found: u32) -> StorageError {
    StorageError::SchemaMismatch {
        path: path.display().to_string(),
        found,
        expected: SCHEMA_VERSION,
    }
}

/// Reads `schema_version`; a store without one and without user namespaces is new (or was
/// interrupted while being created) and gets the current version, written synchronously.
fn check_schema(db: &Db, path: &Path, no_user_namespaces: bool) -> Result<()> {
    let meta = db
        .cf_handle(META_NAMESPACE)
        .ok_or_else(|| StorageError::Backend(format!("{META_NAMESPACE} column family missing")))?;
    match db.get_pinned_cf(&meta, SCHEMA_KEY).map_err(backend)? {
        Some(bytes) => {
            let found = <[u8; 4]>::try_from(&*bytes).map(u32::from_be_bytes).map_err(|_| {
                StorageError::Backend(format!("schema_version is {} bytes, not 4", bytes.len()))
            })?;
            if found == SCHEMA_VERSION { Ok(()) } else { Err(mismatch(path, found)) }
        }
        None if no_user_namespaces => {
            let mut opts = WriteOptions::default();
            opts.set_sync(true);
            let mut batch = RocksBatch::default();
            batch.put_cf(&meta, SCHEMA_KEY, SCHEMA_VERSION.to_be_bytes());
            db.write_opt(batch, &opts).map_err(backend)
        }
        None => Err(mismatch(path, 0)),
    }
}

/// Per-namespace tuning: point lookups dominate (state reads), so whole-key bloom filters and
/// index/filter blocks cached (and pinned for L0) in one shared block cache; LZ4 everywhere,
/// cheap on 2 cores.
fn cf_options(config: &RocksConfig, cache: &Cache) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_bloom_filter(10.0, false);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    table.set_block_size(16 << 10);
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    opts.set_compression_type(DBCompressionType::Lz4);
    opts.set_bottommost_compression_type(DBCompressionType::Lz4);
    opts.set_write_buffer_size(config.write_buffer_bytes);
    opts.set_level_compaction_dynamic_level_bytes(true);
    opts
}

/// Database-wide options on top of the per-namespace ones. WAL recovery stays at RocksDB's
/// default point-in-time mode: a torn tail record is dropped, earlier batches are kept whole.
fn db_options(config: &RocksConfig, cf_opts: &Options) -> Options {
    let mut opts = cf_opts.clone();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.increase_parallelism(config.background_jobs.max(1));
    opts.set_max_background_jobs(config.background_jobs.max(1));
    opts.set_db_write_buffer_size(config.total_write_buffer_bytes);
    opts.set_bytes_per_sync(1 << 20);
    opts.set_max_open_files(1024);
    opts.set_keep_log_file_num(4);
    opts
}
