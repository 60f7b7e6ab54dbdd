//! `PgStore` against a real throwaway PostgreSQL: the conformance suite, reopening, refusals
//! of foreign or newer stores, and riding out a server restart. One cluster per test.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::testing::PgCluster;
use super::{PgConfig, PgStore};
use crate::{KvRead, KvStore, SCHEMA_VERSION, Scan, StorageError, WriteBatch, conformance};

fn cluster() -> Option<PgCluster> {
    PgCluster::start()
}

#[test]
fn conformance_pg() {
    let Some(pg) = cluster() else { return };
    let store = PgStore::open(PgConfig::new(pg.database("conf"))).unwrap();
    conformance::run_all(&store).unwrap();
    let unsynced = PgConfig { sync: false, ..PgConfig::new(pg.database("conf_unsynced")) };
    conformance::run_all(&PgStore::open(unsynced).unwrap()).unwrap();
}

#[test]
fn pg_reopen_refusals_and_restart() {
    let Some(pg) = cluster() else { return };
    let url = pg.database("node");

    // Data and namespaces persist; the store id is stable.
    let store = PgStore::open(PgConfig::new(&url)).unwrap();
    store.ensure_namespace("g.state").unwrap();
    store.ensure_namespace("empty").unwrap();
    let mut b = WriteBatch::default();
    for i in 0u32..1000 {
        b.put("g.state", i.to_be_bytes().to_vec(), (i * 2).to_be_bytes().to_vec());
    }
    store.write(b).unwrap();
    let id = store.store_id().to_owned();
    assert_eq!(id.len(), 32);
    drop(store);
    let store = PgStore::open(PgConfig::new(&url)).unwrap();
    assert_eq!(store.namespaces(), vec!["empty".to_owned(), "g.state".to_owned()]);
    assert_eq!(store.store_id(), id);
    assert_eq!(store.count("g.state").unwrap(), 1000);
    assert_eq!(
        store.get("g.state", &7u32.to_be_bytes()).unwrap(),
        Some(14u32.to_be_bytes().to_vec())
    );

    // The server goes away and comes back: a write waits for it, reads from an async context
    // give up, and a snapshot taken before keeps showing the state before that write.
    let snap = store.snapshot();
    assert_eq!(snap.scan("g.state", &Scan::all().with_limit(1)).unwrap().len(), 1);
    pg.stop();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    match rt.block_on(async { store.get("g.state", b"x") }) {
        Err(StorageError::Backend(m)) => assert!(m.contains("storage unavailable"), "{m}"),
        other => panic!("read from an async context while down: {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    let store = Arc::new(store);
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            let mut b = WriteBatch::default();
            b.put("g.state", b"during outage".to_vec(), b"1".to_vec());
            b.put("g.state", 7u32.to_be_bytes().to_vec(), b"new".to_vec());
            store.write(b)
        })
    };
    std::thread::sleep(Duration::from_millis(800));
    assert!(!writer.is_finished(), "a write returned while the database was down");
    assert!(rt.block_on(async { snap.get("g.state", b"x") }).is_err(), "snapshot read while down");
    pg.start_server();
    writer.join().unwrap().unwrap();
    assert_eq!(store.get("g.state", b"during outage").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.get("g.state", &7u32.to_be_bytes()).unwrap(), Some(b"new".to_vec()));
    assert_eq!(snap.get("g.state", b"during outage").unwrap(), None);
    assert_eq!(
        snap.get("g.state", &7u32.to_be_bytes()).unwrap(),
        Some(14u32.to_be_bytes().to_vec())
    );
    drop(snap);
    let store = Arc::into_inner(store).unwrap();
    drop(store);

    // A newer schema is refused, naming both versions.
    let admin = PgStore::open(PgConfig::new(&url)).unwrap();
    let set_version = |v: u32| {
        let url = url.clone();
        let io = super::conn::Io::new().unwrap();
        let c = io.connect(&url.parse().unwrap()).ok().unwrap();
        io.block(async move {
            c.execute(
                "UPDATE aurum_meta SET v = $1 WHERE k = 'schema_version'::BYTEA",
                &[&v.to_be_bytes().to_vec()],
            )
            .await
            .unwrap();
        })
        .ok()
        .unwrap();
    };
    drop(admin);
    set_version(SCHEMA_VERSION + 1);
    match PgStore::open(PgConfig::new(&url)) {
        Err(StorageError::SchemaMismatch { found, expected, path }) => {
            assert_eq!((found, expected), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
            assert!(path.contains("/node"), "{path}");
        }
        other => panic!("newer schema: {other:?}"),
    }
    set_version(SCHEMA_VERSION);
    PgStore::open(PgConfig::new(&url)).unwrap();

    // A database holding other tables is not taken over.
    let foreign = pg.database("foreign");
    {
        let io = super::conn::Io::new().unwrap();
        let c = io.connect(&foreign.parse().unwrap()).ok().unwrap();
        io.block(async move { c.batch_execute("CREATE TABLE accounts (id INT)").await.unwrap() })
            .ok()
            .unwrap();
    }
    assert!(matches!(
        PgStore::open(PgConfig::new(&foreign)),
        Err(StorageError::SchemaMismatch { found: 0, .. })
    ));

    // A missing database and an unreachable server fail with the reason, quickly.
    let err = PgStore::open(PgConfig::new(pg.url("nope"))).unwrap_err().to_string();
    assert!(err.contains("nope") && err.contains("does not exist"), "{err}");
    let dead = format!("postgres://postgres@127.0.0.1:{}/x", super::testing::free_port_for_tests());
    let started = Instant::now();
    let config = PgConfig { connect_timeout: Duration::from_secs(1), ..PgConfig::new(dead) };
    let err = PgStore::open(config).unwrap_err().to_string();
    assert!(err.contains("cannot open the PostgreSQL store"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(PgStore::open(PgConfig::new("not a url")).is_err());
}

/// Snapshots and cached reads racing a writer: every snapshot sees one whole batch (all
/// keys equal, across separate gets, also after later writes), and plain reads of a key
/// never go back in time.
#[test]
fn pg_snapshots_and_cache_under_concurrent_writes() {
    let Some(pg) = cluster() else { return };
    let store = Arc::new(PgStore::open(PgConfig::new(pg.database("race"))).unwrap());
    store.ensure_namespace("s").unwrap();
    let keys: Vec<Vec<u8>> = (0u8..8).map(|i| vec![i]).collect();
    let put_all = |n: u64| {
        let mut b = WriteBatch::default();
        for k in &keys {
            b.put("s", k.clone(), n.to_be_bytes().to_vec());
        }
        store.write(b).unwrap();
    };
    put_all(0);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let (store, keys, stop) = (Arc::clone(&store), keys.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let value = |v: Option<Vec<u8>>| u64::from_be_bytes(v.unwrap().try_into().unwrap());
                let mut last_plain = 0;
                let mut checked = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let snap = store.snapshot();
                    let first = value(snap.get("s", &keys[0]).unwrap());
                    for k in &keys[1..] {
                        std::thread::yield_now();
                        assert_eq!(
                            value(snap.get("s", k).unwrap()),
                            first,
                            "reader {r}: torn snapshot"
                        );
                    }
                    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                    for v in snap.multi_get("s", &refs).unwrap() {
                        assert_eq!(value(v), first, "reader {r}: torn multi_get");
                    }
                    let plain = value(store.get("s", &keys[r]).unwrap());
                    assert!(plain >= last_plain, "reader {r}: {plain} after {last_plain}");
                    last_plain = plain;
                    checked += 1;
                }
                checked
            })
        })
        .collect();
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(3) {
        n += 1;
        put_all(n);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 10);
    }
    assert!(n > 10, "only {n} writes");
}
