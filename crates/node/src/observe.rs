//! What the node serves beside the JSON-RPC on its RPC port: `/metrics` (Prometheus text
//! format), `/healthz` (the process answers), `/readyz` (fit to take traffic) and the block
//! explorer at `/explorer`.

use crate::host::GroupHost;
use aurum_metrics::chain::GroupSnapshot;
use aurum_metrics::storage::Storage;
use aurum_network::Network;
use aurum_primitives::state::NodeRole;
use aurum_storage::{KvStore, Scan, StorageError};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// What the observation endpoints read.
pub(crate) struct Observe {
    pub host: Arc<GroupHost>,
    pub network: Option<Network>,
    pub store: Arc<dyn KvStore>,
    pub storage: Arc<Storage>,
    pub data_dir: PathBuf,
    /// `/readyz` fails while a group is more blocks than this behind its peers.
    pub max_blocks_behind: u64,
    /// Whether metrics are recorded (`[metrics] enabled`); if not, `/metrics` is 404.
    pub metrics_on: bool,
    /// Groups seen running at the previous scrape (to mark stopped ones).
    pub seen: parking_lot::Mutex<BTreeSet<String>>,
}

/// The routes, to merge with the RPC router.
pub(crate) fn router(observe: Arc<Observe>) -> Router {
    let (m, r) = (Arc::clone(&observe), Arc::clone(&observe));
    Router::new()
        .route("/metrics", get(move || metrics(Arc::clone(&m))))
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route("/readyz", get(move || readyz(Arc::clone(&r))))
        .merge(crate::explorer::router())
}

async fn metrics(o: Arc<Observe>) -> Response {
    if !o.metrics_on {
        return (StatusCode::NOT_FOUND, "metrics are off ([metrics] enabled = false)\n")
            .into_response();
    }
    // Ledger and /proc reads: off the async threads.
    let text = tokio::task::spawn_blocking(move || {
        o.refresh();
        aurum_metrics::render()
    })
    .await
    .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn readyz(o: Arc<Observe>) -> Response {
    let checks = tokio::task::spawn_blocking(move || o.checks()).await.unwrap_or_default();
    let ready = !checks.is_empty() && checks.iter().all(|c| c.ok);
    let body = json!({
        "ready": ready,
        "checks": checks.iter().map(|c| json!({"check": c.name, "ok": c.ok, "detail": c.detail})).collect::<Vec<_>>(),
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}

#[derive(Debug, Default)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

impl Observe {
    /// The store answers a read (an unknown namespace is an answer too).
    fn storage_up(&self) -> Result<(), String> {
        let scan = Scan { limit: 1, ..Scan::prefix(b"") };
        match self.store.scan(aurum_consortium::CONSENSUS_NAMESPACE, &scan) {
            Ok(_) | Err(StorageError::UnknownNamespace(_)) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Sets the scrape-time gauges: per group, the network's peers, storage, the process.
    fn refresh(&self) {
        let mut running = BTreeSet::new();
        for g in self.host.running_groups() {
            let ledger = g.ledger();
            let Ok(head) = ledger.head() else { continue };
            let nodes = ledger.consensus_nodes_at(head.number).unwrap_or_default();
            let role = |r| nodes.nodes.iter().filter(|n| n.role() == r).count();
            aurum_metrics::chain::set(
                g.id(),
                &GroupSnapshot {
                    height: head.number,
                    head_timestamp_ms: head.timestamp_ms,
                    pool_size: g.pool().len(),
                    pool_bytes: g.pool().bytes(),
                    sealers: role(NodeRole::Sealer),
                    observers: role(NodeRole::Observer),
                },
            );
            running.insert(g.id().to_string());
        }
        let mut seen = self.seen.lock();
        for gone in seen.difference(&running) {
            aurum_metrics::chain::set_stopped(gone);
        }
        *seen = running;
        drop(seen);
        if let Some(net) = &self.network {
            let peers = net.peers();
            let out = peers.iter().filter(|p| p.outbound).count();
            aurum_metrics::net::peers(out, peers.len() - out);
        }
        self.storage.probed(self.storage_up().is_ok());
        if let Ok(fs) = nix::sys::statvfs::statvfs(&self.data_dir) {
            let block = fs.fragment_size();
            self.storage.disk(fs.blocks_available() * block, fs.blocks() * block);
        }
        aurum_metrics::process::refresh();
    }

    /// The readiness checks, each with what it found.
    fn checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        let missing = self.host.not_running();
        checks.push(Check {
            name: "groups_started",
            ok: missing.is_empty(),
            detail: match missing.is_empty() {
                true => format!("{} running", self.host.running_groups().len()),
                false => format!("not running: {}", missing.join(", ")),
            },
        });
        let storage = self.storage_up();
        checks.push(Check {
            name: "storage",
            ok: storage.is_ok(),
            detail: storage.err().unwrap_or_else(|| "reachable".into()),
        });
        let connected = self.network.as_ref().map_or(0, |n| n.connected().len());
        for g in self.host.running_groups() {
            let behind = aurum_metrics::sync::blocks_behind(g.id()).unwrap_or(0);
            checks.push(Check {
                name: "synced",
                ok: behind <= self.max_blocks_behind,
                detail: format!(
                    "group {}: {behind} blocks behind its peers (at most {})",
                    g.id(),
                    self.max_blocks_behind
                ),
            });
            let next = g.ledger().head_number().unwrap_or(0) + 1;
            let n = g.sealers(next).map(|s| s.len()).unwrap_or(0);
            // PBFT: with f = (n-1)/3 faulty, a quorum is n - f; this node is one of it.
            let needed = (n - n.saturating_sub(1) / 3).saturating_sub(1);
            checks.push(Check {
                name: "peers",
                ok: connected >= needed,
                detail: format!(
                    "group {}: {connected} peers connected, {needed} needed for a quorum of its {n} sealers",
                    g.id()
                ),
            });
        }
        checks
    }
}
