//! Chains whose nodes keep everything in PostgreSQL (one throwaway server, one database per
//! node): kill -9 under load and catch-up, the server stopped under load and started again,
//! a node refusing another node's database, and `aurum storage migrate` from RocksDB.
//! Skipped, loudly, only where no PostgreSQL server binaries exist (`.ci/run` installs them).

mod common;

use aurum_sdk::{Client, KeyPair, SuiteKind, TxRequest};
use aurum_storage::pg::testing::PgCluster;
use common::chain::*;
use common::*;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const FLAGS: [&str; 4] = ["--min-seal-ms", "50", "--view-timeout-ms", "1000"];

/// Waits until all nodes report the same head, then checks every height's hash agrees and
/// every acknowledged receipt is where it was acknowledged.
fn converged_with_receipts(rt: &Runtime, nodes: &[TestNode], seen: &Seen, secs: u64) -> u64 {
    wait_until(
        "all nodes to reach the same head",
        secs,
        || {
            let heads: Vec<Option<u64>> = nodes.iter().map(|n| head(rt, &n.url())).collect();
            heads.iter().all(|h| h.is_some() && *h == heads[0])
        },
        || all_logs(nodes),
    );
    let seen = rt.block_on(async { seen.lock().await.clone() });
    rt.block_on(async {
        let mut clients = Vec::new();
        for n in nodes {
            clients.push(Client::connect(n.url(), "group0").await.unwrap());
        }
        let low = clients[0].block_number().await.unwrap();
        for number in 0..=low {
            let first = clients[0].block_hash_by_number(number).await.unwrap();
            for (k, c) in clients.iter().enumerate().skip(1) {
                let other = c.block_hash_by_number(number).await.unwrap();
                assert_eq!(other, first, "node{k} differs from node0 at height {number}");
            }
        }
        for (i, (hash, (number, block_hash))) in seen.iter().enumerate() {
            let k = i % clients.len();
            let r = clients[k]
                .receipt(*hash)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged tx {hash} missing on node{k}"));
            assert_eq!((r.block_number, r.block_hash), (*number, *block_hash), "tx {hash} moved");
        }
        low
    })
}

fn set_storage_url(node_dir: &Path, url: &str) {
    let path = node_dir.join("config.toml");
    let mut config: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let storage = config
        .as_table_mut()
        .unwrap()
        .entry("storage")
        .or_insert(toml::Value::Table(Default::default()));
    let storage = storage.as_table_mut().unwrap();
    storage.insert("backend".into(), toml::Value::String("postgres".into()));
    storage.insert("url".into(), toml::Value::String(url.into()));
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
}

/// `aurum node` that must fail to start; returns its stderr.
fn node_refuses(node_dir: &Path) -> String {
    let out = Command::new(BIN)
        .arg("node")
        .arg("--config")
        .arg(node_dir.join("config.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "node started but should have refused");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn four_nodes_on_postgres_survive_kill_nine_and_a_database_outage() {
    let _serial = serial();
    let Some(pg) = PgCluster::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    let mut flags = FLAGS.to_vec();
    let url = pg.url("chain");
    flags.extend(["--storage", &url]);
    build_consortium(&dir, 4, &flags);
    let config = std::fs::read_to_string(dir.join("node2/config.toml")).unwrap();
    assert!(
        config.contains("backend = \"postgres\"") && config.contains("/chain_node2"),
        "{config}"
    );
    let mut nodes: Vec<TestNode> = (0..4).map(|k| TestNode::start_node(&dir, k)).collect();
    assert!(
        !dir.join("node0/data/CURRENT").exists(),
        "a PostgreSQL node must not keep a RocksDB store"
    );
    let rt = runtime();
    let key = Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak));
    let (token, input) = deploy_token(&rt, &nodes[0].url(), &key);
    let seen: Seen = Arc::default();
    let count = |seen: &Seen| rt.block_on(async { seen.lock().await.len() });

    // kill -9 under load, three times, each a different node.
    for (round, (victim, target)) in [(0usize, 1usize), (2, 3), (3, 0)].into_iter().enumerate() {
        let load = Load::start(&rt, &nodes[target].url(), &key, token, &input, &seen);
        let before = count(&seen);
        wait_until(
            &format!("round {round}: load going"),
            90,
            || count(&seen) >= before + 40,
            || all_logs(&nodes),
        );
        nodes[victim].kill9();
        let before = count(&seen);
        wait_until(
            &format!("round {round}: progress without node{victim}"),
            90,
            || count(&seen) >= before + 40,
            || all_logs(&nodes),
        );
        nodes[victim] = TestNode::start_node(&dir, victim);
        load.finish(&rt);
    }
    let head_before = converged_with_receipts(&rt, &nodes, &seen, 120);

    // The database goes away under load: commits stop, each node says why, the RPC answers.
    let load = Load::start(&rt, &nodes[1].url(), &key, token, &input, &seen);
    let before = count(&seen);
    wait_until(
        "load going before the outage",
        90,
        || count(&seen) >= before + 40,
        || all_logs(&nodes),
    );
    pg.stop();
    let outage = Instant::now();
    wait_until(
        "every node to log that storage is unavailable",
        60,
        || nodes.iter().all(|n| n.log().contains("storage unavailable")),
        || all_logs(&nodes),
    );
    for n in &nodes {
        let asked = Instant::now();
        let answer = rt.block_on(raw_block_number(&n.url()));
        assert!(
            asked.elapsed() < Duration::from_secs(15),
            "node{} RPC took {:?}",
            n.index,
            asked.elapsed()
        );
        assert!(answer.is_some(), "node{} RPC did not answer while the database was down", n.index);
    }
    // The consensus or commit path (plain threads, which wait for the database rather than
    // fail) is stuck on storage, not just the RPC.
    wait_until(
        "a node's consensus or commit to wait for the database",
        60,
        || nodes.iter().any(|n| n.log().contains("retrying until it is back")),
        || all_logs(&nodes),
    );
    // The scenario: an outage of several seconds under load, not a blip.
    if let Some(rest) = Duration::from_secs(6).checked_sub(outage.elapsed()) {
        std::thread::sleep(rest);
    }
    pg.start_server();
    // Senders still waiting for receipts get them now (or stopped at an RPC error).
    load.finish(&rt);
    let acked = count(&seen);
    let load = Load::start(&rt, &nodes[2].url(), &key, token, &input, &seen);
    wait_until(
        "commits to resume after the outage",
        120,
        || count(&seen) >= acked + 40,
        || all_logs(&nodes),
    );
    load.finish(&rt);
    let head_after = converged_with_receipts(&rt, &nodes, &seen, 120);
    let said: Vec<String> = nodes[1]
        .log()
        .lines()
        .filter(|l| l.contains("storage unavailable") || l.contains("available again"))
        .map(str::to_owned)
        .collect();
    eprintln!("node1 on the outage:\n{}", said.join("\n"));
    assert!(head_after > head_before);
    for n in &nodes {
        assert!(!n.log().contains("panicked"), "node{} panicked:\n{}", n.index, n.log_tail());
    }

    // A node pointed at another node's database refuses to start.
    nodes[0].stop();
    let own = pg.url("chain_node0");
    set_storage_url(&dir.join("node0"), &pg.url("chain_node1"));
    let err = node_refuses(&dir.join("node0"));
    assert!(err.contains("refusing to start"), "{err}");
    set_storage_url(&dir.join("node0"), &own);
    nodes[0] = TestNode::start_node(&dir, 0);
    converged_with_receipts(&rt, &nodes, &seen, 120);
    for n in &mut nodes {
        n.stop();
    }
}

/// A raw `getBlockNumber` over HTTP: `Some(text)` for any JSON-RPC answer (a result or an
/// error), `None` if the node did not answer within the client's timeout.
async fn raw_block_number(url: &str) -> Option<String> {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"getBlockNumber","params":["group0"]}"#;
    let mut stream =
        tokio::net::TcpStream::connect(url.trim_start_matches("http://")).await.ok()?;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(12), stream.read_to_string(&mut text))
        .await
        .ok()?
        .ok()?;
    text.contains("\"jsonrpc\"").then_some(text)
}

#[test]
fn storage_migrate_moves_a_rocksdb_node_to_postgres() {
    let _serial = serial();
    let Some(pg) = PgCluster::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_chain(&dir, &FLAGS);
    let mut node = TestNode::start(&dir);
    let rt = runtime();
    let key = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let (token, input) = deploy_token(&rt, &node.url(), &key);
    let receipt = rt.block_on(async {
        let client = Client::connect(node.url(), "group0").await.unwrap();
        client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap()
    });
    let target = pg.database("migrated");
    let migrate = |to: &str| {
        Command::new(BIN)
            .args(["storage", "migrate", "--from"])
            .arg(dir.join("node0/data"))
            .args(["--to", to])
            .output()
            .unwrap()
    };
    let out = migrate(&target);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stop the node"), "migrating a running node: {err}");

    node.stop();
    let head_rocks = {
        let out = migrate(&target);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "migrate failed: {text}");
        assert!(text.contains("verified"), "{text}");
        receipt.block_number
    };
    let out = migrate(&target);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("not empty"), "second migrate: {err}");

    // The node now runs from PostgreSQL, with its history.
    std::fs::rename(dir.join("node0/data"), tmp.path().join("old-data")).unwrap();
    set_storage_url(&dir.join("node0"), &target);
    let node = TestNode::start(&dir);
    rt.block_on(async {
        let client = Client::connect(node.url(), "group0").await.unwrap();
        assert!(client.block_number().await.unwrap() >= head_rocks);
        let r = client.receipt(receipt.transaction_hash).await.unwrap().expect("migrated receipt");
        assert_eq!((r.block_number, r.block_hash), (receipt.block_number, receipt.block_hash));
        let next = client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap();
        assert!(next.block_number > receipt.block_number);
    });
    drop(node);
}
