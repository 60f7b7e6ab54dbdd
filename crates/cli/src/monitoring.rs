//! What `build-chain` writes for monitoring the chain it builds, in `DIR/monitoring/`:
//! a Prometheus scrape config (`prometheus.yml`), its targets (`targets/nodeK.json`, one per
//! node, read as file service discovery so a node added later is one more file) and the
//! alert rules (`alerts.yml`, the same as `deploy/prometheus/alerts.yml`).
//!
//! Run Prometheus with `prometheus --config.file=DIR/monitoring/prometheus.yml`; import
//! `deploy/grafana/aurum.json` in Grafana for the dashboard.

use std::path::Path;

const ALERTS: &str = include_str!("../../../deploy/prometheus/alerts.yml");
/// How often Prometheus scrapes each node.
const SCRAPE_INTERVAL: &str = "5s";

/// The scrape config for the chain's nodes (their targets are in `targets/`).
fn prometheus_yml(chain_id: &str) -> String {
    format!(
        "# Written by `aurum build-chain`: scrapes every node's /metrics (on its RPC port).\n\
         global:\n  scrape_interval: {SCRAPE_INTERVAL}\n  evaluation_interval: {SCRAPE_INTERVAL}\n\
         rule_files:\n  - alerts.yml\n\
         scrape_configs:\n  - job_name: aurum\n    metrics_path: /metrics\n\
         \x20   file_sd_configs:\n      - files: [\"targets/*.json\"]\n        refresh_interval: 5s\n\
         \x20   relabel_configs:\n      - target_label: chain\n        replacement: {chain_id:?}\n"
    )
}

/// Writes node `name`'s target file: its RPC address (`host:port`).
pub fn write_target(dir: &Path, name: &str, rpc_addr: &str) -> anyhow::Result<()> {
    let targets = dir.join("monitoring/targets");
    std::fs::create_dir_all(&targets)?;
    let json = serde_json::json!([{ "targets": [rpc_addr], "labels": { "node": name } }]);
    std::fs::write(targets.join(format!("{name}.json")), serde_json::to_string_pretty(&json)?)?;
    Ok(())
}

/// Writes `DIR/monitoring/`: the scrape config and the alert rules.
pub fn write_config(dir: &Path, chain_id: &str) -> anyhow::Result<()> {
    let out = dir.join("monitoring");
    std::fs::create_dir_all(out.join("targets"))?;
    std::fs::write(out.join("prometheus.yml"), prometheus_yml(chain_id))?;
    std::fs::write(out.join("alerts.yml"), ALERTS)?;
    Ok(())
}
