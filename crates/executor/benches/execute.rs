//! Serial execution of one block of 10,000 ERC20 transfers (OpenZeppelin token, compiled
//! artifact) between distinct, pre-funded senders and distinct receivers, over MemState.
//!
//! The chain's real block limit is `tx_count_limit` = 1,000 transactions; this bench
//! raises it to 10,000 so that per-block setup is amortised the way a long run would.
//! Each iteration executes the same block over the same parent state (nothing is
//! committed), so every iteration does identical work: 10,000 cold sender accounts,
//! 20,000 cold storage slots, 10,000 nonce and 20,000 slot writes, and the diff.

use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::{SolCall, SolValue, sol};
use aurum_crypto::SuiteKind;
use aurum_executor::{BlockContext, Executor};
use aurum_primitives::state::MemState;
use aurum_primitives::transaction::{NativeTx, SignedNativeTx};
use aurum_primitives::{Transaction, TxStatus, VerifiedTx};
use criterion::{Criterion, Throughput};
use std::time::{Duration, Instant};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
}

const TXS: usize = 10_000;

fn addr(tag: u8, i: usize) -> Address {
    Address::from_slice(&keccak256([&[tag][..], &(i as u64).to_be_bytes()].concat())[12..])
}

fn tx(nonce: u64, from: Address, to: Option<Address>, input: Bytes) -> VerifiedTx {
    let data = NativeTx {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        block_limit: 1000,
        nonce: U256::from(nonce),
        to: to.map_or(TxKind::Create, TxKind::Call),
        value: U256::ZERO,
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

fn token_bytecode() -> Vec<u8> {
    let path = format!("{}/../../contracts/artifacts/AurumToken.json", env!("CARGO_MANIFEST_DIR"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("artifact")).expect("json");
    hex::decode(json["bytecode"].as_str().expect("bytecode").trim_start_matches("0x")).expect("hex")
}

struct Setup {
    executor: Executor,
    state: MemState,
    ctx: BlockContext,
    block: Vec<VerifiedTx>,
}

/// Deploys the token, funds TXS senders (in setup blocks), and builds the measured block.
fn setup() -> Setup {
    let executor = Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak));
    let mut ctx = BlockContext {
        number: 1,
        timestamp_ms: 1_700_000_000_000,
        chain_id: 20200,
        tx_gas_limit: 300_000_000,
        block_gas_limit: u64::MAX,
        balances_enabled: false,
        admins: vec![],
        block_hashes: Default::default(),
    };
    let mut state = MemState::default();
    let deployer = addr(0, 0);
    let mut input = token_bytecode();
    input.extend(("Bench", "BEN", U256::from(u64::MAX)).abi_encode_params());
    let run = |state: &mut MemState, ctx: &mut BlockContext, txs: &[VerifiedTx]| {
        let out = executor.execute_block(state, ctx, txs).expect("setup block");
        assert!(out.receipts.iter().all(|r| r.status == TxStatus::Success), "setup tx failed");
        state.apply(&out.diff);
        ctx.number += 1;
        out
    };
    let out = run(&mut state, &mut ctx, &[tx(0, deployer, None, input.into())]);
    let token = out.receipts[0].contract_address.expect("token");

    let mut nonce = 1;
    let funding: Vec<VerifiedTx> = (0..TXS)
        .map(|i| {
            nonce += 1;
            let call = transferCall { to: addr(1, i), value: U256::from(1_000_000u64) };
            tx(nonce, deployer, Some(token), call.abi_encode().into())
        })
        .collect();
    for chunk in funding.chunks(1000) {
        run(&mut state, &mut ctx, chunk);
    }
    let block = (0..TXS)
        .map(|i| {
            nonce += 1;
            let call = transferCall { to: addr(2, i), value: U256::from(1 + i as u64) };
            tx(nonce, addr(1, i), Some(token), call.abi_encode().into())
        })
        .collect();
    // Executing a block reads the parent state through the executor's caches; start the
    // measurement from a fresh executor so that only the code cache (shared across
    // blocks, as in a node) is warm.
    Setup {
        executor: Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak)),
        state,
        ctx,
        block,
    }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let check = s.executor.execute_block(&s.state, &s.ctx, &s.block).expect("block");
    assert!(check.receipts.iter().all(|r| r.status == TxStatus::Success));
    assert_eq!(check.diff.len(), 3 * TXS, "nonce + two balance slots per transfer");

    // A direct figure first: median of 9 runs.
    let mut times: Vec<Duration> = (0..9)
        .map(|_| {
            let t = Instant::now();
            let out = s.executor.execute_block(&s.state, &s.ctx, &s.block).expect("block");
            let d = t.elapsed();
            assert_eq!(out.receipts.len(), TXS);
            d
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "execute_block: {TXS} ERC20 transfers (block limit raised from 1,000 to {TXS}) in {:.1} ms \
         (median of 9) = {:.0} tx/s serial, one core",
        median.as_secs_f64() * 1e3,
        TXS as f64 / median.as_secs_f64()
    );

    let mut group = c.benchmark_group("execute");
    group.throughput(Throughput::Elements(TXS as u64));
    group.sample_size(10);
    group.bench_function("erc20_transfers_10k", |b| {
        b.iter(|| s.executor.execute_block(&s.state, &s.ctx, &s.block).expect("block"))
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
