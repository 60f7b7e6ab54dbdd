//! KVTable (0x1009), the 3.0-rc interface where the table name is the first argument:
//! `createTable(string,string,string)`, `set(string,string,string)`,
//! `get(string,string)`, `desc(string)`. The tables are the same as `createKVTable`'s,
//! so either interface reaches the same data.

use super::abi::IKVTableLegacy;
use super::call::{PcCall, PcError, PcResult};
use super::table::{kv_get, kv_set};
use super::table_manager::{
    KIND_KV, ORDER_LEXICOGRAPHIC, TableMeta, create, load_meta, table_path,
};
use super::table_rows::Table;
use alloy_primitives::Bytes;
use alloy_sol_types::{SolCall, SolInterface};

/// 0x1009 KVTable (3.0-rc interface).
pub(crate) struct LegacyKvTable;

impl super::registry::Precompile for LegacyKvTable {
    fn run(&self, call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<alloy_primitives::Bytes> {
        run_legacy(call, input)
    }
}

pub(crate) fn run_legacy(call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<Bytes> {
    call.charge_call(input.len())?;
    use IKVTableLegacy::IKVTableLegacyCalls as C;
    let decoded =
        C::abi_decode(input).map_err(|e| PcError::input(format!("KVTable: bad call data: {e}")))?;
    Ok(match decoded {
        C::createTable(c) => {
            if c.valueField.contains(',') {
                return Err(PcError::input("KVTable: a KV table has exactly one value field"));
            }
            let meta = TableMeta {
                kind: KIND_KV,
                key_order: ORDER_LEXICOGRAPHIC,
                key_column: c.keyField.trim().to_string(),
                value_columns: vec![c.valueField.trim().to_string()],
            };
            let code = create(call, &c.tableName, meta)?;
            IKVTableLegacy::createTableCall::abi_encode_returns(&code).into()
        }
        C::get(c) => {
            let table = open(call, &c.tableName)?;
            let (found, value) = kv_get(call, &table, &c.key)?;
            IKVTableLegacy::getCall::abi_encode_returns_tuple(&(found, value)).into()
        }
        C::set(c) => {
            let table = open(call, &c.tableName)?;
            let code = kv_set(call, &table, &c.key, c.value)?;
            IKVTableLegacy::setCall::abi_encode_returns(&code).into()
        }
        C::desc(c) => {
            let table = open(call, &c.tableName)?;
            let values = table.meta.value_columns.join(",");
            IKVTableLegacy::descCall::abi_encode_returns_tuple(&(table.meta.key_column, values))
                .into()
        }
    })
}

fn open(call: &mut PcCall<'_, '_>, name: &str) -> PcResult<Table> {
    let path = table_path(name);
    match load_meta(call, &path)? {
        Some(meta) if meta.kind == KIND_KV => Ok(Table { path, meta }),
        Some(_) => Err(PcError::input(format!("KVTable: {path} is not a KV table"))),
        None => Err(PcError::input(format!("KVTable: {path} does not exist"))),
    }
}
