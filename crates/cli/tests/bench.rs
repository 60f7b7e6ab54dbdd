//! The benchmark commands work and check what they measure: `bench exec` runs every mode
//! over the same blocks and fails if any mode's result differs from serial; `bench chain`
//! drives a real node with each workload and fails on refused txs, failed receipts or a
//! read-back that disagrees with what was sent.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

fn run_json(args: &[&str]) -> Value {
    let out = Command::new(BIN).args(args).output().expect("run aurum");
    assert!(
        out.status.success(),
        "aurum {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

#[test]
fn bench_exec_measures_every_mode_on_identical_results() {
    for workload in ["transfer", "erc20", "dag-transfer", "parallel-ok"] {
        let report = run_json(&[
            "bench",
            "exec",
            "--workload",
            workload,
            "--txs",
            "400",
            "--accounts",
            "60",
            "--conflict-rate",
            "0.3",
            "--block-size",
            "150",
            "--repeat",
            "1",
            "--json",
        ]);
        let rows = report["results"].as_array().expect("results");
        let modes: Vec<&str> = rows.iter().map(|r| r["mode"].as_str().unwrap()).collect();
        assert_eq!(modes, ["serial", "dag", "optimistic", "auto"], "{workload}");
        for row in rows {
            assert_eq!(row["failed_txs"], 0, "{workload}: {row}");
            assert!(row["tps"].as_f64().unwrap() > 0.0, "{workload}: {row}");
            let done =
                ["kept", "rerun", "direct"].iter().map(|k| row[k].as_u64().unwrap()).sum::<u64>();
            assert_eq!(done, 400, "{workload}: every tx is kept, rerun or run in order: {row}");
        }
    }
    // A bad mode is a clear error, not a panic.
    let out = Command::new(BIN).args(["bench", "exec", "--mode", "fastest"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown execution mode \"fastest\""));
}

#[test]
fn bench_chain_drives_a_node_with_each_workload() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_chain(&dir, &[]);
    // Speculate on two threads whatever the machine (0 would mean serial on 2 cores).
    edit_config(&dir, 0, "mode = \"auto\"\nthreads = 0", "mode = \"auto\"\nthreads = 2");
    let node = TestNode::start(&dir);
    let url = node.url();
    for workload in ["erc20", "dag-transfer", "parallel-ok"] {
        let report = run_json(&[
            "bench",
            "chain",
            "--rpc",
            &url,
            "--workload",
            workload,
            "--txs",
            "1500",
            "--accounts",
            "100",
            "--json",
        ]);
        assert_eq!(report["refused"], 0, "{workload}: {report}");
        assert_eq!(report["failed_receipts"], 0, "{workload}: {report}");
        assert!(report["committed_tps_wall"].as_f64().unwrap() > 0.0, "{workload}: {report}");
        let p = &report["latency_ms"];
        assert!(p["p50"].as_f64() <= p["p95"].as_f64() && p["p95"].as_f64() <= p["p99"].as_f64());
    }
}
