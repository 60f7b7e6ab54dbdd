//! Opening the node's store: RocksDB in `node.data_dir`, or PostgreSQL at `[storage] url`.
//!
//! With PostgreSQL only keys, config and two small files stay local: `LOCK.pg`, held while
//! the node runs (the database has no lock of its own that would stop a second process of
//! the same node), and `pg-store.id`, the id of the store this node's data lives in, written
//! on first start; a database carrying another id (another node's, or re-created empty) is
//! refused, since its consensus record is not this node's and voting from it could
//! contradict votes already sent.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aurum_storage::{KvStore, PgConfig, PgStore, RocksConfig, RocksStore, StorageError};

use crate::{NodeError, Result, StorageBackend, StorageSection};

/// How long a starting node keeps trying to reach its database before giving up.
const CONNECT_AT_START: Duration = Duration::from_secs(15);
const STORE_ID_FILE: &str = "pg-store.id";

/// The store, and the local lock held for the node's lifetime (PostgreSQL only; RocksDB
/// locks its own directory).
pub(crate) fn open_store(
    section: &StorageSection,
    data_dir: &Path,
    config_path: &Path,
) -> Result<(Arc<dyn KvStore>, Option<File>)> {
    match section.backend {
        StorageBackend::Rocksdb => {
            let store = RocksStore::open(
                data_dir,
                RocksConfig { sync: section.sync, ..Default::default() },
            )
            .map_err(|e| match e.to_string().contains("LOCK") {
                true => NodeError::InUse { path: data_dir.to_path_buf() },
                false => NodeError::Storage(e),
            })?;
            Ok((Arc::new(store), None))
        }
        StorageBackend::Postgres => {
            let Some(url) = section.url.as_deref() else {
                return Err(NodeError::Config {
                    path: config_path.to_path_buf(),
                    reason: "[storage] backend = \"postgres\" needs url = \"postgres://USER@HOST:PORT/DATABASE\"".into(),
                });
            };
            std::fs::create_dir_all(data_dir)
                .map_err(|source| NodeError::Write { path: data_dir.to_path_buf(), source })?;
            let lock_path = data_dir.join("LOCK.pg");
            let lock = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|source| NodeError::Write { path: lock_path.clone(), source })?;
            if lock.try_lock().is_err() {
                return Err(NodeError::InUse { path: data_dir.to_path_buf() });
            }
            let config = PgConfig {
                sync: section.sync,
                connect_timeout: CONNECT_AT_START,
                ..PgConfig::new(url)
            };
            let store = PgStore::open(config)?;
            check_store_id(&store, data_dir)?;
            tracing::info!(store = store.target(), "storage: PostgreSQL");
            Ok((Arc::new(store), Some(lock)))
        }
    }
}

/// Remembers the store's id on first start; refuses a database carrying another.
fn check_store_id(store: &PgStore, data_dir: &Path) -> Result<()> {
    let path = data_dir.join(STORE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(known) if known.trim() == store.store_id() => Ok(()),
        Ok(known) => Err(NodeError::Storage(StorageError::Backend(format!(
            "database {} holds store {}, but this node ({}) was running on store {}: it is \
             another node's database or was re-created; refusing to start (point [storage] url \
             at this node's database, or delete {} if the change is intended)",
            store.target(),
            store.store_id(),
            data_dir.display(),
            known.trim(),
            path.display()
        )))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut file = File::create(&path)
                .map_err(|source| NodeError::Write { path: path.clone(), source })?;
            file.write_all(store.store_id().as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|source| NodeError::Write { path: path.clone(), source })
        }
        Err(source) => Err(NodeError::Read { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_section_parses_and_postgres_needs_a_url() {
        let rocks: StorageSection = toml::from_str("sync = false").unwrap();
        assert_eq!(
            (rocks.backend, rocks.url.as_deref(), rocks.sync),
            (StorageBackend::Rocksdb, None, false)
        );
        let pg: StorageSection =
            toml::from_str("backend = \"postgres\"\nurl = \"postgres://a@h:5/db\"").unwrap();
        assert_eq!(pg.backend, StorageBackend::Postgres);
        assert_eq!(pg.url.as_deref(), Some("postgres://a@h:5/db"));
        assert!(toml::from_str::<StorageSection>("backend = \"mysql\"").is_err());

        let dir = tempfile::tempdir().unwrap();
        let no_url = StorageSection { url: None, ..pg.clone() };
        let err = open_store(&no_url, dir.path(), Path::new("config.toml")).err().unwrap();
        assert!(err.to_string().contains("needs url"), "{err}");
        let bad = StorageSection { url: Some("not a url".into()), ..pg };
        let err = open_store(&bad, dir.path(), Path::new("config.toml")).err().unwrap();
        assert!(err.to_string().contains("invalid PostgreSQL URL"), "{err}");
    }
}
