//! `aurum bench`: committed TPS of ERC20 transfers sent over JSON-RPC, latency from sending a
//! tx to seeing its block committed (p50/p99), and where the node's time went (admission,
//! execution, commit) according to `getGroupStats`.

use anyhow::{Context, bail};
use aurum_sdk::{Client, DynSolValue, TxRequest, U256, abi, load_artifact};
use clap::Args;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, default_value = "http://127.0.0.1:20200")]
    url: String,
    #[arg(long, default_value = "group0")]
    group: String,
    /// Transfers to send.
    #[arg(long, default_value_t = 20_000)]
    txs: usize,
    /// Concurrent HTTP connections sending.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// sendTransaction calls per JSON-RPC batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Offered load in txs per second (0 = as fast as the node takes them). Latency is only
    /// meaningful below the chain's capacity: at full blast it is mostly queueing.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// The ERC20 artifact (OpenZeppelin ERC20, whole supply to the deployer).
    #[arg(long, default_value = "contracts/artifacts/AurumToken.json")]
    artifact: PathBuf,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(bench(args))
}

/// When each tx (by hash) was sent or seen committed.
type SeenAt = Arc<tokio::sync::Mutex<std::collections::HashMap<String, Instant>>>;

/// Polls the head every 5 ms and notes when each tx's block was first seen.
async fn watch_commits(
    client: Client,
    committed_at: SeenAt,
    watching: Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<()> {
    let mut seen = client.block_number().await?;
    while watching.load(std::sync::atomic::Ordering::Relaxed) {
        let head = client.block_number().await?;
        let now = Instant::now();
        for number in seen + 1..=head {
            let block: Value = client
                .request("getBlockByNumber", json!([client.group(), number, false, true]))
                .await?;
            let mut at = committed_at.lock().await;
            for h in block["transactions"].as_array().into_iter().flatten() {
                if let Some(h) = h.as_str() {
                    at.insert(h.to_string(), now);
                }
            }
        }
        seen = head;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

async fn stats(client: &Client) -> anyhow::Result<Value> {
    Ok(client.request::<Value>("getGroupStats", json!([client.group()])).await?)
}

fn delta(after: &Value, before: &Value, key: &str) -> f64 {
    after[key].as_f64().unwrap_or(0.0) - before[key].as_f64().unwrap_or(0.0)
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if args.txs == 0 || args.batch == 0 || args.connections == 0 {
        bail!("--txs, --batch and --connections must be positive");
    }
    let client = Client::connect(&args.url, &args.group).await.context("connecting")?;
    let (abi, bytecode) = load_artifact(&args.artifact)
        .with_context(|| format!("loading {}", args.artifact.display()))?;
    let key = client.generate_key();
    let supply = DynSolValue::Uint(U256::from(10u64).pow(U256::from(30u64)), 256);
    let token = client
        .deploy(
            &key,
            &abi,
            &bytecode,
            &["Bench".to_string().into(), "B".to_string().into(), supply],
        )
        .await?
        .address;
    let transfer = abi::find_function(&abi, "transfer", 2)?.clone();

    // Sign everything first: the measurement is the node, not this client.
    let started = Instant::now();
    let head = client.block_number().await?;
    let recipients: Vec<_> = (0..1000).map(|_| client.generate_key().address()).collect();
    let mut raws = Vec::with_capacity(args.txs);
    for i in 0..args.txs {
        let input = abi::encode_call(
            &transfer,
            &[recipients[i % recipients.len()].into(), U256::from(1u64).into()],
        )?;
        let tx = aurum_sdk::tx::build_native_tx(
            client.chain_id(),
            client.group(),
            head,
            TxRequest::call(token, input).block_limit(head + 900),
        );
        raws.push(aurum_sdk::tx::sign_native_tx(client.suite(), &key, tx)?.raw_hex());
    }
    println!("signed {} transfers in {:.2} s", args.txs, started.elapsed().as_secs_f64());

    let before = stats(&client).await?;
    let count_before = client.total_transaction_count().await?.transaction_count;
    let http = reqwest::Client::new();
    let batches: Vec<Vec<String>> = raws.chunks(args.batch).map(|c| c.to_vec()).collect();
    let queue = Arc::new(tokio::sync::Mutex::new(batches.into_iter().enumerate()));
    let sent_at: SeenAt = Arc::default();
    let committed_at: SeenAt = Arc::default();
    let watching = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = tokio::spawn(watch_commits(
        client.clone(),
        Arc::clone(&committed_at),
        Arc::clone(&watching),
    ));
    let t0 = Instant::now();
    let batch_every = match args.rate {
        0 => Duration::ZERO,
        rate => Duration::from_secs_f64(args.batch as f64 / rate as f64),
    };
    let senders: Vec<_> = (0..args.connections)
        .map(|_| {
            let (queue, http, url, group, sent_at) = (
                Arc::clone(&queue),
                http.clone(),
                args.url.clone(),
                args.group.clone(),
                Arc::clone(&sent_at),
            );
            tokio::spawn(async move {
                let mut refused = 0usize;
                loop {
                    let Some((k, batch)) = queue.lock().await.next() else { break };
                    // Paced: batch k leaves at k × batch_every.
                    let due = t0 + batch_every * k as u32;
                    tokio::time::sleep_until(due.into()).await;
                    let body: Vec<Value> = batch
                        .iter()
                        .enumerate()
                        .map(|(i, raw)| json!({"jsonrpc": "2.0", "id": i, "method": "sendTransaction", "params": [group, raw]}))
                        .collect();
                    let sent = Instant::now();
                    let answers: Vec<Value> = http.post(&url).json(&body).send().await?.json().await?;
                    refused += answers.iter().filter(|a| a.get("error").is_some()).count();
                    let mut at = sent_at.lock().await;
                    for a in &answers {
                        if let Some(h) = a["result"].as_str() {
                            at.insert(h.to_string(), sent);
                        }
                    }
                }
                anyhow::Ok(refused)
            })
        })
        .collect();
    let mut refused = 0;
    for s in senders {
        refused += s.await??;
    }
    let sent_in = t0.elapsed();
    let accepted = args.txs - refused;
    let target = count_before + accepted as u64;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if client.total_transaction_count().await?.transaction_count >= target {
            break;
        }
        if Instant::now() > deadline {
            bail!("the node did not commit {accepted} txs within 600 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let committed_in = t0.elapsed();
    let after = stats(&client).await?;
    // Let the watcher see the last block.
    tokio::time::sleep(Duration::from_millis(50)).await;
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    watcher.await??;
    let mut latencies: Vec<f64> = {
        let (sent, committed) = (sent_at.lock().await, committed_at.lock().await);
        sent.iter()
            .filter_map(|(h, s)| committed.get(h).map(|c| c.duration_since(*s).as_secs_f64() * 1e3))
            .collect()
    };
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };

    let balance = client.call(token, &abi, "balanceOf", &[recipients[0].into()]).await?;
    let expected = U256::from(args.txs.div_ceil(recipients.len()) as u64);
    let balance_ok = balance.first() == Some(&DynSolValue::Uint(expected, 256)) || refused > 0;

    let blocks = delta(&after, &before, "blocks");
    let txs = delta(&after, &before, "transactions");
    let admit_ms = delta(&after, &before, "admitMs");
    let exec_ms = delta(&after, &before, "executeMs");
    let commit_ms = delta(&after, &before, "commitMs");
    let wall_ms = committed_in.as_secs_f64() * 1e3;
    println!(
        "sent {} txs over {} connections (batches of {}) in {:.2} s: {:.0} tx/s accepted, {} refused",
        args.txs,
        args.connections,
        args.batch,
        sent_in.as_secs_f64(),
        accepted as f64 / sent_in.as_secs_f64(),
        refused
    );
    println!(
        "committed {} txs in {:.2} s: {:.0} TPS ({} blocks, {:.0} txs/block)",
        accepted,
        committed_in.as_secs_f64(),
        accepted as f64 / committed_in.as_secs_f64(),
        blocks,
        if blocks > 0.0 { txs / blocks } else { 0.0 }
    );
    println!(
        "latency send → block committed ({} txs{}): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        if args.rate > 0 { format!(", offered {} tx/s", args.rate) } else { ", full blast".into() },
        pct(0.50),
        pct(0.99),
        latencies.last().copied().unwrap_or(0.0)
    );
    println!(
        "node time: admission {:.0} ms ({:.1} µs/tx, on RPC threads), execution {:.0} ms ({:.1} µs/tx), \
         commit {:.0} ms ({:.1} µs/tx); sealing thread busy {:.0}% of the wall time",
        admit_ms,
        admit_ms * 1e3 / txs.max(1.0),
        exec_ms,
        exec_ms * 1e3 / txs.max(1.0),
        commit_ms,
        commit_ms * 1e3 / txs.max(1.0),
        (exec_ms + commit_ms) * 100.0 / wall_ms
    );
    if !balance_ok {
        bail!("recipient balance {balance:?} != {expected}: state and ledger disagree");
    }
    Ok(())
}
