//! `aurum bench chain`: pre-signed transactions sent over JSON-RPC from many connections to
//! one or more nodes; committed TPS from the blocks' own timestamps and from the wall
//! clock, latency from sending a tx to seeing its block (p50/p95/p99), failures (refused at
//! submission or failed receipts), and where the node's time went (`getGroupStats`).
//!
//! Senders are `--accounts` fresh keys used round robin, so transactions of different
//! senders do not conflict (a sender's own txs are ordered by its nonce); receivers are as
//! many fresh accounts or names. The setup (deploying, funding) is not measured.

use crate::workload::{PARALLEL_OK_ARTIFACT, TOKEN_ARTIFACT, dag_transfer_abi, user};
use anyhow::{Context, bail};
use aurum_sdk::{Client, DynSolValue, JsonAbi, KeyPair, TxRequest, U256, abi};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChainWorkload {
    /// OpenZeppelin ERC20 `transfer` (undeclared: optimistic parallelism).
    Erc20,
    /// DagTransfer precompile `userTransfer` (conflict keys declared by the precompile).
    DagTransfer,
    /// Solidity `ParallelOk.transfer(string,string,uint256)` declared with ParallelConfig.
    ParallelOk,
}

#[derive(Args)]
pub struct BenchArgs {
    /// JSON-RPC endpoints, comma-separated; the connections are spread over them.
    #[arg(long, alias = "url", value_delimiter = ',', default_value = "http://127.0.0.1:20200")]
    rpc: Vec<String>,
    #[arg(long, default_value = "group0")]
    group: String,
    #[arg(long, value_enum, default_value = "erc20")]
    workload: ChainWorkload,
    /// Transactions to send.
    #[arg(long, default_value_t = 20_000)]
    txs: usize,
    /// Distinct senders (round robin) and receivers.
    #[arg(long, default_value_t = 1_000)]
    accounts: usize,
    /// Concurrent HTTP connections sending.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// sendTransaction calls per JSON-RPC batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Offered load in txs per second (0 = as fast as the nodes take them). Latency is only
    /// meaningful below the chain's capacity: at full blast it is mostly queueing.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// One JSON object on stdout instead of text (progress still goes to stderr).
    #[arg(long)]
    json: bool,
    /// While measuring, scrape every node's `/metrics` this often in ms, as Prometheus
    /// would (0: no scraper); compare runs with and without to see what metrics cost.
    #[arg(long, default_value_t = 0)]
    scrape_ms: u64,
}

/// Scrapes `/metrics` of every URL each `every` until `running` turns false; returns
/// (scrapes, bytes of the last one).
async fn scrape(urls: Vec<String>, every: Duration, running: Arc<AtomicBool>) -> (usize, usize) {
    let http = reqwest::Client::new();
    let (mut scrapes, mut bytes) = (0, 0);
    while running.load(Ordering::Relaxed) {
        for url in &urls {
            if let Ok(r) = http.get(format!("{}/metrics", url.trim_end_matches('/'))).send().await
                && let Ok(text) = r.text().await
            {
                scrapes += 1;
                bytes = text.len();
            }
        }
        tokio::time::sleep(every).await;
    }
    (scrapes, bytes)
}

const DAG_TRANSFER: &str = "0x000000000000000000000000000000000000100c";

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(bench(args))
}

/// The contract under load and how to call it.
struct Target {
    to: aurum_sdk::Address,
    abi: JsonAbi,
    /// The call of measured tx `t`.
    call: Box<dyn Fn(usize) -> anyhow::Result<aurum_sdk::Bytes> + Send + Sync>,
    /// A read-back check after the run: (function, args, expected first output).
    check: (String, Vec<DynSolValue>, U256),
}

/// Txs sent in batches over `connections`, paced at `rate`.
struct Sender {
    urls: Vec<String>,
    group: String,
    connections: usize,
    batch: usize,
    rate: u64,
}

/// What sending gave: refusals (with a few distinct reasons) and when each hash left.
#[derive(Default)]
struct Sent {
    refused: usize,
    reasons: Vec<String>,
    at: HashMap<String, Instant>,
}

impl Sender {
    async fn send(&self, raws: Vec<String>, progress: Arc<AtomicUsize>) -> anyhow::Result<Sent> {
        let http = reqwest::Client::new();
        let batches: Vec<Vec<String>> = raws.chunks(self.batch).map(|c| c.to_vec()).collect();
        let queue = Arc::new(tokio::sync::Mutex::new(batches.into_iter().enumerate()));
        let t0 = Instant::now();
        let batch_every = match self.rate {
            0 => Duration::ZERO,
            rate => Duration::from_secs_f64(self.batch as f64 / rate as f64),
        };
        let workers: Vec<_> = (0..self.connections)
            .map(|c| {
                let (queue, http, progress) =
                    (Arc::clone(&queue), http.clone(), Arc::clone(&progress));
                let url = self.urls[c % self.urls.len()].clone();
                let group = self.group.clone();
                tokio::spawn(async move {
                    let mut sent = Sent::default();
                    loop {
                        let Some((k, batch)) = queue.lock().await.next() else { break };
                        // Paced: batch k leaves at k × batch_every.
                        tokio::time::sleep_until((t0 + batch_every * k as u32).into()).await;
                        let body: Vec<Value> = batch
                            .iter()
                            .enumerate()
                            .map(|(i, raw)| json!({"jsonrpc": "2.0", "id": i, "method": "sendTransaction", "params": [group, raw]}))
                            .collect();
                        let at = Instant::now();
                        let answers: Vec<Value> =
                            http.post(&url).json(&body).send().await?.json().await?;
                        for a in &answers {
                            if let Some(h) = a["result"].as_str() {
                                sent.at.insert(h.to_string(), at);
                            } else {
                                sent.refused += 1;
                                let reason = a["error"]["message"].as_str().unwrap_or("?");
                                if sent.reasons.len() < 3 && !sent.reasons.iter().any(|r| r == reason) {
                                    sent.reasons.push(reason.to_string());
                                }
                            }
                        }
                        progress.fetch_add(batch.len(), Ordering::Relaxed);
                    }
                    anyhow::Ok(sent)
                })
            })
            .collect();
        let mut all = Sent::default();
        for w in workers {
            let s = w.await??;
            all.refused += s.refused;
            for r in s.reasons {
                if all.reasons.len() < 3 && !all.reasons.contains(&r) {
                    all.reasons.push(r);
                }
            }
            all.at.extend(s.at);
        }
        Ok(all)
    }
}

/// A committed block as the watcher saw it.
struct SeenBlock {
    timestamp_ms: u64,
    hashes: Vec<String>,
    seen: Instant,
}

/// Polls the head every 5 ms and records each new block when first seen.
async fn watch(
    client: Client,
    from: u64,
    blocks: Arc<tokio::sync::Mutex<Vec<SeenBlock>>>,
    watching: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut seen = from;
    while watching.load(Ordering::Relaxed) {
        let head = client.block_number().await?;
        let now = Instant::now();
        for number in seen + 1..=head {
            let block: Value = client
                .request("getBlockByNumber", json!([client.group(), number, false, true]))
                .await?;
            let hashes = block["transactions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| h.as_str().map(str::to_string))
                .collect();
            let timestamp_ms = block["timestamp"].as_u64().unwrap_or(0);
            blocks.lock().await.push(SeenBlock { timestamp_ms, hashes, seen: now });
        }
        seen = head;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Signs `calls` as native txs from `keys` (round robin), valid for the next 900 blocks.
fn sign_all(
    client: &Client,
    keys: &[KeyPair],
    head: u64,
    to: aurum_sdk::Address,
    calls: impl Iterator<Item = anyhow::Result<aurum_sdk::Bytes>>,
) -> anyhow::Result<Vec<String>> {
    let mut raws = Vec::new();
    for (i, input) in calls.enumerate() {
        let tx = aurum_sdk::tx::build_native_tx(
            client.chain_id(),
            client.group(),
            head,
            TxRequest::call(to, input?).block_limit(head + 900),
        );
        raws.push(
            aurum_sdk::tx::sign_native_tx(client.suite(), &keys[i % keys.len()], tx)?.raw_hex(),
        );
    }
    Ok(raws)
}

/// Sends setup txs and waits until the chain has committed them all.
async fn setup_txs(client: &Client, sender: &Sender, raws: Vec<String>) -> anyhow::Result<()> {
    let before = client.total_transaction_count().await?.transaction_count;
    let n = raws.len() as u64;
    let sent = sender.send(raws, Arc::default()).await?;
    if sent.refused > 0 {
        bail!("{} setup txs refused: {}", sent.refused, sent.reasons.join("; "));
    }
    wait_count(client, before + n).await
}

async fn wait_count(client: &Client, target: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while client.total_transaction_count().await?.transaction_count < target {
        if Instant::now() > deadline {
            bail!("the chain did not reach {target} committed txs within 600 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn prepare(
    args: &BenchArgs,
    client: &Client,
    sender: &Sender,
    deployer: &KeyPair,
    receivers: &[aurum_sdk::Address],
) -> anyhow::Result<Target> {
    let k = args.accounts;
    let head = client.block_number().await?;
    match args.workload {
        ChainWorkload::Erc20 => {
            let (abi, bytecode) = abi::parse_artifact(TOKEN_ARTIFACT)?;
            let supply = DynSolValue::Uint(U256::from(10u64).pow(U256::from(30u64)), 256);
            let args_ = ["Bench".to_string().into(), "B".to_string().into(), supply];
            let token = client.deploy(deployer, &abi, &bytecode, &args_).await?.address;
            let transfer = abi::find_function(&abi, "transfer", 2)?.clone();
            Ok(Target {
                to: token,
                call: {
                    let receivers = receivers.to_vec();
                    Box::new(move |t| {
                        let to = receivers[t % receivers.len()];
                        Ok(abi::encode_call(&transfer, &[to.into(), U256::from(1u64).into()])?)
                    })
                },
                check: (
                    "balanceOf".into(),
                    vec![receivers[0].into()],
                    U256::from(args.txs.div_ceil(k) as u64),
                ),
                abi,
            })
        }
        ChainWorkload::DagTransfer => {
            let abi = dag_transfer_abi()?;
            let to: aurum_sdk::Address = DAG_TRANSFER.parse()?;
            let add = abi::find_function(&abi, "userAdd", 2)?.clone();
            let calls = (0..k)
                .map(|i| (user("u", i), 1_000_000_000u64))
                .chain((0..k).map(|i| (user("v", i), 0)))
                .map(|(name, balance)| {
                    Ok(abi::encode_call(&add, &[name.into(), U256::from(balance).into()])?)
                });
            setup_txs(
                client,
                sender,
                sign_all(client, std::slice::from_ref(deployer), head, to, calls)?,
            )
            .await?;
            let transfer = abi::find_function(&abi, "userTransfer", 3)?.clone();
            Ok(Target {
                to,
                call: Box::new(move |t| {
                    let args =
                        [user("u", t % k).into(), user("v", t % k).into(), U256::from(1u64).into()];
                    Ok(abi::encode_call(&transfer, &args)?)
                }),
                check: (
                    "userBalance".into(),
                    vec![user("v", 0).into()],
                    U256::ZERO, // the code; the balance is checked below
                ),
                abi,
            })
        }
        ChainWorkload::ParallelOk => {
            let (abi, bytecode) = abi::parse_artifact(PARALLEL_OK_ARTIFACT)?;
            let contract = client.deploy(deployer, &abi, &bytecode, &[]).await?.address;
            client.send(deployer, contract, &abi, "enableParallel", &[]).await?;
            let set = abi::find_function(&abi, "set", 2)?.clone();
            let calls = (0..k).map(|i| {
                Ok(abi::encode_call(
                    &set,
                    &[user("u", i).into(), U256::from(1_000_000_000u64).into()],
                )?)
            });
            setup_txs(
                client,
                sender,
                sign_all(client, std::slice::from_ref(deployer), head, contract, calls)?,
            )
            .await?;
            let transfer = abi::find_function(&abi, "transfer", 3)?.clone();
            Ok(Target {
                to: contract,
                call: Box::new(move |t| {
                    let args =
                        [user("u", t % k).into(), user("v", t % k).into(), U256::from(1u64).into()];
                    Ok(abi::encode_call(&transfer, &args)?)
                }),
                check: (
                    "balanceOf".into(),
                    vec![user("v", 0).into()],
                    U256::from(args.txs.div_ceil(k) as u64),
                ),
                abi,
            })
        }
    }
}

async fn stats(client: &Client) -> anyhow::Result<Value> {
    Ok(client.request::<Value>("getGroupStats", json!([client.group()])).await?)
}

fn delta(after: &Value, before: &Value, key: &str) -> f64 {
    after[key].as_f64().unwrap_or(0.0) - before[key].as_f64().unwrap_or(0.0)
}

/// Failed receipts among `hashes` (status ≠ 0), asked in JSON-RPC batches.
async fn failed_receipts(url: &str, group: &str, hashes: &[String]) -> anyhow::Result<usize> {
    let http = reqwest::Client::new();
    let mut failed = 0;
    for chunk in hashes.chunks(500) {
        let body: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, h)| json!({"jsonrpc": "2.0", "id": i, "method": "getTransactionReceipt", "params": [group, h]}))
            .collect();
        let answers: Vec<Value> = http.post(url).json(&body).send().await?.json().await?;
        failed += answers.iter().filter(|a| a["result"]["status"].as_u64() != Some(0)).count();
    }
    Ok(failed)
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if args.txs == 0 || args.batch == 0 || args.connections == 0 || args.accounts == 0 {
        bail!("--txs, --batch, --connections and --accounts must be positive");
    }
    if args.rpc.is_empty() {
        bail!("--rpc needs at least one URL");
    }
    let client = Client::connect(&args.rpc[0], &args.group).await.context("connecting")?;
    let sender = Sender {
        urls: args.rpc.clone(),
        group: args.group.clone(),
        connections: args.connections,
        batch: args.batch,
        rate: args.rate,
    };
    let deployer = client.generate_key();
    let keys: Vec<KeyPair> =
        (0..args.accounts.min(args.txs)).map(|_| client.generate_key()).collect();
    let receivers: Vec<_> = (0..args.accounts).map(|_| client.generate_key().address()).collect();
    let target = prepare(&args, &client, &sender, &deployer, &receivers).await?;
    if args.workload == ChainWorkload::Erc20 {
        // Each sender gets tokens (one transfer each from the deployer).
        let head = client.block_number().await?;
        let transfer = abi::find_function(&target.abi, "transfer", 2)?.clone();
        let calls = keys.iter().map(|k| {
            Ok(abi::encode_call(&transfer, &[k.address().into(), U256::from(1_000_000u64).into()])?)
        });
        setup_txs(
            &client,
            &sender,
            sign_all(&client, std::slice::from_ref(&deployer), head, target.to, calls)?,
        )
        .await?;
    }

    // Sign everything first: the measurement is the chain, not this client's signing.
    let started = Instant::now();
    let head = client.block_number().await?;
    let raws = sign_all(&client, &keys, head, target.to, (0..args.txs).map(|t| (target.call)(t)))?;
    let signed_in = started.elapsed();

    let before = stats(&client).await?;
    let count_before = client.total_transaction_count().await?.transaction_count;
    let blocks: Arc<tokio::sync::Mutex<Vec<SeenBlock>>> = Arc::default();
    let watching = Arc::new(AtomicBool::new(true));
    let watcher =
        tokio::spawn(watch(client.clone(), head, Arc::clone(&blocks), Arc::clone(&watching)));
    let progress = Arc::new(AtomicUsize::new(0));
    let committed_count = Arc::new(AtomicUsize::new(0));
    let show = {
        let (progress, committed, total) =
            (Arc::clone(&progress), Arc::clone(&committed_count), args.txs);
        tokio::spawn(async move {
            loop {
                let (s, c) = (progress.load(Ordering::Relaxed), committed.load(Ordering::Relaxed));
                eprint!("\r  sent {s}/{total}  committed {c}/{total}   ");
                if c >= total {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let scraper = (args.scrape_ms > 0).then(|| {
        let every = Duration::from_millis(args.scrape_ms);
        tokio::spawn(scrape(args.rpc.clone(), every, Arc::clone(&watching)))
    });
    let t0 = Instant::now();
    let sent = sender.send(raws, Arc::clone(&progress)).await?;
    let sent_in = t0.elapsed();
    let accepted = args.txs - sent.refused;
    let target_count = count_before + accepted as u64;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let count = client.total_transaction_count().await?.transaction_count;
        committed_count.store(count.saturating_sub(count_before) as usize, Ordering::Relaxed);
        if count >= target_count {
            break;
        }
        if Instant::now() > deadline {
            bail!("the chain did not commit {accepted} txs within 600 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let committed_in = t0.elapsed();
    committed_count.store(args.txs, Ordering::Relaxed);
    let _ = show.await;
    eprintln!();
    let after = stats(&client).await?;
    // Let the watcher see the last block.
    tokio::time::sleep(Duration::from_millis(50)).await;
    watching.store(false, Ordering::Relaxed);
    watcher.await??;
    let scraped = match scraper {
        Some(s) => Some(s.await?),
        None => None,
    };

    // Latency, and committed TPS by the blocks' own clocks.
    let blocks = blocks.lock().await;
    let mut latencies = Vec::new();
    // From the first block carrying our txs to the last: the txs of all but the first
    // over the time between their timestamps (proposal times, the chain's own clock).
    let (mut first, mut last, mut after_first) = (None, 0u64, 0usize);
    for b in blocks.iter() {
        let ours = b.hashes.iter().filter(|h| sent.at.contains_key(*h)).count();
        if ours == 0 {
            continue;
        }
        if first.is_some() {
            after_first += ours;
        }
        first.get_or_insert(b.timestamp_ms);
        last = b.timestamp_ms;
        for h in &b.hashes {
            if let Some(at) = sent.at.get(h) {
                latencies.push(b.seen.duration_since(*at).as_secs_f64() * 1e3);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let block_tps = match first {
        Some(first) if last > first => after_first as f64 * 1e3 / (last - first) as f64,
        _ => 0.0,
    };
    let hashes: Vec<String> = sent.at.keys().cloned().collect();
    let failed = failed_receipts(&args.rpc[0], &args.group, &hashes).await?;
    let (function, call_args, expected) = &target.check;
    let out = client.call(target.to, &target.abi, function, call_args).await?;
    let check_ok = match args.workload {
        // userBalance → (code, balance): code 0 and one unit per tx to v0.
        ChainWorkload::DagTransfer => {
            out.first() == Some(&DynSolValue::Uint(*expected, 256))
                && out.get(1)
                    == Some(&DynSolValue::Uint(
                        U256::from(args.txs.div_ceil(args.accounts) as u64),
                        256,
                    ))
        }
        _ => out.first() == Some(&DynSolValue::Uint(*expected, 256)),
    } || sent.refused > 0
        || failed > 0;

    let n_blocks = delta(&after, &before, "blocks");
    let txs = delta(&after, &before, "transactions");
    let (admit_ms, exec_ms, commit_ms) = (
        delta(&after, &before, "admitMs"),
        delta(&after, &before, "executeMs"),
        delta(&after, &before, "commitMs"),
    );
    let wall_tps = accepted as f64 / committed_in.as_secs_f64();
    if args.json {
        let report = json!({
            "workload": format!("{:?}", args.workload).to_lowercase(),
            "rpc": args.rpc, "txs": args.txs, "accounts": args.accounts,
            "connections": args.connections, "batch": args.batch, "rate": args.rate,
            "signed_s": signed_in.as_secs_f64(),
            "submitted_tps": (accepted as f64 / sent_in.as_secs_f64()).round(),
            "committed_tps_blocks": block_tps.round(),
            "committed_tps_wall": wall_tps.round(),
            "latency_ms": {"p50": pct(0.50).round(), "p95": pct(0.95).round(), "p99": pct(0.99).round()},
            "refused": sent.refused, "refusal_reasons": sent.reasons, "failed_receipts": failed,
            "blocks": n_blocks, "txs_per_block": if n_blocks > 0.0 { (txs / n_blocks).round() } else { 0.0 },
            "node_ms": {"admission": admit_ms, "execution": exec_ms, "commit": commit_ms},
            "scrapes": scraped.map(|(n, _)| n), "scrape_ms": args.scrape_ms,
        });
        println!("{report}");
    } else {
        println!(
            "{:?}: signed {} txs from {} senders in {:.2} s (not measured)",
            args.workload,
            args.txs,
            keys.len(),
            signed_in.as_secs_f64()
        );
        println!(
            "submitted in {:.2} s over {} connections to {} node(s): {:.0} tx/s; {} refused{}",
            sent_in.as_secs_f64(),
            args.connections,
            args.rpc.len(),
            accepted as f64 / sent_in.as_secs_f64(),
            sent.refused,
            if sent.reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", sent.reasons.join("; "))
            }
        );
        println!(
            "committed {} txs: {:.0} TPS by block timestamps, {:.0} TPS by the wall clock ({:.2} s); {} blocks, {:.0} txs/block; {} failed receipts",
            accepted,
            block_tps,
            wall_tps,
            committed_in.as_secs_f64(),
            n_blocks,
            if n_blocks > 0.0 { txs / n_blocks } else { 0.0 },
            failed
        );
        println!(
            "latency send → block seen ({} txs{}): p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
            latencies.len(),
            if args.rate > 0 {
                format!(", offered {} tx/s", args.rate)
            } else {
                ", full blast".into()
            },
            pct(0.50),
            pct(0.95),
            pct(0.99),
        );
        println!(
            "node time ({}): admission {:.0} ms ({:.1} µs/tx, on RPC threads), execution {:.0} ms ({:.1} µs/tx), commit {:.0} ms ({:.1} µs/tx)",
            args.rpc[0],
            admit_ms,
            admit_ms * 1e3 / txs.max(1.0),
            exec_ms,
            exec_ms * 1e3 / txs.max(1.0),
            commit_ms,
            commit_ms * 1e3 / txs.max(1.0),
        );
        if let Some((n, bytes)) = scraped {
            println!(
                "scraped /metrics {n} times while measuring (every {} ms, {bytes} bytes each)",
                args.scrape_ms
            );
        }
    }
    if !check_ok {
        bail!(
            "{function}({call_args:?}) = {out:?}, expected {expected}: state and ledger disagree"
        );
    }
    Ok(())
}
