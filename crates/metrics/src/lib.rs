//! Every metric an Aurum node exports, in one place: names (CometBFT style,
//! `aurum_<module>_<what>_<unit>`), labels, and the handles the crates that do the work record
//! through. `docs/metrics.md` lists each one with its meaning.
//!
//! Cost on the hot path: a handle (`Counter`, `Gauge`, `Histogram`) is created once — per
//! group, lane or method — when its owner is built, so recording is an atomic add (counters,
//! gauges) or an append to a lock-free bucket (histograms, recorded per block or per request,
//! never per tx). Before [`install`] every handle is a no-op, so libraries and their tests
//! record into nothing.
//!
//! Values that exist anyway (heights, pool sizes, peer counts, process figures) are not
//! tracked at all while the node runs: the node reads them when `/metrics` is scraped and
//! sets them through [`chain`], [`net::peers`] and [`process`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod chain;
pub mod consensus;
pub mod net;
pub mod pool;
pub mod process;
pub mod rpc;
pub mod storage;
pub mod sync;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Bucket bounds (seconds) of every `_seconds` histogram: 0.5 ms to 60 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];
/// Bucket bounds of `aurum_consensus_block_txs`.
const TXS_BUCKETS: &[f64] =
    &[0.0, 1.0, 10.0, 100.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 20000.0];

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

static EXPORTER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Makes this process record metrics (once; later calls return the same answer). `false`
/// when another recorder was installed first. Call before creating any handle: a handle made
/// earlier stays a no-op.
pub fn install() -> bool {
    EXPORTER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(consensus::BLOCK_TXS.into()),
                        TXS_BUCKETS,
                    )
                })
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe_all();
            // Histogram samples wait in a bucket until upkeep folds them in: without a
            // scraper (or with a slow one) they would pile up for as long as the node runs.
            let folding = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        folding.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .is_some()
}

/// Everything recorded so far in the Prometheus text format (empty before [`install`]).
pub fn render() -> String {
    match EXPORTER.get() {
        Some(Some(handle)) => {
            // Folds histogram samples recorded since the last scrape into their buckets.
            handle.run_upkeep();
            handle.render()
        }
        _ => String::new(),
    }
}

/// `HELP` lines: the one-line meaning of each metric (docs/metrics.md says more).
fn describe_all() {
    for (name, help) in chain::HELP
        .iter()
        .chain(consensus::HELP)
        .chain(pool::HELP)
        .chain(sync::HELP)
        .chain(net::HELP)
        .chain(storage::HELP)
        .chain(rpc::HELP)
        .chain(process::HELP)
    {
        metrics::describe_counter!(*name, *help);
    }
}

/// Every metric name with its help text, for docs and tests.
pub fn catalogue() -> Vec<(&'static str, &'static str)> {
    [
        chain::HELP,
        consensus::HELP,
        pool::HELP,
        sync::HELP,
        net::HELP,
        storage::HELP,
        rpc::HELP,
        process::HELP,
    ]
    .concat()
}
