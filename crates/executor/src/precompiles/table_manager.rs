//! TableManager (0x1002): `createTable`, `createKVTable`, `openTable`, `appendColumns`,
//! `descWithKeyOrder` and the 3.0/3.1 forms `createTable(string,(string,string[]))` and
//! `desc`.
//!
//! A table lives at the path `/tables/<name>`: its definition ([`TableMeta`]) under
//! `table_meta_key(path)`, its rows under `table_rows_prefix(path)`, and the address that
//! `openTable` returns maps back to the path under [`table_address_key`].

use super::abi::{ITableManager, TableInfo, TableInfoV1};
use super::call::{PcCall, PcError, PcResult};
use alloy_primitives::{Address, Bytes, keccak256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use alloy_sol_types::{SolCall, SolInterface};
use aurum_primitives::state::{table_meta_key, tag};

pub const CODE_TABLE_NAME_ALREADY_EXIST: i32 = -50001;
pub const CODE_TABLE_NAME_LENGTH_OVERFLOW: i32 = -50002;
pub const CODE_TABLE_FIELD_LENGTH_OVERFLOW: i32 = -50003;
pub const CODE_TABLE_FIELD_TOTAL_LENGTH_OVERFLOW: i32 = -50004;
pub const CODE_TABLE_DUPLICATE_FIELD: i32 = -50007;
pub const CODE_TABLE_INVALIDATE_FIELD: i32 = -50008;

/// Longest table name (the part after `/tables/`).
pub const MAX_TABLE_NAME_LEN: usize = 50;
pub const MAX_FIELD_NAME_LEN: usize = 64;
pub const MAX_VALUE_FIELDS_TOTAL_LEN: usize = 1024;
const TABLES_DIR: &str = "/tables/";

pub const KIND_TABLE: u8 = 0;
pub const KIND_KV: u8 = 1;
pub const ORDER_LEXICOGRAPHIC: u8 = 0;
pub const ORDER_NUMERICAL: u8 = 1;

/// A table's definition as stored.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct TableMeta {
    /// [`KIND_TABLE`] or [`KIND_KV`].
    pub kind: u8,
    /// [`ORDER_LEXICOGRAPHIC`] or [`ORDER_NUMERICAL`].
    pub key_order: u8,
    pub key_column: String,
    pub value_columns: Vec<String>,
}

/// The full path of a table name (`t` and `/tables/t` name the same table).
pub fn table_path(name: &str) -> String {
    if name.starts_with(TABLES_DIR) { name.to_string() } else { format!("{TABLES_DIR}{name}") }
}

/// The address `openTable` returns: four zero bytes then 16 bytes of a hash of the path,
/// so calls to ordinary contracts are told apart by their first bytes alone.
pub fn table_address(path: &str) -> Address {
    let h = keccak256([b"aurum.table:".as_slice(), path.as_bytes()].concat());
    let mut a = [0u8; 20];
    a[4..].copy_from_slice(&h[..16]);
    Address::from(a)
}

/// `0x04 || 0x00 || address` → path. Paths begin with `/`, so this never meets a
/// `table_meta_key`.
pub fn table_address_key(address: &Address) -> Vec<u8> {
    let mut k = Vec::with_capacity(22);
    k.push(tag::TABLE_META);
    k.push(0);
    k.extend_from_slice(address.as_slice());
    k
}

pub(crate) fn load_meta(call: &mut PcCall<'_, '_>, path: &str) -> PcResult<Option<TableMeta>> {
    match call.get(&table_meta_key(path))? {
        None => Ok(None),
        Some(bytes) => alloy_rlp::Decodable::decode(&mut bytes.as_slice()).map(Some).map_err(|e| {
            PcError::Db(aurum_primitives::StateError(format!(
                "table {path:?} has an unreadable definition: {e}"
            )))
        }),
    }
}

fn store_meta(call: &mut PcCall<'_, '_>, path: &str, meta: &TableMeta) -> PcResult<()> {
    call.put(table_meta_key(path), Some(alloy_rlp::encode(meta)))
}

/// 0x1002 TableManager.
pub(crate) struct TableManager;

impl super::registry::Precompile for TableManager {
    fn run(&self, call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<alloy_primitives::Bytes> {
        run(call, input)
    }
}

pub(crate) fn run(call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<Bytes> {
    call.charge_call(input.len())?;
    use ITableManager::ITableManagerCalls as C;
    let decoded = C::abi_decode(input)
        .map_err(|e| PcError::input(format!("TableManager: bad call data: {e}")))?;
    let int32 =
        |code: i32| -> Bytes { ITableManager::createKVTableCall::abi_encode_returns(&code).into() };
    match decoded {
        C::createTable_0(c) => {
            let order = c.tableInfo.keyOrder;
            if order != ORDER_LEXICOGRAPHIC && order != ORDER_NUMERICAL {
                return Err(PcError::input(format!(
                    "TableManager: key order {order} does not exist"
                )));
            }
            let meta = TableMeta {
                kind: KIND_TABLE,
                key_order: order,
                key_column: c.tableInfo.keyColumn,
                value_columns: c.tableInfo.valueColumns,
            };
            Ok(int32(create(call, &c.path, meta)?))
        }
        C::createTable_1(c) => {
            let meta = TableMeta {
                kind: KIND_TABLE,
                key_order: ORDER_LEXICOGRAPHIC,
                key_column: c.tableInfo.keyColumn,
                value_columns: c.tableInfo.valueColumns,
            };
            Ok(int32(create(call, &c.path, meta)?))
        }
        C::createKVTable(c) => {
            let meta = TableMeta {
                kind: KIND_KV,
                key_order: ORDER_LEXICOGRAPHIC,
                key_column: c.keyField,
                value_columns: vec![c.valueField],
            };
            Ok(int32(create(call, &c.tableName, meta)?))
        }
        C::openTable(c) => {
            let path = table_path(&c.path);
            let address = match load_meta(call, &path)? {
                Some(_) => table_address(&path),
                None => Address::ZERO,
            };
            Ok(ITableManager::openTableCall::abi_encode_returns(&address).into())
        }
        C::appendColumns(c) => Ok(int32(append_columns(call, &c.path, c.newColumns)?)),
        C::descWithKeyOrder(c) => {
            let info = match load_meta(call, &table_path(&c.tableName))? {
                Some(m) => TableInfo {
                    keyOrder: m.key_order,
                    keyColumn: m.key_column,
                    valueColumns: m.value_columns,
                },
                None => TableInfo { keyOrder: 0, keyColumn: String::new(), valueColumns: vec![] },
            };
            Ok(ITableManager::descWithKeyOrderCall::abi_encode_returns(&info).into())
        }
        C::desc(c) => {
            let info = match load_meta(call, &table_path(&c.tableName))? {
                Some(m) => TableInfoV1 { keyColumn: m.key_column, valueColumns: m.value_columns },
                None => TableInfoV1 { keyColumn: String::new(), valueColumns: vec![] },
            };
            Ok(ITableManager::descCall::abi_encode_returns(&info).into())
        }
    }
}

/// Creates a table; returns 0 or an error code.
pub(crate) fn create(call: &mut PcCall<'_, '_>, name: &str, meta: TableMeta) -> PcResult<i32> {
    call.require_write()?;
    let path = table_path(name);
    let short = &path[TABLES_DIR.len()..];
    if short.is_empty() || !short.bytes().all(is_name_char) {
        return Ok(CODE_TABLE_INVALIDATE_FIELD);
    }
    if short.len() > MAX_TABLE_NAME_LEN {
        return Ok(CODE_TABLE_NAME_LENGTH_OVERFLOW);
    }
    let mut all = vec![meta.key_column.as_str()];
    all.extend(meta.value_columns.iter().map(String::as_str));
    if let Some(code) = check_fields(&all, &[]) {
        return Ok(code);
    }
    if load_meta(call, &path)?.is_some() {
        return Ok(CODE_TABLE_NAME_ALREADY_EXIST);
    }
    store_meta(call, &path, &meta)?;
    call.put(table_address_key(&table_address(&path)), Some(path.into_bytes()))?;
    Ok(0)
}

fn append_columns(call: &mut PcCall<'_, '_>, name: &str, columns: Vec<String>) -> PcResult<i32> {
    call.require_write()?;
    let path = table_path(name);
    let Some(mut meta) = load_meta(call, &path)? else {
        return Err(PcError::input(format!("TableManager: table {path} does not exist")));
    };
    if meta.kind == KIND_KV {
        return Err(PcError::input("TableManager: a KV table has exactly one value column"));
    }
    let mut existing = vec![meta.key_column.as_str()];
    existing.extend(meta.value_columns.iter().map(String::as_str));
    let new: Vec<&str> = columns.iter().map(String::as_str).collect();
    if new.is_empty() {
        return Ok(CODE_TABLE_INVALIDATE_FIELD);
    }
    if let Some(code) = check_fields(&new, &existing) {
        return Ok(code);
    }
    meta.value_columns.extend(columns);
    let total: usize = meta.value_columns.iter().map(String::len).sum();
    if total > MAX_VALUE_FIELDS_TOTAL_LEN {
        return Ok(CODE_TABLE_FIELD_TOTAL_LENGTH_OVERFLOW);
    }
    store_meta(call, &path, &meta)?;
    Ok(0)
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Validates field names (`fields[0]` being the key when creating); `existing` are names
/// already in the table. Returns an error code, or `None` when all are acceptable.
fn check_fields(fields: &[&str], existing: &[&str]) -> Option<i32> {
    let mut seen: Vec<&str> = existing.to_vec();
    for f in fields {
        if f.len() > MAX_FIELD_NAME_LEN {
            return Some(CODE_TABLE_FIELD_LENGTH_OVERFLOW);
        }
        if f.is_empty() || f.starts_with('_') || !f.bytes().all(is_name_char) {
            return Some(CODE_TABLE_INVALIDATE_FIELD);
        }
        if seen.contains(f) {
            return Some(CODE_TABLE_DUPLICATE_FIELD);
        }
        seen.push(f);
    }
    let value_total: usize =
        fields.iter().skip(usize::from(existing.is_empty())).map(|f| f.len()).sum();
    if value_total > MAX_VALUE_FIELDS_TOTAL_LEN {
        return Some(CODE_TABLE_FIELD_TOTAL_LENGTH_OVERFLOW);
    }
    None
}
