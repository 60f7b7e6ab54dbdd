//! A four-node chain split 2|2 by a network partition and healed: every P2P byte between two
//! nodes goes through a proxy in this test process (one per ordered pair), and a partition
//! makes the proxies across it forward nothing while keeping every socket open, as a real
//! partition does (no FIN, no RST: only the keepalive timeout can tell). Prints the time
//! from the heal to the next commit.

mod common;

use aurum_sdk::{B256, Client, KeyPair, SuiteKind, TxRequest};
use common::chain::*;
use common::*;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// A TCP proxy to one node's P2P listener that forwards, or goes silent while `silent` is set.
struct Proxy {
    addr: SocketAddr,
    silent: Arc<AtomicBool>,
}

impl Proxy {
    fn start(rt: &Runtime, target: SocketAddr) -> Proxy {
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&silent);
        rt.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let flag = Arc::clone(&flag);
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(target).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pump(cr, sw, Arc::clone(&flag)), pump(sr, cw, flag));
                });
            }
        });
        Proxy { addr, silent }
    }
}

/// Copies `from` to `to`; while silent, reads and writes nothing (bytes wait, as TCP would
/// retransmit them, until the partition heals).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    silent: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while silent.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while silent.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Node K's `[p2p] listen` address.
fn listen_of(dir: &Path, k: usize) -> SocketAddr {
    let text = std::fs::read_to_string(dir.join(format!("node{k}/config.toml"))).unwrap();
    let config: toml::Table = text.parse().unwrap();
    config["p2p"]["listen"].as_str().unwrap().parse().unwrap()
}

/// Makes node K dial `peers` instead of the others' listeners.
fn set_peers(dir: &Path, k: usize, peers: &[SocketAddr]) {
    let path = dir.join(format!("node{k}/config.toml"));
    let mut config: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let p2p = config.get_mut("p2p").unwrap().as_table_mut().unwrap();
    let list = peers.iter().map(|p| toml::Value::String(p.to_string())).collect();
    p2p.insert("peers".into(), toml::Value::Array(list));
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
}

fn peer_count(rt: &Runtime, url: &str) -> usize {
    rt.block_on(async {
        let Ok(client) = Client::connect(url.to_string(), "group0").await else { return 0 };
        let list: serde_json::Value =
            client.request("getPeers", serde_json::json!([])).await.unwrap_or_default();
        list.as_array().map_or(0, |a| a.len())
    })
}

fn send(
    rt: &Runtime,
    url: &str,
    key: &KeyPair,
    token: aurum_sdk::Address,
    input: &aurum_sdk::Bytes,
) -> B256 {
    rt.block_on(async {
        let client = Client::connect(url.to_string(), "group0").await.unwrap();
        client.send_transaction(key, TxRequest::call(token, input.clone())).await.unwrap()
    })
}

/// ERROR lines in a node's log (the log format names the level as a word).
fn error_lines(node: &TestNode) -> Vec<String> {
    node.log().lines().filter(|l| l.contains(" ERROR ")).map(str::to_string).collect()
}

/// Proxies between every ordered pair: `proxies[i][j]` is how node i reaches node j.
type Mesh = Vec<Vec<Option<Proxy>>>;

/// A 4-node chain whose every P2P link goes through a proxy, started and fully linked.
fn chain_behind_proxies(rt: &Runtime) -> (tempfile::TempDir, Mesh, Vec<TestNode>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_consortium(&dir, 4, &["--min-seal-ms", "50", "--view-timeout-ms", "1000"]);
    let listens: Vec<SocketAddr> = (0..4).map(|k| listen_of(&dir, k)).collect();
    let proxies: Mesh = (0..4)
        .map(|i| (0..4).map(|j| (i != j).then(|| Proxy::start(rt, listens[j]))).collect())
        .collect();
    for (i, row) in proxies.iter().enumerate() {
        let peers: Vec<SocketAddr> = row.iter().flatten().map(|p| p.addr).collect();
        set_peers(&dir, i, &peers);
    }
    let nodes: Vec<TestNode> = (0..4).map(|k| TestNode::start_node(&dir, k)).collect();
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    wait_until(
        "a full mesh",
        60,
        || urls.iter().all(|u| peer_count(rt, u) == 3),
        || all_logs(&nodes),
    );
    (tmp, proxies, nodes)
}

/// Silences (or restores) every link between nodes on different sides.
fn partition(proxies: &Mesh, side: impl Fn(usize) -> usize, on: bool) {
    for (i, row) in proxies.iter().enumerate() {
        for (j, p) in row.iter().enumerate() {
            if let Some(p) = p
                && side(i) != side(j)
            {
                p.silent.store(on, Ordering::Relaxed);
            }
        }
    }
}

/// ERROR lines each node logged after it had logged `before[k]` of them.
fn new_errors(nodes: &[TestNode], before: &[usize]) -> Vec<String> {
    let mut errors = Vec::new();
    for (n, skip) in nodes.iter().zip(before) {
        for line in error_lines(n).into_iter().skip(*skip) {
            errors.push(format!("node{}: {line}", n.index));
        }
    }
    errors
}

#[test]
fn a_healed_two_two_partition_commits_again() {
    let _serial = serial();
    let rt = runtime();
    let (_tmp, proxies, mut nodes) = chain_behind_proxies(&rt);
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    let key = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let (token, input) = deploy_token(&rt, &urls[0], &key);
    let errors_before: Vec<usize> = nodes.iter().map(|n| error_lines(n).len()).collect();

    // Partition {0, 1} | {2, 3}.
    let side = |k: usize| k / 2;
    partition(&proxies, side, true);
    let t0 = Instant::now();
    wait_until(
        "every node to declare the other side gone",
        30,
        || urls.iter().all(|u| peer_count(&rt, u) == 1),
        || all_logs(&nodes),
    );
    let detected = t0.elapsed();
    // Txs wait in both halves' pools; neither half has a quorum (3 of 4).
    let h0 = head(&rt, &urls[0]).unwrap();
    let mut sent = vec![send(&rt, &urls[0], &key, token, &input)];
    sent.push(send(&rt, &urls[2], &key, token, &input));
    // A partition long enough for the view timeouts to have doubled a few times.
    std::thread::sleep(Duration::from_secs(8));
    for u in &urls {
        let h = head(&rt, u).unwrap();
        assert!(h <= h0 + 1, "committed {h} > {h0} + 1 without a quorum");
    }
    let stalled = urls.iter().map(|u| head(&rt, u).unwrap()).max().unwrap();

    partition(&proxies, side, false);
    let healed = Instant::now();
    wait_until(
        "every node linked to the three others again",
        60,
        || urls.iter().all(|u| peer_count(&rt, u) == 3),
        || all_logs(&nodes),
    );
    let relinked = healed.elapsed();
    wait_until(
        "a commit after the heal",
        60,
        || head(&rt, &urls[0]).unwrap_or(0) > stalled,
        || all_logs(&nodes),
    );
    let committed = healed.elapsed();
    eprintln!(
        "2|2 partition: other side declared gone after {} ms; after the heal: relinked in {} ms, \
         next commit in {} ms (target 3000 ms)",
        detected.as_millis(),
        relinked.as_millis(),
        committed.as_millis()
    );
    // Generous bounds, so a busy 2-core machine does not flake; the figures are printed.
    assert!(detected < Duration::from_secs(15), "partition noticed after {detected:?}");
    assert!(committed < Duration::from_secs(30), "first commit {committed:?} after the heal");

    // The txs sent during the partition commit, once, on every node.
    rt.block_on(async {
        let client = Client::connect(urls[3].clone(), "group0").await.unwrap();
        for h in &sent {
            client.wait_for_receipt(*h, Duration::from_secs(60)).await.unwrap();
        }
    });
    let more = send(&rt, &urls[3], &key, token, &input);
    rt.block_on(async {
        let client = Client::connect(urls[1].clone(), "group0").await.unwrap();
        client.wait_for_receipt(more, Duration::from_secs(60)).await.unwrap();
    });
    wait_converged(&rt, &nodes, 120);

    // Every node rejoined: none logged an ERROR since the partition began.
    let errors = new_errors(&nodes, &errors_before);
    assert!(errors.is_empty(), "ERROR lines after the partition:\n{}", errors.join("\n"));
    // The network said who went and who came back, once per peer and side.
    for n in &nodes {
        let log = n.log();
        assert!(log.contains("is gone: timeout: nothing received for"), "node{}", n.index);
        assert!(log.contains("is back at") && log.contains("it had gone: timeout"));
    }
    // AURUM_KEEP_LOGS=1 prints every node's whole log (to read the gone/back lines).
    if std::env::var_os("AURUM_KEEP_LOGS").is_some() {
        for n in &nodes {
            eprintln!("--- node{} ---\n{}", n.index, n.log());
        }
    }
    for n in &mut nodes {
        n.stop();
    }
}

/// One node cut off while the other three go on committing under load, then healed: it
/// catches up by sync while consensus resumes, and logs no ERROR doing so.
#[test]
fn an_isolated_node_rejoins_and_catches_up_without_an_error() {
    let _serial = serial();
    let rt = runtime();
    let (_tmp, proxies, mut nodes) = chain_behind_proxies(&rt);
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    let key = Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak));
    let (token, input) = deploy_token(&rt, &urls[0], &key);
    let errors_before: Vec<usize> = nodes.iter().map(|n| error_lines(n).len()).collect();
    let seen: Seen = Arc::default();
    let load = Load::start(&rt, &urls[0], &key, token, &input, &seen);
    let side = |k: usize| usize::from(k == 3);
    partition(&proxies, side, true);
    wait_until("node3 alone", 30, || peer_count(&rt, &urls[3]) == 0, || all_logs(&nodes));
    let behind = head(&rt, &urls[3]).unwrap();
    wait_until(
        "the other three commit 20 blocks without node3",
        120,
        || head(&rt, &urls[0]).unwrap_or(0) >= behind + 20,
        || all_logs(&nodes),
    );
    partition(&proxies, side, false);
    let healed = Instant::now();
    wait_until(
        "node3 catches up",
        120,
        || head(&rt, &urls[3]).unwrap_or(0) + 2 >= head(&rt, &urls[0]).unwrap_or(0),
        || all_logs(&nodes),
    );
    eprintln!(
        "isolated node: {} blocks behind at the heal, caught up in {} ms",
        head(&rt, &urls[0]).unwrap_or(0).saturating_sub(behind),
        healed.elapsed().as_millis()
    );
    load.finish(&rt);
    wait_converged(&rt, &nodes, 120);
    let errors = new_errors(&nodes, &errors_before);
    assert!(errors.is_empty(), "ERROR lines after the partition:\n{}", errors.join("\n"));
    for n in &mut nodes {
        n.stop();
    }
}
