//! Table and KV precompiles: through a Solidity contract (TableUser) and called directly,
//! with the 3.2 and the 3.0/3.1 selectors, error codes, limits and rollback.

mod common;

use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, sol};
use aurum_executor::{KV_TABLE_ADDRESS, TABLE_MANAGER_ADDRESS, table_address};
use aurum_primitives::TxStatus;
use aurum_primitives::state::{table_meta_key, table_rows_prefix};
use common::*;

sol!(
    #[sol(all_derives)]
    TableUser,
    "../../contracts/artifacts/TableUser.json"
);
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
sol!(
    #[sol(all_derives)]
    IKVTableFactory,
    "../../contracts/artifacts/IKVTableFactory.json"
);

// The 3.0/3.1 forms, which older deployed contracts still call.
sol! {
    #[sol(all_derives)]
    struct TableInfoV1 { string keyColumn; string[] valueColumns; }
    #[sol(all_derives)]
    struct ConditionV1 { uint8 op; string value; }
    #[sol(all_derives)]
    struct LimitV1 { uint32 offset; uint32 count; }
    #[sol(all_derives)]
    struct EntryV1 { string key; string[] fields; }
    interface Legacy {
        function createTable(string path, TableInfoV1 tableInfo) external returns (int32);
        function desc(string tableName) external view returns (TableInfoV1);
        function select(ConditionV1[] conditions, LimitV1 limit) external view returns (EntryV1[]);
        function count(ConditionV1[] conditions) external view returns (uint32);
    }
}

fn rows(chain: &Chain) -> usize {
    let prefix = table_rows_prefix("/tables/t_people");
    chain.state.entries.keys().filter(|k| k.starts_with(&prefix)).count()
}

fn s(v: &str) -> String {
    v.to_string()
}

fn people(chain: &mut Chain) -> Address {
    let user = chain.deploy(ALICE, "TableUser", &[]);
    for (id, name, age) in
        [("p1", "ann", "31"), ("p2", "bob", "17"), ("p3", "cid", "45"), ("q1", "ann", "9")]
    {
        let r = chain.send(
            ALICE,
            user,
            TableUser::insertCall { id: s(id), name: s(name), age: s(age) }.abi_encode(),
        );
        assert_eq!(TableUser::insertCall::abi_decode_returns(&r.output).expect("int32"), 1);
    }
    user
}

fn get(chain: &Chain, user: Address, id: &str) -> (String, String, String) {
    let out = chain.call(BOB, user, TableUser::getCall { id: s(id) }.abi_encode());
    assert_eq!(out.status, TxStatus::Success, "{}", revert_reason(&out.output));
    let r = TableUser::getCall::abi_decode_returns(&out.output).expect("row");
    (r._0, r._1, r._2)
}

#[test]
fn create_insert_select_update_remove() {
    let mut chain = Chain::new();
    let user = people(&mut chain);
    // The table's data are state keys, in the diff like any storage.
    assert!(chain.state.entries.contains_key(&table_meta_key("/tables/t_people")));
    assert_eq!(rows(&chain), 4);

    assert_eq!(get(&chain, user, "p1"), (s("p1"), s("ann"), s("31")));
    assert_eq!(get(&chain, user, "nobody"), (s(""), s(""), s("")));

    // Duplicate insert → -51506, and the event carries the code.
    let r = chain.send(
        ALICE,
        user,
        TableUser::insertCall { id: s("p1"), name: s("x"), age: s("1") }.abi_encode(),
    );
    assert_eq!(TableUser::insertCall::abi_decode_returns(&r.output).expect("int32"), -51506);
    assert_eq!(r.logs.len(), 1);

    let r =
        chain.send(ALICE, user, TableUser::setAgeCall { id: s("p2"), age: s("18") }.abi_encode());
    assert_eq!(TableUser::setAgeCall::abi_decode_returns(&r.output).expect("int32"), 1);
    assert_eq!(get(&chain, user, "p2").2, "18");
    let r =
        chain.send(ALICE, user, TableUser::setAgeCall { id: s("zz"), age: s("1") }.abi_encode());
    assert_eq!(TableUser::setAgeCall::abi_decode_returns(&r.output).expect("int32"), -51507);

    let r = chain.send(ALICE, user, TableUser::removeCall { id: s("p3") }.abi_encode());
    assert_eq!(TableUser::removeCall::abi_decode_returns(&r.output).expect("int32"), 1);
    assert_eq!(get(&chain, user, "p3").0, "");
    let r = chain.send(ALICE, user, TableUser::removeCall { id: s("p3") }.abi_encode());
    assert_eq!(TableUser::removeCall::abi_decode_returns(&r.output).expect("int32"), -51508);
    assert_eq!(rows(&chain), 3);
}

#[test]
fn conditions_limits_count_and_bulk_changes() {
    let mut chain = Chain::new();
    let user = people(&mut chain);
    let older = |chain: &Chain, age: &str, offset: u32, count: u32| -> Vec<String> {
        let out = chain.call(
            BOB,
            user,
            TableUser::olderThanCall { age: s(age), offset, count }.abi_encode(),
        );
        assert_eq!(out.status, TxStatus::Success, "{}", revert_reason(&out.output));
        TableUser::olderThanCall::abi_decode_returns(&out.output).expect("ids")
    };
    // Ages compare as numbers ("9" < "17"), rows come in key order.
    assert_eq!(older(&chain, "10", 0, 10), vec![s("p1"), s("p2"), s("p3")]);
    assert_eq!(older(&chain, "10", 1, 1), vec![s("p2")]);
    assert_eq!(older(&chain, "10", 0, 0), Vec::<String>::new());
    assert_eq!(older(&chain, "100", 0, 10), Vec::<String>::new());
    // count > 500 is refused.
    let out = chain.call(
        BOB,
        user,
        TableUser::olderThanCall { age: s("1"), offset: 0, count: 501 }.abi_encode(),
    );
    assert_eq!(out.status, TxStatus::Reverted);
    assert!(revert_reason(&out.output).contains("limit"), "{}", revert_reason(&out.output));

    let count = chain.call(BOB, user, TableUser::countNamedCall { name: s("ann") }.abi_encode());
    assert_eq!(TableUser::countNamedCall::abi_decode_returns(&count.output).expect("uint32"), 2);

    let r = chain.send(
        ALICE,
        user,
        TableUser::renameWhereCall { from: s("ann"), to: s("anna") }.abi_encode(),
    );
    assert_eq!(TableUser::renameWhereCall::abi_decode_returns(&r.output).expect("int32"), 2);
    assert_eq!(get(&chain, user, "q1").1, "anna");

    let r = chain.send(
        ALICE,
        user,
        TableUser::removeIdsStartingWithCall { prefix: s("p") }.abi_encode(),
    );
    assert_eq!(
        TableUser::removeIdsStartingWithCall::abi_decode_returns(&r.output).expect("int32"),
        3
    );
    assert_eq!(rows(&chain), 1);
}

#[test]
fn reverts_undo_table_writes_at_any_depth() {
    let mut chain = Chain::new();
    let user = people(&mut chain);
    let tx = chain.native(
        ALICE,
        Some(user),
        TableUser::insertThenRevertCall { id: s("ghost") }.abi_encode().into(),
    );
    let out = chain.block(&[tx]);
    assert_eq!(out.receipts[0].status, TxStatus::Reverted);
    assert_eq!(revert_reason(&out.receipts[0].output), "undo the insert");
    assert_eq!(get(&chain, user, "ghost").0, "");
    assert!(out.diff.writes.keys().all(|k| !k.starts_with(&table_rows_prefix("/tables/t_people"))));

    // An inner call reverts, the outer one keeps its own insert.
    let r = chain.send(
        ALICE,
        user,
        TableUser::partialRollbackCall { kept: s("k1"), dropped: s("d1") }.abi_encode(),
    );
    let seen = TableUser::partialRollbackCall::abi_decode_returns(&r.output).expect("bools");
    assert_eq!((seen._0, seen._1), (true, false));
    assert_eq!(get(&chain, user, "k1").1, "kept");
    assert_eq!(get(&chain, user, "d1").0, "");
}

#[test]
fn a_scan_sees_earlier_writes_of_the_same_block() {
    let mut chain = Chain::new();
    let user = chain.deploy(ALICE, "TableUser", &[]);
    let mut txs = Vec::new();
    for (id, age) in [("a", "50"), ("b", "60")] {
        txs.push(chain.native(
            ALICE,
            Some(user),
            TableUser::insertCall { id: s(id), name: s("n"), age: s(age) }.abi_encode().into(),
        ));
    }
    // Renames every "n" row: must see both rows inserted just before, in this block.
    txs.push(chain.native(
        ALICE,
        Some(user),
        TableUser::renameWhereCall { from: s("n"), to: s("m") }.abi_encode().into(),
    ));
    txs.push(chain.native(
        ALICE,
        Some(user),
        TableUser::removeCall { id: s("a") }.abi_encode().into(),
    ));
    let out = chain.block(&txs);
    assert!(out.receipts.iter().all(|r| r.status == TxStatus::Success));
    assert_eq!(
        TableUser::renameWhereCall::abi_decode_returns(&out.receipts[2].output).expect("int32"),
        2
    );
    assert_eq!(get(&chain, user, "b").1, "m");
    assert_eq!(get(&chain, user, "a").0, "");
}

#[test]
fn kv_tables_through_open_table_and_0x1009() {
    let mut chain = Chain::new();
    let user = chain.deploy(ALICE, "TableUser", &[]);
    let r = chain.send(
        ALICE,
        user,
        TableUser::setSettingCall { k: s("color"), v: s("blue") }.abi_encode(),
    );
    assert_eq!(TableUser::setSettingCall::abi_decode_returns(&r.output).expect("int32"), 1);
    let out = chain.call(BOB, user, TableUser::getSettingCall { k: s("color") }.abi_encode());
    let got = TableUser::getSettingCall::abi_decode_returns(&out.output).expect("kv");
    assert_eq!((got._0, got._1), (true, s("blue")));
    let out = chain.call(BOB, user, TableUser::getSettingCall { k: s("size") }.abi_encode());
    let got = TableUser::getSettingCall::abi_decode_returns(&out.output).expect("kv");
    assert_eq!((got._0, got._1), (false, s("")));
    // The 3.0-rc interface reaches the same table.
    let out = chain.call(BOB, user, TableUser::legacyGetCall { k: s("color") }.abi_encode());
    assert_eq!(TableUser::legacyGetCall::abi_decode_returns(&out.output).expect("kv")._1, "blue");

    // 0x1009 directly: create, set, get, desc, and a missing table.
    let create = IKVTableFactory::createTableCall {
        tableName: s("t_kv2"),
        keyField: s("key"),
        valueField: s("val"),
    };
    let r = chain.send(BOB, KV_TABLE_ADDRESS, create.abi_encode());
    assert_eq!(IKVTableFactory::createTableCall::abi_decode_returns(&r.output).expect("int32"), 0);
    let r = chain.send(BOB, KV_TABLE_ADDRESS, create.abi_encode());
    assert_eq!(
        IKVTableFactory::createTableCall::abi_decode_returns(&r.output).expect("int32"),
        -50001
    );
    let set = IKVTableFactory::setCall { tableName: s("t_kv2"), key: s("x"), value: s("1") };
    chain.send(BOB, KV_TABLE_ADDRESS, set.abi_encode());
    let out = chain.call(
        BOB,
        KV_TABLE_ADDRESS,
        IKVTableFactory::getCall { tableName: s("t_kv2"), key: s("x") }.abi_encode(),
    );
    let got = IKVTableFactory::getCall::abi_decode_returns(&out.output).expect("kv");
    assert_eq!((got._0, got._1), (true, s("1")));
    let out = chain.call(
        BOB,
        KV_TABLE_ADDRESS,
        IKVTableFactory::descCall { tableName: s("t_kv2") }.abi_encode(),
    );
    let d = IKVTableFactory::descCall::abi_decode_returns(&out.output).expect("desc");
    assert_eq!((d.keyField, d.valueFields), (s("key"), s("val")));
    let out = chain.call(
        BOB,
        KV_TABLE_ADDRESS,
        IKVTableFactory::getCall { tableName: s("nope"), key: s("x") }.abi_encode(),
    );
    assert_eq!(out.status, TxStatus::PrecompileError);
    assert!(revert_reason(&out.output).contains("does not exist"));
}

#[test]
fn table_manager_direct_calls_codes_and_numerical_keys() {
    let mut chain = Chain::new();
    let tm = TABLE_MANAGER_ADDRESS;
    let info = |order: u8, key: &str, cols: &[&str]| ITableManager::TableInfo {
        keyOrder: order,
        keyColumn: s(key),
        valueColumns: cols.iter().map(|c| s(c)).collect(),
    };
    let create = |chain: &mut Chain, name: &str, i: ITableManager::TableInfo| -> i32 {
        let r = chain.send(
            BOB,
            tm,
            ITableManager::createTableCall { path: s(name), tableInfo: i }.abi_encode(),
        );
        ITableManager::createTableCall::abi_decode_returns(&r.output).expect("int32")
    };
    assert_eq!(create(&mut chain, "t_num", info(1, "n", &["v"])), 0);
    assert_eq!(create(&mut chain, "/tables/t_num", info(0, "n", &["v"])), -50001);
    assert_eq!(create(&mut chain, &"x".repeat(51), info(0, "k", &["v"])), -50002);
    assert_eq!(create(&mut chain, "t_a", info(0, &"k".repeat(65), &["v"])), -50003);
    assert_eq!(create(&mut chain, "t_b", info(0, "k", &["v", "k"])), -50007);
    assert_eq!(create(&mut chain, "t-c", info(0, "k", &["v"])), -50008);
    assert_eq!(create(&mut chain, "t_d", info(0, "k", &["bad name"])), -50008);
    // A bad key order is bad input: revert with a message.
    let tx = chain.native(
        BOB,
        Some(tm),
        ITableManager::createTableCall { path: s("t_e"), tableInfo: info(7, "k", &[]) }
            .abi_encode()
            .into(),
    );
    let r = chain.run(tx);
    assert_eq!(r.status, TxStatus::PrecompileError);
    assert!(revert_reason(&r.output).contains("key order"));

    let out = chain.call(BOB, tm, ITableManager::openTableCall { path: s("t_num") }.abi_encode());
    let addr = ITableManager::openTableCall::abi_decode_returns(&out.output).expect("address");
    assert_eq!(addr, table_address("/tables/t_num"));
    let out =
        chain.call(BOB, tm, ITableManager::openTableCall { path: s("t_missing") }.abi_encode());
    assert_eq!(
        ITableManager::openTableCall::abi_decode_returns(&out.output).expect("address"),
        Address::ZERO
    );

    // Numerical keys come back in numeric order, negative numbers first.
    for k in ["10", "-5", "2", "100"] {
        let e = ITable::Entry { key: s(k), fields: vec![s(&format!("v{k}"))] };
        let r = chain.send(BOB, addr, ITable::insertCall { entry: e }.abi_encode());
        assert_eq!(ITable::insertCall::abi_decode_returns(&r.output).expect("int32"), 1);
    }
    let cond = |op: u8, field: &str, value: &str| ITable::Condition {
        op,
        field: s(field),
        value: s(value),
    };
    let select = |chain: &Chain, c: Vec<ITable::Condition>| -> Vec<String> {
        let out = chain.call(
            BOB,
            addr,
            ITable::select_0Call { conditions: c, limit: ITable::Limit { offset: 0, count: 500 } }
                .abi_encode(),
        );
        assert_eq!(out.status, TxStatus::Success, "{}", revert_reason(&out.output));
        ITable::select_0Call::abi_decode_returns(&out.output)
            .expect("entries")
            .into_iter()
            .map(|e| e.key)
            .collect()
    };
    assert_eq!(select(&chain, vec![]), vec![s("-5"), s("2"), s("10"), s("100")]);
    assert_eq!(select(&chain, vec![cond(1, "n", "2"), cond(2, "n", "100")]), vec![s("2"), s("10")]);
    assert_eq!(select(&chain, vec![cond(7, "v", "0")]), vec![s("10"), s("100")]);
    // A non-numeric key on a numerical table is refused.
    let e = ITable::Entry { key: s("ten"), fields: vec![s("v")] };
    let tx = chain.native(BOB, Some(addr), ITable::insertCall { entry: e }.abi_encode().into());
    assert_eq!(chain.run(tx).status, TxStatus::PrecompileError);
    // Wrong value count is refused.
    let e = ITable::Entry { key: s("5"), fields: vec![] };
    let tx = chain.native(BOB, Some(addr), ITable::insertCall { entry: e }.abi_encode().into());
    assert_eq!(chain.run(tx).status, TxStatus::PrecompileError);

    // appendColumns: old rows read the new column as "".
    let r = chain.send(
        BOB,
        tm,
        ITableManager::appendColumnsCall { path: s("t_num"), newColumns: vec![s("w")] }
            .abi_encode(),
    );
    assert_eq!(ITableManager::appendColumnsCall::abi_decode_returns(&r.output).expect("int32"), 0);
    let out = chain.call(BOB, addr, ITable::select_1Call { key: s("2") }.abi_encode());
    let e = ITable::select_1Call::abi_decode_returns(&out.output).expect("entry");
    assert_eq!(e.fields, vec![s("v2"), s("")]);
    let out = chain.call(
        BOB,
        tm,
        ITableManager::descWithKeyOrderCall { tableName: s("t_num") }.abi_encode(),
    );
    let d = ITableManager::descWithKeyOrderCall::abi_decode_returns(&out.output).expect("info");
    assert_eq!((d.keyOrder, d.keyColumn, d.valueColumns), (1, s("n"), vec![s("v"), s("w")]));
    // A read-only call that writes persists nothing.
    let before = chain.state.clone();
    chain.call(BOB, addr, ITable::remove_0Call { key: s("2") }.abi_encode());
    assert_eq!(chain.state.entries, before.entries);
}

#[test]
fn legacy_3_0_selectors() {
    let mut chain = Chain::new();
    let tm = TABLE_MANAGER_ADDRESS;
    let info = TableInfoV1 { keyColumn: s("id"), valueColumns: vec![s("v")] };
    let r = chain.send(
        BOB,
        tm,
        Legacy::createTableCall { path: s("t_old"), tableInfo: info }.abi_encode(),
    );
    assert_eq!(Legacy::createTableCall::abi_decode_returns(&r.output).expect("int32"), 0);
    let out = chain.call(BOB, tm, Legacy::descCall { tableName: s("t_old") }.abi_encode());
    let d = Legacy::descCall::abi_decode_returns(&out.output).expect("desc");
    assert_eq!((d.keyColumn, d.valueColumns), (s("id"), vec![s("v")]));
    let addr = table_address("/tables/t_old");
    for k in ["a", "b", "c"] {
        chain.send(
            BOB,
            addr,
            ITable::insertCall { entry: ITable::Entry { key: s(k), fields: vec![s(k)] } }
                .abi_encode(),
        );
    }
    let conds = vec![ConditionV1 { op: 0, value: s("a") }];
    let out = chain.call(
        BOB,
        addr,
        Legacy::selectCall { conditions: conds.clone(), limit: LimitV1 { offset: 0, count: 10 } }
            .abi_encode(),
    );
    let rows = Legacy::selectCall::abi_decode_returns(&out.output).expect("rows");
    assert_eq!(rows.into_iter().map(|e| e.key).collect::<Vec<_>>(), vec![s("b"), s("c")]);
    let out = chain.call(BOB, addr, Legacy::countCall { conditions: conds }.abi_encode());
    assert_eq!(Legacy::countCall::abi_decode_returns(&out.output).expect("count"), 2);
    // Only GT/GE/LT/LE exist in the old form.
    let bad = vec![ConditionV1 { op: 4, value: s("a") }];
    let out = chain.call(BOB, addr, Legacy::countCall { conditions: bad }.abi_encode());
    assert_eq!(out.status, TxStatus::PrecompileError);
    let _ = U256::ZERO;
}
