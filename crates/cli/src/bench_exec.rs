//! `aurum bench exec`: block execution alone, in process, in each mode asked, over the same
//! transactions and the same state, so the ratios to serial come from one run.
//!
//! Transactions are built unsigned (execution trusts `VerifiedTx::sender`; signatures are
//! verified at admission, which `aurum bench chain` measures end to end). The txs run as
//! consecutive blocks of `--block-size`, each block's diff applied before the next; only
//! `execute_block` is timed.

use crate::workload::{PARALLEL_OK_ARTIFACT, TOKEN_ARTIFACT, dag_transfer_abi, encode, user};
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use anyhow::{Context, bail};
use aurum_crypto::SuiteKind;
use aurum_executor::{
    BlockContext, DAG_TRANSFER_ADDRESS, ExecMode, ExecutedBlock, Executor, ParallelStats,
};
use aurum_primitives::state::{AccountInfo, MemState, account_key};
use aurum_primitives::transaction::{NativeTx, SignedNativeTx};
use aurum_primitives::{Transaction, TxStatus, VerifiedTx};
use aurum_sdk::DynSolValue;
use clap::{Args, ValueEnum};
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// Native value transfers between accounts (balances on).
    Transfer,
    /// OpenZeppelin ERC20 `transfer`, undeclared: optimistic parallelism.
    Erc20,
    /// DagTransfer precompile `userTransfer`: keys declared by the precompile.
    DagTransfer,
    /// Solidity `ParallelOk.transfer(string,string,uint256)` declared with ParallelConfig.
    ParallelOk,
}

#[derive(Args)]
pub struct ExecArgs {
    #[arg(long, value_enum, default_value = "erc20")]
    workload: Workload,
    #[arg(long, default_value_t = 10_000)]
    txs: usize,
    /// Distinct senders (and receivers); fewer than --txs makes senders repeat, which
    /// orders their txs (nonces).
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    /// Fraction of txs whose receiver is one shared hot account (0 = conflict-free,
    /// 1 = every tx conflicts with every other).
    #[arg(long, default_value_t = 0.0)]
    conflict_rate: f64,
    /// Execution threads for the parallel modes.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Modes to measure, comma-separated; serial always runs first as the baseline.
    #[arg(long, default_value = "serial,dag,optimistic,auto", value_delimiter = ',')]
    mode: Vec<String>,
    /// Transactions per block.
    #[arg(long, default_value_t = 1_000)]
    block_size: usize,
    /// Runs per mode; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

const DEPLOYER: Address = Address::new([0xde; 20]);

fn account(tag: u8, i: usize) -> Address {
    Address::from_slice(&keccak256([&[tag][..], &(i as u64).to_be_bytes()].concat())[12..])
}

/// `(name, amount)` arguments.
fn name_amount(name: String, amount: u64) -> [DynSolValue; 2] {
    [name.into(), U256::from(amount).into()]
}

/// `(from, to, amount)` arguments of the name-keyed transfers.
fn names_amount(from: String, to: String, amount: u64) -> [DynSolValue; 3] {
    [from.into(), to.into(), U256::from(amount).into()]
}

struct Builder {
    nonce: u64,
}

impl Builder {
    fn tx(&mut self, from: Address, to: Option<Address>, input: Bytes, value: U256) -> VerifiedTx {
        self.nonce += 1;
        let data = NativeTx {
            chain_id: "chain0".into(),
            group_id: "group0".into(),
            block_limit: 1000,
            nonce: U256::from(self.nonce),
            to: to.map_or(TxKind::Create, TxKind::Call),
            value,
            input,
            gas_limit: 0,
            conflict_keys: vec![],
        };
        let hash = keccak256(data.signing_payload());
        VerifiedTx {
            tx: Transaction::Native(SignedNativeTx { data, signature: Bytes::new() }),
            hash,
            sender: from,
        }
    }
}

/// The state the measured txs run on, and the txs.
struct Setup {
    state: MemState,
    ctx: BlockContext,
    txs: Vec<VerifiedTx>,
}

fn run_setup(
    executor: &Executor,
    state: &mut MemState,
    ctx: &mut BlockContext,
    txs: &[VerifiedTx],
) -> anyhow::Result<Vec<ExecutedBlock>> {
    let mut out = Vec::new();
    for chunk in txs.chunks(2_000) {
        let block = executor.execute_block(state, ctx, chunk)?;
        if let Some(r) = block.receipts.iter().find(|r| r.status != TxStatus::Success) {
            bail!("setup tx failed: {:?} {}", r.status, String::from_utf8_lossy(&r.output));
        }
        state.apply(&block.diff);
        ctx.number += 1;
        out.push(block);
    }
    Ok(out)
}

fn setup(args: &ExecArgs) -> anyhow::Result<Setup> {
    let executor = Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak));
    let mut state = MemState::default();
    let mut ctx = BlockContext {
        number: 1,
        timestamp_ms: 1_700_000_000_000,
        chain_id: 20200,
        tx_gas_limit: 3_000_000_000,
        // Measures execution speed: blocks are never cut.
        block_gas_limit: u64::MAX,
        balances_enabled: args.workload == Workload::Transfer,
        admins: vec![DEPLOYER],
        block_hashes: Default::default(),
    };
    let mut b = Builder { nonce: 0 };
    let accounts = args.accounts.max(1);
    let senders: Vec<Address> = (0..accounts).map(|i| account(1, i)).collect();
    // A deterministic pick of which txs go to the hot receiver.
    let hot = |t: usize| {
        let h = keccak256((t as u64).to_be_bytes());
        (u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) as f64)
            < args.conflict_rate * u64::MAX as f64
    };
    let receiver = |t: usize| if hot(t) { accounts } else { t % accounts };
    let mut txs = Vec::with_capacity(args.txs);
    match args.workload {
        Workload::Transfer => {
            for s in &senders {
                let info =
                    AccountInfo { nonce: 0, balance: U256::from(u64::MAX), ..Default::default() };
                state.entries.insert(account_key(s), info.encode());
            }
            for t in 0..args.txs {
                let to = account(2, receiver(t));
                txs.push(b.tx(senders[t % accounts], Some(to), Bytes::new(), U256::from(1)));
            }
        }
        Workload::Erc20 => {
            let (abi, bytecode) = aurum_sdk::abi::parse_artifact(TOKEN_ARTIFACT)?;
            let supply = U256::from(10u64).pow(U256::from(30u64));
            let ctor = ["B".to_string().into(), "B".to_string().into(), supply.into()];
            let deploy = aurum_sdk::abi::encode_deploy(&abi, &bytecode, &ctor)?;
            let created = run_setup(
                &executor,
                &mut state,
                &mut ctx,
                &[b.tx(DEPLOYER, None, deploy, U256::ZERO)],
            )?;
            let transfer = |to: Address, amount: u64| {
                encode(&abi, "transfer", &[to.into(), U256::from(amount).into()])
            };
            let token = created[0].receipts[0].contract_address.context("token address")?;
            let mut funding = Vec::with_capacity(accounts);
            for s in &senders {
                funding.push(b.tx(DEPLOYER, Some(token), transfer(*s, 1_000_000)?, U256::ZERO));
            }
            run_setup(&executor, &mut state, &mut ctx, &funding)?;
            for t in 0..args.txs {
                let to = account(2, receiver(t));
                txs.push(b.tx(senders[t % accounts], Some(token), transfer(to, 1)?, U256::ZERO));
            }
        }
        Workload::DagTransfer => {
            let abi = dag_transfer_abi()?;
            let mut funding = Vec::with_capacity(2 * accounts + 1);
            for i in 0..accounts {
                let input = encode(&abi, "userAdd", &name_amount(user("u", i), 1_000_000))?;
                funding.push(b.tx(DEPLOYER, Some(DAG_TRANSFER_ADDRESS), input, U256::ZERO));
            }
            for i in 0..=accounts {
                let input = encode(&abi, "userAdd", &name_amount(user("v", i), 0))?;
                funding.push(b.tx(DEPLOYER, Some(DAG_TRANSFER_ADDRESS), input, U256::ZERO));
            }
            run_setup(&executor, &mut state, &mut ctx, &funding)?;
            for t in 0..args.txs {
                let from_to = names_amount(user("u", t % accounts), user("v", receiver(t)), 1);
                let input = encode(&abi, "userTransfer", &from_to)?;
                txs.push(b.tx(
                    senders[t % accounts],
                    Some(DAG_TRANSFER_ADDRESS),
                    input,
                    U256::ZERO,
                ));
            }
        }
        Workload::ParallelOk => {
            let (abi, bytecode) = aurum_sdk::abi::parse_artifact(PARALLEL_OK_ARTIFACT)?;
            let created = run_setup(
                &executor,
                &mut state,
                &mut ctx,
                &[b.tx(DEPLOYER, None, bytecode, U256::ZERO)],
            )?;
            let contract = created[0].receipts[0].contract_address.context("contract address")?;
            let enable = encode(&abi, "enableParallel", &[])?;
            let mut funding = vec![b.tx(DEPLOYER, Some(contract), enable, U256::ZERO)];
            for i in 0..accounts {
                let input = encode(&abi, "set", &name_amount(user("u", i), 1_000_000))?;
                funding.push(b.tx(DEPLOYER, Some(contract), input, U256::ZERO));
            }
            run_setup(&executor, &mut state, &mut ctx, &funding)?;
            for t in 0..args.txs {
                let from_to = names_amount(user("u", t % accounts), user("v", receiver(t)), 1);
                let input = encode(&abi, "transfer", &from_to)?;
                txs.push(b.tx(senders[t % accounts], Some(contract), input, U256::ZERO));
            }
        }
    }
    Ok(Setup { state, ctx, txs })
}

struct Measured {
    elapsed: Duration,
    stats: ParallelStats,
    /// Every block's diff and receipts, to check the modes agree.
    fingerprint: alloy_primitives::B256,
    failed: usize,
}

fn measure(executor: &Executor, setup: &Setup, block_size: usize) -> anyhow::Result<Measured> {
    let mut state = setup.state.clone();
    let mut ctx = setup.ctx.clone();
    let mut elapsed = Duration::ZERO;
    let mut stats = ParallelStats::default();
    let mut digest = Vec::new();
    let mut failed = 0;
    for block in setup.txs.chunks(block_size.max(1)) {
        let t = Instant::now();
        let (out, s) = executor.execute_block_with_stats(&state, &ctx, block)?;
        elapsed += t.elapsed();
        stats.kept += s.kept;
        stats.rerun += s.rerun;
        stats.direct += s.direct;
        stats.rounds += s.rounds;
        stats.speculate += s.speculate;
        stats.commit += s.commit;
        failed += out.receipts.iter().filter(|r| r.status != TxStatus::Success).count();
        digest.extend(out.diff.encode());
        for r in &out.receipts {
            digest.extend(r.encode());
        }
        state.apply(&out.diff);
        ctx.number += 1;
    }
    Ok(Measured { elapsed, stats, fingerprint: keccak256(&digest), failed })
}

pub fn run(args: ExecArgs) -> anyhow::Result<()> {
    if args.txs == 0 || args.repeat == 0 {
        bail!("--txs and --repeat must be positive");
    }
    if !(0.0..=1.0).contains(&args.conflict_rate) {
        bail!("--conflict-rate must be within 0..1");
    }
    let mut modes = vec![ExecMode::Serial];
    for m in &args.mode {
        let mode: ExecMode = m.parse().map_err(anyhow::Error::msg)?;
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    let setup = setup(&args)?;
    let suite = aurum_crypto::suite(SuiteKind::Secp256k1Keccak);
    let mut results = Vec::new();
    let mut baseline = None;
    for mode in modes {
        let threads = if mode == ExecMode::Serial { 1 } else { args.threads };
        let executor = Executor::new(suite.clone())
            .with_parallelism(mode, threads)
            .map_err(anyhow::Error::msg)?;
        let mut runs = Vec::new();
        for _ in 0..args.repeat {
            runs.push(measure(&executor, &setup, args.block_size)?);
        }
        // The fastest run: the one least disturbed by whatever else the machine did.
        runs.sort_by_key(|m| m.elapsed);
        let best = runs.swap_remove(0);
        let tps = setup.txs.len() as f64 / best.elapsed.as_secs_f64();
        let base = *baseline.get_or_insert((tps, best.fingerprint));
        if best.fingerprint != base.1 {
            bail!("{mode} gave a different result from serial: a bug, please report it");
        }
        results.push((mode, threads, tps, tps / base.0, best));
    }
    if args.json {
        let rows: Vec<_> = results
            .iter()
            .map(|(mode, threads, tps, ratio, m)| {
                json!({
                    "mode": mode.to_string(), "threads": threads, "tps": tps.round(),
                    "ratio_to_serial": (ratio * 100.0).round() / 100.0,
                    "kept": m.stats.kept, "rerun": m.stats.rerun, "direct": m.stats.direct,
                    "failed_txs": m.failed,
                })
            })
            .collect();
        let out = json!({
            "workload": format!("{:?}", args.workload).to_lowercase(), "txs": args.txs,
            "accounts": args.accounts, "conflict_rate": args.conflict_rate,
            "block_size": args.block_size, "results": rows,
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "{:?}: {} txs, {} accounts, conflict rate {}, blocks of {} (fastest of {} runs; results identical in every mode)",
        args.workload, args.txs, args.accounts, args.conflict_rate, args.block_size, args.repeat
    );
    for (mode, threads, tps, ratio, m) in &results {
        println!(
            "  {:<10} {} thread{}  {:>9.0} tx/s  {:>5.2}× serial   kept {} rerun {} in order {}; \
             speculating {:.1} ms, committing {:.1} ms{}",
            mode.to_string(),
            threads,
            if *threads == 1 { " " } else { "s" },
            tps,
            ratio,
            m.stats.kept,
            m.stats.rerun,
            m.stats.direct,
            m.stats.speculate.as_secs_f64() * 1e3,
            m.stats.commit.as_secs_f64() * 1e3,
            if m.failed > 0 { format!("  ({} txs failed)", m.failed) } else { String::new() }
        );
    }
    Ok(())
}
