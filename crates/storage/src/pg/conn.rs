//! Connections to the database and the retry policy around them.
//!
//! `tokio-postgres` runs on a small runtime owned by the store (one worker thread), so the
//! synchronous [`crate::KvStore`] methods work from any thread, including the node's tokio
//! workers and `spawn_blocking` threads, where starting another runtime would panic: a call
//! spawns its future there and waits on a plain channel.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use std::collections::HashMap;
use tokio::runtime::Runtime;

use tokio_postgres::types::Type;
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::StorageError;

/// How long a caller on the node's async runtime (RPC handlers, network tasks) waits for an
/// unavailable database before its read fails; plain threads (consensus, commit) wait on.
pub(crate) const ASYNC_CALLER_PATIENCE: Duration = Duration::from_secs(3);
/// Retry delays grow from the first to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// An outage is logged when it starts and then at most this often.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Why an attempt failed: worth retrying on a new connection, or final.
pub(crate) enum Failure {
    Transient(String),
    Fatal(StorageError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        if is_transient(&e) {
            Failure::Transient(describe(&e))
        } else {
            Failure::Fatal(StorageError::Backend(describe(&e)))
        }
    }
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Failure::Fatal(e)
    }
}

/// The server's message with its SQLSTATE, or the client-side cause chain.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// Lost or refused connections, a server shutting down or starting, and the transaction
/// conflicts distributed engines ask clients to retry. Anything else (bad SQL, a constraint,
/// authentication) is final.
fn is_transient(e: &tokio_postgres::Error) -> bool {
    let Some(db) = e.as_db_error() else {
        // No server answer: IO error, closed connection, connect timeout.
        return true;
    };
    let code = db.code().code();
    code.starts_with("08") // connection exception
        || code.starts_with("57P") // admin/crash shutdown, cannot connect now
        || code == "40001" // serialization failure (CockroachDB's "retry transaction")
        || code == "40P01" // deadlock detected
        || code == "53300" // too many connections
}

/// A connection with the statements prepared on it (prepared once per text, so a point
/// read is one bind-and-execute round trip with no parsing or planning on the server).
pub(crate) struct Conn {
    client: Client,
    statements: Mutex<HashMap<String, Statement>>,
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Conn {
    pub(crate) async fn statement(
        &self,
        sql: &str,
        types: &[Type],
    ) -> Result<Statement, tokio_postgres::Error> {
        if let Some(st) = self.statements.lock().get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare_typed(sql, types).await?;
        self.statements.lock().insert(sql.to_owned(), st.clone());
        Ok(st)
    }
}

/// The runtime the connections live on.
pub(crate) struct Io {
    runtime: Option<Runtime>,
}

impl Drop for Io {
    fn drop(&mut self) {
        // A runtime dropped on an async thread would panic; this one may be dropped anywhere.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Io {
    pub(crate) fn new() -> Result<Self, StorageError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("aurum-pg")
            .enable_all()
            .build()
            .map_err(|e| {
                StorageError::Backend(format!("cannot start the PostgreSQL client: {e}"))
            })?;
        Ok(Io { runtime: Some(runtime) })
    }

    /// Runs `fut` on the store's runtime and waits for it on this thread.
    pub(crate) fn block<F>(&self, fut: F) -> Result<F::Output, Failure>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.rt()?.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().map_err(|_| Failure::Transient("PostgreSQL client runtime stopped".into()))
    }

    /// Runs `fut` on the runtime without waiting for it.
    pub(crate) fn detach<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Ok(rt) = self.rt() {
            rt.spawn(fut);
        }
    }

    fn rt(&self) -> Result<&Runtime, Failure> {
        self.runtime
            .as_ref()
            .ok_or_else(|| Failure::Transient("PostgreSQL client runtime stopped".into()))
    }

    /// Opens one connection (no retry).
    pub(crate) fn connect(&self, config: &Config) -> Result<Arc<Conn>, Failure> {
        let config = config.clone();
        let handle = self.rt()?.handle().clone();
        let client = self.block(async move {
            let (client, connection) = config.connect(NoTls).await?;
            handle.spawn(async move {
                // Ends when the client is dropped or the server goes away; the next use of
                // the client then fails and the slot reconnects.
                let _ = connection.await;
            });
            Ok::<_, tokio_postgres::Error>(client)
        })??;
        Ok(Arc::new(Conn { client, statements: Mutex::new(HashMap::new()) }))
    }
}

/// One reconnecting connection shared by concurrent users (tokio-postgres pipelines them).
pub(crate) struct Slot {
    client: Mutex<Option<Arc<Conn>>>,
}

impl Slot {
    pub(crate) fn new(client: Option<Arc<Conn>>) -> Self {
        Slot { client: Mutex::new(client) }
    }

    pub(crate) fn get(&self, io: &Io, config: &Config) -> Result<Arc<Conn>, Failure> {
        let mut slot = self.client.lock();
        if let Some(c) = slot.as_ref()
            && !c.is_closed()
        {
            return Ok(Arc::clone(c));
        }
        *slot = None;
        let c = io.connect(config)?;
        *slot = Some(Arc::clone(&c));
        Ok(c)
    }

    /// Drops the connection after a failure so the next use reconnects.
    pub(crate) fn reset(&self) {
        *self.client.lock() = None;
    }
}

/// Retries transient failures with backoff, logging an outage once per [`LOG_EVERY`].
pub(crate) struct Retry {
    /// Where the store lives, for messages (no password).
    pub target: String,
    /// Whether an outage is in progress (for the "available again" line).
    down: AtomicBool,
    /// When an outage was last logged, by callers that give up (RPC) and by callers that
    /// wait (consensus, commit): each kind is said at once, then at most every LOG_EVERY.
    last_log_ms: [AtomicU64; 2],
    born: Instant,
}

impl Retry {
    pub(crate) fn new(target: String) -> Self {
        Retry {
            target,
            down: AtomicBool::new(false),
            last_log_ms: [AtomicU64::new(0), AtomicU64::new(0)],
            born: Instant::now(),
        }
    }

    /// Runs `op` until it succeeds, fails for good, or `patience` (None = forever) runs out.
    pub(crate) fn run<T>(
        &self,
        what: &str,
        patience: Option<Duration>,
        mut op: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T, StorageError> {
        let started = Instant::now();
        let mut delay = BACKOFF_FIRST;
        loop {
            match op() {
                Ok(v) => {
                    if self.down.swap(false, Ordering::AcqRel) {
                        for slot in &self.last_log_ms {
                            slot.store(0, Ordering::Release);
                        }
                        tracing::info!(target_db = %self.target, "storage available again: {what} succeeded");
                    }
                    return Ok(v);
                }
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient(reason)) => {
                    self.note_outage(what, &reason, patience.is_some());
                    if patience.is_some_and(|p| started.elapsed() + delay > p) {
                        return Err(StorageError::Backend(format!(
                            "storage unavailable: {} at {}: {reason}",
                            what, self.target
                        )));
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    fn note_outage(&self, what: &str, reason: &str, bounded: bool) {
        // +1 so that 0 means "never logged".
        let now = self.born.elapsed().as_millis() as u64 + 1;
        let first = !self.down.swap(true, Ordering::AcqRel);
        let slot = &self.last_log_ms[usize::from(bounded)];
        let last = slot.load(Ordering::Acquire);
        if first || last == 0 || now.saturating_sub(last) >= LOG_EVERY.as_millis() as u64 {
            slot.store(now, Ordering::Release);
            let then = if bounded { "retrying briefly" } else { "retrying until it is back" };
            tracing::warn!(target_db = %self.target, "storage unavailable: {what} failed: {reason}; {then}");
        }
    }
}

/// How long a read may wait for an unavailable database: callers on a tokio runtime (RPC,
/// network) get an error after [`ASYNC_CALLER_PATIENCE`] so they keep answering; plain threads
/// (the consensus driver, block execution and commit) wait until it is back, because a failed
/// read there would be taken for a fault of the block or of the node.
pub(crate) fn read_patience() -> Option<Duration> {
    tokio::runtime::Handle::try_current().ok().map(|_| ASYNC_CALLER_PATIENCE)
}
