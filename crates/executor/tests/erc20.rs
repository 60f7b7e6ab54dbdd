//! An OpenZeppelin ERC20 (compiled artifact) on the executor: deploy, transfer,
//! approve/transferFrom, events and balances read through `call`.

mod common;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolEvent, SolInterface, SolValue, sol};
use aurum_primitives::TxStatus;
use common::*;

sol!(
    #[sol(all_derives)]
    AurumToken,
    "../../contracts/artifacts/AurumToken.json"
);

const SUPPLY: u64 = 1_000_000;

fn deploy(chain: &mut Chain) -> Address {
    let args = ("Aurum", "AUR", U256::from(SUPPLY)).abi_encode_params();
    chain.deploy(ALICE, "AurumToken", &args)
}

fn balance(chain: &Chain, token: Address, who: Address) -> U256 {
    let out = chain.call(BOB, token, AurumToken::balanceOfCall { account: who }.abi_encode());
    assert_eq!(out.status, TxStatus::Success);
    AurumToken::balanceOfCall::abi_decode_returns(&out.output).expect("uint256")
}

#[test]
fn deploy_mints_supply_to_deployer() {
    let mut chain = Chain::new();
    let token = deploy(&mut chain);
    assert_eq!(token, create_address(ALICE, 0));
    assert_eq!(balance(&chain, token, ALICE), U256::from(SUPPLY));
    assert_eq!(balance(&chain, token, BOB), U256::ZERO);
    let out = chain.call(BOB, token, AurumToken::symbolCall {}.abi_encode());
    assert_eq!(AurumToken::symbolCall::abi_decode_returns(&out.output).expect("string"), "AUR");
    // The deployer's nonce advanced; the contract's starts at 1 (EIP-161).
    assert_eq!(chain.nonce(ALICE), 1);
    assert_eq!(chain.nonce(token), 1);
}

#[test]
fn transfer_moves_balance_and_emits_event() {
    let mut chain = Chain::new();
    let token = deploy(&mut chain);
    let r = chain.send(
        ALICE,
        token,
        AurumToken::transferCall { to: BOB, value: U256::from(250) }.abi_encode(),
    );
    assert!(AurumToken::transferCall::abi_decode_returns(&r.output).expect("bool"));
    assert!(r.gas_used > 21_000, "gas is metered: {}", r.gas_used);

    assert_eq!(r.logs.len(), 1);
    let log = &r.logs[0];
    assert_eq!(log.address, token);
    assert_eq!(log.topics()[0], AurumToken::Transfer::SIGNATURE_HASH);
    assert_eq!(log.topics()[1], B256::left_padding_from(ALICE.as_slice()));
    assert_eq!(log.topics()[2], B256::left_padding_from(BOB.as_slice()));
    assert_eq!(log.data.data.as_ref(), U256::from(250).to_be_bytes::<32>().as_slice());
    let decoded = AurumToken::Transfer::decode_log(log).expect("Transfer event");
    assert_eq!((decoded.from, decoded.to, decoded.value), (ALICE, BOB, U256::from(250)));

    assert_eq!(balance(&chain, token, ALICE), U256::from(SUPPLY - 250));
    assert_eq!(balance(&chain, token, BOB), U256::from(250));
}

#[test]
fn transfer_over_balance_reverts_with_custom_error() {
    let mut chain = Chain::new();
    let token = deploy(&mut chain);
    let tx = chain.native(
        BOB,
        Some(token),
        AurumToken::transferCall { to: ALICE, value: U256::from(1) }.abi_encode().into(),
    );
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::Reverted);
    assert!(r.logs.is_empty());
    let err = AurumToken::AurumTokenErrors::abi_decode(&r.output).expect("OZ custom error");
    match err {
        AurumToken::AurumTokenErrors::ERC20InsufficientBalance(e) => {
            assert_eq!((e.sender, e.balance, e.needed), (BOB, U256::ZERO, U256::from(1)));
        }
        other => panic!("unexpected error {other:?}"),
    }
    // A reverted tx still consumes the sender's nonce.
    assert_eq!(chain.nonce(BOB), 1);
}

#[test]
fn approve_and_transfer_from() {
    let mut chain = Chain::new();
    let token = deploy(&mut chain);
    let r = chain.send(
        ALICE,
        token,
        AurumToken::approveCall { spender: BOB, value: U256::from(100) }.abi_encode(),
    );
    let approval = AurumToken::Approval::decode_log(&r.logs[0]).expect("Approval event");
    assert_eq!((approval.owner, approval.spender, approval.value), (ALICE, BOB, U256::from(100)));

    let allowance = chain.call(
        CAROL,
        token,
        AurumToken::allowanceCall { owner: ALICE, spender: BOB }.abi_encode(),
    );
    assert_eq!(
        AurumToken::allowanceCall::abi_decode_returns(&allowance.output).expect("uint"),
        U256::from(100)
    );

    let pull =
        AurumToken::transferFromCall { from: ALICE, to: CAROL, value: U256::from(60) }.abi_encode();
    chain.send(BOB, token, pull.clone());
    assert_eq!(balance(&chain, token, CAROL), U256::from(60));
    let allowance = chain.call(
        CAROL,
        token,
        AurumToken::allowanceCall { owner: ALICE, spender: BOB }.abi_encode(),
    );
    assert_eq!(
        AurumToken::allowanceCall::abi_decode_returns(&allowance.output).expect("uint"),
        U256::from(40)
    );

    // Over the remaining allowance.
    let tx = chain.native(BOB, Some(token), pull.into());
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::Reverted);
    assert!(matches!(
        AurumToken::AurumTokenErrors::abi_decode(&r.output),
        Ok(AurumToken::AurumTokenErrors::ERC20InsufficientAllowance(_))
    ));
}

#[test]
fn many_transfers_in_one_block_see_each_other() {
    let mut chain = Chain::new();
    let token = deploy(&mut chain);
    let mut txs = Vec::new();
    // ALICE -> BOB 10 times, then BOB forwards everything to CAROL in the same block.
    for _ in 0..10 {
        txs.push(chain.native(
            ALICE,
            Some(token),
            AurumToken::transferCall { to: BOB, value: U256::from(7) }.abi_encode().into(),
        ));
    }
    txs.push(chain.native(
        BOB,
        Some(token),
        AurumToken::transferCall { to: CAROL, value: U256::from(70) }.abi_encode().into(),
    ));
    let out = chain.block(&txs);
    assert!(out.receipts.iter().all(|r| r.status == TxStatus::Success));
    assert_eq!(out.gas_used, out.receipts.iter().map(|r| r.gas_used).sum::<u64>());
    assert_eq!(balance(&chain, token, BOB), U256::ZERO);
    assert_eq!(balance(&chain, token, CAROL), U256::from(70));
    assert_eq!(chain.nonce(ALICE), 11);
}
