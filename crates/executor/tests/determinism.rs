//! The same block over the same state gives byte-identical receipts and diff, whatever
//! the executor instance (hash-map seeds differ per instance), and so the same state root.

mod common;

use alloy_primitives::{B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue, sol};
use aurum_crypto::SuiteKind;
use aurum_executor::{ExecutedBlock, Executor, SYSTEM_CONFIG_ADDRESS};
use aurum_primitives::VerifiedTx;
use common::*;

sol!(
    #[sol(all_derives)]
    AurumToken,
    "../../contracts/artifacts/AurumToken.json"
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
sol!(
    #[sol(all_derives)]
    ISystemConfig,
    "../../contracts/artifacts/ISystemConfig.json"
);

/// A chain with a token and a table contract, and a busy mixed block to run on it.
fn setup() -> (Chain, Vec<VerifiedTx>) {
    let mut chain = Chain::new();
    let token = chain.deploy(
        ALICE,
        "AurumToken",
        &("T", "T", U256::from(1_000_000u64)).abi_encode_params(),
    );
    let user = chain.deploy(ALICE, "TableUser", &[]);
    let reverter = chain.deploy(ALICE, "Reverter", &[]);
    let mut txs = Vec::new();
    for i in 0..20u64 {
        let to = alloy_primitives::Address::with_last_byte(i as u8 + 1);
        txs.push(chain.native(
            ALICE,
            Some(token),
            AurumToken::transferCall { to, value: U256::from(i + 1) }.abi_encode().into(),
        ));
        let id = format!("id{i}");
        txs.push(chain.native(
            BOB,
            Some(user),
            TableUser::insertCall { id, name: "n".into(), age: i.to_string() }.abi_encode().into(),
        ));
    }
    txs.push(chain.native(
        BOB,
        Some(user),
        TableUser::renameWhereCall { from: "n".into(), to: "m".into() }.abi_encode().into(),
    ));
    txs.push(chain.native(
        CAROL,
        Some(reverter),
        Reverter::setThenFailCall { v: U256::from(1) }.abi_encode().into(),
    ));
    txs.push(chain.native(
        CAROL,
        Some(reverter),
        Reverter::burnCall { rounds: U256::from(50) }.abi_encode().into(),
    ));
    txs.push(chain.eth(CAROL, 7, Some(reverter), Bytes::new(), U256::ZERO));
    txs.push(chain.native_full(CAROL, Some(BOB), Bytes::new(), U256::from(1), 0));
    let set =
        ISystemConfig::setValueByKeyCall { key: "tx_count_limit".into(), value: "2000".into() };
    txs.push(chain.native(ADMIN, Some(SYSTEM_CONFIG_ADDRESS), set.abi_encode().into()));
    (chain, txs)
}

fn encode(block: &ExecutedBlock) -> Vec<u8> {
    let mut out = block.diff.encode();
    for r in &block.receipts {
        out.extend(r.encode());
    }
    out.extend(block.gas_used.to_be_bytes());
    out
}

#[test]
fn same_block_twice_is_byte_identical() {
    let (chain, txs) = setup();
    let a = chain.executor.execute_block(&chain.state, &chain.ctx, &txs).expect("run 1");
    let b = chain.executor.execute_block(&chain.state, &chain.ctx, &txs).expect("run 2");
    let fresh = Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak));
    let c = fresh.execute_block(&chain.state, &chain.ctx, &txs).expect("run 3");
    assert_eq!(encode(&a), encode(&b));
    assert_eq!(encode(&a), encode(&c));
    assert_eq!(a, c);
    assert_eq!(a.receipts.len(), txs.len());
    assert!(a.diff.len() > 40, "the block writes: {}", a.diff.len());

    let suite = aurum_crypto::suite(SuiteKind::Secp256k1Keccak);
    let parent = B256::repeat_byte(7);
    let root = a.diff.state_root(&parent, suite.as_ref());
    assert_eq!(root, c.diff.state_root(&parent, suite.as_ref()));
    assert_ne!(root, parent);
    // Executing does not touch the state it reads.
    let again = chain.executor.execute_block(&chain.state, &chain.ctx, &txs).expect("run 4");
    assert_eq!(again.diff.state_root(&parent, suite.as_ref()), root);
}

#[test]
fn split_blocks_reach_the_same_state_as_one_block() {
    let (chain, txs) = setup();
    let mut one = Chain { state: chain.state.clone(), ..Chain::new() };
    one.ctx = chain.ctx.clone();
    let mut two = Chain { state: chain.state.clone(), ..Chain::new() };
    two.ctx = chain.ctx.clone();
    // Everything but the block-number-dependent config write.
    let body = &txs[..txs.len() - 1];
    one.block(body);
    let (first, second) = body.split_at(17);
    two.block(first);
    two.ctx.number -= 1; // same height so block.number-dependent code agrees
    two.block(second);
    assert_eq!(one.state.entries, two.state.entries);
}
