//! [`PgStore`]: a [`KvStore`] in a PostgreSQL database (or an engine speaking its wire
//! protocol), so a node's storage can live apart from its compute.
//!
//! Layout: one table per namespace, `(k BYTEA PRIMARY KEY, v BYTEA NOT NULL)`, ordered by key
//! so range scans and "last version <= N" are index range reads; the reserved
//! [`META_NAMESPACE`] is the table `aurum_meta` holding the schema version, a random store
//! id and the namespace registry (`ns/<name>` → table). One [`KvStore::write`] is one SQL
//! transaction. Point reads go through a cache that writes keep exact, and snapshots cost
//! nothing until a write begins (see `gate`).
//!
//! Failures: a lost connection is retried with backoff on a new connection. A write retries
//! until it succeeds (a block commit waits while the database is down; a batch whose COMMIT
//! outcome is unknown is re-applied, which is harmless as upserts and deletes are
//! idempotent), so the node never believes a block committed that is not. A read retries
//! until it succeeds on plain threads (consensus, execution, commit) but gives up after a few
//! seconds on the node's async runtime (RPC, network), so the RPC keeps answering with an
//! error while the database is away. The store must be its database's only writer.

mod conn;
mod gate;
mod snapshot;
mod sql;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use tokio_postgres::Config;
use tokio_postgres::types::Type;

use self::conn::{Conn, Failure, Io, Retry, Slot, read_patience};
use self::gate::{Gate, Pin};
pub use self::snapshot::PgSnapshot;
use self::sql::{Answer, META_TABLE, Read, TableWrites};
use crate::{
    Key, KeyRange, KvRead, KvStore, Op, Result, SCHEMA_VERSION, Scan, StorageError, Value,
    WriteBatch, is_reserved_namespace,
};

const SCHEMA_KEY: &[u8] = b"schema_version";
const STORE_ID_KEY: &[u8] = b"store_id";
const NAMESPACE_PREFIX: &[u8] = b"ns/";
/// Connections shared by plain reads (tokio-postgres pipelines concurrent queries on each).
const READERS: usize = 2;
/// Snapshot connections kept open for reuse.
const IDLE_SNAPSHOT_CONNECTIONS: usize = 8;

/// How a [`PgStore`] is opened.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (libpq URL or key=value form).
    pub url: String,
    /// Commits wait for the server's WAL flush (`synchronous_commit = on`, default `true`).
    /// `false` is for benchmarks only: batches marked durable still wait.
    pub sync: bool,
    /// How long `open` keeps trying to reach the server before failing (default 10 s).
    pub connect_timeout: Duration,
}

impl PgConfig {
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig { url: url.into(), sync: true, connect_timeout: Duration::from_secs(10) }
    }
}

/// A [`KvStore`] in a PostgreSQL database. See the module docs for layout and failure
/// handling. Cheap to share: snapshots hold the store's connections and runtime alive.
pub struct PgStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    io: Io,
    config: Config,
    /// The writer's configuration (`synchronous_commit` off when not syncing).
    writer_config: Config,
    retry: Retry,
    /// The one connection writes go through; held for the whole of a write.
    writer: Mutex<Slot>,
    readers: Vec<Slot>,
    next_reader: AtomicUsize,
    /// Connections free for the next snapshot (each snapshot holds one in a transaction).
    idle: Arc<Mutex<Vec<Arc<Conn>>>>,
    /// User namespaces; replaced wholesale on creation so snapshots keep the old set.
    namespaces: RwLock<Arc<BTreeSet<String>>>,
    /// Read cache, live snapshots and the write version (see `gate`).
    gate: Mutex<Gate>,
    /// Signalled when a snapshot's pinning settles.
    changed: Condvar,
    store_id: String,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore").field("target", &self.inner.retry.target).finish()
    }
}

/// `user@host:port/database` of a configuration, without the password.
pub fn describe_target(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

fn parse_url(url: &str) -> Result<Config> {
    Config::from_str(url).map_err(|e| StorageError::Backend(format!("invalid PostgreSQL URL: {e}")))
}

fn unavailable(target: &str, e: StorageError) -> StorageError {
    let why = match e {
        StorageError::Backend(why) => why,
        other => other.to_string(),
    };
    StorageError::Backend(format!("cannot open the PostgreSQL store {target}: {why}"))
}

impl PgStore {
    /// Connects (retrying for `config.connect_timeout`), creates the store in an empty
    /// database or checks an existing one: it must hold this build's [`SCHEMA_VERSION`]
    /// ([`StorageError::SchemaMismatch`] otherwise; a non-empty database without a store
    /// counts as version 0).
    pub fn open(config: PgConfig) -> Result<Self> {
        let pg = parse_url(&config.url)?;
        let target = describe_target(&pg);
        let mut writer_config = pg.clone();
        if !config.sync {
            writer_config.options("-c synchronous_commit=off");
        }
        let io = Io::new()?;
        let retry = Retry::new(target.clone());
        let writer = retry
            .run("connect", Some(config.connect_timeout), || io.connect(&writer_config))
            .map_err(|e| unavailable(&target, e))?;
        let (store_id, namespaces) = io
            .block(init(Arc::clone(&writer)))
            .map_err(|f| match f {
                Failure::Transient(t) => unavailable(&target, StorageError::Backend(t)),
                Failure::Fatal(e) => unavailable(&target, e),
            })?
            .map_err(|e| match e {
                Init::Sql(e) => unavailable(&target, StorageError::Backend(conn::describe(&e))),
                Init::Store(StorageError::SchemaMismatch { found, expected, .. }) => {
                    StorageError::SchemaMismatch { path: target.clone(), found, expected }
                }
                Init::Store(e) => unavailable(&target, e),
            })?;
        let inner = Inner {
            io,
            config: pg,
            writer_config,
            retry,
            writer: Mutex::new(Slot::new(Some(writer))),
            readers: (0..READERS).map(|_| Slot::new(None)).collect(),
            next_reader: AtomicUsize::new(0),
            idle: Arc::new(Mutex::new(Vec::new())),
            namespaces: RwLock::new(Arc::new(namespaces)),
            gate: Mutex::new(Gate::default()),
            changed: Condvar::new(),
            store_id,
        };
        Ok(PgStore { inner: Arc::new(inner) })
    }

    /// The user namespaces, sorted.
    pub fn namespaces(&self) -> Vec<String> {
        self.inner.namespaces.read().iter().cloned().collect()
    }

    /// A random id written when the store was created: a node remembers it locally and
    /// refuses a database that carries another (a different or re-created store).
    pub fn store_id(&self) -> &str {
        &self.inner.store_id
    }

    /// `user@host:port/database`, for messages.
    pub fn target(&self) -> &str {
        &self.inner.retry.target
    }

    /// The number of rows of a namespace (migration checks).
    pub fn count(&self, ns: &str) -> Result<u64> {
        let table = self.inner.table(ns, &self.inner.namespaces.read())?;
        self.inner.retry.run("count", read_patience(), || {
            let client = self.inner.reader()?;
            let sql = format!("SELECT count(*) FROM \"{table}\"");
            let row = self.inner.io.block(async move { client.query_one(&sql, &[]).await })?;
            let n: i64 = row.map_err(Failure::from)?.try_get(0).map_err(Failure::from)?;
            Ok(n.max(0) as u64)
        })
    }
}

enum Init {
    Sql(tokio_postgres::Error),
    Store(StorageError),
}

impl From<tokio_postgres::Error> for Init {
    fn from(e: tokio_postgres::Error) -> Self {
        Init::Sql(e)
    }
}

/// Creates the store in an empty database, or reads an existing one's version, id and
/// namespaces.
async fn init(client: Arc<Conn>) -> Result<(String, BTreeSet<String>), Init> {
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::TEXT FROM information_schema.tables \
             WHERE table_schema = current_schema()",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<_, _>>()?;
    if !tables.iter().any(|t| t == META_TABLE) {
        if !tables.is_empty() {
            // Someone else's database: refuse before touching it.
            return Err(Init::Store(StorageError::SchemaMismatch {
                path: String::new(),
                found: 0,
                expected: SCHEMA_VERSION,
            }));
        }
        let id = new_store_id();
        client.batch_execute(&format!("BEGIN; {}", sql::create_table(META_TABLE))).await?;
        let insert = format!("INSERT INTO {META_TABLE} (k, v) VALUES ($1, $2), ($3, $4)");
        let version = SCHEMA_VERSION.to_be_bytes().to_vec();
        let id_bytes = id.as_bytes().to_vec();
        let (sk, ik) = (SCHEMA_KEY.to_vec(), STORE_ID_KEY.to_vec());
        let done = client
            .execute_typed(
                &insert,
                &[
                    (&sk, Type::BYTEA),
                    (&version, Type::BYTEA),
                    (&ik, Type::BYTEA),
                    (&id_bytes, Type::BYTEA),
                ],
            )
            .await;
        if let Err(e) = done {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e.into());
        }
        client.batch_execute("COMMIT").await?;
        return Ok((id, BTreeSet::new()));
    }
    let rows = client.query(&format!("SELECT k, v FROM {META_TABLE}"), &[]).await?;
    let mut version = None;
    let mut id = String::new();
    let mut namespaces = BTreeSet::new();
    for row in rows {
        let (k, v): (Vec<u8>, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?);
        if k == SCHEMA_KEY {
            version = Some(<[u8; 4]>::try_from(&*v).map(u32::from_be_bytes).map_err(|_| {
                Init::Store(StorageError::Backend(format!(
                    "schema_version is {} bytes, not 4",
                    v.len()
                )))
            })?);
        } else if k == STORE_ID_KEY {
            id = String::from_utf8_lossy(&v).into_owned();
        } else if let Some(name) = k.strip_prefix(NAMESPACE_PREFIX) {
            namespaces.insert(String::from_utf8_lossy(name).into_owned());
        }
    }
    let found = version.unwrap_or(0);
    if found != SCHEMA_VERSION {
        return Err(Init::Store(StorageError::SchemaMismatch {
            path: String::new(),
            found,
            expected: SCHEMA_VERSION,
        }));
    }
    Ok((id, namespaces))
}

/// 128 random bits as hex, from the standard library's per-process random hash keys.
fn new_store_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for salt in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

impl Inner {
    fn table(&self, ns: &str, namespaces: &BTreeSet<String>) -> Result<String> {
        if is_reserved_namespace(ns) || !namespaces.contains(ns) {
            return Err(StorageError::UnknownNamespace(ns.to_owned()));
        }
        Ok(sql::table_name(ns))
    }

    fn reader(&self) -> Result<Arc<Conn>, Failure> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len().max(1);
        match self.readers.get(i) {
            Some(slot) => slot.get(&self.io, &self.config),
            None => Err(Failure::Fatal(StorageError::Backend("no reader connections".into()))),
        }
    }

    fn reset_readers(&self) {
        for slot in &self.readers {
            slot.reset();
        }
    }

    /// A read of the live database, through the cache.
    fn read(&self, ns: &str, req: Read) -> Result<Answer> {
        let table = self.table(ns, &self.namespaces.read())?;
        let gate = self.gate.lock();
        if let Some(hit) = cache_hit(&gate, &table, &req) {
            return Ok(hit);
        }
        let version = gate.version;
        drop(gate);
        let answer = self.read_db(&table, &req)?;
        let mut gate = self.gate.lock();
        if gate.version == version {
            fill_cache(&mut gate, &table, &req, &answer);
        }
        Ok(answer)
    }

    /// A read of the live database on a reader connection, retried per [`read_patience`].
    fn read_db(&self, table: &str, req: &Read) -> Result<Answer> {
        self.retry.run("read", read_patience(), || {
            let client = self.reader()?;
            let answer = self.io.block(sql::read(client, table.to_owned(), req.clone()))?;
            answer.map_err(|e| {
                let f = Failure::from(e);
                if matches!(f, Failure::Transient(_)) {
                    self.reset_readers();
                }
                f
            })
        })
    }

    /// Runs `op` on the writer connection until it succeeds (or fails for good); the store
    /// waits for the database rather than report a block as not committed.
    fn write_with<F, Fut>(&self, what: &str, op: F) -> Result<()>
    where
        F: Fn(Arc<Conn>) -> Fut,
        Fut: std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
    {
        let writer = self.writer.lock();
        let started = Instant::now();
        let result = self.retry.run(what, None, || {
            let client = writer.get(&self.io, &self.writer_config)?;
            self.io.block(op(client))?.map_err(|e| {
                let f = Failure::from(e);
                if matches!(f, Failure::Transient(_)) {
                    writer.reset();
                }
                f
            })
        });
        if started.elapsed() > Duration::from_secs(5) {
            tracing::info!(target_db = %self.retry.target, waited_ms = started.elapsed().as_millis() as u64, "{what} done after waiting for storage");
        }
        result
    }
}

/// A cached answer to a point read (all keys of a multi-get cached), if there is one.
fn cache_hit(gate: &Gate, table: &str, req: &Read) -> Option<Answer> {
    match req {
        Read::Get(key) => gate.cached(table, key).map(Answer::One),
        Read::Multi(keys) => {
            keys.iter().map(|k| gate.cached(table, k)).collect::<Option<Vec<_>>>().map(Answer::Many)
        }
        Read::Scan { .. } | Read::Last { .. } => None,
    }
}

/// Caches the answer to a point read.
fn fill_cache(gate: &mut Gate, table: &str, req: &Read, answer: &Answer) {
    match (req, answer) {
        (Read::Get(key), Answer::One(value)) => gate.remember(table, key, value.as_ref()),
        (Read::Multi(keys), Answer::Many(values)) => {
            for (k, v) in keys.iter().zip(values) {
                gate.remember(table, k, v.as_ref());
            }
        }
        _ => {}
    }
}

fn answer_mismatch() -> StorageError {
    StorageError::Backend("PostgreSQL backend: unexpected answer shape".into())
}

impl KvRead for PgStore {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Value>> {
        match self.inner.read(ns, Read::Get(key.to_vec()))? {
            Answer::One(v) => Ok(v),
            _ => Err(answer_mismatch()),
        }
    }

    fn multi_get(&self, ns: &str, keys: &[&[u8]]) -> Result<Vec<Option<Value>>> {
        let keys = keys.iter().map(|k| k.to_vec()).collect();
        match self.inner.read(ns, Read::Multi(keys))? {
            Answer::Many(v) => Ok(v),
            _ => Err(answer_mismatch()),
        }
    }

    fn scan(&self, ns: &str, scan: &Scan) -> Result<Vec<(Key, Value)>> {
        let namespaces = self.inner.namespaces.read().clone();
        self.inner.table(ns, &namespaces)?;
        let Some(range) = KeyRange::of(&scan.from, &scan.to) else { return Ok(Vec::new()) };
        let req = Read::Scan { range, reverse: scan.reverse, limit: scan.limit };
        match self.inner.read(ns, req)? {
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
        let namespaces = self.inner.namespaces.read().clone();
        self.inner.table(ns, &namespaces)?;
        if floor > key {
            return Ok(None);
        }
        match self.inner.read(ns, Read::Last { key: key.to_vec(), floor: floor.to_vec() })? {
            Answer::Entry(v) => Ok(v),
            _ => Err(answer_mismatch()),
        }
    }
}

/// The net effect of `ops` per table, in the order namespaces first appear.
fn net_writes(ops: Vec<Op>, namespaces: &BTreeSet<String>) -> Result<Vec<TableWrites>> {
    let mut per_ns: Vec<(String, BTreeMap<Key, Option<Value>>)> = Vec::new();
    for op in ops {
        let (ns, key, value) = match op {
            Op::Put { ns, key, value } => (ns, key, Some(value)),
            Op::Delete { ns, key } => (ns, key, None),
        };
        let idx = match per_ns.iter().position(|(n, _)| *n == ns) {
            Some(i) => i,
            None => {
                if is_reserved_namespace(&ns) || !namespaces.contains(&ns) {
                    return Err(StorageError::UnknownNamespace(ns));
                }
                per_ns.push((ns, BTreeMap::new()));
                per_ns.len() - 1
            }
        };
        per_ns[idx].1.insert(key, value);
    }
    Ok(per_ns
        .into_iter()
        .map(|(ns, ops)| {
            let mut w = TableWrites { table: sql::table_name(&ns), ..Default::default() };
            for (k, v) in ops {
                match v {
                    Some(v) => {
                        w.put_keys.push(k);
                        w.put_values.push(v);
                    }
                    None => w.deletes.push(k),
                }
            }
            w
        })
        .collect())
}

impl KvStore for PgStore {
    fn ensure_namespace(&self, ns: &str) -> Result<()> {
        if is_reserved_namespace(ns) {
            return Err(StorageError::InvalidNamespace(ns.to_owned()));
        }
        if self.inner.namespaces.read().contains(ns) {
            return Ok(());
        }
        let table = sql::table_name(ns);
        let key = [NAMESPACE_PREFIX, ns.as_bytes()].concat();
        self.inner.write_with("create namespace", |client| {
            let (table, key) = (table.clone(), key.clone());
            async move {
                client.batch_execute(&format!("BEGIN; {}", sql::create_table(&table))).await?;
                let insert = format!(
                    "INSERT INTO {META_TABLE} (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING"
                );
                let value = table.into_bytes();
                let done = client
                    .execute_typed(&insert, &[(&key, Type::BYTEA), (&value, Type::BYTEA)])
                    .await;
                if let Err(e) = done {
                    let _ = client.batch_execute("ROLLBACK").await;
                    return Err(e);
                }
                client.batch_execute("COMMIT").await
            }
        })?;
        let mut namespaces = self.inner.namespaces.write();
        let mut next = BTreeSet::clone(&namespaces);
        next.insert(ns.to_owned());
        *namespaces = Arc::new(next);
        Ok(())
    }

    fn write(&self, batch: WriteBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let namespaces = self.inner.namespaces.read().clone();
        let writes = Arc::new(net_writes(batch.ops, &namespaces)?);
        let durable = batch.durable;
        let inner = &self.inner;
        // Snapshots taken so far must keep seeing the state before this write: pin each to
        // a transaction opened now, before the write's own (see `gate`).
        let to_pin: Vec<u64> = {
            let mut gate = inner.gate.lock();
            gate.version += 1;
            gate.writing += 1;
            let mut ids = Vec::new();
            for (id, pin) in gate.snapshots.iter_mut() {
                if matches!(pin, Pin::Unpinned) {
                    *pin = Pin::Pinning;
                    ids.push(*id);
                }
            }
            ids
        };
        for id in to_pin {
            let pinned = inner.retry.run("snapshot", None, || snapshot::begin(inner));
            snapshot::settle(inner, id, pinned);
        }
        let result =
            inner.write_with("write", |client| sql::apply(client, Arc::clone(&writes), durable));
        let mut gate = inner.gate.lock();
        match &result {
            Ok(()) => gate.apply(&writes),
            Err(_) => gate.forget(&writes),
        }
        gate.version += 1;
        gate.writing -= 1;
        result
    }

    fn snapshot(&self) -> Arc<dyn KvRead> {
        Arc::new(PgSnapshot::open(Arc::clone(&self.inner)))
    }
}

/// Creates database `name` on the server `url` points at (through that URL's database,
/// usually `postgres`) unless it exists. The name must be a plain identifier.
pub fn create_database(url: &str, name: &str) -> Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StorageError::Backend(format!(
            "database name {name:?} must be letters, digits and '_'"
        )));
    }
    let config = parse_url(url)?;
    let target = describe_target(&config);
    let io = Io::new()?;
    let client = Retry::new(target.clone())
        .run("connect", Some(Duration::from_secs(10)), || io.connect(&config))
        .map_err(|e| unavailable(&target, e))?;
    let name = name.to_owned();
    io.block(async move {
        let exists = client.query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await?;
        if exists.is_empty() {
            client.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await?;
        }
        Ok::<_, tokio_postgres::Error>(())
    })
    .map_err(|f| match f {
        Failure::Transient(t) | Failure::Fatal(StorageError::Backend(t)) => {
            StorageError::Backend(t)
        }
        Failure::Fatal(e) => e,
    })?
    .map_err(|e| StorageError::Backend(format!("on {target}: {}", conn::describe(&e))))
}

/// `url` with its database replaced by `database` (the query string is kept).
pub fn url_with_database(url: &str, database: &str) -> Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| StorageError::Backend(format!("not a postgres:// URL: {url:?}")))?;
    let authority_end = base[scheme_end..].find('/').map(|i| scheme_end + i).unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    parse_url(&out)?;
    Ok(out)
}

/// The database named in `url`.
pub fn url_database(url: &str) -> Result<String> {
    let config = parse_url(url)?;
    Ok(config.get_dbname().unwrap_or("postgres").to_owned())
}
