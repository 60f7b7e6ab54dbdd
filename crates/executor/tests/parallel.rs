//! Parallel execution gives the serial result, byte for byte, in every mode and thread
//! count: random blocks mixing conflicting and independent transactions, reverts,
//! contract creations, table scans, refused transactions, correct and wrong declarations.
//! Also the ParallelConfig (0x1006) and DagTransfer (0x100c) precompiles themselves.

mod common;

use alloy_primitives::{Address, Bytes, I256, U256};
use alloy_sol_types::{SolCall, SolValue, sol};
use aurum_crypto::SuiteKind;
use aurum_executor::{
    CODE_INSUFFICIENT_BALANCE, CODE_INVALID_CRITICAL_SIZE, CODE_INVALID_FUNCTION, CODE_USER_EXISTS,
    CODE_USER_NOT_FOUND, DAG_TRANSFER_ADDRESS, ExecMode, ExecutedBlock, Executor,
    PARALLEL_CONFIG_ADDRESS, ParallelStats,
};
use aurum_primitives::transaction::NativeTx;
use aurum_primitives::{Transaction, TxStatus, VerifiedTx};
use common::*;
use proptest::prelude::*;

sol!(
    #[sol(all_derives)]
    AurumToken,
    "../../contracts/artifacts/AurumToken.json"
);
sol!(
    #[sol(all_derives)]
    ParallelOk,
    "../../contracts/artifacts/ParallelOk.json"
);
sol!(
    #[sol(all_derives)]
    TableUser,
    "../../contracts/artifacts/TableUser.json"
);
sol!(
    #[sol(all_derives)]
    Reverter,
    "../../contracts/artifacts/Reverter.json"
);
sol! {
    interface IDagTransfer {
        function userAdd(string user, uint256 balance) external returns (uint256);
        function userSave(string user, uint256 balance) external returns (uint256);
        function userDraw(string user, uint256 balance) external returns (uint256);
        function userBalance(string user) external view returns (uint256, uint256);
        function userTransfer(string user_a, string user_b, uint256 amount)
            external returns (uint256);
    }
    interface IParallelConfig {
        function registerParallelFunction(address contractAddress, string functionName,
            uint256 criticalSize) external returns (int256);
        function unregisterParallelFunction(address contractAddress, string functionName)
            external returns (int256);
    }
}

const SENDERS: usize = 8;

fn sender(i: usize) -> Address {
    Address::with_last_byte(0x40 + i as u8)
}

fn name(i: usize) -> String {
    format!("n{i}")
}

struct World {
    chain: Chain,
    token: Address,
    parallel: Address,
    table: Address,
    reverter: Address,
}

/// A chain where eight senders hold tokens, ParallelOk balances and DagTransfer accounts.
fn world() -> World {
    let mut chain = Chain::new();
    let supply = U256::from(1_000_000u64);
    let token = chain.deploy(ALICE, "AurumToken", &("T", "T", supply).abi_encode_params());
    let parallel = chain.deploy(ALICE, "ParallelOk", &[]);
    let table = chain.deploy(ALICE, "TableUser", &[]);
    let reverter = chain.deploy(ALICE, "Reverter", &[]);
    chain.send(ALICE, parallel, ParallelOk::enableParallelCall {}.abi_encode());
    chain.send(ALICE, parallel, ParallelOk::declareWronglyCall {}.abi_encode());
    let mut setup = Vec::new();
    for i in 0..SENDERS {
        let to = sender(i);
        let value = U256::from(1_000u64);
        setup.push(chain.native(ALICE, Some(token), transfer(to, value)));
        let set = ParallelOk::setCall { name: name(i), amount: U256::from(100u64) };
        setup.push(chain.native(ALICE, Some(parallel), set.abi_encode().into()));
        let add = IDagTransfer::userAddCall { user: name(i), balance: U256::from(100u64) };
        setup.push(chain.native(ALICE, Some(DAG_TRANSFER_ADDRESS), add.abi_encode().into()));
    }
    let out = chain.block(&setup);
    assert!(out.receipts.iter().all(|r| r.status == TxStatus::Success));
    World { chain, token, parallel, table, reverter }
}

fn transfer(to: Address, value: U256) -> Bytes {
    AurumToken::transferCall { to, value }.abi_encode().into()
}

/// One random transaction.
#[derive(Debug, Clone)]
enum Op {
    Token { from: usize, to: usize, amount: u64 },
    Parallel { from_sender: usize, from: usize, to: usize, amount: u64 },
    Counted { from_sender: usize, from: usize, to: usize, amount: u64 },
    Dag { from_sender: usize, from: usize, to: usize, amount: u64 },
    DagSave { from_sender: usize, user: usize },
    TableInsert { from: usize, id: usize },
    TableRename { from: usize },
    Revert { from: usize },
    Create { from: usize },
    WrongKeys { from: usize, to: usize, key: u8 },
    Eth { from: usize, nonce: u64 },
    Value { from: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0..SENDERS;
    // Names 0..9: n8 and n9 do not exist (DagTransfer codes, ParallelOk zero balances).
    let n = 0..10usize;
    prop_oneof![
        4 => (s.clone(), s.clone(), 0..400u64).prop_map(|(from, to, amount)| Op::Token { from, to, amount }),
        3 => (s.clone(), n.clone(), n.clone(), 0..150u64).prop_map(|(a, from, to, amount)| Op::Parallel { from_sender: a, from, to, amount }),
        2 => (s.clone(), n.clone(), n.clone(), 0..150u64).prop_map(|(a, from, to, amount)| Op::Counted { from_sender: a, from, to, amount }),
        3 => (s.clone(), n.clone(), n.clone(), 0..150u64).prop_map(|(a, from, to, amount)| Op::Dag { from_sender: a, from, to, amount }),
        1 => (s.clone(), n.clone()).prop_map(|(a, user)| Op::DagSave { from_sender: a, user }),
        1 => (s.clone(), 0..6usize).prop_map(|(from, id)| Op::TableInsert { from, id }),
        1 => s.clone().prop_map(|from| Op::TableRename { from }),
        1 => s.clone().prop_map(|from| Op::Revert { from }),
        1 => s.clone().prop_map(|from| Op::Create { from }),
        2 => (s.clone(), s.clone(), 0..3u8).prop_map(|(from, to, key)| Op::WrongKeys { from, to, key }),
        1 => (s.clone(), 0..3u64).prop_map(|(from, nonce)| Op::Eth { from, nonce }),
        1 => s.prop_map(|from| Op::Value { from }),
    ]
}

fn build(w: &mut World, ops: &[Op]) -> Vec<VerifiedTx> {
    let chain = &mut w.chain;
    ops.iter()
        .map(|op| match *op {
            Op::Token { from, to, amount } => {
                chain.native(sender(from), Some(w.token), transfer(sender(to), U256::from(amount)))
            }
            Op::Parallel { from_sender, from, to, amount } => {
                let call = ParallelOk::transferCall {
                    from: name(from),
                    to: name(to),
                    amount: U256::from(amount),
                };
                chain.native(sender(from_sender), Some(w.parallel), call.abi_encode().into())
            }
            Op::Counted { from_sender, from, to, amount } => {
                let call = ParallelOk::transferCountedCall {
                    from: name(from),
                    to: name(to),
                    amount: U256::from(amount),
                };
                chain.native(sender(from_sender), Some(w.parallel), call.abi_encode().into())
            }
            Op::Dag { from_sender, from, to, amount } => {
                let call = IDagTransfer::userTransferCall {
                    user_a: name(from),
                    user_b: name(to),
                    amount: U256::from(amount),
                };
                chain.native(
                    sender(from_sender),
                    Some(DAG_TRANSFER_ADDRESS),
                    call.abi_encode().into(),
                )
            }
            Op::DagSave { from_sender, user } => {
                let call =
                    IDagTransfer::userSaveCall { user: name(user), balance: U256::from(5u64) };
                chain.native(
                    sender(from_sender),
                    Some(DAG_TRANSFER_ADDRESS),
                    call.abi_encode().into(),
                )
            }
            Op::TableInsert { from, id } => {
                let call = TableUser::insertCall {
                    id: format!("id{id}"),
                    name: "a".into(),
                    age: id.to_string(),
                };
                chain.native(sender(from), Some(w.table), call.abi_encode().into())
            }
            Op::TableRename { from } => {
                let call = TableUser::renameWhereCall { from: "a".into(), to: "b".into() };
                chain.native(sender(from), Some(w.table), call.abi_encode().into())
            }
            Op::Revert { from } => {
                let call = Reverter::setThenFailCall { v: U256::from(1) };
                chain.native(sender(from), Some(w.reverter), call.abi_encode().into())
            }
            Op::Create { from } => chain.native(sender(from), None, deploy_input("Reverter", &[])),
            Op::WrongKeys { from, to, key } => {
                // Declares a key unrelated to what the transfer touches.
                let mut tx =
                    chain.native(sender(from), Some(w.token), transfer(sender(to), U256::from(1)));
                if let Transaction::Native(native) = &mut tx.tx {
                    native.data.conflict_keys = vec![Bytes::from(vec![key])];
                }
                tx
            }
            Op::Eth { from, nonce } => {
                chain.eth(sender(from), nonce, Some(w.reverter), Bytes::new(), U256::ZERO)
            }
            Op::Value { from } => {
                chain.native_full(sender(from), Some(ALICE), Bytes::new(), U256::from(1), 0)
            }
        })
        .collect()
}

fn executors() -> Vec<(String, Executor)> {
    let mut out = Vec::new();
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

fn run(w: &World, executor: &Executor, txs: &[VerifiedTx]) -> (ExecutedBlock, ParallelStats) {
    executor.execute_block_with_stats(&w.chain.state, &w.chain.ctx, txs).expect("block executes")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn every_mode_gives_the_serial_result(ops in prop::collection::vec(op(), 1..120)) {
        let mut w = world();
        let txs = build(&mut w, &ops);
        let (serial, _) = run(&w, &w.chain.executor, &txs);
        for (label, executor) in executors() {
            let (parallel, stats) = run(&w, &executor, &txs);
            prop_assert_eq!(&parallel, &serial, "{} differs from serial ({:?})", label, stats);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The same blocks under a block gas limit small enough that most of them are cut:
    /// every mode cuts at the same tx and gives the serial result.
    #[test]
    fn every_mode_gives_the_serial_result_when_the_block_gas_limit_cuts(
        ops in prop::collection::vec(op(), 1..120),
        limit in 100_000u64..2_000_000,
    ) {
        let mut w = world();
        w.chain.ctx.block_gas_limit = limit;
        let txs = build(&mut w, &ops);
        let (serial, _) = run(&w, &w.chain.executor, &txs);
        let cut = serial.receipts.iter().filter(|r| r.status == TxStatus::BlockGasLimitReached).count();
        prop_assert!(cut == 0 || serial.gas_used >= limit);
        prop_assert!(serial.gas_used < limit * 2);
        for (label, executor) in executors() {
            let (parallel, stats) = run(&w, &executor, &txs);
            prop_assert_eq!(&parallel, &serial, "{} differs from serial ({:?})", label, stats);
        }
    }
}

/// A fixed block that the limit cuts part-way, so the property above is known to cover
/// cut blocks: transfers, DAG transfers and reverts, cut at the same tx in every mode.
#[test]
fn a_block_cut_by_the_gas_limit_is_the_same_in_every_mode() {
    let mut w = world();
    w.chain.ctx.block_gas_limit = 400_000;
    let ops: Vec<Op> = (0..40)
        .map(|i| match i % 3 {
            0 => Op::Token { from: i % SENDERS, to: (i + 3) % SENDERS, amount: 1 },
            1 => Op::Dag { from_sender: i % SENDERS, from: i % 8, to: (i + 1) % 8, amount: 1 },
            _ => Op::Revert { from: i % SENDERS },
        })
        .collect();
    let txs = build(&mut w, &ops);
    let (serial, _) = run(&w, &w.chain.executor, &txs);
    let cut = serial.receipts.iter().filter(|r| r.status == TxStatus::BlockGasLimitReached);
    assert!(cut.count() > 10, "the limit cuts the block: {:?}", serial.receipts);
    assert!(serial.gas_used >= 400_000 && serial.gas_used < 800_000, "{}", serial.gas_used);
    for (label, executor) in executors() {
        let (parallel, stats) = run(&w, &executor, &txs);
        assert_eq!(parallel, serial, "{label} differs from serial ({stats:?})");
    }
}

/// Conflict-free token transfers: nearly everything speculated is kept.
#[test]
fn independent_transfers_are_kept_from_speculation() {
    let mut w = world();
    let txs: Vec<VerifiedTx> = (0..SENDERS)
        .map(|i| {
            let to = Address::with_last_byte(0x80 + i as u8);
            w.chain.native(sender(i), Some(w.token), transfer(to, U256::from(1)))
        })
        .collect();
    let (serial, _) = run(&w, &w.chain.executor, &txs);
    let executor = Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak))
        .with_parallelism(ExecMode::Optimistic, 2)
        .expect("pool");
    let (parallel, stats) = run(&w, &executor, &txs);
    assert_eq!(parallel, serial);
    assert!(serial.receipts.iter().all(|r| r.status == TxStatus::Success));
    assert_eq!((stats.kept, stats.rerun, stats.direct, stats.rounds), (SENDERS, 0, 0, 1));
    // A ring (each receiver is the next sender) conflicts pairwise: the first of the round
    // is kept, the others run again; the result is still the serial one.
    let ring: Vec<Op> =
        (0..SENDERS).map(|i| Op::Token { from: i, to: (i + 1) % SENDERS, amount: 1 }).collect();
    let txs = build(&mut w, &ring);
    let (serial, _) = run(&w, &w.chain.executor, &txs);
    let (parallel, stats) = run(&w, &executor, &txs);
    assert_eq!(parallel, serial);
    assert!(stats.rerun >= SENDERS / 2, "{stats:?}");
}

/// DagTransfer among disjoint pairs: the DAG puts them in one round, all kept.
#[test]
fn dag_transfers_between_disjoint_users_run_in_one_round() {
    let mut w = world();
    let ops: Vec<Op> = (0..SENDERS / 2)
        .map(|i| Op::Dag { from_sender: i, from: 2 * i, to: 2 * i + 1, amount: 10 })
        .collect();
    let txs = build(&mut w, &ops);
    let (serial, _) = run(&w, &w.chain.executor, &txs);
    let executor = Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak))
        .with_parallelism(ExecMode::Dag, 2)
        .expect("pool");
    let (parallel, stats) = run(&w, &executor, &txs);
    assert_eq!(parallel, serial);
    assert_eq!((stats.kept, stats.rerun, stats.direct, stats.rounds), (4, 0, 0, 1));
}

/// A function declared by names that also bumps a shared counter: the declaration is
/// wrong, the results are still serial ones, and the damage is re-execution.
#[test]
fn a_wrong_declaration_costs_reruns_never_results() {
    let mut w = world();
    let ops: Vec<Op> = (0..SENDERS / 2)
        .map(|i| Op::Counted { from_sender: i, from: 2 * i, to: 2 * i + 1, amount: 1 })
        .collect();
    let txs = build(&mut w, &ops);
    let (serial, _) = run(&w, &w.chain.executor, &txs);
    let executor = Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak))
        .with_parallelism(ExecMode::Dag, 2)
        .expect("pool");
    let (parallel, stats) = run(&w, &executor, &txs);
    assert_eq!(parallel, serial);
    assert_eq!(stats.kept, 1, "only the first keeps its result: {stats:?}");
    assert_eq!(stats.rerun, 3, "{stats:?}");
    let count = w.chain.executor.execute_block(&w.chain.state, &w.chain.ctx, &txs).unwrap();
    assert!(count.receipts.iter().all(|r| r.status == TxStatus::Success));
}

fn code(receipt: &aurum_primitives::Receipt) -> i64 {
    let v = I256::abi_decode(&receipt.output).expect("int256 code");
    i64::try_from(v).expect("small code")
}

#[test]
fn parallel_config_checks_callers_signatures_and_sizes() {
    let mut w = world();
    let reg = |contract, f: &str, size: u64| -> Vec<u8> {
        IParallelConfig::registerParallelFunctionCall {
            contractAddress: contract,
            functionName: f.into(),
            criticalSize: U256::from(size),
        }
        .abi_encode()
    };
    // Someone else's contract: refused.
    let tx = w.chain.native(
        BOB,
        Some(PARALLEL_CONFIG_ADDRESS),
        reg(w.parallel, "set(string,uint256)", 1).into(),
    );
    assert_eq!(w.chain.run(tx).status, TxStatus::PermissionDenied);
    // Its own address, or an admin: accepted; bad signature and size: codes.
    let r = w.chain.send(BOB, PARALLEL_CONFIG_ADDRESS, reg(BOB, "f(string)", 1));
    assert_eq!(code(&r), 0);
    let r = w.chain.send(ADMIN, PARALLEL_CONFIG_ADDRESS, reg(w.parallel, "set(string,uint256)", 1));
    assert_eq!(code(&r), 0);
    let r = w.chain.send(BOB, PARALLEL_CONFIG_ADDRESS, reg(BOB, "f(string", 1));
    assert_eq!(code(&r), CODE_INVALID_FUNCTION);
    let r = w.chain.send(BOB, PARALLEL_CONFIG_ADDRESS, reg(BOB, "f(uint256[])", 1));
    assert_eq!(code(&r), CODE_INVALID_FUNCTION);
    let r = w.chain.send(BOB, PARALLEL_CONFIG_ADDRESS, reg(BOB, "f(string)", 2));
    assert_eq!(code(&r), CODE_INVALID_CRITICAL_SIZE);
    let unreg = IParallelConfig::unregisterParallelFunctionCall {
        contractAddress: BOB,
        functionName: "f(string)".into(),
    };
    let r = w.chain.send(BOB, PARALLEL_CONFIG_ADDRESS, unreg.abi_encode());
    assert_eq!(code(&r), 0);
    // The contract's own disable path works too.
    w.chain.send(ALICE, w.parallel, ParallelOk::disableParallelCall {}.abi_encode());
}

#[test]
fn dag_transfer_codes_and_balances() {
    let mut w = world();
    let dag = |chain: &mut Chain, input: Vec<u8>| -> U256 {
        let r = chain.send(BOB, DAG_TRANSFER_ADDRESS, input);
        U256::abi_decode(&r.output).expect("uint256 code")
    };
    let balance = |chain: &Chain, user: &str| -> (U256, U256) {
        let out = chain.call(
            BOB,
            DAG_TRANSFER_ADDRESS,
            IDagTransfer::userBalanceCall { user: user.into() }.abi_encode(),
        );
        <(U256, U256)>::abi_decode_params(&out.output).expect("(code, balance)")
    };
    let add = IDagTransfer::userAddCall { user: name(0), balance: U256::from(1) }.abi_encode();
    assert_eq!(dag(&mut w.chain, add), U256::from(CODE_USER_EXISTS));
    let t = |a: &str, b: &str, amount: u64| {
        IDagTransfer::userTransferCall {
            user_a: a.into(),
            user_b: b.into(),
            amount: U256::from(amount),
        }
        .abi_encode()
    };
    assert_eq!(dag(&mut w.chain, t("n0", "n1", 30)), U256::ZERO);
    assert_eq!(balance(&w.chain, "n0"), (U256::ZERO, U256::from(70)));
    assert_eq!(balance(&w.chain, "n1"), (U256::ZERO, U256::from(130)));
    assert_eq!(dag(&mut w.chain, t("n0", "n1", 71)), U256::from(CODE_INSUFFICIENT_BALANCE));
    assert_eq!(dag(&mut w.chain, t("n0", "nobody", 1)), U256::from(CODE_USER_NOT_FOUND));
    assert_eq!(balance(&w.chain, "nobody").0, U256::from(CODE_USER_NOT_FOUND));
    let draw = IDagTransfer::userDrawCall { user: name(0), balance: U256::from(70) }.abi_encode();
    assert_eq!(dag(&mut w.chain, draw), U256::ZERO);
    let save =
        IDagTransfer::userSaveCall { user: "fresh".into(), balance: U256::from(9) }.abi_encode();
    assert_eq!(dag(&mut w.chain, save), U256::ZERO);
    assert_eq!(balance(&w.chain, "fresh"), (U256::ZERO, U256::from(9)));
    assert_eq!(balance(&w.chain, "n0"), (U256::ZERO, U256::ZERO));
}

#[test]
fn native_conflict_keys_are_part_of_the_signed_tx() {
    // The explicit keys change the tx hash: a relay cannot strip or forge them.
    let mut w = world();
    let tx = w.chain.native(ALICE, Some(w.token), transfer(BOB, U256::from(1)));
    let Transaction::Native(native) = &tx.tx else { unreachable!() };
    let mut with_keys: NativeTx = native.data.clone();
    with_keys.conflict_keys = vec![Bytes::from_static(b"k")];
    assert_ne!(with_keys.signing_payload(), native.data.signing_payload());
}
