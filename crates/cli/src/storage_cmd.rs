//! `aurum storage migrate`: copy a stopped node's RocksDB store into an empty PostgreSQL
//! database, every namespace and key, then verify the copy by reading both back.

use std::io::Write;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use aurum_storage::{
    KvRead, KvStore, PgConfig, PgStore, RocksConfig, RocksStore, Scan, WriteBatch,
};
use clap::{Args, Subcommand};

/// Keys per read and per written batch (one SQL transaction).
const CHUNK: usize = 5_000;

#[derive(Args)]
pub struct StorageArgs {
    #[command(subcommand)]
    command: StorageCommand,
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Copy a stopped node's RocksDB store (`--from nodeK/data`) into an empty PostgreSQL
    /// database and verify the copy; then set `[storage] backend = "postgres"` and `url`.
    Migrate {
        /// The node's RocksDB directory (`nodeK/data`; a node directory works too).
        #[arg(long)]
        from: PathBuf,
        /// `postgres://USER@HOST:PORT/DATABASE`; the database must exist and be empty.
        #[arg(long)]
        to: String,
    },
}

pub fn run(args: StorageArgs) -> anyhow::Result<()> {
    match args.command {
        StorageCommand::Migrate { from, to } => migrate(&from, &to),
    }
}

fn rocks_dir(from: &Path) -> anyhow::Result<PathBuf> {
    for dir in [from.to_path_buf(), from.join("data")] {
        if dir.join("CURRENT").exists() {
            return Ok(dir);
        }
    }
    bail!("{} holds no RocksDB store (no CURRENT file there or in its data/)", from.display())
}

fn migrate(from: &Path, to: &str) -> anyhow::Result<()> {
    let dir = rocks_dir(from)?;
    let source = RocksStore::open(&dir, RocksConfig::default()).map_err(|e| {
        if e.to_string().contains("LOCK") {
            anyhow::anyhow!(
                "{} is locked by a running process: stop the node before migrating its store",
                dir.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("opening {}", dir.display()))
        }
    })?;
    let target = PgStore::open(PgConfig::new(to)).context("opening the target database")?;
    let existing = target.namespaces();
    if !existing.is_empty() {
        bail!(
            "target {} is not empty (it holds {}): migrate only into an empty database",
            target.target(),
            existing.join(", ")
        );
    }
    let started = Instant::now();
    let namespaces = source.namespaces();
    let mut total = 0u64;
    for ns in &namespaces {
        target.ensure_namespace(ns)?;
        let mut copied = 0u64;
        for_each_chunk(&source, ns, |chunk| {
            let mut batch = WriteBatch::default();
            for (k, v) in chunk {
                batch.put(ns, k.clone(), v.clone());
            }
            target.write(batch)?;
            copied += chunk.len() as u64;
            progress(&format!("copying {ns}: {copied} keys"));
            Ok(())
        })?;
        total += copied;
        progress(&format!("copied {ns}: {copied} keys"));
        eprintln!();
    }
    // Verify: same count, and every entry equal in order on a fresh read of both.
    for ns in &namespaces {
        let mut checked = 0u64;
        let mut theirs_after: Option<Vec<u8>> = None;
        for_each_chunk(&source, ns, |chunk| {
            let from = match theirs_after.take() {
                Some(k) => Bound::Excluded(k),
                None => Bound::Unbounded,
            };
            let scan = Scan { from, to: Bound::Unbounded, reverse: false, limit: chunk.len() };
            let copy = target.scan(ns, &scan)?;
            if copy != chunk {
                bail!("verification failed: {ns} differs after key #{checked}");
            }
            checked += chunk.len() as u64;
            theirs_after = chunk.last().map(|(k, _)| k.clone());
            progress(&format!("verified {ns}: {checked} keys"));
            Ok(())
        })?;
        let count = target.count(ns)?;
        if count != checked {
            bail!(
                "verification failed: {ns} has {checked} keys in RocksDB but {count} in the copy"
            );
        }
    }
    eprintln!();
    println!(
        "migrated {total} keys in {} namespaces from {} to {} in {:.1}s and verified them; set \
         [storage] backend = \"postgres\" and url = \"{to}\" in the node's config.toml",
        namespaces.len(),
        dir.display(),
        target.target(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Calls `f` with the namespace's entries in key order, [`CHUNK`] at a time.
fn for_each_chunk(
    store: &RocksStore,
    ns: &str,
    mut f: impl FnMut(&[(Vec<u8>, Vec<u8>)]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut from = Bound::Unbounded;
    loop {
        let scan = Scan { from, to: Bound::Unbounded, reverse: false, limit: CHUNK };
        let chunk = store.scan(ns, &scan)?;
        let Some((last, _)) = chunk.last() else { return Ok(()) };
        from = Bound::Excluded(last.clone());
        f(&chunk)?;
        if chunk.len() < CHUNK {
            return Ok(());
        }
    }
}

fn progress(line: &str) {
    let mut err = std::io::stderr();
    let _ = write!(err, "\r{line:<70}");
    let _ = err.flush();
}
