//! SystemConfig, Consensus and Crypto precompiles.

mod common;

use alloy_primitives::{Address, B256, Bytes, I256, U256, keccak256};
use alloy_sol_types::{SolCall, sol};
use aurum_crypto::{KeyPair, SuiteKind};
use aurum_executor::{CONSENSUS_ADDRESS, CRYPTO_ADDRESS, SYSTEM_CONFIG_ADDRESS};
use aurum_primitives::TxStatus;
use aurum_primitives::state::{
    ConsensusNodeList, SystemConfigEntry, consensus_nodes_key, system_config_key,
};
use common::*;

sol!(
    #[sol(all_derives)]
    ISystemConfig,
    "../../contracts/artifacts/ISystemConfig.json"
);
sol!(
    #[sol(all_derives)]
    IConsensus,
    "../../contracts/artifacts/IConsensus.json"
);
sol!(
    #[sol(all_derives)]
    ICrypto,
    "../../contracts/artifacts/ICrypto.json"
);
sol!(
    #[sol(all_derives)]
    PrecompileUser,
    "../../contracts/artifacts/PrecompileUser.json"
);

fn set(chain: &mut Chain, from: Address, key: &str, value: &str) -> aurum_primitives::Receipt {
    let input =
        ISystemConfig::setValueByKeyCall { key: key.into(), value: value.into() }.abi_encode();
    let tx = chain.native(from, Some(SYSTEM_CONFIG_ADDRESS), input.into());
    chain.run(tx)
}

fn code(r: &aurum_primitives::Receipt) -> i32 {
    assert_eq!(r.status, TxStatus::Success, "{:?}: {}", r.status, revert_reason(&r.output));
    ISystemConfig::setValueByKeyCall::abi_decode_returns(&r.output).expect("int32")
}

#[test]
fn system_config_set_by_admin_applies_next_block() {
    let mut chain = Chain::new();
    let number = chain.ctx.number;
    let r = set(&mut chain, ADMIN, "tx_gas_limit", "500000000");
    assert_eq!(code(&r), 0);
    let stored = chain.state.entries.get(&system_config_key("tx_gas_limit")).expect("stored");
    let entry = SystemConfigEntry::decode(stored).expect("entry");
    assert_eq!(entry, SystemConfigEntry { value: "500000000".into(), enable_number: number + 1 });

    let out = chain.call(
        BOB,
        SYSTEM_CONFIG_ADDRESS,
        ISystemConfig::getValueByKeyCall { key: "tx_gas_limit".into() }.abi_encode(),
    );
    let got =
        ISystemConfig::getValueByKeyCall::abi_decode_returns(&out.output).expect("(string,int256)");
    assert_eq!((got._0.as_str(), got._1), ("500000000", I256::try_from(number + 1).expect("fits")));
    let out = chain.call(
        BOB,
        SYSTEM_CONFIG_ADDRESS,
        ISystemConfig::getValueByKeyCall { key: "tx_count_limit".into() }.abi_encode(),
    );
    let got =
        ISystemConfig::getValueByKeyCall::abi_decode_returns(&out.output).expect("(string,int256)");
    assert_eq!((got._0.as_str(), got._1), ("", I256::MINUS_ONE));

    // A contract reads it too.
    let user = chain.deploy(ALICE, "PrecompileUser", &[]);
    let out = chain.call(BOB, user, PrecompileUser::txGasLimitCall {}.abi_encode());
    assert_eq!(
        PrecompileUser::txGasLimitCall::abi_decode_returns(&out.output).expect("value")._0,
        "500000000"
    );
}

#[test]
fn system_config_validates_values() {
    let mut chain = Chain::new();
    for (key, value) in [
        ("tx_gas_limit", "99999"),
        ("tx_gas_limit", "abc"),
        ("tx_gas_limit", "0100000"),
        ("tx_count_limit", "0"),
        ("consensus_leader_period", "-1"),
        ("feature_balance", "0"),
        ("auth_check_status", "2"),
        ("compatibility_version", "3.x"),
    ] {
        assert_eq!(code(&set(&mut chain, ADMIN, key, value)), -51300, "{key}={value}");
    }
    for (key, value) in [
        ("tx_count_limit", "2000"),
        ("consensus_leader_period", "5"),
        ("feature_balance", "1"),
        ("web3_chain_id", "20200"),
        ("compatibility_version", "3.6.0"),
    ] {
        assert_eq!(code(&set(&mut chain, ADMIN, key, value)), 0, "{key}={value}");
    }
    // No downgrade of the compatibility version.
    assert_eq!(code(&set(&mut chain, ADMIN, "compatibility_version", "3.5.9")), -51300);
    // Unknown keys are bad input.
    let r = set(&mut chain, ADMIN, "no_such_key", "1");
    assert_eq!(r.status, TxStatus::PrecompileError);
    assert!(revert_reason(&r.output).contains("unsupported key"));
}

#[test]
fn system_config_refused_for_non_admins() {
    let mut chain = Chain::new();
    let r = set(&mut chain, BOB, "tx_gas_limit", "500000000");
    assert_eq!(r.status, TxStatus::PermissionDenied);
    assert!(revert_reason(&r.output).contains("not an admin"), "{}", revert_reason(&r.output));
    assert!(!chain.state.entries.contains_key(&system_config_key("tx_gas_limit")));

    // Through a contract the caller is the contract: refused, plain revert for the tx.
    let user = chain.deploy(ADMIN, "PrecompileUser", &[]);
    let input =
        PrecompileUser::trySetConfigCall { key: "tx_gas_limit".into(), value: "500000000".into() }
            .abi_encode();
    let tx = chain.native(ADMIN, Some(user), input.into());
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::Reverted);
    assert!(revert_reason(&r.output).contains("not an admin"));
}

fn node(i: u8) -> String {
    hex::encode([i; 64])
}

fn consensus(chain: &mut Chain, from: Address, input: Vec<u8>) -> i32 {
    let tx = chain.native(from, Some(CONSENSUS_ADDRESS), input.into());
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::Success, "{:?}: {}", r.status, revert_reason(&r.output));
    IConsensus::addSealerCall::abi_decode_returns(&r.output).expect("int32")
}

fn nodes(chain: &Chain) -> ConsensusNodeList {
    ConsensusNodeList::decode(chain.state.entries.get(&consensus_nodes_key()).expect("node list"))
        .expect("decodes")
}

#[test]
fn consensus_add_remove_and_codes() {
    let mut chain = Chain::new();
    let add = |id: String, w: u64| {
        IConsensus::addSealerCall { nodeId: id, weight: U256::from(w) }.abi_encode()
    };
    let number = chain.ctx.number;
    assert_eq!(consensus(&mut chain, ADMIN, add(node(2), 1)), 0);
    assert_eq!(consensus(&mut chain, ADMIN, add(node(1), 3)), 0);
    let list = nodes(&chain);
    // Sorted by node id; enabled from the next block.
    assert_eq!(list.nodes.iter().map(|n| n.node_id[0]).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(list.nodes[1].enable_number, number + 1);
    assert_eq!(list.nodes[0].weight, 3);

    assert_eq!(consensus(&mut chain, ADMIN, add("abcd".into(), 1)), -51100);
    assert_eq!(consensus(&mut chain, ADMIN, add(format!("{}zz", &node(3)[2..]), 1)), -51100);
    assert_eq!(consensus(&mut chain, ADMIN, add(node(3), 0)), -51102);
    let set_weight =
        |id: String, w: U256| IConsensus::setWeightCall { nodeId: id, weight: w }.abi_encode();
    assert_eq!(consensus(&mut chain, ADMIN, set_weight(node(9), U256::from(1))), -51103);
    assert_eq!(consensus(&mut chain, ADMIN, set_weight(node(1), U256::MAX)), -51102);
    assert_eq!(consensus(&mut chain, ADMIN, set_weight(node(1), U256::from(7))), 0);
    assert_eq!(nodes(&chain).nodes[0].weight, 7);

    let observe = |id: String| IConsensus::addObserverCall { nodeId: id }.abi_encode();
    let remove = |id: String| IConsensus::removeCall { nodeId: id }.abi_encode();
    assert_eq!(consensus(&mut chain, ADMIN, observe(node(4))), 0);
    assert_eq!(consensus(&mut chain, ADMIN, remove(node(8))), -51103);
    assert_eq!(consensus(&mut chain, ADMIN, remove(node(1))), 0);
    // node(2) is now the last sealer: it can neither go nor become an observer.
    assert_eq!(consensus(&mut chain, ADMIN, remove(node(2))), -51101);
    assert_eq!(consensus(&mut chain, ADMIN, observe(node(2))), -51101);
    assert_eq!(consensus(&mut chain, ADMIN, remove(node(4))), 0);
    let list = nodes(&chain);
    assert_eq!(list.nodes.len(), 1);
    assert_eq!(list.sealers_at(chain.ctx.number).len(), 1);
}

#[test]
fn consensus_refused_for_non_admins() {
    let mut chain = Chain::new();
    let input = IConsensus::addSealerCall { nodeId: node(1), weight: U256::from(1) }.abi_encode();
    let tx = chain.native(BOB, Some(CONSENSUS_ADDRESS), input.into());
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::PermissionDenied);
    assert!(revert_reason(&r.output).contains("only admins"));
    assert!(!chain.state.entries.contains_key(&consensus_nodes_key()));
}

#[test]
fn crypto_hashes_and_sm2_verify() {
    let mut chain = Chain::new();
    let data = Bytes::from_static(b"abc");
    let out = chain.call(BOB, CRYPTO_ADDRESS, ICrypto::sm3Call { data: data.clone() }.abi_encode());
    // GB/T 32905 test vector for "abc".
    let expected: B256 =
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0".parse().expect("hex");
    assert_eq!(ICrypto::sm3Call::abi_decode_returns(&out.output).expect("bytes32"), expected);
    let out = chain.call(
        BOB,
        CRYPTO_ADDRESS,
        ICrypto::keccak256HashCall { data: data.clone() }.abi_encode(),
    );
    assert_eq!(
        ICrypto::keccak256HashCall::abi_decode_returns(&out.output).expect("bytes32"),
        keccak256("abc")
    );

    let user = chain.deploy(ALICE, "PrecompileUser", &[]);
    let out = chain.call(BOB, user, PrecompileUser::hashesCall { data }.abi_encode());
    let h = PrecompileUser::hashesCall::abi_decode_returns(&out.output).expect("hashes");
    assert_eq!((h.sm3, h.same), (expected, true));

    let sm = aurum_crypto::suite(SuiteKind::Sm2Sm3);
    let key = KeyPair::generate(SuiteKind::Sm2Sm3);
    let message = keccak256("a message");
    let sig = key.sign(&message);
    let (r, s) = (B256::from_slice(&sig[..32]), B256::from_slice(&sig[32..64]));
    let public = key.public();
    let verify = |pk: Vec<u8>, m: B256| {
        ICrypto::sm2VerifyCall { message: m, publicKey: pk.into(), r, s }.abi_encode()
    };
    let out = chain.call(BOB, CRYPTO_ADDRESS, verify(public.0.to_vec(), message));
    let v = ICrypto::sm2VerifyCall::abi_decode_returns(&out.output).expect("(bool,address)");
    assert_eq!((v.ok, v.account), (true, sm.address(&public)));
    let with_prefix = [&[4u8][..], &public.0].concat();
    let out = chain.call(BOB, CRYPTO_ADDRESS, verify(with_prefix, message));
    assert!(ICrypto::sm2VerifyCall::abi_decode_returns(&out.output).expect("v").ok);
    let out = chain.call(BOB, CRYPTO_ADDRESS, verify(public.0.to_vec(), keccak256("another")));
    let v = ICrypto::sm2VerifyCall::abi_decode_returns(&out.output).expect("v");
    assert_eq!((v.ok, v.account), (false, Address::ZERO));
    let out = chain.call(BOB, CRYPTO_ADDRESS, verify(vec![1, 2, 3], message));
    assert!(!ICrypto::sm2VerifyCall::abi_decode_returns(&out.output).expect("v").ok);
}

#[test]
fn bad_abi_input_reverts_with_a_message() {
    let mut chain = Chain::new();
    for (to, name) in [
        (SYSTEM_CONFIG_ADDRESS, "SystemConfig"),
        (CONSENSUS_ADDRESS, "Consensus"),
        (CRYPTO_ADDRESS, "Crypto"),
    ] {
        let tx = chain.native(ADMIN, Some(to), Bytes::from_static(&[1, 2, 3, 4, 5]));
        let r = chain.run(tx);
        assert_eq!(r.status, TxStatus::PrecompileError, "{name}");
        assert!(revert_reason(&r.output).starts_with(name), "{}", revert_reason(&r.output));
    }
    // A truncated argument list.
    let mut input =
        ISystemConfig::setValueByKeyCall { key: "a".into(), value: "b".into() }.abi_encode();
    input.truncate(40);
    let tx = chain.native(ADMIN, Some(SYSTEM_CONFIG_ADDRESS), input.into());
    assert_eq!(chain.run(tx).status, TxStatus::PrecompileError);
}
