//! Keepalive and bounded queues over real TLS sockets, with a proxy between the nodes that
//! can go silent (a partition: nothing forwarded, every socket left open) or slow. Own test
//! binary: it installs a global log subscriber to check the gone/back lines.

mod common;

use aurum_crypto::SuiteKind;
use aurum_network::{Module, Network};
use bytes::Bytes;
use common::*;
use parking_lot::Mutex;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const SECP: SuiteKind = SuiteKind::Secp256k1Keccak;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of this test binary (both tests share the one global subscriber).
fn logs() -> &'static Buffer {
    static LOGS: OnceLock<Buffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .init();
        buffer
    })
}

fn logged(needles: &[&str]) -> bool {
    String::from_utf8_lossy(&logs().0.lock()).lines().any(|l| needles.iter().all(|n| l.contains(n)))
}

/// Waits for `cond` and returns how long it took.
async fn time_until(what: &str, cond: impl FnMut() -> bool) -> Duration {
    let t0 = Instant::now();
    wait_for(what, cond).await;
    t0.elapsed()
}

/// Node a and node b, b dialing a through a proxy (a dials nobody, so every byte between
/// them goes through it).
async fn pair_through_proxy(
    env: &Env,
    tune: impl Fn(&mut aurum_network::NetworkConfig),
) -> (Network, Network, Proxy) {
    let ca = env.ca("chain-ca", "agency-a");
    let a_spec = env.node(&ca.agency, "node-a", SECP, &[&ca]);
    let b_spec = env.node(&ca.agency, "node-b", SECP, &[&ca]);
    let mut config = a_spec.config.clone();
    tune(&mut config);
    let a = a_spec.start_with(config).await;
    let proxy = Proxy::start(a.local_addr()).await;
    let mut config = b_spec.config.clone();
    config.peers = vec![proxy.addr];
    tune(&mut config);
    let b = b_spec.start_with(config).await;
    wait_connected(&a, 1).await;
    wait_connected(&b, 1).await;
    (a, b, proxy)
}

/// A link that goes silent (no FIN, no RST: a partition) is declared gone on both sides
/// within the dead-peer timeout, with one WARN line naming the timeout, and comes back
/// within about a second of the partition healing, however long it lasted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_link_is_declared_gone_and_comes_back_when_it_heals() {
    partition_and_heal(Mode::Silent).await;
}

/// The same when everything sent during the partition is lost for good, dial attempts too:
/// the attempt in flight at the heal is abandoned within its bound and the next one succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_link_comes_back_when_it_heals() {
    partition_and_heal(Mode::Blackhole).await;
}

async fn partition_and_heal(mode: Mode) {
    logs();
    let env = Env::new();
    let (a, b, proxy) = pair_through_proxy(&env, |_| {}).await;
    let timeout = aurum_network::DEFAULT_PEER_TIMEOUT;
    // Keepalive is running: a round trip was measured.
    wait_for("a keepalive round trip", || a.peers()[0].rtt.is_some()).await;

    proxy.set(mode);
    let gone = time_until("both sides declare the link gone", || {
        a.connected().is_empty() && b.connected().is_empty()
    })
    .await;
    eprintln!("{mode:?} link declared gone after {} ms (timeout {timeout:?})", gone.as_millis());
    assert!(gone >= timeout / 2, "gone after {gone:?}: too early");
    assert!(gone < timeout * 4, "gone only after {gone:?}");
    assert!(a.stats().timeouts >= 1 && b.stats().timeouts >= 1);
    // The line is written just after the link leaves the peer table: wait for it.
    let gone_line = format!("peer {}", &b.node_id().to_hex()[..16]);
    wait_for("the WARN line saying the peer is gone", || {
        logged(&["WARN", &gone_line, "is gone: timeout: nothing received for"])
    })
    .await;

    // A long partition: the dialer keeps trying and its backoff stays short.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(a.connected().is_empty() && b.connected().is_empty());
    proxy.set(Mode::Forward);
    let back =
        time_until("the link comes back", || a.connected().len() == 1 && b.connected().len() == 1)
            .await;
    eprintln!("{mode:?} link back {} ms after the partition healed", back.as_millis());
    assert!(back < Duration::from_secs(10), "back only after {back:?}");
    let mut rx = a.register("g", Module::Consensus);
    deliver(&b, &a, &mut rx, "g", Module::Consensus, b"after the partition").await;
    wait_for("the back line", || {
        logged(&[
            "INFO",
            &format!("peer {}", &b.node_id().to_hex()[..16]),
            "is back at",
            "it had gone: timeout",
        ])
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;
}

/// A flood to a slow (but live) peer: each lane of its queue holds at most
/// `send_queue_bytes`, the excess is refused at `send`, the link is not declared dead, and a
/// vote still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_bytes_stay_bounded_under_a_flood_to_a_slow_peer() {
    logs();
    const LIMIT: usize = 1024 * 1024;
    let env = Env::new();
    let (a, b, proxy) = pair_through_proxy(&env, |c| c.send_queue_bytes = LIMIT).await;
    let _gossip = a.register("g1", Module::TxGossip);
    let mut votes = a.register("g1", Module::Consensus);
    proxy.set(Mode::Throttle(2 * 1024 * 1024));
    let blob = Bytes::from(vec![7u8; 64 * 1024]);
    let (mut accepted, mut refused) = (0usize, 0usize);
    let mut highest = 0;
    for round in 0..40 {
        for _ in 0..50 {
            if b.send(&a.node_id(), "g1", Module::TxGossip, blob.clone()) {
                accepted += 1;
            } else {
                refused += 1;
            }
            highest = highest.max(b.peers().first().map_or(0, |p| p.queued_bytes));
        }
        // Consensus frames have their own budget: they are not refused for the flood.
        let vote = Bytes::from((round as u32).to_be_bytes().to_vec());
        assert!(b.send(&a.node_id(), "g1", Module::Consensus, vote), "vote {round} refused");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let stats = b.stats();
    eprintln!(
        "flood of {} MiB to a 2 MiB/s peer: {accepted} frames accepted, {refused} refused; \
         most queued on one lane {} KiB, both lanes {} KiB (limit {} KiB per lane)",
        ((accepted + refused) * blob.len()) >> 20,
        stats.max_queued_bytes >> 10,
        highest >> 10,
        LIMIT >> 10
    );
    assert!(refused > 0 && stats.dropped_outbound as usize == refused);
    assert!(stats.max_queued_bytes as usize <= LIMIT, "{stats:?}");
    assert!(highest <= 2 * LIMIT, "{highest}");
    for _ in 0..40 {
        recv(&mut votes).await;
    }
    assert_eq!((a.stats().timeouts, b.stats().timeouts), (0, 0), "a slow link is not dead");
    assert_eq!(b.connected(), vec![a.node_id()]);
}
