//! Four-node PBFT chains from `aurum build-chain`, as real processes on 127.0.0.1: crashes
//! and catch-up, 20 rounds of kill -9 under load, certificate admission and refusals, a
//! certificate rotated on a live node, and an observer added at run time then promoted.

mod common;

use aurum_network::pki::{self, Issuer};
use aurum_sdk::{Address, Client, DynSolValue, JsonAbi, KeyPair, SuiteKind, TxRequest, U256};
use common::chain::*;
use common::*;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::runtime::Runtime;

const CONSENSUS: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x03]);

fn kind(sm: bool) -> SuiteKind {
    if sm { SuiteKind::Sm2Sm3 } else { SuiteKind::Secp256k1Keccak }
}

fn chain_flags(sm: bool) -> Vec<&'static str> {
    let mut flags = vec!["--min-seal-ms", "50", "--view-timeout-ms", "1000"];
    if sm {
        flags.push("--sm");
    }
    flags
}

/// Builds an `n`-node chain in a temp dir with `flags` and starts every node.
fn start_chain(n: u16, flags: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, Vec<TestNode>) {
    start_chain_executing(n, flags, |_| ("auto", 0))
}

/// [`start_chain`] with node K executing blocks in `execution(K)` = (mode, threads).
fn start_chain_executing(
    n: u16,
    flags: &[&str],
    execution: impl Fn(usize) -> (&'static str, usize),
) -> (tempfile::TempDir, std::path::PathBuf, Vec<TestNode>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_consortium(&dir, n, flags);
    for k in 0..n as usize {
        let (mode, threads) = execution(k);
        let section = format!("[execution]\nmode = \"{mode}\"\nthreads = {threads}\n");
        edit_config(&dir, k, "[execution]\nmode = \"auto\"\nthreads = 0\n", &section);
    }
    let nodes = (0..n as usize).map(|k| TestNode::start_node(&dir, k)).collect();
    (tmp, dir, nodes)
}

fn crash_and_catch_up(sm: bool) {
    let _serial = serial();
    let (_tmp, dir, mut nodes) = start_chain(4, &chain_flags(sm));
    let rt = runtime();
    let url3 = nodes[3].url();
    // Every node links to the three others (getPeers, net_peerCount).
    let peers = |url: &str| {
        rt.block_on(async {
            let client = Client::connect(url.to_string(), "group0").await.unwrap();
            let list: serde_json::Value =
                client.request("getPeers", serde_json::json!([])).await.unwrap();
            let count: String =
                client.request("net_peerCount", serde_json::json!([])).await.unwrap();
            (list.as_array().map(|a| a.len()).unwrap_or(0), count)
        })
    };
    wait_until("a full mesh", 60, || peers(&url3) == (3, "0x3".into()), || all_logs(&nodes));
    let key = Arc::new(KeyPair::generate(kind(sm)));
    let (token, input) = deploy_token(&rt, &url3, &key);
    let seen: Seen = Arc::default();
    let load = Load::start(&rt, &url3, &key, token, &input, &seen);

    let progress = |rt: &Runtime, nodes: &[TestNode], blocks: u64| {
        let start = head(rt, &url3).unwrap();
        wait_until(
            &format!("{blocks} more blocks after height {start}"),
            90,
            || head(rt, &url3).unwrap_or(0) >= start + blocks,
            || all_logs(nodes),
        );
    };
    progress(&rt, &nodes, 3);
    // One of four down: 3 ≥ 2f+1, the chain goes on (through view changes when it leads).
    nodes[0].kill9();
    progress(&rt, &nodes, 5);
    // Two down: no quorum, no block — and no fork.
    nodes[1].kill9();
    std::thread::sleep(Duration::from_secs(1));
    let halted_at = head(&rt, &url3).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    for k in [2, 3] {
        let h = head(&rt, &nodes[k].url()).unwrap();
        assert!(h <= halted_at + 1, "node{k} committed {h} > {halted_at} without a quorum");
    }
    // Both back: they catch up and the chain moves again.
    nodes[0] = TestNode::start_node(&dir, 0);
    nodes[1] = TestNode::start_node(&dir, 1);
    progress(&rt, &nodes, 3);
    load.finish(&rt);
    let height = wait_converged(&rt, &nodes, 120);
    assert!(height > halted_at);
    // Every acknowledged tx is where its receipt said, on every node.
    let seen = rt.block_on(async { seen.lock().await.clone() });
    assert!(!seen.is_empty());
    rt.block_on(async {
        for n in &nodes {
            let client = Client::connect(n.url(), "group0").await.unwrap();
            for (hash, (number, block_hash)) in seen.iter().take(200) {
                let r = client.receipt(*hash).await.unwrap().expect("acknowledged tx present");
                assert_eq!((r.block_number, r.block_hash), (*number, *block_hash));
            }
        }
    });
    for n in &mut nodes {
        n.stop();
    }
}

#[test]
fn four_nodes_survive_one_crash_halt_at_two_and_catch_up() {
    crash_and_catch_up(false);
}

#[test]
fn four_nodes_survive_one_crash_halt_at_two_and_catch_up_sm() {
    crash_and_catch_up(true);
}

#[test]
fn twenty_rounds_of_kill_nine_lose_no_acknowledged_tx() {
    let _serial = serial();
    // Nodes 0 and 2 speculate on two threads, 1 and 3 execute serially: every height's
    // hash agreeing across them is the parallel executor's determinism, end to end.
    let parallel = |k: usize| if k.is_multiple_of(2) { ("optimistic", 2) } else { ("serial", 1) };
    let (_tmp, dir, mut nodes) = start_chain_executing(4, &chain_flags(false), parallel);
    let rt = runtime();
    let key = Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak));
    let (token, input) = deploy_token(&rt, &nodes[0].url(), &key);
    let seen: Seen = Arc::default();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for round in 0..20 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let victim = (rng % 4) as usize;
        let target = (victim + 1 + (rng / 4 % 3) as usize) % 4;
        let load = Load::start(&rt, &nodes[target].url(), &key, token, &input, &seen);
        let count = || rt.block_on(async { seen.lock().await.len() });
        let before = count();
        wait_until(
            &format!("round {round}: load going"),
            90,
            || count() >= before + 40,
            || all_logs(&nodes),
        );
        nodes[victim].kill9();
        let before = count();
        wait_until(
            &format!("round {round}: progress without node{victim}"),
            90,
            || count() >= before + 40,
            || all_logs(&nodes),
        );
        nodes[victim] = TestNode::start_node(&dir, victim);
        load.finish(&rt);
    }
    wait_converged(&rt, &nodes, 120);
    let seen = rt.block_on(async { seen.lock().await.clone() });
    // Same hash at every height on all nodes, so checking each receipt on one node (in
    // turn) checks it on all.
    rt.block_on(async {
        let mut clients = Vec::new();
        for n in &nodes {
            clients.push(Client::connect(n.url(), "group0").await.unwrap());
        }
        for (i, (hash, (number, block_hash))) in seen.iter().enumerate() {
            let r = clients[i % 4]
                .receipt(*hash)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged tx {hash} missing on node{}", i % 4));
            assert_eq!((r.block_number, r.block_hash), (*number, *block_hash), "tx {hash} moved");
        }
    });
    for n in &mut nodes {
        n.stop();
    }
}

fn set_node_files(node_dir: &Path, chain: &str, key: &str) {
    pki::write_node_files(node_dir, chain, key).unwrap();
}

fn node_id_of(dir: &Path, k: usize, sm: bool) -> aurum_crypto::PublicKey {
    KeyPair::load_for(kind(sm), dir.join(format!("node{k}/node.pem"))).unwrap().public()
}

/// Sets `blacklist` in the config of nodes 0..n (they reload it without a restart).
fn set_blacklist(dir: &Path, n: usize, ids: &[String]) {
    for k in 0..n {
        let path = dir.join(format!("node{k}/config.toml"));
        let mut config: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let p2p = config.get_mut("p2p").unwrap().as_table_mut().unwrap();
        p2p.insert(
            "blacklist".into(),
            toml::Value::Array(ids.iter().map(|i| i.clone().into()).collect()),
        );
        std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    }
}

fn add_node(dir: &Path) -> usize {
    let out = std::process::Command::new(BIN)
        .args([
            "add-node",
            "--rpc-port",
            "0",
            "--p2p-port",
            &free_port_range(1).to_string(),
            "--dir",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "add-node: {}", String::from_utf8_lossy(&out.stderr));
    let mut k = 0;
    while dir.join(format!("node{}", k + 1)).exists() {
        k += 1;
    }
    k
}

fn admission_and_membership(sm: bool) {
    let _serial = serial();
    let (tmp, dir, mut nodes) = start_chain(4, &chain_flags(sm));
    let rt = runtime();
    let new = add_node(&dir);
    assert_eq!(new, 4);
    // Another chain may reuse this chain's CA (`--ca`): its agency is signed by it.
    let other = tmp.path().join("other");
    build_consortium(&other, 2, &["--ca", dir.join("ca").to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(other.join("ca/ca.crt")).unwrap(),
        std::fs::read_to_string(dir.join("ca/ca.crt")).unwrap()
    );
    assert!(!other.join("ca/ca.key").exists(), "the reused CA's key is not copied");
    let new_dir = dir.join("node4");
    let new_id = node_id_of(&dir, 4, sm);
    let agency = Issuer::load(&dir.join("agency"), "agency").unwrap();
    let now = SystemTime::now();
    let day = Duration::from_secs(86_400);
    let refused = |nodes: &[TestNode], extra: &TestNode, needle: &str| {
        nodes
            .iter()
            .chain(std::iter::once(extra))
            .any(|n| n.log().lines().any(|l| l.contains("refused peer") && l.contains(needle)))
    };

    // node4 with a given certificate is refused, with `needle` in a refusal line.
    let expect_refusal = |chain: &str, key: &str, needle: &str| {
        set_node_files(&new_dir, chain, key);
        let mut n4 = TestNode::start_node(&dir, 4);
        wait_until(
            &format!("a refusal saying {needle:?}"),
            60,
            || refused(&nodes, &n4, needle),
            || all_logs(&nodes),
        );
        n4.kill9();
    };
    // A certificate from a CA the chain does not trust.
    let foreign =
        Issuer::new_ca("foreign-ca", 30).unwrap().new_agency("foreign-agency", 30).unwrap();
    let (chain, key) = foreign.issue_node("node4", &new_id, now - day, now + day).unwrap();
    expect_refusal(&chain, &key, "does not chain to any trusted CA");
    // An expired certificate from the chain's own agency.
    let (chain, key) = agency.issue_node("node4", &new_id, now - 3 * day, now - day).unwrap();
    expect_refusal(&chain, &key, "expired");

    // A valid certificate, but blacklisted (applied without restarting anyone).
    let (chain, key) = agency.issue_node("node4", &new_id, now - day, now + 30 * day).unwrap();
    set_node_files(&new_dir, &chain, &key);
    set_blacklist(&dir, 4, &[new_id.to_hex()]);
    wait_until(
        "blacklist reloaded",
        30,
        || nodes.iter().all(|n| n.log().contains("p2p lists reloaded")),
        || all_logs(&nodes),
    );
    let n4 = TestNode::start_node(&dir, 4);
    wait_until(
        "a blacklist refusal",
        60,
        || refused(&nodes, &n4, "is blacklisted"),
        || all_logs(&nodes),
    );

    // Lifted: node4 connects, but a node outside the group gets nothing of it.
    set_blacklist(&dir, 4, &[]);
    let key = Arc::new(KeyPair::generate(kind(sm)));
    let url0 = nodes[0].url();
    let (token, input) = deploy_token(&rt, &url0, &key);
    let linked = || {
        rt.block_on(async {
            let client = Client::connect(url0.clone(), "group0").await.unwrap();
            let peers: serde_json::Value =
                client.request("getPeers", serde_json::json!([])).await.unwrap();
            peers.as_array().is_some_and(|a| a.iter().any(|p| p["nodeId"] == new_id.to_hex()))
        })
    };
    wait_until("node4 linked to node0", 60, linked, || all_logs(&nodes));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(head(&rt, &n4.url()), Some(0), "a non-member synced the group");

    // An observer added at run time by the admin follows new blocks.
    let admin = KeyPair::load_for(kind(sm), dir.join("accounts/admin.pem")).unwrap();
    let consensus = JsonAbi::parse([
        "function addObserver(string nodeId) returns (int32)",
        "function addSealer(string nodeId, uint256 weight) returns (int32)",
    ])
    .unwrap();
    rt.block_on(async {
        let client = Client::connect(url0.clone(), "group0").await.unwrap();
        // Anyone but the genesis admin is refused, with the reason.
        let err = client
            .send(
                &key,
                CONSENSUS,
                &consensus,
                "addSealer",
                &[DynSolValue::String(new_id.to_hex()), DynSolValue::Uint(U256::from(1u64), 256)],
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not an admin"), "{err}");
        let out = client
            .send(
                &admin,
                CONSENSUS,
                &consensus,
                "addObserver",
                &[DynSolValue::String(new_id.to_hex())],
            )
            .await
            .unwrap();
        assert!(
            matches!(&out.output[0], DynSolValue::Int(code, 32) if code.is_zero()),
            "addObserver returned {:?}",
            out.output
        );
        assert!(client.observer_list().await.unwrap().contains(&new_id.to_hex()));
        client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap();
    });
    // A member now: it syncs the group.
    let catches_up = |what: &str| {
        let target = head(&rt, &url0).unwrap();
        wait_until(what, 90, || head(&rt, &n4.url()).unwrap_or(0) >= target, || all_logs(&nodes));
    };
    catches_up("node4 synced as an observer");
    // A tx sent to the observer is gossiped to the sealers and committed.
    rt.block_on(async {
        let client = Client::connect(n4.url(), "group0").await.unwrap();
        let r = client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap();
        assert_eq!(r.status, 0);
    });
    catches_up("observer follows");

    // Promoted to sealer, it votes: with node0 down, 4 of 5 sealers are needed, node4 among them.
    rt.block_on(async {
        let client = Client::connect(url0.clone(), "group0").await.unwrap();
        client
            .send(
                &admin,
                CONSENSUS,
                &consensus,
                "addSealer",
                &[DynSolValue::String(new_id.to_hex()), DynSolValue::Uint(U256::from(1u64), 256)],
            )
            .await
            .unwrap();
        assert_eq!(client.sealer_list().await.unwrap().len(), 5);
    });
    nodes[0].kill9();
    let url1 = nodes[1].url();
    rt.block_on(async {
        let client = Client::connect(url1.clone(), "group0")
            .await
            .unwrap()
            .with_receipt_timeout(Duration::from_secs(90));
        for _ in 0..3 {
            let r =
                client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap();
            assert_eq!(r.status, 0);
        }
    });
    nodes[0] = TestNode::start_node(&dir, 0);

    // node1 rotates to a certificate from another agency of the same CA, without a restart;
    // a peer that reconnects sees the new certificate and the chain goes on.
    let ca = Issuer::load(&dir.join("ca"), "ca").unwrap();
    let agency_b = ca.new_agency("agency-b", 30).unwrap();
    let id1 = node_id_of(&dir, 1, sm);
    let (chain, key1) =
        agency_b.issue_node("node1-rotated", &id1, now - day, now + 30 * day).unwrap();
    set_node_files(&dir.join("node1"), &chain, &key1);
    wait_until(
        "node1 reloads its certificate",
        30,
        || nodes[1].log().contains("node certificate reloaded"),
        || all_logs(&nodes),
    );
    nodes[2].kill9();
    nodes[2] = TestNode::start_node(&dir, 2);
    wait_until(
        "node2 sees node1's new certificate",
        60,
        || nodes[2].log().contains("\"node1-rotated\""),
        || all_logs(&nodes),
    );
    rt.block_on(async {
        let client = Client::connect(url1.clone(), "group0").await.unwrap();
        client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap();
    });
    nodes.push(n4);
    wait_converged(&rt, &nodes, 120);
    for n in &mut nodes {
        n.stop();
    }
}

#[test]
fn admission_refusals_rotation_and_an_observer_promoted() {
    admission_and_membership(false);
}

#[test]
fn admission_refusals_rotation_and_an_observer_promoted_sm() {
    admission_and_membership(true);
}

/// Two overlapping groups on six nodes (group0 = nodes 0-3, group1 = nodes 2-5), loaded at
/// once: group1 losing its quorum halts group1 only; it catches up after; no tx of one
/// group ever appears in the other's ledger.
#[test]
fn a_group_that_loses_its_quorum_does_not_stall_another() {
    let _serial = serial();
    let mut flags = chain_flags(false);
    flags.extend(["--group", "group0=0-3", "--group", "group1=2-5"]);
    let (_tmp, dir, mut nodes) = start_chain(6, &flags);
    let rt = runtime();
    let (url0, url2, url5) = (nodes[0].url(), nodes[2].url(), nodes[5].url());
    let key = Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak));
    let (token0, input0) = deploy_token_in(&rt, &url0, "group0", &key);
    let (token1, input1) = deploy_token_in(&rt, &url5, "group1", &key);
    let (seen0, seen1): (Seen, Seen) = (Arc::default(), Arc::default());
    let load0 = Load::start_in(&rt, &url0, "group0", &key, token0, &input0, &seen0);
    let load1 = Load::start_in(&rt, &url5, "group1", &key, token1, &input1, &seen1);
    let grows = |url: &str, group: &str, blocks: u64, secs: u64, nodes: &[TestNode]| {
        let start = head_in(&rt, url, group).unwrap();
        let t0 = Instant::now();
        wait_until(
            &format!("{group}: {blocks} blocks after {start}"),
            secs,
            || head_in(&rt, url, group).unwrap_or(0) >= start + blocks,
            || all_logs(nodes),
        );
        blocks as f64 / t0.elapsed().as_secs_f64()
    };
    let both0 = grows(&url0, "group0", 5, 90, &nodes);
    let both1 = grows(&url2, "group1", 5, 90, &nodes);
    // Nodes 4 and 5 are only in group1: without them group1 has 2 of 4 sealers.
    nodes[4].kill9();
    nodes[5].kill9();
    std::thread::sleep(Duration::from_secs(1));
    let halted = head_in(&rt, &url2, "group1").unwrap();
    let alone0 = grows(&url0, "group0", 20, 180, &nodes);
    for k in [2, 3] {
        let h = head_in(&rt, &nodes[k].url(), "group1").unwrap();
        assert!(h <= halted + 1, "group1 committed {h} > {halted} on node{k} without a quorum");
    }
    eprintln!(
        "blocks/s with both groups loaded: group0 {both0:.1}, group1 {both1:.1}; \
         group0 while group1 is halted: {alone0:.1}"
    );
    // Back: group1 catches up and goes on.
    nodes[4] = TestNode::start_node(&dir, 4);
    nodes[5] = TestNode::start_node(&dir, 5);
    load1.finish(&rt);
    let load1 = Load::start_in(&rt, &nodes[5].url(), "group1", &key, token1, &input1, &seen1);
    grows(&url2, "group1", 3, 120, &nodes);
    load0.finish(&rt);
    load1.finish(&rt);
    let g0: Vec<&TestNode> = nodes[0..4].iter().collect();
    let g1: Vec<&TestNode> = nodes[2..6].iter().collect();
    wait_converged_in(&rt, &g0, "group0", 120);
    wait_converged_in(&rt, &g1, "group1", 120);
    // Each group's txs are in its own ledger only; a node outside a group says so.
    rt.block_on(async {
        let on2_0 = Client::connect(url2.clone(), "group0").await.unwrap();
        let on2_1 = Client::connect(url2.clone(), "group1").await.unwrap();
        let (seen0, seen1) = (seen0.lock().await.clone(), seen1.lock().await.clone());
        assert!(!seen0.is_empty() && !seen1.is_empty());
        for (hash, (number, block_hash)) in seen0.iter().take(100) {
            let r = on2_0.receipt(*hash).await.unwrap().expect("group0 tx in group0");
            assert_eq!((r.block_number, r.block_hash), (*number, *block_hash));
            assert!(on2_1.receipt(*hash).await.unwrap().is_none(), "group0 tx in group1");
        }
        for hash in seen1.keys().take(100) {
            assert!(on2_1.receipt(*hash).await.unwrap().is_some());
            assert!(on2_0.receipt(*hash).await.unwrap().is_none(), "group1 tx in group0");
        }
        let err = Client::connect(url0.clone(), "group1").await.unwrap_err();
        assert!(err.to_string().contains("unknown group"), "{err}");
        // Who is linked in a group, and what this node is in it.
        let peers: serde_json::Value =
            on2_1.request("getGroupPeers", serde_json::json!(["group1"])).await.unwrap();
        assert_eq!(peers.as_array().map(|a| a.len()), Some(3), "{peers}");
        let info: serde_json::Value =
            on2_1.request("getGroupNodeInfo", serde_json::json!(["group1"])).await.unwrap();
        assert_eq!(info["role"], "sealer");
    });
    for n in &mut nodes {
        n.stop();
    }
}

/// The crypto suite is chain-wide: a node refuses a group whose genesis disagrees.
#[test]
fn a_group_with_another_crypto_suite_is_refused() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    build_consortium(&a, 2, &[]);
    build_consortium(&b, 2, &["--sm", "--group", "other"]);
    let node0 = a.join("node0");
    std::fs::copy(b.join("genesis.json"), node0.join("other.genesis.json")).unwrap();
    let config = node0.join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[group]]\ngenesis_file = \"other.genesis.json\"\n");
    std::fs::write(&config, text).unwrap();
    let out =
        std::process::Command::new(BIN).arg("node").arg("--config").arg(&config).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the suite is chain-wide"), "{stderr}");
}

/// Runs `aurum console` against a node's admin listener; returns stdout or panics with stderr.
fn admin(node: &TestNode, command: &str) -> String {
    let url = node.ready["admin_url"].as_str().expect("admin_url in ready.json");
    let out = std::process::Command::new(BIN)
        .args(["console", "--url", url, "-c", command])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "console {command:?} on node{}: {}",
        node.index,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A group created at run time from the console on four running nodes: it commits, stops,
/// stays stopped across restarts, is removed and recovered with its ledger intact.
#[test]
fn a_group_created_at_run_time_stops_and_recovers_intact() {
    let _serial = serial();
    let (tmp, dir, mut nodes) = start_chain(4, &chain_flags(false));
    let rt = runtime();
    // group2's genesis: the same sealers as group0, its own id and Ethereum chain id.
    let mut genesis: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("genesis.json")).unwrap()).unwrap();
    genesis["group_id"] = "group2".into();
    genesis["system_config"]["web3_chain_id"] = "20302".into();
    let genesis_file = tmp.path().join("group2.json");
    std::fs::write(&genesis_file, genesis.to_string()).unwrap();
    let generate = format!("generateGroup {}", genesis_file.display());
    for n in &nodes {
        admin(n, &generate);
        admin(n, "startGroup group2");
    }
    // The lifecycle is not on the public listener.
    let public = std::process::Command::new(BIN)
        .args(["console", "--url", &nodes[0].url(), "-c", "stopGroup group2"])
        .output()
        .unwrap();
    assert!(!public.status.success());
    assert!(String::from_utf8_lossy(&public.stderr).contains("admin"));

    let url0 = nodes[0].url();
    let key = Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak));
    let (token, input) = deploy_token_in(&rt, &url0, "group2", &key);
    let receipts: Vec<_> = rt.block_on(async {
        let client = Client::connect(url0.clone(), "group2").await.unwrap();
        assert_eq!(client.web3_chain_id(), 20302);
        let mut out = Vec::new();
        for _ in 0..5 {
            out.push(
                client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap(),
            );
        }
        out
    });
    let height = wait_converged_in(&rt, &nodes.iter().collect::<Vec<_>>(), "group2", 60);

    // Stopped everywhere, and still stopped after the nodes restart.
    for n in &nodes {
        admin(n, "stopGroup group2");
    }
    assert!(head_in(&rt, &url0, "group2").is_none(), "a stopped group is not served");
    for n in &mut nodes {
        n.stop();
    }
    nodes = (0..4).map(|k| TestNode::start_node(&dir, k)).collect();
    let url0 = nodes[0].url();
    assert!(head_in(&rt, &url0, "group2").is_none(), "stopped survives a restart");
    assert!(admin(&nodes[0], "getGroupStatus").contains("stopped"));
    assert!(head_in(&rt, &url0, "group0").is_some(), "group0 runs as before");

    // Removed (data kept), recovered, started: the ledger is as it was and the group goes on.
    for n in &nodes {
        admin(n, "removeGroup group2");
        admin(n, "recoverGroup group2");
        admin(n, "startGroup group2");
    }
    assert_eq!(head_in(&rt, &url0, "group2"), Some(height));
    rt.block_on(async {
        let client = Client::connect(url0.clone(), "group2").await.unwrap();
        for r in &receipts {
            let again = client.receipt(r.transaction_hash).await.unwrap().expect("receipt kept");
            assert_eq!(again.block_hash, r.block_hash);
        }
        let r = client.send_and_wait(&key, TxRequest::call(token, input.clone())).await.unwrap();
        assert!(r.block_number > height);
    });
    for n in &mut nodes {
        n.stop();
    }
}
