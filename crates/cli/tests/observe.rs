//! Observing a running 4-node chain: a real Prometheus (started here with the scrape config
//! `aurum build-chain` wrote) scrapes every node's `/metrics`; its HTTP API then shows the
//! height rising, a refused tx counted with its reason, and the view-change counter moving
//! once the leader is stopped. `/healthz` and `/readyz` answer for load balancers.

mod common;

use aurum_sdk::{Client, KeyPair, SuiteKind, TxRequest};
use common::chain::*;
use common::prometheus::Prometheus;
use common::*;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;

fn get(rt: &Runtime, url: &str) -> (u16, String) {
    rt.block_on(async {
        match reqwest::get(url).await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    })
}

fn promtool(args: &[&str], file: &std::path::Path) {
    let out = Command::new("promtool").args(args).arg(file).output().expect("run promtool");
    assert!(
        out.status.success(),
        "promtool {args:?} {}: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (panel title, PromQL) of every panel of deploy/grafana/aurum.json, its variables set to
/// "all".
fn dashboard_queries() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/grafana/aurum.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let expr = expr.replace("$group", ".*").replace("$instance", ".*");
            out.push((panel["title"].as_str().unwrap().to_string(), expr));
        }
    }
    assert!(out.len() >= 15, "the dashboard has {} queries", out.len());
    out
}

#[test]
fn prometheus_sees_height_refusals_and_view_changes_of_a_four_node_chain() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_consortium(&dir, 4, &["--min-seal-ms", "50", "--view-timeout-ms", "1000"]);
    let monitoring = dir.join("monitoring");
    promtool(&["check", "config"], &monitoring.join("prometheus.yml"));
    promtool(&["check", "rules"], &monitoring.join("alerts.yml"));
    let targets = std::fs::read_dir(monitoring.join("targets")).unwrap().count();
    assert_eq!(targets, 4, "one target file per node");

    let mut nodes: Vec<TestNode> = (0..4).map(|k| TestNode::start_node(&dir, k)).collect();
    let rt = runtime();
    let url3 = nodes[3].url();

    // Liveness at once; readiness once the mesh is up (3 peers, 2 needed for a quorum).
    assert_eq!(get(&rt, &format!("{url3}/healthz")).0, 200);
    wait_until(
        "node3 ready",
        60,
        || get(&rt, &format!("{url3}/readyz")).0 == 200,
        || get(&rt, &format!("{url3}/readyz")).1 + &all_logs(&nodes),
    );
    let (status, text) = get(&rt, &format!("{url3}/metrics"));
    assert_eq!(status, 200);
    assert!(text.contains("# HELP aurum_chain_height"), "{text}");
    assert!(text.contains("aurum_chain_height{group=\"group0\"}"), "{text}");
    assert!(text.contains("aurum_process_resident_memory_bytes"), "{text}");

    let prom = Prometheus::start(&rt, &monitoring.join("prometheus.yml"), &tmp.path().join("prom"));
    wait_until(
        "Prometheus scraping all four nodes",
        60,
        || prom.value(&rt, "sum(up{job=\"aurum\"})") == Some(4.0),
        || prom.log_text() + &all_logs(&nodes),
    );

    // Height rises under load.
    let key = Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak));
    let (token, input) = deploy_token(&rt, &url3, &key);
    let seen: Seen = Arc::default();
    let load = Load::start(&rt, &url3, &key, token, &input, &seen);
    let height = "max(aurum_chain_height{group=\"group0\",node=\"node3\"})";
    let h0 = prom.value(&rt, height).unwrap_or(0.0);
    wait_until(
        "Prometheus to see the height rise by 3",
        90,
        || prom.value(&rt, height).is_some_and(|h| h >= h0 + 3.0),
        || prom.log_text() + &all_logs(&nodes),
    );

    // Every panel of the Grafana dashboard is a query Prometheus evaluates, and the height
    // panel has data.
    for (title, expr) in dashboard_queries() {
        let samples = prom.query(&rt, &expr);
        if title == "Chain height" {
            assert!(samples.len() >= 4, "{title}: {expr} gave {samples:?}");
        }
    }

    // A tx sent again after it committed is refused (AlreadyCommitted), and counted so.
    rt.block_on(async {
        let client = Client::connect(url3.clone(), "group0").await.unwrap();
        let other = KeyPair::generate(SuiteKind::Secp256k1Keccak);
        let signed =
            client.sign_transaction(&other, TxRequest::call(token, input.clone())).await.unwrap();
        let hash = client.send_signed(&signed).await.unwrap();
        client.wait_for_receipt(hash, Duration::from_secs(60)).await.unwrap();
        let again = client.send_signed(&signed).await;
        assert!(again.is_err(), "a committed tx was admitted again");
    });
    let refused = "sum(aurum_txpool_refused_total{node=\"node3\",source=\"client\",reason=\"AlreadyCommitted\"})";
    wait_until(
        "Prometheus to count the refusal with its reason",
        60,
        || prom.value(&rt, refused).is_some_and(|v| v >= 1.0),
        || prom.log_text() + &all_logs(&nodes),
    );

    // Stop node0: leaders rotate, so when its turn comes the others change view.
    let changes = "sum(aurum_consensus_view_changes_total{group=\"group0\",node!=\"node0\"})";
    let v0 = prom.value(&rt, changes).unwrap_or(0.0);
    nodes[0].kill9();
    wait_until(
        "Prometheus to see a view change after the leader stopped",
        120,
        || prom.value(&rt, changes).is_some_and(|v| v > v0),
        || prom.log_text() + &all_logs(&nodes),
    );
    wait_until(
        "Prometheus to see node0 down",
        60,
        || prom.value(&rt, "up{job=\"aurum\",node=\"node0\"}") == Some(0.0),
        || prom.log_text() + &all_logs(&nodes),
    );
    // The chain goes on without it.
    let h1 = prom.value(&rt, height).unwrap_or(0.0);
    wait_until(
        "the height to rise with node0 down",
        90,
        || prom.value(&rt, height).is_some_and(|h| h >= h1 + 2.0),
        || prom.log_text() + &all_logs(&nodes),
    );
    load.finish(&rt);

    // Two of four down: too few peers for a quorum, and /readyz says which check fails.
    assert_eq!(get(&rt, &format!("{url3}/readyz")).0, 200);
    nodes[1].kill9();
    wait_until(
        "node3 not ready once two peers are gone",
        60,
        || get(&rt, &format!("{url3}/readyz")).0 == 503,
        || get(&rt, &format!("{url3}/readyz")).1,
    );
    let (_, body) = get(&rt, &format!("{url3}/readyz"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    let failing: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .filter_map(|c| c["check"].as_str())
        .collect();
    assert_eq!(failing, ["peers"], "{body}");
    assert_eq!(get(&rt, &format!("{url3}/healthz")).0, 200);
    drop(prom);
    for n in &mut nodes {
        n.stop();
    }
}
