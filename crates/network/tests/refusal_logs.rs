//! Refusals are logged at WARN as one plain line on the refusing side, and the refused side
//! logs that the peer refused it. Own test binary: it installs a global log subscriber.

mod common;

use aurum_crypto::SuiteKind;
use common::*;
use parking_lot::Mutex;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

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

impl Buffer {
    fn warn_lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock())
            .lines()
            .filter(|l| l.contains("WARN"))
            .map(str::to_string)
            .collect()
    }

    fn has(&self, needles: &[&str]) -> bool {
        self.warn_lines().iter().any(|l| needles.iter().all(|n| l.contains(n)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_logged_in_plain_words() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .init();

    const SECP: SuiteKind = SuiteKind::Secp256k1Keccak;
    let env = Env::new();
    let ca = env.ca("chain-ca", "agency-a");
    let foreign = env.ca("foreign-ca", "foreign-agency");
    let a_spec = env.node(&ca.agency, "node-a", SECP, &[&ca]);
    let listed = env.node(&ca.agency, "node-listed", SECP, &[&ca]);
    let black = env.node(&ca.agency, "node-black", SECP, &[&ca]);
    let mut config = a_spec.config.clone();
    config.blacklist = vec![black.key.public()];
    config.whitelist = Some(vec![listed.key.public(), black.key.public()]);
    let a = a_spec.start_with(config).await;
    let addr = a.local_addr();

    let _f = env.node(&foreign.agency, "node-foreign", SECP, &[&foreign, &ca]).start(&[addr]).await;
    let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 - 86_400);
    let _e = env
        .node_valid(&ca.agency, "node-expired", SECP, &[&ca], past, past + DAY)
        .start(&[addr])
        .await;
    let b = black.start(&[addr]).await;
    let stranger = env.node(&ca.agency, "node-stranger", SECP, &[&ca]).start(&[addr]).await;

    wait_for("all four refusals logged at WARN", || {
        buffer.has(&[
            "refused peer 127.0.0.1:",
            "\"node-foreign\"",
            "does not chain to any trusted CA",
        ]) && buffer.has(&["refused peer", "\"node-expired\"", "expired at 2026-01-01T00:00:00Z"])
            && buffer.has(&[
                "refused peer",
                "\"node-black\"",
                &format!("node id {} is blacklisted", b.node_id()),
            ])
            && buffer.has(&[
                "refused peer",
                "\"node-stranger\"",
                &format!("node id {} is not on the whitelist", stranger.node_id()),
            ])
    })
    .await;
    // The refused side says it was refused, and by whom.
    wait_for("refused side logs it", || {
        buffer.has(&[&format!("peer {addr}:"), "refused our TLS certificate"])
    })
    .await;
    // Log lines match what `refusals` keeps.
    // Log lines say what `refusals` keeps (repeats of one reason within 30 s go to DEBUG).
    for line in a.refusals() {
        let reason = line.split_once(": ").map(|(_, r)| r).unwrap_or(&line);
        assert!(buffer.warn_lines().iter().any(|l| l.ends_with(reason)), "{line}");
    }
}
