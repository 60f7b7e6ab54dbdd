//! Random call data to every precompile never panics and never fails the block: the
//! result is a receipt (a success, an error code, or a revert with a message). Inputs are
//! raw random bytes, real selectors with random tails, and well-formed ABI calls of every
//! precompile function with random (often meaningful) arguments.

mod common;

use alloy_dyn_abi::{DynSolType, DynSolValue, JsonAbiExt, Specifier};
use alloy_json_abi::{Function, JsonAbi};
use alloy_primitives::{Address, B256, Bytes, I256, U256};
use alloy_sol_types::{SolCall, sol};
use aurum_executor::{PLATFORM_PRECOMPILES, TABLE_MANAGER_ADDRESS, table_address};
use aurum_primitives::TxStatus;
use common::*;
use proptest::prelude::*;
use std::sync::OnceLock;

sol!(
    #[sol(all_derives)]
    ITableManager,
    "../../contracts/artifacts/ITableManager.json"
);

/// The functions each target understands (by index into [`targets`]), including the
/// 3.0/3.1 table forms; index 1 (0x1001, refused in 3.x) gets every function.
fn functions(target: usize) -> &'static Vec<Function> {
    static FUNCTIONS: OnceLock<Vec<Vec<Function>>> = OnceLock::new();
    let load = |name: &str| -> Vec<Function> {
        let (_, json) = artifact(name);
        let abi: JsonAbi = serde_json::from_value(json["abi"].clone()).expect("abi");
        abi.functions().cloned().collect()
    };
    let parse = |sigs: &[&str]| -> Vec<Function> {
        sigs.iter().map(|s| Function::parse(s).expect("signature")).collect()
    };
    &FUNCTIONS.get_or_init(|| {
        let mut table_manager = load("ITableManager");
        table_manager.extend(parse(&[
            "function createTable(string,(string,string[]))",
            "function desc(string)",
        ]));
        let mut table = load("ITable");
        table.extend(parse(&[
            "function select((uint8,string)[],(uint32,uint32))",
            "function count((uint8,string)[])",
            "function update((uint8,string)[],(uint32,uint32),(string,string)[])",
            "function remove((uint8,string)[],(uint32,uint32))",
        ]));
        let per_target = vec![
            load("ISystemConfig"),
            Vec::new(),
            table_manager,
            load("IConsensus"),
            load("IKVTableFactory"),
            load("ICrypto"),
            table,
            load("IKVTable"),
        ];
        let all: Vec<Function> = per_target.iter().flatten().cloned().collect();
        per_target.into_iter().map(|f| if f.is_empty() { all.clone() } else { f }).collect()
    })[target]
}

/// A small deterministic generator driven by a proptest seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn string(&mut self) -> String {
        const WORDS: &[&str] = &[
            "",
            "k",
            "a",
            "b",
            "v",
            "1",
            "2",
            "-5",
            "10",
            "t",
            "kv",
            "t_new",
            "tx_gas_limit",
            "tx_count_limit",
            "feature_balance",
            "compatibility_version",
            "3.6.0",
        ];
        match self.below(4) {
            0 => hex::encode([self.below(3) as u8 + 1; 64]),
            1 => (0..self.below(80)).map(|_| (b'!' + self.below(90) as u8) as char).collect(),
            _ => WORDS[self.below(WORDS.len() as u64) as usize].to_string(),
        }
    }
    fn value(&mut self, ty: &DynSolType) -> DynSolValue {
        match ty {
            DynSolType::Bool => DynSolValue::Bool(self.below(2) == 1),
            DynSolType::Uint(bits) => {
                let v = if self.below(4) == 0 {
                    U256::from(self.next()) << 64
                } else {
                    U256::from(self.below(12))
                };
                DynSolValue::Uint(v & (U256::MAX >> (256 - bits)), *bits)
            }
            DynSolType::Int(bits) => {
                DynSolValue::Int(I256::try_from(self.below(12) as i64 - 3).expect("small"), *bits)
            }
            DynSolType::String => DynSolValue::String(self.string()),
            DynSolType::Bytes => {
                DynSolValue::Bytes((0..self.below(100)).map(|_| self.next() as u8).collect())
            }
            DynSolType::FixedBytes(n) => {
                let mut w = [0u8; 32];
                w[..*n].iter_mut().for_each(|b| *b = self.next() as u8);
                DynSolValue::FixedBytes(B256::from(w), *n)
            }
            DynSolType::Address => DynSolValue::Address(Address::with_last_byte(self.next() as u8)),
            DynSolType::Array(inner) => {
                DynSolValue::Array((0..self.below(4)).map(|_| self.value(inner)).collect())
            }
            DynSolType::Tuple(items) => {
                DynSolValue::Tuple(items.iter().map(|t| self.value(t)).collect())
            }
            other => panic!("no generator for {other}"),
        }
    }
    fn call(&mut self, target: usize) -> Vec<u8> {
        let fs = functions(target);
        let f = &fs[self.below(fs.len() as u64) as usize];
        let args: Vec<DynSolValue> =
            f.inputs.iter().map(|p| self.value(&p.resolve().expect("type"))).collect();
        f.abi_encode_input(&args).expect("encodes")
    }
}

/// A chain with one ordinary table (numerical keys) and one KV table.
fn chain() -> Chain {
    let mut chain = Chain::new();
    let info = ITableManager::TableInfo {
        keyOrder: 1,
        keyColumn: "k".into(),
        valueColumns: vec!["a".into(), "b".into()],
    };
    chain.send(
        ADMIN,
        TABLE_MANAGER_ADDRESS,
        ITableManager::createTableCall { path: "t".into(), tableInfo: info }.abi_encode(),
    );
    let kv = ITableManager::createKVTableCall {
        tableName: "kv".into(),
        keyField: "k".into(),
        valueField: "v".into(),
    };
    chain.send(ADMIN, TABLE_MANAGER_ADDRESS, kv.abi_encode());
    chain
}

fn targets() -> Vec<Address> {
    let mut targets = PLATFORM_PRECOMPILES.to_vec();
    targets.extend([table_address("/tables/t"), table_address("/tables/kv")]);
    targets
}

fn input_strategy(target: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        1 => (any::<u64>(), proptest::collection::vec(any::<u8>(), 0..300)).prop_map(move |(seed, tail)| {
            let mut v = Gen(seed | 1).call(target)[..4].to_vec();
            v.extend(tail);
            v
        }),
        6 => any::<u64>().prop_map(move |seed| Gen(seed | 1).call(target)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn random_input_never_panics((target, input) in (0usize..8).prop_flat_map(|t| (Just(t), input_strategy(t))), admin in any::<bool>()) {
        let mut chain = chain();
        let to = targets()[target];
        let from = if admin { ADMIN } else { BOB };
        let out = chain.executor.call(&chain.state, &chain.ctx, from, Some(to), Bytes::from(input.clone()), Some(5_000_000));
        prop_assert!(out.is_ok());
        let tx = chain.native_full(from, Some(to), input.into(), U256::ZERO, 5_000_000);
        let block = chain.executor.execute_block(&chain.state, &chain.ctx, &[tx]);
        prop_assert!(block.is_ok());
        let block = block.expect("ok");
        prop_assert_eq!(block.receipts.len(), 1);
        let status = block.receipts[0].status;
        prop_assert!(matches!(
            status,
            TxStatus::Success | TxStatus::Reverted | TxStatus::PrecompileError | TxStatus::PermissionDenied | TxStatus::OutOfGas
        ), "{:?}", status);
        if std::env::var("FUZZ_STATS").is_ok() {
            eprintln!("STAT {target} {status:?}");
        }
    }
}

#[test]
fn generated_calls_reach_every_function() {
    let mut g = Gen(42);
    for target in 0..8 {
        let selectors: std::collections::BTreeSet<[u8; 4]> =
            (0..2_000).map(|_| g.call(target)[..4].try_into().expect("selector")).collect();
        let expected: std::collections::BTreeSet<[u8; 4]> =
            functions(target).iter().map(|f| f.selector().0).collect();
        assert_eq!(selectors, expected);
    }
}
