//! Seeded fault scenarios on the in-process harness: four whole nodes per scenario, each
//! scenario a seed that draws the faults (loss, delay, duplication, a crash and restart, a
//! partition, a byzantine sender) and the workload. Every scenario must commit every tx on
//! every node, with one block hash per height (no fork) across nodes that execute in
//! different modes.
//!
//! `AURUM_SCENARIOS=N` runs N seeds (default 200) from `AURUM_SCENARIO_BASE` (default 1);
//! `AURUM_SCENARIO_VERBOSE=1` prints each one's report; a failure prints the seed, and
//! `AURUM_SCENARIO_SEED=S cargo test --release --workspace --test scenarios -- replay
//! --nocapture` runs that one again.

mod harness;

use harness::chaos::{Chaos, Faults, Partition};
use harness::{Cluster, check_agreement, transfer, wait_for};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const NODES: usize = 4;
/// Scenarios in flight at once: they mostly wait on timers, so more than the cores.
const CONCURRENT: usize = 4;
/// Generous: a scenario normally ends in one to three seconds.
const DEADLINE: Duration = Duration::from_secs(90);

/// The one fault (besides lossy links) a scenario injects, at most f = 1 node at a time.
#[derive(Debug, Clone)]
enum Fault {
    None,
    /// Node stops at `at` and restarts from its storage at `back`.
    Crash {
        node: usize,
        at: Duration,
        back: Duration,
    },
    /// One node cut off, then healed.
    Isolate {
        node: usize,
        from: Duration,
        to: Duration,
    },
    /// 2|2: no side has a quorum until it heals.
    Split {
        from: Duration,
        to: Duration,
    },
    /// One node's consensus messages tampered with at this rate.
    Byzantine {
        node: usize,
        rate: f64,
    },
}

#[derive(Debug, Clone)]
struct Plan {
    loss: f64,
    max_delay_ms: u64,
    duplicate: f64,
    fault: Fault,
    /// Txs submitted in each of three waves (start, during the fault, after it).
    per_wave: usize,
}

impl Plan {
    fn draw(seed: u64) -> Plan {
        let mut rng = StdRng::seed_from_u64(seed);
        let ms =
            |rng: &mut StdRng, lo: u64, hi: u64| Duration::from_millis(rng.random_range(lo..hi));
        let node = rng.random_range(0..NODES);
        let from = ms(&mut rng, 50, 300);
        let length = ms(&mut rng, 200, 900);
        let fault = match rng.random_range(0..5) {
            0 => Fault::None,
            1 => Fault::Crash { node, at: from, back: from + length },
            2 => Fault::Isolate { node, from, to: from + length },
            3 => Fault::Split { from, to: from + length },
            _ => Fault::Byzantine { node, rate: rng.random_range(0.2..0.8) },
        };
        Plan {
            loss: [0.0, 0.02, 0.1][rng.random_range(0..3)],
            max_delay_ms: [0, 3, 15][rng.random_range(0..3)],
            duplicate: [0.0, 0.05][rng.random_range(0..2)],
            fault,
            per_wave: rng.random_range(3..15),
        }
    }

    /// The node that must not hold clients' txs (its pool may be lost or its links cut).
    fn faulty_node(&self) -> Option<usize> {
        match self.fault {
            Fault::Crash { node, .. }
            | Fault::Isolate { node, .. }
            | Fault::Byzantine { node, .. } => Some(node),
            Fault::None | Fault::Split { .. } => None,
        }
    }

    /// When the fault is over (zero: it never ends, or there is none).
    fn healed_at(&self) -> Duration {
        match self.fault {
            Fault::Crash { back, .. } => back,
            Fault::Isolate { to, .. } | Fault::Split { to, .. } => to,
            Fault::None | Fault::Byzantine { .. } => Duration::ZERO,
        }
    }
}

/// Runs one scenario; Err says what went wrong.
fn run(seed: u64) -> Result<String, String> {
    let plan = Plan::draw(seed);
    let probe = Cluster::new(seed, NODES, aurum_consortium::hub::Perfect);
    let ids = probe.ids();
    drop(probe);
    let partition = match plan.fault {
        Fault::Isolate { node, from, to } => Some(Partition { side: vec![ids[node]], from, to }),
        Fault::Split { from, to } => Some(Partition { side: vec![ids[0], ids[1]], from, to }),
        _ => None,
    };
    let byzantine = match plan.fault {
        Fault::Byzantine { node, rate } => Some((ids[node], rate)),
        _ => None,
    };
    let faults = Faults {
        loss: plan.loss,
        max_delay: Duration::from_millis(plan.max_delay_ms),
        duplicate: plan.duplicate,
        partition,
        byzantine,
    };
    let start = Instant::now();
    let mut cluster = Cluster::new(seed, NODES, Chaos::new(seed, faults));
    cluster.start_all();
    let clients: Vec<usize> = (0..NODES).filter(|&i| Some(i) != plan.faulty_node()).collect();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x7478);
    let mut submitted = Vec::new();
    let mut nonce = 0u64;
    let mut wave = |cluster: &Cluster, submitted: &mut Vec<_>| -> Result<(), String> {
        for _ in 0..plan.per_wave {
            let at = clients[rng.random_range(0..clients.len())];
            let sender = harness::seeded_key(seed, 100 + rng.random_range(0..4));
            nonce += 1;
            let tx = transfer(cluster.group(at), &sender, nonce);
            let hash = cluster.group(at).pool().submit(tx).map_err(|e| format!("submit: {e}"))?;
            submitted.push(hash);
        }
        Ok(())
    };
    wave(&cluster, &mut submitted)?;

    // The fault's own timeline (partitions are timed by the links themselves).
    if let Fault::Crash { node, at, back } = plan.fault {
        std::thread::sleep(at.saturating_sub(start.elapsed()));
        cluster.crash(node);
        wave(&cluster, &mut submitted)?;
        std::thread::sleep(back.saturating_sub(start.elapsed()));
        cluster.start(node);
    } else {
        std::thread::sleep(Duration::from_millis(150));
        wave(&cluster, &mut submitted)?;
        std::thread::sleep(plan.healed_at().saturating_sub(start.elapsed()));
    }
    wave(&cluster, &mut submitted)?;

    let deadline = start + DEADLINE;
    let all_committed = wait_for(deadline, || {
        (0..NODES).all(|i| {
            let ledger = cluster.group(i).ledger();
            submitted.iter().all(|h| ledger.tx_location(h).ok().flatten().is_some())
        })
    });
    let heads: Vec<u64> = (0..NODES).map(|i| cluster.head(i)).collect();
    check_agreement(&cluster, &submitted)?;
    if !all_committed {
        return Err(format!(
            "not every tx committed on every node in {DEADLINE:?}: heads {heads:?}"
        ));
    }
    let (delivered, lost) = cluster.hub.counts();
    Ok(format!(
        "{:.2}s heads {heads:?} {} txs, {delivered} delivered / {lost} lost, {plan:?}",
        start.elapsed().as_secs_f64(),
        submitted.len()
    ))
}

fn replay_hint(seed: u64) -> String {
    format!(
        "AURUM_SCENARIO_SEED={seed} cargo test --release --workspace --test scenarios -- replay --nocapture"
    )
}

#[test]
fn seeded_fault_scenarios() {
    let count: u64 =
        std::env::var("AURUM_SCENARIOS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let base: u64 =
        std::env::var("AURUM_SCENARIO_BASE").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    // AURUM_SCENARIO_VERBOSE=1 prints every scenario's report, not only failures.
    let verbose = std::env::var_os("AURUM_SCENARIO_VERBOSE").is_some();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENT {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed) as u64;
                    if k >= count {
                        break;
                    }
                    let seed = base + k;
                    match run(seed) {
                        Ok(report) if verbose => eprintln!("seed {seed}: {report}"),
                        Ok(_) => {}
                        Err(e) => {
                            eprintln!("seed {seed} FAILED: {e}\n  replay: {}", replay_hint(seed));
                            failures.lock().unwrap().push(seed);
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "{count} scenarios in {:.1}s, {} failed",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "failed seeds {failures:?}; replay one with {}",
        replay_hint(failures[0])
    );
}

/// Runs the seed in `AURUM_SCENARIO_SEED` alone, printing what happened (no seed: skipped).
#[test]
fn replay() {
    let Some(seed) = std::env::var("AURUM_SCENARIO_SEED").ok().and_then(|v| v.parse().ok()) else {
        return;
    };
    match run(seed) {
        Ok(report) => eprintln!("seed {seed}: {report}"),
        Err(e) => panic!("seed {seed}: {e}"),
    }
}
