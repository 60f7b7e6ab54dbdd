//! Test harness: builds a chain directory with the real `aurum` binary and runs its node
//! as a child process, waiting on `ready.json` rather than guessing.
#![allow(dead_code)]

pub mod chain;
pub mod prometheus;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_aurum");

/// Tests that start node processes take turns: on a busy 2-core machine, parallel chains
/// would only stretch each other's deadlines. Hold the guard for the whole test.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates a one-node chain in `dir` (RPC on a free port) with extra `build-chain` flags.
pub fn build_chain(dir: &Path, extra: &[&str]) {
    let out = Command::new(BIN)
        .args(["build-chain", "--rpc-port", "0", "--p2p-port", "0", "--dir"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("run aurum build-chain");
    assert!(out.status.success(), "build-chain failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Replaces `from`, which must be there, with `to` in node K's `config.toml` under `dir`.
pub fn edit_config(dir: &Path, k: usize, from: &str, to: &str) {
    let path = dir.join(format!("node{k}/config.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{}: no {from:?} to replace in\n{text}", path.display());
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// Creates an `n`-node chain in `dir` on free ports (RPC base, P2P base) with extra flags.
pub fn build_consortium(dir: &Path, n: u16, extra: &[&str]) {
    let rpc = free_port_range(n + 2).to_string();
    let p2p = free_port_range(n + 2).to_string();
    let out = Command::new(BIN)
        .args(["build-chain", "--nodes", &n.to_string(), "--rpc-port", &rpc, "--p2p-port", &p2p])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .output()
        .expect("run aurum build-chain");
    assert!(out.status.success(), "build-chain failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A base port with `n` free ports after it (checked by binding them), away from the
/// ephemeral range so outgoing connections do not take them meanwhile.
pub fn free_port_range(n: u16) -> u16 {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let seed = (std::process::id() as u16).wrapping_mul(97) % 200;
    loop {
        let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = 20_000 + (seed + k * 11) % 2000 * 10;
        let all_free = (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if all_free {
            return base;
        }
    }
}

/// A running `aurum node`; killed (by pid) when dropped.
pub struct TestNode {
    pub dir: PathBuf,
    pub index: usize,
    child: Option<Child>,
    pub ready: Value,
}

impl TestNode {
    /// Starts node 0 of the chain in `dir` and waits (up to 120 s) until it serves.
    pub fn start(dir: &Path) -> TestNode {
        Self::start_node(dir, 0)
    }

    /// Starts node `index` of the chain in `dir` and waits (up to 120 s) until it serves.
    pub fn start_node(dir: &Path, index: usize) -> TestNode {
        let node_dir = dir.join(format!("node{index}"));
        let _ = std::fs::remove_file(node_dir.join("ready.json"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node_dir.join("node.log"))
            .expect("open node log");
        let child = Command::new(BIN)
            .arg("node")
            .arg("--config")
            .arg(node_dir.join("config.toml"))
            .env("AURUM_STOP_WITH_PARENT", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn aurum node");
        let mut node =
            TestNode { dir: dir.to_path_buf(), index, child: Some(child), ready: Value::Null };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(text) = std::fs::read(node_dir.join("ready.json"))
                && let Ok(v) = serde_json::from_slice::<Value>(&text)
            {
                node.ready = v;
                return node;
            }
            if let Some(status) = node.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("node exited during start-up ({status}):\n{}", node.log_tail());
            }
            assert!(Instant::now() < deadline, "node not ready in 120 s:\n{}", node.log_tail());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        self.ready["rpc_url"].as_str().expect("rpc_url").to_string()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit (asserts it exits 0 within 60 s).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Some(status) = c.try_wait().expect("wait") {
                    assert!(status.success(), "node exited with {status}:\n{}", self.log_tail());
                    return;
                }
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    panic!("node did not stop within 60 s of SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("node{}/node.log", self.index)))
            .unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn artifact(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/artifacts")
        .join(format!("{name}.json"))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
