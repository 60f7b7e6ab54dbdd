//! Limits that keep one client from stalling a chain or a node: the block gas limit (a
//! block of looping txs is cut, identically in every execution mode), the wall-clock
//! deadline of read-only calls, and the row and byte caps of table selects.

mod common;

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, sol};
use aurum_crypto::SuiteKind;
use aurum_executor::{ExecError, ExecMode, ExecutedBlock, Executor, TABLE_MANAGER_ADDRESS};
use aurum_primitives::state::{MemState, StateEntries, StateError, StateReader, table_row_key};
use aurum_primitives::{TxStatus, VerifiedTx};
use common::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

sol!(
    #[sol(all_derives)]
    ITableManager,
    "../../contracts/artifacts/ITableManager.json"
);
sol!(
    #[sol(all_derives)]
    ITable,
    "../../contracts/artifacts/ITable.json"
);

/// `JUMPDEST PUSH1 0 JUMP`: loops until its gas runs out (12 gas per 3 instructions).
const SPIN: &[u8] = &[0x5b, 0x60, 0x00, 0x56];
/// Hashes 32 bytes of memory into itself forever (KECCAK256-bound).
const HASH_LOOP: &[u8] = &[0x5b, 0x60, 0x20, 0x60, 0x00, 0x20, 0x60, 0x00, 0x52, 0x60, 0x00, 0x56];
/// Increments storage slot 0 forever (SLOAD/SSTORE-bound).
const STORE_LOOP: &[u8] =
    &[0x5b, 0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x60, 0x00, 0x56];

/// Creation code that deploys `runtime` as is.
fn init_code(runtime: &[u8]) -> Bytes {
    let len = u8::try_from(runtime.len()).expect("short runtime");
    let mut code = vec![0x60, len, 0x60, 12, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xf3];
    code.extend_from_slice(runtime);
    code.into()
}

/// Calls `target` with all its gas, again and again: a loop of nested loops.
fn caller_loop(target: Address) -> Vec<u8> {
    let mut code = vec![0x5b, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x73];
    code.extend_from_slice(target.as_slice());
    code.extend_from_slice(&[0x5a, 0xf1, 0x50, 0x60, 0x00, 0x56]);
    code
}

fn deploy_code(chain: &mut Chain, runtime: &[u8]) -> Address {
    let tx = chain.native(ALICE, None, init_code(runtime));
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::Success, "{}", show(&r.output));
    r.contract_address.expect("created")
}

fn executors() -> Vec<(String, Executor)> {
    let mut out = vec![(
        "serial".to_string(),
        Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak)),
    )];
    for mode in [ExecMode::Dag, ExecMode::Optimistic, ExecMode::Auto] {
        for threads in [2, 4] {
            let executor = Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak))
                .with_parallelism(mode, threads)
                .expect("pool");
            out.push((format!("{mode}/{threads}"), executor));
        }
    }
    out
}

fn sender(i: usize) -> Address {
    Address::with_last_byte(0x40 + i as u8)
}

#[test]
fn a_block_of_looping_txs_at_the_tx_gas_cap_is_cut_at_the_block_gas_limit_in_every_mode() {
    let mut chain = Chain::new();
    let spin = deploy_code(&mut chain, SPIN);
    chain.ctx.tx_gas_limit = 30_000_000;
    chain.ctx.block_gas_limit = 100_000_000;
    let mut txs: Vec<VerifiedTx> =
        (0..10).map(|i| chain.native(sender(i), Some(spin), Bytes::new())).collect();
    // Ethereum txs after the cut: the right nonce is consumed, a wrong one is refused as
    // anywhere in a block.
    let eth_sender = sender(20);
    txs.push(chain.eth(eth_sender, 0, Some(spin), Bytes::new(), U256::ZERO));
    txs.push(chain.eth(eth_sender, 5, Some(spin), Bytes::new(), U256::ZERO));
    let mut results: Vec<(String, ExecutedBlock)> = Vec::new();
    for (label, executor) in executors() {
        let block = executor.execute_block(&chain.state, &chain.ctx, &txs).expect("executes");
        results.push((label, block));
    }
    let serial = &results[0].1;
    for (label, block) in &results[1..] {
        assert_eq!(block, serial, "{label} differs from serial");
    }
    let statuses: Vec<TxStatus> = serial.receipts.iter().map(|r| r.status).collect();
    // 4 × 30M reaches 100M: the 5th and every later tx are not run.
    assert_eq!(&statuses[..4], &[TxStatus::OutOfGas; 4]);
    assert!(serial.receipts[..4].iter().all(|r| r.gas_used == 30_000_000));
    assert_eq!(&statuses[4..11], &[TxStatus::BlockGasLimitReached; 7]);
    assert_eq!(statuses[11], TxStatus::NonceMismatch);
    assert!(serial.receipts[4..].iter().all(|r| r.gas_used == 0));
    assert!(show(&serial.receipts[4].output).contains("block_gas_limit 100000000"));
    assert_eq!(serial.gas_used, 120_000_000);
    assert!(serial.gas_used < 2 * chain.ctx.block_gas_limit);
    // Every sender's nonce moved on, run or not.
    chain.block(&txs);
    for i in 0..10 {
        assert_eq!(chain.nonce(sender(i)), 1, "sender {i}");
    }
    assert_eq!(chain.nonce(eth_sender), 1);
}

#[test]
fn each_tx_is_also_capped_by_the_block_gas_limit() {
    let mut chain = Chain::new();
    let spin = deploy_code(&mut chain, SPIN);
    chain.ctx.tx_gas_limit = 3_000_000_000;
    chain.ctx.block_gas_limit = 5_000_000;
    let tx = chain.native(ALICE, Some(spin), Bytes::new());
    let r = chain.run(tx);
    assert_eq!((r.status, r.gas_used), (TxStatus::OutOfGas, 5_000_000));
    // A block under the limit is untouched: every tx runs.
    chain.ctx.block_gas_limit = 1_000_000_000;
    let txs: Vec<VerifiedTx> = (0..3)
        .map(|i| chain.native_full(sender(i), Some(spin), Bytes::new(), U256::ZERO, 1_000_000))
        .collect();
    let out = chain.block(&txs);
    assert!(out.receipts.iter().all(|r| r.status == TxStatus::OutOfGas), "{:?}", out.receipts);
    assert_eq!(out.gas_used, 3_000_000);
}

#[test]
fn the_deadline_stops_an_infinite_loop_and_nested_loops() {
    let mut chain = Chain::new();
    let spin = deploy_code(&mut chain, SPIN);
    let outer = deploy_code(&mut chain, &caller_loop(spin));
    // Practically unbounded gas: only the clock can stop these.
    chain.ctx.tx_gas_limit = u64::MAX / 4;
    chain.ctx.block_gas_limit = u64::MAX;
    for target in [spin, outer] {
        let started = Instant::now();
        let err = chain
            .executor
            .call_with_timeout(
                &chain.state,
                &chain.ctx,
                BOB,
                Some(target),
                Bytes::new(),
                None,
                Duration::from_millis(300),
            )
            .expect_err("times out");
        assert_eq!(err, ExecError::TimedOut { ms: 300 });
        assert_eq!(err.to_string(), "execution timed out after 300 ms");
        // Generous: the point is that it stops, not how fast.
        assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    }
    // Within the deadline a call gives what the plain call gives.
    chain.ctx.tx_gas_limit = 2_000_000;
    let plain = chain.executor.call(&chain.state, &chain.ctx, BOB, Some(spin), Bytes::new(), None);
    let timed = chain.executor.call_with_timeout(
        &chain.state,
        &chain.ctx,
        BOB,
        Some(spin),
        Bytes::new(),
        None,
        Duration::from_secs(60),
    );
    assert_eq!(plain, timed);
    assert_eq!(plain.expect("runs").status, TxStatus::OutOfGas);
}

/// Gas per second of looping contracts on this machine, which sizes
/// `DEFAULT_BLOCK_GAS_LIMIT`. Prints figures; run with
/// `cargo test --release --workspace --test limits -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: prints gas/second figures"]
fn gas_per_second() {
    let mut chain = Chain::new();
    let loops = [("spin", SPIN), ("keccak", HASH_LOOP), ("sstore", STORE_LOOP)];
    let addresses: Vec<(&str, Address)> =
        loops.iter().map(|(name, code)| (*name, deploy_code(&mut chain, code))).collect();
    let per_tx = 30_000_000u64;
    chain.ctx.tx_gas_limit = per_tx;
    chain.ctx.block_gas_limit = u64::MAX;
    for (name, address) in addresses {
        let txs: Vec<VerifiedTx> = (0..10)
            .map(|i| chain.native_full(sender(i), Some(address), Bytes::new(), U256::ZERO, 0))
            .collect();
        let mut best = f64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let out = chain.executor.execute_block(&chain.state, &chain.ctx, &txs).expect("runs");
            best = best.min(started.elapsed().as_secs_f64());
            assert_eq!(out.gas_used, per_tx * 10);
        }
        let rate = (per_tx * 10) as f64 / best;
        println!(
            "{name:>7}: {:.0} Mgas/s ({:.3} s for {} Mgas); a block at 1 s is {:.0} Mgas",
            rate / 1e6,
            best,
            per_tx * 10 / 1_000_000,
            rate / 1e6
        );
    }
}

/// A state reader that remembers the most rows one prefix scan returned.
struct Counting {
    inner: MemState,
    most_rows: AtomicUsize,
}

impl StateReader for Counting {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.inner.get(key)
    }
    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<StateEntries, StateError> {
        let rows = self.inner.scan_prefix(prefix, limit)?;
        self.most_rows.fetch_max(rows.len(), Ordering::Relaxed);
        Ok(rows)
    }
}

fn table(chain: &mut Chain, name: &str) -> Address {
    let info = ITableManager::TableInfo {
        keyOrder: 0,
        keyColumn: "k".into(),
        valueColumns: vec!["v".into()],
    };
    let r = chain.send(
        BOB,
        TABLE_MANAGER_ADDRESS,
        ITableManager::createTableCall { path: name.into(), tableInfo: info }.abi_encode(),
    );
    assert_eq!(ITableManager::createTableCall::abi_decode_returns(&r.output).expect("int32"), 0);
    aurum_executor::table_address(&format!("/tables/{name}"))
}

fn select(
    chain: &Chain,
    table: Address,
    offset: u32,
    count: u32,
) -> Result<Vec<ITable::Entry>, String> {
    let input = ITable::select_0Call { conditions: vec![], limit: ITable::Limit { offset, count } }
        .abi_encode();
    let out = chain.call(BOB, table, input);
    if out.status != TxStatus::Success {
        return Err(format!("{:?}: {}", out.status, revert_reason(&out.output)));
    }
    Ok(ITable::select_0Call::abi_decode_returns(&out.output).expect("entries"))
}

#[test]
fn table_selects_refuse_past_the_row_and_byte_caps() {
    let mut chain = Chain::new();
    let t = table(&mut chain, "t_big");
    let big = "x".repeat(1024 * 1024);
    for k in 0..5 {
        let entry = ITable::Entry { key: format!("k{k}"), fields: vec![big.clone()] };
        chain.send(BOB, t, ITable::insertCall { entry }.abi_encode());
    }
    // 5 MiB of rows is past the 4 MiB a select may materialise: a clear refusal.
    let err = select(&chain, t, 0, 500).expect_err("refused");
    assert!(err.starts_with("PrecompileError"), "{err}");
    assert!(err.contains("exceed 4194304 bytes"), "{err}");
    assert!(err.contains("Limit.count"), "{err}");
    // Paging works, and so do reads by key and counts.
    assert_eq!(select(&chain, t, 0, 3).expect("3 rows").len(), 3);
    let rest = select(&chain, t, 3, 3).expect("the rest");
    assert_eq!(rest.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["k3", "k4"]);
    let out = chain.call(BOB, t, ITable::countCall { conditions: vec![] }.abi_encode());
    assert_eq!(ITable::countCall::abi_decode_returns(&out.output).expect("u32"), 5);
    // More than 500 rows per call is refused as before.
    let err = select(&chain, t, 0, 501).expect_err("refused");
    assert!(err.contains("count must be at most 500"), "{err}");
}

#[test]
fn table_scans_read_storage_only_as_deep_as_the_gas_pays_for() {
    let mut chain = Chain::new();
    table(&mut chain, "t_wide");
    let t = aurum_executor::table_address("/tables/t_wide");
    // 3,000 rows written straight into state (as many blocks of inserts would).
    for k in 0..3_000u32 {
        let mut value = Vec::new();
        alloy_rlp::encode_list::<String, String>(&[format!("v{k}")], &mut value);
        chain
            .state
            .entries
            .insert(table_row_key("/tables/t_wide", format!("{k:05}").as_bytes()), value);
    }
    let reader = Counting { inner: chain.state.clone(), most_rows: AtomicUsize::new(0) };
    let count = ITable::countCall { conditions: vec![] }.abi_encode();
    let out = chain
        .executor
        .call(&reader, &chain.ctx, BOB, Some(t), count.clone().into(), Some(100_000))
        .expect("runs");
    assert_eq!(out.status, TxStatus::OutOfGas);
    let most = reader.most_rows.load(Ordering::Relaxed);
    assert!(most <= 100_000 / 200 + 1, "read {most} rows for 100,000 gas");
    // With the gas for it, the whole table is counted.
    let out = chain
        .executor
        .call(&reader, &chain.ctx, BOB, Some(t), count.into(), Some(2_000_000))
        .expect("runs");
    assert_eq!(out.status, TxStatus::Success, "{}", show(&out.output));
    assert_eq!(ITable::countCall::abi_decode_returns(&out.output).expect("u32"), 3_000);
}
