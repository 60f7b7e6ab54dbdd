//! Crash safety: a child process commits batches in a loop and is SIGKILLed at a random
//! moment; the reopened store must hold exactly one whole batch (every key the same counter)
//! and nothing committed may be lost (counter >= the last value the child reported).
//!
//! The child is this same test binary re-executed as `child_writer` with `CHILD_DIR_ENV` set.
//! A process kill leaves the OS page cache intact, so this proves atomicity and that a
//! returned `write` is in the WAL; surviving power loss additionally relies on `sync = true`
//! (WAL fsync before `write` returns), which is the default the child uses.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aurum_storage::{KvRead, KvStore, RocksConfig, RocksStore, WriteBatch};

const CHILD_DIR_ENV: &str = "AURUM_STORAGE_CRASH_CHILD_DIR";
const NAMESPACES: [&str; 2] = ["state", "history"];
const KEYS_PER_NAMESPACE: u32 = 8;
const ROUNDS: usize = 100;

fn key(i: u32) -> Vec<u8> {
    format!("key-{i:02}").into_bytes()
}

/// Child mode: write batches until killed. Without the env var this test does nothing.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else { return };
    let store = RocksStore::open(&dir, RocksConfig::default()).expect("child open");
    for ns in NAMESPACES {
        store.ensure_namespace(ns).expect("child ensure_namespace");
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    // Bounded so an orphaned child cannot run forever.
    while start.elapsed() < Duration::from_secs(30) {
        n += 1;
        let mut batch = WriteBatch::default();
        for ns in NAMESPACES {
            for i in 0..KEYS_PER_NAMESPACE {
                // Values grow with n so batches differ in size, not only in content.
                let mut value = n.to_be_bytes().to_vec();
                value.resize(8 + (n % 97) as usize, 0xab);
                batch.put(ns, key(i), value);
            }
        }
        store.write(batch).expect("child write");
        // One line per commit; a pipe write this short is atomic, so the parent never sees
        // half a line.
        println!("committed {n}");
    }
}

/// Kills (SIGKILL) and reaps the child however the parent's round ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_counter(dir: &Path) -> u64 {
    let store = RocksStore::open(dir, RocksConfig::default()).expect("reopen after crash");
    let mut seen = Vec::new();
    for ns in NAMESPACES {
        for i in 0..KEYS_PER_NAMESPACE {
            let value = store.get(ns, &key(i)).expect("get").expect("key missing after crash");
            let n = u64::from_be_bytes(value[..8].try_into().expect("8-byte counter"));
            assert_eq!(value.len(), 8 + (n % 97) as usize, "{ns}/{i}: torn value");
            seen.push(n);
        }
    }
    assert!(seen.iter().all(|&n| n == seen[0]), "keys from different batches: {seen:?}");
    seen[0]
}

/// One spawn-commit-kill-reopen cycle; returns the batch number the store holds.
fn one_round(round: usize) -> u64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("current_exe");
    let child = Command::new(exe)
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().expect("child stdout");

    // A reader thread drains the pipe (so the child never blocks on it) and reports commits.
    let (tx, rx) = mpsc::channel::<u64>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("committed ").and_then(|n| n.parse().ok())
                && tx.send(n).is_err()
            {
                break;
            }
        }
    });

    let first = rx.recv_timeout(Duration::from_secs(20));
    assert!(first.is_ok(), "round {round}: child committed nothing within 20 s");
    std::thread::sleep(Duration::from_micros(rand::random_range(0..15_000)));
    drop(child); // SIGKILL + wait
    reader.join().expect("reader thread");
    // Everything the child printed before dying is in the channel now.
    let last_reported = rx.try_iter().last().or(first.ok()).unwrap_or(0);

    let n = read_counter(dir.path());
    assert!(
        n == last_reported || n == last_reported + 1,
        "round {round}: store holds batch {n}, child last reported {last_reported}"
    );
    n
}

#[test]
fn kill9_leaves_a_whole_batch() {
    if std::env::var_os(CHILD_DIR_ENV).is_some() {
        return; // running as the child
    }
    let start = Instant::now();
    let mut held: Vec<u64> = (0..ROUNDS).map(one_round).collect();
    held.sort_unstable();
    eprintln!(
        "{ROUNDS} kill -9 rounds in {:.1?}; batches surviving per round: min {} median {} max {}",
        start.elapsed(),
        held[0],
        held[ROUNDS / 2],
        held[ROUNDS - 1]
    );
}
