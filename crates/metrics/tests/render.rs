//! The recorder renders what the handles record, in the Prometheus text format, and
//! docs/metrics.md lists every metric the crate defines.

use aurum_metrics::{consensus, net, pool, rpc, storage, sync};
use std::time::{Duration, Instant};

#[test]
fn handles_record_into_the_prometheus_text() {
    assert!(aurum_metrics::install());
    assert!(aurum_metrics::install(), "a second install answers the same");

    let p = pool::Pool::new("g1");
    p.record(pool::Source::Client, None);
    p.record(pool::Source::Client, Some("BlockLimit"));
    p.record(pool::Source::Peer, Some("AlreadyKnown"));
    p.refused(pool::Source::Client, "SomethingNew");

    let c = consensus::Consensus::new("g1");
    c.view_changed(2);
    let since = Instant::now() - Duration::from_millis(300);
    c.committed(&consensus::Committed {
        txs: 7,
        since,
        marks: [Some(since + Duration::from_millis(100)), None, None, None],
        sealers: 4,
        signatures: 3,
        view: 2,
    });

    let r = rpc::Rpc::new(["eth_blockNumber"]);
    r.served("eth_blockNumber", Instant::now(), true);
    r.served("no_such_method", Instant::now(), false);

    net::sent(net::Lane::Consensus, 100);
    net::received(net::Lane::Bulk, 50);
    net::refused("node id ab is blacklisted");

    let s = storage::Storage::new("rocksdb");
    s.read(storage::Read::Get, Duration::from_micros(12), true);
    s.write(1000, Duration::from_millis(2), false);

    let y = sync::Sync::new("g1");
    y.heads(5, 9);
    assert_eq!(sync::blocks_behind("g1"), Some(4));
    assert_eq!(sync::blocks_behind("nope"), None);
    aurum_metrics::process::refresh();

    let text = aurum_metrics::render();
    for line in [
        r#"aurum_txpool_admitted_total{group="g1",source="client"} 1"#,
        r#"aurum_txpool_refused_total{group="g1",source="client",reason="BlockLimit"} 1"#,
        r#"aurum_txpool_refused_total{group="g1",source="peer",reason="AlreadyKnown"} 1"#,
        r#"aurum_txpool_refused_total{group="g1",source="client",reason="SomethingNew"} 1"#,
        r#"aurum_consensus_view_changes_total{group="g1"} 1"#,
        r#"aurum_consensus_view{group="g1"} 2"#,
        r#"aurum_consensus_missing_sealers{group="g1"} 1"#,
        r#"aurum_consensus_txs_committed_total{group="g1"} 7"#,
        r#"aurum_consensus_block_txs_sum{group="g1"} 7"#,
        r#"aurum_consensus_step_duration_seconds_count{group="g1",step="propose"} 1"#,
        r#"aurum_rpc_requests_total{method="eth_blockNumber"} 1"#,
        r#"aurum_rpc_errors_total{method="other"} 1"#,
        r#"aurum_p2p_frames_total{lane="consensus",direction="out"} 1"#,
        r#"aurum_p2p_bytes_total{lane="bulk",direction="in"} 50"#,
        r#"aurum_p2p_refused_handshakes_total{reason="blacklist"} 1"#,
        r#"aurum_storage_read_microseconds_total{backend="rocksdb",op="get"} 12"#,
        r#"aurum_storage_errors_total{backend="rocksdb",op="write"} 1"#,
        r#"aurum_sync_blocks_behind{group="g1"} 4"#,
        "# HELP aurum_consensus_view_changes_total View changes",
        "# TYPE aurum_consensus_block_interval_seconds histogram",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // Steps not seen on this node are not recorded as zero.
    for step in ["agree", "execute", "checkpoint", "write"] {
        assert!(!text.contains(&format!(r#"step="{step}"}} 1"#)), "{step}: {text}");
    }
    assert!(text.contains("aurum_process_resident_memory_bytes "), "{text}");
}

#[test]
fn docs_list_every_metric() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/metrics.md"))
            .unwrap();
    let missing: Vec<&str> = aurum_metrics::catalogue()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .collect();
    assert!(missing.is_empty(), "docs/metrics.md does not list {missing:?}");
}
