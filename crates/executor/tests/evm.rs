//! EVM semantics on the executor: reverts, custom errors, CREATE2, block context, Cancun
//! opcodes, nonce rules, value transfers and the per-tx gas cap.

mod common;

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolError, SolEvent, SolValue, sol};
use aurum_primitives::TxStatus;
use common::*;

sol!(
    #[sol(all_derives)]
    Reverter,
    "../../contracts/artifacts/Reverter.json"
);
sol!(
    #[sol(all_derives)]
    Factory,
    "../../contracts/artifacts/Factory.json"
);
sol!(
    #[sol(all_derives)]
    Child,
    "../../contracts/artifacts/Child.json"
);
sol!(
    #[sol(all_derives)]
    BlockInfo,
    "../../contracts/artifacts/BlockInfo.json"
);
sol!(
    #[sol(all_derives)]
    Cancun,
    "../../contracts/artifacts/Cancun.json"
);

fn failing(
    chain: &mut Chain,
    from: Address,
    to: Address,
    input: Vec<u8>,
) -> aurum_primitives::Receipt {
    let tx = chain.native(from, Some(to), input.into());
    chain.run(tx)
}

#[test]
fn revert_reason_and_require_message_decode() {
    let mut chain = Chain::new();
    let c = chain.deploy(ALICE, "Reverter", &[]);
    let r = failing(
        &mut chain,
        ALICE,
        c,
        Reverter::failWithReasonCall { reason: "no way".into() }.abi_encode(),
    );
    assert_eq!(r.status, TxStatus::Reverted);
    assert_eq!(revert_reason(&r.output), "no way");
    assert!(r.gas_used > 0);

    let r =
        failing(&mut chain, ALICE, c, Reverter::failRequireCall { x: U256::from(3) }.abi_encode());
    assert_eq!(revert_reason(&r.output), "x must exceed 10");

    // The same through a read-only call.
    let out = chain.call(BOB, c, Reverter::failRequireCall { x: U256::from(3) }.abi_encode());
    assert_eq!(out.status, TxStatus::Reverted);
    assert_eq!(revert_reason(&out.output), "x must exceed 10");
    let out = chain.call(BOB, c, Reverter::failRequireCall { x: U256::from(30) }.abi_encode());
    assert_eq!(out.status, TxStatus::Success);
}

#[test]
fn custom_error_selector_and_arguments() {
    let mut chain = Chain::new();
    let c = chain.deploy(ALICE, "Reverter", &[]);
    let r = failing(
        &mut chain,
        ALICE,
        c,
        Reverter::failCustomCall { available: U256::from(5), required: U256::from(9) }.abi_encode(),
    );
    assert_eq!(r.status, TxStatus::Reverted);
    assert_eq!(&r.output[..4], Reverter::Insufficient::SELECTOR.as_slice());
    assert_eq!(&r.output[..4], &keccak256("Insufficient(uint256,uint256)")[..4]);
    let e = Reverter::Insufficient::abi_decode(&r.output).expect("custom error");
    assert_eq!((e.available, e.required), (U256::from(5), U256::from(9)));

    // Panic(0x12): division by zero.
    let r = failing(
        &mut chain,
        ALICE,
        c,
        Reverter::divideCall { a: U256::from(1), b: U256::ZERO }.abi_encode(),
    );
    assert_eq!(r.status, TxStatus::Reverted);
    let panic = alloy_sol_types::Panic::abi_decode(&r.output).expect("Panic");
    assert_eq!(panic.code, U256::from(0x12));
}

#[test]
fn reverted_writes_leave_no_trace() {
    let mut chain = Chain::new();
    let c = chain.deploy(ALICE, "Reverter", &[]);
    chain.send(ALICE, c, Reverter::setCall { v: U256::from(11) }.abi_encode());
    let before = chain.state.clone();
    let tx = chain_tx(&mut chain, c, Reverter::setThenFailCall { v: U256::from(99) }.abi_encode());
    let out = chain.block(&[tx]);
    assert_eq!(out.receipts[0].status, TxStatus::Reverted);
    // Only the sender's nonce changed.
    let changed: Vec<_> = out.diff.writes.keys().cloned().collect();
    assert_eq!(changed, vec![aurum_primitives::state::account_key(&ALICE)]);
    assert_eq!(chain.nonce(ALICE), before_nonce(&before, ALICE) + 1);
    let v = chain.call(BOB, c, Reverter::valueCall {}.abi_encode());
    assert_eq!(U256::abi_decode(&v.output).expect("uint"), U256::from(11));
}

fn chain_tx(chain: &mut Chain, to: Address, input: Vec<u8>) -> aurum_primitives::VerifiedTx {
    chain.native(ALICE, Some(to), input.into())
}

fn before_nonce(state: &aurum_primitives::state::MemState, a: Address) -> u64 {
    state
        .entries
        .get(&aurum_primitives::state::account_key(&a))
        .map_or(0, |b| aurum_primitives::state::AccountInfo::decode(b).expect("account").nonce)
}

#[test]
fn create2_address_matches_formula() {
    let mut chain = Chain::new();
    let factory = chain.deploy(ALICE, "Factory", &[]);
    let salt = B256::repeat_byte(0x42);
    let tag = U256::from(7);
    let r = chain.send(BOB, factory, Factory::deployCall { salt, tag }.abi_encode());
    let child = Factory::deployCall::abi_decode_returns(&r.output).expect("address");

    // keccak256(0xff ++ factory ++ salt ++ keccak256(initcode))[12..]
    let (code, _) = artifact("Child");
    let init_code = [code.as_ref(), &tag.abi_encode()].concat();
    let expected = factory.create2(salt, keccak256(&init_code));
    assert_eq!(child, expected);
    let predicted = chain.call(BOB, factory, Factory::predictCall { salt, tag }.abi_encode());
    assert_eq!(Address::abi_decode(&predicted.output).expect("address"), expected);

    let ev = Factory::Deployed::decode_log(&r.logs[0]).expect("Deployed");
    assert_eq!((ev.child, ev.salt), (expected, salt));
    let t = chain.call(BOB, child, Child::tagCall {}.abi_encode());
    assert_eq!(U256::abi_decode(&t.output).expect("tag"), tag);
    let creator = chain.call(BOB, child, Child::creatorCall {}.abi_encode());
    assert_eq!(Address::abi_decode(&creator.output).expect("creator"), factory);
    // The factory's nonce counts the creation; the child's code is stored.
    assert_eq!(chain.nonce(factory), 2);
    assert_ne!(chain.account(child).expect("child").code_hash, B256::ZERO);

    // Deploying again at the same address fails and is reported as a revert by the factory.
    let tx =
        chain.native(BOB, Some(factory), Factory::deployCall { salt, tag }.abi_encode().into());
    assert_eq!(chain.run(tx).status, TxStatus::Reverted);
}

#[test]
fn block_number_timestamp_chainid_and_sender() {
    let mut chain = Chain::new();
    let c = chain.deploy(ALICE, "BlockInfo", &[]);
    let number = chain.ctx.number;
    let seconds = chain.ctx.timestamp_ms / 1000;
    let r = chain.send(BOB, c, BlockInfo::recordCall {}.abi_encode());
    let seen = BlockInfo::Seen::decode_log(&r.logs[0]).expect("Seen");
    assert_eq!(seen.number, U256::from(number));
    assert_eq!(seen.timestamp, U256::from(seconds));
    assert_eq!(seen.chainId, U256::from(CHAIN_ID));
    assert_eq!((seen.sender, seen.origin), (BOB, BOB));

    let out = chain.call(CAROL, c, BlockInfo::infoCall {}.abi_encode());
    let info = BlockInfo::infoCall::abi_decode_returns(&out.output).expect("info");
    assert_eq!(info._0, U256::from(chain.ctx.number));
    assert_eq!(info._3, CAROL);
}

#[test]
fn cancun_transient_storage_and_mcopy() {
    let mut chain = Chain::new();
    let c = chain.deploy(ALICE, "Cancun", &[]);
    let r = chain.send(ALICE, c, Cancun::roundTripCall { v: U256::from(1234) }.abi_encode());
    assert_eq!(U256::abi_decode(&r.output).expect("uint"), U256::from(1234));
    // Transient storage does not outlive the transaction, nor is it in the diff.
    let out = chain.call(ALICE, c, Cancun::peekCall {}.abi_encode());
    assert_eq!(U256::abi_decode(&out.output).expect("uint"), U256::ZERO);

    let r = chain.send(ALICE, c, Cancun::guardedCall { reenter: false }.abi_encode());
    assert_eq!(U256::abi_decode(&r.output).expect("uint"), U256::from(1));
    let tx =
        chain.native(ALICE, Some(c), Cancun::guardedCall { reenter: true }.abi_encode().into());
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::Reverted);
    assert_eq!(revert_reason(&r.output), "reentrant call");

    let data: Bytes = (0u8..=99).collect::<Vec<_>>().into();
    let out = chain.call(ALICE, c, Cancun::copyCall { data: data.clone() }.abi_encode());
    assert_eq!(Cancun::copyCall::abi_decode_returns(&out.output).expect("bytes"), data);
}

#[test]
fn push0_is_available() {
    // PUSH0 PUSH0 RETURN as runtime code, deployed by a tiny init code.
    let runtime = [0x5f, 0x5f, 0xf3];
    let init = [0x62, 0x5f, 0x5f, 0xf3, 0x5f, 0x52, 0x60, 0x03, 0x60, 0x1d, 0xf3];
    let mut chain = Chain::new();
    let tx = chain.native(ALICE, None, Bytes::from(init.to_vec()));
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::Success, "{}", show(&r.output));
    let a = r.contract_address.expect("address");
    let code_hash = chain.account(a).expect("account").code_hash;
    assert_eq!(code_hash, keccak256(runtime));
    assert_eq!(chain.call(ALICE, a, vec![]).status, TxStatus::Success);
}

#[test]
fn eth_txs_need_the_next_account_nonce() {
    let mut chain = Chain::new();
    let c = chain.deploy(ALICE, "Reverter", &[]);
    let input: Bytes = Reverter::setCall { v: U256::from(5) }.abi_encode().into();
    let before = chain.state.clone();

    // Nonce 1 while the account is at 0: refused, and nothing changes at all.
    let wrong = chain.eth(BOB, 1, Some(c), input.clone(), U256::ZERO);
    let out = chain.block(&[wrong]);
    assert_eq!(out.receipts[0].status, TxStatus::NonceMismatch);
    assert_eq!(out.receipts[0].gas_used, 0);
    assert!(out.diff.is_empty());
    assert_eq!(chain.state.entries, before.entries);

    // 0 then 1 in one block both pass; a repeated 1 does not.
    let txs = vec![
        chain.eth(BOB, 0, Some(c), input.clone(), U256::ZERO),
        chain.eth(BOB, 1, Some(c), input.clone(), U256::ZERO),
        chain.eth(BOB, 1, Some(c), input.clone(), U256::ZERO),
    ];
    let out = chain.block(&txs);
    let statuses: Vec<_> = out.receipts.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![TxStatus::Success, TxStatus::Success, TxStatus::NonceMismatch]);
    assert_eq!(chain.nonce(BOB), 2);

    // Native txs ignore account nonces but still advance them; eth txs then continue.
    let n = chain.native(BOB, Some(c), input.clone());
    chain.run(n);
    assert_eq!(chain.nonce(BOB), 3);
    let e = chain.eth(BOB, 3, Some(c), input, U256::ZERO);
    assert_eq!(chain.run(e).status, TxStatus::Success);

    // Contract creation by an eth tx lands at the CREATE address of its nonce.
    let deploy = chain.eth(BOB, 4, None, deploy_input("Reverter", &[]), U256::ZERO);
    let r = chain.run(deploy);
    assert_eq!(r.contract_address, Some(BOB.create(4)));
}

#[test]
fn value_transfer_refused_when_balances_disabled() {
    let mut chain = Chain::new();
    chain.fund(ALICE, U256::from(1_000_000));
    let before = chain.nonce(ALICE);
    let tx = chain.native_full(ALICE, Some(BOB), Bytes::new(), U256::from(5), 0);
    let out = chain.block(&[tx]);
    let r = &out.receipts[0];
    assert_eq!(r.status, TxStatus::ValueTransferRefused);
    assert_eq!(r.gas_used, 0);
    assert!(chain.account(BOB).is_none());
    // Only the nonce moved.
    assert_eq!(chain.nonce(ALICE), before + 1);
    assert_eq!(chain.account(ALICE).expect("alice").balance, U256::from(1_000_000));
    assert_eq!(out.diff.len(), 1);
}

#[test]
fn value_transfer_with_balances_enabled() {
    let mut chain = Chain::new();
    chain.ctx.balances_enabled = true;
    chain.fund(ALICE, U256::from(1_000));
    let tx = chain.native_full(ALICE, Some(BOB), Bytes::new(), U256::from(300), 0);
    assert_eq!(chain.run(tx).status, TxStatus::Success);
    assert_eq!(chain.account(ALICE).expect("alice").balance, U256::from(700));
    assert_eq!(chain.account(BOB).expect("bob").balance, U256::from(300));
    // No gas fee is charged, but an overdraft is refused.
    let tx = chain.native_full(ALICE, Some(BOB), Bytes::new(), U256::from(701), 0);
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::ValueTransferRefused, "{}", show(&r.output));
    assert_eq!(chain.account(ALICE).expect("alice").balance, U256::from(700));
}

#[test]
fn tx_gas_limit_caps_execution() {
    let mut chain = Chain::new();
    let c = chain.deploy(ALICE, "Reverter", &[]);
    let heavy = Reverter::burnCall { rounds: U256::from(2_000) }.abi_encode();
    // Fits the default cap.
    let r = chain.send(ALICE, c, heavy.clone());
    let needed = r.gas_used;
    assert!(needed > 200_000, "burn uses real gas: {needed}");

    // Lower the chain's cap below what the tx needs: out of gas, all capped gas used,
    // state unchanged except the nonce, whatever gas limit the tx itself asked for.
    chain.ctx.tx_gas_limit = needed / 2;
    let tx = chain.native_full(ALICE, Some(c), heavy.clone().into(), U256::ZERO, 10_000_000_000);
    let out = chain.block(&[tx]);
    assert_eq!(out.receipts[0].status, TxStatus::OutOfGas);
    assert_eq!(out.receipts[0].gas_used, needed / 2);
    assert_eq!(out.diff.len(), 1);

    // A tx's own lower limit applies too.
    chain.ctx.tx_gas_limit = TX_GAS_LIMIT;
    let tx = chain.native_full(ALICE, Some(c), heavy.into(), U256::ZERO, 50_000);
    let r = chain.run(tx);
    assert_eq!((r.status, r.gas_used), (TxStatus::OutOfGas, 50_000));

    // Below the intrinsic cost: refused before execution.
    let tx = chain.native_full(ALICE, Some(c), Bytes::new(), U256::ZERO, 1_000);
    assert_eq!(chain.run(tx).status, TxStatus::InvalidTx);
}

#[test]
fn read_only_calls_persist_nothing_and_accept_any_sender() {
    let mut chain = Chain::new();
    let c = chain.deploy(ALICE, "Reverter", &[]);
    let before = chain.state.clone();
    // A contract address as `from` (eth_call allows it) and a write that is not kept.
    let out = chain.call(c, c, Reverter::setCall { v: U256::from(5) }.abi_encode());
    assert_eq!(out.status, TxStatus::Success);
    assert_eq!(chain.state.entries, before.entries);
    // The executor's journal address is not callable.
    let shadow: Address = "0x000000000000000000000000000000000001fffe".parse().expect("address");
    let out = chain.call(ALICE, shadow, vec![1, 2, 3]);
    assert_eq!(out.status, TxStatus::PrecompileError);
}

/// BLOCKHASH answers from the ancestor hashes the node passes in, and zero for any other
/// number (as on Ethereum outside the 256-block window).
#[test]
fn blockhash_reads_ancestor_hashes_from_the_context() {
    let mut chain = Chain::new();
    // initcode copying a 13-byte runtime that returns blockhash(block.number - 1):
    // PUSH1 1 NUMBER SUB BLOCKHASH PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    let runtime = hex::decode("600143034060005260206000f3").unwrap();
    let mut initcode = hex::decode("600d600c600039600d6000f3").unwrap();
    initcode.extend(&runtime);
    let tx = chain.native(ADMIN, None, initcode.into());
    let receipt = chain.run(tx);
    assert_eq!(receipt.status, TxStatus::Success);
    let contract = receipt.contract_address.unwrap();

    let parent = chain.ctx.number - 1;
    chain.ctx.block_hashes.insert(parent, B256::repeat_byte(0x42));
    let out = chain.call(ADMIN, contract, vec![]);
    assert_eq!(out.output.as_ref(), B256::repeat_byte(0x42).as_slice());

    chain.ctx.block_hashes.clear();
    let out = chain.call(ADMIN, contract, vec![]);
    assert_eq!(out.output.as_ref(), B256::ZERO.as_slice());
}
