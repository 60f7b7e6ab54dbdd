//! Shared helpers for the network integration tests: a throw-away PKI in a temp dir, node
//! setups, and polling with generous deadlines (never a sleep as an assertion).
#![allow(dead_code)]

use aurum_crypto::{KeyPair, SuiteKind, suite};
use aurum_network::pki::{Issuer, write_node_files};
use aurum_network::{Inbound, Network, NetworkConfig, TlsFiles};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

pub const DEADLINE: Duration = Duration::from_secs(20);
pub const DAY: Duration = Duration::from_secs(86_400);

pub struct Env {
    pub dir: tempfile::TempDir,
}

/// A chain CA with one agency; `file` is the CA certificate nodes trust.
pub struct Ca {
    pub root: Issuer,
    pub agency: Issuer,
    pub file: PathBuf,
}

/// What a node needs to start: its consensus key and a config trusting `ca_certs`.
pub struct Node {
    pub key: KeyPair,
    pub kind: SuiteKind,
    pub config: NetworkConfig,
    pub dir: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap() }
    }

    pub fn ca(&self, name: &str, agency: &str) -> Ca {
        let root = Issuer::new_ca(name, 365).unwrap();
        let agency = root.new_agency(agency, 365).unwrap();
        let file = self.dir.path().join(format!("{name}.crt"));
        std::fs::write(&file, root.cert_pem()).unwrap();
        Ca { root, agency, file }
    }

    /// A node with a fresh key and a certificate from `issuer`, valid for a day.
    pub fn node(&self, issuer: &Issuer, name: &str, kind: SuiteKind, trust: &[&Ca]) -> Node {
        let now = SystemTime::now();
        self.node_valid(issuer, name, kind, trust, now - Duration::from_secs(60), now + DAY)
    }

    pub fn node_valid(
        &self,
        issuer: &Issuer,
        name: &str,
        kind: SuiteKind,
        trust: &[&Ca],
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Node {
        let key = KeyPair::generate(kind);
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let (chain, tls_key) =
            issuer.issue_node(name, &key.public(), not_before, not_after).unwrap();
        write_node_files(&dir, &chain, &tls_key).unwrap();
        let tls = TlsFiles {
            ca_certs: trust.iter().map(|c| c.file.clone()).collect(),
            cert_chain: dir.join("ssl.crt"),
            key: dir.join("ssl.key"),
        };
        let config = NetworkConfig::new("127.0.0.1:0".parse().unwrap(), tls);
        Node { key, kind, config, dir }
    }
}

impl Node {
    pub async fn start(&self, peers: &[SocketAddr]) -> Network {
        let mut config = self.config.clone();
        config.peers = peers.to_vec();
        Network::start(config, self.key.clone(), suite(self.kind)).await.unwrap()
    }

    pub async fn start_with(&self, config: NetworkConfig) -> Network {
        Network::start(config, self.key.clone(), suite(self.kind)).await.unwrap()
    }
}

/// Polls `cond` every 20 ms until it holds; panics naming `what` after [`DEADLINE`].
pub async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn wait_connected(net: &Network, n: usize) {
    wait_for(&format!("{} connected to {n} peers", net.local_addr()), || {
        net.connected().len() == n
    })
    .await;
}

pub fn refused_with(net: &Network, needle: &str) -> bool {
    net.refusals().iter().any(|l| l.contains("refused peer") && l.contains(needle))
}

pub async fn recv(rx: &mut mpsc::Receiver<Inbound>) -> Inbound {
    tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .expect("timed out receiving")
        .expect("channel closed")
}

/// Sends `payload` from `from` to `to` until `rx` (registered on `to` for that route) gets it:
/// right after a reconnect the sender may still hold the connection that is closing.
pub async fn deliver(
    from: &Network,
    to: &Network,
    rx: &mut mpsc::Receiver<Inbound>,
    group: &str,
    module: aurum_network::Module,
    payload: &'static [u8],
) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        assert!(tokio::time::Instant::now() < deadline, "timed out delivering {payload:?}");
        if from.send(&to.node_id(), group, module, bytes::Bytes::from_static(payload))
            && let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
        {
            assert_eq!((m.from, &m.payload[..]), (from.node_id(), payload));
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a [`Proxy`] does with the bytes it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forwards everything at once.
    Forward,
    /// Forwards nothing and keeps every socket open: to both ends the link goes silent, as in
    /// a network partition (bytes wait, as TCP would retransmit them, until it heals).
    Silent,
    /// Forwards at most this many bytes per second each way: a slow link.
    Throttle(usize),
    /// As `Silent`, but what was sent meanwhile is lost for good: connections open or opened
    /// while in this mode never forward again, as if every packet (SYNs too) were dropped
    /// until the network healed and TCP gave up on them.
    Blackhole,
}

/// A TCP proxy on 127.0.0.1 in front of `target`, whose behaviour can be switched live.
pub struct Proxy {
    pub addr: SocketAddr,
    mode: std::sync::Arc<parking_lot::Mutex<Mode>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = std::sync::Arc::new(parking_lot::Mutex::new(Mode::Forward));
        let m = mode.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let m = m.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(target).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let dead = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                    tokio::join!(pump(cr, sw, m.clone(), dead.clone()), pump(sr, cw, m, dead));
                });
            }
        });
        Proxy { addr, mode, task }
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock() = mode;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to` as the mode allows; ends when either side closes.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: std::sync::Arc<parking_lot::Mutex<Mode>>,
    dead: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let now = *mode.lock();
        if now == Mode::Blackhole {
            dead.store(true, Relaxed);
        }
        if dead.load(Relaxed) {
            // Keeps both sockets open and silent until the test ends.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let chunk = match now {
            Mode::Blackhole => unreachable!(),
            Mode::Silent => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Mode::Forward => buf.len(),
            // Chunks of a tenth of a second's worth.
            Mode::Throttle(rate) => (rate / 10).clamp(1, buf.len()),
        };
        let n = match from.read(&mut buf[..chunk]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // Bytes read just before the link went silent wait too (or are lost).
        loop {
            match *mode.lock() {
                Mode::Silent => {}
                Mode::Blackhole => dead.store(true, Relaxed),
                _ => break,
            }
            if dead.load(Relaxed) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if dead.load(Relaxed) {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        if let Mode::Throttle(rate) = now {
            tokio::time::sleep(Duration::from_secs_f64(n as f64 / rate as f64)).await;
        }
    }
    let _ = to.shutdown().await;
}
